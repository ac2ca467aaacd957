//! The web app: static files from the `--www` directory, with content types from the file
//! extension (tower-http's `ServeDir`) and the cache policy of docs/DECISIONS.md.
//!
//! Compressed without compressing at request time: the web app's build writes `NAME.br` and
//! `NAME.gz` next to each text and wasm file (www/webpack.config.js), and a request that
//! accepts them gets one (`Content-Encoding`, `Vary: accept-encoding`); other files, and
//! clients that accept neither, get the file as it is.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use tower_http::services::ServeDir;

use crate::server::Context;

/// Content-hashed assets never change under their name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html above all) is revalidated on each use.
const REVALIDATE: &str = "no-cache";

/// Serves a file of the web app; `/` is `index.html`. When the directory does not exist, `/`
/// explains how to build it.
pub(crate) async fn serve(State(ctx): State<Context>, request: Request) -> Response {
    let www = &ctx.config.www;
    let path = request.uri().path().to_owned();
    if !www.is_dir() {
        if path == "/" || path == "/index.html" {
            return (StatusCode::OK, Html(missing_page(&www.display().to_string())))
                .into_response();
        }
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let mut response = match files(www).try_call(request).await {
        Ok(response) => response.map(axum::body::Body::new),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return (StatusCode::NOT_FOUND, "not found\n").into_response();
        }
        Err(error) => {
            tracing::warn!(%error, "static file error");
            return (StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n").into_response();
        }
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if is_hashed(&path) { IMMUTABLE } else { REVALIDATE };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// The files of `www`, each sent precompressed (`NAME.br`, else `NAME.gz`) when the client
/// accepts that and the build wrote it.
fn files(www: &std::path::Path) -> ServeDir {
    ServeDir::new(www).precompressed_br().precompressed_gzip()
}

/// Whether the file name carries a content hash, as webpack's `[name].[contenthash].js` does: a
/// dot-separated part of at least 8 hex digits that is not the extension.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or_default();
    let mut parts: Vec<&str> = name.split('.').collect();
    parts.pop(); // the extension
    parts.iter().skip(1).any(|p| p.len() >= 8 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn missing_page(dir: &str) -> String {
    let dir = dir.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>enchufe</title>\
         <link rel=\"icon\" href=\"data:,\"></head>\n<body>\n<h1>enchufe is running</h1>\n\
         <p>The web app is not built: the directory <code>{dir}</code> does not exist.</p>\n\
         <p>Build it and serve it with <code>cargo xtask serve</code>, or point the server at a \
         built copy with <code>enchufe serve --www path/to/dist</code>.</p>\n\
         <p>The server itself works: WebSocket at <code>/ws</code>, REST under <code>/api</code>, \
         <code>/healthz</code>, <code>/metrics</code>.</p>\n</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::is_hashed;

    /// The server's files service sends a precompressed file to a client that accepts it (brotli
    /// first), and the file itself otherwise, with its own content type. (The e2e test checks
    /// the headers of the real server, cache policy included.)
    #[tokio::test]
    async fn precompressed_files_go_to_clients_that_accept_them() {
        use axum::{body::Body, http::Request};

        let dir = std::env::temp_dir().join(format!("enchufe-static-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.0123abcd.js"), "let a = 1;").unwrap();
        std::fs::write(dir.join("main.0123abcd.js.br"), "brotli bytes").unwrap();
        std::fs::write(dir.join("main.0123abcd.js.gz"), "gzip bytes").unwrap();
        let files = super::files(&dir);
        for (accept, encoding) in
            [("gzip, deflate, br", Some("br")), ("gzip", Some("gzip")), ("", None)]
        {
            let request = Request::get("/main.0123abcd.js")
                .header("accept-encoding", accept)
                .body(Body::empty());
            let response = files.clone().try_call(request.unwrap()).await.unwrap();
            let got = response.headers().get("content-encoding").map(|v| v.to_str().unwrap());
            assert_eq!(got, encoding, "accept-encoding {accept:?}");
            assert_eq!(response.headers()["content-type"], "text/javascript");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn recognises_content_hashed_names() {
        assert!(is_hashed("/main.3f9a1c2b.js"));
        assert!(is_hashed("/assets/app.0123456789abcdef.wasm"));
        assert!(!is_hashed("/index.html"));
        assert!(!is_hashed("/main.js"));
        assert!(!is_hashed("/deadbeef12.js"), "the hash must not be the whole name");
    }
}
