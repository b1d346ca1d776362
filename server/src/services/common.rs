//! Wire pieces shared by every API: RFC 3339 times with milliseconds,
//! tags, pagination (`limit`/`page` ↔ `opc-next-page`) and sorting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};
use time::OffsetDateTime;

use super::Ctx;
pub use crate::clock::format_time;
use crate::domain::paging::Cursor;
use crate::domain::Tags;
use crate::error::ApiError;

/// Serialises an `OffsetDateTime` field with [`format_time`].
pub fn ser_time<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_time(*t))
}

/// Serialises an optional time field (skip `None` with `skip_serializing_if`).
pub fn ser_opt_time<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&format_time(*t)),
        None => s.serialize_none(),
    }
}

/// `freeformTags` and `definedTags` as they appear in requests. The types
/// are OCI's (`map<string,string>` and `map<string,map<string,any>>`), so a
/// wrong shape is a 400 naming the field, before anything is stored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsIn {
    /// `freeformTags`: string → string.
    pub freeform_tags: Option<BTreeMap<String, String>>,
    /// `definedTags`: namespace → key → value.
    pub defined_tags: Option<BTreeMap<String, serde_json::Map<String, serde_json::Value>>>,
}

/// OCI's limits on tags: at most 64 per resource; keys 1–100 characters
/// without control characters; free-form values up to 256 characters.
const MAX_TAGS: usize = 64;

impl TagsIn {
    /// Checks OCI's tag limits (400 `InvalidParameter` naming the field).
    fn validate(&self) -> Result<(), ApiError> {
        let free = self.freeform_tags.as_ref();
        let defined = self.defined_tags.as_ref();
        let count = free.map_or(0, BTreeMap::len)
            + defined.map_or(0, |d| d.values().map(serde_json::Map::len).sum());
        if count > MAX_TAGS {
            return Err(ApiError::invalid(format!(
                "A resource can have at most {MAX_TAGS} tags."
            )));
        }
        let bad_key =
            |k: &str| k.is_empty() || k.chars().count() > 100 || k.chars().any(char::is_control);
        for (k, v) in free.into_iter().flatten() {
            if bad_key(k) || v.chars().count() > 256 {
                return Err(ApiError::invalid(
                    "freeformTags keys must be 1 to 100 characters without control characters, values at most 256 characters.",
                ));
            }
        }
        for (ns, tags) in defined.into_iter().flatten() {
            if bad_key(ns) || tags.keys().any(|k| bad_key(k)) {
                return Err(ApiError::invalid(
                    "definedTags namespaces and keys must be 1 to 100 characters without control characters.",
                ));
            }
        }
        Ok(())
    }

    /// `freeformTags` as stored.
    pub fn freeform_map(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.freeform_tags.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect()
        })
    }

    /// `definedTags` as stored.
    pub fn defined_map(&self) -> Option<serde_json::Map<String, serde_json::Value>> {
        self.defined_tags.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::Object(v.clone())))
                .collect()
        })
    }

    /// Tags for a new resource.
    pub fn into_tags(self) -> Result<Tags, ApiError> {
        self.validate()?;
        Ok(Tags {
            freeform: self.freeform_map().unwrap_or_default(),
            defined: self.defined_map().unwrap_or_default(),
        })
    }

    /// The same tags, after checking OCI's limits (for updates, which merge
    /// inside a store transaction).
    pub fn checked(self) -> Result<Self, ApiError> {
        self.validate()?;
        Ok(self)
    }

    /// Tags for an update (call [`TagsIn::checked`] first): `None` when
    /// neither was given; each given map replaces the stored one (OCI's
    /// update semantics).
    pub fn merge_into(self, current: &Tags) -> Option<Tags> {
        if self.freeform_tags.is_none() && self.defined_tags.is_none() {
            return None;
        }
        Some(Tags {
            freeform: self
                .freeform_map()
                .unwrap_or_else(|| current.freeform.clone()),
            defined: self
                .defined_map()
                .unwrap_or_else(|| current.defined.clone()),
        })
    }
}

/// `freeformTags` and `definedTags` as they appear in responses (always
/// present, possibly empty, as OCI sends them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TagsOut {
    /// `freeformTags`.
    pub freeform_tags: serde_json::Map<String, serde_json::Value>,
    /// `definedTags`.
    pub defined_tags: serde_json::Map<String, serde_json::Value>,
}

impl From<&Tags> for TagsOut {
    fn from(t: &Tags) -> Self {
        Self {
            freeform_tags: t.freeform.clone(),
            defined_tags: t.defined.clone(),
        }
    }
}

/// Checks a `displayName`: 1 to 255 characters, no control characters.
pub fn display_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if n == 0 || n > 255 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "displayName must be 1 to 255 characters without control characters.",
        ));
    }
    Ok(())
}

/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 1000;

/// Cuts one page out of a sorted list. `limit` is 1–1000 (absent: all that
/// remain); `page` is the opaque token of a previous `opc-next-page` (here
/// an offset). Returns the page and the next token, `None` on the last page.
pub fn paginate<T>(items: Vec<T>, ctx: &Ctx<'_>) -> Result<(Vec<T>, Option<String>), ApiError> {
    let limit = limit(ctx)?;
    let offset = match ctx.query("page")? {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| ApiError::invalid("The page token is not valid."))?,
    };
    let total = items.len();
    let page: Vec<T> = items
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    let end = offset.saturating_add(page.len());
    let next = (limit.is_some() && end < total).then(|| end.to_string());
    Ok((page, next))
}

/// The `page` query parameter of a list that pages in SQL: the position
/// its token names (`domain::paging`), `None` for the first page.
///
/// # Errors
/// 400 `InvalidParameter` for a token this emulator did not hand out, or
/// one made for another list, parent, sort order or filter.
pub fn page(ctx: &Ctx<'_>) -> Result<Option<Cursor>, ApiError> {
    match ctx.query("page")? {
        None => Ok(None),
        Some(token) => Ok(Some(Cursor::from_token(&token, &page_scope(ctx)?)?)),
    }
}

/// The `opc-next-page` token of the position after a page, for the same
/// list as the request's.
///
/// # Errors
/// 400 `InvalidParameter` for a malformed query string.
pub fn next_page(ctx: &Ctx<'_>, after: Option<Cursor>) -> Result<Option<String>, ApiError> {
    after.map(|c| Ok(c.token(&page_scope(ctx)?))).transpose()
}

/// What a page token is bound to: the operation, its path parameters, the
/// region, the vault of the endpoint, and every query parameter but `page`
/// and `limit` (so its order and filters), as a CRC-32 tag. OCI's tokens
/// are opaque and only valid for the request that made them.
fn page_scope(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(&ctx.query)
        .map_err(|_| ApiError::invalid("The query string is malformed."))?;
    pairs.retain(|(k, _)| k != "page" && k != "limit");
    pairs.sort();
    let vault = ctx.target.vault.as_ref().map(|v| v.id.as_str());
    let scope = format!(
        "{}\n{:?}\n{:?}\n{:?}\n{:?}",
        ctx.operation.name(),
        ctx.params,
        ctx.region,
        vault,
        pairs
    );
    Ok(format!("{:08x}", crc32fast::hash(scope.as_bytes())))
}

/// The `limit` query parameter: 1 to [`MAX_LIMIT`], `None` when absent;
/// 400 `InvalidParameter` otherwise.
pub fn limit(ctx: &Ctx<'_>) -> Result<Option<usize>, ApiError> {
    match ctx.query("limit")? {
        None => Ok(None),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::invalid(format!(
                "limit must be an integer from 1 to {MAX_LIMIT}."
            ))),
        },
    }
}

/// A validated `sortBy`/`sortOrder` pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    /// Index into the operation's allowed `sortBy` values.
    pub by: usize,
    /// Descending?
    pub descending: bool,
}

/// Parses `sortBy` (one of `allowed`, default the first) and `sortOrder`
/// (`ASC`/`DESC`; default DESC for `TIMECREATED` and `VERSION_NUMBER`, ASC
/// for names, as the SDK docstrings say).
pub fn sort(ctx: &Ctx<'_>, allowed: &[&str]) -> Result<Sort, ApiError> {
    let by = match ctx.query("sortBy")? {
        None => 0,
        Some(v) => allowed.iter().position(|a| *a == v).ok_or_else(|| {
            ApiError::invalid(format!("sortBy must be one of {}.", allowed.join(", ")))
        })?,
    };
    let descending = match ctx.query("sortOrder")?.as_deref() {
        None => matches!(allowed[by], "TIMECREATED" | "VERSION_NUMBER"),
        Some("ASC") => false,
        Some("DESC") => true,
        Some(_) => return Err(ApiError::invalid("sortOrder must be ASC or DESC.")),
    };
    Ok(Sort { by, descending })
}

impl Sort {
    /// Sorts resources by creation time (`sortBy` index 0) or by name (index
    /// 1), ties broken by OCID so pages are stable. `key` gives (time, name,
    /// id) of an item.
    pub fn apply<T>(self, items: &mut [T], key: impl Fn(&T) -> (OffsetDateTime, &str, &str)) {
        items.sort_by(|a, b| {
            let (ta, na, ia) = key(a);
            let (tb, nb, ib) = key(b);
            let ord = if self.by == 0 {
                ta.cmp(&tb)
            } else {
                na.cmp(nb)
            }
            .then_with(|| ia.cmp(ib));
            if self.descending {
                ord.reverse()
            } else {
                ord
            }
        });
    }
}

/// Parses an optional RFC 3339 time given in a request body.
pub fn parse_time(field: &str, value: Option<&str>) -> Result<Option<OffsetDateTime>, ApiError> {
    value
        .map(|v| {
            OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::invalid(format!("{field} must be an RFC 3339 date-time.")))
        })
        .transpose()
}

/// Integer request fields as OCI's (Jackson-based) services read them: a
/// JSON number, or a JSON string holding one. Oracle's own CLI samples send
/// `"keyShape":{"algorithm":"AES","length":"16"}` and OCI accepts it, so
/// every integer field of a request model this emulator parses goes
/// through here: `#[serde(deserialize_with = "common::int")]`, or
/// [`opt_int`] with `#[serde(default)]` for an optional field.
///
/// Accepted: `16`, `16.0` (an integral JSON number, as Jackson takes it),
/// `"16"` and `" 16 "` (surrounding blanks trimmed). Refused, as 400
/// `InvalidParameter` naming the field (through `services::parse_json`,
/// which also redacts the string): `"16a"`, `""`, `16.5`, `true`, a value
/// out of the field's range.
pub fn int<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Int,
{
    deserializer.deserialize_any(IntVisitor(std::marker::PhantomData))
}

/// [`int`] for an `Option` field (`null` or absent → `None`; pair it with
/// `#[serde(default)]`).
pub fn opt_int<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Int,
{
    struct Lenient<T>(T);
    impl<'de, T: Int> Deserialize<'de> for Lenient<T> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            int(d).map(Lenient)
        }
    }
    Ok(Option::<Lenient<T>>::deserialize(deserializer)?.map(|l| l.0))
}

/// The integer types [`int`] reads (`u16`, `u32`, `u64`, `i64`).
pub trait Int: Sized + TryFrom<u64> + TryFrom<i64> + std::str::FromStr {}
impl Int for u16 {}
impl Int for u32 {}
impl Int for u64 {}
impl Int for i64 {}

struct IntVisitor<T>(std::marker::PhantomData<T>);

const EXPECTED_INT: &str = "an integer (a JSON number or a string of decimal digits)";

impl<T: Int> serde::de::Visitor<'_> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(EXPECTED_INT)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<T, E> {
        let unexpected = || E::invalid_value(serde::de::Unexpected::Float(v), &self);
        // Exact in f64 up to 2^53; anything beyond is no field's value.
        if v.fract() != 0.0 || v.abs() > 9_007_199_254_740_992.0 {
            return Err(unexpected());
        }
        if v < 0.0 {
            T::try_from(v as i64).map_err(|_| unexpected())
        } else {
            T::try_from(v as u64).map_err(|_| unexpected())
        }
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
        v.trim()
            .parse::<T>()
            .map_err(|_| E::invalid_value(serde::de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape {
        #[serde(deserialize_with = "int")]
        length: u32,
        #[serde(default, deserialize_with = "opt_int")]
        interval: Option<u16>,
    }

    fn parse(body: &str) -> Result<Shape, (ErrorCode, String)> {
        crate::services::parse_json::<Shape>(body.as_bytes())
            .map_err(|e| (e.code, e.message.into_owned()))
    }

    #[test]
    fn integers_may_come_as_numbers_or_numeric_strings() {
        for (body, length, interval) in [
            (r#"{"length": 16}"#, 16, None),
            (r#"{"length": "16"}"#, 16, None),
            (r#"{"length": " 24 ", "interval": "90"}"#, 24, Some(90)),
            (r#"{"length": 32.0, "interval": 365}"#, 32, Some(365)),
            (r#"{"length": "32", "interval": null}"#, 32, None),
        ] {
            let shape = parse(body).unwrap();
            assert_eq!((shape.length, shape.interval), (length, interval), "{body}");
        }
    }

    #[test]
    fn non_numeric_strings_are_invalid_parameters_that_do_not_echo_the_value() {
        for (body, field) in [
            (r#"{"length": "sixteen"}"#, "length"),
            (r#"{"length": ""}"#, "length"),
            (r#"{"length": "16.5"}"#, "length"),
            (r#"{"length": 16.5}"#, "length"),
            (r#"{"length": -1}"#, "length"),
            (r#"{"length": "4294967296"}"#, "length"),
            (r#"{"length": true}"#, "length"),
            (r#"{"length": 16, "interval": "70000"}"#, "interval"),
            (r#"{"length": 16, "interval": "9x"}"#, "interval"),
        ] {
            let (code, message) = parse(body).unwrap_err();
            assert_eq!(code, ErrorCode::InvalidParameter, "{body}: {message}");
            assert!(message.contains(field), "{body}: {message}");
            assert!(message.contains("expected an integer"), "{body}: {message}");
            for echoed in ["sixteen", "16.5", "4294967296", "70000", "9x"] {
                if body.contains(&format!("\"{echoed}\"")) {
                    assert!(!message.contains(echoed), "{body}: {message}");
                }
            }
        }
    }
}
