//! Secret auto-generation (`enableAutoGeneration` + `secretGenerationContext`),
//! after the Vault API's `PassphraseGenerationContext`,
//! `SshKeyGenerationContext` and `BytesGenerationContext` models.
//!
//! Everything comes from the operating system's CSPRNG
//! ([`crate::crypto::random_bytes`]) or aws-lc's RSA key generation, is held
//! in [`KeyBytes`] (wiped on drop) and never reaches a log line or a `Debug`
//! output.
//!
//! - `PASSPHRASE`: `passphraseLength` characters. Oracle documents no
//!   character classes for the two templates, so this emulator follows
//!   Oracle's published password rules: `SECRETS_DEFAULT_PASSWORD` 8–32
//!   characters (default 24) with at least one upper-case letter,
//!   lower-case letter, digit and special character from
//!   `!#$%&()*+,-.:;<=>?@[]^_{|}~`; `DBAAS_DEFAULT_PASSWORD` follows the
//!   Oracle Database service's admin password rule: 9–30 characters
//!   (default 24), starting with a letter, at least two each of upper-case,
//!   lower-case, digits and `_`, `#`, `-`.
//! - `SSH_KEY`: an RSA key pair of 2048/3072/4096 bits, as PEM ("in PEM
//!   format", SDK model): the private key PKCS #8 (`BEGIN PRIVATE KEY`), the
//!   public key X.509 (`BEGIN PUBLIC KEY`); by default stored as the JSON
//!   `{"publicKey": "…", "privateKey": "…"}`.
//! - `BYTES`: `BYTES_512` / `BYTES_1024` random bits (64 / 128 bytes); with
//!   no template the content is the raw bytes, in a template their base64.
//! - `secretTemplate` (at most 1,024 characters here) must contain the
//!   type's placeholders (`%GENERATED_PASSPHRASE%`; `%GENERATED_PUBLIC_KEY%`
//!   and `%GENERATED_PRIVATE_KEY%`; `%GENERATED_BYTES%`), which are replaced
//!   with the generated text.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Error, Result};
use crate::crypto::{self, asymmetric, KeyBytes, B64};

/// The passphrase placeholder of a `secretTemplate`.
pub const PASSPHRASE_PLACEHOLDER: &str = "%GENERATED_PASSPHRASE%";
/// The SSH public key placeholder.
pub const PUBLIC_KEY_PLACEHOLDER: &str = "%GENERATED_PUBLIC_KEY%";
/// The SSH private key placeholder.
pub const PRIVATE_KEY_PLACEHOLDER: &str = "%GENERATED_PRIVATE_KEY%";
/// The random bytes placeholder.
pub const BYTES_PLACEHOLDER: &str = "%GENERATED_BYTES%";
/// The longest `secretTemplate` accepted, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 1024;
/// The passphrase length when `passphraseLength` is absent.
pub const DEFAULT_PASSPHRASE_LENGTH: u32 = 24;

const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";
const SPECIAL: &[u8] = b"!#$%&()*+,-.:;<=>?@[]^_{|}~";
const DB_SPECIAL: &[u8] = b"_#-";

/// `PassphraseGenerationContext.generationTemplate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PassphraseTemplate {
    /// `SECRETS_DEFAULT_PASSWORD`.
    SecretsDefaultPassword,
    /// `DBAAS_DEFAULT_PASSWORD`.
    DbaasDefaultPassword,
}

impl PassphraseTemplate {
    /// The allowed `passphraseLength` range.
    pub const fn lengths(self) -> (u32, u32) {
        match self {
            PassphraseTemplate::SecretsDefaultPassword => (8, 32),
            PassphraseTemplate::DbaasDefaultPassword => (9, 30),
        }
    }
}

/// `SshKeyGenerationContext.generationTemplate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SshTemplate {
    /// `RSA_2048`.
    #[serde(rename = "RSA_2048")]
    Rsa2048,
    /// `RSA_3072`.
    #[serde(rename = "RSA_3072")]
    Rsa3072,
    /// `RSA_4096`.
    #[serde(rename = "RSA_4096")]
    Rsa4096,
}

/// `BytesGenerationContext.generationTemplate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BytesTemplate {
    /// `BYTES_512`: 512 bits.
    #[serde(rename = "BYTES_512")]
    Bytes512,
    /// `BYTES_1024`: 1024 bits.
    #[serde(rename = "BYTES_1024")]
    Bytes1024,
}

/// A validated `SecretGenerationContext`, stored on the secret and returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "generationType", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GenerationContext {
    /// `PassphraseGenerationContext`.
    #[serde(rename_all = "camelCase")]
    Passphrase {
        /// `generationTemplate`.
        generation_template: PassphraseTemplate,
        /// `passphraseLength` (absent: [`DEFAULT_PASSPHRASE_LENGTH`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passphrase_length: Option<u32>,
        /// `secretTemplate`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_template: Option<String>,
    },
    /// `SshKeyGenerationContext`.
    #[serde(rename_all = "camelCase")]
    SshKey {
        /// `generationTemplate`.
        generation_template: SshTemplate,
        /// `secretTemplate`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_template: Option<String>,
    },
    /// `BytesGenerationContext`.
    #[serde(rename_all = "camelCase")]
    Bytes {
        /// `generationTemplate`.
        generation_template: BytesTemplate,
        /// `secretTemplate`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret_template: Option<String>,
    },
}

fn check_template(template: Option<&str>, placeholders: &[&str], kind: &str) -> Result<()> {
    let Some(t) = template else { return Ok(()) };
    if t.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(Error::InvalidParameter(format!(
            "secretGenerationContext.secretTemplate must be at most {MAX_TEMPLATE_CHARS} characters."
        )));
    }
    for p in placeholders {
        if !t.contains(p) {
            return Err(Error::InvalidParameter(format!(
                "A {kind} secretTemplate must contain {}.",
                placeholders.join(" and ")
            )));
        }
    }
    Ok(())
}

impl GenerationContext {
    /// Checks the context: `passphraseLength` in the template's range, and a
    /// `secretTemplate` (when given) holding the type's placeholders. 400
    /// `InvalidParameter` otherwise.
    pub fn validate(&self) -> Result<()> {
        match self {
            GenerationContext::Passphrase {
                generation_template,
                passphrase_length,
                secret_template,
            } => {
                let (min, max) = generation_template.lengths();
                if passphrase_length.is_some_and(|n| !(min..=max).contains(&n)) {
                    return Err(Error::InvalidParameter(format!(
                        "passphraseLength must be from {min} to {max} for this generationTemplate."
                    )));
                }
                check_template(
                    secret_template.as_deref(),
                    &[PASSPHRASE_PLACEHOLDER],
                    "PASSPHRASE",
                )
            }
            GenerationContext::SshKey {
                secret_template, ..
            } => check_template(
                secret_template.as_deref(),
                &[PUBLIC_KEY_PLACEHOLDER, PRIVATE_KEY_PLACEHOLDER],
                "SSH_KEY",
            ),
            GenerationContext::Bytes {
                secret_template, ..
            } => check_template(secret_template.as_deref(), &[BYTES_PLACEHOLDER], "BYTES"),
        }
    }

    /// Generates a version's content. Never logged.
    ///
    /// # Errors
    /// [`Error::Internal`] when the system's random source or RSA key
    /// generation fails.
    pub fn generate(&self) -> Result<KeyBytes> {
        match self {
            GenerationContext::Passphrase {
                generation_template,
                passphrase_length,
                secret_template,
            } => {
                let length = passphrase_length.unwrap_or(DEFAULT_PASSPHRASE_LENGTH) as usize;
                let pass = passphrase(*generation_template, length);
                Ok(fill(
                    secret_template.as_deref(),
                    &[(PASSPHRASE_PLACEHOLDER, &pass)],
                    || pass.as_bytes().to_vec(),
                ))
            }
            GenerationContext::SshKey {
                generation_template,
                secret_template,
            } => {
                let bytes = match generation_template {
                    SshTemplate::Rsa2048 => 256,
                    SshTemplate::Rsa3072 => 384,
                    SshTemplate::Rsa4096 => 512,
                };
                let kind = asymmetric::Kind::Rsa(bytes);
                let pkcs8 = asymmetric::generate(kind).map_err(internal)?;
                let public = Zeroizing::new(asymmetric::pem(
                    &asymmetric::public_key_der(kind, &pkcs8).map_err(internal)?,
                ));
                let private = asymmetric::private_pem(&pkcs8);
                Ok(fill(
                    secret_template.as_deref(),
                    &[
                        (PUBLIC_KEY_PLACEHOLDER, &public),
                        (PRIVATE_KEY_PLACEHOLDER, &private),
                    ],
                    || {
                        let doc = serde_json::json!({
                            "publicKey": public.as_str(),
                            "privateKey": private.as_str(),
                        });
                        let text = Zeroizing::new(doc.to_string());
                        drop(doc);
                        text.as_bytes().to_vec()
                    },
                ))
            }
            GenerationContext::Bytes {
                generation_template,
                secret_template,
            } => {
                let n = match generation_template {
                    BytesTemplate::Bytes512 => 64,
                    BytesTemplate::Bytes1024 => 128,
                };
                let raw = crypto::random_bytes(n);
                let text = Zeroizing::new(B64.encode(&*raw));
                Ok(fill(
                    secret_template.as_deref(),
                    &[(BYTES_PLACEHOLDER, &text)],
                    || raw.to_vec(),
                ))
            }
        }
    }
}

fn internal(e: crypto::Error) -> Error {
    Error::Internal(anyhow::anyhow!("secret generation: {e}"))
}

/// The template with each placeholder replaced, or `plain()` without one.
fn fill(
    template: Option<&str>,
    values: &[(&str, &Zeroizing<String>)],
    plain: impl FnOnce() -> Vec<u8>,
) -> KeyBytes {
    match template {
        Some(t) => {
            let mut out = Zeroizing::new(t.to_owned());
            for (placeholder, value) in values {
                *out = out.replace(placeholder, value.as_str());
            }
            Zeroizing::new(out.as_bytes().to_vec())
        }
        None => Zeroizing::new(plain()),
    }
}

/// An unbiased index below `n` (n ≤ 256) from the CSPRNG, by rejection.
fn index(n: usize) -> usize {
    let limit = 256 - 256 % n;
    loop {
        let b = crypto::random_bytes(1)[0] as usize;
        if b < limit {
            return b % n;
        }
    }
}

fn pick(set: &[u8]) -> u8 {
    set[index(set.len())]
}

/// A passphrase of `length` characters meeting the template's classes,
/// uniformly shuffled (Fisher–Yates with unbiased indices).
fn passphrase(template: PassphraseTemplate, length: usize) -> Zeroizing<String> {
    let (specials, each) = match template {
        PassphraseTemplate::SecretsDefaultPassword => (SPECIAL, 1),
        PassphraseTemplate::DbaasDefaultPassword => (DB_SPECIAL, 2),
    };
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, specials].concat();
    let mut chars = Zeroizing::new(Vec::with_capacity(length));
    for set in [UPPER, LOWER, DIGITS, specials] {
        for _ in 0..each {
            chars.push(pick(set));
        }
    }
    while chars.len() < length {
        chars.push(pick(&all));
    }
    for i in (1..chars.len()).rev() {
        chars.swap(i, index(i + 1));
    }
    if template == PassphraseTemplate::DbaasDefaultPassword {
        // Oracle Database passwords start with a letter: swap one in front.
        if let Some(at) = chars.iter().position(u8::is_ascii_alphabetic) {
            chars.swap(0, at);
        }
    }
    Zeroizing::new(chars.iter().map(|&b| b as char).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &str, set: &[u8]) -> usize {
        s.bytes().filter(|b| set.contains(b)).count()
    }

    #[test]
    fn passphrases_meet_their_templates_classes() {
        for _ in 0..200 {
            let p = passphrase(PassphraseTemplate::SecretsDefaultPassword, 8);
            assert_eq!(p.len(), 8);
            for set in [UPPER, LOWER, DIGITS, SPECIAL] {
                assert!(count(&p, set) >= 1);
            }
            let d = passphrase(PassphraseTemplate::DbaasDefaultPassword, 9);
            assert_eq!(d.len(), 9);
            assert!(d.as_bytes()[0].is_ascii_alphabetic());
            for set in [UPPER, LOWER, DIGITS, DB_SPECIAL] {
                assert!(count(&d, set) >= 2);
            }
            assert_eq!(count(&d, SPECIAL) - count(&d, DB_SPECIAL), 0);
        }
    }

    #[test]
    fn lengths_and_templates_are_checked() {
        let ctx = |len, tpl: Option<&str>| GenerationContext::Passphrase {
            generation_template: PassphraseTemplate::DbaasDefaultPassword,
            passphrase_length: len,
            secret_template: tpl.map(str::to_owned),
        };
        assert!(ctx(Some(9), None).validate().is_ok());
        assert!(ctx(Some(8), None).validate().is_err());
        assert!(ctx(Some(31), None).validate().is_err());
        assert!(ctx(None, Some("{\"p\":\"%GENERATED_PASSPHRASE%\"}"))
            .validate()
            .is_ok());
        assert!(ctx(None, Some("no placeholder")).validate().is_err());
        let ssh = GenerationContext::SshKey {
            generation_template: SshTemplate::Rsa2048,
            secret_template: Some("%GENERATED_PUBLIC_KEY% only".into()),
        };
        assert!(ssh.validate().is_err());
    }

    #[test]
    fn templates_are_filled_and_bytes_have_their_size() {
        let ctx = GenerationContext::Passphrase {
            generation_template: PassphraseTemplate::SecretsDefaultPassword,
            passphrase_length: Some(12),
            secret_template: Some("pw=%GENERATED_PASSPHRASE%;".into()),
        };
        let out = ctx.generate().unwrap();
        assert!(out.starts_with(b"pw=") && out.ends_with(b";") && out.len() == 16);
        let bytes = GenerationContext::Bytes {
            generation_template: BytesTemplate::Bytes1024,
            secret_template: None,
        };
        assert_eq!(bytes.generate().unwrap().len(), 128);
        assert_ne!(bytes.generate().unwrap(), bytes.generate().unwrap());
    }
}
