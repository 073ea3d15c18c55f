//! Paging, the same for every List call: `page_size` (default 100, at most 1000) and
//! an opaque `page_token` holding a cursor bound to the request's filters.
//!
//! The cursor is the last item returned (a name, an id), so a page is stable while
//! items come and go between calls; binding the filters rejects a token reused with
//! others.

use crate::model::InvalidArgument;
use tonic::Status;

const VERSION: &str = "v1";
const DEFAULT_PAGE_SIZE: usize = 100;
const MAX_PAGE_SIZE: usize = 1000;

/// One List request's paging: how many items, and after which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paging {
    /// Items per page.
    pub(crate) size: usize,
    /// The last item of the previous page, if this is not the first.
    pub(crate) after: Option<String>,
    filters: String,
}

impl Paging {
    /// Reads `page_size` and `page_token`; `filters` describes the request's filters.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` for a negative size or a token this call did not issue
    /// under these filters.
    pub(crate) fn parse(page_size: i32, page_token: &str, filters: String) -> Result<Self, Status> {
        let size = match page_size {
            0 => DEFAULT_PAGE_SIZE,
            n if n < 0 => {
                return Err(Status::from(InvalidArgument::new(
                    "page_size",
                    "`page_size` must not be negative",
                )));
            }
            n => usize::try_from(n)
                .unwrap_or(MAX_PAGE_SIZE)
                .min(MAX_PAGE_SIZE),
        };
        let after = PageToken::decode(page_token, &filters)?.map(|token| token.last_name);
        Ok(Paging {
            size,
            after,
            filters,
        })
    }

    /// The cursor as an id, for lists ordered by id.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` when the token's cursor is not an id.
    pub(crate) fn after_id(&self) -> Result<Option<i64>, Status> {
        self.after
            .as_deref()
            .map(str::parse::<i64>)
            .transpose()
            .map_err(|_| {
                Status::from(InvalidArgument::new(
                    "page_token",
                    "`page_token` is not a token this call returned",
                ))
            })
    }

    /// How many items to fetch: one more than a page tells whether another follows.
    pub(crate) fn fetch(&self) -> usize {
        self.size + 1
    }

    /// Cuts `items` (fetched with [`Paging::fetch`]) to one page; the token for the
    /// next one, empty on the last page.
    pub(crate) fn finish<T>(&self, items: &mut Vec<T>, cursor: impl Fn(&T) -> String) -> String {
        if items.len() <= self.size {
            return String::new();
        }
        items.truncate(self.size);
        PageToken {
            filter: self.filters.clone(),
            last_name: items.last().map(cursor).unwrap_or_default(),
        }
        .encode()
    }
}

/// Where the next page starts: after `last_name`, under filter `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageToken {
    filter: String,
    last_name: String,
}

impl PageToken {
    fn encode(&self) -> String {
        let raw = format!("{VERSION}\n{}\n{}", self.filter, self.last_name);
        crate::hex::encode(raw.as_bytes())
    }

    /// Decodes `token` (empty means the first page) issued for `filter`.
    fn decode(token: &str, filter: &str) -> Result<Option<PageToken>, Status> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            Status::from(InvalidArgument::new(
                "page_token",
                "`page_token` is not a token this call returned; omit it to start from the first page",
            ))
        };
        if token.len() > 4096 {
            return Err(invalid());
        }
        let bytes = crate::hex::decode(token).ok_or_else(invalid)?;
        let raw = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = raw.splitn(3, '\n');
        let (Some(VERSION), Some(token_filter), Some(last_name)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid());
        };
        if token_filter != filter {
            return Err(Status::from(InvalidArgument::new(
                "page_token",
                "`page_token` was issued for different filters; repeat the filters of the first call",
            )));
        }
        Ok(Some(PageToken {
            filter: filter.to_owned(),
            last_name: last_name.to_owned(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip() {
        let token = PageToken {
            filter: "running".into(),
            last_name: "web-1".into(),
        };
        let decoded = PageToken::decode(&token.encode(), "running").expect("valid");
        assert_eq!(decoded, Some(token));
    }

    #[test]
    fn sizes_default_cap_and_refuse_negatives_and_pages_chain() {
        assert_eq!(
            Paging::parse(0, "", String::new()).map(|p| p.size).ok(),
            Some(100)
        );
        assert_eq!(
            Paging::parse(5000, "", String::new()).map(|p| p.size).ok(),
            Some(1000)
        );
        assert!(Paging::parse(-1, "", String::new()).is_err());
        let first = Paging::parse(2, "", "f".into()).expect("first");
        let mut items = vec![1, 2, 3];
        let token = first.finish(&mut items, i32::to_string);
        assert_eq!(items, [1, 2]);
        let next = Paging::parse(2, &token, "f".into()).expect("next");
        assert_eq!(next.after_id().ok(), Some(Some(2)));
        let mut last = vec![3];
        assert_eq!(next.finish(&mut last, i32::to_string), "");
    }

    #[test]
    fn garbage_and_foreign_filters_are_rejected() {
        assert!(PageToken::decode("zz", "").is_err());
        assert!(PageToken::decode("abc", "").is_err());
        let token = PageToken {
            filter: "running".into(),
            last_name: "a".into(),
        };
        let err = PageToken::decode(&token.encode(), "").expect_err("other filter");
        assert!(err.message().contains("different"));
    }
}
