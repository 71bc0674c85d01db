//! XML names and white space as XML Schema sees them.

use roxmltree::Node;

/// The XML Schema namespace.
pub(crate) const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// Whether `node` is the XML Schema element `name`.
pub(crate) fn is_xs(node: Node<'_, '_>, name: &str) -> bool {
    node.tag_name().namespace() == Some(XS) && node.tag_name().name() == name
}

/// XML whitespace: space, tab, CR, LF (not Unicode whitespace).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A conservative NCName check (ASCII letters, digits, `_`, `-`, `.`; not starting with a
/// digit, `-` or `.`), enough for the element and attribute names identity constraints name.
pub(crate) fn is_ncname(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
