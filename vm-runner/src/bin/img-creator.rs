//! `img-creator` (installed as `mic` and `mic-image-creator`): builds OS images from a
//! kickstart (work in progress).

fn main() {}
