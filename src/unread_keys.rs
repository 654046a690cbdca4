//! Keys of a TOML document that deserialization accepted without reading.
//!
//! `#[serde(deny_unknown_fields)]` does not cover the unit variants of an internally tagged
//! enum: serde reads the tag and drops the rest of the table (serde-rs/serde#2123, #2294,
//! open). So `dataset = { kind = "ring8", std = 0.5 }` or `activation = { kind = "relu",
//! slope = 0.2 }` would train silently with the preset's std and a plain ReLU. Every config
//! type here is also `Serialize` (it is written next to the outputs), which gives one general
//! check instead of a hand-written list of such variants:
//!
//! 1. deserialize the table into `T` and serialize `T` back (to JSON, which holds any u64);
//! 2. every input key that does not come back is a candidate: it was dropped, or it is a
//!    field serialized only when it differs from its default (`skip_serializing_if`);
//! 3. replace the candidate's value with a TOML datetime, which no config field accepts:
//!    if `T` still deserializes, serde never looked at the key, and it is unread.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use toml::Value as Toml;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// The dotted paths (`dataset.std`, `layers[1].slope`) of the keys of `input` that
/// deserializing `T` accepted without reading, in document order. Empty when `input` does
/// not deserialize into `T` at all (that error is the caller's to report) or when `T` does
/// not serialize.
#[must_use]
pub fn unread_keys<T: DeserializeOwned + Serialize>(input: &toml::Table) -> Vec<String> {
    let whole = Toml::Table(input.clone());
    let Ok(parsed) = whole.clone().try_into::<T>() else {
        return Vec::new();
    };
    let Ok(back) = serde_json::to_value(&parsed) else {
        return Vec::new();
    };
    let mut candidates = Vec::new();
    missing(&whole, &back, &mut Vec::new(), &mut candidates);
    candidates
        .into_iter()
        .filter(|path| {
            let mut probe = whole.clone();
            if let Some(v) = value_at(&mut probe, path) {
                *v = datetime_probe();
            }
            probe.try_into::<T>().is_ok()
        })
        .map(|path| dotted(&path))
        .collect()
}

/// A one-line reason for the first unread key of `input`, or None when every key is read.
/// The value is quoted, and the sibling `kind` (or `type`) when there is one, since that is
/// where the key usually went astray.
#[must_use]
pub fn first_unread<T: DeserializeOwned + Serialize>(input: &toml::Table) -> Option<String> {
    let key = unread_keys::<T>(input).into_iter().next()?;
    let (parent, last) = match key.rfind('.') {
        Some(i) => (&key[..i], &key[i + 1..]),
        None => ("", key.as_str()),
    };
    let table = lookup(input, parent);
    let value = table
        .and_then(|t| t.get(last))
        .map_or_else(String::new, |v| format!(" = {v}"));
    let tag = table
        .and_then(|t| t.get("kind").or_else(|| t.get("type")))
        .map_or_else(String::new, |k| format!(" with kind {k}"));
    Some(format!(
        "parameter `{key}`{value}: unknown key (not read{tag}; see README for the keys)"
    ))
}

/// Collects the paths of `input` keys absent from `back`, descending into tables and
/// equal-length arrays that both sides have.
fn missing(input: &Toml, back: &Json, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match (input, back) {
        (Toml::Table(t), Json::Object(o)) => {
            for (k, v) in t {
                path.push(Step::Key(k.clone()));
                match o.get(k) {
                    Some(b) => missing(v, b, path, out),
                    None => out.push(path.clone()),
                }
                path.pop();
            }
        }
        (Toml::Array(a), Json::Array(b)) if a.len() == b.len() => {
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                path.push(Step::Index(i));
                missing(v, w, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The value at `path` inside `root`.
fn value_at<'a>(root: &'a mut Toml, path: &[Step]) -> Option<&'a mut Toml> {
    path.iter().try_fold(root, |v, step| match (v, step) {
        (Toml::Table(t), Step::Key(k)) => t.get_mut(k),
        (Toml::Array(a), Step::Index(i)) => a.get_mut(*i),
        _ => None,
    })
}

/// The table at the dotted path `parent` ("" for the root; `[i]` steps into arrays).
fn lookup<'a>(root: &'a toml::Table, parent: &str) -> Option<&'a toml::Table> {
    let mut t = root;
    for part in parent.split('.').filter(|p| !p.is_empty()) {
        let (name, index) = match part.find('[') {
            Some(i) => (
                &part[..i],
                part[i + 1..part.len() - 1].parse::<usize>().ok(),
            ),
            None => (part, None),
        };
        let v = if name.is_empty() { None } else { t.get(name) };
        t = match (v, index) {
            (Some(Toml::Table(x)), None) => x,
            (Some(Toml::Array(a)), Some(i)) => match a.get(i) {
                Some(Toml::Table(x)) => x,
                _ => return None,
            },
            _ => return None,
        };
    }
    Some(t)
}

/// A value no config field accepts: a TOML offset datetime.
fn datetime_probe() -> Toml {
    Toml::Datetime(
        "1979-05-27T07:32:00Z"
            .parse()
            .expect("a valid RFC 3339 datetime"),
    )
}

fn dotted(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
    enum Shape {
        Dot,
        Ring { radius: f64 },
    }

    fn is_false(b: &bool) -> bool {
        !*b
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct Cfg {
        shape: Shape,
        shapes: Vec<Shape>,
        #[serde(skip_serializing_if = "is_false")]
        flag: bool,
        name: String,
        seed: u64,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Cfg {
                shape: Shape::Dot,
                shapes: Vec::new(),
                flag: false,
                name: String::new(),
                seed: 0,
            }
        }
    }

    fn table(s: &str) -> toml::Table {
        s.parse().unwrap()
    }

    #[test]
    fn serde_drops_keys_beside_a_unit_variant_and_we_find_them() {
        // The premise: serde accepts the extra key (if this starts failing, serde fixed it).
        let t = table("shape = { kind = \"dot\", radius = 2.0 }");
        assert!(Toml::Table(t.clone()).try_into::<Cfg>().is_ok());
        assert_eq!(unread_keys::<Cfg>(&t), vec!["shape.radius"]);
        let why = first_unread::<Cfg>(&t).unwrap();
        assert!(
            why.contains("`shape.radius` = 2.0") && why.contains("kind \"dot\""),
            "{why}"
        );
    }

    #[test]
    fn keys_inside_arrays_of_tables_are_found_with_their_index() {
        let t = table("shapes = [{ kind = \"ring\", radius = 1.0 }, { kind = \"dot\", r = 1 }]");
        assert_eq!(unread_keys::<Cfg>(&t), vec!["shapes[1].r"]);
        assert!(first_unread::<Cfg>(&t).unwrap().contains("kind \"dot\""));
    }

    #[test]
    fn read_keys_are_not_reported_even_when_not_serialized_back() {
        // `flag = false` is read but skipped on output (its default): the probe tells it apart.
        let t = table(
            "flag = false\nname = \"x\"\nseed = 7\nshape = { kind = \"ring\", radius = 0.5 }",
        );
        assert!(unread_keys::<Cfg>(&t).is_empty());
        assert!(first_unread::<Cfg>(&t).is_none());
        assert!(unread_keys::<Cfg>(&toml::Table::new()).is_empty());
    }

    #[test]
    fn a_document_that_does_not_parse_is_left_to_the_caller() {
        // deny_unknown_fields already refuses this one, with serde's own message.
        let t = table("shape = { kind = \"ring\", radius = 1.0, extra = 1 }");
        assert!(Toml::Table(t.clone()).try_into::<Cfg>().is_err());
        assert!(unread_keys::<Cfg>(&t).is_empty());
    }
}
