//! ICMPv6 (RFC 4443) and the Neighbour Discovery messages (RFC 4861, with
//! the RFC 6275 H flag in Router Advertisements).
//!
//! Every message is Type (8), Code (8), Checksum (16), then a body. The
//! checksum covers the IPv6 pseudo-header (next header 58; the final
//! destination when a type 2 routing header is present) and the whole
//! message. In an [`Icmpv6Repr`] it is an override: `None` computes it on
//! emit; `Some(v)` writes `v`. The parser returns `None` when the checksum
//! verifies against the pseudo-header it is given, and `Some(wire)` with an
//! `ICMPV6_CHECKSUM` finding when it does not. Redirect (137) and the
//! types this codec does not know are decoded as [`Icmpv6Message::Unknown`].

use std::net::Ipv6Addr;

use crate::checksum::PseudoHeader;
use crate::nd::{self, NdOption};
use crate::{rules, Diag, Error, Result};

/// ICMPv6 message types.
pub mod msg_type {
    pub const DST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
}

/// A human name for an ICMPv6 type, for dumps and finding messages.
pub fn type_name(t: u8) -> &'static str {
    match t {
        1 => "Destination Unreachable",
        2 => "Packet Too Big",
        3 => "Time Exceeded",
        4 => "Parameter Problem",
        128 => "Echo Request",
        129 => "Echo Reply",
        130 => "Multicast Listener Query",
        131 => "Multicast Listener Report",
        132 => "Multicast Listener Done",
        133 => "Router Solicitation",
        134 => "Router Advertisement",
        135 => "Neighbor Solicitation",
        136 => "Neighbor Advertisement",
        137 => "Redirect",
        143 => "Multicast Listener Report v2",
        144 => "Home Agent Address Discovery Request",
        145 => "Home Agent Address Discovery Reply",
        146 => "Mobile Prefix Solicitation",
        147 => "Mobile Prefix Advertisement",
        _ => "unknown",
    }
}

/// Octets of a known type's fixed part after the 4-octet ICMPv6 header
/// (before any options or data), or `None` for types decoded as Unknown.
pub fn fixed_body_len(t: u8) -> Option<usize> {
    match t {
        msg_type::DST_UNREACHABLE
        | msg_type::PACKET_TOO_BIG
        | msg_type::TIME_EXCEEDED
        | msg_type::PARAM_PROBLEM
        | msg_type::ECHO_REQUEST
        | msg_type::ECHO_REPLY
        | msg_type::ROUTER_SOLICIT => Some(4),
        msg_type::ROUTER_ADVERT => Some(12),
        msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT => Some(20),
        _ => None,
    }
}

/// Router Advertisement flag: managed address configuration.
pub const RA_M_FLAG: u8 = 0x80;
/// Router Advertisement flag: other configuration.
pub const RA_O_FLAG: u8 = 0x40;
/// Router Advertisement flag: the router is a home agent (RFC 6275 7.1).
pub const RA_H_FLAG: u8 = 0x20;
/// Router Advertisement: the Default Router Preference bits (RFC 4191).
pub const RA_PRF_MASK: u8 = 0x18;
/// Neighbor Advertisement flag: router.
pub const NA_R_FLAG: u32 = 0x8000_0000;
/// Neighbor Advertisement flag: solicited.
pub const NA_S_FLAG: u32 = 0x4000_0000;
/// Neighbor Advertisement flag: override.
pub const NA_O_FLAG: u32 = 0x2000_0000;
/// Neighbor Advertisement: the reserved bits after R, S, O.
pub const NA_RESERVED_MASK: u32 = 0x1fff_ffff;

mod field {
    pub type Field = core::ops::Range<usize>;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const HEADER_LEN: usize = 4;

    /// Unused / MTU / Pointer / Reserved / NA flags: the first body word.
    pub const WORD: Field = 4..8;
    pub const INVOKING: usize = 8;

    pub const ECHO_IDENT: Field = 4..6;
    pub const ECHO_SEQ: Field = 6..8;
    pub const ECHO_DATA: usize = 8;

    pub const RS_OPTIONS: usize = 8;

    pub const CUR_HOP_LIMIT: usize = 4;
    pub const RA_FLAGS: usize = 5;
    pub const ROUTER_LIFETIME: Field = 6..8;
    pub const REACHABLE_TIME: Field = 8..12;
    pub const RETRANS_TIMER: Field = 12..16;
    pub const RA_OPTIONS: usize = 16;

    pub const TARGET: Field = 8..24;
    pub const NS_NA_OPTIONS: usize = 24;
}

// ---------------------------------------------------------------------------
// Zero-copy view
// ---------------------------------------------------------------------------

/// A view of an ICMPv6 message.
///
/// `new_checked` requires the 4-octet header and, for the types in
/// [`fixed_body_len`], their fixed part. The type-specific getters read the
/// octets at that type's offsets whatever the Type field says, and read
/// zeros past the end of the buffer rather than panic; setters ignore octets
/// past the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv6Packet<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        Icmpv6Packet { buffer }
    }

    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        match fixed_body_len(b[field::TYPE]) {
            Some(n) if b.len() < field::HEADER_LEN + n => Err(Error::Truncated),
            _ => Ok(()),
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn get<const N: usize>(&self, start: usize) -> [u8; N] {
        let b = self.buffer.as_ref();
        let mut out = [0u8; N];
        if let Some(src) = b.get(start.min(b.len())..b.len().min(start + N)) {
            out[..src.len()].copy_from_slice(src);
        }
        out
    }

    fn tail(&self, start: usize) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[start.min(b.len())..]
    }

    pub fn msg_type(&self) -> u8 {
        self.get::<1>(field::TYPE)[0]
    }

    pub fn msg_code(&self) -> u8 {
        self.get::<1>(field::CODE)[0]
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes(self.get(field::CHECKSUM.start))
    }

    /// Everything after the 4-octet header.
    pub fn payload(&self) -> &[u8] {
        self.tail(field::HEADER_LEN)
    }

    /// The first body word: Unused (1, 3), MTU (2), Pointer (4), Reserved
    /// (133, 135) or the flags word (136).
    pub fn body_word(&self) -> u32 {
        u32::from_be_bytes(self.get(field::WORD.start))
    }

    /// The invoking packet of an error message (types 1-4).
    pub fn invoking(&self) -> &[u8] {
        self.tail(field::INVOKING)
    }

    pub fn echo_ident(&self) -> u16 {
        u16::from_be_bytes(self.get(field::ECHO_IDENT.start))
    }

    pub fn echo_seq(&self) -> u16 {
        u16::from_be_bytes(self.get(field::ECHO_SEQ.start))
    }

    pub fn echo_data(&self) -> &[u8] {
        self.tail(field::ECHO_DATA)
    }

    pub fn cur_hop_limit(&self) -> u8 {
        self.get::<1>(field::CUR_HOP_LIMIT)[0]
    }

    /// The whole RA flags octet (M, O, H, Prf, reserved).
    pub fn router_flags(&self) -> u8 {
        self.get::<1>(field::RA_FLAGS)[0]
    }

    pub fn router_lifetime(&self) -> u16 {
        u16::from_be_bytes(self.get(field::ROUTER_LIFETIME.start))
    }

    pub fn reachable_time(&self) -> u32 {
        u32::from_be_bytes(self.get(field::REACHABLE_TIME.start))
    }

    pub fn retrans_timer(&self) -> u32 {
        u32::from_be_bytes(self.get(field::RETRANS_TIMER.start))
    }

    /// Target Address of an NS or NA.
    pub fn target(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.get::<16>(field::TARGET.start))
    }

    /// The ND option octets of an RS, RA, NS or NA (empty for other types).
    pub fn nd_options(&self) -> &[u8] {
        match options_offset(self.msg_type()) {
            Some(o) => self.tail(o),
            None => &[],
        }
    }

    /// Whether the checksum verifies over `pseudo` and the whole buffer.
    pub fn verify_checksum(&self, pseudo: &PseudoHeader) -> bool {
        pseudo.checksum(self.buffer.as_ref()) == 0
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv6Packet<T> {
    fn put(&mut self, start: usize, v: &[u8]) {
        let b = self.buffer.as_mut();
        let end = b.len().min(start + v.len());
        if start < end {
            b[start..end].copy_from_slice(&v[..end - start]);
        }
    }

    pub fn set_msg_type(&mut self, v: u8) {
        self.put(field::TYPE, &[v]);
    }

    pub fn set_msg_code(&mut self, v: u8) {
        self.put(field::CODE, &[v]);
    }

    pub fn set_checksum(&mut self, v: u16) {
        self.put(field::CHECKSUM.start, &v.to_be_bytes());
    }

    pub fn set_body_word(&mut self, v: u32) {
        self.put(field::WORD.start, &v.to_be_bytes());
    }

    pub fn set_echo_ident(&mut self, v: u16) {
        self.put(field::ECHO_IDENT.start, &v.to_be_bytes());
    }

    pub fn set_echo_seq(&mut self, v: u16) {
        self.put(field::ECHO_SEQ.start, &v.to_be_bytes());
    }

    pub fn set_cur_hop_limit(&mut self, v: u8) {
        self.put(field::CUR_HOP_LIMIT, &[v]);
    }

    pub fn set_router_flags(&mut self, v: u8) {
        self.put(field::RA_FLAGS, &[v]);
    }

    pub fn set_router_lifetime(&mut self, v: u16) {
        self.put(field::ROUTER_LIFETIME.start, &v.to_be_bytes());
    }

    pub fn set_reachable_time(&mut self, v: u32) {
        self.put(field::REACHABLE_TIME.start, &v.to_be_bytes());
    }

    pub fn set_retrans_timer(&mut self, v: u32) {
        self.put(field::RETRANS_TIMER.start, &v.to_be_bytes());
    }

    pub fn set_target(&mut self, v: Ipv6Addr) {
        self.put(field::TARGET.start, &v.octets());
    }

    /// Everything after the 4-octet header, for writing.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let b = self.buffer.as_mut();
        let s = field::HEADER_LEN.min(b.len());
        &mut b[s..]
    }

    /// Compute the checksum over `pseudo` and the buffer and write it.
    pub fn fill_checksum(&mut self, pseudo: &PseudoHeader) {
        let c = pseudo.checksum_with_zeroed_field(self.buffer.as_ref(), field::CHECKSUM.start);
        self.set_checksum(c);
    }
}

fn options_offset(t: u8) -> Option<usize> {
    match t {
        msg_type::ROUTER_SOLICIT => Some(field::RS_OPTIONS),
        msg_type::ROUTER_ADVERT => Some(field::RA_OPTIONS),
        msg_type::NEIGHBOR_SOLICIT | msg_type::NEIGHBOR_ADVERT => Some(field::NS_NA_OPTIONS),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Repr
// ---------------------------------------------------------------------------

/// One ICMPv6 message: Code, the checksum override, and the typed body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Icmpv6Repr {
    #[serde(default)]
    pub code: u8,
    /// Checksum override (`None`: computed over the pseudo-header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<u16>,
    pub message: Icmpv6Message,
}

/// The body of an ICMPv6 message, by type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Icmpv6Message {
    /// Type 1.
    DstUnreachable {
        #[serde(default)]
        unused: u32,
        #[serde(default, with = "crate::hex")]
        invoking: Vec<u8>,
    },
    /// Type 2.
    PacketTooBig {
        mtu: u32,
        #[serde(default, with = "crate::hex")]
        invoking: Vec<u8>,
    },
    /// Type 3.
    TimeExceeded {
        #[serde(default)]
        unused: u32,
        #[serde(default, with = "crate::hex")]
        invoking: Vec<u8>,
    },
    /// Type 4.
    ParamProblem {
        pointer: u32,
        #[serde(default, with = "crate::hex")]
        invoking: Vec<u8>,
    },
    /// Type 128.
    EchoRequest {
        ident: u16,
        seq: u16,
        #[serde(default, with = "crate::hex")]
        data: Vec<u8>,
    },
    /// Type 129.
    EchoReply {
        ident: u16,
        seq: u16,
        #[serde(default, with = "crate::hex")]
        data: Vec<u8>,
    },
    /// Type 133.
    RouterSolicit {
        #[serde(default)]
        reserved: u32,
        #[serde(default)]
        options: Vec<NdOption>,
    },
    /// Type 134.
    RouterAdvert {
        cur_hop_limit: u8,
        #[serde(default)]
        m_flag: bool,
        #[serde(default)]
        o_flag: bool,
        /// Home agent (RFC 6275 7.1).
        #[serde(default)]
        h_flag: bool,
        /// Default Router Preference (RFC 4191), 2 bits (0x18), masked on emit.
        #[serde(default)]
        prf: u8,
        /// The 3 low bits of the flags octet, masked on emit.
        #[serde(default)]
        reserved: u8,
        router_lifetime: u16,
        #[serde(default)]
        reachable_time: u32,
        #[serde(default)]
        retrans_timer: u32,
        #[serde(default)]
        options: Vec<NdOption>,
    },
    /// Type 135.
    NeighborSolicit {
        #[serde(default)]
        reserved: u32,
        target: Ipv6Addr,
        #[serde(default)]
        options: Vec<NdOption>,
    },
    /// Type 136.
    NeighborAdvert {
        #[serde(default)]
        r_flag: bool,
        #[serde(default)]
        s_flag: bool,
        #[serde(default)]
        o_flag: bool,
        /// The low 29 bits of the flags word, masked on emit.
        #[serde(default)]
        reserved: u32,
        target: Ipv6Addr,
        #[serde(default)]
        options: Vec<NdOption>,
    },
    /// A type this codec does not decode (including Redirect); `data` is
    /// everything after the 4-octet header. Its `icmp_type` must not be one
    /// of the decoded types, or it parses back as that type.
    Unknown {
        icmp_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
    /// A decoded type too short for its fixed part (with an
    /// `ICMPV6_LENGTH` finding); `data` is everything after the 4-octet header.
    Raw {
        icmp_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

impl Icmpv6Message {
    /// The ND options of an RS, RA, NS or NA.
    pub fn options(&self) -> Option<&[NdOption]> {
        match self {
            Icmpv6Message::RouterSolicit { options, .. }
            | Icmpv6Message::RouterAdvert { options, .. }
            | Icmpv6Message::NeighborSolicit { options, .. }
            | Icmpv6Message::NeighborAdvert { options, .. } => Some(options),
            _ => None,
        }
    }

    /// The ND options of an RS, RA, NS or NA, for editing.
    pub fn options_mut(&mut self) -> Option<&mut Vec<NdOption>> {
        match self {
            Icmpv6Message::RouterSolicit { options, .. }
            | Icmpv6Message::RouterAdvert { options, .. }
            | Icmpv6Message::NeighborSolicit { options, .. }
            | Icmpv6Message::NeighborAdvert { options, .. } => Some(options),
            _ => None,
        }
    }

    /// The ICMPv6 Type this message is emitted with.
    pub fn icmp_type(&self) -> u8 {
        match self {
            Icmpv6Message::DstUnreachable { .. } => msg_type::DST_UNREACHABLE,
            Icmpv6Message::PacketTooBig { .. } => msg_type::PACKET_TOO_BIG,
            Icmpv6Message::TimeExceeded { .. } => msg_type::TIME_EXCEEDED,
            Icmpv6Message::ParamProblem { .. } => msg_type::PARAM_PROBLEM,
            Icmpv6Message::EchoRequest { .. } => msg_type::ECHO_REQUEST,
            Icmpv6Message::EchoReply { .. } => msg_type::ECHO_REPLY,
            Icmpv6Message::RouterSolicit { .. } => msg_type::ROUTER_SOLICIT,
            Icmpv6Message::RouterAdvert { .. } => msg_type::ROUTER_ADVERT,
            Icmpv6Message::NeighborSolicit { .. } => msg_type::NEIGHBOR_SOLICIT,
            Icmpv6Message::NeighborAdvert { .. } => msg_type::NEIGHBOR_ADVERT,
            Icmpv6Message::Unknown { icmp_type, .. } | Icmpv6Message::Raw { icmp_type, .. } => {
                *icmp_type
            }
        }
    }

    /// Octets after the 4-octet ICMPv6 header.
    fn body_len(&self) -> usize {
        match self {
            Icmpv6Message::DstUnreachable { invoking, .. }
            | Icmpv6Message::PacketTooBig { invoking, .. }
            | Icmpv6Message::TimeExceeded { invoking, .. }
            | Icmpv6Message::ParamProblem { invoking, .. } => 4 + invoking.len(),
            Icmpv6Message::EchoRequest { data, .. } | Icmpv6Message::EchoReply { data, .. } => {
                4 + data.len()
            }
            Icmpv6Message::RouterSolicit { options, .. } => 4 + nd::options_len(options),
            Icmpv6Message::RouterAdvert { options, .. } => 12 + nd::options_len(options),
            Icmpv6Message::NeighborSolicit { options, .. }
            | Icmpv6Message::NeighborAdvert { options, .. } => 20 + nd::options_len(options),
            Icmpv6Message::Unknown { data, .. } | Icmpv6Message::Raw { data, .. } => data.len(),
        }
    }

    /// Write the body (everything after the 4-octet header) into `b`, which
    /// is `body_len()` octets.
    fn emit_body(&self, b: &mut [u8]) {
        let word = |b: &mut [u8], v: u32| b[0..4].copy_from_slice(&v.to_be_bytes());
        match self {
            Icmpv6Message::DstUnreachable {
                unused: w,
                invoking,
            }
            | Icmpv6Message::PacketTooBig { mtu: w, invoking }
            | Icmpv6Message::TimeExceeded {
                unused: w,
                invoking,
            }
            | Icmpv6Message::ParamProblem {
                pointer: w,
                invoking,
            } => {
                word(b, *w);
                b[4..].copy_from_slice(invoking);
            }
            Icmpv6Message::EchoRequest { ident, seq, data }
            | Icmpv6Message::EchoReply { ident, seq, data } => {
                b[0..2].copy_from_slice(&ident.to_be_bytes());
                b[2..4].copy_from_slice(&seq.to_be_bytes());
                b[4..].copy_from_slice(data);
            }
            Icmpv6Message::RouterSolicit { reserved, options } => {
                word(b, *reserved);
                nd::emit_options(options, &mut b[4..]);
            }
            Icmpv6Message::RouterAdvert {
                cur_hop_limit,
                m_flag,
                o_flag,
                h_flag,
                prf,
                reserved,
                router_lifetime,
                reachable_time,
                retrans_timer,
                options,
            } => {
                b[0] = *cur_hop_limit;
                let mut f = ((prf & 0x3) << 3) | (reserved & 0x7);
                if *m_flag {
                    f |= RA_M_FLAG;
                }
                if *o_flag {
                    f |= RA_O_FLAG;
                }
                if *h_flag {
                    f |= RA_H_FLAG;
                }
                b[1] = f;
                b[2..4].copy_from_slice(&router_lifetime.to_be_bytes());
                b[4..8].copy_from_slice(&reachable_time.to_be_bytes());
                b[8..12].copy_from_slice(&retrans_timer.to_be_bytes());
                nd::emit_options(options, &mut b[12..]);
            }
            Icmpv6Message::NeighborSolicit {
                reserved,
                target,
                options,
            } => {
                word(b, *reserved);
                b[4..20].copy_from_slice(&target.octets());
                nd::emit_options(options, &mut b[20..]);
            }
            Icmpv6Message::NeighborAdvert {
                r_flag,
                s_flag,
                o_flag,
                reserved,
                target,
                options,
            } => {
                let mut w = reserved & NA_RESERVED_MASK;
                if *r_flag {
                    w |= NA_R_FLAG;
                }
                if *s_flag {
                    w |= NA_S_FLAG;
                }
                if *o_flag {
                    w |= NA_O_FLAG;
                }
                word(b, w);
                b[4..20].copy_from_slice(&target.octets());
                nd::emit_options(options, &mut b[20..]);
            }
            Icmpv6Message::Unknown { data, .. } | Icmpv6Message::Raw { data, .. } => {
                b.copy_from_slice(data);
            }
        }
    }
}

impl Icmpv6Repr {
    /// A message with Code 0 and a computed checksum.
    pub fn new(message: Icmpv6Message) -> Self {
        Icmpv6Repr {
            code: 0,
            checksum: None,
            message,
        }
    }

    /// Parse a whole ICMPv6 message (all of `data`). Returns `None`, with a
    /// `TRUNCATED` finding, only when `data` is shorter than 4 octets.
    ///
    /// With `pseudo`, a checksum that verifies parses to `None` and one that
    /// does not to `Some(wire)` with an `ICMPV6_CHECKSUM` finding (a wire
    /// 0xffff where 0x0000 is computed verifies, being the other one's
    /// complement zero: it parses to `Some(0xffff)` without a finding).
    /// Without `pseudo`, the checksum is `Some(wire)` and not checked.
    pub fn parse(
        data: &[u8],
        pseudo: Option<&PseudoHeader>,
        diag: &mut Diag,
    ) -> Option<Icmpv6Repr> {
        if data.len() < field::HEADER_LEN {
            diag.truncated(0, "ICMPv6 header", field::HEADER_LEN, data.len());
            return None;
        }
        let pkt = Icmpv6Packet::new_unchecked(data);
        let t = pkt.msg_type();
        let code = pkt.msg_code();
        let wire = pkt.checksum();
        let checksum = match pseudo {
            None => Some(wire),
            Some(ph) => {
                let expected = ph.checksum_with_zeroed_field(data, field::CHECKSUM.start);
                if wire == expected {
                    None
                } else {
                    if !pkt.verify_checksum(ph) {
                        diag.report(
                            field::CHECKSUM.start,
                            rules::ICMPV6_CHECKSUM,
                            format!(
                                "ICMPv6 checksum is 0x{wire:04x}, expected 0x{expected:04x} (pseudo-header {} -> {})",
                                ph.src, ph.dst
                            ),
                        );
                    }
                    Some(wire)
                }
            }
        };
        if (msg_type::ROUTER_SOLICIT..=msg_type::REDIRECT).contains(&t) && code != 0 {
            diag.report(
                field::CODE,
                rules::ND_CODE,
                format!("{} Code is {code}, expected 0", type_name(t)),
            );
        }
        let body = pkt.payload();
        if let Some(fixed) = fixed_body_len(t) {
            if body.len() < fixed {
                diag.report(
                    0,
                    rules::ICMPV6_LENGTH,
                    format!(
                        "{} is {} octets, expected at least {}",
                        type_name(t),
                        data.len(),
                        field::HEADER_LEN + fixed
                    ),
                );
                return Some(Icmpv6Repr {
                    code,
                    checksum,
                    message: Icmpv6Message::Raw {
                        icmp_type: t,
                        data: body.to_vec(),
                    },
                });
            }
        }
        let mut options_at = |off: usize| nd::parse_options(&data[off..], &mut diag.at(off));
        let message = match t {
            msg_type::DST_UNREACHABLE => Icmpv6Message::DstUnreachable {
                unused: pkt.body_word(),
                invoking: pkt.invoking().to_vec(),
            },
            msg_type::PACKET_TOO_BIG => Icmpv6Message::PacketTooBig {
                mtu: pkt.body_word(),
                invoking: pkt.invoking().to_vec(),
            },
            msg_type::TIME_EXCEEDED => Icmpv6Message::TimeExceeded {
                unused: pkt.body_word(),
                invoking: pkt.invoking().to_vec(),
            },
            msg_type::PARAM_PROBLEM => Icmpv6Message::ParamProblem {
                pointer: pkt.body_word(),
                invoking: pkt.invoking().to_vec(),
            },
            msg_type::ECHO_REQUEST => Icmpv6Message::EchoRequest {
                ident: pkt.echo_ident(),
                seq: pkt.echo_seq(),
                data: pkt.echo_data().to_vec(),
            },
            msg_type::ECHO_REPLY => Icmpv6Message::EchoReply {
                ident: pkt.echo_ident(),
                seq: pkt.echo_seq(),
                data: pkt.echo_data().to_vec(),
            },
            msg_type::ROUTER_SOLICIT => Icmpv6Message::RouterSolicit {
                reserved: pkt.body_word(),
                options: options_at(field::RS_OPTIONS),
            },
            msg_type::ROUTER_ADVERT => {
                let f = pkt.router_flags();
                Icmpv6Message::RouterAdvert {
                    cur_hop_limit: pkt.cur_hop_limit(),
                    m_flag: f & RA_M_FLAG != 0,
                    o_flag: f & RA_O_FLAG != 0,
                    h_flag: f & RA_H_FLAG != 0,
                    prf: (f & RA_PRF_MASK) >> 3,
                    reserved: f & 0x07,
                    router_lifetime: pkt.router_lifetime(),
                    reachable_time: pkt.reachable_time(),
                    retrans_timer: pkt.retrans_timer(),
                    options: options_at(field::RA_OPTIONS),
                }
            }
            msg_type::NEIGHBOR_SOLICIT => Icmpv6Message::NeighborSolicit {
                reserved: pkt.body_word(),
                target: pkt.target(),
                options: options_at(field::NS_NA_OPTIONS),
            },
            msg_type::NEIGHBOR_ADVERT => {
                let w = pkt.body_word();
                Icmpv6Message::NeighborAdvert {
                    r_flag: w & NA_R_FLAG != 0,
                    s_flag: w & NA_S_FLAG != 0,
                    o_flag: w & NA_O_FLAG != 0,
                    reserved: w & NA_RESERVED_MASK,
                    target: pkt.target(),
                    options: options_at(field::NS_NA_OPTIONS),
                }
            }
            _ => Icmpv6Message::Unknown {
                icmp_type: t,
                data: body.to_vec(),
            },
        };
        Some(Icmpv6Repr {
            code,
            checksum,
            message,
        })
    }

    /// The ICMPv6 Type.
    pub fn icmp_type(&self) -> u8 {
        self.message.icmp_type()
    }

    /// Whether this is a Neighbour Discovery message (types 133-137).
    pub fn is_nd(&self) -> bool {
        (msg_type::ROUTER_SOLICIT..=msg_type::REDIRECT).contains(&self.icmp_type())
    }

    /// Octets of the whole message.
    pub fn buffer_len(&self) -> usize {
        field::HEADER_LEN + self.message.body_len()
    }

    /// The message's wire octets, checksum computed over `pseudo` unless
    /// overridden. `pseudo.next_header` should be 58.
    pub fn to_bytes(&self, pseudo: &PseudoHeader) -> Vec<u8> {
        let mut out = vec![0u8; self.buffer_len()];
        self.message.emit_body(&mut out[field::HEADER_LEN..]);
        let mut pkt = Icmpv6Packet::new_unchecked(&mut out[..]);
        pkt.set_msg_type(self.icmp_type());
        pkt.set_msg_code(self.code);
        match self.checksum {
            Some(c) => pkt.set_checksum(c),
            None => pkt.fill_checksum(pseudo),
        }
        out
    }

    /// Write the message into `buf` (of `buffer_len()` octets; a shorter
    /// buffer gets a truncated message), checksum computed over `pseudo`
    /// unless overridden. `pseudo.next_header` should be 58.
    pub fn emit(&self, buf: &mut [u8], pseudo: &PseudoHeader) {
        let bytes = self.to_bytes(pseudo);
        let k = bytes.len().min(buf.len());
        buf[..k].copy_from_slice(&bytes[..k]);
    }
}

/// Proptest strategies for ICMPv6 messages, reusable by other modules' tests.
#[cfg(test)]
#[allow(dead_code)]
pub(crate) mod strategy {
    use super::*;
    use crate::nd::strategy::{arb_ipv6, arb_nd_options_with};
    use proptest::collection::vec;
    use proptest::prelude::*;

    const DECODED: [u8; 10] = [1, 2, 3, 4, 128, 129, 133, 134, 135, 136];

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        vec(any::<u8>(), 0..max)
    }

    /// A message body; with `overrides`, ND options carry arbitrary Length overrides.
    pub fn arb_icmpv6_message_with(overrides: bool) -> BoxedStrategy<Icmpv6Message> {
        let opts = move || arb_nd_options_with(overrides);
        prop_oneof![
            (any::<u32>(), bytes(60))
                .prop_map(|(unused, invoking)| Icmpv6Message::DstUnreachable { unused, invoking }),
            (any::<u32>(), bytes(60))
                .prop_map(|(mtu, invoking)| Icmpv6Message::PacketTooBig { mtu, invoking }),
            (any::<u32>(), bytes(60))
                .prop_map(|(unused, invoking)| Icmpv6Message::TimeExceeded { unused, invoking }),
            (any::<u32>(), bytes(60))
                .prop_map(|(pointer, invoking)| Icmpv6Message::ParamProblem { pointer, invoking }),
            (any::<u16>(), any::<u16>(), bytes(40))
                .prop_map(|(ident, seq, data)| Icmpv6Message::EchoRequest { ident, seq, data }),
            (any::<u16>(), any::<u16>(), bytes(40))
                .prop_map(|(ident, seq, data)| Icmpv6Message::EchoReply { ident, seq, data }),
            (any::<u32>(), opts())
                .prop_map(|(reserved, options)| Icmpv6Message::RouterSolicit { reserved, options }),
            (
                (any::<u8>(), any::<[bool; 3]>(), 0u8..4, 0u8..8),
                (any::<u16>(), any::<u32>(), any::<u32>()),
                opts()
            )
                .prop_map(|((chl, f, prf, reserved), (rl, rt, rtt), options)| {
                    Icmpv6Message::RouterAdvert {
                        cur_hop_limit: chl,
                        m_flag: f[0],
                        o_flag: f[1],
                        h_flag: f[2],
                        prf,
                        reserved,
                        router_lifetime: rl,
                        reachable_time: rt,
                        retrans_timer: rtt,
                        options,
                    }
                }),
            (any::<u32>(), arb_ipv6(), opts()).prop_map(|(reserved, target, options)| {
                Icmpv6Message::NeighborSolicit {
                    reserved,
                    target,
                    options,
                }
            }),
            (
                any::<[bool; 3]>(),
                0u32..=NA_RESERVED_MASK,
                arb_ipv6(),
                opts()
            )
                .prop_map(|(f, reserved, target, options)| {
                    Icmpv6Message::NeighborAdvert {
                        r_flag: f[0],
                        s_flag: f[1],
                        o_flag: f[2],
                        reserved,
                        target,
                        options,
                    }
                }),
            (
                any::<u8>().prop_filter("decoded type", |t| !DECODED.contains(t)),
                bytes(40)
            )
                .prop_map(|(icmp_type, data)| Icmpv6Message::Unknown { icmp_type, data }),
            proptest::sample::select(DECODED.to_vec())
                .prop_flat_map(|t| (Just(t), bytes(fixed_body_len(t).unwrap_or(0))))
                .prop_map(|(icmp_type, data)| Icmpv6Message::Raw { icmp_type, data }),
        ]
        .boxed()
    }

    /// A message with Code and checksum override; `overrides` also sets
    /// arbitrary checksums and option Length overrides.
    pub fn arb_icmpv6_repr_with(overrides: bool) -> BoxedStrategy<Icmpv6Repr> {
        let ck = if overrides {
            proptest::option::of(any::<u16>()).boxed()
        } else {
            Just(None).boxed()
        };
        (
            prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
            ck,
            arb_icmpv6_message_with(overrides),
        )
            .prop_map(|(code, checksum, message)| Icmpv6Repr {
                code,
                checksum,
                message,
            })
            .boxed()
    }

    pub fn arb_icmpv6_repr() -> BoxedStrategy<Icmpv6Repr> {
        arb_icmpv6_repr_with(false)
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::nd::{MapOptionRepr, PrefixInfoRepr};
    use crate::Finding;
    use proptest::prelude::*;

    fn ph() -> PseudoHeader {
        PseudoHeader {
            src: "fe80::1".parse().unwrap(),
            dst: "ff02::1".parse().unwrap(),
            next_header: 58,
        }
    }

    fn parse(data: &[u8], pseudo: Option<&PseudoHeader>) -> (Option<Icmpv6Repr>, Vec<Finding>) {
        let mut out = Vec::new();
        let r = Icmpv6Repr::parse(data, pseudo, &mut Diag::new(&mut out));
        (r, out)
    }

    /// An independent, word-by-word one's complement sum for the known-answer tests.
    fn hand_checksum(src: &str, dst: &str, msg: &[u8]) -> u16 {
        let mut all = Vec::new();
        all.extend(src.parse::<Ipv6Addr>().unwrap().octets());
        all.extend(dst.parse::<Ipv6Addr>().unwrap().octets());
        all.extend((msg.len() as u32).to_be_bytes());
        all.extend([0, 0, 0, 58]);
        all.extend(msg);
        if all.len() % 2 == 1 {
            all.push(0);
        }
        let mut sum: u64 = all
            .chunks(2)
            .map(|c| u64::from(c[0]) << 8 | u64::from(c[1]))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// RA from fe80::1 to ff02::1: Cur Hop Limit 64, no flags, Router
    /// Lifetime 1800 s, Reachable Time 0, Retrans Timer 0; Prefix
    /// Information 2001:db8:1::/64 (L, A; valid 2592000 s, preferred
    /// 604800 s); MAP option Dist 1, Pref 10, R, Valid Lifetime 3600,
    /// address 2001:db8:1::1. Checksum 0x8e71 by hand_checksum, confirmed "[correct]" by tshark -V.
    const RA_BYTES: [u8; 72] = [
        // ICMPv6 header and RA fixed part
        0x86, 0x00, 0x8e, 0x71, 0x40, 0x00, 0x07, 0x08, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        // Prefix Information
        0x03, 0x04, 0x40, 0xc0, 0x00, 0x27, 0x8d, 0x00, //
        0x00, 0x09, 0x3a, 0x80, 0x00, 0x00, 0x00, 0x00, //
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        // MAP option
        0x17, 0x03, 0x1a, 0x80, 0x00, 0x00, 0x0e, 0x10, //
        0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    fn ra_repr() -> Icmpv6Repr {
        let prefix = "2001:db8:1::".parse().unwrap();
        let map = "2001:db8:1::1".parse().unwrap();
        Icmpv6Repr::new(Icmpv6Message::RouterAdvert {
            cur_hop_limit: 64,
            m_flag: false,
            o_flag: false,
            h_flag: false,
            prf: 0,
            reserved: 0,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_timer: 0,
            options: vec![
                NdOption::PrefixInformation(PrefixInfoRepr::new(
                    prefix, 64, true, true, 2_592_000, 604_800,
                )),
                NdOption::Map(MapOptionRepr::new(1, 10, true, 3600, map)),
            ],
        })
    }

    #[test]
    fn kat_router_advert_with_prefix_and_map() {
        let mut zeroed = RA_BYTES;
        zeroed[2] = 0;
        zeroed[3] = 0;
        assert_eq!(hand_checksum("fe80::1", "ff02::1", &zeroed), 0x8e71);

        let r = ra_repr();
        assert_eq!(r.buffer_len(), 72);
        let mut buf = [0u8; 72];
        r.emit(&mut buf, &ph());
        assert_eq!(buf, RA_BYTES);

        let (p, f) = parse(&RA_BYTES, Some(&ph()));
        assert_eq!(f, vec![]);
        assert_eq!(p, Some(r.clone()));
        assert!(r.is_nd());
        assert_eq!(r.icmp_type(), 134);

        let v = Icmpv6Packet::new_checked(&RA_BYTES[..]).unwrap();
        assert!(v.verify_checksum(&ph()));
        assert_eq!(
            (v.cur_hop_limit(), v.router_flags(), v.router_lifetime()),
            (64, 0, 1800)
        );
        assert_eq!(v.nd_options().len(), 56);
    }

    #[test]
    fn kat_echo_request() {
        // Echo Request fe80::1 -> ff02::1, ident 0x1234, seq 1, data "hi".
        let mut bytes = vec![0x80, 0x00, 0, 0, 0x12, 0x34, 0x00, 0x01, b'h', b'i'];
        let c = hand_checksum("fe80::1", "ff02::1", &bytes);
        bytes[2..4].copy_from_slice(&c.to_be_bytes());
        let r = Icmpv6Repr::new(Icmpv6Message::EchoRequest {
            ident: 0x1234,
            seq: 1,
            data: b"hi".to_vec(),
        });
        assert_eq!(r.to_bytes(&ph()), bytes);
        assert_eq!(parse(&bytes, Some(&ph())), (Some(r), vec![]));
        assert!(
            !Icmpv6Repr::parse(&bytes, None, &mut Diag::new(&mut Vec::new()))
                .unwrap()
                .is_nd()
        );
    }

    #[test]
    fn kat_neighbor_solicit_and_advert() {
        // NS for 2001:db8::2 with a Source Link-layer Address option.
        let mut ns = vec![0x87, 0x00, 0, 0, 0, 0, 0, 0];
        ns.extend("2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        ns.extend([0x01, 0x01, 0x02, 0, 0, 0, 0, 0x01]);
        let p = PseudoHeader {
            src: "2001:db8::1".parse().unwrap(),
            dst: "ff02::1:ff00:2".parse().unwrap(),
            next_header: 58,
        };
        let c = hand_checksum("2001:db8::1", "ff02::1:ff00:2", &ns);
        ns[2..4].copy_from_slice(&c.to_be_bytes());
        let (r, f) = parse(&ns, Some(&p));
        assert!(f.is_empty());
        let r = r.unwrap();
        assert_eq!(r.to_bytes(&p), ns);
        let Icmpv6Message::NeighborSolicit {
            target, options, ..
        } = &r.message
        else {
            panic!("{r:?}")
        };
        assert_eq!(target.to_string(), "2001:db8::2");
        assert_eq!(options.len(), 1);

        // NA with R, S, O set: flags word 0xe0000000.
        let na = Icmpv6Repr::new(Icmpv6Message::NeighborAdvert {
            r_flag: true,
            s_flag: true,
            o_flag: true,
            reserved: 0,
            target: "2001:db8::2".parse().unwrap(),
            options: vec![],
        });
        let b = na.to_bytes(&ph());
        assert_eq!(&b[..2], &[0x88, 0x00]);
        assert_eq!(&b[4..8], &[0xe0, 0, 0, 0]);
        assert_eq!(parse(&b, Some(&ph())), (Some(na), vec![]));
    }

    #[test]
    fn ra_flags_layout() {
        let r = Icmpv6Repr::new(Icmpv6Message::RouterAdvert {
            cur_hop_limit: 0,
            m_flag: true,
            o_flag: false,
            h_flag: true,
            prf: 0b11,
            reserved: 0xff, // masked to 0x07
            router_lifetime: 0,
            reachable_time: 0,
            retrans_timer: 0,
            options: vec![],
        });
        assert_eq!(r.to_bytes(&ph())[5], 0x80 | 0x20 | 0x18 | 0x07);
    }

    #[test]
    fn finding_checksum() {
        let mut bytes = RA_BYTES;
        bytes[3] ^= 0x01;
        let (r, f) = parse(&bytes, Some(&ph()));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ICMPV6_CHECKSUM, 2));
        assert!(f[0].message.contains("0x8e70") && f[0].message.contains("0x8e71"));
        let r = r.unwrap();
        assert_eq!(r.checksum, Some(0x8e70));
        // Re-emitting reproduces the bad checksum.
        assert_eq!(r.to_bytes(&ph()), bytes);
        // Without a pseudo-header: Some(wire), no finding.
        let (r, f) = parse(&RA_BYTES, None);
        assert!(f.is_empty());
        assert_eq!(r.unwrap().checksum, Some(0x8e71));
    }

    #[test]
    fn negative_zero_checksum_verifies() {
        // Find an echo whose computed checksum is 0x0000; 0xffff verifies too.
        let p = ph();
        let mut msg = vec![0x80, 0, 0, 0, 0, 0, 0, 0];
        let c = p.checksum(&msg);
        // Adding !c (as ident) makes the sum 0xffff, so the checksum 0x0000.
        msg[4..6].copy_from_slice(&(c).to_be_bytes());
        assert_eq!(p.checksum(&msg), 0);
        msg[2..4].copy_from_slice(&[0xff, 0xff]);
        let (r, f) = parse(&msg, Some(&p));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r.unwrap().checksum, Some(0xffff));
    }

    #[test]
    fn finding_nd_code() {
        let mut r = ra_repr();
        r.code = 3;
        let b = r.to_bytes(&ph());
        let (p, f) = parse(&b, Some(&ph()));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ND_CODE, 1));
        assert_eq!(f[0].message, "Router Advertisement Code is 3, expected 0");
        assert_eq!(p, Some(r));
        // Redirect is ND too, decoded as Unknown.
        let red = Icmpv6Repr {
            code: 1,
            checksum: None,
            message: Icmpv6Message::Unknown {
                icmp_type: 137,
                data: vec![0; 36],
            },
        };
        let (p, f) = parse(&red.to_bytes(&ph()), Some(&ph()));
        assert_eq!(f[0].rule, rules::ND_CODE);
        assert!(p.unwrap().is_nd());
        // Echo with code 1 is not ND: no finding.
        let echo = Icmpv6Repr {
            code: 1,
            checksum: None,
            message: Icmpv6Message::EchoReply {
                ident: 0,
                seq: 0,
                data: vec![],
            },
        };
        assert!(parse(&echo.to_bytes(&ph()), Some(&ph())).1.is_empty());
    }

    #[test]
    fn finding_length_and_raw() {
        // An NS cut after 10 octets of its 20-octet fixed part.
        let ns = Icmpv6Repr::new(Icmpv6Message::Raw {
            icmp_type: 135,
            data: vec![0; 10],
        });
        let b = ns.to_bytes(&ph());
        assert_eq!(b.len(), 14);
        let (p, f) = parse(&b, Some(&ph()));
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ICMPV6_LENGTH, 0));
        assert_eq!(
            f[0].message,
            "Neighbor Solicitation is 14 octets, expected at least 24"
        );
        assert_eq!(p, Some(ns));
    }

    #[test]
    fn finding_truncated_header() {
        let (p, f) = parse(&[0x86, 0x00, 0x12], Some(&ph()));
        assert_eq!(p, None);
        assert_eq!((f[0].rule, f[0].offset), (rules::TRUNCATED, 0));
    }

    #[test]
    fn option_findings_are_offset_into_the_message() {
        // The RA with its MAP option's Length set to 2 (and the checksum recomputed).
        let mut r = ra_repr();
        if let Some(NdOption::Map(m)) = r.message.options_mut().unwrap().get_mut(1) {
            m.length = Some(2);
        }
        let b = r.to_bytes(&ph());
        assert_eq!(b.len(), 64);
        let (p, f) = parse(&b, Some(&ph()));
        assert_eq!(f.len(), 1);
        // RA fixed part 16 + Prefix Information 32 + the Length octet.
        assert_eq!((f[0].rule, f[0].offset), (rules::MAP_LENGTH, 49));
        assert_eq!(p.unwrap().to_bytes(&ph()), b);

        // Length 0 on the Prefix Information: the rest is Raw.
        let mut b = RA_BYTES.to_vec();
        b[17] = 0;
        let (p, f) = parse(&b, None);
        assert_eq!((f[0].rule, f[0].offset), (rules::ND_OPTION_LENGTH_ZERO, 17));
        let p = p.unwrap();
        assert_eq!(
            p.message.options().unwrap(),
            &[NdOption::Raw {
                data: b[16..].to_vec()
            }]
        );
        assert_eq!(p.to_bytes(&ph()), b);
    }

    #[test]
    fn serde_shape() {
        let r = Icmpv6Repr::new(Icmpv6Message::RouterSolicit {
            reserved: 0,
            options: vec![],
        });
        let j = serde_json::to_value(&r).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"code": 0, "message": {"router_solicit": {"reserved": 0, "options": []}}})
        );
        let back: Icmpv6Repr = serde_json::from_value(serde_json::json!(
            {"checksum": 4660, "message": {"router_advert": {"cur_hop_limit": 64, "router_lifetime": 1800,
             "options": [{"map": {"dist": 1, "pref": 10, "r_flag": true, "valid_lifetime": 3600,
                                  "address": "2001:db8:1::1"}}]}}}
        ))
        .unwrap();
        assert_eq!(back.checksum, Some(0x1234));
        let mut expect = ra_repr();
        expect.checksum = Some(0x1234);
        if let Some(o) = expect.message.options_mut() {
            o.remove(0);
        }
        assert_eq!(back, expect);
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(134), "Router Advertisement");
        assert_eq!(type_name(137), "Redirect");
        assert_eq!(type_name(200), "unknown");
    }

    #[test]
    fn view_getters_and_setters_never_panic_on_short_buffers() {
        let mut buf = [0u8; 8];
        let mut v = Icmpv6Packet::new_unchecked(&mut buf[..]);
        v.set_msg_type(128);
        v.set_target("2001:db8::1".parse().unwrap()); // past the end: ignored
        v.set_retrans_timer(5);
        assert_eq!(v.target(), Ipv6Addr::UNSPECIFIED);
        assert_eq!(v.retrans_timer(), 0);
        assert_eq!(v.nd_options(), &[] as &[u8]);
        assert_eq!(
            Icmpv6Packet::new_checked(&[134u8, 0, 0, 0, 0][..]).unwrap_err(),
            Error::Truncated
        );
        assert!(Icmpv6Packet::new_checked(&[200u8, 0, 0, 0][..]).is_ok());
    }

    proptest! {
        #[test]
        fn roundtrip(r in arb_icmpv6_repr()) {
            let b = r.to_bytes(&ph());
            prop_assert_eq!(b.len(), r.buffer_len());
            let (p, _) = parse(&b, Some(&ph()));
            prop_assert_eq!(p.as_ref(), Some(&r));
            // Without the pseudo-header the checksum is what was on the wire.
            let (q, f) = parse(&b, None);
            prop_assert!(f.iter().all(|x| x.rule != rules::ICMPV6_CHECKSUM));
            prop_assert_eq!(q.unwrap().checksum, Some(u16::from_be_bytes([b[2], b[3]])));
        }

        #[test]
        fn reemit_with_overrides(r in arb_icmpv6_repr_with(true)) {
            let b = r.to_bytes(&ph());
            prop_assert_eq!(b.len(), r.buffer_len());
            let (p, _) = parse(&b, Some(&ph()));
            prop_assert_eq!(p.unwrap().to_bytes(&ph()), b.clone());
            let (q, _) = parse(&b, None);
            prop_assert_eq!(q.unwrap().to_bytes(&ph()), b);
        }

        #[test]
        fn parse_arbitrary_never_panics(
            t in proptest::sample::select(vec![1u8, 2, 3, 4, 128, 129, 133, 134, 135, 136, 137, 200]),
            mut data in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            if let Some(x) = data.first_mut() {
                *x = t;
            }
            let (p, f) = parse(&data, Some(&ph()));
            for x in &f {
                prop_assert!(x.offset < data.len().max(1));
            }
            if let Some(p) = p {
                // The decoder accounts for every octet.
                prop_assert_eq!(p.buffer_len(), data.len());
                prop_assert_eq!(p.to_bytes(&ph()), data);
            } else {
                prop_assert!(data.len() < 4);
            }
        }
    }
}
