//! Helpers shared by the integration tests (and usable by other crates'
//! tests): the one place that decides whether a privileged test runs.

/// Env var that turns every "skipped for lack of X" into a failure (CI).
pub const REQUIRE_ALL_ENV: &str = "HMIP6SPEC_REQUIRE_ALL";

fn require_all() -> bool {
    std::env::var(REQUIRE_ALL_ENV).is_ok_and(|v| v == "1")
}

/// Reports a test that cannot run here: prints `SKIP <test>: <reason>` to
/// stderr and returns, or panics with the same text when
/// `HMIP6SPEC_REQUIRE_ALL=1`.
pub fn skip(test: &str, reason: &str) {
    let msg = format!("SKIP {test}: {reason}");
    if require_all() {
        panic!("{msg} ({REQUIRE_ALL_ENV}=1 forbids skipping)");
    }
    // Written to the stderr handle directly, not with eprintln!, which
    // libtest captures and hides for passing tests: a skip must be seen.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// True when the process can build topologies (CAP_NET_ADMIN, CAP_NET_RAW
/// and CAP_SYS_ADMIN, as root or inside our user namespace). Otherwise
/// skips (see [`skip`]) and returns false.
pub fn require_root(test: &str) -> bool {
    if super::rootless::has_net_privileges() {
        return true;
    }
    skip(test, "needs root (run as root or via the rootless re-exec)");
    false
}

/// True when `tshark` can be run; otherwise skips and returns false.
pub fn require_tshark(test: &str) -> bool {
    let ok = std::process::Command::new("tshark")
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip(test, "needs tshark (apt-get install tshark)");
    }
    ok
}
