//! Running without root: re-execute the harness inside a user + network
//! namespace of its own (what `unshare -rn` does), where it holds every
//! capability it needs over namespaces it creates, and nothing on the host.

use std::ffi::CString;
use std::io;
use std::os::unix::process::CommandExt;

/// Set in the environment of the re-executed process: it is in our user
/// namespace (and must not try again).
pub const ROOTLESS_ENV: &str = "HMIP6SPEC_ROOTLESS";

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;
const CAP_SYS_ADMIN: u32 = 21;

/// Why the harness cannot run rootless.
#[derive(Debug, thiserror::Error)]
pub enum RootlessError {
    #[error("not root, and user namespaces are unavailable: {reason}. To fix: {fix}")]
    Unavailable { reason: String, fix: String },
    #[error(
        "cannot enter a user namespace from a multi-threaded process ({0} threads): \
         call reexec_if_needed() first thing in main, before starting any runtime"
    )]
    MultiThreaded(usize),
    #[error(
        "re-executed inside a user namespace but still without CAP_NET_ADMIN, CAP_NET_RAW \
         and CAP_SYS_ADMIN there (an LSM such as AppArmor may strip them): run as root"
    )]
    StillUnprivileged,
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

/// Effective capability set of this thread, from /proc/thread-self/status.
fn effective_caps() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/thread-self/status").ok()?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))?
        .trim();
    u64::from_str_radix(hex, 16).ok()
}

/// True when this process can create namespaces, veths and AF_PACKET
/// sockets: CAP_SYS_ADMIN, CAP_NET_ADMIN and CAP_NET_RAW effective (as root,
/// or as "root" of our own user namespace).
pub fn has_net_privileges() -> bool {
    effective_caps().is_some_and(|c| {
        [CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_ADMIN]
            .iter()
            .all(|b| c & (1 << b) != 0)
    })
}

/// True in the process that [`reexec_if_needed`] re-executed.
pub fn is_rootless() -> bool {
    std::env::var_os(ROOTLESS_ENV).is_some()
}

fn read_sysctl(path: &str) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Names the kernel settings that forbid unprivileged user namespaces, with
/// the command that lifts each; `None` if no known knob forbids them.
pub fn known_blockers() -> Option<(String, String)> {
    let mut reasons = Vec::new();
    let mut fixes = Vec::new();
    if read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == Some(0) {
        reasons.push("kernel.unprivileged_userns_clone=0".to_string());
        fixes.push("sysctl -w kernel.unprivileged_userns_clone=1".to_string());
    }
    if read_sysctl("/proc/sys/user/max_user_namespaces") == Some(0) {
        reasons.push("user.max_user_namespaces=0".to_string());
        fixes.push("sysctl -w user.max_user_namespaces=15000".to_string());
    }
    if read_sysctl("/proc/sys/user/max_net_namespaces") == Some(0) {
        reasons.push("user.max_net_namespaces=0".to_string());
        fixes.push("sysctl -w user.max_net_namespaces=15000".to_string());
    }
    if read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == Some(1) {
        reasons.push("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1)".to_string());
        fixes.push("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile granting `userns,` to hmip6spec".to_string());
    }
    if reasons.is_empty() {
        None
    } else {
        Some((reasons.join(", "), fixes.join("; ")))
    }
}

fn unavailable(what: Option<String>) -> RootlessError {
    match known_blockers() {
        Some((reason, fix)) => RootlessError::Unavailable { reason, fix },
        None => RootlessError::Unavailable {
            reason: match what {
                Some(e) => format!("unshare(CLONE_NEWUSER|CLONE_NEWNET) failed: {e} (no known sysctl forbids it: a seccomp filter or a container runtime may)"),
                None => "a user namespace was created but gave no network capabilities (an LSM may restrict it)".into(),
            },
            fix: "run as root, or allow user namespaces in the container/seccomp profile".into(),
        },
    }
}

fn write_file(path: &str, data: &str) -> io::Result<()> {
    std::fs::write(path, data).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))
}

fn thread_count() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Moves the (single-threaded) calling process into a new user namespace,
/// mapped as root, and a new network namespace owned by it.
pub fn enter_user_and_net_namespace() -> Result<(), RootlessError> {
    let threads = thread_count();
    if threads > 1 {
        return Err(RootlessError::MultiThreaded(threads));
    }
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    nix::sched::unshare(
        nix::sched::CloneFlags::CLONE_NEWUSER | nix::sched::CloneFlags::CLONE_NEWNET,
    )
    .map_err(|e| unavailable(Some(io::Error::from(e).to_string())))?;
    // setgroups must be denied before an unprivileged gid_map is accepted.
    let io_err = |context: &str| {
        let context = context.to_string();
        move |source| RootlessError::Io { context, source }
    };
    write_file("/proc/self/setgroups", "deny").map_err(io_err("setgroups"))?;
    write_file("/proc/self/uid_map", &format!("0 {uid} 1\n")).map_err(io_err("uid_map"))?;
    write_file("/proc/self/gid_map", &format!("0 {gid} 1\n")).map_err(io_err("gid_map"))?;
    if !has_net_privileges() {
        return Err(unavailable(None));
    }
    Ok(())
}

/// Call first thing in `main`. With the needed privileges it does nothing.
/// Otherwise it enters a user + network namespace and re-executes the current
/// binary there with the same arguments (it returns only on failure, saying
/// exactly what is missing).
pub fn reexec_if_needed() -> Result<(), RootlessError> {
    if has_net_privileges() {
        return Ok(());
    }
    if is_rootless() {
        return Err(RootlessError::StillUnprivileged);
    }
    enter_user_and_net_namespace()?;
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| "hmip6spec".into());
    let err = std::process::Command::new("/proc/self/exe")
        .arg0(arg0)
        .args(args)
        .env(ROOTLESS_ENV, "1")
        .exec();
    Err(RootlessError::Io {
        context: "re-executing /proc/self/exe".into(),
        source: err,
    })
}

/// Checks, without changing this process, whether an unprivileged user
/// namespace with network capabilities can be made: a forked child tries
/// it (unshare, uid/gid maps, an AF_PACKET socket) and reports by exit code.
pub fn probe_user_namespaces() -> Result<(), RootlessError> {
    // Everything the child needs is prepared before fork: after fork in a
    // multi-threaded process only async-signal-safe calls are allowed.
    let uid = nix::unistd::getuid();
    let gid = nix::unistd::getgid();
    let c = |s: &str| CString::new(s).unwrap_or_default();
    let setgroups = c("/proc/self/setgroups");
    let uid_map = c("/proc/self/uid_map");
    let gid_map = c("/proc/self/gid_map");
    let uid_line = format!("0 {uid} 1\n");
    let gid_line = format!("0 {gid} 1\n");
    // SAFETY: the child only calls async-signal-safe functions and _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(RootlessError::Io {
            context: "fork".into(),
            source: io::Error::last_os_error(),
        });
    }
    if pid == 0 {
        // SAFETY: raw syscalls only; every path ends in _exit.
        unsafe {
            if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
                libc::_exit(10);
            }
            let write = |path: &CString, data: &[u8]| -> bool {
                let fd = libc::open(path.as_ptr(), libc::O_WRONLY);
                if fd < 0 {
                    return false;
                }
                let ok = libc::write(fd, data.as_ptr() as *const libc::c_void, data.len())
                    == data.len() as isize;
                libc::close(fd);
                ok
            };
            if !write(&setgroups, b"deny")
                || !write(&uid_map, uid_line.as_bytes())
                || !write(&gid_map, gid_line.as_bytes())
            {
                libc::_exit(11);
            }
            let s = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
            if s < 0 {
                libc::_exit(12);
            }
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: waiting for the child we just forked.
    if unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        return Err(RootlessError::Io {
            context: "waitpid".into(),
            source: io::Error::last_os_error(),
        });
    }
    match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
        Some(0) => Ok(()),
        Some(10) => Err(unavailable(Some("refused in a probe child".into()))),
        Some(11) => Err(RootlessError::Unavailable {
            reason: "a user namespace was created but its uid/gid maps could not be written".into(),
            fix: "run as root, or allow writing /proc/self/uid_map (LSM or container policy)"
                .into(),
        }),
        _ => Err(unavailable(None)),
    }
}
