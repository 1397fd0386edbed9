//! hmip6spec, the conformance test suite for Hierarchical Mobile IPv6
//! (RFC 4140): the tester's library. The `hmip6spec` binary is a thin CLI
//! over it.

pub mod capture_file;
pub mod doctor;
pub mod dump;
pub mod report;
pub mod requirements;
pub mod topology;
pub mod verdict;
pub mod yaml;
