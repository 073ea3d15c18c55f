//! `virtplane.v1.StorageService`: the service's dispatch and its handlers, by
//! capability (pools, volumes, uploads, downloads).

mod api;
mod download;
mod pools;
mod upload;
mod volumes;

pub use api::StorageApi;
