//! Which resources the server serves right now: the built-ins, and the types that
//! CustomResourceDefinitions registered. Discovery documents are built from it.

use std::cmp::Ordering;
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use super::resource::{ResourceType, builtins};

/// The served resource types.
pub struct Registry {
    types: RwLock<Vec<Arc<ResourceType>>>,
}

/// Kubernetes version priority: GA before beta before alpha, higher numbers first, then
/// anything else alphabetically (what `kubectl` and discovery use to pick preferred versions).
pub fn version_priority(a: &str, b: &str) -> Ordering {
    fn parse(v: &str) -> Option<(u32, u8, u32)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u32 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((major, 2, 0));
        }
        let (stage, n) = if let Some(n) = tail.strip_prefix("beta") {
            (1, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (0, n)
        } else {
            return None;
        };
        Some((major, stage, n.parse().ok()?))
    }
    match (parse(a), parse(b)) {
        (Some((ma, sa, na)), Some((mb, sb, nb))) => (sb, mb, nb).cmp(&(sa, ma, na)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

impl Default for Registry {
    fn default() -> Self {
        Self::new()
    }
}

impl Registry {
    /// The built-in types.
    pub fn new() -> Self {
        Registry {
            types: RwLock::new(builtins().into_iter().map(Arc::new).collect()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<ResourceType>>> {
        self.types
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The type served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.read()
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    /// The stored version of `group/plural` (what objects are kept as).
    pub fn storage_type(&self, group: &str, plural: &str) -> Option<Arc<ResourceType>> {
        let types = self.read();
        let candidates: Vec<_> = types
            .iter()
            .filter(|t| t.group == group && t.plural == plural)
            .collect();
        candidates
            .iter()
            .find(|t| t.storage)
            .or(candidates.first())
            .map(|t| Arc::clone(t))
    }

    /// Every type (for garbage collection and namespace cleanup).
    pub fn all(&self) -> Vec<Arc<ResourceType>> {
        self.read().clone()
    }

    /// Replaces the types a CRD defines (registering it the first time).
    pub fn set_crd_types(&self, crd: &str, types: Vec<ResourceType>) {
        let mut all = self
            .types
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        all.retain(|t| t.crd.as_deref() != Some(crd));
        all.extend(types.into_iter().map(Arc::new));
    }

    /// Removes the types a CRD defined; returns them.
    pub fn remove_crd_types(&self, crd: &str) -> Vec<Arc<ResourceType>> {
        let mut all = self
            .types
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (gone, kept): (Vec<_>, Vec<_>) =
            all.drain(..).partition(|t| t.crd.as_deref() == Some(crd));
        *all = kept;
        gone
    }

    /// Groups with their versions, preferred first (`/apis`, without the core group).
    fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.read().iter().filter(|t| !t.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) if !versions.contains(&t.version) => {
                    versions.push(t.version.clone());
                }
                Some(_) => {}
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        for (_, versions) in &mut groups {
            versions.sort_by(|a, b| version_priority(a, b));
        }
        groups
    }

    /// `/apis`: the APIGroupList.
    pub fn api_group_list(&self) -> Value {
        let groups: Vec<Value> = self
            .groups()
            .into_iter()
            .map(|(name, versions)| group_json(&name, &versions))
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// `/apis/<group>`: one APIGroup.
    pub fn api_group(&self, group: &str) -> Option<Value> {
        self.groups()
            .into_iter()
            .find(|(g, _)| g == group)
            .map(|(name, versions)| {
                let mut g = group_json(&name, &versions);
                g["kind"] = json!("APIGroup");
                g["apiVersion"] = json!("v1");
                g
            })
    }

    /// `/api/v1` or `/apis/<group>/<version>`: the APIResourceList.
    pub fn api_resource_list(&self, group: &str, version: &str) -> Option<Value> {
        let types: Vec<_> = self
            .read()
            .iter()
            .filter(|t| t.group == group && t.version == version)
            .cloned()
            .collect();
        if types.is_empty() {
            return None;
        }
        let resources: Vec<Value> = types.iter().flat_map(|t| t.discovery_entries()).collect();
        let group_version = types[0].group_version();
        Some(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{name}/{v}"), "version": v});
    json!({
        "name": name,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_by_kubernetes_priority() {
        let mut v = vec!["v1alpha1", "v2", "v1beta2", "v1", "v1beta1", "foo", "v10"];
        v.sort_by(|a, b| version_priority(a, b));
        assert_eq!(
            v,
            ["v10", "v2", "v1", "v1beta2", "v1beta1", "v1alpha1", "foo"]
        );
    }

    #[test]
    fn discovery_lists_builtins_with_subresources() {
        let r = Registry::new();
        let core = r.api_resource_list("", "v1").unwrap();
        let names: Vec<_> = core["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"pods") && names.contains(&"pods/status"));
        assert!(names.contains(&"pods/log") && names.contains(&"configmaps"));
        let groups = r.api_group_list();
        assert!(
            groups["groups"]
                .as_array()
                .unwrap()
                .iter()
                .any(|g| g["name"] == "coordination.k8s.io")
        );
    }
}
