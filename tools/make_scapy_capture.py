#!/usr/bin/env python3
"""Write captures/examples/scapy-hmipv6.pcap: HMIPv6 frames crafted by Scapy.

Scapy is an implementation independent of ours (its own field layouts and
its own checksum code, including the HAO / type 2 routing header
pseudo-header rules), so a capture it writes is a fair test of our decoder.
The capture is committed; this script is how it was made:

    pip install scapy && python3 tools/make_scapy_capture.py

Give Scapy the HAO as the only option and let it pad: Scapy applies the
HAO pseudo-header rule only when it finds the HAO that way (with an explicit
PadN before it, it checksums with the IPv6 source, which our decoder then
rightly reports as a bad checksum).

Frames 1-16 are well-formed; frames 17-22 each break one rule (see the
comment on each). Keep the order: tests refer to frames by number.
"""
import os
from scapy.all import Ether, wrpcap, raw
from scapy.layers.inet6 import (
    IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, HAO, PadN,
    ICMPv6ND_RA, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RS, ICMPv6NDOptMAP,
    ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU, ICMPv6NDOptAdvInterval, ICMPv6NDOptHAInfo,
    ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ParamProblem, ICMPv6DestUnreach,
    MIP6MH_BU, MIP6MH_BA, MIP6MH_BE, MIP6MH_BRR, MIP6MH_HoTI, MIP6MH_CoTI,
    MIP6MH_HoT, MIP6MH_CoT, MIP6OptBRAdvice, MIP6OptAltCoA, MIP6OptNonceIndices,
    MIP6OptBindingAuthData,
)

AR_MAC, MN_MAC, MAP_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02", "02:00:00:00:00:03"
AR_LL, MN_LL = "fe80::1", "fe80::2"
MAP = "2001:db8:ffff::1"
LCOA = "2001:db8:1::2"
RCOA = "2001:db8:ffff::2:2"
HOA = "2001:db8:aaaa::2"
HA = "2001:db8:aaaa::1"
CN = "2001:db8:cccc::5"


def eth(src=AR_MAC, dst=MN_MAC):
    return Ether(src=src, dst=dst)


def ra(*opts, hlim=255):
    p = eth(dst="33:33:00:00:00:01") / IPv6(src=AR_LL, dst="ff02::1", hlim=hlim) / ICMPv6ND_RA(
        chlim=64, M=0, O=1, H=0, prf=0, routerlifetime=1800, reachabletime=30000, retranstimer=1000)
    for o in opts:
        p = p / o
    return p


def map_opt(**kw):
    args = dict(dist=1, pref=10, R=1, validlifetime=3600, addr=MAP)
    args.update(kw)
    return ICMPv6NDOptMAP(**args)


def local_bu(seq=100, flags="AM", mhtime=15, options=None, **kw):
    return eth(MN_MAC, AR_MAC) / IPv6(src=LCOA, dst=MAP) / IPv6ExtHdrDestOpt(
        options=[HAO(hoa=RCOA)]) / MIP6MH_BU(
        seq=seq, flags=flags, mhtime=mhtime, options=options or [], **kw)


def ba(status=0, seq=100, mhtime=15):
    return eth(MAP_MAC, MN_MAC) / IPv6(src=MAP, dst=LCOA) / IPv6ExtHdrRouting(
        type=2, segleft=1, addresses=[RCOA]) / MIP6MH_BA(status=status, flags=0, seq=seq, mhtime=mhtime)


frames = [
    # 1: an AR's RA with everything RFC 4140 and RFC 6275 add to it.
    ra(ICMPv6NDOptSrcLLAddr(lladdr=AR_MAC), ICMPv6NDOptMTU(mtu=1500),
       ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, R=0, validlifetime=86400,
                             preferredlifetime=14400, prefix="2001:db8:1::"),
       ICMPv6NDOptAdvInterval(advint=1000), ICMPv6NDOptHAInfo(pref=5, lifetime=600),
       map_opt()),
    # 2: two MAPs, distances 1 and 3, the second with R clear and preference 0.
    ra(map_opt(dist=1, pref=15), map_opt(dist=3, pref=0, R=0, validlifetime=0,
                                          addr="2001:db8:eeee::1")),
    # 3: the MN's local BU to the MAP: A and M set, HAO = RCoA, source = LCoA.
    local_bu(),
    # 4: a local BU with a Binding Refresh Advice and Alternate CoA (both padded).
    local_bu(seq=101, options=[MIP6OptBRAdvice(rinter=10), MIP6OptAltCoA(acoa=LCOA)]),
    # 5: the MAP's BA: RH2 holding the RCoA, destination the LCoA.
    ba(),
    # 6: a BA refusing the binding: status 134, DAD failed.
    ba(status=134, seq=101, mhtime=0),
    # 7: the MN's home registration: H and A set, source = RCoA, HAO = home address.
    eth(MN_MAC, AR_MAC) / IPv6(src=LCOA, dst=MAP) / IPv6(src=RCOA, dst=HA) / IPv6ExtHdrDestOpt(
        options=[HAO(hoa=HOA)]) / MIP6MH_BU(seq=7, flags="AH", mhtime=10),
    # 8: a Binding Error for an unknown HAO binding.
    eth(MAP_MAC, MN_MAC) / IPv6(src=MAP, dst=LCOA) / MIP6MH_BE(status=1, ha=RCOA),
    # 9: a Binding Refresh Request.
    eth(MAP_MAC, MN_MAC) / IPv6(src=MAP, dst=LCOA) / MIP6MH_BRR(),
    # 10: a HoTI tunnelled twice (RFC 4140 12.2): LCoA->MAP, RCoA->HA, HoA->CN.
    eth(MN_MAC, AR_MAC) / IPv6(src=LCOA, dst=MAP) / IPv6(src=RCOA, dst=HA) / IPv6(src=HOA, dst=CN)
    / MIP6MH_HoTI(cookie=b"\x01\x02\x03\x04\x05\x06\x07\x08"),
    # 11: a CoTI, a HoT and a CoT.
    eth(MN_MAC, AR_MAC) / IPv6(src=LCOA, dst=CN) / MIP6MH_CoTI(cookie=b"\x11" * 8),
    eth(AR_MAC, MN_MAC) / IPv6(src=CN, dst=HOA) / MIP6MH_HoT(index=7, cookie=b"\x01" * 8, token=b"\x21" * 8),
    eth(AR_MAC, MN_MAC) / IPv6(src=CN, dst=LCOA) / MIP6MH_CoT(index=8, cookie=b"\x11" * 8, token=b"\x31" * 8),
    # 14: a CN's echo request tunnelled by the MAP to the LCoA.
    eth(MAP_MAC, MN_MAC) / IPv6(src=MAP, dst=LCOA) / IPv6(src=CN, dst=RCOA) / ICMPv6EchoRequest(id=1, seq=2, data=b"hmip6"),
    # 15: neighbour solicitation and advertisement for the LCoA.
    eth(AR_MAC, "33:33:ff:00:00:02") / IPv6(src=AR_LL, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=LCOA) / ICMPv6NDOptSrcLLAddr(lladdr=AR_MAC),
    eth(MN_MAC, AR_MAC) / IPv6(src=LCOA, dst=AR_LL, hlim=255) / ICMPv6ND_NA(R=0, S=1, O=1, tgt=LCOA) / ICMPv6NDOptDstLLAddr(lladdr=MN_MAC),
    # 17 (malformed): a MAP option with Dist 0.
    ra(map_opt(dist=0)),
    # 18 (malformed): a MAP option with Length 2 (16 octets: the address cut short).
    ra(ICMPv6NDOptMAP(len=2, dist=1, pref=10, R=1, validlifetime=3600, addr=MAP)),
    # 19 (malformed): an RA with Hop Limit 64.
    ra(map_opt(), hlim=64),
    # 20 (malformed): a local BU with M set and A clear.
    local_bu(seq=102, flags="M"),
    # 21 (malformed): a local BU with a wrong checksum.
    local_bu(seq=103, cksum=0x1234),
    # 22 (malformed): a BU whose MH says Payload Proto 6.
    local_bu(seq=104, nh=6),
]

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "..", "captures", "examples", "scapy-hmipv6.pcap")
    # Fixed timestamps so the file is reproducible.
    for i, f in enumerate(frames):
        f.time = 1764288000 + i / 100
    wrpcap(out, frames)
    print(f"wrote {len(frames)} frames to {os.path.normpath(out)}")
