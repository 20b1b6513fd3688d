//! The AMQP bridge of the 2010 protocol: the supervised broker connection ([`broker`]), the
//! exchanges and queues ([`topology`]), the JSON messages ([`messages`]), and ingress from
//! `kickstarter_queue`/`image_queue` into ImageJobs ([`ingress`]). Results are published by
//! the notifier ([`crate::notify`]).

pub mod broker;
pub mod ingress;
pub mod messages;
pub mod topology;
