//! The rule for register names (ids): what `/registers/{name}/` may hold when a register is
//! created, by a load, an import or a mirror's subscription.
//!
//! The name becomes a URL path segment, a log origin (`<origin>/registers/<name>`), a label of
//! metrics and a file name in evidence; GOV.UK's register ids (`country`,
//! `local-authority-eng`) all fit a short lowercase slug. Nothing outside the rule needs
//! escaping anywhere, and the bound keeps every message and log line that names one short.

use crate::error::Error;

/// The longest register name, in characters (all ASCII, so also bytes).
pub const MAX_REGISTER_NAME_CHARS: usize = 64;

/// The rule, as refusals state it.
pub const REGISTER_NAME_RULE: &str = "a register name is 1 to 64 characters: lowercase letters \
                                      a-z and digits 0-9, with single '-' between them";

/// Checks a register name against [`REGISTER_NAME_RULE`].
pub fn check_register_name(name: &str) -> Result<(), Error> {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-';
    // No leading, trailing or doubled '-': every valid name is also a valid RFC 0008 key,
    // which the write API and the subscriptions expect of a register's name.
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_REGISTER_NAME_CHARS
        && bytes.iter().all(allowed)
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidRegisterName {
            name: shown(name),
            rule: REGISTER_NAME_RULE,
        })
    }
}

/// The name as a message quotes it: at most 80 characters, so a 30,000-character name does
/// not make a 30,000-character error.
fn shown(name: &str) -> String {
    const MAX_SHOWN: usize = 80;
    match name.char_indices().nth(MAX_SHOWN) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, valid: bool) {
        assert_eq!(check_register_name(name).is_ok(), valid, "{name:?}");
    }

    #[test]
    fn names_are_short_lowercase_slugs() {
        for name in [
            "country",
            "colour",
            "local-authority-eng",
            "a",
            "9",
            "r2-d2",
        ] {
            check(name, true);
        }
        check(&"a".repeat(MAX_REGISTER_NAME_CHARS), true);
        for name in [
            "", "a/b", "Country", "-country", "country-", "a--b", "a b", "a_b", "a.b", "..",
            "café", "a%2Fb", "a\tb",
        ] {
            check(name, false);
        }
        check(&"a".repeat(MAX_REGISTER_NAME_CHARS + 1), false);
        for name in ["a", "a-b", "9-lives", "x1-y2-z3"] {
            assert!(crate::entry::check_user_key(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_refusal_states_the_rule_and_a_short_excerpt() {
        let long = "x".repeat(30_000);
        let message = check_register_name(&long)
            .expect_err("too long")
            .to_string();
        assert!(message.len() < 300, "{message}");
        assert!(message.contains(REGISTER_NAME_RULE), "{message}");
        assert_eq!(
            check_register_name("a/b").expect_err("slash").to_string(),
            format!("register name 'a/b' is not valid: {REGISTER_NAME_RULE}")
        );
    }
}
