//! The store's layout, as the design in `app/src/store/mod.rs` and `docs/architecture.md` states it: its files
//! import one way (no cycle between them) and none grows past 500 lines.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

const STORE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/store");
const MAX_LINES: usize = 500;

/// Every `.rs` file under `dir`, with its module name relative to the store (`filter`, `events/plan`).
fn modules(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            modules(&path, &format!("{prefix}{stem}/"), out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.insert(format!("{prefix}{stem}"), path);
        }
    }
}

/// The top-level items of a `{…}` list (or the one path): each item's first segment.
fn first_segments(list: &str) -> Vec<String> {
    let list = list.trim();
    let Some(inner) = list.strip_prefix('{').and_then(|l| l.strip_suffix('}')) else {
        return vec![list.split("::").next().unwrap_or("").trim().to_string()];
    };
    let (mut depth, mut start, mut items) = (0, 0, Vec::new());
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .map(|item| item.split("::").next().unwrap_or("").trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The modules of the store that `module`'s source names through `super::`, `self::` (in a `mod.rs`) or
/// `crate::store::`.
fn imports(module: &str, source: &str) -> BTreeSet<String> {
    let parent = match module.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/"),
        None => String::new(),
    };
    let is_mod = module.ends_with("/mod") || module == "mod";
    // `super::` from `events/plan` is `events/`; from `events/mod` it is the store; from `filter`, the store.
    let super_prefix = if is_mod { String::new() } else { parent.clone() };
    let self_prefix = if is_mod { parent.clone() } else { format!("{module}/") };
    let mut found = BTreeSet::new();
    for (at, _) in source.match_indices("::") {
        let before = &source[..at];
        let head = before
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .next()
            .unwrap_or("");
        let after = &source[at + 2..];
        let prefix = match head {
            "super" => Some(super_prefix.as_str()),
            "self" if is_mod => Some(self_prefix.as_str()),
            "crate::store" => Some(""),
            // `use crate::{model::…, store::{…}}`: `store` stands after a brace, not after `crate::`.
            "store" if before.trim_end_matches("store").trim_end().ends_with(['{', ',']) && in_crate_list(before) => {
                Some("")
            }
            _ => None,
        };
        if let Some(prefix) = prefix {
            let tail: String = match after.starts_with('{') {
                true => {
                    let mut depth = 0;
                    let end = after
                        .char_indices()
                        .find(|&(_, c)| {
                            depth += match c {
                                '{' => 1,
                                '}' => -1,
                                _ => 0,
                            };
                            depth == 0
                        })
                        .map_or(after.len(), |(i, _)| i + 1);
                    after[..end].to_string()
                }
                false => after
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or("")
                    .to_string(),
            };
            for name in first_segments(&tail) {
                if name != "self" && !name.is_empty() {
                    found.insert(format!("{prefix}{name}"));
                }
            }
        }
    }
    found
}

/// True when the text ends inside an open `crate::{` list.
fn in_crate_list(before: &str) -> bool {
    let Some(open) = before.rfind("crate::{") else {
        return false;
    };
    let inside = &before[open + "crate::".len()..];
    let depth: i32 = inside
        .chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum();
    depth == 1
}

/// The module a name refers to: `events` is `events/mod`.
fn resolve(name: &str, all: &BTreeMap<String, PathBuf>) -> Option<String> {
    [name.to_string(), format!("{name}/mod")]
        .into_iter()
        .find(|n| all.contains_key(n))
}

#[test]
fn the_store_files_import_one_way() {
    let mut all = BTreeMap::new();
    modules(Path::new(STORE), "", &mut all);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &all {
        let source = std::fs::read_to_string(path).unwrap();
        let deps = imports(module, &source)
            .into_iter()
            .filter_map(|n| resolve(&n, &all))
            .filter(|d| d != module)
            .collect();
        edges.insert(module.clone(), deps);
    }
    assert!(
        edges["filter"].contains("schema") && edges["events/plan"].contains("handle"),
        "the import reader finds nothing: {edges:?}"
    );
    // Depth-first search for a cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_string());
                return Some(cycle);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if let Some(cycle) = visit(node, &edges, &mut state, &mut Vec::new()) {
            panic!("the store's files import in a circle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn no_store_file_is_longer_than_five_hundred_lines() {
    let mut all = BTreeMap::new();
    modules(Path::new(STORE), "", &mut all);
    let long: Vec<String> = all
        .iter()
        .map(|(module, path)| (module, std::fs::read_to_string(path).unwrap().lines().count()))
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(module, lines)| format!("{module}: {lines} lines"))
        .collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_import_reader_sees_nested_lists() {
    let source = "use super::{error::StoreError, filter::{Resolved, push_like}, handle::AuditStore};\n\
                  fn f() { super::days::total(x); crate::store::schema::WHO; }";
    let found = imports("fulltext", source);
    let names: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(names, ["days", "error", "filter", "handle", "schema"]);
    let nested = imports(
        "events/plan",
        "use crate::store::{days::counted_per_day, tuning::Tuning}; super::count::key",
    );
    let names: Vec<&str> = nested.iter().map(String::as_str).collect();
    assert_eq!(names, ["days", "events/count", "tuning"]);
}
