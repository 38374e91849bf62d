//! Pagination, the same on every list route: `?after=` takes the previous page's `next`,
//! `?limit=` how many (default 100, at most 1,000); the answer's `next` is null on the last
//! page. Routes over large tables (campaigns, suppressions, contacts) page in the store; the
//! small ones the store reads whole (domains, seeds, lists, segments, tokens, webhooks: rows an
//! admin made by hand) are paged here, over the same order every time.

use axum::http::StatusCode;
use axum::response::Response;
use schemars::JsonSchema;
use serde::Deserialize;

use super::error;

/// The page size when `?limit=` is not given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page; a larger `?limit=` returns this many.
pub const MAX_LIMIT: u32 = 1000;

/// `?after=&limit=`.
#[derive(Deserialize, JsonSchema)]
pub struct PageQuery {
    /// The previous page's `next`.
    #[schemars(length(max = 400))]
    pub after: Option<String>,
    /// At most this many (default 100; more than 1000 returns 1000).
    #[schemars(range(min = 1, max = u32::MAX))]
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page size asked for: 422 for 0, or for a cursor no page gave (over 400 characters).
    pub fn size(&self) -> Result<u32, Box<Response>> {
        if self.after.as_ref().is_some_and(|a| a.chars().count() > 400) {
            return Err(Box::new(error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "after: at most 400 characters (the previous page's next)",
            )));
        }
        page_size(self.limit)
    }
}

/// A numeric cursor (`after` of campaigns and members): digits only, at most 18, above `min`.
pub fn id_cursor(after: Option<&str>, min: i64) -> Result<Option<i64>, Box<Response>> {
    let Some(a) = after else { return Ok(None) };
    match a.parse::<i64>() {
        Ok(n) if a.len() <= 18 && a.bytes().all(|b| b.is_ascii_digit()) && n >= min => Ok(Some(n)),
        _ => Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "after: expected the previous page's next",
        ))),
    }
}

/// The page size for a `?limit=`: 422 for 0, at most [`MAX_LIMIT`].
pub fn page_size(limit: Option<u32>) -> Result<u32, Box<Response>> {
    match limit {
        Some(0) => Err(Box::new(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit: at least 1",
        ))),
        Some(n) => Ok(n.min(MAX_LIMIT)),
        None => Ok(DEFAULT_LIMIT),
    }
}

/// The cursor of the page after `page`: its last row's key when it is full, else None.
pub fn next_cursor<T>(page: &[T], limit: u32, key: impl Fn(&T) -> String) -> Option<String> {
    (page.len() == limit as usize)
        .then(|| page.last().map(key))
        .flatten()
}

/// One page of a collection read whole: the rows whose key sorts after `after`, in key order.
pub fn page_of<T>(
    mut rows: Vec<T>,
    after: Option<&str>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> (Vec<T>, Option<String>) {
    rows.sort_by_cached_key(&key);
    if let Some(after) = after {
        rows.retain(|r| key(r).as_str() > after);
    }
    rows.truncate(limit as usize);
    let next = next_cursor(&rows, limit, &key);
    (rows, next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_every_row_once_in_key_order() {
        let rows: Vec<String> = ["d", "a", "c", "b", "e"].map(String::from).to_vec();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let (page, next) = page_of(rows.clone(), after.as_deref(), 2, Clone::clone);
            assert!(page.len() <= 2);
            seen.extend(page);
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_full_last_page_is_followed_by_an_empty_one() {
        let rows = vec!["a".to_string(), "b".to_string()];
        let (page, next) = page_of(rows.clone(), None, 2, Clone::clone);
        assert_eq!((page.len(), next.as_deref()), (2, Some("b")));
        let (page, next) = page_of(rows, Some("b"), 2, Clone::clone);
        assert!(page.is_empty() && next.is_none());
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(page_size(None).ok(), Some(DEFAULT_LIMIT));
        assert_eq!(page_size(Some(5000)).ok(), Some(MAX_LIMIT));
        assert!(page_size(Some(0)).is_err());
    }
}
