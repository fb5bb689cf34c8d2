//! Graph's `patternedRecurrence` to and from an RRULE (RFC 5545 §3.3.10):
//! daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly and
//! relativeYearly patterns with noEnd, endDate and numbered ranges.
//!
//! A relative pattern ("the second Tuesday", "the last weekday") is written
//! `BYDAY=2TU` for one day and `BYDAY=MO,TU,…;BYSETPOS=n` for several (what
//! Outlook writes); both forms are read back.

use chrono::{Datelike, NaiveDate};
use deputy_calendar::{DateTimeValue, Frequency, RecurrenceRule};
use serde_json::{Value, json};

use crate::error::GraphError;

const DAYS: [(&str, &str); 7] = [
    ("SU", "sunday"),
    ("MO", "monday"),
    ("TU", "tuesday"),
    ("WE", "wednesday"),
    ("TH", "thursday"),
    ("FR", "friday"),
    ("SA", "saturday"),
];

/// Graph's `weekIndex` and the BYDAY/BYSETPOS ordinal each stands for.
const INDEXES: [(&str, i8); 5] = [("first", 1), ("second", 2), ("third", 3), ("fourth", 4), ("last", -1)];

fn bad(property: &str, why: impl std::fmt::Display) -> GraphError {
    GraphError::bad_request(format!("Invalid value for property '{property}': {why}"))
}

/// The parts of an RRULE, names upper-cased.
fn rule_parts(raw: &str) -> Vec<(String, String)> {
    raw.split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().to_owned()))
        .collect()
}

/// A BYDAY item split into its ordinal (0 when none) and day name.
fn by_day(item: &str) -> Option<(i8, &'static str)> {
    let item = item.trim();
    let split = item.find(|c: char| c.is_ascii_alphabetic())?;
    let (ordinal, code) = item.split_at(split);
    let ordinal = match ordinal {
        "" => 0,
        n => n.trim_start_matches('+').parse().ok()?,
    };
    let name = DAYS.iter().find(|(c, _)| c.eq_ignore_ascii_case(code)).map(|(_, n)| *n)?;
    Some((ordinal, name))
}

/// Graph's `recurrence` of a series master.
pub(crate) fn to_json(rule: &RecurrenceRule, start: Option<&DateTimeValue>) -> Value {
    let parts = rule_parts(&rule.raw);
    let get = |k: &str| parts.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let interval: u32 = get("INTERVAL").and_then(|v| v.parse().ok()).unwrap_or(1);
    let byday: Vec<(i8, &str)> = get("BYDAY").map(|v| v.split(',').filter_map(by_day).collect()).unwrap_or_default();
    let days: Vec<&str> = byday.iter().map(|(_, d)| *d).collect();
    let setpos: Option<i8> = get("BYSETPOS").and_then(|v| v.parse().ok());
    // `2TU` carries the ordinal in BYDAY, `TU;BYSETPOS=2` beside it.
    let ordinal = byday.iter().map(|(n, _)| *n).find(|n| *n != 0).or(setpos);
    let index = ordinal.and_then(|n| INDEXES.iter().find(|(_, i)| *i == n)).map_or("first", |(name, _)| *name);
    let relative = ordinal.is_some() && !days.is_empty();
    let kind = match (rule.freq, relative) {
        (Frequency::Weekly, _) => "weekly",
        (Frequency::Monthly, true) => "relativeMonthly",
        (Frequency::Monthly, false) => "absoluteMonthly",
        (Frequency::Yearly, true) => "relativeYearly",
        (Frequency::Yearly, false) => "absoluteYearly",
        // Graph has nothing finer than daily.
        _ => "daily",
    };
    let start_date = start.map(|s| s.naive().date());
    let day_of_month: u32 =
        get("BYMONTHDAY").and_then(|v| v.parse().ok()).or_else(|| start_date.map(|d| d.day())).unwrap_or(0);
    let month: u32 = get("BYMONTH").and_then(|v| v.parse().ok()).or_else(|| start_date.map(|d| d.month())).unwrap_or(0);
    let first_day = get("WKST").and_then(by_day).map_or("sunday", |(_, d)| d);
    let (range_type, end_date, count) = match (&rule.until, rule.count) {
        (Some(until), _) => ("endDate", Some(until.naive().date().to_string()), 0),
        (None, Some(n)) => ("numbered", None, n),
        (None, None) => ("noEnd", None, 0),
    };
    json!({
        "pattern": {
            "type": kind,
            "interval": interval,
            "month": if kind.ends_with("Yearly") { month } else { 0 },
            "dayOfMonth": if kind.starts_with("absolute") { day_of_month } else { 0 },
            "daysOfWeek": days,
            "firstDayOfWeek": first_day,
            "index": index,
        },
        "range": {
            "type": range_type,
            "startDate": start_date.map(|d| d.to_string()),
            "endDate": end_date.unwrap_or_else(|| "0001-01-01".into()),
            "recurrenceTimeZone": match start { Some(DateTimeValue::Zoned { tzid, .. }) => tzid.as_str(), _ => "UTC" },
            "numberOfOccurrences": count,
        }
    })
}

/// `pattern.daysOfWeek` as BYDAY codes; `required` for the patterns that
/// mean nothing without them.
fn days_of_week(pattern: &Value, required: bool) -> Result<Vec<&'static str>, GraphError> {
    const PROPERTY: &str = "recurrence.pattern.daysOfWeek";
    let days = match &pattern["daysOfWeek"] {
        Value::Null => Vec::new(),
        Value::Array(items) => items.iter().collect(),
        _ => return Err(bad(PROPERTY, "an array of day names is expected")),
    };
    let mut codes = Vec::new();
    for d in days {
        let name = d.as_str().unwrap_or_default();
        let code = DAYS.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(c, _)| *c);
        let code = code.ok_or_else(|| bad(PROPERTY, format!("'{name}' is not a day of the week")))?;
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    if required && codes.is_empty() {
        return Err(bad(PROPERTY, "at least one day is required for this pattern type"));
    }
    Ok(codes)
}

/// BYDAY (and BYSETPOS) of a relative pattern: `index` (default `first`,
/// as Graph's) picks the day within the month.
fn relative_days(pattern: &Value) -> Result<String, GraphError> {
    let days = days_of_week(pattern, true)?;
    let name = match &pattern["index"] {
        Value::Null => "first",
        Value::String(s) => s.as_str(),
        _ => return Err(bad("recurrence.pattern.index", "a string is expected")),
    };
    let ordinal = INDEXES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, i)| *i);
    let ordinal = ordinal.ok_or_else(|| {
        bad("recurrence.pattern.index", format!("'{name}' is not one of first, second, third, fourth, last"))
    })?;
    Ok(match days.as_slice() {
        [one] => format!("BYDAY={ordinal}{one}"),
        several => format!("BYDAY={};BYSETPOS={ordinal}", several.join(",")),
    })
}

/// `pattern.month` (1–12), required by the relative yearly pattern.
fn month(pattern: &Value) -> Result<u64, GraphError> {
    pattern["month"]
        .as_u64()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| bad("recurrence.pattern.month", "a month 1 to 12 is required for this pattern type"))
}

/// A Graph `patternedRecurrence` as an RRULE; `null` removes it.
pub(crate) fn parse(value: &Value) -> Result<Option<RecurrenceRule>, GraphError> {
    if value.is_null() {
        return Ok(None);
    }
    let pattern = &value["pattern"];
    let interval = match &pattern["interval"] {
        Value::Null => 1,
        v => v
            .as_u64()
            .filter(|i| (1..=999).contains(i))
            .ok_or_else(|| bad("recurrence.pattern.interval", "a whole number 1 to 999 is expected"))?,
    };
    let mut rule = match pattern["type"].as_str().unwrap_or_default() {
        "daily" => format!("FREQ=DAILY;INTERVAL={interval}"),
        "weekly" => {
            let days = days_of_week(pattern, false)?;
            let by = if days.is_empty() { String::new() } else { format!(";BYDAY={}", days.join(",")) };
            format!("FREQ=WEEKLY;INTERVAL={interval}{by}")
        }
        "absoluteMonthly" => match pattern["dayOfMonth"].as_u64().filter(|d| (1..=31).contains(d)) {
            Some(d) => format!("FREQ=MONTHLY;INTERVAL={interval};BYMONTHDAY={d}"),
            None => format!("FREQ=MONTHLY;INTERVAL={interval}"),
        },
        "relativeMonthly" => format!("FREQ=MONTHLY;INTERVAL={interval};{}", relative_days(pattern)?),
        "absoluteYearly" => format!("FREQ=YEARLY;INTERVAL={interval}"),
        "relativeYearly" => {
            let month = month(pattern)?;
            format!("FREQ=YEARLY;INTERVAL={interval};BYMONTH={month};{}", relative_days(pattern)?)
        }
        other => {
            return Err(bad(
                "recurrence.pattern.type",
                format!(
                    "'{other}' is not one of daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly, relativeYearly"
                ),
            ));
        }
    };
    let range = &value["range"];
    match range["type"].as_str().unwrap_or("noEnd") {
        "noEnd" => {}
        "numbered" => {
            let n = range["numberOfOccurrences"].as_u64().filter(|n| (1..=999).contains(n));
            let n = n.ok_or_else(|| bad("recurrence.range.numberOfOccurrences", "a whole number 1 to 999"))?;
            rule.push_str(&format!(";COUNT={n}"));
        }
        "endDate" => {
            let d = range["endDate"].as_str().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let d = d.ok_or_else(|| bad("recurrence.range.endDate", "a date YYYY-MM-DD is expected"))?;
            rule.push_str(&format!(";UNTIL={}T235959Z", d.format("%Y%m%d")));
        }
        other => return Err(bad("recurrence.range.type", format!("'{other}' is not one of noEnd, endDate, numbered"))),
    }
    RecurrenceRule::parse(&rule).map(Some).map_err(|e| bad("recurrence", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(pattern: Value) -> (String, Value) {
        let value = json!({"pattern": pattern, "range": {"type": "numbered", "numberOfOccurrences": 3}});
        let rule = parse(&value).ok().flatten().map(|r| r.raw).unwrap_or_default();
        let back = RecurrenceRule::parse(&rule).map(|r| to_json(&r, None)).unwrap_or_default();
        (rule, back["pattern"].clone())
    }

    #[test]
    fn relative_patterns_are_written_as_outlook_writes_them_and_read_back() {
        let (rule, back) = round_trip(json!({"type": "relativeMonthly", "daysOfWeek": ["tuesday"], "index": "second"}));
        assert_eq!(rule, "FREQ=MONTHLY;INTERVAL=1;BYDAY=2TU;COUNT=3");
        assert_eq!((back["type"].clone(), back["index"].clone()), (json!("relativeMonthly"), json!("second")));
        assert_eq!(back["daysOfWeek"], json!(["tuesday"]));
        let (rule, back) = round_trip(json!({"type": "relativeMonthly", "interval": 2,
            "daysOfWeek": ["monday", "friday"], "index": "last"}));
        assert_eq!(rule, "FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,FR;BYSETPOS=-1;COUNT=3");
        assert_eq!(back["daysOfWeek"], json!(["monday", "friday"]));
        assert_eq!((back["index"].clone(), back["interval"].clone()), (json!("last"), json!(2)));
        let (rule, back) = round_trip(json!({"type": "relativeYearly", "month": 11,
            "daysOfWeek": ["thursday"], "index": "fourth"}));
        assert_eq!(rule, "FREQ=YEARLY;INTERVAL=1;BYMONTH=11;BYDAY=4TH;COUNT=3");
        assert_eq!((back["type"].clone(), back["month"].clone()), (json!("relativeYearly"), json!(11)));
        assert_eq!(back["index"], "fourth");
    }

    #[test]
    fn the_bysetpos_form_reads_like_the_ordinal_form() {
        let rule = RecurrenceRule::parse("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2").map(|r| to_json(&r, None));
        let pattern = rule.map(|j| j["pattern"].clone()).unwrap_or_default();
        assert_eq!(pattern["type"], "relativeMonthly");
        assert_eq!(pattern["index"], "second");
        assert_eq!(pattern["daysOfWeek"], json!(["tuesday"]));
    }

    #[test]
    fn invalid_patterns_name_the_property_at_fault() {
        for (pattern, property) in [
            (json!({"type": "relativeMonthly"}), "recurrence.pattern.daysOfWeek"),
            (json!({"type": "relativeMonthly", "daysOfWeek": ["funday"]}), "recurrence.pattern.daysOfWeek"),
            (
                json!({"type": "relativeMonthly", "daysOfWeek": ["monday"], "index": "fifth"}),
                "recurrence.pattern.index",
            ),
            (json!({"type": "relativeYearly", "daysOfWeek": ["monday"], "month": 13}), "recurrence.pattern.month"),
            (json!({"type": "hourly"}), "recurrence.pattern.type"),
            (json!({"type": "daily", "interval": 0}), "recurrence.pattern.interval"),
        ] {
            let err = parse(&json!({"pattern": pattern, "range": {"type": "noEnd"}})).err();
            let message = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(property), "{pattern}: {message}");
        }
    }
}
