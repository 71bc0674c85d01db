//! The connection under actix-web's HTTP/1 service, so that the refusals actix-http writes
//! itself — before any request exists for the application to answer — carry the JSON
//! envelope too: 400 for a head that does not parse, 431 for a head over its 128 KiB or 96
//! headers, 408 for a head not sent in time. actix-http writes these as a bare status line
//! with `content-length: 0` and closes; every other error response went through
//! [`crate::observe`] and has a body, so a bodiless 400, 408 or 431 is exactly actix-http's.
//! [`EnvelopeIo`] replaces such a response, as it is written, with the same status and the
//! envelope.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::http::StatusCode;
use actix_web::rt::net::TcpStream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A TCP connection whose bare refusals become enveloped ones.
#[derive(Debug)]
pub struct EnvelopeIo {
    io: TcpStream,
    /// A replacement response still to send, and how much of it is sent.
    pending: Option<(Vec<u8>, usize)>,
}

impl EnvelopeIo {
    /// Wraps an accepted connection.
    pub fn new(io: TcpStream) -> EnvelopeIo {
        EnvelopeIo { io, pending: None }
    }

    /// Sends what is left of a replacement; ready once it is all sent.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, sent)) = &mut self.pending {
            if *sent == bytes.len() {
                self.pending = None;
                break;
            }
            match Pin::new(&mut self.io).poll_write(cx, &bytes[*sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The length of the bare refusal `bytes` start with, and its status, if they start with one.
fn bare_refusal(bytes: &[u8]) -> Option<(usize, StatusCode)> {
    let rest = bytes.strip_prefix(b"HTTP/1.1 ")?;
    let status = match rest.get(..4)? {
        b"400 " => StatusCode::BAD_REQUEST,
        b"408 " => StatusCode::REQUEST_TIMEOUT,
        b"431 " => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        _ => return None,
    };
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let bodiless = bytes[..end]
        .split(|b| *b == b'\n')
        .any(|line| line.trim_ascii().eq_ignore_ascii_case(b"content-length: 0"));
    bodiless.then_some((end, status))
}

/// The enveloped response for a bare refusal of `status`.
fn replacement(status: StatusCode) -> Vec<u8> {
    let message = match status {
        StatusCode::BAD_REQUEST => {
            "the request is not well-formed HTTP/1.1 (its request line, a header or its \
             chunked body)"
        }
        StatusCode::REQUEST_TIMEOUT => "the request head did not arrive in time",
        _ => "the request head is larger than the server accepts (128 KiB and 96 headers)",
    };
    let id = super::request_id::fresh();
    let mut body = super::errors::envelope(status, message);
    body.request_id = Some(id.to_string());
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{}: {id}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        json.len(),
        super::request_id::HEADER,
    )
    .into_bytes();
    out.extend_from_slice(&json);
    out
}

impl AsyncRead for EnvelopeIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for EnvelopeIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.drive(cx)?.is_pending() {
            return Poll::Pending;
        }
        if let Some((length, status)) = bare_refusal(buf) {
            tracing::info!(status = status.as_u16(), "refused before a request existed");
            self.pending = Some((replacement(status), 0));
            // Sent as far as the socket takes it now; `poll_flush` sends the rest.
            let _ = self.drive(cx)?;
            return Poll::Ready(Ok(length));
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drive(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.drive(cx)?.is_pending() {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bodiless_400_408_and_431_are_bare_refusals() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\
                     connection: close\r\ndate: Wed, 02 Dec 2026 12:00:00 GMT\r\n\r\n";
        assert_eq!(
            bare_refusal(bare),
            Some((bare.len(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
        );
        let head = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let bad = [&head[..], b"HTTP/1.1 200 OK\r\n"].concat();
        assert_eq!(
            bare_refusal(&bad),
            Some((head.len(), StatusCode::BAD_REQUEST))
        );
        // The application's own refusals carry their envelope.
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 80\r\n\r\n{\"message_code\":1400}";
        assert_eq!(bare_refusal(ours), None);
        assert_eq!(
            bare_refusal(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
            None
        );
        assert_eq!(bare_refusal(b"HTTP/1.1 400 Bad"), None, "a head cut short");
    }

    #[test]
    fn the_replacement_is_the_envelope_with_its_request_id() {
        let text = String::from_utf8(replacement(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE))
            .expect("text");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head");
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())));
        let body: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(body["message_code"], 1431);
        let id = body["request_id"].as_str().expect("an id");
        assert!(head.contains(&format!("x-request-id: {id}")));
    }
}
