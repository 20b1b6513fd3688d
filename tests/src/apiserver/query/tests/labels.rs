use super::super::{LabelSelector, Operator};
use serde_json::{Map, Value, json};

fn labels(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("labels must be an object"),
    }
}

const KEY_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_RULE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#[test]
fn every_form_parses_and_matches() {
    let cases: &[(&str, Value, bool)] = &[
        ("", json!({}), true),
        ("   ", json!({"a": "b"}), true),
        ("a=b", json!({"a": "b"}), true),
        ("a=b", json!({"a": "c"}), false),
        ("a=b", json!({}), false),
        ("a==b", json!({"a": "b"}), true),
        ("a==b", json!({"a": "c"}), false),
        ("a!=b", json!({}), true),
        ("a!=b", json!({"a": "b"}), false),
        ("a!=b", json!({"a": "c"}), true),
        ("a in (x,y)", json!({"a": "y"}), true),
        ("a in (x,y)", json!({"a": "z"}), false),
        ("a in (x,y)", json!({}), false),
        ("a notin (x)", json!({}), true),
        ("a notin (x)", json!({"a": "x"}), false),
        ("a notin (x)", json!({"a": "z"}), true),
        ("a", json!({"a": ""}), true),
        ("a", json!({}), false),
        ("!a", json!({}), true),
        ("!a", json!({"a": "x"}), false),
        ("a>5", json!({"a": "6"}), true),
        ("a>5", json!({"a": "5"}), false),
        ("a>5", json!({"a": "x"}), false),
        ("a>5", json!({}), false),
        ("a<5", json!({"a": "-3"}), true),
        ("a=", json!({"a": ""}), true),
        ("a=", json!({"a": "x"}), false),
        ("a in ()", json!({"a": ""}), true),
        ("a in (,x)", json!({"a": ""}), true),
        ("a,b=c", json!({"a": "1", "b": "c"}), true),
        ("a,b=c", json!({"b": "c"}), false),
        (
            "  a  in  ( x , y ) ,  b != c ",
            json!({"a": "x", "b": "d"}),
            true,
        ),
        ("\ta\n=\rb", json!({"a": "b"}), true),
        (
            "app.kubernetes.io/name=web",
            json!({"app.kubernetes.io/name": "web"}),
            true,
        ),
        ("in in (in)", json!({"in": "in"}), true),
        ("notin=notin", json!({"notin": "notin"}), true),
        // The real lexer stops at a NUL byte.
        ("a\0!!garbage", json!({"a": "1"}), true),
    ];
    for (text, object_labels, expected) in cases {
        let selector =
            LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"));
        assert_eq!(
            selector.matches(&labels(object_labels.clone())),
            *expected,
            "{text:?} against {object_labels}"
        );
    }
}

#[test]
fn parsed_structure() {
    let s = LabelSelector::parse("z in (b,a,a), !y, x").expect("parses");
    let ops: Vec<(&str, Operator, Vec<String>)> = s
        .requirements()
        .iter()
        .map(|r| (r.key(), r.operator(), r.values().to_vec()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("x", Operator::Exists, vec![]),
            ("y", Operator::DoesNotExist, vec![]),
            ("z", Operator::In, vec!["a".to_owned(), "b".to_owned()]),
        ]
    );
    assert!(LabelSelector::parse("").expect("parses").is_everything());
}

#[test]
fn canonical_display() {
    let cases = [
        ("b=2, a in (y, x,x)", "a in (x,y),b=2"),
        ("!c,a", "a,!c"),
        ("x==y", "x==y"),
        ("x != y", "x!=y"),
        ("a notin ()", "a notin ()"),
        ("k in (b,)", "k in (,b)"),
        ("a=", "a="),
        ("n > 10", "n>10"),
        ("n<10", "n<10"),
        ("a,a=b", "a,a=b"),
        ("", ""),
    ];
    for (input, canonical) in cases {
        let parsed = LabelSelector::parse(input).expect("parses");
        assert_eq!(parsed.to_string(), canonical, "display of {input:?}");
        assert_eq!(LabelSelector::parse(canonical).expect("reparses"), parsed);
    }
}

#[test]
fn error_messages_match_the_real_server() {
    let long_value = "x".repeat(64);
    let cases: Vec<(String, String)> = vec![
        ("a=b=c".into(), "found '=', expected: ',' or 'end of string'".into()),
        ("a=b c".into(), "found 'c', expected: ',' or 'end of string'".into()),
        ("!a=b".into(), "found '=', expected: ',' or 'end of string'".into()),
        ("a,".into(), "found '', expected: identifier after ','".into()),
        ("a=b,,c".into(), "found ',', expected: identifier after ','".into()),
        (",a".into(), "found ',', expected: !, identifier, or 'end of string'".into()),
        ("(".into(), "found '(', expected: !, identifier, or 'end of string'".into()),
        ("!".into(), "unable to parse requirement: found '', expected: identifier".into()),
        ("!=a".into(), "found '!=', expected: !, identifier, or 'end of string'".into()),
        ("a b".into(), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt".into()),
        ("a!".into(), "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt".into()),
        ("a=(".into(), "unable to parse requirement: found '(', expected: identifier".into()),
        ("a in b".into(), "unable to parse requirement: found 'b' expected: '('".into()),
        ("a in".into(), "unable to parse requirement: found '' expected: '('".into()),
        ("a in (".into(), "unable to parse requirement: found '', expected: ',', ')' or identifier".into()),
        ("a in (=".into(), "unable to parse requirement: found '=', expected: ',', ')' or identifier".into()),
        ("a in (b c)".into(), "unable to parse requirement: found 'c', expected: ',' or ')'".into()),
        ("a in (b".into(), "unable to parse requirement: found '', expected: ',' or ')'".into()),
        ("a in (b,".into(), "unable to parse requirement: found '', expected: ',', or identifier".into()),
        ("a in (b,=)".into(), "unable to parse requirement: found '=', expected: ',', or identifier".into()),
        // Doubled empty entries are rejected by the real parser too.
        ("a in (,,)".into(), "unable to parse requirement: found ')', expected: ',', or identifier".into()),
        ("a in (b,,)".into(), "unable to parse requirement: found ')', expected: ',', or identifier".into()),
        ("-a".into(), format!("unable to parse requirement: <nil>: Invalid value: \"-a\": name part {KEY_RULE}")),
        ("a_=b".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a_\": name part {KEY_RULE}")),
        (format!("{}=x", "k".repeat(64)), format!("unable to parse requirement: <nil>: Invalid value: \"{}\": name part must be no more than 63 bytes", "k".repeat(64))),
        ("/a".into(), "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty".into()),
        ("a/".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; name part {KEY_RULE}")),
        ("Example.com/a".into(), "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".into()),
        ("a/b/c".into(), format!("unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a valid label key {KEY_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')")),
        ("a=-b".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"-b\": {VALUE_RULE}")),
        (format!("a={long_value}"), format!("unable to parse requirement: values[0][a]: Invalid value: \"{long_value}\": must be no more than 63 bytes")),
        ("a in (-x,-y)".into(), format!("unable to parse requirement: [values[0][a]: Invalid value: \"-x\": {VALUE_RULE}, values[1][a]: Invalid value: \"-y\": {VALUE_RULE}]")),
        ("a>b".into(), "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
        ("a<".into(), "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
        ("a>-1".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"-1\": {VALUE_RULE}")),
        ("a=\"q\"".into(), format!("unable to parse requirement: values[0][a]: Invalid value: \"\\\"q\\\"\": {VALUE_RULE}")),
    ];
    for (input, expected) in cases {
        let err = LabelSelector::parse(&input).expect_err(&input);
        assert_eq!(err.to_string(), expected, "error for {input:?}");
    }
}

#[test]
fn structured_form() {
    let s = LabelSelector::from_structured(Some(&json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "env", "operator": "DoesNotExist"},
            {"key": "team", "operator": "NotIn", "values": ["ops"]},
            {"key": "zone", "operator": "Exists", "values": []},
        ],
    })))
    .expect("valid");
    assert_eq!(
        s.to_string(),
        "app=web,!env,team notin (ops),tier in (be,fe),zone"
    );
    assert!(s.matches(&labels(json!({"app": "web", "tier": "fe", "zone": "a"}))));
    assert!(!s.matches(&labels(json!({"app": "web", "tier": "fe"}))));
    assert!(!s.matches(&labels(
        json!({"app": "web", "tier": "fe", "zone": "a", "env": "x"})
    )));
    assert!(s.matches_object(
        &json!({"metadata": {"labels": {"app": "web", "tier": "be", "zone": ""}}})
    ));
    assert!(!s.matches_object(&json!({"metadata": {}})));

    // Unset selects nothing; empty selects everything.
    let nothing = LabelSelector::from_structured(None).expect("valid");
    assert!(!nothing.matches(&Map::new()));
    assert!(!nothing.is_everything());
    assert!(
        !LabelSelector::from_structured(Some(&Value::Null))
            .expect("valid")
            .matches(&Map::new())
    );
    let everything = LabelSelector::from_structured(Some(&json!({}))).expect("valid");
    assert!(everything.is_everything());
    assert!(everything.matches(&Map::new()));
}

#[test]
fn structured_form_errors() {
    let cases = [
        (json!({"matchExpressions": [{"key": "a", "operator": "Foo"}]}), "\"Foo\" is not a valid label selector operator".to_owned()),
        (json!({"matchExpressions": [{"key": "a", "operator": "In"}]}), "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".to_owned()),
        (json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]}), "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists and does not exist".to_owned()),
        (json!({"matchLabels": {"-x": "1"}}), format!("key: Invalid value: \"-x\": name part {KEY_RULE}")),
        (json!({"matchLabels": {"x": "-1"}}), format!("values[0][x]: Invalid value: \"-1\": {VALUE_RULE}")),
        (json!({"matchLabels": {"x": 1}}), "invalid label selector: matchLabels values must be strings".to_owned()),
        (json!([]), "invalid label selector: the selector must be an object".to_owned()),
    ];
    for (input, expected) in cases {
        let err = LabelSelector::from_structured(Some(&input)).expect_err("invalid");
        assert_eq!(err.to_string(), expected, "error for {input}");
    }
}

#[test]
fn non_string_label_values_do_not_match() {
    let s = LabelSelector::parse("a=1").expect("parses");
    assert!(!s.matches(&labels(json!({"a": 1}))));
    assert!(
        LabelSelector::parse("a!=1")
            .expect("parses")
            .matches(&labels(json!({"a": 1})))
    );
}
