use super::*;

fn job(ns: &str, name: &str, priority: i32, created: i64) -> Waiting {
    Waiting {
        key: JobKey {
            namespace: ns.into(),
            name: name.into(),
            uid: format!("{ns}/{name}"),
        },
        priority,
        created,
        ready: true,
    }
}

fn names(keys: &[JobKey]) -> Vec<String> {
    keys.iter()
        .map(|k| format!("{}/{}", k.namespace, k.name))
        .collect()
}

fn positions(plan: &Plan) -> Vec<(String, u32)> {
    plan.positions
        .iter()
        .map(|(k, p)| (format!("{}/{}", k.namespace, k.name), *p))
        .collect()
}

const LIMITS: Limits = Limits {
    total: 2,
    per_namespace: 2,
};

#[test]
fn priority_then_age_then_name() {
    let waiting = [
        job("a", "old", 0, 10),
        job("a", "new", 0, 20),
        job("a", "urgent", 5, 30),
        job("a", "b-same-second", 0, 10),
    ];
    let plan = plan(&waiting, &HashMap::new(), LIMITS);
    assert_eq!(names(&plan.admit), ["a/urgent", "a/b-same-second"]);
    assert_eq!(positions(&plan), [("a/old".into(), 1), ("a/new".into(), 2)]);
}

#[test]
fn namespaces_take_turns_within_a_priority() {
    let waiting = [
        job("a", "1", 0, 1),
        job("a", "2", 0, 2),
        job("a", "3", 0, 3),
        job("b", "1", 0, 50),
        job("b", "2", 0, 60),
    ];
    let plan = plan(
        &waiting,
        &HashMap::new(),
        Limits {
            total: 0,
            per_namespace: 9,
        },
    );
    assert!(plan.admit.is_empty());
    let order: Vec<String> = positions(&plan).into_iter().map(|(n, _)| n).collect();
    assert_eq!(order, ["a/1", "b/1", "a/2", "b/2", "a/3"]);
}

#[test]
fn running_jobs_count_against_their_namespace_turn_and_limit() {
    let waiting = [
        job("a", "1", 0, 1),
        job("b", "1", 0, 5),
        job("b", "2", 0, 6),
    ];
    let active = HashMap::from([("a".to_owned(), 1)]);
    let plan = plan(
        &waiting,
        &active,
        Limits {
            total: 3,
            per_namespace: 1,
        },
    );
    // a already runs one (its limit), so b goes first and only one of b fits.
    assert_eq!(names(&plan.admit), ["b/1"]);
    assert_eq!(positions(&plan), [("a/1".into(), 1), ("b/2".into(), 2)]);
}

#[test]
fn unchecked_jobs_hold_their_place_and_let_nobody_overtake() {
    let mut fresh = job("a", "fresh", 0, 2);
    fresh.ready = false;
    let waiting = [
        job("a", "first", 0, 1),
        fresh,
        job("a", "x", 0, 3),
        job("b", "y", 0, 4),
    ];
    let plan = plan(
        &waiting,
        &HashMap::new(),
        Limits {
            total: 3,
            per_namespace: 3,
        },
    );
    // b/y's turn comes before a/fresh's (b runs nothing yet), a/x waits behind a/fresh.
    assert_eq!(names(&plan.admit), ["a/first", "b/y"]);
    assert_eq!(positions(&plan), [("a/x".into(), 2)]);
}

#[test]
fn nothing_is_admitted_beyond_the_total() {
    let waiting: Vec<Waiting> = (0..50)
        .map(|i| job("a", &format!("{i:02}"), 0, i))
        .collect();
    let active = HashMap::from([("a".to_owned(), 4)]);
    let plan = plan(
        &waiting,
        &active,
        Limits {
            total: 4,
            per_namespace: 4,
        },
    );
    assert!(plan.admit.is_empty());
    assert_eq!(plan.positions.len(), 50);
    assert_eq!(plan.positions[49].1, 50);
}
