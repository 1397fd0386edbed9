//! Stable identifiers of the format rules the decoder checks.
//!
//! A rule ID names the RFC and section that states the rule, so a finding in
//! a report can be traced to the text. IDs never change once published;
//! new rules get new IDs. [`ALL`] lists every rule with a one-line summary
//! (shown by `hmip6spec decode` and in reports).

/// A header or option ends before its fixed part or its stated length.
pub const TRUNCATED: &str = "truncated";
/// Bytes after the last header that no header claims.
pub const TRAILING: &str = "trailing-bytes";

/// IPv6: version field is not 6.
pub const IPV6_VERSION: &str = "RFC8200-3-version";
/// IPv6: Payload Length disagrees with the octets that follow the header.
pub const IPV6_PAYLOAD_LENGTH: &str = "RFC8200-3-payload-length";
/// IPv6: a Hop-by-Hop Options header anywhere but right after the IPv6 header.
pub const IPV6_HBH_POSITION: &str = "RFC8200-4.1-hop-by-hop-position";
/// IPv6 options: an option runs past the end of its header.
pub const IPV6_OPTION_LENGTH: &str = "RFC8200-4.2-option-length";
/// IPv6 options: the Home Address option is not 16 octets of data.
pub const HAO_LENGTH: &str = "RFC6275-6.3-hao-length";
/// IPv6 options: the Home Address option is not at alignment 8n+6.
pub const HAO_ALIGNMENT: &str = "RFC6275-6.3-hao-alignment";
/// Routing header type 2: Hdr Ext Len is not 2.
pub const RH2_LENGTH: &str = "RFC6275-6.4-rh2-length";
/// Routing header type 2: Segments Left is not 1.
pub const RH2_SEGMENTS_LEFT: &str = "RFC6275-6.4-rh2-segments-left";
/// Nesting deeper than the decoder follows (a loop guard, not an RFC rule).
pub const NESTING: &str = "nesting-limit";

/// ICMPv6: the checksum does not verify.
pub const ICMPV6_CHECKSUM: &str = "RFC4443-2.3-checksum";
/// ICMPv6: a message shorter than its type's fixed part.
pub const ICMPV6_LENGTH: &str = "RFC4443-2.1-length";
/// ND: an option with Length 0 (the whole packet must be dropped).
pub const ND_OPTION_LENGTH_ZERO: &str = "RFC4861-4.6-length-zero";
/// ND: an option whose Length runs past the end of the message.
pub const ND_OPTION_LENGTH: &str = "RFC4861-4.6-length";
/// ND: a fixed-size option whose Length is not the one its RFC defines.
pub const ND_OPTION_SIZE: &str = "RFC4861-4.6-option-size";
/// ND: a Neighbour Discovery message whose IPv6 Hop Limit is not 255.
pub const ND_HOP_LIMIT: &str = "RFC4861-6.1-hop-limit";
/// ND: an ND message with ICMPv6 Code other than 0.
pub const ND_CODE: &str = "RFC4861-6.1-code";
/// MAP option: Length is not 3.
pub const MAP_LENGTH: &str = "RFC4140-5-length";
/// MAP option: Dist is 0.
pub const MAP_DIST: &str = "RFC4140-5-dist";

/// MH: Payload Proto is not 59.
pub const MH_PAYLOAD_PROTO: &str = "RFC6275-6.1.1-payload-proto";
/// MH: the checksum does not verify.
pub const MH_CHECKSUM: &str = "RFC6275-6.1.1-checksum";
/// MH: the header is not a multiple of 8 octets, or Header Len disagrees
/// with the octets present.
pub const MH_LENGTH: &str = "RFC6275-6.1.1-length";
/// MH: the message is shorter than its MH Type requires (RFC 6275 9.2).
pub const MH_MESSAGE_LENGTH: &str = "RFC6275-9.2-message-length";
/// Mobility options: an option runs past the end of the header.
pub const MH_OPTION_LENGTH: &str = "RFC6275-6.2.1-option-length";
/// Mobility options: a fixed-size option whose Length is not its RFC's.
pub const MH_OPTION_SIZE: &str = "RFC6275-6.2-option-size";
/// Mobility options: an option not at the alignment its RFC requires.
pub const MH_OPTION_ALIGNMENT: &str = "RFC6275-6.2-option-alignment";
/// BU: M flag set without the A flag (RFC 4140 4.1: both MUST be set).
pub const BU_M_WITHOUT_A: &str = "RFC4140-4.1-m-without-a";

/// AH: Payload Len too small or running past the packet.
pub const AH_LENGTH: &str = "RFC4302-2.2-length";
/// ESP: shorter than SPI and Sequence Number.
pub const ESP_LENGTH: &str = "RFC4303-2-length";

/// Every rule with a one-line summary, for listings and reports.
pub const ALL: &[(&str, &str)] = &[
    (
        TRUNCATED,
        "a header or option ends before its fixed part or stated length",
    ),
    (
        TRAILING,
        "octets after the last header that no header accounts for",
    ),
    (IPV6_VERSION, "IPv6 Version is not 6"),
    (
        IPV6_PAYLOAD_LENGTH,
        "IPv6 Payload Length disagrees with the octets present",
    ),
    (
        IPV6_HBH_POSITION,
        "Hop-by-Hop Options header not immediately after the IPv6 header",
    ),
    (
        IPV6_OPTION_LENGTH,
        "an IPv6 option runs past the end of its header",
    ),
    (HAO_LENGTH, "Home Address option data is not 16 octets"),
    (HAO_ALIGNMENT, "Home Address option not at alignment 8n+6"),
    (RH2_LENGTH, "type 2 routing header Hdr Ext Len is not 2"),
    (
        RH2_SEGMENTS_LEFT,
        "type 2 routing header Segments Left is not 1",
    ),
    (NESTING, "headers nested deeper than the decoder follows"),
    (ICMPV6_CHECKSUM, "ICMPv6 checksum does not verify"),
    (
        ICMPV6_LENGTH,
        "ICMPv6 message shorter than its type's fixed part",
    ),
    (
        ND_OPTION_LENGTH_ZERO,
        "ND option with Length 0: the packet must be dropped",
    ),
    (
        ND_OPTION_LENGTH,
        "ND option Length runs past the end of the message",
    ),
    (
        ND_OPTION_SIZE,
        "fixed-size ND option with a Length other than its RFC's",
    ),
    (
        ND_HOP_LIMIT,
        "Neighbour Discovery message with IPv6 Hop Limit other than 255",
    ),
    (
        ND_CODE,
        "Neighbour Discovery message with ICMPv6 Code other than 0",
    ),
    (MAP_LENGTH, "MAP option Length is not 3"),
    (MAP_DIST, "MAP option Dist is 0"),
    (MH_PAYLOAD_PROTO, "Mobility Header Payload Proto is not 59"),
    (MH_CHECKSUM, "Mobility Header checksum does not verify"),
    (
        MH_LENGTH,
        "Mobility Header length not a multiple of 8 or not what Header Len says",
    ),
    (
        MH_MESSAGE_LENGTH,
        "Mobility Header shorter than its MH Type requires",
    ),
    (
        MH_OPTION_LENGTH,
        "mobility option runs past the end of the header",
    ),
    (
        MH_OPTION_SIZE,
        "fixed-size mobility option with a Length other than its RFC's",
    ),
    (
        MH_OPTION_ALIGNMENT,
        "mobility option not at its required alignment",
    ),
    (BU_M_WITHOUT_A, "Binding Update with M set and A clear"),
    (AH_LENGTH, "AH Payload Len too small or past the packet"),
    (ESP_LENGTH, "ESP shorter than SPI and Sequence Number"),
];

/// The summary of a rule, if it is known.
pub fn summary(rule: &str) -> Option<&'static str> {
    ALL.iter().find(|(id, _)| *id == rule).map(|(_, s)| *s)
}
