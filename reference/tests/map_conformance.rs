//! The MAP corpus against the reference MAP: see common/conformance.rs.

mod common;

use common::conformance::{corpus_passes_the_reference_and_catches_every_fault, Role};

#[test]
fn map_corpus_passes_the_reference_map_and_catches_every_fault() {
    // The issue asks for at least 12 MAP faults.
    corpus_passes_the_reference_and_catches_every_fault(
        env!("CARGO_BIN_EXE_hmip6-ref"),
        Role::Map,
        12,
    );
}
