//! What the real-kernel IUT tests share: deadlines, notes in the CI log,
//! the `ping` requirement and a netlink watch on the IUT's addresses.

use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::process::Command;
use std::time::Duration;

use futures::channel::mpsc::UnboundedReceiver;
use futures::StreamExt;
use hmip6spec::topology::testing::skip;
use hmip6spec::topology::Topology;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::address::{AddressAttribute, AddressFlags};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::MulticastGroup;
use tokio::time::Instant;

/// A deadline `d` from now.
pub fn after(d: Duration) -> Instant {
    Instant::now() + d
}

/// Where the test's timings go: stderr directly, as `skip` does, so they
/// show up in CI logs even for passing tests.
pub fn note(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{}: {msg}", env!("CARGO_CRATE_NAME"));
}

/// True when `ping` can run; otherwise skips (fails under
/// HMIP6SPEC_REQUIRE_ALL=1).
pub fn require_ping(test: &str) -> bool {
    let ok = Command::new("ping")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(test, "needs ping (apt-get install iputils-ping)");
    }
    ok
}

/// A change of an IPv6 address, as netlink reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressEvent {
    /// RTM_NEWADDR: added, or its flags changed (IFA_F_*).
    New(Ipv6Addr, AddressFlags),
    /// RTM_DELADDR.
    Del(Ipv6Addr),
}

impl AddressEvent {
    pub fn address(&self) -> Ipv6Addr {
        match self {
            AddressEvent::New(a, _) | AddressEvent::Del(a) => *a,
        }
    }
}

/// The IUT namespace's IPv6 address notifications (RTM_NEWADDR and
/// RTM_DELADDR), from a netlink socket subscribed before any RA is sent:
/// nothing can be missed, and waiting is event-driven.
pub struct AddressWatch {
    messages: UnboundedReceiver<(
        NetlinkMessage<RouteNetlinkMessage>,
        rtnetlink::sys::SocketAddr,
    )>,
    conn: tokio::task::JoinHandle<()>,
}

impl AddressWatch {
    pub fn open(topo: &Topology) -> io::Result<AddressWatch> {
        let rt = tokio::runtime::Handle::current();
        // The socket is created inside the IUT namespace; entering the
        // runtime lets rtnetlink register it with our reactor.
        let (conn, _handle, messages) = topo
            .iut_ns()
            .expect("a built topology has an IUT namespace")
            .run(move || {
                let _guard = rt.enter();
                rtnetlink::new_multicast_connection(&[MulticastGroup::Ipv6Ifaddr])
            })??;
        Ok(AddressWatch {
            messages,
            conn: tokio::spawn(conn),
        })
    }

    /// The next event on `ifindex` that satisfies `pred`; `None` at the
    /// deadline.
    pub async fn next(
        &mut self,
        ifindex: u32,
        deadline: Instant,
        pred: impl Fn(&AddressEvent) -> bool,
    ) -> Option<AddressEvent> {
        loop {
            let (msg, _) = tokio::time::timeout_at(deadline, self.messages.next())
                .await
                .ok()??;
            let (a, new) = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) => (a, true),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(a)) => (a, false),
                _ => continue,
            };
            if a.header.index != ifindex {
                continue;
            }
            // IFA_FLAGS holds all 32 bits; the header only the low 8.
            let flags = a
                .attributes
                .iter()
                .find_map(|attr| match attr {
                    AddressAttribute::Flags(f) => Some(*f),
                    _ => None,
                })
                .unwrap_or(AddressFlags::from_bits_retain(u32::from(
                    a.header.flags.bits(),
                )));
            let event = a.attributes.iter().find_map(|attr| match attr {
                AddressAttribute::Address(IpAddr::V6(v6)) if new => {
                    Some(AddressEvent::New(*v6, flags))
                }
                AddressAttribute::Address(IpAddr::V6(v6)) => Some(AddressEvent::Del(*v6)),
                _ => None,
            });
            if let Some(e) = event.filter(|e| pred(e)) {
                return Some(e);
            }
        }
    }

    /// The next address added to `ifindex` inside `prefix`/64.
    pub async fn added_in(
        &mut self,
        ifindex: u32,
        prefix: Ipv6Addr,
        deadline: Instant,
    ) -> Option<Ipv6Addr> {
        self.next(ifindex, deadline, |e| {
            matches!(e, AddressEvent::New(..))
                && e.address().segments()[..4] == prefix.segments()[..4]
        })
        .await
        .map(|e| e.address())
    }
}

impl Drop for AddressWatch {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

/// Run `ping -6 -c 3` to `dst` inside the IUT namespace (0.2 s apart, 2 s
/// to wait for each reply). True with its output when all three replies
/// came back; false with stdout, stderr and status otherwise.
pub async fn ping3_from_iut(topo: &Topology, dst: Ipv6Addr) -> (bool, String) {
    let mut cmd = Command::new("ping");
    cmd.args(["-6", "-n", "-c", "3", "-i", "0.2", "-W", "2"])
        .arg(dst.to_string());
    let mut ping = topo.spawn_iut(cmd).expect("spawn ping");
    let status = ping
        .wait_until(after(Duration::from_secs(6)))
        .await
        .expect("wait for ping");
    let out = ping.stdout();
    let ok = status.is_some_and(|s| s.success()) && out.contains("3 received");
    (ok, format!("status {status:?}: {out}{}", ping.stderr()))
}
