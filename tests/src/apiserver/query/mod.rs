//! Interim selectors (replaced by the full query module): `k=v` label selectors and
//! `metadata.name`/`metadata.namespace` field selectors only.

use serde_json::{Map, Value};

/// A label selector.
#[derive(Debug, Clone)]
pub struct LabelSelector(Vec<(String, String)>);

impl LabelSelector {
    /// Parses `k=v,k2=v2`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("unsupported requirement {part}"))?;
            reqs.push((k.to_owned(), v.to_owned()));
        }
        Ok(LabelSelector(reqs))
    }

    /// Whether the labels match.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        self.0
            .iter()
            .all(|(k, v)| labels.get(k).and_then(Value::as_str) == Some(v))
    }
}

/// A field selector.
#[derive(Debug, Clone)]
pub struct FieldSelector(Vec<(String, String)>);

impl FieldSelector {
    /// Parses `f=v`.
    pub fn parse(text: &str, supported: &[&str]) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("unsupported requirement {part}"))?;
            if !supported.contains(&k) {
                return Err(format!("field label not supported: {k}"));
            }
            reqs.push((k.to_owned(), v.to_owned()));
        }
        Ok(FieldSelector(reqs))
    }

    /// Whether the object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(k, v)| {
            let mut cur = obj;
            for part in k.split('.') {
                cur = &cur[part];
            }
            cur.as_str().unwrap_or("") == v
        })
    }
}

/// Fields every resource supports.
pub fn supported_fields(_kind: &str) -> Vec<&'static str> {
    vec!["metadata.name", "metadata.namespace"]
}
