//! The doctor's table, on this machine.

use hmip6spec::doctor::{self, Status};
use hmip6spec::topology::testing::require_root;

#[test]
fn doctor_passes_as_root_and_prints_every_check() {
    if !require_root("doctor_passes_as_root_and_prints_every_check") {
        return;
    }
    let rows = doctor::checks();
    let names: Vec<&str> = rows.iter().map(|r| r.name).collect();
    for want in [
        "privileges",
        "user namespaces",
        "ipv6",
        "network namespaces",
        "veth",
        "af_packet",
        "timestamps",
        "spawn in namespace",
        "tshark",
    ] {
        assert!(names.contains(&want), "no {want} row in {names:?}");
    }
    for r in &rows {
        if [
            "privileges",
            "ipv6",
            "network namespaces",
            "veth",
            "af_packet",
            "spawn in namespace",
        ]
        .contains(&r.name)
        {
            assert_eq!(r.status, Status::Ok, "{r:?}");
        }
    }
    let mut out = Vec::new();
    assert!(doctor::run(&mut out));
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("check"), "{text}");
    assert!(text.contains("all checks passed"), "{text}");
    assert!(!text.contains("FAIL"), "{text}");
}
