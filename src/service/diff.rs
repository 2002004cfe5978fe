//! Field-level differences between two versions of a record, for the audit log.

use serde::Serialize;
use serde_json::Value;

use crate::audit::Change;

/// Fields that change on every write and say nothing to an auditor.
const NOISE: &[&str] = &["updated_at", "revision"];

/// The changed leaf fields between `old` and `new`, named by dotted path
/// (`provider.npi`), rendered as text. `None` on a side means the field was absent or null.
pub fn diff<T: Serialize>(old: Option<&T>, new: Option<&T>) -> Vec<Change> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    if let Some(o) = old.and_then(|o| serde_json::to_value(o).ok()) {
        flatten("", &o, &mut a);
    }
    if let Some(n) = new.and_then(|n| serde_json::to_value(n).ok()) {
        flatten("", &n, &mut b);
    }
    let mut keys: Vec<&String> = a.iter().chain(b.iter()).map(|(k, _)| k).collect();
    keys.sort();
    keys.dedup();
    let find = |list: &[(String, Option<String>)], key: &str| {
        list.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.clone())
    };
    keys.into_iter()
        .filter(|k| !NOISE.contains(&k.as_str()))
        .filter_map(|k| {
            let (o, n) = (find(&a, k), find(&b, k));
            (o != n).then(|| Change::new(k, o, n))
        })
        .collect()
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Option<String>)>) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, child, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), None)),
        Value::String(s) => out.push((prefix.to_string(), Some(s.clone()))),
        other => out.push((prefix.to_string(), Some(other.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Inner {
        npi: Option<String>,
    }

    #[derive(Serialize)]
    struct Rec {
        name: String,
        n: u32,
        inner: Inner,
        revision: u64,
    }

    #[test]
    fn reports_only_changed_leaves() {
        let a = Rec {
            name: "A".into(),
            n: 1,
            inner: Inner { npi: None },
            revision: 1,
        };
        let b = Rec {
            name: "A".into(),
            n: 2,
            inner: Inner {
                npi: Some("1234567893".into()),
            },
            revision: 2,
        };
        let d = diff(Some(&a), Some(&b));
        assert_eq!(
            d,
            vec![
                Change::new("inner.npi", None, Some("1234567893".into())),
                Change::new("n", Some("1".into()), Some("2".into())),
            ]
        );
        // A create lists every set field; unset (null) fields and noise are left out.
        assert_eq!(diff(None, Some(&a)).len(), 2);
    }
}
