//! Independent cross-check of the codec against Wireshark's dissectors.
//!
//! Every crafted sample frame is written to a capture, tshark decodes it,
//! and every field our decoder produces that tshark also dissects must be
//! equal, occurrence by occurrence (so the inner headers of tunnels are
//! compared too). A shared misunderstanding of a format between our
//! emitter and our parser would pass every round-trip test; it does not
//! pass this one.
//!
//! tshark missing: the test says so and passes, except under
//! `HMIP6SPEC_REQUIRE_ALL=1` (CI), where it fails.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::process::Command;

use serde_json::Value;
use wire::frame::{Frame, Layer};
use wire::icmpv6::Icmpv6Message;
use wire::mobility::MhMessage;
use wire::mobility_options::MobilityOption;
use wire::nd::NdOption;
use wire::routing::RoutingData;

/// A field value in a form both sides can be brought to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum V {
    Num(u64),
    Addr(Ipv6Addr),
    Bytes(String),
}

type Fields = BTreeMap<&'static str, Vec<V>>;

fn push(f: &mut Fields, k: &'static str, v: V) {
    f.entry(k).or_default().push(v);
}

fn b(x: bool) -> V {
    V::Num(u64::from(x))
}

fn n(x: impl Into<u64>) -> V {
    V::Num(x.into())
}

/// The tshark fields our decode of `bytes` implies.
fn ours(bytes: &[u8]) -> Fields {
    let d = Frame::decode(bytes);
    let mut f = Fields::new();
    for (i, layer) in d.frame.layers.iter().enumerate() {
        let at = d.spans[i].0;
        match layer {
            Layer::Ipv6(ip) => {
                push(&mut f, "ipv6.src", V::Addr(ip.repr.src));
                push(&mut f, "ipv6.dst", V::Addr(ip.repr.dst));
                push(&mut f, "ipv6.hlim", n(ip.repr.hop_limit));
                push(&mut f, "ipv6.nxt", n(bytes[at + 6]));
                push(
                    &mut f,
                    "ipv6.plen",
                    n(u16::from_be_bytes([bytes[at + 4], bytes[at + 5]])),
                );
                push(&mut f, "ipv6.flow", n(ip.repr.flow_label));
            }
            Layer::DestinationOptions(d) => {
                if let Some(h) = d.repr.home_address() {
                    push(&mut f, "ipv6.opt.mipv6.home_address", V::Addr(h));
                }
            }
            Layer::Routing(r) => {
                push(&mut f, "ipv6.routing.type", n(r.repr.routing_type()));
                push(&mut f, "ipv6.routing.segleft", n(r.repr.segments_left));
                if let RoutingData::Type2 { home_address, .. } = r.repr.data {
                    push(
                        &mut f,
                        "ipv6.routing.mipv6.home_address",
                        V::Addr(home_address),
                    );
                }
            }
            Layer::Fragment(fr) => {
                push(&mut f, "ipv6.fraghdr.offset", n(fr.repr.offset));
                push(&mut f, "ipv6.fraghdr.more", b(fr.repr.m_flag));
                push(&mut f, "ipv6.fraghdr.ident", n(fr.repr.ident));
            }
            Layer::Ah(ah) => {
                push(&mut f, "ah.spi", n(ah.repr.spi));
                push(&mut f, "ah.sequence", n(ah.repr.seq));
            }
            Layer::Esp(e) => {
                push(&mut f, "esp.spi", n(e.spi));
                push(&mut f, "esp.sequence", n(e.seq));
            }
            Layer::Icmpv6(m) => {
                push(&mut f, "icmpv6.type", n(m.icmp_type()));
                push(&mut f, "icmpv6.code", n(m.code));
                push(
                    &mut f,
                    "icmpv6.checksum",
                    n(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])),
                );
                icmp_fields(&mut f, &m.message);
            }
            Layer::Mobility(m) => {
                push(&mut f, "mip6.proto", n(m.payload_proto));
                push(&mut f, "mip6.hlen", n(bytes[at + 1]));
                push(&mut f, "mip6.mhtype", n(m.message.mh_type()));
                push(
                    &mut f,
                    "mip6.csum",
                    n(u16::from_be_bytes([bytes[at + 4], bytes[at + 5]])),
                );
                mh_fields(&mut f, m);
            }
            _ => {}
        }
    }
    f
}

fn nd_fields(f: &mut Fields, options: &[NdOption]) {
    for o in options {
        match o {
            NdOption::SourceLinkLayerAddr(l) | NdOption::TargetLinkLayerAddr(l) => push(
                f,
                "icmpv6.opt.linkaddr",
                V::Bytes(l.addr.to_string().replace(':', "")),
            ),
            NdOption::PrefixInformation(p) => {
                push(f, "icmpv6.opt.prefix.length", n(p.prefix_len));
                push(f, "icmpv6.opt.prefix.flag.l", b(p.l_flag));
                push(f, "icmpv6.opt.prefix.flag.a", b(p.a_flag));
                push(f, "icmpv6.opt.prefix.flag.r", b(p.r_flag));
                push(f, "icmpv6.opt.prefix.valid_lifetime", n(p.valid_lifetime));
                push(
                    f,
                    "icmpv6.opt.prefix.preferred_lifetime",
                    n(p.preferred_lifetime),
                );
                push(f, "icmpv6.opt.prefix", V::Addr(p.prefix));
            }
            NdOption::Mtu(m) => push(f, "icmpv6.opt.mtu", n(m.mtu)),
            NdOption::AdvertisementInterval(a) => {
                push(f, "icmpv6.opt.advertisement_interval", n(a.interval))
            }
            NdOption::HomeAgentInformation(h) => {
                push(f, "icmpv6.opt.home_agent_preference", n(h.preference));
                push(f, "icmpv6.opt.home_agent_lifetime", n(h.lifetime));
            }
            NdOption::Map(m) => {
                push(f, "icmpv6.opt.map.distance", n(m.dist));
                push(f, "icmpv6.opt.map.preference", n(m.pref));
                push(f, "icmpv6.opt.map.flag.r", b(m.r_flag));
                push(f, "icmpv6.opt.map.valid_lifetime", n(m.valid_lifetime));
                push(f, "icmpv6.opt.map.global_address", V::Addr(m.address));
            }
            _ => {}
        }
    }
}

fn icmp_fields(f: &mut Fields, m: &Icmpv6Message) {
    match m {
        Icmpv6Message::EchoRequest { ident, seq, .. }
        | Icmpv6Message::EchoReply { ident, seq, .. } => {
            push(f, "icmpv6.echo.identifier", n(*ident));
            push(f, "icmpv6.echo.sequence_number", n(*seq));
        }
        Icmpv6Message::RouterAdvert {
            cur_hop_limit,
            m_flag,
            o_flag,
            h_flag,
            prf,
            router_lifetime,
            reachable_time,
            retrans_timer,
            options,
            ..
        } => {
            push(f, "icmpv6.nd.ra.cur_hop_limit", n(*cur_hop_limit));
            push(f, "icmpv6.nd.ra.flag.m", b(*m_flag));
            push(f, "icmpv6.nd.ra.flag.o", b(*o_flag));
            push(f, "icmpv6.nd.ra.flag.h", b(*h_flag));
            push(f, "icmpv6.nd.ra.flag.prf", n(*prf));
            push(f, "icmpv6.nd.ra.router_lifetime", n(*router_lifetime));
            push(f, "icmpv6.nd.ra.reachable_time", n(*reachable_time));
            push(f, "icmpv6.nd.ra.retrans_timer", n(*retrans_timer));
            nd_fields(f, options);
        }
        Icmpv6Message::RouterSolicit { options, .. } => nd_fields(f, options),
        Icmpv6Message::NeighborSolicit {
            target, options, ..
        } => {
            push(f, "icmpv6.nd.ns.target_address", V::Addr(*target));
            nd_fields(f, options);
        }
        Icmpv6Message::NeighborAdvert {
            r_flag,
            s_flag,
            o_flag,
            target,
            options,
            ..
        } => {
            push(f, "icmpv6.nd.na.flag.r", b(*r_flag));
            push(f, "icmpv6.nd.na.flag.s", b(*s_flag));
            push(f, "icmpv6.nd.na.flag.o", b(*o_flag));
            push(f, "icmpv6.nd.na.target_address", V::Addr(*target));
            nd_fields(f, options);
        }
        Icmpv6Message::PacketTooBig { mtu, .. } => push(f, "icmpv6.mtu", n(*mtu)),
        Icmpv6Message::ParamProblem { pointer, .. } => push(f, "icmpv6.pointer", n(*pointer)),
        _ => {}
    }
}

fn mh_fields(f: &mut Fields, m: &wire::mobility::MobilityRepr) {
    match &m.message {
        MhMessage::BindingUpdate(bu) => {
            push(f, "mip6.bu.seqnr", n(bu.seq));
            push(f, "mip6.bu.a_flag", b(bu.a_flag));
            push(f, "mip6.bu.h_flag", b(bu.h_flag));
            push(f, "mip6.bu.l_flag", b(bu.l_flag));
            push(f, "mip6.bu.k_flag", b(bu.k_flag));
            push(f, "mip6.bu.m_flag", b(bu.m_flag));
            push(f, "mip6.nemo.bu.r_flag", b(bu.r_flag));
            push(f, "mip6.bu.p_flag", b(bu.p_flag));
            push(f, "mip6.bu.lifetime", n(bu.lifetime));
        }
        MhMessage::BindingAck(ba) => {
            push(f, "mip6.ba.status", n(ba.status));
            push(f, "mip6.ba.k_flag", b(ba.k_flag));
            push(f, "mip6.ba.seqnr", n(ba.seq));
            push(f, "mip6.ba.lifetime", n(ba.lifetime));
        }
        MhMessage::BindingError {
            status,
            home_address,
            ..
        } => {
            push(f, "mip6.be.status", n(*status));
            push(f, "mip6.be.haddr", V::Addr(*home_address));
        }
        MhMessage::HomeTestInit { cookie, .. } => push(f, "mip6.hoti.cookie", n(*cookie)),
        MhMessage::CareofTestInit { cookie, .. } => push(f, "mip6.coti.cookie", n(*cookie)),
        MhMessage::HomeTest {
            nonce_index,
            cookie,
            keygen_token,
        } => {
            push(f, "mip6.hot.nindex", n(*nonce_index));
            push(f, "mip6.hot.cookie", n(*cookie));
            push(f, "mip6.hot.token", n(*keygen_token));
        }
        MhMessage::CareofTest {
            nonce_index,
            cookie,
            keygen_token,
        } => {
            push(f, "mip6.cot.nindex", n(*nonce_index));
            push(f, "mip6.cot.cookie", n(*cookie));
            push(f, "mip6.hot.token", n(*keygen_token));
        }
        _ => {}
    }
    for o in &m.options {
        match o {
            MobilityOption::BindingRefreshAdvice {
                refresh_interval, ..
            } => push(f, "mip6.bra.interval", n(*refresh_interval)),
            MobilityOption::AlternateCareofAddress { address, .. } => {
                push(f, "mip6.acoa.acoa", V::Addr(*address))
            }
            MobilityOption::NonceIndices {
                home_nonce_index,
                careof_nonce_index,
                ..
            } => {
                push(f, "mip6.ni.hni", n(*home_nonce_index));
                push(f, "mip6.ni.cni", n(*careof_nonce_index));
            }
            MobilityOption::BindingAuthorizationData { authenticator } => push(
                f,
                "mip6.bad.auth",
                V::Bytes(wire::hex::encode(authenticator)),
            ),
            _ => {}
        }
    }
}

/// Bring a tshark `-T json -e` value to the form of `like`.
fn theirs(like: &V, s: &str) -> V {
    match like {
        V::Addr(_) => s.parse().map(V::Addr).unwrap_or(V::Bytes(s.to_string())),
        V::Bytes(_) => V::Bytes(s.replace(':', "").to_lowercase()),
        V::Num(_) => {
            let parsed = match s {
                "True" | "true" => Some(1),
                "False" | "false" => Some(0),
                _ => match s.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                },
            };
            parsed.map(V::Num).unwrap_or(V::Bytes(s.to_string()))
        }
    }
}

#[test]
fn every_decoded_field_matches_tshark() {
    if !hmip6spec::topology::testing::require_tshark("every_decoded_field_matches_tshark") {
        return;
    }
    // Well-formed samples, and malformed ones whose fields tshark still
    // dissects the same way (a Dist of 0 is still a Dist).
    let samples: Vec<_> = wire::samples::all()
        .into_iter()
        .filter(|s| {
            s.breaks.is_none()
                || matches!(
                    s.name,
                    "map-dist-0"
                        | "ra-hop-limit-64"
                        | "bu-bad-checksum"
                        | "bu-m-without-a"
                        | "icmpv6-bad-checksum"
                )
        })
        .collect();
    assert!(samples.len() >= 50, "only {} samples", samples.len());
    let frames: Vec<Vec<u8>> = samples.iter().map(|s| s.frame.emit()).collect();

    let dir = tempdir();
    let path = dir.join("crosscheck.pcap");
    write_pcap(&path, &frames);

    let expected: Vec<Fields> = frames.iter().map(|f| ours(f)).collect();
    let mut names: Vec<&'static str> = expected.iter().flat_map(|f| f.keys().copied()).collect();
    names.sort();
    names.dedup();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(&path)
        .args(["-T", "json", "--no-duplicate-keys"]);
    for n in &names {
        cmd.args(["-e", n]);
    }
    let out = cmd.output().expect("run tshark");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("tshark JSON");
    let packets = json.as_array().expect("a list of packets");
    assert_eq!(packets.len(), frames.len());

    let mut compared = 0usize;
    let mut mismatches = Vec::new();
    for (i, (pkt, exp)) in packets.iter().zip(&expected).enumerate() {
        let layers = &pkt["_source"]["layers"];
        for (field, values) in exp {
            let got: Vec<String> = layers[*field]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let got_v: Vec<V> = values
                .iter()
                .zip(got.iter())
                .map(|(like, s)| theirs(like, s))
                .collect();
            // tshark also dissects the packet quoted inside an ICMPv6 error
            // message, which we keep as octets: its fields come after ours.
            let quotes = matches!(
                samples[i].name,
                "param-problem" | "dst-unreachable" | "packet-too-big"
            );
            let count_ok = got.len() == values.len() || (quotes && got.len() > values.len());
            if !count_ok || &got_v != values {
                mismatches.push(format!(
                    "frame {} ({}): {field}: ours {:?}, tshark {:?}",
                    i + 1,
                    samples[i].name,
                    values,
                    got
                ));
            }
            compared += values.len();
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // Every kind of field was exercised: a dissector that went silent
    // would otherwise pass by comparing nothing.
    assert!(compared > 500, "only {compared} values compared");
    for must in [
        "icmpv6.opt.map.distance",
        "icmpv6.opt.map.global_address",
        "mip6.bu.m_flag",
        "mip6.ba.status",
        "ipv6.opt.mipv6.home_address",
        "ipv6.routing.mipv6.home_address",
        "mip6.hoti.cookie",
        "mip6.ni.hni",
        "esp.spi",
        "ah.spi",
    ] {
        assert!(names.contains(&must), "no sample exercises {must}");
    }
}

fn tempdir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hmip6spec-crosscheck-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_pcap(path: &std::path::Path, frames: &[Vec<u8>]) {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    let file = std::fs::File::create(path).unwrap();
    let header = PcapHeader {
        datalink: pcap_file::DataLink::ETHERNET,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for (i, f) in frames.iter().enumerate() {
        let ts = std::time::Duration::from_millis(i as u64);
        w.write_packet(&PcapPacket::new(ts, f.len() as u32, f))
            .unwrap();
    }
}
