//! Tests of the query module, one file per area.

mod accept;
mod builtin_table;
mod crd_table;
mod duration;
mod fields;
mod jsonpath;
mod labels;
mod pods;
mod proptests;
