//! The page frame, the sign-in page and error pages.

use crate::{Admin, Flash};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// An HTML response.
pub(crate) fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], markup.into_string()).into_response()
}

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " - Exchange admin center" }
            link rel="stylesheet" href="/ecp/ecp.css";
            script src="/ecp/ecp.js" defer {}
        }
    }
}

/// The admin center's features, as in its left pane.
const FEATURES: [(&str, &str, &str); 3] = [
    ("recipients", "/ecp/recipients", "Recipients"),
    ("access", "/ecp/access", "Who can do what"),
    ("audit", "/ecp/audit", "Audit log"),
];

/// A page for a signed-in administrator in the Recipients feature.
pub(crate) fn page(admin: &Admin, title: &str, flash: Option<Flash>, content: Markup) -> Markup {
    page_in("recipients", admin, title, flash, content)
}

/// A page for a signed-in administrator: skip link, header with sign-out,
/// navigation (`feature` marked current), content.
pub(crate) fn page_in(feature: &str, admin: &Admin, title: &str, flash: Option<Flash>, content: Markup) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to main content" }
                header.top {
                    a.brand href="/ecp/recipients" { "Exchange admin center" }
                    span.who { (admin.caller) }
                    form.signout method="post" action="/ecp/signout" {
                        (csrf(admin))
                        button type="submit" { "Sign out" }
                    }
                }
                nav.features aria-label="Features" {
                    @for (key, href, label) in FEATURES {
                        @if key == feature {
                            a href=(href) aria-current="page" { (label) }
                        } @else {
                            a href=(href) { (label) }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    @if let Some(f) = flash { (flash_box(&f)) }
                    (content)
                }
            }
        }
    }
}

/// The hidden CSRF field every form of a signed-in page carries.
pub(crate) fn csrf(admin: &Admin) -> Markup {
    html! { input type="hidden" name="csrf" value=(admin.csrf); }
}

fn flash_box(flash: &Flash) -> Markup {
    let (class, role, text) = match flash {
        Flash::Done(t) => ("flash done", "status", t),
        Flash::Warning(t) => ("flash warning", "status", t),
        Flash::Error(t) => ("flash error", "alert", t),
    };
    html! { div class=(class) role=(role) { (text) } }
}

/// The sign-in form; `token` is the pre-session CSRF token also set as a cookie.
pub(crate) fn sign_in_page(token: &str, error: Option<&str>, status: StatusCode) -> Response {
    respond(
        status,
        html! {
            html lang="en" {
                (head("Sign in"))
                body.signin {
                    main #main {
                        h1 { "Exchange admin center" }
                        p { "Sign in with an administrator account." }
                        @if let Some(e) = error { div.flash.error role="alert" { (e) } }
                        form method="post" action="/ecp/signin" {
                            input type="hidden" name="csrf" value=(token);
                            label for="username" { "User name" }
                            input #username name="username" type="text" autocomplete="username" required autofocus;
                            label for="password" { "Password" }
                            input #password name="password" type="password" autocomplete="current-password" required;
                            button type="submit" { "Sign in" }
                        }
                    }
                }
            }
        },
    )
}

/// A page explaining a refusal or an error, with a way back.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    respond(
        status,
        html! {
            html lang="en" {
                (head(title))
                body.signin {
                    main #main {
                        h1 { (title) }
                        div.flash.error role="alert" { (message) }
                        p { a href="/ecp/recipients" { "Back to Recipients" } " · " a href="/ecp/signin" { "Sign in with a different account" } " · " a href="/ecp/" { "Exchange admin center" } }
                    }
                }
            }
        },
    )
}
