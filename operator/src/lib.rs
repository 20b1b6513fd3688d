//! The IMG operator: reconciles `ImageJob` resources into runner Pods, keeps the queue and
//! status, and bridges notifications (e-mail, AMQP).
//!
//! Laid out by the workspace issue; the reconciler arrives with the CRD/operator issue.
