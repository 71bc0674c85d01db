//! Writer tokens in the store, on SQLite and on PostgreSQL: created with a hash, found by
//! it unless revoked, listed without it, last use refreshed at most once a minute.

mod common;

use diesel::prelude::*;
use store_diesel::error::StoreError;
use store_diesel::schema::writer_tokens;
use store_diesel::store::Store;
use store_diesel::writer_tokens::{TokenHash, WriterScope, RECHECK_AFTER};

use common::backends;

fn scope(register: &str) -> WriterScope {
    WriterScope::Register(register.to_string())
}

#[test]
fn tokens_are_found_by_hash_until_revoked() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        let pipeline = TokenHash([1; 32]);
        let operator = TokenHash([2; 32]);
        let created = store
            .create_writer_token("pipeline", &pipeline, &scope("country"))
            .expect("create");
        assert_eq!(created.name, "pipeline", "{l}");
        assert_eq!(created.scope, scope("country"), "{l}");
        assert_eq!(
            (created.last_used_at, created.revoked_at),
            (None, None),
            "{l}"
        );
        store
            .create_writer_token("operator", &operator, &WriterScope::Admin)
            .expect("create admin");

        let found = store.writer_token(&pipeline).expect("lookup");
        let found = found.unwrap_or_else(|| panic!("{l}: the token is not found"));
        assert_eq!(
            (found.name.as_str(), &found.scope),
            ("pipeline", &scope("country"))
        );
        assert!(
            found.scope.allows("country") && !found.scope.allows("colour"),
            "{l}"
        );
        let admin = store
            .writer_token(&operator)
            .expect("lookup")
            .expect("admin");
        assert!(admin.scope.allows("colour"), "{l}");
        assert_eq!(
            store.writer_token(&TokenHash([3; 32])).expect("lookup"),
            None,
            "{l}"
        );

        let revoked = store.revoke_writer_token("pipeline").expect("revoke");
        let at = revoked
            .revoked_at
            .unwrap_or_else(|| panic!("{l}: no revocation time"));
        assert_eq!(store.writer_token(&pipeline).expect("lookup"), None, "{l}");
        // Revoking again keeps the first time; unknown names are NotFound.
        let again = store.revoke_writer_token("pipeline").expect("revoke again");
        assert_eq!(again.revoked_at, Some(at), "{l}");
        assert!(
            matches!(
                store.revoke_writer_token("nope"),
                Err(StoreError::NotFound(_))
            ),
            "{l}"
        );
        assert!(
            store.writer_token(&operator).expect("lookup").is_some(),
            "{l}"
        );
    }
}

#[test]
fn names_are_unique_and_checked() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        store
            .create_writer_token("etl", &TokenHash([1; 32]), &WriterScope::Admin)
            .expect("create");
        store.revoke_writer_token("etl").expect("revoke");
        // A revoked token's name stays taken; so does a hash.
        let taken = store.create_writer_token("etl", &TokenHash([2; 32]), &WriterScope::Admin);
        assert!(
            matches!(taken, Err(StoreError::Conflict(_))),
            "{l}: {taken:?}"
        );
        let same = store.create_writer_token("other", &TokenHash([1; 32]), &WriterScope::Admin);
        assert!(
            matches!(same, Err(StoreError::Conflict(_))),
            "{l}: {same:?}"
        );
        for (name, register) in [("", "country"), (" etl2", "country"), ("etl3", "")] {
            let refused = store.create_writer_token(name, &TokenHash([4; 32]), &scope(register));
            assert!(
                matches!(refused, Err(StoreError::Invalid(_))),
                "{l} {name:?} {register:?}: {refused:?}"
            );
        }
        let list = store.writer_tokens().expect("list");
        assert_eq!(list.len(), 1, "{l}: {list:?}");
        assert!(list[0].revoked_at.is_some(), "{l}");
    }
}

#[test]
fn last_use_is_written_at_most_once_a_minute() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        let hash = TokenHash([5; 32]);
        store
            .create_writer_token("pipeline", &hash, &scope("country"))
            .expect("create");
        store.writer_token(&hash).expect("first use");
        let first = store.writer_tokens().expect("list")[0].last_used_at;
        let first = first.unwrap_or_else(|| panic!("{l}: the first use is not recorded"));

        // A use half a minute ago is fresh: another check leaves it.
        let set = |seconds: i64| {
            diesel::update(writer_tokens::table)
                .set(writer_tokens::last_used_at.eq(seconds))
                .execute(&mut *db.conn().expect("conn"))
                .expect("set last use");
        };
        // Each check from a store of its own: a store trusts a token it found active for a
        // second without looking (see the next test).
        let check = || {
            let other = Store::open(&db.url).expect("store");
            other.writer_token(&hash).expect("use");
        };
        let recent = first.timestamp() - 30;
        set(recent);
        check();
        let kept = store.writer_tokens().expect("list")[0].last_used_at;
        assert_eq!(kept.map(|t| t.timestamp()), Some(recent), "{l}");

        // Two minutes ago is stale: refreshed.
        set(first.timestamp() - 120);
        check();
        let refreshed = store.writer_tokens().expect("list")[0].last_used_at;
        assert!(
            refreshed.is_some_and(|t| t >= first),
            "{l}: {refreshed:?} before {first}"
        );
    }
}

#[test]
fn a_token_found_active_is_trusted_for_a_second_and_revoking_here_forgets_it() {
    for db in backends() {
        let (store, l) = (&db.store, db.label);
        let (one, two) = (TokenHash([6; 32]), TokenHash([7; 32]));
        store
            .create_writer_token("one", &one, &scope("country"))
            .expect("create");
        store
            .create_writer_token("two", &two, &scope("country"))
            .expect("create");
        assert!(store.writer_token(&one).expect("check").is_some(), "{l}");
        assert!(store.writer_token(&two).expect("check").is_some(), "{l}");

        // Revoked by another store (another process): still trusted here within the second,
        // refused once it has passed.
        let other = Store::open(&db.url).expect("store");
        let revoked_at = std::time::Instant::now();
        other.revoke_writer_token("one").expect("revoke");
        assert!(other.writer_token(&one).expect("check").is_none(), "{l}");
        if revoked_at.elapsed() < RECHECK_AFTER / 2 {
            assert!(store.recent_writer_token(&one).is_some(), "{l}");
        }
        std::thread::sleep(RECHECK_AFTER);
        assert!(store.writer_token(&one).expect("check").is_none(), "{l}");

        // Revoked through this store: refused at once.
        assert!(store.writer_token(&two).expect("check").is_some(), "{l}");
        store.revoke_writer_token("two").expect("revoke");
        assert!(store.recent_writer_token(&two).is_none(), "{l}");
        assert!(store.writer_token(&two).expect("check").is_none(), "{l}");
    }
}
