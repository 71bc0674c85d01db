//! XSD regular expressions (XML Schema Part 2, appendix F) translated to the `regex` crate.
//!
//! The translation is a small recursive-descent parser over the XSD syntax that writes an
//! equivalent `regex` pattern. Where the two dialects differ it spells out XSD's meaning:
//! XSD has no anchors (`^` and `$` are ordinary characters) and a pattern matches the whole
//! value; `.` excludes only `\n` and `\r`; `\s` is exactly space, tab, CR and LF; `\w` is
//! "not punctuation, separator or other"; `\d` is Unicode `Nd`. Character-class subtraction
//! (`[a-z-[aeiou]]`) maps to the `regex` crate's `--` operator. The multi-character escapes
//! `\i`, `\c` (XML name characters) and `\p{IsBlock}` are rejected as unsupported.

use std::fmt::Write as _;

/// Why an XSD pattern could not be translated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegexProblem {
    /// Not a valid XSD regular expression.
    Syntax(String),
    /// Valid XSD, but outside what this translator supports.
    Unsupported(String),
}

/// Translate an XSD pattern into an anchored `regex` pattern.
pub(crate) fn translate(xsd: &str) -> Result<String, RegexProblem> {
    let mut parser = Parser {
        chars: xsd.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let mut out = String::from(r"\A(?:");
    parser.reg_exp(&mut out)?;
    if let Some(c) = parser.peek() {
        return Err(RegexProblem::Syntax(format!(
            "unexpected '{c}' at offset {}",
            parser.pos
        )));
    }
    out.push_str(r")\z");
    Ok(out)
}

/// Nesting bound for groups and class subtractions, so a hostile schema cannot overflow the stack.
const MAX_NESTING: usize = 64;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

/// One atom of a character class: what to write inside `[...]` for it.
enum ClassItem {
    Char(char),
    /// Already-translated class text that is valid inside `[...]` (e.g. `\p{Lu}`, `[^...]`).
    Set(String),
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn syntax<T>(&self, what: &str) -> Result<T, RegexProblem> {
        Err(RegexProblem::Syntax(format!(
            "{what} at offset {}",
            self.pos
        )))
    }

    fn enter(&mut self) -> Result<(), RegexProblem> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(RegexProblem::Unsupported(format!(
                "pattern nests deeper than {MAX_NESTING} levels"
            )));
        }
        Ok(())
    }

    // regExp ::= branch ( '|' branch )*
    fn reg_exp(&mut self, out: &mut String) -> Result<(), RegexProblem> {
        self.branch(out)?;
        while self.peek() == Some('|') {
            self.pos += 1;
            out.push('|');
            self.branch(out)?;
        }
        Ok(())
    }

    // branch ::= piece*
    fn branch(&mut self, out: &mut String) -> Result<(), RegexProblem> {
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            self.piece(out)?;
        }
        Ok(())
    }

    // piece ::= atom quantifier?
    fn piece(&mut self, out: &mut String) -> Result<(), RegexProblem> {
        self.atom(out)?;
        match self.peek() {
            Some(q @ ('?' | '*' | '+')) => {
                self.pos += 1;
                out.push(q);
            }
            Some('{') => {
                self.pos += 1;
                let min = self.number()?;
                let mut text = format!("{{{min}");
                if self.peek() == Some(',') {
                    self.pos += 1;
                    text.push(',');
                    if self.peek() != Some('}') {
                        let max = self.number()?;
                        if max < min {
                            return self.syntax("quantifier maximum below minimum");
                        }
                        let _ = write!(text, "{max}");
                    }
                }
                if self.next() != Some('}') {
                    return self.syntax("unterminated quantifier");
                }
                text.push('}');
                out.push_str(&text);
            }
            _ => {}
        }
        Ok(())
    }

    fn number(&mut self) -> Result<u32, RegexProblem> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let digits: String = self
            .chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect();
        match digits.parse::<u32>() {
            Ok(n) => Ok(n),
            Err(_) if digits.is_empty() => self.syntax("expected a number in quantifier"),
            Err(_) => Err(RegexProblem::Unsupported(format!(
                "quantifier {digits} is too large"
            ))),
        }
    }

    // atom ::= Char | charClass | '(' regExp ')'
    fn atom(&mut self, out: &mut String) -> Result<(), RegexProblem> {
        let Some(c) = self.next() else {
            return self.syntax("expected an atom");
        };
        match c {
            '(' => {
                self.enter()?;
                out.push_str("(?:");
                self.reg_exp(out)?;
                if self.next() != Some(')') {
                    return self.syntax("unterminated group");
                }
                out.push(')');
                self.depth -= 1;
            }
            '[' => {
                let class = self.class_body()?;
                out.push_str(&class);
            }
            '.' => out.push_str(r"[^\n\r]"),
            '\\' => match self.escape()? {
                ClassItem::Char(ch) => push_literal(out, ch),
                ClassItem::Set(set) => {
                    out.push('[');
                    out.push_str(&set);
                    out.push(']');
                }
            },
            '?' | '*' | '+' | '{' | '}' | ')' | ']' => {
                return Err(RegexProblem::Syntax(format!(
                    "unexpected '{c}' at offset {}",
                    self.pos - 1
                )))
            }
            other => push_literal(out, other),
        }
        Ok(())
    }

    /// After `\`: a single-character escape, a multi-character escape or a category escape.
    fn escape(&mut self) -> Result<ClassItem, RegexProblem> {
        let Some(c) = self.next() else {
            return self.syntax("dangling backslash");
        };
        let item = match c {
            'n' => ClassItem::Char('\n'),
            'r' => ClassItem::Char('\r'),
            't' => ClassItem::Char('\t'),
            '\\' | '|' | '.' | '?' | '*' | '+' | '(' | ')' | '{' | '}' | '-' | '[' | ']' | '^' => {
                ClassItem::Char(c)
            }
            's' => ClassItem::Set(r"\x20\t\n\r".into()),
            'S' => ClassItem::Set(r"[^\x20\t\n\r]".into()),
            'd' => ClassItem::Set(r"\p{Nd}".into()),
            'D' => ClassItem::Set(r"\P{Nd}".into()),
            // XSD: [#x0000-#x10FFFF]-[\p{P}\p{Z}\p{C}]
            'w' => ClassItem::Set(r"[^\p{P}\p{Z}\p{C}]".into()),
            'W' => ClassItem::Set(r"\p{P}\p{Z}\p{C}".into()),
            'i' | 'I' | 'c' | 'C' => {
                return Err(RegexProblem::Unsupported(format!(
                    "the XML name escape \\{c} is not supported"
                )))
            }
            'p' | 'P' => {
                if self.next() != Some('{') {
                    return self.syntax("expected '{' after \\p");
                }
                let start = self.pos;
                while self.peek().is_some_and(|ch| ch != '}') {
                    self.pos += 1;
                }
                let name: String = self
                    .chars
                    .get(start..self.pos)
                    .unwrap_or_default()
                    .iter()
                    .collect();
                if self.next() != Some('}') {
                    return self.syntax("unterminated \\p{...}");
                }
                if !is_general_category(&name) {
                    return Err(RegexProblem::Unsupported(format!(
                        "the category escape \\{c}{{{name}}} is not supported (only general categories)"
                    )));
                }
                ClassItem::Set(format!(r"\{c}{{{name}}}"))
            }
            other => {
                return Err(RegexProblem::Syntax(format!(
                    "unknown escape \\{other} at offset {}",
                    self.pos - 1
                )))
            }
        };
        Ok(item)
    }

    /// After `[`: a positive or negative group, optionally minus a subtracted class, up to `]`.
    /// Returns a complete `regex` class, `[...]`.
    fn class_body(&mut self) -> Result<String, RegexProblem> {
        self.enter()?;
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut items = String::new();
        let mut count = 0usize;
        let mut subtraction = None;
        loop {
            let Some(c) = self.peek() else {
                return self.syntax("unterminated character class");
            };
            match c {
                ']' if count > 0 => {
                    self.pos += 1;
                    break;
                }
                '-' if self.peek_at(1) == Some('[') && count > 0 => {
                    self.pos += 2;
                    subtraction = Some(self.class_body()?);
                    if self.next() != Some(']') {
                        return self.syntax("a class subtraction must end its class");
                    }
                    break;
                }
                '-' if count > 0 && self.peek_at(1) != Some(']') => {
                    return self.syntax("'-' must be escaped inside a class except at its ends");
                }
                _ => {}
            }
            let first = self.class_atom(count == 0)?;
            // A range `a-z` (but `-` directly before `]` or `[` is literal or subtraction).
            if self.peek() == Some('-')
                && !matches!(self.peek_at(1), Some(']') | Some('['))
                && self.peek_at(1).is_some()
            {
                let ClassItem::Char(low) = first else {
                    return self.syntax("a range cannot start with a multi-character escape");
                };
                self.pos += 1;
                let ClassItem::Char(high) = self.class_atom(false)? else {
                    return self.syntax("a range cannot end with a multi-character escape");
                };
                if high < low {
                    return self.syntax("character range out of order");
                }
                push_literal(&mut items, low);
                items.push('-');
                push_literal(&mut items, high);
            } else {
                match first {
                    ClassItem::Char(ch) => push_literal(&mut items, ch),
                    ClassItem::Set(set) => items.push_str(&set),
                }
            }
            count += 1;
        }
        self.depth -= 1;
        let base = if negated {
            format!("[^{items}]")
        } else {
            format!("[{items}]")
        };
        Ok(match subtraction {
            // The negation binds to the base group only, hence the explicit nesting.
            Some(sub) => format!("[{base}--{sub}]"),
            None => base,
        })
    }

    /// One character or escape inside a class.
    fn class_atom(&mut self, first: bool) -> Result<ClassItem, RegexProblem> {
        let Some(c) = self.next() else {
            return self.syntax("unterminated character class");
        };
        match c {
            '\\' => self.escape(),
            '[' => self.syntax("'[' must be escaped inside a class"),
            '-' if !first && self.peek() != Some(']') => {
                self.syntax("'-' must be escaped inside a class except at its ends")
            }
            other => Ok(ClassItem::Char(other)),
        }
    }
}

/// Write one literal character so it means itself both inside and outside a `regex` class.
fn push_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() || c == ' ' || c == '_' {
        out.push(c);
    } else {
        let _ = write!(out, r"\x{{{:x}}}", u32::from(c));
    }
}

/// The general categories of XSD's `\p{..}` (the same names the `regex` crate accepts).
fn is_general_category(name: &str) -> bool {
    matches!(
        name,
        "L" | "Lu"
            | "Ll"
            | "Lt"
            | "Lm"
            | "Lo"
            | "M"
            | "Mn"
            | "Mc"
            | "Me"
            | "N"
            | "Nd"
            | "Nl"
            | "No"
            | "P"
            | "Pc"
            | "Pd"
            | "Ps"
            | "Pe"
            | "Pi"
            | "Pf"
            | "Po"
            | "Z"
            | "Zs"
            | "Zl"
            | "Zp"
            | "S"
            | "Sm"
            | "Sc"
            | "Sk"
            | "So"
            | "C"
            | "Cc"
            | "Cf"
            | "Co"
            | "Cn"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// `check(pattern, matches, rejects)`: the translation compiles and decides each value.
    fn check(pattern: &str, matches: &[&str], rejects: &[&str]) {
        let translated = translate(pattern).unwrap_or_else(|e| panic!("{pattern}: {e:?}"));
        let re =
            Regex::new(&translated).unwrap_or_else(|e| panic!("{pattern} -> {translated}: {e}"));
        for m in matches {
            assert!(
                re.is_match(m),
                "{pattern} ({translated}) should match {m:?}"
            );
        }
        for r in rejects {
            assert!(
                !re.is_match(r),
                "{pattern} ({translated}) should reject {r:?}"
            );
        }
    }

    #[test]
    fn anchored_to_the_whole_value() {
        check("abc", &["abc"], &["xabc", "abcx", "ab", ""]);
        check("a|bc", &["a", "bc"], &["abc", "ac"]);
    }

    #[test]
    fn caret_and_dollar_are_ordinary() {
        check("^a$", &["^a$"], &["a"]);
    }

    #[test]
    fn xsd_whitespace_is_four_characters() {
        check(
            r"\s",
            &[" ", "\t", "\n", "\r"],
            &["\u{a0}", "\u{2003}", "\u{b}", "\u{c}"],
        );
        check(
            r"\S+@\S+",
            &["a@b", "\u{a0}@x"],
            &["a @b", "@b", "a@", "a\t@b"],
        );
    }

    #[test]
    fn dot_excludes_only_newlines() {
        check(".", &["a", "\t", "\u{2028}"], &["\n", "\r", ""]);
    }

    #[test]
    fn digits_and_word_characters() {
        check(r"\d+", &["0123", "\u{0663}"], &["a", "½"]);
        check(r"\w+", &["abc", "é", "$", "+"], &["_", "-", " ", "a.b"]);
        check(r"\W", &["_", ".", " "], &["a", "1"]);
    }

    #[test]
    fn classes_ranges_and_negation() {
        check(
            "[A-Za-z][A-Za-z0-9_\\-]*",
            &["ab", "a-b_9"],
            &["1a", "a b", "-a", ""],
        );
        check("[^abc]", &["d", "-"], &["a", ""]);
        check("[-a]+", &["-a-"], &["b"]);
        check("[a-]+", &["-a-"], &["b"]);
        check(r"[\p{Lu}\d]+", &["A1"], &["a"]);
    }

    #[test]
    fn class_subtraction() {
        check("[a-z-[aeiou]]+", &["bcd"], &["bad", "A"]);
        check("[^a-z-[0-9]]", &["A", "-"], &["a", "5"]);
    }

    #[test]
    fn quantifiers() {
        check("0{8}-0{4}", &["00000000-0000"], &["0000000-0000"]);
        check("a{2,}", &["aa", "aaaa"], &["a"]);
        check("a{1,2}", &["a", "aa"], &["aaa"]);
        check("(ab)?c", &["c", "abc"], &["ac"]);
    }

    #[test]
    fn special_characters_are_literal() {
        check(r"\.\*\+\?\(\)\[\]\{\}\|\\\^", &[".*+?()[]{}|\\^"], &["a"]);
        check("a#b&c~d", &["a#b&c~d"], &["ab"]);
        check("[#&~]+", &["#&~"], &["a"]);
    }

    #[test]
    fn unsupported_and_invalid() {
        assert!(matches!(
            translate(r"\i\c*"),
            Err(RegexProblem::Unsupported(_))
        ));
        assert!(matches!(
            translate(r"\p{IsBasicLatin}"),
            Err(RegexProblem::Unsupported(_))
        ));
        for bad in [
            "(a", "a)", "[a", "*a", "a{2", "a{3,1}", r"\q", "[z-a]", "[a-b-c]", "a\\",
        ] {
            assert!(
                matches!(translate(bad), Err(RegexProblem::Syntax(_))),
                "{bad}"
            );
        }
        let deep = "(".repeat(100) + &")".repeat(100);
        assert!(matches!(
            translate(&deep),
            Err(RegexProblem::Unsupported(_))
        ));
    }
}
