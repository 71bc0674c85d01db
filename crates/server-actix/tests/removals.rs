//! Records removed by an entry with no items, and unreferenced items, over HTTP
//! (registers.md §6.1): JSON, CSV, 404s, facets, downloads and load reports.

mod common;

use actix_web::test;
use common::{assert_csv, assert_json_text, basic, get, loaded, post_rsf, send, state, RSF};
use serde_json::json;
use server_actix::app;
use store_diesel::accounts::Role;

const BLUE_4: &str = r#"{"index-entry-number":"4","entry-number":"4","entry-timestamp":"2019-01-04T00:00:00Z","key":"blue","item-hash":[]}"#;
const SCARLET: &str = r#"{"red":{"index-entry-number":"3","entry-number":"3","entry-timestamp":"2019-01-03T09:30:00Z","key":"red","item":[{"colour":"red","name":"Scarlet"}]}}"#;
const REMOVE_BLUE: &str = "append-entry\tuser\tblue\t2019-01-04T00:00:00Z\t\n";

#[actix_web::test]
async fn a_removed_record_leaves_every_view_but_its_history() {
    for db in loaded() {
        let l = db.label;
        db.store
            .add_user("admin", "secret", Role::Admin)
            .expect("admin");
        let app = test::init_service(app(state(&db))).await;
        let admin = || Some(basic("admin", "secret"));
        let uri = "/registers/colour/load-rsf";

        let reply = send(&app, post_rsf(uri, REMOVE_BLUE.into(), admin())).await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert_eq!(reply.json()["user-entries-added"], 1, "{l}");
        let summary = get(&app, "/registers/colour/register").await.json();
        assert_eq!(
            (&summary["total-entries"], &summary["total-records"]),
            (&json!(4), &json!(1)),
            "{l}"
        );

        assert_json_text(
            &get(&app, "/registers/colour/entries/4").await,
            &format!("[{BLUE_4}]"),
            &format!("{l} entry 4"),
        );
        assert_csv(
            &get(&app, "/registers/colour/entries/4.csv").await,
            &[
                "index-entry-number,entry-number,entry-timestamp,key,item-hash",
                "4,4,2019-01-04T00:00:00Z,blue,",
            ],
            &format!("{l} entry 4 csv"),
        );
        let history = get(&app, "/registers/colour/records/blue/entries").await;
        assert_eq!(history.status, 200, "{l}");
        let history = history.json();
        assert_eq!(history.as_array().map(Vec::len), Some(2), "{l}");
        assert_eq!(history[0]["entry-number"], "2", "{l}");
        assert_eq!(
            history[1],
            serde_json::from_str::<serde_json::Value>(BLUE_4).expect("json")
        );
        get(&app, "/registers/colour/records/blue")
            .await
            .assert_error(404, &format!("{l} removed record"));
        assert_json_text(
            &get(&app, "/registers/colour/records").await,
            SCARLET,
            &format!("{l} records"),
        );
        assert_csv(
            &get(&app, "/registers/colour/records.csv").await,
            &[
                "index-entry-number,entry-number,entry-timestamp,key,colour,name",
                "3,3,2019-01-03T09:30:00Z,red,red,Scarlet",
            ],
            &format!("{l} records.csv"),
        );
        assert_json_text(
            &get(&app, "/registers/colour/records/colour/blue").await,
            "{}",
            &format!("{l} facet colour=blue"),
        );

        // Every download carries the removal in the current form.
        for path in ["download-rsf", "download-rsf/3", "download-rsf/3/4"] {
            let dump = get(&app, &format!("/registers/colour/{path}")).await;
            assert_eq!(dump.status, 200, "{l} {path}");
            assert_eq!(dump.header("content-type"), RSF);
            assert!(
                dump.text().contains(REMOVE_BLUE),
                "{l} {path}: {}",
                dump.text()
            );
        }
        // Strict mode refuses a second removal, and nothing changes.
        let reply = send(&app, post_rsf(uri, REMOVE_BLUE.into(), admin())).await;
        assert_eq!(reply.status, 400, "{l}: {}", reply.text());
        assert_eq!(
            reply.json()["details"],
            "line 1: entry for key 'blue' is identical to previous entry",
            "{l}"
        );

        // Relaxed: blue returns, with an item no entry names, which is kept and served.
        let stray = r#"{"colour":"purple","name":"Purple"}"#;
        let stray_hash = register_core::Item::parse(stray).expect("item").hash();
        let back = format!(
            "add-item\t{stray}\nadd-item\t{{\"colour\":\"blue\",\"name\":\"Navy\"}}\nappend-entry\tuser\tblue\t2019-01-05T00:00:00Z\t{}\n",
            register_core::Item::parse(r#"{"colour":"blue","name":"Navy"}"#)
                .expect("item")
                .hash()
        );
        let reply = send(
            &app,
            post_rsf(&format!("{uri}?relaxed=true"), back.into(), admin()),
        )
        .await;
        assert_eq!(reply.status, 200, "{l}: {}", reply.text());
        assert_eq!(reply.json()["unreferenced-items"], 1, "{l}");
        assert_json_text(
            &get(&app, &format!("/registers/colour/items/{stray_hash}")).await,
            stray,
            &format!("{l} unreferenced item"),
        );
        let blue = get(&app, "/registers/colour/records/blue").await;
        assert_eq!(blue.status, 200, "{l}: {}", blue.text());
        assert_eq!(blue.json()["blue"]["entry-number"], "5", "{l}");
        let summary = get(&app, "/registers/colour/register").await.json();
        assert_eq!(summary["total-records"], 2, "{l}");
    }
}
