//! A linear pre-scan of untrusted markup that enforces [`Limits`] before roxmltree builds a
//! tree.
//!
//! roxmltree is linear in most things but not all: it checks each new attribute against the
//! element's earlier ones (quadratic in attributes per element: 100,000 attributes on one
//! element took seconds) and copies the namespaces in scope into every element that declares
//! one. It also recurses per nesting level. So the counts it cannot afford are refused here
//! first, in one pass over the bytes, each at the position where the limit was crossed.
//!
//! The scan is exact for well-formed documents. On malformed ones it only ever moves forward
//! and may miscount; it never refuses more than the limits say, and roxmltree then reports
//! the real error.

use crate::limits::Limits;

/// A limit crossed: where (byte offset) and which limit, with its value.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

/// What the scan has counted so far.
struct Scan<'a> {
    bytes: &'a [u8],
    limits: &'a Limits,
    depth: usize,
    elements: usize,
    attributes: usize,
    namespaces: usize,
}

/// The refusal of the first limit `text` crosses, if any.
pub(crate) fn scan(text: &str, limits: &Limits) -> Result<(), Refusal> {
    Scan {
        bytes: text.as_bytes(),
        limits,
        depth: 0,
        elements: 0,
        attributes: 0,
        namespaces: 0,
    }
    .run()
}

fn refuse(offset: usize, message: String) -> Result<(), Refusal> {
    Err(Refusal { offset, message })
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl Scan<'_> {
    fn run(&mut self) -> Result<(), Refusal> {
        let mut i = 0;
        loop {
            let Some(lt) = self.find(i, b"<") else {
                return self.text(i, self.bytes.len());
            };
            self.text(i, lt)?;
            let rest = self.bytes.get(lt..).unwrap_or_default();
            i = if rest.starts_with(b"<!--") {
                self.skip_past(lt + 4, b"-->")
            } else if rest.starts_with(b"<![CDATA[") {
                let end = self.find(lt + 9, b"]]>").unwrap_or(self.bytes.len());
                self.text(lt + 9, end)?;
                end + 3
            } else if rest.starts_with(b"<?") {
                self.skip_past(lt + 2, b"?>")
            } else if rest.starts_with(b"<!DOCTYPE") {
                // roxmltree refuses DTDs with declarations but accepts `<!DOCTYPE x>`.
                return refuse(lt, "DTDs and entity declarations are not accepted".into());
            } else if rest.starts_with(b"<!") {
                self.skip_past(lt + 2, b">")
            } else if rest.starts_with(b"</") {
                self.depth = self.depth.saturating_sub(1);
                self.skip_past(lt + 2, b">")
            } else {
                self.start_tag(lt)?
            };
        }
    }

    /// The first occurrence of `needle` at or after `from`.
    fn find(&self, from: usize, needle: &[u8]) -> Option<usize> {
        let rest = self.bytes.get(from..)?;
        match needle {
            [b] => rest.iter().position(|c| c == b),
            _ => rest.windows(needle.len()).position(|w| w == needle),
        }
        .map(|p| from + p)
    }

    fn skip_past(&self, from: usize, end: &[u8]) -> usize {
        self.find(from, end)
            .map_or(self.bytes.len(), |at| at + end.len())
    }

    /// Character data (text or CDATA) in `start..end`.
    fn text(&self, start: usize, end: usize) -> Result<(), Refusal> {
        let max = self.limits.max_value_bytes;
        if end.saturating_sub(start) > max {
            return refuse(
                start,
                format!(
                    "a text of {} bytes, over the limit of {max} bytes per text",
                    end - start
                ),
            );
        }
        Ok(())
    }

    /// The start tag at `lt`: counts it and its attributes; the offset just after it.
    fn start_tag(&mut self, lt: usize) -> Result<usize, Refusal> {
        let limits = self.limits;
        self.elements += 1;
        if self.elements > limits.max_elements {
            return Err(Refusal {
                offset: lt,
                message: format!(
                    "more than {} elements, the limit of elements per document",
                    limits.max_elements
                ),
            });
        }
        let bytes = self.bytes;
        let at = |j: usize| bytes.get(j).copied();
        let mut j = lt + 1;
        while at(j).is_some_and(|b| !is_space(b) && !matches!(b, b'>' | b'/' | b'<')) {
            j += 1;
        }
        let mut on_element = 0usize;
        let self_closing = loop {
            while at(j).is_some_and(is_space) {
                j += 1;
            }
            match at(j) {
                // Unterminated or a stray `<`: roxmltree reports it.
                None | Some(b'<') => break true,
                Some(b'>') => {
                    j += 1;
                    break false;
                }
                Some(b'/') if at(j + 1) == Some(b'>') => {
                    j += 2;
                    break true;
                }
                Some(_) => {}
            }
            let name_start = j;
            while at(j).is_some_and(|b| {
                !is_space(b) && !matches!(b, b'=' | b'>' | b'/' | b'<' | b'"' | b'\'')
            }) {
                j += 1;
            }
            let name = bytes.get(name_start..j).unwrap_or_default();
            while at(j).is_some_and(is_space) {
                j += 1;
            }
            if at(j) != Some(b'=') {
                // Malformed; move on by at least one byte so the scan stays linear.
                j = j.max(name_start + 1);
                continue;
            }
            j += 1;
            while at(j).is_some_and(is_space) {
                j += 1;
            }
            let Some(quote @ (b'"' | b'\'')) = at(j) else {
                continue;
            };
            let value_start = j + 1;
            let value_end = self.find(value_start, &[quote]).unwrap_or(bytes.len());
            j = value_end + 1;
            on_element += 1;
            self.attributes += 1;
            if on_element > limits.max_attributes_per_element {
                return Err(Refusal {
                    offset: name_start,
                    message: format!(
                        "more than {} attributes on one element, the limit of attributes per \
                         element",
                        limits.max_attributes_per_element
                    ),
                });
            }
            if self.attributes > limits.max_attributes {
                return Err(Refusal {
                    offset: name_start,
                    message: format!(
                        "more than {} attributes, the limit of attributes per document",
                        limits.max_attributes
                    ),
                });
            }
            if name == b"xmlns" || name.starts_with(b"xmlns:") {
                self.namespaces += 1;
                if self.namespaces > limits.max_namespaces {
                    return Err(Refusal {
                        offset: name_start,
                        message: format!(
                            "more than {} namespace declarations, the limit per document",
                            limits.max_namespaces
                        ),
                    });
                }
            }
            let length = value_end - value_start;
            if length > limits.max_value_bytes {
                return Err(Refusal {
                    offset: value_start,
                    message: format!(
                        "an attribute value of {length} bytes, over the limit of {} bytes per \
                         value",
                        limits.max_value_bytes
                    ),
                });
            }
        };
        if !self_closing {
            self.depth += 1;
            if self.depth > limits.max_depth {
                return Err(Refusal {
                    offset: lt,
                    message: format!(
                        "elements nest deeper than the limit of {}",
                        limits.max_depth
                    ),
                });
            }
        }
        Ok(j)
    }
}
