//! Content negotiation for the `Accept` header.
//!
//! kubectl asks for tables with
//! `application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json`.
//! Like kube-apiserver, the clauses are tried in order of preference
//! (`q` first, then specific before wildcard types, otherwise as written)
//! and the first one the server can serve wins. This server only speaks
//! JSON, so protobuf and YAML clauses are skipped.

/// What a request's `Accept` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseFormat {
    /// Plain JSON of the resource itself.
    Json,
    /// A `meta.k8s.io` Table (answered as `meta.k8s.io/v1`, also when
    /// `v1beta1` was the accepted clause).
    Table,
    /// `as=PartialObjectMetadata` (single object metadata).
    PartialObjectMetadata,
    /// `as=PartialObjectMetadataList` (list of object metadata).
    PartialObjectMetadataList,
}

struct Clause<'a> {
    type_: &'a str,
    subtype: &'a str,
    q: f64,
    params: Vec<(&'a str, &'a str)>,
}

fn parse_clause(text: &str) -> Clause<'_> {
    let mut parts = text.split(';');
    let media = parts.next().unwrap_or("").trim();
    let (type_, subtype) = match media.split_once('/') {
        Some((t, s)) => (t.trim(), s.trim()),
        None if media == "*" => ("*", "*"),
        None => (media, ""),
    };
    let mut q = 1.0;
    let mut params = Vec::new();
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key == "q" {
            q = value.parse().unwrap_or(0.0);
        } else {
            params.push((key, value));
        }
    }
    Clause {
        type_,
        subtype,
        q,
        params,
    }
}

/// The format one clause selects, if the server can serve it.
fn acceptable(clause: &Clause<'_>) -> Option<ResponseFormat> {
    let json = matches!(
        (clause.type_, clause.subtype),
        ("application", "json") | ("application", "*") | ("*", "*")
    );
    if !json {
        return None;
    }
    let (mut kind, mut group, mut version) = (None, None, None);
    for &(key, value) in &clause.params {
        match key {
            "as" => kind = Some(value),
            "g" => group = Some(value),
            "v" => version = Some(value),
            // Only watch streams exist, and only JSON is spoken.
            "stream" if !value.is_empty() && value != "watch" => return None,
            "sv" if !value.is_empty() => return None,
            _ => {}
        }
    }
    if kind.is_none() && group.is_none() && version.is_none() {
        return Some(ResponseFormat::Json);
    }
    let meta = group == Some("meta.k8s.io") && matches!(version, Some("v1" | "v1beta1"));
    match kind {
        Some("Table") if meta => Some(ResponseFormat::Table),
        Some("PartialObjectMetadata") if meta => Some(ResponseFormat::PartialObjectMetadata),
        Some("PartialObjectMetadataList") if meta => {
            Some(ResponseFormat::PartialObjectMetadataList)
        }
        _ => None,
    }
}

/// Picks the response format for an `Accept` header. A missing or empty
/// header means JSON; `None` means no clause is servable (406).
pub fn negotiate(accept: Option<&str>) -> Option<ResponseFormat> {
    let header = accept.unwrap_or("").trim();
    if header.is_empty() {
        return Some(ResponseFormat::Json);
    }
    let mut clauses: Vec<Clause<'_>> = header.split(',').map(parse_clause).collect();
    // Stable: equally preferred clauses keep their written order.
    clauses.sort_by(|a, b| {
        b.q.total_cmp(&a.q)
            .then((a.type_ == "*").cmp(&(b.type_ == "*")))
            .then((a.subtype == "*").cmp(&(b.subtype == "*")))
    });
    clauses.iter().find_map(acceptable)
}

/// Whether the `Accept` header asks for a `meta.k8s.io` Table (v1, or the
/// v1beta1 kubectl also offers) in a form this server can serve.
pub fn wants_table(accept: &str) -> bool {
    negotiate(Some(accept)) == Some(ResponseFormat::Table)
}
