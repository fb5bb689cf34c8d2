//! Graph message JSON ↔ MIME (spec ref. §4.1–§4.3): parsing a `message` request body, building the RFC 5322
//! bytes Deputy stores, and printing a stored message as Graph's `message` resource. Pure: no I/O.

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as BAddress;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_parser::{HeaderName, HeaderValue, MessageParser};
use serde_json::{Map, Value, json};

/// A mailbox: Graph's `emailAddress` (`{"name":…,"address":…}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress {
    /// The display name, if any.
    pub name: Option<String>,
    /// The SMTP address (`local@domain`).
    pub address: String,
}

/// Graph's `bodyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `text`: text/plain.
    Text,
    /// `html`: text/html.
    Html,
}

/// Graph's `itemBody`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemBody {
    /// Whether `content` is text or HTML.
    pub content_type: BodyType,
    /// The body itself.
    pub content: String,
}

/// Graph's `importance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    /// `low`.
    Low,
    /// `normal` (the default; writes no header).
    Normal,
    /// `high`.
    High,
}

/// One of Graph's `internetMessageHeaders` (always an `x-` header on input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetHeader {
    /// The header name, e.g. `x-custom`.
    pub name: String,
    /// The header value (one line).
    pub value: String,
}

/// The writable properties of a Graph `message`; `None` means "absent" so a PATCH can [`merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageInput {
    /// `subject`.
    pub subject: Option<String>,
    /// `body`.
    pub body: Option<ItemBody>,
    /// `from` (the author; the server checks Send As / Send on Behalf).
    pub from: Option<EmailAddress>,
    /// `sender` (Graph says not to set it; the server decides whether it is allowed).
    pub sender: Option<EmailAddress>,
    /// `toRecipients`.
    pub to_recipients: Option<Vec<EmailAddress>>,
    /// `ccRecipients`.
    pub cc_recipients: Option<Vec<EmailAddress>>,
    /// `bccRecipients`.
    pub bcc_recipients: Option<Vec<EmailAddress>>,
    /// `replyTo`.
    pub reply_to: Option<Vec<EmailAddress>>,
    /// `importance`.
    pub importance: Option<Importance>,
    /// `isRead` (kept in the entry's flags, not in the MIME).
    pub is_read: Option<bool>,
    /// `isReadReceiptRequested` (`Disposition-Notification-To:`).
    pub is_read_receipt_requested: Option<bool>,
    /// `isDeliveryReceiptRequested` (`Return-Receipt-To:`).
    pub is_delivery_receipt_requested: Option<bool>,
    /// `categories` (`Keywords:`).
    pub categories: Option<Vec<String>>,
    /// `internetMessageHeaders` (custom `x-` headers only).
    pub internet_message_headers: Option<Vec<InternetHeader>>,
    /// `internetMessageId`, without angle brackets.
    pub internet_message_id: Option<String>,
    /// `flag.flagStatus` as "flagged or not" (kept in the entry's `\Flagged`, not in the MIME).
    pub flagged: Option<bool>,
}

/// A request body Graph would refuse; the door turns it into `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct InputError {
    /// The HTTP status (400 for everything here).
    pub status: u16,
    /// Graph's error code.
    pub code: &'static str,
    /// Graph's error message.
    pub message: String,
}

impl InputError {
    fn body(message: String) -> Self {
        InputError { status: 400, code: "RequestBodyRead", message }
    }
    fn unknown(property: &str, ty: &str) -> Self {
        Self::body(format!(
            "The property '{property}' does not exist on type '{ty}'. Make sure to only use property names that are \
             defined by the type or mark the type as open type."
        ))
    }
    fn wrong_type(property: &str, expected: &str) -> Self {
        Self::body(format!("The property '{property}' has an invalid value: expected '{expected}'."))
    }
    fn invalid_recipients() -> Self {
        InputError { code: "ErrorInvalidRecipients", ..Self::body("At least one recipient isn't valid.".into()) }
    }
    fn header(message: String) -> Self {
        InputError { code: "InvalidInternetMessageHeader", ..Self::body(message) }
    }
}

/// Properties Graph computes; accepted and ignored on create and update.
const READ_ONLY: &str = "id createdDateTime receivedDateTime parentFolderId conversationId conversationIndex changeKey \
    isDraft hasAttachments bodyPreview uniqueBody webLink lastModifiedDateTime sentDateTime inferenceClassification";

/// Reads an enumeration member case-insensitively, with OData's error text otherwise.
fn literal<T: Copy>(s: &str, ty: &str, members: &[(&str, T)]) -> Result<T, InputError> {
    let found = members.iter().find(|(name, _)| name.eq_ignore_ascii_case(s)).map(|(_, v)| *v);
    found.ok_or_else(|| InputError::body(format!("Cannot convert the literal '{s}' to the expected type '{ty}'.")))
}

/// OData annotations (`@odata.type`, `foo@odata.type`) that Microsoft's SDKs send; never properties.
fn is_annotation(key: &str) -> bool {
    key.starts_with('@') || key.contains("@odata.")
}

/// Walks the members of a JSON object of Graph type `ty`, skipping annotations; `f` answers whether it knew one.
fn fields(
    prop: &str,
    ty: &str,
    v: &Value,
    mut f: impl FnMut(&str, &Value) -> Result<bool, InputError>,
) -> Result<(), InputError> {
    let obj = v.as_object().ok_or_else(|| InputError::wrong_type(prop, ty))?;
    for (k, v) in obj.iter().filter(|(k, _)| !is_annotation(k)) {
        if !f(&camel(k), v)? {
            return Err(InputError::unknown(k, ty));
        }
    }
    Ok(())
}

/// A property name as Graph spells it: Graph matches names regardless of the
/// first letter's case, and Microsoft's SDKs send action parameters in
/// PascalCase (`{"Message": …, "SaveToSentItems": …}`).
pub fn camel(k: &str) -> std::borrow::Cow<'_, str> {
    match k.chars().next() {
        Some(c) if c.is_ascii_uppercase() => format!("{}{}", c.to_ascii_lowercase(), &k[1..]).into(),
        _ => k.into(),
    }
}

fn string(property: &str, v: &Value) -> Result<Option<String>, InputError> {
    let s = v.as_str().map(|s| Some(s.to_string()));
    if v.is_null() { Ok(None) } else { s.ok_or_else(|| InputError::wrong_type(property, "Edm.String")) }
}

fn text(property: &str, v: &Value) -> Result<String, InputError> {
    string(property, v).map(Option::unwrap_or_default)
}

fn boolean(property: &str, v: &Value) -> Result<bool, InputError> {
    v.as_bool().ok_or_else(|| InputError::wrong_type(property, "Edm.Boolean"))
}

fn array<'a>(property: &str, v: &'a Value) -> Result<&'a [Value], InputError> {
    let a = v.as_array().map(Vec::as_slice).or(v.is_null().then_some(&[][..]));
    a.ok_or_else(|| InputError::wrong_type(property, "Collection"))
}

fn recipient(property: &str, v: &Value) -> Result<EmailAddress, InputError> {
    let mut out = EmailAddress { name: None, address: String::new() };
    fields(property, "microsoft.graph.recipient", v, |k, v| {
        if k == "emailAddress" && !v.is_null() {
            fields(k, "microsoft.graph.emailAddress", v, |k, v| {
                match k {
                    "name" => out.name = string(k, v)?,
                    "address" => out.address = text(k, v)?,
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
        }
        Ok(k == "emailAddress")
    })?;
    Ok(out)
}

fn recipients(property: &str, v: &Value) -> Result<Vec<EmailAddress>, InputError> {
    array(property, v)?.iter().map(|r| recipient(property, r)).collect()
}

fn item_body(v: &Value) -> Result<ItemBody, InputError> {
    let mut out = ItemBody { content_type: BodyType::Text, content: String::new() };
    let types = [("text", BodyType::Text), ("html", BodyType::Html)];
    if !v.is_null() {
        fields("body", "microsoft.graph.itemBody", v, |k, v| {
            match k {
                "content" => out.content = text(k, v)?,
                "contentType" => out.content_type = literal(&text(k, v)?, "microsoft.graph.bodyType", &types)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
    }
    Ok(out)
}

fn internet_headers(v: &Value) -> Result<Vec<InternetHeader>, InputError> {
    let mut out = Vec::new();
    for h in array("internetMessageHeaders", v)? {
        let mut header = InternetHeader { name: String::new(), value: String::new() };
        fields("internetMessageHeaders", "microsoft.graph.internetMessageHeader", h, |k, v| {
            match k {
                "name" => header.name = text(k, v)?,
                "value" => header.value = text(k, v)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        let name_ok = header.name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
        if !name_ok || !header.name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-")) || header.name.len() < 3 {
            let name = header.name.escape_debug();
            return Err(InputError::header(format!(
                "The internet message header name '{name}' should start with 'x-' or 'X-'."
            )));
        }
        if header.value.chars().any(|c| c == '\r' || c == '\n' || c == '\0') {
            let name = &header.name;
            return Err(InputError::header(format!("The value of the internet message header '{name}' is not valid.")));
        }
        out.push(header);
    }
    Ok(out)
}

/// Whether `address` is a plain `local@domain` mailbox that can go into a header and an envelope.
pub fn is_valid_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else { return false };
    let atom_ok = |s: &str| {
        !s.is_empty() && s.chars().all(|c| !c.is_control() && !c.is_whitespace() && !"<>()[],;:\\\"@".contains(c))
    };
    atom_ok(local) && atom_ok(domain) && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains("..")
}

fn valid_mailbox(a: &EmailAddress) -> bool {
    is_valid_address(&a.address) && a.name.as_deref().is_none_or(|n| !n.chars().any(char::is_control))
}

/// Parses a Graph `message` JSON object (a create body or a PATCH body).
pub fn parse_input(value: &Value) -> Result<MessageInput, InputError> {
    let mut m = MessageInput::default();
    if !value.is_object() {
        return Err(InputError::body("The request body must be a JSON object.".into()));
    }
    fields("message", "microsoft.graph.message", value, |k, v| {
        match k {
            "subject" => m.subject = Some(text(k, v)?),
            "body" => m.body = Some(item_body(v)?),
            "from" => m.from = if v.is_null() { None } else { Some(recipient(k, v)?) },
            "sender" => m.sender = if v.is_null() { None } else { Some(recipient(k, v)?) },
            "toRecipients" => m.to_recipients = Some(recipients(k, v)?),
            "ccRecipients" => m.cc_recipients = Some(recipients(k, v)?),
            "bccRecipients" => m.bcc_recipients = Some(recipients(k, v)?),
            "replyTo" => m.reply_to = Some(recipients(k, v)?),
            "importance" => {
                let s = string(k, v)?.ok_or_else(|| InputError::wrong_type(k, "microsoft.graph.importance"))?;
                m.importance = Some(literal(&s, "microsoft.graph.importance", &IMPORTANCE)?);
            }
            "isRead" => m.is_read = Some(boolean(k, v)?),
            "isReadReceiptRequested" => m.is_read_receipt_requested = Some(boolean(k, v)?),
            "isDeliveryReceiptRequested" => m.is_delivery_receipt_requested = Some(boolean(k, v)?),
            "categories" => m.categories = Some(array(k, v)?.iter().map(|c| text(k, c)).collect::<Result<_, _>>()?),
            "internetMessageHeaders" => m.internet_message_headers = Some(internet_headers(v)?),
            "internetMessageId" => {
                let id = text(k, v)?;
                let bare = id.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(&id);
                if bare.is_empty() || bare.chars().any(|c| c.is_control() || c.is_whitespace() || "<>".contains(c)) {
                    let id = id.escape_debug();
                    return Err(InputError::body(format!("The value '{id}' is not a valid internetMessageId.")));
                }
                m.internet_message_id = Some(bare.to_string());
            }
            // Only the status of a follow-up flag is kept (as `\Flagged`); its dates are ignored.
            "flag" => fields(k, "microsoft.graph.followupFlag", v, |k, v| {
                if k == "flagStatus" {
                    m.flagged = Some(text(k, v)?.eq_ignore_ascii_case("flagged"));
                }
                Ok(true)
            })?,
            "attachments" if array(k, v)?.is_empty() => {}
            "attachments" => {
                let message = "Attachments are not supported.".into();
                return Err(InputError { code: "notSupported", ..InputError::body(message) });
            }
            k if READ_ONLY.split_whitespace().any(|p| p == k) => {}
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    // Recipient validation comes after the whole body was read, as Graph reports body-read errors first.
    let lists = [&m.to_recipients, &m.cc_recipients, &m.bcc_recipients, &m.reply_to];
    let all = lists.into_iter().flatten().flatten().chain(m.from.iter()).chain(m.sender.iter());
    for a in all {
        if !valid_mailbox(a) {
            return Err(InputError::invalid_recipients());
        }
    }
    Ok(m)
}

/// Replaces every present field of `base` by the one in `patch` (a Graph PATCH).
pub fn merge(base: &mut MessageInput, patch: MessageInput) {
    macro_rules! take {
        ($($f:ident),*) => { $( if patch.$f.is_some() { base.$f = patch.$f; } )* };
    }
    take!(subject, body, from, sender, to_recipients, cc_recipients, bcc_recipients, reply_to, importance, is_read);
    take!(is_read_receipt_requested, is_delivery_receipt_requested, categories, internet_message_headers);
    take!(internet_message_id, flagged);
}

/// The envelope recipients of a send: To, Cc and Bcc, each address once (case-insensitively), in order.
pub fn envelope_recipients(input: &MessageInput) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let lists = [&input.to_recipients, &input.cc_recipients, &input.bcc_recipients];
    for a in lists.into_iter().flatten().flatten() {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&a.address)) {
            out.push(a.address.clone());
        }
    }
    out
}

/// Header text with every control character (CR and LF included) replaced by a space: no field can add a line.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// An address as it may appear between `<…>`: control characters, spaces and angle brackets removed.
fn clean_addr(s: &str) -> String {
    s.chars().filter(|c| !c.is_control() && !c.is_whitespace() && !"<>".contains(*c)).collect()
}

fn mailbox(a: &EmailAddress) -> BAddress<'static> {
    let name = a.name.as_deref().map(clean).filter(|n| !n.trim().is_empty());
    BAddress::new_address(name, clean_addr(&a.address))
}

fn mailboxes(list: &[EmailAddress]) -> BAddress<'static> {
    BAddress::new_list(list.iter().map(mailbox).collect())
}

/// Builds the RFC 5322 message to submit: like [`build_mime_draft`] but without a `Bcc:` field (the caller puts
/// the Bcc addresses, see [`envelope_recipients`], in the envelope only).
pub fn build_mime(input: &MessageInput, author: &EmailAddress, message_id: &str, date: DateTime<Utc>) -> Vec<u8> {
    build(input, author, message_id, date, false)
}

/// Builds the RFC 5322 message of a draft, with a `Bcc:` field so the Bcc recipients survive until it is sent.
pub fn build_mime_draft(input: &MessageInput, author: &EmailAddress, message_id: &str, date: DateTime<Utc>) -> Vec<u8> {
    build(input, author, message_id, date, true)
}

fn build(input: &MessageInput, author: &EmailAddress, message_id: &str, date: DateTime<Utc>, bcc: bool) -> Vec<u8> {
    let from = input.from.as_ref().unwrap_or(author);
    let mut b = MessageBuilder::new().from(mailbox(from));
    if let Some(sender) = &input.sender {
        b = b.sender(mailbox(sender));
    }
    let lists = [(&input.to_recipients, "To"), (&input.cc_recipients, "Cc"), (&input.reply_to, "Reply-To")];
    let bcc_list = [(&input.bcc_recipients, "Bcc")];
    let lists = lists.iter().chain(bcc_list.iter().filter(|_| bcc));
    for (list, name) in lists {
        if let Some(list) = list.as_deref().filter(|l| !l.is_empty()) {
            b = b.header(*name, mailboxes(list));
        }
    }
    b = b.subject(Text::new(clean(input.subject.as_deref().unwrap_or_default())));
    b = b.date(Date::new(date.timestamp())).message_id(clean_addr(message_id));
    match input.importance {
        Some(Importance::High) => b = b.header("Importance", Raw::new("high")).header("X-Priority", Raw::new("1")),
        Some(Importance::Low) => b = b.header("Importance", Raw::new("low")).header("X-Priority", Raw::new("5")),
        _ => {}
    }
    if input.is_read_receipt_requested == Some(true) {
        b = b.header("Disposition-Notification-To", mailbox(from));
    }
    if input.is_delivery_receipt_requested == Some(true) {
        b = b.header("Return-Receipt-To", mailbox(from));
    }
    if let Some(cats) = input.categories.as_deref().filter(|c| !c.is_empty()) {
        // Each category is its own phrase (encoded alone when not ASCII) so the comma list reads back item by item.
        let b64 = |c: &str| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, c);
        let word = |c: String| if c.is_ascii() { c } else { format!("=?utf-8?B?{}?=", b64(&c)) };
        let joined = cats.iter().map(|c| word(clean(c).replace(',', " "))).collect::<Vec<_>>().join(", ");
        b = b.header("Keywords", Raw::new(joined));
    }
    for h in input.internet_message_headers.iter().flatten() {
        let name: String = h.name.chars().filter(|c| c.is_ascii_graphic() && *c != ':').collect();
        if name.len() > 2 && name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-")) {
            b = b.header(name, Text::new(clean(&h.value)));
        }
    }
    b = match &input.body {
        Some(ItemBody { content_type: BodyType::Html, content }) => b.html_body(content.clone()),
        Some(ItemBody { content_type: BodyType::Text, content }) => b.text_body(content.clone()),
        None => b.text_body(""),
    };
    let mut out = Vec::new();
    b.serialize(&mut out);
    out
}

fn parse(raw: &[u8]) -> Option<mail_parser::Message<'_>> {
    MessageParser::default().parse(raw)
}

fn addresses(v: Option<&mail_parser::Address<'_>>) -> Vec<EmailAddress> {
    let Some(v) = v else { return Vec::new() };
    v.iter()
        .filter_map(|a| {
            let address = a.address.as_deref()?.to_string();
            Some(EmailAddress { name: a.name.as_deref().map(str::to_string).filter(|n| !n.is_empty()), address })
        })
        .collect()
}

fn header_text<'a>(m: &'a mail_parser::Message<'_>, name: &str) -> Option<&'a str> {
    m.headers().iter().find(|h| h.name().eq_ignore_ascii_case(name)).and_then(|h| h.value().as_text()).map(str::trim)
}

const IMPORTANCE: [(&str, Importance); 3] =
    [("low", Importance::Low), ("normal", Importance::Normal), ("high", Importance::High)];

fn importance_of(m: &mail_parser::Message<'_>) -> Importance {
    let named = header_text(m, "Importance").and_then(|v| literal(v, "", &IMPORTANCE).ok());
    named.unwrap_or(match header_text(m, "X-Priority").and_then(|p| p.chars().next()) {
        Some('1' | '2') => Importance::High,
        Some('4' | '5') => Importance::Low,
        _ => Importance::Normal,
    })
}

fn categories_of(m: &mail_parser::Message<'_>) -> Vec<String> {
    let lists = m.header_values(HeaderName::Keywords).filter_map(|v| match v {
        HeaderValue::TextList(l) => Some(l.as_slice()),
        HeaderValue::Text(s) => Some(std::slice::from_ref(s)),
        _ => None,
    });
    lists.flatten().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect()
}

/// The custom `x-` headers of a stored draft (less `X-Priority`, which stands for `importance`), decoded.
fn custom_headers(m: &mail_parser::Message<'_>) -> Vec<InternetHeader> {
    let customs = m.headers().iter().filter(|h| {
        let n = h.name();
        n.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-")) && !n.eq_ignore_ascii_case("x-priority")
    });
    customs
        .map(|h| {
            let raw = h.value().as_text().unwrap_or_default();
            // Non-ASCII values were written RFC 2047-encoded; reading them as a Subject decodes them.
            let probe = format!("Subject: {raw}\r\n\r\n");
            let decoded = parse(probe.as_bytes()).and_then(|p| p.subject().map(str::to_string));
            InternetHeader { name: h.name().to_string(), value: decoded.unwrap_or_else(|| raw.trim().to_string()) }
        })
        .collect()
}

fn body_of(m: &mail_parser::Message<'_>, prefer: BodyType) -> ItemBody {
    let html = m.html_part(0).is_some_and(|p| p.is_text_html());
    if prefer == BodyType::Html && html {
        return ItemBody { content_type: BodyType::Html, content: m.body_html(0).unwrap_or_default().into_owned() };
    }
    ItemBody { content_type: BodyType::Text, content: m.body_text(0).unwrap_or_default().into_owned() }
}

/// Reads a stored draft back into the input that would rebuild it (to apply a PATCH, then [`build_mime_draft`]).
pub fn input_from_mime(raw: &[u8]) -> MessageInput {
    let Some(m) = parse(raw) else { return MessageInput::default() };
    let some = |v: Vec<EmailAddress>| if v.is_empty() { None } else { Some(v) };
    let importance = importance_of(&m);
    let categories = categories_of(&m);
    let headers = custom_headers(&m);
    MessageInput {
        subject: Some(m.subject().unwrap_or_default().to_string()),
        body: Some(body_of(&m, BodyType::Html)),
        from: addresses(m.from()).into_iter().next(),
        sender: addresses(m.sender()).into_iter().next(),
        to_recipients: some(addresses(m.to())),
        cc_recipients: some(addresses(m.cc())),
        bcc_recipients: some(addresses(m.bcc())),
        reply_to: some(addresses(m.reply_to())),
        importance: (importance != Importance::Normal).then_some(importance),
        is_read: None,
        is_read_receipt_requested: m.header("Disposition-Notification-To").map(|_| true),
        is_delivery_receipt_requested: m.header("Return-Receipt-To").map(|_| true),
        categories: if categories.is_empty() { None } else { Some(categories) },
        internet_message_headers: if headers.is_empty() { None } else { Some(headers) },
        internet_message_id: m.message_id().map(str::to_string),
        flagged: None,
    }
}

/// What the store knows about an entry besides its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMeta {
    /// The Graph id of the message.
    pub id: String,
    /// The Graph id of its folder.
    pub parent_folder_id: String,
    /// When it arrived in the folder (the entry's internal date).
    pub received: DateTime<Utc>,
    /// `\Seen`.
    pub is_read: bool,
    /// Whether it is a draft (`\Draft` or in Drafts).
    pub is_draft: bool,
    /// The change key (also the etag).
    pub change_key: String,
    /// `\Flagged`.
    pub has_flag: bool,
}

/// A date as Graph prints it: RFC 3339, UTC, `Z`, whole seconds.
pub fn graph_date(d: DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn recipient_json(a: &EmailAddress) -> Value {
    json!({"emailAddress": {"name": a.name.clone().unwrap_or_else(|| a.address.clone()), "address": a.address}})
}

fn recipients_json(list: &[EmailAddress]) -> Value {
    Value::Array(list.iter().map(recipient_json).collect())
}

/// 128 bits of FNV-1a (two lanes), stable across builds and platforms, unlike `std`'s hasher.
fn stable_hash(data: &[u8]) -> [u8; 16] {
    let fnv = |seed: u64| data.iter().fold(seed, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64 | u128::from(fnv(0x6c62_272e_07bb_0142))).to_be_bytes()
}

/// The thread's root Message-ID: the first of `References:`, else `In-Reply-To:`, else the message's own.
fn conversation_root(m: &mail_parser::Message<'_>) -> Option<String> {
    let first = |v: &HeaderValue<'_>| match v {
        HeaderValue::Text(s) => Some(s.to_string()),
        HeaderValue::TextList(l) => l.first().map(|s| s.to_string()),
        _ => None,
    };
    first(m.references()).or_else(|| first(m.in_reply_to())).or_else(|| m.message_id().map(str::to_string))
}

/// The `conversationId` of a message: the same for every message of one thread.
pub fn conversation_id(raw: &[u8]) -> String {
    use base64::Engine as _;
    let root = parse(raw).and_then(|m| conversation_root(&m)).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(stable_hash(root.to_ascii_lowercase().as_bytes()))
}

fn preview(body: &ItemBody) -> String {
    let text = match body.content_type {
        BodyType::Html => mail_parser::decoders::html::html_to_text(&body.content),
        BodyType::Text => body.content.clone(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(255).collect()
}

/// Prints a stored message as Graph's `message` resource (best effort on malformed MIME; never panics).
pub fn to_json(raw: &[u8], meta: &ItemMeta, prefer: BodyType) -> Map<String, Value> {
    let parsed = parse(raw);
    let m = parsed.as_ref();
    let list = |f: for<'a, 'b> fn(&'a mail_parser::Message<'b>) -> Option<&'a mail_parser::Address<'b>>| {
        m.map(|m| addresses(f(m))).unwrap_or_default()
    };
    let from = list(|m| m.from()).into_iter().next();
    let sender = list(|m| m.sender()).into_iter().next().or_else(|| from.clone());
    let sent = m.and_then(|m| m.date()).and_then(|d| DateTime::from_timestamp(d.to_timestamp(), 0));
    let body =
        m.map(|m| body_of(m, prefer)).unwrap_or(ItemBody { content_type: BodyType::Text, content: String::new() });
    let preview_body = match (prefer, m) {
        (BodyType::Html, Some(m)) => body_of(m, BodyType::Text),
        _ => body.clone(),
    };
    let importance = m.map_or(Importance::Normal, importance_of);
    let importance = IMPORTANCE.iter().find(|(_, i)| *i == importance).map_or("normal", |(name, _)| *name);
    let (received, flag) = (graph_date(meta.received), if meta.has_flag { "flagged" } else { "notFlagged" });
    let body_type = if body.content_type == BodyType::Html { "html" } else { "text" };
    let header = |name: &str| m.is_some_and(|m| m.header(name).is_some());
    let one = |a: Option<EmailAddress>| a.as_ref().map_or(Value::Null, recipient_json);
    let out = json!({
        "@odata.etag": format!("W/\"{}\"", meta.change_key), "id": meta.id, "createdDateTime": received,
        "lastModifiedDateTime": received, "changeKey": meta.change_key, "categories": m.map(categories_of).unwrap_or_default(),
        "receivedDateTime": received, "sentDateTime": graph_date(sent.unwrap_or(meta.received)),
        "hasAttachments": m.is_some_and(|m| m.attachment_count() > 0),
        "internetMessageId": m.and_then(|m| m.message_id()).map(|id| format!("<{id}>")),
        "subject": m.and_then(|m| m.subject()).unwrap_or_default(), "bodyPreview": preview(&preview_body),
        "importance": importance, "parentFolderId": meta.parent_folder_id, "conversationId": conversation_id(raw),
        "isDeliveryReceiptRequested": header("Return-Receipt-To"),
        "isReadReceiptRequested": header("Disposition-Notification-To"), "isRead": meta.is_read, "isDraft": meta.is_draft,
        "webLink": null, "inferenceClassification": "focused", "body": {"contentType": body_type, "content": body.content},
        "sender": one(sender), "from": one(from), "toRecipients": recipients_json(&list(|m| m.to())),
        "ccRecipients": recipients_json(&list(|m| m.cc())), "bccRecipients": recipients_json(&list(|m| m.bcc())),
        "replyTo": recipients_json(&list(|m| m.reply_to())), "flag": {"flagStatus": flag},
    });
    if let Value::Object(o) = out { o } else { Map::new() }
}

/// Graph's `internetMessageHeaders` of a stored message (every header field, decoded where mail-parser can);
/// Graph returns it only when `$select`ed, so [`to_json`] leaves it out.
pub fn internet_message_headers_json(raw: &[u8]) -> Value {
    let Some(m) = parse(raw) else { return json!([]) };
    let headers = m.headers_raw().map(|(name, value)| {
        let unfolded = value.split_whitespace().collect::<Vec<_>>().join(" ");
        json!({"name": name, "value": unfolded})
    });
    Value::Array(headers.collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "message_tests.rs"]
mod tests;
