//! Transparency-log helpers for tests: a witness node on loopback, and a `cosignature/v1`
//! verifier for signed_note (a verifier we did not write checks our cosignatures).
#![allow(dead_code)]

use signed_note::Verifier;
use store_diesel::store::{NodeKeys, WitnessSource};
use tlog_core::note::{PrivateKey, COSIGNATURE_V1, ED25519};

use super::common::{LoopbackServer, TestDb};

/// A witness node on loopback, with keys of its own, witnessing `log_origin`.
pub fn witness(db: &TestDb, log_key: &str, port: u16) -> (LoopbackServer, String) {
    let keys = NodeKeys {
        origin: "witness.test".into(),
        log: PrivateKey::from_seed("log", ED25519, [3; 32]).expect("key"),
        cosigner: PrivateKey::from_seed("cosigner", COSIGNATURE_V1, [4; 32]).expect("key"),
    };
    let vkey = keys
        .cosigner_key("witness")
        .expect("witness key")
        .to_string();
    let store = db.store.clone().with_keys(keys);
    let log_key = tlog_core::VerifierKey::parse(log_key).expect("log key");
    store
        .add_witnessed_log(log_key.name(), &log_key, WitnessSource::Operator)
        .expect("witnessed");
    (LoopbackServer::start_on(store, port), vkey)
}

/// signed_note's `Verifier` for `cosignature/v1` (type 0x04), written from
/// c2sp.org/tlog-cosignature: signed_note parses the note and matches name and key ID,
/// ed25519-dalek checks the signature over the cosigned message.
pub struct CosignatureV1 {
    name: String,
    id: u32,
    key: ed25519_dalek::VerifyingKey,
}

impl CosignatureV1 {
    pub fn new(vkey: &str) -> CosignatureV1 {
        use base64::Engine as _;
        let mut parts = vkey.splitn(3, '+');
        let (name, id, key) = (parts.next(), parts.next(), parts.next());
        let key = base64::engine::general_purpose::STANDARD
            .decode(key.expect("key"))
            .expect("base64");
        assert_eq!(key[0], 0x04, "a cosigner key");
        let name = name.expect("name").to_string();
        let id = u32::from_str_radix(id.expect("id"), 16).expect("hex");
        assert_eq!(signed_note::key_id(&name, &key), id, "the key ID");
        let key = ed25519_dalek::VerifyingKey::from_bytes(&key[1..].try_into().expect("32 bytes"))
            .expect("Ed25519 key");
        CosignatureV1 { name, id, key }
    }
}

impl Verifier for CosignatureV1 {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.id
    }
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some((time, sig)) = sig.split_at_checked(8) else {
            return false;
        };
        let time = u64::from_be_bytes(time.try_into().expect("8 bytes"));
        let mut message = format!("cosignature/v1\ntime {time}\n").into_bytes();
        message.extend_from_slice(msg);
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        time > 0 && self.key.verify_strict(&message, &sig).is_ok()
    }
}
