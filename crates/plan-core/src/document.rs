//! Reading untrusted XML: size, depth and node limits, no DTDs, positions for diagnostics.

use roxmltree::{Document, ParsingOptions};

use crate::error::Diagnostic;

/// Bounds applied to every document before it is validated.
///
/// The plan schema nests at most 9 elements deep and a realistic plan is well under a
/// megabyte, so the defaults leave ample room while keeping hostile input cheap to refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted document, in bytes. Default 16 MiB.
    pub max_bytes: usize,
    /// Deepest accepted element nesting (the document element is depth 1). Default 32.
    pub max_depth: usize,
    /// Most XML nodes (elements, attributes, text, comments) parsed. Default 1,000,000.
    pub max_nodes: u32,
    /// Most diagnostics reported before validation stops. Default 1,000.
    pub max_diagnostics: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 32,
            max_nodes: 1_000_000,
            max_diagnostics: 1_000,
        }
    }
}

/// A parsed document with a line index, so positions cost a binary search, not a rescan.
#[derive(Debug)]
pub(crate) struct Parsed<'input> {
    pub(crate) doc: Document<'input>,
    line_starts: Vec<usize>,
    text: &'input str,
}

impl<'input> Parsed<'input> {
    /// Parse `text` within `limits`; a document that cannot be read is one diagnostic.
    pub(crate) fn parse(text: &'input str, limits: &Limits) -> Result<Self, Diagnostic> {
        if text.len() > limits.max_bytes {
            return Err(document_problem(
                1,
                1,
                format!(
                    "the document is {} bytes, over the limit of {} bytes",
                    text.len(),
                    limits.max_bytes
                ),
            ));
        }
        // roxmltree refuses DTDs with declarations but accepts `<!DOCTYPE x>`; refuse them all.
        if let Some(offset) = doctype(text) {
            let (line, column) = line_column(text, offset);
            return Err(document_problem(
                line,
                column,
                "DTDs and entity declarations are not accepted".into(),
            ));
        }
        // roxmltree parses elements recursively, so the depth is bounded before it runs.
        if let Some(offset) = too_deep(text, limits.max_depth) {
            let (line, column) = line_column(text, offset);
            let message = format!(
                "elements nest deeper than the limit of {}",
                limits.max_depth
            );
            return Err(document_problem(line, column, message));
        }
        let options = ParsingOptions {
            allow_dtd: false,
            nodes_limit: limits.max_nodes,
        };
        let doc = Document::parse_with_options(text, options).map_err(|e| {
            let pos = e.pos();
            let message = match e {
                roxmltree::Error::DtdDetected => {
                    "DTDs and entity declarations are not accepted".to_string()
                }
                roxmltree::Error::NodesLimitReached => {
                    format!("the document has more than {} XML nodes", limits.max_nodes)
                }
                other => format!("not well-formed XML: {other}"),
            };
            document_problem(pos.row, pos.col, message)
        })?;
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let parsed = Parsed {
            doc,
            line_starts,
            text,
        };
        Ok(parsed)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> (u32, u32) {
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    pub(crate) fn source(&self, range: std::ops::Range<usize>) -> &'input str {
        self.text.get(range).unwrap_or_default()
    }
}

/// The offset of the first start tag nested deeper than `max_depth`, by a linear scan of the
/// markup (comments, CDATA, processing instructions, declarations and quoted attribute values
/// are skipped). Exact for well-formed documents; for others roxmltree reports the real error.
fn too_deep(text: &str, max_depth: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let skip_past = |from: usize, end: &[u8]| {
        bytes
            .get(from..)
            .and_then(|rest| rest.windows(end.len()).position(|w| w == end))
            .map_or(bytes.len(), |p| from + p + end.len())
    };
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(p) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        let start = i + p;
        let rest = bytes.get(start..).unwrap_or_default();
        i = if rest.starts_with(b"<!--") {
            skip_past(start + 4, b"-->")
        } else if rest.starts_with(b"<![CDATA[") {
            skip_past(start + 9, b"]]>")
        } else if rest.starts_with(b"<?") {
            skip_past(start + 2, b"?>")
        } else if rest.starts_with(b"<!") {
            skip_past(start + 2, b">")
        } else if rest.starts_with(b"</") {
            depth = depth.saturating_sub(1);
            skip_past(start + 2, b">")
        } else {
            // A start tag: find its end outside quoted attribute values.
            let mut quote = None;
            let mut j = start + 1;
            let mut self_closing = false;
            while let Some(&b) = bytes.get(j) {
                match (quote, b) {
                    (None, b'"' | b'\'') => quote = Some(b),
                    (Some(q), _) if q == b => quote = None,
                    (None, b'>') => {
                        self_closing = j > 0 && bytes.get(j - 1) == Some(&b'/');
                        break;
                    }
                    _ => {}
                }
                j += 1;
            }
            if !self_closing {
                depth += 1;
                if depth > max_depth {
                    return Some(start);
                }
            }
            j + 1
        };
    }
    None
}

/// The offset of a `<!DOCTYPE` outside comments and CDATA sections (the only places where
/// markup-like text can appear unescaped).
fn doctype(text: &str) -> Option<usize> {
    let mut i = 0;
    loop {
        let at = i + text.get(i..)?.find('<')?;
        let rest = text.get(at..)?;
        i = if rest.starts_with("<!--") {
            rest.find("-->").map_or(text.len(), |end| at + end + 3)
        } else if rest.starts_with("<![CDATA[") {
            rest.find("]]>").map_or(text.len(), |end| at + end + 3)
        } else if rest.starts_with("<!DOCTYPE") {
            return Some(at);
        } else {
            at + 1
        };
    }
}

/// 1-based line and column (in characters) of a byte offset, by counting (for rare errors).
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(column).unwrap_or(u32::MAX),
    )
}

fn document_problem(line: u32, column: u32, message: String) -> Diagnostic {
    Diagnostic {
        line,
        column,
        path: "/".to_string(),
        message,
    }
}

/// A value quoted for a message: at most 40 characters, so errors never echo large input.
pub(crate) fn excerpt(value: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = value
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if value.chars().nth(MAX).is_some() {
        out.push('…');
    }
    format!("'{out}'")
}

/// Put diagnostics in document order and cap them at `limits.max_diagnostics`, saying so.
pub(crate) fn finish(mut diagnostics: Vec<Diagnostic>, limits: &Limits) -> Vec<Diagnostic> {
    diagnostics.sort_by_key(|d| (d.line, d.column));
    if diagnostics.len() > limits.max_diagnostics {
        diagnostics.truncate(limits.max_diagnostics);
        diagnostics.push(Diagnostic {
            line: 1,
            column: 1,
            path: "/".into(),
            message: format!(
                "more than {} problems; stopped reporting",
                limits.max_diagnostics
            ),
        });
    }
    diagnostics
}
