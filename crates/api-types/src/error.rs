//! The one error envelope of the API (docs/errors.md).

use serde::{Deserialize, Serialize};

/// `{"message_code": 1000 + status, "message_text": "…"}`, with every schema problem when
/// a plan document failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorEnvelope {
    /// 1000 + the HTTP status.
    pub message_code: u32,
    /// What went wrong, safe to show.
    pub message_text: String,
    /// Each problem of a plan document that failed the schema (422 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_errors: Option<Vec<SchemaError>>,
    /// The request's ID (its `X-Request-Id`), to quote to the operator: the server's log
    /// lines about the request carry the same ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorEnvelope {
    /// The envelope of an error `status` with `message`.
    pub fn new(status: u16, message: impl Into<String>) -> ErrorEnvelope {
        ErrorEnvelope {
            message_code: 1000 + u32::from(status),
            message_text: message.into(),
            schema_errors: None,
            request_id: None,
        }
    }

    /// The message with each schema problem on a line of its own
    /// (`  LINE:COL: PATH: message`), as clients show a refusal.
    pub fn describe(&self) -> String {
        let mut text = self.message_text.clone();
        for problem in self.schema_errors.iter().flatten() {
            text.push_str(&format!(
                "\n  {}:{}: {}: {}",
                problem.line, problem.column, problem.path, problem.message
            ));
        }
        text
    }
}

/// One problem of a plan document: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaError {
    /// 1-based column.
    pub column: u32,
    /// 1-based line.
    pub line: u32,
    /// What is wrong.
    pub message: String,
    /// The node, e.g. `/Plan/Primary/@uuid`.
    pub path: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_reads_and_describes_schema_errors() {
        let body = r#"{"message_code":1422,"message_text":"the plan document is not valid (2 problem(s))","schema_errors":[{"column":5,"line":3,"message":"too short","path":"/Plan/Primary/@uuid"},{"column":1,"line":9,"message":"missing Primary","path":"/Plan"}]}"#;
        let envelope: ErrorEnvelope = serde_json::from_str(body).unwrap();
        assert_eq!(serde_json::to_string(&envelope).unwrap(), body);
        assert_eq!(
            envelope.describe(),
            "the plan document is not valid (2 problem(s))\n  3:5: /Plan/Primary/@uuid: too \
             short\n  9:1: /Plan: missing Primary"
        );
        let plain = ErrorEnvelope::new(401, "no");
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"message_code":1401,"message_text":"no"}"#
        );
        assert_eq!(plain.describe(), "no");
    }
}
