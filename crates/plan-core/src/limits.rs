//! The bounds on untrusted documents, below both the pre-scan and the parse that apply them.

/// Bounds applied to every document before it is validated, checked by a linear pre-scan
/// before any tree is built (so a refusal costs one pass over the bytes, whatever the input).
///
/// The plan schema nests at most 9 elements deep, no plan element has more than 8 attributes
/// and no value of the schema is longer than 255 characters, so the defaults leave ample room
/// for real plans while keeping hostile input cheap to refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes. Default 16 MiB.
    pub max_bytes: usize,
    /// Deepest accepted element nesting (the document element is depth 1). Default 32.
    pub max_depth: usize,
    /// Most XML nodes (elements, attributes, text, comments) parsed. Default 1,000,000.
    pub max_nodes: u32,
    /// Most elements in a document. Default 100,000.
    pub max_elements: usize,
    /// Most attributes (namespace declarations included) on one element. Default 64.
    pub max_attributes_per_element: usize,
    /// Most attributes in a document (namespace declarations included). Default 400,000.
    pub max_attributes: usize,
    /// Most namespace declarations (`xmlns`, `xmlns:p`) in a document. Default 32.
    pub max_namespaces: usize,
    /// Longest attribute value, text run or CDATA section, in bytes as written (before
    /// entities are expanded). Default 16 KiB.
    pub max_value_bytes: usize,
    /// Most diagnostics reported before validation stops. Default 1,000.
    pub max_diagnostics: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_nodes: 1_000_000,
            max_elements: 100_000,
            max_attributes_per_element: 64,
            max_attributes: 400_000,
            max_namespaces: 32,
            max_value_bytes: 16 * 1024,
            max_diagnostics: 1_000,
        }
    }
}
