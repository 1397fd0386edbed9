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

/// True when `tshark` is installed; otherwise skips and returns false.
pub fn require_tshark(test: &str) -> bool {
    require_program(test, "tshark", "apt-get install tshark")
}

/// True when `radvd` is installed; otherwise skips and returns false.
pub fn require_radvd(test: &str) -> bool {
    require_program(test, "radvd", "apt-get install radvd")
}

/// True when `program` is an executable on the PATH (or in /usr/sbin or
/// /sbin, where Debian puts daemons: radvd's `--version` exits 1, so
/// running it proves nothing); otherwise skips, saying how to get it.
fn require_program(test: &str, program: &str, install: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let ok = std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .any(|p| {
            std::fs::metadata(&p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        });
    if !ok {
        skip(test, &format!("needs {program} ({install})"));
    }
    ok
}
