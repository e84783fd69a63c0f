//! The Merkle tree of RFC 6962 section 2.1 (SHA-256): the hash of a range of leaves, audit paths and
//! consistency proofs, computed from whatever complete subtrees a `Nodes` source can give, and the `Frontier`
//! the writer keeps to append leaves and know the root at once.

use sha2::{Digest, Sha256};

/// A SHA-256 hash.
pub type Hash = [u8; 32];

/// SHA-256(0x00 || leaf bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(bytes);
    h.finalize().into()
}

/// SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of nothing.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Where the hashes of complete subtrees come from: the subtree at `level` (2^level leaves) and `index` covers
/// leaves `index << level .. (index + 1) << level`.
pub trait Nodes {
    type Error;
    fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two smaller than `n` (n ≥ 2): where RFC 6962 splits a range.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start:end]) for a range the RFC's recursion reaches (it starts at a multiple of the largest power
/// of two not above its length).
pub fn range_hash<N: Nodes>(nodes: &mut N, start: u64, end: u64) -> Result<Hash, N::Error> {
    let n = end - start;
    if n == 0 {
        return Ok(empty_root());
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return nodes.subtree(n.trailing_zeros(), start >> n.trailing_zeros());
    }
    let k = split(n);
    Ok(node_hash(
        &range_hash(nodes, start, start + k)?,
        &range_hash(nodes, start + k, end)?,
    ))
}

/// The audit path of leaf `index` in the tree of `size` leaves (RFC 6962 2.1.1 PATH), leaf side first.
pub fn inclusion_proof<N: Nodes>(nodes: &mut N, index: u64, size: u64) -> Result<Vec<Hash>, N::Error> {
    let mut path = Vec::new();
    let (mut start, mut end) = (0, size);
    // Walk down from the root, noting each sibling; the path lists them from the leaf up.
    while end - start > 1 {
        let k = split(end - start);
        if index < start + k {
            path.push(range_hash(nodes, start + k, end)?);
            end = start + k;
        } else {
            path.push(range_hash(nodes, start, start + k)?);
            start += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof from the tree of `old` leaves to the tree of `new` (RFC 6962 2.1.2 PROOF), for
/// 0 < old ≤ new; empty when they are equal.
pub fn consistency_proof<N: Nodes>(nodes: &mut N, old: u64, new: u64) -> Result<Vec<Hash>, N::Error> {
    let mut proof = Vec::new();
    let (mut m, mut start, mut end, mut whole) = (old, 0, new, true);
    // SUBPROOF(m, D[start:end], whole), unrolled: each step adds one hash, listed from the bottom up.
    while m < end - start {
        let k = split(end - start);
        if m <= k {
            proof.push(range_hash(nodes, start + k, end)?);
            end = start + k;
        } else {
            proof.push(range_hash(nodes, start, start + k)?);
            start += k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        proof.push(range_hash(nodes, start, end)?);
    }
    proof.reverse();
    Ok(proof)
}

/// The hashes that, with the leaves at `indexes` (sorted, distinct, each below `size`), give the root of the
/// tree of `size` leaves: the root of each largest subtree that holds none of those leaves, left to right. An
/// export carries it (docs/trust.md): for a run of consecutive events it is a few hashes, for scattered ones
/// about log2(size / count) each.
pub fn multiproof<N: Nodes>(nodes: &mut N, indexes: &[u64], size: u64) -> Result<Vec<Hash>, N::Error> {
    fn walk<N: Nodes>(nodes: &mut N, start: u64, end: u64, held: &[u64], out: &mut Vec<Hash>) -> Result<(), N::Error> {
        if held.is_empty() {
            out.push(range_hash(nodes, start, end)?);
        } else if end - start > 1 {
            let mid = start + split(end - start);
            let at = held.partition_point(|&i| i < mid);
            walk(nodes, start, mid, &held[..at], out)?;
            walk(nodes, mid, end, &held[at..], out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    if size > 0 {
        walk(nodes, 0, size, indexes, &mut out)?;
    }
    Ok(out)
}

/// The root of the tree of `size` leaves from the leaves at `indexes` (sorted, distinct, in that order in
/// `leaves`) and a `multiproof`'s hashes; `None` when they do not fit together.
pub fn multiproof_root(indexes: &[u64], leaves: &[Hash], size: u64, hashes: &[Hash]) -> Option<Hash> {
    fn walk(start: u64, end: u64, held: (&[u64], &[Hash]), hashes: &mut std::slice::Iter<'_, Hash>) -> Option<Hash> {
        let (indexes, leaves) = held;
        if indexes.is_empty() {
            return hashes.next().copied();
        }
        if end - start == 1 {
            return (indexes == [start]).then(|| leaves[0]);
        }
        let mid = start + split(end - start);
        let at = indexes.partition_point(|&i| i < mid);
        let left = walk(start, mid, (&indexes[..at], &leaves[..at]), hashes)?;
        let right = walk(mid, end, (&indexes[at..], &leaves[at..]), hashes)?;
        Some(node_hash(&left, &right))
    }
    if indexes.len() != leaves.len() || indexes.last().is_some_and(|&i| i >= size) || size == 0 {
        return None;
    }
    let mut rest = hashes.iter();
    let root = walk(0, size, (indexes, leaves), &mut rest)?;
    rest.next().is_none().then_some(root)
}

/// The right edge of a tree: the roots of its complete subtrees, largest first. Enough to append a leaf and
/// to know the root without reading anything.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frontier {
    size: u64,
    /// (level, hash), levels strictly decreasing.
    edge: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The frontier of the tree of `size` leaves, read from `nodes`.
    pub fn load<N: Nodes>(nodes: &mut N, size: u64) -> Result<Self, N::Error> {
        let mut edge = Vec::new();
        let mut start = 0;
        for level in (0..64u32).rev() {
            if size & (1 << level) != 0 {
                edge.push((level, nodes.subtree(level, start >> level)?));
                start += 1 << level;
            }
        }
        Ok(Frontier { size, edge })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf; `completed` sees each subtree the leaf completes, as (level ≥ 1, index, hash).
    pub fn push(&mut self, leaf: Hash, mut completed: impl FnMut(u32, u64, &Hash)) {
        let mut node = (0u32, leaf);
        while let Some(&(level, left)) = self.edge.last()
            && level == node.0
        {
            self.edge.pop();
            node = (level + 1, node_hash(&left, &node.1));
            completed(node.0, self.size >> node.0, &node.1);
        }
        self.edge.push(node);
        self.size += 1;
    }

    /// The root of the tree as it stands.
    pub fn root(&self) -> Hash {
        let mut hashes = self.edge.iter().rev().map(|(_, h)| *h);
        match hashes.next() {
            None => empty_root(),
            Some(last) => hashes.fold(last, |right, left| node_hash(&left, &right)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every leaf kept: a subtree is hashed from its leaves.
    struct Leaves(Vec<Hash>);

    impl Nodes for Leaves {
        type Error = ();
        fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, ()> {
            if level == 0 {
                return self.0.get(index as usize).copied().ok_or(());
            }
            let left = self.subtree(level - 1, index * 2)?;
            let right = self.subtree(level - 1, index * 2 + 1)?;
            Ok(node_hash(&left, &right))
        }
    }

    fn leaves(n: u64) -> Leaves {
        Leaves((0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect())
    }

    /// MTH as RFC 6962 writes it, recursively over the slice.
    fn mth(d: &[Hash]) -> Hash {
        match d.len() {
            0 => empty_root(),
            1 => d[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&mth(&d[..k]), &mth(&d[k..]))
            }
        }
    }

    #[test]
    fn the_frontier_root_is_the_rfc_root_at_every_size() {
        let all = leaves(70);
        let mut f = Frontier::default();
        for (i, leaf) in all.0.iter().enumerate() {
            f.push(*leaf, |_, _, _| {});
            assert_eq!(f.root(), mth(&all.0[..=i]), "size {}", i + 1);
            let mut source = Leaves(all.0[..=i].to_vec());
            assert_eq!(Frontier::load(&mut source, i as u64 + 1).unwrap(), f);
            assert_eq!(range_hash(&mut source, 0, i as u64 + 1).unwrap(), f.root());
        }
    }

    #[test]
    fn pushing_reports_each_completed_subtree_once() {
        let mut f = Frontier::default();
        let mut seen = Vec::new();
        for leaf in leaves(8).0 {
            f.push(leaf, |level, index, _| seen.push((level, index)));
        }
        assert_eq!(seen, [(1, 0), (1, 1), (2, 0), (1, 2), (1, 3), (2, 1), (3, 0)]);
    }

    #[test]
    fn a_multiproof_gives_the_root_for_any_set_of_leaves_and_fails_when_one_changes() {
        let all = leaves(37);
        let root = mth(&all.0);
        for set in [
            vec![0],
            vec![36],
            vec![3, 4, 5, 6],
            vec![0, 1, 17, 30, 36],
            (0..37).collect::<Vec<u64>>(),
        ] {
            let mut source = Leaves(all.0.clone());
            let proof = multiproof(&mut source, &set, 37).unwrap();
            let held: Vec<Hash> = set.iter().map(|&i| all.0[i as usize]).collect();
            assert_eq!(multiproof_root(&set, &held, 37, &proof), Some(root), "{set:?}");
            let mut changed = held.clone();
            changed[0][0] ^= 1;
            assert_ne!(multiproof_root(&set, &changed, 37, &proof), Some(root));
            let fewer = set.len() - 1;
            assert_ne!(multiproof_root(&set[..fewer], &held[..fewer], 37, &proof), Some(root));
        }
        assert!(
            multiproof(&mut leaves(37), &(0..37).collect::<Vec<_>>(), 37)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn proofs_have_the_rfc_lengths() {
        let mut all = leaves(7);
        // RFC 6962 2.1.3's example tree of 7 leaves: d0's path has 3 hashes, d6's 2.
        assert_eq!(inclusion_proof(&mut all, 0, 7).unwrap().len(), 3);
        assert_eq!(inclusion_proof(&mut all, 6, 7).unwrap().len(), 2);
        // Its consistency examples: 3 → 7 has 4 hashes, 4 → 7 one, 6 → 7 three.
        assert_eq!(consistency_proof(&mut all, 3, 7).unwrap().len(), 4);
        assert_eq!(consistency_proof(&mut all, 4, 7).unwrap().len(), 1);
        assert_eq!(consistency_proof(&mut all, 6, 7).unwrap().len(), 3);
        assert!(consistency_proof(&mut all, 7, 7).unwrap().is_empty());
    }
}
