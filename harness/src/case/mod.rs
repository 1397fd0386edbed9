//! The case language (DESIGN.md, "Cases"): one YAML file per case, pure
//! data. This module holds the typed model (what [`schemars`] turns into
//! `cases/schema.json`) and loading; [`template`] resolves variables,
//! [`frame_spec`] turns the frame descriptions of `send` steps into `wire`
//! frames and received frames into the views `expect` patterns match,
//! [`pattern`] matches.
//!
//! A frame description names layers by short keys, in any order, each
//! holding that layer in `wire`'s JSON form (what `hmip6spec decode --json`
//! prints), with a few conveniences:
//!
//! | key          | layer                                                   |
//! |--------------|---------------------------------------------------------|
//! | `eth`        | Ethernet: `src`, `dst` (defaults: the sender's MAC; the IUT's MAC on the link, or the multicast MAC of the IPv6 destination) |
//! | `ipv6`       | IPv6: `src`, `dst`, `hop_limit` (default 255 for ND, else 64), `traffic_class`, `flow_label`, overrides `next_header`, `payload_len` |
//! | `hop_by_hop`, `dest_opts` | a list of options (`home_address: {address: X}`, `pad_n: {len: 2}`, ...), padded and aligned as RFC 6275 wants unless the list has its own padding; or `{options: [...], hdr_ext_len: N}` as is |
//! | `routing`    | `{type: 2, home_address: X}` (segments left 1), or the wire form |
//! | `fragment`, `ah` | the wire form                                       |
//! | `esp`        | `{sa: NAME}` (optionally `seq`, `spi`, `icv: corrupt`, `next_header`): the layers after it sealed with the profile's SA (see [`esp`]); `none`: no ESP, not even the profile's `protect`; or the wire form `{spi, seq, data}` |
//! | `icmpv6`     | `{<message>: {...}, code: N, checksum: N}`              |
//! | `mh`         | `{<message>: {...}, options: [...], checksum, header_len, payload_proto}`; options aligned unless padded |
//! | `payload`    | octets, hex                                             |
//! | `tunnel`     | the encapsulated packet: the same keys, from `ipv6` on  |
//!
//! `layers` (the full wire form, every field exact) and `raw` (hex octets)
//! are the last resorts for frames the keys cannot say.

pub mod esp;
pub mod frame_spec;
pub mod pattern;
pub mod template;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::requirements::Role;
use crate::yaml::{self, Diagnostic, Yaml};

/// A JSON value in a case: any YAML, may hold `{variables}`.
pub type Data = Value;

/// One case file.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique, dotted: `<role>.<area>.<behaviour>`, e.g.
    /// `map.bu.ba-carries-rh2`.
    pub id: String,
    /// One line saying what is checked.
    pub title: String,
    /// More words, for `hmip6spec explain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// IDs from `cases/requirements.yaml`; the first is the one a failed
    /// expectation violates unless the step names its own.
    pub requirements: Vec<String>,
    /// The role of the IUT this case tests (`role: map`), or the roles when
    /// the same test applies to several (`role: [map, ar]`): the case runs
    /// against an IUT of any of them.
    #[serde(rename = "role")]
    pub roles: Roles,
    /// What the IUT must claim for the case to apply: PICS name -> the value
    /// required, or a list of acceptable values. Otherwise NOT-APPLICABLE.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pics: BTreeMap<String, Data>,
    pub topology: CaseTopology,
    /// Case variables, evaluated in order; may use `{pixit.*}` and earlier
    /// variables.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Data>")]
    pub vars: serde_json::Map<String, Value>,
    pub steps: Vec<Step>,
}

/// The roles a case applies to: one (`map`) or a list (`[map, ar]`), in
/// file order, never empty, without repeats (checked when the file is read,
/// so every `Roles` holds at least one role).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roles(Vec<Role>);

impl Roles {
    /// A single role, the common case.
    pub fn one(role: Role) -> Roles {
        Roles(vec![role])
    }

    /// A list of roles; empty or with a role twice is an error.
    pub fn new(roles: Vec<Role>) -> Result<Roles, String> {
        if roles.is_empty() {
            return Err(EMPTY_ROLES.into());
        }
        for (i, r) in roles.iter().enumerate() {
            if roles[..i].contains(r) {
                return Err(duplicate_role(*r));
            }
        }
        Ok(Roles(roles))
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    /// Whether any of `roles` is one of these.
    pub fn any_of(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.contains(*r))
    }

    /// The first role the file names (a case ID starts with one of them).
    pub fn first(&self) -> Role {
        self.0[0]
    }

    pub fn as_slice(&self) -> &[Role] {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (a `Roles` holds at least one role); for clippy's
    /// `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roles with `sep` between them: "map, ar" with ", ".
    pub fn join(&self, sep: &str) -> String {
        let names: Vec<&str> = self.0.iter().map(|r| r.name()).collect();
        names.join(sep)
    }
}

const EMPTY_ROLES: &str = "expected at least one role (map, mn, ar, host)";

fn duplicate_role(r: Role) -> String {
    format!("role {r} appears twice; list each role once")
}

/// In prose: "map", "map or ar", "map, ar or host".
impl std::fmt::Display for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (last, rest) = self.0.split_last().expect("a Roles is never empty");
        for (i, r) in rest.iter().enumerate() {
            f.write_str(r.name())?;
            f.write_str(if i + 1 == rest.len() { " or " } else { ", " })?;
        }
        f.write_str(last.name())
    }
}

/// One role as a string, as files say it, so that single-role cases and
/// their results read as before; several as a list.
impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(s),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Roles;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a role (map, mn, ar, host) or a list of roles")
            }

            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Roles, E> {
                // Through `Role`'s own deserialiser, so that an unknown role
                // reads exactly as it did before lists were allowed.
                use serde::de::IntoDeserializer;
                Role::deserialize(s.into_deserializer()).map(Roles::one)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Roles, A::Error> {
                let mut roles = Vec::new();
                // Each item is checked against those before it as it is
                // read, so a repeat is reported at the item, not the list.
                while let Some(r) = a.next_element_seed(NewRole(&roles))? {
                    roles.push(r);
                }
                if roles.is_empty() {
                    return Err(serde::de::Error::custom(EMPTY_ROLES));
                }
                Ok(Roles(roles))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list item of `role:`: a role not among `.0`.
struct NewRole<'a>(&'a [Role]);

impl<'de> serde::de::DeserializeSeed<'de> for NewRole<'_> {
    type Value = Role;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Role, D::Error> {
        let r = Role::deserialize(d)?;
        if self.0.contains(&r) {
            return Err(serde::de::Error::custom(duplicate_role(r)));
        }
        Ok(r)
    }
}

impl JsonSchema for Roles {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Roles".into()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let role = g.subschema_for::<Role>();
        schemars::json_schema!({
            "description": "One role, or a list of roles without repeats.",
            "anyOf": [
                role,
                {"type": "array", "items": role, "minItems": 1, "uniqueItems": true}
            ]
        })
    }
}

/// The links of the case and the emulated nodes on them.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseTopology {
    /// Link names (interface names on both sides: at most 15 characters of
    /// `[A-Za-z0-9_.-]`).
    pub links: Vec<LinkDecl>,
    /// Emulated nodes by name: `link`, `addresses`, `router`, `reflexes`,
    /// ... (see the `topology::node` module); values may use variables.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schemars(with = "BTreeMap<String, Data>")]
    pub nodes: serde_json::Map<String, Value>,
}

/// A link: its name, or its name with settings.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum LinkDecl {
    Name(String),
    Spec(LinkSettings),
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSettings {
    pub name: String,
    /// MTU of both ends (default 1500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

impl LinkDecl {
    pub fn name(&self) -> &str {
        match self {
            LinkDecl::Name(n) => n,
            LinkDecl::Spec(s) => &s.name,
        }
    }

    pub fn mtu(&self) -> Option<u32> {
        match self {
            LinkDecl::Name(_) => None,
            LinkDecl::Spec(s) => s.mtu,
        }
    }
}

/// One step. Steps run in order; the first that fails ends the case.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Send a frame.
    Send(Box<SendStep>),
    /// A frame matching the pattern must arrive within the deadline.
    Expect(Box<ExpectStep>),
    /// No frame matching the pattern may arrive within the window.
    ExpectNone(Box<ExpectStep>),
    /// Ask the IUT for a profile action.
    Action(ActionStep),
    /// Let time pass (for timers under test: lifetimes, retransmissions).
    Wait(WaitStep),
    /// Run the steps `count` times; `{i}` is the iteration, from 0.
    Repeat(RepeatStep),
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Send(_) => "send",
            Step::Expect(_) => "expect",
            Step::ExpectNone(_) => "expect_none",
            Step::Action(_) => "action",
            Step::Wait(_) => "wait",
            Step::Repeat(_) => "repeat",
        }
    }
}

/// Declares a struct of the case language whose fields include the layer
/// keys of a frame description, each `Option<Data>` with the same serde
/// attributes, and `tunnel`: one list of keys for `send`, `expect` and
/// tunnelled packets. (`#[serde(flatten)]` would share them too, but rules
/// out `deny_unknown_fields`, and lint must report unknown keys.)
macro_rules! frame_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            fields { $($head:tt)* }
            layers { $($layer:ident),* $(,)? }
            tunnel: $tunnel:ty,
            more { $($tail:tt)* }
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $($head)*
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $layer: Option<Data>,
            )*
            /// The encapsulated packet: the same keys, from `ipv6` on.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tunnel: Option<$tunnel>,
            $($tail)*
        }
    };
}

frame_struct! {
    /// The layers of an IPv6 packet in a frame description (see the module
    /// documentation). Values may use variables.
    #[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct PacketSpec {
        fields {
        }
        layers { ipv6, hop_by_hop, dest_opts, routing, fragment, ah, esp, icmpv6, mh, payload }
        tunnel: Box<PacketSpec>,
        more {
        }
    }
}

frame_struct! {
    /// `send`: a frame from an emulated node (or from the tester's own end of
    /// a link).
    #[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct SendStep {
        fields {
            /// The emulated node that sends it: its MAC is the Ethernet source and
            /// the other nodes on the link hear it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub from: Option<String>,
            /// The link (default: the `from` node's link).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub on: Option<String>,
            /// Written as a comment on the frame in the capture.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub note: Option<String>,
        }
        layers { eth, ipv6, hop_by_hop, dest_opts, routing, fragment, ah, esp, icmpv6, mh, payload }
        tunnel: Box<PacketSpec>,
        more {
            /// Cut the emitted frame to this many octets.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub truncate: Option<Data>,
            /// The whole frame in `wire`'s JSON form (instead of the keys above).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub layers: Option<Vec<Data>>,
            /// The whole frame as hex octets (instead of the keys above).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub raw: Option<String>,
        }
    }
}

/// What a failed `expect` means.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnTimeout {
    /// The IUT violated the requirement (default).
    #[default]
    Fail,
    /// A precondition did not hold (e.g. the IUT never registered): the
    /// case says nothing about the requirement.
    Inconclusive,
}

frame_struct! {
    /// `expect` / `expect_none`: a pattern over the frames the IUT sends.
    /// Unnamed fields are "don't care". Each value is a literal (addresses
    /// compare as addresses, numbers as numbers), or an operator mapping:
    /// `{any: true}`, `absent`, `{present: true}`, `{one_of: [..]}`,
    /// `{not: ..}`, `{below: N}`, `{above: N}`, `{at_most: N}`, `{at_least: N}`,
    /// `{range: [lo, hi]}`, `{in_prefix: "2001:db8::/64"}`, `{bind: name}`
    /// (remember the observed value as `{name}`), `{exactly: [..]}` (a list in
    /// order); a list pattern matches a list containing a match for each item.
    #[derive(Clone, Debug, Default, Serialize, Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    pub struct ExpectStep {
        fields {
            /// The link to watch (default: every link).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub on: Option<String>,
            /// The deadline (expect) or window (expect_none), e.g. "1s", "250ms",
            /// or `{pixit.name}`; default the PIXIT `timeout` (2 s).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub within: Option<Data>,
            /// The requirement a failure violates (default: the case's first).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub requirement: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub on_timeout: Option<OnTimeout>,
            /// `expect` only: the frame the expectation judges, as a pattern
            /// (e.g. `{mh: {binding_ack: {seq: 100}}}`). If no frame matching
            /// `when` arrives, the IUT never sent the message and the case
            /// is INCONCLUSIVE; if one does but none matches the whole
            /// pattern, FAIL. So a MAP that sends no BA at all is not said
            /// to break a rule about what a BA holds.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub when: Option<Data>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub note: Option<String>,
        }
        layers { eth, ipv6, hop_by_hop, dest_opts, routing, fragment, ah, esp, icmpv6, mh, payload }
        tunnel: Data,
        more {
        }
    }
}

/// `action`: a profile action by name (`action: move`), or with arguments.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ActionStep {
    Name(String),
    WithArgs(ActionCall),
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionCall {
    pub name: String,
    /// Values for the action's `{args.*}` placeholders; may use variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, Data>,
}

impl ActionStep {
    pub fn name(&self) -> &str {
        match self {
            ActionStep::Name(n) => n,
            ActionStep::WithArgs(c) => &c.name,
        }
    }

    pub fn args(&self) -> BTreeMap<String, Data> {
        match self {
            ActionStep::Name(_) => BTreeMap::new(),
            ActionStep::WithArgs(c) => c.args.clone(),
        }
    }
}

/// Deserialises a name or a mapping, the two forms of [`LinkDecl`] and
/// [`ActionStep`]. (`#[serde(untagged)]` would say only "data did not match
/// any variant" for a mapping with a wrong field; this way the mapping's own
/// error comes out, with its path.)
struct NameOrMap<T, M> {
    name: fn(String) -> T,
    map: fn(M) -> T,
    expecting: &'static str,
}

impl<'de, T, M: Deserialize<'de>> serde::de::Visitor<'de> for NameOrMap<T, M> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        Ok((self.name)(s.to_string()))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, a: A) -> Result<T, A::Error> {
        M::deserialize(serde::de::value::MapAccessDeserializer::new(a)).map(self.map)
    }
}

impl<'de> Deserialize<'de> for LinkDecl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NameOrMap {
            name: LinkDecl::Name,
            map: LinkDecl::Spec,
            expecting: "a link name, or a mapping {name, mtu}",
        })
    }
}

impl<'de> Deserialize<'de> for ActionStep {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NameOrMap {
            name: ActionStep::Name,
            map: ActionStep::WithArgs,
            expecting: "an action name, or a mapping {name, args}",
        })
    }
}

/// `wait: 500ms` (or a variable).
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct WaitStep(pub Data);

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepeatStep {
    /// How many times (a number or a variable).
    pub count: Data,
    pub steps: Vec<Step>,
}

/// A case file, loaded: the model, its located tree and where it is.
#[derive(Clone, Debug)]
pub struct LoadedCase {
    pub case: Case,
    pub tree: Yaml,
    pub path: PathBuf,
}

/// Reads and parses one case file (syntax and shape only; [`crate::lint`]
/// checks the rest).
pub fn load(path: &Path) -> Result<LoadedCase, Diagnostic> {
    let (case, tree) = yaml::load::<Case>(path)?;
    Ok(LoadedCase {
        case,
        tree,
        path: path.to_path_buf(),
    })
}

/// Every `*.yaml` under `dir` (recursively) except the catalogues, sorted.
pub fn discover(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") && d != dir {
                // Files directly in `cases/` are catalogues
                // (requirements.yaml, pics.yaml); cases live in role folders.
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse, typed};

    /// `role:` as written, in a case that is otherwise fine; the case or
    /// the diagnostic as `file:line:column: message`.
    fn with_role(role: &str) -> Result<Case, String> {
        let text = format!(
            "id: map.x.y\ntitle: t\nrequirements: [RFC4140-1-A]\nrole: {role}\n\
             topology: {{links: [access]}}\nsteps: [{{wait: 1ms}}]\n"
        );
        let path = Path::new("c.yaml");
        let tree = parse(path, &text).map_err(|d| d.to_string())?;
        typed::<Case>(path, &tree).map_err(|d| d.to_string())
    }

    #[test]
    fn one_role() {
        let c = with_role("map").unwrap();
        assert_eq!(c.roles, Roles::one(Role::Map));
        assert_eq!(c.roles.to_string(), "map");
        // Written back as it was read: a string.
        assert_eq!(serde_json::to_value(&c).unwrap()["role"], "map");
    }

    #[test]
    fn a_list_of_roles() {
        let c = with_role("[map, ar]").unwrap();
        assert_eq!(c.roles.as_slice(), [Role::Map, Role::Ar]);
        assert!(c.roles.contains(Role::Ar) && !c.roles.contains(Role::Mn));
        assert_eq!(c.roles.first(), Role::Map);
        assert_eq!(c.roles.to_string(), "map or ar");
        assert_eq!(
            serde_json::to_value(&c).unwrap()["role"],
            serde_json::json!(["map", "ar"])
        );
        assert_eq!(with_role("[mn]").unwrap().roles, Roles::one(Role::Mn));
        let three = with_role("[host, mn, ar]").unwrap();
        assert_eq!(three.roles.to_string(), "host, mn or ar");
        assert_eq!(three.roles.join(", "), "host, mn, ar");
    }

    #[test]
    fn an_empty_list_is_an_error_at_the_list() {
        assert_eq!(
            with_role("[]").unwrap_err(),
            "c.yaml:4:7: role: expected at least one role (map, mn, ar, host)"
        );
    }

    #[test]
    fn a_repeated_role_is_an_error_at_the_repeat() {
        assert_eq!(
            with_role("[map, ar, map]").unwrap_err(),
            "c.yaml:4:17: role[2]: role map appears twice; list each role once"
        );
    }

    #[test]
    fn an_unknown_role_is_an_error_at_the_role() {
        let e = "unknown variant `router`, expected one of `map`, `mn`, `ar`, `host`";
        assert_eq!(
            with_role("router").unwrap_err(),
            format!("c.yaml:4:7: role: {e}")
        );
        assert_eq!(
            with_role("[map, router]").unwrap_err(),
            format!("c.yaml:4:13: role[1]: {e}")
        );
        assert!(with_role("3")
            .unwrap_err()
            .starts_with("c.yaml:4:7: role: invalid type"));
        assert!(with_role("{map: true}").is_err());
    }

    #[test]
    fn roles_new_checks_like_the_file() {
        assert!(Roles::new(vec![]).is_err());
        assert!(Roles::new(vec![Role::Ar, Role::Ar]).is_err());
        assert_eq!(Roles::new(vec![Role::Ar]).unwrap().as_slice(), [Role::Ar]);
    }
}
