//! The MN corpus against the reference MN: see common/conformance.rs.
//!
//! The MN corpus is still being written (issue [5]): no case catches the
//! faults listed below yet (on the requirement they break). Every other
//! fault must be caught, and every MN case must pass the conformant MN and
//! fail some faulty one.

mod common;

use common::conformance::{check, Role};

#[test]
fn mn_corpus_passes_the_reference_mn_and_catches_its_faults() {
    check(
        env!("CARGO_BIN_EXE_hmip6-ref"),
        Role::Mn,
        41,
        &[
            // Caught by cases/host/length-zero-discarded.yaml once the host
            // cases also run against MNs (`role: [host, mn]`).
            "ra-length-zero-accepted",
        ],
    );
}
