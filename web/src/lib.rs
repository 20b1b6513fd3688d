//! The IMG web frontend, JSON API and the `imgctl` command-line client.
//!
//! Laid out by the workspace issue; the pages and API arrive with the web issue.
