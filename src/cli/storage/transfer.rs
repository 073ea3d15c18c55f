//! Volume uploads and downloads, streamed in chunks so a large image never sits in
//! memory whole.

use std::{io::Read as _, io::Write as _, path::PathBuf};

use tokio_stream::wrappers::ReceiverStream;

use crate::{
    cli::{connect::Ctx, error::CliError},
    grpc::pb::{self, download_volume_response, upload_volume_request},
};

/// The size of each data message.
const CHUNK: usize = 1024 * 1024;

/// The checksum the service computes over the bytes it moves.
#[derive(Debug, Clone, Copy, Default, clap::ValueEnum)]
pub(crate) enum Checksum {
    /// SHA-256.
    #[default]
    Sha256,
    /// CRC32C: catches corruption in transit at a fraction of SHA-256's CPU.
    Crc32c,
}

impl Checksum {
    fn to_pb(self) -> i32 {
        match self {
            Checksum::Sha256 => pb::TransferChecksum::Sha256.into(),
            Checksum::Crc32c => pb::TransferChecksum::Crc32c.into(),
        }
    }
}

/// "sha256 <hex>" or "crc32c <hex>": whichever the reply carries.
fn checksum_text(sha256: &str, crc32c: &str) -> String {
    if crc32c.is_empty() {
        format!("sha256 {sha256}")
    } else {
        format!("crc32c {crc32c}")
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct UploadArgs {
    pool: String,
    volume: String,
    /// The file to send; "-" reads stdin.
    file: PathBuf,
    /// Where in the volume the first byte goes.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// The checksum the service reports of the bytes written.
    #[arg(long, value_enum, default_value_t)]
    checksum: Checksum,
}

#[derive(Debug, clap::Args)]
pub(crate) struct DownloadArgs {
    pool: String,
    volume: String,
    /// The file to write; "-" writes stdout.
    file: PathBuf,
    /// Where in the volume to start.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// How many bytes; 0 reads to the end.
    #[arg(long, default_value_t = 0)]
    length: u64,
    /// The checksum the service reports of the bytes sent.
    #[arg(long, value_enum, default_value_t)]
    checksum: Checksum,
}

pub(crate) async fn upload(ctx: &Ctx, args: UploadArgs) -> Result<(), CliError> {
    let stdin = args.file.as_os_str() == "-";
    let mut source: Box<dyn std::io::Read + Send> = if stdin {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&args.file)
                .map_err(|e| CliError::usage(format!("{}: {e}", args.file.display())))?,
        )
    };
    let length = if stdin {
        None
    } else {
        std::fs::metadata(&args.file).ok().map(|m| m.len())
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let header = pb::UploadVolumeRequest {
        request: Some(upload_volume_request::Request::Header(
            pb::UploadVolumeHeader {
                pool: args.pool,
                volume: args.volume,
                offset: args.offset,
                length,
                checksum: args.checksum.to_pb(),
            },
        )),
    };
    let _ = tx.try_send(header);
    // Reading blocks: a thread of its own feeds the stream.
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        loop {
            let mut buffer = vec![0; CHUNK];
            let read = source.read(&mut buffer)?;
            if read == 0 {
                return Ok(());
            }
            buffer.truncate(read);
            let data = upload_volume_request::Request::Data(buffer.into());
            if tx
                .blocking_send(pb::UploadVolumeRequest {
                    request: Some(data),
                })
                .is_err()
            {
                return Ok(());
            }
        }
    });
    let reply = ctx
        .storage()
        .upload_volume(ReceiverStream::new(rx))
        .await?
        .into_inner();
    if let Ok(Err(e)) = reader.join() {
        return Err(CliError::Other(format!("{}: {e}", args.file.display())));
    }
    ctx.out.done(
        &reply,
        &format!(
            "{} bytes written, {}",
            reply.bytes_written,
            checksum_text(&reply.sha256, &reply.crc32c)
        ),
    )
}

pub(crate) async fn download(ctx: &Ctx, args: DownloadArgs) -> Result<(), CliError> {
    let mut stream = ctx
        .storage()
        .download_volume(pb::DownloadVolumeRequest {
            pool: args.pool,
            volume: args.volume,
            offset: args.offset,
            length: args.length,
            checksum: args.checksum.to_pb(),
        })
        .await?
        .into_inner();
    let to_stdout = args.file.as_os_str() == "-";
    // The file is created with the first answer, so a refused download leaves none.
    let mut sink: Option<Box<dyn std::io::Write>> = None;
    let outcome = receive(&mut stream, &mut sink, &args.file).await;
    if outcome.is_err() && !to_stdout && sink.is_some() {
        drop(sink);
        let _ = std::fs::remove_file(&args.file);
    }
    let end = outcome?;
    let text = format!(
        "{} bytes read, {}",
        end.bytes_read,
        checksum_text(&end.sha256, &end.crc32c)
    );
    if to_stdout {
        // The data went to stdout: the summary goes to stderr.
        eprintln!("{text}");
        return Ok(());
    }
    ctx.out.done(&end, &text)
}

/// Writes the data messages into `sink` (opened at the first message) until the end
/// message, which it returns.
async fn receive(
    stream: &mut tonic::Streaming<pb::DownloadVolumeResponse>,
    sink: &mut Option<Box<dyn std::io::Write>>,
    file: &std::path::Path,
) -> Result<pb::DownloadVolumeEnd, CliError> {
    let failed = |e: std::io::Error| CliError::Other(format!("{}: {e}", file.display()));
    while let Some(message) = stream.message().await? {
        let out = match sink {
            Some(out) => out,
            None => sink.insert(if file.as_os_str() == "-" {
                Box::new(std::io::stdout().lock())
            } else {
                Box::new(std::fs::File::create(file).map_err(failed)?)
            }),
        };
        match message.response {
            Some(download_volume_response::Response::Data(data)) => {
                out.write_all(&data).map_err(failed)?;
            }
            Some(download_volume_response::Response::End(end)) => {
                out.flush().map_err(failed)?;
                return Ok(end);
            }
            None => {}
        }
    }
    Err(CliError::Other(
        "the download ended before its end message".to_owned(),
    ))
}
