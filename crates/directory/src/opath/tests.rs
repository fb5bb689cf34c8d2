//! OPATH parser and evaluator tests (spec §6).

use super::*;
use chrono::{TimeZone, Utc};
use deputy_types::{EmailAddress, Recipient, RecipientId, RecipientType};
use proptest::prelude::*;

fn mary() -> Recipient {
    let created = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut r = Recipient::new(RecipientId::from_u128(1), RecipientType::UserMailbox, "Mary Smith", "mary", created);
    r.display_name = "Mary Smith (Sales)".into();
    r.primary_smtp = Some(EmailAddress::parse("Mary.Smith@contoso.test").unwrap());
    r.proxy_addresses = vec![EmailAddress::parse("mary@sales.contoso.test").unwrap()];
    r.upn = Some("mary@contoso.test".into());
    r.set_attribute("Department", "Sales");
    r.set_attribute("City", "Seattle");
    r.set_attribute("CustomAttribute7", "VIP");
    r
}

fn m(filter: &str) -> bool {
    parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&mary(), &NoMemberships)
}

/// A context where Mary is in one group.
struct InSales;
impl FilterContext for InSales {
    fn member_of_dns(&self, _: &Recipient) -> Vec<String> {
        vec!["CN=Sales Team,CN=Users,DC=contoso,DC=test".into()]
    }
}

#[test]
fn eq_and_ne_ignore_case_of_names_operators_and_values() {
    // spec §6: Department -eq 'Sales'
    assert!(m("Department -eq 'Sales'"));
    assert!(m("department -EQ 'sALES'"));
    assert!(!m("Department -eq 'Sale'"));
    assert!(m("Department -ne 'Marketing'"));
    assert!(!m("Department -ne 'sales'"));
    assert!(m("City -eq \"Seattle\""));
    assert!(m("Department -eq Sales"), "bare word value");
}

#[test]
fn like_and_notlike_use_star_wildcards() {
    assert!(m("Name -like 'Mary*'"));
    assert!(m("Name -like '*smith'"));
    assert!(m("DisplayName -like '*(Sales)*'"));
    assert!(!m("Name -like 'Rob*'"));
    assert!(m("Name -notlike 'Rob*'"));
    assert!(!m("Name -notlike 'mary*'"));
}

#[test]
fn eq_null_means_empty() {
    assert!(m("Company -eq $null"));
    assert!(!m("Department -eq $null"));
    assert!(m("Department -ne $null"));
    assert!(m("Company -eq ''"));
    assert!(!m("Company -like '*'"), "-like '*' requires a value");
}

#[test]
fn recipient_type_compares_the_coarse_type_and_details_the_fine_one() {
    assert!(m("RecipientType -eq 'UserMailbox'"));
    assert!(m("RecipientTypeDetails -eq 'UserMailbox'"));
    let mut shared = mary();
    shared.kind = RecipientType::SharedMailbox;
    let ctx = NoMemberships;
    assert!(parse("RecipientType -eq 'UserMailbox'").unwrap().matches(&shared, &ctx));
    assert!(!parse("RecipientTypeDetails -eq 'UserMailbox'").unwrap().matches(&shared, &ctx));
    assert!(parse("RecipientTypeDetails -eq 'sharedmailbox'").unwrap().matches(&shared, &ctx));
}

#[test]
fn email_addresses_match_any_address_with_or_without_smtp_prefix() {
    assert!(m("EmailAddresses -eq 'mary@sales.contoso.test'"));
    assert!(m("EmailAddresses -eq 'MARY.SMITH@contoso.test'"));
    assert!(m("EmailAddresses -eq 'smtp:mary@sales.contoso.test'"));
    assert!(m("EmailAddresses -like 'SMTP:*@sales.contoso.test'"));
    assert!(!m("PrimarySmtpAddress -like '*@sales.contoso.test'"));
    assert!(m("PrimarySmtpAddress -eq 'mary.smith@contoso.test'"));
    assert!(m("UserPrincipalName -eq 'Mary@Contoso.test'"));
}

#[test]
fn booleans_compare_with_true_false_and_their_texts() {
    assert!(m("HiddenFromAddressListsEnabled -eq $false"));
    assert!(!m("HiddenFromAddressListsEnabled -eq $true"));
    assert!(m("HiddenFromAddressListsEnabled -ne 'True'"));
    assert_eq!(
        parse("HiddenFromAddressListsEnabled -eq 'yes'"),
        Err(FilterError::NotABoolean { property: "HiddenFromAddressListsEnabled", value: "yes".into(), position: 35 })
    );
}

#[test]
fn custom_attributes_one_to_fifteen_are_filterable() {
    assert!(m("CustomAttribute7 -eq 'vip'"));
    for n in 1..=15 {
        assert!(parse(&format!("CustomAttribute{n} -eq $null")).is_ok(), "CustomAttribute{n}");
    }
    assert!(matches!(parse("CustomAttribute16 -eq 'x'"), Err(FilterError::UnknownProperty { .. })));
}

#[test]
fn member_of_group_asks_the_context_for_direct_groups() {
    let f = parse("MemberOfGroup -eq 'cn=sales team,cn=users,dc=contoso,dc=test'").unwrap();
    assert!(f.matches(&mary(), &InSales));
    assert!(!f.matches(&mary(), &NoMemberships));
    assert!(parse("MemberOfGroup -eq $null").unwrap().matches(&mary(), &NoMemberships));
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    // -not a -and b  ==  (-not a) -and b
    assert!(!m("-not Department -eq 'Sales' -and City -eq 'Seattle'"));
    assert!(m("-not Department -eq 'Marketing' -and City -eq 'Seattle'"));
    // a -or b -and c  ==  a -or (b -and c)
    assert!(m("Department -eq 'Sales' -or City -eq 'Paris' -and Company -eq 'X'"));
    assert!(!m("(Department -eq 'Sales' -or City -eq 'Paris') -and Company -eq 'X'"));
    // -not (a -or b)
    assert!(!m("-not (Department -eq 'Marketing' -or City -eq 'Seattle')"));
    assert!(m("-not(-not(Department -eq 'Sales'))"));
    assert_eq!(
        parse("a -eq 1 -or b -eq 2 -and c -eq 3").map_err(|e| e.to_string()),
        Err("'a' at position 1 is not a filterable property; use one of: ".to_owned() + &super::valid_properties())
    );
    let tree = parse("Name -eq 1 -or Alias -eq 2 -and -not City -eq 3").unwrap();
    let Filter::Or(items) = tree else { panic!("top is not -or") };
    assert!(matches!(&items[1], Filter::And(and) if matches!(and[1], Filter::Not(_))));
}

#[test]
fn and_or_chains_are_flat_and_parentheses_keep_groups() {
    let flat = parse("Name -eq 1 -and Alias -eq 2 -and City -eq 3").unwrap();
    assert!(matches!(&flat, Filter::And(v) if v.len() == 3));
    let grouped = parse("(Name -eq 1 -and Alias -eq 2) -and City -eq 3").unwrap();
    assert!(matches!(&grouped, Filter::And(v) if v.len() == 2 && matches!(v[0], Filter::And(_))));
}

#[test]
fn script_block_braces_are_accepted() {
    assert!(m("{Department -eq 'Sales'}"));
    assert!(matches!(parse("{Department -eq 'Sales'"), Err(FilterError::Expected { .. })));
}

#[test]
fn doubled_quotes_stand_for_one_quote() {
    let mut r = mary();
    r.set_attribute("Company", "O'Brien \"Ltd\"");
    assert!(parse("Company -eq 'O''Brien \"Ltd\"'").unwrap().matches(&r, &NoMemberships));
    assert!(parse("Company -eq \"O'Brien \"\"Ltd\"\"\"").unwrap().matches(&r, &NoMemberships));
}

#[test]
fn errors_name_the_property_operator_or_position() {
    assert_eq!(parse("Colour -eq 'red'"), Err(FilterError::UnknownProperty { name: "Colour".into(), position: 1 }));
    assert_eq!(parse("Name -gt 'a'"), Err(FilterError::UnknownOperator { op: "gt".into(), position: 6 }));
    assert_eq!(
        parse("Name -eq 'a' -xor Alias -eq 'b'"),
        Err(FilterError::UnknownOperator { op: "xor".into(), position: 14 })
    );
    assert_eq!(parse("(Name -eq 'a'"), Err(FilterError::UnclosedParenthesis { position: 1 }));
    assert_eq!(parse("Name -eq 'a')"), Err(FilterError::UnmatchedParenthesis { position: 13 }));
    assert_eq!(parse("Name -eq 'a"), Err(FilterError::UnterminatedQuote { position: 10 }));
    assert_eq!(parse("Name -eq $maybe"), Err(FilterError::UnknownVariable { name: "maybe".into(), position: 10 }));
    assert_eq!(parse("   "), Err(FilterError::Empty));
    assert!(matches!(parse("Name -eq"), Err(FilterError::Expected { position: 9, .. })));
    assert!(matches!(parse("Name 'x'"), Err(FilterError::Expected { position: 6, .. })));
    assert!(matches!(parse("-and"), Err(FilterError::Expected { position: 1, .. })));
    assert!(matches!(parse("Name -eq 'a' Alias"), Err(FilterError::Expected { position: 14, .. })));
    assert!(matches!(parse("Name - 'a'"), Err(FilterError::Expected { position: 7, .. })));
}

#[test]
fn error_messages_tell_what_to_do() {
    let e = parse("Name -gt 'a'").unwrap_err().to_string();
    assert!(e.contains("'-gt'") && e.contains("-eq, -ne, -like, -notlike"), "{e}");
    let e = parse("(Name -eq 'a'").unwrap_err().to_string();
    assert!(e.contains("position 1") && e.contains("add a ')'"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!("{}Name -eq 'a'{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(parse(&deep), Err(FilterError::TooDeep { .. })));
    let nots = format!("{}Name -eq 'a'", "-not ".repeat(10_000));
    assert!(matches!(parse(&nots), Err(FilterError::TooDeep { .. })));
    let ok = format!("{}Name -eq 'a'{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(parse(&ok).is_ok());
}

#[test]
fn long_flat_chains_parse_and_evaluate() {
    let chain = vec!["Name -eq 'x'"; 20_000].join(" -or ") + " -or Department -eq 'Sales'";
    assert!(m(&chain));
}

#[test]
fn display_prints_canonical_text() {
    let f = parse("department -EQ sales -and -not (city -like 'sea*' -or HiddenFromAddressListsEnabled -eq 'TRUE')")
        .unwrap();
    assert_eq!(
        f.to_string(),
        "Department -eq 'sales' -and -not (City -like 'sea*' -or HiddenFromAddressListsEnabled -eq $true)"
    );
}

fn text_property() -> impl Strategy<Value = Property> {
    prop::sample::select(Property::all().filter(|p| !p.is_bool()).collect::<Vec<_>>())
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(vec![CompareOp::Eq, CompareOp::Ne, CompareOp::Like, CompareOp::NotLike])
}

fn comparison() -> impl Strategy<Value = Filter> {
    let text = (
        text_property(),
        op(),
        prop_oneof!["\\PC{0,12}".prop_map(Value::Text), any::<bool>().prop_map(Value::Bool), Just(Value::Null),],
    );
    let boolean = (op(), prop_oneof![any::<bool>().prop_map(Value::Bool), Just(Value::Null)])
        .prop_map(|(op, value)| (Property::HiddenFromAddressListsEnabled, op, value));
    prop_oneof![text, boolean].prop_map(|(property, op, value)| Filter::Compare(Comparison { property, op, value }))
}

fn filter() -> impl Strategy<Value = Filter> {
    comparison().prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            prop::collection::vec(inner, 2..4).prop_map(Filter::Or),
        ]
    })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_filter_like_text(
        parts in prop::collection::vec(prop_oneof![
            Just("("), Just(")"), Just("-and"), Just("-or"), Just("-not"), Just("-eq"), Just("-like"),
            Just("Name"), Just("'a*'"), Just("\""), Just("'"), Just("$null"), Just("{"), Just("}"), Just("-"),
        ], 0..40)
    ) {
        let _ = parse(&parts.join(" "));
    }

    #[test]
    fn printing_then_parsing_gives_the_same_filter(f in filter()) {
        let text = f.to_string();
        prop_assert_eq!(parse(&text), Ok(f), "{}", text);
    }

    #[test]
    fn like_without_a_star_is_eq_and_both_ignore_case(department in "[a-zA-Z ]{0,6}", value in "[a-zA-Z ]{0,6}") {
        // spec §6: comparisons ignore case; `*` is the only wildcard; '' means empty.
        let mut r = mary();
        r.set_attribute("Department", &department);
        let quoted = Value::Text(value.clone()).to_string();
        let eq = parse(&format!("Department -eq {quoted}")).unwrap().matches(&r, &NoMemberships);
        let like = parse(&format!("Department -like {quoted}")).unwrap().matches(&r, &NoMemberships);
        let ne = parse(&format!("Department -ne {quoted}")).unwrap().matches(&r, &NoMemberships);
        prop_assert_eq!(eq, department.to_lowercase() == value.to_lowercase());
        prop_assert_eq!(like, eq);
        prop_assert_eq!(ne, !eq);
    }
}
