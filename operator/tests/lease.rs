//! Leader election against the loopback API server: acquiring and renewing, racing candidates,
//! take-over after a crash only once the Lease expires, release, loss when the Lease is taken or
//! the API server is gone, and shutdown while waiting.
//!
//! Durations are short (lease 2 s, renew deadline 1.5 s, retry 200 ms); the timing assertions
//! leave margins of several retry periods so that a loaded machine does not make them flaky.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::future::Future;
use std::time::Duration;

use img_operator::lease::{self, Error, Leader, LeaseConfig};
use img_tests::apiserver::{ApiServer, Config};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ApiResource, DynamicObject, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, ResourceExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

const NAME: &str = "img-operator";
const NAMESPACE: &str = "default";
const LEASE_DURATION: Duration = Duration::from_secs(2);
const RENEW_DEADLINE: Duration = Duration::from_millis(1500);
const RETRY_PERIOD: Duration = Duration::from_millis(200);

/// A server and a kube-rs client for it, built as `img-tests`' own kube-rs tests build theirs.
async fn setup() -> (ApiServer, Client) {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("img_operator=debug")
        .try_init();
    let server = ApiServer::start(Config::default()).await.unwrap();
    let kubeconfig = Kubeconfig::from_yaml(&server.kubeconfig()).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .unwrap();
    (server, Client::try_from(config).unwrap())
}

fn config(name: &str, identity: &str) -> LeaseConfig {
    LeaseConfig {
        lease_duration: LEASE_DURATION,
        renew_deadline: RENEW_DEADLINE,
        retry_period: RETRY_PERIOD,
        ..LeaseConfig::new(name, NAMESPACE, identity)
    }
}

fn leases(client: &Client) -> Api<Lease> {
    Api::namespaced(client.clone(), NAMESPACE)
}

async fn spec(client: &Client, name: &str) -> LeaseSpec {
    leases(client).get(name).await.unwrap().spec.unwrap()
}

fn holder(spec: &LeaseSpec) -> &str {
    spec.holder_identity.as_deref().unwrap_or("")
}

fn micro(t: &Option<MicroTime>) -> Timestamp {
    t.as_ref().expect("the time is set").0
}

/// Acquires `name` as `identity`, failing the test if that takes more than `secs` seconds.
async fn acquire_within(client: &Client, name: &str, identity: &str, secs: u64) -> Leader {
    timeout(
        Duration::from_secs(secs),
        lease::acquire(
            client.clone(),
            config(name, identity),
            std::future::pending::<()>(),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("{identity} did not acquire {name} within {secs}s"))
    .unwrap()
    .expect("acquire returns a leader when not shut down")
}

/// A candidate contending in the background until it leads or `stop` is sent.
struct Candidate {
    task: JoinHandle<Result<Option<Leader>, Error>>,
    stop: oneshot::Sender<()>,
}

fn candidate(client: &Client, name: &str, identity: &str) -> Candidate {
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(lease::acquire(
        client.clone(),
        config(name, identity),
        stopped,
    ));
    Candidate { task, stop }
}

impl Candidate {
    /// Waits for the candidate to lead, failing the test after `secs` seconds.
    async fn leads_within(self, secs: f64) -> Leader {
        timeout(Duration::from_secs_f64(secs), self.task)
            .await
            .unwrap_or_else(|_| panic!("the candidate did not lead within {secs}s"))
            .unwrap()
            .unwrap()
            .expect("the candidate leads")
    }

    /// Shuts the candidate down; it must return `None` promptly.
    async fn shut_down(self) {
        self.stop.send(()).unwrap();
        let outcome = timeout(Duration::from_secs(2), self.task)
            .await
            .expect("acquire returns promptly on shutdown")
            .unwrap()
            .unwrap();
        assert!(outcome.is_none(), "a shut-down candidate does not lead");
    }
}

/// Replaces the Lease's holder as another controller would, retrying on conflicts with the
/// leader's renewals.
async fn overwrite_holder(client: &Client, name: &str, identity: &str) {
    let leases = leases(client);
    for _ in 0..50 {
        let mut lease = leases.get(name).await.unwrap();
        let spec = lease.spec.as_mut().unwrap();
        let now = MicroTime(Timestamp::now());
        spec.holder_identity = Some(identity.to_owned());
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        match leases.replace(name, &PostParams::default(), &lease).await {
            Ok(_) => return,
            Err(kube::Error::Api(s)) if s.is_conflict() => continue,
            Err(e) => panic!("overwriting the lease: {e}"),
        }
    }
    panic!("could not overwrite the lease: conflicts every time");
}

#[tokio::test]
async fn one_candidate_acquires_and_renews() {
    let (_server, client) = setup().await;
    let before = Timestamp::now();
    let leader = acquire_within(&client, NAME, "a", 5).await;
    let after = Timestamp::now();
    assert!(leader.is_leading());
    assert_eq!(leader.config().identity, "a");

    // What `kubectl get lease -o yaml` shows, as the server returned it.
    let raw: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), NAMESPACE, &ApiResource::erase::<Lease>(&()));
    let obj = raw.get(NAME).await.unwrap();
    let s = &obj.data["spec"];
    assert_eq!(s["holderIdentity"], "a", "{s}");
    assert_eq!(s["leaseDurationSeconds"], 2, "{s}");
    assert_eq!(s["leaseTransitions"], 0, "{s}");
    let renew_text = s["renewTime"].as_str().unwrap();
    // MicroTime: RFC 3339 with microseconds, in UTC.
    assert!(
        renew_text.len() == "2006-01-02T15:04:05.000000Z".len() && renew_text.ends_with('Z'),
        "{renew_text}"
    );

    let first = spec(&client, NAME).await;
    let acquired = micro(&first.acquire_time);
    let first_renew = micro(&first.renew_time);
    // The written times are truncated to microseconds.
    let slack = SignedDuration::from_millis(1);
    assert!(
        acquired >= before - slack && acquired <= after,
        "{acquired}"
    );
    assert!(first_renew >= acquired);

    // Renewals: renewTime advances every retry period; the rest stays as acquired.
    let mut last = first_renew;
    for _ in 0..3 {
        sleep(RETRY_PERIOD * 3).await;
        let now = spec(&client, NAME).await;
        let renewed = micro(&now.renew_time);
        assert!(renewed > last, "renewTime advances: {renewed} after {last}");
        assert!(
            Timestamp::now().duration_since(renewed) < SignedDuration::from_secs(1),
            "renewed recently"
        );
        assert_eq!(micro(&now.acquire_time), acquired);
        assert_eq!(holder(&now), "a");
        assert_eq!(now.lease_transitions, Some(0));
        assert_eq!(now.lease_duration_seconds, Some(2));
        last = renewed;
    }
    assert!(leader.is_leading());
    assert!(
        timeout(RETRY_PERIOD, leader.lost()).await.is_err(),
        "a renewing leader has not lost"
    );
}

#[tokio::test]
async fn two_candidates_started_together_elect_exactly_one() {
    let (_server, client) = setup().await;
    // Two races: over a missing Lease (both create, one gets AlreadyExists) and over an expired
    // one (both update the same resourceVersion, one gets 409).
    let expired = "expired";
    let old = Lease {
        metadata: ObjectMeta {
            name: Some(expired.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("old".to_owned()),
            lease_duration_seconds: Some(2),
            acquire_time: Some(MicroTime(Timestamp::now() - SignedDuration::from_secs(60))),
            renew_time: Some(MicroTime(Timestamp::now() - SignedDuration::from_secs(30))),
            lease_transitions: Some(5),
            ..LeaseSpec::default()
        }),
    };
    leases(&client)
        .create(&PostParams::default(), &old)
        .await
        .unwrap();

    let mut races = Vec::new();
    for (name, transitions) in [("missing", 0), (expired, 6)] {
        let a = candidate(&client, name, "a");
        let b = candidate(&client, name, "b");
        races.push((name, transitions, a, b));
    }

    let mut outcomes = Vec::new();
    for (name, transitions, a, b) in races {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !a.task.is_finished() && !b.task.is_finished() {
            assert!(Instant::now() < deadline, "nobody leads {name}");
            sleep(Duration::from_millis(10)).await;
        }
        let (winner, waiting, id) = if a.task.is_finished() {
            (a, b, "a")
        } else {
            (b, a, "b")
        };
        let leader = winner.leads_within(0.1).await;
        outcomes.push((name, transitions, leader, waiting, id));
    }

    // Well past a lease duration: the leader keeps renewing, the other keeps waiting.
    sleep(LEASE_DURATION + Duration::from_secs(1)).await;
    for (name, transitions, leader, waiting, id) in outcomes {
        assert!(leader.is_leading(), "{name}");
        assert!(
            !waiting.task.is_finished(),
            "{name}: the other candidate still waits"
        );
        let now = spec(&client, name).await;
        assert_eq!(holder(&now), id, "{name}");
        // One take-over: had both writes succeeded in turn, an expired Lease would count two.
        assert_eq!(now.lease_transitions, Some(transitions), "{name}");
        assert!(
            Timestamp::now().duration_since(micro(&now.renew_time)) < SignedDuration::from_secs(1),
            "{name}: the leader renews"
        );
        waiting.shut_down().await;
    }
}

#[tokio::test]
async fn a_crashed_leader_is_replaced_only_once_its_lease_expires() {
    let (_server, client) = setup().await;
    let a = acquire_within(&client, NAME, "a", 5).await;
    let b = candidate(&client, NAME, "b");
    sleep(Duration::from_millis(600)).await;
    assert!(!b.task.is_finished(), "b waits while a renews");

    // A crash: renewals stop, nothing is released.
    drop(a);
    let crashed = Instant::now();
    sleep(Duration::from_millis(100)).await;
    let last = spec(&client, NAME).await;
    assert_eq!(holder(&last), "a", "dropping does not release");
    let last_renew = micro(&last.renew_time);

    let b = b.leads_within(5.0).await;
    let waited = crashed.elapsed();
    // a's last renewal was at most a retry period (plus a request) before the crash.
    assert!(
        waited >= LEASE_DURATION - RETRY_PERIOD - Duration::from_millis(100),
        "b took over after {waited:?}, before the lease expired"
    );
    assert!(
        waited < LEASE_DURATION + Duration::from_millis(1500),
        "b took over after {waited:?}, long after the lease expired"
    );

    let now = spec(&client, NAME).await;
    assert_eq!(holder(&now), "b");
    assert_eq!(now.lease_transitions, Some(1));
    let acquired = micro(&now.acquire_time);
    assert!(
        acquired > last_renew + SignedDuration::try_from(LEASE_DURATION).unwrap(),
        "acquired at {acquired}, a's lease ran until {last_renew} + 2s"
    );
    assert!(b.is_leading());
}

#[tokio::test]
async fn release_hands_over_at_once() {
    let (_server, client) = setup().await;

    // Released with nobody waiting: the holder is cleared, the record stays.
    let a = acquire_within(&client, NAME, "a", 5).await;
    a.release().await.unwrap();
    let released = spec(&client, NAME).await;
    assert_eq!(holder(&released), "", "{released:?}");
    assert_eq!(released.lease_duration_seconds, Some(1));
    assert_eq!(released.lease_transitions, Some(0));

    // A released Lease is free at once, not after it expires.
    let b = acquire_within(&client, NAME, "b", 1).await;
    assert_eq!(spec(&client, NAME).await.lease_transitions, Some(1));

    // Handed over to a waiting candidate well before the lease duration.
    let a = candidate(&client, NAME, "a");
    sleep(Duration::from_millis(600)).await;
    assert!(!a.task.is_finished(), "a waits while b renews");
    let start = Instant::now();
    b.release().await.unwrap();
    let a = a.leads_within(LEASE_DURATION.as_secs_f64()).await;
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "handed over after {took:?}, not at once"
    );
    let now = spec(&client, NAME).await;
    assert_eq!(holder(&now), "a");
    assert_eq!(now.lease_transitions, Some(2));
    assert_eq!(now.lease_duration_seconds, Some(2));
    assert!(a.is_leading());
}

#[tokio::test]
async fn a_leader_whose_lease_is_taken_signals_loss() {
    let (_server, client) = setup().await;
    let a = acquire_within(&client, NAME, "a", 5).await;
    // lost() is independent of the Leader: it can be spawned.
    let lost = tokio::spawn(a.lost());
    sleep(RETRY_PERIOD * 2).await;
    assert!(!lost.is_finished());

    overwrite_holder(&client, NAME, "intruder").await;
    let overwritten = Instant::now();
    timeout(RENEW_DEADLINE, lost)
        .await
        .expect("loss is signalled within the renew deadline")
        .unwrap();
    let took = overwritten.elapsed();
    assert!(!a.is_leading());
    // Already lost: completes at once.
    timeout(Duration::from_millis(10), a.lost()).await.unwrap();
    // Found at the next renewal, not only when the renew deadline runs out.
    assert!(took < Duration::from_millis(800), "lost after {took:?}");

    // The old leader does not write the Lease back, nor clear it on release.
    sleep(RETRY_PERIOD * 3).await;
    a.release().await.unwrap();
    assert_eq!(holder(&spec(&client, NAME).await), "intruder");
}

#[tokio::test]
async fn a_leader_that_cannot_renew_signals_loss_after_the_renew_deadline() {
    let (server, client) = setup().await;
    let a = acquire_within(&client, NAME, "a", 5).await;
    sleep(RETRY_PERIOD * 3).await;
    assert!(a.is_leading());

    server.shutdown().await;
    let gone = Instant::now();
    timeout(RENEW_DEADLINE + Duration::from_secs(1), a.lost())
        .await
        .expect("loss is signalled once the renew deadline passes");
    let took = gone.elapsed();
    assert!(!a.is_leading());
    // The deadline counts from the last successful renewal, at most a retry period (plus a
    // request) before the server went away.
    assert!(
        took >= RENEW_DEADLINE - RETRY_PERIOD - Duration::from_millis(100),
        "lost after {took:?}, before the renew deadline"
    );
    assert!(
        took <= RENEW_DEADLINE + Duration::from_millis(300),
        "lost after {took:?}"
    );
}

#[tokio::test]
async fn acquire_returns_none_when_shut_down() {
    let (_server, client) = setup().await;
    let _a = acquire_within(&client, NAME, "a", 5).await;

    // Waiting for a held Lease, then shut down.
    let start = Instant::now();
    let outcome = timeout(
        Duration::from_secs(3),
        lease::acquire(client.clone(), config(NAME, "b"), sleep_then(500)),
    )
    .await
    .expect("acquire returns once shut down")
    .unwrap();
    assert!(outcome.is_none());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_millis(1500),
        "{took:?}"
    );
    assert_eq!(holder(&spec(&client, NAME).await), "a");

    // Already shut down: no attempt is made, even on a free Lease.
    let outcome = lease::acquire(client.clone(), config("free", "b"), std::future::ready(()))
        .await
        .unwrap();
    assert!(outcome.is_none());
    assert!(leases(&client).get_opt("free").await.unwrap().is_none());

    // A configuration that cannot work is an error, not a wait.
    let mut bad = config(NAME, "b");
    bad.renew_deadline = LEASE_DURATION;
    let e = lease::acquire(client.clone(), bad, std::future::pending::<()>())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidConfig(_)), "{e}");
    let e = lease::acquire(client, config(NAME, ""), std::future::pending::<()>())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidConfig(_)), "{e}");
}

fn sleep_then(millis: u64) -> impl Future<Output = ()> {
    sleep(Duration::from_millis(millis))
}

#[tokio::test]
async fn the_lease_object_keeps_its_identity_across_holders() {
    // The Lease is updated in place, never deleted and recreated: its uid survives a take-over.
    let (_server, client) = setup().await;
    let a = acquire_within(&client, NAME, "a", 5).await;
    let uid = leases(&client).get(NAME).await.unwrap().uid();
    a.release().await.unwrap();
    let _b = acquire_within(&client, NAME, "b", 1).await;
    assert_eq!(leases(&client).get(NAME).await.unwrap().uid(), uid);
}
