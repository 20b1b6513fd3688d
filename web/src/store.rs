//! The frontend's in-memory copy of every ImageJob, kept current by a watch, so pages and
//! lists never wait for the API server.

use futures::{Future, StreamExt as _};
use img_crd::ImageJob;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt as _, watcher};
use kube::{Api, Client};

/// The store, and the watch that fills it (spawn it; it runs until dropped).
pub fn watch_jobs(client: Client) -> (Store<ImageJob>, impl Future<Output = ()> + Send + 'static) {
    let (reader, writer) = reflector::store();
    let watch = watcher(Api::<ImageJob>::all(client), watcher::Config::default())
        .default_backoff()
        .reflect(writer)
        .applied_objects()
        .for_each(|_| futures::future::ready(()));
    (reader, watch)
}
