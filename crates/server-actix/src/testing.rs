//! Test support for this crate's tests and the crates above it (feature `testing`): the
//! server over a fresh database per backend (`store_diesel::testing`), the shared RSF
//! fixtures, and requests answered as `(status, headers, body)`.

use crate::AppState;
use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use actix_web::web::Bytes;
use register_core::Mode;
pub use store_diesel::testing::{backends, TestDb, ORIGIN};

/// The domain every test server names in its summaries.
pub const DOMAIN: &str = "test.example";

/// A fixture of `crates/register-core/tests/data`.
pub fn data(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../register-core/tests/data/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every backend, each holding `country` (country-data.rsf) and `colour` (colour.rsf).
pub fn loaded() -> Vec<TestDb> {
    let dbs = backends();
    for db in &dbs {
        for (name, file) in [("country", "country-data.rsf"), ("colour", "colour.rsf")] {
            db.store
                .load_rsf(name, &data(file)[..], Mode::Strict)
                .unwrap_or_else(|e| panic!("{}: loading {file}: {e}", db.label));
        }
    }
    dbs
}

/// The server's state over a test database.
pub fn state(db: &TestDb) -> AppState {
    AppState::new(db.store.clone(), DOMAIN, tokens())
}

/// The secret test servers sign tokens with.
pub const TOKEN_SECRET: &[u8] = b"a test secret of at least 32 bytes";

/// The issuer test servers name.
pub const ISSUER: &str = "urn:test";

/// Tokens as the test servers issue them.
pub fn tokens() -> crate::tokens::Tokens {
    crate::tokens::Tokens::new(TOKEN_SECRET, ISSUER).expect("tokens")
}

/// A response, read to the end.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Reply {
    /// A header as text; panics when it is missing.
    pub fn header(&self, name: &str) -> &str {
        self.maybe_header(name)
            .unwrap_or_else(|| panic!("no {name} header in {self:?}"))
    }

    /// A header as text, if present.
    pub fn maybe_header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    /// The body as UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("UTF-8 body")
    }

    /// The error body without its `request_id` (which differs from request to request), to
    /// compare two refusals.
    pub fn error_without_id(&self) -> serde_json::Value {
        let mut body = self.json();
        if let Some(object) = body.as_object_mut() {
            object.remove("request_id");
        }
        body
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.text()))
    }

    /// Asserts the error envelope `{"message_code": code, "message_text": "…", "request_id"}`
    /// (the ID its `X-Request-Id` header names), as JSON.
    pub fn assert_error(&self, status: u16, context: &str) {
        assert_eq!(self.status.as_u16(), status, "{context}: {}", self.text());
        assert_eq!(self.header("content-type"), "application/json", "{context}");
        let body = self.json();
        let object = body
            .as_object()
            .unwrap_or_else(|| panic!("{context}: {body}"));
        assert_eq!(object.len(), 3, "{context}: {body}");
        // The body quotes the request's ID, as its header does.
        assert_eq!(
            body["request_id"].as_str(),
            Some(self.header("x-request-id")),
            "{context}: {body}"
        );
        assert_eq!(
            body["message_code"],
            serde_json::json!(1000 + status),
            "{context}: {body}"
        );
        let text = body["message_text"].as_str().unwrap_or_default();
        assert!(!text.is_empty(), "{context}: {body}");
    }
}

/// Sends a request as the HTTP server would: a service error becomes its error response.
pub async fn send<S, B>(app: &S, request: TestRequest) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let response = match app.call(request.to_request()).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            let response = error.error_response();
            ServiceResponse::new(TestRequest::default().to_http_request(), response)
        }
    };
    let status = response.status();
    let headers = response.headers().clone();
    let body = actix_web::test::read_body(response).await;
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get<S, B>(app: &S, uri: &str) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    send(app, TestRequest::get().uri(uri)).await
}

/// `GET uri` with one extra header.
pub async fn get_with<S, B>(app: &S, uri: &str, header: (&str, &str)) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    send(
        app,
        TestRequest::get()
            .uri(uri)
            .insert_header((header.0.to_string(), header.1.to_string())),
    )
    .await
}

/// A real server over `store` on a loopback port, in its own thread and actix system, for
/// tests that need sockets (clients, relays, other servers). Stopped by [`stop`] or on drop.
///
/// [`stop`]: LoopbackServer::stop
#[derive(Debug)]
pub struct LoopbackServer {
    /// The port it listens on.
    pub port: u16,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LoopbackServer {
    /// Serves `store` on an ephemeral port.
    pub fn start(store: store_diesel::store::Store) -> LoopbackServer {
        LoopbackServer::start_on(store, 0)
    }

    /// Serves `store` on `port` (0: an ephemeral one).
    pub fn start_on(store: store_diesel::store::Store, port: u16) -> LoopbackServer {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        let port = listener.local_addr().expect("address").port();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let state = AppState::new(store, DOMAIN, tokens());
                // The served configuration (timeouts, caps), on one worker.
                let options = crate::ServeOptions {
                    bind: String::new(),
                    workers: 1,
                    store_calls: 16,
                    shutdown: std::time::Duration::from_secs(5),
                    max_body: crate::MAX_RSF_BYTES,
                };
                let server = crate::start(state, &options, crate::Listen::Listener(listener))
                    .expect("listen");
                sender.send(server.handle()).expect("send the handle");
                let _ = server.await;
            });
        });
        let handle = receiver.recv().expect("the server started");
        LoopbackServer {
            port,
            handle,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it gracefully and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(true));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.shutdown();
        }
    }
}
