//! Request IDs: every request has one (`X-Request-Id`), named in its log lines, on its
//! response and in its error body. The ID is task-local while the request is served, so the
//! one error mapping ([`errors`](super::errors)) can quote it without a request in hand.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use actix_web::dev::ServiceRequest;
use actix_web::http::header::HeaderName;

/// The header that names a request: the client's own (a load balancer's), when it is 1–64
/// characters of `[A-Za-z0-9._-]`, else a fresh one. Every response carries it back.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: Arc<str>;
}

/// The ID of `request`: the one it brought, when acceptable, else a new one.
pub fn of(request: &ServiceRequest) -> Arc<str> {
    let given = request
        .headers()
        .get(&HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            (1..=64).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    match given {
        Some(id) => id.into(),
        None => fresh(),
    }
}

/// A new ID: a random prefix per process and a counter, unique across instances, and no
/// system call per request.
pub fn fresh() -> Arc<str> {
    static PREFIX: OnceLock<u64> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().as_u64_pair().0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:016x}{n:016x}").into()
}

/// Runs `serving` with `id` as the current request's ID.
pub async fn scope<F: std::future::Future>(id: Arc<str>, serving: F) -> F::Output {
    CURRENT.scope(id, serving).await
}

/// The ID of the request being served, if any (`None` outside [`scope`], as in unit tests of
/// the error mapping).
pub fn current() -> Option<String> {
    CURRENT.try_with(|id| id.to_string()).ok()
}
