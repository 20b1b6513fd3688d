//! Property tests: values written as YAML load back unchanged; overlays written as text parse
//! back to their items; templates render every package and group they list, once, in order.

#![allow(clippy::unwrap_used)] // test helpers fail loudly by design

use std::collections::BTreeMap;

use kickstarter::overlay::Overlay;
use kickstarter::yaml::{Limits, Value, load, py_eq};
use kickstarter::{MemFiles, Options, Template, generate, load_repositories};
use proptest::prelude::*;

/// A value tree without the ambiguous corners (NaN, duplicate keys).
#[derive(Debug, Clone)]
enum Tree {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Tree>),
    Map(BTreeMap<String, Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        Just(Tree::Null),
        any::<bool>().prop_map(Tree::Bool),
        any::<i64>().prop_map(Tree::Int),
        (-1e12f64..1e12).prop_map(Tree::Float),
        // Printable text including YAML-significant characters and unicode.
        "[ -~\u{a0}-\u{17f}\t\n]{0,20}".prop_map(Tree::Str),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Tree::Seq),
            prop::collection::btree_map("[A-Za-z][A-Za-z0-9 _-]{0,10}", inner, 0..6)
                .prop_map(Tree::Map),
        ]
    })
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn scalar(t: &Tree) -> Option<String> {
    Some(match t {
        Tree::Null => "~".to_owned(),
        Tree::Bool(b) => if *b { "yes" } else { "off" }.to_owned(),
        Tree::Int(i) => i.to_string(),
        // `{:?}` always has a '.', and exponents are written with a sign as YAML 1.1 needs.
        Tree::Float(f) => format!("{f:?}").replace("e", "e+").replace("e+-", "e-"),
        Tree::Str(s) => quote(s),
        Tree::Seq(v) if v.is_empty() => "[]".to_owned(),
        Tree::Map(m) if m.is_empty() => "{}".to_owned(),
        _ => return None,
    })
}

/// Block-style YAML for `t` at `indent`.
fn emit(t: &Tree, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match t {
        Tree::Seq(items) if !items.is_empty() => {
            for item in items {
                match scalar(item) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(item, indent + 2, out);
                    }
                }
            }
        }
        Tree::Map(m) if !m.is_empty() => {
            for (k, v) in m {
                match scalar(v) {
                    Some(s) => out.push_str(&format!("{pad}{}: {s}\n", quote(k))),
                    None => {
                        out.push_str(&format!("{pad}{}:\n", quote(k)));
                        emit(v, indent + 2, out);
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other).unwrap())),
    }
}

fn expected(t: &Tree) -> Value {
    match t {
        Tree::Null => Value::Null,
        Tree::Bool(b) => Value::Bool(*b),
        Tree::Int(i) => Value::Int(i128::from(*i)),
        Tree::Float(f) => Value::Float(*f),
        Tree::Str(s) => Value::Str(s.clone()),
        Tree::Seq(items) => Value::Seq(
            items
                .iter()
                .map(|i| kickstarter::yaml::Node::synthetic(expected(i)))
                .collect(),
        ),
        Tree::Map(m) => {
            let mut map = kickstarter::yaml::Map::new();
            for (k, v) in m {
                map.insert(
                    kickstarter::yaml::Node::string(k.clone()),
                    kickstarter::yaml::Node::synthetic(expected(v)),
                );
            }
            Value::Map(map)
        }
    }
}

fn package() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._+-]{0,20}"
}

fn group() -> impl Strategy<Value = String> {
    "[A-Z][A-Za-z0-9]{0,8}( [A-Za-z0-9]{1,8}){0,3}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yaml_values_load_back_unchanged(t in tree()) {
        let mut text = String::new();
        emit(&t, 0, &mut text);
        let node = load(text.as_bytes(), "p.yaml", &Limits::default()).unwrap();
        prop_assert!(py_eq(&node.value, &expected(&t)), "text:\n{}\nloaded: {:?}", text, node.value);
    }

    #[test]
    fn overlays_parse_back_to_their_items(
        items in prop::collection::vec(
            prop_oneof![package(), package().prop_map(|p| format!("-{p}")), group().prop_map(|g| format!("@{g}"))],
            0..30,
        ),
        pad in prop::collection::vec("[ \t]{0,2}", 60),
    ) {
        let text = items
            .iter()
            .enumerate()
            .map(|(i, item)| format!("{}{item}{}", pad[2 * i], pad[2 * i + 1]))
            .collect::<Vec<_>>()
            .join(",");
        let overlay = Overlay::parse(&text).unwrap();
        let mut groups = Vec::new();
        let mut packages = Vec::new();
        for item in &items {
            match item.strip_prefix('@') {
                Some(g) if !groups.contains(&g.to_owned()) => groups.push(g.to_owned()),
                Some(_) => {}
                None if !packages.contains(item) => packages.push(item.clone()),
                None => {}
            }
        }
        prop_assert_eq!(overlay.groups, groups);
        prop_assert_eq!(overlay.packages, packages);
    }

    #[test]
    fn templates_render_each_package_and_group_once_in_order(
        default_groups in prop::collection::vec(group(), 0..4),
        platform_groups in prop::collection::vec(group(), 0..4),
        config_packages in prop::collection::vec(package(), 0..8),
        removals in prop::collection::vec(package(), 0..3),
        overlay_items in prop::collection::vec(prop_oneof![package(), group().prop_map(|g| format!("@{g}"))], 0..6),
    ) {
        let doc = format!(
            "Default:\n    Active: True\n    Language: C\n    Keyboard: us\n    Timezone: UTC\n    RootPass: r\n    DefaultUser: u\n    DefaultUserPass: p\n    PartSize: 10\n    FileSystem: ext4\n    SaveRepos: False\n    Groups: [{}]\nP:\n    Groups: [{}]\nConfigurations:\n  - Name: c\n    FileName: c\n    Platform: P\n    ExtraPackages: [{}]\n    RemovePackages: [{}]\n",
            default_groups.iter().map(|g| quote(g)).collect::<Vec<_>>().join(", "),
            platform_groups.iter().map(|g| quote(g)).collect::<Vec<_>>().join(", "),
            config_packages.iter().map(|p| quote(p)).collect::<Vec<_>>().join(", "),
            removals.iter().map(|p| quote(p)).collect::<Vec<_>>().join(", "),
        );
        let mut template = Template::parse(doc.as_bytes(), "t.yaml").unwrap();
        let overlay = Overlay::parse(&overlay_items.join(",")).unwrap();
        overlay.apply(&mut template, "P", &[]).unwrap();
        let repos = load_repositories(b"Repositories: []", "r.yaml", &Limits::default()).unwrap();
        let run = generate(&template, &repos, &MemFiles::new(), &Options::default()).unwrap();
        let ks = &run.outputs[0].contents;
        let body = ks.split("%packages\n").nth(1).unwrap().split("%end").next().unwrap();
        let rendered: Vec<&str> = body.lines().filter(|l| !l.is_empty()).collect();

        let mut groups: Vec<String> = Vec::new();
        for g in default_groups.iter().chain(&platform_groups).chain(overlay.groups.iter()) {
            if !groups.contains(g) { groups.push(g.clone()); }
        }
        let mut extra: Vec<String> = Vec::new();
        for p in overlay.packages.iter().chain(&config_packages) {
            if !extra.contains(p) { extra.push(p.clone()); }
        }
        let mut removed: Vec<String> = Vec::new();
        for p in &removals {
            if !removed.contains(p) { removed.push(p.clone()); }
        }
        let mut lines: Vec<String> = groups.iter().map(|g| format!("@{g}")).collect();
        lines.extend(extra.iter().cloned());
        lines.extend(removed.iter().map(|p| format!("-{p}")));
        prop_assert_eq!(rendered, lines.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
