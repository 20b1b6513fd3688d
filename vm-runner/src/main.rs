//! `vm-runner` (work in progress).

fn main() {}
