//! SHA-256 digests and item hashes, and the cheap map hasher they allow.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use sha2::{Digest as _, Sha256};

const PREFIX: &str = "sha-256:";

/// Value of each lowercase hex digit; 0x10 for every other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0x10u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

/// A SHA-256 digest: a Merkle node, a root hash or the value behind an [`ItemHash`].
///
/// Displayed as `sha-256:<64 lowercase hex>`, the form every API and RSF file uses;
/// [`Digest::to_hex`] gives the bare hex.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// The 64 lowercase hex digits, without prefix.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 lowercase hex digits (no prefix).
    pub fn from_hex(hex_digits: &str) -> Option<Digest> {
        let bytes = hex_digits.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        let mut invalid = 0u8;
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let (hi, lo) = (HEX_VALUE[pair[0] as usize], HEX_VALUE[pair[1] as usize]);
            // Branch-free: 0x10 marks a non-hex byte; check once at the end.
            invalid |= (hi | lo) & 0x10;
            *byte = (hi << 4) | (lo & 0x0f);
        }
        (invalid == 0).then_some(Digest(out))
    }

    /// Parses `sha-256:<64 lowercase hex>`.
    pub fn parse_prefixed(text: &str) -> Option<Digest> {
        Digest::from_hex(text.strip_prefix(PREFIX)?)
    }
}

impl Hash for Digest {
    // Digests are uniformly distributed, so eight of their bytes are as good a hash as any
    // (and hashing all 32 with SipHash costs a noticeable share of an RSF load).
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PREFIX)?;
        let mut buf = [0u8; 64];
        // Infallible: the buffer is exactly twice the input length.
        if hex::encode_to_slice(self.0, &mut buf).is_err() {
            return Err(fmt::Error);
        }
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The v1 identity of an item: SHA-256 over its canonical JSON.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemHash(pub Digest);

impl ItemHash {
    /// Hashes canonical item bytes. The caller guarantees they are canonical.
    pub fn of_canonical(canonical: &[u8]) -> ItemHash {
        ItemHash(Digest::of(canonical))
    }

    /// Parses `sha-256:<64 lowercase hex>`.
    pub fn parse(text: &str) -> Option<ItemHash> {
        Digest::parse_prefixed(text).map(ItemHash)
    }

    /// The digest behind the hash.
    pub fn digest(&self) -> &Digest {
        &self.0
    }
}

impl fmt::Display for ItemHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ItemHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A [`Hasher`] for keys whose `Hash` impl writes one already well-mixed `u64` (digests).
#[derive(Debug, Default, Clone, Copy)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached by `Digest`; fold anything else in rather than lose it.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

/// A map keyed by item hash, hashed with [`DigestHasher`].
pub type ItemMap<V> = HashMap<ItemHash, V, BuildHasherDefault<DigestHasher>>;

/// A set of item hashes, hashed with [`DigestHasher`].
pub type ItemSet = HashSet<ItemHash, BuildHasherDefault<DigestHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_digest_is_the_empty_root() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_accepts_only_lowercase_prefixed_hex() {
        let good = "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61";
        assert_eq!(
            ItemHash::parse(good).map(|h| h.to_string()).as_deref(),
            Some(good)
        );
        for bad in [
            "sha-256:5DD4FE3B0DE91882DAE86B223CA531B5C8F2335D9EE3FD0AB18DFDC2871D0C61",
            "sha-256:5dd4",
            "md5:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61",
            "5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c61",
            "sha-256:5dd4fe3b0de91882dae86b223ca531b5c8f2335d9ee3fd0ab18dfdc2871d0c6é",
            "",
        ] {
            assert_eq!(ItemHash::parse(bad), None, "{bad}");
        }
    }
}
