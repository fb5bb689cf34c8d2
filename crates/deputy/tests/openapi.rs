//! The Graph door's API surface is the checked-in `crates/graph/openapi.json`
//! (the dropshot/omicron habit): the server serves it byte for byte, it is
//! well-formed OpenAPI 3.0 whose every `$ref` resolves, it describes every
//! route the door accepts, and every route listed here is one the running
//! door really answers.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::collections::BTreeSet;

use serde_json::Value;
use support::graph::{agent, user_token};
use support::{Server, TempDir, init};

/// The checked-in document.
const DOCUMENT: &str = include_str!("../../graph/openapi.json");

/// Routes of the Graph door other than those under a mailbox: (method, path template).
const ROOT_ROUTES: &[(&str, &str)] = &[
    ("POST", "/{tenant}/oauth2/v2.0/token"),
    ("GET", "/{tenant}/discovery/v2.0/keys"),
    ("GET", "/{tenant}/v2.0/.well-known/openid-configuration"),
    ("GET", "/openapi.json"),
];

/// Routes below `/v1.0/me` and `/v1.0/users/{user-id}` (crates/graph/src/path.rs and mail.rs's dispatch).
const MAILBOX_ROUTES: &[(&str, &str)] = &[
    ("GET", ""),
    ("POST", "/sendMail"),
    ("GET", "/messages"),
    ("POST", "/messages"),
    ("GET", "/messages/{message-id}"),
    ("PATCH", "/messages/{message-id}"),
    ("DELETE", "/messages/{message-id}"),
    ("GET", "/messages/{message-id}/$value"),
    ("POST", "/messages/{message-id}/send"),
    ("POST", "/messages/{message-id}/move"),
    ("POST", "/messages/{message-id}/copy"),
    ("POST", "/messages/{message-id}/permanentDelete"),
    ("GET", "/mailFolders"),
    ("GET", "/mailFolders/{mailFolder-id}"),
    ("GET", "/mailFolders/{mailFolder-id}/childFolders"),
    ("GET", "/mailFolders/{mailFolder-id}/messages"),
    ("POST", "/mailFolders/{mailFolder-id}/messages"),
    ("GET", "/mailFolders/{mailFolder-id}/messages/{message-id}"),
    ("PATCH", "/mailFolders/{mailFolder-id}/messages/{message-id}"),
    ("DELETE", "/mailFolders/{mailFolder-id}/messages/{message-id}"),
    ("GET", "/mailFolders/{mailFolder-id}/messages/{message-id}/$value"),
    ("POST", "/mailFolders/{mailFolder-id}/messages/{message-id}/send"),
    ("POST", "/mailFolders/{mailFolder-id}/messages/{message-id}/move"),
    ("POST", "/mailFolders/{mailFolder-id}/messages/{message-id}/copy"),
    ("POST", "/mailFolders/{mailFolder-id}/messages/{message-id}/permanentDelete"),
    ("GET", "/delegatedMailboxes"),
    ("GET", "/events"),
    ("POST", "/events"),
    ("GET", "/events/{event-id}"),
    ("PATCH", "/events/{event-id}"),
    ("DELETE", "/events/{event-id}"),
    ("GET", "/events/{event-id}/instances"),
    ("POST", "/events/{event-id}/accept"),
    ("POST", "/events/{event-id}/decline"),
    ("POST", "/events/{event-id}/tentativelyAccept"),
    ("GET", "/calendarView"),
    ("GET", "/calendar/events"),
    ("POST", "/calendar/events"),
    ("GET", "/calendar/events/{event-id}"),
    ("PATCH", "/calendar/events/{event-id}"),
    ("DELETE", "/calendar/events/{event-id}"),
    ("GET", "/calendar/events/{event-id}/instances"),
    ("POST", "/calendar/events/{event-id}/accept"),
    ("POST", "/calendar/events/{event-id}/decline"),
    ("POST", "/calendar/events/{event-id}/tentativelyAccept"),
    ("GET", "/calendar/calendarView"),
    ("POST", "/calendar/getSchedule"),
    ("GET", "/calendar"),
    ("GET", "/calendars"),
    ("POST", "/calendars"),
    ("GET", "/calendars/{calendar-id}"),
    ("PATCH", "/calendars/{calendar-id}"),
    ("DELETE", "/calendars/{calendar-id}"),
    ("GET", "/calendars/{calendar-id}/events"),
    ("POST", "/calendars/{calendar-id}/events"),
    ("GET", "/calendars/{calendar-id}/events/{event-id}"),
    ("PATCH", "/calendars/{calendar-id}/events/{event-id}"),
    ("DELETE", "/calendars/{calendar-id}/events/{event-id}"),
    ("GET", "/calendars/{calendar-id}/events/{event-id}/instances"),
    ("GET", "/calendars/{calendar-id}/calendarView"),
    ("GET", "/calendar/calendarPermissions"),
    ("POST", "/calendar/calendarPermissions"),
    ("GET", "/calendar/calendarPermissions/{calendarPermission-id}"),
    ("PATCH", "/calendar/calendarPermissions/{calendarPermission-id}"),
    ("DELETE", "/calendar/calendarPermissions/{calendarPermission-id}"),
    ("GET", "/mailboxSettings"),
    ("PATCH", "/mailboxSettings"),
    ("GET", "/delegates"),
    ("POST", "/delegates"),
    ("GET", "/delegates/{delegate-id}"),
    ("PATCH", "/delegates/{delegate-id}"),
    ("DELETE", "/delegates/{delegate-id}"),
];

/// Every route of the door: (method, path template).
fn routes() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = ROOT_ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    for subject in ["/v1.0/me", "/v1.0/users/{user-id}"] {
        all.extend(MAILBOX_ROUTES.iter().map(|(m, p)| ((*m).to_owned(), format!("{subject}{p}"))));
    }
    all
}

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("crates/graph/openapi.json is JSON")
}

/// Every `$ref` in `value`, with where it was found.
fn refs<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(target)) => out.push((at.to_owned(), target)),
                    _ => refs(v, &format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_document_is_openapi_3_whose_every_ref_resolves() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string(), "info needs title and version");
    let paths = doc["paths"].as_object().expect("paths is an object");
    assert!(!paths.is_empty());
    let mut operation_ids = BTreeSet::new();
    for (template, item) in paths {
        assert!(template.starts_with('/'), "path {template} must start with /");
        let placeholders: BTreeSet<&str> =
            template.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(name, _)| name)).collect();
        for (method, operation) in item.as_object().expect("a path item is an object") {
            if method == "parameters" {
                continue;
            }
            assert!(METHODS.contains(&method.as_str()), "{template}: unknown key {method}");
            let responses = operation["responses"].as_object().expect("every operation has responses");
            assert!(!responses.is_empty(), "{method} {template} has no response");
            let id = operation["operationId"].as_str().expect("every operation has an operationId");
            assert!(operation_ids.insert(id.to_owned()), "operationId {id} is used twice");
            // OpenAPI 3.0 §4.7.12: every template variable is a required path parameter.
            let declared: BTreeSet<&str> = [&item["parameters"], &operation["parameters"]]
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|p| {
                    let p = match p["$ref"].as_str() {
                        Some(r) => resolve(&doc, r).expect("parameter $ref resolves"),
                        None => p,
                    };
                    (p["in"] == "path").then(|| p["name"].as_str().expect("parameter name"))
                })
                .collect();
            assert_eq!(declared, placeholders, "{method} {template}: path parameters");
        }
    }
    let mut found = Vec::new();
    refs(&doc, "#", &mut found);
    assert!(!found.is_empty());
    for (at, target) in found {
        assert!(resolve(&doc, target).is_some(), "{at}: $ref {target} does not resolve");
    }
    for (name, scheme) in doc["components"]["securitySchemes"].as_object().expect("security schemes") {
        assert!(scheme["type"].is_string(), "security scheme {name} has no type");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

/// A local `$ref` (`#/a/b`, RFC 6901 escapes), or `None`.
fn resolve<'a>(doc: &'a Value, target: &str) -> Option<&'a Value> {
    let pointer = target.strip_prefix('#')?;
    doc.pointer(pointer)
}

#[test]
fn every_route_of_the_door_is_in_the_document_and_nothing_else() {
    let doc = document();
    let listed: BTreeSet<(String, String)> = routes().into_iter().collect();
    for (method, template) in &listed {
        let operation = &doc["paths"][template.as_str()][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {template} is not in crates/graph/openapi.json");
    }
    let mut described = BTreeSet::new();
    for (template, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys().filter(|k| *k != "parameters") {
            described.insert((method.to_uppercase(), template.clone()));
        }
    }
    let extra: Vec<_> = described.difference(&listed).collect();
    assert!(extra.is_empty(), "the document describes routes the door does not have: {extra:?}");
}

#[test]
fn the_server_serves_the_checked_in_document_and_answers_every_listed_route() {
    let dir = TempDir::new("openapi");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell("New-Mailbox -Name Mary -Alias mary -Password (ConvertTo-SecureString 'Str0ng!Passw0rd' -AsPlainText -Force)")
        .expect_ok();

    let mut response = agent().get(&format!("{}/openapi.json", server.url)).call().expect("GET /openapi.json");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    let served = response.body_mut().read_to_vec().expect("read the body");
    assert!(served == DOCUMENT.as_bytes(), "/openapi.json differs from crates/graph/openapi.json");

    // Each listed route, with its variables filled in, reaches a handler: not
    // the router's 404, not 405, not the door's "no such segment" 400. A
    // missing message answers 404 ErrorItemNotFound, which is a handler's answer.
    let token = user_token(&server, "mary@contoso.test", "Str0ng!Passw0rd", "Mail.ReadWrite Mail.Send");
    for (method, template) in routes() {
        let path = template
            .replace("{tenant}", "contoso.test")
            .replace("{user-id}", "mary@contoso.test")
            .replace("{mailFolder-id}", "inbox")
            .replace("{message-id}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .replace("{event-id}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .replace("{calendar-id}", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .replace("{calendarPermission-id}", "RGVmYXVsdA")
            .replace("{delegate-id}", "00000000-0000-0000-0000-000000000000")
            .replace('$', "%24");
        let url = format!("{}{path}", server.url);
        let auth = format!("Bearer {token}");
        let a = agent();
        let result = match method.as_str() {
            "GET" => a.get(&url).header("Authorization", &auth).call(),
            "DELETE" => a.delete(&url).header("Authorization", &auth).call(),
            "POST" => a.post(&url).header("Authorization", &auth).header("Content-Type", "application/json").send("{}"),
            "PATCH" => {
                a.patch(&url).header("Authorization", &auth).header("Content-Type", "application/json").send("{}")
            }
            other => panic!("no client for {other}"),
        };
        let mut response = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        let unknown_segment = status == 400 && body.contains("Resource not found for the segment");
        let unrouted = status == 404 && !template.starts_with("/v1.0/");
        assert!(status != 405 && !unknown_segment && !unrouted, "{method} {path} is not a route: {status} {body}");
    }
}
