//! Processes spawned inside a namespace.

mod common;

use std::process::Command;
use std::time::Duration;

use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{LinkSpec, Stream, Topology, TopologySpec};
use tokio::time::Instant;

fn soon(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

async fn topo() -> Topology {
    Topology::build(TopologySpec {
        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
        seed: 1,
        capture: None,
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn process_in_iut_namespace_sees_only_its_interfaces() {
    if !require_root("process_in_iut_namespace_sees_only_its_interfaces") {
        return;
    }
    let topo = topo().await;
    let mut cmd = Command::new("ip");
    cmd.args(["-o", "link"]);
    let mut child = topo.spawn_iut(cmd).unwrap();
    let st = child
        .wait_until(soon(5000))
        .await
        .unwrap()
        .expect("ip did not exit");
    assert!(st.success(), "ip -o link failed: {}", child.stderr());
    let names: Vec<String> = child
        .stdout()
        .lines()
        .filter_map(|l| l.split(':').nth(1))
        .map(|n| n.trim().split('@').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        names,
        vec!["lo", "access", "core"],
        "output: {}",
        child.stdout()
    );
}

#[tokio::test]
async fn stdout_and_stderr_are_captured_and_lines_can_be_awaited() {
    if !require_root("stdout_and_stderr_are_captured_and_lines_can_be_awaited") {
        return;
    }
    let topo = topo().await;
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "echo starting; echo oops >&2; echo ready; read x; exit 3",
    ]);
    let mut child = topo.spawn_iut(cmd).unwrap();
    // stdin is /dev/null: `read` returns at once, so the script exits 3.
    let line = child
        .wait_for_line(Stream::Stdout, soon(5000), |l| l == "ready")
        .await;
    assert_eq!(line.as_deref(), Some("ready"));
    let st = child
        .wait_until(soon(5000))
        .await
        .unwrap()
        .expect("sh did not exit");
    assert_eq!(st.code(), Some(3));
    assert_eq!(child.stdout(), "starting\nready\n");
    assert_eq!(child.stderr(), "oops\n");
    // A line that never comes: None once the stream is closed.
    assert_eq!(
        child
            .wait_for_line(Stream::Stderr, soon(5000), |l| l == "never")
            .await,
        None
    );
}

#[tokio::test]
async fn child_is_killed_and_reaped_when_dropped() {
    if !require_root("child_is_killed_and_reaped_when_dropped") {
        return;
    }
    let topo = topo().await;
    let mut cmd = Command::new("sh");
    // A helper in the same process group must die too.
    cmd.args(["-c", "sleep 1000 & echo $!; wait"]);
    let child = topo.spawn_iut(cmd).unwrap();
    let helper = child
        .wait_for_line(Stream::Stdout, soon(5000), |_| true)
        .await
        .and_then(|l| l.trim().parse::<u32>().ok())
        .expect("helper pid");
    let pid = child.pid();
    assert!(common::alive(pid) && common::alive(helper));
    // Watch the helper (not our child) with a pidfd before killing.
    let helper_fd = pidfd(helper);
    drop(child);
    assert!(!common::alive(pid), "child still alive after drop");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "child not reaped (zombie) after drop"
    );
    assert!(
        wait_pidfd(&helper_fd, 5000),
        "helper in the child's process group survived"
    );
}

fn pidfd(pid: u32) -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    // SAFETY: raw syscall; the fd is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    assert!(fd >= 0, "pidfd_open: {}", std::io::Error::last_os_error());
    unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) }
}

/// Waits (poll, no sleep) until the process behind `fd` exits.
fn wait_pidfd(fd: &std::os::fd::OwnedFd, ms: i32) -> bool {
    use std::os::fd::AsRawFd;
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, ms) == 1 }
}
