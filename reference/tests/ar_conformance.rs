//! The AR corpus against the reference AR: see common/conformance.rs.

mod common;

use common::conformance::{corpus_passes_the_reference_and_catches_every_fault, Role};

#[test]
fn ar_corpus_passes_the_reference_ar_and_catches_every_fault() {
    // The issue asks for at least 6 AR faults.
    corpus_passes_the_reference_and_catches_every_fault(
        env!("CARGO_BIN_EXE_hmip6-ref"),
        Role::Ar,
        6,
    );
}
