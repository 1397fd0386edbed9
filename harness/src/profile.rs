//! IUT profiles (`profiles/*.yaml`, DESIGN.md "IUT profile"): what a vendor
//! writes to put an implementation under test.
//!
//! ```yaml
//! name: my-map
//! role: map
//! pics: {valid_onlink_prefixes: true}
//! pixit:
//!   map_address: 2001:db8:ffff::1
//!   timeout: 1s
//! launch:
//!   command: [my-mapd, --access, "{if.access}", --core, "{if.core}"]
//!   kernel_ipv6: false
//!   ready: {stdout_line: ready, within: 2s}
//! actions:
//!   echo_request:
//!     command: [ping, -c1, "{args.dst}"]
//! security_associations:            # ESP, NULL encryption + HMAC-SHA-256-128
//!   mn_to_map: {spi: 0x1000, auth_key: "00112233445566778899aabbccddeeff"}
//!   map_to_mn: {spi: 0x2000, auth_key: "ffeeddccbbaa99887766554433221100"}
//! protect: {mobility_header: mn_to_map}
//! ```
//!
//! Or, for an external IUT wired to host interfaces:
//!
//! ```yaml
//! attach:
//!   interfaces: {access: enp3s0}
//!   macs: {access: "00:11:22:33:44:55"}
//! reset:
//!   command: [ssh, iut, "ip -6 addr flush dev eth1 scope global"]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::requirements::Role;
use crate::yaml::{self, Diagnostic, Yaml};

/// One profile file.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// A name for reports (default: the file name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The role the IUT plays: map, mn, ar, or host (an IPv6 node without
    /// HMIPv6).
    pub role: Role,
    /// What the IUT claims to support (names in `cases/pics.yaml`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub pics: serde_json::Map<String, Value>,
    /// Parameters the cases use as `{pixit.<name>}` (names in
    /// `cases/pics.yaml`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub pixit: serde_json::Map<String, Value>,
    /// Start the IUT in a namespace the harness makes (one per case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch: Option<Launch>,
    /// Or use existing host interfaces wired to an external IUT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach: Option<Attach>,
    /// Brings an IUT that several cases share (`restart: per-run`, or
    /// `attach`) back to its initial state: run before every case, where
    /// actions run. Ignored with `restart: per-case` (every case has a
    /// fresh IUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<Reset>,
    /// Commands the cases may ask for (`action` steps).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub actions: BTreeMap<String, ActionSpec>,
    /// Manually keyed IPsec security associations the IUT is configured
    /// with (RFC 4140 12.1), by name (conventional names in
    /// `cases/pics.yaml`: `mn_to_map`, `map_to_mn`, ...). Cases seal the
    /// frames they send with them (`esp: {sa: NAME}`) and received ESP
    /// packets whose SPI is one of these are opened and checked. A case
    /// naming an SA the profile does not declare is NOT-APPLICABLE.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_associations: BTreeMap<String, SecurityAssociation>,
    /// What the harness protects without being asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protect: Option<Protect>,
}

/// One security association: ESP in transport mode with NULL encryption
/// (RFC 2410) and HMAC-SHA-256-128 authentication (RFC 4868), the only
/// transform the harness speaks.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityAssociation {
    /// Security Parameters Index: a number (`0x1000` or `4096`), or a
    /// string holding one (`"0x1000"`). 1 to 255 are reserved (RFC 4303).
    #[serde(deserialize_with = "spi_value")]
    #[schemars(with = "SpiValue")]
    pub spi: u32,
    /// The HMAC-SHA-256 key, hex octets (at least 16 octets; RFC 4868
    /// recommends 32).
    pub auth_key: String,
}

impl SecurityAssociation {
    /// The key's octets (`Err` says what is wrong with `auth_key`).
    pub fn key(&self) -> Result<Vec<u8>, String> {
        let clean: String = self
            .auth_key
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .collect();
        let clean = clean
            .strip_prefix("0x")
            .or_else(|| clean.strip_prefix("0X"))
            .unwrap_or(&clean);
        if let Some((i, c)) = clean.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(format!("expected hex octets, found {c:?} at character {i}"));
        }
        if clean.len() % 2 != 0 {
            return Err(format!(
                "expected hex octets (an even number of hex digits), found {} digits",
                clean.len()
            ));
        }
        let key = (0..clean.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&clean[i..i + 2], 16).map_err(|_| {
                    format!(
                        "expected hex octets, found {:?} at digit {i}",
                        &clean[i..i + 2]
                    )
                })
            })
            .collect::<Result<Vec<u8>, String>>()?;
        if key.len() < MIN_AUTH_KEY {
            return Err(format!(
                "an HMAC-SHA-256-128 key needs at least {MIN_AUTH_KEY} octets, this one has {}",
                key.len()
            ));
        }
        Ok(key)
    }
}

/// The shortest `auth_key` accepted, in octets.
pub const MIN_AUTH_KEY: usize = 16;

/// `protect`: frames the harness seals on its own.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Protect {
    /// An SA name: every frame a case sends whose outermost IPv6 packet
    /// carries a Mobility Header (`mh`) and no `esp` key is sealed with it, ESP
    /// between the extension headers and the MH. `esp: none` in a step
    /// sends one unprotected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobility_header: Option<String>,
    /// An SA name: every Router Advertisement a case sends (an outermost
    /// packet with `icmpv6: {router_advert: ...}` and no `esp` key) is
    /// sealed with it, for IUTs that accept only authenticated RAs from
    /// other routers (RFC 4140 7). Emulated nodes' periodic RAs
    /// (`reflexes`) are not sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router_advert: Option<String>,
}

impl Protect {
    /// The (field, SA name) pairs given.
    pub fn named(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("mobility_header", self.mobility_header.as_deref()),
            ("router_advert", self.router_advert.as_deref()),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
    }
}

// For the schema only (`spi_value` reads it).
/// An SPI: a number, or a string holding one (decimal or `0x` hex).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum SpiValue {
    Number(u32),
    Text(String),
}

/// An SPI from a number or a string (`"0x1000"`, `"4096"`).
pub fn parse_spi(v: &Value) -> Result<u32, String> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => s.parse().ok(),
            }
        }
        _ => None,
    };
    n.and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("expected an SPI (a 32-bit number, e.g. 0x1000), found {v}"))
}

fn spi_value<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let v = Value::deserialize(d)?;
    parse_spi(&v).map_err(serde::de::Error::custom)
}

/// How to start the IUT.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Launch {
    /// The command and its arguments, run in the IUT's namespace. Placeholders:
    /// `{if.<link>}` (interface names), `{pixit.*}`, `{pics.*}`,
    /// `{case.id}`, `{case.dir}` (a scratch directory for this case).
    /// Absent: the IUT is the namespace's own kernel (kernel_ipv6 must be
    /// true), ready as soon as the links are.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "opt_words"
    )]
    #[schemars(with = "Option<Vec<Word>>")]
    pub command: Option<Vec<String>>,
    /// Environment variables for the command (placeholders allowed).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Whether the kernel's IPv6 runs on the IUT's links (default false:
    /// the IUT does its own IPv6 on raw frames).
    #[serde(default)]
    pub kernel_ipv6: bool,
    /// IPv6 sysctls for each IUT link, under `net/ipv6/conf/<link>/`
    /// (e.g. `accept_ra: 2`), written before the link comes up.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(with = "BTreeMap<String, Value>")]
    pub sysctls: BTreeMap<String, Value>,
    /// How the harness knows the IUT is ready.
    #[serde(default)]
    pub ready: Ready,
    /// `per-case` (default): a fresh IUT for every case, in its own
    /// topology. `per-run`: one topology (the union of the cases' links)
    /// and one IUT for the whole run, launched once and relaunched only if
    /// it dies; cases then run one at a time, each preceded by `reset`.
    #[serde(default)]
    pub restart: Restart,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Restart {
    #[default]
    PerCase,
    PerRun,
}

/// Readiness: a line on stdout or stderr containing the text, within the
/// deadline. With neither, ready once started.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_line: Option<String>,
    /// Deadline, e.g. "2s" (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub within: Option<Value>,
}

/// An external IUT on host interfaces. The harness opens packet sockets
/// on them (promiscuous while the run lasts) and changes nothing else: they
/// must exist, be up, have a carrier and have IPv6 off (the tester owns
/// every frame). There is no IUT process: the IUT is ready at once, cases
/// run one at a time, and `reset` and actions run as plain commands in the
/// harness's own network namespace.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attach {
    /// Case link name -> host interface wired to the IUT. A case with a
    /// link not listed here is NOT-APPLICABLE.
    pub interfaces: BTreeMap<String, String>,
    /// The IUT's MAC on each link of `interfaces` (destination of unicast
    /// frames to it; `{iut.<link>.mac}` in cases).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub macs: BTreeMap<String, String>,
}

/// The command that resets a shared IUT (see [`Profile::reset`]).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// Placeholders as for `launch.command` (`{case.id}` is the case about
    /// to run). It must exit 0, within `within`; otherwise the case is an
    /// ERROR.
    #[serde(deserialize_with = "words")]
    pub command: Vec<String>,
    /// Deadline (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub within: Option<Value>,
}

/// A command a case can ask for.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Run in the IUT's namespace (for an attached IUT: as a plain command
    /// in the harness's own namespace); placeholders as for
    /// `launch.command` plus `{args.<name>}` from the step (`{if.<link>}`
    /// is then the host interface).
    #[serde(deserialize_with = "words")]
    #[schemars(with = "Vec<Word>")]
    pub command: Vec<String>,
    /// Wait for the command to exit (default true); a non-zero exit is an
    /// ERROR of the case. False: start it and go on.
    #[serde(default = "yes")]
    pub wait: bool,
    /// Deadline when waiting (default 5s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub within: Option<Value>,
}

fn yes() -> bool {
    true
}

// For the schema only (`words` reads commands): what a command word may be.
/// A word of a command line. YAML reads `-6` or `5` as numbers and `true`
/// as a boolean; they are taken as the words they are written as.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Word {
    Text(String),
    Number(f64),
    Bool(bool),
}

/// A command line: YAML reads `-6` or `5` as numbers, but they are words.
fn words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items = Vec::<Value>::deserialize(d)?;
    items
        .into_iter()
        .map(|v| match v {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(serde::de::Error::custom(format!(
                "expected a word of the command line, found {other}"
            ))),
        })
        .collect()
}

fn opt_words<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    words(d).map(Some)
}

/// A profile file, loaded.
#[derive(Clone, Debug)]
pub struct LoadedProfile {
    pub profile: Profile,
    pub tree: Yaml,
    pub path: PathBuf,
}

impl LoadedProfile {
    pub fn name(&self) -> String {
        self.profile.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

/// Reads and parses a profile (shape only; lint checks the rest).
pub fn load(path: &Path) -> Result<LoadedProfile, Diagnostic> {
    let (profile, tree) = yaml::load::<Profile>(path)?;
    Ok(LoadedProfile {
        profile,
        tree,
        path: path.to_path_buf(),
    })
}

/// The catalogue of PICS and PIXIT names (`cases/pics.yaml`): what each
/// means, its type, and for PIXITs an example and an optional default.
#[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterCatalogue {
    #[serde(default)]
    pub pics: BTreeMap<String, ParameterDoc>,
    #[serde(default)]
    pub pixit: BTreeMap<String, ParameterDoc>,
    /// The conventional names of security associations (profiles'
    /// `security_associations`, cases' `esp: {sa: NAME}`).
    #[serde(default)]
    pub security_associations: BTreeMap<String, SaDoc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaDoc {
    pub description: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterDoc {
    pub description: String,
    /// bool, address, prefix, duration, number, string, list.
    #[serde(rename = "type")]
    pub kind: String,
    /// Used when the profile does not give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub default: Option<Value>,
    /// A plausible value (lint builds frames with it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<Value>")]
    pub example: Option<Value>,
}

impl ParameterCatalogue {
    pub fn load(path: &Path) -> Result<(ParameterCatalogue, Yaml), Diagnostic> {
        yaml::load(path)
    }
}
