//! Packet handling shared by every role, without I/O: reading addresses out
//! of packets, the checks on received ICMPv6 and ND messages, ESP in
//! transport mode around what a role receives and sends (with the
//! [`Sad`]), and the echo replies every role gives.

use std::net::Ipv6Addr;

use wire::checksum::PseudoHeader;
use wire::esp_auth::Opened;
use wire::finding::Finding;
use wire::frame::{Decoded, Frame, Layer};
use wire::icmpv6::{Icmpv6Message, Icmpv6Repr};
use wire::ipsec::EspRepr;
use wire::ipv6::{self, Ipv6Repr};
use wire::{proto, rules, MacAddr};

use crate::sad::Sad;

/// Ethernet header length.
pub const ETH: usize = 14;

/// Why a received packet was dropped: a reason and, when known, the byte
/// offset in the frame it is about.
pub type Rejection = (String, Option<usize>);

/// The first finding of a decoded frame among `rules_`: one that makes it
/// unusable.
pub fn fatal_finding(d: &Decoded, rules_: &[&str]) -> Option<Finding> {
    d.findings
        .iter()
        .find(|f| rules_.contains(&f.rule))
        .cloned()
}

/// A finding as a [`Rejection`] of `what`.
pub fn finding_rejection(what: &str, f: &Finding) -> Rejection {
    (
        format!("{what}: [{}] {}", f.rule, f.message),
        Some(f.offset),
    )
}

/// The IPv6 address at `at` in `b`.
pub fn read_addr(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let s: [u8; 16] = b.get(at..at + 16)?.try_into().ok()?;
    Some(Ipv6Addr::from(s))
}

/// The checks every received ICMPv6 message passes before it is handled:
/// checksum, length, not truncated; for ND messages also hop limit 255,
/// code 0 and no option of length 0 or of a wrong length (RFC 4861 6.1,
/// 7.1).
pub fn check_icmp(d: &Decoded, ip: &Ipv6Repr, m: &Icmpv6Repr) -> Result<(), Rejection> {
    if let Some(f) = fatal_finding(
        d,
        &[
            rules::ICMPV6_CHECKSUM,
            rules::ICMPV6_LENGTH,
            rules::TRUNCATED,
        ],
    ) {
        return Err(finding_rejection("bad ICMPv6 message", &f));
    }
    if m.is_nd() {
        if ip.hop_limit != 255 || m.code != 0 {
            return Err((
                "ND message with hop limit other than 255 or code other than 0".into(),
                Some(ETH + 7),
            ));
        }
        if let Some(f) = fatal_finding(d, &[rules::ND_OPTION_LENGTH_ZERO, rules::ND_OPTION_LENGTH])
        {
            return Err(finding_rejection("bad ND option", &f));
        }
    }
    Ok(())
}

/// Open the ESP header at layer `i` of the frame `d` decodes (`frame`,
/// whose IPv6 packet ends at `end`) with `sad`, checking the ICV unless
/// `verify_icv` is false: what it authenticated, and the frame as it would
/// have been without ESP (the Next Header before it and the Payload Length
/// rewritten).
pub fn open_esp(
    sad: &mut Sad,
    d: &Decoded,
    frame: &[u8],
    end: usize,
    i: usize,
    verify_icv: bool,
) -> Result<(Opened, Vec<u8>), Rejection> {
    let malformed = || ("ESP packet malformed".to_string(), None);
    let &(start, _) = d.spans.get(i).ok_or_else(malformed)?;
    let esp = frame.get(start..end).ok_or_else(malformed)?;
    let opened = if verify_icv {
        sad.open_inbound(esp)
    } else {
        sad.open_inbound_unchecked(esp)
    };
    let opened = opened.map_err(|e| (e.to_string(), Some(start)))?;
    let mut plain = frame[..start].to_vec();
    let &(prev_start, _) = i
        .checked_sub(1)
        .and_then(|p| d.spans.get(p))
        .ok_or_else(malformed)?;
    let nh_at = match d.frame.layers.get(i - 1) {
        Some(Layer::Ipv6(_)) => prev_start + 6,
        Some(_) => prev_start,
        None => return Err(malformed()),
    };
    if let Some(b) = plain.get_mut(nh_at) {
        *b = opened.next_header;
    }
    plain.extend_from_slice(&opened.payload);
    let plen = plain
        .len()
        .checked_sub(ETH + ipv6::HEADER_LEN)
        .and_then(|l| u16::try_from(l).ok())
        .ok_or_else(malformed)?;
    plain[ETH + 4..ETH + 6].copy_from_slice(&plen.to_be_bytes());
    Ok((opened, plain))
}

/// An ESP layer carrying `payload` (protocol `nh`) under the outbound SA
/// of `sad`; `None` without one.
pub fn esp_layer(sad: &mut Sad, nh: u8, payload: &[u8]) -> Option<Layer> {
    let sealed = sad.seal_outbound(nh, payload)?;
    Some(Layer::Esp(EspRepr {
        spi: u32::from_be_bytes([sealed[0], sealed[1], sealed[2], sealed[3]]),
        seq: u32::from_be_bytes([sealed[4], sealed[5], sealed[6], sealed[7]]),
        data: sealed[8..].to_vec(),
    }))
}

/// The IPv6 packet (hop limit 64) from `src` to `dst` carrying `message`,
/// inside ESP under the outbound SA of `sad` when `protect`; `None` if
/// it should be protected and cannot be.
pub fn icmp_packet(
    sad: &mut Sad,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    message: Icmpv6Message,
    protect: bool,
) -> Option<Vec<u8>> {
    let m = Icmpv6Repr::new(message);
    let body = if protect {
        let pseudo = PseudoHeader {
            src,
            dst,
            next_header: proto::ICMPV6,
        };
        esp_layer(sad, proto::ICMPV6, &m.to_bytes(&pseudo))?
    } else {
        Layer::Icmpv6(m)
    };
    Some(Frame::new(vec![Layer::ipv6(src, dst, 64), body]).emit())
}

/// The echo reply to an echo request `ip` carried (ident, seq, data), from
/// the address it was sent to; in ESP when the request came in ESP and
/// there is an outbound SA. `None` for a request from or to a multicast
/// or unspecified address.
pub fn echo_reply(
    sad: &mut Sad,
    ip: &Ipv6Repr,
    ident: u16,
    seq: u16,
    data: &[u8],
    protected: bool,
) -> Option<Vec<u8>> {
    if ip.dst.is_multicast() || ip.src.is_multicast() || ip.src.is_unspecified() {
        return None;
    }
    let protect = protected && sad.has_outbound();
    let reply = Icmpv6Message::EchoReply {
        ident,
        seq,
        data: data.to_vec(),
    };
    icmp_packet(sad, ip.dst, ip.src, reply, protect)
}

/// Whether a frame received on a link with MAC `own` is for the router:
/// an IPv6 frame to `own` or to a multicast MAC, not sent by `own`
/// (promiscuous sockets see everything). Too short for Ethernet: refused.
pub fn frame_for(frame: &[u8], own: MacAddr) -> Result<bool, Rejection> {
    if frame.len() < ETH {
        return Err(("frame shorter than an Ethernet header".into(), Some(0)));
    }
    let dst_mac = MacAddr::from_bytes(&frame[0..6]);
    let src_mac = MacAddr::from_bytes(&frame[6..12]);
    Ok(src_mac != own
        && (dst_mac == own || dst_mac.is_multicast())
        && frame[12..14] == proto::ETHERTYPE_IPV6.to_be_bytes())
}

/// The IPv6 header of a decoded frame and where its packet ends in the
/// frame (the Payload Length checked against the frame).
pub fn ipv6_of(d: &Decoded, frame: &[u8]) -> Result<(Ipv6Repr, usize), Rejection> {
    let Some(Layer::Ipv6(ip)) = d.frame.layers.get(1) else {
        let off = d.findings.first().map(|f| f.offset).unwrap_or(ETH);
        return Err(("IPv6 header truncated".into(), Some(off)));
    };
    if let Some(f) = fatal_finding(d, &[rules::IPV6_VERSION, rules::IPV6_PAYLOAD_LENGTH]) {
        if f.offset < ETH + ipv6::HEADER_LEN {
            return Err(finding_rejection("bad IPv6 header", &f));
        }
    }
    let plen = usize::from(u16::from_be_bytes([frame[ETH + 4], frame[ETH + 5]]));
    let end = ETH + ipv6::HEADER_LEN + plen;
    if end > frame.len() {
        return Err(("IPv6 Payload Length past the frame".into(), Some(ETH + 4)));
    }
    Ok((ip.repr.clone(), end))
}
