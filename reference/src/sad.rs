//! The security association database of the MN-MAP binding messages: ESP
//! in transport mode with manual keys (RFC 4140 12.1, RFC 4303), NULL
//! encryption and HMAC-SHA-256-128 ([`wire::esp_auth`]), without I/O.
//!
//! RFC 4140 12.1 requires local Binding Updates and their acknowledgements
//! to be protected by IPsec; manual keying is enough for a test suite.
//! Inbound, the SA is chosen by SPI and each SA keeps its own anti-replay
//! window (RFC 4303 3.4.3); outbound, one SA numbers the packets 1, 2, 3,
//! and so on (RFC 4303 3.3.3).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use wire::esp_auth::{self, OpenError, Opened};

/// The smallest key accepted: 128 bits. RFC 4868 2.1.1 wants the key
/// length of HMAC-SHA-256 to be 256 bits; half of that is still a real
/// key, and shorter ones are almost certainly typing mistakes.
pub const MIN_KEY_LEN: usize = 16;

/// Sequence numbers the anti-replay window covers (RFC 4303 3.4.3: "a
/// minimum window size of 32 packets MUST be supported ... a window size
/// of 64 is preferred and SHOULD be employed as the default").
pub const REPLAY_WINDOW: u32 = 64;

/// A manually keyed SA: its SPI and its HMAC-SHA-256-128 key.
#[derive(Clone, PartialEq, Eq)]
pub struct SecurityAssociation {
    pub spi: u32,
    pub key: Vec<u8>,
}

/// The key stays out of logs.
impl fmt::Debug for SecurityAssociation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityAssociation")
            .field("spi", &format_args!("{:#x}", self.spi))
            .field("key", &format_args!("<{} octets>", self.key.len()))
            .finish()
    }
}

/// Why a [`SecurityAssociation`] could not be parsed: `position` is the
/// character offset (0-based) in the input where the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaParseError {
    pub position: usize,
    pub message: String,
}

impl fmt::Display for SaParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "security association, at character {}: {}",
            self.position, self.message
        )
    }
}

impl std::error::Error for SaParseError {}

/// In YAML configuration files an SA is the same string as on the command
/// line: `sa-in: ["spi=0x1000,key=HEX"]`.
impl<'de> serde::Deserialize<'de> for SecurityAssociation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn parse_error(position: usize, message: impl Into<String>) -> SaParseError {
    SaParseError {
        position,
        message: message.into(),
    }
}

/// `spi=<SPI>,key=<hex>`, fields in either order, spaces around fields
/// allowed: the SPI in decimal or `0x` hexadecimal, not 0 (RFC 4303 2.1:
/// SPI 0 "MUST NOT be sent on the wire"); the key in hexadecimal (an
/// optional `0x`), at least [`MIN_KEY_LEN`] octets. The key is never
/// echoed in error messages.
impl FromStr for SecurityAssociation {
    type Err = SaParseError;

    fn from_str(s: &str) -> Result<Self, SaParseError> {
        let mut spi: Option<u32> = None;
        let mut key: Option<Vec<u8>> = None;
        let mut start = 0;
        for field in s.split(',') {
            let at = start;
            start += field.len() + 1;
            let lead = field.len() - field.trim_start().len();
            let field = field.trim();
            let at = at + lead;
            if field.is_empty() {
                return Err(parse_error(
                    at,
                    "empty field, expected `spi=<SPI>` or `key=<hex>`",
                ));
            }
            let Some((name, value)) = field.split_once('=') else {
                return Err(parse_error(
                    at,
                    format!("`{field}` is not `name=value`, expected `spi=<SPI>` or `key=<hex>`"),
                ));
            };
            let name = name.trim_end();
            let value_at = at + field.len() - value.trim_start().len();
            let value = value.trim();
            match name {
                "spi" => {
                    if spi.is_some() {
                        return Err(parse_error(at, "`spi` given twice"));
                    }
                    spi = Some(parse_spi(value, value_at)?);
                }
                "key" => {
                    if key.is_some() {
                        return Err(parse_error(at, "`key` given twice"));
                    }
                    key = Some(parse_key(value, value_at)?);
                }
                _ => {
                    return Err(parse_error(
                        at,
                        format!("unknown field `{name}`, expected `spi` or `key`"),
                    ))
                }
            }
        }
        let end = s.len();
        match (spi, key) {
            (Some(spi), Some(key)) => Ok(SecurityAssociation { spi, key }),
            (None, _) => Err(parse_error(end, "missing `spi=<SPI>`")),
            (_, None) => Err(parse_error(end, "missing `key=<hex>`")),
        }
    }
}

fn parse_spi(value: &str, at: usize) -> Result<u32, SaParseError> {
    let parsed = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => value.parse::<u32>(),
    };
    match parsed {
        Ok(0) => Err(parse_error(
            at,
            "SPI 0 is reserved and must not be sent on the wire (RFC 4303 2.1)",
        )),
        Ok(spi) => Ok(spi),
        Err(e) => Err(parse_error(
            at,
            format!("SPI `{value}` is not a 32-bit number in decimal or 0x-hexadecimal ({e})"),
        )),
    }
}

fn parse_key(value: &str, at: usize) -> Result<Vec<u8>, SaParseError> {
    let (digits, at) = match value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
    {
        Some(rest) => (rest, at + 2),
        None => (value, at),
    };
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(parse_error(
            at + i,
            format!("key has `{c}`, which is not a hexadecimal digit"),
        ));
    }
    if digits.len() % 2 != 0 {
        return Err(parse_error(
            at + digits.len(),
            format!(
                "key has an odd number of hexadecimal digits ({}), expected two per octet",
                digits.len()
            ),
        ));
    }
    let key: Vec<u8> = digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ASCII hex digits");
            u8::from_str_radix(pair, 16).expect("checked hex digits")
        })
        .collect();
    if key.len() < MIN_KEY_LEN {
        return Err(parse_error(
            at,
            format!(
                "key is {} octets, expected at least {MIN_KEY_LEN} (HMAC-SHA-256-128 wants 32)",
                key.len()
            ),
        ));
    }
    Ok(key)
}

/// Why [`Sad::open_inbound`] refused a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SadError {
    /// Too short to hold an SPI, or not a well-formed ESP packet
    /// (truncated, misaligned, bad padding) under its SA.
    Malformed { spi: Option<u32>, error: OpenError },
    /// No inbound SA has this SPI.
    UnknownSpi { spi: u32 },
    /// The ICV does not verify under the SA's key.
    IcvMismatch { spi: u32 },
    /// Sequence number 0, which a sender never uses (RFC 4303 3.3.3: the
    /// first packet sent on an SA has sequence number 1).
    SequenceZero { spi: u32 },
    /// This sequence number was already received (a replay).
    Replayed { spi: u32, seq: u32 },
    /// The sequence number is left of the window: `seq <= highest - 64`.
    OutsideWindow { spi: u32, seq: u32, highest: u32 },
}

impl fmt::Display for SadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SadError::Malformed { spi: None, error } => write!(f, "ESP packet refused: {error}"),
            SadError::Malformed {
                spi: Some(spi),
                error,
            } => write!(f, "ESP packet on SPI {spi:#x} refused: {error}"),
            SadError::UnknownSpi { spi } => {
                write!(f, "ESP packet refused: no inbound SA has SPI {spi:#x}")
            }
            SadError::IcvMismatch { spi } => write!(
                f,
                "ESP packet on SPI {spi:#x} refused: ICV does not match the SA's key (HMAC-SHA-256-128)"
            ),
            SadError::SequenceZero { spi } => write!(
                f,
                "ESP packet on SPI {spi:#x} refused: sequence number 0 is never sent (RFC 4303 3.3.3)"
            ),
            SadError::Replayed { spi, seq } => write!(
                f,
                "ESP packet on SPI {spi:#x} refused: sequence number {seq} was already received (replay, RFC 4303 3.4.3)"
            ),
            SadError::OutsideWindow { spi, seq, highest } => write!(
                f,
                "ESP packet on SPI {spi:#x} refused: sequence number {seq} is left of the {REPLAY_WINDOW}-packet replay window (highest received {highest}, RFC 4303 3.4.3)"
            ),
        }
    }
}

impl std::error::Error for SadError {}

/// The anti-replay window of one inbound SA (RFC 4303 3.4.3, and the
/// bitmap algorithm of RFC 4303 Appendix A without extended sequence
/// numbers): bit `i` of `seen` stands for sequence number `highest - i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct ReplayWindow {
    /// The highest sequence number authenticated so far; 0 before any.
    highest: u32,
    seen: u64,
}

impl ReplayWindow {
    /// Whether `seq` may be accepted (before its ICV is checked).
    fn check(&self, spi: u32, seq: u32) -> Result<(), SadError> {
        if seq == 0 {
            return Err(SadError::SequenceZero { spi });
        }
        if seq > self.highest {
            return Ok(());
        }
        let behind = self.highest - seq;
        if behind >= REPLAY_WINDOW {
            return Err(SadError::OutsideWindow {
                spi,
                seq,
                highest: self.highest,
            });
        }
        if self.seen & (1u64 << behind) != 0 {
            return Err(SadError::Replayed { spi, seq });
        }
        Ok(())
    }

    /// Record `seq`, which [`check`](Self::check) accepted and whose ICV
    /// verified.
    fn mark(&mut self, seq: u32) {
        if seq > self.highest {
            let ahead = seq - self.highest;
            self.seen = if ahead >= REPLAY_WINDOW {
                0
            } else {
                self.seen << ahead
            };
            self.seen |= 1;
            self.highest = seq;
        } else {
            self.seen |= 1u64 << (self.highest - seq);
        }
    }
}

#[derive(Debug, Clone)]
struct Inbound {
    key: Vec<u8>,
    window: ReplayWindow,
}

/// Inbound SAs by SPI (each with its replay window) and the outbound SA.
#[derive(Debug, Clone)]
pub struct Sad {
    inbound: BTreeMap<u32, Inbound>,
    outbound: Option<(SecurityAssociation, u32)>,
    anti_replay: bool,
}

impl Sad {
    /// A database of `inbound` SAs (a later SA with the SPI of an earlier
    /// one replaces it) and at most one `outbound` SA. `anti_replay` turns
    /// the inbound sequence number checks on; RFC 4303 3.4.3 lets a
    /// receiver with manual keys turn them off, and then no check at all
    /// is done on the Sequence Number (not even for 0).
    pub fn new(
        inbound: Vec<SecurityAssociation>,
        outbound: Option<SecurityAssociation>,
        anti_replay: bool,
    ) -> Self {
        Sad {
            inbound: inbound
                .into_iter()
                .map(|sa| {
                    (
                        sa.spi,
                        Inbound {
                            key: sa.key,
                            window: ReplayWindow::default(),
                        },
                    )
                })
                .collect(),
            outbound: outbound.map(|sa| (sa, 0)),
            anti_replay,
        }
    }

    /// Check an inbound ESP packet (`esp`: from the SPI to the end of the
    /// IP packet) and unwrap its payload.
    ///
    /// In RFC 4303 3.4.3's order: the SPI selects the SA, the sequence
    /// number is checked against the window (cheap rejection of replays),
    /// then the ICV is verified, and only then is the window advanced, so
    /// that a forged packet cannot move it.
    pub fn open_inbound(&mut self, esp: &[u8]) -> Result<Opened, SadError> {
        self.open(esp, true)
    }

    /// [`open_inbound`](Self::open_inbound) without the ICV check: a packet
    /// whose ICV is wrong is unwrapped as if it were right. Only for the
    /// `no-icv-check` fault of the reference MAP.
    ///
    /// Everything else is as in `open_inbound`: the SPI must be known, the
    /// packet well formed, and the sequence number is checked against the
    /// window and then recorded, since the packet is accepted (so a replay
    /// of a forged packet is refused like any other replay).
    pub fn open_inbound_unchecked(&mut self, esp: &[u8]) -> Result<Opened, SadError> {
        self.open(esp, false)
    }

    fn open(&mut self, esp: &[u8], verify_icv: bool) -> Result<Opened, SadError> {
        let Some(spi_octets) = esp.get(0..4) else {
            return Err(SadError::Malformed {
                spi: None,
                error: OpenError::Truncated { len: esp.len() },
            });
        };
        let spi = u32::from_be_bytes(spi_octets.try_into().expect("4 octets"));
        let sa = self
            .inbound
            .get_mut(&spi)
            .ok_or(SadError::UnknownSpi { spi })?;
        if self.anti_replay {
            if let Some(seq_octets) = esp.get(4..8) {
                let seq = u32::from_be_bytes(seq_octets.try_into().expect("4 octets"));
                sa.window.check(spi, seq)?;
            }
        }
        let opened = if verify_icv {
            esp_auth::open(&sa.key, esp)
        } else {
            open_ignoring_icv(&sa.key, esp)
        };
        let opened = opened.map_err(|error| match error {
            OpenError::IcvMismatch => SadError::IcvMismatch { spi },
            error => SadError::Malformed {
                spi: Some(spi),
                error,
            },
        })?;
        if self.anti_replay {
            sa.window.mark(opened.seq);
        }
        Ok(opened)
    }

    /// Whether there is an outbound SA, so that [`seal_outbound`](Self::seal_outbound)
    /// can protect answers.
    pub fn has_outbound(&self) -> bool {
        self.outbound.is_some()
    }

    /// The ESP packet carrying `payload` (of protocol `next_header`) under
    /// the outbound SA, with sequence numbers 1, 2, 3, ...; `None` if there
    /// is no outbound SA, or once 2^32 - 1 packets have been sent: RFC 4303
    /// 3.3.3 forbids cycling the counter, a new SA is needed.
    pub fn seal_outbound(&mut self, next_header: u8, payload: &[u8]) -> Option<Vec<u8>> {
        let (sa, sent) = self.outbound.as_mut()?;
        let seq = sent.checked_add(1)?;
        *sent = seq;
        Some(esp_auth::seal(sa.spi, seq, &sa.key, next_header, payload))
    }
}

/// [`esp_auth::open`] with the ICV replaced by the right one first, so that
/// everything but the ICV is still checked.
fn open_ignoring_icv(key: &[u8], esp: &[u8]) -> Result<Opened, OpenError> {
    let Some(authenticated) = esp.len().checked_sub(esp_auth::ICV_LEN) else {
        return esp_auth::open(key, esp);
    };
    let mut fixed = esp.to_vec();
    fixed[authenticated..].copy_from_slice(&esp_auth::icv(key, &esp[..authenticated]));
    esp_auth::open(key, &fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MH: u8 = 135;

    fn sa(spi: u32, fill: u8) -> SecurityAssociation {
        SecurityAssociation {
            spi,
            key: vec![fill; 32],
        }
    }

    /// The MN's and the MAP's databases: each one's outbound SA is the
    /// other's inbound SA.
    fn pair(anti_replay: bool) -> (Sad, Sad) {
        let mn = Sad::new(vec![sa(0x2000, 0xbb)], Some(sa(0x1000, 0xaa)), anti_replay);
        let map = Sad::new(vec![sa(0x1000, 0xaa)], Some(sa(0x2000, 0xbb)), anti_replay);
        (mn, map)
    }

    /// A packet on the MN-to-MAP SA with any sequence number.
    fn packet(seq: u32) -> Vec<u8> {
        esp_auth::seal(0x1000, seq, &[0xaa; 32], MH, &seq.to_be_bytes())
    }

    fn receiver(anti_replay: bool) -> Sad {
        Sad::new(vec![sa(0x1000, 0xaa)], None, anti_replay)
    }

    #[test]
    fn round_trip_between_mirrored_databases() {
        let (mut mn, mut map) = pair(true);
        for i in 1..=3u32 {
            let bu = mn.seal_outbound(MH, b"binding update").unwrap();
            let opened = map.open_inbound(&bu).unwrap();
            assert_eq!(
                opened,
                Opened {
                    spi: 0x1000,
                    seq: i,
                    next_header: MH,
                    payload: b"binding update".to_vec(),
                }
            );
            let ba = map.seal_outbound(MH, b"binding ack").unwrap();
            let opened = mn.open_inbound(&ba).unwrap();
            assert_eq!((opened.spi, opened.seq), (0x2000, i));
            assert_eq!(opened.payload, b"binding ack");
        }
    }

    #[test]
    fn no_outbound_sa_seals_nothing() {
        let mut sad = receiver(true);
        assert_eq!(sad.seal_outbound(MH, b"x"), None);
    }

    #[test]
    fn the_outbound_counter_does_not_cycle() {
        let mut sad = Sad::new(vec![], Some(sa(1, 0)), true);
        sad.outbound.as_mut().unwrap().1 = u32::MAX - 1;
        let last = sad.seal_outbound(MH, b"").unwrap();
        assert_eq!(&last[4..8], &u32::MAX.to_be_bytes());
        assert_eq!(sad.seal_outbound(MH, b""), None);
    }

    #[test]
    fn a_replay_of_the_same_sequence_number_is_refused() {
        let mut sad = receiver(true);
        sad.open_inbound(&packet(1)).unwrap();
        assert_eq!(
            sad.open_inbound(&packet(1)),
            Err(SadError::Replayed {
                spi: 0x1000,
                seq: 1
            })
        );
        sad.open_inbound(&packet(2)).unwrap();
        assert_eq!(
            sad.open_inbound(&packet(1)),
            Err(SadError::Replayed {
                spi: 0x1000,
                seq: 1
            })
        );
    }

    #[test]
    fn out_of_order_within_the_window_is_accepted_once() {
        let mut sad = receiver(true);
        sad.open_inbound(&packet(100)).unwrap();
        for seq in [37, 99, 50, 64] {
            sad.open_inbound(&packet(seq)).unwrap();
            assert_eq!(
                sad.open_inbound(&packet(seq)),
                Err(SadError::Replayed { spi: 0x1000, seq })
            );
        }
        assert_eq!(sad.inbound[&0x1000].window.highest, 100);
    }

    #[test]
    fn too_old_is_refused() {
        let mut sad = receiver(true);
        sad.open_inbound(&packet(100)).unwrap();
        // The window is 37..=100.
        assert_eq!(
            sad.open_inbound(&packet(36)),
            Err(SadError::OutsideWindow {
                spi: 0x1000,
                seq: 36,
                highest: 100
            })
        );
        assert!(sad.open_inbound(&packet(37)).is_ok());
        assert!(matches!(
            sad.open_inbound(&packet(1)),
            Err(SadError::OutsideWindow { seq: 1, .. })
        ));
    }

    #[test]
    fn sequence_zero_is_refused() {
        let mut sad = receiver(true);
        assert_eq!(
            sad.open_inbound(&packet(0)),
            Err(SadError::SequenceZero { spi: 0x1000 })
        );
    }

    #[test]
    fn the_window_slides_across_large_jumps() {
        let mut sad = receiver(true);
        for seq in [1, 2, 3, 5] {
            sad.open_inbound(&packet(seq)).unwrap();
        }
        // A jump by less than the window keeps what was seen.
        sad.open_inbound(&packet(60)).unwrap();
        assert!(matches!(
            sad.open_inbound(&packet(5)),
            Err(SadError::Replayed { .. })
        ));
        sad.open_inbound(&packet(4)).unwrap();
        // A jump by exactly the window size: 60 becomes the oldest left out.
        sad.open_inbound(&packet(124)).unwrap();
        assert!(matches!(
            sad.open_inbound(&packet(60)),
            Err(SadError::OutsideWindow { .. })
        ));
        sad.open_inbound(&packet(61)).unwrap();
        // A jump far past the window clears it.
        sad.open_inbound(&packet(1_000_000)).unwrap();
        sad.open_inbound(&packet(1_000_000 - 63)).unwrap();
        assert!(matches!(
            sad.open_inbound(&packet(1_000_000 - 64)),
            Err(SadError::OutsideWindow { .. })
        ));
        // Up to the largest sequence number.
        sad.open_inbound(&packet(u32::MAX)).unwrap();
        assert!(matches!(
            sad.open_inbound(&packet(u32::MAX)),
            Err(SadError::Replayed { .. })
        ));
        sad.open_inbound(&packet(u32::MAX - 63)).unwrap();
    }

    #[test]
    fn without_anti_replay_replays_and_zero_are_accepted() {
        let mut sad = receiver(false);
        for seq in [5, 5, 1, 0, 5] {
            assert_eq!(sad.open_inbound(&packet(seq)).unwrap().seq, seq);
        }
    }

    #[test]
    fn a_forged_icv_is_refused_and_does_not_advance_the_window() {
        let mut sad = receiver(true);
        sad.open_inbound(&packet(1)).unwrap();
        let mut forged = packet(1000);
        *forged.last_mut().unwrap() ^= 1;
        assert_eq!(
            sad.open_inbound(&forged),
            Err(SadError::IcvMismatch { spi: 0x1000 })
        );
        let wrong_key = esp_auth::seal(0x1000, 2, &[0xbb; 32], MH, b"");
        assert_eq!(
            sad.open_inbound(&wrong_key),
            Err(SadError::IcvMismatch { spi: 0x1000 })
        );
        // Neither 1000 nor 2 was recorded: both still pass, and 2 is still
        // inside the window.
        assert_eq!(sad.inbound[&0x1000].window.highest, 1);
        sad.open_inbound(&packet(2)).unwrap();
        sad.open_inbound(&packet(1000)).unwrap();
    }

    #[test]
    fn unchecked_opening_accepts_a_forged_icv_but_keeps_the_window() {
        let mut sad = receiver(true);
        let mut forged = packet(5);
        *forged.last_mut().unwrap() ^= 1;
        let wrong_key = esp_auth::seal(0x1000, 6, &[0xbb; 32], MH, b"forged");
        let opened = sad.open_inbound_unchecked(&forged).unwrap();
        assert_eq!(
            (opened.seq, opened.payload),
            (5, 5u32.to_be_bytes().to_vec())
        );
        assert_eq!(
            sad.open_inbound_unchecked(&wrong_key).unwrap().payload,
            b"forged"
        );
        // Both were recorded: their replays are refused, checked or not.
        assert_eq!(
            sad.open_inbound_unchecked(&forged),
            Err(SadError::Replayed {
                spi: 0x1000,
                seq: 5
            })
        );
        assert_eq!(
            sad.open_inbound(&packet(6)),
            Err(SadError::Replayed {
                spi: 0x1000,
                seq: 6
            })
        );
        // The rest is still checked.
        let other = esp_auth::seal(0x1001, 1, &[0xaa; 32], MH, b"");
        assert_eq!(
            sad.open_inbound_unchecked(&other),
            Err(SadError::UnknownSpi { spi: 0x1001 })
        );
        assert!(matches!(
            sad.open_inbound_unchecked(&packet(7)[..20]),
            Err(SadError::Malformed { .. })
        ));
        assert!(matches!(
            sad.open_inbound_unchecked(&[0, 0, 0x10, 0, 0, 0, 0, 9]),
            Err(SadError::Malformed { .. })
        ));
        // Checked opening still refuses the forgery.
        let mut forged8 = packet(8);
        forged8[9] ^= 1;
        assert_eq!(
            sad.open_inbound(&forged8),
            Err(SadError::IcvMismatch { spi: 0x1000 })
        );
        assert_eq!(sad.open_inbound_unchecked(&forged8).unwrap().seq, 8);
    }

    #[test]
    fn unknown_spi_and_malformed_packets() {
        let mut sad = receiver(true);
        let other = esp_auth::seal(0x1001, 1, &[0xaa; 32], MH, b"");
        assert_eq!(
            sad.open_inbound(&other),
            Err(SadError::UnknownSpi { spi: 0x1001 })
        );
        assert_eq!(
            sad.open_inbound(&[0, 0, 0x10]),
            Err(SadError::Malformed {
                spi: None,
                error: OpenError::Truncated { len: 3 }
            })
        );
        assert_eq!(
            sad.open_inbound(&packet(1)[..6]),
            Err(SadError::Malformed {
                spi: Some(0x1000),
                error: OpenError::Truncated { len: 6 }
            })
        );
        for e in [
            SadError::UnknownSpi { spi: 0x1001 },
            SadError::IcvMismatch { spi: 1 },
            SadError::SequenceZero { spi: 1 },
            SadError::Replayed { spi: 1, seq: 2 },
            SadError::OutsideWindow {
                spi: 1,
                seq: 2,
                highest: 100,
            },
        ] {
            assert!(e.to_string().starts_with("ESP packet"), "{e}");
        }
        assert!(SadError::UnknownSpi { spi: 0x1001 }
            .to_string()
            .contains("0x1001"));
    }

    #[test]
    fn each_inbound_sa_has_its_own_window() {
        let mut sad = Sad::new(vec![sa(0x1000, 0xaa), sa(0x3000, 0xcc)], None, true);
        sad.open_inbound(&packet(7)).unwrap();
        let other = esp_auth::seal(0x3000, 7, &[0xcc; 32], MH, b"");
        sad.open_inbound(&other).unwrap();
        assert!(matches!(
            sad.open_inbound(&other),
            Err(SadError::Replayed { spi: 0x3000, .. })
        ));
    }

    #[test]
    fn parse_security_associations() {
        let key = "00112233445566778899aabbccddeeff";
        let sa: SecurityAssociation = format!("spi=0x1000,key={key}").parse().unwrap();
        assert_eq!(sa.spi, 0x1000);
        assert_eq!(sa.key, (0..16u8).map(|i| i * 0x11).collect::<Vec<u8>>());
        let sa: SecurityAssociation = format!(" key = 0x{key}{key} , spi=4096 ").parse().unwrap();
        assert_eq!((sa.spi, sa.key.len()), (4096, 32));
        assert!(!format!("{sa:?}").contains("0011"));
    }

    #[test]
    fn parse_errors_say_what_and_where() {
        let key = "00112233445566778899aabbccddeeff";
        let err = |s: &str| s.parse::<SecurityAssociation>().unwrap_err();
        let e = err(&format!("spi=0x10g0,key={key}"));
        assert_eq!(e.position, 4);
        assert!(e.message.contains("SPI `0x10g0`"), "{e}");
        assert!(err(&format!("spi=4294967296,key={key}"))
            .message
            .contains("32-bit"));
        let e = err(&format!("spi=0,key={key}"));
        assert!(e.message.contains("SPI 0"), "{e}");
        let e = err("spi=1,key=0011zz");
        assert_eq!(e.position, 14);
        assert!(e.message.contains("`z`"), "{e}");
        let e = err("spi=1,key=001");
        assert_eq!(e.position, 13);
        assert!(e.message.contains("odd"), "{e}");
        let e = err("spi=1,key=0011");
        assert_eq!(e.position, 10);
        assert!(e.message.contains("2 octets"), "{e}");
        assert!(err(&format!("key={key}")).message.contains("missing `spi"));
        assert!(err("spi=1").message.contains("missing `key"));
        let e = err(&format!("spi=1,spi=2,key={key}"));
        assert_eq!(e.position, 6);
        assert!(e.message.contains("twice"), "{e}");
        let e = err(&format!("spi=1,key={key},mode=tunnel"));
        assert!(e.message.contains("unknown field `mode`"), "{e}");
        assert!(err(&format!("spi=1,,key={key}")).message.contains("empty"));
        assert!(err("spi").message.contains("name=value"));
        assert!(err("").message.contains("empty"));
        let shown = err(&format!("spi=1,key={key}0")).to_string();
        assert!(shown.contains("at character"), "{shown}");
        assert!(
            !shown.contains(key),
            "the key stays out of messages: {shown}"
        );
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..80),
            known_spi in any::<bool>(),
            anti_replay in any::<bool>(),
        ) {
            let mut sad = receiver(anti_replay);
            let mut esp = bytes;
            if known_spi && esp.len() >= 4 {
                esp[..4].copy_from_slice(&0x1000u32.to_be_bytes());
            }
            let _ = sad.open_inbound(&esp);
        }

        /// The window against a model: a sequence number is accepted iff
        /// it is not 0, was not accepted before and is within 63 of the
        /// highest accepted so far.
        #[test]
        fn the_window_matches_a_model(seqs in proptest::collection::vec(
            prop_oneof![1u32..200, 0u32..3, any::<u32>()], 1..100)
        ) {
            let mut sad = receiver(true);
            let mut accepted = std::collections::BTreeSet::new();
            for seq in seqs {
                let highest = accepted.last().copied().unwrap_or(0u32);
                let expect = seq != 0
                    && !accepted.contains(&seq)
                    && u64::from(seq) + 63 >= u64::from(highest);
                let got = sad.open_inbound(&packet(seq));
                prop_assert_eq!(got.is_ok(), expect, "seq {} after {:?}", seq, accepted);
                if expect {
                    accepted.insert(seq);
                }
            }
        }
    }
}
