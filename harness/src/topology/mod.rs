//! The test topology: for each case, a tester namespace and an IUT namespace
//! joined by one veth pair per link, built from a [`TopologySpec`] and torn
//! down when the [`Topology`] drops (or the process dies: everything is owned
//! by file descriptors and by children that die with us).
//!
//! ```text
//!   tester netns                      IUT netns
//!   +-------------+   veth "access"   +-------------+
//!   | access  ----+-------------------+----  access |
//!   | core    ----+-------------------+----  core   |
//!   +-------------+   veth "core"     +-------------+
//!   IPv6 off, AF_PACKET               IPv6 on or off per link
//! ```
//!
//! Or, for an external IUT, [`Topology::attach`]: no namespace and no veth
//! is made; the tester's sockets are opened on existing interfaces of the
//! harness's own namespace, which are used as they are (see
//! [`AttachSpec`]).

pub mod capture;
pub mod link;
pub mod memory_link;
pub mod netns;
pub mod node;
pub mod oper;
pub mod packet_socket;
pub mod process;
pub mod rootless;
pub mod testing;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

pub use capture::{Capture, CaptureSummary};
pub use link::{Direction, Frame, FrameLink, FrameLinkExt};
pub use memory_link::{MemoryEndpoint, MemoryLink};
pub use netns::NetNs;
pub use node::{
    InterfaceSpec, Ipv6Prefix, Node, NodeCounters, NodeSpec, NodeState, Nodes, Output, OutputKind,
    RaSpec, Reflexes,
};
pub use packet_socket::{Outgoing, PacketSocket, RawPacketSocket};
pub use process::{NsChild, Stream};

/// Default MTU of a link (Ethernet).
pub const DEFAULT_MTU: u32 = 1500;

/// One link of a topology: a veth pair, one end in each namespace, both ends
/// named `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkSpec {
    /// The link's role and interface name (`access`, `core`, ...): at most 15
    /// bytes of `[A-Za-z0-9_.-]`, not `lo`, `all` or `default`.
    pub name: String,
    /// Whether the kernel's IPv6 runs on the IUT's end (a kernel-based IUT);
    /// off for IUTs that work on raw frames. The tester's end never has it.
    pub iut_kernel_ipv6: bool,
    /// MTU of both ends (68..=65535).
    pub mtu: u32,
    /// Extra IPv6 sysctls for the IUT's end, `(key, value)` under
    /// `net/ipv6/conf/NAME/`, written before the link comes up (e.g.
    /// `accept_ra=2`, `forwarding=1`, `addr_gen_mode=0`).
    pub iut_sysctls: Vec<(String, String)>,
}

impl LinkSpec {
    /// A link with default settings: IUT kernel IPv6 off, MTU 1500.
    pub fn new(name: &str) -> LinkSpec {
        LinkSpec {
            name: name.to_string(),
            iut_kernel_ipv6: false,
            mtu: DEFAULT_MTU,
            iut_sysctls: Vec::new(),
        }
    }

    /// Turns the kernel's IPv6 on or off on the IUT's end.
    pub fn iut_kernel_ipv6(mut self, on: bool) -> LinkSpec {
        self.iut_kernel_ipv6 = on;
        self
    }

    /// Sets the MTU of both ends.
    pub fn mtu(mut self, mtu: u32) -> LinkSpec {
        self.mtu = mtu;
        self
    }

    /// Adds an IPv6 sysctl for the IUT's end (see [`LinkSpec::iut_sysctls`]).
    pub fn iut_sysctl(mut self, key: &str, value: &str) -> LinkSpec {
        self.iut_sysctls.push((key.to_string(), value.to_string()));
        self
    }
}

/// What to build for one case.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopologySpec {
    pub links: Vec<LinkSpec>,
    /// Seeds the MAC addresses (see [`mac_for`]), so a case's captures are
    /// the same from run to run.
    pub seed: u64,
    /// Where to write the pcapng capture of all links, if anywhere.
    pub capture: Option<PathBuf>,
}

/// Which end of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Tester,
    Iut,
}

/// Why a topology could not be built or changed.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("invalid topology: {0}")]
    InvalidSpec(String),
    #[error("{0}")]
    HostInterface(String),
    #[error("no link named {0:?} in this topology")]
    NoSuchLink(String),
    #[error("cannot create a network namespace: {0} (needs CAP_SYS_ADMIN: run as root or through the rootless re-exec)")]
    Namespace(#[source] io::Error),
    #[error("cannot create veth pair for link {link:?}: {message}")]
    Netlink { link: String, message: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_ctx(context: impl Into<String>) -> impl FnOnce(io::Error) -> TopologyError {
    let context = context.into();
    move |source| TopologyError::Io { context, source }
}

/// Facts about one built (or attached) link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkInfo {
    pub name: String,
    /// The tester's interface: `name` in a built topology, the host
    /// interface in an attached one.
    pub ifname: String,
    pub tester_mac: [u8; 6],
    pub iut_mac: [u8; 6],
    pub mtu: u32,
    pub iut_kernel_ipv6: bool,
}

/// Deterministic, locally administered unicast MAC for an end of a link:
/// `02:s1:s2:s3:LL:EE` where `s1..s3` derive from the seed, `LL` is the link
/// number and `EE` is 0x01 for the tester's end, 0x02 for the IUT's end
/// (emulated nodes can take other values of `EE` via [`mac_with`]).
pub fn mac_for(seed: u64, link: usize, side: Side) -> [u8; 6] {
    mac_with(
        seed,
        link,
        match side {
            Side::Tester => 0x01,
            Side::Iut => 0x02,
        },
    )
}

/// Like [`mac_for`] with an arbitrary last byte (for emulated nodes).
pub fn mac_with(seed: u64, link: usize, last: u8) -> [u8; 6] {
    // FNV-1a over the seed: stable across Rust versions, unlike DefaultHasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let s = h.to_be_bytes();
    [0x02, s[0], s[1], s[2], link as u8, last]
}

/// Checks an interface name we create or address: IFNAMSIZ-1 bytes of a
/// conservative character set, and none of the names with a meaning of their
/// own in `/proc/sys/net/ipv6/conf`.
pub fn check_ifname(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(format!("link name {name:?} must be 1 to 15 bytes long"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        return Err(format!(
            "link name {name:?} may only use letters, digits, '-', '_' and '.'"
        ));
    }
    if matches!(name, "lo" | "all" | "default" | "." | "..") {
        return Err(format!("link name {name:?} is reserved"));
    }
    Ok(())
}

/// The checks every topology's link names pass: at least one link, at
/// most 255, valid interface names, none twice.
fn check_link_names(names: &[&str]) -> Result<(), TopologyError> {
    if names.is_empty() {
        return Err(TopologyError::InvalidSpec(
            "a topology needs at least one link".into(),
        ));
    }
    if names.len() > 255 {
        return Err(TopologyError::InvalidSpec("at most 255 links".into()));
    }
    for (i, name) in names.iter().enumerate() {
        check_ifname(name).map_err(TopologyError::InvalidSpec)?;
        if names[..i].contains(name) {
            return Err(TopologyError::InvalidSpec(format!(
                "link {name:?} appears twice"
            )));
        }
    }
    Ok(())
}

impl TopologySpec {
    /// Checks the spec without touching the system.
    pub fn validate(&self) -> Result<(), TopologyError> {
        let names: Vec<&str> = self.links.iter().map(|l| l.name.as_str()).collect();
        check_link_names(&names)?;
        for l in &self.links {
            if !(68..=65535).contains(&l.mtu) {
                return Err(TopologyError::InvalidSpec(format!(
                    "link {:?}: MTU {} is outside 68..=65535",
                    l.name, l.mtu
                )));
            }
            for (k, _) in &l.iut_sysctls {
                netns::if_sysctl_path(&l.name, k)
                    .map_err(|e| TopologyError::InvalidSpec(format!("link {:?}: {e}", l.name)))?;
            }
        }
        Ok(())
    }
}

/// One link of an attached topology: a case link name, the existing host
/// interface wired to the IUT, and the IUT's MAC on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachLink {
    pub name: String,
    /// An interface of the harness's network namespace. It must exist and
    /// be up with a carrier; the harness never changes it.
    pub ifname: String,
    /// The IUT's MAC on this link (destination of unicast frames to it).
    pub iut_mac: [u8; 6],
}

/// What to attach to, for an external IUT ([`Topology::attach`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachSpec {
    pub links: Vec<AttachLink>,
    /// Seeds the tester's and the emulated nodes' MACs (see [`mac_for`]).
    pub seed: u64,
    /// Where to write the pcapng capture of all links, if anywhere.
    pub capture: Option<PathBuf>,
}

impl AttachSpec {
    /// Checks the spec without touching the system.
    pub fn validate(&self) -> Result<(), TopologyError> {
        let names: Vec<&str> = self.links.iter().map(|l| l.name.as_str()).collect();
        check_link_names(&names)?;
        for (i, l) in self.links.iter().enumerate() {
            check_ifname(&l.ifname).map_err(|e| {
                TopologyError::InvalidSpec(format!("host interface of link {:?}: {e}", l.name))
            })?;
            if let Some(o) = self.links[..i].iter().find(|o| o.ifname == l.ifname) {
                return Err(TopologyError::InvalidSpec(format!(
                    "links {:?} and {:?} are both on host interface {:?}",
                    o.name, l.name, l.ifname
                )));
            }
        }
        Ok(())
    }
}

/// The capture being written: the file, and the capture's interface number
/// of each topology link (`None`: not captured).
struct ActiveCapture {
    capture: Arc<Capture>,
    links: Vec<Option<usize>>,
}

/// A built (or attached) topology. Dropping it finishes the capture, closes
/// the sockets and the namespace fds; the kernel then removes the namespaces
/// and their veths (an attached topology removes nothing: it made nothing).
pub struct Topology {
    links: Vec<LinkInfo>,
    tester_sockets: Vec<Arc<PacketSocket>>,
    capture: Mutex<Option<ActiveCapture>>,
    /// Sockets of finished captures, closed with the topology (see
    /// [`Topology::finish_capture_deferring_close`]).
    spent: Mutex<Vec<RawPacketSocket>>,
    /// Made by [`Topology::attach`]: the tester's "namespace" is the
    /// harness's own and there is no IUT namespace.
    attached: bool,
    // Declared last so they are closed after the sockets and the capture.
    tester: NetNs,
    iut: Option<NetNs>,
}

/// ifindex of the tester's end of link `i` is `TESTER_IFINDEX_BASE + i`,
/// the IUT's end `IUT_IFINDEX_BASE + i` (see [`create_veths`]).
pub const TESTER_IFINDEX_BASE: u32 = 100;
pub const IUT_IFINDEX_BASE: u32 = 400;

/// How long links may take to become operationally up (linkwatch work).
const OPER_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sockets opened inside the tester namespace during the build.
struct TesterSide {
    sockets: Vec<RawPacketSocket>,
    capture_sockets: Vec<(usize, RawPacketSocket)>,
    monitor: oper::LinkMonitor,
    ifindices: Vec<u32>,
}

impl Topology {
    /// Builds the topology: two namespaces, the veth pairs, quiet IPv6
    /// settings, a tester socket per link and, if asked, the capture.
    /// Must be called within a tokio runtime; the blocking work (namespace
    /// threads, netlink) runs on the blocking pool.
    pub async fn build(spec: TopologySpec) -> Result<Topology, TopologyError> {
        spec.validate()?;
        let spec2 = spec.clone();
        let (tester, iut, side) = tokio::task::spawn_blocking(move || build_blocking(&spec2))
            .await
            .map_err(|e| TopologyError::Io {
                context: "topology build task".into(),
                source: io::Error::other(e.to_string()),
            })??;
        let links: Vec<LinkInfo> = spec
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkInfo {
                name: l.name.clone(),
                ifname: l.name.clone(),
                tester_mac: mac_for(spec.seed, i, Side::Tester),
                iut_mac: mac_for(spec.seed, i, Side::Iut),
                mtu: l.mtu,
                iut_kernel_ipv6: l.iut_kernel_ipv6,
            })
            .collect();
        Topology::assemble(
            links,
            side.sockets,
            side.capture_sockets,
            spec.capture.as_deref(),
            tester,
            Some(iut),
        )
    }

    /// Attaches to an external IUT: opens the tester's sockets (and the
    /// capture's, if asked) on existing interfaces of the calling thread's
    /// network namespace, one per link. Nothing is created and nothing is
    /// changed: no sysctl, address or link state; the only effect, gone
    /// when the topology closes, is the promiscuous membership of its
    /// packet sockets ([`RawPacketSocket::set_promiscuous`]), so that frames
    /// for the emulated nodes' MACs pass a real NIC. Each interface must
    /// exist and be up with a carrier. There is no IUT namespace: IUT-side
    /// commands ([`Topology::spawn_iut`]) run in the harness's namespace.
    /// Must be called within a tokio runtime.
    pub async fn attach(spec: AttachSpec) -> Result<Topology, TopologyError> {
        spec.validate()?;
        let here = NetNs::current().map_err(io_ctx("the harness's network namespace"))?;
        let spec2 = spec.clone();
        let (here, opened) = tokio::task::spawn_blocking(move || {
            let r = here.run(|| attach_blocking(&spec2));
            (here, r)
        })
        .await
        .map_err(|e| TopologyError::Io {
            context: "topology attach task".into(),
            source: io::Error::other(e.to_string()),
        })?;
        let side = opened.map_err(io_ctx("attach"))??;
        let links: Vec<LinkInfo> = spec
            .links
            .iter()
            .zip(side.mtus)
            .enumerate()
            .map(|(i, (l, mtu))| LinkInfo {
                name: l.name.clone(),
                ifname: l.ifname.clone(),
                tester_mac: mac_for(spec.seed, i, Side::Tester),
                iut_mac: l.iut_mac,
                mtu,
                iut_kernel_ipv6: false,
            })
            .collect();
        Topology::assemble(
            links,
            side.sockets,
            side.capture_sockets,
            spec.capture.as_deref(),
            here,
            None,
        )
    }

    /// The common end of [`Topology::build`] and [`Topology::attach`]: the
    /// tester sockets wrapped for async use, the capture started. Without
    /// an IUT namespace the topology is an attached one.
    fn assemble(
        links: Vec<LinkInfo>,
        sockets: Vec<RawPacketSocket>,
        capture_sockets: Vec<(usize, RawPacketSocket)>,
        capture: Option<&Path>,
        tester: NetNs,
        iut: Option<NetNs>,
    ) -> Result<Topology, TopologyError> {
        let mut tester_sockets = Vec::with_capacity(links.len());
        for (l, raw) in links.iter().zip(sockets) {
            tester_sockets.push(Arc::new(
                PacketSocket::from_raw(&l.name, raw).map_err(io_ctx("tester socket"))?,
            ));
        }
        let capture = match capture {
            None => None,
            Some(path) => Some(start_capture(path, &links, capture_sockets)?),
        };
        Ok(Topology {
            links,
            tester_sockets,
            capture: Mutex::new(capture),
            spent: Mutex::new(Vec::new()),
            attached: iut.is_none(),
            tester,
            iut,
        })
    }

    /// Whether this topology was made by [`Topology::attach`].
    pub fn is_attached(&self) -> bool {
        self.attached
    }

    /// Starts a capture of the links named in `links` (each must exist) into
    /// `path`, on sockets opened now: it holds only frames from this moment
    /// on. For running several cases in one topology, one capture each; a
    /// topology built with [`TopologySpec::capture`] already has one. Fails
    /// if a capture is running (finish it with [`Topology::finish_capture`]).
    pub fn start_capture(&self, path: &Path, links: &[&str]) -> Result<(), TopologyError> {
        let mut slot = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return Err(TopologyError::InvalidSpec(
                "a capture is already running on this topology".into(),
            ));
        }
        let mut chosen = Vec::with_capacity(links.len());
        for (i, name) in links.iter().enumerate() {
            let ix = self.link_index(name)?;
            if links[..i].contains(name) {
                return Err(TopologyError::InvalidSpec(format!(
                    "link {name:?} appears twice"
                )));
            }
            chosen.push(self.links[ix].clone());
        }
        let promisc = self.attached;
        let ifnames: Vec<String> = chosen.iter().map(|l| l.ifname.clone()).collect();
        let sockets = self
            .tester
            .run(|| -> io::Result<Vec<(usize, RawPacketSocket)>> {
                let mut out = Vec::with_capacity(ifnames.len());
                for (i, ifname) in ifnames.iter().enumerate() {
                    let s = RawPacketSocket::open_here(ifname, Outgoing::Keep)?;
                    if promisc {
                        s.set_promiscuous()?;
                    }
                    out.push((i, s));
                }
                Ok(out)
            })
            .map_err(TopologyError::Namespace)?
            .map_err(io_ctx("capture socket"))?;
        let mut active = start_capture(path, &chosen, sockets)?;
        active.links = self
            .links
            .iter()
            .map(|l| chosen.iter().position(|c| c.name == l.name))
            .collect();
        *slot = Some(active);
        Ok(())
    }

    /// Finishes the running capture, if any, and closes its sockets;
    /// returns its summary.
    pub fn finish_capture(&self) -> Result<Option<CaptureSummary>, TopologyError> {
        self.finish_capture_then(close_in_parallel)
    }

    /// As [`Topology::finish_capture`] (the file is complete when it
    /// returns), but the capture's sockets are closed when the topology is
    /// dropped, with its other sockets: closing one waits for an RCU grace
    /// period, which a caller about to hand the topology to a background
    /// teardown need not wait for. For a topology that is about to go, not
    /// for one that captures case after case.
    pub fn finish_capture_deferring_close(&self) -> Result<Option<CaptureSummary>, TopologyError> {
        self.finish_capture_then(|sockets| {
            self.spent
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(sockets)
        })
    }

    fn finish_capture_then(
        &self,
        close: impl FnOnce(Vec<RawPacketSocket>),
    ) -> Result<Option<CaptureSummary>, TopologyError> {
        let active = self
            .capture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some(active) = active else {
            return Ok(None);
        };
        let summary = active.capture.finish().map_err(io_ctx("capture"));
        close(active.capture.take_sockets());
        summary.map(Some)
    }

    /// Reads and discards every frame queued on the tester's sockets (e.g.
    /// what the IUT sent between two cases); returns how many.
    pub fn drain(&self) -> usize {
        self.tester_sockets.iter().map(|s| s.raw().drain()).sum()
    }

    /// The links, in spec order.
    pub fn links(&self) -> &[LinkInfo] {
        &self.links
    }

    /// Number of the link called `name`.
    pub fn link_index(&self, name: &str) -> Result<usize, TopologyError> {
        self.links
            .iter()
            .position(|l| l.name == name)
            .ok_or_else(|| TopologyError::NoSuchLink(name.to_string()))
    }

    /// The tester's socket on link `name` (own frames filtered out).
    pub fn tester_link(&self, name: &str) -> Result<Arc<PacketSocket>, TopologyError> {
        Ok(self.tester_sockets[self.link_index(name)?].clone())
    }

    /// The tester's namespace (for an attached topology, the harness's
    /// own).
    pub fn tester_ns(&self) -> &NetNs {
        &self.tester
    }

    /// The IUT's namespace; `None` for an attached topology.
    pub fn iut_ns(&self) -> Option<&NetNs> {
        self.iut.as_ref()
    }

    fn iut_or_refuse(&self, what: &str) -> Result<&NetNs, TopologyError> {
        self.iut.as_ref().ok_or_else(|| {
            TopologyError::InvalidSpec(format!(
                "{what}: the IUT is attached (external), and the harness does not change its interfaces"
            ))
        })
    }

    /// The running capture, if any.
    pub fn capture(&self) -> Option<Arc<Capture>> {
        self.capture
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|a| a.capture.clone())
    }

    /// Puts `text` on the next captured frame of link `name` (no-op without
    /// a capture, or when the capture does not record that link).
    pub fn annotate(&self, name: &str, text: &str) -> Result<(), TopologyError> {
        let i = self.link_index(name)?;
        let slot = self.capture.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = slot.as_ref() {
            if let Some(Some(ci)) = a.links.get(i) {
                a.capture.annotate(*ci, text).map_err(io_ctx("annotate"))?;
            }
        }
        Ok(())
    }

    /// Opens another AF_PACKET socket, on either end of link `name` (an
    /// in-process IUT, or a test looking at the IUT's end).
    pub fn open_socket(
        &self,
        side: Side,
        name: &str,
        outgoing: Outgoing,
    ) -> Result<PacketSocket, TopologyError> {
        let l = &self.links[self.link_index(name)?];
        let ctx = format!("socket on {name}");
        match side {
            Side::Tester => {
                let promisc = self.attached;
                let raw = self
                    .tester
                    .run(|| -> io::Result<RawPacketSocket> {
                        let s = RawPacketSocket::open_here(&l.ifname, outgoing)?;
                        if promisc {
                            s.set_promiscuous()?;
                        }
                        Ok(s)
                    })
                    .map_err(TopologyError::Namespace)?
                    .map_err(io_ctx(ctx.clone()))?;
                PacketSocket::from_raw(name, raw).map_err(io_ctx(ctx))
            }
            Side::Iut => {
                PacketSocket::open(self.iut_or_refuse(&ctx)?, name, outgoing).map_err(io_ctx(ctx))
            }
        }
    }

    /// Starts a process inside the IUT namespace (see [`NsChild`]); for an
    /// attached topology, in the harness's own namespace (a plain command
    /// on the host).
    pub fn spawn_iut(&self, cmd: Command) -> io::Result<NsChild> {
        self.iut.as_ref().unwrap_or(&self.tester).spawn(cmd)
    }

    /// Sets an IPv6 sysctl of the IUT's end of link `name`
    /// (`net/ipv6/conf/NAME/KEY`).
    pub fn set_iut_if_sysctl(
        &self,
        name: &str,
        key: &str,
        value: &str,
    ) -> Result<(), TopologyError> {
        self.link_index(name)?;
        self.iut_or_refuse(&format!("sysctl {key} on {name}"))?
            .set_if_sysctl(name, key, value)
            .map_err(io_ctx(format!("sysctl {key} on {name}")))
    }

    /// Brings the IUT's end of link `name` up or down (carrier follows: the
    /// tester's end sees the link go down too), e.g. to move an MN. Returns
    /// once both ends are operationally in the new state.
    pub fn set_iut_link_up(&self, name: &str, up: bool) -> Result<(), TopologyError> {
        self.link_index(name)?;
        let ctx = format!("link {name} up={up}");
        let iut = self.iut_or_refuse(&ctx)?;
        let (mut tester_mon, tester_idx) = self
            .tester
            .run(|| Ok::<_, io::Error>((oper::LinkMonitor::open_here()?, netns::ifindex(name)?)))
            .and_then(|r| r)
            .map_err(io_ctx(ctx.clone()))?;
        iut.run(|| -> io::Result<()> {
            let mut mon = oper::LinkMonitor::open_here()?;
            netns::set_link_flag(name, up)?;
            let idx = netns::ifindex(name)?;
            mon.wait(&[idx], up, std::time::Instant::now() + OPER_UP_TIMEOUT)
        })
        .and_then(|r| r)
        .map_err(io_ctx(ctx.clone()))?;
        tester_mon
            .wait(
                &[tester_idx],
                up,
                std::time::Instant::now() + OPER_UP_TIMEOUT,
            )
            .map_err(io_ctx(ctx))
    }

    /// Finishes the capture (if any) and tears the topology down, reporting
    /// capture errors that a plain drop would swallow.
    pub fn close(self) -> Result<Option<CaptureSummary>, TopologyError> {
        self.finish_capture()
    }
}

/// Creates the capture file for `links` and starts its reader on `sockets`
/// (`(index into links, socket)`).
fn start_capture(
    path: &Path,
    links: &[LinkInfo],
    sockets: Vec<(usize, RawPacketSocket)>,
) -> Result<ActiveCapture, TopologyError> {
    let names: Vec<String> = links.iter().map(|l| l.name.clone()).collect();
    let c = Capture::create(path, &names).map_err(io_ctx("capture file"))?;
    c.start(sockets).map_err(io_ctx("capture thread"))?;
    Ok(ActiveCapture {
        capture: Arc::new(c),
        links: (0..links.len()).map(Some).collect(),
    })
}

/// Closing an AF_PACKET socket waits for an RCU grace period
/// (synchronize_net in packet_release): one at a time, closing n sockets
/// costs n grace periods; in parallel about one.
fn close_in_parallel<T: Send>(sockets: Vec<T>) {
    if sockets.len() < 2 {
        return drop(sockets);
    }
    std::thread::scope(|s| {
        for sock in sockets {
            s.spawn(move || drop(sock));
        }
    });
}

impl Drop for Topology {
    fn drop(&mut self) {
        // Finish the capture before the namespaces go, so the last frames are
        // read from sockets whose interfaces still exist.
        let mut capture_sockets = Vec::new();
        let active = self
            .capture
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(a) = active {
            let _ = a.capture.finish();
            capture_sockets = a.capture.take_sockets();
        }
        capture_sockets.extend(std::mem::take(
            self.spent.get_mut().unwrap_or_else(|p| p.into_inner()),
        ));
        // Closing an AF_PACKET socket waits for an RCU grace period
        // (synchronize_net in packet_release): one at a time, teardown would
        // cost several grace periods; in parallel it costs about one.
        let tester: Vec<Arc<PacketSocket>> = std::mem::take(&mut self.tester_sockets);
        std::thread::scope(|s| {
            for sock in tester {
                s.spawn(move || drop(sock));
            }
            for sock in capture_sockets {
                s.spawn(move || drop(sock));
            }
        });
    }
}

impl std::fmt::Debug for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topology")
            .field("tester_ns", &self.tester.inode())
            .field("iut_ns", &self.iut.as_ref().map(NetNs::inode))
            .field("attached", &self.attached)
            .field("links", &self.links)
            .finish()
    }
}

/// Sockets opened on the host interfaces, and their MTUs.
#[derive(Default)]
struct AttachedSide {
    sockets: Vec<RawPacketSocket>,
    capture_sockets: Vec<(usize, RawPacketSocket)>,
    mtus: Vec<u32>,
}

/// The blocking part of [`Topology::attach`], in the harness's namespace:
/// checks each host interface (read only) and opens the sockets. Returns
/// them and each interface's MTU.
fn attach_blocking(spec: &AttachSpec) -> Result<AttachedSide, TopologyError> {
    let capture = spec.capture.is_some();
    let mut side = AttachedSide::default();
    // Subscribed before the flags are read, so no carrier change is missed.
    let mut monitor = oper::LinkMonitor::open_here().map_err(io_ctx("netlink monitor"))?;
    let what = |l: &AttachLink| format!("host interface {:?} (link {:?})", l.ifname, l.name);
    let mut no_carrier = Vec::new();
    for l in &spec.links {
        let (flags, mtu) = netns::link_flags_mtu(&l.ifname).map_err(io_ctx(what(l)))?;
        if flags & libc::IFF_UP == 0 {
            return Err(TopologyError::HostInterface(format!(
                "{} is down; bring it up (the harness does not change host interfaces)",
                what(l)
            )));
        }
        if flags & libc::IFF_RUNNING == 0 {
            no_carrier.push(l);
        }
        side.mtus.push(mtu);
    }
    // Up without a carrier (yet): linkwatch may still be at work, or the
    // IUT's end is down. Wait for it, a little.
    if !no_carrier.is_empty() {
        let mut idx = Vec::new();
        for l in &no_carrier {
            idx.push(netns::ifindex(&l.ifname).map_err(io_ctx(what(l)))?);
        }
        let deadline = std::time::Instant::now() + OPER_UP_TIMEOUT;
        if monitor.wait(&idx, true, deadline).is_err() {
            let names: Vec<String> = no_carrier.iter().map(|l| what(l)).collect();
            return Err(TopologyError::HostInterface(format!(
                "{} has no carrier after {} s: is the IUT's end up and wired to it?",
                names.join(", "),
                OPER_UP_TIMEOUT.as_secs()
            )));
        }
    }
    for (i, l) in spec.links.iter().enumerate() {
        let open = |outgoing| -> io::Result<RawPacketSocket> {
            let s = RawPacketSocket::open_here(&l.ifname, outgoing)?;
            s.set_promiscuous()?;
            Ok(s)
        };
        let w = what(l);
        side.sockets
            .push(open(Outgoing::Drop).map_err(io_ctx(format!("tester socket on {w}")))?);
        if capture {
            side.capture_sockets.push((
                i,
                open(Outgoing::Keep).map_err(io_ctx(format!("capture socket on {w}")))?,
            ));
        }
    }
    Ok(side)
}

/// The blocking part of [`Topology::build`]: namespaces, veths, sysctls,
/// raw sockets. Runs without a tokio context of its own.
fn build_blocking(spec: &TopologySpec) -> Result<(NetNs, NetNs, TesterSide), TopologyError> {
    // Both namespaces at once: creation is mostly kernel set-up time.
    let (tester, iut) = std::thread::scope(|s| {
        let t = s.spawn(NetNs::new);
        let i = NetNs::new();
        let t = t
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("namespace thread panicked")));
        (t, i)
    });
    let tester = tester.map_err(TopologyError::Namespace)?;
    let iut = iut.map_err(TopologyError::Namespace)?;

    let iut_fd = std::os::fd::AsRawFd::as_raw_fd(&iut);
    let capture = spec.capture.is_some();
    let side = tester
        .run(|| -> Result<TesterSide, TopologyError> {
            create_veths(spec, iut_fd)?;
            let mut side = TesterSide {
                sockets: Vec::new(),
                capture_sockets: Vec::new(),
                // Subscribed before any end is up, so no state change is missed.
                monitor: oper::LinkMonitor::open_here().map_err(io_ctx("netlink monitor"))?,
                ifindices: Vec::new(),
            };
            for (i, l) in spec.links.iter().enumerate() {
                // Explicit even though `default` already says so: the tester
                // must own every frame on its end.
                netns::write_sysctl(&format!("net/ipv6/conf/{}/disable_ipv6", l.name), "1")
                    .map_err(io_ctx("tester sysctl"))?;
                netns::set_link_up(&l.name).map_err(io_ctx("tester link up"))?;
                side.ifindices
                    .push(netns::ifindex(&l.name).map_err(io_ctx("tester ifindex"))?);
                side.sockets.push(
                    RawPacketSocket::open_here(&l.name, Outgoing::Drop)
                        .map_err(io_ctx(format!("tester socket on {}", l.name)))?,
                );
                if capture {
                    side.capture_sockets.push((
                        i,
                        RawPacketSocket::open_here(&l.name, Outgoing::Keep)
                            .map_err(io_ctx(format!("capture socket on {}", l.name)))?,
                    ));
                }
            }
            Ok(side)
        })
        .map_err(TopologyError::Namespace)??;

    // IUT ends come up last: until then there is no carrier, so nothing can
    // flow before the tester's and the capture's sockets exist.
    iut.run(|| -> Result<(), TopologyError> {
        let mut monitor = oper::LinkMonitor::open_here().map_err(io_ctx("netlink monitor"))?;
        let mut ifindices = Vec::new();
        for l in &spec.links {
            let disable = if l.iut_kernel_ipv6 { "0" } else { "1" };
            netns::write_sysctl(&format!("net/ipv6/conf/{}/disable_ipv6", l.name), disable)
                .map_err(io_ctx("IUT sysctl"))?;
            for (k, v) in &l.iut_sysctls {
                let path = netns::if_sysctl_path(&l.name, k).map_err(io_ctx("IUT sysctl"))?;
                netns::write_sysctl(&path, v).map_err(io_ctx("IUT sysctl"))?;
            }
            netns::set_link_up(&l.name).map_err(io_ctx("IUT link up"))?;
            ifindices.push(netns::ifindex(&l.name).map_err(io_ctx("IUT ifindex"))?);
        }
        // Frames sent before linkwatch activated the qdiscs would be lost.
        let deadline = std::time::Instant::now() + OPER_UP_TIMEOUT;
        monitor
            .wait(&ifindices, true, deadline)
            .map_err(io_ctx("IUT links"))
    })
    .map_err(TopologyError::Namespace)??;
    let mut side = side;
    let deadline = std::time::Instant::now() + OPER_UP_TIMEOUT;
    side.monitor
        .wait(&side.ifindices, true, deadline)
        .map_err(io_ctx("tester links"))?;
    Ok((tester, iut, side))
}

/// Creates every veth pair from the calling thread's namespace (the tester's):
/// the tester's end stays here, the peer is created directly in the IUT
/// namespace (IFLA_NET_NS_FD on the peer), so no interface ever appears in
/// the host namespace and both ends can share the link's name.
fn create_veths(spec: &TopologySpec, iut_fd: std::os::fd::RawFd) -> Result<(), TopologyError> {
    use rtnetlink::packet_route::link::{InfoData, InfoVeth};
    use rtnetlink::{LinkMessageBuilder, LinkUnspec, LinkVeth};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(io_ctx("netlink runtime"))?;
    rt.block_on(async {
        let (conn, handle, _) = rtnetlink::new_connection().map_err(io_ctx("netlink socket"))?;
        // Runs only while block_on runs; dropped with `rt` right after.
        tokio::spawn(conn);
        for (i, l) in spec.links.iter().enumerate() {
            // Distinct ifindexes on the two ends matter: a veth whose peer
            // has the same ifindex (likely, each namespace counting from 2)
            // looks like a non-stacked device to linkwatch, which then
            // delays its carrier-up work by up to a second.
            let peer = LinkMessageBuilder::<LinkUnspec>::new()
                .index(IUT_IFINDEX_BASE + i as u32)
                .name(l.name.clone())
                .address(mac_for(spec.seed, i, Side::Iut).to_vec())
                .mtu(l.mtu)
                .setns_by_fd(iut_fd)
                .build();
            let msg = LinkVeth::new(&l.name, &l.name)
                .index(TESTER_IFINDEX_BASE + i as u32)
                .address(mac_for(spec.seed, i, Side::Tester).to_vec())
                .mtu(l.mtu)
                .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
                .build();
            handle
                .link()
                .add(msg)
                .execute()
                .await
                .map_err(|e| TopologyError::Netlink {
                    link: l.name.clone(),
                    message: e.to_string(),
                })?;
        }
        Ok(())
    })
}
