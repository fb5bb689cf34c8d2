//! REPORT: `CALDAV:calendar-query` (component, time-range and property
//! filters), `CALDAV:calendar-multiget` and `DAV:sync-collection`;
//! `CALDAV:free-busy-query` is the `freebusy` module's.
//!
//! `calendar-data` may ask for `expand` (the `expand` module). A time-range
//! is matched by bounded expansion ([`deputy_calendar::expand`]
//! stops any rule after a fixed number of steps), so an endless RRULE over a
//! wide window costs bounded work. Property filters see what the caller may
//! see (the projected event), so a filter never reveals a private subject.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use deputy_calendar::{Event, expand};
use deputy_core::calendar::StoredEvent;

use crate::expand;
use crate::objects::{self, NAME_PROP, resource_name, shown};
use crate::paths::{self, Cal, Target};
use crate::props::{self, Res, ctag, sync_token};
use crate::xml::{self, CALDAV, DAV, Node, Propfind, QName};
use crate::{Req, bad_xml, error, multistatus, plain};

fn unsupported() -> Response {
    error(StatusCode::FORBIDDEN, "<D:supported-report/>", "This report is not supported on this resource.")
}

/// What the report asks to be shown of each match.
fn wanted(root: &Node) -> Propfind {
    match root.child(DAV, "prop") {
        Some(p) => Propfind::Props(xml::prop_names(p)),
        None if root.child(DAV, "propname").is_some() => Propfind::PropName,
        None => Propfind::Props(vec![QName::new(DAV, "getetag"), QName::new(CALDAV, "calendar-data")]),
    }
}

pub(crate) async fn report(req: &Req, target: Target) -> Response {
    let root = match xml::parse(&req.body) {
        Ok(r) => r,
        Err(e) => return bad_xml(&e),
    };
    // Free/busy reads no events here: the core computes it.
    if root.is(CALDAV, "free-busy-query") {
        return crate::freebusy::query(req, &target, &root).await;
    }
    let cal = match &target {
        Target::Calendar(c) | Target::Object(c, _) => c.clone(),
        _ => return unsupported(),
    };
    let events = match objects::events(req, &cal).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let want = wanted(&root);
    let data = root.child(DAV, "prop").and_then(|p| p.child(CALDAV, "calendar-data"));
    let range = match data.map(expand::range).transpose() {
        Ok(r) => r.flatten(),
        Err(why) => return plain(StatusCode::BAD_REQUEST, &why),
    };
    // What one match shows: the stored series, or its instances in the range.
    let render = |cal: &Cal, ev: &StoredEvent| match range {
        Some((start, end)) => {
            let mut calendar = expand::expanded(&ev.calendar, start, end);
            // The href stays the series' own, even when no instance is left.
            calendar.extra.retain(|p| p.name != NAME_PROP);
            calendar.extra.push(deputy_calendar::Property::text(NAME_PROP, &resource_name(ev)));
            let instances = StoredEvent { entry: ev.entry.clone(), calendar };
            props::render(req, &Res::Object(cal, &instances), &want)
        }
        None => props::render(req, &Res::Object(cal, ev), &want),
    };
    let mut out = Vec::new();
    let mut trailer = String::new();
    if root.is(CALDAV, "calendar-query") {
        let filter = match root.child(CALDAV, "filter").map(Filter::read).transpose() {
            Ok(f) => f,
            Err(why) => return error(StatusCode::FORBIDDEN, "<C:valid-filter/>", &why),
        };
        let only = match &target {
            Target::Object(_, name) => Some(name.as_str()),
            _ => None,
        };
        for ev in &events {
            if only.is_some_and(|n| resource_name(ev) != n) {
                continue;
            }
            if filter.as_ref().is_none_or(|f| f.matches(ev, &cal)) {
                out.push(render(&cal, ev));
            }
        }
    } else if root.is(CALDAV, "calendar-multiget") {
        for h in xml::hrefs(&root) {
            let path = paths::href_path(&h);
            // An href names a resource of this calendar whatever segment
            // (id, name, the client's own) it uses; the answer echoes it.
            let found = match paths::resolve(&req.deputy, req.principal, path) {
                Some(Target::Object(c, name)) if c.folder == cal.folder => {
                    events.iter().find(|ev| resource_name(ev) == name).map(|ev| (c, ev))
                }
                _ => None,
            };
            match found {
                Some((c, ev)) => out.push(render(&c, ev)),
                None => out.push(xml::status_response(path, 404)),
            }
        }
    } else if root.is(DAV, "sync-collection") {
        // Deputy keeps no change history: the current token means "nothing
        // changed", no token means "everything", any other token is too old
        // and the client starts over (RFC 6578 §3.2).
        let token = sync_token(&ctag(&events));
        let given = root.child(DAV, "sync-token").map(|t| t.text.trim().to_owned()).unwrap_or_default();
        if !given.is_empty() && given != token {
            return error(StatusCode::FORBIDDEN, "<D:valid-sync-token/>", "The sync token is no longer valid.");
        }
        if given.is_empty() {
            out.extend(events.iter().map(|ev| render(&cal, ev)));
        }
        trailer = format!("<D:sync-token>{}</D:sync-token>", xml::esc(&token));
    } else {
        return unsupported();
    }
    multistatus(xml::multistatus(&out, &trailer))
}

/// A calendar-query filter, as far as VEVENT stores need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    /// False when the query asks for a component other than VEVENT.
    events: bool,
    /// `time-range` on the VEVENT.
    range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// `prop-filter`s on the VEVENT.
    props: Vec<PropFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PropFilter {
    name: String,
    /// `is-not-defined`.
    undefined: bool,
    /// `text-match` (lower-cased) and `negate-condition`.
    text: Option<(String, bool)>,
}

/// `20060104T000000Z`.
pub(crate) fn utc(text: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y%m%dT%H%M%SZ")
        .map(|t| Utc.from_utc_datetime(&t))
        .map_err(|_| format!("{text:?} is not a UTC date-time (e.g. 20060104T000000Z)"))
}

impl Filter {
    pub(crate) fn read(filter: &Node) -> Result<Self, String> {
        let vcal = filter.child(CALDAV, "comp-filter").ok_or("the filter has no comp-filter")?;
        if !vcal.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("VCALENDAR")) {
            return Err("the outer comp-filter must name VCALENDAR".into());
        }
        let mut out = Self { events: true, range: None, props: Vec::new() };
        let Some(inner) = vcal.child(CALDAV, "comp-filter") else { return Ok(out) };
        out.events = inner.attr("name").is_some_and(|n| n.eq_ignore_ascii_case("VEVENT"))
            && inner.child(CALDAV, "is-not-defined").is_none();
        if let Some(tr) = inner.child(CALDAV, "time-range") {
            let start = tr.attr("start").map(utc).transpose()?.unwrap_or(DateTime::<Utc>::MIN_UTC);
            let end = tr.attr("end").map(utc).transpose()?.unwrap_or(DateTime::<Utc>::MAX_UTC);
            if end <= start {
                return Err("the time-range ends before it starts".into());
            }
            out.range = Some((start, end));
        }
        for pf in inner.children_named(CALDAV, "prop-filter") {
            let name = pf.attr("name").ok_or("a prop-filter has no name")?.to_ascii_uppercase();
            let text = pf.child(CALDAV, "text-match").map(|t| {
                let negate = t.attr("negate-condition").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
                (t.text.to_lowercase(), negate)
            });
            out.props.push(PropFilter { name, undefined: pf.child(CALDAV, "is-not-defined").is_some(), text });
        }
        Ok(out)
    }

    fn matches(&self, ev: &StoredEvent, cal: &Cal) -> bool {
        if !self.events {
            return false;
        }
        if let Some((start, end)) = self.range {
            // Bounded: one instance is enough to match, and the expansion
            // itself stops after a fixed number of steps.
            let hit = expand(&ev.calendar, ev.uid(), start, end, 1).is_ok_and(|x| !x.occurrences.is_empty());
            if !hit {
                return false;
            }
        }
        if self.props.is_empty() {
            return true;
        }
        let seen = shown(&ev.calendar, &cal.access.viewer);
        seen.events.iter().any(|e| self.props.iter().all(|p| p.matches(e)))
    }
}

impl PropFilter {
    fn matches(&self, e: &Event) -> bool {
        let value: Option<String> = match self.name.as_str() {
            "UID" => Some(e.uid.clone()),
            "SUMMARY" => e.summary.clone(),
            "LOCATION" => e.location.clone(),
            "DESCRIPTION" => e.description.clone(),
            "CLASS" => e.class.as_ref().map(|c| c.as_str().to_owned()),
            "STATUS" => e.status.map(|s| s.as_str().to_owned()),
            other => e.extra.iter().find(|p| p.name == other).map(deputy_calendar::Property::text_value),
        };
        match (&value, self.undefined, &self.text) {
            (v, true, _) => v.is_none(),
            (None, false, _) => false,
            (Some(_), false, None) => true,
            (Some(v), false, Some((needle, negate))) => v.to_lowercase().contains(needle.as_str()) != *negate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_time_range_query() {
        let body = br#"<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR">
            <C:comp-filter name="VEVENT"><C:time-range start="20250101T000000Z" end="20350101T000000Z"/>
            <C:prop-filter name="uid"><C:text-match>Abc</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter></C:filter>"#;
        let f = Filter::read(&xml::parse(body).expect("xml")).expect("filter");
        assert!(f.events);
        assert_eq!(f.range.map(|r| r.0.to_rfc3339()), Some("2025-01-01T00:00:00+00:00".into()));
        assert_eq!(f.props[0].name, "UID");
        assert_eq!(f.props[0].text, Some(("abc".into(), false)));
    }

    #[test]
    fn refuses_bad_ranges() {
        let body = br#"<C:filter xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp-filter name="VCALENDAR">
            <C:comp-filter name="VEVENT"><C:time-range start="2025"/></C:comp-filter></C:comp-filter></C:filter>"#;
        assert!(Filter::read(&xml::parse(body).expect("xml")).is_err());
    }
}
