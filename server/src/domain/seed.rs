//! Declarative seeding: vaults, keys (optionally with given material) and
//! secrets with versions and stages, with optional fixed OCIDs so tests can
//! hard-code them. Used by `--seed` at start, by `POST /_emulator/reset`, and
//! by `POST /_emulator/seed`.
//!
//! Shape (fields may be added, never renamed):
//! `{"vaults": [{"id"?, "compartmentId", "displayName", "vaultType"?,
//!    "keys": [{"id"?, "displayName", "algorithm", "length", "material"?}],
//!    "secrets": [{"id"?, "name", "compartmentId"?, "keyId", "description"?,
//!                 "versions": [{"content", "stages"?, "name"?}]}]}]}`.
//!
//! Before parsing, `{{now}}`, `{{now+30d}}` / `{{now-2h}}` (units s, m, h, d)
//! and `{{publicUrl}}` are replaced in the text, in the spirit of other
//! emulators' import files. A seed is applied in one transaction: any error
//! (naming the file, the entry and the field) leaves the state untouched.

use base64::Engine as _;
use rusqlite::Transaction;
use serde::Deserialize;
use time::OffsetDateTime;

use super::keys::{self, Algorithm, CurveId, Key, KeyShape, KeyState, ProtectionMode};
use super::secrets::{self, NewContent, Secret, SecretState, Stage};
use super::vaults::{self, Vault, VaultState, VaultType};
use super::{new_etag, Error, Result, Tags};
use crate::crypto::{asymmetric, KeyBytes, Keyring, B64};
use crate::ocid::{is_ocid_of, new_ocid, random_base32, OcidKind};
use crate::store::{self, KEYS, SECRETS, VAULTS};

/// A seed document.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// Vaults with their keys and secrets.
    #[serde(default)]
    pub vaults: Vec<SeedVault>,
}

/// A seeded vault.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVault {
    /// Fixed OCID (`ocid1.vault.…`); minted when absent.
    pub id: Option<String>,
    /// Its compartment.
    pub compartment_id: String,
    /// `displayName`.
    pub display_name: String,
    /// `vaultType` (default `DEFAULT`).
    pub vault_type: Option<VaultType>,
    /// Freeform tags.
    #[serde(default)]
    pub freeform_tags: serde_json::Map<String, serde_json::Value>,
    /// Keys in the vault.
    #[serde(default)]
    pub keys: Vec<SeedKey>,
    /// Secrets in the vault.
    #[serde(default)]
    pub secrets: Vec<SeedSecret>,
}

/// A seeded master encryption key (AES, RSA or ECDSA) with one key version.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedKey {
    /// Fixed OCID (`ocid1.key.…`).
    pub id: Option<String>,
    /// Compartment (default: the vault's).
    pub compartment_id: Option<String>,
    /// `displayName`.
    pub display_name: String,
    /// `AES`, `RSA` or `ECDSA`.
    pub algorithm: Algorithm,
    /// Bytes, as in `KeyShape.length`: 16/24/32 (AES), 256/384/512 (RSA),
    /// 32/48/66 (ECDSA).
    pub length: u32,
    /// `NIST_P256`, `NIST_P384` or `NIST_P521` (ECDSA only).
    pub curve_id: Option<CurveId>,
    /// Base64 key material, for tests that must decrypt known ciphertext:
    /// the AES key bytes, or a PKCS #8 DER private key of the shape.
    pub material: Option<String>,
    /// Lifecycle state (`ENABLED` default, or `DISABLED`).
    pub lifecycle_state: Option<KeyState>,
}

impl std::fmt::Debug for SeedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedKey")
            .field("id", &self.id)
            .field("display_name", &self.display_name)
            .finish_non_exhaustive()
    }
}

/// A seeded secret.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedSecret {
    /// Fixed OCID (`ocid1.vaultsecret.…`).
    pub id: Option<String>,
    /// `secretName`.
    pub name: String,
    /// Compartment (default: the vault's).
    pub compartment_id: Option<String>,
    /// The key (by OCID) that wraps its content; must be one of this vault's.
    pub key_id: String,
    /// `description`.
    pub description: Option<String>,
    /// `metadata`.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// Versions, oldest first (numbered 1, 2, …).
    pub versions: Vec<SeedVersion>,
}

/// A seeded secret version. Hand-written `Debug` hides the content.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedVersion {
    /// Base64 content.
    pub content: String,
    /// Stages; exactly one version of a secret must be `CURRENT`. `LATEST`
    /// goes to the newest version when no version names it.
    #[serde(default)]
    pub stages: Vec<Stage>,
    /// Version name.
    pub name: Option<String>,
}

impl std::fmt::Debug for SeedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeedVersion")
            .field("stages", &self.stages)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Replaces the run-dependent placeholders (see the module doc).
pub fn render(
    text: &str,
    now: OffsetDateTime,
    public_url: &str,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("an unclosed {{ placeholder")?;
        let name = after[..end].trim();
        out.push_str(&placeholder(name, now, public_url)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn placeholder(
    name: &str,
    now: OffsetDateTime,
    public_url: &str,
) -> std::result::Result<String, String> {
    if name == "publicUrl" {
        return Ok(public_url.to_owned());
    }
    let offset = name
        .strip_prefix("now")
        .ok_or_else(|| format!("unknown placeholder {{{{{name}}}}}"))?;
    let bad = || format!("{{{{{name}}}}}: the offset must be like +30d, -2h, +15m or +10s");
    let at = if offset.is_empty() {
        now
    } else {
        let (negative, amount) = match (offset.strip_prefix('+'), offset.strip_prefix('-')) {
            (Some(amount), _) => (false, amount),
            (_, Some(amount)) => (true, amount),
            _ => return Err(format!("{{{{{name}}}}}: the offset must start with + or -")),
        };
        let unit = amount.chars().last().ok_or_else(bad)?;
        let per_unit: i64 = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(format!("{{{{{name}}}}}: the unit must be s, m, h or d")),
        };
        let number: i64 = amount
            .strip_suffix(unit)
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad)?;
        let seconds = number
            .checked_mul(per_unit)
            .and_then(|s| if negative { s.checked_neg() } else { Some(s) })
            .ok_or_else(|| format!("{{{{{name}}}}}: the offset is out of range"))?;
        now.checked_add(time::Duration::seconds(seconds))
            .filter(|at| (at.year() - now.year()).abs() <= 100)
            .ok_or_else(|| {
                format!("{{{{{name}}}}}: the offset is out of range (at most 100 years)")
            })?
    };
    Ok(crate::clock::format_time(at))
}

/// Parses a seed (after [`render`]); errors name the field path.
pub fn parse(text: &str) -> std::result::Result<Seed, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

/// The endpoint key of a vault with a fixed OCID: derived from the OCID, so
/// its endpoints are the same after every reset and restart.
fn endpoint_key_for(id: &str) -> String {
    derived(id, 13)
}

/// `n` (≤ 64) lowercase letters derived from `id` by SHA-512.
fn derived(id: &str, n: usize) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, id.as_bytes());
    digest
        .as_ref()
        .iter()
        .take(n)
        .map(|b| (b'a' + b % 26) as char)
        .collect()
}

fn fixed_or_new(id: &Option<String>, kind: OcidKind, region: &str, field: &str) -> Result<String> {
    match id {
        Some(id) if is_ocid_of(id, kind.segment()) => Ok(id.clone()),
        Some(id) => Err(Error::InvalidParameter(format!(
            "{field}: {id:?} is not an OCID of type {}",
            kind.segment()
        ))),
        None => Ok(new_ocid(kind, region)),
    }
}

/// Applies a seed inside `tx`. `origin` names the file in errors; entries
/// are named by their path (`vaults[0].secrets[1].versions[0].stages`).
/// Existing OCIDs or a secret name already used in its vault are errors.
pub fn apply(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    seed: Seed,
    origin: &str,
) -> Result<()> {
    let fail = |path: String, e: Error| -> Error {
        let detail = match e {
            Error::InvalidParameter(m)
            | Error::Conflict(m)
            | Error::IncorrectState(m)
            | Error::RelatedNotFound(m) => m,
            other => return other,
        };
        Error::InvalidParameter(format!("{origin}: {path}: {detail}"))
    };
    for (v, sv) in seed.vaults.into_iter().enumerate() {
        let at = format!("vaults[{v}]");
        let id =
            fixed_or_new(&sv.id, OcidKind::Vault, region, "id").map_err(|e| fail(at.clone(), e))?;
        if store::get::<Vault>(tx, &VAULTS, &id)?.is_some() {
            return Err(fail(
                format!("{at}.id"),
                Error::Conflict(format!("vault {id} already exists")),
            ));
        }
        let vault = Vault {
            vault_key: if sv.id.is_some() {
                endpoint_key_for(&id)
            } else {
                random_base32(13)
            },
            id,
            compartment_id: sv.compartment_id,
            display_name: sv.display_name,
            vault_type: sv.vault_type.unwrap_or(VaultType::Default),
            lifecycle_state: VaultState::Active,
            time_created: now,
            time_of_deletion: None,
            tags: Tags {
                freeform: sv.freeform_tags,
                defined: Default::default(),
            },
            wrapping_key_id: new_ocid(OcidKind::Key, region),
            etag: new_etag(),
            region: None,
            replica: None,
            restored_from_vault_id: None,
        };
        vaults::save(tx, &vault).map_err(|e| fail(format!("{at}.id"), e))?;
        for (k, sk) in sv.keys.into_iter().enumerate() {
            seed_key(tx, keyring, now, region, &vault, sk)
                .map_err(|e| fail(format!("{at}.keys[{k}]"), e))?;
        }
        for (s, ss) in sv.secrets.into_iter().enumerate() {
            seed_secret(tx, keyring, now, region, &vault, ss)
                .map_err(|e| fail(format!("{at}.secrets[{s}]"), e))?;
        }
    }
    Ok(())
}

fn seed_key(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    vault: &Vault,
    sk: SeedKey,
) -> Result<()> {
    let id = fixed_or_new(&sk.id, OcidKind::Key, region, "id")?;
    if store::get::<Key>(tx, &KEYS, &id)?.is_some() {
        return Err(Error::Conflict(format!("id: key {id} already exists")));
    }
    let shape = KeyShape::parse(sk.algorithm, sk.length, sk.curve_id).map_err(|e| match e {
        Error::InvalidParameter(m) => {
            Error::InvalidParameter(format!("algorithm/length/curveId: {m}"))
        }
        other => other,
    })?;
    let material: KeyBytes = match &sk.material {
        Some(text) => {
            let bytes = KeyBytes::new(
                B64.decode(text.trim())
                    .map_err(|_| Error::InvalidParameter("material: not valid base64".into()))?,
            );
            match shape.asymmetric() {
                None if bytes.len() != shape.length as usize => {
                    return Err(Error::InvalidParameter(format!(
                        "material: {} bytes, but length is {}",
                        bytes.len(),
                        shape.length
                    )));
                }
                Some(kind) if asymmetric::check_private(kind, &bytes).is_err() => {
                    return Err(Error::InvalidParameter(
                        "material: not a PKCS #8 private key of this algorithm and length".into(),
                    ));
                }
                _ => {}
            }
            bytes
        }
        None => shape.generate()?,
    };
    let state = match sk.lifecycle_state {
        None | Some(KeyState::Enabled) => KeyState::Enabled,
        Some(KeyState::Disabled) => KeyState::Disabled,
        Some(_) => {
            return Err(Error::InvalidParameter(
                "lifecycleState: must be ENABLED or DISABLED".into(),
            ))
        }
    };
    let mut key = Key {
        id,
        vault_id: vault.id.clone(),
        compartment_id: sk
            .compartment_id
            .unwrap_or_else(|| vault.compartment_id.clone()),
        display_name: sk.display_name,
        key_shape: shape,
        protection_mode: ProtectionMode::Hsm,
        lifecycle_state: state,
        current_key_version: String::new(),
        time_created: now,
        time_of_deletion: None,
        state_before_deletion: None,
        scheduled_with_vault: false,
        auto_rotation: None,
        tags: Tags::default(),
        etag: new_etag(),
        restored_from_key_id: None,
    };
    keys::save(tx, &key)?;
    // A key with a fixed OCID gets a key version OCID derived from it, so
    // ciphertext made with given material names the same version after every
    // reset and restart, and stays decryptable.
    let version_id = match &sk.id {
        Some(_) => format!(
            "ocid1.keyversion.oc1.{}.{}",
            crate::ocid::region_key(region),
            derived(&key.id, 60)
        ),
        None => new_ocid(OcidKind::KeyVersion, region),
    };
    key.current_key_version =
        keys::insert_version(tx, keyring, now, version_id, &key, &material)?.id;
    keys::save(tx, &key)
}

fn seed_secret(
    tx: &Transaction<'_>,
    keyring: &Keyring,
    now: OffsetDateTime,
    region: &str,
    vault: &Vault,
    ss: SeedSecret,
) -> Result<()> {
    let id = fixed_or_new(&ss.id, OcidKind::Secret, region, "id")?;
    if store::get::<Secret>(tx, &SECRETS, &id)?.is_some() {
        return Err(Error::Conflict(format!("id: secret {id} already exists")));
    }
    secrets::validate_name(&ss.name).map_err(|e| match e {
        Error::InvalidParameter(m) => Error::InvalidParameter(format!("name: {m}")),
        other => other,
    })?;
    if secrets::find_by_name(tx, &vault.id, &ss.name, now)?.is_some() {
        return Err(Error::Conflict(format!(
            "name: a secret named {} already exists in this vault",
            ss.name
        )));
    }
    let key = keys::get(tx, &vault.id, &ss.key_id, now).map_err(|_| {
        Error::InvalidParameter(format!(
            "keyId: {} is not a key of this vault (seed keys come before secrets)",
            ss.key_id
        ))
    })?;
    if ss.versions.is_empty() {
        return Err(Error::InvalidParameter(
            "versions: a secret needs at least one version".into(),
        ));
    }
    let key_version = keys::version(tx, &key.id, &key.current_key_version)?;
    let mut versions = Vec::with_capacity(ss.versions.len());
    for (i, sv) in ss.versions.into_iter().enumerate() {
        let number = i as u64 + 1;
        let content = NewContent::parse(Some(&sv.content), sv.name, None)
            .map_err(|e| Error::InvalidParameter(format!("versions[{i}].content: {e}")))?;
        let mut version = secrets::seal_content(keyring, &key_version, &id, number, &content, now)?;
        version.stages = sv.stages;
        versions.push(version);
    }
    for unique in [
        Stage::Current,
        Stage::Latest,
        Stage::Previous,
        Stage::Pending,
    ] {
        let holders = versions
            .iter()
            .filter(|v| v.stages.contains(&unique))
            .count();
        if holders > 1 || (unique == Stage::Current && holders == 0) {
            return Err(Error::InvalidParameter(format!(
                "versions[].stages: exactly one version must be CURRENT, and at most one LATEST, PREVIOUS or PENDING ({unique:?} is on {holders})"
            )));
        }
    }
    if !versions.iter().any(|v| v.stages.contains(&Stage::Latest)) {
        if let Some(last) = versions.last_mut() {
            last.stages.push(Stage::Latest);
        }
    }
    for v in versions.iter_mut() {
        v.stages.sort();
        v.stages.dedup();
        if v.stages.len() > 1 {
            v.stages.retain(|s| *s != Stage::Deprecated);
        }
        if v.stages.is_empty() {
            v.stages.push(Stage::Deprecated);
        }
    }
    let current = versions
        .iter()
        .find(|v| v.stages.contains(&Stage::Current))
        .map(|v| v.version_number)
        .unwrap_or(1);
    let secret = Secret {
        id,
        vault_id: vault.id.clone(),
        compartment_id: ss
            .compartment_id
            .unwrap_or_else(|| vault.compartment_id.clone()),
        secret_name: ss.name,
        key_id: key.id,
        description: ss.description,
        metadata: ss.metadata,
        lifecycle_state: SecretState::Active,
        current_version_number: current,
        time_created: now,
        time_of_deletion: None,
        tags: Tags::default(),
        rules: Default::default(),
        generation: None,
        is_auto_generation_enabled: false,
        time_of_current_version_expiry: None,
        region: vault.region.clone(),
        replication: None,
        rotation: None,
        etag: new_etag(),
    };
    secrets::save(tx, &secret)?;
    for v in &versions {
        secrets::save_version(tx, v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn placeholders_render_times_and_the_public_url() {
        let now = datetime!(2026-01-01 00:00 UTC);
        let out = render(
            r#"{"a":"{{now}}","b":"{{ now+30d }}","c":"{{now-2h}}","d":"{{publicUrl}}"}"#,
            now,
            "http://x:1",
        )
        .unwrap();
        assert_eq!(
            out,
            r#"{"a":"2026-01-01T00:00:00.000Z","b":"2026-01-31T00:00:00.000Z","c":"2025-12-31T22:00:00.000Z","d":"http://x:1"}"#
        );
        assert!(render("{{later}}", now, "")
            .unwrap_err()
            .contains("unknown placeholder"));
        assert!(render("{{now+3w}}", now, "").unwrap_err().contains("unit"));
        assert!(render("{{now", now, "").is_err());
    }

    /// Regression: these used to panic on byte slicing or overflow.
    #[test]
    fn odd_offsets_are_errors_not_panics() {
        let now = datetime!(2026-01-01 00:00 UTC);
        for text in [
            "{{now+5é}}",
            "{{now€5d}}",
            "{{now+é}}",
            "{{nowé}}",
            "{\"name\":\"café\",\"t\":\"{{now+1ü}}\"}",
            "{{now+}}",
            "{{now-}}",
            "{{now+99999999999999d}}",
            "{{now+9223372036854775807s}}",
            "{{now-9223372036854775808s}}",
            "{{now+36600000d}}",
        ] {
            assert!(render(text, now, "").is_err(), "{text}");
        }
        assert_eq!(
            render("{\"name\":\"café\",\"t\":\"{{now+1d}}\"}", now, "").unwrap(),
            "{\"name\":\"café\",\"t\":\"2026-01-02T00:00:00.000Z\"}"
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let e = parse(r#"{"vaults":[{"compartmentId":"c","displayName":"v","keys":[{"displayName":"k","algorithm":"AES","length":32,"colour":1}]}]}"#)
            .unwrap_err();
        assert!(e.starts_with("vaults[0].keys[0]"), "{e}");
        assert!(e.contains("colour"), "{e}");
    }

    #[test]
    fn fixed_vault_ids_give_stable_endpoint_keys() {
        let a = endpoint_key_for("ocid1.vault.oc1.iad.fixed");
        assert_eq!(a, endpoint_key_for("ocid1.vault.oc1.iad.fixed"));
        assert_ne!(a, endpoint_key_for("ocid1.vault.oc1.iad.other"));
        assert_eq!(a.len(), 13);
    }
}
