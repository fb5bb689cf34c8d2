//! Sections and structures of a nested multipart message.

use super::*;
use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};

const MAIL: &[u8] = b"From: mary@contoso.test\r\nSubject: report\r\nX-Long: one\r\n two\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n\
--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\nworld\r\n\
--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: rob@contoso.test\r\nSubject: inner\r\n\
Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n\
--b2\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>inner</p>\r\n--b2--\r\n\
\r\n--b1\r\nContent-Type: application/pdf; name=r.pdf\r\nContent-Disposition: attachment; filename=r.pdf\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b1--\r\n";

fn section_of(spec: &str) -> Option<Section<'static>> {
    let line = format!("a FETCH 1 BODY[{spec}]\r\n");
    let (_, cmd) = CommandCodec::default().decode(line.as_bytes()).ok()?;
    let CommandBody::Fetch { macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(items), .. } =
        cmd.body
    else {
        return None;
    };
    match items.into_iter().next()? {
        MessageDataItemName::BodyExt { section, .. } => section.map(imap_codec::imap_types::IntoStatic::into_static),
        _ => None,
    }
}

fn text(spec: &str) -> String {
    let s = section_of(spec).unwrap_or_else(|| panic!("{spec} parses"));
    String::from_utf8(section(MAIL, &s).unwrap_or_else(|| panic!("{spec} exists"))).unwrap_or_default()
}

#[test]
fn header_sections() {
    assert!(text("HEADER").starts_with("From: mary@contoso.test\r\n") && text("HEADER").ends_with("\r\n\r\n"));
    assert_eq!(text("HEADER.FIELDS (SUBJECT x-long)"), "Subject: report\r\nX-Long: one\r\n two\r\n\r\n");
    let not = text("HEADER.FIELDS.NOT (Subject X-Long MIME-Version Content-Type)");
    assert_eq!(not, "From: mary@contoso.test\r\n\r\n");
}

#[test]
fn numbered_parts_and_nested_messages() {
    assert_eq!(text("1"), "Hello\r\nworld");
    assert_eq!(text("1.MIME"), "Content-Type: text/plain; charset=utf-8\r\n\r\n");
    assert_eq!(text("2.HEADER.FIELDS (Subject)"), "Subject: inner\r\n\r\n");
    assert_eq!(text("2.1"), "inner text");
    assert_eq!(text("2.2"), "<p>inner</p>");
    assert!(text("2").starts_with("From: rob@contoso.test") && text("2.TEXT").starts_with("--b2"));
    assert_eq!(text("3"), "JVBERi0=");
    assert!(section(MAIL, &section_of("4").expect("parses")).is_none());
    assert!(section(MAIL, &section_of("1.2").expect("parses")).is_none());
    // A single-part message has a part 1: its body.
    let simple = b"Subject: s\r\n\r\nbody\r\n";
    assert_eq!(section(simple, &section_of("1").expect("parses")), Some(b"body\r\n".to_vec()));
    assert_eq!(section(simple, &section_of("TEXT").expect("parses")), Some(b"body\r\n".to_vec()));
}

#[test]
fn bodystructure_of_a_nested_multipart() {
    let mut out = Vec::new();
    body_structure(&mut out, MAIL, true);
    let s = String::from_utf8(out).unwrap_or_default();
    assert!(
        s.starts_with(
            "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 12 2 NIL NIL NIL NIL)"
        ),
        "{s}"
    );
    assert!(s.contains("(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" "), "{s}");
    assert!(s.contains("\"ALTERNATIVE\" (\"BOUNDARY\" \"b2\") NIL NIL NIL)"), "{s}");
    assert!(
        s.contains("(\"TEXT\" \"HTML\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"QUOTED-PRINTABLE\" 12 1 NIL NIL NIL NIL)"),
        "{s}"
    );
    assert!(s.contains("(\"APPLICATION\" \"PDF\" (\"NAME\" \"r.pdf\") NIL NIL \"BASE64\" 8 NIL (\"ATTACHMENT\" (\"FILENAME\" \"r.pdf\")) NIL NIL)"), "{s}");
    assert!(s.ends_with(" \"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)"), "{s}");
    let mut out = Vec::new();
    body_structure(&mut out, b"Subject: s\r\n\r\nbody\r\n", false);
    assert_eq!(out, b"BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1)");
}

#[test]
fn section_names_echo_the_request() {
    let name = |spec: &str| section_name(section_of(spec).as_ref());
    assert_eq!(name("1.2.MIME"), "1.2.MIME");
    assert_eq!(name("HEADER.FIELDS (Subject \"From\" \"X Y\")"), "HEADER.FIELDS (Subject From \"X Y\")");
    assert_eq!(name("2.TEXT"), "2.TEXT");
    assert_eq!(section_name(None), "");
}

proptest::proptest! {
    /// Any octets, any section: an answer or `None`, never a panic.
    #[test]
    fn sections_and_structures_never_panic(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let mut mail = MAIL.to_vec();
        mail.extend_from_slice(&raw);
        for input in [&raw[..], &mail[..]] {
            for spec in ["1", "2.1", "2.MIME", "HEADER", "TEXT", "1.HEADER.FIELDS (Subject)", "3.2.1"] {
                let _ = section(input, &section_of(spec).expect("parses"));
            }
            body_structure(&mut Vec::new(), input, true);
        }
    }
}
