//! What the conformance tests of the reference roles share.

pub mod conformance;
