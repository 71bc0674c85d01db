//! Items: JSON objects of string or list-of-string fields, their canonical form and v1 hash.
//!
//! Parsing is a small hand-written JSON reader for exactly the item subset. It borrows from the
//! input wherever a string needs no unescaping, so checking an RSF `add-item` line costs one
//! pass, one canonical re-serialisation into a reused buffer and one comparison. Input outside
//! the subset is handed to `serde_json` only to decide between "not JSON at all" and "JSON, but
//! not an item", so error messages say which.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::error::Error;
use crate::hash::ItemHash;

/// A field value: a string, or a list of strings for fields of cardinality `n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A single string.
    String(String),
    /// A list of strings, order kept.
    List(Vec<String>),
}

impl Value {
    /// The values as a slice-like iterator: one for a string, each element for a list.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[String]) = match self {
            Value::String(s) => (Some(s.as_str()), &[]),
            Value::List(list) => (None, list.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

/// An item: a JSON object whose keys are field names and whose values are [`Value`]s.
///
/// Fields are kept sorted, as in the canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Item {
    fields: BTreeMap<String, Value>,
}

impl Item {
    /// Builds an item from fields, checking field names.
    pub fn from_fields(fields: BTreeMap<String, Value>) -> Result<Item, Error> {
        for name in fields.keys() {
            check_field_name(name)?;
        }
        Ok(Item { fields })
    }

    /// Parses any JSON text of an item (whitespace and key order are free).
    pub fn parse(json: &str) -> Result<Item, Error> {
        ItemView::parse(json).map(|view| view.to_item())
    }

    /// Parses JSON that must already be canonical, as RSF `add-item` requires.
    pub fn parse_canonical(json: &str) -> Result<Item, Error> {
        let view = ItemView::parse_canonical(json, &mut String::new())?;
        Ok(view.to_item())
    }

    /// The value of a field.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields.get(field)
    }

    /// Fields in canonical (code point) order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the item has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The canonical JSON of this item.
    pub fn canonical_json(&self) -> String {
        let mut out = String::new();
        write_canonical(
            self.fields.iter().map(|(k, v)| {
                let v = match v {
                    Value::String(s) => ValueView::String(Cow::Borrowed(s.as_str())),
                    Value::List(l) => {
                        ValueView::List(l.iter().map(|s| Cow::Borrowed(s.as_str())).collect())
                    }
                };
                (k.as_str(), v)
            }),
            &mut out,
        );
        out
    }

    /// The v1 item hash: SHA-256 of the canonical JSON.
    pub fn hash(&self) -> ItemHash {
        ItemHash::of_canonical(self.canonical_json().as_bytes())
    }
}

/// Returns the canonical form of any item JSON.
pub fn canonicalise(json: &str) -> Result<String, Error> {
    let view = ItemView::parse(json)?;
    let mut out = String::with_capacity(json.len());
    view.write_canonical(&mut out);
    Ok(out)
}

/// Checks that `json` is a valid item already in canonical form, as RSF `add-item` requires.
///
/// A single allocation-free pass recognises canonical items directly; only input that fails it
/// is parsed in full, to say precisely what is wrong.
pub fn check_canonical(json: &str) -> Result<(), Error> {
    if is_canonical_item(json.as_bytes()) {
        return Ok(());
    }
    ItemView::parse_canonical(json, &mut String::new()).map(|_| ())
}

/// The canonical grammar: `{` fields `}` with field names strictly increasing, values strings or
/// arrays of strings, no whitespace, and only the canonical escapes.
fn is_canonical_item(bytes: &[u8]) -> bool {
    let mut pos = 0usize;
    let at = |pos: usize| bytes.get(pos).copied();
    if at(0) != Some(b'{') {
        return false;
    }
    pos += 1;
    if at(pos) == Some(b'}') {
        return pos + 1 == bytes.len();
    }
    let mut previous: &[u8] = &[];
    loop {
        // Field name: "[a-z][a-z0-9-]*", strictly after the previous one.
        if at(pos) != Some(b'"') {
            return false;
        }
        let start = pos + 1;
        pos = start;
        if !matches!(at(pos), Some(b'a'..=b'z')) {
            return false;
        }
        while matches!(at(pos), Some(b'a'..=b'z' | b'0'..=b'9' | b'-')) {
            pos += 1;
        }
        let Some(name) = bytes.get(start..pos) else {
            return false;
        };
        if at(pos) != Some(b'"') || at(pos + 1) != Some(b':') || name <= previous {
            return false;
        }
        previous = name;
        pos += 2;
        match at(pos) {
            Some(b'"') => match canonical_string_end(bytes, pos) {
                Some(end) => pos = end,
                None => return false,
            },
            Some(b'[') => {
                pos += 1;
                if at(pos) == Some(b']') {
                    pos += 1;
                } else {
                    loop {
                        match canonical_string_end(bytes, pos) {
                            Some(end) => pos = end,
                            None => return false,
                        }
                        match at(pos) {
                            Some(b',') => pos += 1,
                            Some(b']') => {
                                pos += 1;
                                break;
                            }
                            _ => return false,
                        }
                    }
                }
            }
            _ => return false,
        }
        match at(pos) {
            Some(b',') => pos += 1,
            Some(b'}') => return pos + 1 == bytes.len(),
            _ => return false,
        }
    }
}

/// Given `bytes[pos] == '"'`, the position after the closing quote of a canonically escaped
/// string.
fn canonical_string_end(bytes: &[u8], mut pos: usize) -> Option<usize> {
    if bytes.get(pos) != Some(&b'"') {
        return None;
    }
    pos += 1;
    loop {
        match *bytes.get(pos)? {
            b'"' => return Some(pos + 1),
            0x00..=0x1f => return None,
            b'\\' => {
                match *bytes.get(pos + 1)? {
                    b'"' | b'\\' | b'b' | b't' | b'n' | b'f' | b'r' => pos += 2,
                    b'u' => {
                        // Only \u00XX, uppercase, for control characters without a short form.
                        let hex = bytes.get(pos + 2..pos + 6)?;
                        let code = match hex {
                            [b'0', b'0', hi @ (b'0' | b'1'), lo] => {
                                let lo = match lo {
                                    b'0'..=b'9' => lo - b'0',
                                    b'A'..=b'F' => lo - b'A' + 10,
                                    _ => return None,
                                };
                                (hi - b'0') * 16 + lo
                            }
                            _ => return None,
                        };
                        if matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                            return None;
                        }
                        pos += 6;
                    }
                    _ => return None,
                }
            }
            _ => pos += 1,
        }
    }
}

/// A value borrowed from the JSON text where no unescaping was needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueView<'a> {
    /// A single string.
    String(Cow<'a, str>),
    /// A list of strings.
    List(Vec<Cow<'a, str>>),
}

impl ValueView<'_> {
    /// Each string of the value: one for a string, every element for a list.
    pub fn strings(&self) -> impl Iterator<Item = &str> {
        let (one, many): (Option<&str>, &[Cow<'_, str>]) = match self {
            ValueView::String(s) => (Some(s.as_ref()), &[]),
            ValueView::List(list) => (None, list.as_slice()),
        };
        one.into_iter().chain(many.iter().map(|s| s.as_ref()))
    }
}

/// A parsed item borrowing from its JSON text; fields sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemView<'a> {
    fields: Vec<(Cow<'a, str>, ValueView<'a>)>,
}

impl<'a> ItemView<'a> {
    /// Parses any JSON text of an item.
    pub fn parse(json: &'a str) -> Result<ItemView<'a>, Error> {
        let mut parser = Parser {
            text: json,
            bytes: json.as_bytes(),
            pos: 0,
        };
        match parser.item() {
            Ok(mut fields) => {
                fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                if let Some(w) = fields.windows(2).find(|w| w[0].0 == w[1].0) {
                    return Err(Error::DuplicateField(w[0].0.to_string()));
                }
                for (name, _) in &fields {
                    check_field_name(name)?;
                }
                Ok(ItemView { fields })
            }
            Err(Problem::Syntax) => Err(Error::InvalidJson),
            Err(Problem::Shape(err)) => {
                // Only valid JSON of the wrong shape deserves the precise message.
                if serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok() {
                    Err(err)
                } else {
                    Err(Error::InvalidJson)
                }
            }
        }
    }

    /// Parses JSON that must be byte-identical to its canonical form. `scratch` is a reusable
    /// buffer for the comparison (see [`check_canonical`] for a faster check alone).
    pub fn parse_canonical(json: &'a str, scratch: &mut String) -> Result<ItemView<'a>, Error> {
        let view = ItemView::parse(json)?;
        scratch.clear();
        view.write_canonical(scratch);
        if scratch.as_str() != json {
            return Err(Error::NonCanonicalJson);
        }
        Ok(view)
    }

    /// The value of a field.
    pub fn get(&self, field: &str) -> Option<&ValueView<'a>> {
        self.fields
            .binary_search_by(|(name, _)| name.as_bytes().cmp(field.as_bytes()))
            .ok()
            .and_then(|i| self.fields.get(i))
            .map(|(_, v)| v)
    }

    /// Fields in canonical order.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &ValueView<'a>)> {
        self.fields.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Appends the canonical JSON to `out`.
    pub fn write_canonical(&self, out: &mut String) {
        write_canonical(
            self.fields.iter().map(|(k, v)| (k.as_ref(), v.clone())),
            out,
        );
    }

    /// An owned copy.
    pub fn to_item(&self) -> Item {
        let fields = self
            .fields
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    ValueView::String(s) => Value::String(s.to_string()),
                    ValueView::List(l) => Value::List(l.iter().map(|s| s.to_string()).collect()),
                };
                (k.to_string(), v)
            })
            .collect();
        Item { fields }
    }
}

fn check_field_name(name: &str) -> Result<(), Error> {
    let mut bytes = name.bytes();
    let first_ok = matches!(bytes.next(), Some(b'a'..=b'z'));
    if first_ok && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-')) {
        Ok(())
    } else {
        Err(Error::InvalidFieldName(name.to_string()))
    }
}

fn write_canonical<'v, I>(fields: I, out: &mut String)
where
    I: Iterator<Item = (&'v str, ValueView<'v>)>,
{
    out.push('{');
    for (i, (name, value)) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_string(name, out);
        out.push(':');
        match value {
            ValueView::String(s) => write_json_string(&s, out),
            ValueView::List(list) => {
                out.push('[');
                for (j, s) in list.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_json_string(s, out);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
}

/// Writes `s` as a JSON string with the canonical escapes of registers.md §1: only `"`, `\` and
/// control characters are escaped; `\b \t \n \f \r` by name, others as `\u00XX` (uppercase).
pub fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            0x08 => Some("\\b"),
            b'\t' => Some("\\t"),
            b'\n' => Some("\\n"),
            0x0c => Some("\\f"),
            b'\r' => Some("\\r"),
            0x00..=0x1f => Some(""),
            _ => None,
        };
        if let Some(escape) = escape {
            out.push_str(&s[start..i]);
            if escape.is_empty() {
                let _ = write!(out, "\\u{:04X}", b);
            } else {
                out.push_str(escape);
            }
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

enum Problem {
    /// Not JSON (or not JSON this reader understands): decided as invalid JSON.
    Syntax,
    /// Possibly valid JSON of the wrong shape; confirmed with serde_json before reporting.
    Shape(Error),
}

type Fields<'a> = Vec<(Cow<'a, str>, ValueView<'a>)>;

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn item(&mut self) -> Result<Fields<'a>, Problem> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(Problem::Shape(Error::NotAnObject));
        }
        self.pos += 1;
        let mut fields = Vec::with_capacity(8);
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_ws();
                let name = self.string()?;
                self.skip_ws();
                self.expect(b':')?;
                self.skip_ws();
                let value = self.value(&name)?;
                fields.push((name, value));
                self.skip_ws();
                match self.next() {
                    Some(b',') => continue,
                    Some(b'}') => break,
                    _ => return Err(Problem::Syntax),
                }
            }
        }
        self.skip_ws();
        if self.pos != self.bytes.len() {
            return Err(Problem::Syntax);
        }
        Ok(fields)
    }

    fn value(&mut self, field: &str) -> Result<ValueView<'a>, Problem> {
        let wrong = || Problem::Shape(Error::InvalidFieldValue(field.to_string()));
        match self.peek() {
            Some(b'"') => Ok(ValueView::String(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut list = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(ValueView::List(list));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(wrong());
                    }
                    list.push(self.string()?);
                    self.skip_ws();
                    match self.next() {
                        Some(b',') => continue,
                        Some(b']') => return Ok(ValueView::List(list)),
                        _ => return Err(Problem::Syntax),
                    }
                }
            }
            Some(_) => Err(wrong()),
            None => Err(Problem::Syntax),
        }
    }

    fn string(&mut self) -> Result<Cow<'a, str>, Problem> {
        self.expect(b'"')?;
        let start = self.pos;
        // Fast path: no escapes, borrow.
        loop {
            match self.peek() {
                None => return Err(Problem::Syntax),
                Some(b'"') => {
                    let s = self.text.get(start..self.pos).ok_or(Problem::Syntax)?;
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0x00..=0x1f) => return Err(Problem::Syntax),
                Some(_) => self.pos += 1,
            }
        }
        let mut owned = String::from(self.text.get(start..self.pos).ok_or(Problem::Syntax)?);
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            owned.push_str(self.text.get(run_start..self.pos).ok_or(Problem::Syntax)?);
            match self.next() {
                Some(b'"') => return Ok(Cow::Owned(owned)),
                Some(b'\\') => {
                    let c = match self.next() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(Problem::Syntax),
                    };
                    owned.push(c);
                }
                _ => return Err(Problem::Syntax),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, Problem> {
        let high = self.hex4()?;
        if (0xD800..0xDC00).contains(&high) {
            if self.next() != Some(b'\\') || self.next() != Some(b'u') {
                return Err(Problem::Syntax);
            }
            let low = self.hex4()?;
            if !(0xDC00..0xE000).contains(&low) {
                return Err(Problem::Syntax);
            }
            let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
            char::from_u32(code).ok_or(Problem::Syntax)
        } else {
            char::from_u32(high).ok_or(Problem::Syntax)
        }
    }

    fn hex4(&mut self) -> Result<u32, Problem> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or(Problem::Syntax)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Problem::Syntax);
        }
        self.pos += 4;
        u32::from_str_radix(digits, 16).map_err(|_| Problem::Syntax)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), Problem> {
        if self.next() == Some(b) {
            Ok(())
        } else {
            Err(Problem::Syntax)
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_hash(canonical: &str, expected: &str) {
        let item = Item::parse_canonical(canonical).expect("canonical item");
        assert_eq!(item.hash().to_string(), expected);
        assert_eq!(item.canonical_json(), canonical);
    }

    #[test]
    fn vector_item_hashes() {
        check_hash(
            r#"{"bar":"xyz","foo":"abc"}"#,
            "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61",
        );
        check_hash(
            r#"{"citizen-names":"Soviet citizen","country":"SU","end-date":"1991-12-25","name":"USSR","official-name":"Union of Soviet Socialist Republics"}"#,
            "sha-256:e94c4a9ab00d951dadde848ee2c9fe51628b22ff2e0a88bff4cca6e4e6086d7a",
        );
        check_hash(
            r#"{"citizen-names":"Briton;British citizen","country":"GB","name":"United Kingdom","official-name":"The United Kingdom of Great Britain and Northern Ireland"}"#,
            "sha-256:6b18693874513ba13da54d61aafa7cad0c8f5573f3431d6f1c04b07ddb27d6bb",
        );
    }

    fn check_canonicalise(input: &str, expected: &str) {
        assert_eq!(canonicalise(input).as_deref(), Ok(expected), "{input}");
    }

    #[test]
    fn canonicalisation() {
        check_canonicalise(
            r#"{"foo":"abc","bar":"xyz"}"#,
            r#"{"bar":"xyz","foo":"abc"}"#,
        );
        check_canonicalise(
            r#"{ "bar" : "xyz", "foo": "abc" }"#,
            r#"{"bar":"xyz","foo":"abc"}"#,
        );
        check_canonicalise("{\"a\":\"x\\u000by\"}", "{\"a\":\"x\\u000By\"}");
        check_canonicalise(
            r#"{"a":"\/\u00e9\u0008\u0009\u000a\u000c\u000d"}"#,
            "{\"a\":\"/é\\b\\t\\n\\f\\r\"}",
        );
        check_canonicalise(
            r#"{"a":"\ud83d\ude00 \"q\" \\"}"#,
            "{\"a\":\"😀 \\\"q\\\" \\\\\"}",
        );
        check_canonicalise(r#"{"b":["z","a"],"a":[]}"#, r#"{"a":[],"b":["z","a"]}"#);
        check_canonicalise("{}", "{}");
        // Code point order, not UTF-16 order.
        check_canonicalise(
            r#"{"b":"1","a-b":"2","a":"3"}"#,
            r#"{"a":"3","a-b":"2","b":"1"}"#,
        );
    }

    fn check_error(input: &str, expected: Error) {
        assert_eq!(Item::parse(input), Err(expected), "{input}");
    }

    #[test]
    fn invalid_items() {
        check_error("", Error::InvalidJson);
        check_error("{", Error::InvalidJson);
        check_error(r#"{"a":"b",}"#, Error::InvalidJson);
        check_error(r#"{"a":"b"} x"#, Error::InvalidJson);
        check_error(r#"{"a":"\x"}"#, Error::InvalidJson);
        check_error("{\"a\":\"\u{1}\"}", Error::InvalidJson);
        check_error(r#"{"a":"\ud800"}"#, Error::InvalidJson);
        check_error(r#"{"a":1 2}"#, Error::InvalidJson);
        check_error("[]", Error::NotAnObject);
        check_error(r#""a""#, Error::NotAnObject);
        check_error(r#"{"a":1}"#, Error::InvalidFieldValue("a".into()));
        check_error(r#"{"a":null}"#, Error::InvalidFieldValue("a".into()));
        check_error(r#"{"a":{"b":"c"}}"#, Error::InvalidFieldValue("a".into()));
        check_error(r#"{"a":["b",1]}"#, Error::InvalidFieldValue("a".into()));
        check_error(r#"{"a":[["b"]]}"#, Error::InvalidFieldValue("a".into()));
        check_error(r#"{"A":"b"}"#, Error::InvalidFieldName("A".into()));
        check_error(r#"{"1a":"b"}"#, Error::InvalidFieldName("1a".into()));
        check_error(r#"{"":"b"}"#, Error::InvalidFieldName("".into()));
        check_error(r#"{"a":"b","a":"c"}"#, Error::DuplicateField("a".into()));
    }

    #[test]
    fn strict_parsing_rejects_non_canonical_input() {
        for input in [
            r#"{"foo":"abc","bar":"xyz"}"#,
            r#"{ "bar":"xyz","foo":"abc"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\/"}"#,
            "{\"a\":\"\\u000b\"}",
            "{\"a\":\"b\"}\n",
        ] {
            assert_eq!(
                Item::parse_canonical(input),
                Err(Error::NonCanonicalJson),
                "{input}"
            );
        }
        assert!(Item::parse_canonical("{\"a\":\"\\u000B\"}").is_ok());
    }

    #[test]
    fn fast_canonical_check_agrees_with_the_full_parser() {
        for input in [
            r#"{"bar":"xyz","foo":"abc"}"#,
            r#"{"foo":"abc","bar":"xyz"}"#,
            r#"{"a":"b","a":"c"}"#,
            r#"{"a":[]}"#,
            r#"{"a":["x","y"],"b":"\"\\\b\t\n\f\r"}"#,
            "{\"a\":\"\\u000B\\u001F\\u0000\"}",
            "{\"a\":\"\\u000b\"}",
            "{\"a\":\"\\u0008\"}",
            "{\"a\":\"\\u0041\"}",
            r#"{"a":"\/"}"#,
            r#"{"a":"é😀"}"#,
            r#"{}"#,
            r#"{} "#,
            r#"{"a":1}"#,
            r#"{"a":["x",]}"#,
            r#"{"a":"x",}"#,
            r#"{"A":"x"}"#,
            r#"{"a-":"x","a":"y"}"#,
            r#"{"a":"x","a-":"y"}"#,
            "",
            "{",
            r#"{"a":"x"#,
        ] {
            let full = ItemView::parse_canonical(input, &mut String::new()).map(|_| ());
            assert_eq!(is_canonical_item(input.as_bytes()), full.is_ok(), "{input}");
            assert_eq!(super::check_canonical(input), full, "{input}");
        }
    }
}
