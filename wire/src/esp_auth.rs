//! ESP with NULL encryption (RFC 2410) and HMAC-SHA-256-128 authentication
//! (RFC 4868), in transport mode: the transform RFC 4140 12.1 needs for
//! local Binding Updates and their acknowledgements with manually keyed
//! security associations.
//!
//! [`EspRepr`](crate::ipsec::EspRepr) shows an ESP packet as the wire has
//! it (SPI, sequence number, opaque rest); this module is the cryptography
//! on top: [`seal`] turns an upper-layer payload into the octets of an ESP
//! packet, [`open`] checks one and gives the payload back. Anti-replay is
//! the receiver's business (it needs state); [`Opened::seq`] is what it
//! checks.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Octets of the SPI and Sequence Number fields.
pub const HEADER_LEN: usize = 8;
/// Octets of the Integrity Check Value: HMAC-SHA-256 truncated to 128 bits
/// (RFC 4868 2.3).
pub const ICV_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// A payload [`open`] authenticated and unwrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub spi: u32,
    pub seq: u32,
    /// The protocol of `payload` (the ESP trailer's Next Header).
    pub next_header: u8,
    pub payload: Vec<u8>,
}

/// Why [`open`] refused a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Shorter than header, trailer and ICV (`len` octets), or not 4-octet
    /// aligned before the ICV.
    Truncated { len: usize },
    /// The ICV does not match the key: forged, corrupted or another SA's.
    IcvMismatch,
    /// Pad Length runs past the payload, or the padding octets are not
    /// 1, 2, 3, ... (RFC 4303 2.4); `offset` is that of the Pad Length octet
    /// within the ESP packet.
    BadPadding { offset: usize },
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Truncated { len } => write!(
                f,
                "ESP packet of {len} octets is too short for SPI, sequence number, trailer and a {ICV_LEN}-octet ICV, or its payload is not 4-octet aligned"
            ),
            OpenError::IcvMismatch => write!(f, "ESP ICV does not match the key (HMAC-SHA-256-128)"),
            OpenError::BadPadding { offset } => {
                write!(f, "ESP padding is malformed (Pad Length at octet {offset})")
            }
        }
    }
}

impl std::error::Error for OpenError {}

/// The ICV of `authenticated` (SPI through Next Header) under `key`.
pub fn icv(key: &[u8], authenticated: &[u8]) -> [u8; ICV_LEN] {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(authenticated);
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; ICV_LEN];
    out.copy_from_slice(&full[..ICV_LEN]);
    out
}

/// The octets of an ESP packet (header, `payload`, RFC 4303 default
/// padding 1, 2, 3, ..., Pad Length, `next_header`, ICV) carrying
/// `payload` under the SA `spi` with sequence number `seq`.
pub fn seal(spi: u32, seq: u32, key: &[u8], next_header: u8, payload: &[u8]) -> Vec<u8> {
    let pad = (4 - (payload.len() + 2) % 4) % 4;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + pad + 2 + ICV_LEN);
    out.extend_from_slice(&spi.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(payload);
    out.extend((1..=pad as u8).collect::<Vec<u8>>());
    out.push(pad as u8);
    out.push(next_header);
    let tag = icv(key, &out);
    out.extend_from_slice(&tag);
    out
}

/// Check the ICV of the ESP packet `esp` (from the SPI to the end of the
/// IP packet) under `key` and unwrap its payload.
pub fn open(key: &[u8], esp: &[u8]) -> Result<Opened, OpenError> {
    let len = esp.len();
    if len < HEADER_LEN + 2 + ICV_LEN || (len - ICV_LEN) % 4 != 0 {
        return Err(OpenError::Truncated { len });
    }
    let (authenticated, tag) = esp.split_at(len - ICV_LEN);
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(authenticated);
    // Constant-time comparison of the truncated tag.
    mac.verify_truncated_left(tag)
        .map_err(|_| OpenError::IcvMismatch)?;
    let pad_at = authenticated.len() - 2;
    let pad = authenticated[pad_at] as usize;
    let next_header = authenticated[pad_at + 1];
    if HEADER_LEN + pad > pad_at {
        return Err(OpenError::BadPadding { offset: pad_at });
    }
    let payload_end = pad_at - pad;
    let padding = &authenticated[payload_end..pad_at];
    if padding
        .iter()
        .enumerate()
        .any(|(i, &b)| b as usize != i + 1)
    {
        return Err(OpenError::BadPadding { offset: pad_at });
    }
    Ok(Opened {
        spi: u32::from_be_bytes(esp[0..4].try_into().expect("4 octets")),
        seq: u32::from_be_bytes(esp[4..8].try_into().expect("4 octets")),
        next_header,
        payload: authenticated[HEADER_LEN..payload_end].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x11; 32];

    #[test]
    fn seal_then_open_gives_the_payload_back_for_every_alignment() {
        for n in 0..12 {
            let payload: Vec<u8> = (0..n as u8).collect();
            let esp = seal(0x100, 7, &KEY, 135, &payload);
            assert_eq!((esp.len() - ICV_LEN) % 4, 0, "payload of {n}");
            let opened = open(&KEY, &esp).unwrap();
            assert_eq!(
                opened,
                Opened {
                    spi: 0x100,
                    seq: 7,
                    next_header: 135,
                    payload
                }
            );
        }
    }

    #[test]
    fn rfc4231_test_case_2_hmac_sha256_truncated() {
        // RFC 4231 4.3: key "Jefe", data "what do ya want for nothing?".
        let tag = icv(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(crate::hex::encode(&tag), "5bdcc146bf60754e6a042426089575c7");
    }

    #[test]
    fn any_flipped_bit_or_wrong_key_is_refused() {
        let esp = seal(0x100, 1, &KEY, 135, b"binding update");
        assert_eq!(open(&[0x22; 32], &esp), Err(OpenError::IcvMismatch));
        for i in 0..esp.len() {
            let mut bad = esp.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                open(&KEY, &bad),
                Err(OpenError::IcvMismatch),
                "bit in octet {i}"
            );
        }
        assert_eq!(
            open(&KEY, &esp[..20]),
            Err(OpenError::Truncated { len: 20 })
        );
        assert_eq!(open(&KEY, &[]), Err(OpenError::Truncated { len: 0 }));
    }

    #[test]
    fn bad_padding_under_a_valid_icv_is_refused() {
        // Pad Length 9 with a 4-octet payload region: runs past the header.
        let mut body = vec![0, 0, 1, 0, 0, 0, 0, 1, 0xaa, 0xbb, 9, 59];
        let tag = icv(&KEY, &body);
        body.extend_from_slice(&tag);
        assert_eq!(open(&KEY, &body), Err(OpenError::BadPadding { offset: 10 }));
    }
}
