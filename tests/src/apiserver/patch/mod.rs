//! Strategic merge patch and server-side apply, as pure functions over `serde_json::Value`.
//!
//! * [`strategic_merge`] applies a `application/strategic-merge-patch+json` body the way
//!   apimachinery's `strategicpatch` does on the server, directives included.
//! * [`apply`] performs server-side apply (`application/apply-patch+yaml`) with conflict
//!   detection and `metadata.managedFields` bookkeeping, after structured-merge-diff.
//! * [`record_update`] records the ownership change of any other write (create, update,
//!   JSON/merge/strategic patch) so that later applies conflict like on a real cluster.
//!
//! How lists and maps behave is described by a [`Schema`]: [`BuiltinSchema`] for the
//! built-in kinds the server knows, [`CrdSchema`] for custom resources. RFC 6902 JSON patch
//! and RFC 7386 merge patch are not here: the `json-patch` crate covers them.

mod builtin;
mod compare;
mod crd;
mod error;
mod fieldpath;
mod gofmt;
mod managed;
mod merge;
mod schema;
mod smp;
mod smp_list;
mod ssa;
mod typed;

pub use builtin::BuiltinSchema;
pub use crd::CrdSchema;
pub use error::{FieldConflict, PatchError};
pub use schema::{ListType, Schema, SmpList};
pub use smp::{SmpOutcome, strategic_merge, strategic_merge_report};
pub use ssa::{Apply, apply, record_update};

#[cfg(test)]
mod tests_prop;
#[cfg(test)]
mod tests_smp;
#[cfg(test)]
mod tests_ssa;
#[cfg(test)]
mod tests_ssa_lists;
