//! A whole frame as a stack of layers: the decoder the harness judges
//! replies with, and the builder it crafts frames with.
//!
//! [`Frame::decode`] follows an Ethernet frame through IPv6, extension
//! headers, IPv6-in-IPv6 tunnels nested to any depth, ICMPv6 / Neighbour
//! Discovery, the Mobility Header and IPsec, reporting every broken rule as
//! a [`Finding`] and keeping undecodable octets as opaque layers, so that
//! `Frame::decode(b).frame.emit() == b` for any `b` the decoder accepts as
//! an Ethernet frame.
//!
//! The fields that link one header to the next (EtherType, Next Header,
//! IPv6 Payload Length) live here, not in the module `Repr`s: `None` means
//! "derive it from the neighbouring layers", `Some(v)` means "write v". The
//! decoder returns `None` wherever the wire value is the derived one, so a
//! decoded frame shows exactly which linking fields were odd.
//!
//! Upper-layer checksums (ICMPv6, MH) use the pseudo-header rules of
//! RFC 6275 6.1.1: the source is the home address from a Home Address
//! option, and the destination the address of a type 2 routing header,
//! when those come between the innermost IPv6 header and the message.

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use crate::addr::MacAddr;
use crate::checksum::PseudoHeader;
use crate::ethernet::{self, EthernetRepr};
use crate::finding::{Diag, Finding};
use crate::fragment::FragmentRepr;
use crate::icmpv6::Icmpv6Repr;
use crate::ipsec::{AhRepr, EspRepr};
use crate::ipv6::{self, Ipv6Repr};
use crate::ipv6_options::OptionsHeaderRepr;
use crate::mobility::MobilityRepr;
use crate::proto;
use crate::routing::RoutingRepr;
use crate::rules;

/// Frames shorter than this are padded on Ethernet; zero octets after the
/// IPv6 packet of such a frame are padding, not a finding.
const ETHERNET_MIN_FRAME: usize = 60;

/// How many layers the decoder follows before it stops (a loop guard:
/// a frame of nested tunnels cannot be longer than this in any real use).
pub const MAX_LAYERS: usize = 64;

/// An Ethernet II header and its EtherType.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EthernetLayer {
    #[serde(flatten)]
    pub repr: EthernetRepr,
    /// `None`: 0x86dd when an IPv6 layer follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ethertype: Option<u16>,
}

/// An IPv6 header with its linking fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Layer {
    #[serde(flatten)]
    pub repr: Ipv6Repr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_header: Option<u8>,
    /// `None`: the octets of the layers that follow (a trailer excepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_len: Option<u16>,
}

/// An extension header (or AH) with its Next Header field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtLayer<R> {
    #[serde(flatten)]
    pub repr: R,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_header: Option<u8>,
}

impl<R> ExtLayer<R> {
    pub fn new(repr: R) -> Self {
        ExtLayer {
            repr,
            next_header: None,
        }
    }
}

/// Opaque octets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Octets {
    #[serde(with = "crate::hex")]
    pub data: Vec<u8>,
}

/// One layer of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "snake_case")]
pub enum Layer {
    Ethernet(EthernetLayer),
    Ipv6(Ipv6Layer),
    HopByHop(ExtLayer<OptionsHeaderRepr>),
    DestinationOptions(ExtLayer<OptionsHeaderRepr>),
    Routing(ExtLayer<RoutingRepr>),
    Fragment(ExtLayer<FragmentRepr>),
    Ah(ExtLayer<AhRepr>),
    Esp(EspRepr),
    Icmpv6(Icmpv6Repr),
    Mobility(MobilityRepr),
    /// Octets inside an IPv6 packet that the decoder does not interpret: an
    /// unknown upper layer, a non-first fragment, what follows a header that
    /// was truncated. The layer before it must state its Next Header.
    Payload(Octets),
    /// Octets after the outermost packet ends (Ethernet padding, or junk).
    Trailer(Octets),
}

impl Layer {
    /// An Ethernet II header from `src` to `dst`, EtherType computed.
    pub fn ethernet(src: MacAddr, dst: MacAddr) -> Layer {
        Layer::Ethernet(EthernetLayer {
            repr: EthernetRepr { dst, src },
            ethertype: None,
        })
    }

    /// An IPv6 header from `src` to `dst` with `hop_limit`, traffic class
    /// and flow label 0, Next Header and Payload Length computed.
    pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8) -> Layer {
        Layer::Ipv6(Ipv6Layer {
            repr: Ipv6Repr::new(src, dst, hop_limit),
            next_header: None,
            payload_len: None,
        })
    }

    /// The layer's name as it appears in dumps and JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Ethernet(_) => "ethernet",
            Layer::Ipv6(_) => "ipv6",
            Layer::HopByHop(_) => "hop_by_hop",
            Layer::DestinationOptions(_) => "destination_options",
            Layer::Routing(_) => "routing",
            Layer::Fragment(_) => "fragment",
            Layer::Ah(_) => "ah",
            Layer::Esp(_) => "esp",
            Layer::Icmpv6(_) => "icmpv6",
            Layer::Mobility(_) => "mobility",
            Layer::Payload(_) => "payload",
            Layer::Trailer(_) => "trailer",
        }
    }

    /// The Next Header value that announces this layer, when it has one.
    pub fn protocol(&self) -> Option<u8> {
        Some(match self {
            Layer::Ipv6(_) => proto::IPV6_IN_IPV6,
            Layer::HopByHop(_) => proto::HOP_BY_HOP,
            Layer::DestinationOptions(_) => proto::DESTINATION_OPTIONS,
            Layer::Routing(_) => proto::ROUTING,
            Layer::Fragment(_) => proto::FRAGMENT,
            Layer::Ah(_) => proto::AH,
            Layer::Esp(_) => proto::ESP,
            Layer::Icmpv6(_) => proto::ICMPV6,
            Layer::Mobility(_) => proto::MOBILITY,
            Layer::Ethernet(_) | Layer::Payload(_) | Layer::Trailer(_) => return None,
        })
    }

    /// Octets this layer occupies on the wire (its own header only).
    pub fn buffer_len(&self) -> usize {
        match self {
            Layer::Ethernet(_) => ethernet::HEADER_LEN,
            Layer::Ipv6(_) => ipv6::HEADER_LEN,
            Layer::HopByHop(l) | Layer::DestinationOptions(l) => l.repr.buffer_len(),
            Layer::Routing(l) => l.repr.buffer_len(),
            Layer::Fragment(_) => 8,
            Layer::Ah(l) => l.repr.buffer_len(),
            Layer::Esp(e) => e.buffer_len(),
            Layer::Icmpv6(i) => i.buffer_len(),
            Layer::Mobility(m) => m.buffer_len(),
            Layer::Payload(o) | Layer::Trailer(o) => o.data.len(),
        }
    }

    fn next_header_override(&self) -> Option<u8> {
        match self {
            Layer::Ipv6(l) => l.next_header,
            Layer::HopByHop(l) | Layer::DestinationOptions(l) => l.next_header,
            Layer::Routing(l) => l.next_header,
            Layer::Fragment(l) => l.next_header,
            Layer::Ah(l) => l.next_header,
            _ => None,
        }
    }

    fn set_next_header(&mut self, v: Option<u8>) {
        match self {
            Layer::Ipv6(l) => l.next_header = v,
            Layer::HopByHop(l) | Layer::DestinationOptions(l) => l.next_header = v,
            Layer::Routing(l) => l.next_header = v,
            Layer::Fragment(l) => l.next_header = v,
            Layer::Ah(l) => l.next_header = v,
            _ => {}
        }
    }
}

/// A frame: its layers, outermost first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Frame {
    pub layers: Vec<Layer>,
    /// Cut the emitted frame to this many octets: a frame that ends inside
    /// a header, as crafted by a test or as found on the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncate: Option<usize>,
}

/// What [`Frame::decode`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub frame: Frame,
    /// Every broken rule, in frame order of discovery.
    pub findings: Vec<Finding>,
    /// Where each layer starts in the input and how long it is, by index.
    pub spans: Vec<(usize, usize)>,
}

/// The address pair an upper-layer checksum uses, as the decoder/builder
/// walks the stack.
#[derive(Clone, Copy)]
struct ChecksumScope {
    src: Ipv6Addr,
    dst: Ipv6Addr,
}

impl ChecksumScope {
    fn pseudo(&self, next_header: u8) -> PseudoHeader {
        PseudoHeader {
            src: self.src,
            dst: self.dst,
            next_header,
        }
    }
}

/// What comes next while decoding.
#[derive(Clone, Copy)]
enum Next {
    Ipv6,
    Header(u8),
}

impl Frame {
    pub fn new(layers: Vec<Layer>) -> Self {
        Frame {
            layers,
            truncate: None,
        }
    }

    /// Decode an Ethernet II frame.
    pub fn decode(data: &[u8]) -> Decoded {
        let mut findings = Vec::new();
        let mut diag = Diag::new(&mut findings);
        let mut dec = Decoder::new();
        let (frame, spans) = {
            match EthernetRepr::parse(data, &mut diag) {
                Some((repr, ethertype)) => {
                    dec.push(
                        Layer::Ethernet(EthernetLayer {
                            repr,
                            ethertype: Some(ethertype),
                        }),
                        0,
                        ethernet::HEADER_LEN,
                    );
                    if ethertype == proto::ETHERTYPE_IPV6 {
                        dec.walk(data, ethernet::HEADER_LEN, Next::Ipv6, &mut diag);
                    } else {
                        dec.opaque(data, ethernet::HEADER_LEN, data.len(), false);
                    }
                }
                None => dec.opaque(data, 0, data.len(), false),
            }
            dec.finish(data, true, &mut diag)
        };
        Decoded {
            frame,
            findings,
            spans,
        }
    }

    /// Decode a bare IPv6 packet (pcap link types RAW and IPV6).
    pub fn decode_ipv6(data: &[u8]) -> Decoded {
        let mut findings = Vec::new();
        let mut diag = Diag::new(&mut findings);
        let mut dec = Decoder::new();
        dec.walk(data, 0, Next::Ipv6, &mut diag);
        let (frame, spans) = dec.finish(data, false, &mut diag);
        Decoded {
            frame,
            findings,
            spans,
        }
    }

    /// Octets the frame occupies on the wire.
    pub fn buffer_len(&self) -> usize {
        self.layers.iter().map(Layer::buffer_len).sum()
    }

    /// Build the frame's octets, deriving every linking field, length and
    /// checksum not overridden.
    pub fn emit(&self) -> Vec<u8> {
        let lens: Vec<usize> = self.layers.iter().map(Layer::buffer_len).collect();
        let total: usize = lens.iter().sum();
        let trailer = match self.layers.last() {
            Some(Layer::Trailer(o)) => o.data.len(),
            _ => 0,
        };
        let mut buf = vec![0u8; total];
        let mut at = 0;
        let mut scope = ChecksumScope {
            src: Ipv6Addr::UNSPECIFIED,
            dst: Ipv6Addr::UNSPECIFIED,
        };
        for (i, layer) in self.layers.iter().enumerate() {
            let len = lens[i];
            let out = &mut buf[at..at + len];
            let next_header = layer
                .next_header_override()
                .unwrap_or_else(|| self.derived_next_header(i));
            match layer {
                Layer::Ethernet(l) => {
                    l.repr
                        .emit(out, l.ethertype.unwrap_or_else(|| self.derived_ethertype()));
                }
                Layer::Ipv6(l) => {
                    let payload = total - trailer - at - len;
                    let payload_len = l
                        .payload_len
                        .unwrap_or_else(|| u16::try_from(payload).unwrap_or(u16::MAX));
                    l.repr.emit(out, next_header, payload_len);
                    scope = ChecksumScope {
                        src: l.repr.src,
                        dst: l.repr.dst,
                    };
                }
                Layer::HopByHop(l) => l.repr.emit(out, next_header),
                Layer::DestinationOptions(l) => {
                    l.repr.emit(out, next_header);
                    if let Some(hoa) = l.repr.home_address() {
                        scope.src = hoa;
                    }
                }
                Layer::Routing(l) => {
                    l.repr.emit(out, next_header);
                    if let Some(fin) = l.repr.type2_address() {
                        scope.dst = fin;
                    }
                }
                Layer::Fragment(l) => l.repr.emit(out, next_header),
                Layer::Ah(l) => l.repr.emit(out, next_header),
                Layer::Esp(e) => e.emit(out),
                Layer::Icmpv6(m) => m.emit(out, &scope.pseudo(proto::ICMPV6)),
                Layer::Mobility(m) => m.emit(out, &scope.pseudo(proto::MOBILITY)),
                Layer::Payload(o) | Layer::Trailer(o) => out.copy_from_slice(&o.data),
            }
            at += len;
        }
        if let Some(n) = self.truncate {
            buf.truncate(n);
        }
        buf
    }

    /// The EtherType of a leading Ethernet layer when not overridden.
    fn derived_ethertype(&self) -> u16 {
        match self.layers.get(1) {
            Some(Layer::Ipv6(_)) | None => proto::ETHERTYPE_IPV6,
            Some(_) => 0,
        }
    }

    /// The Next Header value layer `i` announces when not overridden.
    fn derived_next_header(&self, i: usize) -> u8 {
        match self.layers.get(i + 1) {
            None | Some(Layer::Trailer(_)) => proto::NO_NEXT_HEADER,
            Some(next) => next.protocol().unwrap_or(proto::NO_NEXT_HEADER),
        }
    }

    /// The innermost layer of a kind, e.g. `frame.find(|l| matches!(l, Layer::Mobility(_)))`.
    pub fn find(&self, pred: impl Fn(&Layer) -> bool) -> Option<&Layer> {
        self.layers.iter().rev().find(|l| pred(l))
    }

    /// The Mobility Header, if the frame carries one.
    pub fn mobility(&self) -> Option<&MobilityRepr> {
        self.layers.iter().find_map(|l| match l {
            Layer::Mobility(m) => Some(m),
            _ => None,
        })
    }

    /// The ICMPv6 message, if the frame carries one.
    pub fn icmpv6(&self) -> Option<&Icmpv6Repr> {
        self.layers.iter().find_map(|l| match l {
            Layer::Icmpv6(m) => Some(m),
            _ => None,
        })
    }

    /// The IPv6 headers, outermost first (more than one for a tunnel).
    pub fn ipv6_headers(&self) -> impl Iterator<Item = &Ipv6Repr> {
        self.layers.iter().filter_map(|l| match l {
            Layer::Ipv6(l) => Some(&l.repr),
            _ => None,
        })
    }
}

/// Decoder state: the layers so far. While decoding, every linking field
/// (Next Header, Payload Length, EtherType) holds its wire value as
/// `Some`; `finish` turns those equal to the derived value into `None`.
struct Decoder {
    layers: Vec<Layer>,
    spans: Vec<(usize, usize)>,
}

impl Decoder {
    fn new() -> Self {
        // Typical HMIPv6 frames have at most 6 layers (a tunnelled BU); the
        // capacity saves regrowth on the decode path.
        Decoder {
            layers: Vec::with_capacity(8),
            spans: Vec::with_capacity(8),
        }
    }

    fn push(&mut self, layer: Layer, at: usize, len: usize) {
        self.layers.push(layer);
        self.spans.push((at, len));
    }

    fn opaque(&mut self, data: &[u8], from: usize, to: usize, trailer: bool) {
        if from < to {
            let o = Octets {
                data: data[from..to].to_vec(),
            };
            let l = if trailer {
                Layer::Trailer(o)
            } else {
                Layer::Payload(o)
            };
            self.push(l, from, to - from);
        }
    }

    /// Decode from `at` onwards, starting with `next`, until the packet
    /// ends or a layer cannot be followed (the rest is then kept opaque).
    fn walk(&mut self, data: &[u8], mut at: usize, mut next: Next, diag: &mut Diag) {
        // The end of the innermost IPv6 packet being decoded.
        let mut limit = data.len();
        let mut scope: Option<ChecksumScope> = None;
        let mut ipv6_at = 0usize;
        let mut hop_limit = 255u8;
        let mut first_after_ipv6 = false;
        loop {
            if self.layers.len() >= MAX_LAYERS {
                diag.report(
                    at,
                    rules::NESTING,
                    format!("more than {MAX_LAYERS} layers; the rest is kept opaque"),
                );
                self.opaque(data, at, limit, false);
                return;
            }
            if at >= limit {
                return;
            }
            let here = &data[at..limit];
            let nh = match next {
                Next::Ipv6 => proto::IPV6_IN_IPV6,
                Next::Header(nh) => nh,
            };
            let was_first_after_ipv6 = first_after_ipv6;
            first_after_ipv6 = false;
            match nh {
                proto::IPV6_IN_IPV6 => {
                    let Some((repr, next_header, payload_len)) =
                        Ipv6Repr::parse(here, &mut diag.at(at))
                    else {
                        self.opaque(data, at, limit, false);
                        return;
                    };
                    let available = here.len() - ipv6::HEADER_LEN;
                    if usize::from(payload_len) > available {
                        diag.report(
                            at + 4,
                            rules::IPV6_PAYLOAD_LENGTH,
                            format!(
                                "Payload Length is {payload_len} but only {available} octets follow the header"
                            ),
                        );
                    } else {
                        limit = at + ipv6::HEADER_LEN + usize::from(payload_len);
                    }
                    scope = Some(ChecksumScope {
                        src: repr.src,
                        dst: repr.dst,
                    });
                    hop_limit = repr.hop_limit;
                    ipv6_at = at;
                    self.push(
                        Layer::Ipv6(Ipv6Layer {
                            repr,
                            next_header: Some(next_header),
                            payload_len: Some(payload_len),
                        }),
                        at,
                        ipv6::HEADER_LEN,
                    );
                    at += ipv6::HEADER_LEN;
                    next = Next::Header(next_header);
                    first_after_ipv6 = true;
                }
                proto::HOP_BY_HOP | proto::DESTINATION_OPTIONS => {
                    if nh == proto::HOP_BY_HOP && !was_first_after_ipv6 {
                        diag.report(
                            at,
                            rules::IPV6_HBH_POSITION,
                            "Hop-by-Hop Options header does not follow the IPv6 header",
                        );
                    }
                    let Some((repr, next_header, len)) =
                        OptionsHeaderRepr::parse(here, &mut diag.at(at))
                    else {
                        self.opaque(data, at, limit, false);
                        return;
                    };
                    if nh == proto::DESTINATION_OPTIONS {
                        if let (Some(s), Some(hoa)) = (scope.as_mut(), repr.home_address()) {
                            s.src = hoa;
                        }
                    }
                    let layer = ExtLayer {
                        repr,
                        next_header: Some(next_header),
                    };
                    let layer = if nh == proto::HOP_BY_HOP {
                        Layer::HopByHop(layer)
                    } else {
                        Layer::DestinationOptions(layer)
                    };
                    let len = len.min(here.len());
                    self.push(layer, at, len);
                    at += len;
                    next = Next::Header(next_header);
                }
                proto::ROUTING => {
                    let Some((repr, next_header, len)) = RoutingRepr::parse(here, &mut diag.at(at))
                    else {
                        self.opaque(data, at, limit, false);
                        return;
                    };
                    if let (Some(s), Some(fin)) = (scope.as_mut(), repr.type2_address()) {
                        s.dst = fin;
                    }
                    let len = len.min(here.len());
                    let layer = ExtLayer {
                        repr,
                        next_header: Some(next_header),
                    };
                    self.push(Layer::Routing(layer), at, len);
                    at += len;
                    next = Next::Header(next_header);
                }
                proto::FRAGMENT => {
                    let Some((repr, next_header, len)) =
                        FragmentRepr::parse(here, &mut diag.at(at))
                    else {
                        self.opaque(data, at, limit, false);
                        return;
                    };
                    let partial = repr.offset != 0 || repr.m_flag;
                    let len = len.min(here.len());
                    let layer = ExtLayer {
                        repr,
                        next_header: Some(next_header),
                    };
                    self.push(Layer::Fragment(layer), at, len);
                    at += len;
                    if partial {
                        // A fragment of a larger packet: its payload cannot be
                        // decoded (and its checksum not verified) on its own.
                        self.opaque(data, at, limit, false);
                        return;
                    }
                    next = Next::Header(next_header);
                }
                proto::AH => {
                    let Some((repr, next_header, len)) = AhRepr::parse(here, &mut diag.at(at))
                    else {
                        self.opaque(data, at, limit, false);
                        return;
                    };
                    let len = len.min(here.len());
                    let layer = ExtLayer {
                        repr,
                        next_header: Some(next_header),
                    };
                    self.push(Layer::Ah(layer), at, len);
                    at += len;
                    next = Next::Header(next_header);
                }
                proto::ESP => {
                    match EspRepr::parse(here, &mut diag.at(at)) {
                        Some(esp) => self.push(Layer::Esp(esp), at, here.len()),
                        None => self.opaque(data, at, limit, false),
                    }
                    return;
                }
                proto::ICMPV6 => {
                    let pseudo = scope.map(|s| s.pseudo(proto::ICMPV6));
                    match Icmpv6Repr::parse(here, pseudo.as_ref(), &mut diag.at(at)) {
                        Some(msg) => {
                            if msg.is_nd() && scope.is_some() && hop_limit != 255 {
                                diag.report(
                                    ipv6_at + 7,
                                    rules::ND_HOP_LIMIT,
                                    format!(
                                        "{} sent with Hop Limit {hop_limit}, expected 255",
                                        crate::icmpv6::type_name(msg.icmp_type()),
                                    ),
                                );
                            }
                            self.push(Layer::Icmpv6(msg), at, here.len());
                        }
                        None => self.opaque(data, at, limit, false),
                    }
                    return;
                }
                proto::MOBILITY => {
                    let pseudo = scope.map(|s| s.pseudo(proto::MOBILITY));
                    match MobilityRepr::parse(here, pseudo.as_ref(), &mut diag.at(at)) {
                        Some((mh, len)) => {
                            let len = len.min(here.len());
                            self.push(Layer::Mobility(mh), at, len);
                            self.opaque(data, at + len, limit, false);
                        }
                        None => self.opaque(data, at, limit, false),
                    }
                    return;
                }
                _ => {
                    // No Next Header, or a protocol this codec does not know.
                    self.opaque(data, at, limit, false);
                    return;
                }
            }
        }
    }

    /// Canonicalise the linking fields and collect what follows the packet.
    fn finish(
        mut self,
        data: &[u8],
        ethernet: bool,
        diag: &mut Diag,
    ) -> (Frame, Vec<(usize, usize)>) {
        let consumed: usize = self.spans.last().map(|(s, l)| s + l).unwrap_or(0);
        if consumed < data.len() {
            let rest = &data[consumed..];
            let padding =
                ethernet && data.len() <= ETHERNET_MIN_FRAME && rest.iter().all(|&b| b == 0);
            if !padding {
                diag.report(
                    consumed,
                    rules::TRAILING,
                    format!("{} octets after the end of the packet", rest.len()),
                );
            }
            self.opaque(data, consumed, data.len(), true);
        }
        // A header that claims more octets than it was given can be kept
        // decoded only when it is the last thing in the frame (the frame then
        // records the cut); anywhere else its octets are kept opaque, so that
        // re-emitting the frame reproduces the wire exactly.
        let last = self.layers.len().saturating_sub(1);
        for i in 0..self.layers.len() {
            let (start, len) = self.spans[i];
            let claimed = self.layers[i].buffer_len();
            if claimed != len && !(i == last && claimed > len) {
                self.layers[i] = Layer::Payload(Octets {
                    data: data[start..start + len].to_vec(),
                });
            }
        }
        let mut frame = Frame::new(std::mem::take(&mut self.layers));
        let trailer = match frame.layers.last() {
            Some(Layer::Trailer(o)) => o.data.len(),
            _ => 0,
        };
        let total = frame.buffer_len();
        for idx in 0..frame.layers.len() {
            if let Some(wire) = frame.layers[idx].next_header_override() {
                let derived = frame.derived_next_header(idx);
                frame.layers[idx].set_next_header((wire != derived).then_some(wire));
            }
            if let Layer::Ipv6(l) = &mut frame.layers[idx] {
                let (start, len) = self.spans[idx];
                let derived = total - trailer - start - len;
                l.payload_len = l.payload_len.filter(|&w| usize::from(w) != derived);
            }
        }
        let derived_ethertype = frame.derived_ethertype();
        if let Some(Layer::Ethernet(e)) = frame.layers.first_mut() {
            if e.ethertype == Some(derived_ethertype) {
                e.ethertype = None;
            }
        }
        // A header that claims more octets than the frame holds is kept
        // whole in its repr; the frame records where the wire cut it.
        // (Linking fields do not change lengths: `total` still holds.)
        if total > data.len() {
            frame.truncate = Some(data.len());
        }
        (frame, self.spans)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;
    use proptest::prelude::*;

    #[test]
    fn well_formed_samples_round_trip_without_findings() {
        for s in samples::all().into_iter().filter(|s| s.breaks.is_none()) {
            let bytes = s.frame.emit();
            let d = Frame::decode(&bytes);
            assert!(d.findings.is_empty(), "{}: {:?}", s.name, d.findings);
            assert_eq!(d.frame, s.frame, "{}", s.name);
            assert_eq!(d.spans.len(), d.frame.layers.len());
        }
    }

    #[test]
    fn malformed_samples_report_their_rule_and_reemit_exactly() {
        for s in samples::all() {
            let bytes = s.frame.emit();
            let d = Frame::decode(&bytes);
            if let Some(rule) = s.breaks {
                assert!(
                    d.findings.iter().any(|f| f.rule == rule),
                    "{}: expected {rule}, got {:?}",
                    s.name,
                    d.findings
                );
            }
            assert_eq!(d.frame.emit(), bytes, "{}", s.name);
        }
    }

    #[test]
    fn sample_names_are_unique_and_cover_the_minimum() {
        let all = samples::all();
        let mut names: Vec<_> = all.iter().map(|s| s.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(all.len() >= 50, "only {} samples", all.len());
    }

    #[test]
    fn hmipv6_checksums_use_hao_and_rh2() {
        // A local BU: the MH checksum must verify with the HAO (RCoA) as
        // source, and not with the IPv6 source (LCoA).
        let s = samples::all()
            .into_iter()
            .find(|s| s.name == "bu-local")
            .unwrap();
        let bytes = s.frame.emit();
        let mh = &bytes[14 + 40 + 24..];
        let with_hao = PseudoHeader {
            src: samples::addr::RCOA,
            dst: samples::addr::MAP,
            next_header: 135,
        };
        let with_lcoa = PseudoHeader {
            src: samples::addr::LCOA,
            ..with_hao
        };
        assert_eq!(with_hao.checksum(mh), 0);
        assert_ne!(with_lcoa.checksum(mh), 0);
        let s = samples::all()
            .into_iter()
            .find(|s| s.name == "ba-accepted")
            .unwrap();
        let bytes = s.frame.emit();
        let mh = &bytes[14 + 40 + 24..];
        let with_rh2 = PseudoHeader {
            src: samples::addr::MAP,
            dst: samples::addr::RCOA,
            next_header: 135,
        };
        assert_eq!(with_rh2.checksum(mh), 0);
    }

    #[test]
    fn nested_tunnels_decode_to_depth() {
        let s = samples::all()
            .into_iter()
            .find(|s| s.name == "hoti-double-tunnel")
            .unwrap();
        let d = Frame::decode(&s.frame.emit());
        let ips: Vec<_> = d.frame.ipv6_headers().map(|i| (i.src, i.dst)).collect();
        use samples::addr::*;
        assert_eq!(ips, vec![(LCOA, MAP), (RCOA, HA), (HOA, CN)]);
        assert!(matches!(
            d.frame.mobility().map(|m| &m.message),
            Some(crate::mobility::MhMessage::HomeTestInit { .. })
        ));
    }

    #[test]
    fn layer_limit_stops_runaway_nesting() {
        // 100 nested IPv6 headers with no payload.
        let mut bytes = vec![0u8; 14];
        bytes[12..14].copy_from_slice(&[0x86, 0xdd]);
        for i in 0..100usize {
            let mut h = [0u8; 40];
            h[0] = 0x60;
            let plen = ((99 - i) * 40) as u16;
            h[4..6].copy_from_slice(&plen.to_be_bytes());
            h[6] = if i == 99 { 59 } else { 41 };
            h[7] = 64;
            bytes.extend_from_slice(&h);
        }
        let d = Frame::decode(&bytes);
        assert!(d.findings.iter().any(|f| f.rule == rules::NESTING));
        assert_eq!(d.frame.layers.len(), MAX_LAYERS + 1);
        assert_eq!(d.frame.emit(), bytes);
    }

    #[test]
    fn json_form_is_tagged_by_layer() {
        let s = samples::all()
            .into_iter()
            .find(|s| s.name == "ra-full")
            .unwrap();
        let v = serde_json::to_value(&s.frame.layers[2]).unwrap();
        assert_eq!(v["layer"], "icmpv6");
        let back: Layer = serde_json::from_value(v).unwrap();
        assert_eq!(back, s.frame.layers[2]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let d = Frame::decode(&bytes);
            prop_assert_eq!(d.spans.len(), d.frame.layers.len());
            prop_assert_eq!(d.frame.emit(), bytes.clone());
            let _ = Frame::decode_ipv6(&bytes);
        }

        #[test]
        fn mutated_samples_decode_and_reemit_stably(
            idx in 0usize..64,
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in any::<usize>(),
        ) {
            let all = samples::all();
            let mut bytes = all[idx % all.len()].frame.emit();
            for (pos, val) in flips {
                let n = bytes.len();
                bytes[pos % n] = val;
            }
            bytes.truncate(14 + cut % (bytes.len() + 1).max(1));
            let d = Frame::decode(&bytes);
            prop_assert_eq!(d.spans.len(), d.frame.layers.len());
            // Whatever the decoder made of it, emitting it gives the same octets...
            prop_assert_eq!(&d.frame.emit(), &bytes);
            // ...and decoding those again gives the same frame.
            let again = Frame::decode(&d.frame.emit());
            prop_assert_eq!(again.frame, d.frame);
        }
    }
}
