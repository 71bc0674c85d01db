//! Indexes (registers.md §5): derived logs keyed by a field value, multi-item entries.

mod common;

use common::{item, Rsf};
use register_core::{ItemHash, LogKind, Mode, Register};

fn authorities(declare_first: bool) -> Register {
    let metadata = Rsf::new().metadata(
        "local-authority",
        &[
            ("local-authority", "string", "1"),
            ("name", "string", "1"),
            ("local-authority-type", "string", "1"),
            ("tags", "string", "n"),
        ],
    );
    let index = Rsf::new().system(
        "index:by-type",
        &[("field", "local-authority-type"), ("index", "by-type")],
    );
    let data = Rsf::new()
        .user(
            "LND",
            &[
                ("local-authority", "LND"),
                ("name", "London"),
                ("local-authority-type", "CTY"),
            ],
        )
        .user(
            "LEI",
            &[
                ("local-authority", "LEI"),
                ("name", "Leicester"),
                ("local-authority-type", "NMD"),
            ],
        )
        .user(
            "CHE",
            &[
                ("local-authority", "CHE"),
                ("name", "Chester"),
                ("local-authority-type", "NMD"),
            ],
        )
        // London changes type: it leaves CTY and joins NMD.
        .user(
            "LND",
            &[
                ("local-authority", "LND"),
                ("name", "London"),
                ("local-authority-type", "NMD"),
            ],
        )
        // Chester changes name only: one index entry for NMD.
        .user(
            "CHE",
            &[
                ("local-authority", "CHE"),
                ("name", "Chester City"),
                ("local-authority-type", "NMD"),
            ],
        );
    let mut register = Register::new();
    if declare_first {
        let rsf = metadata.text + &index.text + &data.text;
        register.load(rsf.as_bytes(), Mode::Strict).expect("load");
    } else {
        let rsf = metadata.text + &data.text;
        register.load(rsf.as_bytes(), Mode::Strict).expect("load");
        register
            .load(index.bytes(), Mode::Strict)
            .expect("declare later");
    }
    register
}

fn hash(key: &str, name: &str, kind: &str) -> ItemHash {
    item(&[
        ("local-authority", key),
        ("name", name),
        ("local-authority-type", kind),
    ])
    .hash()
}

#[test]
fn index_entries_follow_record_changes() {
    let register = authorities(true);
    let index = register.index("by-type").expect("index");
    let summary: Vec<(u64, u64, &str, Vec<ItemHash>)> = index
        .entries()
        .iter()
        .map(|e| {
            (
                e.index_entry_number,
                e.entry_number,
                e.key.as_str(),
                e.item_hashes.clone(),
            )
        })
        .collect();
    let lnd_cty = hash("LND", "London", "CTY");
    let lnd_nmd = hash("LND", "London", "NMD");
    let lei = hash("LEI", "Leicester", "NMD");
    let che = hash("CHE", "Chester", "NMD");
    let che2 = hash("CHE", "Chester City", "NMD");
    assert_eq!(
        summary,
        vec![
            (1, 1, "CTY", vec![lnd_cty]),
            (2, 2, "NMD", vec![lei]),
            // Items of all records with the value, ordered by register key.
            (3, 3, "NMD", vec![che, lei]),
            // The old value first (now empty), then the new one.
            (4, 4, "CTY", vec![]),
            (5, 4, "NMD", vec![che, lei, lnd_nmd]),
            (6, 5, "NMD", vec![che2, lei, lnd_nmd]),
        ]
    );
    assert_eq!(index.record("NMD").map(|e| e.index_entry_number), Some(6));
    assert_eq!(index.record("CTY").map(|e| e.item_hashes.len()), Some(0));
    assert_eq!(index.values().collect::<Vec<_>>(), vec!["CTY", "NMD"]);
}

#[test]
fn an_index_declared_later_is_the_same_derived_log() {
    let early = authorities(true);
    let late = authorities(false);
    assert_eq!(
        early.index("by-type").expect("early").entries(),
        late.index("by-type").expect("late").entries()
    );
}

#[test]
fn index_rsf_loads_as_a_register_of_multi_item_entries() {
    let register = authorities(true);
    let index = register.index("by-type").expect("index");
    // Self-hosting an index: its entries as RSF, with the items they point at.
    let mut rsf = String::new();
    for entry in index.entries().iter().filter(|e| !e.item_hashes.is_empty()) {
        for hash in &entry.item_hashes {
            let json = register.item_json(hash).expect("item");
            rsf.push_str(&format!("add-item\t{json}\n"));
        }
        let hashes: Vec<String> = entry.item_hashes.iter().map(|h| h.to_string()).collect();
        rsf.push_str(&format!(
            "append-entry\tuser\t{}\t{}\t{}\n",
            entry.key,
            entry.timestamp,
            hashes.join(";")
        ));
    }
    let mut hosted = Register::new();
    hosted
        .load(rsf.as_bytes(), Mode::Relaxed)
        .expect("index as a register");
    assert_eq!(hosted.size(LogKind::User), 5);
    assert_eq!(
        hosted
            .record(LogKind::User, "NMD")
            .map(|e| e.item_hashes.len()),
        Some(3)
    );
}

#[test]
fn list_fields_put_a_record_under_each_value() {
    let rsf = Rsf::new()
        .metadata(
            "thing",
            &[("thing", "string", "1"), ("tags", "string", "n")],
        )
        .system("index:by-tag", &[("field", "tags"), ("index", "by-tag")])
        .user("a", &[("thing", "a"), ("tags", "red;blue")])
        .user("b", &[("thing", "b"), ("tags", "blue;green")]);
    let mut register = Register::new();
    register.load(rsf.bytes(), Mode::Strict).expect("load");
    let index = register.index("by-tag").expect("index");
    let keys: Vec<&str> = index.entries().iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["blue", "red", "blue", "green"]);
    assert_eq!(index.record("blue").map(|e| e.item_hashes.len()), Some(2));
}

#[test]
fn removing_records_empties_their_values_and_a_return_refills_them() {
    let mut register = authorities(true);
    let removals = "append-entry\tuser\tLEI\t2020-01-03T00:00:00Z\t\n\
                    append-entry\tuser\tCHE\t2020-01-03T00:00:00Z\t\n\
                    append-entry\tuser\tLND\t2020-01-03T00:00:00Z\t\n";
    register
        .load(removals.as_bytes(), Mode::Strict)
        .expect("removals");
    assert_eq!(register.record_count(), 0);
    let index = register.index("by-type").expect("index");
    let tail: Vec<(u64, &str, usize)> = index.entries()[6..]
        .iter()
        .map(|e| (e.entry_number, e.key.as_str(), e.item_hashes.len()))
        .collect();
    assert_eq!(tail, [(6, "NMD", 2), (7, "NMD", 1), (8, "NMD", 0)]);
    assert_eq!(index.record("NMD").map(|e| e.item_hashes.len()), Some(0));

    // The removed key returns: its value's record has its item again.
    register
        .load(
            common::Rsf::new()
                .user(
                    "LEI",
                    &[
                        ("local-authority", "LEI"),
                        ("name", "Leicester"),
                        ("local-authority-type", "NMD"),
                    ],
                )
                .bytes(),
            Mode::Strict,
        )
        .expect("return");
    let index = register.index("by-type").expect("index");
    let last = index.entries().last().expect("entry");
    assert_eq!(
        (last.entry_number, last.key.as_str()),
        (9, "NMD"),
        "{last:?}"
    );
    assert_eq!(last.item_hashes, [hash("LEI", "Leicester", "NMD")]);
}
