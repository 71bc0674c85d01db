//! The HTTP transport to witnesses (c2sp.org/tlog-witness): register-sync's
//! [`Witness`] over ureq, every request bounded in time so a slow witness only delays the
//! background submitter, never a load.

use std::time::Duration;

use api_types::ErrorEnvelope;
use register_sync::witness::{Answer, Witness};

/// The most of a witness's answer read: cosignature lines are short.
const MAX_ANSWER_BYTES: u64 = 64 * 1024;

/// A blocking client for witnesses' `add-checkpoint`.
#[derive(Debug, Clone)]
pub struct WitnessClient {
    agent: ureq::Agent,
}

impl WitnessClient {
    /// A client giving each request at most `timeout` (connecting included).
    pub fn new(timeout: Duration) -> WitnessClient {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        WitnessClient { agent }
    }
}

impl Witness for WitnessClient {
    fn add_checkpoint(&self, url: &str, body: &str) -> Result<Answer, String> {
        let target = format!("{}/add-checkpoint", url.trim_end_matches('/'));
        let mut response = self
            .agent
            .post(&target)
            .content_type("text/plain; charset=utf-8")
            .send(body)
            .map_err(|e| format!("{target}: {e}"))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
            .map_err(|e| format!("{target}: {e}"))?;
        Ok(match status {
            200 => Answer::Cosigned(text),
            409 => match tlog_core::witness::parse_size_body(&text) {
                Some(size) => Answer::Conflict(size),
                None => Answer::Refused {
                    status,
                    message: "a 409 without the witness's size".into(),
                },
            },
            _ => Answer::Refused {
                status,
                message: match serde_json::from_str::<ErrorEnvelope>(&text) {
                    Ok(envelope) => envelope.describe(),
                    Err(_) => text.chars().take(200).collect(),
                },
            },
        })
    }
}
