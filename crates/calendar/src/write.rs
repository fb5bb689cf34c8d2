//! From the model back to RFC 5545 text: known properties in a fixed order,
//! then everything kept, so parse → write → parse gives the same model.

use crate::model::{Attendee, Calendar, Event, Organizer, to_uri};
use crate::syntax::{Component, Param, Property};
use crate::value::format_duration;

impl Calendar {
    /// The calendar as RFC 5545 text (CRLF line ends, folded lines).
    pub fn to_ics(&self) -> String {
        let mut out = String::new();
        self.to_component().write(&mut out);
        out
    }

    /// The calendar as a component tree.
    pub fn to_component(&self) -> Component {
        let mut root = Component::new("VCALENDAR");
        // Written only when known: a calendar read without one stays so
        // (every calendar Deputy builds has one, see `Calendar::new`).
        if let Some(prodid) = &self.prodid {
            root.properties.push(Property::text("PRODID", prodid));
        }
        root.properties.push(Property::new("VERSION", "2.0"));
        if let Some(method) = self.method {
            root.properties.push(Property::new("METHOD", method.as_str()));
        }
        root.properties.extend(self.extra.iter().cloned());
        root.children.extend(self.timezones.iter().cloned());
        root.children.extend(self.events.iter().map(Event::to_component));
        root.children.extend(self.components.iter().cloned());
        root
    }
}

impl Event {
    /// The event as a `VEVENT` component.
    pub fn to_component(&self) -> Component {
        let mut c = Component::new("VEVENT");
        let p = &mut c.properties;
        p.push(Property::text("UID", &self.uid));
        if let Some(rid) = &self.recurrence_id {
            let mut property = rid.value.to_property("RECURRENCE-ID");
            if rid.this_and_future {
                property = property.with_param("RANGE", "THISANDFUTURE");
            }
            p.push(property);
        }
        if self.sequence != 0 {
            p.push(Property::new("SEQUENCE", self.sequence.to_string()));
        }
        if let Some(stamp) = self.dtstamp {
            p.push(Property::new("DTSTAMP", stamp.format("%Y%m%dT%H%M%SZ").to_string()));
        }
        if let Some(start) = &self.start {
            p.push(start.to_property("DTSTART"));
        }
        if let Some(end) = &self.end {
            p.push(end.to_property("DTEND"));
        }
        if let Some(duration) = self.duration {
            p.push(Property::new("DURATION", format_duration(duration)));
        }
        if let Some(rule) = &self.rrule {
            p.push(Property::new("RRULE", rule.raw.clone()));
        }
        // One property per value keeps each value's own TZID and VALUE.
        p.extend(self.rdates.iter().map(|d| d.to_property("RDATE")));
        p.extend(self.exdates.iter().map(|d| d.to_property("EXDATE")));
        for (name, text) in
            [("SUMMARY", &self.summary), ("DESCRIPTION", &self.description), ("LOCATION", &self.location)]
        {
            if let Some(text) = text {
                p.push(Property::text(name, text));
            }
        }
        if let Some(organizer) = &self.organizer {
            p.push(organizer_property(organizer));
        }
        p.extend(self.attendees.iter().map(attendee_property));
        if let Some(class) = &self.class {
            p.push(Property::new("CLASS", class.as_str()));
        }
        if let Some(transp) = self.transparency {
            p.push(Property::new("TRANSP", transp.as_str()));
        }
        if let Some(status) = self.status {
            p.push(Property::new("STATUS", status.as_str()));
        }
        p.extend(self.extra.iter().cloned());
        c.children.extend(self.components.iter().cloned());
        c
    }
}

fn organizer_property(organizer: &Organizer) -> Property {
    let mut property = Property::new("ORGANIZER", to_uri(&organizer.address));
    if let Some(cn) = &organizer.cn {
        property.params.push(Param::new("CN", cn.clone()));
    }
    if let Some(sent_by) = &organizer.sent_by {
        property.params.push(Param::new("SENT-BY", to_uri(sent_by)));
    }
    property.params.extend(organizer.params.iter().cloned());
    property
}

fn attendee_property(attendee: &Attendee) -> Property {
    let mut property = Property::new("ATTENDEE", to_uri(&attendee.address));
    let params = &mut property.params;
    if let Some(cutype) = &attendee.cutype {
        params.push(Param::new("CUTYPE", cutype.as_str()));
    }
    if let Some(role) = &attendee.role {
        params.push(Param::new("ROLE", role.as_str()));
    }
    if let Some(partstat) = &attendee.partstat {
        params.push(Param::new("PARTSTAT", partstat.as_str()));
    }
    if attendee.rsvp {
        params.push(Param::new("RSVP", "TRUE"));
    }
    if let Some(cn) = &attendee.cn {
        params.push(Param::new("CN", cn.clone()));
    }
    if let Some(sent_by) = &attendee.sent_by {
        params.push(Param::new("SENT-BY", to_uri(sent_by)));
    }
    params.extend(attendee.params.iter().cloned());
    property
}
