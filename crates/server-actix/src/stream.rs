//! Streaming RSF downloads so that a slow or stalled client holds nothing anyone else needs.
//!
//! The body is pulled: a page is read from the store (a connection and a blocking thread,
//! for milliseconds) only when the client has taken the previous one, so a client that reads
//! slowly, or not at all, holds neither while it waits — only its socket, one page of bytes
//! and a place among [`MAX_STREAMS`]. All downloads together read at most [`PAGE_READS`]
//! pages at once, so however many there are, the store's threads and connections stay free
//! for everyone else. A client that takes longer than [`STALL`] to take a
//! page is cut off; one that stops reading altogether is closed by the kernel
//! (`TCP_USER_TIMEOUT`, set on every connection by the server).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::rt::task::JoinHandle;
use actix_web::web::Bytes;
use std::sync::Arc;
use store_diesel::error::StoreError;
use store_diesel::export::RsfExport;
use store_diesel::store::Store;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// RSF downloads streaming at once, per server; the next gets 503 with `Retry-After`.
pub const MAX_STREAMS: usize = 32;

/// The longest a client may take to read one page of a download.
pub const STALL: Duration = Duration::from_secs(30);

/// Entries per page of a download: a store call of a few milliseconds.
pub const PAGE_ENTRIES: u64 = 1_000;

/// Pages read from the store at once for all downloads together: downloads never take more
/// of the store's threads and connections than this, whatever their number.
pub const PAGE_READS: usize = 2;

type Page = Result<(RsfExport, Vec<u8>), StoreError>;
type Turn =
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, tokio::sync::AcquireError>> + Send>>;

/// The body of a download: pages of an [`RsfExport`], each read when the client wants it.
pub struct ExportStream {
    store: Store,
    export: Option<RsfExport>,
    reads: Arc<Semaphore>,
    turn: Option<Turn>,
    reading: Option<JoinHandle<Page>>,
    handed: Option<Instant>,
    _place: OwnedSemaphorePermit,
}

impl std::fmt::Debug for ExportStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportStream")
            .field("export", &self.export)
            .field("handed", &self.handed)
            .finish_non_exhaustive()
    }
}

impl ExportStream {
    /// The stream of `export` in pages of [`PAGE_ENTRIES`], holding `place` among the
    /// [`MAX_STREAMS`] until it ends, reading a page only with one of the `reads` permits
    /// ([`PAGE_READS`]).
    pub fn new(
        store: Store,
        export: RsfExport,
        place: OwnedSemaphorePermit,
        reads: Arc<Semaphore>,
    ) -> ExportStream {
        ExportStream {
            store,
            export: Some(export.with_page_size(PAGE_ENTRIES)),
            reads,
            turn: None,
            reading: None,
            handed: None,
            _place: place,
        }
    }
}

fn cut(message: String) -> Option<Result<Bytes, std::io::Error>> {
    tracing::warn!(%message, "download cut short");
    Some(Err(std::io::Error::other(message)))
}

impl futures_core::Stream for ExportStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.reading.is_none() {
                if self.export.as_ref().is_none_or(RsfExport::is_done) {
                    return Poll::Ready(None);
                }
                if let Some(handed) = self.handed {
                    if handed.elapsed() > STALL {
                        self.export = None;
                        return Poll::Ready(cut(format!(
                            "the client took more than {} s to read a page",
                            STALL.as_secs()
                        )));
                    }
                }
                // Wait (without a thread) for a turn among all downloads' page reads.
                let reads = self.reads.clone();
                let turn = self
                    .turn
                    .get_or_insert_with(|| Box::pin(reads.acquire_owned()));
                let permit = match turn.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(permit)) => permit,
                    Poll::Ready(Err(e)) => return Poll::Ready(cut(e.to_string())),
                };
                self.turn = None;
                let (store, export) = (self.store.clone(), self.export.take());
                self.reading = Some(actix_web::rt::task::spawn_blocking(move || {
                    let _turn = permit;
                    let mut export = export
                        .ok_or_else(|| StoreError::Invalid("the export was taken twice".into()))?;
                    let mut page = Vec::new();
                    store.export_page(&mut export, &mut page)?;
                    Ok((export, page))
                }));
            }
            let Some(reading) = self.reading.as_mut() else {
                return Poll::Ready(None);
            };
            let read = match Pin::new(reading).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(read) => read,
            };
            self.reading = None;
            match read {
                Err(e) => return Poll::Ready(cut(format!("the page reader failed: {e}"))),
                Ok(Err(e)) => return Poll::Ready(cut(e.to_string())),
                Ok(Ok((export, page))) => {
                    self.export = Some(export);
                    if !page.is_empty() {
                        self.handed = Some(Instant::now());
                        return Poll::Ready(Some(Ok(Bytes::from(page))));
                    }
                    // An empty step (a range with nothing to write): read on.
                }
            }
        }
    }
}
