//! Protocol numbers: IPv6 Next Header values and the EtherType.

pub const ETHERTYPE_IPV6: u16 = 0x86dd;

pub const HOP_BY_HOP: u8 = 0;
pub const IPV6_IN_IPV6: u8 = 41;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const ESP: u8 = 50;
pub const AH: u8 = 51;
pub const ICMPV6: u8 = 58;
pub const NO_NEXT_HEADER: u8 = 59;
pub const DESTINATION_OPTIONS: u8 = 60;
pub const MOBILITY: u8 = 135;

/// A human name for a Next Header value, for dumps.
pub fn name(next_header: u8) -> &'static str {
    match next_header {
        HOP_BY_HOP => "Hop-by-Hop Options",
        6 => "TCP",
        17 => "UDP",
        IPV6_IN_IPV6 => "IPv6",
        ROUTING => "Routing",
        FRAGMENT => "Fragment",
        ESP => "ESP",
        AH => "AH",
        ICMPV6 => "ICMPv6",
        NO_NEXT_HEADER => "No Next Header",
        DESTINATION_OPTIONS => "Destination Options",
        MOBILITY => "Mobility Header",
        _ => "unknown",
    }
}
