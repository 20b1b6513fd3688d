//! Merging the notification record the watch cache shows with the one this operator last
//! wrote: deliveries only ever grow, so the union is never behind either. Pure.

use img_crd::{Delivery, Notifications};

/// The union of `store` and `mine`, and whether `store` already holds everything in `mine`
/// (then `mine` is no longer needed).
pub(super) fn merge(store: Option<&Notifications>, mine: &Notifications) -> (Notifications, bool) {
    let mut merged = store.cloned().unwrap_or_default();
    let mut caught_up = true;
    for delivery in &mine.amqp {
        if merged.amqp_to(&delivery.target).is_none() {
            merged.amqp.push(delivery.clone());
            caught_up = false;
        }
    }
    match (&merged.email, &mine.email) {
        (_, None) => {}
        (None, Some(m)) => {
            merged.email = Some(m.clone());
            caught_up = false;
        }
        (Some(s), Some(m)) => {
            if further(m, s) {
                merged.email = Some(m.clone());
                caught_up = false;
            }
        }
    }
    (merged, caught_up)
}

/// Whether `a` records more than `b`: more attempts, or the same with a final state.
fn further(a: &Delivery, b: &Delivery) -> bool {
    a.attempts > b.attempts
        || (a.attempts == b.attempts && a.state.is_final() && !b.state.is_final())
}

#[cfg(test)]
mod tests {
    use super::*;
    use img_crd::DeliveryState;

    fn delivery(target: &str, state: DeliveryState, attempts: u32) -> Delivery {
        Delivery {
            target: target.into(),
            state,
            attempts,
            ..Default::default()
        }
    }

    #[test]
    fn the_union_keeps_every_delivery_and_the_furthest_email() {
        let mine = Notifications {
            amqp: vec![
                delivery("result_queue", DeliveryState::Delivered, 1),
                delivery("link_queue", DeliveryState::Delivered, 1),
            ],
            email: Some(delivery("a@b.org", DeliveryState::Retrying, 2)),
        };
        let stale = Notifications {
            amqp: vec![delivery("result_queue", DeliveryState::Delivered, 1)],
            email: Some(delivery("a@b.org", DeliveryState::Retrying, 1)),
        };
        let (merged, caught_up) = merge(Some(&stale), &mine);
        assert!(!caught_up);
        assert_eq!(merged, mine);
        let (merged, caught_up) = merge(None, &mine);
        assert!(!caught_up);
        assert_eq!(merged, mine);

        let (merged, caught_up) = merge(Some(&mine), &mine);
        assert!(caught_up);
        assert_eq!(merged, mine);

        let mut newer = mine.clone();
        newer.email = Some(delivery("a@b.org", DeliveryState::Delivered, 2));
        let (merged, caught_up) = merge(Some(&newer), &mine);
        assert!(caught_up, "the store is ahead");
        assert_eq!(merged, newer);
        let (merged, _) = merge(Some(&mine), &newer);
        assert_eq!(merged.email, newer.email);
    }
}
