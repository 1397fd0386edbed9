//! Mobility options (RFC 6275 6.2): the TLVs that follow the message data of
//! a Mobility Header.
//!
//! Every option but Pad1 is Type (8), Length (8, octets of data, not counting
//! Type and Length), then data. Pad1 is the single octet 0.
//!
//! | type | option | Length | alignment |
//! |---|---|---|---|
//! | 0 | Pad1 | - | - |
//! | 1 | PadN | n | - |
//! | 2 | Binding Refresh Advice | 2 | 2n |
//! | 3 | Alternate Care-of Address | 16 | 8n+6 |
//! | 4 | Nonce Indices | 4 | 2n |
//! | 5 | Binding Authorization Data | variable | 8n+2 |
//!
//! [`MobilityOption`] is the value form (a "repr"); [`MobilityOptionView`] is
//! a checked zero-copy view over one option's octets. Alignment is relative
//! to the start of the Mobility Header, so [`parse_options`] and [`aligned`]
//! take the offset of the options area inside the header.

use std::net::Ipv6Addr;

use crate::finding::Diag;
use crate::rules;
use crate::{Error, Result};

/// Option type of Pad1.
pub const PAD1: u8 = 0;
/// Option type of PadN.
pub const PADN: u8 = 1;
/// Option type of Binding Refresh Advice.
pub const BINDING_REFRESH_ADVICE: u8 = 2;
/// Option type of Alternate Care-of Address.
pub const ALTERNATE_COA: u8 = 3;
/// Option type of Nonce Indices.
pub const NONCE_INDICES: u8 = 4;
/// Option type of Binding Authorization Data.
pub const BINDING_AUTHORIZATION_DATA: u8 = 5;

/// RFC Length (octets of data) of the Binding Refresh Advice option.
pub const BINDING_REFRESH_ADVICE_LEN: u8 = 2;
/// RFC Length (octets of data) of the Alternate Care-of Address option.
pub const ALTERNATE_COA_LEN: u8 = 16;
/// RFC Length (octets of data) of the Nonce Indices option.
pub const NONCE_INDICES_LEN: u8 = 4;

/// A human name for a mobility option type, for findings and dumps.
pub fn option_type_name(option_type: u8) -> &'static str {
    match option_type {
        PAD1 => "Pad1",
        PADN => "PadN",
        BINDING_REFRESH_ADVICE => "Binding Refresh Advice",
        ALTERNATE_COA => "Alternate Care-of Address",
        NONCE_INDICES => "Nonce Indices",
        BINDING_AUTHORIZATION_DATA => "Binding Authorization Data",
        _ => "unknown",
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

/// Saturating conversion of a length to an 8-bit length field.
fn sat_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

mod field {
    /// Option Type.
    pub const TYPE: usize = 0;
    /// Option Length (octets of data).
    pub const LENGTH: usize = 1;
    /// First octet of the option data.
    pub const DATA: usize = 2;

    // Offsets inside the option data.
    /// Binding Refresh Advice: Refresh Interval (16, units of 4 s).
    pub const REFRESH_INTERVAL: usize = 0;
    /// Alternate Care-of Address: the address (128).
    pub const ALTERNATE_COA: usize = 0;
    /// Nonce Indices: Home Nonce Index (16).
    pub const HOME_NONCE_INDEX: usize = 0;
    /// Nonce Indices: Care-of Nonce Index (16).
    pub const CAREOF_NONCE_INDEX: usize = 2;
}

/// A checked zero-copy view over one mobility option.
///
/// `new_checked` guarantees the buffer holds the whole option (one octet for
/// Pad1, `2 + Length` otherwise). The typed getters read from the option
/// data and zero-fill the octets a short (malformed) option lacks, so they
/// never panic; the typed setters write what fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MobilityOptionView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> MobilityOptionView<T> {
    /// Wrap a buffer without checking its length.
    pub fn new_unchecked(buffer: T) -> Self {
        MobilityOptionView { buffer }
    }

    /// Wrap a buffer, checking it holds the whole option.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let v = Self::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    /// `Error::Truncated` when the buffer is shorter than the option.
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        match b.first() {
            None => Err(Error::Truncated),
            Some(&PAD1) => Ok(()),
            Some(_) if b.len() < field::DATA => Err(Error::Truncated),
            Some(_) if b.len() < field::DATA + usize::from(b[field::LENGTH]) => {
                Err(Error::Truncated)
            }
            Some(_) => Ok(()),
        }
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Option Type (0 on an empty buffer).
    pub fn option_type(&self) -> u8 {
        self.buffer.as_ref().first().copied().unwrap_or(0)
    }

    /// Option Length: octets of data (0 for Pad1, which has no Length field).
    pub fn length(&self) -> u8 {
        if self.option_type() == PAD1 {
            return 0;
        }
        self.buffer
            .as_ref()
            .get(field::LENGTH)
            .copied()
            .unwrap_or(0)
    }

    /// Octets the whole option occupies: 1 for Pad1, else `2 + Length`.
    pub fn total_len(&self) -> usize {
        if self.option_type() == PAD1 {
            1
        } else {
            field::DATA + usize::from(self.length())
        }
    }

    /// The option data (empty for Pad1), clamped to the buffer.
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        if self.option_type() == PAD1 {
            return &[];
        }
        let start = field::DATA.min(b.len());
        let end = self.total_len().min(b.len());
        &b[start..end]
    }

    /// Binding Refresh Advice: Refresh Interval (units of 4 s).
    pub fn refresh_interval(&self) -> u16 {
        u16::from_be_bytes(read_array(self.data(), field::REFRESH_INTERVAL))
    }

    /// Alternate Care-of Address: the address.
    pub fn alternate_coa(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.data(), field::ALTERNATE_COA))
    }

    /// Nonce Indices: Home Nonce Index.
    pub fn home_nonce_index(&self) -> u16 {
        u16::from_be_bytes(read_array(self.data(), field::HOME_NONCE_INDEX))
    }

    /// Nonce Indices: Care-of Nonce Index.
    pub fn careof_nonce_index(&self) -> u16 {
        u16::from_be_bytes(read_array(self.data(), field::CAREOF_NONCE_INDEX))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MobilityOptionView<T> {
    /// Set Option Type.
    pub fn set_option_type(&mut self, v: u8) {
        write_bytes(self.buffer.as_mut(), field::TYPE, &[v]);
    }

    /// Set Option Length.
    pub fn set_length(&mut self, v: u8) {
        write_bytes(self.buffer.as_mut(), field::LENGTH, &[v]);
    }

    /// The option data, mutable (clamped to the buffer).
    pub fn data_mut(&mut self) -> &mut [u8] {
        let is_pad1 = self.option_type() == PAD1;
        let total = self.total_len();
        let b = self.buffer.as_mut();
        if is_pad1 {
            return &mut [];
        }
        let start = field::DATA.min(b.len());
        let end = total.min(b.len());
        &mut b[start..end]
    }

    /// Binding Refresh Advice: set Refresh Interval.
    pub fn set_refresh_interval(&mut self, v: u16) {
        write_bytes(self.data_mut(), field::REFRESH_INTERVAL, &v.to_be_bytes());
    }

    /// Alternate Care-of Address: set the address.
    pub fn set_alternate_coa(&mut self, v: Ipv6Addr) {
        write_bytes(self.data_mut(), field::ALTERNATE_COA, &v.octets());
    }

    /// Nonce Indices: set Home Nonce Index.
    pub fn set_home_nonce_index(&mut self, v: u16) {
        write_bytes(self.data_mut(), field::HOME_NONCE_INDEX, &v.to_be_bytes());
    }

    /// Nonce Indices: set Care-of Nonce Index.
    pub fn set_careof_nonce_index(&mut self, v: u16) {
        write_bytes(self.data_mut(), field::CAREOF_NONCE_INDEX, &v.to_be_bytes());
    }
}

/// One mobility option, or the raw rest of an options area.
///
/// `length` fields are overrides of the Length field of fixed-size options:
/// `None` writes the RFC value; `Some(l)` makes the option occupy exactly
/// `2 + l` octets (its fields truncated or zero-filled to fit). Parsing
/// returns `None` when the Length is the RFC value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MobilityOption {
    /// Pad1: the single octet 0.
    Pad1,
    /// PadN: type 1, Length = `data.len()`. The data is zeros normally;
    /// non-zero padding is kept and re-emitted. Serialised as
    /// `{"pad_n": {"len": n}}` when all zeros, else `{"pad_n": {"data": "<hex>"}}`.
    #[serde(
        serialize_with = "crate::hex::pad_n::serialize",
        deserialize_with = "crate::hex::pad_n::deserialize"
    )]
    PadN { data: Vec<u8> },
    /// Binding Refresh Advice (type 2, RFC 6275 6.2.4).
    BindingRefreshAdvice {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u8>,
        /// Refresh Interval, in units of 4 seconds.
        refresh_interval: u16,
    },
    /// Alternate Care-of Address (type 3, RFC 6275 6.2.5).
    AlternateCareofAddress {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u8>,
        address: Ipv6Addr,
    },
    /// Nonce Indices (type 4, RFC 6275 6.2.6).
    NonceIndices {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        length: Option<u8>,
        home_nonce_index: u16,
        careof_nonce_index: u16,
    },
    /// Binding Authorization Data (type 5, RFC 6275 6.2.7); Length =
    /// `authenticator.len()`.
    BindingAuthorizationData {
        #[serde(with = "crate::hex")]
        authenticator: Vec<u8>,
    },
    /// An option of a type this codec does not decode; Length = `data.len()`.
    Unknown {
        option_type: u8,
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
    /// The rest of an options area after an option that runs past its end,
    /// copied verbatim on emit.
    Raw {
        #[serde(with = "crate::hex")]
        data: Vec<u8>,
    },
}

/// Append a TLV whose Length is `length` (default `body.len()`), truncating
/// or zero-filling `body` to it.
fn push_tlv(out: &mut Vec<u8>, option_type: u8, length: Option<u8>, body: &[u8]) {
    let l = length.unwrap_or_else(|| sat_u8(body.len()));
    out.push(option_type);
    out.push(l);
    let start = out.len();
    let l = usize::from(l);
    out.extend_from_slice(&body[..l.min(body.len())]);
    out.resize(start + l, 0);
}

/// `data` truncated to what an 8-bit Length can state.
fn clamp_data(data: &[u8]) -> &[u8] {
    &data[..data.len().min(usize::from(u8::MAX))]
}

impl MobilityOption {
    /// The padding option(s) that fill exactly `n` octets: nothing for 0,
    /// Pad1 for 1, PadN for 2 to 257, several PadN beyond.
    pub fn padding(n: usize) -> Vec<MobilityOption> {
        let mut out = Vec::new();
        let mut n = n;
        while n > 0 {
            if n == 1 {
                out.push(MobilityOption::Pad1);
                break;
            }
            // Leave a remainder of 0 or at least 2 so it needs no Pad1 pair.
            let mut take = n.min(2 + usize::from(u8::MAX));
            if n - take == 1 {
                take -= 1;
            }
            out.push(MobilityOption::PadN {
                data: vec![0; take - 2],
            });
            n -= take;
        }
        out
    }

    /// The Option Type, or `None` for [`MobilityOption::Raw`].
    pub fn option_type(&self) -> Option<u8> {
        match self {
            MobilityOption::Pad1 => Some(PAD1),
            MobilityOption::PadN { .. } => Some(PADN),
            MobilityOption::BindingRefreshAdvice { .. } => Some(BINDING_REFRESH_ADVICE),
            MobilityOption::AlternateCareofAddress { .. } => Some(ALTERNATE_COA),
            MobilityOption::NonceIndices { .. } => Some(NONCE_INDICES),
            MobilityOption::BindingAuthorizationData { .. } => Some(BINDING_AUTHORIZATION_DATA),
            MobilityOption::Unknown { option_type, .. } => Some(*option_type),
            MobilityOption::Raw { .. } => None,
        }
    }

    /// The alignment requirement `(n, k)`, meaning the option's Type octet
    /// must sit at offset `x*n + k` from the start of the Mobility Header
    /// (RFC 6275 6.2), or `None` when it has none.
    pub fn alignment(&self) -> Option<(usize, usize)> {
        match self {
            MobilityOption::BindingRefreshAdvice { .. } => Some((2, 0)),
            MobilityOption::AlternateCareofAddress { .. } => Some((8, 6)),
            MobilityOption::NonceIndices { .. } => Some((2, 0)),
            MobilityOption::BindingAuthorizationData { .. } => Some((8, 2)),
            _ => None,
        }
    }

    /// Octets the option occupies on the wire.
    pub fn buffer_len(&self) -> usize {
        let fixed = |length: &Option<u8>, normal: u8| 2 + usize::from(length.unwrap_or(normal));
        match self {
            MobilityOption::Pad1 => 1,
            MobilityOption::PadN { data }
            | MobilityOption::BindingAuthorizationData {
                authenticator: data,
            }
            | MobilityOption::Unknown { data, .. } => 2 + clamp_data(data).len(),
            MobilityOption::BindingRefreshAdvice { length, .. } => {
                fixed(length, BINDING_REFRESH_ADVICE_LEN)
            }
            MobilityOption::AlternateCareofAddress { length, .. } => {
                fixed(length, ALTERNATE_COA_LEN)
            }
            MobilityOption::NonceIndices { length, .. } => fixed(length, NONCE_INDICES_LEN),
            MobilityOption::Raw { data } => data.len(),
        }
    }

    /// Append the option's octets to `out` (exactly `buffer_len()` of them).
    fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            MobilityOption::Pad1 => out.push(PAD1),
            MobilityOption::PadN { data } => push_tlv(out, PADN, None, clamp_data(data)),
            MobilityOption::BindingRefreshAdvice {
                length,
                refresh_interval,
            } => push_tlv(
                out,
                BINDING_REFRESH_ADVICE,
                Some(length.unwrap_or(BINDING_REFRESH_ADVICE_LEN)),
                &refresh_interval.to_be_bytes(),
            ),
            MobilityOption::AlternateCareofAddress { length, address } => push_tlv(
                out,
                ALTERNATE_COA,
                Some(length.unwrap_or(ALTERNATE_COA_LEN)),
                &address.octets(),
            ),
            MobilityOption::NonceIndices {
                length,
                home_nonce_index,
                careof_nonce_index,
            } => {
                let mut body = [0u8; 4];
                body[..2].copy_from_slice(&home_nonce_index.to_be_bytes());
                body[2..].copy_from_slice(&careof_nonce_index.to_be_bytes());
                push_tlv(
                    out,
                    NONCE_INDICES,
                    Some(length.unwrap_or(NONCE_INDICES_LEN)),
                    &body,
                )
            }
            MobilityOption::BindingAuthorizationData { authenticator } => push_tlv(
                out,
                BINDING_AUTHORIZATION_DATA,
                None,
                clamp_data(authenticator),
            ),
            MobilityOption::Unknown { option_type, data } => {
                push_tlv(out, *option_type, None, clamp_data(data))
            }
            MobilityOption::Raw { data } => out.extend_from_slice(data),
        }
    }

    /// The option's octets.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.write_to(&mut out);
        out
    }

    /// Write the option into `buf`, which should be `buffer_len()` octets
    /// (a shorter buffer gets what fits; never panics).
    pub fn emit(&self, buf: &mut [u8]) {
        write_bytes(buf, 0, &self.to_bytes());
    }

    /// Parse one option at the start of `data`, returning it and the octets
    /// it occupies.
    ///
    /// Returns `None` when `data` is empty, or when the option runs past the
    /// end of `data` (a finding is reported: `TRUNCATED` for a lone Type
    /// octet, `MH_OPTION_LENGTH` for a Length that runs past the end); the
    /// caller then keeps the rest as [`MobilityOption::Raw`]. A fixed-size
    /// option whose Length differs from its RFC's is decoded with its
    /// `length` override set and an `MH_OPTION_SIZE` finding.
    pub fn parse(data: &[u8], diag: &mut Diag) -> Option<(MobilityOption, usize)> {
        let option_type = *data.first()?;
        if option_type == PAD1 {
            return Some((MobilityOption::Pad1, 1));
        }
        let Some(&length) = data.get(field::LENGTH) else {
            diag.truncated(
                field::TYPE,
                &format!(
                    "{} option (type {option_type})",
                    option_type_name(option_type)
                ),
                2,
                data.len(),
            );
            return None;
        };
        let total = field::DATA + usize::from(length);
        if total > data.len() {
            diag.report(
                field::LENGTH,
                rules::MH_OPTION_LENGTH,
                format!(
                    "{} option (type {option_type}) Length is {length}, \
                     but only {} octets of the options area remain after Type and Length",
                    option_type_name(option_type),
                    data.len() - field::DATA
                ),
            );
            return None;
        }
        let view = MobilityOptionView::new_unchecked(&data[..total]);
        // An over-long fixed-size option whose surplus octets are not zero
        // cannot be re-emitted from its fields (emit zero-fills the surplus),
        // so it is kept whole as Unknown; the size finding still stands.
        let surplus_nonzero = |normal: u8| {
            length > normal && view.data()[usize::from(normal)..].iter().any(|&b| b != 0)
        };
        if let Some(normal) = match option_type {
            BINDING_REFRESH_ADVICE => Some(BINDING_REFRESH_ADVICE_LEN),
            ALTERNATE_COA => Some(ALTERNATE_COA_LEN),
            NONCE_INDICES => Some(NONCE_INDICES_LEN),
            _ => None,
        } {
            if surplus_nonzero(normal) {
                diag.report(
                    field::LENGTH,
                    rules::MH_OPTION_SIZE,
                    format!(
                        "{} option Length is {length}, expected {normal}",
                        option_type_name(option_type)
                    ),
                );
                return Some((
                    MobilityOption::Unknown {
                        option_type,
                        data: view.data().to_vec(),
                    },
                    total,
                ));
            }
        }
        let mut fixed = |normal: u8| -> Option<u8> {
            if length == normal {
                None
            } else {
                diag.report(
                    field::LENGTH,
                    rules::MH_OPTION_SIZE,
                    format!(
                        "{} option Length is {length}, expected {normal}",
                        option_type_name(option_type)
                    ),
                );
                Some(length)
            }
        };
        let opt = match option_type {
            PADN => MobilityOption::PadN {
                data: view.data().to_vec(),
            },
            BINDING_REFRESH_ADVICE => MobilityOption::BindingRefreshAdvice {
                length: fixed(BINDING_REFRESH_ADVICE_LEN),
                refresh_interval: view.refresh_interval(),
            },
            ALTERNATE_COA => MobilityOption::AlternateCareofAddress {
                length: fixed(ALTERNATE_COA_LEN),
                address: view.alternate_coa(),
            },
            NONCE_INDICES => MobilityOption::NonceIndices {
                length: fixed(NONCE_INDICES_LEN),
                home_nonce_index: view.home_nonce_index(),
                careof_nonce_index: view.careof_nonce_index(),
            },
            BINDING_AUTHORIZATION_DATA => MobilityOption::BindingAuthorizationData {
                authenticator: view.data().to_vec(),
            },
            _ => MobilityOption::Unknown {
                option_type,
                data: view.data().to_vec(),
            },
        };
        Some((opt, total))
    }
}

/// Parse a whole options area.
///
/// `mh_offset` is the offset of `data[0]` from the start of the Mobility
/// Header, used to check each option's alignment (`MH_OPTION_ALIGNMENT`).
/// An option that runs past the end ends the list: the rest of `data`,
/// from that option on, becomes a final [`MobilityOption::Raw`].
pub fn parse_options(data: &[u8], mh_offset: usize, diag: &mut Diag) -> Vec<MobilityOption> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let rest = &data[pos..];
        match MobilityOption::parse(rest, &mut diag.at(pos)) {
            Some((opt, used)) => {
                if let Some((n, k)) = opt.alignment() {
                    let at = mh_offset.wrapping_add(pos);
                    if at % n != k {
                        diag.report(
                            pos,
                            rules::MH_OPTION_ALIGNMENT,
                            format!(
                                "{} option at Mobility Header offset {at} = {n}n+{}, \
                                 expected {n}n+{k}",
                                option_type_name(opt.option_type().unwrap_or(0)),
                                at % n
                            ),
                        );
                    }
                }
                out.push(opt);
                pos += used;
            }
            None => {
                out.push(MobilityOption::Raw {
                    data: rest.to_vec(),
                });
                break;
            }
        }
    }
    out
}

/// Octets a list of options occupies.
pub fn options_len(options: &[MobilityOption]) -> usize {
    options.iter().map(MobilityOption::buffer_len).sum()
}

/// Emit a list of options back to back into `buf` (of `options_len()`
/// octets; a shorter buffer gets what fits).
pub fn emit_options(options: &[MobilityOption], buf: &mut [u8]) {
    let mut pos = 0;
    for opt in options {
        if pos >= buf.len() {
            break;
        }
        let n = opt.buffer_len();
        let end = (pos + n).min(buf.len());
        opt.emit(&mut buf[pos..end]);
        pos += n;
    }
}

/// The octets of a list of options.
pub fn options_to_bytes(options: &[MobilityOption]) -> Vec<u8> {
    let mut out = Vec::with_capacity(options_len(options));
    for opt in options {
        opt.write_to(&mut out);
    }
    out
}

/// Insert Pad1/PadN so every option in `options` meets its alignment and the
/// list ends on a multiple of 8 octets from the start of the Mobility Header.
///
/// `mh_offset` is where the options area starts inside the Mobility Header
/// (6 + the message data length). Options already in the list, padding
/// included, are kept in order.
pub fn aligned(options: Vec<MobilityOption>, mh_offset: usize) -> Vec<MobilityOption> {
    let mut out = Vec::with_capacity(options.len() * 2 + 1);
    // Every alignment divides 8, so only the offset modulo 8 matters.
    let mut pos = mh_offset % 8;
    for opt in options {
        if let Some((n, k)) = opt.alignment() {
            let pad = (k + n - pos % n) % n;
            out.extend(MobilityOption::padding(pad));
            pos += pad;
        }
        pos += opt.buffer_len();
        out.push(opt);
    }
    out.extend(MobilityOption::padding((8 - pos % 8) % 8));
    out
}

#[cfg(test)]
pub(crate) mod strategy {
    use super::*;
    use proptest::prelude::*;

    pub fn arb_ipv6() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    /// A well-formed option: every override `None`, no `Raw`.
    pub fn arb_option() -> impl Strategy<Value = MobilityOption> {
        prop_oneof![
            Just(MobilityOption::Pad1),
            prop_oneof![
                (0usize..8).prop_map(|n| vec![0; n]),
                proptest::collection::vec(any::<u8>(), 0..8),
            ]
            .prop_map(|data| MobilityOption::PadN { data }),
            any::<u16>().prop_map(|refresh_interval| MobilityOption::BindingRefreshAdvice {
                length: None,
                refresh_interval
            }),
            arb_ipv6().prop_map(|address| MobilityOption::AlternateCareofAddress {
                length: None,
                address
            }),
            (any::<u16>(), any::<u16>()).prop_map(|(h, c)| MobilityOption::NonceIndices {
                length: None,
                home_nonce_index: h,
                careof_nonce_index: c
            }),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(|authenticator| {
                MobilityOption::BindingAuthorizationData { authenticator }
            }),
            (6u8..=255, proptest::collection::vec(any::<u8>(), 0..20))
                .prop_map(|(option_type, data)| MobilityOption::Unknown { option_type, data }),
        ]
    }

    /// Any option, with arbitrary Length overrides, including a `Raw` that
    /// holds an option running past the end of the area.
    pub fn arb_option_any() -> impl Strategy<Value = MobilityOption> {
        let len = proptest::option::of(0u8..=24);
        prop_oneof![
            arb_option(),
            (len.clone(), any::<u16>()).prop_map(|(length, refresh_interval)| {
                MobilityOption::BindingRefreshAdvice {
                    length,
                    refresh_interval,
                }
            }),
            (len.clone(), arb_ipv6()).prop_map(|(length, address)| {
                MobilityOption::AlternateCareofAddress { length, address }
            }),
            (len, any::<u16>(), any::<u16>()).prop_map(|(length, h, c)| {
                MobilityOption::NonceIndices {
                    length,
                    home_nonce_index: h,
                    careof_nonce_index: c,
                }
            }),
            // An option whose Length (255) runs past the end of any area
            // these strategies build: it parses back as Raw.
            (1u8..=255, proptest::collection::vec(any::<u8>(), 0..10)).prop_map(|(t, rest)| {
                let mut data = vec![t, 255];
                data.extend(rest);
                MobilityOption::Raw { data }
            }),
            (1u8..=255).prop_map(|t| MobilityOption::Raw { data: vec![t] }),
        ]
    }

    /// A well-formed list of meaningful options (not yet aligned).
    pub fn arb_options() -> impl Strategy<Value = Vec<MobilityOption>> {
        proptest::collection::vec(arb_option(), 0..6)
    }

    /// Any list of options; a `Raw` item, if any, only at the end.
    pub fn arb_options_any() -> impl Strategy<Value = Vec<MobilityOption>> {
        proptest::collection::vec(arb_option_any(), 0..6).prop_map(|mut v| {
            if let Some(i) = v
                .iter()
                .position(|o| matches!(o, MobilityOption::Raw { .. }))
            {
                v.truncate(i + 1);
            }
            v
        })
    }
}

#[cfg(test)]
mod tests {
    use super::strategy::*;
    use super::*;
    use crate::Finding;
    use proptest::prelude::*;

    fn parse_list(data: &[u8], mh_offset: usize) -> (Vec<MobilityOption>, Vec<Finding>) {
        let mut out = Vec::new();
        let opts = parse_options(data, mh_offset, &mut Diag::new(&mut out));
        (opts, out)
    }

    fn rules_of(f: &[Finding]) -> Vec<(&'static str, usize)> {
        f.iter().map(|f| (f.rule, f.offset)).collect()
    }

    #[test]
    fn known_answer_each_option() {
        let cases: Vec<(MobilityOption, Vec<u8>)> = vec![
            (MobilityOption::Pad1, vec![0]),
            (MobilityOption::PadN { data: vec![0, 0] }, vec![1, 2, 0, 0]),
            (
                MobilityOption::BindingRefreshAdvice {
                    length: None,
                    refresh_interval: 0x0102,
                },
                vec![2, 2, 1, 2],
            ),
            (
                MobilityOption::AlternateCareofAddress {
                    length: None,
                    address: "2001:db8::1".parse().unwrap(),
                },
                vec![
                    3, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ],
            ),
            (
                MobilityOption::NonceIndices {
                    length: None,
                    home_nonce_index: 0x0a0b,
                    careof_nonce_index: 0x0c0d,
                },
                vec![4, 4, 0x0a, 0x0b, 0x0c, 0x0d],
            ),
            (
                MobilityOption::BindingAuthorizationData {
                    authenticator: vec![9; 12],
                },
                [vec![5, 12], vec![9; 12]].concat(),
            ),
            (
                MobilityOption::Unknown {
                    option_type: 42,
                    data: vec![7],
                },
                vec![42, 1, 7],
            ),
        ];
        for (opt, bytes) in cases {
            assert_eq!(opt.buffer_len(), bytes.len(), "{opt:?}");
            let mut buf = vec![0xee; bytes.len()];
            opt.emit(&mut buf);
            assert_eq!(buf, bytes, "{opt:?}");
            let mut out = Vec::new();
            let parsed = MobilityOption::parse(&bytes, &mut Diag::new(&mut out));
            assert_eq!(parsed, Some((opt.clone(), bytes.len())));
            assert!(out.is_empty(), "{out:?}");
            let view = MobilityOptionView::new_checked(&bytes[..]).unwrap();
            assert_eq!(view.total_len(), bytes.len());
            assert_eq!(Some(view.option_type()), opt.option_type());
        }
    }

    #[test]
    fn view_getters_and_setters() {
        let mut buf = [4u8, 4, 0, 0, 0, 0];
        let mut v = MobilityOptionView::new_checked(&mut buf[..]).unwrap();
        v.set_home_nonce_index(0x1234);
        v.set_careof_nonce_index(0x5678);
        assert_eq!(v.home_nonce_index(), 0x1234);
        assert_eq!(v.careof_nonce_index(), 0x5678);
        assert_eq!(buf, [4, 4, 0x12, 0x34, 0x56, 0x78]);

        // A short Alternate CoA: getters zero-fill, setters write what fits.
        let mut buf = [3u8, 2, 0xaa, 0xbb, 0xcc];
        let mut v = MobilityOptionView::new_checked(&mut buf[..]).unwrap();
        assert_eq!(v.alternate_coa(), "aabb::".parse::<Ipv6Addr>().unwrap());
        v.set_alternate_coa("2001:db8::".parse().unwrap());
        assert_eq!(buf, [3, 2, 0x20, 0x01, 0xcc]);

        assert_eq!(
            MobilityOptionView::new_checked(&[3u8, 16, 0][..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            MobilityOptionView::new_checked(&[3u8][..]).err(),
            Some(Error::Truncated)
        );
        assert_eq!(
            MobilityOptionView::new_checked(&[][..] as &[u8]).err(),
            Some(Error::Truncated)
        );
        assert!(MobilityOptionView::new_checked(&[0u8][..]).is_ok());
        let v = MobilityOptionView::new_unchecked(&[2u8][..]);
        assert_eq!(v.refresh_interval(), 0);
        assert_eq!(v.data(), &[] as &[u8]);
    }

    #[test]
    fn aligned_places_options_and_pads_end() {
        let coa: Ipv6Addr = "2001:db8::2".parse().unwrap();
        // After a BU (options start at MH offset 12): Alternate CoA must sit
        // at 8n+6 = 14, so PadN(0 data) = 2 octets first; it ends at 32.
        let opts = aligned(
            vec![MobilityOption::AlternateCareofAddress {
                length: None,
                address: coa,
            }],
            12,
        );
        assert_eq!(
            opts,
            vec![
                MobilityOption::PadN { data: vec![] },
                MobilityOption::AlternateCareofAddress {
                    length: None,
                    address: coa
                },
            ]
        );
        // Nothing but end padding: 12 -> 16 is PadN with 2 data octets.
        assert_eq!(
            aligned(vec![], 12),
            vec![MobilityOption::PadN { data: vec![0, 0] }]
        );
        // 15 -> 16 is Pad1.
        assert_eq!(aligned(vec![], 15), vec![MobilityOption::Pad1]);
        assert_eq!(aligned(vec![], 16), vec![]);
        // BRA at an odd offset gets Pad1, BAD goes to 8n+2.
        let opts = aligned(
            vec![
                MobilityOption::BindingRefreshAdvice {
                    length: None,
                    refresh_interval: 1,
                },
                MobilityOption::BindingAuthorizationData {
                    authenticator: vec![1; 12],
                },
            ],
            7,
        );
        assert_eq!(opts[0], MobilityOption::Pad1);
        let mut pos = 7;
        for o in &opts {
            if let Some((n, k)) = o.alignment() {
                assert_eq!(pos % n, k, "{o:?} at {pos}");
            }
            pos += o.buffer_len();
        }
        assert_eq!(pos % 8, 0);
    }

    #[test]
    fn padding_sizes() {
        for n in 0..600 {
            let p = MobilityOption::padding(n);
            assert_eq!(options_len(&p), n, "{n}");
        }
    }

    #[test]
    fn finding_option_size() {
        // BRA with Length 3 at MH offset 12: size finding at its Length octet.
        let bytes = [2u8, 3, 0xab, 0xcd, 0x00, 0];
        let (opts, f) = parse_list(&bytes, 12);
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_SIZE, 1)]);
        assert!(f[0].message.contains("Length is 3, expected 2"), "{}", f[0]);
        assert_eq!(
            opts[0],
            MobilityOption::BindingRefreshAdvice {
                length: Some(3),
                refresh_interval: 0xabcd
            }
        );
        // Re-emission keeps Length 3 and zero-fills the extra octet.
        assert_eq!(opts[0].to_bytes(), vec![2, 3, 0xab, 0xcd, 0]);
        // A non-zero surplus octet cannot be re-emitted from the fields: the
        // option is kept whole as Unknown, with the same finding.
        let bytes = [2u8, 3, 0xab, 0xcd, 0xef, 0];
        let (opts, f) = parse_list(&bytes, 12);
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_SIZE, 1)]);
        assert_eq!(
            opts[0],
            MobilityOption::Unknown {
                option_type: 2,
                data: vec![0xab, 0xcd, 0xef]
            }
        );
        assert_eq!(opts[0].to_bytes(), bytes[..5].to_vec());

        // Short Alternate CoA and Nonce Indices.
        let bytes = [3u8, 4, 0x20, 0x01, 0x0d, 0xb8, 4, 1, 0x77];
        let (opts, f) = parse_list(&bytes, 6);
        assert_eq!(
            rules_of(&f),
            vec![(rules::MH_OPTION_SIZE, 1), (rules::MH_OPTION_SIZE, 7)]
        );
        assert_eq!(
            opts,
            vec![
                MobilityOption::AlternateCareofAddress {
                    length: Some(4),
                    address: "2001:db8::".parse().unwrap()
                },
                MobilityOption::NonceIndices {
                    length: Some(1),
                    home_nonce_index: 0x7700,
                    careof_nonce_index: 0
                }
            ]
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn finding_option_length_runs_past_end() {
        // PadN(0), then an Alternate CoA with Length 16 but 4 octets left.
        let bytes = [1u8, 0, 3, 16, 1, 2, 3, 4];
        let (opts, f) = parse_list(&bytes, 12);
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_LENGTH, 3)]);
        assert_eq!(
            opts,
            vec![
                MobilityOption::PadN { data: vec![] },
                MobilityOption::Raw {
                    data: vec![3, 16, 1, 2, 3, 4]
                }
            ]
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn finding_truncated_lone_type_octet() {
        let bytes = [0u8, 5];
        let (opts, f) = parse_list(&bytes, 12);
        assert_eq!(rules_of(&f), vec![(rules::TRUNCATED, 1)]);
        assert_eq!(
            opts,
            vec![MobilityOption::Pad1, MobilityOption::Raw { data: vec![5] }]
        );
    }

    #[test]
    fn finding_alignment() {
        // Alternate CoA at MH offset 12 (8n+4): misaligned, reported at
        // the option's first octet.
        let mut bytes = vec![3u8, 16];
        bytes.extend([0u8; 16]);
        let (_, f) = parse_list(&bytes, 12);
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_ALIGNMENT, 0)]);
        assert!(f[0].message.contains("8n+4, expected 8n+6"), "{}", f[0]);
        // Same option after Pad1 Pad1 (offset 14): fine.
        let bytes2 = [vec![0u8, 0], bytes.clone()].concat();
        let (_, f) = parse_list(&bytes2, 12);
        assert!(f.is_empty(), "{f:?}");
        // BRA at an odd offset, BAD at 8n+4, Nonce Indices at odd offset.
        let bytes3 = [
            0u8, // Pad1 at MH offset 12
            2, 2, 0, 1, // BRA at 13: odd
            5, 0, // BAD (empty) at 17: 8n+1
        ];
        let (opts, f) = parse_list(&bytes3, 12);
        assert_eq!(opts.len(), 3);
        assert_eq!(
            rules_of(&f),
            vec![
                (rules::MH_OPTION_ALIGNMENT, 1),
                (rules::MH_OPTION_ALIGNMENT, 5)
            ]
        );
        let bytes4 = [4u8, 4, 0, 0, 0, 0];
        let (_, f) = parse_list(&bytes4, 13);
        assert_eq!(rules_of(&f), vec![(rules::MH_OPTION_ALIGNMENT, 0)]);
    }

    #[test]
    fn non_zero_padn_survives() {
        let bytes = [1u8, 3, 1, 2, 3];
        let (opts, f) = parse_list(&bytes, 0);
        assert!(f.is_empty());
        assert_eq!(
            opts,
            vec![MobilityOption::PadN {
                data: vec![1, 2, 3]
            }]
        );
        assert_eq!(options_to_bytes(&opts), bytes);
    }

    #[test]
    fn emit_never_panics_on_oversized_data() {
        let opt = MobilityOption::Unknown {
            option_type: 9,
            data: vec![1; 400],
        };
        assert_eq!(opt.buffer_len(), 257);
        let bytes = opt.to_bytes();
        assert_eq!(bytes.len(), 257);
        assert_eq!(bytes[1], 255);
        // A short buffer gets what fits.
        let mut small = [0u8; 3];
        opt.emit(&mut small);
        assert_eq!(small, [9, 255, 1]);
        emit_options(&[opt.clone(), opt], &mut small);
    }

    #[test]
    fn serde_forms() {
        let zero = MobilityOption::PadN { data: vec![0; 4] };
        let j = serde_json::to_string(&zero).unwrap();
        assert_eq!(j, r#"{"pad_n":{"len":4}}"#);
        assert_eq!(serde_json::from_str::<MobilityOption>(&j).unwrap(), zero);
        let odd = MobilityOption::PadN { data: vec![0, 7] };
        let j = serde_json::to_string(&odd).unwrap();
        assert_eq!(j, r#"{"pad_n":{"data":"0007"}}"#);
        assert_eq!(serde_json::from_str::<MobilityOption>(&j).unwrap(), odd);
        assert!(serde_json::from_str::<MobilityOption>(r#"{"pad_n":{"len":300}}"#).is_err());
        assert_eq!(
            serde_json::to_string(&MobilityOption::Pad1).unwrap(),
            r#""pad1""#
        );
        let bra = MobilityOption::BindingRefreshAdvice {
            length: None,
            refresh_interval: 5,
        };
        assert_eq!(
            serde_json::to_string(&bra).unwrap(),
            r#"{"binding_refresh_advice":{"refresh_interval":5}}"#
        );
        let coa: MobilityOption = serde_json::from_str(
            r#"{"alternate_careof_address":{"length":2,"address":"2001:db8::1"}}"#,
        )
        .unwrap();
        assert_eq!(
            coa,
            MobilityOption::AlternateCareofAddress {
                length: Some(2),
                address: "2001:db8::1".parse().unwrap()
            }
        );
    }

    proptest! {
        #[test]
        fn prop_option_roundtrip(opt in arb_option()) {
            let bytes = opt.to_bytes();
            prop_assert_eq!(bytes.len(), opt.buffer_len());
            let mut out = Vec::new();
            let parsed = MobilityOption::parse(&bytes, &mut Diag::new(&mut out));
            prop_assert_eq!(parsed, Some((opt, bytes.len())));
            prop_assert!(out.is_empty());
        }

        #[test]
        fn prop_aligned_list_roundtrip(opts in arb_options(), off in 0usize..24) {
            let opts = aligned(opts, off);
            let bytes = options_to_bytes(&opts);
            prop_assert_eq!((off + bytes.len()) % 8, 0);
            let mut buf = vec![0xee; options_len(&opts)];
            emit_options(&opts, &mut buf);
            prop_assert_eq!(&buf, &bytes);
            let (parsed, f) = parse_list(&bytes, off);
            prop_assert!(f.is_empty(), "{:?}", f);
            prop_assert_eq!(parsed, opts);
        }

        #[test]
        fn prop_any_list_reemits(opts in arb_options_any(), off in 0usize..24) {
            let bytes = options_to_bytes(&opts);
            let (parsed, _) = parse_list(&bytes, off);
            prop_assert_eq!(options_to_bytes(&parsed), bytes);
        }

        #[test]
        fn prop_serde_roundtrip(opt in arb_option_any()) {
            let j = serde_json::to_string(&opt).unwrap();
            prop_assert_eq!(serde_json::from_str::<MobilityOption>(&j).unwrap(), opt);
        }

        #[test]
        fn prop_parse_arbitrary_never_panics(
            data in proptest::collection::vec(any::<u8>(), 0..80),
            off in 0usize..16,
        ) {
            let (opts, _) = parse_list(&data, off);
            // Every octet is accounted for by the parsed list.
            prop_assert_eq!(options_len(&opts), data.len());
        }
    }
}
