use super::super::JsonPath;
use serde_json::{Value, json};

fn doc() -> Value {
    json!({
        "metadata": {
            "name": "x",
            "labels": {"app.kubernetes.io/name": "web", "app": "a", "app.kubernetes.io": {"name": "nested"}},
        },
        "spec": {
            "items": [{"name": "a", "n": 1}, {"name": "b", "n": 2}, {"name": "c", "n": 3, "extra": true}],
            "empty": [],
            "nullField": null,
            "map": {"b": 2, "a": 1},
            "mixed": [{"v": "1"}, {"v": 1}],
            "floats": [{"v": 1.5}, {"v": 2.0}],
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}],
            "ratio": 0.5,
        },
    })
}

fn eval(path: &str) -> Result<Vec<Value>, String> {
    let doc = doc();
    let parsed = JsonPath::parse(path).map_err(|e| format!("parse: {e}"))?;
    assert_eq!(parsed.as_str(), path);
    parsed
        .evaluate(&doc)
        .map(|values| values.into_iter().cloned().collect())
        .map_err(|e| e.to_string())
}

#[test]
fn selections() {
    let cases: Vec<(&str, Value)> = vec![
        (".status.phase", json!(["Running"])),
        ("$.status.phase", json!(["Running"])),
        (".spec.items[0].name", json!(["a"])),
        (".spec.items[-1].name", json!(["c"])),
        (".spec.items[*].name", json!(["a", "b", "c"])),
        (".spec.items[0:2].name", json!(["a", "b"])),
        (".spec.items[1:].name", json!(["b", "c"])),
        (".spec.items[-2:].name", json!(["b", "c"])),
        (".spec.items[0,2].name", json!(["a", "c"])),
        (".spec.items[1:1].name", json!([])),
        (".spec.items[*].extra", json!([true])),
        (".metadata.labels['app']", json!(["a"])),
        (
            ".metadata.labels.app\\.kubernetes\\.io/name",
            json!(["web"]),
        ),
        (
            ".metadata.labels['app\\.kubernetes\\.io/name']",
            json!(["web"]),
        ),
        // The dialect re-reads ['k'] as .k, so dots still split the key.
        (".metadata.labels['app.kubernetes.io/name']", json!([])),
        (".metadata.labels['app.kubernetes.io'].name", json!([])),
        (
            ".metadata.labels['app\\.kubernetes\\.io'].name",
            json!(["nested"]),
        ),
        (
            ".status.conditions[?(@.type==\"Ready\")].status",
            json!(["True"]),
        ),
        (
            ".status.conditions[?(@.type == 'Synced')].status",
            json!(["False"]),
        ),
        (
            ".status.conditions[?(@.type!=\"Ready\")].type",
            json!(["Synced"]),
        ),
        (".status.conditions[?(@.type==\"Gone\")].status", json!([])),
        (".spec.items[?(@.n>1)].name", json!(["b", "c"])),
        (".spec.items[?(@.n>=2)].name", json!(["b", "c"])),
        (".spec.items[?(@.n<2)].name", json!(["a"])),
        (".spec.items[?(@.n<=2)].name", json!(["a", "b"])),
        (".spec.items[?(@.name<\"b\")].n", json!([1])),
        (".spec.items[?(@.extra==true)].name", json!(["c"])),
        (".spec.items[?(@.name)].n", json!([1, 2, 3])),
        (".spec.items[?(@.extra)].name", json!(["c"])),
        (".spec.items[?(@.missing==\"x\")].name", json!([])),
        (".spec.floats[?(@.v>1.7)].v", json!([2.0])),
        (".spec.map.*", json!([1, 2])),
        // Map wildcards go in key order ("n" < "name").
        (".spec.items[*].*", json!([1, "a", 2, "b", true, 3, "c"])),
        (".spec.nullField", json!([null])),
        (".spec.nullField.deeper", json!([])),
        (".spec.nullField[0]", json!([])),
        (".spec.missing.deeper", json!([])),
        (".spec.empty[*]", json!([])),
        (".status.phase.deeper", json!([])),
        (".spec", json!([doc()["spec"].clone()])),
    ];
    for (path, expected) in cases {
        assert_eq!(
            eval(path),
            Ok(expected.as_array().cloned().unwrap_or_default()),
            "{path}"
        );
    }
}

#[test]
fn evaluation_errors() {
    let cases = [
        (
            ".spec.items[5].name",
            "array index out of bounds: index 5, length 3",
        ),
        (
            ".spec.items[-4]",
            "array index out of bounds: index -1, length 3",
        ),
        (
            ".spec.items[1:9]",
            "array index out of bounds: index 8, length 3",
        ),
        (
            ".spec.items[2:1]",
            "starting index 2 is greater than ending index 1",
        ),
        (
            ".spec.map[0]",
            "map[string]interface {} is not array or slice",
        ),
        (".status.phase[0]", "string is not array or slice"),
        (
            ".status[?(@.x)]",
            "map[string]interface {} is not array or slice and cannot be filtered",
        ),
        (
            ".spec.nullField[?(@.x)]",
            "<nil> is not array or slice and cannot be filtered",
        ),
        (
            ".spec.items[?(@.n==\"1\")]",
            "incompatible types for comparison",
        ),
        (
            ".spec.items[?(@.n==1.0)]",
            "incompatible types for comparison",
        ),
        (
            ".spec.mixed[?(@.v==\"1\")].v",
            "incompatible types for comparison",
        ),
        (
            ".spec.items[?(@.extra>true)]",
            "invalid type for comparison",
        ),
        (".spec.items[?(@.n=1)]", "unrecognized filter operator ="),
        (
            ".spec.items[?(@.*==1)]",
            "can only compare one element at a time",
        ),
        // An error in one union branch fails the whole path.
        (
            ".spec.items[0,7].name",
            "array index out of bounds: index 7, length 3",
        ),
    ];
    for (path, expected) in cases {
        assert_eq!(eval(path), Err(expected.to_owned()), "{path}");
    }
}

#[test]
fn parse_errors() {
    let cases = [
        (".spec..name", "recursive descent (..) is not supported"),
        (".spec.items[\"a\"]", "invalid array index \"a\""),
        (".spec.items[a]", "invalid array index a"),
        (".spec.items[-]", "array index - is not a number"),
        (".spec.items[0", "unterminated array"),
        (
            ".spec.items[1:2:1]",
            "slice steps are not supported: [1:2:1]",
        ),
        (".spec.items[?(@.a==\"x\"]", "unterminated filter"),
        (".spec.items[?(@.a==\"x\")x", "unclosed array expect ]"),
        (".spec.items[?(@.a==x)]", "unrecognized identifier x"),
        (".spec.items[?(@.a==1.2.3)]", "cannot parse number 1.2.3"),
        (
            ".spec.items[?(@.a=='x\\\"')]",
            "unquote string 'x\\\"' error invalid syntax",
        ),
        (
            "status.phase",
            "unrecognized character in action: U+0073 's'",
        ),
        (".a\t.b", "unrecognized character in action: U+0009 '\\t'"),
        (".a{b}", "unrecognized character in action: U+007B '{'"),
    ];
    for (path, expected) in cases {
        assert_eq!(
            JsonPath::parse(path).map(|_| ()).map_err(|e| e.to_string()),
            Err(expected.to_owned()),
            "{path}"
        );
    }
}

#[test]
fn quoted_literals_and_spaces() {
    let doc = json!({"items": [{"k": "it's"}, {"k": "a\"b"}, {"k": "tab\there"}]});
    let cases = [
        (".items[?(@.k=='it\\'s')].k", json!(["it's"])),
        (".items[?(@.k==\"a\\\"b\")].k", json!(["a\"b"])),
        (".items[?(@.k==\"tab\\there\")].k", json!(["tab\there"])),
        (
            ".items[?(@.k==\"\\u0074ab\\there\")].k",
            json!(["tab\there"]),
        ),
        (".items [0] .k", json!(["it's"])),
    ];
    for (path, expected) in cases {
        let parsed = JsonPath::parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let got: Vec<Value> = parsed
            .evaluate(&doc)
            .expect(path)
            .into_iter()
            .cloned()
            .collect();
        assert_eq!(Value::Array(got), expected, "{path}");
    }
}
