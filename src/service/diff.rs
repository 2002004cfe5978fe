//! Field-level differences between two versions of a record, for the audit log.

mod flat;

use serde::Serialize;

use crate::audit::Change;
use flat::Flat;

/// Fields that change on every write and say nothing to an auditor.
const NOISE: &[&str] = &["updated_at", "revision"];

/// The changed leaf fields between `old` and `new`, named by dotted path
/// (`provider.npi`), rendered as text, sorted by path. `None` on a side means the field was
/// absent or null.
pub fn diff<T: Serialize>(old: Option<&T>, new: Option<&T>) -> Vec<Change> {
    let a = old.map(Flat::of).unwrap_or_default();
    let b = new.map(Flat::of).unwrap_or_default();
    let mut out = Vec::new();
    let mut push = |path: &str, o: Option<&str>, n: Option<&str>| {
        if o != n && !NOISE.contains(&path) {
            out.push(Change::new(
                path,
                o.map(str::to_string),
                n.map(str::to_string),
            ));
        }
    };
    let aligned = a.len() == b.len() && (0..a.len()).all(|i| a.path(i) == b.path(i));
    if a.is_empty() || b.is_empty() {
        // A create or a delete: every leaf of the one side, in path order.
        let (side, old) = if a.is_empty() {
            (&b, false)
        } else {
            (&a, true)
        };
        let mut order: Vec<usize> = (0..side.len()).collect();
        order.sort_by(|x, y| side.path(*x).cmp(side.path(*y)));
        for i in order {
            let value = side.value(i);
            if old {
                push(side.path(i), value, None);
            } else {
                push(side.path(i), None, value);
            }
        }
        return out;
    } else if aligned {
        // Two versions of one record type with the same shape: the leaves pair up in order.
        for i in 0..a.len() {
            push(a.path(i), a.value(i), b.value(i));
        }
    } else {
        // Different shapes (a create, a delete, an enum or option that changed variant): pair
        // the leaves by path; a leaf missing on one side is `None` there.
        let sorted = |f: &Flat| {
            let mut order: Vec<usize> = (0..f.len()).collect();
            order.sort_by(|x, y| f.path(*x).cmp(f.path(*y)));
            order
        };
        let (oa, ob) = (sorted(&a), sorted(&b));
        let (mut i, mut j) = (0, 0);
        while i < oa.len() || j < ob.len() {
            let pa = oa.get(i).map(|&x| a.path(x));
            let pb = ob.get(j).map(|&y| b.path(y));
            match (pa, pb) {
                (Some(p), Some(q)) if p == q => {
                    push(p, a.value(oa[i]), b.value(ob[j]));
                    i += 1;
                    j += 1;
                }
                (Some(p), Some(q)) if p > q => {
                    push(q, None, b.value(ob[j]));
                    j += 1;
                }
                (Some(p), _) => {
                    push(p, a.value(oa[i]), None);
                    i += 1;
                }
                (None, Some(q)) => {
                    push(q, None, b.value(ob[j]));
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
    out.sort_by(|x, y| x.field.cmp(&y.field));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[derive(Serialize, Clone)]
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

    /// The first implementation: the records as `serde_json::Value`s, flattened completely,
    /// compared path by path.
    fn reference(old: Option<&impl Serialize>, new: Option<&impl Serialize>) -> Vec<Change> {
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

    #[test]
    fn skipping_equal_subtrees_changes_nothing_in_the_result() {
        use crate::model::{DataScope, FacilityAccess, LoginMethod, UserStatus};
        let base = crate::model::tests::sample_user();
        let edits: Vec<fn(&mut crate::model::User)> = vec![
            |_| {},
            |u| u.first_name = "Alicia".into(),
            |u| u.username = Some("alice".into()),
            |u| u.login_method = LoginMethod::Username,
            |u| u.status = UserStatus::Deactivated,
            |u| u.deactivation_reason = Some("left".into()),
            |u| u.access = FacilityAccess::All,
            |u| u.access = FacilityAccess::Only([2, 3].into()),
            |u| u.data_scope = DataScope::All,
            |u| u.provider.npi = Some("1234567893".into()),
            |u| u.provider.capacity = 3,
            |u| u.notifications.dos_threshold = Some(2),
            |u| u.notifications.new_lead = true,
            |u| u.revision = 9,
            |u| u.updated_at = jiff::Timestamp::from_second(1_800_000_000).unwrap(),
            |u| {
                u.last_name = "Jones".into();
                u.provider.taxonomy = Some("207Q00000X".into());
                u.part_time = true;
            },
        ];
        let with = |a: &[fn(&mut crate::model::User)]| {
            let mut u = base.clone();
            a.iter().for_each(|e| e(&mut u));
            u
        };
        let singles: Vec<_> = edits.iter().map(|e| with(&[*e])).collect();
        let mut pairs = Vec::new();
        for (i, a) in edits.iter().enumerate() {
            for b in &edits[i..] {
                pairs.push(with(&[*a, *b]));
            }
        }
        for old in &pairs {
            assert_eq!(
                diff(Some(old), None),
                reference(Some(old), None::<&crate::model::User>)
            );
            assert_eq!(
                diff(None, Some(old)),
                reference(None::<&crate::model::User>, Some(old))
            );
            for new in &singles {
                assert_eq!(diff(Some(old), Some(new)), reference(Some(old), Some(new)));
                assert_eq!(diff(Some(new), Some(old)), reference(Some(new), Some(old)));
            }
        }
        assert!(diff::<crate::model::User>(None, None).is_empty());
    }

    #[derive(Serialize, Clone)]
    struct Empty {}

    #[derive(Serialize, Clone)]
    #[serde(rename_all = "lowercase")]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Fields { a: Option<bool>, b: Empty },
    }

    #[derive(Serialize, Clone)]
    struct Everything {
        shape: Shape,
        maybe: Option<Inner>,
        empty: Empty,
        map: std::collections::BTreeMap<u32, String>,
        list: Vec<String>,
        float: f64,
        letter: char,
        signed: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        unit: (),
        bytes: serde_json::Value,
    }

    #[test]
    fn every_serde_shape_renders_as_serde_json_renders_it() {
        let base = Everything {
            shape: Shape::Unit,
            maybe: None,
            empty: Empty {},
            map: std::collections::BTreeMap::new(),
            list: Vec::new(),
            float: 1.0,
            letter: 'é',
            signed: -3,
            skipped: None,
            unit: (),
            bytes: Value::Null,
        };
        let edits: Vec<fn(&mut Everything)> = vec![
            |_| {},
            |e| e.shape = Shape::Newtype(7),
            |e| e.shape = Shape::Tuple(-1, "x".into()),
            |e| {
                e.shape = Shape::Fields {
                    a: Some(true),
                    b: Empty {},
                }
            },
            |e| {
                e.shape = Shape::Fields {
                    a: None,
                    b: Empty {},
                }
            },
            |e| {
                e.maybe = Some(Inner {
                    npi: Some("1".into()),
                })
            },
            |e| e.maybe = Some(Inner { npi: None }),
            |e| e.map = [(3, "c".into()), (10, "j".into())].into(),
            |e| e.list = vec!["a".into(), "b".into()],
            |e| e.float = 2.5,
            |e| e.float = f64::NAN,
            |e| e.letter = 'z',
            |e| e.signed = i64::MIN,
            |e| e.skipped = Some(4),
            |e| e.bytes = serde_json::json!({"nested": {"deep": [1, {"x": null}]}}),
        ];
        let versions: Vec<Everything> = edits
            .iter()
            .map(|edit| {
                let mut e = base.clone();
                edit(&mut e);
                e
            })
            .collect();
        for old in &versions {
            assert_eq!(
                diff(None, Some(old)),
                reference(None::<&Everything>, Some(old))
            );
            for new in &versions {
                assert_eq!(diff(Some(old), Some(new)), reference(Some(old), Some(new)));
            }
        }
        let shown = diff(None, Some(&versions[3]));
        assert!(shown.contains(&Change::new("shape.fields.a", None, Some("true".into()))));
        assert!(shown.contains(&Change::new("shape.fields.b", None, Some("{}".into()))));
        assert!(shown.contains(&Change::new("letter", None, Some("é".into()))));
    }
}
