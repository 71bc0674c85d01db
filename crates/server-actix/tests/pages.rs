//! The pages for people through `actix_web::test`: which requests get a page and which keep
//! JSON, the size of every page type, escaping of hostile values, and the links values make.
//! (`pages_browser.rs` drives the same pages in a real browser.)

mod common;
mod pages_support;

use actix_web::test::init_service;
use common::{backends, get, get_with, state};
use pages_support::{BROWSER, EVIL_NAME, EVIL_URL, PAGES};
use server_actix::app;

const HTML: &str = "text/html; charset=utf-8";
/// Every page stays under this, before compression.
const MAX_PAGE_BYTES: usize = 40 * 1024;

#[actix_web::test]
async fn browsers_get_pages_and_api_clients_keep_json() {
    for db in backends() {
        let l = db.label;
        pages_support::load(&db.store);
        let app = init_service(app(state(&db))).await;
        for (name, uri) in PAGES {
            let page = get_with(&app, uri, ("accept", BROWSER)).await;
            let expected = if *name == "not-found" { 404 } else { 200 };
            assert_eq!(page.status, expected, "{l} {name} {uri}: {}", page.text());
            assert_eq!(page.header("content-type"), HTML, "{l} {name}");
            assert_eq!(page.header("vary"), "Accept", "{l} {name}");
            assert!(
                page.header("content-security-policy")
                    .contains("script-src 'self'"),
                "{l} {name}"
            );
            assert!(page.text().starts_with("<!doctype html>"), "{l} {name}");
            assert!(
                page.body.len() < MAX_PAGE_BYTES,
                "{l} {name}: {} bytes",
                page.body.len()
            );
            // The same URL without Accept, with */* and with JSON: the API as before.
            for accept in [None, Some("*/*"), Some("application/json")] {
                let reply = match accept {
                    None => get(&app, uri).await,
                    Some(accept) => get_with(&app, uri, ("accept", accept)).await,
                };
                assert_eq!(
                    reply.header("content-type"),
                    "application/json",
                    "{l} {name} {accept:?}"
                );
                if *name == "not-found" {
                    reply.assert_error(404, &format!("{l} {name}"));
                } else {
                    assert_eq!(reply.status, 200, "{l} {name} {accept:?}: {}", reply.text());
                    reply.json();
                }
            }
        }
        // A `.html` suffix asks for the page whatever Accept says.
        for uri in [
            "/registers.html",
            "/registers/country/register.html",
            "/registers/country/records.html",
            "/registers/country/records/GB.html",
            "/registers/country/records/GB/entries.html",
            "/registers/country/entries.html",
            "/registers/country/entries/6.html",
            "/registers/place/records/country/FR.html",
        ] {
            let page = get_with(&app, uri, ("accept", "application/json")).await;
            assert_eq!(page.status, 200, "{l} {uri}: {}", page.text());
            assert_eq!(page.header("content-type"), HTML, "{l} {uri}");
        }
        // Unknown paths: a page for a browser, the envelope for everyone else.
        let missing = get_with(&app, "/nothing/here", ("accept", BROWSER)).await;
        assert_eq!(missing.status, 404, "{l}");
        assert_eq!(missing.header("content-type"), HTML, "{l}");
        assert!(missing.text().contains("Page not found"), "{l}");
        get(&app, "/nothing/here")
            .await
            .assert_error(404, &format!("{l} /nothing/here"));
        // Proofs and checkpoints have no page: a browser still gets them.
        let proof = get_with(
            &app,
            "/registers/country/proof/register/merkle:sha-256",
            ("accept", BROWSER),
        )
        .await;
        assert_eq!(proof.header("content-type"), "application/json", "{l}");
        // `/` is the register list for API clients.
        assert_eq!(
            get(&app, "/").await.json(),
            get(&app, "/registers").await.json(),
            "{l}"
        );
        // The assets the pages name.
        for (file, media) in [
            ("pages.css", "text/css; charset=utf-8"),
            ("verify.js", "text/javascript; charset=utf-8"),
        ] {
            let asset = get(&app, &format!("/assets/{file}")).await;
            assert_eq!(asset.status, 200, "{l} {file}");
            assert_eq!(asset.header("content-type"), media, "{l} {file}");
        }
        get(&app, "/assets/other.js")
            .await
            .assert_error(404, "an unknown asset");
    }
}

#[actix_web::test]
async fn hostile_values_are_text_and_never_markup_or_live_links() {
    for db in backends() {
        let l = db.label;
        pages_support::load(&db.store);
        let app = init_service(app(state(&db))).await;
        for uri in [
            "/registers/place/records/EVIL",
            "/registers/place/records/EVIL/entries",
            "/registers/place/records",
            "/registers/place/records?field=name&value=%3Cscript%3E",
            "/registers/place/indexes/by-country/records/GB",
        ] {
            let page = get_with(&app, uri, ("accept", BROWSER)).await;
            assert_eq!(page.status, 200, "{l} {uri}: {}", page.text());
            let text = page.text();
            let lower = text.to_ascii_lowercase();
            // The one script is the Verify control's file; no markup from the values.
            assert_eq!(
                lower.matches("<script").count(),
                usize::from(text.contains("/assets/verify.js")),
                "{l} {uri}"
            );
            for raw in [
                "<script>alert",
                "<img",
                "<b onmouseover",
                "<i>amp",
                EVIL_NAME,
            ] {
                assert!(!text.contains(raw), "{l} {uri}: raw {raw:?}");
            }
            assert!(!lower.contains("href=\"javascript:"), "{l} {uri}");
            assert!(
                !lower.contains("javascript:alert(document.domain)\">"),
                "{l} {uri}"
            );
            assert!(
                page.body.len() < MAX_PAGE_BYTES,
                "{l} {uri}: {} bytes",
                page.body.len()
            );
        }
        let record = get_with(&app, "/registers/place/records/EVIL", ("accept", BROWSER)).await;
        let text = record.text();
        // Shown as text, escaped.
        assert!(
            text.contains("&#60;script&#62;alert(&#34;name&#34;)"),
            "{l}: {text}"
        );
        assert!(text.contains(&format!("<li>{EVIL_URL}</li>")), "{l}");
        // The long note is cut, and says how much is left out.
        assert!(text.contains("more characters)"), "{l}");
        // A CURIE with markup links only through an encoded path.
        assert!(
            text.contains("href=\"/registers/country/records/%3CGB%3E\""),
            "{l}"
        );
    }
}

#[actix_web::test]
async fn values_link_to_records_of_registers_this_node_has() {
    for db in backends() {
        let l = db.label;
        pages_support::load(&db.store);
        let app = init_service(app(state(&db))).await;
        let page = get_with(&app, "/registers/place/records/P1", ("accept", BROWSER)).await;
        let text = page.text();
        for href in [
            // `country` names the register `country`.
            "href=\"/registers/country/records/GB\"",
            // CURIEs of `related`.
            "href=\"/registers/country/records/FR\"",
            "href=\"/registers/place/records/P2\"",
            // History, the entry, the item.
            "href=\"/registers/place/records/P1/entries\"",
            "href=\"/registers/place/entries/3\"",
        ] {
            assert!(text.contains(href), "{l}: no {href} in {text}");
        }
        assert!(
            text.contains(
                "<a href=\"https://example.org/london\" rel=\"nofollow noopener noreferrer\" class=\"external\">"
            ),
            "{l}: {text}"
        );
        // The Verify control names the entry and the log.
        assert!(
            text.contains("data-base=\"/registers/place\" data-entry=\"3\" data-key=\"P1\""),
            "{l}"
        );

        // History: what changed between the two versions of P1.
        let history = get_with(
            &app,
            "/registers/place/records/P1/entries",
            ("accept", BROWSER),
        )
        .await;
        let text = history.text();
        assert!(text.contains("Version 2"), "{l}: {text}");
        assert!(text.contains("What changed from version 1"), "{l}");
        assert!(
            text.contains("<td class=\"before\">London</td><td>Greater London</td>"),
            "{l}: {text}"
        );

        // The register page: fields with datatypes and links, the index, the checkpoint.
        let register = get_with(&app, "/registers/place/register", ("accept", BROWSER)).await;
        let text = register.text();
        assert!(
            text.contains("<a href=\"/registers/country/register\">country</a>"),
            "{l}: {text}"
        );
        assert!(
            text.contains("href=\"/registers/place/indexes/by-country/register\""),
            "{l}"
        );
        assert!(text.contains("no cosignatures yet"), "{l}");
        assert!(text.contains("Signed by"), "{l}");
        assert!(
            text.contains("href=\"/registers/place/download-rsf\""),
            "{l}"
        );

        // Search by key: found goes to the record, not found says so.
        let found = get_with(
            &app,
            "/registers/country/records?key=GB",
            ("accept", BROWSER),
        )
        .await;
        assert_eq!(found.status, 303, "{l}");
        assert_eq!(
            found.header("location"),
            "/registers/country/records/GB",
            "{l}"
        );
        let none = get_with(
            &app,
            "/registers/country/records?key=ZZ",
            ("accept", BROWSER),
        )
        .await;
        assert!(none.text().contains("No record has the key “ZZ”"), "{l}");

        // Paging: 25 rows a page, links to the next page and back.
        let first = get_with(&app, "/registers/country/records", ("accept", BROWSER)).await;
        assert!(first.text().contains("Records 1 to 25 of 199"), "{l}");
        assert!(
            first
                .text()
                .contains("href=\"/registers/country/records?page-index=2&#38;page-size=25\""),
            "{l}"
        );
        let second = get_with(
            &app,
            "/registers/country/records?page-index=2",
            ("accept", BROWSER),
        )
        .await;
        assert!(second.text().contains("Records 26 to 50 of 199"), "{l}");
        assert!(second.text().contains("rel=\"prev\""), "{l}");
        // The filter: records whose field has a value, as the facet path.
        let filtered = get_with(
            &app,
            "/registers/place/records?field=country&value=FR",
            ("accept", BROWSER),
        )
        .await;
        let text = filtered.text();
        assert!(text.contains("whose country is “FR”"), "{l}: {text}");
        assert!(
            text.contains(">P2</a>") && text.contains(">P3</a>") && !text.contains(">P1</a>"),
            "{l}"
        );
        // Bad paging is the API's 400, as a page.
        let bad = get_with(
            &app,
            "/registers/country/records?page-index=0",
            ("accept", BROWSER),
        )
        .await;
        assert_eq!(bad.status, 400, "{l}");
        assert_eq!(bad.header("content-type"), HTML, "{l}");
    }
}
