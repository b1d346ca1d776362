//! The emulator's instance-principal PKI: a root CA, an intermediate
//! ("PKISVC Identity Intermediate r2", as OCI's is named), and one leaf
//! certificate per tenancy-file instance, served by the instance metadata
//! paths (`/_emulator/imds/<instance>/opc/v2/identity/…`) and verified by
//! the federation endpoint (`POST /v1/x509`).
//!
//! Keys are RSA-2048 (the SDKs sign the federation request with the leaf
//! key as `rsa-sha256`), made at start by aws-lc-rs through rcgen; a leaf's
//! key lives as long as the process, its certificate is reissued when the
//! emulator's clock passes half of its two-hour life (OCI's leaves are
//! valid about two hours, reference §15), so a cert.pem and key.pem read
//! one after the other always match.
//!
//! Leaf subject, as OCI's (reference §15): `CN=<instance OCID>`,
//! `OU=opc-certtype:instance`, `OU=opc-instance:<OCID>`,
//! `OU=opc-compartment:<OCID>`, `OU=opc-tenant:<OCID>` (the SDKs find the
//! tenancy by the `opc-tenant:` prefix, the Python SDK's
//! `oci/auth/auth_utils.py` also by `opc-identity:`).
//!
//! rcgen 0.14's `DistinguishedName` is a map keyed by `DnType`, so it holds
//! at most two values of one attribute: `OrganizationalUnitName` and
//! `CustomDnType([2, 5, 4, 11])` (the OID cannot be spelt a third way:
//! yasna refuses first arcs that alias, `2.5` as `1.45`). The leaf is
//! therefore made with the last two OUs under placeholder attribute types
//! of the same encoded length (`2.5.4.126`, `2.5.4.127`), which
//! [`Pki::leaf_cert`] then rewrites to `2.5.4.11` inside the subject's own
//! bytes before signing the to-be-signed part again with the intermediate's
//! key (an RSA signature of the same length, so no length changes).

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY};
use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, RsaKeySize, SigningKey as _, PKCS_RSA_SHA256,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer as _, X509Certificate};
use zeroize::Zeroizing;

/// How long a leaf certificate is valid (OCI's: about two hours).
pub const LEAF_LIFETIME: Duration = Duration::hours(2);

/// The OID of `organizationalUnitName`.
const OU: &[u64] = &[2, 5, 4, 11];

/// Placeholder attribute types for the third and fourth OU of a leaf
/// (rcgen keeps two values per type); their DER differs from `2.5.4.11`'s
/// in the last byte only.
const OU_PLACEHOLDERS: [&[u64]; 2] = [&[2, 5, 4, 126], &[2, 5, 4, 127]];

/// DER of an OID TLV `2.5.4.<last>`: tag, length 3, `55 04 <last>`.
const fn attribute_oid_der(last: u8) -> [u8; 5] {
    [0x06, 0x03, 0x55, 0x04, last]
}

/// What a verified leaf certificate says about its holder.
#[derive(Debug, Clone)]
pub struct LeafIdentity {
    /// `CN`: the instance OCID.
    pub instance_id: String,
    /// `OU=opc-compartment:`.
    pub compartment_id: String,
    /// `OU=opc-tenant:`.
    pub tenant_id: String,
    /// SHA-1 of the DER, uppercase hex pairs joined by `:` (the keyId's
    /// fingerprint, as the SDKs compute it).
    pub fingerprint: String,
    /// The leaf's public key, for the request signature.
    pub public_key: crate::crypto::PublicKey,
}

/// Why a certificate is refused (401 `NotAuthenticated`); fixed texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    /// Not Base64 DER of an X.509 certificate.
    #[error("the certificate is not a DER X.509 certificate")]
    Malformed,
    /// Not issued by the emulator's intermediate (or an intermediate sent
    /// is not the emulator's).
    #[error("the certificate is not issued by the emulator's CA")]
    UnknownIssuer,
    /// Outside its validity at the emulator's clock.
    #[error("the certificate is not valid at the emulator's clock")]
    Expired,
    /// The subject lacks the CN or the opc-* OUs.
    #[error("the certificate subject does not name an instance, compartment and tenancy")]
    Subject,
}

/// A leaf of one instance.
struct Leaf {
    key: KeyPair,
    cert_pem: String,
    not_before: OffsetDateTime,
    renew_after: OffsetDateTime,
}

/// The CA, the intermediate and the leaves issued so far.
pub struct Pki {
    ca_key_pem: Zeroizing<String>,
    ca_der: Vec<u8>,
    ca_pem: String,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_der: Vec<u8>,
    intermediate_pem: String,
    leaves: Mutex<HashMap<String, Leaf>>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

/// A certificate's DER as PEM (`-----BEGIN CERTIFICATE-----`, lines of 64
/// characters, as rcgen writes them).
fn certificate_pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn rsa_key() -> anyhow::Result<KeyPair> {
    KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
        .map_err(|e| anyhow::anyhow!("cannot generate an RSA key: {e}"))
}

fn ca_cert_params(common_name: &str, path_len: u8) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

impl Pki {
    /// A new CA and intermediate. `ca_key`/`intermediate_key` are PKCS #8
    /// PEM keys kept from an earlier start (`--data-dir`), else made now.
    ///
    /// # Errors
    /// A stored key that does not parse, or rcgen failing to sign.
    pub fn new(ca_key: Option<&str>, intermediate_key: Option<&str>) -> anyhow::Result<Self> {
        let load = |pem: Option<&str>| match pem {
            Some(pem) => KeyPair::from_pkcs8_pem_and_sign_algo(pem, &PKCS_RSA_SHA256)
                .map_err(|_| anyhow::anyhow!("a stored CA key is not an RSA PKCS #8 key")),
            None => rsa_key(),
        };
        let ca_key = load(ca_key)?;
        let ca_params = ca_cert_params("OCI Vault Emulator Identity Root", 1);
        let ca_cert = ca_params.self_signed(&ca_key)?;
        let ca_key_pem = Zeroizing::new(ca_key.serialize_pem());
        let ca = Issuer::new(ca_params, ca_key);
        let intermediate_key = load(intermediate_key)?;
        let intermediate_params = ca_cert_params("PKISVC Identity Intermediate r2", 0);
        let intermediate_cert = intermediate_params.signed_by(&intermediate_key, &ca)?;
        Ok(Self {
            ca_key_pem,
            ca_der: ca_cert.der().to_vec(),
            ca_pem: ca_cert.pem(),
            intermediate: Issuer::new(intermediate_params, intermediate_key),
            intermediate_der: intermediate_cert.der().to_vec(),
            intermediate_pem: intermediate_cert.pem(),
            leaves: Mutex::new(HashMap::new()),
        })
    }

    /// The root CA certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The intermediate certificate (PEM), `identity/intermediate.pem`.
    pub fn intermediate_pem(&self) -> &str {
        &self.intermediate_pem
    }

    /// The CA's key as PKCS #8 PEM, to keep in `--data-dir`.
    pub fn ca_key_pem(&self) -> &Zeroizing<String> {
        &self.ca_key_pem
    }

    /// The intermediate's key as PKCS #8 PEM, to keep in `--data-dir`.
    pub fn intermediate_key_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.intermediate.key().serialize_pem())
    }

    /// The leaf certificate (PEM) of an instance at `now`, issued or
    /// reissued when needed.
    ///
    /// # Errors
    /// rcgen failing to sign (never expected).
    pub fn leaf_cert(
        &self,
        instance_id: &str,
        compartment_id: &str,
        tenant_id: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<String> {
        let mut leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(leaf) = leaves.get(instance_id) {
            if now < leaf.renew_after && now >= leaf.not_before {
                return Ok(leaf.cert_pem.clone());
            }
        }
        let key = match leaves.remove(instance_id) {
            Some(leaf) => leaf.key,
            None => rsa_key()?,
        };
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, instance_id);
        dn.push(DnType::OrganizationalUnitName, "opc-certtype:instance");
        dn.push(
            DnType::CustomDnType(OU.to_vec()),
            format!("opc-instance:{instance_id}"),
        );
        dn.push(
            DnType::CustomDnType(OU_PLACEHOLDERS[0].to_vec()),
            format!("opc-compartment:{compartment_id}"),
        );
        dn.push(
            DnType::CustomDnType(OU_PLACEHOLDERS[1].to_vec()),
            format!("opc-tenant:{tenant_id}"),
        );
        params.distinguished_name = dn;
        params.not_before = now - Duration::minutes(5);
        params.not_after = now + LEAF_LIFETIME;
        params.serial_number = Some(crate::crypto::random_bytes(16).to_vec().into());
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let cert = params.signed_by(&key, &self.intermediate)?;
        let cert_pem = certificate_pem(&self.with_ou_subject(cert.der())?);
        leaves.insert(
            instance_id.to_owned(),
            Leaf {
                key,
                cert_pem: cert_pem.clone(),
                not_before: params.not_before,
                renew_after: now + LEAF_LIFETIME / 2,
            },
        );
        Ok(cert_pem)
    }

    /// `der` with its subject's placeholder attribute types rewritten to
    /// `organizationalUnitName` and its to-be-signed part signed again by
    /// the intermediate (see the module docs for why).
    ///
    /// # Errors
    /// A certificate rcgen made that does not parse or lacks a placeholder,
    /// or a new signature of another length (never expected).
    fn with_ou_subject(&self, der: &[u8]) -> anyhow::Result<Vec<u8>> {
        let malformed = || anyhow::anyhow!("rcgen made a leaf certificate that does not parse");
        let (_, cert) = X509Certificate::from_der(der).map_err(|_| malformed())?;
        // Where a part x509-parser borrowed from `der` starts in it.
        let offset = |part: &[u8]| {
            (part.as_ptr() as usize)
                .checked_sub(der.as_ptr() as usize)
                .filter(|start| start + part.len() <= der.len())
                .ok_or_else(malformed)
        };
        let tbs = cert.tbs_certificate.as_ref();
        let (tbs_start, tbs_len) = (offset(tbs)?, tbs.len());
        let subject = cert.subject().as_raw();
        let (subject_start, subject_len) = (offset(subject)?, subject.len());
        // The signature is the DER's last bytes (the BIT STRING ends the
        // certificate SEQUENCE).
        let signature_len = cert.signature_value.data.len();
        let signature_start = der.len().checked_sub(signature_len).ok_or_else(malformed)?;
        if der[signature_start..] != *cert.signature_value.data {
            return Err(malformed());
        }
        drop(cert);
        let mut out = der.to_vec();
        let subject = &mut out[subject_start..subject_start + subject_len];
        for placeholder in OU_PLACEHOLDERS {
            let from = attribute_oid_der(placeholder[3] as u8);
            let at = subject
                .windows(from.len())
                .position(|w| w == from)
                .ok_or_else(|| anyhow::anyhow!("the leaf's subject lacks a placeholder OU"))?;
            subject[at..at + from.len()].copy_from_slice(&attribute_oid_der(OU[3] as u8));
        }
        let signed = self
            .intermediate
            .key()
            .sign(&out[tbs_start..tbs_start + tbs_len])?;
        if signed.len() != signature_len {
            anyhow::bail!("the leaf's signature changed length");
        }
        out[signature_start..].copy_from_slice(&signed);
        Ok(out)
    }

    /// The leaf's private key (PKCS #8 PEM), `identity/key.pem`; issues the
    /// leaf first if needed.
    ///
    /// # Errors
    /// As [`Pki::leaf_cert`].
    pub fn leaf_key(
        &self,
        instance_id: &str,
        compartment_id: &str,
        tenant_id: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<Zeroizing<String>> {
        let leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(leaf) = leaves.get(instance_id) {
            return Ok(Zeroizing::new(leaf.key.serialize_pem()));
        }
        drop(leaves);
        self.leaf_cert(instance_id, compartment_id, tenant_id, now)?;
        let leaves = self.leaves.lock().unwrap_or_else(|e| e.into_inner());
        leaves
            .get(instance_id)
            .map(|leaf| Zeroizing::new(leaf.key.serialize_pem()))
            .ok_or_else(|| anyhow::anyhow!("the leaf was not issued"))
    }

    /// Verifies a leaf sent to `POST /v1/x509` (DER) with the intermediates
    /// sent beside it (each must be the emulator's), at the emulator's
    /// clock `now`; answers the identity in its subject.
    ///
    /// # Errors
    /// [`CertError`].
    pub fn verify_leaf(
        &self,
        leaf_der: &[u8],
        intermediates: &[Vec<u8>],
        now: OffsetDateTime,
    ) -> Result<LeafIdentity, CertError> {
        let (_, ca) = X509Certificate::from_der(&self.ca_der).map_err(|_| CertError::Malformed)?;
        for given in intermediates {
            let (_, cert) = X509Certificate::from_der(given).map_err(|_| CertError::Malformed)?;
            cert.verify_signature(Some(ca.public_key()))
                .map_err(|_| CertError::UnknownIssuer)?;
        }
        let (_, intermediate) =
            X509Certificate::from_der(&self.intermediate_der).map_err(|_| CertError::Malformed)?;
        let (rest, leaf) = X509Certificate::from_der(leaf_der).map_err(|_| CertError::Malformed)?;
        if !rest.is_empty() {
            return Err(CertError::Malformed);
        }
        leaf.verify_signature(Some(intermediate.public_key()))
            .map_err(|_| CertError::UnknownIssuer)?;
        let validity = leaf.validity();
        let (from, to) = (
            validity.not_before.timestamp(),
            validity.not_after.timestamp(),
        );
        if now.unix_timestamp() < from || now.unix_timestamp() > to {
            return Err(CertError::Expired);
        }
        let subject = leaf.subject();
        let instance_id = subject
            .iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .ok_or(CertError::Subject)?
            .to_owned();
        let ou = |prefix: &str| {
            subject
                .iter_organizational_unit()
                .filter_map(|a| a.as_str().ok())
                .find_map(|v| v.strip_prefix(prefix).map(str::to_owned))
                .ok_or(CertError::Subject)
        };
        let public_key = crate::crypto::PublicKey::from_der(leaf.public_key().raw)
            .map_err(|_| CertError::Malformed)?;
        Ok(LeafIdentity {
            instance_id,
            compartment_id: ou("opc-compartment:")?,
            tenant_id: ou("opc-tenant:")?,
            fingerprint: sha1_fingerprint(leaf_der),
            public_key,
        })
    }
}

/// SHA-1 of `der` as uppercase hex pairs joined by `:` (Python SDK
/// `X509FederationClient`: `":".join("{:02X}".format(ch) …)`).
pub fn sha1_fingerprint(der: &[u8]) -> String {
    digest(&SHA1_FOR_LEGACY_USE_ONLY, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_of(pem: &str) -> Vec<u8> {
        crate::crypto::decode_pem(pem).unwrap().1
    }

    #[test]
    fn a_leaf_verifies_with_its_subject_and_another_cas_does_not() {
        let pki = Pki::new(None, None).unwrap();
        let now = OffsetDateTime::now_utc();
        let pem = pki
            .leaf_cert(
                "ocid1.instance.oc1..a",
                "ocid1.compartment.oc1..c",
                "ocid1.tenancy.oc1..t",
                now,
            )
            .unwrap();
        assert_eq!(
            pki.leaf_cert(
                "ocid1.instance.oc1..a",
                "ocid1.compartment.oc1..c",
                "ocid1.tenancy.oc1..t",
                now
            )
            .unwrap(),
            pem,
            "the same leaf until half its life has passed"
        );
        let der = der_of(&pem);
        let id = pki
            .verify_leaf(&der, &[der_of(pki.intermediate_pem())], now)
            .unwrap();
        assert_eq!(id.instance_id, "ocid1.instance.oc1..a");
        let (_, leaf) = X509Certificate::from_der(&der).unwrap();
        let ous: Vec<&str> = leaf
            .subject()
            .iter_organizational_unit()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            ous,
            [
                "opc-certtype:instance",
                "opc-instance:ocid1.instance.oc1..a",
                "opc-compartment:ocid1.compartment.oc1..c",
                "opc-tenant:ocid1.tenancy.oc1..t"
            ]
        );
        assert_eq!(leaf.subject().iter().count(), 5, "CN and four OUs");
        assert_eq!(id.compartment_id, "ocid1.compartment.oc1..c");
        assert_eq!(id.tenant_id, "ocid1.tenancy.oc1..t");
        assert_eq!(id.fingerprint.len(), 59);
        assert_eq!(
            pki.verify_leaf(&der, &[], now + Duration::hours(3))
                .unwrap_err(),
            CertError::Expired
        );
        let other = Pki::new(None, None).unwrap();
        assert_eq!(
            other.verify_leaf(&der, &[], now).unwrap_err(),
            CertError::UnknownIssuer
        );
        assert_eq!(
            pki.verify_leaf(&der, &[der_of(other.intermediate_pem())], now)
                .unwrap_err(),
            CertError::UnknownIssuer
        );
        assert_eq!(
            pki.verify_leaf(b"nope", &[], now).unwrap_err(),
            CertError::Malformed
        );
        let key = pki
            .leaf_key("ocid1.instance.oc1..a", "c", "t", now)
            .unwrap();
        assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    }
}
