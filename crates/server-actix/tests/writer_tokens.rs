//! `load-rsf` with writer tokens, on both backends: a token for the register (or an admin
//! token) writes; a wrong, malformed or revoked token is 401; a token for another register
//! is 403; HTTP Basic and an admin's JWT still work.

mod common;

use actix_web::test;
use common::{backends, basic, data, post_rsf, send, state, tokens};
use node_service::writer_tokens;
use server_actix::app;
use server_actix::tokens::Scope;
use store_diesel::accounts::Role;
use store_diesel::writer_tokens::WriterScope;

/// An RSF patch adding the colour `key` to the `colour` register.
fn colour(key: &str) -> Vec<u8> {
    let item = format!(r#"{{"colour":"{key}","name":"{key}"}}"#);
    let hash = register_core::ItemHash::of_canonical(item.as_bytes());
    format!("add-item\t{item}\nappend-entry\tuser\t{key}\t2019-01-04T00:00:00Z\t{hash}\n")
        .into_bytes()
}

fn bearer(token: &str) -> Option<(String, String)> {
    Some(("authorization".into(), format!("Bearer {token}")))
}

#[actix_web::test]
async fn writer_tokens_write_their_register_only() {
    for db in backends() {
        let l = db.label;
        let store = &db.store;
        let register = |name: &str| WriterScope::Register(name.to_string());
        let (_, own) = writer_tokens::create(store, "colour-pipeline", &register("colour"))
            .expect("token for colour");
        let (_, other) = writer_tokens::create(store, "country-pipeline", &register("country"))
            .expect("token for country");
        let (_, admin) =
            writer_tokens::create(store, "operator", &WriterScope::Admin).expect("admin token");
        let app = test::init_service(app(state(&db))).await;
        let uri = "/registers/colour/load-rsf";

        // The register's own token creates it.
        let reply = send(
            &app,
            post_rsf(uri, data("colour.rsf"), bearer(own.expose())),
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert_eq!(reply.json()["total-entries"], 3, "{l}");

        // A token for another register: authenticated, not allowed (nothing loaded).
        let reply = send(&app, post_rsf(uri, colour("aqua"), bearer(other.expose()))).await;
        reply.assert_error(403, &format!("{l} a token for country"));
        assert!(
            reply.text().contains("country-pipeline"),
            "{l}: {}",
            reply.text()
        );

        // Unknown and malformed tokens are refused like wrong credentials.
        let unknown = writer_tokens::generate().expect("token");
        for (token, what) in [
            (unknown.expose(), "an unknown token"),
            ("rwt_short", "a malformed token"),
            (&own.expose()[..own.expose().len() - 1], "a truncated token"),
        ] {
            let reply = send(&app, post_rsf(uri, colour("aqua"), bearer(token))).await;
            reply.assert_error(401, &format!("{l} {what}"));
            assert!(
                reply.header("www-authenticate").starts_with("Basic"),
                "{l} {what}"
            );
        }

        // An admin token writes any register.
        let reply = send(&app, post_rsf(uri, colour("aqua"), bearer(admin.expose()))).await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        let reply = send(
            &app,
            post_rsf(
                "/registers/country/load-rsf",
                data("country-data.rsf"),
                bearer(admin.expose()),
            ),
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());

        // The last use is recorded; a revoked token is refused from then on.
        let listed = store.writer_tokens().expect("list");
        let used = |name: &str| {
            listed
                .iter()
                .any(|t| t.name == name && t.last_used_at.is_some())
        };
        assert!(
            used("colour-pipeline") && used("operator"),
            "{l}: {listed:?}"
        );
        store
            .revoke_writer_token("colour-pipeline")
            .expect("revoke");
        let reply = send(&app, post_rsf(uri, colour("beige"), bearer(own.expose()))).await;
        reply.assert_error(401, &format!("{l} a revoked token"));
        let summary = store.register("colour").expect("colour");
        assert_eq!(
            summary.total_entries, 4,
            "{l}: only the allowed loads applied"
        );
    }
}

#[actix_web::test]
async fn people_and_jwts_still_write() {
    for db in backends() {
        let l = db.label;
        let store = &db.store;
        store
            .add_user("admin", "secret", Role::Admin)
            .expect("admin");
        store
            .add_user("partner", "secret", Role::Partner)
            .expect("partner");
        let app = test::init_service(app(state(&db))).await;
        let uri = "/registers/colour/load-rsf";

        let reply = send(
            &app,
            post_rsf(uri, data("colour.rsf"), Some(basic("admin", "secret"))),
        )
        .await;
        assert_eq!(reply.status, 200, "{l} Basic: {}", reply.text());

        let now = chrono::Utc::now();
        let jwt = |name: &str| {
            let user = store.user(name).expect("read").expect("exists");
            tokens()
                .issue(&user, Scope::Plans, None, now)
                .expect("issue")
                .token
        };
        let reply = send(&app, post_rsf(uri, colour("aqua"), bearer(&jwt("admin")))).await;
        assert_eq!(reply.status, 200, "{l} an admin's JWT: {}", reply.text());
        let reply = send(
            &app,
            post_rsf(uri, colour("beige"), bearer(&jwt("partner"))),
        )
        .await;
        reply.assert_error(401, &format!("{l} a partner's JWT"));
        let reply = send(
            &app,
            post_rsf(uri, colour("beige"), Some(basic("partner", "secret"))),
        )
        .await;
        reply.assert_error(401, &format!("{l} a partner's Basic"));
    }
}

/// The write API takes the same credentials as `load-rsf`.
#[actix_web::test]
async fn the_write_api_takes_writer_tokens_for_its_register_only() {
    for db in backends() {
        let l = db.label;
        let store = &db.store;
        for (name, file) in [("colour", "colour.rsf"), ("country", "country-data.rsf")] {
            store
                .load_rsf(name, &data(file)[..], register_core::Mode::Strict)
                .expect("fixture");
        }
        let scope = WriterScope::Register("colour".into());
        let (_, own) = writer_tokens::create(store, "colour-pipeline", &scope).expect("token");
        let app = test::init_service(app(state(&db))).await;
        let write = |uri: &str, token: &str, body: &str| {
            test::TestRequest::post()
                .uri(uri)
                .insert_header(("content-type", "application/json"))
                .insert_header(("authorization", format!("Bearer {token}")))
                .set_payload(body.to_string())
        };
        let reply = send(
            &app,
            write(
                "/registers/colour/records",
                own.expose(),
                r#"{"colour":"aqua"}"#,
            ),
        )
        .await;
        assert_eq!(reply.status, 201, "{l}: {}", reply.text());
        let reply = send(
            &app,
            write(
                "/registers/country/records",
                own.expose(),
                r#"{"country":"ZZ"}"#,
            ),
        )
        .await;
        reply.assert_error(403, &format!("{l}: another register"));
        let delete = test::TestRequest::delete()
            .uri("/registers/country/records/GB")
            .insert_header(("authorization", format!("Bearer {}", own.expose())));
        send(&app, delete)
            .await
            .assert_error(403, &format!("{l}: a removal in another register"));
        store
            .revoke_writer_token("colour-pipeline")
            .expect("revoke");
        let reply = send(
            &app,
            write(
                "/registers/colour/records",
                own.expose(),
                r#"{"colour":"navy"}"#,
            ),
        )
        .await;
        reply.assert_error(401, &format!("{l}: revoked"));
        assert_eq!(store.register("colour").expect(l).total_entries, 4, "{l}");
        assert!(store.record("country", "GB").expect(l).is_some(), "{l}");
    }
}
