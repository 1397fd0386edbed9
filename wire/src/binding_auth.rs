//! The return routability keys of Mobile IPv6 (RFC 6275 5.2.5): the
//! binding management key Kbm a mobile node derives from the keygen tokens
//! of a Home Test and a Care-of Test, and the Authenticator of the Binding
//! Authorization Data option (RFC 6275 6.2.7) that it puts in a Binding
//! Update to a correspondent node (and the correspondent in its Binding
//! Acknowledgement).
//!
//! [`MobilityOption::BindingAuthorizationData`] shows the option as the
//! wire has it; this module is the cryptography on top.
//!
//! [`MobilityOption::BindingAuthorizationData`]: crate::mobility_options::MobilityOption::BindingAuthorizationData

use std::net::Ipv6Addr;

use hmac::{Hmac, Mac};
use sha1::{Digest, Sha1};

use crate::checksum::PseudoHeader;
use crate::mobility::{MobilityRepr, HEADER_LEN};
use crate::mobility_options::{options_len, MobilityOption};
use crate::proto;

/// Octets of Kbm: a SHA-1 digest.
pub const KBM_LEN: usize = 20;
/// Octets of the Authenticator: HMAC-SHA1 truncated to 96 bits.
pub const AUTHENTICATOR_LEN: usize = 12;

type HmacSha1 = Hmac<Sha1>;

/// Kbm = SHA1(home keygen token | care-of keygen token), or
/// SHA1(home keygen token) alone when deregistering (RFC 6275 5.2.5).
pub fn kbm(home_keygen_token: u64, careof_keygen_token: Option<u64>) -> [u8; KBM_LEN] {
    let mut h = Sha1::new();
    h.update(home_keygen_token.to_be_bytes());
    if let Some(c) = careof_keygen_token {
        h.update(c.to_be_bytes());
    }
    h.finalize().into()
}

/// First (96, Kbm, (care-of address | correspondent | Mobility Data)),
/// HMAC-SHA1 (RFC 6275 6.2.7). `mobility_data` is the Mobility Header
/// without the Authenticator, its Checksum field zero
/// ([`mobility_data`]).
pub fn authenticator(
    kbm: &[u8],
    careof: Ipv6Addr,
    correspondent: Ipv6Addr,
    mobility_data: &[u8],
) -> [u8; AUTHENTICATOR_LEN] {
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = HmacSha1::new_from_slice(kbm).expect("HMAC accepts any key length");
    mac.update(&careof.octets());
    mac.update(&correspondent.octets());
    mac.update(mobility_data);
    let full = mac.finalize().into_bytes();
    let mut out = [0; AUTHENTICATOR_LEN];
    out.copy_from_slice(&full[..AUTHENTICATOR_LEN]);
    out
}

/// The octets the Authenticator covers: the header as emitted with the
/// Checksum field zero, up to the last option's Authenticator (which must
/// be the last octets: RFC 6275 6.2.7 wants the option last and
/// unpadded). `None` when the last option is not a Binding Authorization
/// Data option, or the header has trailing padding after it.
pub fn mobility_data(mh: &MobilityRepr) -> Option<Vec<u8>> {
    let (MobilityOption::BindingAuthorizationData { authenticator }, before) =
        mh.options.split_last()?
    else {
        return None;
    };
    let pseudo = PseudoHeader {
        src: Ipv6Addr::UNSPECIFIED,
        dst: Ipv6Addr::UNSPECIFIED,
        next_header: proto::MOBILITY,
    };
    let mut bytes = mh.to_bytes(&pseudo);
    // Where the Authenticator starts: after the fixed part, the message,
    // the options before it and its own type and length octets.
    let start = HEADER_LEN + mh.message.message_len() + options_len(before) + 2;
    if bytes.len() != start + authenticator.len() {
        return None;
    }
    bytes[4..6].copy_from_slice(&[0, 0]);
    bytes.truncate(start);
    Some(bytes)
}

/// Fill the Authenticator of `mh`'s last option (a Binding Authorization
/// Data option of [`AUTHENTICATOR_LEN`] octets, whatever it held) for a
/// message from `careof` to `correspondent` (RFC 6275 5.2.6: for a Binding
/// Update the mobile node's care-of address and the correspondent's
/// address; for the correspondent's Binding Acknowledgement the same two).
/// `false` when the header has no such last option.
pub fn sign(mh: &mut MobilityRepr, kbm: &[u8], careof: Ipv6Addr, correspondent: Ipv6Addr) -> bool {
    if let Some(MobilityOption::BindingAuthorizationData { authenticator }) = mh.options.last_mut()
    {
        *authenticator = vec![0; AUTHENTICATOR_LEN];
    }
    let Some(data) = mobility_data(mh) else {
        return false;
    };
    let a = authenticator(kbm, careof, correspondent, &data);
    if let Some(MobilityOption::BindingAuthorizationData { authenticator }) = mh.options.last_mut()
    {
        *authenticator = a.to_vec();
    }
    true
}

/// Whether `mh`'s last option is a Binding Authorization Data option whose
/// Authenticator is right for `kbm`, `careof` and `correspondent`.
pub fn verify(mh: &MobilityRepr, kbm: &[u8], careof: Ipv6Addr, correspondent: Ipv6Addr) -> bool {
    let Some(MobilityOption::BindingAuthorizationData { authenticator: got }) = mh.options.last()
    else {
        return false;
    };
    match mobility_data(mh) {
        Some(data) => got.as_slice() == authenticator(kbm, careof, correspondent, &data).as_slice(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mobility::{BindingUpdateRepr, MhMessage};

    const HOME_TOKEN: u64 = 0x0102_0304_0506_0708;
    const CAREOF_TOKEN: u64 = 0x1112_1314_1516_1718;

    // Expected values from Python's hashlib / hmac, an independent
    // implementation.
    #[test]
    fn kbm_is_sha1_of_the_tokens() {
        assert_eq!(
            crate::hex::encode(&kbm(HOME_TOKEN, Some(CAREOF_TOKEN))),
            "cedf8515311913c2601bc6aa86a92ddf2601d97e"
        );
        assert_eq!(
            crate::hex::encode(&kbm(HOME_TOKEN, None)),
            "dd5783bcf1e9002bc00ad5b83a95ed6e4ebb4ad5"
        );
    }

    #[test]
    fn authenticator_is_truncated_hmac_sha1() {
        let k = kbm(HOME_TOKEN, Some(CAREOF_TOKEN));
        let data: Vec<u8> = (0..20).collect();
        let a = authenticator(
            &k,
            "2001:db8:ffff::1".parse().unwrap(),
            "2001:db8:cccc::5".parse().unwrap(),
            &data,
        );
        assert_eq!(crate::hex::encode(&a), "9386ebf09965dcee468599a9");
    }

    fn bu() -> MobilityRepr {
        MobilityRepr::new(
            MhMessage::BindingUpdate(BindingUpdateRepr {
                seq: 7,
                a_flag: true,
                lifetime: 15,
                ..Default::default()
            }),
            vec![
                MobilityOption::NonceIndices {
                    length: None,
                    home_nonce_index: 1,
                    careof_nonce_index: 2,
                },
                MobilityOption::BindingAuthorizationData {
                    authenticator: vec![0; AUTHENTICATOR_LEN],
                },
            ],
        )
    }

    #[test]
    fn signed_bu_verifies_and_ends_with_the_authenticator() {
        let k = kbm(HOME_TOKEN, Some(CAREOF_TOKEN));
        let (coa, cn) = (
            "2001:db8:ffff::2".parse().unwrap(),
            "2001:db8:cccc::5".parse().unwrap(),
        );
        let mut mh = bu();
        assert!(sign(&mut mh, &k, coa, cn));
        assert!(verify(&mh, &k, coa, cn));
        // 6 fixed + 6 BU + 6 Nonce Indices + 2 + 12: no padding at all.
        let data = mobility_data(&mh).unwrap();
        assert_eq!(data.len() + AUTHENTICATOR_LEN, 32);
        // Another key, address or message does not verify.
        assert!(!verify(&mh, &kbm(HOME_TOKEN, None), coa, cn));
        assert!(!verify(&mh, &k, cn, coa));
        let mut other = mh.clone();
        if let MhMessage::BindingUpdate(b) = &mut other.message {
            b.seq = 8;
        }
        assert!(!verify(&other, &k, coa, cn));
    }

    #[test]
    fn no_authorization_option_last_is_refused() {
        let k = kbm(HOME_TOKEN, None);
        let a = Ipv6Addr::LOCALHOST;
        let mut mh = bu();
        mh.options
            .retain(|o| !matches!(o, MobilityOption::BindingAuthorizationData { .. }));
        assert!(!sign(&mut mh, &k, a, a));
        assert!(!verify(&mh, &k, a, a));
        assert!(mobility_data(&mh).is_none());
        // Trailing padding after the option: not the last octets.
        let mut padded = bu();
        padded.header_len = Some(5);
        assert!(mobility_data(&padded).is_none());
    }
}
