//! The register and plan HTTP API on actix-web, as a library: the binary wires it up, tests
//! drive it through `actix_web::test::init_service`.
//!
//! # Design
//!
//! - **One route table** ([`configure`]): the register-only routes, every log route mounted
//!   twice (a register's user log and its index logs), and the plan API under `/v1`.
//! - **Thin handlers**: each extracts, runs one store or node-service call on the blocking
//!   pool (diesel never runs on an actix worker), and writes an `api-types` body (or, for
//!   entries and records on the hot path, the renderer's bytes of the same shape).
//! - **One error mapping** ([`errors`]): every error of the crates below becomes a status
//!   and the JSON envelope there; [`observe`] puts the envelope on errors actix writes itself.
//! - **Metrics** ([`metrics`]): [`observe`] counts every request by route template; one
//!   Prometheus registry per [`AppState`], served at `/metrics`.
//! - **Pages for people** ([`pages`]): every readable resource also as HTML, for requests
//!   that prefer it (a browser) or name a `.html` suffix; chosen by a route guard, so the
//!   API's handlers and its JSON default are untouched.
//! - **A witness** ([`witness`]): `POST /witness/add-checkpoint` as c2sp.org/tlog-witness
//!   says, deciding in node-service.
//! - **Auth fails closed**: for writes a writer token of the register (or of every
//!   register), HTTP Basic of an admin or an admin's bearer token ([`auth`]); the plan
//!   API's JWTs through the `Caller` extractor ([`tokens`]).

#![deny(missing_docs)]

pub mod auth;
mod body;
mod cosignatures;
mod documents;
pub mod errors;
mod health;
pub mod metrics;
mod negotiate;
mod pages;
mod paging;
pub mod plans;
mod proofs;
mod refusals;
mod registers;
mod render;
pub mod request_id;
mod stream;
#[cfg(feature = "testing")]
pub mod testing;
mod tiles;
pub mod tokens;
mod witness;
mod writes;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::{Compress, Next};
use actix_web::{body::MessageBody, guard, web, HttpRequest, HttpResponse, Route};
use std::sync::Arc;

use store_diesel::store::Store;

use body::BodyLimit;
use errors::ApiError;

/// The most an RSF upload may weigh.
pub const MAX_RSF_BYTES: usize = 512 * 1024 * 1024;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// The domain named in register summaries.
    pub domain: String,
    /// Issues and checks the plan API's bearer tokens.
    pub tokens: Arc<tokens::Tokens>,
    /// The write API's group commit over [`AppState::store`].
    pub writes: Arc<node_service::writes::Writes>,
    /// The Prometheus metrics of this server, served at `/metrics`; `None`: metrics off
    /// (nothing is counted, `/metrics` is 404).
    pub metrics: Option<Arc<metrics::Metrics>>,
    /// The lock against password guessing, shared by login and HTTP Basic.
    pub lockout: Arc<node_service::lockout::Lockout>,
    /// Password checks (argon2id, ~20 ms of a core each) running at once: at most one per
    /// core, the rest wait their turn without holding a thread, so a guessing burst cannot
    /// take the CPU from everyone else.
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// RSF downloads streaming at once ([`stream::MAX_STREAMS`]).
    pub streams: Arc<tokio::sync::Semaphore>,
    /// Pages of downloads read from the store at once ([`stream::PAGE_READS`]).
    pub page_reads: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// The state of a server over `store`, naming `domain` in register summaries and
    /// signing tokens with `tokens`.
    pub fn new(store: Store, domain: impl Into<String>, tokens: tokens::Tokens) -> AppState {
        let lockout = Arc::new(node_service::lockout::Lockout::new());
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        AppState {
            metrics: Some(Arc::new(metrics::Metrics::new(
                store.clone(),
                lockout.clone(),
            ))),
            lockout,
            password_checks: Arc::new(tokio::sync::Semaphore::new(cores)),
            streams: Arc::new(tokio::sync::Semaphore::new(stream::MAX_STREAMS)),
            page_reads: Arc::new(tokio::sync::Semaphore::new(stream::PAGE_READS)),
            writes: Arc::new(node_service::writes::Writes::new(store.clone())),
            store,
            domain: domain.into(),
            tokens: Arc::new(tokens),
        }
    }

    /// This state, serving `/metrics` only with `Authorization: Bearer <token>`.
    pub fn with_metrics_token(mut self, token: impl Into<String>) -> AppState {
        self.metrics = Some(Arc::new(
            metrics::Metrics::new(self.store.clone(), self.lockout.clone()).with_token(token),
        ));
        self
    }

    /// This state without metrics: nothing is counted and `/metrics` is 404.
    pub fn without_metrics(mut self) -> AppState {
        self.metrics = None;
        self
    }
}

fn read<F, Args>(handler: F) -> Route
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::route()
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .to(handler)
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if pages::asks_for_html(&request) {
        return Ok(pages::not_found(&request));
    }
    Err(ApiError::NotFound(format!(
        "no resource at {}",
        request.path()
    )))
}

/// A resource serving GET and HEAD, 405 for other methods.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path)
        .route(read(handler))
        .default_service(web::to(method_not_allowed))
}

/// A resource whose GET and HEAD serve `page` to a request that asks for HTML
/// ([`pages::is_page_request`]) and `api` to any other, 405 for other methods.
fn page_or<P, PArgs, F, Args>(path: &str, page: P, api: F) -> actix_web::Resource
where
    P: actix_web::Handler<PArgs>,
    PArgs: actix_web::FromRequest + 'static,
    P::Output: actix_web::Responder + 'static,
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    resource(path)
        .route(read(page).guard(guard::fn_guard(pages::is_page_request)))
        .route(read(api))
        .default_service(web::to(method_not_allowed))
}

/// The route template a request matched, for metrics. Every resource carries its own, set
/// when the table is built: actix's `match_pattern()` would match the path against every
/// route again on each request.
#[derive(Debug, Clone)]
struct RouteTemplate(std::sync::Arc<str>);

/// A resource at `path` that names its template in the request (see [`RouteTemplate`]).
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).app_data(RouteTemplate(metrics::template(path).into()))
}

/// The route table: the register-only routes, then every log route twice, for a register's
/// user log and for its index logs (the handlers tell them apart by `{index}`). Readable
/// resources have a page ([`page_or`]).
pub fn configure(cfg: &mut web::ServiceConfig) {
    use pages as p;
    use registers as r;
    cfg.app_data(
        web::PathConfig::default()
            .error_handler(|e, _| ApiError::BadRequest(format!("bad path: {e}")).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| ApiError::BadRequest(format!("bad query: {e}")).into()),
    )
    .configure(configure_v1)
    .service(get("/healthz", health::healthz))
    .service(get("/readyz", health::readyz))
    .service(get("/metrics", metrics::metrics))
    .service(page_or("/", p::home, r::list))
    .service(page_or(
        "/registers{suffix:(\\.json|\\.html)?}",
        p::home,
        r::list,
    ))
    .service(get("/assets/{file}", p::asset))
    .service(
        resource("/witness/add-checkpoint")
            .app_data(BodyLimit::Bytes(tlog_core::witness::MAX_REQUEST_BYTES))
            .route(web::post().to(witness::add_checkpoint))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        resource("/registers/{name}/load-rsf")
            .app_data(BodyLimit::Rsf)
            .route(web::post().to(r::load))
            .default_service(web::to(method_not_allowed)),
    );
    log_routes(cfg, "/registers/{name}", true);
    log_routes(cfg, "/registers/{name}/indexes/{index}", false);
    // After `records/{key}/entries`, which it would otherwise take.
    cfg.service(page_or(
        "/registers/{name}/records/{field}/{value}",
        p::records,
        r::facet,
    ))
    .default_service(web::to(not_found));
}

/// The read routes of one log (registers.md §8) under `base`, and for a register's own log
/// (`writable`) the write API on the same resources.
fn log_routes(cfg: &mut web::ServiceConfig, base: &str, writable: bool) {
    use pages as p;
    use registers as r;
    let records = page_or(
        &format!("{base}/{{segment:records(\\.json|\\.csv|\\.html)?}}"),
        p::records,
        r::records,
    );
    let record = page_or(&format!("{base}/records/{{key}}"), p::record, r::record);
    let (records, record) = if writable {
        (
            records
                .app_data(BodyLimit::Bytes(writes::MAX_WRITE_BYTES))
                .route(web::post().to(writes::append)),
            record.route(web::delete().to(writes::remove)),
        )
    } else {
        (records, record)
    };
    cfg.service(page_or(
        &format!("{base}/{{segment:register(\\.json|\\.csv|\\.html)?}}"),
        p::register,
        r::register,
    ))
    .service(page_or(
        &format!("{base}/{{segment:entries(\\.json|\\.csv|\\.html)?}}"),
        p::entries,
        r::entries,
    ))
    .service(page_or(
        &format!("{base}/entries/{{n}}"),
        p::entry,
        r::entry,
    ))
    .service(page_or(&format!("{base}/entry/{{n}}"), p::entry, r::entry))
    .service(records)
    .service(page_or(
        &format!("{base}/records/{{key}}/{{segment:entries(\\.json|\\.csv|\\.html)?}}"),
        p::history,
        r::record_entries,
    ))
    .service(record)
    .service(page_or(
        &format!("{base}/record/{{key}}"),
        p::record,
        r::record,
    ))
    .service(page_or(&format!("{base}/items/{{hash}}"), p::item, r::item))
    .service(page_or(&format!("{base}/item/{{hash}}"), p::item, r::item))
    .service(get(
        &format!("{base}/proof/register/merkle:sha-256"),
        proofs::register_proof,
    ))
    .service(get(
        &format!("{base}/proof/entry/{{n}}/{{size}}/merkle:sha-256"),
        proofs::entry_proof,
    ))
    .service(get(
        &format!("{base}/proof/consistency/{{m}}/{{n}}/merkle:sha-256"),
        proofs::consistency_proof,
    ))
    .service(get(&format!("{base}/checkpoint"), tiles::checkpoint))
    .service(get(
        &format!("{base}/checkpoint/{{size}}"),
        tiles::checkpoint,
    ))
    .service(get(&format!("{base}/tile/{{tail:.*}}"), tiles::tile))
    .service(get(&format!("{base}/download-rsf"), proofs::download))
    .service(get(&format!("{base}/download-rsf/{{m}}"), proofs::download))
    .service(get(
        &format!("{base}/download-rsf/{{m}}/{{n}}"),
        proofs::download,
    ));
}

/// The plan API's routes (`/v1`). There is no listing for partners: `/v1/plans` and
/// `/v1/slices` fall through to 404.
fn configure_v1(cfg: &mut web::ServiceConfig) {
    let post = |path: &str, route: Route| {
        resource(path)
            .route(route)
            .default_service(web::to(method_not_allowed))
    };
    // The plan API's JSON bodies (a document travels base64-encoded inside).
    let json = BodyLimit::Bytes(plans::MAX_PLAN_JSON_BYTES);
    cfg.service(post("/v1/login", web::post().to(plans::login)).app_data(json))
        .service(
            resource("/v1/plans/invoke")
                .app_data(json)
                .route(read(plans::invoke))
                .route(web::post().to(plans::invoke_as_primary))
                .default_service(web::to(method_not_allowed)),
        )
        .service(post("/v1/proposals/new", web::post().to(plans::propose)).app_data(json))
        .service(get("/v1/admin/plans", plans::list))
        .service(
            resource("/v1/plans/{uuid}")
                .app_data(json)
                .route(read(plans::show))
                .route(web::post().to(plans::replace_document))
                .default_service(web::to(method_not_allowed)),
        )
        .service(post(
            "/v1/plans/{uuid}/{action:approve|reject|hold}",
            web::post().to(plans::review),
        ))
        .service(get("/v1/slices/{uuid}", plans::slice))
        .service(
            resource("/v1/slices/{uuid}/rsf")
                .app_data(BodyLimit::Rsf)
                .route(read(plans::slice_rsf))
                .route(web::post().to(plans::slice_push))
                .default_service(web::to(method_not_allowed)),
        )
        .service(get(
            "/v1/slices/{uuid}/proof/consistency/{m}/{n}",
            plans::slice_consistency,
        ))
        .service(get("/v1/slices/{uuid}/checkpoint", plans::slice_checkpoint))
        .service(post(
            "/v1/slices/{uuid}/cosignature",
            web::post().to(cosignatures::receive),
        ));
}

/// A request ID for every request (`X-Request-Id`), CORS for reads, the JSON envelope on
/// every error response (including those actix writes itself, such as 413 for an oversized
/// body), and a log line per request with its ID, status and latency, counted in the
/// [`metrics`] by route template (never the raw path).
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // A body on a method that takes none is never read: close rather than drain it.
    let stray_body = matches!(
        method,
        Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
    ) && (request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0"));
    let path = request.path().to_string();
    let request_id = request_id::of(&request);
    let metrics = request
        .app_data::<web::Data<AppState>>()
        .and_then(|state| state.metrics.clone());
    // Everything logged while serving the request (errors included) names its id.
    let span = tracing::info_span!("request", request_id = %request_id);
    let serving = tracing::Instrument::instrument(next.call(request), span);
    let response = request_id::scope(request_id.clone(), serving)
        .await?
        .map_into_boxed_body();
    // Error pages (HTML, for requests that asked for a page) keep their body too.
    // The witness's 409 (`text/x.tlog.size`) keeps its body too: the protocol defines it.
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            let v = v.as_bytes();
            v.starts_with(b"application/json")
                || v.starts_with(b"text/html")
                || v.starts_with(tlog_core::witness::SIZE_MEDIA_TYPE.as_bytes())
        });
    let status = response.status();
    let mut response = if (status.is_client_error() || status.is_server_error()) && !is_json {
        let message = match status.as_u16() {
            404 => format!("no resource at {path}"),
            405 => "method not allowed".to_string(),
            413 => "the request body is larger than the limit".to_string(),
            _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
        };
        if status.is_server_error() {
            tracing::error!(%status, %path, "error response without a body");
        }
        let (request, _) = response.into_parts();
        let mut body = errors::envelope(status, &message);
        body.request_id = Some(request_id.to_string());
        let replaced = HttpResponse::build(status).json(body);
        ServiceResponse::new(request, replaced)
    } else {
        response
    };
    // A refused body (too large, too slow) is not read on: the connection closes.
    let status = response.status();
    if stray_body
        || status == StatusCode::PAYLOAD_TOO_LARGE
        || status == StatusCode::REQUEST_TIMEOUT
    {
        response
            .response_mut()
            .head_mut()
            .set_connection_type(actix_web::http::ConnectionType::Close);
    }
    if method == Method::GET || method == Method::HEAD {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderValue::from_static("*"),
        );
    }
    if let Ok(value) = header::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(request_id::HEADER, value);
    }
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe_request(
            response
                .request()
                .app_data::<RouteTemplate>()
                .map(|t| &*t.0),
            &method,
            response.status(),
            elapsed,
        );
    }
    tracing::info!(
        %request_id,
        %method,
        %path,
        status = response.status().as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

/// The application, ready for `HttpServer::new` or `actix_web::test::init_service`.
pub fn app(
    state: AppState,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    app_with_body_limit(state, MAX_RSF_BYTES)
}

/// [`app`] with another limit on request bodies (RSF uploads).
pub fn app_with_body_limit(
    state: AppState,
    max_body: usize,
) -> actix_web::App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .app_data(web::Data::new(state))
        // Handlers read bodies through `body::Body`; any extractor that reads one itself
        // gets the default limit.
        .app_data(web::PayloadConfig::new(body::DEFAULT_LIMIT))
        .app_data(body::RsfLimit(max_body))
        .wrap(Compress::default())
        .wrap(actix_web::middleware::from_fn(observe))
        .configure(configure)
}

/// How [`serve`] runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address to listen on (`host:port`).
    pub bind: String,
    /// Worker threads (at least 1).
    pub workers: usize,
    /// How many store calls may be in flight (the pool's size): more blocking threads would
    /// only queue on the pool and cost context switches.
    pub store_calls: usize,
    /// How long in-flight requests get to finish after SIGTERM or SIGINT.
    pub shutdown: std::time::Duration,
    /// The largest request body (an RSF upload) accepted.
    pub max_body: usize,
}

/// How long a client may take to send a request's head (the request line and headers).
pub const HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long an idle keep-alive connection stays open.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long data sent to a client may stay unacknowledged (a client that stops reading)
/// before the kernel closes the connection (`TCP_USER_TIMEOUT`).
pub const UNACKED_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Connections kept back from the open-file limit for the database, files and logs.
const RESERVED_FILES: u64 = 256;

/// The most connections served at once, per worker, so that all of them together stay under
/// the process's open-file limit (raised to its hard limit first): past it the server stops
/// accepting until connections close, instead of failing to open files.
fn connections_per_worker(workers: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-file limit; assuming 1024");
            1024
        }
    };
    let usable = limit.saturating_sub(RESERVED_FILES).max(64);
    usize::try_from(usable / workers.max(1) as u64).unwrap_or(usize::MAX)
}

/// Per connection: no Nagle delay on small answers, and the kernel closes it once sent
/// data stays unacknowledged for [`UNACKED_TIMEOUT`] (a client that stopped reading a
/// download).
fn on_connect(tcp: &actix_web::rt::net::TcpStream) {
    let _ = tcp.set_nodelay(true);
    if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(UNACKED_TIMEOUT)) {
        tracing::debug!(error = %e, "TCP_USER_TIMEOUT not set");
    }
}

/// A listener on the first address `address` resolves to, with the backlog actix-web's
/// own `bind` uses (1,024 connections waiting to be accepted, not the system's 128).
fn bind(address: &str) -> std::io::Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    for candidate in address.to_socket_addrs()? {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(candidate),
            socket2::Type::STREAM,
            None,
        )?;
        socket.set_reuse_address(true)?;
        match socket
            .bind(&candidate.into())
            .and_then(|()| socket.listen(1024))
        {
            Ok(()) => return Ok(socket.into()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("'{address}' resolves to no address"),
        )
    }))
}

/// Where [`start`] listens.
#[derive(Debug)]
pub enum Listen {
    /// Bind this address (`host:port`).
    Bind(String),
    /// A listener bound already (tests, socket activation).
    Listener(std::net::TcpListener),
}

/// Starts serving `state` as `options` say, on `listen`: every connection with the
/// timeouts and caps above, under [`refusals::EnvelopeIo`] (actix-web's `HttpServer` cannot
/// put a type of ours under its HTTP service, so this builds the same stack itself: the
/// worker pool and graceful shutdown of actix-server, actix-http's HTTP/1 service). Call it
/// inside an actix system; await the server to run it.
pub fn start(
    state: AppState,
    options: &ServeOptions,
    listen: Listen,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
    let workers = options.workers.max(1);
    let blocking = (options.store_calls / workers).max(1);
    let max_body = options.max_body;
    let listener = match listen {
        Listen::Bind(address) => bind(&address)?,
        Listen::Listener(listener) => listener,
    };
    let address = listener.local_addr()?;
    // SIGTERM/SIGINT: stop accepting, let in-flight requests (a load commits or rolls back
    // in its own transaction) finish for up to `shutdown`, then exit; a load cut off then is
    // rolled back by the database, and its client sees the connection close.
    let builder = actix_server::Server::build()
        .workers(workers)
        .worker_max_blocking_threads(blocking)
        .shutdown_timeout(options.shutdown.as_secs())
        .max_concurrent_connections(connections_per_worker(workers));
    // Idle keep-alive connections close as soon as a graceful shutdown starts.
    let shutdown = builder.graceful_shutdown_signal();
    let server = builder.listen("registers", listener, move || {
        let shutdown = shutdown.clone();
        let app = app_with_body_limit(state.clone(), max_body)
            .into_factory()
            .map_err(|e: actix_web::Error| e.error_response());
        let http = actix_http::HttpService::build()
            .keep_alive(KEEP_ALIVE)
            .client_request_timeout(HEAD_TIMEOUT)
            .local_addr(address)
            .graceful_shutdown_signal(move || {
                let shutdown = shutdown.clone();
                async move { shutdown.notified().await }
            })
            .h1(map_config(app, |_| actix_web::dev::AppConfig::default()));
        fn_service(|tcp: actix_web::rt::net::TcpStream| async move {
            on_connect(&tcp);
            let peer = tcp.peer_addr().ok();
            Ok::<_, actix_http::error::DispatchError>((refusals::EnvelopeIo::new(tcp), peer))
        })
        .and_then(http)
    })?;
    Ok(server.run())
}

/// Serves `state` as `options` say until the process is interrupted.
pub fn serve(state: AppState, options: &ServeOptions) -> std::io::Result<()> {
    let listen = Listen::Bind(options.bind.clone());
    actix_web::rt::System::new().block_on(async move { start(state, options, listen)?.await })
}
