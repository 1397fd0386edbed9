//! The IPv6 header (RFC 8200 section 3).
//!
//! ```text
//! octet 0       Version (high 4 bits) | Traffic Class (high 4 bits)
//! octet 1       Traffic Class (low 4 bits) | Flow Label (high 4 bits)
//! octets 2-3    Flow Label (low 16 bits)
//! octets 4-5    Payload Length
//! octet 6       Next Header
//! octet 7       Hop Limit
//! octets 8-23   Source Address
//! octets 24-39  Destination Address
//! ```
//!
//! Next Header and Payload Length depend on what follows, so they are not in
//! [`Ipv6Repr`]: [`Ipv6Repr::parse`] returns them and [`Ipv6Repr::emit`]
//! takes them. Payload Length against the octets present is checked by the
//! frame decoder.

use std::net::Ipv6Addr;

use crate::finding::Diag;
use crate::rules;
use crate::{Error, Result};

/// Length of the fixed IPv6 header.
pub const HEADER_LEN: usize = 40;

/// The largest Flow Label (20 bits).
pub const FLOW_LABEL_MAX: u32 = 0x000f_ffff;

mod field {
    use core::ops::Range;

    pub const VER_TC_FLOW: Range<usize> = 0..4;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Range<usize> = 8..24;
    pub const DST_ADDR: Range<usize> = 24..40;
}

/// A checked view of an IPv6 packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// Wrap a buffer, checking that it holds the header and the payload
    /// its Payload Length claims.
    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// `Err(Error::Truncated)` when the buffer is shorter than 40 octets
    /// or than 40 + Payload Length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < HEADER_LEN + usize::from(self.payload_len()) {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn word0(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FLOW];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Version (4 bits).
    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }

    /// Traffic Class.
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// Flow Label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.word0() & FLOW_LABEL_MAX
    }

    /// Payload Length.
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::PAYLOAD_LEN];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Next Header.
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hop Limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source Address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr_at(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr_at(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// The Payload Length octets after the header.
    pub fn payload(&self) -> &[u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &self.buffer.as_ref()[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    fn set_word0(&mut self, v: u32) {
        self.buffer.as_mut()[field::VER_TC_FLOW].copy_from_slice(&v.to_be_bytes());
    }

    /// Set the Version (low 4 bits of `v`).
    pub fn set_version(&mut self, v: u8) {
        let w = (self.word0() & 0x0fff_ffff) | (u32::from(v & 0x0f) << 28);
        self.set_word0(w);
    }

    pub fn set_traffic_class(&mut self, v: u8) {
        let w = (self.word0() & 0xf00f_ffff) | (u32::from(v) << 20);
        self.set_word0(w);
    }

    /// Set the Flow Label (low 20 bits of `v`).
    pub fn set_flow_label(&mut self, v: u32) {
        let w = (self.word0() & !FLOW_LABEL_MAX) | (v & FLOW_LABEL_MAX);
        self.set_word0(w);
    }

    pub fn set_payload_len(&mut self, v: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_next_header(&mut self, v: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = v;
    }

    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = v;
    }

    pub fn set_src_addr(&mut self, v: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&v.octets());
    }

    pub fn set_dst_addr(&mut self, v: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&v.octets());
    }

    /// The Payload Length octets after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        &mut self.buffer.as_mut()[HEADER_LEN..end]
    }
}

fn addr_at(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

fn default_version() -> u8 {
    6
}

fn is_default_version(v: &u8) -> bool {
    *v == 6
}

/// An IPv6 header, less Next Header and Payload Length.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Ipv6Repr {
    /// Version: 6 unless a test crafts another (only the low 4 bits are sent).
    #[serde(
        default = "default_version",
        skip_serializing_if = "is_default_version"
    )]
    pub version: u8,
    #[serde(default)]
    pub traffic_class: u8,
    /// Flow Label: only the low 20 bits are sent.
    #[serde(default)]
    pub flow_label: u32,
    pub hop_limit: u8,
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
}

impl Ipv6Repr {
    /// A version-6 header with Traffic Class and Flow Label 0.
    pub fn new(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8) -> Ipv6Repr {
        Ipv6Repr {
            version: 6,
            traffic_class: 0,
            flow_label: 0,
            hop_limit,
            src,
            dst,
        }
    }

    /// Decode the header at the start of `data`; returns it with the Next
    /// Header and the Payload Length.
    ///
    /// A Version other than 6 is reported (IPV6_VERSION) and decoding goes
    /// on. Fewer than 40 octets: a truncation is reported and `None` returned.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(Ipv6Repr, u8, u16)> {
        if data.len() < HEADER_LEN {
            diag.truncated(0, "IPv6 header", HEADER_LEN, data.len());
            return None;
        }
        let p = Ipv6Packet::new_unchecked(data);
        let version = p.version();
        if version != 6 {
            diag.report(
                0,
                rules::IPV6_VERSION,
                format!("IPv6 Version is {version}, expected 6"),
            );
        }
        Some((
            Ipv6Repr {
                version,
                traffic_class: p.traffic_class(),
                flow_label: p.flow_label(),
                hop_limit: p.hop_limit(),
                src: p.src_addr(),
                dst: p.dst_addr(),
            },
            p.next_header(),
            p.payload_len(),
        ))
    }

    /// Octets [`emit`](Self::emit) writes: always [`HEADER_LEN`].
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Write the header into the first 40 octets of `buf` (fewer if `buf`
    /// is shorter; octets past the header are left untouched). Version and
    /// Flow Label are masked to their 4 and 20 bits.
    pub fn emit(&self, buf: &mut [u8], next_header: u8, payload_len: u16) {
        let mut tmp = [0u8; HEADER_LEN];
        let mut p = Ipv6Packet::new_unchecked(&mut tmp[..]);
        p.set_version(self.version);
        p.set_traffic_class(self.traffic_class);
        p.set_flow_label(self.flow_label);
        p.set_payload_len(payload_len);
        p.set_next_header(next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src);
        p.set_dst_addr(self.dst);
        let n = buf.len().min(HEADER_LEN);
        buf[..n].copy_from_slice(&tmp[..n]);
    }
}

/// The solicited-node multicast address of `addr`: `ff02::1:ff` followed
/// by the low 24 bits of `addr` (RFC 4291 2.7.1).
pub fn solicited_node(addr: &Ipv6Addr) -> Ipv6Addr {
    let o = addr.octets();
    Ipv6Addr::from([
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, o[13], o[14], o[15],
    ])
}

/// `prefix`'s first 64 bits followed by the modified EUI-64 interface
/// identifier of `mac` (RFC 4291 appendix A: ff:fe in the middle, the U/L
/// bit flipped): what SLAAC forms with Linux's `addr_gen_mode=0`.
pub fn eui64_address(prefix: Ipv6Addr, mac: crate::MacAddr) -> Ipv6Addr {
    let p = prefix.octets();
    let m = mac.0;
    Ipv6Addr::from([
        p[0],
        p[1],
        p[2],
        p[3],
        p[4],
        p[5],
        p[6],
        p[7],
        m[0] ^ 0x02,
        m[1],
        m[2],
        0xff,
        0xfe,
        m[3],
        m[4],
        m[5],
    ])
}

/// The EUI-64 link-local address of an interface with MAC `mac`
/// (fe80::/64 + [`eui64_address`]).
pub fn link_local(mac: crate::MacAddr) -> Ipv6Addr {
    eui64_address(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), mac)
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_ipv6_addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    /// Any header that survives emit: Version < 16, Flow Label < 2^20.
    pub fn arb_ipv6_repr() -> impl Strategy<Value = Ipv6Repr> {
        (
            prop_oneof![3 => Just(6u8), 1 => 0u8..16],
            any::<u8>(),
            0..=FLOW_LABEL_MAX,
            any::<u8>(),
            arb_ipv6_addr(),
            arb_ipv6_addr(),
        )
            .prop_map(
                |(version, traffic_class, flow_label, hop_limit, src, dst)| Ipv6Repr {
                    version,
                    traffic_class,
                    flow_label,
                    hop_limit,
                    src,
                    dst,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use proptest::prelude::*;

    // An RS from fe80::1 to ff02::2: version 6, TC 0xe0, flow 0x12345.
    const BYTES: [u8; 40] = [
        0x6e, 0x01, 0x23, 0x45, // version, TC, flow label
        0x00, 0x08, 0x3a, 0xff, // payload length 8, ICMPv6, hop limit 255
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // src
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // dst
    ];

    fn repr() -> Ipv6Repr {
        Ipv6Repr {
            version: 6,
            traffic_class: 0xe0,
            flow_label: 0x12345,
            hop_limit: 255,
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::2".parse().unwrap(),
        }
    }

    #[test]
    fn known_answer() {
        let mut out = Vec::new();
        let (r, nh, pl) = Ipv6Repr::parse(&BYTES, &mut Diag::new(&mut out)).unwrap();
        assert_eq!(r, repr());
        assert_eq!((nh, pl), (58, 8));
        assert!(out.is_empty());
        let mut buf = [0u8; HEADER_LEN];
        repr().emit(&mut buf, 58, 8);
        assert_eq!(buf, BYTES);
    }

    #[test]
    fn view_accessors() {
        let mut pkt = BYTES.to_vec();
        assert_eq!(Ipv6Packet::new_checked(&pkt[..]), Err(Error::Truncated));
        pkt.extend_from_slice(&[133, 0, 0, 0, 0, 0, 0, 0, 0xee]);
        let mut p = Ipv6Packet::new_checked(&mut pkt[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.traffic_class(), 0xe0);
        assert_eq!(p.flow_label(), 0x12345);
        assert_eq!(p.payload().len(), 8);
        p.set_traffic_class(0x0f);
        assert_eq!((p.version(), p.flow_label()), (6, 0x12345));
        p.set_version(4);
        p.set_flow_label(0xfff_ffff);
        assert_eq!(
            (p.version(), p.traffic_class(), p.flow_label()),
            (4, 0x0f, 0xf_ffff)
        );
        p.payload_mut()[1] = 7;
        assert_eq!(pkt[41], 7);
        assert_eq!(Ipv6Packet::new_checked(&BYTES[..39]), Err(Error::Truncated));
    }

    #[test]
    fn bad_version_is_reported_and_kept() {
        let mut b = BYTES;
        b[0] = 0x4e;
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        let (r, _, _) = Ipv6Repr::parse(&b, &mut d.at(14)).unwrap();
        assert_eq!(r.version, 4);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, rules::IPV6_VERSION);
        assert_eq!(out[0].offset, 14);
        assert!(out[0].message.contains("is 4, expected 6"));
        let mut again = [0u8; HEADER_LEN];
        r.emit(&mut again, 58, 8);
        assert_eq!(again, b);
    }

    #[test]
    fn truncated() {
        let mut out = Vec::new();
        assert!(Ipv6Repr::parse(&BYTES[..39], &mut Diag::new(&mut out)).is_none());
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, rules::TRUNCATED);
        assert_eq!(out[0].offset, 0);
    }

    #[test]
    fn emit_masks_and_never_panics() {
        let r = Ipv6Repr {
            version: 0xf6,
            flow_label: u32::MAX,
            ..repr()
        };
        let mut buf = [0u8; HEADER_LEN];
        r.emit(&mut buf, 0, 0);
        assert_eq!(&buf[..4], &[0x6e, 0x0f, 0xff, 0xff]);
        r.emit(&mut [0u8; 3], 0, 0);
    }

    #[test]
    fn link_local_is_eui64_of_the_mac() {
        use crate::MacAddr;
        let ll = link_local(MacAddr([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(ll, "fe80::11:22ff:fe33:4455".parse::<Ipv6Addr>().unwrap());
        let prefix = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
        let a = eui64_address(prefix, MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(
            a,
            "2001:db8:1::211:22ff:fe33:4455"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
    }

    #[test]
    fn solicited_node_address() {
        let a: Ipv6Addr = "2001:db8::2aa:ff:fe28:9c5a".parse().unwrap();
        assert_eq!(
            solicited_node(&a),
            "ff02::1:ff28:9c5a".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn serde_shape() {
        let j = serde_json::to_string(&repr()).unwrap();
        assert_eq!(
            j,
            r#"{"traffic_class":224,"flow_label":74565,"hop_limit":255,"src":"fe80::1","dst":"ff02::2"}"#
        );
        assert_eq!(serde_json::from_str::<Ipv6Repr>(&j).unwrap(), repr());
        let v4 = Ipv6Repr {
            version: 4,
            ..repr()
        };
        let j = serde_json::to_string(&v4).unwrap();
        assert!(j.starts_with(r#"{"version":4,"#));
        assert_eq!(serde_json::from_str::<Ipv6Repr>(&j).unwrap(), v4);
    }

    proptest! {
        #[test]
        fn round_trip(r in arb_ipv6_repr(), nh in any::<u8>(), pl in any::<u16>()) {
            let mut buf = vec![0u8; r.buffer_len()];
            r.emit(&mut buf, nh, pl);
            let mut out = Vec::new();
            let (p, pnh, ppl) = Ipv6Repr::parse(&buf, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(&p, &r);
            prop_assert_eq!((pnh, ppl), (nh, pl));
            prop_assert_eq!(out.is_empty(), r.version == 6);
            let mut again = vec![0u8; p.buffer_len()];
            p.emit(&mut again, pnh, ppl);
            prop_assert_eq!(again, buf);
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            if let Some((r, nh, pl)) = Ipv6Repr::parse(&data, &mut Diag::new(&mut out)) {
                let mut again = vec![0u8; HEADER_LEN];
                r.emit(&mut again, nh, pl);
                prop_assert_eq!(&again[..], &data[..HEADER_LEN]);
            }
        }
    }
}
