use super::super::{FieldSelector, JsonPath, LabelSelector};
use proptest::prelude::*;

/// Fragments that exercise every token and common mistakes.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("app.kubernetes.io/name".to_owned()),
        Just("in".to_owned()),
        Just("notin".to_owned()),
        Just("=".to_owned()),
        Just("==".to_owned()),
        Just("!=".to_owned()),
        Just("!".to_owned()),
        Just(",".to_owned()),
        Just("(".to_owned()),
        Just(")".to_owned()),
        Just(">".to_owned()),
        Just("<".to_owned()),
        Just(" ".to_owned()),
        Just("-1".to_owned()),
        Just("7".to_owned()),
        "[a-zA-Z0-9._/-]{1,8}",
        "[ -~]{1,4}",
        "\\PC{1,2}",
    ]
}

fn selector_text() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(fragment(), 0..12).prop_map(|parts| parts.concat()),
        "\\PC{0,24}",
        "[a-z=!(),<> \t-]{0,24}",
    ]
}

/// A syntactically valid requirement, with random spacing.
fn valid_requirement() -> impl Strategy<Value = String> {
    let key = (
        "([a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?\\.)?[a-z]{1,3}/|",
        "[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?",
    )
        .prop_map(|(prefix, name)| format!("{prefix}{name}"));
    // Set members are non-empty: the real parser rejects `(a,,)` and `(,,)`.
    let value = "[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?";
    let space = "[ \t]{0,2}";
    (
        key,
        0..8usize,
        proptest::collection::vec(value, 1..4),
        space,
        "-?[0-9]{1,3}",
    )
        .prop_map(|(key, op, values, sp, number)| match op {
            0 => key,
            1 => format!("!{sp}{key}"),
            2 if values.len() == 1 => format!("{key}{sp}={sp}"),
            2 => format!("{key}{sp}={sp}{}", values[0]),
            3 => format!("{key}{sp}=={sp}{}", values[0]),
            4 => format!("{key}{sp}!={sp}{}", values[0]),
            5 => format!("{key} in{sp}({})", values.join(&format!("{sp},{sp}"))),
            6 => format!("{key} notin ({sp}{}{sp})", values.join(",")),
            _ => format!(
                "{key}{sp}{}{sp}{}",
                if number.len() % 2 == 0 { ">" } else { "<" },
                number.trim_start_matches('-')
            ),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn label_selector_parses_or_errors_and_round_trips(text in selector_text()) {
        match LabelSelector::parse(&text) {
            Ok(selector) => {
                let printed = selector.to_string();
                let reparsed = LabelSelector::parse(&printed);
                prop_assert_eq!(reparsed, Ok(selector), "printed form {:?}", printed);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn valid_selectors_parse_and_round_trip(parts in proptest::collection::vec(valid_requirement(), 0..5), sep in "[ ]{0,2},[ ]{0,2}") {
        let text = parts.join(&sep);
        let selector = LabelSelector::parse(&text);
        prop_assert!(selector.is_ok(), "{:?} should parse: {:?}", text, selector);
        if let Ok(selector) = selector {
            prop_assert_eq!(selector.requirements().len(), parts.len());
            let printed = selector.to_string();
            prop_assert_eq!(LabelSelector::parse(&printed), Ok(selector));
        }
    }

    #[test]
    fn field_selector_never_panics(text in selector_text()) {
        if let Ok(selector) = FieldSelector::parse(&text, &["a", "metadata.name"]) {
            let printed = selector.to_string();
            prop_assert_eq!(FieldSelector::parse(&printed, &["a", "metadata.name"]), Ok(selector));
        }
    }

    #[test]
    fn jsonpath_never_panics(text in "[.a-z0-9\\[\\]*?()@='\" <>!:,-]{0,24}") {
        if let Ok(path) = JsonPath::parse(&text) {
            let doc = serde_json::json!({"a": [{"a": 1}, {"a": "x"}, null], "b": {"a": [1, 2]}});
            let _ = path.evaluate(&doc);
        }
    }
}
