//! A small ESP security association table (RFC 4140 12.1, manual keys):
//! inbound SAs by SPI with a 64-packet anti-replay window (RFC 4303
//! 3.4.3), one outbound SA with its sequence counter. The transform is
//! NULL encryption with HMAC-SHA-256-128, done by [`wire::esp_auth`].
//!
//! Roles use it through the narrow [`EspProtect`] trait, so another SA
//! database can replace it.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

pub use wire::esp_auth::Opened;
use wire::esp_auth::{self, OpenError};

/// A manually keyed SA as given on the command line: `spi=0x1000,key=HEX`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaSpec {
    pub spi: u32,
    pub key: Vec<u8>,
}

fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u32::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if s.is_empty() || s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

impl FromStr for SaSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut spi = None;
        let mut key = None;
        for part in s.split(',') {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("expected spi=0x1000,key=HEX, found {s:?}"))?;
            match k.trim() {
                "spi" => {
                    spi = Some(
                        parse_u32(v.trim())
                            .filter(|&x| x >= 256)
                            .ok_or_else(|| format!("SPI {v:?} is not a number of 256 or more"))?,
                    )
                }
                "key" => {
                    key =
                        Some(parse_hex(v.trim()).ok_or_else(|| {
                            format!("key {v:?} is not an even number of hex digits")
                        })?)
                }
                other => return Err(format!("unknown SA field {other:?} (expected spi, key)")),
            }
        }
        Ok(SaSpec {
            spi: spi.ok_or_else(|| format!("SA {s:?} has no spi="))?,
            key: key.ok_or_else(|| format!("SA {s:?} has no key="))?,
        })
    }
}

impl<'de> serde::Deserialize<'de> for SaSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Why an inbound ESP packet was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EspError {
    /// Too short to hold an SPI.
    Short,
    /// No inbound SA has this SPI.
    NoSa { spi: u32 },
    /// The ICV, padding or length is wrong.
    Open(OpenError),
    /// The sequence number was seen already or is left of the window.
    Replay { seq: u32 },
}

impl fmt::Display for EspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EspError::Short => write!(f, "ESP packet shorter than its SPI"),
            EspError::NoSa { spi } => write!(f, "no inbound SA with SPI {spi:#x}"),
            EspError::Open(e) => write!(f, "{e}"),
            EspError::Replay { seq } => write!(f, "ESP sequence number {seq} replayed or too old"),
        }
    }
}

/// What a role needs from an SA database.
pub trait EspProtect: Send {
    /// Authenticate and unwrap an ESP packet (from its SPI to the end of
    /// the IP packet), enforcing anti-replay.
    fn open_inbound(&mut self, esp: &[u8]) -> Result<Opened, EspError>;
    /// The ESP packet carrying `payload` (protocol `nh`) under the outbound
    /// SA; empty when there is none (see [`has_outbound`](Self::has_outbound)).
    fn seal_outbound(&mut self, nh: u8, payload: &[u8]) -> Vec<u8>;
    fn has_outbound(&self) -> bool;
    fn has_inbound(&self) -> bool;
}

/// The anti-replay window of RFC 4303 3.4.3, 64 packets wide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// Highest sequence number accepted so far (0: none).
    top: u32,
    /// Bit i set: `top - i` was accepted.
    bitmap: u64,
}

impl ReplayWindow {
    pub const SIZE: u32 = 64;

    /// Would `seq` be accepted (not yet seen, not left of the window)?
    pub fn check(&self, seq: u32) -> bool {
        if seq == 0 {
            return false;
        }
        if seq > self.top {
            return true;
        }
        let d = self.top - seq;
        d < Self::SIZE && self.bitmap & (1u64 << d) == 0
    }

    /// Record `seq` as accepted (after its ICV verified).
    pub fn update(&mut self, seq: u32) {
        if seq > self.top {
            let shift = seq - self.top;
            self.bitmap = if shift >= Self::SIZE {
                0
            } else {
                self.bitmap << shift
            };
            self.bitmap |= 1;
            self.top = seq;
        } else {
            let d = self.top - seq;
            if d < Self::SIZE {
                self.bitmap |= 1u64 << d;
            }
        }
    }
}

#[derive(Debug)]
struct InboundSa {
    key: Vec<u8>,
    window: ReplayWindow,
}

#[derive(Debug)]
struct OutboundSa {
    spi: u32,
    key: Vec<u8>,
    seq: u32,
}

/// The SA table.
#[derive(Debug)]
pub struct SaTable {
    inbound: HashMap<u32, InboundSa>,
    outbound: Option<OutboundSa>,
    anti_replay: bool,
}

impl SaTable {
    /// `anti_replay = false` accepts replayed packets (a fault switch).
    pub fn new(inbound: &[SaSpec], outbound: Option<&SaSpec>, anti_replay: bool) -> Self {
        SaTable {
            inbound: inbound
                .iter()
                .map(|s| {
                    (
                        s.spi,
                        InboundSa {
                            key: s.key.clone(),
                            window: ReplayWindow::default(),
                        },
                    )
                })
                .collect(),
            outbound: outbound.map(|s| OutboundSa {
                spi: s.spi,
                key: s.key.clone(),
                seq: 0,
            }),
            anti_replay,
        }
    }
}

impl EspProtect for SaTable {
    fn open_inbound(&mut self, esp: &[u8]) -> Result<Opened, EspError> {
        let spi = esp
            .get(0..4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(EspError::Short)?;
        let sa = self.inbound.get_mut(&spi).ok_or(EspError::NoSa { spi })?;
        let seq = esp
            .get(4..8)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(EspError::Short)?;
        if self.anti_replay && !sa.window.check(seq) {
            return Err(EspError::Replay { seq });
        }
        let opened = esp_auth::open(&sa.key, esp).map_err(EspError::Open)?;
        sa.window.update(seq);
        Ok(opened)
    }

    fn seal_outbound(&mut self, nh: u8, payload: &[u8]) -> Vec<u8> {
        match self.outbound.as_mut() {
            Some(sa) => {
                sa.seq = sa.seq.wrapping_add(1).max(1);
                esp_auth::seal(sa.spi, sa.seq, &sa.key, nh, payload)
            }
            None => Vec::new(),
        }
    }

    fn has_outbound(&self) -> bool {
        self.outbound.is_some()
    }

    fn has_inbound(&self) -> bool {
        !self.inbound.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(spi: u32) -> SaSpec {
        SaSpec {
            spi,
            key: vec![0x11; 32],
        }
    }

    #[test]
    fn sa_specs_parse() {
        let s: SaSpec = "spi=0x1000,key=00112233".parse().unwrap();
        assert_eq!(s.spi, 0x1000);
        assert_eq!(s.key, vec![0, 0x11, 0x22, 0x33]);
        assert!("spi=0x1000".parse::<SaSpec>().is_err());
        assert!("spi=1,key=00".parse::<SaSpec>().is_err());
        assert!("spi=0x1000,key=0g".parse::<SaSpec>().is_err());
    }

    #[test]
    fn replay_window_rfc4303() {
        let mut w = ReplayWindow::default();
        assert!(!w.check(0));
        assert!(w.check(1));
        w.update(1);
        assert!(!w.check(1));
        w.update(100);
        assert!(w.check(37 + 1));
        assert!(!w.check(36), "left of the window");
        assert!(w.check(99));
        w.update(99);
        assert!(!w.check(99));
        w.update(1000);
        assert!(!w.check(100));
        assert!(w.check(999));
    }

    #[test]
    fn seal_then_open_and_replay_is_refused() {
        let mut tx = SaTable::new(&[], Some(&sa(0x2000)), true);
        let mut rx = SaTable::new(&[sa(0x2000)], None, true);
        let p = tx.seal_outbound(135, b"12345678");
        let o = rx.open_inbound(&p).unwrap();
        assert_eq!(o.payload, b"12345678");
        assert_eq!(o.next_header, 135);
        assert_eq!(rx.open_inbound(&p), Err(EspError::Replay { seq: 1 }));
        let mut lax = SaTable::new(&[sa(0x2000)], None, false);
        assert!(lax.open_inbound(&p).is_ok());
        assert!(lax.open_inbound(&p).is_ok());
        let mut bad = p.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        let mut rx2 = SaTable::new(&[sa(0x2000)], None, true);
        assert_eq!(
            rx2.open_inbound(&bad),
            Err(EspError::Open(OpenError::IcvMismatch))
        );
        assert_eq!(
            rx2.open_inbound(&[0, 0, 0x30, 0]),
            Err(EspError::NoSa { spi: 0x3000 })
        );
        assert_eq!(rx2.open_inbound(&[0, 0]), Err(EspError::Short));
    }
}
