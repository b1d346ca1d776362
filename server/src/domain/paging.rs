//! Keyset paging shared by the lists that page in SQL (`ListSecrets`,
//! `ListKeys`): a position in the list's order is the last row's sort key
//! and OCID, and the `opc-next-page` token that carries it is opaque to
//! clients (base64url), as OCI's are. A page is then one index walk with a
//! `LIMIT`, whatever the number of rows before it.

use base64::Engine as _;

use super::{Error, Result};

/// A position in a list's order: the last row's sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// By `timeCreated` (Unix nanoseconds), then id.
    Time(i64, String),
    /// By name (`secretName`, `displayName`), then id.
    Name(String, String),
    /// By version number (version lists, within one secret).
    Version(u64),
}

impl Cursor {
    /// The `opc-next-page` token of this position in the list `scope`
    /// names (an opaque tag of the list, its parent, order and filters).
    pub fn token(&self, scope: &str) -> String {
        let text = match self {
            Cursor::Time(t, id) => format!("{scope}|t:{t}:{id}"),
            Cursor::Name(n, id) => format!("{scope}|n:{id}:{n}"),
            Cursor::Version(n) => format!("{scope}|v:{n}:"),
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// The position a `page` token names, if it was made for `scope`.
    ///
    /// # Errors
    /// 400 `InvalidParameter` for anything this emulator did not hand out,
    /// or a token of another list, parent, order or filter.
    pub fn from_token(token: &str, scope: &str) -> Result<Self> {
        let bad = || Error::InvalidParameter("The page token is not valid.".into());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (made_for, text) = text.split_once('|').ok_or_else(bad)?;
        if made_for != scope {
            return Err(Error::InvalidParameter(
                "The page token belongs to another list, sort order or filter; start again without it.".into(),
            ));
        }
        // The OCID holds no ':'; a name may, so it comes last.
        let mut parts = text.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("t"), Some(t), Some(id)) if !id.is_empty() => {
                Ok(Cursor::Time(t.parse().map_err(|_| bad())?, id.to_owned()))
            }
            (Some("n"), Some(id), Some(n)) if !id.is_empty() => {
                Ok(Cursor::Name(n.to_owned(), id.to_owned()))
            }
            (Some("v"), Some(n), Some("")) => Ok(Cursor::Version(n.parse().map_err(|_| bad())?)),
            _ => Err(bad()),
        }
    }

    /// The cursor's sort key and id as query parameters, checked against
    /// the list's order (`by_name`); `(None, None)` for the first page.
    ///
    /// # Errors
    /// 400 `InvalidParameter` for a cursor of the other sort order.
    pub fn bounds(
        after: Option<&Cursor>,
        by_name: bool,
    ) -> Result<(Option<rusqlite::types::Value>, Option<&str>)> {
        match after {
            None => Ok((None, None)),
            Some(Cursor::Time(t, id)) if !by_name => Ok((Some((*t).into()), Some(id))),
            Some(Cursor::Name(n, id)) if by_name => Ok((Some(n.clone().into()), Some(id))),
            Some(_) => Err(Error::InvalidParameter(
                "The page token belongs to another sort order.".into(),
            )),
        }
    }

    /// The version number a version list's page starts after; `None` for
    /// the first page.
    ///
    /// # Errors
    /// 400 `InvalidParameter` for a cursor of another list.
    pub fn version(after: Option<&Cursor>) -> Result<Option<u64>> {
        match after {
            None => Ok(None),
            Some(Cursor::Version(n)) => Ok(Some(*n)),
            Some(_) => Err(Error::InvalidParameter(
                "The page token belongs to another list.".into(),
            )),
        }
    }
}

/// The sort column, keyset comparison and SQL order of a page of a list
/// sorted by `timeCreated` (`created_ns`) or by `name_column`.
pub fn order(
    by_name: bool,
    descending: bool,
    name_column: &'static str,
) -> (&'static str, &'static str, &'static str) {
    let key = if by_name { name_column } else { "created_ns" };
    if descending {
        (key, "<", "DESC")
    } else {
        (key, ">", "ASC")
    }
}

/// Decodes a page's `(doc, created_ns)` rows (fetched with [`fetch_limit`])
/// and cuts them to `limit`, answering the cursor after the page: by name
/// (`name_and_id` gives a row's sort name and OCID) or by creation time.
///
/// # Errors
/// A row or document that does not read.
pub fn decode_page<T: serde::de::DeserializeOwned>(
    rows: impl Iterator<Item = rusqlite::Result<(String, i64)>>,
    limit: Option<usize>,
    by_name: bool,
    name_and_id: impl Fn(&T) -> (&String, &String),
) -> Result<(Vec<T>, Option<Cursor>)> {
    let mut page = Vec::new();
    for row in rows {
        let (doc, created_ns) = row?;
        page.push((serde_json::from_str::<T>(&doc)?, created_ns));
    }
    let next = cut(&mut page, limit, |(item, created_ns)| {
        let (name, id) = name_and_id(item);
        if by_name {
            Cursor::Name(name.clone(), id.clone())
        } else {
            Cursor::Time(*created_ns, id.clone())
        }
    });
    Ok((page.into_iter().map(|(item, _)| item).collect(), next))
}

/// `LIMIT` for a page of `limit` rows: one more, so [`cut`] knows whether
/// another page follows; -1 (no limit) for `None`.
pub fn fetch_limit(limit: Option<usize>) -> i64 {
    limit.map_or(-1, |l| {
        i64::try_from(l).map_or(i64::MAX, |l| l.saturating_add(1))
    })
}

/// Cuts rows fetched with [`fetch_limit`] to `limit` and, when the extra
/// row was there, answers the position after the page's last row.
pub fn cut<T>(
    page: &mut Vec<T>,
    limit: Option<usize>,
    cursor_of: impl Fn(&T) -> Cursor,
) -> Option<Cursor> {
    match limit {
        Some(l) if page.len() > l => {
            page.truncate(l);
            page.last().map(cursor_of)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_the_position_they_were_made_from() {
        for cursor in [
            Cursor::Time(1_767_323_045_500_000_000, "ocid1.key.oc1..a".into()),
            Cursor::Name("db:primary".into(), "ocid1.vaultsecret.oc1..b".into()),
            Cursor::Version(2000),
        ] {
            assert_eq!(Cursor::from_token(&cursor.token("s"), "s").unwrap(), cursor);
            assert!(matches!(
                Cursor::from_token(&cursor.token("s"), "other"),
                Err(Error::InvalidParameter(m)) if m.contains("another list")
            ));
        }
        for bad in ["", "!!", "dDox", "eDoxOmE", "czp0OjE6eA"] {
            assert!(matches!(
                Cursor::from_token(bad, "s"),
                Err(Error::InvalidParameter(_))
            ));
        }
    }
}
