//! Typed values: DATE / DATE-TIME with their time zone form (RFC 5545
//! §3.3.4, §3.3.5), DURATION (§3.3.6) and the parts of RECUR (§3.3.10) that
//! Deputy decides on.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::Result;
use crate::syntax::Property;

/// A DATE or DATE-TIME value with its time zone form (RFC 5545 §3.3.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DateTimeValue {
    /// `VALUE=DATE`: an all-day date.
    Date(NaiveDate),
    /// Form 1: local time with no zone ("floating").
    Floating(NaiveDateTime),
    /// Form 2: UTC (`…Z`).
    Utc(DateTime<Utc>),
    /// Form 3: local time in the zone named by `TZID` (an IANA name, a
    /// Windows name, or the TZID of a VTIMEZONE in the same object).
    Zoned {
        /// Wall-clock time in the zone.
        local: NaiveDateTime,
        /// The `TZID` parameter.
        tzid: String,
    },
}

impl DateTimeValue {
    /// Reads the value of a DTSTART-like property (its `TZID` and `VALUE`
    /// parameters included).
    pub fn from_property(property: &Property) -> Result<Self> {
        let value = property.value.trim();
        Self::parse(value, property.param("TZID"), property.param("VALUE")).map_err(|reason| property.error(reason))
    }

    /// Reads a value; `tzid` and `value_type` are the property's parameters.
    pub fn parse(value: &str, tzid: Option<&str>, value_type: Option<&str>) -> Result<Self, String> {
        let is_date = value_type.is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8;
        if is_date {
            return parse_date(value).map(Self::Date).ok_or_else(|| format!("bad DATE {value:?}"));
        }
        let (body, utc) = match value.strip_suffix(['Z', 'z']) {
            Some(body) => (body, true),
            None => (value, false),
        };
        let (date, time) = body.split_once(['T', 't']).ok_or_else(|| format!("bad DATE-TIME {value:?}"))?;
        let date = parse_date(date).ok_or_else(|| format!("bad DATE-TIME {value:?}"))?;
        let time = parse_time(time).ok_or_else(|| format!("bad DATE-TIME {value:?}"))?;
        let local = date.and_time(time);
        Ok(match (utc, tzid) {
            (true, _) => Self::Utc(local.and_utc()),
            (false, Some(tzid)) if !tzid.is_empty() => Self::Zoned { local, tzid: tzid.to_owned() },
            (false, _) => Self::Floating(local),
        })
    }

    /// A property carrying this value with the matching `VALUE`/`TZID`.
    pub fn to_property(&self, name: &str) -> Property {
        match self {
            Self::Date(d) => Property::new(name, format_date(*d)).with_param("VALUE", "DATE"),
            Self::Floating(t) => Property::new(name, format_local(*t)),
            Self::Utc(t) => Property::new(name, format!("{}Z", format_local(t.naive_utc()))),
            Self::Zoned { local, tzid } => Property::new(name, format_local(*local)).with_param("TZID", tzid.clone()),
        }
    }

    /// The value in wire form, without parameters.
    pub fn wire(&self) -> String {
        self.to_property("X").value
    }

    /// True for an all-day date.
    pub fn is_date(&self) -> bool {
        matches!(self, Self::Date(_))
    }

    /// The wall-clock (or UTC) date-time, midnight for a date; the zone is
    /// not applied.
    pub fn naive(&self) -> NaiveDateTime {
        match self {
            Self::Date(d) => d.and_time(NaiveTime::MIN),
            Self::Floating(t) | Self::Zoned { local: t, .. } => *t,
            Self::Utc(t) => t.naive_utc(),
        }
    }

    /// The same form moved by `delta` on the wall clock (used to derive an
    /// instance's start from its RECURRENCE-ID).
    pub(crate) fn shifted(&self, delta: TimeDelta) -> Option<Self> {
        Some(match self {
            Self::Date(d) => Self::Date(d.checked_add_signed(delta)?),
            Self::Floating(t) => Self::Floating(t.checked_add_signed(delta)?),
            Self::Utc(t) => Self::Utc(t.checked_add_signed(delta)?),
            Self::Zoned { local, tzid } => Self::Zoned { local: local.checked_add_signed(delta)?, tzid: tzid.clone() },
        })
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = s.get(0..4)?.parse().ok()?;
    let month = s.get(4..6)?.parse().ok()?;
    let day = s.get(6..8)?.parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hour = s.get(0..2)?.parse().ok()?;
    let minute = s.get(2..4)?.parse().ok()?;
    // A leap second (60) is read as 59 (RFC 5545 allows 60; chrono's
    // from_hms refuses it).
    let second: u32 = s.get(4..6)?.parse().ok()?;
    NaiveTime::from_hms_opt(hour, minute, second.min(59))
}

fn format_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn format_local(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

/// Reads an RFC 5545 §3.3.6 duration (`P1W`, `-PT15M`, `P1DT2H`).
pub fn parse_duration(value: &str) -> Option<TimeDelta> {
    let value = value.trim();
    let (negative, rest) = match value.as_bytes().first()? {
        b'-' => (true, &value[1..]),
        b'+' => (false, &value[1..]),
        _ => (false, value),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let mut seconds: i64 = 0;
    let mut number: Option<i64> = None;
    let mut in_time = false;
    let mut any = false;
    for c in rest.chars() {
        match c.to_ascii_uppercase() {
            d @ '0'..='9' => {
                let digit = i64::from(d as u8 - b'0');
                number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(digit)?);
            }
            'T' if !in_time && number.is_none() => in_time = true,
            unit => {
                let n = number.take()?;
                let scale = match (unit, in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3_600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                seconds = seconds.checked_add(n.checked_mul(scale)?)?;
                any = true;
            }
        }
    }
    if number.is_some() || !any {
        return None;
    }
    // Durations longer than ~100 years are nonsense for events and would
    // overflow chrono's arithmetic later.
    if seconds > 100 * 366 * 86_400 {
        return None;
    }
    TimeDelta::try_seconds(if negative { -seconds } else { seconds })
}

/// Writes a duration in the canonical `[-]P[nD][T[nH][nM][nS]]` form.
pub fn format_duration(delta: TimeDelta) -> String {
    let mut seconds = delta.num_seconds();
    let mut out = String::new();
    if seconds < 0 {
        out.push('-');
        seconds = -seconds;
    }
    out.push('P');
    let (days, rem) = (seconds / 86_400, seconds % 86_400);
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if rem > 0 || days == 0 {
        out.push('T');
        let (h, m, s) = (rem / 3_600, rem % 3_600 / 60, rem % 60);
        if h > 0 {
            out.push_str(&format!("{h}H"));
        }
        if m > 0 {
            out.push_str(&format!("{m}M"));
        }
        if s > 0 || rem == 0 {
            out.push_str(&format!("{s}S"));
        }
    }
    out
}

/// RRULE frequency (RFC 5545 §3.3.10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// `SECONDLY`.
    Secondly,
    /// `MINUTELY`.
    Minutely,
    /// `HOURLY`.
    Hourly,
    /// `DAILY`.
    Daily,
    /// `WEEKLY`.
    Weekly,
    /// `MONTHLY`.
    Monthly,
    /// `YEARLY`.
    Yearly,
}

/// An RRULE: kept in wire form for writing and expansion, with the parts
/// Deputy decides on (frequency and bounds) read out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecurrenceRule {
    /// The rule as written, e.g. `FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10`.
    pub raw: String,
    /// `FREQ`.
    pub freq: Frequency,
    /// `COUNT`, if given.
    pub count: Option<u32>,
    /// `UNTIL`, if given.
    pub until: Option<DateTimeValue>,
}

impl RecurrenceRule {
    /// Reads an RRULE value.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let mut freq = None;
        let mut count = None;
        let mut until = None;
        for part in raw.split(';').filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("rule part {part:?} has no '='"))?;
            match key.to_ascii_uppercase().as_str() {
                "FREQ" => {
                    freq = Some(match value.to_ascii_uppercase().as_str() {
                        "SECONDLY" => Frequency::Secondly,
                        "MINUTELY" => Frequency::Minutely,
                        "HOURLY" => Frequency::Hourly,
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        "YEARLY" => Frequency::Yearly,
                        other => return Err(format!("unknown FREQ {other:?}")),
                    });
                }
                "COUNT" => count = Some(value.parse::<u32>().map_err(|_| format!("bad COUNT {value:?}"))?),
                "UNTIL" => until = Some(DateTimeValue::parse(value, None, None)?),
                _ => {}
            }
        }
        let freq = freq.ok_or("rule has no FREQ")?;
        if count.is_some() && until.is_some() {
            return Err("COUNT and UNTIL must not both appear".into());
        }
        Ok(Self { raw: raw.to_owned(), freq, count, until })
    }

    /// True when the rule has neither COUNT nor UNTIL.
    pub fn is_endless(&self) -> bool {
        self.count.is_none() && self.until.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_date_time_forms_and_dates() {
        assert_eq!(
            DateTimeValue::parse("19970714T173000Z", None, None).unwrap(),
            DateTimeValue::Utc(NaiveDate::from_ymd_opt(1997, 7, 14).unwrap().and_hms_opt(17, 30, 0).unwrap().and_utc())
        );
        assert!(matches!(
            DateTimeValue::parse("19980119T020000", Some("America/New_York"), None),
            Ok(DateTimeValue::Zoned { .. })
        ));
        assert!(matches!(DateTimeValue::parse("19980118T230000", None, None), Ok(DateTimeValue::Floating(_))));
        assert!(matches!(DateTimeValue::parse("19970714", None, Some("DATE")), Ok(DateTimeValue::Date(_))));
        assert!(DateTimeValue::parse("19971332T000000", None, None).is_err());
        assert!(DateTimeValue::parse("", None, None).is_err());
    }

    #[test]
    fn durations_read_and_write() {
        assert_eq!(parse_duration("P15DT5H0M20S"), Some(TimeDelta::seconds(15 * 86_400 + 5 * 3600 + 20)));
        assert_eq!(parse_duration("P7W"), Some(TimeDelta::days(49)));
        assert_eq!(parse_duration("-PT15M"), Some(TimeDelta::minutes(-15)));
        assert_eq!(parse_duration("P"), None);
        assert_eq!(parse_duration("PT"), None);
        assert_eq!(parse_duration("P99999999999999999999D"), None);
        for d in [TimeDelta::zero(), TimeDelta::hours(1), TimeDelta::seconds(90_061), TimeDelta::minutes(-15)] {
            assert_eq!(parse_duration(&format_duration(d)), Some(d));
        }
    }

    #[test]
    fn rules_expose_frequency_and_bounds() {
        let r = RecurrenceRule::parse("FREQ=DAILY;COUNT=10").unwrap();
        assert_eq!((r.freq, r.count, r.is_endless()), (Frequency::Daily, Some(10), false));
        assert!(RecurrenceRule::parse("FREQ=WEEKLY;BYDAY=MO").unwrap().is_endless());
        assert!(RecurrenceRule::parse("COUNT=3").is_err());
        assert!(RecurrenceRule::parse("FREQ=DAILY;COUNT=2;UNTIL=20000101T000000Z").is_err());
    }
}
