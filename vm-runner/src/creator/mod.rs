//! The image creator (work in progress).
