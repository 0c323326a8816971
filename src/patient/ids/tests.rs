//! Every accepted form, its one spelling, and the refusals.

use super::*;

#[test]
fn every_accepted_form_parses_and_prints_back() {
    let cases = [
        ("9E7A;3", "pid"),
        ("C877;100022", "pid"),
        ("10108V420871", "icn"),
        ("DOD;4325678", "pid"),
        ("HDR;10108V420871", "pid"),
        ("VLER;10108V420871", "pid"),
        ("52833885-af7c-4899-90be-b3a6630b2369", "jpid"),
    ];
    for (text, kind) in cases {
        let pid = PatientId::parse(text).unwrap();
        assert_eq!(pid.to_string(), text);
        assert_eq!(pid.kind(), kind, "{text}");
    }
}

#[test]
fn spellings_of_one_identifier_meet() {
    let canonical = [
        ("9e7a;3", "9E7A;3"),
        ("9E7A;003", "9E7A;3"),
        ("dod;4325678", "DOD;4325678"),
        ("vler;10108V420871", "VLER;10108V420871"),
        (
            "52833885-AF7C-4899-90BE-B3A6630B2369",
            "52833885-af7c-4899-90be-b3a6630b2369",
        ),
    ];
    for (sent, kept) in canonical {
        assert_eq!(PatientId::parse(sent).unwrap().to_string(), kept);
    }
    assert_eq!(Edipi::parse("0004325678").unwrap().as_str(), "0004325678");
}

#[test]
fn malformed_pids_are_refused_naming_the_value_and_the_forms() {
    let refused = [
        "",
        "9E;3",
        "9E7A;",
        "9E7A;x3",
        "9E7A;+3",
        "9E-7;3",
        "10108v420871",
        "V420871",
        "10108V",
        "DOD;43A",
        "DOD;10108V420871",
        "HDR;4325678",
        "VLER;",
        "9E7A;3;4",
        "52833885-af7c-3899-90be-b3a6630b2369", // version 3
        "52833885-af7c-4899-c0be-b3a6630b2369", // wrong variant
        "52833885af7c489990beb3a6630b2369",
    ];
    for text in refused {
        let error = PatientId::parse(text).unwrap_err();
        assert_eq!(
            error,
            IdError::Pid {
                value: text.to_string()
            }
        );
        let message = error.to_string();
        assert!(message.contains(&format!("{text:?}")), "{message}");
        assert!(message.contains("site;dfn") && message.contains("DOD;edipi") && message.contains("jpid"));
    }
}

#[test]
fn derived_pids_come_from_the_icn_and_the_edipi() {
    let icn = Icn::parse("10108V420871").unwrap();
    let edipi = Edipi::parse("4325678").unwrap();
    let pids: Vec<String> = secondary_pids(Some(&icn), Some(&edipi))
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(pids, ["DOD;4325678", "HDR;10108V420871", "VLER;10108V420871"]);
    assert_eq!(secondary_pids(None, Some(&edipi)).len(), 1);
    assert_eq!(icn.hdr_pid().source(), Source::Hdr);
    assert_eq!(edipi.dod_pid().source(), Source::Dod);
}

#[test]
fn demographics_ids_are_checked_on_their_own() {
    assert_eq!(
        Edipi::parse("DOD;4325678").unwrap_err().to_string(),
        "A dod pid is invalid, please use an edipi or icn."
    );
    assert!(matches!(Edipi::parse("43a5"), Err(IdError::Edipi { .. })));
    assert!(matches!(Icn::parse("10108"), Err(IdError::Icn { .. })));
    assert!(SourcePid::parse("10108V420871").is_err());
    assert_eq!(SourcePid::parse("C877;3").unwrap().source().code(), "C877");
}

#[test]
fn generated_jpids_are_distinct_valid_uuid_v4() {
    let first = Jpid::generate();
    let second = Jpid::generate();
    assert_ne!(first, second);
    for jpid in [&first, &second] {
        assert_eq!(Jpid::parse(jpid.as_str()).as_ref(), Ok(jpid));
        assert!(!jpid.as_str().bytes().any(|byte| byte.is_ascii_uppercase()));
    }
}

#[test]
fn ids_serialize_as_their_text_and_refuse_invalid_text() {
    let pid = PatientId::parse("9E7A;3").unwrap();
    assert_eq!(serde_json::to_string(&pid).unwrap(), "\"9E7A;3\"");
    assert_eq!(serde_json::from_str::<PatientId>("\"9E7A;3\"").unwrap(), pid);
    assert!(serde_json::from_str::<SourcePid>("\"9E7A\"").is_err());
    assert!(serde_json::from_str::<Jpid>("\"not-a-jpid\"").is_err());
}
