//! `vm-runner`: one image build end to end in a throw-away QEMU virtual machine.
//!
//! Laid out by the workspace issue; the runner arrives with its own issue.
