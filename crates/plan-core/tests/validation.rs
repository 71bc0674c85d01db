//! Diagnostics (position, path, message), the schema subset, application rules, hostile input.

use plan_core::{
    plan_schema, validate_plan, validate_plan_with, Diagnostic, Error, Limits, Schema,
};

const FULL: &str = include_str!("corpus/valid-full-plan.xml");

/// `check(document, expected)`: `LINE:COL: PATH: message` for every problem, in order.
fn check(document: &str, expected: &[&str]) {
    let got: Vec<String> = validate_plan(document)
        .iter()
        .map(Diagnostic::to_string)
        .collect();
    assert_eq!(got, expected, "for document:\n{document}");
}

const MINI: &str = r#"<Plan description="p">
  <Primary uuid="3b241101-e2bb-4255-8caf-000000000002" description="d">
    <Instance uuid="3b241101-e2bb-4255-8caf-000000000003">
      <Software description="s" version="1"/>
      <Capability/>
    </Instance>
    <Controller uuid="3b241101-e2bb-4255-8caf-000000000004" description="c">
      <Admin/>
    </Controller>
  </Primary>
</Plan>"#;

#[test]
fn valid_documents_have_no_diagnostics() {
    check(MINI, &[]);
    check(FULL, &[]);
}

#[test]
fn every_problem_is_reported_with_position_and_path() {
    let doc = MINI
        .replace(r#"<Plan description="p">"#, r#"<Plan>"#)
        .replace(r#"version="1""#, r#"version="1" colour="red""#)
        .replace(
            "<Capability/>",
            "<Capability level=\"9\"/>\n      <Capability/>",
        )
        .replace("<Admin/>", "<Admin email=\"nobody\">x</Admin>");
    check(
        &doc,
        &[
            "1:1: /Plan: missing required attribute 'description'",
            "4:45: /Plan/Primary/Instance/Software/@colour: attribute 'colour' is not allowed here",
            "5:26: /Plan/Primary/Instance/Capability/@level: '9' is not one of 1-1, 1-2, 2, 3",
            "6:7: /Plan/Primary/Instance/Capability[2]: too many 'Capability' elements (at most 1)",
            "9:21: /Plan/Primary/Controller/Admin/@email: 'nobody' is not a valid 'Email': does not match \\S+@\\S+",
            "9:29: /Plan/Primary/Controller/Admin: text is not allowed: Admin has empty content",
        ],
    );
}

#[test]
fn missing_and_misplaced_elements() {
    let doc = MINI.replace("      <Admin/>\n", "");
    check(
        &doc,
        &["8:5: /Plan/Primary/Controller: missing required element 'Admin'"],
    );
    let doc = MINI.replace(
        "<Capability/>",
        "<Capability/><Software description=\"s\" version=\"1\"/>",
    );
    check(
        &doc,
        &["5:20: /Plan/Primary/Instance/Software[2]: element 'Software' is out of order; expected the end of the element"],
    );
}

#[test]
fn the_spec_example_path() {
    let doc = FULL.replace("slicetype=\"register-index\"", "slicetype=\"pies\"");
    let diagnostics = validate_plan(&doc);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let first = &diagnostics[0];
    assert_eq!(
        first.path,
        "/Plan/Primary/Pools/Pool[1]/Slices/Slice[2]/@slicetype"
    );
    assert!(
        first
            .message
            .starts_with("'pies' is not one of aces-file, "),
        "{}",
        first.message
    );
}

#[test]
fn application_rules() {
    // A complete plan needs a uuid.
    let doc = FULL.replacen("uuid=\"3b241101-e2bb-4255-8caf-4136c5660001\" ", "", 1);
    check(
        &doc,
        &["2:1: /Plan: a plan with Secondary or Communal needs a uuid"],
    );
    // Distinct uuids.
    let doc = FULL.replace(
        "<Controller uuid=\"3b241101-e2bb-4255-8caf-4136c5660004\"",
        "<Controller uuid=\"3b241101-e2bb-4255-8caf-4136c5660003\"",
    );
    check(
        &doc,
        &["10:23: /Plan/Primary/Controller/@uuid: uuid '3b241101-e2bb-4255-8caf-4136c5660003' is already used by /Plan/Primary/Instance on line 4"],
    );
    // Subscriptions name slices of the primary.
    let doc = FULL.replace(
        "sliceuuid=\"3b241101-e2bb-4255-8caf-4136c5660007\"",
        "sliceuuid=\"3b241101-e2bb-4255-8caf-4136c5660099\"",
    );
    check(
        &doc,
        &["36:76: /Plan/Communal/Subscriptions/Subscription[1]/@sliceuuid: sliceuuid '3b241101-e2bb-4255-8caf-4136c5660099' names no slice of the primary"],
    );
    // A register-index slice names its register and index.
    let doc = FULL.replace("keyfield=\"index\"", "keyfield=\"column\"");
    check(
        &doc,
        &["24:11: /Plan/Primary/Pools/Pool[1]/Slices/Slice[2]: a register-index slice needs a UniqueLink with keyfield=\"index\""],
    );
    // The all-zero uuid is a fragment's placeholder, not a complete plan's identity.
    let doc = FULL.replace(
        "<Plan uuid=\"3b241101-e2bb-4255-8caf-4136c5660001\"",
        "<Plan uuid=\"00000000-0000-0000-0000-000000000000\"",
    );
    assert_eq!(validate_plan(&doc).len(), 1);
}

#[test]
fn dtds_and_entities_are_refused() {
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Plan description="&lol2;"/>"#;
    let diagnostics = validate_plan(laughs);
    assert_eq!(diagnostics.len(), 1);
    assert!(diagnostics[0].message.contains("DTD"), "{diagnostics:?}");
    // libxml2 accepts an empty DOCTYPE; we refuse every DTD.
    let empty = format!("<!-- <!DOCTYPE in a comment is fine --><!DOCTYPE Plan>{MINI}");
    let diagnostics = validate_plan(&empty);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!((diagnostics[0].line, diagnostics[0].column), (1, 40));
    check(&format!("<!-- <!DOCTYPE x> -->\n{MINI}"), &[]);
    let with_subset = format!("<!DOCTYPE Plan []>\n{MINI}");
    assert_eq!(
        validate_plan(&with_subset)[0].message,
        "DTDs and entity declarations are not accepted"
    );
}

#[test]
fn limits_bound_hostile_documents() {
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    let d = validate_plan(&deep);
    assert_eq!(d.len(), 1);
    assert!(
        d[0].message.contains("deeper than the limit of 32"),
        "{d:?}"
    );

    let limits = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    let d = validate_plan_with(MINI, &limits);
    assert!(
        d.len() == 1 && d[0].message.contains("over the limit of 100 bytes"),
        "{d:?}"
    );

    let limits = Limits {
        max_nodes: 10,
        ..Limits::default()
    };
    assert!(validate_plan_with(MINI, &limits)[0]
        .message
        .contains("more than 10 XML nodes"));

    // Many problems: reporting stops at the limit.
    let many = MINI.replace("<Admin/>", &"<Admin/>".repeat(5_000));
    let limits = Limits {
        max_diagnostics: 100,
        ..Limits::default()
    };
    let d = validate_plan_with(&many, &limits);
    assert_eq!(d.len(), 101);
    assert!(d
        .iter()
        .any(|d| d.message.contains("more than 100 problems")));
}

/// `check_limited(limits, document, expected)`: like `check`, within `limits`.
fn check_limited(limits: &Limits, document: &str, expected: &[&str]) {
    let got: Vec<String> = validate_plan_with(document, limits)
        .iter()
        .map(Diagnostic::to_string)
        .collect();
    assert_eq!(got, expected, "for document:\n{document}");
}

#[test]
fn each_structural_limit_is_refused_where_it_is_crossed() {
    let limits = |change: fn(&mut Limits)| {
        let mut limits = Limits::default();
        change(&mut limits);
        limits
    };
    // MINI is within every limit below by exactly one.
    check_limited(&limits(|l| l.max_elements = 7), MINI, &[]);
    check_limited(
        &limits(|l| l.max_elements = 6),
        MINI,
        &["8:7: /: more than 6 elements, the limit of elements per document"],
    );
    check_limited(&limits(|l| l.max_attributes_per_element = 2), MINI, &[]);
    check_limited(
        &limits(|l| l.max_attributes_per_element = 1),
        MINI,
        &["2:56: /: more than 1 attributes on one element, the limit of attributes per element"],
    );
    check_limited(&limits(|l| l.max_attributes = 8), MINI, &[]);
    check_limited(
        &limits(|l| l.max_attributes = 7),
        MINI,
        &["7:61: /: more than 7 attributes, the limit of attributes per document"],
    );
    let spaced = MINI.replace(
        "<Plan ",
        "<Plan xmlns:a=\"urn:a\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ",
    );
    check_limited(&limits(|l| l.max_namespaces = 2), &spaced, &[]);
    check_limited(
        &limits(|l| l.max_namespaces = 1),
        &spaced,
        &["1:23: /: more than 1 namespace declarations, the limit per document"],
    );
    let long = MINI.replace(
        r#"description="d""#,
        r#"description="0123456789012345678901234567890123456789""#,
    );
    check_limited(&limits(|l| l.max_value_bytes = 40), &long, &[]);
    check_limited(
        &limits(|l| l.max_value_bytes = 39),
        &long,
        &["2:69: /: an attribute value of 40 bytes, over the limit of 39 bytes per value"],
    );
    let text = MINI.replace(
        "<Admin/>",
        "<Admin>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</Admin>",
    );
    check_limited(
        &limits(|l| l.max_value_bytes = 49),
        &text,
        &["8:14: /: a text of 50 bytes, over the limit of 49 bytes per text"],
    );
    let cdata = MINI.replace(
        "<Admin/>",
        "<Admin><![CDATA[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]]></Admin>",
    );
    check_limited(
        &limits(|l| l.max_value_bytes = 49),
        &cdata,
        &["8:23: /: a text of 50 bytes, over the limit of 49 bytes per text"],
    );
    // Markup in comments and `>` in quoted values do not confuse the counts.
    let tricky = MINI.replace(
        "<Admin/>",
        "<!-- <a b='1' c='2' d='3'> --><Admin contact='a > b' email=\"x>@y\"/>",
    );
    check_limited(&limits(|l| l.max_attributes_per_element = 2), &tricky, &[]);
}

#[test]
fn a_hundred_thousand_attributes_cost_one_pass() {
    let timed = |document: &str| {
        let started = std::time::Instant::now();
        let d = validate_plan(document);
        // Generous: quadratic parsing took seconds, the scan takes milliseconds.
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
        d
    };
    let attributes: String = (0..100_000).map(|i| format!(" a{i}=\"x\"")).collect();
    let d = timed(&MINI.replace("<Plan ", &format!("<Plan{attributes} ")));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("the limit of attributes per element"),
        "{d:?}"
    );

    let d = timed(&MINI.replace("<Admin/>", &"<Admin/>".repeat(150_000)));
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("the limit of elements per document"),
        "{d:?}"
    );

    // Within the limits, on one line: validation reports (capped) in linear time too.
    let within = MINI.replace(
        "<Admin/>",
        &"<Admin contact=\"a\" email=\"a@b\"/>".repeat(50_000),
    );
    let d = timed(&within);
    assert_eq!(d.len(), 1_001, "{:?}", &d[..3]);
}

#[test]
fn long_values_are_not_echoed() {
    let long = "x".repeat(10_000);
    let doc = MINI.replace(r#"version="1""#, &format!(r#"version="{long}""#));
    let d = validate_plan(&doc);
    assert_eq!(d.len(), 1);
    assert!(d[0].message.len() < 200, "{}", d[0].message);
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "",
        " ",
        "<",
        "<Plan",
        "<?xml?>",
        "<Plan description='x'>",
        "\u{0}",
        "<Plan>&unknown;</Plan>",
        "<a:Plan/>",
        "<Plan xmlns:a='u' a:description='x'/>",
        "<Plan description='x'><![CDATA[",
        "<Plan description=>",
        "<Plan \"x\"=1>",
        "<Plan description='x",
        "<Plan/",
        "<Plan a=\"1\"/ b=\"2\">",
        "<Plan a b c d/>",
        "<Plan <Primary/>",
        "\u{feff}<Plan/>",
    ];
    for input in inputs {
        assert!(!validate_plan(input).is_empty(), "{input:?}");
    }
    // Every prefix of a valid plan: a cheap fuzz of truncated uploads.
    for end in (0..FULL.len())
        .filter(|i| FULL.is_char_boundary(*i))
        .step_by(7)
    {
        let _ = validate_plan(&FULL[..end]);
    }
}

#[test]
fn the_embedded_schema_compiles() {
    plan_schema().expect("plan.xsd is inside the supported subset");
}

/// `schema_error(xsd body)`: compiling a schema with this body fails with the given kind.
fn compile(body: &str) -> Result<Schema, Error> {
    Schema::parse(&format!(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{body}</xs:schema>"#
    ))
}

#[test]
fn constructs_outside_the_subset_are_unsupported() {
    let empty = r#"<xs:complexType/>"#;
    let cases = [
        r#"<xs:element name="a"><xs:complexType><xs:choice/></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:all/></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType mixed="true"/></xs:element>"#,
        r#"<xs:element name="a" type="xs:string"/>"#,
        r#"<xs:element name="a"/>"#,
        r#"<xs:element name="a" nillable="true"><xs:complexType/></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:attribute name="b" type="xs:int"/></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:attribute name="b" type="xs:string" default="x"/></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:anyAttribute/></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:sequence maxOccurs="2"><xs:element name="b"><xs:complexType/></xs:element></xs:sequence></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:sequence><xs:any/></xs:sequence></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:sequence><xs:element ref="a"/></xs:sequence></xs:complexType></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:simpleContent/></xs:complexType></xs:element>"#,
        r#"<xs:simpleType name="t"><xs:list itemType="xs:string"/></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:simpleType name="t"><xs:restriction base="xs:string"><xs:whiteSpace value="collapse"/></xs:restriction></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:simpleType name="t"><xs:restriction base="xs:string"><xs:pattern value="\i\c*"/></xs:restriction></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:simpleType name="t"><xs:restriction base="xs:token"/></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType/><xs:key name="k"><xs:selector xpath="b"/><xs:field xpath="@c"/></xs:key></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType/><xs:unique name="k"><xs:selector xpath=".//b"/><xs:field xpath="@c"/></xs:unique></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType/><xs:unique name="k"><xs:selector xpath="b"/><xs:field xpath="c"/></xs:unique></xs:element>"#,
        r#"<xs:import namespace="urn:x"/><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:group name="g"><xs:sequence/></xs:group><xs:element name="a">{empty}</xs:element>"#,
    ];
    for case in cases {
        let case = case.replace("{empty}", empty);
        assert!(
            matches!(compile(&case), Err(Error::UnsupportedSchema { .. })),
            "{case}: {:?}",
            compile(&case)
        );
    }
    let target = Schema::parse(
        r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x"/>"#,
    );
    assert!(
        matches!(target, Err(Error::UnsupportedSchema { .. })),
        "{target:?}"
    );
}

#[test]
fn broken_schemas_are_errors() {
    let cases = [
        "",
        r#"<xs:element name="a" type="nope"/>"#,
        r#"<xs:simpleType name="t"><xs:restriction base="t"/></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:attributeGroup name="g"><xs:attributeGroup ref="g"/></xs:attributeGroup><xs:element name="a"><xs:complexType><xs:attributeGroup ref="g"/></xs:complexType></xs:element>"#,
        r#"<xs:simpleType name="t"><xs:restriction base="xs:string"><xs:pattern value="(a"/></xs:restriction></xs:simpleType><xs:element name="a"><xs:complexType/></xs:element>"#,
        r#"<xs:element name="a"><xs:complexType><xs:sequence><xs:element name="b" minOccurs="2" maxOccurs="1"><xs:complexType/></xs:element></xs:sequence></xs:complexType></xs:element>"#,
    ];
    for case in cases {
        assert!(
            matches!(compile(case), Err(Error::Schema { .. })),
            "{case}: {:?}",
            compile(case)
        );
    }
    assert!(matches!(
        Schema::parse("<not-xml"),
        Err(Error::Schema { .. })
    ));
}

#[test]
fn a_schema_is_interpreted_not_hard_coded() {
    let schema = compile(
        r#"<xs:simpleType name="Code"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{2}"/></xs:restriction></xs:simpleType>
        <xs:simpleType name="Eu"><xs:restriction base="Code"><xs:enumeration value="FR"/><xs:enumeration value="de"/></xs:restriction></xs:simpleType>
        <xs:element name="Countries"><xs:complexType><xs:sequence>
          <xs:element name="Country" minOccurs="2" maxOccurs="3"><xs:complexType><xs:attribute name="code" type="Eu" use="required"/></xs:complexType></xs:element>
        </xs:sequence></xs:complexType>
        <xs:unique name="u"><xs:selector xpath="Country"/><xs:field xpath="@code"/></xs:unique></xs:element>"#,
    )
    .expect("compiles");
    let ok = r#"<Countries><Country code="FR"/><Country code="FR "/></Countries>"#;
    let d = schema.validate(ok);
    // 'FR ' fails the inherited pattern; 'de' would pass the enumeration but not the base pattern.
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        schema
            .validate(r#"<Countries><Country code="FR"/><Country code="de"/></Countries>"#)
            .len()
            == 1
    );
    let dup = schema.validate(r#"<Countries><Country code="FR"/><Country code="FR"/></Countries>"#);
    assert_eq!(dup.len(), 1);
    assert_eq!(dup[0].path, "/Countries/Country[2]/@code");
    assert_eq!(
        schema.validate(r#"<Countries><Country code="FR"/></Countries>"#)[0].message,
        "too few 'Country' elements: 1, at least 2"
    );
}
