//! This crate's test support: `server_actix::testing`, and reading JSON objects in order.
#![allow(dead_code)]

pub use server_actix::testing::*;

use actix_web::test::TestRequest;
use base64::Engine as _;

pub const JSON: &str = "application/json";
pub const CSV: &str = "text/csv;charset=UTF-8";
pub const RSF: &str = "application/uk-gov-rsf";

/// The keys of a JSON object in document order (the order records are served in).
pub fn object_keys(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Keys;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
            let mut keys = Vec::new();
            while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                keys.push(key);
            }
            Ok(Keys(keys))
        }
    }
    impl<'de> serde::Deserialize<'de> for Keys {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            d.deserialize_map(Visitor)
        }
    }
    serde_json::from_str::<Keys>(text)
        .unwrap_or_else(|e| panic!("not a JSON object ({e}): {text}"))
        .0
}

/// Asserts a 200 JSON response with exactly this body text.
pub fn assert_json_text(reply: &Reply, expected: &str, context: &str) {
    assert_eq!(reply.status, 200, "{context}: {}", reply.text());
    assert_eq!(reply.header("content-type"), JSON, "{context}");
    assert_eq!(reply.text(), expected, "{context}");
}

/// Asserts a 200 CSV response with exactly these rows (CRLF after each).
pub fn assert_csv(reply: &Reply, rows: &[&str], context: &str) {
    assert_eq!(reply.status, 200, "{context}: {}", reply.text());
    assert_eq!(reply.header("content-type"), CSV, "{context}");
    let expected: String = rows.iter().map(|row| format!("{row}\r\n")).collect();
    assert_eq!(reply.text(), expected, "{context}");
}

pub fn basic(user: &str, password: &str) -> (String, String) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    ("authorization".to_string(), format!("Basic {encoded}"))
}

pub fn post_rsf(uri: &str, body: Vec<u8>, credentials: Option<(String, String)>) -> TestRequest {
    let request = TestRequest::post()
        .uri(uri)
        .insert_header(("content-type", RSF))
        .set_payload(body);
    match credentials {
        Some(header) => request.insert_header(header),
        None => request,
    }
}
