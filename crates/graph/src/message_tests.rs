//! Tests of the Graph message model.

use super::*;
use proptest::prelude::*;

fn meta() -> ItemMeta {
    let received = DateTime::parse_from_rfc3339("2026-11-23T10:00:05Z").unwrap().to_utc();
    let (id, parent_folder_id, change_key) = ("AAMk1".into(), "inbox".into(), "CQAA".into());
    ItemMeta { id, parent_folder_id, received, is_read: true, is_draft: true, change_key, has_flag: false }
}
fn me() -> EmailAddress {
    EmailAddress { name: Some("Rob".into()), address: "rob@contoso.com".into() }
}
fn date() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-23T10:00:00Z").unwrap().to_utc()
}
fn rcpt(address: &str) -> Value {
    json!({"@odata.type": "#microsoft.graph.recipient", "emailAddress": {"name": "Zoë Ä", "address": address}})
}
fn full() -> Value {
    json!({
        "@odata.type": "#microsoft.graph.message", "subject": "Quarterly — résumé", "id": "ignored",
        "body": {"@odata.type": "#microsoft.graph.itemBody", "contentType": "HTML", "content": "<p>Hi <b>you</b></p>"},
        "from": rcpt("ann@contoso.com"), "toRecipients": [rcpt("a@x.test"), rcpt("b@x.test")],
        "ccRecipients": [rcpt("c@x.test")], "bccRecipients": [rcpt("d@x.test"), rcpt("A@x.test")],
        "replyTo": [rcpt("r@x.test")], "importance": "High", "isReadReceiptRequested": true,
        "isDeliveryReceiptRequested": true, "categories": ["Röd category", "Blue"],
        "internetMessageHeaders": [{"name": "x-custom-id", "value": "42 ü"}], "isDraft": false
    })
}
fn header_lines(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n").next().unwrap().split("\r\n").map(str::to_string).collect()
}

#[test]
fn round_trip_input_mime_json_keeps_every_field() {
    let input = parse_input(&full()).unwrap();
    let raw = build_mime_draft(&input, &me(), "id1@contoso.com", date());
    let j = to_json(&raw, &meta(), BodyType::Html);
    let r = |a: &str| json!({"emailAddress": {"name": "Zoë Ä", "address": a}});
    let expected = json!({
        "subject": "Quarterly — résumé", "body": {"contentType": "html", "content": "<p>Hi <b>you</b></p>"},
        "bodyPreview": "Hi you", "from": r("ann@contoso.com"), "sender": r("ann@contoso.com"),
        "toRecipients": [r("a@x.test"), r("b@x.test")], "ccRecipients": [r("c@x.test")], "replyTo": [r("r@x.test")],
        "bccRecipients": [r("d@x.test"), r("A@x.test")], "importance": "high", "categories": ["Röd category", "Blue"],
        "isReadReceiptRequested": true, "isDeliveryReceiptRequested": true, "sentDateTime": "2026-11-23T10:00:00Z",
        "receivedDateTime": "2026-11-23T10:00:05Z", "internetMessageId": "<id1@contoso.com>", "@odata.etag": "W/\"CQAA\"",
        "flag": {"flagStatus": "notFlagged"}, "isDraft": true, "isRead": true, "parentFolderId": "inbox"
    });
    for (k, v) in expected.as_object().unwrap() {
        assert_eq!(&j[k], v, "{k}");
    }
    let text = to_json(&raw, &meta(), BodyType::Text);
    assert_eq!(text["body"], json!({"contentType": "text", "content": "Hi you\n"}));
    // PATCH path: the stored draft reads back into the same input.
    let back = input_from_mime(&raw);
    assert_eq!(back, MessageInput { internet_message_id: Some("id1@contoso.com".into()), ..input.clone() });
    let mut merged = input;
    merge(&mut merged, parse_input(&json!({"subject": "New", "ccRecipients": []})).unwrap());
    assert_eq!((merged.subject.as_deref(), merged.cc_recipients.as_deref()), (Some("New"), Some(&[][..])));
    assert_eq!(merged.to_recipients.map(|t| t.len()), Some(2));
}

#[test]
fn send_mime_has_no_bcc_and_from_defaults_to_the_author() {
    let input = parse_input(&full()).unwrap();
    let raw = build_mime(&input, &me(), "id1@contoso.com", date());
    assert!(!header_lines(&raw).iter().any(|l| l.to_ascii_lowercase().starts_with("bcc:")));
    assert_eq!(envelope_recipients(&input), ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]);
    let raw = build_mime(&MessageInput::default(), &me(), "x@y", date());
    let j = to_json(&raw, &meta(), BodyType::Html);
    assert_eq!(j["from"]["emailAddress"]["address"], "rob@contoso.com");
    assert!(!header_lines(&raw).iter().any(|l| l.starts_with("Sender:")));
    assert_eq!(
        (&j["subject"], &j["importance"], &j["body"]["contentType"]),
        (&json!(""), &json!("normal"), &json!("text"))
    );
}

#[test]
fn unknown_property_is_refused_with_graphs_text() {
    let err = parse_input(&json!({"subject": "x", "sujet": "y"})).unwrap_err();
    assert_eq!((err.status, err.code), (400, "RequestBodyRead"));
    let text = "The property 'sujet' does not exist on type 'microsoft.graph.message'. Make sure to only use \
                property names that are defined by the type or mark the type as open type.";
    assert_eq!(err.message, text);
    assert!(parse_input(&json!({"toRecipients": [{"emailAddress": {"adress": "a@b"}}]})).is_err());
    let wrong = parse_input(&json!({"isRead": "yes"})).unwrap_err();
    assert!(wrong.code == "RequestBodyRead" && wrong.message.contains("'isRead'"));
    assert!(parse_input(&json!(["not", "an", "object"])).is_err());
    assert!(parse_input(&json!({"importance": "urgent"})).is_err());
}

#[test]
fn bad_addresses_names_and_headers_are_refused() {
    for bad in ["", "no-at", "a b@c.d", "a@", "@b", "a@b..c", "a@b\r\nBcc: x@y"] {
        let err = parse_input(&json!({"toRecipients": [rcpt(bad)]})).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), ("ErrorInvalidRecipients", "At least one recipient isn't valid."));
    }
    let name = json!({"from": {"emailAddress": {"name": "x\r\nBcc: e@v.il", "address": "a@b.c"}}});
    assert_eq!(parse_input(&name).unwrap_err().code, "ErrorInvalidRecipients");
    let header = json!({"internetMessageHeaders": [{"name": "Received", "value": "x"}]});
    assert_eq!(parse_input(&header).unwrap_err().code, "InvalidInternetMessageHeader");
    assert!(parse_input(&json!({"internetMessageHeaders": [{"name": "x-a", "value": "1\r\nBcc: e@v.il"}]})).is_err());
}

#[test]
fn crlf_in_subject_or_constructed_fields_cannot_add_a_header_line() {
    let mut input = parse_input(&json!({"subject": "Hi\r\nBcc: evil@x.test\r\n\r\nbody"})).unwrap();
    input.to_recipients = Some(vec![EmailAddress { name: Some("n\r\nX-Evil: 1".into()), address: "a@b\r\n.c".into() }]);
    let raw = build_mime(&input, &me(), "id\r\nX-Evil: 2", date());
    let lines = header_lines(&raw);
    assert!(!lines.iter().any(|l| l.starts_with("Bcc:") || l.starts_with("X-Evil:")), "{lines:?}");
    assert!(to_json(&raw, &meta(), BodyType::Text)["subject"].as_str().unwrap().starts_with("Hi  Bcc: evil"));
}

#[test]
fn a_thread_shares_its_conversation_id() {
    let root = conversation_id(b"Message-ID: <r@x>\r\nSubject: a\r\n\r\nhi\r\n");
    assert_eq!(root, conversation_id(b"Message-ID: <s@x>\r\nIn-Reply-To: <r@x>\r\n\r\nhi\r\n"));
    assert_eq!(root, conversation_id(b"Message-ID: <t@x>\r\nReferences: <r@x> <s@x>\r\nIn-Reply-To: <s@x>\r\n\r\n"));
    assert_ne!(root, conversation_id(b"Message-ID: <o@x>\r\n\r\nhi\r\n"));
}

const KEYS: &str = "subject body from toRecipients emailAddress address name importance categories \
    internetMessageHeaders contentType content flag flagStatus @odata.type internetMessageId attachments";

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z@. \r\n<>]{0,12}".prop_map(Value::from),
        Just(json!("a@b.c")),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop::sample::select(KEYS.split_whitespace().collect::<Vec<_>>());
        let object = prop::collection::vec((keys, inner.clone()), 0..5);
        let object = object.prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
        prop_oneof![prop::collection::vec(inner, 0..4).prop_map(Value::Array), object]
    })
}

proptest! {
    #[test]
    fn to_json_never_panics(raw in prop::collection::vec(any::<u8>(), 0..512), text in "(?s).{0,300}") {
        to_json(&raw, &meta(), BodyType::Html);
        to_json(text.as_bytes(), &meta(), BodyType::Text);
        input_from_mime(&raw);
        internet_message_headers_json(text.as_bytes());
    }

    #[test]
    fn parse_input_never_panics_and_accepted_input_builds(v in json_value()) {
        if let Ok(input) = parse_input(&v) {
            to_json(&build_mime_draft(&input, &me(), "id@x", date()), &meta(), BodyType::Html);
        }
    }
}
