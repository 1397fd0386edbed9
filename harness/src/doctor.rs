//! `hmip6spec doctor`: checks what a run needs by actually doing each thing
//! once in a throwaway namespace, and says what to do about each failure.

use std::io::{self, Write};
use std::time::Duration;

use crate::topology::{self, rootless, LinkSpec, NetNs, Outgoing, Side, Topology, TopologySpec};

/// Outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    /// Not needed for a run, or could not be checked; read the detail.
    Warn,
    /// A run will not work until this is fixed.
    Fail,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        })
    }
}

/// One row of the doctor's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (empty when ok).
    pub fix: String,
}

fn row(
    name: &'static str,
    status: Status,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

const SKIPPED_FIX: &str =
    "run the doctor as root, or through hmip6spec's rootless re-exec (the CLI does it when it can)";

/// Runs every check. Never panics; each failure becomes a row.
pub fn checks() -> Vec<Check> {
    let mut rows = Vec::new();
    let privileged = rootless::has_net_privileges();
    let userns = rootless::probe_user_namespaces();

    rows.push(if privileged {
        let who = if rootless::is_rootless() {
            "rootless: root of hmip6spec's own user namespace"
        } else if nix::unistd::geteuid().is_root() {
            "root"
        } else {
            "CAP_NET_ADMIN, CAP_NET_RAW and CAP_SYS_ADMIN"
        };
        row("privileges", Status::Ok, who, "")
    } else {
        match &userns {
            Ok(()) => row(
                "privileges",
                Status::Warn,
                "not root; unprivileged user namespaces work, so runs re-exec themselves rootless",
                "",
            ),
            Err(_) => row(
                "privileges",
                Status::Fail,
                "not root, and the rootless re-exec cannot work here (see user namespaces)",
                "run as root, or fix the user namespaces row",
            ),
        }
    });
    rows.push(match &userns {
        Ok(()) => row(
            "user namespaces",
            Status::Ok,
            "unprivileged user + network namespaces allowed",
            "",
        ),
        Err(e) if privileged => row(
            "user namespaces",
            Status::Warn,
            format!("not needed as root, but non-root users cannot run the suite: {e}"),
            "",
        ),
        Err(e) => {
            let (reason, fix) = split_rootless_error(e);
            row("user namespaces", Status::Fail, reason, fix)
        }
    });

    rows.push(if std::path::Path::new("/proc/sys/net/ipv6").is_dir() {
        row("ipv6", Status::Ok, "/proc/sys/net/ipv6 present", "")
    } else {
        row(
            "ipv6",
            Status::Fail,
            "/proc/sys/net/ipv6 missing: IPv6 is disabled or not built",
            "boot without ipv6.disable=1, or load the ipv6 module (modprobe ipv6)",
        )
    });

    if privileged {
        rows.extend(privileged_checks());
    } else {
        for name in [
            "network namespaces",
            "veth",
            "af_packet",
            "timestamps",
            "spawn in namespace",
        ] {
            rows.push(row(
                name,
                Status::Warn,
                "skipped: needs privileges",
                SKIPPED_FIX,
            ));
        }
    }

    rows.push(tshark_check());
    rows
}

fn split_rootless_error(e: &rootless::RootlessError) -> (String, String) {
    match e {
        rootless::RootlessError::Unavailable { reason, fix } => (reason.clone(), fix.clone()),
        other => (other.to_string(), "run as root".to_string()),
    }
}

fn privileged_checks() -> Vec<Check> {
    let mut rows = Vec::new();
    match NetNs::new() {
        Ok(ns) => {
            let quiet = ns.sysctl("net/ipv6/conf/default/accept_dad");
            rows.push(match quiet {
                Ok(v) if v == "0" => row(
                    "network namespaces",
                    Status::Ok,
                    "created, loopback up, quiet IPv6 sysctls written",
                    "",
                ),
                Ok(v) => row(
                    "network namespaces",
                    Status::Fail,
                    format!("accept_dad reads {v} after writing 0"),
                    "check that /proc/sys is writable (not mounted read-only)",
                ),
                Err(e) => row(
                    "network namespaces",
                    Status::Fail,
                    format!("created, but sysctls fail: {e}"),
                    "mount /proc read-write; in a container, allow writing /proc/sys/net",
                ),
            });
        }
        Err(e) => {
            rows.push(row(
                "network namespaces",
                Status::Fail,
                format!("unshare(CLONE_NEWNET): {e}"),
                "needs CAP_SYS_ADMIN and CONFIG_NET_NS; in a container, run it --privileged",
            ));
            for name in ["veth", "af_packet", "timestamps", "spawn in namespace"] {
                rows.push(row(name, Status::Warn, "skipped: no namespace", ""));
            }
            return rows;
        }
    }
    // Async parts on a runtime of their own, in a thread of their own, so
    // this works whether or not the caller is inside a tokio runtime.
    let topo_rows = std::thread::scope(|s| {
        s.spawn(|| -> Vec<Check> {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(topology_checks()),
                Err(e) => vec![row("veth", Status::Fail, format!("tokio runtime: {e}"), "")],
            }
        })
        .join()
        .unwrap_or_else(|_| vec![row("veth", Status::Fail, "check panicked", "report a bug")])
    });
    rows.extend(topo_rows);
    rows
}

async fn topology_checks() -> Vec<Check> {
    let mut rows = Vec::new();
    let spec = TopologySpec {
        links: vec![LinkSpec::new("doctor")],
        seed: 1,
        capture: None,
    };
    let topo = match Topology::build(spec).await {
        Ok(t) => t,
        Err(e) => {
            rows.push(row(
                "veth",
                Status::Fail,
                e.to_string(),
                "needs CONFIG_VETH (modprobe veth) and CAP_NET_ADMIN",
            ));
            return rows;
        }
    };
    rows.push(row(
        "veth",
        Status::Ok,
        "veth pair created across two namespaces",
        "",
    ));
    let exchange = async {
        let iut = topo.open_socket(Side::Iut, "doctor", Outgoing::Drop)?;
        let tester = topo.tester_link("doctor")?;
        let l = &topo.links()[0];
        let mut frame = Vec::with_capacity(60);
        frame.extend_from_slice(&l.iut_mac);
        frame.extend_from_slice(&l.tester_mac);
        frame.extend_from_slice(&[0x88, 0xb5]); // local experimental EtherType
        frame.extend_from_slice(b"hmip6spec doctor probe");
        frame.resize(60, 0);
        tester
            .send(&frame)
            .await
            .map_err(|e| topology::TopologyError::Io {
                context: "send".into(),
                source: e,
            })?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        let got = iut
            .recv_until(deadline, |b| b == frame.as_slice())
            .await
            .map_err(|e| topology::TopologyError::Io {
                context: "recv".into(),
                source: e,
            })?;
        Ok::<_, topology::TopologyError>(got)
    };
    match exchange.await {
        Ok(Some(f)) => {
            rows.push(row(
                "af_packet",
                Status::Ok,
                "frame sent and received through a veth",
                "",
            ));
            rows.push(if f.kernel_timestamp {
                row(
                    "timestamps",
                    Status::Ok,
                    "kernel receive timestamps (SO_TIMESTAMPNS)",
                    "",
                )
            } else {
                row(
                    "timestamps",
                    Status::Warn,
                    "no kernel timestamp: timing verdicts use read times",
                    "",
                )
            });
        }
        Ok(None) => {
            rows.push(row(
                "af_packet",
                Status::Fail,
                "frame sent but not received within 2 s",
                "check for an eBPF/netfilter policy dropping veth traffic",
            ));
            rows.push(row("timestamps", Status::Warn, "skipped", ""));
        }
        Err(e) => {
            rows.push(row(
                "af_packet",
                Status::Fail,
                e.to_string(),
                "needs CAP_NET_RAW and CONFIG_PACKET (modprobe af_packet)",
            ));
            rows.push(row("timestamps", Status::Warn, "skipped", ""));
        }
    }
    let mut cmd = std::process::Command::new("true");
    cmd.env(
        "PATH",
        std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()),
    );
    rows.push(match topo.spawn_iut(cmd) {
        Ok(mut child) => {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            match child.wait_until(deadline).await {
                Ok(Some(st)) if st.success() => row(
                    "spawn in namespace",
                    Status::Ok,
                    "process started inside the IUT namespace",
                    "",
                ),
                Ok(other) => row(
                    "spawn in namespace",
                    Status::Fail,
                    format!("`true` in the namespace ended with {other:?}"),
                    "",
                ),
                Err(e) => row("spawn in namespace", Status::Fail, e.to_string(), ""),
            }
        }
        Err(e) => row(
            "spawn in namespace",
            Status::Fail,
            format!("cannot start `true` in the namespace: {e}"),
            "needs CAP_SYS_ADMIN for setns",
        ),
    });
    rows
}

fn tshark_check() -> Check {
    match std::process::Command::new("tshark")
        .arg("--version")
        .output()
    {
        Ok(o) if o.status.success() => {
            let first = String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("tshark")
                .to_string();
            row("tshark", Status::Ok, first, "")
        }
        Ok(o) => row(
            "tshark",
            Status::Warn,
            format!("tshark --version failed ({})", o.status),
            "only needed for codec cross-checks: apt-get install tshark",
        ),
        Err(_) => row(
            "tshark",
            Status::Warn,
            "not found",
            "only needed for codec cross-checks: apt-get install tshark",
        ),
    }
}

/// Prints the table of [`checks`] to `out`; true when nothing FAILed, i.e.
/// everything a run needs is there.
pub fn run(out: &mut dyn Write) -> bool {
    let rows = checks();
    let _ = print_table(out, &rows);
    rows.iter().all(|r| r.status != Status::Fail)
}

fn print_table(out: &mut dyn Write, rows: &[Check]) -> io::Result<()> {
    let w_name = rows.iter().map(|r| r.name.len()).max().unwrap_or(5).max(5);
    writeln!(out, "{:<w_name$}  {:<6}  detail", "check", "status")?;
    for r in rows {
        writeln!(
            out,
            "{:<w_name$}  {:<6}  {}",
            r.name,
            r.status.to_string(),
            r.detail
        )?;
        if !r.fix.is_empty() {
            writeln!(out, "{:<w_name$}  {:<6}  -> {}", "", "", r.fix)?;
        }
    }
    let fails = rows.iter().filter(|r| r.status == Status::Fail).count();
    if fails == 0 {
        writeln!(out, "\nall checks passed: hmip6spec can run here")?;
    } else {
        writeln!(out, "\n{fails} check(s) FAILED: fix them before a run")?;
    }
    Ok(())
}
