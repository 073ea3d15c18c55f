//! Compiles the gRPC API in `proto/` and records its descriptor set for reflection.

use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A vendored protoc keeps the build free of a system package.
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    #[allow(
        unsafe_code,
        reason = "a build script is single-threaded: nothing reads the environment concurrently"
    )]
    // SAFETY: no other thread exists yet that could read the environment.
    unsafe {
        env::set_var("PROTOC", protoc);
    }

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        // Ordered maps encode the same request to the same bytes, which the request
        // fingerprints of safe retries rely on.
        .btree_map(".")
        // Volume data decodes as a slice of the received buffer, not a copy of it.
        .bytes(".virtplane.v1.UploadVolumeRequest.data")
        .bytes(".virtplane.v1.DownloadVolumeResponse.data")
        .file_descriptor_set_path(out_dir.join("virtplane_descriptor.bin"))
        .compile_protos(
            &[
                "proto/virtplane/v1/domain.proto",
                "proto/virtplane/v1/host.proto",
                "proto/virtplane/v1/pool.proto",
                "proto/virtplane/v1/publish.proto",
                "proto/virtplane/v1/snapshot.proto",
                "proto/virtplane/v1/stats.proto",
                "proto/virtplane/v1/guest.proto",
                "proto/virtplane/v1/console.proto",
                "proto/virtplane/v1/device.proto",
                "proto/virtplane/v1/storage.proto",
                "proto/virtplane/v1/webhook.proto",
                "proto/virtplane/v1/network.proto",
                "proto/virtplane/v1/errors.proto",
            ],
            &["proto"],
        )?;
    Ok(())
}
