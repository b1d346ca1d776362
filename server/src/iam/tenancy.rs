//! The tenancy file (`--tenancy`, JSON): who exists and which API keys they
//! sign with. Loaded and validated once at start; a bad file is refused with
//! the path of the wrong field (`users[0].apiKeys[0].publicKeyPem: …`).
//!
//! Shape (fields may be added, never renamed):
//! `{"tenancy": {"id","name","homeRegion"}, "compartments": [{"id","name","parentId"}],
//!   "groups": [{"id","name","domain"?}], "users": [{"id","name","domain"?,"groups": [names],
//!   "apiKeys": [{"publicKeyPem","fingerprint"?}]}],
//!   "policies": [{"name","compartmentId","statements": [..]}],
//!   "dynamicGroups": [{"id","name","matchingRule"}], "regions": ["us-phoenix-1", ..],
//!   "functions": [{"id","compartmentId","invokeUrl"}],
//!   "instances": [{"id","compartmentId","displayName","freeformTags"?,"definedTags"?}]}`.
//!
//! `instances` are the compute instances whose instance principals the
//! emulator serves (`/_emulator/imds/<instance OCID>/opc/v2/…` and
//! `POST /v1/x509`); their compartment and defined tags are what dynamic
//! group matching rules read (`iam::dynamic_groups`).
//!
//! `regions` are the regions the tenancy is subscribed to (besides its
//! `homeRegion` and the emulator's `--region`, which always count): where
//! `CreateVaultReplica` may put a replica and which `/regions/<region>/…`
//! endpoints answer.
//!
//! `functions` stand in for OCI Functions a secret's rotation may name
//! (`FunctionTargetSystemDetails.functionId`): the emulator POSTs each
//! rotation step to the function's `invokeUrl`, a plain `http://` endpoint
//! (`services::secret_rotation`).
//!
//! Policy statements and matching rules are parsed at load: one that does
//! not parse refuses the file with the policy's name, the statement and the
//! column (`iam::policy`).

use std::collections::{HashMap, HashSet};

use anyhow::bail;
use serde::{Deserialize, Serialize};

pub use super::dynamic_groups::{DynamicGroup, Instance};
use crate::crypto::PublicKey;
use crate::ocid::is_ocid_of;

/// The fixture tenancy compiled into the binary (`fixtures/tenancy.json`).
pub const EMBEDDED: &str = include_str!("../../../fixtures/tenancy.json");

/// The tenancy file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenancyFile {
    /// The root compartment.
    pub tenancy: TenancyInfo,
    /// Child compartments (any depth, via `parentId`).
    #[serde(default)]
    pub compartments: Vec<Compartment>,
    /// Groups.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Users with their API keys.
    pub users: Vec<User>,
    /// Policies, evaluated on every request (`iam::eval`).
    #[serde(default)]
    pub policies: Vec<Policy>,
    /// Dynamic groups (instance and resource principals match them).
    #[serde(default)]
    pub dynamic_groups: Vec<DynamicGroup>,
    /// Region names the tenancy is subscribed to (`us-phoenix-1`), besides
    /// `tenancy.homeRegion`; vault replicas live in these.
    #[serde(default)]
    pub regions: Vec<String>,
    /// OCI Functions bound to local HTTP endpoints: the targets of secret
    /// rotation (`FunctionTargetSystemDetails.functionId`).
    #[serde(default)]
    pub functions: Vec<Function>,
    /// Compute instances (instance principals).
    #[serde(default)]
    pub instances: Vec<Instance>,
}

/// A function a secret's rotation may call, bound to a local endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// `ocid1.fnfunc.oc1.<region>.…`: what `functionId` names.
    pub id: String,
    /// The function's compartment (the tenancy or one of its compartments).
    pub compartment_id: String,
    /// `http://host:port/path` the emulator POSTs each rotation step to
    /// (plain HTTP only: the endpoint is local).
    pub invoke_url: String,
}

/// The identity domain of a group or user that names none.
pub const DEFAULT_DOMAIN: &str = "Default";

/// A group as a principal carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    /// OCID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Identity domain (`Default` unless the tenancy file says otherwise):
    /// `Allow group 'Sales'/DevGroup` matches only Sales's DevGroup.
    pub domain: String,
}

/// `tenancy`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TenancyInfo {
    /// `ocid1.tenancy.oc1..…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Home region, e.g. `us-ashburn-1`.
    pub home_region: String,
}

/// A compartment.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Compartment {
    /// `ocid1.compartment.oc1..…`
    pub id: String,
    /// Name, unique among siblings.
    pub name: String,
    /// The tenancy's or another compartment's OCID.
    pub parent_id: String,
}

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// `ocid1.group.oc1..…`
    pub id: String,
    /// Name, e.g. `Administrators`.
    pub name: String,
    /// Identity domain; `Default` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
}

impl Group {
    /// The group's identity domain.
    pub fn domain(&self) -> &str {
        self.domain.as_deref().unwrap_or(DEFAULT_DOMAIN)
    }
}

/// A user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `ocid1.user.oc1..…`
    pub id: String,
    /// Name.
    pub name: String,
    /// Identity domain; `Default` when absent. The user's `groups` are
    /// names of groups of this domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Names of the groups the user is in.
    #[serde(default)]
    pub groups: Vec<String>,
    /// API signing keys.
    #[serde(default)]
    pub api_keys: Vec<ApiKey>,
}

/// An API signing key (public half only).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// PEM `-----BEGIN PUBLIC KEY-----`.
    pub public_key_pem: String,
    /// MD5 fingerprint as OCI shows it; computed when absent.
    #[serde(default)]
    pub fingerprint: Option<String>,
}

/// A policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Name.
    pub name: String,
    /// The compartment (or tenancy) it is attached to.
    pub compartment_id: String,
    /// Statements, `Allow group … to … in …`.
    pub statements: Vec<String>,
}

/// An authenticated caller. Users today; instance and resource principals
/// (a later issue) fill the same fields: `kind` is `request.principal.type`,
/// `compartment_id` the principal's own compartment, `dynamic_groups` the
/// groups whose matching rule it satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user's (or principal's) OCID.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The tenancy OCID.
    pub tenancy_id: String,
    /// `user`, `instance`, `resource`, ….
    pub kind: &'static str,
    /// The compartment an instance or resource principal lives in.
    pub compartment_id: Option<String>,
    /// Groups the user is in.
    pub groups: Vec<GroupRef>,
    /// Dynamic groups the principal matches.
    pub dynamic_groups: Vec<GroupRef>,
    /// A resource principal's resource type (`fnfunc`,
    /// `computecontainerinstance`, …): its `request.principal.type`.
    pub resource_type: Option<String>,
    /// Every dynamic group's rule checked against an instance or resource
    /// principal, matched or not, with why (the decisions endpoint shows
    /// them); empty for users.
    pub dynamic_group_matches: Vec<crate::iam::dynamic_groups::Match>,
}

impl Principal {
    /// A user principal in no group (tests and tools that need a caller
    /// without a tenancy file).
    pub fn bare_user(user_id: &str, user_name: &str, tenancy_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            user_name: user_name.to_owned(),
            tenancy_id: tenancy_id.to_owned(),
            kind: "user",
            compartment_id: None,
            groups: Vec::new(),
            dynamic_groups: Vec::new(),
            resource_type: None,
            dynamic_group_matches: Vec::new(),
        }
    }

    /// `request.principal.type`: `user`, `instance`, or a resource
    /// principal's resource type.
    pub fn principal_type(&self) -> &str {
        self.resource_type.as_deref().unwrap_or(self.kind)
    }
}

/// The loaded tenancy: the file plus an index of API keys.
#[derive(Debug)]
pub struct Tenancy {
    /// The file as loaded.
    pub file: TenancyFile,
    /// `<tenancy>/<user>/<fingerprint>` → (public key, index into `file.users`).
    keys: HashMap<String, (PublicKey, usize)>,
    /// Each dynamic group's parsed matching rule, in `file.dynamic_groups` order.
    rules: Vec<crate::iam::policy::Condition>,
}

impl Tenancy {
    /// Parses and validates a tenancy file; `origin` names it in errors.
    pub fn load(text: &str, origin: &str) -> anyhow::Result<Self> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: TenancyFile = serde_path_to_error::deserialize(de)
            .map_err(|e| anyhow::anyhow!("{origin}: {}: {}", e.path(), e.inner()))?;
        Self::validate(file).map_err(|e| anyhow::anyhow!("{origin}: {e}"))
    }

    /// The fixture tenancy compiled into the binary.
    pub fn embedded() -> Self {
        Self::load(EMBEDDED, "embedded fixtures/tenancy.json")
            .expect("the embedded tenancy is valid")
    }

    fn validate(file: TenancyFile) -> anyhow::Result<Self> {
        if !is_ocid_of(&file.tenancy.id, "tenancy") {
            bail!(
                "tenancy.id: {:?} is not a tenancy OCID (ocid1.tenancy.oc1..<unique>)",
                file.tenancy.id
            );
        }
        let mut containers: HashSet<&str> = HashSet::from([file.tenancy.id.as_str()]);
        for (i, c) in file.compartments.iter().enumerate() {
            if !is_ocid_of(&c.id, "compartment") {
                bail!("compartments[{i}].id: {:?} is not a compartment OCID", c.id);
            }
            if !containers.insert(&c.id) {
                bail!("compartments[{i}].id: {:?} appears twice", c.id);
            }
        }
        for (i, c) in file.compartments.iter().enumerate() {
            if !containers.contains(c.parent_id.as_str()) {
                bail!(
                    "compartments[{i}].parentId: {:?} is neither the tenancy nor a compartment",
                    c.parent_id
                );
            }
        }
        let mut group_names = HashSet::new();
        for (i, g) in file.groups.iter().enumerate() {
            if !is_ocid_of(&g.id, "group") {
                bail!("groups[{i}].id: {:?} is not a group OCID", g.id);
            }
            group_names.insert((g.domain().to_lowercase(), g.name.to_lowercase()));
        }
        let mut keys = HashMap::new();
        for (u, user) in file.users.iter().enumerate() {
            if !is_ocid_of(&user.id, "user") {
                bail!("users[{u}].id: {:?} is not a user OCID", user.id);
            }
            let domain = user.domain.as_deref().unwrap_or(DEFAULT_DOMAIN);
            for (g, group) in user.groups.iter().enumerate() {
                if !group_names.contains(&(domain.to_lowercase(), group.to_lowercase())) {
                    bail!(
                        "users[{u}].groups[{g}]: no group of domain {domain:?} is named {group:?}"
                    );
                }
            }
            for (k, api_key) in user.api_keys.iter().enumerate() {
                let key = PublicKey::from_pem(&api_key.public_key_pem)
                    .map_err(|e| anyhow::anyhow!("users[{u}].apiKeys[{k}].publicKeyPem: {e}"))?;
                let computed = key.fingerprint();
                if let Some(given) = &api_key.fingerprint {
                    if !given.eq_ignore_ascii_case(computed) {
                        bail!("users[{u}].apiKeys[{k}].fingerprint: {given} does not match the key's fingerprint {computed}");
                    }
                }
                keys.insert(
                    format!("{}/{}/{}", file.tenancy.id, user.id, computed),
                    (key, u),
                );
            }
        }
        for (i, p) in file.policies.iter().enumerate() {
            if !containers.contains(p.compartment_id.as_str()) {
                bail!(
                    "policies[{i}].compartmentId: {:?} is neither the tenancy nor a compartment",
                    p.compartment_id
                );
            }
            for (s, text) in p.statements.iter().enumerate() {
                if let Err(e) = crate::iam::policy::parse(text) {
                    bail!(
                        "policies[{i}].statements[{s}] (policy {:?}): {text:?}: {e}",
                        p.name
                    );
                }
            }
        }
        for (i, r) in file.regions.iter().enumerate() {
            if !is_region_name(r) {
                bail!("regions[{i}]: {r:?} is not a region name (like us-phoenix-1)");
            }
        }
        if !is_region_name(&file.tenancy.home_region) {
            bail!(
                "tenancy.homeRegion: {:?} is not a region name (like us-ashburn-1)",
                file.tenancy.home_region
            );
        }
        let mut rules = Vec::new();
        for (i, g) in file.dynamic_groups.iter().enumerate() {
            if !is_ocid_of(&g.id, "dynamicgroup") {
                bail!(
                    "dynamicGroups[{i}].id: {:?} is not a dynamic group OCID",
                    g.id
                );
            }
            match crate::iam::dynamic_groups::parse_rule(&g.matching_rule) {
                Ok(rule) => rules.push(rule),
                Err(e) => bail!(
                    "dynamicGroups[{i}].matchingRule (dynamic group {:?}): {:?}: {e}",
                    g.name,
                    g.matching_rule
                ),
            }
        }
        let mut instance_ids = HashSet::new();
        for (i, inst) in file.instances.iter().enumerate() {
            if !is_ocid_of(&inst.id, "instance") {
                bail!("instances[{i}].id: {:?} is not an instance OCID", inst.id);
            }
            if !instance_ids.insert(inst.id.as_str()) {
                bail!("instances[{i}].id: {:?} appears twice", inst.id);
            }
            if !containers.contains(inst.compartment_id.as_str()) {
                bail!(
                    "instances[{i}].compartmentId: {:?} is neither the tenancy nor a compartment",
                    inst.compartment_id
                );
            }
        }
        let mut function_ids = HashSet::new();
        for (i, f) in file.functions.iter().enumerate() {
            if !is_ocid_of(&f.id, "fnfunc") {
                bail!("functions[{i}].id: {:?} is not a function OCID (ocid1.fnfunc.oc1.<region>.<unique>)", f.id);
            }
            if !function_ids.insert(f.id.as_str()) {
                bail!("functions[{i}].id: {:?} appears twice", f.id);
            }
            if !containers.contains(f.compartment_id.as_str()) {
                bail!(
                    "functions[{i}].compartmentId: {:?} is neither the tenancy nor a compartment",
                    f.compartment_id
                );
            }
            let host = f.invoke_url.strip_prefix("http://").unwrap_or("");
            if host.is_empty()
                || host.starts_with('/')
                || f.invoke_url.chars().any(char::is_whitespace)
            {
                bail!(
                    "functions[{i}].invokeUrl: {:?} is not an http:// URL (only plain HTTP endpoints are called)",
                    f.invoke_url
                );
            }
        }
        Ok(Self { file, keys, rules })
    }

    /// The function `id` of the tenancy file's `functions`, if declared.
    pub fn function(&self, id: &str) -> Option<&Function> {
        self.file.functions.iter().find(|f| f.id == id)
    }

    /// The API key registered as `<tenancy>/<user>/<fingerprint>` (the
    /// fingerprint compared without regard to case), with the principal of
    /// its user; `None` when no such key exists.
    pub fn api_key(
        &self,
        tenancy: &str,
        user: &str,
        fingerprint: &str,
    ) -> Option<(&PublicKey, Principal)> {
        let (key, index) = self.keys.get(&key_id_string(tenancy, user, fingerprint))?;
        Some((key, self.user_principal(&self.file.users[*index])))
    }

    /// The principal of a user of this tenancy, with its groups.
    pub fn user_principal(&self, user: &User) -> Principal {
        Principal {
            user_id: user.id.clone(),
            user_name: user.name.clone(),
            tenancy_id: self.file.tenancy.id.clone(),
            kind: "user",
            compartment_id: None,
            groups: user
                .groups
                .iter()
                .filter_map(|name| {
                    let domain = user.domain.as_deref().unwrap_or(DEFAULT_DOMAIN);
                    self.file.groups.iter().find(|g| {
                        g.name.eq_ignore_ascii_case(name) && g.domain().eq_ignore_ascii_case(domain)
                    })
                })
                .map(|g| GroupRef {
                    id: g.id.clone(),
                    name: g.name.clone(),
                    domain: g.domain().to_owned(),
                })
                .collect(),
            dynamic_groups: Vec::new(),
            resource_type: None,
            dynamic_group_matches: Vec::new(),
        }
    }

    /// An instance of this tenancy by OCID.
    pub fn instance(&self, id: &str) -> Option<&Instance> {
        self.file.instances.iter().find(|i| i.id == id)
    }

    /// The principal of an instance (`request.principal.type` `instance`),
    /// with the dynamic groups its id, compartment and defined tags match.
    pub fn instance_principal(&self, instance: &Instance) -> Principal {
        let facts = crate::iam::dynamic_groups::Facts::instance(instance);
        self.machine_principal(
            instance.id.clone(),
            instance.display_name.clone(),
            "instance",
            None,
            instance.compartment_id.clone(),
            &facts,
        )
    }

    /// The principal of a resource (resource principals: functions,
    /// container instances, …) named by an RPST's claims.
    pub fn resource_principal(
        &self,
        resource_id: &str,
        resource_type: &str,
        compartment_id: &str,
    ) -> Principal {
        let facts =
            crate::iam::dynamic_groups::Facts::resource(resource_id, resource_type, compartment_id);
        self.machine_principal(
            resource_id.to_owned(),
            resource_id.to_owned(),
            "resource",
            Some(resource_type.to_owned()),
            compartment_id.to_owned(),
            &facts,
        )
    }

    fn machine_principal(
        &self,
        id: String,
        name: String,
        kind: &'static str,
        resource_type: Option<String>,
        compartment_id: String,
        facts: &crate::iam::dynamic_groups::Facts,
    ) -> Principal {
        let matches =
            crate::iam::dynamic_groups::evaluate(&self.file.dynamic_groups, &self.rules, facts);
        Principal {
            user_id: id,
            user_name: name,
            tenancy_id: self.file.tenancy.id.clone(),
            kind,
            compartment_id: Some(compartment_id),
            groups: Vec::new(),
            dynamic_groups: matches
                .iter()
                .filter(|m| m.matched)
                .map(|m| GroupRef {
                    id: m.id.clone(),
                    name: m.name.clone(),
                    domain: DEFAULT_DOMAIN.to_owned(),
                })
                .collect(),
            resource_type,
            dynamic_group_matches: matches,
        }
    }

    /// A user by OCID or name.
    pub fn user(&self, id_or_name: &str) -> Option<&User> {
        self.file
            .users
            .iter()
            .find(|u| u.id == id_or_name || u.name.eq_ignore_ascii_case(id_or_name))
    }

    /// Whether `id` is the tenancy or one of its compartments.
    pub fn has_compartment(&self, id: &str) -> bool {
        id == self.file.tenancy.id || self.file.compartments.iter().any(|c| c.id == id)
    }

    /// The tenancy's OCID.
    pub fn id(&self) -> &str {
        &self.file.tenancy.id
    }

    /// Whether the tenancy is subscribed to `region`: its home region or one
    /// of `regions`.
    pub fn has_region(&self, region: &str) -> bool {
        self.file.tenancy.home_region == region || self.file.regions.iter().any(|r| r == region)
    }
}

/// Whether `s` looks like an OCI region name: lowercase letters, digits and
/// dashes, 3 to 40 characters (`us-ashburn-1`, `eu-frankfurt-1`). Region
/// names appear in URL paths (`/regions/<region>/…`), so nothing else is
/// allowed.
pub fn is_region_name(s: &str) -> bool {
    (3..=40).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn key_id_string(tenancy: &str, user: &str, fingerprint: &str) -> String {
    format!("{tenancy}/{user}/{}", fingerprint.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tenancy_has_an_administrator_and_a_child_compartment() {
        let t = Tenancy::embedded();
        let admin = t
            .file
            .users
            .iter()
            .find(|u| u.groups.iter().any(|g| g == "Administrators"));
        assert!(admin.is_some());
        assert!(t
            .file
            .compartments
            .iter()
            .any(|c| c.parent_id == t.file.tenancy.id));
    }

    fn broken(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut doc: serde_json::Value = serde_json::from_str(EMBEDDED).unwrap();
        edit(&mut doc);
        Tenancy::load(&doc.to_string(), "t.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_bad_file_names_the_wrong_field() {
        let e = broken(|d| d["users"][0]["apiKeys"][0]["publicKeyPem"] = "nope".into());
        assert!(
            e.contains("t.json: users[0].apiKeys[0].publicKeyPem:"),
            "{e}"
        );
        let e = broken(|d| d["users"][1]["groups"][0] = "Nobody".into());
        assert!(e.contains("t.json: users[1].groups[0]:"), "{e}");
        let e = broken(|d| d["compartments"][0]["parentId"] = "ocid1.compartment.oc1..zzz".into());
        assert!(e.contains("t.json: compartments[0].parentId:"), "{e}");
        let e = broken(|d| d["users"][0]["apiKeys"][0]["fingerprint"] = "00:11".into());
        assert!(
            e.contains("t.json: users[0].apiKeys[0].fingerprint:"),
            "{e}"
        );
        let e = broken(|d| d["tenancy"]["id"] = 5.into());
        assert!(e.contains("tenancy.id"), "{e}");
        let e = broken(|d| d["regions"] = serde_json::json!(["us-phoenix-1", "../x"]));
        assert!(e.contains("t.json: regions[1]:"), "{e}");
    }

    #[test]
    fn the_embedded_tenancy_is_subscribed_to_its_home_and_declared_regions() {
        let t = Tenancy::embedded();
        assert!(t.has_region("us-ashburn-1"));
        assert!(t.has_region("us-phoenix-1"));
        assert!(!t.has_region("ap-tokyo-1"));
    }
}
