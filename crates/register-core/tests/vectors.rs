//! Every vector of vectors.md, against the real register files.

use register_core::merkle::{verify_consistency, verify_inclusion};
use register_core::{Digest, LogKind, Mode, Register};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn loaded(name: &str, mode: Mode) -> Register {
    let mut register = Register::new();
    register
        .load(&data(name)[..], mode)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    register
}

fn hexes(digests: &[Digest]) -> Vec<String> {
    digests.iter().map(Digest::to_hex).collect()
}

fn lines(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

struct Expected {
    file: &'static str,
    mode: Mode,
    user: u64,
    system: u64,
    items: u64,
    root: &'static str,
}

#[test]
fn counts_and_roots_of_every_file() {
    let cases = [
        Expected {
            file: "country-data.rsf",
            mode: Mode::Strict,
            user: 208,
            system: 16,
            items: 224,
            root: "8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729",
        },
        Expected {
            file: "country-with-asserts.rsf",
            mode: Mode::Relaxed,
            user: 209,
            system: 18,
            items: 225,
            root: "3bacea769627d20ed9a2cfde54173da3c9d630b3fc9ed80431a1cee2196c8a4a",
        },
        Expected {
            file: "colour.rsf",
            mode: Mode::Strict,
            user: 3,
            system: 4,
            items: 7,
            root: "f8bf199abd5ef0c25e36400dd5b24d517fe2ee0d6abe658a6c0abf1ac9989a62",
        },
    ];
    for case in cases {
        let register = loaded(case.file, case.mode);
        assert_eq!(register.size(LogKind::User), case.user, "{}", case.file);
        assert_eq!(register.size(LogKind::System), case.system, "{}", case.file);
        assert_eq!(register.item_count(), case.items, "{}", case.file);
        assert_eq!(
            register.root(LogKind::User).to_hex(),
            case.root,
            "{}",
            case.file
        );
    }
    assert_eq!(
        Register::new().root(LogKind::User).to_string(),
        "sha-256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn verify_agrees_with_a_full_load() {
    for (file, mode) in [
        ("country-data.rsf", Mode::Strict),
        ("colour.rsf", Mode::Strict),
        ("country-with-asserts.rsf", Mode::Relaxed),
    ] {
        let register = loaded(file, mode);
        let verified = register_core::verify(&data(file)[..], mode).expect(file);
        assert_eq!(verified.root, register.root(LogKind::User), "{file}");
        assert_eq!(
            verified.system_root,
            register.root(LogKind::System),
            "{file}"
        );
        assert_eq!(verified.summary.user_entries, register.size(LogKind::User));
        assert_eq!(
            verified.summary.system_entries,
            register.size(LogKind::System)
        );
        assert_eq!(verified.summary.new_items, register.item_count());
    }
}

#[test]
fn system_roots() {
    let country = loaded("country-data.rsf", Mode::Strict);
    assert_eq!(
        country.root(LogKind::System).to_hex(),
        "e8568db5dd2ce21d060412355123a76da4422a87541cf42bd8f2414cc5b5782b"
    );
    let colour = loaded("colour.rsf", Mode::Strict);
    assert_eq!(
        colour.root(LogKind::System).to_hex(),
        "a38063794f7053935b02c52f0cb5a762c069ca5168cab6e3d2406d1a1c903741"
    );
}

#[test]
fn roots_at_earlier_sizes() {
    let register = loaded("country-data.rsf", Mode::Strict);
    for (size, root) in [
        (
            1,
            "a2002581c7402683e8197faafaefb9ba1f0ca48cee2d6ff461ab086b703472e5",
        ),
        (
            197,
            "7114404b04a67c2272a32964b463212c21c49d5a6e73f2c628eabfd18f63633f",
        ),
        (
            200,
            "e022997a144dada8aca9b9c0b6420636f6b808b65f99c6347075bcc4a61d3fe8",
        ),
        (
            208,
            "8d92e1e0af1d43c41e498e6baed0d0b3ea2770d1bf9d2afc04e9c4dad7795729",
        ),
    ] {
        assert_eq!(
            register.root_at(size).map(|d| d.to_hex()).ok().as_deref(),
            Some(root)
        );
    }
    assert!(register.root_at(209).is_err());
}

#[test]
fn entry_proofs() {
    let register = loaded("country-data.rsf", Mode::Strict);
    let expected_10_200 = lines(
        "f0ebeef6be205cfc5fb6b4a314294bdff471f5409594f742b0f30c8551278b4a
         8dc980062c4e6ffd2300b72cd5a6a67e23070aabec31911691c657c2e1dd37a6
         c48916df15f3f6e030d84bf0f8bb59460c472250d38db27b4cd2e7394fe0741d
         08e9d6bd5717717c1c40ba518ccf02cad9c412eae6052739552ecd4a668b4ec3
         43834a10ac7dcecc7bb274d67f79dc5da4c03efb6dadc20657595ca4b261df4d
         10d897e8df0096412f45e9c16c61eed7b335267d803872f85ce0d25218fc82eb
         e483ea76d5ca3fdcef64ae8a2c910d1e47b90507a364da8dc4878cacd48cd414
         ca77ecfa5a4e847c65fda8f41f73758456814acf473bab2811516aeaac17f7cc",
    );
    let path = register.inclusion_proof(10, 200).expect("proof");
    assert_eq!(hexes(&path), expected_10_200);
    let entry = register.entry(LogKind::User, 10).expect("entry 10");
    let root = register.root_at(200).expect("root");
    assert!(verify_inclusion(
        &entry.leaf_hash(&mut String::new()),
        9,
        200,
        &path,
        &root
    ));

    let expected_208 = lines(
        "f940d50f40f9880a2a02c7472c86d1e3cc376182fc989a6bdb928791d28817e6
         3ba1723d01205ee2a671e2de74289c9d0f8a2d80955df4eb322fdda1c212a0ed
         90dedbb4048ea219c4919dcec945b804f8b7ee059556bbac03b3cf485b15bf3e
         941193fe7db1a85a867afbf576ce75a4fb7573ad5b599a75628c1329977618f4
         6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c
         20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
    );
    assert_eq!(
        hexes(&register.inclusion_proof(208, 208).expect("proof")),
        expected_208
    );

    let colour = loaded("colour.rsf", Mode::Strict);
    assert_eq!(
        hexes(&colour.inclusion_proof(1, 3).expect("proof")),
        lines(
            "f5617122f9c9a6674cce13785fec8e06ead6188f94fc44f9d376773dda6997ad
             eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980"
        )
    );
    for (n, size) in [(0, 3), (4, 3), (1, 4)] {
        assert!(colour.inclusion_proof(n, size).is_err(), "{n} in {size}");
    }
}

#[test]
fn consistency_proofs() {
    let register = loaded("country-data.rsf", Mode::Strict);
    let expected = lines(
        "73f13521226acdfa2a610c7bfdc955fa52aea1d554dd247011312ee48686a538
         8a16bb948f55ef959a5a7ddad5e2d1d398b50f3d7095aba1e97ad50c1fa374a9
         be8a541a0a763f88c8e4ff5f013e701e5f89c3f9cb744aadfaf19668189de514
         733c1adf88daff4ba4275b4ff86d373266c17eeb547ef54093ed14649d168865
         6242c4d6fde2c79c26144deab292fc6702d321a7e79c535e146d25f356191f7c
         20b0c02232b50a587671ed9f465fb1a99923a08ff53951b8b9f4bb29648aa112",
    );
    let proof = register.consistency_proof(197, 200).expect("proof");
    assert_eq!(hexes(&proof), expected);
    let (r197, r200) = (
        register.root_at(197).expect("root"),
        register.root_at(200).expect("root"),
    );
    assert!(verify_consistency(197, 200, &r197, &r200, &proof));
    assert!(!verify_consistency(197, 200, &r200, &r200, &proof));
    assert_eq!(register.consistency_proof(200, 200).expect("proof"), vec![]);

    let colour = loaded("colour.rsf", Mode::Strict);
    assert_eq!(
        hexes(&colour.consistency_proof(2, 3).expect("proof")),
        lines("eae87aa9b164624248fae74d7a94fda8ed80b7b7c64877a9747d6e4035336980")
    );
    assert!(colour.consistency_proof(3, 2).is_err());
    assert!(colour.consistency_proof(2, 4).is_err());
}

#[test]
fn country_with_asserts_needs_relaxed_mode() {
    let mut register = Register::new();
    let err = register
        .load(&data("country-with-asserts.rsf")[..], Mode::Strict)
        .expect_err("strict mode refuses identical consecutive system entries");
    assert_eq!(
        err.to_string(),
        "line 239: entry for key 'field:country' is identical to previous entry"
    );
    assert_eq!(register.size(LogKind::System), 0, "nothing applied");
    assert_eq!(register.item_count(), 0, "nothing applied");
}
