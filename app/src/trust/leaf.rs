//! An event's leaf: the RFC 8785 (JCS) bytes of its canonical JSON, as `GET /api/v1/events/{id}` returns it,
//! without `log_index` (its place is the tree's business, not the leaf's).

use super::tree::{Hash, leaf_hash};
use crate::model::Event;

/// The leaf bytes of `event` (its `log_index`, if set, left out).
pub fn leaf_bytes(event: &Event) -> Vec<u8> {
    let bytes = if event.log_index.is_some() {
        let mut without = event.clone();
        without.log_index = None;
        serde_json_canonicalizer::to_vec(&without)
    } else {
        serde_json_canonicalizer::to_vec(event)
    };
    // An `Event` is strings, integers and parsed JSON: serializing it cannot fail.
    bytes.unwrap_or_default()
}

/// The leaf hash of `event`: SHA-256(0x00 || leaf bytes).
pub fn leaf_hash_of(event: &Event) -> Hash {
    leaf_hash(&leaf_bytes(event))
}
