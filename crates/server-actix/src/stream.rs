//! Streaming a response body written by blocking code (RSF exports) without holding it all.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::web::Bytes;
use store_diesel::error::StoreError;
use store_diesel::store::Store;
use tokio::sync::mpsc;

/// Bytes per chunk sent to the client.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight: the writer waits for a slow client instead of buffering.
const IN_FLIGHT: usize = 8;

struct ChannelWriter {
    sender: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.sender
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// A body stream fed by `write` running on a blocking thread. A failure after the first
/// bytes can only cut the stream short: the status line is already sent.
pub fn spawn_writer<F>(store: Store, write: F) -> BodyStream
where
    F: FnOnce(&Store, &mut dyn Write) -> Result<(), StoreError> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(IN_FLIGHT);
    actix_web::rt::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            sender: sender.clone(),
            buffer: Vec::with_capacity(CHUNK),
        };
        let result = write(&store, &mut writer).and_then(|()| {
            writer
                .flush()
                .map_err(|e| StoreError::Register(register_core::Error::Io(e.to_string())))
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "streamed response cut short");
            let _ = sender.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    BodyStream { receiver }
}

/// The receiving end, as a stream of chunks.
pub struct BodyStream {
    receiver: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

impl futures_core::Stream for BodyStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}
