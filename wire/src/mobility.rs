//! The Mobility Header (IPv6 protocol 135, RFC 6275 6.1), with the M flag of
//! the HMIPv6 local Binding Update (RFC 4140 4.1).
//!
//! ```text
//!  0               1               2               3
//! +---------------+---------------+---------------+---------------+
//! | Payload Proto |  Header Len   |   MH Type     |   Reserved    |
//! +---------------+---------------+---------------+---------------+
//! |           Checksum            |                               |
//! +-------------------------------+                               |
//! .           Message Data, then mobility options                 .
//! +---------------------------------------------------------------+
//! ```
//!
//! The header occupies `(Header Len + 1) * 8` octets. [`MobilityHeader`] is a
//! checked zero-copy view; [`MobilityRepr`] the value form, whose
//! `header_len` and `checksum` are computed on emit unless overridden.

use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};

use crate::checksum::PseudoHeader;
use crate::finding::Diag;
use crate::mobility_options::{self, MobilityOption};
use crate::proto;
use crate::rules;
use crate::{Error, Result};

/// Octets of the fixed part every Mobility Header has: Payload Proto, Header
/// Len, MH Type, Reserved, Checksum.
pub const HEADER_LEN: usize = 6;

/// MH Type of Binding Refresh Request.
pub const BINDING_REFRESH_REQUEST: u8 = 0;
/// MH Type of Home Test Init.
pub const HOME_TEST_INIT: u8 = 1;
/// MH Type of Care-of Test Init.
pub const CAREOF_TEST_INIT: u8 = 2;
/// MH Type of Home Test.
pub const HOME_TEST: u8 = 3;
/// MH Type of Care-of Test.
pub const CAREOF_TEST: u8 = 4;
/// MH Type of Binding Update.
pub const BINDING_UPDATE: u8 = 5;
/// MH Type of Binding Acknowledgement.
pub const BINDING_ACK: u8 = 6;
/// MH Type of Binding Error.
pub const BINDING_ERROR: u8 = 7;

/// Binding Update flag: Acknowledge (A).
pub const BU_FLAG_A: u16 = 0x8000;
/// Binding Update flag: Home Registration (H).
pub const BU_FLAG_H: u16 = 0x4000;
/// Binding Update flag: Link-Local Address Compatibility (L).
pub const BU_FLAG_L: u16 = 0x2000;
/// Binding Update flag: Key Management Mobility Capability (K).
pub const BU_FLAG_K: u16 = 0x1000;
/// Binding Update flag: MAP registration (M, RFC 4140 4.1).
pub const BU_FLAG_M: u16 = 0x0800;
/// Binding Update flag: Mobile Router (R, RFC 3963).
pub const BU_FLAG_R: u16 = 0x0400;
/// Binding Update flag: Proxy Registration (P, RFC 5213).
pub const BU_FLAG_P: u16 = 0x0200;
/// Binding Update: the reserved bits after the flags.
pub const BU_RESERVED_MASK: u16 = 0x01ff;
/// Binding Acknowledgement flag: Key Management Mobility Capability (K).
pub const BA_FLAG_K: u8 = 0x80;
/// Binding Acknowledgement: the reserved bits after K.
pub const BA_RESERVED_MASK: u8 = 0x7f;

/// Octets of message data (after the 6-octet header, before the options)
/// that an MH Type requires (RFC 6275 6.1.2-6.1.9), or `None` for a type
/// this codec does not know.
pub fn message_len(mh_type: u8) -> Option<usize> {
    match mh_type {
        BINDING_REFRESH_REQUEST => Some(2),
        HOME_TEST_INIT | CAREOF_TEST_INIT => Some(10),
        HOME_TEST | CAREOF_TEST => Some(18),
        BINDING_UPDATE | BINDING_ACK => Some(6),
        BINDING_ERROR => Some(18),
        _ => None,
    }
}

/// The name of an MH Type, as the snake_case tag [`MhMessage`] serialises
/// with (`"binding_update"`), or `"unknown"`.
pub fn mh_type_name(t: u8) -> &'static str {
    match t {
        BINDING_REFRESH_REQUEST => "binding_refresh_request",
        HOME_TEST_INIT => "home_test_init",
        CAREOF_TEST_INIT => "careof_test_init",
        HOME_TEST => "home_test",
        CAREOF_TEST => "careof_test",
        BINDING_UPDATE => "binding_update",
        BINDING_ACK => "binding_ack",
        BINDING_ERROR => "binding_error",
        _ => "unknown",
    }
}

/// A human name of an MH Type for finding messages.
fn mh_type_title(t: u8) -> &'static str {
    match t {
        BINDING_REFRESH_REQUEST => "Binding Refresh Request",
        HOME_TEST_INIT => "Home Test Init",
        CAREOF_TEST_INIT => "Care-of Test Init",
        HOME_TEST => "Home Test",
        CAREOF_TEST => "Care-of Test",
        BINDING_UPDATE => "Binding Update",
        BINDING_ACK => "Binding Acknowledgement",
        BINDING_ERROR => "Binding Error",
        _ => "unknown MH Type",
    }
}

/// The snake_case name of a Binding Acknowledgement status (RFC 6275
/// 6.1.8), or `None` for an unassigned value. Values below 128 mean the
/// binding was accepted.
pub fn ba_status_name(status: u8) -> Option<&'static str> {
    Some(match status {
        0 => "accepted",
        1 => "accepted_but_prefix_discovery_necessary",
        128 => "reason_unspecified",
        129 => "administratively_prohibited",
        130 => "insufficient_resources",
        131 => "home_registration_not_supported",
        132 => "not_home_subnet",
        133 => "not_home_agent_for_this_mobile_node",
        134 => "duplicate_address_detection_failed",
        135 => "sequence_number_out_of_window",
        136 => "expired_home_nonce_index",
        137 => "expired_care_of_nonce_index",
        138 => "expired_nonces",
        139 => "registration_type_change_disallowed",
        _ => return None,
    })
}

/// The snake_case name of a Binding Error status (RFC 6275 6.1.9), or `None`.
pub fn be_status_name(status: u8) -> Option<&'static str> {
    match status {
        1 => Some("unknown_binding_for_home_address_destination_option"),
        2 => Some("unrecognized_mh_type"),
        _ => None,
    }
}

/// `N` octets of `buf` from `start`, zero-filled where `buf` ends early.
fn read_array<const N: usize>(buf: &[u8], start: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if start < buf.len() {
        let n = (buf.len() - start).min(N);
        out[..n].copy_from_slice(&buf[start..start + n]);
    }
    out
}

/// Write `bytes` at `start` into `buf`, dropping what does not fit.
fn write_bytes(buf: &mut [u8], start: usize, bytes: &[u8]) {
    if start < buf.len() {
        let n = (buf.len() - start).min(bytes.len());
        buf[start..start + n].copy_from_slice(&bytes[..n]);
    }
}

/// The pseudo-header with Next Header forced to 135.
fn mh_pseudo(pseudo: &PseudoHeader) -> PseudoHeader {
    PseudoHeader {
        next_header: proto::MOBILITY,
        ..*pseudo
    }
}

mod field {
    use core::ops::Range;

    pub const PAYLOAD_PROTO: usize = 0;
    pub const HEADER_LEN: usize = 1;
    pub const MH_TYPE: usize = 2;
    pub const RESERVED: usize = 3;
    pub const CHECKSUM: Range<usize> = 4..6;

    // Binding Refresh Request, Home/Care-of Test Init.
    pub const MSG_RESERVED: usize = 6;
    pub const INIT_COOKIE: usize = 8;

    // Home/Care-of Test.
    pub const NONCE_INDEX: usize = 6;
    pub const TEST_COOKIE: usize = 8;
    pub const KEYGEN_TOKEN: usize = 16;

    // Binding Update.
    pub const BU_SEQ: usize = 6;
    pub const BU_FLAGS: usize = 8;
    pub const BU_LIFETIME: usize = 10;

    // Binding Acknowledgement.
    pub const BA_STATUS: usize = 6;
    pub const BA_FLAGS: usize = 7;
    pub const BA_SEQ: usize = 8;
    pub const BA_LIFETIME: usize = 10;

    // Binding Error.
    pub const BE_STATUS: usize = 6;
    pub const BE_RESERVED: usize = 7;
    pub const BE_HOME_ADDRESS: usize = 8;
}

/// A checked zero-copy view over a Mobility Header.
///
/// `new_checked` guarantees the 6-octet fixed part and the
/// `(Header Len + 1) * 8` octets it states are present. The message getters
/// are per MH Type (`bu_*`, `ba_*`, `be_*`, ...): they read at that type's
/// offsets and zero-fill octets the buffer lacks, so they never panic, even
/// on a header too short for its type. Setters write what fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MobilityHeader<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        MobilityHeader { buffer }
    }

    /// Wrap a buffer, checking it holds the fixed part and the stated length.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let v = Self::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    /// `Error::Truncated` when the buffer is shorter than 6 octets or than
    /// `(Header Len + 1) * 8`.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN || len < self.total_len() {
            Err(Error::Truncated)
        } else {
            Ok(())
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    fn u16_at(&self, i: usize) -> u16 {
        u16::from_be_bytes(read_array(self.buffer.as_ref(), i))
    }

    fn u64_at(&self, i: usize) -> u64 {
        u64::from_be_bytes(read_array(self.buffer.as_ref(), i))
    }

    /// Payload Proto (59 normally).
    pub fn payload_proto(&self) -> u8 {
        self.byte(field::PAYLOAD_PROTO)
    }

    /// Header Len: length in 8-octet units, not counting the first 8 octets.
    pub fn header_len(&self) -> u8 {
        self.byte(field::HEADER_LEN)
    }

    /// Octets the header states it occupies: `(Header Len + 1) * 8`.
    pub fn total_len(&self) -> usize {
        (usize::from(self.header_len()) + 1) * 8
    }

    /// MH Type.
    pub fn mh_type(&self) -> u8 {
        self.byte(field::MH_TYPE)
    }

    /// The Reserved octet after MH Type.
    pub fn reserved(&self) -> u8 {
        self.byte(field::RESERVED)
    }

    /// Checksum.
    pub fn checksum(&self) -> u16 {
        self.u16_at(field::CHECKSUM.start)
    }

    /// The octets of the header within its stated length (clamped to the buffer).
    pub fn header_octets(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[..self.total_len().min(b.len())]
    }

    /// Message data and options: everything after the 6-octet fixed part
    /// within the stated length.
    pub fn body(&self) -> &[u8] {
        let h = self.header_octets();
        &h[HEADER_LEN.min(h.len())..]
    }

    /// The mobility options area for a known MH Type (empty for an unknown
    /// type or a header too short for its message).
    pub fn options_area(&self) -> &[u8] {
        let body = self.body();
        match message_len(self.mh_type()) {
            Some(n) if n <= body.len() => &body[n..],
            _ => &[],
        }
    }

    /// Whether the checksum verifies over `pseudo` (Next Header taken as 135)
    /// and the header octets.
    pub fn verify_checksum(&self, pseudo: &PseudoHeader) -> bool {
        mh_pseudo(pseudo).checksum(self.header_octets()) == 0
    }

    /// Binding Refresh Request, Home/Care-of Test Init: the 16-bit Reserved.
    pub fn msg_reserved(&self) -> u16 {
        self.u16_at(field::MSG_RESERVED)
    }

    /// Home/Care-of Test Init: the Init Cookie.
    pub fn init_cookie(&self) -> u64 {
        self.u64_at(field::INIT_COOKIE)
    }

    /// Home/Care-of Test: the Nonce Index.
    pub fn nonce_index(&self) -> u16 {
        self.u16_at(field::NONCE_INDEX)
    }

    /// Home/Care-of Test: the Init Cookie.
    pub fn test_cookie(&self) -> u64 {
        self.u64_at(field::TEST_COOKIE)
    }

    /// Home/Care-of Test: the Keygen Token.
    pub fn keygen_token(&self) -> u64 {
        self.u64_at(field::KEYGEN_TOKEN)
    }

    /// Binding Update: Sequence #.
    pub fn bu_seq(&self) -> u16 {
        self.u16_at(field::BU_SEQ)
    }

    /// Binding Update: the 16-bit word of flags (`BU_FLAG_*`) and reserved bits.
    pub fn bu_flags(&self) -> u16 {
        self.u16_at(field::BU_FLAGS)
    }

    /// Binding Update: Lifetime (units of 4 s).
    pub fn bu_lifetime(&self) -> u16 {
        self.u16_at(field::BU_LIFETIME)
    }

    /// Binding Acknowledgement: Status.
    pub fn ba_status(&self) -> u8 {
        self.byte(field::BA_STATUS)
    }

    /// Binding Acknowledgement: the octet of K flag (`BA_FLAG_K`) and reserved bits.
    pub fn ba_flags(&self) -> u8 {
        self.byte(field::BA_FLAGS)
    }

    /// Binding Acknowledgement: Sequence #.
    pub fn ba_seq(&self) -> u16 {
        self.u16_at(field::BA_SEQ)
    }

    /// Binding Acknowledgement: Lifetime (units of 4 s).
    pub fn ba_lifetime(&self) -> u16 {
        self.u16_at(field::BA_LIFETIME)
    }

    /// Binding Error: Status.
    pub fn be_status(&self) -> u8 {
        self.byte(field::BE_STATUS)
    }

    /// Binding Error: Reserved.
    pub fn be_reserved(&self) -> u8 {
        self.byte(field::BE_RESERVED)
    }

    /// Binding Error: Home Address.
    pub fn be_home_address(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(
            self.buffer.as_ref(),
            field::BE_HOME_ADDRESS,
        ))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MobilityHeader<T> {
    fn set_at(&mut self, i: usize, bytes: &[u8]) {
        write_bytes(self.buffer.as_mut(), i, bytes);
    }

    /// Set Payload Proto.
    pub fn set_payload_proto(&mut self, v: u8) {
        self.set_at(field::PAYLOAD_PROTO, &[v]);
    }

    /// Set Header Len.
    pub fn set_header_len(&mut self, v: u8) {
        self.set_at(field::HEADER_LEN, &[v]);
    }

    /// Set MH Type.
    pub fn set_mh_type(&mut self, v: u8) {
        self.set_at(field::MH_TYPE, &[v]);
    }

    /// Set the Reserved octet.
    pub fn set_reserved(&mut self, v: u8) {
        self.set_at(field::RESERVED, &[v]);
    }

    /// Set Checksum.
    pub fn set_checksum(&mut self, v: u16) {
        self.set_at(field::CHECKSUM.start, &v.to_be_bytes());
    }

    /// Compute and write the checksum over `pseudo` (Next Header taken as
    /// 135) and the header octets.
    pub fn fill_checksum(&mut self, pseudo: &PseudoHeader) {
        let c = mh_pseudo(pseudo)
            .checksum_with_zeroed_field(self.header_octets(), field::CHECKSUM.start);
        self.set_checksum(c);
    }

    /// Set the 16-bit Reserved of BRR / HoTI / CoTI.
    pub fn set_msg_reserved(&mut self, v: u16) {
        self.set_at(field::MSG_RESERVED, &v.to_be_bytes());
    }

    /// Set the Init Cookie of HoTI / CoTI.
    pub fn set_init_cookie(&mut self, v: u64) {
        self.set_at(field::INIT_COOKIE, &v.to_be_bytes());
    }

    /// Set the Nonce Index of HoT / CoT.
    pub fn set_nonce_index(&mut self, v: u16) {
        self.set_at(field::NONCE_INDEX, &v.to_be_bytes());
    }

    /// Set the Init Cookie of HoT / CoT.
    pub fn set_test_cookie(&mut self, v: u64) {
        self.set_at(field::TEST_COOKIE, &v.to_be_bytes());
    }

    /// Set the Keygen Token of HoT / CoT.
    pub fn set_keygen_token(&mut self, v: u64) {
        self.set_at(field::KEYGEN_TOKEN, &v.to_be_bytes());
    }

    /// Set the Binding Update Sequence #.
    pub fn set_bu_seq(&mut self, v: u16) {
        self.set_at(field::BU_SEQ, &v.to_be_bytes());
    }

    /// Set the Binding Update flags word.
    pub fn set_bu_flags(&mut self, v: u16) {
        self.set_at(field::BU_FLAGS, &v.to_be_bytes());
    }

    /// Set the Binding Update Lifetime.
    pub fn set_bu_lifetime(&mut self, v: u16) {
        self.set_at(field::BU_LIFETIME, &v.to_be_bytes());
    }

    /// Set the Binding Acknowledgement Status.
    pub fn set_ba_status(&mut self, v: u8) {
        self.set_at(field::BA_STATUS, &[v]);
    }

    /// Set the Binding Acknowledgement flags octet.
    pub fn set_ba_flags(&mut self, v: u8) {
        self.set_at(field::BA_FLAGS, &[v]);
    }

    /// Set the Binding Acknowledgement Sequence #.
    pub fn set_ba_seq(&mut self, v: u16) {
        self.set_at(field::BA_SEQ, &v.to_be_bytes());
    }

    /// Set the Binding Acknowledgement Lifetime.
    pub fn set_ba_lifetime(&mut self, v: u16) {
        self.set_at(field::BA_LIFETIME, &v.to_be_bytes());
    }

    /// Set the Binding Error Status.
    pub fn set_be_status(&mut self, v: u8) {
        self.set_at(field::BE_STATUS, &[v]);
    }

    /// Set the Binding Error Reserved octet.
    pub fn set_be_reserved(&mut self, v: u8) {
        self.set_at(field::BE_RESERVED, &[v]);
    }

    /// Set the Binding Error Home Address.
    pub fn set_be_home_address(&mut self, v: Ipv6Addr) {
        self.set_at(field::BE_HOME_ADDRESS, &v.octets());
    }
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

fn default_payload_proto() -> u8 {
    proto::NO_NEXT_HEADER
}

fn is_default_payload_proto(v: &u8) -> bool {
    *v == proto::NO_NEXT_HEADER
}

/// Binding Update message data (RFC 6275 6.1.7, M flag from RFC 4140 4.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct BindingUpdateRepr {
    /// Sequence #.
    pub seq: u16,
    /// Acknowledge (A).
    #[serde(default)]
    pub a_flag: bool,
    /// Home Registration (H).
    #[serde(default)]
    pub h_flag: bool,
    /// Link-Local Address Compatibility (L).
    #[serde(default)]
    pub l_flag: bool,
    /// Key Management Mobility Capability (K).
    #[serde(default)]
    pub k_flag: bool,
    /// MAP registration (M, RFC 4140).
    #[serde(default)]
    pub m_flag: bool,
    /// Mobile Router (R, RFC 3963).
    #[serde(default)]
    pub r_flag: bool,
    /// Proxy Registration (P, RFC 5213).
    #[serde(default)]
    pub p_flag: bool,
    /// The 9 reserved bits after the flags (higher bits are ignored on emit).
    #[serde(default, skip_serializing_if = "is_zero_u16")]
    pub reserved: u16,
    /// Lifetime, in units of 4 seconds, as on the wire.
    pub lifetime: u16,
}

impl BindingUpdateRepr {
    /// A local Binding Update to a MAP (RFC 4140 4.1): A and M set, H clear.
    pub fn local(seq: u16, lifetime: u16) -> Self {
        BindingUpdateRepr {
            seq,
            a_flag: true,
            m_flag: true,
            lifetime,
            ..Default::default()
        }
    }

    /// The 16-bit word of flags and reserved bits.
    pub fn flags_word(&self) -> u16 {
        let mut w = self.reserved & BU_RESERVED_MASK;
        for (set, mask) in [
            (self.a_flag, BU_FLAG_A),
            (self.h_flag, BU_FLAG_H),
            (self.l_flag, BU_FLAG_L),
            (self.k_flag, BU_FLAG_K),
            (self.m_flag, BU_FLAG_M),
            (self.r_flag, BU_FLAG_R),
            (self.p_flag, BU_FLAG_P),
        ] {
            if set {
                w |= mask;
            }
        }
        w
    }
}

/// Binding Acknowledgement message data (RFC 6275 6.1.8).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct BindingAckRepr {
    /// Status (see [`ba_status_name`]; below 128 means accepted).
    pub status: u8,
    /// Key Management Mobility Capability (K).
    #[serde(default)]
    pub k_flag: bool,
    /// The 7 reserved bits after K (the high bit is ignored on emit).
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub reserved: u8,
    /// Sequence #.
    pub seq: u16,
    /// Lifetime, in units of 4 seconds, as on the wire.
    pub lifetime: u16,
}

/// The message a Mobility Header carries, by MH Type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MhMessage {
    /// MH Type 0.
    BindingRefreshRequest {
        #[serde(default, skip_serializing_if = "is_zero_u16")]
        reserved: u16,
    },
    /// MH Type 1: Home Test Init, with the Home Init Cookie.
    HomeTestInit {
        #[serde(default, skip_serializing_if = "is_zero_u16")]
        reserved: u16,
        cookie: u64,
    },
    /// MH Type 2: Care-of Test Init, with the Care-of Init Cookie.
    CareofTestInit {
        #[serde(default, skip_serializing_if = "is_zero_u16")]
        reserved: u16,
        cookie: u64,
    },
    /// MH Type 3: Home Test (Home Nonce Index, Home Init Cookie, Home Keygen Token).
    HomeTest {
        nonce_index: u16,
        cookie: u64,
        keygen_token: u64,
    },
    /// MH Type 4: Care-of Test (Care-of Nonce Index, Care-of Init Cookie,
    /// Care-of Keygen Token).
    CareofTest {
        nonce_index: u16,
        cookie: u64,
        keygen_token: u64,
    },
    /// MH Type 5.
    BindingUpdate(BindingUpdateRepr),
    /// MH Type 6.
    BindingAck(BindingAckRepr),
    /// MH Type 7.
    BindingError {
        status: u8,
        #[serde(default, skip_serializing_if = "is_zero_u8")]
        reserved: u8,
        home_address: Ipv6Addr,
    },
    /// An MH Type this codec does not know, or a known one too short for its
    /// message data: `data` is everything after the 6-octet fixed part
    /// (options included), and the header's option list is empty.
    Unknown {
        mh_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

impl MhMessage {
    /// The MH Type.
    pub fn mh_type(&self) -> u8 {
        match self {
            MhMessage::BindingRefreshRequest { .. } => BINDING_REFRESH_REQUEST,
            MhMessage::HomeTestInit { .. } => HOME_TEST_INIT,
            MhMessage::CareofTestInit { .. } => CAREOF_TEST_INIT,
            MhMessage::HomeTest { .. } => HOME_TEST,
            MhMessage::CareofTest { .. } => CAREOF_TEST,
            MhMessage::BindingUpdate(_) => BINDING_UPDATE,
            MhMessage::BindingAck(_) => BINDING_ACK,
            MhMessage::BindingError { .. } => BINDING_ERROR,
            MhMessage::Unknown { mh_type, .. } => *mh_type,
        }
    }

    /// Octets of message data after the 6-octet fixed part.
    pub fn message_len(&self) -> usize {
        match self {
            MhMessage::Unknown { data, .. } => data.len(),
            other => message_len(other.mh_type()).unwrap_or(0),
        }
    }

    /// Append the message data to `out` (exactly `message_len()` octets).
    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            MhMessage::BindingRefreshRequest { reserved } => {
                out.extend_from_slice(&reserved.to_be_bytes())
            }
            MhMessage::HomeTestInit { reserved, cookie }
            | MhMessage::CareofTestInit { reserved, cookie } => {
                out.extend_from_slice(&reserved.to_be_bytes());
                out.extend_from_slice(&cookie.to_be_bytes());
            }
            MhMessage::HomeTest {
                nonce_index,
                cookie,
                keygen_token,
            }
            | MhMessage::CareofTest {
                nonce_index,
                cookie,
                keygen_token,
            } => {
                out.extend_from_slice(&nonce_index.to_be_bytes());
                out.extend_from_slice(&cookie.to_be_bytes());
                out.extend_from_slice(&keygen_token.to_be_bytes());
            }
            MhMessage::BindingUpdate(bu) => {
                out.extend_from_slice(&bu.seq.to_be_bytes());
                out.extend_from_slice(&bu.flags_word().to_be_bytes());
                out.extend_from_slice(&bu.lifetime.to_be_bytes());
            }
            MhMessage::BindingAck(ba) => {
                let flags =
                    if ba.k_flag { BA_FLAG_K } else { 0 } | (ba.reserved & BA_RESERVED_MASK);
                out.push(ba.status);
                out.push(flags);
                out.extend_from_slice(&ba.seq.to_be_bytes());
                out.extend_from_slice(&ba.lifetime.to_be_bytes());
            }
            MhMessage::BindingError {
                status,
                reserved,
                home_address,
            } => {
                out.push(*status);
                out.push(*reserved);
                out.extend_from_slice(&home_address.octets());
            }
            MhMessage::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }

    /// Decode the message of a known MH Type from a header view (whose
    /// getters zero-fill, so this never panics); `None` for an unknown type.
    fn decode<T: AsRef<[u8]>>(v: &MobilityHeader<T>) -> Option<MhMessage> {
        Some(match v.mh_type() {
            BINDING_REFRESH_REQUEST => MhMessage::BindingRefreshRequest {
                reserved: v.msg_reserved(),
            },
            HOME_TEST_INIT => MhMessage::HomeTestInit {
                reserved: v.msg_reserved(),
                cookie: v.init_cookie(),
            },
            CAREOF_TEST_INIT => MhMessage::CareofTestInit {
                reserved: v.msg_reserved(),
                cookie: v.init_cookie(),
            },
            HOME_TEST => MhMessage::HomeTest {
                nonce_index: v.nonce_index(),
                cookie: v.test_cookie(),
                keygen_token: v.keygen_token(),
            },
            CAREOF_TEST => MhMessage::CareofTest {
                nonce_index: v.nonce_index(),
                cookie: v.test_cookie(),
                keygen_token: v.keygen_token(),
            },
            BINDING_UPDATE => {
                let w = v.bu_flags();
                MhMessage::BindingUpdate(BindingUpdateRepr {
                    seq: v.bu_seq(),
                    a_flag: w & BU_FLAG_A != 0,
                    h_flag: w & BU_FLAG_H != 0,
                    l_flag: w & BU_FLAG_L != 0,
                    k_flag: w & BU_FLAG_K != 0,
                    m_flag: w & BU_FLAG_M != 0,
                    r_flag: w & BU_FLAG_R != 0,
                    p_flag: w & BU_FLAG_P != 0,
                    reserved: w & BU_RESERVED_MASK,
                    lifetime: v.bu_lifetime(),
                })
            }
            BINDING_ACK => {
                let f = v.ba_flags();
                MhMessage::BindingAck(BindingAckRepr {
                    status: v.ba_status(),
                    k_flag: f & BA_FLAG_K != 0,
                    reserved: f & BA_RESERVED_MASK,
                    seq: v.ba_seq(),
                    lifetime: v.ba_lifetime(),
                })
            }
            BINDING_ERROR => MhMessage::BindingError {
                status: v.be_status(),
                reserved: v.be_reserved(),
                home_address: v.be_home_address(),
            },
            _ => return None,
        })
    }
}

/// A Mobility Header: fixed part, message and mobility options.
///
/// `header_len` and `checksum` are computed on emit when `None`. With
/// `header_len = Some(l)` the header occupies exactly `(l + 1) * 8` octets:
/// its content is truncated or zero-filled to fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct MobilityRepr {
    /// Payload Proto: 59 (No Next Header) per RFC 6275.
    #[serde(
        default = "default_payload_proto",
        skip_serializing_if = "is_default_payload_proto"
    )]
    pub payload_proto: u8,
    /// Header Len override (8-octet units not counting the first 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_len: Option<u8>,
    /// The Reserved octet after MH Type.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub reserved: u8,
    /// Checksum override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<u16>,
    /// The message (its MH Type is the message kind).
    pub message: MhMessage,
    /// Mobility options after the message data, padding included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<MobilityOption>,
}

impl MobilityRepr {
    /// A well-formed header: Payload Proto 59, everything computed, and the
    /// options padded with [`mobility_options::aligned`] so every option is
    /// aligned and the header ends on a multiple of 8 octets.
    pub fn new(message: MhMessage, options: Vec<MobilityOption>) -> Self {
        let offset = HEADER_LEN + message.message_len();
        MobilityRepr {
            payload_proto: proto::NO_NEXT_HEADER,
            header_len: None,
            reserved: 0,
            checksum: None,
            message,
            options: mobility_options::aligned(options, offset),
        }
    }

    /// Octets of the content: fixed part, message data and options.
    fn content_len(&self) -> usize {
        HEADER_LEN + self.message.message_len() + mobility_options::options_len(&self.options)
    }

    /// The Header Len emit computes from the content:
    /// `ceil(content / 8) - 1`, saturating at 255.
    pub fn computed_header_len(&self) -> u8 {
        u8::try_from(self.content_len().div_ceil(8) - 1).unwrap_or(u8::MAX)
    }

    /// The Header Len that emit writes.
    pub fn effective_header_len(&self) -> u8 {
        self.header_len
            .unwrap_or_else(|| self.computed_header_len())
    }

    /// Octets of the emitted header: `(Header Len + 1) * 8`.
    pub fn buffer_len(&self) -> usize {
        (usize::from(self.effective_header_len()) + 1) * 8
    }

    /// The emitted header's octets; see [`MobilityRepr::emit`].
    pub fn to_bytes(&self, pseudo: &PseudoHeader) -> Vec<u8> {
        let len = self.buffer_len();
        let mut out = Vec::with_capacity(len.max(self.content_len()));
        out.push(self.payload_proto);
        out.push(self.effective_header_len());
        out.push(self.message.mh_type());
        out.push(self.reserved);
        out.extend_from_slice(&[0, 0]);
        self.message.write_to(&mut out);
        out.extend(mobility_options::options_to_bytes(&self.options));
        out.resize(len, 0);
        let checksum = self
            .checksum
            .unwrap_or_else(|| mh_pseudo(pseudo).checksum(&out));
        out[field::CHECKSUM].copy_from_slice(&checksum.to_be_bytes());
        out
    }

    /// Write the header into `buf` (of `buffer_len()` octets; a shorter
    /// buffer gets what fits). Unless overridden, the checksum covers
    /// `pseudo` with Next Header 135 (whatever `pseudo.next_header` says) and
    /// the whole header with the checksum field zero; `pseudo.src` should be
    /// the home address when a Home Address option is present and
    /// `pseudo.dst` the type 2 routing header address when one is.
    pub fn emit(&self, buf: &mut [u8], pseudo: &PseudoHeader) {
        write_bytes(buf, 0, &self.to_bytes(pseudo));
    }

    /// Parse a Mobility Header at the start of `data`, returning it and the
    /// octets it occupies (`(Header Len + 1) * 8`, or fewer when `data` ends
    /// early).
    ///
    /// `None` only when `data` is shorter than the 6-octet fixed part (a
    /// `TRUNCATED` finding). With `pseudo = Some`, a correct checksum
    /// parses as `None` and a wrong one as `Some(wire)` with an
    /// `MH_CHECKSUM` finding; with `pseudo = None` the checksum is kept as
    /// `Some(wire)` unchecked.
    pub fn parse(
        data: &[u8],
        pseudo: Option<&PseudoHeader>,
        diag: &mut Diag,
    ) -> Option<(MobilityRepr, usize)> {
        if data.len() < HEADER_LEN {
            diag.truncated(0, "Mobility Header", HEADER_LEN, data.len());
            return None;
        }
        let full = MobilityHeader::new_unchecked(data);
        let payload_proto = full.payload_proto();
        if payload_proto != proto::NO_NEXT_HEADER {
            diag.report(
                field::PAYLOAD_PROTO,
                rules::MH_PAYLOAD_PROTO,
                format!(
                    "Mobility Header Payload Proto is {payload_proto}, expected {}",
                    proto::NO_NEXT_HEADER
                ),
            );
        }
        let wire_hl = full.header_len();
        let stated = full.total_len();
        if data.len() != stated {
            let what = if data.len() < stated {
                format!("only {} are present", data.len())
            } else {
                format!("{} follow the header start", data.len())
            };
            diag.report(
                field::HEADER_LEN,
                rules::MH_LENGTH,
                format!("Mobility Header Len {wire_hl} states {stated} octets, {what}"),
            );
        }
        let consumed = stated.min(data.len());
        let mh = &data[..consumed];
        let view = MobilityHeader::new_unchecked(mh);
        let mh_type = view.mh_type();
        let wire_checksum = view.checksum();
        let checksum = match pseudo {
            None => Some(wire_checksum),
            Some(ph) => {
                let ph = mh_pseudo(ph);
                let expected = ph.checksum_with_zeroed_field(mh, field::CHECKSUM.start);
                if wire_checksum == expected && consumed == stated {
                    None
                } else if wire_checksum == expected {
                    // Right for the octets present, but emit checksums the
                    // whole stated header: keep the wire value.
                    Some(wire_checksum)
                } else if ph.checksum(mh) == 0 {
                    // The other one's complement zero (0xffff for 0x0000):
                    // it verifies, but emit would not write it.
                    Some(wire_checksum)
                } else {
                    diag.report(
                        field::CHECKSUM.start,
                        rules::MH_CHECKSUM,
                        format!(
                            "Mobility Header checksum is {wire_checksum:#06x}, \
                             expected {expected:#06x}"
                        ),
                    );
                    Some(wire_checksum)
                }
            }
        };
        let body = view.body();
        let unknown = || MhMessage::Unknown {
            mh_type,
            data: body.to_vec(),
        };
        let (message, options) = match message_len(mh_type) {
            Some(need) if body.len() >= need => {
                let message = MhMessage::decode(&view).unwrap_or_else(unknown);
                if let MhMessage::BindingUpdate(bu) = &message {
                    if bu.m_flag && !bu.a_flag {
                        diag.report(
                            field::BU_FLAGS,
                            rules::BU_M_WITHOUT_A,
                            "Binding Update has the M flag set and the A flag clear; \
                             a MAP registration must set both",
                        );
                    }
                }
                let at = HEADER_LEN + need;
                let options = mobility_options::parse_options(&body[need..], at, &mut diag.at(at));
                (message, options)
            }
            Some(need) => {
                diag.report(
                    field::HEADER_LEN,
                    rules::MH_MESSAGE_LENGTH,
                    format!(
                        "{} needs {need} octets of message data, {} present \
                         (Header Len {wire_hl})",
                        mh_type_title(mh_type),
                        body.len()
                    ),
                );
                (unknown(), Vec::new())
            }
            None => (unknown(), Vec::new()),
        };
        let mut repr = MobilityRepr {
            payload_proto,
            header_len: None,
            reserved: view.reserved(),
            checksum,
            message,
            options,
        };
        if repr.computed_header_len() != wire_hl {
            repr.header_len = Some(wire_hl);
        }
        Some((repr, consumed))
    }
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use crate::mobility_options::strategy::{arb_ipv6, arb_options, arb_options_any};
    use proptest::prelude::*;

    pub fn arb_binding_update() -> impl Strategy<Value = BindingUpdateRepr> {
        (
            any::<u16>(),
            any::<[bool; 7]>(),
            0u16..=BU_RESERVED_MASK,
            any::<u16>(),
        )
            .prop_map(|(seq, f, reserved, lifetime)| BindingUpdateRepr {
                seq,
                a_flag: f[0],
                h_flag: f[1],
                l_flag: f[2],
                k_flag: f[3],
                m_flag: f[4],
                r_flag: f[5],
                p_flag: f[6],
                reserved,
                lifetime,
            })
    }

    pub fn arb_binding_ack() -> impl Strategy<Value = BindingAckRepr> {
        (
            any::<u8>(),
            any::<bool>(),
            0u8..=BA_RESERVED_MASK,
            any::<u16>(),
            any::<u16>(),
        )
            .prop_map(|(status, k_flag, reserved, seq, lifetime)| BindingAckRepr {
                status,
                k_flag,
                reserved,
                seq,
                lifetime,
            })
    }

    /// A message of a known MH Type.
    pub fn arb_known_message() -> impl Strategy<Value = MhMessage> {
        prop_oneof![
            any::<u16>().prop_map(|reserved| MhMessage::BindingRefreshRequest { reserved }),
            (any::<u16>(), any::<u64>())
                .prop_map(|(reserved, cookie)| MhMessage::HomeTestInit { reserved, cookie }),
            (any::<u16>(), any::<u64>())
                .prop_map(|(reserved, cookie)| MhMessage::CareofTestInit { reserved, cookie }),
            (any::<u16>(), any::<u64>(), any::<u64>()).prop_map(|(n, c, k)| {
                MhMessage::HomeTest {
                    nonce_index: n,
                    cookie: c,
                    keygen_token: k,
                }
            }),
            (any::<u16>(), any::<u64>(), any::<u64>()).prop_map(|(n, c, k)| {
                MhMessage::CareofTest {
                    nonce_index: n,
                    cookie: c,
                    keygen_token: k,
                }
            }),
            arb_binding_update().prop_map(MhMessage::BindingUpdate),
            arb_binding_ack().prop_map(MhMessage::BindingAck),
            (any::<u8>(), any::<u8>(), arb_ipv6()).prop_map(|(status, reserved, home_address)| {
                MhMessage::BindingError {
                    status,
                    reserved,
                    home_address,
                }
            }),
        ]
    }

    /// An `Unknown` message that parses back as itself: an unknown MH Type,
    /// or a known one too short for its message, with `6 + data.len()` a
    /// multiple of 8.
    pub fn arb_unknown_message() -> impl Strategy<Value = MhMessage> {
        (
            any::<u8>(),
            0usize..4,
            proptest::collection::vec(any::<u8>(), 26),
        )
            .prop_filter_map("known type long enough", |(mh_type, units, bytes)| {
                let len = 2 + 8 * units;
                if message_len(mh_type).is_some_and(|need| need <= len) {
                    return None;
                }
                Some(MhMessage::Unknown {
                    mh_type,
                    data: bytes[..len].to_vec(),
                })
            })
    }

    /// A well-formed Mobility Header (overrides `None`) that parses back as
    /// itself: made with [`MobilityRepr::new`], with any Payload Proto and
    /// Reserved.
    pub fn arb_mobility() -> impl Strategy<Value = MobilityRepr> {
        let known = (arb_known_message(), arb_options()).prop_map(|(m, o)| MobilityRepr::new(m, o));
        let unknown = arb_unknown_message().prop_map(|m| MobilityRepr::new(m, vec![]));
        (
            prop_oneof![4 => known, 1 => unknown],
            prop_oneof![3 => Just(proto::NO_NEXT_HEADER), 1 => any::<u8>()],
            prop_oneof![3 => Just(0u8), 1 => any::<u8>()],
        )
            .prop_map(|(mut r, payload_proto, reserved)| {
                r.payload_proto = payload_proto;
                r.reserved = reserved;
                r
            })
    }

    /// Any Mobility Header, with arbitrary Header Len and checksum
    /// overrides, unaligned options and option overrides.
    pub fn arb_mobility_any() -> impl Strategy<Value = MobilityRepr> {
        let message = prop_oneof![
            4 => arb_known_message(),
            // Arbitrary data behind a known MH Type would decode as that
            // message and options, which need not re-emit octet for octet
            // (an oversized option's excess octets are zero-filled).
            1 => (8u8..=255, proptest::collection::vec(any::<u8>(), 0..30))
                .prop_map(|(mh_type, data)| MhMessage::Unknown { mh_type, data }),
            1 => arb_unknown_message(),
        ];
        (
            message,
            arb_options_any(),
            any::<u8>(),
            proptest::option::of(0u8..12),
            any::<u8>(),
            proptest::option::of(any::<u16>()),
        )
            .prop_map(
                |(message, options, payload_proto, header_len, reserved, checksum)| MobilityRepr {
                    payload_proto,
                    header_len,
                    reserved,
                    checksum,
                    message,
                    options,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn addr(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// MN LCoA, its RCoA (the Home Address option of a local BU) and the MAP.
    const LCOA: &str = "2001:db8:2::100";
    const RCOA: &str = "2001:db8:1::200";
    const MAP: &str = "2001:db8:1::1";

    fn ph(src: &str, dst: &str) -> PseudoHeader {
        PseudoHeader {
            src: addr(src),
            dst: addr(dst),
            next_header: proto::MOBILITY,
        }
    }

    fn parse_with(
        data: &[u8],
        pseudo: Option<&PseudoHeader>,
    ) -> (Option<(MobilityRepr, usize)>, Vec<Finding>) {
        let mut out = Vec::new();
        let r = MobilityRepr::parse(data, pseudo, &mut Diag::new(&mut out));
        (r, out)
    }

    fn rules_of(f: &[Finding]) -> Vec<(&'static str, usize)> {
        f.iter().map(|f| (f.rule, f.offset)).collect()
    }

    /// One's complement sum of 16-bit words, written out independently of
    /// `crate::checksum`.
    fn ones_complement(words: &[u16]) -> u16 {
        let mut s: u64 = words.iter().map(|&w| u64::from(w)).sum();
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }

    #[test]
    fn known_answer_local_binding_update() {
        // RFC 4140 4.1: a local BU to the MAP has A and M set (H clear).
        // Sent from the LCoA with a Home Address option carrying the RCoA,
        // so the pseudo-header source is the RCoA and destination the MAP.
        let bu = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 100)),
            vec![],
        );
        let pseudo = ph(RCOA, MAP);
        // Words: pseudo src 2001 0db8 0001 0 0 0 0 0200 (sum 2fba),
        // dst 2001 0db8 0001 0 0 0 0 0001 (2dbb), length 0010, next header
        // 0087: 5e0c. MH 3b01 0500 [0000] 0001 8800 0064 0102 0000: c968.
        // 5e0c + c968 = 1_2774 -> 2775; checksum = !2775 = d88a.
        // Cross-checked: Scapy 2.8 builds `IPv6(src=LCoA, dst=MAP) /
        // IPv6ExtHdrDestOpt(options=[HAO(hoa=RCoA)]) / MIP6MH_BU(seq=1,
        // flags="AM", mhtime=100)` with exactly these 16 octets, and tshark
        // decodes them as a BU with A and M set, Lifetime 100 (400 s).
        assert_eq!(
            ones_complement(&[
                0x2001, 0x0db8, 0x0001, 0, 0, 0, 0, 0x0200, 0x2001, 0x0db8, 0x0001, 0, 0, 0, 0,
                0x0001, 0x0010, 0x0087, 0x3b01, 0x0500, 0, 0x0001, 0x8800, 0x0064, 0x0102, 0,
            ]),
            0xd88a
        );
        let expected = [
            0x3b, 0x01, 0x05, 0x00, 0xd8, 0x8a, // 59, Header Len 1, BU, reserved, checksum
            0x00, 0x01, // Sequence # 1
            0x88, 0x00, // A | M
            0x00, 0x64, // Lifetime 100 (400 s)
            0x01, 0x02, 0x00, 0x00, // PadN, 2 octets of padding
        ];
        assert_eq!(bu.buffer_len(), 16);
        let mut buf = [0xeeu8; 16];
        bu.emit(&mut buf, &pseudo);
        assert_eq!(buf, expected);
        // The next header in the pseudo-header passed in does not matter.
        let mut other = pseudo;
        other.next_header = 58;
        assert_eq!(bu.to_bytes(&other), expected);
        // The source address matters: the HAO source, not the LCoA.
        assert_ne!(bu.to_bytes(&ph(LCOA, MAP)), expected);

        let (r, f) = parse_with(&expected, Some(&pseudo));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r, Some((bu.clone(), 16)));

        let v = MobilityHeader::new_checked(&expected[..]).unwrap();
        assert!(v.verify_checksum(&pseudo));
        assert_eq!(v.bu_seq(), 1);
        assert_eq!(v.bu_flags(), BU_FLAG_A | BU_FLAG_M);
        assert_eq!(v.bu_lifetime(), 100);
        assert_eq!(v.options_area(), &[1, 2, 0, 0]);

        // The JSON form a test case would write.
        let j = serde_json::to_value(&bu).unwrap();
        assert_eq!(
            j,
            serde_json::json!({
                "message": {"binding_update": {
                    "seq": 1, "a_flag": true, "h_flag": false, "l_flag": false,
                    "k_flag": false, "m_flag": true, "r_flag": false, "p_flag": false,
                    "lifetime": 100
                }},
                "options": [{"pad_n": {"len": 2}}]
            })
        );
        let short: MobilityRepr = serde_json::from_value(serde_json::json!({
            "message": {"binding_update": {"seq": 1, "a_flag": true, "m_flag": true, "lifetime": 100}},
            "options": [{"pad_n": {"len": 2}}]
        }))
        .unwrap();
        assert_eq!(short, bu);
    }

    #[test]
    fn known_answer_binding_ack_134() {
        // MAP -> MN: from the MAP, type 2 routing header carrying the RCoA,
        // so the pseudo-header destination is the RCoA.
        let ba = MobilityRepr::new(
            MhMessage::BindingAck(BindingAckRepr {
                status: 134,
                k_flag: false,
                reserved: 0,
                seq: 1,
                lifetime: 0,
            }),
            vec![],
        );
        let pseudo = ph(MAP, RCOA);
        // 5e0c (as above) + MH 3b01 0600 [0] 8600 0001 0000 0102 0000 (c804)
        // = 1_2610 -> 2611; checksum = !2611 = d9ee.
        assert_eq!(
            ones_complement(&[
                0x2001, 0x0db8, 0x0001, 0, 0, 0, 0, 0x0001, 0x2001, 0x0db8, 0x0001, 0, 0, 0, 0,
                0x0200, 0x0010, 0x0087, 0x3b01, 0x0600, 0, 0x8600, 0x0001, 0, 0x0102, 0,
            ]),
            0xd9ee
        );
        let expected = [
            0x3b, 0x01, 0x06, 0x00, 0xd9, 0xee, 0x86, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02,
            0x00, 0x00,
        ];
        assert_eq!(ba.to_bytes(&pseudo), expected);
        let (r, f) = parse_with(&expected, Some(&pseudo));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r, Some((ba, 16)));
        assert_eq!(
            ba_status_name(134),
            Some("duplicate_address_detection_failed")
        );
        let v = MobilityHeader::new_checked(&expected[..]).unwrap();
        assert_eq!(v.ba_status(), 134);
        assert_eq!(v.ba_seq(), 1);
    }

    #[test]
    fn known_answer_binding_error() {
        let be = MobilityRepr::new(
            MhMessage::BindingError {
                status: 1,
                reserved: 0,
                home_address: addr(RCOA),
            },
            vec![],
        );
        assert!(be.options.is_empty(), "24 octets need no padding");
        let pseudo = ph(MAP, LCOA);
        // src 2dbb + dst 2001 0db8 0002 .. 0100 (2ebb) + length 0018 + 0087
        // = 5d15; MH 3b02 0700 [0] 0100 + home address (2fba) = 72bc;
        // 5d15 + 72bc = cfd1; checksum = !cfd1 = 302e.
        assert_eq!(
            ones_complement(&[
                0x2001, 0x0db8, 0x0001, 0, 0, 0, 0, 0x0001, 0x2001, 0x0db8, 0x0002, 0, 0, 0, 0,
                0x0100, 0x0018, 0x0087, 0x3b02, 0x0700, 0, 0x0100, 0x2001, 0x0db8, 0x0001, 0, 0, 0,
                0, 0x0200,
            ]),
            0x302e
        );
        let mut expected = vec![0x3b, 0x02, 0x07, 0x00, 0x30, 0x2e, 0x01, 0x00];
        expected.extend(addr(RCOA).octets());
        assert_eq!(be.to_bytes(&pseudo), expected);
        let (r, f) = parse_with(&expected, Some(&pseudo));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(r, Some((be, 24)));
        assert_eq!(
            be_status_name(1),
            Some("unknown_binding_for_home_address_destination_option")
        );
        assert_eq!(be_status_name(2), Some("unrecognized_mh_type"));
        assert_eq!(be_status_name(3), None);
    }

    #[test]
    fn header_lengths_of_each_message() {
        let pseudo = ph(MAP, LCOA);
        let cases = [
            (MhMessage::BindingRefreshRequest { reserved: 0 }, 8),
            (
                MhMessage::HomeTestInit {
                    reserved: 0,
                    cookie: 1,
                },
                16,
            ),
            (
                MhMessage::CareofTestInit {
                    reserved: 0,
                    cookie: 1,
                },
                16,
            ),
            (
                MhMessage::HomeTest {
                    nonce_index: 1,
                    cookie: 2,
                    keygen_token: 3,
                },
                24,
            ),
            (
                MhMessage::CareofTest {
                    nonce_index: 1,
                    cookie: 2,
                    keygen_token: 3,
                },
                24,
            ),
        ];
        for (m, len) in cases {
            let r = MobilityRepr::new(m, vec![]);
            assert_eq!(r.buffer_len(), len, "{r:?}");
            let bytes = r.to_bytes(&pseudo);
            let (p, f) = parse_with(&bytes, Some(&pseudo));
            assert!(f.is_empty(), "{f:?}");
            assert_eq!(p, Some((r, len)));
        }
        // HoTI cookie and HoT fields at their offsets.
        let hot = MobilityRepr::new(
            MhMessage::HomeTest {
                nonce_index: 0x0102,
                cookie: 0x1112_1314_1516_1718,
                keygen_token: 0x2122_2324_2526_2728,
            },
            vec![],
        )
        .to_bytes(&pseudo);
        assert_eq!(hot[2], HOME_TEST);
        assert_eq!(&hot[6..8], &[1, 2]);
        assert_eq!(
            &hot[8..16],
            &[0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18]
        );
        assert_eq!(
            &hot[16..24],
            &[0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28]
        );
    }

    #[test]
    fn names() {
        for t in 0..=7u8 {
            let r = MobilityRepr::new(
                MhMessage::Unknown {
                    mh_type: t,
                    data: vec![],
                },
                vec![],
            );
            // The serde tag of each decoded message equals mh_type_name.
            let mut bytes = r.to_bytes(&ph(MAP, LCOA));
            bytes.resize(32, 0);
            bytes[1] = 3;
            let (p, _) = parse_with(&bytes, None);
            let m = p.unwrap().0.message;
            assert_eq!(m.mh_type(), t);
            let j = serde_json::to_value(&m).unwrap();
            assert!(j.get(mh_type_name(t)).is_some(), "{j}");
        }
        assert_eq!(mh_type_name(8), "unknown");
        for s in [
            0u8, 1, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139,
        ] {
            assert!(ba_status_name(s).is_some(), "{s}");
        }
        assert_eq!(ba_status_name(2), None);
        assert_eq!(ba_status_name(140), None);
        assert_eq!(ba_status_name(135), Some("sequence_number_out_of_window"));
    }

    #[test]
    fn finding_payload_proto() {
        let mut r = MobilityRepr::new(MhMessage::BindingRefreshRequest { reserved: 0 }, vec![]);
        r.payload_proto = 6;
        let pseudo = ph(MAP, LCOA);
        let (p, f) = parse_with(&r.to_bytes(&pseudo), Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_PAYLOAD_PROTO, 0)]);
        assert!(f[0].message.contains("is 6, expected 59"), "{}", f[0]);
        assert_eq!(p.unwrap().0, r);
    }

    #[test]
    fn finding_checksum() {
        let mut r = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(7, 10)),
            vec![],
        );
        let pseudo = ph(RCOA, MAP);
        let good = r.to_bytes(&pseudo);
        let right = u16::from_be_bytes([good[4], good[5]]);
        r.checksum = Some(0x1234);
        let bytes = r.to_bytes(&pseudo);
        assert_eq!(&bytes[4..6], &[0x12, 0x34]);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_CHECKSUM, 4)]);
        assert!(
            f[0].message
                .contains(&format!("is 0x1234, expected {right:#06x}")),
            "{}",
            f[0]
        );
        assert_eq!(p.unwrap().0, r);
        // Without a pseudo-header the checksum is kept, unchecked.
        let (p, f) = parse_with(&good, None);
        assert!(f.is_empty());
        assert_eq!(p.unwrap().0.checksum, Some(right));
        // With a diag based elsewhere, the offset is absolute.
        let mut out = Vec::new();
        let mut d = Diag::new(&mut out);
        MobilityRepr::parse(&bytes, Some(&pseudo), &mut d.at(64));
        assert_eq!(out[0].offset, 68);
    }

    #[test]
    fn checksum_other_zero_verifies_without_finding() {
        // Find a BRR whose computed checksum is 0x0000, then send 0xffff.
        let pseudo = ph(MAP, LCOA);
        let r = (0..=u16::MAX)
            .map(|reserved| {
                MobilityRepr::new(MhMessage::BindingRefreshRequest { reserved }, vec![])
            })
            .find(|r| r.to_bytes(&pseudo)[4..6] == [0, 0])
            .unwrap();
        let mut bytes = r.to_bytes(&pseudo);
        bytes[4..6].copy_from_slice(&[0xff, 0xff]);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert!(f.is_empty(), "{f:?}");
        let p = p.unwrap().0;
        assert_eq!(p.checksum, Some(0xffff));
        assert_eq!(p.to_bytes(&pseudo), bytes);
    }

    #[test]
    fn finding_length_short_packet() {
        // Header Len 1 (16 octets) but only 12 present: decode what is there.
        let pseudo = ph(RCOA, MAP);
        let bu = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 100)),
            vec![],
        );
        let bytes = bu.to_bytes(&pseudo);
        let (p, f) = parse_with(&bytes[..12], Some(&pseudo));
        assert_eq!(
            rules_of(&f),
            vec![(rules::MH_LENGTH, 1), (rules::MH_CHECKSUM, 4)]
        );
        assert!(
            f[0].message
                .contains("states 16 octets, only 12 are present"),
            "{}",
            f[0]
        );
        let (p, used) = p.unwrap();
        assert_eq!(used, 12);
        assert_eq!(p.message, bu.message);
        assert!(p.options.is_empty());
        // The content (12 octets) rounds up to the stated Header Len.
        assert_eq!(p.header_len, None);

        // Only 10 of 16: the BU message itself is cut.
        let (p, f) = parse_with(&bytes[..10], None);
        assert_eq!(
            rules_of(&f),
            vec![(rules::MH_LENGTH, 1), (rules::MH_MESSAGE_LENGTH, 1)]
        );
        let (p, used) = p.unwrap();
        assert_eq!(used, 10);
        assert_eq!(
            p.message,
            MhMessage::Unknown {
                mh_type: BINDING_UPDATE,
                data: bytes[6..10].to_vec()
            }
        );
        assert_eq!(p.header_len, None);
    }

    #[test]
    fn finding_length_long_packet() {
        // 20 octets follow a header that states 16: consume 16.
        let pseudo = ph(RCOA, MAP);
        let bu = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 100)),
            vec![],
        );
        let mut bytes = bu.to_bytes(&pseudo);
        bytes.extend([0xaa; 4]);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_LENGTH, 1)]);
        assert_eq!(p, Some((bu, 16)));
    }

    #[test]
    fn header_len_override() {
        let pseudo = ph(RCOA, MAP);
        // Header Len 0 on a BU: 8 octets, the message cut after Sequence #.
        let mut bu = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 100)),
            vec![],
        );
        bu.header_len = Some(0);
        let bytes = bu.to_bytes(&pseudo);
        assert_eq!(bytes.len(), 8);
        assert_eq!(&bytes[6..8], &[0, 1]);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_MESSAGE_LENGTH, 1)]);
        assert!(
            f[0].message
                .contains("Binding Update needs 6 octets of message data, 2 present"),
            "{}",
            f[0]
        );
        let p = p.unwrap().0;
        assert_eq!(
            p.message,
            MhMessage::Unknown {
                mh_type: BINDING_UPDATE,
                data: vec![0, 1]
            }
        );
        assert_eq!(p.header_len, None);
        assert_eq!(p.to_bytes(&pseudo), bytes);

        // Header Len 3 on the same BU: zero-filled to 32 octets, the zeros
        // parse as Pad1 options and Header Len is canonical again.
        bu.header_len = Some(3);
        let bytes = bu.to_bytes(&pseudo);
        assert_eq!(bytes.len(), 32);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert!(f.is_empty(), "{f:?}");
        let p = p.unwrap().0;
        assert_eq!(p.options.len(), 1 + 16);
        assert_eq!(p.to_bytes(&pseudo), bytes);

        // An Unknown message with data not filling the stated length:
        // parse keeps the wire Header Len as an override only when the
        // content would compute another.
        let r = MobilityRepr {
            payload_proto: 59,
            header_len: Some(2),
            reserved: 0,
            checksum: None,
            message: MhMessage::Unknown {
                mh_type: 200,
                data: vec![1, 2],
            },
            options: vec![],
        };
        let bytes = r.to_bytes(&pseudo);
        assert_eq!(bytes.len(), 24);
        let (p, _) = parse_with(&bytes, Some(&pseudo));
        let p = p.unwrap().0;
        assert_eq!(p.header_len, None);
        assert_eq!(p.message.message_len(), 18);
        assert_eq!(p.to_bytes(&pseudo), bytes);
    }

    #[test]
    fn finding_m_without_a() {
        let pseudo = ph(RCOA, MAP);
        let mut bu = BindingUpdateRepr::local(3, 10);
        bu.a_flag = false;
        let r = MobilityRepr::new(MhMessage::BindingUpdate(bu), vec![]);
        let (p, f) = parse_with(&r.to_bytes(&pseudo), Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::BU_M_WITHOUT_A, 8)]);
        assert_eq!(p.unwrap().0, r);
    }

    #[test]
    fn option_findings_are_at_mh_offsets() {
        let pseudo = ph(RCOA, MAP);
        // A BU with an Alternate CoA placed right after the message (MH
        // offset 12 = 8n+4, needs 8n+6), then PadN to 32 octets.
        let coa = MobilityOption::AlternateCareofAddress {
            length: None,
            address: addr(LCOA),
        };
        let r = MobilityRepr {
            options: vec![coa, MobilityOption::PadN { data: vec![] }],
            ..MobilityRepr::new(
                MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 1)),
                vec![],
            )
        };
        let bytes = r.to_bytes(&pseudo);
        assert_eq!(bytes.len(), 32);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_ALIGNMENT, 12)]);
        assert_eq!(p.unwrap().0, r);

        // An option that runs past the end of the header: Raw, and the
        // Length octet's offset is absolute.
        let r = MobilityRepr {
            options: vec![MobilityOption::Raw {
                data: vec![3, 16, 0, 0],
            }],
            ..MobilityRepr::new(
                MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 1)),
                vec![],
            )
        };
        let bytes = r.to_bytes(&pseudo);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_LENGTH, 13)]);
        assert_eq!(p.unwrap().0, r);

        // A fixed-size option with the wrong Length.
        let r = MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr::local(1, 1)),
            vec![MobilityOption::BindingRefreshAdvice {
                length: Some(4),
                refresh_interval: 9,
            }],
        );
        let bytes = r.to_bytes(&pseudo);
        let (p, f) = parse_with(&bytes, Some(&pseudo));
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_SIZE, 13)]);
        assert_eq!(p.unwrap().0, r);
    }

    #[test]
    fn finding_truncated() {
        for n in 0..6 {
            let (p, f) = parse_with(&[59, 0, 5, 0, 0, 0][..n], None);
            assert_eq!(p, None);
            assert_eq!(rules_of(&f), vec![(rules::TRUNCATED, 0)]);
        }
        assert_eq!(
            MobilityHeader::new_checked(&[59u8, 1, 5, 0, 0, 0, 0, 0][..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            MobilityHeader::new_checked(&[59u8, 0, 5][..]).err(),
            Some(Error::Truncated)
        );
    }

    #[test]
    fn view_setters_build_a_ba() {
        let pseudo = ph(MAP, RCOA);
        let mut buf = [0u8; 16];
        let mut v = MobilityHeader::new_unchecked(&mut buf[..]);
        v.set_payload_proto(59);
        v.set_header_len(1);
        v.set_mh_type(BINDING_ACK);
        v.set_ba_status(134);
        v.set_ba_flags(0);
        v.set_ba_seq(1);
        v.set_ba_lifetime(0);
        v.into_inner()[12..16].copy_from_slice(&[1, 2, 0, 0]);
        let mut v = MobilityHeader::new_checked(&mut buf[..]).unwrap();
        v.fill_checksum(&pseudo);
        assert!(v.verify_checksum(&pseudo));
        assert_eq!(v.checksum(), 0xd9ee);
        // Setters never panic on a short buffer.
        let mut short = [0u8; 7];
        let mut v = MobilityHeader::new_unchecked(&mut short[..]);
        v.set_be_home_address(addr(RCOA));
        v.set_keygen_token(1);
        assert_eq!(short[6], 0);
        assert_eq!(
            MobilityHeader::new_unchecked(&short[..]).be_home_address(),
            Ipv6Addr::UNSPECIFIED
        );
    }

    #[test]
    fn emit_never_panics_on_nonsense() {
        let pseudo = ph(MAP, LCOA);
        let big = MobilityRepr {
            payload_proto: 59,
            header_len: None,
            reserved: 0,
            checksum: None,
            message: MhMessage::Unknown {
                mh_type: 99,
                data: vec![1; 5000],
            },
            options: vec![],
        };
        assert_eq!(big.buffer_len(), 2048);
        assert_eq!(big.to_bytes(&pseudo).len(), 2048);
        let mut small = [0u8; 4];
        big.emit(&mut small, &pseudo);
        assert_eq!(small, [59, 255, 99, 0]);
        let bu = MhMessage::BindingUpdate(BindingUpdateRepr {
            reserved: 0xffff,
            ..Default::default()
        });
        let bytes = MobilityRepr::new(bu, vec![]).to_bytes(&pseudo);
        assert_eq!(&bytes[8..10], &[0x01, 0xff]);
    }

    proptest! {
        #[test]
        fn prop_roundtrip(r in arb_mobility(), src in arb_ipv6_s(), dst in arb_ipv6_s()) {
            let pseudo = PseudoHeader { src, dst, next_header: proto::MOBILITY };
            let bytes = r.to_bytes(&pseudo);
            prop_assert_eq!(bytes.len(), r.buffer_len());
            prop_assert_eq!(bytes.len() % 8, 0);
            let mut out = Vec::new();
            let parsed = MobilityRepr::parse(&bytes, Some(&pseudo), &mut Diag::new(&mut out));
            prop_assert_eq!(parsed, Some((r.clone(), bytes.len())));
            prop_assert!(out.iter().all(|f| [
                rules::MH_PAYLOAD_PROTO,
                rules::MH_MESSAGE_LENGTH,
                rules::BU_M_WITHOUT_A
            ]
            .contains(&f.rule)), "{:?}", out);
            if r.payload_proto == 59 && !matches!(r.message, MhMessage::Unknown { .. }) {
                let bu_m_without_a = matches!(&r.message,
                    MhMessage::BindingUpdate(b) if b.m_flag && !b.a_flag);
                prop_assert_eq!(out.is_empty(), !bu_m_without_a, "{:?}", out);
            }
            let v = MobilityHeader::new_checked(&bytes[..]).unwrap();
            prop_assert!(v.verify_checksum(&pseudo));
        }

        #[test]
        fn prop_reemit(r in arb_mobility_any(), src in arb_ipv6_s(), dst in arb_ipv6_s()) {
            let pseudo = PseudoHeader { src, dst, next_header: proto::MOBILITY };
            let bytes = r.to_bytes(&pseudo);
            prop_assert_eq!(bytes.len(), r.buffer_len());
            let mut out = Vec::new();
            let (p, used) =
                MobilityRepr::parse(&bytes, Some(&pseudo), &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(used, bytes.len());
            prop_assert_eq!(p.to_bytes(&pseudo), bytes.clone());
            // Without a pseudo-header too.
            let mut out = Vec::new();
            let (p, _) = MobilityRepr::parse(&bytes, None, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(p.to_bytes(&pseudo), bytes);
        }

        #[test]
        fn prop_serde_roundtrip(r in arb_mobility_any()) {
            let j = serde_json::to_string(&r).unwrap();
            prop_assert_eq!(serde_json::from_str::<MobilityRepr>(&j).unwrap(), r);
        }

        #[test]
        fn prop_parse_arbitrary_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..120),
            with_pseudo in any::<bool>(),
        ) {
            let pseudo = ph(MAP, LCOA);
            let mut out = Vec::new();
            let r = MobilityRepr::parse(
                &data,
                with_pseudo.then_some(&pseudo),
                &mut Diag::new(&mut out),
            );
            if let Some((r, used)) = r {
                prop_assert!(used <= data.len());
                let _ = r.to_bytes(&pseudo);
            }
            let _ = MobilityHeader::new_checked(&data[..]);
            let v = MobilityHeader::new_unchecked(&data[..]);
            let _ = (v.be_home_address(), v.keygen_token(), v.options_area(), v.ba_lifetime());
        }

        #[test]
        fn prop_parse_plausible_headers(
            mh_type in 0u8..10,
            header_len in 0u8..6,
            rest in proptest::collection::vec(any::<u8>(), 0..60),
        ) {
            // Arbitrary bodies behind a plausible fixed part reach the
            // message and option decoders.
            let mut data = vec![59, header_len, mh_type, 0, 0, 0];
            data.extend(rest);
            let mut out = Vec::new();
            let (r, used) = MobilityRepr::parse(&data, None, &mut Diag::new(&mut out)).unwrap();
            prop_assert_eq!(used, data.len().min((usize::from(header_len) + 1) * 8));
            let pseudo = ph(MAP, LCOA);
            let _ = r.to_bytes(&pseudo);
        }
    }

    fn arb_ipv6_s() -> impl Strategy<Value = Ipv6Addr> {
        crate::mobility_options::strategy::arb_ipv6()
    }
}
