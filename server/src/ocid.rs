//! OCIDs: minting and checking them. Shared by the domain (minting) and
//! `iam` (checking the tenancy file); imports only `crypto` (randomness).
//!
//! Syntax from OCI "Resource Identifiers"
//! (<https://docs.oracle.com/iaas/Content/General/Concepts/identifiers.htm>):
//! `ocid1.<resource type>.<realm>.[region][.future use].<unique id>`. Regional
//! resources carry the region key (`iad` for `us-ashburn-1`); tenancy-level
//! ones leave it empty (`ocid1.tenancy.oc1..<unique>`).

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `n` random characters of OCI's lowercase base32 alphabet.
pub fn random_base32(n: usize) -> String {
    crate::crypto::random_bytes(n)
        .iter()
        .map(|b| BASE32[(*b & 31) as usize] as char)
        .collect()
}

/// The resource-type segments this emulator mints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcidKind {
    /// `ocid1.vault…`
    Vault,
    /// `ocid1.key…`
    Key,
    /// `ocid1.keyversion…` (segment unconfirmed; see reference §14)
    KeyVersion,
    /// `ocid1.vaultsecret…`
    Secret,
    /// `ocid1.kmsworkrequest…`: the `opc-work-request-id` of an operation
    /// OCI runs asynchronously (segment unconfirmed: KMS work requests have
    /// no API in the SDKs to read them back).
    WorkRequest,
}

impl OcidKind {
    /// The resource-type segment.
    pub const fn segment(self) -> &'static str {
        match self {
            OcidKind::Vault => "vault",
            OcidKind::Key => "key",
            OcidKind::KeyVersion => "keyversion",
            OcidKind::Secret => "vaultsecret",
            OcidKind::WorkRequest => "kmsworkrequest",
        }
    }
}

/// A fresh regional OCID, e.g. `ocid1.vaultsecret.oc1.iad.amaaaaaa…` (60
/// characters of unique part, like OCI's).
pub fn new_ocid(kind: OcidKind, region: &str) -> String {
    format!(
        "ocid1.{}.oc1.{}.amaaaaaa{}",
        kind.segment(),
        region_key(region),
        random_base32(52)
    )
}

/// The short key OCI uses for a region in OCIDs (`us-ashburn-1` → `iad`).
/// Regions not in the table use their full name.
pub fn region_key(region: &str) -> &str {
    match region {
        "us-ashburn-1" => "iad",
        "us-phoenix-1" => "phx",
        "us-sanjose-1" => "sjc",
        "us-chicago-1" => "ord",
        "ca-toronto-1" => "yyz",
        "ca-montreal-1" => "yul",
        "eu-frankfurt-1" => "fra",
        "eu-amsterdam-1" => "ams",
        "eu-zurich-1" => "zrh",
        "eu-paris-1" => "cdg",
        "eu-madrid-1" => "mad",
        "eu-milan-1" => "lin",
        "eu-stockholm-1" => "arn",
        "uk-london-1" => "lhr",
        "uk-cardiff-1" => "cwl",
        "ap-tokyo-1" => "nrt",
        "ap-osaka-1" => "kix",
        "ap-seoul-1" => "icn",
        "ap-mumbai-1" => "bom",
        "ap-sydney-1" => "syd",
        "ap-melbourne-1" => "mel",
        "ap-singapore-1" => "sin",
        "sa-saopaulo-1" => "gru",
        "me-jeddah-1" => "jed",
        "me-dubai-1" => "dxb",
        "af-johannesburg-1" => "jnb",
        other => other,
    }
}

/// Whether `s` is an OCID of the given resource type: `ocid1.<type>.<realm>.`
/// followed by at least a region (possibly empty) and a non-empty unique part
/// made of `[a-z0-9._-]`.
pub fn is_ocid_of(s: &str, resource_type: &str) -> bool {
    let mut parts = s.split('.');
    if parts.next() != Some("ocid1") || parts.next() != Some(resource_type) {
        return false;
    }
    let rest: Vec<&str> = parts.collect();
    rest.len() >= 3
        && !rest[0].is_empty()
        && !rest.last().is_some_and(|u| u.is_empty())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minted_ocids_have_ocis_shape() {
        let id = new_ocid(OcidKind::Secret, "us-ashburn-1");
        assert!(id.starts_with("ocid1.vaultsecret.oc1.iad.amaaaaaa"), "{id}");
        assert_eq!(id.rsplit('.').next().unwrap().len(), 60);
        assert!(is_ocid_of(&id, "vaultsecret"));
        assert!(!is_ocid_of(&id, "vault"));
    }

    #[test]
    fn tenancy_level_ocids_have_an_empty_region() {
        assert!(is_ocid_of("ocid1.compartment.oc1..aaaa", "compartment"));
        assert!(!is_ocid_of("ocid1.compartment.oc1..", "compartment"));
        assert!(!is_ocid_of("ocid2.compartment.oc1..aaaa", "compartment"));
        assert!(!is_ocid_of("ocid1.compartment.oc1..AAAA", "compartment"));
    }

    proptest! {
        #[test]
        fn every_minted_ocid_is_recognised(region in "[a-z]{2}-[a-z]{3,10}-[1-9]") {
            for kind in [OcidKind::Vault, OcidKind::Key, OcidKind::KeyVersion, OcidKind::Secret, OcidKind::WorkRequest] {
                let id = new_ocid(kind, &region);
                prop_assert!(is_ocid_of(&id, kind.segment()), "{}", id);
            }
        }
    }
}
