//! Plan documents travel as base64 of their XML inside JSON bodies (plans.md §4).

use base64::Engine as _;

/// Why a `document` field is not a plan document's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    /// Not standard base64.
    #[error("document: not valid base64 ({0})")]
    NotBase64(String),
    /// The decoded bytes are not UTF-8.
    #[error("document: not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
}

/// The `document` field for a plan's XML.
pub fn encode_document(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// The XML text of a `document` field (surrounding white space ignored).
pub fn decode_document(encoded: &str) -> Result<String, DocumentError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| DocumentError::NotBase64(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| DocumentError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_bad_ones_say_why() {
        let xml = "<Plan uuid=\"é\"/>";
        assert_eq!(decode_document(&encode_document(xml)).as_deref(), Ok(xml));
        assert_eq!(
            decode_document(&format!("  {}\n", encode_document(xml))).as_deref(),
            Ok(xml)
        );
        assert!(matches!(
            decode_document("not base64!"),
            Err(DocumentError::NotBase64(_))
        ));
        let latin1 = base64::engine::general_purpose::STANDARD.encode([b'a', 0xe9, b'b']);
        assert_eq!(
            decode_document(&latin1),
            Err(DocumentError::NotUtf8 { offset: 1 })
        );
        assert_eq!(
            DocumentError::NotUtf8 { offset: 1 }.to_string(),
            "document: not UTF-8 (invalid byte at offset 1)"
        );
    }
}
