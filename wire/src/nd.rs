//! Neighbour Discovery options (RFC 4861 4.6), the Mobile IPv6 additions
//! (RFC 6275 7.2-7.4) and the HMIPv6 MAP option (RFC 4140 5).
//!
//! Every ND option is Type (8), Length (8, in units of 8 octets including
//! Type and Length), then data. A Length of 0 is invalid: a receiver must
//! drop the whole packet (RFC 4861 4.6), and a parser cannot advance past
//! it, so [`parse_options`] reports it and keeps the rest of the list as a
//! final [`NdOption::Raw`] item.
//!
//! The fixed-size options carry a `length: Option<u8>` override (see the
//! crate documentation): `None` writes the RFC's Length; `Some(l)` makes the
//! option occupy exactly `l * 8` octets on the wire (its body truncated or
//! zero-filled to fit) with Length `l`; `Some(0)` writes the normal-size
//! option with Length 0. Parsers return `Some(l)` (with a finding) only when
//! the wire Length differs from the RFC's.
//!
//! The parsers keep every field the option carries, reserved fields
//! included, so re-emitting a parsed list reproduces its octets. A
//! fixed-size option whose Length is larger than the RFC's is decoded when
//! the octets past its fields are zero (what emit writes there); when any of
//! them is not, it is kept as [`NdOption::Unknown`] with its own type, so
//! that no octet is lost (the Length finding is reported either way).

use std::net::Ipv6Addr;

use crate::{rules, Diag, Error, MacAddr, Result};

/// ND option type numbers.
pub mod option_type {
    /// Source Link-layer Address (RFC 4861 4.6.1).
    pub const SOURCE_LINK_LAYER_ADDR: u8 = 1;
    /// Target Link-layer Address (RFC 4861 4.6.1).
    pub const TARGET_LINK_LAYER_ADDR: u8 = 2;
    /// Prefix Information (RFC 4861 4.6.2, R flag RFC 6275 7.2).
    pub const PREFIX_INFORMATION: u8 = 3;
    /// Redirected Header (RFC 4861 4.6.3); decoded as an unknown option.
    pub const REDIRECTED_HEADER: u8 = 4;
    /// MTU (RFC 4861 4.6.4).
    pub const MTU: u8 = 5;
    /// Advertisement Interval (RFC 6275 7.3).
    pub const ADVERTISEMENT_INTERVAL: u8 = 7;
    /// Home Agent Information (RFC 6275 7.4).
    pub const HOME_AGENT_INFORMATION: u8 = 8;
    /// MAP option (RFC 4140 5).
    pub const MAP: u8 = 23;
}

/// A human name for an ND option type, for dumps and finding messages.
pub fn option_name(t: u8) -> &'static str {
    match t {
        option_type::SOURCE_LINK_LAYER_ADDR => "Source Link-layer Address",
        option_type::TARGET_LINK_LAYER_ADDR => "Target Link-layer Address",
        option_type::PREFIX_INFORMATION => "Prefix Information",
        option_type::REDIRECTED_HEADER => "Redirected Header",
        option_type::MTU => "MTU",
        option_type::ADVERTISEMENT_INTERVAL => "Advertisement Interval",
        option_type::HOME_AGENT_INFORMATION => "Home Agent Information",
        option_type::MAP => "MAP",
        _ => "unknown",
    }
}

/// The Length (in 8-octet units) the RFCs define for a fixed-size option
/// type, or `None` for variable-size and unknown types.
pub fn fixed_length(t: u8) -> Option<u8> {
    match t {
        option_type::SOURCE_LINK_LAYER_ADDR
        | option_type::TARGET_LINK_LAYER_ADDR
        | option_type::MTU
        | option_type::ADVERTISEMENT_INTERVAL
        | option_type::HOME_AGENT_INFORMATION => Some(1),
        option_type::PREFIX_INFORMATION => Some(4),
        option_type::MAP => Some(3),
        _ => None,
    }
}

mod field {
    pub type Field = core::ops::Range<usize>;

    pub const TYPE: usize = 0;
    pub const LENGTH: usize = 1;
    pub const DATA: usize = 2;

    // Source / Target Link-layer Address (Ethernet).
    pub const LL_ADDR: Field = 2..8;

    // MTU, Advertisement Interval, Home Agent Information.
    pub const RESERVED16: Field = 2..4;
    pub const MTU: Field = 4..8;
    pub const ADV_INTERVAL: Field = 4..8;
    pub const HA_PREFERENCE: Field = 4..6;
    pub const HA_LIFETIME: Field = 6..8;

    // Prefix Information.
    pub const PI_PREFIX_LEN: usize = 2;
    pub const PI_FLAGS: usize = 3;
    pub const PI_VALID_LIFETIME: Field = 4..8;
    pub const PI_PREFERRED_LIFETIME: Field = 8..12;
    pub const PI_RESERVED2: Field = 12..16;
    pub const PI_PREFIX: Field = 16..32;
    pub const PI_LEN: usize = 32;

    // MAP option.
    pub const MAP_DIST_PREF: usize = 2;
    pub const MAP_FLAGS: usize = 3;
    pub const MAP_VALID_LIFETIME: Field = 4..8;
    pub const MAP_ADDRESS: Field = 8..24;
    pub const MAP_LEN: usize = 24;
}

/// Prefix Information flag: on-link.
pub const PI_L_FLAG: u8 = 0x80;
/// Prefix Information flag: autonomous address configuration.
pub const PI_A_FLAG: u8 = 0x40;
/// Prefix Information flag: router address (RFC 6275 7.2).
pub const PI_R_FLAG: u8 = 0x20;
/// MAP option flag: the MN must form its RCoA from the MAP's prefix.
pub const MAP_R_FLAG: u8 = 0x80;

fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(&b[..16]);
    Ipv6Addr::from(o)
}

// ---------------------------------------------------------------------------
// Zero-copy views
// ---------------------------------------------------------------------------

/// The data octets of an option in `b`: after Type and Length, up to what
/// the Length states, within `b`.
fn data_range(b: &[u8]) -> (usize, usize) {
    let start = field::DATA.min(b.len());
    let stated = b.get(field::LENGTH).map_or(0, |&l| usize::from(l) * 8);
    (start, stated.clamp(start, b.len()))
}

/// A generic view of one ND option: Type, Length and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NdOptionView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NdOptionView<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        NdOptionView { buffer }
    }

    /// `Error::Truncated` when shorter than Type and Length or than the
    /// Length field states; `Error::Malformed` when the Length is 0.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let v = Self::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field::DATA {
            return Err(Error::Truncated);
        }
        let total = usize::from(b[field::LENGTH]) * 8;
        if total == 0 {
            return Err(Error::Malformed);
        }
        if b.len() < total {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn option_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    /// The Length field, in units of 8 octets.
    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// The octets after Type and Length, up to the end the Length states.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let (start, end) = data_range(b);
        &b[start..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NdOptionView<T> {
    pub fn set_option_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_length(&mut self, v: u8) {
        self.buffer.as_mut()[field::LENGTH] = v;
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        let (start, end) = data_range(self.buffer.as_ref());
        &mut self.buffer.as_mut()[start..end]
    }
}

/// A view of a Prefix Information option (32 octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixInfo<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PrefixInfo<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        PrefixInfo { buffer }
    }

    /// `Error::Truncated` when shorter than 32 octets or than the Length states.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let v = Self::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field::PI_LEN || b.len() < usize::from(b[field::LENGTH]) * 8 {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn option_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    pub fn prefix_len(&self) -> u8 {
        self.buffer.as_ref()[field::PI_PREFIX_LEN]
    }

    /// The whole flags octet (L, A, R and the 5 reserved bits).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::PI_FLAGS]
    }

    pub fn l_flag(&self) -> bool {
        self.flags() & PI_L_FLAG != 0
    }

    pub fn a_flag(&self) -> bool {
        self.flags() & PI_A_FLAG != 0
    }

    pub fn r_flag(&self) -> bool {
        self.flags() & PI_R_FLAG != 0
    }

    /// The low 5 bits of the flags octet.
    pub fn reserved1(&self) -> u8 {
        self.flags() & 0x1f
    }

    pub fn valid_lifetime(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::PI_VALID_LIFETIME])
    }

    pub fn preferred_lifetime(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::PI_PREFERRED_LIFETIME])
    }

    pub fn reserved2(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::PI_RESERVED2])
    }

    pub fn prefix(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::PI_PREFIX])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PrefixInfo<T> {
    pub fn set_option_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_length(&mut self, v: u8) {
        self.buffer.as_mut()[field::LENGTH] = v;
    }

    pub fn set_prefix_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PI_PREFIX_LEN] = v;
    }

    pub fn set_flags(&mut self, v: u8) {
        self.buffer.as_mut()[field::PI_FLAGS] = v;
    }

    fn set_flag(&mut self, mask: u8, v: bool) {
        let f = self.flags();
        self.set_flags(if v { f | mask } else { f & !mask });
    }

    pub fn set_l_flag(&mut self, v: bool) {
        self.set_flag(PI_L_FLAG, v);
    }

    pub fn set_a_flag(&mut self, v: bool) {
        self.set_flag(PI_A_FLAG, v);
    }

    pub fn set_r_flag(&mut self, v: bool) {
        self.set_flag(PI_R_FLAG, v);
    }

    /// Set the low 5 bits of the flags octet (higher bits of `v` ignored).
    pub fn set_reserved1(&mut self, v: u8) {
        let f = self.flags();
        self.set_flags((f & !0x1f) | (v & 0x1f));
    }

    pub fn set_valid_lifetime(&mut self, v: u32) {
        self.buffer.as_mut()[field::PI_VALID_LIFETIME].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_preferred_lifetime(&mut self, v: u32) {
        self.buffer.as_mut()[field::PI_PREFERRED_LIFETIME].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_reserved2(&mut self, v: u32) {
        self.buffer.as_mut()[field::PI_RESERVED2].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_prefix(&mut self, v: Ipv6Addr) {
        self.buffer.as_mut()[field::PI_PREFIX].copy_from_slice(&v.octets());
    }
}

/// A view of a MAP option (RFC 4140 5, 24 octets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapOption<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MapOption<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        MapOption { buffer }
    }

    /// `Error::Truncated` when shorter than 24 octets or than the Length states.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let v = Self::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field::MAP_LEN || b.len() < usize::from(b[field::LENGTH]) * 8 {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn option_type(&self) -> u8 {
        self.buffer.as_ref()[field::TYPE]
    }

    pub fn length(&self) -> u8 {
        self.buffer.as_ref()[field::LENGTH]
    }

    /// Dist: the high 4 bits of octet 2.
    pub fn dist(&self) -> u8 {
        self.buffer.as_ref()[field::MAP_DIST_PREF] >> 4
    }

    /// Pref: the low 4 bits of octet 2.
    pub fn pref(&self) -> u8 {
        self.buffer.as_ref()[field::MAP_DIST_PREF] & 0x0f
    }

    pub fn r_flag(&self) -> bool {
        self.buffer.as_ref()[field::MAP_FLAGS] & MAP_R_FLAG != 0
    }

    /// The low 7 bits of octet 3.
    pub fn reserved(&self) -> u8 {
        self.buffer.as_ref()[field::MAP_FLAGS] & 0x7f
    }

    pub fn valid_lifetime(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::MAP_VALID_LIFETIME])
    }

    /// Global IP Address for MAP.
    pub fn address(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::MAP_ADDRESS])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MapOption<T> {
    pub fn set_option_type(&mut self, v: u8) {
        self.buffer.as_mut()[field::TYPE] = v;
    }

    pub fn set_length(&mut self, v: u8) {
        self.buffer.as_mut()[field::LENGTH] = v;
    }

    /// Set Dist (only the low 4 bits of `v` are used).
    pub fn set_dist(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::MAP_DIST_PREF];
        *b = (*b & 0x0f) | ((v & 0x0f) << 4);
    }

    /// Set Pref (only the low 4 bits of `v` are used).
    pub fn set_pref(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::MAP_DIST_PREF];
        *b = (*b & 0xf0) | (v & 0x0f);
    }

    pub fn set_r_flag(&mut self, v: bool) {
        let b = &mut self.buffer.as_mut()[field::MAP_FLAGS];
        *b = if v { *b | MAP_R_FLAG } else { *b & !MAP_R_FLAG };
    }

    /// Set the low 7 bits of octet 3 (the high bit of `v` is ignored).
    pub fn set_reserved(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::MAP_FLAGS];
        *b = (*b & MAP_R_FLAG) | (v & 0x7f);
    }

    pub fn set_valid_lifetime(&mut self, v: u32) {
        self.buffer.as_mut()[field::MAP_VALID_LIFETIME].copy_from_slice(&v.to_be_bytes());
    }

    pub fn set_address(&mut self, v: Ipv6Addr) {
        self.buffer.as_mut()[field::MAP_ADDRESS].copy_from_slice(&v.octets());
    }
}

// ---------------------------------------------------------------------------
// Reprs
// ---------------------------------------------------------------------------

/// Source / Target Link-layer Address option (Ethernet, Length 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct LinkLayerAddrRepr {
    /// Length override (`None`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    pub addr: MacAddr,
}

/// Prefix Information option (RFC 4861 4.6.2; R flag RFC 6275 7.2), Length 4.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PrefixInfoRepr {
    /// Length override (`None`: 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    pub prefix_len: u8,
    pub l_flag: bool,
    pub a_flag: bool,
    /// Router address flag (RFC 6275 7.2): `prefix` holds the router's address.
    pub r_flag: bool,
    /// The low 5 bits of the flags octet (masked on emit).
    #[serde(default)]
    pub reserved1: u8,
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    #[serde(default)]
    pub reserved2: u32,
    pub prefix: Ipv6Addr,
}

impl PrefixInfoRepr {
    /// A well-formed Prefix Information option, reserved fields 0, R clear.
    pub fn new(
        prefix: Ipv6Addr,
        prefix_len: u8,
        l_flag: bool,
        a_flag: bool,
        valid_lifetime: u32,
        preferred_lifetime: u32,
    ) -> Self {
        PrefixInfoRepr {
            length: None,
            prefix_len,
            l_flag,
            a_flag,
            r_flag: false,
            reserved1: 0,
            valid_lifetime,
            preferred_lifetime,
            reserved2: 0,
            prefix,
        }
    }
}

/// MTU option (RFC 4861 4.6.4), Length 1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct MtuRepr {
    /// Length override (`None`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    #[serde(default)]
    pub reserved: u16,
    pub mtu: u32,
}

/// Advertisement Interval option (RFC 6275 7.3), Length 1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AdvIntervalRepr {
    /// Length override (`None`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    #[serde(default)]
    pub reserved: u16,
    /// Milliseconds.
    pub interval: u32,
}

/// Home Agent Information option (RFC 6275 7.4), Length 1.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct HomeAgentInfoRepr {
    /// Length override (`None`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    #[serde(default)]
    pub reserved: u16,
    pub preference: u16,
    /// Seconds.
    pub lifetime: u16,
}

/// MAP option (RFC 4140 5): type 23, Length 3.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct MapOptionRepr {
    /// Length override (`None`: 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u8>,
    /// 4 bits (masked on emit); 0 is forbidden, 1 means the MAP is on-link.
    pub dist: u8,
    /// 4 bits (masked on emit); 15 is the most preferred, 0 "do not use".
    pub pref: u8,
    pub r_flag: bool,
    /// The low 7 bits of octet 3 (masked on emit).
    #[serde(default)]
    pub reserved: u8,
    /// Seconds; 0 means the MAP has failed.
    pub valid_lifetime: u32,
    /// Global IP Address for MAP.
    pub address: Ipv6Addr,
}

impl MapOptionRepr {
    /// A well-formed MAP option, reserved bits 0.
    pub fn new(dist: u8, pref: u8, r_flag: bool, valid_lifetime: u32, address: Ipv6Addr) -> Self {
        MapOptionRepr {
            length: None,
            dist,
            pref,
            r_flag,
            reserved: 0,
            valid_lifetime,
            address,
        }
    }
}

/// One ND option.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NdOption {
    SourceLinkLayerAddr(LinkLayerAddrRepr),
    TargetLinkLayerAddr(LinkLayerAddrRepr),
    PrefixInformation(PrefixInfoRepr),
    Mtu(MtuRepr),
    AdvertisementInterval(AdvIntervalRepr),
    HomeAgentInformation(HomeAgentInfoRepr),
    Map(MapOptionRepr),
    /// An option of a type this codec does not decode. `data` is the octets
    /// after Type and Length; emit zero-pads it to a multiple of 8 octets
    /// (Length = ceil((2 + data.len()) / 8)) and truncates it to the 2038
    /// octets Length 255 can hold.
    Unknown {
        option_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
    /// The rest of an option list after a malformed option (Length 0, or
    /// running past the end), copied verbatim.
    Raw {
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

/// Largest data an `Unknown` option can carry (Length 255).
const MAX_UNKNOWN_DATA: usize = 255 * 8 - 2;

/// Octets a fixed-size option occupies for a given length override.
fn fixed_occupied(units: u8, length: Option<u8>) -> usize {
    match length {
        None | Some(0) => usize::from(units) * 8,
        Some(l) => usize::from(l) * 8,
    }
}

/// Lay a canonical image (Type, Length and body at the RFC's size) out as
/// the option occupies the wire under `length`.
fn fixed_bytes(image: &[u8], units: u8, length: Option<u8>) -> Vec<u8> {
    let n = fixed_occupied(units, length);
    let mut out = vec![0u8; n];
    let k = n.min(image.len());
    out[..k].copy_from_slice(&image[..k]);
    if let Some(o) = out.get_mut(field::LENGTH) {
        *o = length.unwrap_or(units);
    }
    out
}

impl LinkLayerAddrRepr {
    fn image(&self, t: u8) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[field::TYPE] = t;
        b[field::LENGTH] = 1;
        b[field::LL_ADDR].copy_from_slice(&self.addr.0);
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        LinkLayerAddrRepr {
            length,
            addr: MacAddr::from_bytes(&b[field::LL_ADDR]),
        }
    }
}

impl PrefixInfoRepr {
    fn image(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        let mut v = PrefixInfo::new_unchecked(&mut b[..]);
        v.set_option_type(option_type::PREFIX_INFORMATION);
        v.set_length(4);
        v.set_prefix_len(self.prefix_len);
        v.set_l_flag(self.l_flag);
        v.set_a_flag(self.a_flag);
        v.set_r_flag(self.r_flag);
        v.set_reserved1(self.reserved1);
        v.set_valid_lifetime(self.valid_lifetime);
        v.set_preferred_lifetime(self.preferred_lifetime);
        v.set_reserved2(self.reserved2);
        v.set_prefix(self.prefix);
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        let v = PrefixInfo::new_unchecked(b);
        PrefixInfoRepr {
            length,
            prefix_len: v.prefix_len(),
            l_flag: v.l_flag(),
            a_flag: v.a_flag(),
            r_flag: v.r_flag(),
            reserved1: v.reserved1(),
            valid_lifetime: v.valid_lifetime(),
            preferred_lifetime: v.preferred_lifetime(),
            reserved2: v.reserved2(),
            prefix: v.prefix(),
        }
    }
}

impl MtuRepr {
    fn image(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[field::TYPE] = option_type::MTU;
        b[field::LENGTH] = 1;
        b[field::RESERVED16].copy_from_slice(&self.reserved.to_be_bytes());
        b[field::MTU].copy_from_slice(&self.mtu.to_be_bytes());
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        MtuRepr {
            length,
            reserved: be16(&b[field::RESERVED16]),
            mtu: be32(&b[field::MTU]),
        }
    }
}

impl AdvIntervalRepr {
    fn image(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[field::TYPE] = option_type::ADVERTISEMENT_INTERVAL;
        b[field::LENGTH] = 1;
        b[field::RESERVED16].copy_from_slice(&self.reserved.to_be_bytes());
        b[field::ADV_INTERVAL].copy_from_slice(&self.interval.to_be_bytes());
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        AdvIntervalRepr {
            length,
            reserved: be16(&b[field::RESERVED16]),
            interval: be32(&b[field::ADV_INTERVAL]),
        }
    }
}

impl HomeAgentInfoRepr {
    fn image(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[field::TYPE] = option_type::HOME_AGENT_INFORMATION;
        b[field::LENGTH] = 1;
        b[field::RESERVED16].copy_from_slice(&self.reserved.to_be_bytes());
        b[field::HA_PREFERENCE].copy_from_slice(&self.preference.to_be_bytes());
        b[field::HA_LIFETIME].copy_from_slice(&self.lifetime.to_be_bytes());
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        HomeAgentInfoRepr {
            length,
            reserved: be16(&b[field::RESERVED16]),
            preference: be16(&b[field::HA_PREFERENCE]),
            lifetime: be16(&b[field::HA_LIFETIME]),
        }
    }
}

impl MapOptionRepr {
    fn image(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        let mut v = MapOption::new_unchecked(&mut b[..]);
        v.set_option_type(option_type::MAP);
        v.set_length(3);
        v.set_dist(self.dist);
        v.set_pref(self.pref);
        v.set_r_flag(self.r_flag);
        v.set_reserved(self.reserved);
        v.set_valid_lifetime(self.valid_lifetime);
        v.set_address(self.address);
        b
    }

    fn from_image(b: &[u8], length: Option<u8>) -> Self {
        let v = MapOption::new_unchecked(b);
        MapOptionRepr {
            length,
            dist: v.dist(),
            pref: v.pref(),
            r_flag: v.r_flag(),
            reserved: v.reserved(),
            valid_lifetime: v.valid_lifetime(),
            address: v.address(),
        }
    }
}

impl NdOption {
    /// Parse the option at the start of `data`; returns it and the octets
    /// it occupies. Returns `None`, with a finding, when the option cannot
    /// be delimited: fewer than 2 octets (`TRUNCATED`), Length 0
    /// (`ND_OPTION_LENGTH_ZERO`) or a Length running past the end of `data`
    /// (`ND_OPTION_LENGTH`). Fixed-size options with a Length other than the
    /// RFC's are decoded (fields beyond the stated Length read as zero) with
    /// an `ND_OPTION_SIZE` finding, or `MAP_LENGTH` for the MAP option; an
    /// over-long one with non-zero octets past its fields is returned as
    /// `Unknown` (same type) so that re-emission keeps them.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(NdOption, usize)> {
        if data.len() < field::DATA {
            diag.truncated(0, "ND option", field::DATA, data.len());
            return None;
        }
        let t = data[field::TYPE];
        let len = data[field::LENGTH];
        if len == 0 {
            diag.report(
                field::LENGTH,
                rules::ND_OPTION_LENGTH_ZERO,
                format!(
                    "ND option type {t} ({}) has Length 0, which is invalid: the packet must be dropped",
                    option_name(t)
                ),
            );
            return None;
        }
        let total = usize::from(len) * 8;
        if total > data.len() {
            diag.report(
                field::LENGTH,
                rules::ND_OPTION_LENGTH,
                format!(
                    "ND option type {t} ({}) Length is {len} ({total} octets), but only {} octets remain",
                    option_name(t),
                    data.len()
                ),
            );
            return None;
        }
        let opt = &data[..total];
        let Some(units) = fixed_length(t) else {
            let option = NdOption::Unknown {
                option_type: t,
                data: opt[field::DATA..].to_vec(),
            };
            return Some((option, total));
        };
        let length = if len == units {
            None
        } else {
            if t == option_type::MAP {
                diag.report(
                    field::LENGTH,
                    rules::MAP_LENGTH,
                    format!("MAP option Length is {len}, expected {units}"),
                );
            } else {
                diag.report(
                    field::LENGTH,
                    rules::ND_OPTION_SIZE,
                    format!(
                        "{} option Length is {len}, expected {units}",
                        option_name(t)
                    ),
                );
            }
            Some(len)
        };
        // The canonical image: the fields that fit, zeros beyond.
        let mut img = [0u8; 32];
        let img = &mut img[..usize::from(units) * 8];
        let k = img.len().min(opt.len());
        img[..k].copy_from_slice(&opt[..k]);
        let option = match t {
            option_type::SOURCE_LINK_LAYER_ADDR => {
                NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr::from_image(img, length))
            }
            option_type::TARGET_LINK_LAYER_ADDR => {
                NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr::from_image(img, length))
            }
            option_type::PREFIX_INFORMATION => {
                NdOption::PrefixInformation(PrefixInfoRepr::from_image(img, length))
            }
            option_type::MTU => NdOption::Mtu(MtuRepr::from_image(img, length)),
            option_type::ADVERTISEMENT_INTERVAL => {
                NdOption::AdvertisementInterval(AdvIntervalRepr::from_image(img, length))
            }
            option_type::HOME_AGENT_INFORMATION => {
                NdOption::HomeAgentInformation(HomeAgentInfoRepr::from_image(img, length))
            }
            _ => {
                let m = MapOptionRepr::from_image(img, length);
                if m.dist == 0 {
                    diag.report(
                        field::MAP_DIST_PREF,
                        rules::MAP_DIST,
                        "MAP option Dist is 0, expected 1 or more",
                    );
                }
                NdOption::Map(m)
            }
        };
        // Octets past the fields of an over-long option: if any is not
        // zero, the typed repr (whose emit zero-fills them) would lose it,
        // so keep the option's octets as they are.
        let excess = opt.get(img.len()..).unwrap_or_default();
        if excess.iter().any(|&b| b != 0) {
            let option = NdOption::Unknown {
                option_type: t,
                data: opt[field::DATA..].to_vec(),
            };
            return Some((option, total));
        }
        Some((option, total))
    }

    /// The option's type, or `None` for [`NdOption::Raw`].
    pub fn option_type(&self) -> Option<u8> {
        Some(match self {
            NdOption::SourceLinkLayerAddr(_) => option_type::SOURCE_LINK_LAYER_ADDR,
            NdOption::TargetLinkLayerAddr(_) => option_type::TARGET_LINK_LAYER_ADDR,
            NdOption::PrefixInformation(_) => option_type::PREFIX_INFORMATION,
            NdOption::Mtu(_) => option_type::MTU,
            NdOption::AdvertisementInterval(_) => option_type::ADVERTISEMENT_INTERVAL,
            NdOption::HomeAgentInformation(_) => option_type::HOME_AGENT_INFORMATION,
            NdOption::Map(_) => option_type::MAP,
            NdOption::Unknown { option_type, .. } => *option_type,
            NdOption::Raw { .. } => return None,
        })
    }

    /// Octets the option occupies on the wire.
    pub fn buffer_len(&self) -> usize {
        match self {
            NdOption::SourceLinkLayerAddr(r) | NdOption::TargetLinkLayerAddr(r) => {
                fixed_occupied(1, r.length)
            }
            NdOption::PrefixInformation(r) => fixed_occupied(4, r.length),
            NdOption::Mtu(r) => fixed_occupied(1, r.length),
            NdOption::AdvertisementInterval(r) => fixed_occupied(1, r.length),
            NdOption::HomeAgentInformation(r) => fixed_occupied(1, r.length),
            NdOption::Map(r) => fixed_occupied(3, r.length),
            NdOption::Unknown { data, .. } => {
                (field::DATA + data.len().min(MAX_UNKNOWN_DATA)).div_ceil(8) * 8
            }
            NdOption::Raw { data } => data.len(),
        }
    }

    /// The option's wire octets (`buffer_len()` of them).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            NdOption::SourceLinkLayerAddr(r) => {
                fixed_bytes(&r.image(option_type::SOURCE_LINK_LAYER_ADDR), 1, r.length)
            }
            NdOption::TargetLinkLayerAddr(r) => {
                fixed_bytes(&r.image(option_type::TARGET_LINK_LAYER_ADDR), 1, r.length)
            }
            NdOption::PrefixInformation(r) => fixed_bytes(&r.image(), 4, r.length),
            NdOption::Mtu(r) => fixed_bytes(&r.image(), 1, r.length),
            NdOption::AdvertisementInterval(r) => fixed_bytes(&r.image(), 1, r.length),
            NdOption::HomeAgentInformation(r) => fixed_bytes(&r.image(), 1, r.length),
            NdOption::Map(r) => fixed_bytes(&r.image(), 3, r.length),
            NdOption::Unknown { option_type, data } => {
                let mut out = vec![0u8; self.buffer_len()];
                let data = &data[..data.len().min(MAX_UNKNOWN_DATA)];
                out[field::TYPE] = *option_type;
                out[field::LENGTH] = u8::try_from(out.len() / 8).unwrap_or(u8::MAX);
                out[field::DATA..field::DATA + data.len()].copy_from_slice(data);
                out
            }
            NdOption::Raw { data } => data.clone(),
        }
    }

    /// Write the option into `buf`, which should be `buffer_len()` octets
    /// (a shorter buffer gets a truncated option, a longer one is left
    /// untouched past the option).
    pub fn emit(&self, buf: &mut [u8]) {
        let bytes = self.to_bytes();
        let k = bytes.len().min(buf.len());
        buf[..k].copy_from_slice(&bytes[..k]);
    }
}

/// Parse a whole option list. Never fails: the rest of the list after an
/// option that cannot be delimited becomes a final [`NdOption::Raw`].
pub fn parse_options(data: &[u8], diag: &mut Diag) -> Vec<NdOption> {
    let mut out = Vec::new();
    let mut off = 0;
    while off < data.len() {
        match NdOption::parse(&data[off..], &mut diag.at(off)) {
            Some((opt, n)) => {
                out.push(opt);
                off += n;
            }
            None => {
                out.push(NdOption::Raw {
                    data: data[off..].to_vec(),
                });
                break;
            }
        }
    }
    out
}

/// Octets an option list occupies.
pub fn options_len(opts: &[NdOption]) -> usize {
    opts.iter().map(NdOption::buffer_len).sum()
}

/// Write an option list into `buf` (of `options_len(opts)` octets).
pub fn emit_options(opts: &[NdOption], buf: &mut [u8]) {
    let mut off = 0;
    for o in opts {
        if off >= buf.len() {
            break;
        }
        o.emit(&mut buf[off..]);
        off += o.buffer_len();
    }
}

/// The options of a list, as one byte vector.
pub fn options_to_bytes(opts: &[NdOption]) -> Vec<u8> {
    let mut out = vec![0u8; options_len(opts)];
    emit_options(opts, &mut out);
    out
}

/// Proptest strategies for ND options, reusable by other modules' tests.
#[cfg(test)]
#[allow(dead_code)]
pub(crate) mod strategy {
    use super::*;
    use proptest::collection::vec;
    use proptest::prelude::*;

    pub fn arb_ipv6() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    pub fn arb_mac() -> impl Strategy<Value = MacAddr> {
        any::<[u8; 6]>().prop_map(MacAddr)
    }

    /// `None`, or with `overrides` any Length including 0 and the canonical one.
    fn arb_length(overrides: bool) -> BoxedStrategy<Option<u8>> {
        if overrides {
            prop_oneof![
                2 => Just(None),
                1 => Just(Some(0)),
                3 => (1u8..6).prop_map(Some),
                1 => any::<u8>().prop_map(Some),
            ]
            .boxed()
        } else {
            Just(None).boxed()
        }
    }

    pub fn arb_map_option_with(overrides: bool) -> impl Strategy<Value = MapOptionRepr> {
        (
            arb_length(overrides),
            0u8..16,
            0u8..16,
            any::<bool>(),
            prop_oneof![3 => Just(0u8), 1 => 0u8..0x80],
            any::<u32>(),
            arb_ipv6(),
        )
            .prop_map(
                |(length, dist, pref, r_flag, reserved, valid_lifetime, address)| MapOptionRepr {
                    length,
                    dist,
                    pref,
                    r_flag,
                    reserved,
                    valid_lifetime,
                    address,
                },
            )
    }

    pub fn arb_map_option() -> impl Strategy<Value = MapOptionRepr> {
        arb_map_option_with(false)
    }

    pub fn arb_prefix_info_with(overrides: bool) -> impl Strategy<Value = PrefixInfoRepr> {
        (
            (
                arb_length(overrides),
                any::<u8>(),
                any::<[bool; 3]>(),
                0u8..0x20,
            ),
            (any::<u32>(), any::<u32>(), any::<u32>(), arb_ipv6()),
        )
            .prop_map(
                |((length, prefix_len, f, reserved1), (valid, preferred, reserved2, prefix))| {
                    PrefixInfoRepr {
                        length,
                        prefix_len,
                        l_flag: f[0],
                        a_flag: f[1],
                        r_flag: f[2],
                        reserved1,
                        valid_lifetime: valid,
                        preferred_lifetime: preferred,
                        reserved2,
                        prefix,
                    }
                },
            )
    }

    const KNOWN: [u8; 7] = [1, 2, 3, 5, 7, 8, 23];

    fn arb_unknown() -> impl Strategy<Value = NdOption> {
        (
            any::<u8>().prop_filter("known option type", |t| !KNOWN.contains(t)),
            (0usize..4).prop_flat_map(|k| vec(any::<u8>(), 8 * k + 6)),
        )
            .prop_map(|(option_type, data)| NdOption::Unknown { option_type, data })
    }

    /// An option the parser can delimit (no `Raw`).
    pub fn arb_nd_option_with(overrides: bool) -> BoxedStrategy<NdOption> {
        let l = move || arb_length(overrides);
        prop_oneof![
            (l(), arb_mac()).prop_map(|(length, addr)| NdOption::SourceLinkLayerAddr(
                LinkLayerAddrRepr { length, addr }
            )),
            (l(), arb_mac()).prop_map(|(length, addr)| NdOption::TargetLinkLayerAddr(
                LinkLayerAddrRepr { length, addr }
            )),
            arb_prefix_info_with(overrides).prop_map(NdOption::PrefixInformation),
            (l(), any::<u16>(), any::<u32>()).prop_map(|(length, reserved, mtu)| NdOption::Mtu(
                MtuRepr {
                    length,
                    reserved,
                    mtu
                }
            )),
            (l(), any::<u16>(), any::<u32>()).prop_map(|(length, reserved, interval)| {
                NdOption::AdvertisementInterval(AdvIntervalRepr {
                    length,
                    reserved,
                    interval,
                })
            }),
            (l(), any::<u16>(), any::<u16>(), any::<u16>()).prop_map(
                |(length, reserved, preference, lifetime)| {
                    NdOption::HomeAgentInformation(HomeAgentInfoRepr {
                        length,
                        reserved,
                        preference,
                        lifetime,
                    })
                }
            ),
            arb_map_option_with(overrides).prop_map(NdOption::Map),
            arb_unknown(),
        ]
        .boxed()
    }

    pub fn arb_nd_option() -> BoxedStrategy<NdOption> {
        arb_nd_option_with(false)
    }

    /// A `Raw` tail that parses back to itself: its first option has Length 0.
    pub fn arb_raw_tail() -> impl Strategy<Value = NdOption> {
        (any::<u8>(), vec(any::<u8>(), 0..20)).prop_map(|(t, rest)| {
            let mut data = vec![t, 0];
            data.extend(rest);
            NdOption::Raw { data }
        })
    }

    /// A list of well-formed options, possibly ending in a `Raw` tail.
    pub fn arb_nd_options_with(overrides: bool) -> BoxedStrategy<Vec<NdOption>> {
        (
            vec(arb_nd_option_with(overrides), 0..5),
            proptest::option::weighted(0.2, arb_raw_tail()),
        )
            .prop_map(|(mut v, raw)| {
                v.extend(raw);
                v
            })
            .boxed()
    }

    pub fn arb_nd_options() -> BoxedStrategy<Vec<NdOption>> {
        arb_nd_options_with(false)
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn parse_all(data: &[u8]) -> (Vec<NdOption>, Vec<Finding>) {
        let mut out = Vec::new();
        let opts = parse_options(data, &mut Diag::new(&mut out));
        (opts, out)
    }

    fn ip(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn kat(opt: NdOption, bytes: &[u8]) {
        assert_eq!(opt.buffer_len(), bytes.len());
        let mut buf = vec![0u8; bytes.len()];
        opt.emit(&mut buf);
        assert_eq!(buf, bytes);
        let (opts, findings) = parse_all(bytes);
        assert_eq!(findings, vec![]);
        assert_eq!(opts, vec![opt]);
    }

    #[test]
    fn kat_map_option() {
        // RFC 4140 5 / wire-formats.md: Type 23, Length 3, Dist 1 | Pref 10,
        // R set, Valid Lifetime 3600, address 2001:db8:1::1.
        let bytes = [
            0x17, 0x03, 0x1a, 0x80, 0x00, 0x00, 0x0e, 0x10, //
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, //
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        let m = MapOptionRepr::new(1, 10, true, 3600, ip("2001:db8:1::1"));
        kat(NdOption::Map(m), &bytes);
        let v = MapOption::new_checked(&bytes[..]).unwrap();
        assert_eq!(
            (v.dist(), v.pref(), v.r_flag(), v.reserved()),
            (1, 10, true, 0)
        );
        assert_eq!(v.valid_lifetime(), 3600);
        assert_eq!(v.address(), ip("2001:db8:1::1"));
    }

    #[test]
    fn kat_prefix_information() {
        // Prefix 2001:db8:1::/64, L and A set, valid 2592000 s, preferred 604800 s.
        let bytes = [
            0x03, 0x04, 0x40, 0xc0, 0x00, 0x27, 0x8d, 0x00, //
            0x00, 0x09, 0x3a, 0x80, 0x00, 0x00, 0x00, 0x00, //
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, //
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let pi = PrefixInfoRepr::new(ip("2001:db8:1::"), 64, true, true, 2_592_000, 604_800);
        kat(NdOption::PrefixInformation(pi), &bytes);
        let v = PrefixInfo::new_checked(&bytes[..]).unwrap();
        assert!(v.l_flag() && v.a_flag() && !v.r_flag());
        assert_eq!(v.prefix_len(), 64);
        assert_eq!(v.preferred_lifetime(), 604_800);
    }

    #[test]
    fn kat_small_options() {
        let mac: MacAddr = "02:00:00:00:00:01".parse().unwrap();
        kat(
            NdOption::SourceLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: mac,
            }),
            &[0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        kat(
            NdOption::TargetLinkLayerAddr(LinkLayerAddrRepr {
                length: None,
                addr: mac,
            }),
            &[0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01],
        );
        kat(
            NdOption::Mtu(MtuRepr {
                length: None,
                reserved: 0,
                mtu: 1500,
            }),
            &[0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc],
        );
        kat(
            NdOption::AdvertisementInterval(AdvIntervalRepr {
                length: None,
                reserved: 0,
                interval: 1000,
            }),
            &[0x07, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8],
        );
        kat(
            NdOption::HomeAgentInformation(HomeAgentInfoRepr {
                length: None,
                reserved: 0,
                preference: 10,
                lifetime: 1800,
            }),
            &[0x08, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x07, 0x08],
        );
        // Redirected Header and other types: Unknown, data after Type/Length.
        kat(
            NdOption::Unknown {
                option_type: 4,
                data: vec![0, 0, 0, 0, 0, 0],
            },
            &[0x04, 0x01, 0, 0, 0, 0, 0, 0],
        );
    }

    #[test]
    fn unknown_data_is_padded_and_capped() {
        let o = NdOption::Unknown {
            option_type: 99,
            data: vec![0xaa, 0xbb, 0xcc],
        };
        assert_eq!(o.to_bytes(), vec![99, 1, 0xaa, 0xbb, 0xcc, 0, 0, 0]);
        let big = NdOption::Unknown {
            option_type: 99,
            data: vec![1; 5000],
        };
        assert_eq!(big.buffer_len(), 2040);
        let b = big.to_bytes();
        assert_eq!((b.len(), b[1]), (2040, 255));
    }

    #[test]
    fn list_of_options_kat() {
        let bytes = [
            0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, //
            0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc,
        ];
        let (opts, f) = parse_all(&bytes);
        assert!(f.is_empty());
        assert_eq!(opts.len(), 2);
        assert_eq!(options_len(&opts), 16);
        assert_eq!(options_to_bytes(&opts), bytes);
        assert_eq!(opts[1].option_type(), Some(option_type::MTU));
    }

    #[test]
    fn serde_shape() {
        let m = NdOption::Map(MapOptionRepr::new(1, 15, false, 600, ip("2001:db8::1")));
        let j = serde_json::to_value(&m).unwrap();
        assert_eq!(
            j,
            serde_json::json!({"map": {"dist": 1, "pref": 15, "r_flag": false, "reserved": 0,
                "valid_lifetime": 600, "address": "2001:db8::1"}})
        );
        // Reserved fields may be omitted, length override given explicitly.
        let back: NdOption = serde_json::from_value(serde_json::json!(
            {"map": {"length": 2, "dist": 1, "pref": 15, "r_flag": false,
             "valid_lifetime": 600, "address": "2001:db8::1"}}
        ))
        .unwrap();
        let NdOption::Map(b) = back else { panic!() };
        assert_eq!(b.length, Some(2));
        let s = serde_json::to_string(&NdOption::Raw { data: vec![1, 0] }).unwrap();
        assert_eq!(s, r#"{"raw":{"data":"0100"}}"#);
    }

    #[test]
    fn finding_length_zero_keeps_rest_raw() {
        let bytes = [
            0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc, //
            0x17, 0x00, 0x11, 0x80, 0, 0, 0, 0,
        ];
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ND_OPTION_LENGTH_ZERO, 9));
        assert_eq!(
            opts[1],
            NdOption::Raw {
                data: bytes[8..].to_vec()
            }
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn finding_length_past_end() {
        let bytes = [0x03, 0x04, 0x40, 0xc0, 0, 0, 0, 0, 0, 0];
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ND_OPTION_LENGTH, 1));
        assert!(f[0].message.contains("Length is 4"), "{}", f[0].message);
        assert_eq!(
            opts,
            vec![NdOption::Raw {
                data: bytes.to_vec()
            }]
        );
    }

    #[test]
    fn finding_truncated_single_octet() {
        let bytes = [0x01, 0x01, 2, 0, 0, 0, 0, 1, 0x07];
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::TRUNCATED, 8));
        assert_eq!(opts[1], NdOption::Raw { data: vec![0x07] });
    }

    #[test]
    fn finding_option_size() {
        // An MTU option with Length 2: decoded, reported, re-emitted as found.
        let bytes = [0x05, 0x02, 0, 0, 0, 0, 0x05, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0];
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::ND_OPTION_SIZE, 1));
        assert_eq!(
            opts,
            vec![NdOption::Mtu(MtuRepr {
                length: Some(2),
                reserved: 0,
                mtu: 1500
            })]
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn finding_map_length_short_and_long() {
        // The test case the suite exists for: a MAP option with Length 2.
        let mut m = MapOptionRepr::new(1, 10, true, 3600, ip("2001:db8:1::1"));
        m.length = Some(2);
        let bytes = NdOption::Map(m.clone()).to_bytes();
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[..4], &[0x17, 0x02, 0x1a, 0x80]);
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1, "MAP_LENGTH only, not ND_OPTION_SIZE too: {f:?}");
        assert_eq!((f[0].rule, f[0].offset), (rules::MAP_LENGTH, 1));
        assert_eq!(f[0].message, "MAP option Length is 2, expected 3");
        // The address is cut to its first 8 octets; the rest reads as zero.
        let NdOption::Map(p) = &opts[0] else { panic!() };
        assert_eq!(p.address, ip("2001:db8:1::"));
        assert_eq!(p.length, Some(2));
        assert_eq!(options_to_bytes(&opts), bytes);

        m.length = Some(4);
        let bytes = NdOption::Map(m.clone()).to_bytes();
        assert_eq!(bytes.len(), 32);
        assert_eq!(&bytes[24..], &[0; 8]);
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, rules::MAP_LENGTH);
        assert_eq!(opts, vec![NdOption::Map(m.clone())]);

        // Length 0: normal size, Length field 0, parsed as a Raw tail.
        m.length = Some(0);
        let bytes = NdOption::Map(m).to_bytes();
        assert_eq!((bytes.len(), bytes[1]), (24, 0));
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f[0].rule, rules::ND_OPTION_LENGTH_ZERO);
        assert_eq!(
            opts,
            vec![NdOption::Raw {
                data: bytes.clone()
            }]
        );
    }

    #[test]
    fn overlong_option_with_trailing_octets_is_kept_whole() {
        let mut bytes =
            NdOption::Map(MapOptionRepr::new(1, 10, true, 3600, ip("2001:db8:1::1"))).to_bytes();
        bytes[1] = 4;
        bytes.extend([0, 0, 0, 0, 0, 0, 0, 0x5a]);
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::MAP_LENGTH, 1));
        assert_eq!(
            opts,
            vec![NdOption::Unknown {
                option_type: option_type::MAP,
                data: bytes[2..].to_vec()
            }]
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn finding_map_dist_zero() {
        let m = MapOptionRepr::new(0, 10, false, 3600, ip("2001:db8:1::1"));
        let bytes = NdOption::Map(m.clone()).to_bytes();
        let (opts, f) = parse_all(&bytes);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule, f[0].offset), (rules::MAP_DIST, 2));
        assert_eq!(opts, vec![NdOption::Map(m)]);
    }

    #[test]
    fn emit_masks_map_nibbles() {
        let mut m = MapOptionRepr::new(0x31, 0xf2, false, 0, Ipv6Addr::UNSPECIFIED);
        m.reserved = 0xff;
        let b = NdOption::Map(m).to_bytes();
        assert_eq!(&b[2..4], &[0x12, 0x7f]);
    }

    #[test]
    fn views_check_len() {
        assert_eq!(
            NdOptionView::new_checked(&[1u8][..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            NdOptionView::new_checked(&[1u8, 0][..]).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            NdOptionView::new_checked(&[1u8, 2, 0, 0, 0, 0, 0, 0][..]).unwrap_err(),
            Error::Truncated
        );
        let v = NdOptionView::new_checked(&[9u8, 1, 1, 2, 3, 4, 5, 6, 7][..]).unwrap();
        assert_eq!(
            (v.option_type(), v.length(), v.data()),
            (9, 1, &[1, 2, 3, 4, 5, 6][..])
        );
        assert_eq!(
            MapOption::new_checked(&[0u8; 23][..]).unwrap_err(),
            Error::Truncated
        );
        let mut long = [0u8; 24];
        long[1] = 4;
        assert_eq!(
            MapOption::new_checked(&long[..]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            PrefixInfo::new_checked(&[0u8; 31][..]).unwrap_err(),
            Error::Truncated
        );
        let mut w = NdOptionView::new_unchecked([0u8; 8]);
        w.set_option_type(3);
        w.set_length(1);
        w.data_mut()[0] = 7;
        assert_eq!(w.into_inner(), [3, 1, 7, 0, 0, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn roundtrip_option(o in arb_nd_option()) {
            let bytes = o.to_bytes();
            prop_assert_eq!(bytes.len(), o.buffer_len());
            let mut out = Vec::new();
            let mut d = Diag::new(&mut out);
            let (p, n) = NdOption::parse(&bytes, &mut d).expect("well-formed option");
            prop_assert_eq!(n, bytes.len());
            prop_assert_eq!(p, o);
        }

        #[test]
        fn roundtrip_options(v in arb_nd_options()) {
            let bytes = options_to_bytes(&v);
            let (p, _) = parse_all(&bytes);
            prop_assert_eq!(&p, &v);
            prop_assert_eq!(options_to_bytes(&p), bytes);
        }

        #[test]
        fn reemit_with_overrides(v in arb_nd_options_with(true)) {
            let bytes = options_to_bytes(&v);
            prop_assert_eq!(bytes.len(), options_len(&v));
            let (p, _) = parse_all(&bytes);
            prop_assert_eq!(options_to_bytes(&p), bytes);
        }

        #[test]
        fn parse_arbitrary_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let (p, f) = parse_all(&data);
            // Every octet is accounted for, and findings stay inside the input.
            prop_assert_eq!(options_len(&p), data.len());
            prop_assert_eq!(options_to_bytes(&p), data.clone());
            for x in &f {
                prop_assert!(x.offset < data.len().max(1));
            }
        }

        #[test]
        fn views_never_panic(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(v) = NdOptionView::new_checked(&data[..]) {
                let _ = (v.option_type(), v.length(), v.data().len());
            }
            if let Ok(v) = MapOption::new_checked(&data[..]) {
                let _ = (v.dist(), v.pref(), v.r_flag(), v.reserved(), v.valid_lifetime(), v.address());
            }
            if let Ok(v) = PrefixInfo::new_checked(&data[..]) {
                let _ = (v.prefix_len(), v.flags(), v.valid_lifetime(), v.preferred_lifetime(),
                    v.reserved2(), v.prefix());
            }
        }
    }
}
