//! A YAML loader that reads kickstarter templates the way the original tool's PyYAML did
//! (YAML 1.1 types, duplicate keys keep the last value, `<<` merges, one document per file),
//! with every error carrying file, line and column, and with limits that make hostile input
//! (alias bombs, deep nesting, huge or binary files) fail fast in bounded memory.

mod load;
mod map;
mod resolve;
mod timestamp;
mod value;

pub use map::{HashKey, Map};
pub use value::{Mark, Node, Value, py_eq, py2_float_str};

/// Bounds applied while loading. The defaults are far above any real template (the largest in
/// the reference corpus is 12 KiB with a few hundred nodes) and far below what would hurt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes a document may expand to, aliases counted at their full size each time.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 1_000_000,
        }
    }
}

/// A YAML file that could not be loaded: the crate's [`Error`](crate::Error), naming the file,
/// the line and column, and the reason.
pub type YamlError = crate::Error;

/// Loads the single YAML document in `bytes`; `file` names it in errors.
///
/// An empty document loads as [`Value::Null`].
pub fn load(bytes: &[u8], file: &str, limits: &Limits) -> Result<Node, YamlError> {
    load::load(bytes, file, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_ok(s: &str) -> Node {
        load(s.as_bytes(), "t.yaml", &Limits::default()).unwrap()
    }

    fn load_err(s: &[u8]) -> YamlError {
        load(s, "t.yaml", &Limits::default()).unwrap_err()
    }

    #[test]
    fn duplicate_keys_keep_the_last_value() {
        let n = load_ok("A:\n  PostScripts: [a, b]\n  X: 1\n  PostScripts:\n    - c\n");
        let a = n.as_map().unwrap().get("A").unwrap().as_map().unwrap();
        let ps = a.get("PostScripts").unwrap().as_seq().unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].as_str(), Some("c"));
    }

    #[test]
    fn empty_values_are_null_and_quoted_empty_is_a_string() {
        let n = load_ok("a:\nb: ''\nc: ~\n");
        let m = n.as_map().unwrap();
        assert_eq!(m.get("a").unwrap().value, Value::Null);
        assert_eq!(m.get("b").unwrap().value, Value::Str(String::new()));
        assert_eq!(m.get("c").unwrap().value, Value::Null);
    }

    #[test]
    fn marks_are_one_based() {
        let n = load_ok("a: 1\nb:\n  - x\n");
        let b = n.as_map().unwrap().get("b").unwrap();
        assert_eq!(b.as_seq().unwrap()[0].mark, Mark { line: 3, col: 5 });
    }

    #[test]
    fn merge_keys_follow_pyyaml() {
        let n =
            load_ok("base: &b {x: 1, y: 2}\nother: &o {y: 3, z: 4}\nc:\n  <<: [*b, *o]\n  z: 5\n");
        let c = n.as_map().unwrap().get("c").unwrap().as_map().unwrap();
        assert_eq!(c.get("x").unwrap().value, Value::Int(1));
        assert_eq!(c.get("y").unwrap().value, Value::Int(2));
        assert_eq!(c.get("z").unwrap().value, Value::Int(5));
        // A quoted "<<" is an ordinary key.
        let q = load_ok("'<<': 1\n");
        assert_eq!(q.as_map().unwrap().get("<<").unwrap().value, Value::Int(1));
    }

    #[test]
    fn alias_bombs_stop_at_the_node_limit() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let e = load_err(doc.as_bytes());
        assert!(e.message.contains("expands to more than"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        // Flow style: the scanner's own limit (255 levels) or ours, whichever comes first.
        let e = load_err("[".repeat(10_000).as_bytes());
        assert!(
            e.message.contains("nesting deeper") || e.message.contains("recursion limit"),
            "{e}"
        );
        // Block style has no scanner limit; ours applies.
        let mut doc = String::new();
        for depth in 0..200 {
            doc.push_str(&" ".repeat(depth));
            doc.push_str("k:\n");
        }
        let e = load_err(doc.as_bytes());
        assert!(e.message.contains("nesting deeper than 64"), "{e}");
        assert_eq!(e.mark.line, 65);
    }

    #[test]
    fn binary_and_non_utf8_input_is_refused_with_a_position() {
        let e = load_err(b"a: 1\nb: \xff\xfe\n");
        assert_eq!(e.mark.line, 2);
        assert!(e.message.contains("UTF-8"), "{e}");
        let e = load_err(b"a: 1\x00\n");
        assert!(e.message.contains("U+0000"), "{e}");
    }

    #[test]
    fn several_documents_are_refused() {
        let e = load_err(b"a: 1\n---\nb: 2\n");
        assert!(e.message.contains("single document"), "{e}");
    }

    #[test]
    fn unknown_tags_are_refused() {
        let e = load_err(b"a: !!python/object:os.system x\n");
        assert!(e.message.contains("constructor"), "{e}");
    }

    #[test]
    fn complex_keys_are_refused() {
        let e = load_err(b"? [a, b]\n: c\n");
        assert!(e.message.contains("unhashable"), "{e}");
    }
}
