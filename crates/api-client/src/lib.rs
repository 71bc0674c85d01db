//! A blocking HTTP client of our API (ureq), speaking the wire types of `api-types`: the
//! plan API for `remote plan`, and [`register_sync::Remote`] for pulls and pushes.
//!
//! # Design
//!
//! - **Blocking, one request at a time.** Its users (the operator CLI, sync runs) make a
//!   handful of requests in sequence; a blocking agent keeps them free of async runtimes.
//! - **A refusal is shown as it was given**: the URL, the HTTP status, the envelope's
//!   `message_text` and every `schema_errors` entry ([`ClientError::Refused`]).
//! - **Witnesses** ([`WitnessClient`]): `add-checkpoint` as register-sync's
//!   `witness::Witness`, each request bounded in time.
//! - **Credentials never print**: `Debug` shows the base URL and user name only.

#![deny(missing_docs)]

mod delta;
mod witness;

pub use witness::WitnessClient;

use std::time::Duration;

use api_types::{
    ConsistencyProof, DocumentRequest, ErrorEnvelope, LoginRequest, LoginResponse, PlanBody,
    PushResponse, SliceState,
};
use plan_core::{Plan, PlanId};
use register_core::Digest;
use register_sync::Fetched;
use serde::de::DeserializeOwned;
use serde::Serialize;
use uuid::Uuid;

/// The most of a refusal's body read for its message.
const MAX_REFUSAL_BYTES: u64 = 64 * 1024;
/// The most of a JSON answer read.
const MAX_JSON_BYTES: u64 = 16 * 1024 * 1024;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server could not be reached, or the exchange broke off.
    #[error("{url}: {source}")]
    Transport {
        /// The URL asked.
        url: String,
        /// What broke.
        source: ureq::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status}: {message}")]
    Refused {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The envelope's message with its schema errors, or the body as it came.
        message: String,
    },
    /// The answer is not the JSON body the endpoint documents.
    #[error("{url}: not JSON: {source}")]
    BadBody {
        /// The URL asked.
        url: String,
        /// What did not parse.
        source: serde_json::Error,
    },
    /// The answer names a hash that is not `sha-256:<hex>`.
    #[error("{url}: '{value}' is not a root hash")]
    BadHash {
        /// The URL asked.
        url: String,
        /// The value found.
        value: String,
    },
    /// A plan came without its document.
    #[error("plan {plan} has no document on {base}")]
    NoDocument {
        /// The plan.
        plan: String,
        /// The server.
        base: String,
    },
    /// A plan's document field did not decode.
    #[error("plan {plan}: {source}")]
    Document {
        /// The plan.
        plan: String,
        /// Why.
        source: api_types::DocumentError,
    },
    /// A delta with a line longer than an RSF reader accepts; reading stopped there.
    #[error("{url}: line {line} of the delta is longer than {max} bytes")]
    DeltaLineTooLong {
        /// The URL asked.
        url: String,
        /// The 1-based line.
        line: u64,
        /// The bound ([`register_core::rsf::MAX_LINE_BYTES`]).
        max: usize,
    },
    /// A plan's document is not a valid plan.
    #[error("plan {plan}: {source}")]
    Plan {
        /// The plan.
        plan: String,
        /// Why.
        source: plan_core::Error,
    },
}

/// A partner's server, with the credentials to log in to it.
pub struct Client {
    base: String,
    username: String,
    password: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl std::fmt::Debug for Client {
    // Never print the password or the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

type Response = ureq::http::Response<ureq::Body>;

impl Client {
    /// The server at `base` (e.g. `http://127.0.0.1:8080`), as `username`.
    pub fn new(base: &str, username: &str, password: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .build()
            .into();
        Client {
            base: base.trim_end_matches('/').to_string(),
            username: username.to_string(),
            password: password.to_string(),
            agent,
            token: None,
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Logs in: a limited token, or with a plan document (its XML), a token scoped to that
    /// plan.
    pub fn login(&mut self, plan_document: Option<&str>) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            username: self.username.clone(),
            password: self.password.clone(),
            plan: plan_document.map(api_types::encode_document),
        };
        let reply: LoginResponse = self.post_json("/v1/login", &body)?;
        self.token = Some(reply.token.clone());
        Ok(reply)
    }

    /// `GET /v1/plans/invoke`: a new plan (with this server's Primary part when it offers
    /// registers).
    pub fn invoke(&self) -> Result<PlanBody, ClientError> {
        self.get_json("/v1/plans/invoke")
    }

    /// `POST /v1/plans/invoke` with this side's Primary-only document: a plan whose primary
    /// is the caller.
    pub fn invoke_as_primary(&self, document: &Plan) -> Result<PlanBody, ClientError> {
        let body = DocumentRequest {
            document: api_types::encode_document(&document.to_xml()),
            replaces_plan_uuid: None,
        };
        self.post_json("/v1/plans/invoke", &body)
    }

    /// `POST /v1/proposals/new` with a complete plan.
    pub fn propose(&self, plan: &Plan) -> Result<PlanBody, ClientError> {
        let body = DocumentRequest {
            document: api_types::encode_document(&plan.to_xml()),
            replaces_plan_uuid: None,
        };
        self.post_json("/v1/proposals/new", &body)
    }

    /// `GET /v1/plans/{uuid}`.
    pub fn plan(&self, id: Uuid) -> Result<PlanBody, ClientError> {
        self.get_json(&format!("/v1/plans/{id}"))
    }

    /// The document of a plan answer, decoded and validated.
    pub fn document(&self, body: &PlanBody) -> Result<Plan, ClientError> {
        let plan = || body.plan_uuid.clone();
        let encoded = body
            .document
            .as_deref()
            .ok_or_else(|| ClientError::NoDocument {
                plan: plan(),
                base: self.base.clone(),
            })?;
        let text = api_types::decode_document(encoded).map_err(|source| ClientError::Document {
            plan: plan(),
            source,
        })?;
        Plan::from_xml(&text).map_err(|source| ClientError::Plan {
            plan: plan(),
            source,
        })
    }

    /// `request` with this session's bearer token, once logged in.
    fn authorized<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(token) => request.header("Authorization", &format!("Bearer {token}")),
            None => request,
        }
    }

    /// The response if it is a success; the server's status and message otherwise.
    fn check(
        &self,
        path: &str,
        result: Result<Response, ureq::Error>,
    ) -> Result<Response, ClientError> {
        let mut response = result.map_err(|source| ClientError::Transport {
            url: self.url(path),
            source,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_REFUSAL_BYTES)
            .read_to_string()
            .unwrap_or_default();
        // The request's ID lets the partner's operator find the refusal in their logs.
        let message = match serde_json::from_str::<ErrorEnvelope>(&text) {
            Ok(envelope) => match &envelope.request_id {
                Some(id) => format!("{} (request {id})", envelope.describe()),
                None => envelope.describe(),
            },
            Err(_) => text,
        };
        Err(ClientError::Refused {
            url: self.url(path),
            status: status.as_u16(),
            message,
        })
    }

    fn json<T: DeserializeOwned>(
        &self,
        path: &str,
        mut response: Response,
    ) -> Result<T, ClientError> {
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_JSON_BYTES)
            .read_to_string()
            .map_err(|source| ClientError::Transport {
                url: self.url(path),
                source,
            })?;
        serde_json::from_str(&text).map_err(|source| ClientError::BadBody {
            url: self.url(path),
            source,
        })
    }

    /// `GET path` (below the base URL), answered in JSON: any endpoint, for callers this
    /// client has no method for.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let request = self.authorized(self.agent.get(&self.url(path)));
        let response = self.check(path, request.call())?;
        self.json(path, response)
    }

    /// `POST path` with a JSON body, answered in JSON.
    pub fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<T, ClientError> {
        let request = self.authorized(
            self.agent
                .post(&self.url(path))
                .header("Content-Type", "application/json"),
        );
        let text = serde_json::to_string(body).map_err(|source| ClientError::BadBody {
            url: self.url(path),
            source,
        })?;
        let response = self.check(path, request.send(text))?;
        self.json(path, response)
    }

    /// `POST path` with an RSF body, answered in JSON.
    pub fn post_rsf<T: DeserializeOwned>(
        &self,
        path: &str,
        rsf: Vec<u8>,
    ) -> Result<T, ClientError> {
        let request = self.authorized(
            self.agent
                .post(&self.url(path))
                .header("Content-Type", register_core::rsf::MEDIA_TYPE),
        );
        let response = self.check(path, request.send(rsf))?;
        self.json(path, response)
    }

    fn root(&self, path: &str, value: &str) -> Result<Digest, ClientError> {
        Digest::parse_prefixed(value).ok_or_else(|| ClientError::BadHash {
            url: self.url(path),
            value: value.to_string(),
        })
    }
}

impl register_sync::Remote for Client {
    type Error = ClientError;

    fn name(&self) -> &str {
        &self.base
    }

    /// Logs in with the plan's own document, read with a limited token: the token then
    /// reaches the plan's slices.
    fn login_for_plan(&mut self, id: PlanId) -> Result<Plan, ClientError> {
        self.login(None)?;
        let body = self.plan(id.0)?;
        let plan = self.document(&body)?;
        self.login(Some(&plan.to_xml()))?;
        Ok(plan)
    }

    fn slice_state(&self, slice: Uuid) -> Result<(u64, Digest), ClientError> {
        let path = format!("/v1/slices/{slice}");
        let state: SliceState = self.get_json(&path)?;
        Ok((state.total_entries, self.root(&path, &state.root_hash)?))
    }

    /// Refused unread when the declared `Content-Length` is over `max_bytes`; otherwise read
    /// only up to the bound (see [`delta::read_bounded`]).
    fn fetch_delta(
        &self,
        slice: Uuid,
        since: u64,
        until: u64,
        max_bytes: u64,
    ) -> Result<Fetched, ClientError> {
        let path = format!("/v1/slices/{slice}/rsf?since={since}&until={until}");
        let request = self.authorized(self.agent.get(&self.url(&path)));
        let response = self.check(&path, request.call())?;
        let declared = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > max_bytes) {
            // Dropping the response closes the connection: nothing of the body is read.
            return Ok(Fetched::OverBound);
        }
        let reader = response
            .into_body()
            .into_with_config()
            .limit(u64::MAX)
            .reader();
        match delta::read_bounded(reader, max_bytes, declared) {
            Ok(Some(delta)) => Ok(Fetched::Delta(delta)),
            Ok(None) => Ok(Fetched::OverBound),
            Err(delta::Unread::Io(e)) => Err(ClientError::Transport {
                url: self.url(&path),
                source: ureq::Error::Io(e),
            }),
            Err(delta::Unread::LineTooLong(line)) => Err(ClientError::DeltaLineTooLong {
                url: self.url(&path),
                line,
                max: register_core::rsf::MAX_LINE_BYTES,
            }),
        }
    }

    /// The checkpoint travels base64-encoded in the `Tlog-Checkpoint` header.
    fn push_delta(
        &self,
        slice: Uuid,
        delta: Vec<u8>,
        checkpoint: Option<&str>,
    ) -> Result<(u64, Digest), ClientError> {
        use base64::Engine as _;
        let path = format!("/v1/slices/{slice}/rsf");
        let mut request = self.authorized(
            self.agent
                .post(&self.url(&path))
                .header("Content-Type", register_core::rsf::MEDIA_TYPE),
        );
        if let Some(note) = checkpoint {
            let value = base64::engine::general_purpose::STANDARD.encode(note);
            request = request.header("Tlog-Checkpoint", value);
        }
        let response = self.check(&path, request.send(delta))?;
        let reply: PushResponse = self.json(&path, response)?;
        Ok((reply.total_entries, self.root(&path, &reply.root_hash)?))
    }

    fn checkpoint(&self, slice: Uuid) -> Result<String, ClientError> {
        let path = format!("/v1/slices/{slice}/checkpoint");
        let request = self.authorized(self.agent.get(&self.url(&path)));
        let mut response = self.check(&path, request.call())?;
        response
            .body_mut()
            .with_config()
            .limit(MAX_REFUSAL_BYTES)
            .read_to_string()
            .map_err(|source| ClientError::Transport {
                url: self.url(&path),
                source,
            })
    }

    fn send_cosignature(&self, slice: Uuid, size: u64, line: &str) -> Result<(), ClientError> {
        let request = api_types::CosignatureRequest {
            size,
            cosignature: line.trim_end().to_string(),
        };
        self.post_json::<api_types::CosignatureKept>(
            &format!("/v1/slices/{slice}/cosignature"),
            &request,
        )
        .map(|_| ())
    }

    fn consistency_proof(&self, slice: Uuid, m: u64, n: u64) -> Result<Vec<Digest>, ClientError> {
        let path = format!("/v1/slices/{slice}/proof/consistency/{m}/{n}");
        let proof: ConsistencyProof = self.get_json(&path)?;
        proof
            .merkle_consistency_nodes
            .iter()
            .map(|node| self.root(&path, node))
            .collect()
    }
}
