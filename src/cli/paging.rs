//! Lists that come in pages: every page fetched and merged into the first, so a list
//! command shows the whole list unless asked for one page.

use std::future::Future;

use tonic::{Response, Status};

use super::error::CliError;

/// A list response: its items and the token of the next page.
pub(crate) trait Paged {
    fn next_page_token(&mut self) -> &mut String;
    /// Appends `page`'s items to this page's.
    fn extend(&mut self, page: Self);
}

/// Calls `call` with each page token, from the first page to the last, and answers
/// one response holding every item, its `next_page_token` empty.
pub(crate) async fn all_pages<R, F, Fut>(mut call: F) -> Result<R, CliError>
where
    R: Paged,
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    let mut all = call(String::new()).await?.into_inner();
    loop {
        let token = std::mem::take(all.next_page_token());
        if token.is_empty() {
            return Ok(all);
        }
        let mut page = call(token).await?.into_inner();
        let next = std::mem::take(page.next_page_token());
        all.extend(page);
        *all.next_page_token() = next;
    }
}

macro_rules! paged {
    ($($ty:ident . $items:ident),* $(,)?) => {
        $(
            impl Paged for crate::grpc::pb::$ty {
                fn next_page_token(&mut self) -> &mut String {
                    &mut self.next_page_token
                }

                fn extend(&mut self, page: Self) {
                    self.$items.extend(page.$items);
                }
            }
        )*
    };
}

impl Paged for crate::grpc::pb::ListDomainsResponse {
    fn next_page_token(&mut self) -> &mut String {
        &mut self.next_page_token
    }

    fn extend(&mut self, page: Self) {
        self.domains.extend(page.domains);
        // One stale page makes the whole list stale.
        self.stale |= page.stale;
    }
}

paged!(
    ListSnapshotsResponse.snapshots,
    ListNetworksResponse.networks,
    ListStoragePoolsResponse.pools,
    ListVolumesResponse.volumes,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grpc::pb;

    fn domain(name: &str) -> pb::Domain {
        pb::Domain {
            name: name.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn every_page_is_fetched_and_merged_into_one_list() {
        let pages = [("", "a", "t1"), ("t1", "b", "t2"), ("t2", "c", "")];
        let mut asked = Vec::new();

        let all = all_pages(|token| {
            asked.push(token.clone());
            let (_, name, next) = pages
                .iter()
                .find(|(at, _, _)| *at == token)
                .copied()
                .unwrap_or_default();
            let page = pb::ListDomainsResponse {
                domains: vec![domain(name)],
                next_page_token: next.into(),
                stale: name == "b",
            };
            async move { Ok(Response::new(page)) }
        })
        .await
        .expect("listed");

        assert_eq!(asked, ["", "t1", "t2"]);
        let names: Vec<&str> = all.domains.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(all.next_page_token, "");
        assert!(all.stale, "one stale page makes the list stale");
    }
}
