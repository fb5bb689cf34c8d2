//! Graph's error body (spec §7.3): `{"error":{"code","message","innerError":{…}}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The text of `ErrorSendAsDenied`, byte for byte as Microsoft documents it (seed 003).
pub const SEND_AS_DENIED: &str = "The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.";

/// An error answer in Graph's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct GraphError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Graph's `code` (clients switch on it).
    pub code: &'static str,
    /// Graph's `message`.
    pub message: String,
}

impl GraphError {
    /// An error with any status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// `400 BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// `401 InvalidAuthenticationToken`.
    pub fn token(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }

    /// `403 ErrorAccessDenied`, Exchange's wording.
    pub fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
    }

    /// `403 ErrorSendAsDenied` (spec §4.1 step 4, §7.3).
    pub fn send_as_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "ErrorSendAsDenied", SEND_AS_DENIED)
    }

    /// `404 ErrorItemNotFound`: also the answer where a `403` would reveal
    /// that the item exists.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ErrorItemNotFound", "The specified object was not found in the store.")
    }

    /// `404 ErrorInvalidUser` for a `/users/{id}` that names nobody with a mailbox.
    pub fn invalid_user(id: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ErrorInvalidUser", format!("The requested user '{id}' is invalid."))
    }

    /// `400 ErrorInvalidRecipients`.
    pub fn invalid_recipients() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
    }

    /// `503 serviceNotAvailable`: the store failed; nothing was acknowledged.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "The service is temporarily unavailable. Please retry later.",
        )
    }

    /// `405` for a path that exists with another method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "The HTTP method is not supported for this resource.",
        )
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().to_string();
        let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": { "request-id": request_id, "date": date, "client-request-id": request_id }
            }
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("request-id", v);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"\", error=\"invalid_token\""),
            );
        }
        response
    }
}
