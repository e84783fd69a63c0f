//! Proofs that travel with a JSONL export (docs/trust.md): the export's last line is
//! `{"auditlog_proof": {"checkpoint", "leaves", "hashes"}}`, a signed checkpoint that covers every event of
//! the file, each event's leaf hash in log order, and the multiproof that joins them to the checkpoint's root.
//! With the verifier key alone, anyone can check that every line is an event of the log, unaltered.

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Hash, Verifier,
    leaf::write_canonical,
    tree::{leaf_hash, multiproof_root},
};

/// The member name of the trailer line; an import skips the line that has it.
pub const TRAILER_KEY: &str = "auditlog_proof";

/// The trailer's content.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportProof {
    /// A signed checkpoint (C2SP signed note) whose tree holds every event of the file.
    pub checkpoint: String,
    /// The leaf hash of each event of the file, in log order (base64).
    pub leaves: Vec<String>,
    /// The multiproof from those leaves to the checkpoint's root (base64).
    pub hashes: Vec<String>,
}

impl ExportProof {
    /// The trailer line, newline included.
    pub fn line(&self) -> String {
        format!("{}\n", serde_json::json!({ TRAILER_KEY: self }))
    }
}

/// A hash as the formats write it: standard base64.
pub fn b64(hash: &Hash) -> String {
    B64.encode(hash)
}

fn unb64(text: &str) -> Option<Hash> {
    B64.decode(text).ok()?.try_into().ok()
}

/// What checking an export found: how many events it holds, and each problem (none: it verified).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExportCheck {
    pub events: u64,
    pub tree_size: u64,
    pub problems: Vec<String>,
}

/// Checks the JSONL text of an export against the verifier key.
pub fn verify_export(text: &str, key: &Verifier) -> ExportCheck {
    let mut check = ExportCheck::default();
    let mut events: Vec<(u64, Hash, usize, String)> = Vec::new();
    let mut proof: Option<ExportProof> = None;
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let number = n + 1;
        let Ok(Value::Object(mut event)) = serde_json::from_str::<Value>(line) else {
            check.problems.push(format!("line {number}: not a JSON object"));
            continue;
        };
        if let Some(trailer) = event.remove(TRAILER_KEY) {
            proof = serde_json::from_value(trailer).ok();
            continue;
        }
        let index = event.remove("log_index").and_then(|i| i.as_u64());
        let id = event.get("id").and_then(Value::as_str).unwrap_or("?").to_string();
        let Some(index) = index else {
            check
                .problems
                .push(format!("line {number}: event {id} has no log index"));
            continue;
        };
        let mut bytes = Vec::new();
        write_canonical(&Value::Object(event), &mut bytes);
        events.push((index, leaf_hash(&bytes), number, id));
    }
    let Some(proof) = proof else {
        check
            .problems
            .push(format!("no `{TRAILER_KEY}` line: the file carries no proof"));
        return check;
    };
    let checkpoint = match key.open(&proof.checkpoint) {
        Ok(cp) => cp,
        Err(e) => {
            check.problems.push(format!("the checkpoint: {e}"));
            return check;
        }
    };
    check.tree_size = checkpoint.size;
    events.sort_by_key(|e| e.0);
    let claimed: Vec<Option<Hash>> = proof.leaves.iter().map(|l| unb64(l)).collect();
    if claimed.len() != events.len() {
        check.problems.push(format!(
            "the proof has {} leaves for {} events",
            claimed.len(),
            events.len()
        ));
        return check;
    }
    for ((index, leaf, number, id), claimed) in events.iter().zip(&claimed) {
        if Some(*leaf) == *claimed {
            check.events += 1;
        } else {
            check.problems.push(format!(
                "line {number}: event {id} (log index {index}) does not match the log"
            ));
        }
    }
    let indexes: Vec<u64> = events.iter().map(|e| e.0).collect();
    let leaves: Option<Vec<Hash>> = claimed.into_iter().collect();
    let hashes: Option<Vec<Hash>> = proof.hashes.iter().map(|h| unb64(h)).collect();
    let root = leaves
        .zip(hashes)
        .and_then(|(leaves, hashes)| multiproof_root(&indexes, &leaves, checkpoint.size, &hashes));
    if root != Some(checkpoint.root) {
        check.problems.push(format!(
            "the proof does not lead to the root of the signed checkpoint of {} events",
            checkpoint.size
        ));
    }
    check
}
