//! Property tests: proofs over random logs, canonicalisation, and a parser that never panics.

mod common;

use common::{data, snapshot};
use proptest::prelude::*;
use register_core::merkle::{
    self, consistency_proof, inclusion_proof, leaf_hash, node_hash, verify_consistency,
    verify_inclusion, Frontier, MemoryNodeStore,
};
use register_core::{canonicalise, item::check_canonical, Digest, Item, Mode};

/// RFC 6962's definitions, computed from the leaves: the reference the stored tree must match.
fn mth(leaves: &[Digest]) -> Digest {
    match leaves.len() {
        0 => merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn path(m: usize, leaves: &[Digest]) -> Vec<Digest> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m < k {
        let mut p = path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn subproof(m: usize, leaves: &[Digest], complete: bool) -> Vec<Digest> {
    let n = leaves.len();
    if m == n {
        return if complete { vec![] } else { vec![mth(leaves)] };
    }
    let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
    if m <= k {
        let mut p = subproof(m, &leaves[..k], complete);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn proofs_verify_for_every_pair(seeds in prop::collection::vec(any::<u64>(), 1..40)) {
        let leaves: Vec<Digest> = seeds.iter().map(|s| leaf_hash(&s.to_le_bytes())).collect();
        let mut store = MemoryNodeStore::new();
        let mut frontier = Frontier::new();
        let mut roots = vec![merkle::empty_root()];
        for leaf in &leaves {
            frontier.append(*leaf, |l, i, h| store.push(l, i, h));
            roots.push(frontier.root());
        }
        let n = leaves.len();
        for size in 1..=n {
            prop_assert_eq!(roots[size], mth(&leaves[..size]));
            for index in 0..size {
                let p = inclusion_proof(&store, index as u64, size as u64).expect("path");
                prop_assert_eq!(&p, &path(index, &leaves[..size]));
                prop_assert!(verify_inclusion(&leaves[index], index as u64, size as u64, &p, &roots[size]));
            }
            for m in 1..=size {
                let p = consistency_proof(&store, m as u64, size as u64).expect("proof");
                let expected = if m == size { vec![] } else { subproof(m, &leaves[..size], true) };
                prop_assert_eq!(&p, &expected);
                prop_assert!(verify_consistency(m as u64, size as u64, &roots[m], &roots[size], &p));
                if m < size {
                    prop_assert!(!verify_consistency(m as u64, size as u64, &roots[size], &roots[size], &p));
                }
            }
        }
    }

    #[test]
    fn canonicalisation_is_idempotent(
        fields in prop::collection::btree_map(
            "[a-z][a-z0-9-]{0,8}",
            prop_oneof![
                any::<String>().prop_map(serde_json::Value::String),
                prop::collection::vec(any::<String>(), 0..4)
                    .prop_map(|l| serde_json::Value::Array(l.into_iter().map(serde_json::Value::String).collect())),
            ],
            0..6,
        ),
        pretty in any::<bool>(),
    ) {
        let object = serde_json::Value::Object(fields.into_iter().collect());
        let json = if pretty {
            serde_json::to_string_pretty(&object).expect("json")
        } else {
            serde_json::to_string(&object).expect("json")
        };
        let once = canonicalise(&json).expect("canonicalise");
        prop_assert_eq!(canonicalise(&once).expect("again"), once.clone());
        prop_assert!(check_canonical(&once).is_ok());
        prop_assert_eq!(Item::parse_canonical(&once).expect("canonical").canonical_json(), once.clone());
        // Canonical JSON is still JSON with the same content.
        let back: serde_json::Value = serde_json::from_str(&once).expect("valid JSON");
        prop_assert_eq!(back, object);
    }

    #[test]
    fn mutated_rsf_never_panics_and_never_half_applies(
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
        relaxed in any::<bool>(),
    ) {
        let mut bytes = data("colour.rsf");
        for (at, byte, kind) in mutations {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                2 => { bytes.remove(i); }
                _ => bytes.truncate(i),
            }
        }
        let mode = if relaxed { Mode::Relaxed } else { Mode::Strict };
        let mut register = common::loaded("colour.rsf", Mode::Strict);
        let before = snapshot(&register);
        if register.load(&bytes[..], mode).is_err() {
            prop_assert_eq!(snapshot(&register), before);
        }
        let _ = register_core::verify(&bytes[..], mode);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = register_core::verify(&bytes[..], Mode::Strict);
        let _ = register_core::verify(&bytes[..], Mode::Relaxed);
    }
}
