//! Tamper evidence in the standard formats (docs/trust.md), so that anyone can check the log without
//! trusting this product: each event's leaf (RFC 8785 bytes of its canonical JSON), the RFC 6962 Merkle tree
//! over the leaves in commit order, and checkpoints of the tree signed as C2SP signed notes. Pure: the store
//! keeps the hashes, this computes and checks them. Server-side only.

pub mod export;
pub mod leaf;
pub mod note;
pub mod tree;

pub use leaf::leaf_hash_of;
pub use note::{Checkpoint, Signer, Verifier};
pub use tree::{Frontier, Hash, Nodes};
