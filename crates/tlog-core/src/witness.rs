//! The witness protocol (c2sp.org/tlog-witness): the `add-checkpoint` request body, the
//! witness's decision over the state it keeps for a log, the `text/x.tlog.size` body of a
//! 409, and checking a cosignature line against the checkpoint it signs.
//!
//! A request body is `old <size>\n`, at most [`MAX_PROOF_LINES`] base64 hashes (one a line),
//! an empty line, and the signed checkpoint. The witness keeps, per log origin, the size and
//! root it last cosigned (size 0 and the empty tree's root for a log it never cosigned); a
//! request must start exactly there ([`Refusal::Conflict`] otherwise) and prove consistency
//! to the new checkpoint.
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use register_core::merkle::{empty_root, verify_consistency};
use register_core::Digest;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::note::{self, NoteError, VerifierKey};

/// The most consistency-proof lines a request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// The largest request body a witness reads, in bytes.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;
/// The media type of a 409's body: the witness's latest cosigned size and a newline.
pub const SIZE_MEDIA_TYPE: &str = "text/x.tlog.size";

/// Why a request body was refused (a 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body's framing: old size line, proof lines, empty line.
    #[error("malformed add-checkpoint body: {0}")]
    Malformed(String),
    /// More than [`MAX_PROOF_LINES`] proof lines.
    #[error("the consistency proof has more than {MAX_PROOF_LINES} lines")]
    TooManyProofLines,
    /// The checkpoint note (unsigned shape) or its body.
    #[error("the checkpoint is malformed: {0}")]
    Checkpoint(#[from] CheckpointError),
}

/// An `add-checkpoint` request, parsed; the checkpoint's signatures are not verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Digest>,
    /// The signed checkpoint, as sent.
    pub note: String,
    /// Its body.
    pub checkpoint: Checkpoint,
}

/// A decimal without leading zeros (`0` alone), as the protocol writes sizes.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = text == "0" || (!text.is_empty() && !text.starts_with('0'));
    (canonical && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// Parses a request body. Errors name what is wrong and never panic on any input.
pub fn parse_request(body: &str) -> Result<AddCheckpoint, RequestError> {
    let malformed = |why: &str| RequestError::Malformed(why.to_string());
    if body.len() > MAX_REQUEST_BYTES {
        return Err(malformed("the body is larger than 1 MiB"));
    }
    let (first, mut rest) = body
        .split_once('\n')
        .ok_or_else(|| malformed("no old size line"))?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(parse_decimal)
        .ok_or_else(|| {
            malformed("the first line must be 'old <size>' (decimal, no leading zeros)")
        })?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| malformed("no empty line before the checkpoint"))?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(RequestError::TooManyProofLines);
        }
        let hash: [u8; 32] = BASE64
            .decode(line)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                RequestError::Malformed(format!(
                    "proof line {} is not 32 bytes of base64",
                    proof.len() + 1
                ))
            })?;
        proof.push(Digest(hash));
    }
    let opened = note::parse(rest).map_err(CheckpointError::from)?;
    let checkpoint = Checkpoint::parse_body(&opened.text)?;
    Ok(AddCheckpoint {
        old_size,
        proof,
        note: rest.to_string(),
        checkpoint,
    })
}

/// The body of a request: `old <size>`, the proof, an empty line, the checkpoint note.
pub fn request_body(old_size: u64, proof: &[Digest], note: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&BASE64.encode(hash.0));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// The body of a 409: the latest cosigned size and a newline.
pub fn size_body(size: u64) -> String {
    format!("{size}\n")
}

/// Reads a 409's body (`<size>\n`).
pub fn parse_size_body(body: &str) -> Option<u64> {
    body.strip_suffix('\n').and_then(parse_decimal)
}

/// Why the witness will not cosign a request it could verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The old size is above the checkpoint's size (a 400).
    #[error("the old size {old} is above the checkpoint's size {size}")]
    OldSizeAbove {
        /// The request's old size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size is not the size last cosigned (a 409 with this size).
    #[error("the witness last cosigned size {0} of this log")]
    Conflict(u64),
    /// The checkpoint is not consistent with what was cosigned (a 422; evidence when the
    /// checkpoint is validly signed).
    #[error("{0}")]
    Inconsistent(String),
}

/// Decides a verified request against the state the witness keeps for its log: the size
/// and root it last cosigned (`None`: never, which is size 0 and the empty tree).
pub fn check(latest: Option<(u64, Digest)>, request: &AddCheckpoint) -> Result<(), Refusal> {
    let (latest_size, latest_root) = latest.unwrap_or((0, empty_root()));
    let (old, size, root) = (
        request.old_size,
        request.checkpoint.size,
        request.checkpoint.root,
    );
    if old > size {
        return Err(Refusal::OldSizeAbove { old, size });
    }
    if old != latest_size {
        return Err(Refusal::Conflict(latest_size));
    }
    let inconsistent = |why: String| Err(Refusal::Inconsistent(why));
    if size == 0 && root != empty_root() {
        return inconsistent("a checkpoint of size 0 must have the empty tree's root".into());
    }
    if old == 0 && !request.proof.is_empty() {
        return inconsistent("from old size 0 the consistency proof must be empty".into());
    }
    if old == size && root != latest_root {
        return inconsistent(format!(
            "the checkpoint has size {size} with another root than the one cosigned"
        ));
    }
    if !verify_consistency(old, size, &latest_root, &root, &request.proof) {
        return inconsistent(format!(
            "the consistency proof from size {old} to {size} does not verify"
        ));
    }
    Ok(())
}

/// A cosignature line checked against the checkpoint it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The line, with its newline.
    pub line: String,
    /// Its timestamp (POSIX seconds).
    pub time: u64,
}

/// Finds the line by `key` (a [`note::COSIGNATURE_V1`] key) among `lines` (signature lines,
/// e.g. a witness's response) and verifies it over the checkpoint `note`'s text. Lines by
/// other keys are ignored; none by `key` is [`NoteError::UnverifiedNote`].
pub fn verify_cosignature(
    note: &str,
    lines: &str,
    key: &VerifierKey,
) -> Result<Cosignature, NoteError> {
    if key.key_type() != note::COSIGNATURE_V1 {
        return Err(NoteError::MalformedKey(
            "a cosignature is checked with a cosigner key (type 0x04)",
        ));
    }
    if lines.len() > note::MAX_NOTE_BYTES {
        return Err(NoteError::MalformedNote(
            "the cosignature lines are too long",
        ));
    }
    let text = note::parse(note)?.text;
    let mut found = None;
    for line in lines.split_inclusive('\n') {
        let single = note::parse(&format!("{text}\n{line}"))?;
        let Some(signature) = single.signatures.first() else {
            continue;
        };
        if signature.name == key.name() && signature.id == key.id() {
            let opened = note::open(&format!("{text}\n{line}"), key)?;
            let time = opened
                .time
                .ok_or(NoteError::MalformedNote("a cosignature has a timestamp"))?;
            found = Some(Cosignature {
                line: line.to_string(),
                time,
            });
        }
    }
    found.ok_or_else(|| NoteError::UnverifiedNote(key.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{PrivateKey, COSIGNATURE_V1, ED25519};

    fn log_key() -> PrivateKey {
        PrivateKey::from_seed("example.com/log", ED25519, [7; 32]).expect("key")
    }

    fn signed(size: u64, root: Digest) -> String {
        Checkpoint {
            origin: "example.com/log".into(),
            size,
            root,
        }
        .sign(&log_key())
        .expect("sign")
    }

    #[test]
    fn request_bodies_round_trip() {
        let note = signed(3, Digest([1; 32]));
        let proof = vec![Digest([2; 32]), Digest([3; 32])];
        let body = request_body(2, &proof, &note);
        assert!(body.starts_with("old 2\nAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n"));
        let request = parse_request(&body).expect("parses");
        assert_eq!(request.old_size, 2);
        assert_eq!(request.proof, proof);
        assert_eq!(request.note, note);
        assert_eq!(request.checkpoint.size, 3);
        assert_eq!(
            parse_request(&request_body(0, &[], &note)).map(|r| r.old_size),
            Ok(0)
        );
        assert_eq!(parse_size_body(&size_body(208)), Some(208));
        for bad in ["", "208", "0208\n", "x\n"] {
            assert_eq!(parse_size_body(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn malformed_bodies_are_refused_with_their_reason() {
        let note = signed(3, Digest([1; 32]));
        let line = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\n";
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "no old size line"),
            (format!("old 01\n\n{note}"), "'old <size>'"),
            (format!("new 1\n\n{note}"), "'old <size>'"),
            (format!("old -1\n\n{note}"), "'old <size>'"),
            (format!("old 1\n{line}"), "no empty line"),
            (format!("old 1\nAAAA\n\n{note}"), "proof line 1"),
            (
                format!("old 1\n{}\n{note}", line.repeat(64)),
                "more than 63",
            ),
            (
                "old 1\n\nexample.com/log\n3\n".to_string(),
                "no empty line before the signatures",
            ),
            (
                "old 1\n\nnot a checkpoint\n\n— example.com/log AAAAAAA=\n".to_string(),
                "no root line",
            ),
        ];
        for (body, expected) in cases {
            let err = parse_request(&body).expect_err(&body);
            assert!(err.to_string().contains(expected), "{body:?}: {err}");
        }
        let at_limit = format!("old 1\n{}\n{note}", line.repeat(63));
        assert_eq!(parse_request(&at_limit).map(|r| r.proof.len()), Ok(63));
    }

    #[test]
    fn the_witness_decides_as_the_protocol_says() {
        use register_core::merkle::MemoryNodeStore;
        use register_core::merkle::{consistency_proof, leaf_hash, root_at, Frontier};
        let mut tree = MemoryNodeStore::new();
        let mut frontier = Frontier::new();
        for i in 0..10u8 {
            frontier.append(leaf_hash(&[i]), |l, idx, h| tree.push(l, idx, h));
        }
        let root = |n| root_at(&tree, n).expect("root");
        let request = |old, size, proof: Vec<Digest>| AddCheckpoint {
            old_size: old,
            proof,
            note: String::new(),
            checkpoint: Checkpoint {
                origin: "example.com/log".into(),
                size,
                root: root(size),
            },
        };
        let proof = consistency_proof(&tree, 4, 10).expect("proof");
        assert_eq!(check(None, &request(0, 4, vec![])), Ok(()));
        assert_eq!(
            check(Some((4, root(4))), &request(4, 10, proof.clone())),
            Ok(())
        );
        assert_eq!(check(Some((4, root(4))), &request(4, 4, vec![])), Ok(()));
        assert_eq!(
            check(Some((4, root(4))), &request(0, 10, vec![])),
            Err(Refusal::Conflict(4))
        );
        assert_eq!(
            check(None, &request(4, 10, proof.clone())),
            Err(Refusal::Conflict(0))
        );
        assert!(matches!(
            check(None, &request(11, 10, vec![])),
            Err(Refusal::OldSizeAbove { old: 11, size: 10 })
        ));
        let mut bad = proof.clone();
        bad[0] = Digest([0; 32]);
        assert!(matches!(
            check(Some((4, root(4))), &request(4, 10, bad)),
            Err(Refusal::Inconsistent(_))
        ));
        assert!(matches!(
            check(Some((4, root(5))), &request(4, 4, vec![])),
            Err(Refusal::Inconsistent(_))
        ));
        assert!(matches!(
            check(None, &request(0, 4, proof)),
            Err(Refusal::Inconsistent(_))
        ));
        let mut empty = request(0, 0, vec![]);
        assert_eq!(check(None, &empty), Ok(()));
        empty.checkpoint.root = Digest([1; 32]);
        assert!(matches!(check(None, &empty), Err(Refusal::Inconsistent(_))));
    }

    #[test]
    fn cosignatures_are_found_and_verified() {
        let note = signed(3, Digest([1; 32]));
        let text = note::parse(&note).expect("note").text;
        let witness =
            PrivateKey::from_seed("w.example/witness", COSIGNATURE_V1, [9; 32]).expect("key");
        let other =
            PrivateKey::from_seed("x.example/witness", COSIGNATURE_V1, [8; 32]).expect("key");
        let line = witness.cosign_line(&text, 1_767_225_600).expect("cosign");
        let lines = format!("{}{line}", other.cosign_line(&text, 5).expect("cosign"));
        let found = verify_cosignature(&note, &lines, &witness.verifier()).expect("verifies");
        assert_eq!(
            found,
            Cosignature {
                line,
                time: 1_767_225_600
            }
        );
        let forged = witness
            .cosign_line("example.com/log\n4\nAAAA\n", 1)
            .expect("cosign");
        assert!(verify_cosignature(&note, &forged, &witness.verifier()).is_err());
        assert!(verify_cosignature(&note, "", &witness.verifier()).is_err());
        assert!(verify_cosignature(&note, "garbage\n", &witness.verifier()).is_err());
        assert!(verify_cosignature(&note, &found.line, &log_key().verifier()).is_err());
    }
}
