//! StorageService calls the storage tests share: a client, volumes, and uploads and
//! downloads as a client program would make them, with a locally computed SHA-256.

use tokio_stream::StreamExt;
use tonic::{Status, transport::Channel};
use virtplane::grpc::pb::{
    self, download_volume_response::Response, storage_service_client::StorageServiceClient,
    upload_volume_request::Request,
};

use super::TestApp;

pub type Storage = StorageServiceClient<Channel>;

/// A StorageService client on the app's channel.
pub fn client(app: &TestApp) -> Storage {
    StorageServiceClient::new(app.channel.clone())
}

/// The SHA-256 of `data`, lower-case hex, as a client computes it.
pub fn sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `len` random bytes.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(len as u64);
    let mut data = vec![0; len];
    rng.fill(&mut data);
    data
}

/// Creates `name` in `pool` with `format` and `capacity_bytes`.
pub async fn create_volume(
    storage: &mut Storage,
    pool: &str,
    name: &str,
    format: &str,
    capacity_bytes: u64,
) -> pb::Volume {
    storage
        .create_volume(pb::CreateVolumeRequest {
            pool: pool.into(),
            name: name.into(),
            format: format.into(),
            capacity_bytes,
            ..Default::default()
        })
        .await
        .expect("CreateVolume")
        .into_inner()
}

/// Reads one volume.
pub async fn get_volume(storage: &mut Storage, pool: &str, volume: &str) -> pb::Volume {
    storage
        .get_volume(pb::GetVolumeRequest {
            pool: pool.into(),
            volume: volume.into(),
        })
        .await
        .expect("GetVolume")
        .into_inner()
}

/// Uploads `data` into `volume` from `offset` in messages of `chunk` bytes, declaring
/// `length` in the header.
pub async fn upload(
    storage: &mut Storage,
    pool: &str,
    volume: &str,
    offset: u64,
    length: Option<u64>,
    data: &[u8],
    chunk: usize,
) -> Result<pb::UploadVolumeResponse, Status> {
    let header = pb::UploadVolumeHeader {
        pool: pool.into(),
        volume: volume.into(),
        offset,
        length,
        ..pb::UploadVolumeHeader::default()
    };
    upload_with(storage, header, data, chunk).await
}

/// Uploads `data` after `header` in messages of `chunk` bytes.
pub async fn upload_with(
    storage: &mut Storage,
    header: pb::UploadVolumeHeader,
    data: &[u8],
    chunk: usize,
) -> Result<pb::UploadVolumeResponse, Status> {
    let header = pb::UploadVolumeRequest {
        request: Some(Request::Header(header)),
    };
    let chunks: Vec<pb::UploadVolumeRequest> = data
        .chunks(chunk)
        .map(|piece| pb::UploadVolumeRequest {
            request: Some(Request::Data(piece.to_vec().into())),
        })
        .collect();
    let messages = tokio_stream::iter(std::iter::once(header).chain(chunks));
    storage
        .upload_volume(messages)
        .await
        .map(tonic::Response::into_inner)
}

/// Downloads `length` bytes (0: all) of `volume` from `offset`: the bytes, and the
/// service's closing `end`.
pub async fn download(
    storage: &mut Storage,
    pool: &str,
    volume: &str,
    offset: u64,
    length: u64,
) -> Result<(Vec<u8>, pb::DownloadVolumeEnd), Status> {
    download_with(
        storage,
        pb::DownloadVolumeRequest {
            pool: pool.into(),
            volume: volume.into(),
            offset,
            length,
            ..pb::DownloadVolumeRequest::default()
        },
    )
    .await
}

/// Downloads what `request` asks for: the bytes, and the service's closing `end`.
pub async fn download_with(
    storage: &mut Storage,
    request: pb::DownloadVolumeRequest,
) -> Result<(Vec<u8>, pb::DownloadVolumeEnd), Status> {
    let mut stream = storage.download_volume(request).await?.into_inner();
    let mut data = Vec::new();
    while let Some(message) = stream.next().await {
        match message?.response {
            Some(Response::Data(chunk)) => data.extend_from_slice(&chunk),
            Some(Response::End(end)) => {
                assert!(
                    stream.next().await.is_none(),
                    "nothing follows the download's `end`"
                );
                return Ok((data, end));
            }
            None => panic!("a DownloadVolumeResponse without content"),
        }
    }
    panic!(
        "the download ended without `end` after {} bytes",
        data.len()
    );
}
