//! One attempt: the request written on a checked-out connection, the response body
//! read to its end or its limit, all within the attempt's timeout.

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, Full};

use super::{
    HostKey, HttpError, HttpPools, HttpResponse, OutgoingRequest, RequestOptions,
    connection::HttpConnection, error::Failure,
};

impl HttpPools {
    /// One attempt on one connection; the connection is given back only after a
    /// complete response that keeps it alive.
    pub(super) async fn attempt(
        &self,
        key: &HostKey,
        request: &OutgoingRequest,
        options: &RequestOptions,
    ) -> Result<HttpResponse, Failure> {
        let mut lease = self.checkout(key, options).await?;
        let outgoing = build_request(key, request).map_err(Failure::Final)?;
        let exchange = exchange(key, lease.conn(), outgoing, options.max_response_bytes);
        let outcome = match tokio::time::timeout(options.timeout, exchange).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::MaybeSent(HttpError::Timeout {
                pool: key.to_string(),
                after: options.timeout,
            })),
        };
        match &outcome {
            Ok(response) if keeps_alive(response) => drop(lease),
            // Failed mid-request, cut off by the timeout, or closing: never reused.
            _ => self.discard(key, lease),
        }
        outcome
    }
}

/// Sends `outgoing` on `conn` and reads the response, its body up to `limit` bytes.
async fn exchange(
    key: &HostKey,
    conn: &mut HttpConnection,
    outgoing: hyper::Request<Full<Bytes>>,
    limit: usize,
) -> Result<HttpResponse, Failure> {
    let pool = || key.to_string();
    let response = match conn.sender.try_send_request(outgoing).await {
        Ok(response) => response,
        Err(mut e) => {
            let error = HttpError::Transport {
                pool: pool(),
                reason: e.error().to_string(),
            };
            return Err(if e.take_message().is_some() {
                Failure::Stale(error)
            } else {
                Failure::MaybeSent(error)
            });
        }
    };
    let (parts, body) = response.into_parts();
    let (body, truncated) = read_prefix(body, limit).await.map_err(|e| {
        Failure::MaybeSent(HttpError::Transport {
            pool: pool(),
            reason: e.to_string(),
        })
    })?;
    Ok(HttpResponse {
        status: parts.status,
        headers: parts.headers,
        body,
        truncated,
    })
}

/// Reads `body` up to `limit` bytes; true when more was left unread.
async fn read_prefix(
    mut body: hyper::body::Incoming,
    limit: usize,
) -> Result<(Bytes, bool), hyper::Error> {
    let mut prefix = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let room = limit - prefix.len();
        if data.len() > room {
            prefix.extend_from_slice(&data[..room]);
            return Ok((prefix.freeze(), true));
        }
        prefix.extend_from_slice(&data);
    }
    Ok((prefix.freeze(), false))
}

/// Whether the connection may serve another request after this response.
fn keeps_alive(response: &HttpResponse) -> bool {
    !response.truncated
        && !response
            .headers
            .get_all(header::CONNECTION)
            .iter()
            .any(|v| {
                v.to_str()
                    .is_ok_and(|v| v.to_ascii_lowercase().contains("close"))
            })
}

fn build_request(
    key: &HostKey,
    request: &OutgoingRequest,
) -> Result<hyper::Request<Full<Bytes>>, HttpError> {
    let path = request
        .url
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    let mut builder = hyper::Request::builder()
        .method(request.method.clone())
        .uri(path)
        .header(header::HOST, key.host_header());
    if let Some(headers) = builder.headers_mut() {
        for (name, value) in &request.headers {
            headers.append(name, value.clone());
        }
    }
    builder
        .body(Full::new(request.body.clone()))
        .map_err(|e| HttpError::Transport {
            pool: key.to_string(),
            reason: format!("cannot build the request: {e}"),
        })
}
