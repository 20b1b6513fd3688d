//! The object store: every object by (group, plural, namespace, name), one cluster-wide
//! resourceVersion counter, a bounded history of changes for watches to resume from, and a
//! broadcast channel that live watches follow.
//!
//! Objects are kept with their serialised JSON so that lists and watch events are written by
//! concatenating bytes; the 10,000-object list benchmark depends on it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::broadcast;

/// Objects of one resource, whatever version they are served in: (group, plural).
pub type TypeKey = (String, String);

/// The live changes a watch follows.
pub type Changes = broadcast::Receiver<Arc<Event>>;

/// An object as stored: its value and its JSON, both with `metadata.resourceVersion` set.
#[derive(Debug)]
pub struct Stored {
    /// The object.
    pub value: Value,
    /// `value` serialised.
    pub json: Bytes,
    /// Its resourceVersion.
    pub rv: u64,
}

impl Stored {
    fn new(mut value: Value, rv: u64) -> Arc<Stored> {
        value["metadata"]["resourceVersion"] = Value::String(rv.to_string());
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        Arc::new(Stored { value, json, rv })
    }

    /// `metadata.namespace` ("" for cluster-scoped objects).
    pub fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"].as_str().unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }
}

/// The kind of change a watch event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A new object.
    Added,
    /// A changed object.
    Modified,
    /// A removed object (with its last state).
    Deleted,
}

impl EventType {
    /// The watch event `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change, as watches see it.
#[derive(Debug)]
pub struct Event {
    /// The resource it belongs to.
    pub key: TypeKey,
    /// What happened.
    pub kind: EventType,
    /// The object after the change (before it, for deletions, with the deletion's RV).
    pub object: Arc<Stored>,
    /// The object before the change (`None` for additions): watches with selectors use it to
    /// turn a change into or out of the selection into ADDED or DELETED, as the real server does.
    pub prev: Option<Arc<Stored>>,
}

/// Why a write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError {
    /// An object with that name exists.
    AlreadyExists,
    /// There is no such object.
    NotFound,
    /// The object's resourceVersion is not the one the write expected.
    Conflict,
}

/// A watch that starts from a resourceVersion older than the history the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooOld {
    /// The oldest resourceVersion a watch can resume from.
    pub oldest: u64,
}

type Objects = BTreeMap<(String, String), Arc<Stored>>;

struct Inner {
    rv: u64,
    objects: HashMap<TypeKey, Objects>,
    history: VecDeque<Arc<Event>>,
    /// The resourceVersion before the oldest event in `history`: watches may resume from it
    /// or anything later.
    oldest: u64,
}

impl Inner {
    /// The stored object `id`, if its resourceVersion is still `expected` (when given).
    fn current(
        &self,
        key: &TypeKey,
        id: &(String, String),
        expected: Option<u64>,
    ) -> Result<Arc<Stored>, WriteError> {
        let current = self
            .objects
            .get(key)
            .and_then(|o| o.get(id))
            .cloned()
            .ok_or(WriteError::NotFound)?;
        if expected.is_some_and(|rv| rv != current.rv) {
            return Err(WriteError::Conflict);
        }
        Ok(current)
    }
}

/// A consistent list kept for `continue` tokens.
struct Snapshot {
    rv: u64,
    items: Vec<Arc<Stored>>,
    taken: Instant,
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    inner: Mutex<Inner>,
    events: broadcast::Sender<Arc<Event>>,
    history_limit: usize,
    snapshots: Mutex<HashMap<u64, Snapshot>>,
    next_snapshot: AtomicU64,
}

/// How long a list snapshot stays usable for `continue` (the real server's default
/// compaction interval is five minutes).
const SNAPSHOT_TTL: Duration = Duration::from_secs(300);
/// Snapshots kept at most (oldest dropped first).
const MAX_SNAPSHOTS: usize = 64;

impl Store {
    /// An empty store keeping the last `history_limit` changes for watches to resume from.
    pub fn new(history_limit: usize) -> Self {
        let (events, _) = broadcast::channel(65_536);
        Store {
            inner: Mutex::new(Inner {
                rv: 1,
                objects: HashMap::new(),
                history: VecDeque::new(),
                oldest: 1,
            }),
            events,
            history_limit: history_limit.max(1),
            snapshots: Mutex::new(HashMap::new()),
            next_snapshot: AtomicU64::new(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock is a bug in the stand-in; keep serving the data.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The current resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.lock().rv
    }

    /// One object.
    pub fn get(&self, key: &TypeKey, ns: &str, name: &str) -> Option<Arc<Stored>> {
        self.lock()
            .objects
            .get(key)?
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
    }

    /// All objects of a type (in one namespace, or all), sorted by namespace and name, with
    /// the resourceVersion they were read at.
    pub fn list(&self, key: &TypeKey, ns: Option<&str>) -> (u64, Vec<Arc<Stored>>) {
        let inner = self.lock();
        let items = match inner.objects.get(key) {
            None => Vec::new(),
            Some(objects) => match ns {
                None => objects.values().cloned().collect(),
                Some(ns) => objects
                    .range((ns.to_owned(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, v)| v.clone())
                    .collect(),
            },
        };
        (inner.rv, items)
    }

    /// Every type that has objects in namespace `ns` (for namespace deletion).
    pub fn keys_with_objects(&self) -> Vec<TypeKey> {
        self.lock()
            .objects
            .iter()
            .filter(|(_, objects)| !objects.is_empty())
            .map(|(k, _)| k.clone())
            .collect()
    }

    fn commit(
        &self,
        inner: &mut Inner,
        key: &TypeKey,
        kind: EventType,
        object: Arc<Stored>,
        prev: Option<Arc<Stored>>,
    ) {
        let event = Arc::new(Event {
            key: key.clone(),
            kind,
            object,
            prev,
        });
        inner.history.push_back(event.clone());
        while inner.history.len() > self.history_limit {
            if let Some(old) = inner.history.pop_front() {
                inner.oldest = old.object.rv;
            }
        }
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }

    /// Stores a new object.
    pub fn create(&self, key: &TypeKey, value: Value) -> Result<Arc<Stored>, WriteError> {
        let mut inner = self.lock();
        let id = ids(&value);
        if inner.objects.get(key).is_some_and(|o| o.contains_key(&id)) {
            return Err(WriteError::AlreadyExists);
        }
        inner.rv += 1;
        let stored = Stored::new(value, inner.rv);
        inner
            .objects
            .entry(key.clone())
            .or_default()
            .insert(id, stored.clone());
        self.commit(&mut inner, key, EventType::Added, stored.clone(), None);
        Ok(stored)
    }

    /// Replaces an object, if its resourceVersion is still `expected` (when given).
    pub fn replace(
        &self,
        key: &TypeKey,
        value: Value,
        expected: Option<u64>,
    ) -> Result<Arc<Stored>, WriteError> {
        let mut inner = self.lock();
        let id = ids(&value);
        let current = inner.current(key, &id, expected)?;
        inner.rv += 1;
        let stored = Stored::new(value, inner.rv);
        inner
            .objects
            .entry(key.clone())
            .or_default()
            .insert(id, stored.clone());
        self.commit(
            &mut inner,
            key,
            EventType::Modified,
            stored.clone(),
            Some(current),
        );
        Ok(stored)
    }

    /// Removes an object, if its resourceVersion is still `expected` (when given).
    pub fn remove(
        &self,
        key: &TypeKey,
        ns: &str,
        name: &str,
        expected: Option<u64>,
    ) -> Result<Arc<Stored>, WriteError> {
        let mut inner = self.lock();
        let id = (ns.to_owned(), name.to_owned());
        let current = inner.current(key, &id, expected)?;
        if let Some(objects) = inner.objects.get_mut(key) {
            objects.remove(&id);
        }
        Ok(self.commit_deletion(&mut inner, key, current))
    }

    /// Records the deletion of `current` (already taken out of `objects`). The deletion is a
    /// change of its own: the event carries the last state with a new resourceVersion.
    fn commit_deletion(
        &self,
        inner: &mut Inner,
        key: &TypeKey,
        current: Arc<Stored>,
    ) -> Arc<Stored> {
        inner.rv += 1;
        let last = Stored::new(current.value.clone(), inner.rv);
        self.commit(inner, key, EventType::Deleted, last.clone(), Some(current));
        last
    }

    /// Removes every object of a type (a deleted CRD takes its objects with it).
    pub fn remove_all(&self, key: &TypeKey) -> Vec<Arc<Stored>> {
        let mut inner = self.lock();
        let objects = inner.objects.remove(key).unwrap_or_default();
        objects
            .into_values()
            .map(|current| self.commit_deletion(&mut inner, key, current))
            .collect()
    }

    /// The changes after `from` (of any type; callers filter) and a receiver for the ones that
    /// follow, taken atomically so that nothing is missed or seen twice.
    pub fn watch_from(&self, from: u64) -> Result<(Vec<Arc<Event>>, Changes), TooOld> {
        let inner = self.lock();
        if from < inner.oldest {
            return Err(TooOld {
                oldest: inner.oldest,
            });
        }
        let past = inner
            .history
            .iter()
            .filter(|e| e.object.rv > from)
            .cloned()
            .collect();
        let rx = self.events.subscribe();
        Ok((past, rx))
    }

    /// The current objects of a type as a watch would start ("ADDED" for each) and a receiver
    /// for the changes after them, atomically.
    pub fn watch_now(&self, key: &TypeKey, ns: Option<&str>) -> (u64, Vec<Arc<Stored>>, Changes) {
        // Writes broadcast while holding the lock, so subscribing and listing under it sees
        // every change exactly once: in the list, or on the receiver.
        let inner = self.lock();
        let rx = self.events.subscribe();
        let items = match inner.objects.get(key) {
            None => Vec::new(),
            Some(objects) => objects
                .values()
                .filter(|o| ns.is_none_or(|ns| o.namespace() == ns))
                .cloned()
                .collect(),
        };
        (inner.rv, items, rx)
    }

    /// Keeps a list for `continue` and returns its token id.
    pub fn keep_snapshot(&self, rv: u64, items: Vec<Arc<Stored>>) -> u64 {
        let id = self.next_snapshot.fetch_add(1, Ordering::Relaxed);
        let mut snaps = self
            .snapshots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        snaps.retain(|_, s| s.taken.elapsed() < SNAPSHOT_TTL);
        while snaps.len() >= MAX_SNAPSHOTS {
            let Some(oldest) = snaps.iter().min_by_key(|(_, s)| s.taken).map(|(k, _)| *k) else {
                break;
            };
            snaps.remove(&oldest);
        }
        snaps.insert(
            id,
            Snapshot {
                rv,
                items,
                taken: Instant::now(),
            },
        );
        id
    }

    /// A kept list: its resourceVersion and items.
    pub fn snapshot(&self, id: u64) -> Option<(u64, Vec<Arc<Stored>>)> {
        let snaps = self
            .snapshots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        snaps
            .get(&id)
            .filter(|s| s.taken.elapsed() < SNAPSHOT_TTL)
            .map(|s| (s.rv, s.items.clone()))
    }
}

fn ids(value: &Value) -> (String, String) {
    let meta = &value["metadata"];
    (
        meta["namespace"].as_str().unwrap_or("").to_owned(),
        meta["name"].as_str().unwrap_or("").to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> TypeKey {
        (String::new(), "configmaps".to_owned())
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}})
    }

    #[test]
    fn writes_bump_the_resource_version_and_check_it() {
        let store = Store::new(10);
        let a = store.create(&key(), cm("a")).unwrap();
        assert_eq!(a.value["metadata"]["resourceVersion"], "2");
        assert_eq!(
            store.create(&key(), cm("a")).unwrap_err(),
            WriteError::AlreadyExists
        );
        assert_eq!(
            store.replace(&key(), cm("a"), Some(1)).unwrap_err(),
            WriteError::Conflict
        );
        let b = store.replace(&key(), cm("a"), Some(2)).unwrap();
        assert_eq!(b.rv, 3);
        let gone = store.remove(&key(), "default", "a", None).unwrap();
        assert_eq!(gone.rv, 4);
        assert!(store.get(&key(), "default", "a").is_none());
    }

    #[test]
    fn watches_resume_within_the_history_and_expire_beyond_it() {
        let store = Store::new(3);
        for i in 0..5 {
            store.create(&key(), cm(&format!("o{i}"))).unwrap();
        }
        // RVs 2..=6; the history keeps the last three (4, 5, 6); resuming from 3 is possible.
        let (past, _) = store.watch_from(3).unwrap();
        assert_eq!(
            past.iter().map(|e| e.object.rv).collect::<Vec<_>>(),
            [4, 5, 6]
        );
        assert_eq!(store.watch_from(2).unwrap_err(), TooOld { oldest: 3 });
    }
}
