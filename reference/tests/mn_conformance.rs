//! The MN corpus against the reference MN: see common/conformance.rs.
//!
//! Every MN fault must be caught (no fault is exempt: the list of faults
//! no case catches yet is empty), every MN case — `cases/mn/` and the
//! `[host, mn]` cases of `cases/host/` — must pass the conformant MN and
//! fail some faulty one.

mod common;

use common::conformance::{check, Role};

#[test]
fn mn_corpus_passes_the_reference_mn_and_catches_its_faults() {
    check(env!("CARGO_BIN_EXE_hmip6-ref"), Role::Mn, 42, &[]);
}
