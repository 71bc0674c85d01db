//! The one lock against password guessing, for every way a password is presented (`/v1/login`
//! and HTTP Basic alike).
//!
//! Failures are counted per **(account name, client address)**: after [`LOCK_AFTER`]
//! consecutive failures from one address, that address may not try that name for
//! [`FIRST_LOCK`], doubling with each further failure up to [`MAX_LOCK`]. A stranger
//! guessing a partner's password therefore locks out only itself: the partner's sync, from
//! its own address, keeps logging in. Names that are no account are counted exactly like
//! accounts, so the lock tells nothing about which names exist.
//!
//! **Exact under concurrency**: an attempt takes a slot ([`Lockout::begin`]) before the
//! password is checked, so a burst of parallel guesses gets [`LOCK_AFTER`] checks, not one per
//! request in flight; a refused attempt costs no password hash at all.
//!
//! The state is in memory, per server process: it needs no database write (so a long SQLite
//! load that holds the write lock cannot make a wrong password fail differently), and a
//! restart forgets it. With several instances behind one address, each counts on its own.
//! Memory is bounded: at most [`MAX_TRACKED`] (name, address) pairs, the least recently
//! failed forgotten first.

use std::collections::HashMap;
use std::sync::Mutex;

/// Consecutive failures (from one address, for one name) after which the pair is locked.
pub const LOCK_AFTER: u32 = 5;

/// How long the first lock lasts, in seconds; each further failure doubles it.
pub const FIRST_LOCK: i64 = 30;

/// The longest lock, in seconds.
pub const MAX_LOCK: i64 = 15 * 60;

/// The most (name, address) pairs remembered at once.
pub const MAX_TRACKED: usize = 100_000;

/// Seconds a pair stays locked after `failures` consecutive failures, if it is locked.
pub fn lock_seconds(failures: u32) -> Option<i64> {
    let beyond = failures.checked_sub(LOCK_AFTER)?;
    let factor = 1i64 << beyond.min(20);
    Some(FIRST_LOCK.saturating_mul(factor).min(MAX_LOCK))
}

#[derive(Debug, Default, Clone, Copy)]
struct Attempts {
    failures: u32,
    in_flight: u32,
    locked_until: i64,
    last: i64,
}

/// The failure counts of this process.
#[derive(Debug, Default)]
pub struct Lockout {
    pairs: Mutex<HashMap<(String, String), Attempts>>,
}

/// A slot to check one password, from [`Lockout::begin`]. [`Attempt::finish`] gives the
/// outcome; a slot dropped unfinished (the client went away, the store failed) is given
/// back without counting.
#[derive(Debug)]
pub struct Attempt<'a> {
    lockout: &'a Lockout,
    key: Option<(String, String)>,
}

impl Attempt<'_> {
    /// The outcome of the check at `now`: a success clears the pair, a failure counts and
    /// may lock it.
    pub fn finish(mut self, succeeded: bool, now: i64) {
        if let Some(key) = self.key.take() {
            self.lockout.settle(key, Some(succeeded), now);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.lockout.settle(key, None, 0);
        }
    }
}

impl Lockout {
    /// A lockout that remembers nothing yet.
    pub fn new() -> Lockout {
        Lockout::default()
    }

    /// A slot to check a password of `name` from `address` at `now` (Unix seconds), or
    /// `None` while that pair is locked — or would be, once the checks already in flight
    /// fail: the pair has [`LOCK_AFTER`] checks before its first lock, and one after each.
    pub fn begin(&self, name: &str, address: &str, now: i64) -> Option<Attempt<'_>> {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        let key = (name.to_string(), address.to_string());
        if !pairs.contains_key(&key) && pairs.len() >= MAX_TRACKED {
            forget_oldest(&mut pairs, now);
        }
        let attempts = pairs.entry(key.clone()).or_default();
        if attempts.locked_until > now {
            return None;
        }
        let allowed = LOCK_AFTER.max(attempts.failures.saturating_add(1));
        if attempts
            .failures
            .saturating_add(attempts.in_flight)
            .saturating_add(1)
            > allowed
        {
            return None;
        }
        attempts.in_flight += 1;
        attempts.last = now;
        Some(Attempt {
            lockout: self,
            key: Some(key),
        })
    }

    /// Whether `name` may not be tried from `address` at `now` because of its failures
    /// (rather than because its budget is taken by checks in flight, which a caller with
    /// the right password may wait out: the first success clears the pair).
    pub fn is_locked(&self, name: &str, address: &str, now: i64) -> bool {
        let pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs
            .get(&(name.to_string(), address.to_string()))
            .is_some_and(|a| a.locked_until > now)
    }

    fn settle(&self, key: (String, String), succeeded: Option<bool>, now: i64) {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        if succeeded == Some(true) {
            pairs.remove(&key);
            return;
        }
        let Some(attempts) = pairs.get_mut(&key) else {
            // Forgotten meanwhile (the table was full): a failure starts a new count.
            if succeeded == Some(false) {
                pairs.insert(
                    key,
                    Attempts {
                        failures: 1,
                        last: now,
                        ..Attempts::default()
                    },
                );
            }
            return;
        };
        attempts.in_flight = attempts.in_flight.saturating_sub(1);
        if succeeded.is_none() {
            // Nothing learned: a pair with no failure and nothing in flight is forgotten.
            if attempts.failures == 0 && attempts.in_flight == 0 {
                pairs.remove(&key);
            }
            return;
        }
        attempts.failures = attempts.failures.saturating_add(1);
        attempts.last = now;
        if let Some(seconds) = lock_seconds(attempts.failures) {
            attempts.locked_until = now.saturating_add(seconds);
        }
    }

    /// How many names are locked for at least one address at `now`.
    pub fn locked_names(&self, now: i64) -> u64 {
        let pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&str> = pairs
            .iter()
            .filter(|(_, a)| a.locked_until > now)
            .map(|((name, _), _)| name.as_str())
            .collect();
        names.sort_unstable();
        names.dedup();
        names.len() as u64
    }
}

/// Makes room for one pair: drops every pair whose lock and memory have lapsed, else the
/// one that failed least recently (never one with a check in flight).
fn forget_oldest(pairs: &mut HashMap<(String, String), Attempts>, now: i64) {
    pairs.retain(|_, a| a.in_flight > 0 || a.locked_until > now || now - a.last < MAX_LOCK);
    if pairs.len() < MAX_TRACKED {
        return;
    }
    if let Some(oldest) = pairs
        .iter()
        .filter(|(_, a)| a.in_flight == 0)
        .min_by_key(|(_, a)| a.last)
        .map(|(k, _)| k.clone())
    {
        pairs.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn fail(lockout: &Lockout, name: &str, address: &str, now: i64) -> bool {
        match lockout.begin(name, address, now) {
            Some(attempt) => {
                attempt.finish(false, now);
                true
            }
            None => false,
        }
    }

    #[test]
    fn locks_grow_from_the_fifth_failure_and_are_capped() {
        assert_eq!(lock_seconds(4), None);
        assert_eq!(lock_seconds(5), Some(30));
        assert_eq!(lock_seconds(6), Some(60));
        assert_eq!(lock_seconds(9), Some(480));
        assert_eq!(lock_seconds(10), Some(900));
        assert_eq!(lock_seconds(u32::MAX), Some(900));
    }

    #[test]
    fn five_failures_lock_the_pair_and_a_success_clears_it() {
        let lockout = Lockout::new();
        for _ in 1..LOCK_AFTER {
            assert!(fail(&lockout, "acme", "192.0.2.1", NOW));
        }
        let ok = lockout.begin("acme", "192.0.2.1", NOW).expect("4 failures");
        ok.finish(true, NOW);
        for _ in 0..LOCK_AFTER {
            assert!(fail(&lockout, "acme", "192.0.2.1", NOW));
        }
        assert!(lockout.begin("acme", "192.0.2.1", NOW + 1).is_none());
        assert_eq!(lockout.locked_names(NOW + 1), 1);
        // One more guess when the lock lapses, and the next lock is twice as long.
        assert!(fail(&lockout, "acme", "192.0.2.1", NOW + FIRST_LOCK));
        assert!(lockout
            .begin("acme", "192.0.2.1", NOW + 2 * FIRST_LOCK)
            .is_none());
        assert!(lockout
            .begin("acme", "192.0.2.1", NOW + 3 * FIRST_LOCK)
            .is_some());
    }

    #[test]
    fn a_stranger_locks_out_only_its_own_address() {
        let lockout = Lockout::new();
        for _ in 0..LOCK_AFTER {
            assert!(fail(&lockout, "acme", "198.51.100.7", NOW));
        }
        assert!(lockout.begin("acme", "198.51.100.7", NOW).is_none());
        assert!(lockout.begin("acme", "192.0.2.1", NOW).is_some());
    }

    #[test]
    fn unknown_names_are_counted_like_accounts() {
        let lockout = Lockout::new();
        for _ in 0..LOCK_AFTER {
            assert!(fail(&lockout, "ghost", "192.0.2.1", NOW));
        }
        assert!(lockout.begin("ghost", "192.0.2.1", NOW).is_none());
    }

    #[test]
    fn a_burst_in_flight_gets_exactly_the_budget() {
        let lockout = Lockout::new();
        let slots: Vec<Attempt<'_>> = (0..30)
            .filter_map(|_| lockout.begin("acme", "192.0.2.1", NOW))
            .collect();
        assert_eq!(slots.len(), LOCK_AFTER as usize);
        for slot in slots {
            slot.finish(false, NOW);
        }
        assert!(lockout.begin("acme", "192.0.2.1", NOW).is_none());
    }

    #[test]
    fn a_burst_with_the_right_password_waits_for_a_turn_rather_than_a_lock() {
        let lockout = Lockout::new();
        let slots: Vec<Attempt<'_>> = (0..30)
            .filter_map(|_| lockout.begin("acme", "192.0.2.1", NOW))
            .collect();
        // The budget is in flight, not spent: busy, not locked.
        assert!(lockout.begin("acme", "192.0.2.1", NOW).is_none());
        assert!(!lockout.is_locked("acme", "192.0.2.1", NOW));
        let mut slots = slots.into_iter();
        slots.next().expect("slot").finish(true, NOW);
        assert!(lockout.begin("acme", "192.0.2.1", NOW).is_some());
    }

    #[test]
    fn a_slot_dropped_unfinished_is_given_back_uncounted() {
        let lockout = Lockout::new();
        for _ in 0..10 {
            drop(lockout.begin("acme", "192.0.2.1", NOW).expect("slot"));
        }
        assert!(
            lockout.pairs.lock().expect("lock").is_empty(),
            "nothing kept"
        );
        let slots: Vec<Attempt<'_>> = (0..10)
            .filter_map(|_| lockout.begin("acme", "192.0.2.1", NOW))
            .collect();
        assert_eq!(slots.len(), LOCK_AFTER as usize);
    }

    #[test]
    fn memory_is_bounded() {
        let lockout = Lockout::new();
        for i in 0..(MAX_TRACKED + 10) {
            assert!(fail(&lockout, &format!("n{i}"), "192.0.2.1", NOW));
        }
        let pairs = lockout.pairs.lock().expect("lock");
        assert_eq!(pairs.len(), MAX_TRACKED);
    }
}
