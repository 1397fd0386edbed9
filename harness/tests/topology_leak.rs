//! Nothing of ours survives a topology: not after a drop, not after the
//! process holding it is SIGKILLed. Checked through /proc, not `ip netns`
//! (our namespaces are anonymous).
//!
//! Own `main` (harness = false): the two checks run one after the other, and
//! `HMIP6SPEC_LEAK_CHILD=1` turns this binary into the child that gets killed.

mod common;

use std::io::{BufRead, BufReader};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::Duration;

use hmip6spec::topology::testing::require_root;
use hmip6spec::topology::{LinkSpec, Stream, Topology, TopologySpec};

const CHILD_ENV: &str = "HMIP6SPEC_LEAK_CHILD";
const N: usize = 20;

fn spec(capture: Option<std::path::PathBuf>) -> TopologySpec {
    TopologySpec {
        links: vec![LinkSpec::new("access"), LinkSpec::new("core")],
        seed: 3,
        capture,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn spawn_sleeper(t: &Topology) -> hmip6spec::topology::NsChild {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo up; exec sleep 1000"]);
    let c = t.spawn_iut(cmd).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    assert!(c
        .wait_for_line(Stream::Stdout, deadline, |l| l == "up")
        .await
        .is_some());
    c
}

/// N topologies (with captures and a process in each) created and dropped:
/// their namespaces, processes and fds are all gone afterwards.
fn drop_leaves_nothing() {
    let rt = runtime();
    let dir = std::env::temp_dir().join(format!("hmip6spec-leak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    rt.block_on(async {
        // Warm-up: lazily created threads and runtime fds are not leaks.
        drop(Topology::build(spec(None)).await.unwrap());
        let fds_before = common::fd_count();
        let veths_before = common::host_veths();
        let me = std::process::id();
        let mut inodes = Vec::new();
        let mut pids = Vec::new();
        for i in 0..N {
            let t = Topology::build(spec(Some(dir.join(format!("{i}.pcapng")))))
                .await
                .unwrap();
            let child = spawn_sleeper(&t).await;
            pids.push(child.pid());
            inodes.push(t.tester_ns().inode());
            inodes.push(t.iut_ns().unwrap().inode());
            // Positive control: the /proc scan does see live namespaces.
            let refs = common::netns_refs();
            assert!(
                refs.contains_key(&t.tester_ns().inode()),
                "scan misses a live namespace"
            );
            assert!(refs.contains_key(&t.iut_ns().unwrap().inode()));
            if i % 2 == 0 {
                drop(child);
                drop(t);
            } else {
                // The other order: topology first, then the process in it.
                drop(t);
                drop(child);
            }
        }
        let refs = common::netns_refs();
        let leaked: Vec<_> = inodes.iter().filter_map(|i| refs.get(i)).collect();
        assert!(leaked.is_empty(), "namespaces still referenced: {leaked:?}");
        let alive: Vec<_> = pids.iter().filter(|p| common::alive(**p)).collect();
        assert!(alive.is_empty(), "processes survived: {alive:?}");
        let kids: Vec<_> = common::children_of(me);
        assert!(kids.is_empty(), "children left (incl. zombies): {kids:?}");
        assert_eq!(common::fd_count(), fds_before, "fd leak");
        assert_eq!(
            common::host_veths(),
            veths_before,
            "veths appeared in the host namespace"
        );
    });
    std::fs::remove_dir_all(&dir).ok();
}

/// The child: builds topologies with processes in them, reports their
/// namespace inodes and pids, then blocks until killed.
fn child_main() {
    let rt = runtime();
    rt.block_on(async {
        let dir = std::env::temp_dir().join(format!("hmip6spec-leakchild-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut keep = Vec::new();
        let mut report = String::from("READY");
        for i in 0..3 {
            let t = Topology::build(spec(Some(dir.join(format!("{i}.pcapng")))))
                .await
                .unwrap();
            let c = spawn_sleeper(&t).await;
            report += &format!(
                " ns={} ns={} pid={}",
                t.tester_ns().inode(),
                t.iut_ns().unwrap().inode(),
                c.pid()
            );
            keep.push((t, c));
        }
        println!("{report}");
        // Block (no sleep) until the parent kills us: stdin never closes.
        let _ = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        })
        .await;
        drop(keep);
    });
}

fn pidfd(pid: u32) -> Option<OwnedFd> {
    // SAFETY: raw syscall; the fd is owned right away.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// SIGKILL the child holding topologies: its namespaces and processes go.
fn sigkill_leaves_nothing() {
    let veths_before = common::host_veths();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read the READY line in a thread so a hung child fails the test by
    // deadline instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("child never got ready");
    assert!(line.starts_with("READY"), "child said {line:?}");
    let mut inodes = Vec::new();
    let mut pids = Vec::new();
    for tok in line.split_whitespace().skip(1) {
        match tok.split_once('=') {
            Some(("ns", v)) => inodes.push(v.parse::<u64>().unwrap()),
            Some(("pid", v)) => pids.push(v.parse::<u32>().unwrap()),
            _ => panic!("bad token {tok}"),
        }
    }
    assert_eq!((inodes.len(), pids.len()), (6, 3));
    let refs = common::netns_refs();
    for i in &inodes {
        assert!(
            refs.contains_key(i),
            "positive control: namespace {i} not seen while alive"
        );
    }
    let fds: Vec<OwnedFd> = pids
        .iter()
        .map(|p| pidfd(*p).expect("grandchild pidfd"))
        .collect();

    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();

    // PDEATHSIG: the grandchildren exit; wait for each pidfd (poll, deadline).
    for (fd, pid) in fds.iter().zip(&pids) {
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut p, 1, 5000) };
        assert_eq!(
            rc, 1,
            "process {pid} in a namespace survived the harness's SIGKILL"
        );
    }
    let refs = common::netns_refs();
    let leaked: Vec<_> = inodes.iter().filter_map(|i| refs.get(i)).collect();
    assert!(
        leaked.is_empty(),
        "namespaces still referenced after SIGKILL: {leaked:?}"
    );
    assert_eq!(
        common::host_veths(),
        veths_before,
        "veths appeared in the host namespace"
    );
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("hmip6spec-leakchild-{}", child.id())),
    );
}

fn main() {
    if std::env::var_os(CHILD_ENV).is_some() {
        child_main();
        return;
    }
    let tests: [(&str, fn()); 2] = [
        ("drop_leaves_nothing", drop_leaves_nothing),
        ("sigkill_leaves_nothing", sigkill_leaves_nothing),
    ];
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for (name, f) in tests {
        if !require_root(name) {
            skipped += 1;
            continue;
        }
        match std::panic::catch_unwind(f) {
            Ok(()) => {
                println!("test {name} ... ok");
                passed += 1;
            }
            Err(_) => {
                println!("test {name} ... FAILED");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}
