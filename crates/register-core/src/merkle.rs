//! RFC 6962 Merkle trees: O(log n) append, roots at any size, inclusion and consistency proofs.
//!
//! The tree is stored as its **complete aligned subtrees**: node `(level, index)` is the hash of
//! leaves `index·2^level .. (index+1)·2^level`, written once when its last leaf arrives and never
//! changed. That is 2n hashes for n leaves, it is append-only (a database can persist it with
//! plain inserts), and any range the RFC's recursions ask for is either one such node or a fold
//! of at most log₂ n of them. So a root at any size, an audit path or a consistency proof costs
//! O(log n) [`NodeStore::node`] reads, whatever the store.
//!
//! Appending needs only the [`Frontier`]: the roots of the perfect subtrees that make up the
//! current size (one per set bit). It reports every node it completes to a sink, so the caller
//! decides where nodes go (memory, a staging batch, SQL rows).

use sha2::{Digest as _, Sha256};

use crate::error::Error;
use crate::hash::Digest;

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Digest {
    Digest::of(b"")
}

/// `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Digest {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    Digest(h.finalize().into())
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left.0);
    h.update(right.0);
    Digest(h.finalize().into())
}

/// Read access to the complete subtree hashes of one tree.
pub trait NodeStore {
    /// The hash of the complete subtree at `level` (0 = leaf hashes) and `index`, covering
    /// leaves `index << level .. (index + 1) << level`.
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error>;
}

/// The right edge of a tree: enough to append and to compute the current root.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots of the perfect subtrees of `size`'s binary decomposition, largest (leftmost) first.
    peaks: Vec<Digest>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// Rebuilds the frontier of a tree of `size` leaves from its store: one read per set bit.
    pub fn from_store<S: NodeStore + ?Sized>(store: &S, size: u64) -> Result<Frontier, Error> {
        let mut peaks = Vec::with_capacity(size.count_ones() as usize);
        let mut offset = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                peaks.push(store.node(level, offset >> level)?);
                offset += 1u64 << level;
            }
        }
        Ok(Frontier { size, peaks })
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The current root (RFC 6962 MTH).
    pub fn root(&self) -> Digest {
        let mut peaks = self.peaks.iter().rev();
        let Some(last) = peaks.next() else {
            return empty_root();
        };
        peaks.fold(*last, |acc, left| node_hash(left, &acc))
    }

    /// Appends a leaf hash; `sink(level, index, hash)` receives the leaf node and every subtree
    /// it completes, lowest level first.
    pub fn append(&mut self, leaf: Digest, mut sink: impl FnMut(u32, u64, Digest)) {
        let mut index = self.size;
        let mut level = 0u32;
        let mut hash = leaf;
        sink(level, index, hash);
        while index & 1 == 1 {
            // Odd index: this node is a right child; its left sibling is the smallest peak.
            let Some(left) = self.peaks.pop() else { break };
            hash = node_hash(&left, &hash);
            level += 1;
            index >>= 1;
            sink(level, index, hash);
        }
        self.peaks.push(hash);
        self.size += 1;
    }
}

/// The root of the first `size` leaves.
pub fn root_at<S: NodeStore + ?Sized>(store: &S, size: u64) -> Result<Digest, Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(store, 0, size)
}

/// MTH of leaves `lo..hi` (non-empty). Reads one node when the range is an aligned perfect
/// subtree, else splits as the RFC does; for the ranges proofs use, that is O(log n) reads.
fn range_hash<S: NodeStore + ?Sized>(store: &S, lo: u64, hi: u64) -> Result<Digest, Error> {
    let len = hi - lo;
    if len.is_power_of_two() && lo % len == 0 {
        return store.node(len.trailing_zeros(), lo >> len.trailing_zeros());
    }
    let k = split(len);
    let left = range_hash(store, lo, lo + k)?;
    let right = range_hash(store, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The audit path of leaf `index` (0-based) in the tree of the first `size` leaves, nearest
/// sibling first (RFC 6962 §2.1.1).
pub fn inclusion_proof<S: NodeStore + ?Sized>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Digest>, Error> {
    if index >= size {
        return Err(Error::EntryOutOfRange {
            entry: index + 1,
            size,
        });
    }
    let mut path = Vec::new();
    audit_path(store, index, 0, size, &mut path)?;
    Ok(path)
}

fn audit_path<S: NodeStore + ?Sized>(
    store: &S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Digest>,
) -> Result<(), Error> {
    if hi - lo <= 1 {
        return Ok(());
    }
    let k = split(hi - lo);
    if m < lo + k {
        audit_path(store, m, lo, lo + k, out)?;
        out.push(range_hash(store, lo + k, hi)?);
    } else {
        audit_path(store, m, lo + k, hi, out)?;
        out.push(range_hash(store, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof from the tree of the first `m` leaves to that of the first `n`
/// (RFC 6962 §2.1.2). Empty when `m == n` or `m == 0`.
pub fn consistency_proof<S: NodeStore + ?Sized>(
    store: &S,
    m: u64,
    n: u64,
) -> Result<Vec<Digest>, Error> {
    if m > n {
        return Err(Error::InvalidRange { from: m, to: n });
    }
    let mut proof = Vec::new();
    if m > 0 && m < n {
        subproof(store, m, 0, n, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<S: NodeStore + ?Sized>(
    store: &S,
    m: u64,
    lo: u64,
    hi: u64,
    complete: bool,
    out: &mut Vec<Digest>,
) -> Result<(), Error> {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push(range_hash(store, lo, hi)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(store, m, lo, lo + k, complete, out)?;
        out.push(range_hash(store, lo + k, hi)?);
    } else {
        subproof(store, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(store, lo, lo + k)?);
    }
    Ok(())
}

/// Checks an audit path for leaf `index` (0-based) of a tree of `size` leaves against `root`
/// (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf: &Digest,
    index: u64,
    size: u64,
    path: &[Digest],
    root: &Digest,
) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && r == *root
}

/// Checks a consistency proof between a tree of `m` leaves with root `root_m` and one of `n`
/// leaves with root `root_n` (RFC 9162 §2.1.4.2).
pub fn verify_consistency(
    m: u64,
    n: u64,
    root_m: &Digest,
    root_n: &Digest,
    proof: &[Digest],
) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && root_m == root_n;
    }
    if m == 0 {
        return proof.is_empty() && *root_m == empty_root();
    }
    let mut nodes: Vec<Digest> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        nodes.push(*root_m);
    }
    nodes.extend_from_slice(proof);
    let Some((first, rest)) = nodes.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    fr == *root_m && sr == *root_n && sn == 0
}

/// An in-memory [`NodeStore`]: one vector of hashes per level.
#[derive(Debug, Clone, Default)]
pub struct MemoryNodeStore {
    levels: Vec<Vec<Digest>>,
}

impl MemoryNodeStore {
    /// An empty store.
    pub fn new() -> MemoryNodeStore {
        MemoryNodeStore::default()
    }

    /// Records a node reported by [`Frontier::append`]. Nodes of one level arrive in order.
    pub fn push(&mut self, level: u32, index: u64, hash: Digest) {
        let level = level as usize;
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        if let Some(nodes) = self.levels.get_mut(level) {
            debug_assert_eq!(nodes.len() as u64, index, "nodes arrive in order");
            nodes.push(hash);
        }
    }

    /// Appends nodes collected by a [`NodeBatch`].
    pub fn extend(&mut self, batch: NodeBatch) {
        for (level, nodes) in batch.levels.into_iter().enumerate() {
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            if let Some(existing) = self.levels.get_mut(level) {
                if existing.is_empty() {
                    *existing = nodes;
                } else {
                    existing.extend(nodes);
                }
            }
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }
}

impl NodeStore for MemoryNodeStore {
    fn node(&self, level: u32, index: u64) -> Result<Digest, Error> {
        self.levels
            .get(level as usize)
            .and_then(|nodes| nodes.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or(Error::MissingNode { level, index })
    }
}

/// Nodes completed by a run of appends, kept apart until they are committed: per level, the
/// new hashes in index order, starting right after the nodes the store already holds.
#[derive(Debug, Clone, Default)]
pub struct NodeBatch {
    levels: Vec<Vec<Digest>>,
}

impl NodeBatch {
    /// Records one node (a [`Frontier::append`] sink).
    pub fn push(&mut self, level: u32, hash: Digest) {
        let level = level as usize;
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        if let Some(nodes) = self.levels.get_mut(level) {
            nodes.push(hash);
        }
    }

    /// The new nodes of each level with their indexes, given the tree size before the batch.
    pub fn nodes(&self, base_size: u64) -> impl Iterator<Item = (u32, u64, Digest)> + '_ {
        self.levels
            .iter()
            .enumerate()
            .flat_map(move |(level, nodes)| {
                let first = base_size >> level;
                nodes
                    .iter()
                    .enumerate()
                    .map(move |(i, h)| (level as u32, first + i as u64, *h))
            })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }

    /// Whether no node was added.
    pub fn is_empty(&self) -> bool {
        self.levels.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(n: u64) -> (MemoryNodeStore, Frontier, Vec<Digest>) {
        let mut store = MemoryNodeStore::new();
        let mut frontier = Frontier::new();
        let mut roots = vec![empty_root()];
        for i in 0..n {
            frontier.append(leaf_hash(&i.to_le_bytes()), |l, idx, h| {
                store.push(l, idx, h)
            });
            roots.push(frontier.root());
        }
        (store, frontier, roots)
    }

    /// The RFC's recursive definition, straight from the text, as the reference.
    fn reference_root(leaves: &[Digest]) -> Digest {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn roots_match_the_recursive_definition_at_every_size() {
        let (store, frontier, roots) = tree(70);
        let leaves: Vec<Digest> = (0..70u64).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        for size in 0..=70u64 {
            let expected = reference_root(&leaves[..size as usize]);
            assert_eq!(roots[size as usize], expected, "frontier root at {size}");
            assert_eq!(
                root_at(&store, size).ok(),
                Some(expected),
                "stored root at {size}"
            );
            let rebuilt = Frontier::from_store(&store, size).expect("frontier");
            assert_eq!(rebuilt.root(), expected);
        }
        assert_eq!(frontier.size(), 70);
    }

    #[test]
    fn proofs_verify_and_tampering_fails() {
        let (store, _, roots) = tree(33);
        for size in 1..=33u64 {
            for index in 0..size {
                let path = inclusion_proof(&store, index, size).expect("path");
                let leaf = leaf_hash(&index.to_le_bytes());
                assert!(verify_inclusion(
                    &leaf,
                    index,
                    size,
                    &path,
                    &roots[size as usize]
                ));
                let other = leaf_hash(&(index + 1000).to_le_bytes());
                assert!(!verify_inclusion(
                    &other,
                    index,
                    size,
                    &path,
                    &roots[size as usize]
                ));
                if let Some(first) = path.first() {
                    let mut bad = path.clone();
                    bad[0] = node_hash(first, first);
                    assert!(!verify_inclusion(
                        &leaf,
                        index,
                        size,
                        &bad,
                        &roots[size as usize]
                    ));
                }
            }
            for m in 0..=size {
                let proof = consistency_proof(&store, m, size).expect("proof");
                let (rm, rn) = (&roots[m as usize], &roots[size as usize]);
                assert!(verify_consistency(m, size, rm, rn, &proof), "{m}->{size}");
                if m > 0 && m < size {
                    assert!(!verify_consistency(m, size, rn, rn, &proof), "{m}->{size}");
                }
            }
        }
        assert!(inclusion_proof(&store, 5, 5).is_err());
        assert!(consistency_proof(&store, 6, 5).is_err());
    }

    #[test]
    fn node_batch_indexes_continue_the_store() {
        let (mut store, mut frontier, _) = tree(5);
        let mut batch = NodeBatch::default();
        for i in 5..9u64 {
            frontier.append(leaf_hash(&i.to_le_bytes()), |l, _, h| batch.push(l, h));
        }
        let positions: Vec<(u32, u64)> = batch.nodes(5).map(|(l, i, _)| (l, i)).collect();
        assert_eq!(
            positions,
            vec![
                (0, 5),
                (0, 6),
                (0, 7),
                (0, 8),
                (1, 2),
                (1, 3),
                (2, 1),
                (3, 0)
            ]
        );
        store.extend(batch);
        assert_eq!(root_at(&store, 9).ok(), Some(frontier.root()));
    }
}
