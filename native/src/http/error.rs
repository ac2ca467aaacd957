//! HTTP errors: a status and the JSON body `{"code","name","message"}` of docs/DECISIONS.md.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use enchufe_core::ErrorCode;

/// An error answer of the HTTP API. `code`/`name` are the wire [`ErrorCode`] when one applies;
/// a resource that does not exist is `404`/`not_found`, which no frame needs.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: u16,
    name: &'static str,
    message: String,
}

impl ApiError {
    /// An error with a wire code; the status follows from the code.
    pub(crate) fn code(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = match code {
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unauthorized | ErrorCode::TokenExpired => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::ShuttingDown
            | ErrorCode::ServerBusy
            | ErrorCode::RoomLimit
            | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError { status, code: code.code(), name: code.name(), message: message.into() }
    }

    /// An error with a wire code and a status other than the code's own (`415` for a content
    /// type a write does not take, `422` for a reused idempotency key).
    pub(crate) fn with_status(
        status: StatusCode,
        code: ErrorCode,
        message: impl Into<String>,
    ) -> Self {
        ApiError { status, ..Self::code(code, message) }
    }

    /// `400` with code 4000 `malformed`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::code(ErrorCode::Malformed, message)
    }

    /// `404 not_found`.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: 404,
            name: "not_found",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            serde_json::json!({ "code": self.code, "name": self.name, "message": self.message });
        (self.status, Json(body)).into_response()
    }
}
