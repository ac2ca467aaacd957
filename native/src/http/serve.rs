//! The HTTP accept loop: admission, hyper's HTTP/1.1 connections with a header deadline, and a
//! graceful end.
//!
//! Written against hyper rather than through `axum::serve`, for two things it cannot do: every
//! connection takes a place in the connection budget ([`Admission`](crate::admission)) before a
//! byte is read, refused with `503` and `Retry-After` when there is none; and hyper's header
//! read timeout, which needs a timer, closes a connection that leaves a request's head
//! unfinished — or sends none at all, on a fresh or a kept-alive connection — for
//! [`Config::header_timeout`](crate::config::Config::header_timeout). With TLS the handshake
//! comes first, within the same timeout (`tls.rs`).

use std::{convert::Infallible, net::SocketAddr, sync::Arc};

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, Response, StatusCode, header},
};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::{TcpListener, TcpStream},
};
use tower_service::Service as _;

use crate::{
    admission::{RETRY_AFTER, Refused, Ticket},
    server::Context,
};

/// The client's address, in every request's extensions (the REST publish budget is per address).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// Ends the HTTP connection at once when cancelled, in every request's extensions: an SSE stream
/// whose session was cut cancels it if the client does not take the last event in time (a
/// client that does not read would otherwise hold the connection, as hyper writes only what the
/// socket takes).
#[derive(Clone, Debug)]
pub(crate) struct Cut(pub(crate) tokio_util::sync::CancellationToken);

/// The connection's place in the budget, in every request's extensions: a WebSocket upgrade
/// takes it along, so that the place is held for as long as the upgraded connection lives.
#[derive(Clone, Debug)]
pub(crate) struct Held(
    #[expect(dead_code, reason = "held, never read: dropping the last clone gives the place back")]
    Arc<Ticket>,
);

/// Serves HTTP until shutdown begins, then lets open requests (SSE streams end when the hub
/// tells their sessions it is shutting down) finish.
pub(crate) async fn serve(listener: TcpListener, ctx: Context) {
    let app = super::router::router(ctx.clone());
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(ctx.config.header_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            () = ctx.stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Usually out of file descriptors: wait a little instead of spinning.
                    tracing::warn!(%error, "http accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        // No Nagle delay: WebSocket frames and SSE events are small and must go out at once.
        let _ = stream.set_nodelay(true);
        match ctx.admission.admit(peer.ip()) {
            Ok(ticket) => {
                let held = Held(Arc::new(ticket));
                let (app, http) = (app.clone(), http.clone());
                match &ctx.tls {
                    None => {
                        let connection = connection(stream, http, app, peer, held, ctx.clone());
                        ctx.tracker.spawn(connection);
                    }
                    Some(tls) => {
                        let (tls, ctx) = (tls.clone(), ctx.clone());
                        ctx.tracker.clone().spawn(async move {
                            if let Some(stream) = tls.accept(stream, &ctx).await {
                                connection(stream, http, app, peer, held, ctx).await;
                            }
                        });
                    }
                }
            }
            // Over TLS the 503 would cost a handshake, just when the server is short of room:
            // the connection is closed unanswered.
            Err(_) if ctx.tls.is_some() => tracing::debug!(%peer, "https connection refused"),
            Err(refused) => {
                ctx.tracker.spawn(refuse(stream, peer, refused, ctx.clone()));
            }
        }
    }
}

/// Serves one admitted HTTP connection (plain, or TLS after its handshake) until the client
/// closes it, its SSE stream is cut, or shutdown ends it.
async fn connection<I>(
    io: I,
    http: http1::Builder,
    app: Router,
    peer: SocketAddr,
    held: Held,
    ctx: Context,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let cut = tokio_util::sync::CancellationToken::new();
    let cut_by_request = Cut(cut.clone());
    let service = service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(held.clone());
        request.extensions_mut().insert(cut_by_request.clone());
        request.extensions_mut().insert(Peer(peer));
        app.clone().call(request)
    });
    let connection = http.serve_connection(TokioIo::new(io), service).with_upgrades();
    tokio::pin!(connection);
    // At shutdown the request in flight finishes (an SSE stream ends when the hub closes its
    // session), then the connection closes.
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = cut.cancelled() => Ok(()),
        () = ctx.stop.cancelled() => {
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                served = connection => served,
                () = cut.cancelled() => Ok(()),
            }
        }
    };
    if let Err(error) = served {
        tracing::debug!(%peer, %error, "http connection ended");
    }
}

/// A connection over the budget: every request on it is answered `503 Service Unavailable` with
/// `Retry-After`, and the connection closes after the first (or after the header deadline).
async fn refuse(stream: TcpStream, peer: SocketAddr, refused: Refused, ctx: Context) {
    let message = refused.message(ctx.admission.limits());
    let body = serde_json::json!({
        "code": enchufe_core::ErrorCode::ServerBusy.code(),
        "name": enchufe_core::ErrorCode::ServerBusy.name(),
        "message": message,
    })
    .to_string();
    let service = service_fn(move |_request: hyper::Request<Incoming>| {
        let mut response = Response::new(Body::from(body.clone()));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER.as_secs()));
        async move { Ok::<_, Infallible>(response) }
    });
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(ctx.config.header_timeout).keep_alive(false);
    let refusing = http.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        () = ctx.abort.cancelled() => {}
        served = refusing => if let Err(error) = served {
            tracing::debug!(%peer, %error, "refused http connection ended");
        },
    }
}
