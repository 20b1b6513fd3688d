use super::*;
use serde_json::json;

fn image(body: Value) -> Result<Ingress, Refusal> {
    parse_ingress(IngressKind::Image, body.to_string().as_bytes())
}

#[test]
fn the_documented_messages_are_read() {
    let ks = image(
        json!({"email": "a@b.org", "id": "42", "imagetype": "raw", "ksfile": "%packages\n%end\n"}),
    )
    .unwrap();
    assert_eq!(ks.id, LegacyId::Text("42".into()));
    assert_eq!(ks.email.as_deref(), Some("a@b.org"));
    assert_eq!(ks.image_type, ImageType::Raw);
    assert_eq!(
        ks.source,
        IngressSource::Kickstart("%packages\n%end\n".into())
    );

    let body = json!({"config": "Default: {}\n", "email": "", "imagetype": "livecd", "id": 7, "extra": true});
    let k = parse_ingress(IngressKind::Kickstarter, body.to_string().as_bytes()).unwrap();
    assert_eq!(k.id, LegacyId::Number(7.into()));
    assert_eq!(k.email, None, "an empty e-mail means no mail");
    assert_eq!(k.source, IngressSource::Config("Default: {}\n".into()));
}

#[test]
fn refusals_name_the_field_and_keep_a_usable_id() {
    let cases = [
        (
            json!([1, 2]),
            "must be a JSON object (a dictionary), not an array",
            None,
        ),
        (json!({"email": "a@b.org"}), "field \"id\" is missing", None),
        (
            json!({"id": {"x": 1}}),
            "field \"id\": expected a string or an integer, found an object",
            None,
        ),
        (
            json!({"id": 1.5}),
            "field \"id\": expected a string or an integer, found a number",
            None,
        ),
        (
            json!({"id": ""}),
            "field \"id\": must be 1 to 128 characters, not 0",
            None,
        ),
        (
            json!({"id": "a\nb"}),
            "field \"id\": contains a control character",
            None,
        ),
        (
            json!({"id": "x", "imagetype": "raw", "ksfile": "k"}),
            "field \"email\" is missing",
            Some("x"),
        ),
        (
            json!({"id": "x", "email": 5, "imagetype": "raw", "ksfile": "k"}),
            "field \"email\": expected a string, found a number",
            Some("x"),
        ),
        (
            json!({"id": "x", "email": "a@b.org\r\nBcc: c@d.org", "imagetype": "raw", "ksfile": "k"}),
            "is not one plain address",
            Some("x"),
        ),
        (
            json!({"id": "x", "email": "", "imagetype": "floppy", "ksfile": "k"}),
            "field \"imagetype\": unknown image type 'floppy'",
            Some("x"),
        ),
        (
            json!({"id": "x", "email": "", "imagetype": "raw"}),
            "field \"ksfile\" is missing",
            Some("x"),
        ),
        (
            json!({"id": "x", "email": "", "imagetype": "raw", "ksfile": " \n"}),
            "field \"ksfile\" is empty",
            Some("x"),
        ),
    ];
    for (body, reason, id) in cases {
        let r = image(body.clone()).unwrap_err();
        assert!(r.reason.contains(reason), "{body}: {}", r.reason);
        assert_eq!(r.id.map(|i| i.as_text()), id.map(str::to_owned), "{body}");
    }
    let r = parse_ingress(IngressKind::Image, b"{\"id\": 1,").unwrap_err();
    assert!(
        r.reason
            .starts_with("the message is not JSON: EOF while parsing"),
        "{}",
        r.reason
    );
    let r = parse_ingress(IngressKind::Image, b"{\"id\": \"\xff\"}").unwrap_err();
    assert_eq!(
        r.reason,
        "the message is not UTF-8 text (invalid byte at offset 8)"
    );
}

#[test]
fn results_have_exactly_the_documented_fields() {
    let link = LinkMessage {
        url: "http://img/images/ns/a/a.raw".into(),
        id: LegacyId::Number(42.into()),
    };
    assert_eq!(
        serde_json::to_string(&link).unwrap(),
        r#"{"url":"http://img/images/ns/a/a.raw","id":42}"#
    );
    let error = ErrorMessage {
        error: "boom".into(),
        id: LegacyId::Text("x".into()),
        url: "u".into(),
    };
    assert_eq!(
        serde_json::to_string(&error).unwrap(),
        r#"{"error":"boom","id":"x","url":"u"}"#
    );
    let result = ResultMessage {
        logfile: "ns/a/a.log".into(),
        id: LegacyId::Text("x".into()),
    };
    assert_eq!(
        serde_json::to_string(&result).unwrap(),
        r#"{"logfile":"ns/a/a.log","id":"x"}"#
    );
}

#[test]
fn ids_come_back_in_the_form_they_came_in() {
    assert_eq!(LegacyId::restore("42", true), LegacyId::Number(42.into()));
    assert_eq!(LegacyId::restore("42", false), LegacyId::Text("42".into()));
    assert_eq!(LegacyId::restore("x", true), LegacyId::Text("x".into()));
    assert!(LegacyId::Number(1.into()).is_number());
}
