//! Cross-origin access to the REST API and SSE, for pages served elsewhere (a dashboard on
//! another host). Off unless origins are configured (`--cors`); WebSocket needs no CORS, and
//! the admin endpoint is never opened to other origins.

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Whether `origin` is `*` or `scheme://host[:port]` with an http(s) scheme and no path: what a
/// browser sends in `Origin`, so what `--cors` accepts.
pub(crate) fn is_cors_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let Some(rest) = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' '])
        && HeaderValue::from_str(origin).is_ok()
}

/// The CORS layer for `origins` (already checked by [`is_cors_origin`]), or `None` when empty.
pub(crate) fn layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_origins_and_refuses_urls() {
        for good in ["*", "https://dash.example", "http://127.0.0.1:8080"] {
            assert!(is_cors_origin(good), "{good}");
        }
        for bad in ["", "dash.example", "https://", "https://a/b", "ftp://a", "https://a b"] {
            assert!(!is_cors_origin(bad), "{bad}");
        }
    }
}
