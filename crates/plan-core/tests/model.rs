//! The typed plan: fragments, completion, and write → validate → parse round trips.

mod common;

use std::path::Path;

use plan_core::{validate_plan, Error, Plan, PlanId, RegisterSlice, Subscription};

/// Write, validate (schema and rules), parse: the same plan comes back.
fn round_trip(plan: &Plan) {
    let xml = plan.to_xml();
    assert_eq!(
        validate_plan(&xml),
        Vec::new(),
        "written plan is invalid:\n{xml}"
    );
    let parsed = Plan::from_xml(&xml).expect("parse the written plan");
    assert_eq!(&parsed, plan, "round trip changed the plan:\n{xml}");
    assert_eq!(parsed.to_xml(), xml, "writing is deterministic");
}

#[test]
fn fragment_and_completed_plan_round_trip() {
    let fragment = common::fragment();
    assert!(fragment.is_fragment());
    round_trip(&fragment);
    let complete = common::complete();
    assert!(!complete.is_fragment());
    round_trip(&complete);
}

#[test]
fn fragment_names_its_registers() {
    let registers = common::fragment().register_slices();
    let names: Vec<_> = registers
        .iter()
        .map(|r| (r.register.as_str(), r.index.as_deref()))
        .collect();
    assert_eq!(names, [("country", None), ("country", Some("by-name"))]);
    assert_eq!(
        registers[1],
        RegisterSlice {
            slice_uuid: common::id(21),
            description: "Countries by name".into(),
            register: "country".into(),
            index: Some("by-name".into()),
            checkpoint_key: None,
        }
    );
    assert_eq!(
        registers[0].checkpoint_key.as_deref(),
        Some(common::COUNTRY_KEY)
    );
}

#[test]
fn keys_travel_in_links_and_survive_a_round_trip() {
    let plan = common::complete();
    let xml = plan.to_xml();
    assert!(xml.contains(&format!(
        "keyfield=\"checkpoint-key\" keyvalue=\"{}\"",
        common::COUNTRY_KEY
    )));
    let read = Plan::from_xml(&xml).expect("valid");
    assert_eq!(
        read.register_slices()[0].checkpoint_key.as_deref(),
        Some(common::COUNTRY_KEY)
    );
    assert_eq!(read.register_slices()[1].checkpoint_key, None);
    let secondary = read.secondary.as_ref().expect("secondary");
    assert_eq!(secondary.cosigner_key(), Some(common::MIRROR_KEY));
    assert_eq!(
        common::fragment()
            .secondary
            .as_ref()
            .and_then(|s| s.cosigner_key()),
        None
    );
    // A slice without a key reads as one without a key; the schema bounds the value.
    let long = xml.replace(common::COUNTRY_KEY, &"k".repeat(256));
    assert!(Plan::from_xml(&long).is_err());
}

#[test]
fn every_valid_corpus_document_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).expect("corpus") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.starts_with("valid-") || !name.ends_with(".xml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("read");
        let plan = Plan::from_xml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        round_trip(&plan);
        count += 1;
    }
    assert!(count >= 10);
}

#[test]
fn awkward_values_survive_a_round_trip() {
    let mut plan = common::complete();
    plan.description = "tab\there, newline\nthere, CR\r, quotes \" ' and <&> and ünïcödé".into();
    plan.primary.controller.admin.contact = Some("  leading and trailing  ".into());
    round_trip(&plan);
}

#[test]
fn completing_checks_the_fragment() {
    let subscription = |slice| Subscription {
        uuid: common::id(50),
        slice_uuid: Some(slice),
        delivery_profiles: vec![],
    };
    let unknown =
        common::fragment().complete(common::secondary(), vec![subscription(common::id(777))]);
    assert!(matches!(unknown, Err(Error::Document(_))));

    let no_uuid = Plan::fragment(None, "stub", common::primary());
    assert!(matches!(
        no_uuid.complete(common::secondary(), vec![]),
        Err(Error::Document(_))
    ));

    let twice = common::complete().complete(common::secondary(), vec![]);
    assert!(matches!(twice, Err(Error::Document(_))));
}

#[test]
fn invalid_documents_do_not_parse() {
    let Err(Error::Invalid(diagnostics)) = Plan::from_xml("<Plan/>") else {
        panic!("expected Invalid")
    };
    assert!(!diagnostics.is_empty());
    assert!(matches!(Plan::from_xml("not xml"), Err(Error::Invalid(_))));
}

#[test]
fn plan_ids_print_in_schema_form() {
    assert_eq!(
        PlanId(common::id(1)).to_string(),
        "3b241101-e2bb-4255-8caf-000000000001"
    );
}
