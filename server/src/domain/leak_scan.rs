//! The leak scan (`POST /_emulator/scan`, `oci-vault-emulator scan-logs`):
//! does a text hold a secret value the emulator keeps?
//!
//! [`Index::build`] opens every stored secret version and keeps, in memory
//! only, the forms a value takes when a program logs it: raw, base64,
//! base64url (padded or not), URL-encoded (`%XX`, and `+` for a space),
//! hex (lower and upper case) and JSON-escaped (as `serde_json` and as
//! Python's `json.dumps` write it). The index is one Aho–Corasick automaton;
//! the caller drops it when the scan is done. Its own pattern list is
//! zeroised on drop; the automaton's internal tables are freed, not
//! zeroised (the crate offers no hook), which is why the index lives only
//! for one scan. A [`Finding`] names the line, the secret's OCID, the
//! version and the form, never the value.
//!
//! Values shorter than [`MIN_LEN`] bytes are not indexed: a 3-byte secret
//! matches by chance in any log.

use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine as _;
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::secrets::{self, SecretVersion};
use super::Result;
use crate::crypto::Keyring;

/// The shortest value indexed, in bytes.
pub const MIN_LEN: usize = 6;

/// Where a pattern comes from.
#[derive(Debug, Clone)]
struct Origin {
    secret_id: String,
    version_number: u64,
    form: &'static str,
}

/// The value index of one scan (see the module doc). No `Debug`: it holds
/// secret values.
pub struct Index {
    automaton: Option<AhoCorasick>,
    origins: Vec<Origin>,
    patterns: Vec<Zeroizing<Vec<u8>>>,
    /// Versions indexed.
    pub versions: usize,
    /// Versions not indexed because they are shorter than [`MIN_LEN`].
    pub too_short: usize,
}

/// One place a secret value was found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// 1-based line number.
    pub line: usize,
    /// The secret's OCID.
    pub secret_id: String,
    /// The secret version whose value it is.
    pub version_number: u64,
    /// `raw`, `base64`, `base64url`, `url`, `hex`, `json`.
    pub encoding: &'static str,
}

impl Index {
    /// Opens every stored secret version (in `tx`) and indexes its forms.
    /// A version whose content cannot be opened is skipped (and logged by
    /// OCID only).
    pub fn build(tx: &Connection, keyring: &Keyring) -> Result<Self> {
        let versions: Vec<SecretVersion> = crate::store::query_docs(
            tx,
            "SELECT doc FROM secret_versions ORDER BY secret_id, version_number",
            [],
        )?;
        let mut values = Vec::new();
        for v in versions {
            let key_version: super::keys::KeyVersion =
                match crate::store::get(tx, &crate::store::KEY_VERSIONS, &v.key_version_id) {
                    Ok(Some(kv)) => kv,
                    _ => continue,
                };
            match secrets::open_content(keyring, &v, &key_version) {
                Ok(content) => values.push((v.secret_id.clone(), v.version_number, content)),
                Err(_) => tracing::debug!(
                    secret = %v.secret_id,
                    version = v.version_number,
                    "leak scan: version content not readable; skipped"
                ),
            }
        }
        Ok(Self::from_values(values))
    }

    /// Indexes `(secret OCID, version, value)` triples.
    pub fn from_values(values: Vec<(String, u64, Zeroizing<Vec<u8>>)>) -> Self {
        let mut origins = Vec::new();
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let (mut versions, mut too_short) = (0, 0);
        for (secret_id, version_number, value) in values {
            if value.len() < MIN_LEN {
                too_short += 1;
                continue;
            }
            versions += 1;
            let mut forms = forms_of(&value);
            // The same bytes under two names (a value that is its own
            // URL encoding): keep the first.
            let mut seen: Vec<Zeroizing<Vec<u8>>> = Vec::new();
            forms.retain(|(_, p)| {
                let new = !seen.iter().any(|s| s.as_slice() == p.as_slice());
                if new {
                    seen.push(Zeroizing::new(p.to_vec()));
                }
                new
            });
            for (form, pattern) in forms {
                origins.push(Origin {
                    secret_id: secret_id.clone(),
                    version_number,
                    form,
                });
                patterns.push(pattern);
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(patterns.iter().map(|p| p.as_slice()))
                .ok()
        };
        Self {
            automaton,
            origins,
            patterns,
            versions,
            too_short,
        }
    }

    /// The findings in `text`, line by line (a line ends at `\n`); one per
    /// line, secret version and form.
    pub fn scan(&self, text: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        let Some(automaton) = &self.automaton else {
            return out;
        };
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            let mut found: Vec<usize> = automaton
                .find_overlapping_iter(line)
                .map(|m| m.pattern().as_usize())
                .collect();
            found.sort_unstable();
            found.dedup();
            for p in found {
                let o = &self.origins[p];
                let finding = Finding {
                    line: i + 1,
                    secret_id: o.secret_id.clone(),
                    version_number: o.version_number,
                    encoding: o.form,
                };
                if !out.contains(&finding) {
                    out.push(finding);
                }
            }
        }
        out
    }

    /// How many patterns the index holds.
    pub fn patterns(&self) -> usize {
        self.patterns.len()
    }
}

/// The forms of one value (see the module doc).
fn forms_of(value: &[u8]) -> Vec<(&'static str, Zeroizing<Vec<u8>>)> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let z = |s: String| Zeroizing::new(s.into_bytes());
    let mut out = vec![
        ("raw", Zeroizing::new(value.to_vec())),
        // Unpadded: also matches the padded form, which contains it.
        ("base64", z(STANDARD_NO_PAD.encode(value))),
        ("base64url", z(URL_SAFE_NO_PAD.encode(value))),
        ("hex", z(value.iter().map(|b| format!("{b:02x}")).collect())),
        ("hex", z(value.iter().map(|b| format!("{b:02X}")).collect())),
    ];
    const URL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let url = percent_encoding::percent_encode(value, URL).to_string();
    out.push(("url", z(url.replace("%20", "+"))));
    out.push(("url", z(url)));
    if let Ok(text) = std::str::from_utf8(value) {
        if let Ok(json) = serde_json::to_string(text) {
            out.push(("json", z(json[1..json.len() - 1].to_owned())));
        }
        // Python's json.dumps (ensure_ascii) and JavaScript escapes.
        let mut ascii = String::new();
        for c in text.chars() {
            match c {
                '"' => ascii.push_str("\\\""),
                '\\' => ascii.push_str("\\\\"),
                '\n' => ascii.push_str("\\n"),
                '\r' => ascii.push_str("\\r"),
                '\t' => ascii.push_str("\\t"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        ascii.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => ascii.push(c),
            }
        }
        out.push(("json", z(ascii)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(value: &[u8]) -> Index {
        Index::from_values(vec![(
            "ocid1.vaultsecret.oc1.iad.s1".into(),
            2,
            Zeroizing::new(value.to_vec()),
        )])
    }

    #[test]
    fn every_form_is_found_on_its_line_and_named() {
        // "??>" makes base64 '/' and base64url '_' somewhere in the text.
        let value = "p@ss word/é\"x??>".as_bytes();
        let idx = index(value);
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let cases: Vec<(String, &str)> = vec![
            ("p@ss word/é\"x??>".into(), "raw"),
            (STANDARD.encode(value), "base64"),
            (URL_SAFE.encode(value), "base64url"),
            (value.iter().map(|b| format!("{b:02x}")).collect(), "hex"),
            ("p%40ss%20word%2F%C3%A9%22x%3F%3F%3E".into(), "url"),
            ("p%40ss+word%2F%C3%A9%22x%3F%3F%3E".into(), "url"),
            ("p@ss word/é\\\"x??>".into(), "json"),
            ("p@ss word/\\u00e9\\\"x??>".into(), "json"),
        ];
        for (text, form) in cases {
            // A base64url text that is also the base64 one is named base64.
            let form = if form == "base64url" && text == STANDARD.encode(value) {
                "base64"
            } else {
                form
            };
            let log = format!("first line\nlevel=info value={text} end\n");
            let found = idx.scan(log.as_bytes());
            assert!(
                found
                    .iter()
                    .any(|f| f.line == 2 && f.encoding == form && f.version_number == 2),
                "{form}: {found:?}"
            );
            assert!(found.iter().all(|f| f.line == 2));
        }
    }

    #[test]
    fn a_clean_text_and_a_short_value_find_nothing() {
        assert!(index(b"correct horse battery")
            .scan(b"the ocid only: ocid1.vaultsecret.oc1.iad.s1\n")
            .is_empty());
        let short = index(b"abc");
        assert_eq!((short.versions, short.too_short), (0, 1));
        assert!(short.scan(b"abc abc").is_empty());
    }

    #[test]
    fn a_finding_never_holds_the_value() {
        let idx = index(b"hunter2-very-secret");
        let found = idx.scan(b"x hunter2-very-secret y");
        let text = serde_json::to_string(&found).unwrap() + &format!("{found:?}");
        assert!(!text.contains("hunter2"));
    }
}
