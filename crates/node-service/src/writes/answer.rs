//! A one-time answer from the committing thread to a writer that either awaits it (the
//! server: a waiting write holds no thread) or blocks on it (the CLI, tests). std only: the
//! crate stays free of any async runtime.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

#[derive(Debug)]
struct Slot<T> {
    state: Mutex<State<T>>,
    ready: Condvar,
}

#[derive(Debug)]
struct State<T> {
    value: Option<T>,
    /// The sender went away (sent, or dropped without sending).
    closed: bool,
    waker: Option<Waker>,
}

/// The sending half: [`Reply::send`] once; dropped unsent, the answer is `None`.
#[derive(Debug)]
pub(super) struct Reply<T>(Arc<Slot<T>>);

/// The receiving half: a future of the answer, or [`Answer::wait`] for it.
#[derive(Debug)]
pub struct Answer<T>(Arc<Slot<T>>);

/// A connected pair.
pub(super) fn pair<T>() -> (Reply<T>, Answer<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(State {
            value: None,
            closed: false,
            waker: None,
        }),
        ready: Condvar::new(),
    });
    (Reply(Arc::clone(&slot)), Answer(slot))
}

fn lock<T>(slot: &Slot<T>) -> MutexGuard<'_, State<T>> {
    // Plain data: a panic elsewhere leaves nothing half-written worth refusing.
    slot.state.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Reply<T> {
    /// Answers; whoever waits wakes.
    pub fn send(self, value: T) {
        lock(&self.0).value = Some(value);
        // Drop closes and wakes.
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        let waker = {
            let mut state = lock(&self.0);
            state.closed = true;
            state.waker.take()
        };
        self.0.ready.notify_all();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Answer<T> {
    /// Blocks until answered; `None` when the sender went away without answering.
    pub fn wait(self) -> Option<T> {
        let mut state = lock(&self.0);
        while !state.closed {
            state = self.0.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        state.value.take()
    }
}

impl<T> Future for Answer<T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut state = lock(&self.0);
        if state.closed {
            return Poll::Ready(state.value.take());
        }
        state.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_sent_from_another_thread_is_received_once() {
        let (reply, answer) = pair();
        let sender = std::thread::spawn(move || reply.send(7));
        assert_eq!(answer.wait(), Some(7));
        sender.join().expect("sender");
    }

    #[test]
    fn a_reply_dropped_unsent_answers_none() {
        let (reply, answer) = pair::<u8>();
        drop(reply);
        assert_eq!(answer.wait(), None);
        // Nobody waiting: sending is harmless.
        let (reply, answer) = pair::<u8>();
        drop(answer);
        reply.send(1);
    }
}
