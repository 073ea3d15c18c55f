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
