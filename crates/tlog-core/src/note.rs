//! Signed notes (c2sp.org/signed-note) and `cosignature/v1` (c2sp.org/tlog-cosignature).
//!
//! A note is UTF-8 text ending in a newline, an empty line, and one line per signature:
//! `— <key name> <base64(4-byte key ID || signature)>`. Keys are Ed25519, named; the key ID
//! is `SHA-256(name || 0x0A || type || public key)[:4]`, so a name and key together are
//! identified without a registry.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Key type byte of an Ed25519 note signature.
pub const ED25519: u8 = 0x01;
/// Key type byte of a `cosignature/v1` (a witness or mirror cosigner).
pub const COSIGNATURE_V1: u8 = 0x04;
/// The em dash and space that start a signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// More signatures than this make a note invalid (as Go's `note.Open`).
pub const MAX_SIGNATURES: usize = 100;
/// The largest note accepted, in bytes: checkpoints are a few hundred bytes.
pub const MAX_NOTE_BYTES: usize = 1 << 20;

/// Why a key or note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name that is empty, has a space or a `+`.
    #[error("key name '{0}' is not valid: it must be non-empty, without spaces or '+'")]
    InvalidName(String),
    /// A verifier or private key string of the wrong shape.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// A key whose stated ID is not the one its name and key give.
    #[error("key ID {stated} does not match the key (expected {actual})")]
    KeyIdMismatch {
        /// The ID in the string.
        stated: String,
        /// The ID the name and key give.
        actual: String,
    },
    /// Note text that cannot be signed or opened.
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    /// No signature by any of the given keys.
    #[error("the note has no signature by the key {0}")]
    UnverifiedNote(String),
    /// A signature by a known key that does not verify: the whole note is refused.
    #[error("the signature by {0} does not verify")]
    InvalidSignature(String),
}

/// Whether `name` can name a key: non-empty, no Unicode space, no `+`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// `SHA-256(name || 0x0A || key type || public key)[:4]`, as a big-endian number.
pub fn key_id(name: &str, key_type: u8, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', key_type]);
    h.update(public);
    let digest = h.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// `PRIVATE+KEY+…`, `name+id+key` strings: the parts after the prefix, checked.
fn split_key(text: &str) -> Result<(&str, u32, u8, [u8; 32]), NoteError> {
    // Names have no '+' but base64 keys may: split from the left.
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey("expected <name>+<key ID>+<key>"));
    };
    if !is_valid_name(name) {
        return Err(NoteError::InvalidName(name.to_string()));
    }
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(NoteError::MalformedKey(
            "the key ID must be 8 lowercase hex digits",
        ));
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::MalformedKey("key ID"))?;
    let bytes = BASE64
        .decode(key)
        .map_err(|_| NoteError::MalformedKey("the key is not base64"))?;
    let (&key_type, rest) = bytes
        .split_first()
        .ok_or(NoteError::MalformedKey("the key is empty"))?;
    if key_type != ED25519 && key_type != COSIGNATURE_V1 {
        return Err(NoteError::MalformedKey("unknown key type"));
    }
    let key: [u8; 32] = rest
        .try_into()
        .map_err(|_| NoteError::MalformedKey("an Ed25519 key has 32 bytes"))?;
    Ok((name, id, key_type, key))
}

fn check_id(name: &str, stated: u32, key_type: u8, public: &[u8; 32]) -> Result<u32, NoteError> {
    let actual = key_id(name, key_type, public);
    if actual != stated {
        return Err(NoteError::KeyIdMismatch {
            stated: format!("{stated:08x}"),
            actual: format!("{actual:08x}"),
        });
    }
    Ok(actual)
}

/// A public key that checks signatures: `<name>+<hex key ID>+<base64(type || key)>`.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_type: u8,
    id: u32,
    key: VerifyingKey,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(self.key_type);
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(text: &str) -> Result<VerifierKey, NoteError> {
        VerifierKey::parse(text)
    }
}

impl VerifierKey {
    /// Parses and checks a verifier key string.
    pub fn parse(text: &str) -> Result<VerifierKey, NoteError> {
        let text = text.trim();
        if text.starts_with("PRIVATE+KEY+") {
            return Err(NoteError::MalformedKey(
                "this is a private key; give the verifier key",
            ));
        }
        let (name, stated, key_type, public) = split_key(text)?;
        let id = check_id(name, stated, key_type, &public)?;
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        Ok(VerifierKey {
            name: name.to_string(),
            key_type,
            id,
            key,
        })
    }

    /// The key's name (a log's origin, or a cosigner's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// [`ED25519`] (a log) or [`COSIGNATURE_V1`] (a cosigner).
    pub fn key_type(&self) -> u8 {
        self.key_type
    }

    /// Checks one signature line's bytes (key ID already matched) against `text`. A
    /// cosignature returns its timestamp.
    fn check(&self, text: &str, signature: &[u8]) -> Result<Option<u64>, NoteError> {
        let invalid = || NoteError::InvalidSignature(self.name.clone());
        match self.key_type {
            ED25519 => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| invalid())?;
                self.key
                    .verify_strict(text.as_bytes(), &sig)
                    .map_err(|_| invalid())?;
                Ok(None)
            }
            _ => {
                let (time, sig) = signature.split_at_checked(8).ok_or_else(invalid)?;
                let time = u64::from_be_bytes(time.try_into().map_err(|_| invalid())?);
                let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| invalid())?;
                let message = cosigned_message(time, text);
                self.key
                    .verify_strict(message.as_bytes(), &sig)
                    .map_err(|_| invalid())?;
                Ok(Some(time))
            }
        }
    }
}

/// What a `cosignature/v1` signs: `cosignature/v1\ntime <t>\n` and the checkpoint body.
fn cosigned_message(time: u64, body: &str) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// A private key: `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || 32-byte seed)>`.
///
/// Its `Debug` form shows only the verifier key; the seed leaves only through
/// [`PrivateKey::to_private_string`], for `key generate`.
#[derive(Clone)]
pub struct PrivateKey {
    name: String,
    key_type: u8,
    id: u32,
    key: SigningKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey(verifier {})", self.verifier())
    }
}

impl PrivateKey {
    /// The key named `name` of `key_type` ([`ED25519`] or [`COSIGNATURE_V1`]) from a seed.
    pub fn from_seed(name: &str, key_type: u8, seed: [u8; 32]) -> Result<PrivateKey, NoteError> {
        if !is_valid_name(name) {
            return Err(NoteError::InvalidName(name.to_string()));
        }
        if key_type != ED25519 && key_type != COSIGNATURE_V1 {
            return Err(NoteError::MalformedKey("unknown key type"));
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key_type, key.verifying_key().as_bytes());
        Ok(PrivateKey {
            name: name.to_string(),
            key_type,
            id,
            key,
        })
    }

    /// Parses a private key string. Errors never quote the key.
    pub fn parse(text: &str) -> Result<PrivateKey, NoteError> {
        let rest = text
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "a private key starts with PRIVATE+KEY+",
            ))?;
        let (name, stated, key_type, seed) = split_key(rest)?;
        let key = PrivateKey::from_seed(name, key_type, seed)?;
        check_id(name, stated, key_type, key.key.verifying_key().as_bytes())?;
        Ok(key)
    }

    /// The private key string (secret: for `key generate` and the key store only).
    pub fn to_private_string(&self) -> String {
        let mut bytes = Vec::with_capacity(33);
        bytes.push(self.key_type);
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            BASE64.encode(bytes)
        )
    }

    /// The same key under another name (each log signs under its own origin).
    pub fn renamed(&self, name: &str) -> Result<PrivateKey, NoteError> {
        PrivateKey::from_seed(name, self.key_type, self.key.to_bytes())
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_type: self.key_type,
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs `text` as a note: returns the signature line (with its newline). Needs an
    /// [`ED25519`] key and text that [`check_text`] accepts.
    pub fn sign_line(&self, text: &str) -> Result<String, NoteError> {
        if self.key_type != ED25519 {
            return Err(NoteError::MalformedKey(
                "a cosigner key signs cosignatures only",
            ));
        }
        check_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        Ok(self.line(&[&signature.to_bytes()[..]]))
    }

    /// Signs `text` (a note's whole text) and returns the note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        Ok(format!("{text}\n{}", self.sign_line(text)?))
    }

    /// A `cosignature/v1` line over a checkpoint body at `time` (POSIX seconds). Needs a
    /// [`COSIGNATURE_V1`] key.
    pub fn cosign_line(&self, body: &str, time: u64) -> Result<String, NoteError> {
        if self.key_type != COSIGNATURE_V1 {
            return Err(NoteError::MalformedKey("a log key does not cosign"));
        }
        check_text(body)?;
        let signature = self.key.sign(cosigned_message(time, body).as_bytes());
        Ok(self.line(&[&time.to_be_bytes()[..], &signature.to_bytes()[..]]))
    }

    fn line(&self, parts: &[&[u8]]) -> String {
        let mut bytes = self.id.to_be_bytes().to_vec();
        for part in parts {
            bytes.extend_from_slice(part);
        }
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, BASE64.encode(bytes))
    }
}

/// Checks note text: UTF-8 (it is a `str`), ends in a newline, no empty line, no control
/// character but newline.
pub fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::MalformedNote("the text must end with a newline"));
    }
    if text.starts_with('\n') || text.contains("\n\n") {
        return Err(NoteError::MalformedNote(
            "the text must not contain an empty line",
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::MalformedNote(
            "control characters are not allowed",
        ));
    }
    Ok(())
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    /// The signer's key name.
    pub name: String,
    /// The key ID.
    pub id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
    /// The whole line, with its newline.
    pub line: String,
}

/// A parsed note: its text and its signature lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, with its final newline.
    pub text: String,
    /// The signatures, in order.
    pub signatures: Vec<SignatureLine>,
}

/// Splits a note at its last empty line and parses its signature lines.
pub fn parse(note: &str) -> Result<Note, NoteError> {
    if note.len() > MAX_NOTE_BYTES {
        return Err(NoteError::MalformedNote("the note is too large"));
    }
    let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote(
        "no empty line before the signatures",
    ))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    check_text(text)?;
    if !signatures.ends_with('\n') {
        return Err(NoteError::MalformedNote("the note must end with a newline"));
    }
    let mut lines = Vec::new();
    for line in signatures.split_inclusive('\n') {
        let body = line
            .strip_suffix('\n')
            .and_then(|l| l.strip_prefix(SIGNATURE_PREFIX))
            .ok_or(NoteError::MalformedNote(
                "a signature line starts with '— '",
            ))?;
        let (name, signature) = body.split_once(' ').ok_or(NoteError::MalformedNote(
            "a signature line is '— <name> <base64>'",
        ))?;
        if !is_valid_name(name) {
            return Err(NoteError::InvalidName(name.to_string()));
        }
        let bytes = BASE64
            .decode(signature)
            .map_err(|_| NoteError::MalformedNote("a signature is not base64"))?;
        if bytes.len() < 5 {
            return Err(NoteError::MalformedNote("a signature is too short"));
        }
        let (id, signature) = bytes.split_at(4);
        lines.push(SignatureLine {
            name: name.to_string(),
            id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
            signature: signature.to_vec(),
            line: line.to_string(),
        });
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::MalformedNote("too many signatures"));
        }
    }
    if lines.is_empty() {
        return Err(NoteError::MalformedNote("the note has no signature"));
    }
    Ok(Note {
        text: text.to_string(),
        signatures: lines,
    })
}

/// A note whose signature by one key was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The note as parsed.
    pub note: Note,
    /// The cosignature's timestamp, when the key is a cosigner.
    pub time: Option<u64>,
}

/// Parses `note` and verifies its signature by `key`: lines by other keys are ignored, and a
/// line by `key` that does not verify refuses the note.
pub fn open(note: &str, key: &VerifierKey) -> Result<Opened, NoteError> {
    let note = parse(note)?;
    let mut verified = None;
    for line in &note.signatures {
        if line.name == key.name && line.id == key.id {
            verified = Some(key.check(&note.text, &line.signature)?);
        }
    }
    match verified {
        Some(time) => Ok(Opened { note, time }),
        None => Err(NoteError::UnverifiedNote(key.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PETER_PRIVATE: &str =
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const PETER_VERIFIER: &str =
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

    #[test]
    fn go_note_signing_vector() {
        let key = PrivateKey::parse(PETER_PRIVATE).expect("private key");
        assert_eq!(key.verifier().to_string(), PETER_VERIFIER);
        assert_eq!(key.to_private_string(), PETER_PRIVATE);
        let text = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
        assert_eq!(
            key.sign_line(text).expect("sign"),
            "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        );
        let note = key.sign(text).expect("note");
        let opened = open(&note, &key.verifier()).expect("opens");
        assert_eq!(opened.note.text, text);
        assert!(
            !format!("{key:?}").contains("AYEKFALV"),
            "Debug hides the seed"
        );
    }

    #[test]
    fn c2sp_verification_vector() {
        let key = VerifierKey::parse(
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
        )
        .expect("verifier");
        let note = "This is an example message.\n\n\
                    — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let opened = open(note, &key).expect("verifies");
        assert_eq!(opened.note.text, "This is an example message.\n");
        // One changed byte of text: the known key's signature fails, the note is refused.
        let forged = note.replace("example message", "example massage");
        assert_eq!(
            open(&forged, &key),
            Err(NoteError::InvalidSignature("example.com/foo".into()))
        );
    }

    #[test]
    fn mirror_cosignature_vector() {
        let seed: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
        let key = PrivateKey::from_seed("partner.example/mirror", COSIGNATURE_V1, seed)
            .expect("cosigner");
        assert_eq!(
            key.verifier().to_string(),
            "partner.example/mirror+c4bef1eb+BHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk"
        );
        let body = "registers.example/registers/country\n208\njZLh4K8dQ8QeSY5rrtDQs+oncNG/nSr8BOnE2td5Vyk=\n";
        let line = key.cosign_line(body, 1_767_225_600).expect("cosign");
        assert_eq!(
            line,
            "— partner.example/mirror xL7x6wAAAABpVbkA6L2jYdt8vfz3upllJuuVjztfWrQ4QwrWN/J05pniIeYsbEMiBteZFLUrFoM9B0xxLFY9hSS15gwrZh6CFwMpAQ==\n"
        );
        let opened = open(&format!("{body}\n{line}"), &key.verifier()).expect("verifies");
        assert_eq!(opened.time, Some(1_767_225_600));
    }

    #[test]
    fn malformed_keys_and_notes_are_refused() {
        for bad in [
            "",
            "name+c74f20a3",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
            "PeterNeumann+c74f20a3+!!!",
            PETER_PRIVATE,
        ] {
            assert!(VerifierKey::parse(bad).is_err(), "{bad}");
        }
        let err = PrivateKey::parse(&PETER_PRIVATE.replace("c74f20a3", "c74f20a4"))
            .expect_err("wrong id");
        assert!(!err.to_string().contains("AYEKFALV"), "{err}");
        let key = VerifierKey::parse(PETER_VERIFIER).expect("verifier");
        for bad in [
            "",
            "text\n",
            "text\n\n",
            "text\n\n— PeterNeumann x08go\n",
            "text\n\n-- PeterNeumann x08go/ZJk=\n",
            "text\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            "te\u{1}xt\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        ] {
            assert!(open(bad, &key).is_err(), "{bad:?}");
        }
    }
}
