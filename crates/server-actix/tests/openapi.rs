//! docs/openapi.yaml against the server, both ways: every documented path and method is
//! served (with the documented status, media type, headers and top-level JSON shape), and
//! every pattern of the route table in `server::configure()` is documented.

use std::collections::{BTreeMap, BTreeSet};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use base64::Engine as _;
use register_core::Mode;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use server_actix::{app, AppState};
use store_diesel::accounts::Role;
use store_diesel::store::Store;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// The route table of `server::configure()`, normalised: `{segment:entries(\.json|\.csv)?}`
/// is written `entries`, `{base}` is `/registers/{name}`, the `/registers.json` suffix form
/// is `/registers`, and a catch-all segment is its documented parameter ([`CATCH_ALLS`]).
/// Keep in step with `configure()` (checked below against its source).
const ROUTES: &[(&str, &str)] = &[
    ("get", "/"),
    ("get", "/assets/{file}"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/registers"),
    ("get", "/registers/{name}/register"),
    ("get", "/registers/{name}/entries"),
    ("get", "/registers/{name}/entries/{n}"),
    ("get", "/registers/{name}/entry/{n}"),
    ("get", "/registers/{name}/records"),
    ("get", "/registers/{name}/records/{key}/entries"),
    ("get", "/registers/{name}/records/{field}/{value}"),
    ("get", "/registers/{name}/records/{key}"),
    ("get", "/registers/{name}/record/{key}"),
    ("get", "/registers/{name}/items/{hash}"),
    ("get", "/registers/{name}/item/{hash}"),
    ("get", "/registers/{name}/proof/register/merkle:sha-256"),
    (
        "get",
        "/registers/{name}/proof/entry/{n}/{size}/merkle:sha-256",
    ),
    (
        "get",
        "/registers/{name}/proof/consistency/{m}/{n}/merkle:sha-256",
    ),
    ("get", "/registers/{name}/checkpoint"),
    ("get", "/registers/{name}/checkpoint/{size}"),
    ("get", "/registers/{name}/tile/{tile}"),
    ("get", "/registers/{name}/download-rsf"),
    ("get", "/registers/{name}/download-rsf/{m}"),
    ("get", "/registers/{name}/download-rsf/{m}/{n}"),
    ("post", "/registers/{name}/load-rsf"),
    ("post", "/registers/{name}/records"),
    ("delete", "/registers/{name}/records/{key}"),
    ("post", "/witness/add-checkpoint"),
    ("post", "/v1/login"),
    ("get", "/v1/plans/invoke"),
    ("post", "/v1/plans/invoke"),
    ("post", "/v1/proposals/new"),
    ("get", "/v1/admin/plans"),
    ("get", "/v1/plans/{uuid}"),
    ("post", "/v1/plans/{uuid}"),
    ("post", "/v1/plans/{uuid}/{action}"),
    ("get", "/v1/slices/{uuid}"),
    ("get", "/v1/slices/{uuid}/rsf"),
    ("post", "/v1/slices/{uuid}/rsf"),
    ("get", "/v1/slices/{uuid}/proof/consistency/{m}/{n}"),
    ("get", "/v1/slices/{uuid}/checkpoint"),
    ("post", "/v1/slices/{uuid}/cosignature"),
    // The same log routes for each index.
    ("get", "/registers/{name}/indexes/{index}/register"),
    ("get", "/registers/{name}/indexes/{index}/entries"),
    ("get", "/registers/{name}/indexes/{index}/entries/{n}"),
    ("get", "/registers/{name}/indexes/{index}/entry/{n}"),
    ("get", "/registers/{name}/indexes/{index}/records"),
    (
        "get",
        "/registers/{name}/indexes/{index}/records/{key}/entries",
    ),
    ("get", "/registers/{name}/indexes/{index}/records/{key}"),
    ("get", "/registers/{name}/indexes/{index}/record/{key}"),
    ("get", "/registers/{name}/indexes/{index}/items/{hash}"),
    ("get", "/registers/{name}/indexes/{index}/item/{hash}"),
    (
        "get",
        "/registers/{name}/indexes/{index}/proof/register/merkle:sha-256",
    ),
    (
        "get",
        "/registers/{name}/indexes/{index}/proof/entry/{n}/{size}/merkle:sha-256",
    ),
    (
        "get",
        "/registers/{name}/indexes/{index}/proof/consistency/{m}/{n}/merkle:sha-256",
    ),
    ("get", "/registers/{name}/indexes/{index}/checkpoint"),
    ("get", "/registers/{name}/indexes/{index}/checkpoint/{size}"),
    ("get", "/registers/{name}/indexes/{index}/tile/{tile}"),
    ("get", "/registers/{name}/indexes/{index}/download-rsf"),
    ("get", "/registers/{name}/indexes/{index}/download-rsf/{m}"),
    (
        "get",
        "/registers/{name}/indexes/{index}/download-rsf/{m}/{n}",
    ),
];

/// Each catch-all segment of the route table (a regex matching the rest of the path, slashes
/// included) and the one path parameter that documents it. An OpenAPI path parameter cannot
/// span segments, so the document names the whole rest of the path as one parameter and says
/// in its description that it holds slashes.
const CATCH_ALLS: &[(&str, &str)] = &[
    // `{base}/tile/{tail:.*}`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`.
    ("tail:.*", "{tile}"),
];

/// Example path parameters over the `colour` register (3 entries: red, blue, red again) and
/// its index `by-name` (field `name`).
const EXAMPLES: &[(&str, &str)] = &[
    ("name", "colour"),
    ("index", "by-name"),
    ("n", "2"),
    ("size", "3"),
    ("m", "1"),
    ("key", "red"),
    ("field", "name"),
    ("value", "Blue"),
    ("uuid", "9b2f8c1e-4d3a-4f5b-8c7d-6e5f4a3b2c1d"),
    ("action", "approve"),
    ("file", "pages.css"),
    // A partial level-0 tile: the register's 3 entries, and the first 3 of the index's.
    ("tile", "0/000.p/3"),
    (
        "hash",
        "sha-256:0246f5efebe7130536ffdc1fff60eb147a2b4f7f00db0bce3e79af1d85ea27f7",
    ),
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch"];

fn document() -> Yaml {
    let path = format!("{MANIFEST}/../../docs/openapi.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `(method, path)` of every operation in the document.
fn operations(doc: &Yaml) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_mapping().expect("a paths map");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("path keys are strings");
        let item = item.as_mapping().expect("a path item");
        for method in item.keys().filter_map(Yaml::as_str) {
            if METHODS.contains(&method) {
                out.insert((method.to_string(), path.to_string()));
            }
        }
    }
    out
}

/// Follows a `$ref` inside the document (`#/components/...`).
fn resolve<'a>(doc: &'a Yaml, node: &'a Yaml) -> &'a Yaml {
    match node.get("$ref").and_then(Yaml::as_str) {
        Some(reference) => {
            let pointer = reference.strip_prefix("#/").expect("a local $ref");
            let target = pointer
                .split('/')
                .fold(doc, |node, part| node.get(part).unwrap_or(&Yaml::Null));
            assert!(!target.is_null(), "dangling $ref {reference}");
            resolve(doc, target)
        }
        None => node,
    }
}

/// A JSON value against a schema: types, `required`, properties, `additionalProperties`,
/// `items`, `enum`, `oneOf`, `allOf` and `nullable` (what the document uses).
fn check(doc: &Yaml, schema: &Yaml, value: &Json, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if value.is_null() && schema["nullable"].as_bool() == Some(true) {
        return Ok(());
    }
    if let Some(all) = schema["allOf"].as_sequence() {
        for part in all {
            check(doc, part, value, at)?;
        }
    }
    if let Some(any) = schema["oneOf"].as_sequence() {
        let matching = any
            .iter()
            .filter(|s| check(doc, s, value, at).is_ok())
            .count();
        if matching != 1 {
            return Err(format!(
                "{at}: {matching} of the oneOf schemas match {value}"
            ));
        }
    }
    let type_ok = match schema["type"].as_str() {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_u64() || value.is_i64(),
        Some("boolean") => value.is_boolean(),
        Some(other) => return Err(format!("{at}: schema type {other} not understood")),
    };
    if !type_ok {
        return Err(format!("{at}: {value} is not of type {:?}", schema["type"]));
    }
    if let Some(allowed) = schema["enum"].as_sequence() {
        let allowed: Vec<Json> = allowed
            .iter()
            .map(|v| serde_json::to_value(v).expect("a JSON-compatible enum"))
            .collect();
        if !allowed.contains(value) {
            return Err(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(object) = value.as_object() {
        for key in schema["required"].as_sequence().into_iter().flatten() {
            let key = key.as_str().expect("required names are strings");
            if !object.contains_key(key) {
                return Err(format!("{at}: required '{key}' missing from {value}"));
            }
        }
        for (key, field) in object {
            let at = format!("{at}.{key}");
            if let Some(property) = schema["properties"].get(key) {
                check(doc, property, field, &at)?;
            } else if let Some(extra) = schema.get("additionalProperties") {
                match extra {
                    Yaml::Bool(false) => return Err(format!("{at}: not a documented property")),
                    Yaml::Bool(true) => {}
                    extra => check(doc, extra, field, &at)?,
                }
            }
        }
    }
    if let (Some(array), Some(items)) = (value.as_array(), schema.get("items")) {
        for (i, element) in array.iter().enumerate() {
            check(doc, items, element, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}

/// The documented path with its `{parameters}` replaced by the examples.
fn concrete(path: &str) -> String {
    let mut examples: BTreeMap<&str, &str> = EXAMPLES.iter().copied().collect();
    if path.contains("/indexes/{index}/") {
        // An index's keys are values of its field: `name` for `by-name`.
        examples.insert("key", "Scarlet");
        // Checkpoints exist only at the sizes loads left a log at: the index log was built
        // whole when declared, with 4 entries (Red, Blue, Red emptied, Scarlet).
        if path.ends_with("/checkpoint/{size}") {
            examples.insert("size", "4");
        }
    }
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a closed parameter");
        let name = &rest[open + 1..close];
        let value = examples
            .get(name)
            .unwrap_or_else(|| panic!("no example for {{{name}}} in {path}; add one to EXAMPLES"));
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

struct Reply {
    status: StatusCode,
    content_type: String,
    headers: actix_web::http::header::HeaderMap,
    body: actix_web::web::Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// True for the server's answer to a path outside the route table.
    fn is_no_resource(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
            && serde_json::from_slice::<Json>(&self.body)
                .ok()
                .and_then(|b| b["message_text"].as_str().map(str::to_owned))
                .is_some_and(|t| t.starts_with("no resource at"))
    }
}

async fn send<S, R, B>(app: &S, request: R) -> Reply
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody + 'static,
{
    let response = match test::try_call_service(app, request).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => ServiceResponse::new(
            TestRequest::default().to_http_request(),
            error.error_response(),
        ),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = test::read_body(response).await;
    Reply {
        status,
        content_type,
        headers,
        body,
    }
}

fn data(name: &str) -> Vec<u8> {
    let path = format!("{MANIFEST}/../../crates/register-core/tests/data/{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The index `by-name` over `colour`'s `name` field, declared after the data.
const BY_NAME: &str = "add-item\t{\"field\":\"name\",\"index\":\"by-name\"}\n\
    append-entry\tsystem\tindex:by-name\t2019-01-04T00:00:00Z\t\
    sha-256:d1e2cbca35100fd776adfd585f1304ee457b6d3145fc41f888a19a7dabc8a841\n";

/// A fresh SQLite store holding `colour` with the index `by-name`, and an admin account
/// `admin` / `secret`. It signs checkpoints with the test keys, as a serving node does.
fn store(dir: &tempfile::TempDir) -> Store {
    let path = dir.path().join("openapi.sqlite");
    let store = Store::open(path.to_str().expect("UTF-8 temp path"))
        .expect("open the store")
        .with_keys(store_diesel::testing::keys());
    store
        .load_rsf("colour", &data("colour.rsf")[..], Mode::Strict)
        .expect("load colour.rsf");
    store
        .load_rsf("colour", BY_NAME.as_bytes(), Mode::Strict)
        .expect("declare the index by-name");
    store
        .add_user("admin", "secret", Role::Admin)
        .expect("add the admin");
    store
}

/// Entries of the register `many`: 256 short ones (a full tile and bundle), then one naming
/// 1,000 items, whose leaf (about 75 KB) is too long for an entry bundle.
fn many() -> String {
    let item = |text: String| {
        let item = register_core::Item::parse(&text).expect("an item");
        (item.canonical_json(), item.hash().to_string())
    };
    let mut rsf = String::new();
    for i in 0..256 {
        let (json, hash) = item(format!(r#"{{"n":"{i}"}}"#));
        rsf +=
            &format!("add-item\t{json}\nappend-entry\tuser\tk{i}\t2020-01-01T00:00:00Z\t{hash}\n");
    }
    let mut hashes = Vec::new();
    for i in 0..1_000 {
        let (json, hash) = item(format!(r#"{{"m":"{i}"}}"#));
        rsf += &format!("add-item\t{json}\n");
        hashes.push(hash);
    }
    rsf += &format!(
        "append-entry\tuser\tlong\t2020-01-01T00:00:00Z\t{}\n",
        hashes.join(";")
    );
    rsf
}

/// [`store`] with the register `many` ([`many`]) and `mirrored`, a mirror of a partner's
/// copy of `colour` (its log is signed by its primary, so it has no checkpoint here).
fn transparency_store(dir: &tempfile::TempDir) -> Store {
    let store = store(dir);
    store
        .load_rsf("many", many().as_bytes(), Mode::Relaxed)
        .expect("load many");
    let mirror = store_diesel::store::MirrorOf {
        partner: "https://partner.example".into(),
        plan: plan_core::PlanId(uuid::Uuid::new_v4()),
        slice: uuid::Uuid::new_v4(),
        target: None,
    };
    store
        .load_mirror_rsf("mirrored", &data("colour.rsf")[..], &mirror)
        .expect("load the mirror");
    store
}

/// A test server's state over `store`.
fn state(store: Store) -> AppState {
    let tokens =
        server_actix::tokens::Tokens::new(b"a test secret of at least 32 bytes", "urn:test")
            .expect("tokens");
    AppState::new(store, "test.example", tokens)
}

/// Checks a reply against the operation's documented response for its status.
fn conforms(doc: &Yaml, operation: &Yaml, reply: &Reply, context: &str) {
    let status = reply.status.as_u16().to_string();
    let response = operation["responses"]
        .get(status.as_str())
        .unwrap_or_else(|| {
            panic!(
                "{context}: status {status} is not documented: {}",
                reply.text()
            )
        });
    let response = resolve(doc, response);
    for (name, _) in response["headers"].as_mapping().into_iter().flatten() {
        let name = name.as_str().expect("header names are strings");
        if name == "Link" {
            continue; // only where a next or previous page exists
        }
        assert!(
            reply.headers.contains_key(name),
            "{context}: documented header {name} missing"
        );
        let header = resolve(doc, &response["headers"][name]);
        if let Some(allowed) = header["schema"]["enum"].as_sequence() {
            let value = reply
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            assert!(
                allowed.iter().any(|a| a.as_str() == Some(value)),
                "{context}: header {name}: '{value}' is not one of {allowed:?}"
            );
        }
    }
    let Some(content) = response["content"].as_mapping() else {
        return;
    };
    let (media, schema) = content
        .iter()
        .find(|(media, _)| media.as_str() == Some(reply.content_type.as_str()))
        .unwrap_or_else(|| {
            panic!(
                "{context}: Content-Type '{}' is not documented for {status}",
                reply.content_type
            )
        });
    if media.as_str() == Some("application/json") {
        let body: Json = serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{context}: not JSON ({e}): {}", reply.text()));
        if let Err(problem) = check(doc, &schema["schema"], &body, "body") {
            panic!("{context}: {problem}");
        }
    }
}

#[actix_web::test]
async fn every_documented_operation_is_served_as_documented() {
    let doc = document();
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = store(&dir);
    let service = test::init_service(app(state(store))).await;

    // The discriminator itself: a path outside the table is a "no resource" 404.
    let unknown = send(
        &service,
        TestRequest::get()
            .uri("/registers/colour/nothing")
            .to_request(),
    )
    .await;
    assert!(unknown.is_no_resource(), "{}", unknown.text());

    let admin = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("admin:secret")
    );
    let ops = operations(&doc);
    assert!(!ops.is_empty(), "no operations in the document");
    for (method, path) in &ops {
        let operation = &doc["paths"][path.as_str()][method.as_str()];
        let uri = concrete(path);
        let context = format!("{} {path} ({uri})", method.to_uppercase());
        if path.starts_with("/v1/") {
            // Without a token every plan operation is 401 (login: wrong credentials); the
            // documented successes are exercised by `plan_api_answers_as_documented`.
            let request = match method.as_str() {
                "get" => TestRequest::get(),
                _ => TestRequest::post(),
            };
            let denied = send(
                &service,
                request
                    .uri(&uri)
                    .set_json(serde_json::json!({"username": "admin", "password": "wrong"}))
                    .to_request(),
            )
            .await;
            assert!(!denied.is_no_resource(), "{context}: not routed");
            assert_eq!(
                denied.status,
                StatusCode::UNAUTHORIZED,
                "{context}: {}",
                denied.text()
            );
            conforms(&doc, operation, &denied, &format!("{context} anonymous"));
            continue;
        }
        if path.starts_with("/witness/") {
            // A malformed body: 400 as documented (every status is exercised by witness.rs).
            let refused = send(
                &service,
                TestRequest::post()
                    .uri(&uri)
                    .set_payload("old 1\n")
                    .to_request(),
            )
            .await;
            assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{context}");
            conforms(&doc, operation, &refused, &context);
            continue;
        }
        match method.as_str() {
            "get" => {
                let reply = send(&service, TestRequest::get().uri(&uri).to_request()).await;
                assert!(!reply.is_no_resource(), "{context}: not routed");
                assert_eq!(reply.status, StatusCode::OK, "{context}: {}", reply.text());
                conforms(&doc, operation, &reply, &context);
                // Any other method on a read path: 405, which must be documented too.
                let other = send(&service, TestRequest::put().uri(&uri).to_request()).await;
                assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED, "{context}");
                conforms(&doc, operation, &other, &format!("{context} PUT"));
            }
            "delete" => {
                // The write API's removal: 401 anonymous, 404 for a key with no record (the
                // successful removal would change what the read checks expect; write_api.rs
                // covers it).
                let denied = send(&service, TestRequest::delete().uri(&uri).to_request()).await;
                assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{context}");
                conforms(&doc, operation, &denied, &format!("{context} anonymous"));
                let missing = send(
                    &service,
                    TestRequest::delete()
                        .uri("/registers/colour/records/nobody")
                        .insert_header(("authorization", admin.as_str()))
                        .to_request(),
                )
                .await;
                assert_eq!(missing.status, StatusCode::NOT_FOUND, "{context}");
                conforms(&doc, operation, &missing, &format!("{context} no record"));
            }
            "post" if path.ends_with("/records") => {
                let write = |body: &str| {
                    TestRequest::post()
                        .uri(&uri)
                        .insert_header(("content-type", "application/json"))
                        .set_payload(body.to_string())
                };
                let denied = send(&service, write(r#"{"colour":"x"}"#).to_request()).await;
                assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{context}");
                conforms(&doc, operation, &denied, &format!("{context} anonymous"));
                for (body, status) in [
                    (
                        r#"[{"colour":"green","name":"Green"}]"#,
                        StatusCode::CREATED,
                    ),
                    (r#"{"colour":"green","name":"Green"}"#, StatusCode::OK),
                    (
                        r#"{"colour":"pink","shade":"x"}"#,
                        StatusCode::UNPROCESSABLE_ENTITY,
                    ),
                ] {
                    let request = write(body).insert_header(("authorization", admin.as_str()));
                    let reply = send(&service, request.to_request()).await;
                    assert_eq!(reply.status, status, "{context} {body}: {}", reply.text());
                    conforms(&doc, operation, &reply, &format!("{context} {body}"));
                }
            }
            "post" => {
                // Without credentials: 401 (documented), not "no resource".
                let denied = send(
                    &service,
                    TestRequest::post()
                        .uri(&uri)
                        .insert_header(("content-type", "application/uk-gov-rsf"))
                        .set_payload(data("colour.rsf"))
                        .to_request(),
                )
                .await;
                assert!(!denied.is_no_resource(), "{context}: not routed");
                assert_eq!(denied.status, StatusCode::UNAUTHORIZED, "{context}");
                conforms(&doc, operation, &denied, &format!("{context} anonymous"));

                // As admin: the empty ranged dump 3..3 loads into the 3-entry register.
                let dump = send(
                    &service,
                    TestRequest::get()
                        .uri(&concrete("/registers/{name}/download-rsf/3/3"))
                        .to_request(),
                )
                .await;
                assert_eq!(dump.status, StatusCode::OK, "{}", dump.text());
                let loaded = send(
                    &service,
                    TestRequest::post()
                        .uri(&uri)
                        .insert_header(("content-type", "application/uk-gov-rsf"))
                        .insert_header(("authorization", admin.as_str()))
                        .set_payload(dump.body.clone())
                        .to_request(),
                )
                .await;
                assert_eq!(
                    loaded.status,
                    StatusCode::OK,
                    "{context}: {}",
                    loaded.text()
                );
                conforms(&doc, operation, &loaded, &format!("{context} admin"));

                // A refused RSF: the special 400 body.
                let refused = send(
                    &service,
                    TestRequest::post()
                        .uri(&uri)
                        .insert_header(("authorization", admin.as_str()))
                        .set_payload("add-item\t{\"colour\":\"green\",\"name\":\"Green\"}\n")
                        .to_request(),
                )
                .await;
                assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{context}");
                conforms(&doc, operation, &refused, &format!("{context} refused"));
                assert!(refused.text().contains("Failed to load RSF"));

                let other = send(&service, TestRequest::get().uri(&uri).to_request()).await;
                assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED, "{context}");
                conforms(&doc, operation, &other, &format!("{context} GET"));
            }
            other => panic!("{context}: method {other} is not served by the route table"),
        }
    }
}

#[actix_web::test]
async fn documented_error_responses_are_the_envelope() {
    let doc = document();
    let dir = tempfile::tempdir().expect("a temp dir");
    let service = test::init_service(app(state(transparency_store(&dir)))).await;
    let cases = [
        (
            "/registers/{name}/entries",
            "/registers/colour/entries?limit=0",
            None,
            400,
        ),
        (
            "/registers/{name}/entries",
            "/registers/colour/entries?limit=5001",
            None,
            400,
        ),
        (
            "/registers/{name}/records",
            "/registers/colour/records?page-size=0",
            None,
            400,
        ),
        (
            "/registers/{name}/records/{key}",
            "/registers/colour/records/green",
            None,
            404,
        ),
        (
            "/registers/{name}/register",
            "/registers/nothing/register",
            None,
            404,
        ),
        (
            "/registers/{name}/register",
            "/registers/colour/register.csv",
            None,
            406,
        ),
        (
            "/registers/{name}/entries",
            "/registers/colour/entries",
            Some("application/xml"),
            406,
        ),
        (
            "/registers/{name}/items/{hash}",
            "/registers/colour/items/nothex",
            None,
            400,
        ),
        (
            "/registers/{name}/proof/entry/{n}/{size}/merkle:sha-256",
            "/registers/colour/proof/entry/4/3/merkle:sha-256",
            None,
            404,
        ),
        (
            "/registers/{name}/download-rsf/{m}/{n}",
            "/registers/colour/download-rsf/2/9",
            None,
            404,
        ),
        (
            "/registers/{name}/checkpoint",
            "/registers/mirrored/checkpoint",
            None,
            404,
        ),
        (
            "/registers/{name}/checkpoint",
            "/registers/nothing/checkpoint",
            None,
            404,
        ),
        (
            "/registers/{name}/checkpoint/{size}",
            "/registers/colour/checkpoint/2",
            None,
            404,
        ),
        (
            "/registers/{name}/checkpoint/{size}",
            "/registers/colour/checkpoint/three",
            None,
            400,
        ),
        (
            "/registers/{name}/indexes/{index}/checkpoint/{size}",
            "/registers/colour/indexes/by-name/checkpoint/99",
            None,
            404,
        ),
        (
            "/registers/{name}/tile/{tile}",
            "/registers/colour/tile/0/001",
            None,
            404,
        ),
        (
            "/registers/{name}/tile/{tile}",
            "/registers/colour/tile/0/000.p/4",
            None,
            404,
        ),
        (
            "/registers/{name}/tile/{tile}",
            "/registers/colour/tile/0/1",
            None,
            400,
        ),
        (
            "/registers/{name}/tile/{tile}",
            "/registers/colour/tile/0/x000/000.p/1",
            None,
            400,
        ),
        (
            "/registers/{name}/indexes/{index}/tile/{tile}",
            "/registers/colour/indexes/by-name/tile/entries/000.p/0",
            None,
            400,
        ),
        (
            "/registers/{name}/tile/{tile}",
            "/registers/many/tile/entries/001.p/1",
            None,
            422,
        ),
    ];
    for (path, uri, accept, status) in cases {
        let mut request = TestRequest::get().uri(uri);
        if let Some(accept) = accept {
            request = request.insert_header(("accept", accept));
        }
        let reply = send(&service, request.to_request()).await;
        assert_eq!(reply.status.as_u16(), status, "{uri}: {}", reply.text());
        conforms(&doc, &doc["paths"][path]["get"], &reply, uri);
        let body: Json = serde_json::from_slice(&reply.body).expect("JSON");
        assert_eq!(body["message_code"], Json::from(1000 + status), "{uri}");
    }
}

/// The string literals of a function's body in mod.rs that start with one of `starts`, each
/// with the text before it.
fn literals<'s>(source: &'s str, function: &str, starts: &[&str]) -> Vec<(&'s str, &'s str)> {
    let start = source
        .find(function)
        .unwrap_or_else(|| panic!("{function} in mod.rs"));
    let body = &source[start..];
    let body = &body[..body.find("\n}\n").expect("the end of the function")];
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let next = starts.iter().filter_map(|start| rest.find(start)).min();
        let Some(open) = next else { break };
        let literal = &rest[open + 1..];
        let close = literal.find('"').expect("a closed string literal");
        out.push((&rest[..open], &literal[..close]));
        rest = &literal[close + 1..];
    }
    out
}

/// The route patterns written in `server_actix::configure()`, normalised like [`ROUTES`]: its own
/// literals, and `log_routes()`'s `{base}` patterns under each base `configure()` passes it.
fn configured_patterns() -> BTreeSet<String> {
    let path = format!("{MANIFEST}/src/lib.rs");
    let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = BTreeSet::new();
    let mut bases = Vec::new();
    for (before, literal) in literals(
        &source,
        "pub fn configure",
        &[
            "\"/registers",
            "\"/healthz",
            "\"/readyz",
            "\"/metrics",
            "\"/assets",
            "\"/witness",
            "\"/\"",
        ],
    ) {
        if before.trim_end().ends_with("log_routes(cfg,") {
            bases.push(literal);
        } else {
            out.insert(normalise(literal, ""));
        }
    }
    assert!(!bases.is_empty(), "configure() mounts log_routes()");
    for (_, literal) in literals(&source, "fn configure_v1", &["\"/v1/"]) {
        out.insert(normalise(literal, ""));
    }
    for (_, literal) in literals(&source, "fn log_routes", &["\"{base}"]) {
        for base in &bases {
            out.insert(normalise(literal, base));
        }
    }
    out
}

/// `{base}/{{segment:entries(\\.json|\\.csv)?}}` → `/registers/{name}/entries`, and
/// `{base}/tile/{{tail:.*}}` → `/registers/{name}/tile/{tile}` ([`CATCH_ALLS`]).
fn normalise(pattern: &str, base: &str) -> String {
    let pattern = pattern
        .replace("{base}", base)
        .replace("{{", "{")
        .replace("}}", "}");
    let mut out = String::new();
    let mut rest = pattern.as_str();
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').expect("a closed segment");
        out.push_str(&rest[..open]);
        let segment = &rest[open + 1..close];
        let catch_all = CATCH_ALLS.iter().find(|(route, _)| *route == segment);
        match segment.split_once(':') {
            // A catch-all: the parameter that documents it.
            Some(_) if catch_all.is_some() => out.push_str(catch_all.expect("found").1),
            Some((_, regex)) if regex.contains(".*") || regex.contains(".+") => {
                panic!("catch-all segment {{{segment}}}: add it and its parameter to CATCH_ALLS")
            }
            // A regex segment: keep its literal head (`entries`, or nothing for a suffix); an
            // alternation of words (`approve|reject|hold`) is a parameter.
            Some((name, regex)) => {
                let head = &regex[..regex.find('(').unwrap_or(regex.len())];
                if head.contains('|') {
                    out.push_str(&format!("{{{name}}}"));
                } else {
                    out.push_str(head);
                }
            }
            None => out.push_str(&rest[open..=close]),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn every_route_of_the_table_is_documented_and_nothing_else() {
    let documented = operations(&document());
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let undocumented: Vec<_> = routes.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.yaml: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not in the route table: {unrouted:?}"
    );

    // ROUTES is a copy of configure(); fail when the two drift apart.
    let copied: BTreeSet<String> = ROUTES.iter().map(|(_, p)| p.to_string()).collect();
    assert_eq!(
        configured_patterns(),
        copied,
        "ROUTES no longer matches server::configure(); update it and docs/openapi.yaml"
    );
}

#[actix_web::test]
async fn plan_api_answers_as_documented() {
    let doc = document();
    let dir = tempfile::tempdir().expect("a temp dir");
    let service = test::init_service(app(state(store(&dir)))).await;
    let op = |method: &str, path: &str| &doc["paths"][path][method];

    let login = send(
        &service,
        TestRequest::post()
            .uri("/v1/login")
            .set_json(serde_json::json!({"username": "admin", "password": "secret", "plan": null}))
            .to_request(),
    )
    .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text());
    conforms(&doc, op("post", "/v1/login"), &login, "login");
    let token: Json = serde_json::from_slice(&login.body).expect("JSON");
    let bearer = format!("Bearer {}", token["token"].as_str().expect("token"));
    let with_token =
        |request: TestRequest| request.insert_header(("authorization", bearer.as_str()));

    let invoked = send(
        &service,
        with_token(TestRequest::get().uri("/v1/plans/invoke")).to_request(),
    )
    .await;
    assert_eq!(invoked.status, StatusCode::CREATED, "{}", invoked.text());
    conforms(&doc, op("get", "/v1/plans/invoke"), &invoked, "invoke");
    let plan: Json = serde_json::from_slice(&invoked.body).expect("JSON");
    let uuid = plan["plan_uuid"].as_str().expect("uuid").to_string();

    let cases = [
        (
            "get",
            "/v1/plans/{uuid}",
            format!("/v1/plans/{uuid}"),
            None,
            200,
        ),
        (
            "post",
            "/v1/plans/{uuid}/{action}",
            format!("/v1/plans/{uuid}/hold"),
            None,
            409,
        ),
        (
            "get",
            "/v1/admin/plans",
            "/v1/admin/plans".to_string(),
            None,
            200,
        ),
        (
            "get",
            "/v1/slices/{uuid}",
            format!("/v1/slices/{uuid}"),
            None,
            403,
        ),
        (
            "get",
            "/v1/plans/{uuid}",
            format!("/v1/plans/{}", uuid::Uuid::new_v4()),
            None,
            404,
        ),
        (
            "post",
            "/v1/proposals/new",
            "/v1/proposals/new".to_string(),
            Some(
                serde_json::json!({"document": base64::engine::general_purpose::STANDARD.encode("<Plan/>")}),
            ),
            422,
        ),
        (
            "post",
            "/v1/plans/invoke",
            "/v1/plans/invoke".to_string(),
            Some(serde_json::json!({"document": "%%%"})),
            400,
        ),
    ];
    for (method, path, uri, body, status) in cases {
        let request = match method {
            "get" => TestRequest::get(),
            _ => TestRequest::post(),
        }
        .uri(&uri);
        let request = match body {
            Some(body) => request.set_json(body),
            None => request,
        };
        let reply = send(&service, with_token(request).to_request()).await;
        let context = format!("{} {uri}", method.to_uppercase());
        assert_eq!(reply.status.as_u16(), status, "{context}: {}", reply.text());
        conforms(&doc, op(method, path), &reply, &context);
    }
}

/// The summary's `origin` and `checkpoint-key` (and every other property it serves) are
/// documented, present for a signed log and absent on a mirror; checkpoints and tiles answer
/// with the documented media types and both documented `Cache-Control` values.
#[actix_web::test]
async fn checkpoints_tiles_and_summary_keys_answer_as_documented() {
    let doc = document();
    let dir = tempfile::tempdir().expect("a temp dir");
    let service = test::init_service(app(state(transparency_store(&dir)))).await;
    let get = |uri: &str| TestRequest::get().uri(uri).to_request();
    let op = |path: &str| &doc["paths"][path]["get"];

    let summary_schema = resolve(&doc, &doc["components"]["schemas"]["RegisterSummary"]);
    let logs = [
        (
            "/registers/{name}/register",
            "/registers/colour",
            Some("registers.test/registers/colour"),
        ),
        (
            "/registers/{name}/indexes/{index}/register",
            "/registers/colour/indexes/by-name",
            Some("registers.test/registers/colour/indexes/by-name"),
        ),
        ("/registers/{name}/register", "/registers/mirrored", None),
    ];
    for (path, prefix, origin) in logs {
        let uri = format!("{prefix}/register");
        let reply = send(&service, get(&uri)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text());
        conforms(&doc, op(path), &reply, &uri);
        let body: Json = serde_json::from_slice(&reply.body).expect("JSON");
        for key in body.as_object().expect("an object").keys() {
            assert!(
                summary_schema["properties"].get(key.as_str()).is_some(),
                "{uri}: '{key}' is served but not a documented property of RegisterSummary"
            );
        }
        assert_eq!(body["origin"].as_str(), origin, "{uri}");
        let Some(origin) = origin else {
            assert!(
                body.get("checkpoint-key").is_none(),
                "{uri}: a mirror's key"
            );
            continue;
        };
        let key = body["checkpoint-key"].as_str().expect("a checkpoint-key");
        let rest = key
            .strip_prefix(&format!("{origin}+"))
            .unwrap_or_else(|| panic!("{uri}: key {key} is not named by the origin"));
        let (id, public) = rest.split_once('+').expect("<origin>+<id>+<key>");
        assert!(
            id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{uri}: key ID {id}"
        );
        assert!(!public.is_empty(), "{uri}");

        // The latest checkpoint is a note whose first line is that origin.
        let checkpoint_path = format!(
            "{}/checkpoint",
            path.strip_suffix("/register").expect("a summary path")
        );
        let latest = send(&service, get(&format!("{prefix}/checkpoint"))).await;
        assert_eq!(latest.status, StatusCode::OK, "{prefix}: {}", latest.text());
        conforms(&doc, op(&checkpoint_path), &latest, &checkpoint_path);
        let note = latest.text();
        let mut lines = note.lines();
        assert_eq!(lines.next(), Some(origin), "{note}");
        let size = lines.next().expect("a size line");
        let at = send(&service, get(&format!("{prefix}/checkpoint/{size}"))).await;
        assert_eq!(at.status, StatusCode::OK, "{prefix}: {}", at.text());
        assert_eq!(
            at.body, latest.body,
            "{prefix}: checkpoint/{size} is the latest"
        );
    }

    // Both Cache-Control values of tiles: `many` has a full first tile and bundle.
    let tiles = [
        (
            "/registers/many/tile/0/000",
            8192,
            "public, max-age=31536000, immutable",
        ),
        (
            "/registers/many/tile/entries/000",
            0,
            "public, max-age=31536000, immutable",
        ),
        ("/registers/many/tile/0/001.p/1", 32, "public, max-age=5"),
        ("/registers/many/tile/1/000.p/1", 32, "public, max-age=5"),
        (
            "/registers/colour/tile/entries/000.p/3",
            0,
            "public, max-age=5",
        ),
    ];
    for (uri, length, cache) in tiles {
        let reply = send(&service, get(uri)).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text());
        conforms(&doc, op("/registers/{name}/tile/{tile}"), &reply, uri);
        let served = reply
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok());
        assert_eq!(served, Some(cache), "{uri}");
        if length > 0 {
            assert_eq!(reply.body.len(), length, "{uri}");
        }
    }
}
