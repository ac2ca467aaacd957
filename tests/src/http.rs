//! An HTTP/1.1 client for tests: hyper's client connection over a real TCP socket, one
//! connection per request (nothing pooled, so every request is seen by the server as a new
//! connection, as the hand-written requests were). [`SseClient`] streams a response body and
//! parses Server-Sent Events from it. Every wait is bounded by [`WAIT`]. The `…_over` variants
//! take a connected stream instead of an address (e.g. TLS over TCP, made by the caller); a
//! test binary whose server speaks TLS everywhere sets a [`Dialer`] once ([`set_dialer`]), and
//! every request by address goes through it.

use std::{future::Future, net::SocketAddr, pin::Pin, sync::OnceLock, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{
    Request, Response,
    body::Incoming,
    header::{ACCEPT, HOST},
};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
};

/// A connected byte stream: plain TCP, TLS over it, …
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Opens the connection for a request to an address (instead of plain TCP).
pub type Dialer = fn(SocketAddr) -> Pin<Box<dyn Future<Output = Box<dyn Stream>> + Send>>;

static DIALER: OnceLock<Dialer> = OnceLock::new();

/// Makes every request by address of this process connect with `dialer` (the first call wins).
pub fn set_dialer(dialer: Dialer) {
    let _ = DIALER.set(dialer);
}

/// The longest any single wait (connect, response head, body, next event) may take.
pub const WAIT: Duration = Duration::from_secs(10);

async fn within<F: Future>(what: &str, f: F) -> F::Output {
    tokio::time::timeout(WAIT, f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

/// Sends one request on a new connection and returns the response, its body not read yet.
async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response<Incoming> {
    if let Some(dial) = DIALER.get() {
        let stream = within("http connect", dial(addr)).await;
        return send_over(stream, &addr.to_string(), method, path, headers, body).await;
    }
    let stream = within("http connect", TcpStream::connect(addr)).await.expect("http connect");
    send_over(stream, &addr.to_string(), method, path, headers, body).await
}

/// Sends one request on a connected stream, for `host`, and returns the response, its body not
/// read yet.
async fn send_over<I>(
    stream: I,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response<Incoming>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        within("http handshake", hyper::client::conn::http1::handshake(TokioIo::new(stream)))
            .await
            .expect("http handshake");
    // The connection's I/O runs beside the caller; it ends with the response (or the test).
    tokio::spawn(connection);
    let mut request = Request::builder().method(method).uri(path).header(HOST, host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request =
        request.body(Full::new(Bytes::copy_from_slice(body))).expect("a well-formed test request");
    within("http response", sender.send_request(request)).await.expect("an http response")
}

/// A whole response.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The header fields, names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics (showing the body) if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn header_list(response: &Response<Incoming>) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .map(|(name, value)| {
            (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned())
        })
        .collect()
}

/// One request; the whole response, body read to its end.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse {
    whole(send(addr, method, path, headers, body).await).await
}

/// One request on a connected stream (for `host`); the whole response, body read to its end.
pub async fn request_over<I>(
    stream: I,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpResponse
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    whole(send_over(stream, host, method, path, headers, body).await).await
}

async fn whole(response: Response<Incoming>) -> HttpResponse {
    let status = response.status().as_u16();
    let headers = header_list(&response);
    let body = within("http body", response.into_body().collect())
        .await
        .expect("the whole http body")
        .to_bytes()
        .to_vec();
    HttpResponse { status, headers, body }
}

/// `GET path`.
pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    request(addr, "GET", path, &[], b"").await
}

/// `POST path` with a JSON body.
pub async fn post_json(addr: SocketAddr, path: &str, body: &str) -> HttpResponse {
    request(addr, "POST", path, &[("Content-Type", "application/json")], body.as_bytes()).await
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// Its `id:` field, if any.
    pub id: Option<String>,
    /// Its `event:` field (`message` when absent).
    pub event: String,
    /// Its `data:` lines, joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// The data as JSON; panics if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).expect("event data is JSON")
    }
}

/// A `GET` whose response is an event stream, read event by event as it arrives.
#[derive(Debug)]
pub struct SseClient {
    body: Incoming,
    /// Body bytes received and not parsed yet.
    text: Vec<u8>,
    /// The response's status code.
    pub status: u16,
    /// The response's `Content-Type` ("" when absent).
    pub content_type: String,
    /// The response's header fields, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl SseClient {
    /// Opens the stream (`Accept: text/event-stream` and `headers`); returns once the response
    /// head has arrived.
    pub async fn connect(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> SseClient {
        let mut all = vec![(ACCEPT.as_str(), "text/event-stream")];
        all.extend_from_slice(headers);
        SseClient::from_response(send(addr, "GET", path, &all, b"").await)
    }

    /// [`SseClient::connect`] on a connected stream, for `host`.
    pub async fn connect_over<I>(
        stream: I,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> SseClient
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut all = vec![(ACCEPT.as_str(), "text/event-stream")];
        all.extend_from_slice(headers);
        SseClient::from_response(send_over(stream, host, "GET", path, &all, b"").await)
    }

    fn from_response(response: Response<Incoming>) -> SseClient {
        let status = response.status().as_u16();
        let headers = header_list(&response);
        let content_type = headers
            .iter()
            .find(|(name, _)| name == "content-type")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();
        SseClient { body: response.into_body(), text: Vec::new(), status, content_type, headers }
    }

    /// The value of header `name` (any case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Reads more of the body; false at its end (or when the connection fails).
    async fn fill(&mut self) -> bool {
        loop {
            match within("sse read", self.body.frame()).await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.text.extend_from_slice(&data);
                        return true;
                    }
                    // trailers: nothing for us, read on
                }
                Some(Err(_)) | None => return false,
            }
        }
    }

    /// The next event (comments and keep-alives skipped), or `None` when the stream ends.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.text.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.text.drain(..end + 2).collect();
                let block = String::from_utf8(block).expect("an event stream is UTF-8");
                let mut event = SseEvent { id: None, event: "message".into(), data: String::new() };
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push(v);
                    }
                }
                if data.is_empty() && event.id.is_none() {
                    continue; // a comment
                }
                event.data = data.join("\n");
                return Some(event);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// The next event named `kind`, skipping others; panics if the stream ends first.
    pub async fn next_kind(&mut self, kind: &str) -> SseEvent {
        loop {
            let event = self.next().await.expect("an event, not the end");
            if event.event == kind {
                return event;
            }
        }
    }
}
