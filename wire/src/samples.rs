//! A catalogue of crafted frames: one or more for every message, header and
//! option the codec knows, plus malformed ones that each break one rule.
//!
//! It is the golden set the suite checks its codec with (round trips,
//! snapshots of the readable decode, the cross-check against tshark, the
//! fuzzer's seeds, the decode benchmark) and the source of the example
//! capture `captures/examples/hmipv6-samples.pcapng`.

use std::net::Ipv6Addr;

use crate::frame::{ExtLayer, Frame, Ipv6Layer, Layer, Octets};
use crate::icmpv6::{Icmpv6Message, Icmpv6Repr};
use crate::ipsec::{AhRepr, EspRepr};
use crate::ipv6::Ipv6Repr;
use crate::ipv6_options::{Ipv6Option, OptionsHeaderRepr};
use crate::mobility::{BindingAckRepr, BindingUpdateRepr, MhMessage, MobilityRepr};
use crate::mobility_options::MobilityOption;
use crate::nd::{
    AdvIntervalRepr, HomeAgentInfoRepr, LinkLayerAddrRepr, MapOptionRepr, MtuRepr, NdOption,
    PrefixInfoRepr,
};
use crate::routing::{RoutingData, RoutingRepr};
use crate::{fragment::FragmentRepr, MacAddr};

/// One crafted frame.
#[derive(Debug, Clone)]
pub struct Sample {
    /// A stable name, used in snapshots and capture comments.
    pub name: &'static str,
    pub frame: Frame,
    /// The rule this frame breaks on purpose; `None` for a well-formed frame
    /// (which must decode with no finding at all).
    pub breaks: Option<&'static str>,
}

/// Addresses of the sample network (RFC 3849 documentation prefix).
pub mod addr {
    use super::*;
    pub const AR_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x01]);
    pub const MN_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x02]);
    pub const MAP_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x03]);
    pub const AR_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    pub const MN_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);
    pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
    pub const MAP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
    pub const MAP2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xeeee, 0, 0, 0, 0, 1);
    pub const LCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 2);
    pub const RCOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 2, 2);
    pub const HOA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 2);
    pub const HA: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xaaaa, 0, 0, 0, 0, 1);
    pub const CN: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0xcccc, 0, 0, 0, 0, 5);
    pub const PREFIX: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0);
}
use addr::*;

fn icmp(message: Icmpv6Message) -> Layer {
    Layer::Icmpv6(Icmpv6Repr::new(message))
}

fn mh(message: MhMessage, options: Vec<MobilityOption>) -> Layer {
    Layer::Mobility(MobilityRepr::new(message, options))
}

/// A Mobility Header with its options exactly as given: no padding added.
fn mh_unpadded(message: MhMessage, options: Vec<MobilityOption>) -> Layer {
    Layer::Mobility(MobilityRepr {
        options,
        ..MobilityRepr::new(message, vec![])
    })
}

fn hao(address: Ipv6Addr) -> Layer {
    Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr::aligned(vec![
        Ipv6Option::HomeAddress {
            length: None,
            address,
        },
    ])))
}

fn rh2(address: Ipv6Addr) -> Layer {
    Layer::Routing(ExtLayer::new(RoutingRepr::type2(address)))
}

fn map(dist: u8, pref: u8, r: bool, lifetime: u32, address: Ipv6Addr) -> NdOption {
    NdOption::Map(MapOptionRepr::new(dist, pref, r, lifetime, address))
}

fn slla(addr: MacAddr) -> NdOption {
    NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr { length: None, addr })
}

fn prefix() -> NdOption {
    NdOption::PrefixInformation(PrefixInfoRepr::new(PREFIX, 64, true, true, 86400, 14400))
}

fn ra_message(options: Vec<NdOption>) -> Icmpv6Message {
    Icmpv6Message::RouterAdvert {
        cur_hop_limit: 64,
        m_flag: false,
        o_flag: true,
        h_flag: false,
        prf: 0,
        reserved: 0,
        router_lifetime: 1800,
        reachable_time: 30000,
        retrans_timer: 1000,
        options,
    }
}

/// An AR's Router Advertisement to all nodes.
fn ra(options: Vec<NdOption>) -> Frame {
    Frame::new(vec![
        Layer::ethernet(AR_MAC, MacAddr::ipv6_multicast(&ALL_NODES)),
        Layer::ipv6(AR_LL, ALL_NODES, 255),
        icmp(ra_message(options)),
    ])
}

fn bu(seq: u16, lifetime: u16) -> BindingUpdateRepr {
    BindingUpdateRepr {
        seq,
        a_flag: true,
        h_flag: false,
        l_flag: false,
        k_flag: false,
        m_flag: true,
        r_flag: false,
        p_flag: false,
        reserved: 0,
        lifetime,
    }
}

fn ba(status: u8, seq: u16, lifetime: u16) -> BindingAckRepr {
    BindingAckRepr {
        status,
        k_flag: false,
        reserved: 0,
        seq,
        lifetime,
    }
}

/// The MN's local BU to the MAP (RFC 4140 4.1, 6.1): source LCoA, HAO RCoA.
fn local_bu(b: BindingUpdateRepr, options: Vec<MobilityOption>) -> Frame {
    Frame::new(vec![
        Layer::ethernet(MN_MAC, AR_MAC),
        Layer::ipv6(LCOA, MAP, 64),
        hao(RCOA),
        mh(MhMessage::BindingUpdate(b), options),
    ])
}

/// The MAP's BA to the LCoA with a type 2 routing header holding the RCoA.
fn map_ba(b: BindingAckRepr, options: Vec<MobilityOption>) -> Frame {
    Frame::new(vec![
        Layer::ethernet(MAP_MAC, MN_MAC),
        Layer::ipv6(MAP, LCOA, 64),
        rh2(RCOA),
        mh(MhMessage::BindingAck(b), options),
    ])
}

fn echo(ident: u16, seq: u16) -> Icmpv6Message {
    Icmpv6Message::EchoRequest {
        ident,
        seq,
        data: b"hmip6spec".to_vec(),
    }
}

/// Emit `frame`, keep its first `len` octets and decode them back: a frame
/// cut short on the wire. With `fix_payload_len`, the outer IPv6 Payload
/// Length is rewritten to count only what is left.
fn cut(frame: &Frame, len: usize, fix_payload_len: bool) -> Frame {
    let mut bytes = frame.emit();
    bytes.truncate(len);
    if fix_payload_len && bytes.len() >= 14 + 40 {
        let plen = (bytes.len() - 54) as u16;
        bytes[18..20].copy_from_slice(&plen.to_be_bytes());
    }
    Frame::decode(&bytes).frame
}

/// Every sample, in a stable order.
pub fn all() -> Vec<Sample> {
    let mut s = Vec::new();
    let mut ok = |name, frame| {
        s.push(Sample {
            name,
            frame,
            breaks: None,
        })
    };
    // --- Neighbour Discovery and ICMPv6 ---
    ok(
        "ra-full",
        ra(vec![
            slla(AR_MAC),
            NdOption::Mtu(MtuRepr {
                length: None,
                reserved: 0,
                mtu: 1500,
            }),
            prefix(),
            NdOption::AdvertisementInterval(AdvIntervalRepr {
                length: None,
                reserved: 0,
                interval: 1000,
            }),
            NdOption::HomeAgentInformation(HomeAgentInfoRepr {
                length: None,
                reserved: 0,
                preference: 5,
                lifetime: 600,
            }),
            map(1, 10, true, 3600, MAP),
        ]),
    );
    ok(
        "ra-two-maps",
        ra(vec![
            prefix(),
            map(1, 15, true, 3600, MAP),
            map(3, 0, false, 0, MAP2),
        ]),
    );
    ok("ra-flags", {
        let mut pi = PrefixInfoRepr::new(MAP, 64, false, true, 7200, 3600);
        pi.r_flag = true;
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MacAddr::ipv6_multicast(&ALL_NODES)),
            Layer::ipv6(AR_LL, ALL_NODES, 255),
            icmp(Icmpv6Message::RouterAdvert {
                cur_hop_limit: 255,
                m_flag: true,
                o_flag: true,
                h_flag: true,
                prf: 1,
                reserved: 0,
                router_lifetime: 0,
                reachable_time: 0,
                retrans_timer: 0,
                options: vec![
                    NdOption::PrefixInformation(pi),
                    map(2, 7, true, u32::MAX, MAP),
                ],
            }),
        ])
    });
    ok(
        "ra-unknown-option",
        ra(vec![
            NdOption::Unknown {
                option_type: 250,
                data: vec![1, 2, 3, 4, 5, 6],
            },
            map(1, 10, true, 3600, MAP),
        ]),
    );
    ok(
        "rs",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&ALL_ROUTERS)),
            Layer::ipv6(MN_LL, ALL_ROUTERS, 255),
            icmp(Icmpv6Message::RouterSolicit {
                reserved: 0,
                options: vec![slla(MN_MAC)],
            }),
        ]),
    );
    let sn = crate::ipv6::solicited_node(&LCOA);
    ok(
        "ns",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MacAddr::ipv6_multicast(&sn)),
            Layer::ipv6(AR_LL, sn, 255),
            icmp(Icmpv6Message::NeighborSolicit {
                reserved: 0,
                target: LCOA,
                options: vec![slla(AR_MAC)],
            }),
        ]),
    );
    ok(
        "ns-dad",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, MacAddr::ipv6_multicast(&sn)),
            Layer::ipv6(Ipv6Addr::UNSPECIFIED, sn, 255),
            icmp(Icmpv6Message::NeighborSolicit {
                reserved: 0,
                target: LCOA,
                options: vec![],
            }),
        ]),
    );
    ok(
        "na",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, AR_LL, 255),
            icmp(Icmpv6Message::NeighborAdvert {
                r_flag: false,
                s_flag: true,
                o_flag: true,
                reserved: 0,
                target: LCOA,
                options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: MN_MAC,
                })],
            }),
        ]),
    );
    ok(
        "na-proxy-router",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MacAddr::ipv6_multicast(&ALL_NODES)),
            Layer::ipv6(MAP, ALL_NODES, 255),
            icmp(Icmpv6Message::NeighborAdvert {
                r_flag: true,
                s_flag: false,
                o_flag: false,
                reserved: 0,
                target: RCOA,
                options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: MAP_MAC,
                })],
            }),
        ]),
    );
    ok(
        "echo-request",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 60),
            icmp(echo(7, 1)),
        ]),
    );
    ok(
        "echo-reply",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, CN, 64),
            icmp(Icmpv6Message::EchoReply {
                ident: 7,
                seq: 1,
                data: b"hmip6spec".to_vec(),
            }),
        ]),
    );
    let invoking = local_bu(bu(9, 15), vec![]).emit()[14..14 + 48].to_vec();
    ok(
        "param-problem",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            Layer::Icmpv6(Icmpv6Repr {
                code: 2,
                checksum: None,
                message: Icmpv6Message::ParamProblem {
                    pointer: 42,
                    invoking: invoking.clone(),
                },
            }),
        ]),
    );
    ok(
        "dst-unreachable",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            Layer::Icmpv6(Icmpv6Repr {
                code: 3,
                checksum: None,
                message: Icmpv6Message::DstUnreachable {
                    unused: 0,
                    invoking: invoking.clone(),
                },
            }),
        ]),
    );
    ok(
        "packet-too-big",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            icmp(Icmpv6Message::PacketTooBig {
                mtu: 1280,
                invoking,
            }),
        ]),
    );
    ok(
        "icmpv6-unknown-type",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(AR_LL, MN_LL, 64),
            icmp(Icmpv6Message::Unknown {
                icmp_type: 200,
                data: vec![0xde, 0xad, 0xbe, 0xef],
            }),
        ]),
    );

    ok("ra-no-map", ra(vec![slla(AR_MAC), prefix()]));
    ok(
        "ra-map-failed",
        ra(vec![prefix(), map(2, 10, true, 0, MAP)]),
    );
    ok(
        "na-defend-rcoa",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MacAddr::ipv6_multicast(&ALL_NODES)),
            Layer::ipv6(RCOA, ALL_NODES, 255),
            icmp(Icmpv6Message::NeighborAdvert {
                r_flag: false,
                s_flag: false,
                o_flag: true,
                reserved: 0,
                target: RCOA,
                options: vec![NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                    length: None,
                    addr: MAP_MAC,
                })],
            }),
        ]),
    );

    // --- Mobility Header ---
    ok("bu-local", local_bu(bu(100, 15), vec![]));
    ok("bu-local-deregister", local_bu(bu(120, 0), vec![]));
    ok(
        "bu-local-options",
        local_bu(
            bu(101, 15),
            vec![
                MobilityOption::BindingRefreshAdvice {
                    length: None,
                    refresh_interval: 10,
                },
                MobilityOption::AlternateCareofAddress {
                    length: None,
                    address: LCOA,
                },
            ],
        ),
    );
    ok(
        "bu-all-flags",
        local_bu(
            BindingUpdateRepr {
                seq: 65535,
                a_flag: true,
                h_flag: true,
                l_flag: true,
                k_flag: true,
                m_flag: true,
                r_flag: true,
                p_flag: true,
                reserved: 0,
                lifetime: 65535,
            },
            vec![],
        ),
    );
    ok(
        "bu-route-optimisation",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(RCOA, CN, 64),
            hao(HOA),
            mh(
                MhMessage::BindingUpdate(BindingUpdateRepr {
                    m_flag: false,
                    ..bu(5, 60)
                }),
                vec![
                    MobilityOption::NonceIndices {
                        length: None,
                        home_nonce_index: 7,
                        careof_nonce_index: 8,
                    },
                    MobilityOption::BindingAuthorizationData {
                        authenticator: vec![0xa5; 12],
                    },
                ],
            ),
        ]),
    );
    ok("ba-accepted", map_ba(ba(0, 100, 15), vec![]));
    ok("ba-prohibited", map_ba(ba(129, 100, 0), vec![]));
    ok(
        "ba-dad-failed",
        map_ba(
            ba(134, 101, 0),
            vec![MobilityOption::BindingRefreshAdvice {
                length: None,
                refresh_interval: 2,
            }],
        ),
    );
    ok(
        "ba-out-of-window",
        map_ba(
            BindingAckRepr {
                k_flag: true,
                ..ba(135, 7, 0)
            },
            vec![],
        ),
    );
    for (name, status) in [("be-unknown-binding", 1), ("be-unknown-mh-type", 2)] {
        ok(
            name,
            Frame::new(vec![
                Layer::ethernet(MAP_MAC, MN_MAC),
                Layer::ipv6(MAP, LCOA, 64),
                mh(
                    MhMessage::BindingError {
                        status,
                        reserved: 0,
                        home_address: RCOA,
                    },
                    vec![],
                ),
            ]),
        );
    }
    ok(
        "brr",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            mh(MhMessage::BindingRefreshRequest { reserved: 0 }, vec![]),
        ]),
    );
    ok(
        "hoti-double-tunnel",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            Layer::ipv6(RCOA, HA, 64),
            Layer::ipv6(HOA, CN, 64),
            mh(
                MhMessage::HomeTestInit {
                    reserved: 0,
                    cookie: 0x0102_0304_0506_0708,
                },
                vec![],
            ),
        ]),
    );
    ok(
        "coti",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, CN, 64),
            mh(
                MhMessage::CareofTestInit {
                    reserved: 0,
                    cookie: 0x1111_1111_1111_1111,
                },
                vec![],
            ),
        ]),
    );
    ok(
        "hot",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, HOA, 64),
            mh(
                MhMessage::HomeTest {
                    nonce_index: 7,
                    cookie: 0x0102_0304_0506_0708,
                    keygen_token: 0x2121_2121_2121_2121,
                },
                vec![],
            ),
        ]),
    );
    ok(
        "cot",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 64),
            mh(
                MhMessage::CareofTest {
                    nonce_index: 8,
                    cookie: 0x1111_1111_1111_1111,
                    keygen_token: 0x3131_3131_3131_3131,
                },
                vec![],
            ),
        ]),
    );
    ok(
        "mh-unknown-type",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            mh(
                MhMessage::Unknown {
                    mh_type: 42,
                    data: vec![0; 10],
                },
                vec![],
            ),
        ]),
    );
    ok(
        "bu-home-via-map",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            Layer::ipv6(RCOA, HA, 64),
            hao(HOA),
            mh(
                MhMessage::BindingUpdate(BindingUpdateRepr {
                    h_flag: true,
                    m_flag: false,
                    ..bu(7, 10)
                }),
                vec![],
            ),
        ]),
    );
    ok(
        "ba-home-via-map",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 63),
            Layer::ipv6(HA, RCOA, 64),
            rh2(HOA),
            mh(MhMessage::BindingAck(ba(0, 7, 10)), vec![]),
        ]),
    );

    // --- Tunnels and other headers ---
    ok(
        "tunnel-map-to-lcoa",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            Layer::ipv6(CN, RCOA, 63),
            icmp(echo(1, 2)),
        ]),
    );
    ok(
        "tunnel-reverse",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            Layer::ipv6(RCOA, CN, 64),
            icmp(Icmpv6Message::EchoReply {
                ident: 1,
                seq: 2,
                data: vec![],
            }),
        ]),
    );
    ok(
        "hop-by-hop",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MacAddr::ipv6_multicast(&ALL_NODES)),
            Layer::ipv6(AR_LL, ALL_NODES, 1),
            Layer::HopByHop(ExtLayer::new(OptionsHeaderRepr {
                hdr_ext_len: None,
                options: vec![
                    Ipv6Option::Unknown {
                        option_type: 5,
                        data: vec![0, 0],
                    },
                    Ipv6Option::PadN { data: vec![] },
                ],
            })),
            icmp(Icmpv6Message::Unknown {
                icmp_type: 130,
                data: vec![0; 20],
            }),
        ]),
    );
    ok(
        "fragment-first",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 64),
            Layer::Fragment(ExtLayer {
                repr: FragmentRepr {
                    reserved: 0,
                    offset: 0,
                    res: 0,
                    m_flag: true,
                    ident: 0xdead_beef,
                },
                next_header: Some(58),
            }),
            Layer::Payload(Octets {
                data: vec![128, 0, 0x12, 0x34, 0, 1, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8],
            }),
        ]),
    );
    ok(
        "fragment-atomic",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 64),
            Layer::Fragment(ExtLayer::new(FragmentRepr {
                reserved: 0,
                offset: 0,
                res: 0,
                m_flag: false,
                ident: 1,
            })),
            icmp(echo(3, 4)),
        ]),
    );
    ok(
        "bu-ah",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            hao(RCOA),
            Layer::Ah(ExtLayer::new(AhRepr {
                payload_len: None,
                reserved: 0,
                spi: 0x100,
                seq: 1,
                icv: vec![0x5a; 12],
            })),
            mh(MhMessage::BindingUpdate(bu(110, 15)), vec![]),
        ]),
    );
    ok(
        "bu-esp",
        Frame::new(vec![
            Layer::ethernet(MN_MAC, AR_MAC),
            Layer::ipv6(LCOA, MAP, 64),
            hao(RCOA),
            Layer::Esp(EspRepr {
                spi: 0x200,
                seq: 1,
                data: vec![0x77; 40],
            }),
        ]),
    );
    ok(
        "ba-esp",
        Frame::new(vec![
            Layer::ethernet(MAP_MAC, MN_MAC),
            Layer::ipv6(MAP, LCOA, 64),
            rh2(RCOA),
            Layer::Esp(EspRepr {
                spi: 0x201,
                seq: 1,
                data: vec![0x66; 40],
            }),
        ]),
    );
    ok(
        "routing-other-type",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 64),
            Layer::Routing(ExtLayer::new(RoutingRepr {
                hdr_ext_len: None,
                segments_left: 0,
                data: RoutingData::Other {
                    routing_type: 3,
                    data: vec![0; 20],
                },
            })),
            icmp(echo(5, 6)),
        ]),
    );
    ok(
        "udp-payload",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::Ipv6(Ipv6Layer {
                repr: Ipv6Repr::new(CN, LCOA, 64),
                next_header: Some(17),
                payload_len: None,
            }),
            Layer::Payload(Octets {
                data: vec![0x12, 0x34, 0x00, 0x35, 0, 12, 0, 0, 1, 2, 3, 4],
            }),
        ]),
    );
    ok(
        "no-next-header-padded",
        Frame::new(vec![
            Layer::ethernet(AR_MAC, MN_MAC),
            Layer::ipv6(CN, LCOA, 64),
            Layer::Trailer(Octets { data: vec![0; 6] }),
        ]),
    );

    // --- Malformed: each breaks one rule ---
    let mut bad = |name, rule, frame| {
        s.push(Sample {
            name,
            frame,
            breaks: Some(rule),
        })
    };
    use crate::rules as r;
    let map_with = |f: &dyn Fn(&mut MapOptionRepr)| {
        let mut m = MapOptionRepr::new(1, 10, true, 3600, MAP);
        f(&mut m);
        ra(vec![prefix(), NdOption::Map(m)])
    };
    bad(
        "map-length-2",
        r::MAP_LENGTH,
        map_with(&|m| m.length = Some(2)),
    );
    bad(
        "map-length-4",
        r::MAP_LENGTH,
        map_with(&|m| m.length = Some(4)),
    );
    bad("map-dist-0", r::MAP_DIST, map_with(&|m| m.dist = 0));
    bad(
        "nd-option-length-0",
        r::ND_OPTION_LENGTH_ZERO,
        ra(vec![
            prefix(),
            NdOption::Mtu(MtuRepr {
                length: Some(0),
                reserved: 0,
                mtu: 1500,
            }),
            map(1, 10, true, 3600, MAP),
        ]),
    );
    bad("ra-hop-limit-64", r::ND_HOP_LIMIT, {
        let mut f = ra(vec![map(1, 10, true, 3600, MAP)]);
        set_ipv6(&mut f, 0, |ip| ip.repr.hop_limit = 64);
        f
    });
    bad("ra-code-1", r::ND_CODE, {
        let mut f = ra(vec![map(1, 10, true, 3600, MAP)]);
        if let Some(Layer::Icmpv6(i)) = f.layers.last_mut() {
            i.code = 1;
        }
        f
    });
    bad("icmpv6-bad-checksum", r::ICMPV6_CHECKSUM, {
        let mut f = ra(vec![map(1, 10, true, 3600, MAP)]);
        if let Some(Layer::Icmpv6(i)) = f.layers.last_mut() {
            i.checksum = Some(0x1234);
        }
        f
    });
    bad("bu-bad-checksum", r::MH_CHECKSUM, {
        let mut f = local_bu(bu(103, 15), vec![]);
        set_mh(&mut f, |m| m.checksum = Some(0x1234));
        f
    });
    bad("bu-payload-proto-6", r::MH_PAYLOAD_PROTO, {
        let mut f = local_bu(bu(104, 15), vec![]);
        set_mh(&mut f, |m| m.payload_proto = 6);
        f
    });
    bad(
        "bu-m-without-a",
        r::BU_M_WITHOUT_A,
        local_bu(
            BindingUpdateRepr {
                a_flag: false,
                ..bu(102, 15)
            },
            vec![],
        ),
    );
    bad("bu-header-len-too-long", r::MH_LENGTH, {
        // Header Len 3 promises 32 octets; the packet ends after 16.
        let mut f = local_bu(bu(105, 15), vec![]);
        set_mh(&mut f, |m| m.header_len = Some(3));
        cut(&f, 14 + 40 + 24 + 16, true)
    });
    bad("hao-length-8", r::HAO_LENGTH, {
        let mut f = local_bu(bu(106, 15), vec![]);
        if let Some(Layer::DestinationOptions(d)) = f.layers.get_mut(2) {
            for o in &mut d.repr.options {
                if let Ipv6Option::HomeAddress { length, .. } = o {
                    *length = Some(8);
                }
            }
        }
        f
    });
    bad("hao-misaligned", r::HAO_ALIGNMENT, {
        let mut f = local_bu(bu(107, 15), vec![]);
        f.layers[2] = Layer::DestinationOptions(ExtLayer::new(OptionsHeaderRepr {
            hdr_ext_len: None,
            options: vec![
                Ipv6Option::HomeAddress {
                    length: None,
                    address: RCOA,
                },
                Ipv6Option::PadN {
                    data: vec![0, 0, 0, 0],
                },
            ],
        }));
        f
    });
    bad("rh2-segments-left-0", r::RH2_SEGMENTS_LEFT, {
        let mut f = map_ba(ba(0, 100, 15), vec![]);
        if let Some(Layer::Routing(rt)) = f.layers.get_mut(2) {
            rt.repr.segments_left = 0;
        }
        f
    });
    bad("rh2-length-4", r::RH2_LENGTH, {
        let mut f = map_ba(ba(0, 100, 15), vec![]);
        if let Some(Layer::Routing(rt)) = f.layers.get_mut(2) {
            rt.repr.hdr_ext_len = Some(4);
        }
        f
    });
    bad(
        "nonce-indices-length-6",
        r::MH_OPTION_SIZE,
        local_bu(
            bu(108, 15),
            vec![
                MobilityOption::NonceIndices {
                    length: Some(6),
                    home_nonce_index: 1,
                    careof_nonce_index: 2,
                },
                MobilityOption::PadN { data: vec![0, 0] },
            ],
        ),
    );
    bad("alt-coa-misaligned", r::MH_OPTION_ALIGNMENT, {
        let mut f = local_bu(bu(109, 15), vec![]);
        // At MH offset 12 (8n+4) instead of 8n+6; 2 octets of PadN after it
        // keep the header a multiple of 8.
        *f.layers.last_mut().unwrap() = mh_unpadded(
            MhMessage::BindingUpdate(bu(109, 15)),
            vec![
                MobilityOption::AlternateCareofAddress {
                    length: None,
                    address: LCOA,
                },
                MobilityOption::PadN { data: vec![] },
            ],
        );
        f
    });
    bad("ipv6-payload-length-too-big", r::IPV6_PAYLOAD_LENGTH, {
        let mut f = local_bu(bu(111, 15), vec![]);
        set_ipv6(&mut f, 0, |ip| ip.payload_len = Some(200));
        f
    });
    bad("ipv6-version-4", r::IPV6_VERSION, {
        let mut f = local_bu(bu(112, 15), vec![]);
        set_ipv6(&mut f, 0, |ip| ip.repr.version = 4);
        f
    });
    bad("trailing-junk", r::TRAILING, {
        let mut f = local_bu(bu(113, 15), vec![]);
        f.layers.push(Layer::Trailer(Octets {
            data: vec![0xff; 8],
        }));
        f
    });
    bad(
        "bu-truncated",
        r::TRUNCATED,
        // Cut inside the BU message; the Payload Length still promises all.
        cut(&local_bu(bu(114, 15), vec![]), 14 + 40 + 24 + 4, false),
    );
    bad("hbh-not-first", r::IPV6_HBH_POSITION, {
        let mut f = local_bu(bu(115, 15), vec![]);
        f.layers.insert(
            3,
            Layer::HopByHop(ExtLayer::new(OptionsHeaderRepr::aligned(vec![]))),
        );
        f
    });
    s
}

fn set_ipv6(f: &mut Frame, nth: usize, g: impl FnOnce(&mut Ipv6Layer)) {
    if let Some(ip) = f
        .layers
        .iter_mut()
        .filter_map(|l| match l {
            Layer::Ipv6(ip) => Some(ip),
            _ => None,
        })
        .nth(nth)
    {
        g(ip);
    }
}

fn set_mh(f: &mut Frame, g: impl FnOnce(&mut MobilityRepr)) {
    if let Some(Layer::Mobility(m)) = f.layers.last_mut() {
        g(m);
    }
}
