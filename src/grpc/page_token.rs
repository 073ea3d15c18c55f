//! Opaque page tokens for `ListDomains`: a name cursor bound to the request's filter.
//!
//! The cursor is the last name returned, so a page is stable while domains come and
//! go between calls; binding the filter rejects a token reused with another filter.

use tonic::Status;

const VERSION: &str = "v1";

/// Where the next page starts: after `last_name`, under filter `filter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageToken {
    pub(crate) filter: String,
    pub(crate) last_name: String,
}

impl PageToken {
    pub(crate) fn encode(&self) -> String {
        let raw = format!("{VERSION}\n{}\n{}", self.filter, self.last_name);
        crate::hex::encode(raw.as_bytes())
    }

    /// Decodes `token` (empty means the first page) issued for `filter`.
    pub(crate) fn decode(token: &str, filter: &str) -> Result<Option<PageToken>, Status> {
        if token.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            Status::invalid_argument(
                "`page_token` is not a token this call returned; omit it to start from the first page",
            )
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
            return Err(Status::invalid_argument(
                "`page_token` was issued for different filters; repeat the filters of the first call",
            ));
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
