//! Time conditions of policy statements: the five `request.utc-timestamp`
//! variables, their operators and values, and how they hold at a request's
//! time (Oracle "Restricting Access to Resources Based on Time Frame",
//! `Content/Identity/policies/scoping-policy-by-time.htm`).
//!
//! | variable | operators | values |
//! |---|---|---|
//! | `request.utc-timestamp` | `before`, `after` | `'2026-12-01T00:00:00Z'`, `'2026-12-01T00:00Z'`, `'2026-12-01Z'` |
//! | `request.utc-timestamp.month-of-year` | `=`, `!=`, `in (…)` | `'1'` … `'12'` |
//! | `request.utc-timestamp.day-of-month` | `=`, `!=`, `in (…)` | `'1'` … `'31'` |
//! | `request.utc-timestamp.day-of-week` | `=`, `!=`, `in (…)` | `'Monday'` … `'Sunday'` (any case) |
//! | `request.utc-timestamp.time-of-day` | `between … and …` | `'hh:mm:ssZ'`, `'hh:mmZ'` (hour of one or two digits) |
//!
//! Every time is UTC; a trailing `Z` may be left out (Oracle's examples
//! write `'05:00:00'` too). Oracle does not say whether the ends are
//! included; the emulator reads `before` and `after` as strict (at exactly
//! the instant neither holds: "the access … will expire on January 1,
//! 2022, 12:00 AM") and `between a and b` as `a` included, `b` excluded, so
//! the page's DayShift (`'17:00:00Z'` and `'01:00:00Z'`) and NightShift
//! (`'01:00:00Z'` and `'17:00:00Z'`) statements share no second. When `a`
//! is later than `b` the interval wraps past midnight; the day is ignored.
//!
//! The request's time is the emulator's clock (`POST /_emulator/time` moves
//! it), read once per request by the pipeline.

use std::fmt;

use time::{Date, Month, OffsetDateTime, Time};

use super::value::Value;

/// One of the five time variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeVariable {
    /// `request.utc-timestamp`: the instant.
    Timestamp,
    /// `request.utc-timestamp.month-of-year`: 1–12.
    MonthOfYear,
    /// `request.utc-timestamp.day-of-month`: 1–31.
    DayOfMonth,
    /// `request.utc-timestamp.day-of-week`: Monday–Sunday.
    DayOfWeek,
    /// `request.utc-timestamp.time-of-day`: seconds since midnight.
    TimeOfDay,
}

/// The days of the week as Oracle writes them, Monday first (ISO 8601).
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

impl TimeVariable {
    /// Every time variable.
    pub const ALL: [TimeVariable; 5] = [
        TimeVariable::Timestamp,
        TimeVariable::MonthOfYear,
        TimeVariable::DayOfMonth,
        TimeVariable::DayOfWeek,
        TimeVariable::TimeOfDay,
    ];

    /// The variable's name, lowercase.
    pub const fn name(self) -> &'static str {
        match self {
            TimeVariable::Timestamp => "request.utc-timestamp",
            TimeVariable::MonthOfYear => "request.utc-timestamp.month-of-year",
            TimeVariable::DayOfMonth => "request.utc-timestamp.day-of-month",
            TimeVariable::DayOfWeek => "request.utc-timestamp.day-of-week",
            TimeVariable::TimeOfDay => "request.utc-timestamp.time-of-day",
        }
    }

    /// The variable a name stands for (without regard to case).
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|v| v.name().eq_ignore_ascii_case(name))
    }

    /// The operators Oracle documents for it, for messages.
    pub const fn operators(self) -> &'static str {
        match self {
            TimeVariable::Timestamp => "before or after",
            TimeVariable::MonthOfYear | TimeVariable::DayOfMonth | TimeVariable::DayOfWeek => {
                "=, != or in (…)"
            }
            TimeVariable::TimeOfDay => "between '…' and '…'",
        }
    }

    /// The variable's value at `now`, as a policy would write it:
    /// `2026-12-01T00:00:30Z`, `12`, `1`, `Tuesday`, `00:00:30Z`.
    pub fn value_at(self, now: OffsetDateTime) -> String {
        let now = now.to_offset(time::UtcOffset::UTC);
        match self {
            TimeVariable::Timestamp => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                now.year(),
                u8::from(now.month()),
                now.day(),
                now.hour(),
                now.minute(),
                now.second()
            ),
            TimeVariable::MonthOfYear => u8::from(now.month()).to_string(),
            TimeVariable::DayOfMonth => now.day().to_string(),
            TimeVariable::DayOfWeek => {
                DAYS[usize::from(now.weekday().number_days_from_monday())].to_owned()
            }
            TimeVariable::TimeOfDay => {
                format!("{:02}:{:02}:{:02}Z", now.hour(), now.minute(), now.second())
            }
        }
    }

    /// The number an `=`/`!=`/`in` value stands for (month, day of month,
    /// day of week counted from Monday = 1) at `now`.
    fn number_at(self, now: OffsetDateTime) -> u8 {
        let now = now.to_offset(time::UtcOffset::UTC);
        match self {
            TimeVariable::MonthOfYear => u8::from(now.month()),
            TimeVariable::DayOfMonth => now.day(),
            TimeVariable::DayOfWeek => now.weekday().number_from_monday(),
            TimeVariable::Timestamp | TimeVariable::TimeOfDay => 0,
        }
    }
}

/// A `before`/`after` instant, as written and as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The value as written (printed back unchanged).
    pub value: Value,
    /// The instant, UTC.
    pub at: OffsetDateTime,
}

/// A month, day of month or day of week, as written and as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The value as written.
    pub value: Value,
    /// 1–12, 1–31, or 1 (Monday) – 7 (Sunday).
    pub number: u8,
}

/// A `between` end, as written and as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeOfDay {
    /// The value as written.
    pub value: Value,
    /// Seconds since midnight UTC, 0–86399.
    pub second: u32,
}

/// What a time condition tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeTest {
    /// `before '…'`: the request is strictly earlier.
    Before(Stamp),
    /// `after '…'`: the request is strictly later.
    After(Stamp),
    /// `= '…'` or (`negated`) `!= '…'`.
    Is {
        /// `!=`.
        negated: bool,
        /// The value.
        value: Field,
    },
    /// `in ('…', '…')`: one of them.
    In(Vec<Field>),
    /// `between 'a' and 'b'`: `a` included, `b` excluded, wrapping past
    /// midnight when `a` is later than `b`.
    Between(TimeOfDay, TimeOfDay),
}

/// A time condition: a variable and its test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeCondition {
    /// Which of the five variables.
    pub variable: TimeVariable,
    /// The operator and its values.
    pub test: TimeTest,
}

impl TimeCondition {
    /// Whether the condition holds for a request made at `now`.
    pub fn holds(&self, now: OffsetDateTime) -> bool {
        match &self.test {
            TimeTest::Before(s) => now < s.at,
            TimeTest::After(s) => now > s.at,
            TimeTest::Is { negated, value } => {
                (self.variable.number_at(now) == value.number) != *negated
            }
            TimeTest::In(list) => {
                let n = self.variable.number_at(now);
                list.iter().any(|f| f.number == n)
            }
            TimeTest::Between(a, b) => {
                let t = second_of_day(now);
                if a.second <= b.second {
                    a.second <= t && t < b.second
                } else {
                    t >= a.second || t < b.second
                }
            }
        }
    }

    /// Why it holds or not at `now`: the variable, its value then, and the
    /// comparison (`request.utc-timestamp is '2026-12-01T00:00:30Z', not
    /// before '2026-12-01T00:00Z'`).
    pub fn explain(&self, now: OffsetDateTime) -> String {
        let var = self.variable.name();
        let actual = self.variable.value_at(now);
        let holds = self.holds(now);
        let not = if holds { "" } else { "not " };
        match &self.test {
            TimeTest::Before(s) => format!("{var} is '{actual}', {not}before {}", s.value),
            TimeTest::After(s) => format!("{var} is '{actual}', {not}after {}", s.value),
            TimeTest::Is { negated, value } => format!(
                "{var} is '{actual}', which {} {}",
                match (negated, holds) {
                    (false, true) | (true, false) => "is",
                    (false, false) | (true, true) => "is not",
                },
                value.value
            ),
            TimeTest::In(list) => format!(
                "{var} is '{actual}', {}one of ({})",
                not,
                list.iter()
                    .map(|f| f.value.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            TimeTest::Between(a, b) => format!(
                "{var} is '{actual}', {not}in [{}, {}){}",
                a.value,
                b.value,
                if a.second > b.second {
                    " (the interval wraps past midnight)"
                } else {
                    ""
                }
            ),
        }
    }

    /// The values it names, in order.
    pub fn values(&self) -> Vec<&Value> {
        match &self.test {
            TimeTest::Before(s) | TimeTest::After(s) => vec![&s.value],
            TimeTest::Is { value, .. } => vec![&value.value],
            TimeTest::In(list) => list.iter().map(|f| &f.value).collect(),
            TimeTest::Between(a, b) => vec![&a.value, &b.value],
        }
    }

    /// What looks wrong about it, for lint: an empty `between` interval.
    pub fn lint(&self) -> Option<String> {
        match &self.test {
            TimeTest::Between(a, b) if a.second == b.second => Some(format!(
                "never holds: {self} is an empty interval (the start is included, the end is not)"
            )),
            _ => None,
        }
    }
}

fn second_of_day(now: OffsetDateTime) -> u32 {
    let now = now.to_offset(time::UtcOffset::UTC);
    u32::from(now.hour()) * 3600 + u32::from(now.minute()) * 60 + u32::from(now.second())
}

impl fmt::Display for TimeCondition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let var = self.variable.name();
        match &self.test {
            TimeTest::Before(s) => write!(f, "{var} before {}", s.value),
            TimeTest::After(s) => write!(f, "{var} after {}", s.value),
            TimeTest::Is { negated, value } => write!(
                f,
                "{var} {} {}",
                if *negated { "!=" } else { "=" },
                value.value
            ),
            TimeTest::In(list) => {
                write!(f, "{var} in (")?;
                for (i, v) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", v.value)?;
                }
                f.write_str(")")
            }
            TimeTest::Between(a, b) => write!(f, "{var} between {} and {}", a.value, b.value),
        }
    }
}

/// Reads `n` ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

fn strip_z(text: &str) -> &str {
    text.strip_suffix(['Z', 'z']).unwrap_or(text)
}

/// `hh:mm[:ss]` (hour of one or two digits) → (hour, minute, second).
fn clock_time(text: &str) -> Option<(u8, u8, u8)> {
    let (h, rest) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hour: u8 = h.parse().ok()?;
    let (minute, rest) = digits(rest, 2)?;
    let second = match rest {
        "" => 0,
        _ => {
            let (s, rest) = digits(rest.strip_prefix(':')?, 2)?;
            if !rest.is_empty() {
                return None;
            }
            s
        }
    };
    Time::from_hms(hour, u8::try_from(minute).ok()?, u8::try_from(second).ok()?).ok()?;
    Some((hour, minute as u8, second as u8))
}

/// Reads a `request.utc-timestamp` value: `YYYY-MM-DDThh:mm:ssZ`,
/// `YYYY-MM-DDThh:mmZ` or `YYYY-MM-DDZ`, UTC.
///
/// # Errors
/// What is wrong with it, for the parser's message.
pub fn parse_stamp(text: &str) -> Result<OffsetDateTime, String> {
    let bad = || {
        format!(
            "'{text}' is not a UTC timestamp in ISO 8601 (YYYY-MM-DDThh:mm:ssZ, YYYY-MM-DDThh:mmZ or YYYY-MM-DDZ)"
        )
    };
    let body = strip_z(text.trim());
    let (date, clock) = match body.split_once(['T', 't']) {
        Some((d, c)) => (d, Some(c)),
        None => (body, None),
    };
    let (year, rest) = digits(date, 4).ok_or_else(bad)?;
    let (month, rest) = digits(rest.strip_prefix('-').ok_or_else(bad)?, 2).ok_or_else(bad)?;
    let (day, rest) = digits(rest.strip_prefix('-').ok_or_else(bad)?, 2).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let month = Month::try_from(u8::try_from(month).map_err(|_| bad())?)
        .map_err(|_| format!("{}: there is no month {month}", bad()))?;
    let date = Date::from_calendar_date(year as i32, month, day as u8)
        .map_err(|_| format!("{}: {month} has no day {day} in {year}", bad()))?;
    let (h, m, s) = match clock {
        None => (0, 0, 0),
        Some(c) if c.split(':').next().is_some_and(|h| h.len() == 2) => {
            clock_time(c).ok_or_else(bad)?
        }
        Some(_) => return Err(bad()),
    };
    let time = Time::from_hms(h, m, s).map_err(|_| bad())?;
    Ok(date.with_time(time).assume_utc())
}

/// Reads a `request.utc-timestamp.time-of-day` value: `hh:mm:ssZ` or
/// `hh:mmZ` (Oracle's own example writes `'2:01:00Z'`), as seconds since
/// midnight.
///
/// # Errors
/// What is wrong with it, for the parser's message.
pub fn parse_time_of_day(text: &str) -> Result<u32, String> {
    let (h, m, s) = clock_time(strip_z(text.trim())).ok_or_else(|| {
        format!("'{text}' is not a UTC time of day in ISO 8601 (hh:mm:ssZ, 00:00:00Z to 23:59:59Z)")
    })?;
    Ok(u32::from(h) * 3600 + u32::from(m) * 60 + u32::from(s))
}

/// Reads an `=`/`!=`/`in` value of `variable`: a month 1–12, a day of the
/// month 1–31, or a day of the week's English name (any case; Monday = 1).
///
/// # Errors
/// What is wrong with it, for the parser's message.
pub fn parse_field(variable: TimeVariable, text: &str) -> Result<u8, String> {
    let number = |max: u8, what: &str| {
        let t = text.trim();
        t.parse::<u8>()
            .ok()
            .filter(|n| (1..=max).contains(n) && t.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("'{text}' is not {what}"))
    };
    match variable {
        TimeVariable::MonthOfYear => number(12, "a month of the year ('1' to '12')"),
        TimeVariable::DayOfMonth => number(31, "a day of the month ('1' to '31')"),
        TimeVariable::DayOfWeek => DAYS
            .iter()
            .position(|d| d.eq_ignore_ascii_case(text.trim()))
            .map(|i| i as u8 + 1)
            .ok_or_else(|| {
                format!(
                    "'{text}' is not a day of the week in English ({})",
                    DAYS.join(", ")
                )
            }),
        TimeVariable::Timestamp | TimeVariable::TimeOfDay => Err(format!(
            "{} is compared with {}",
            variable.name(),
            variable.operators()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn quoted(text: &str) -> Value {
        Value::Quoted(text.into())
    }

    fn stamp(text: &str) -> Stamp {
        Stamp {
            value: quoted(text),
            at: parse_stamp(text).unwrap(),
        }
    }

    fn tod(text: &str) -> TimeOfDay {
        TimeOfDay {
            value: quoted(text),
            second: parse_time_of_day(text).unwrap(),
        }
    }

    #[test]
    fn oracles_timestamp_forms_read_as_utc() {
        assert_eq!(
            parse_stamp("2020-04-01T15:00:00Z").unwrap(),
            datetime!(2020-04-01 15:00:00 UTC)
        );
        assert_eq!(
            parse_stamp("2020-04-01T05:00Z").unwrap(),
            datetime!(2020-04-01 05:00:00 UTC)
        );
        assert_eq!(
            parse_stamp("2020-04-01Z").unwrap(),
            datetime!(2020-04-01 00:00:00 UTC)
        );
        assert_eq!(
            parse_stamp("2026-12-01T00:00").unwrap(),
            datetime!(2026-12-01 00:00:00 UTC)
        );
        for bad in [
            "2026-13-01T00:00Z",
            "2026-02-30Z",
            "2026-12-01T24:00Z",
            "2026-12-01T1:00Z",
            "2026-12-01T00:00:00.5Z",
            "yesterday",
            "",
            "2026-12-01T00:60Z",
        ] {
            assert!(parse_stamp(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn times_of_day_and_fields_read_as_documented() {
        assert_eq!(parse_time_of_day("17:00:00Z"), Ok(61_200));
        assert_eq!(parse_time_of_day("2:01:00Z"), Ok(7_260));
        assert_eq!(parse_time_of_day("05:00:00"), Ok(18_000));
        assert_eq!(parse_time_of_day("23:59Z"), Ok(86_340));
        assert!(parse_time_of_day("24:00:00Z").is_err());
        assert!(parse_time_of_day("9am").is_err());
        assert_eq!(parse_field(TimeVariable::MonthOfYear, "6"), Ok(6));
        assert_eq!(parse_field(TimeVariable::MonthOfYear, "06"), Ok(6));
        assert!(parse_field(TimeVariable::MonthOfYear, "13").is_err());
        assert!(parse_field(TimeVariable::MonthOfYear, "June").is_err());
        assert_eq!(parse_field(TimeVariable::DayOfMonth, "31"), Ok(31));
        assert!(parse_field(TimeVariable::DayOfMonth, "0").is_err());
        assert!(parse_field(TimeVariable::DayOfMonth, "+1").is_err());
        assert_eq!(parse_field(TimeVariable::DayOfWeek, "monday"), Ok(1));
        assert_eq!(parse_field(TimeVariable::DayOfWeek, "SUNDAY"), Ok(7));
        assert!(parse_field(TimeVariable::DayOfWeek, "Mon").is_err());
    }

    #[test]
    fn before_and_after_are_strict() {
        let at = datetime!(2026-12-01 00:00:00 UTC);
        let before = TimeCondition {
            variable: TimeVariable::Timestamp,
            test: TimeTest::Before(stamp("2026-12-01T00:00Z")),
        };
        let after = TimeCondition {
            variable: TimeVariable::Timestamp,
            test: TimeTest::After(stamp("2026-12-01T00:00Z")),
        };
        let just_before = at - time::Duration::milliseconds(1);
        assert!(before.holds(just_before) && !after.holds(just_before));
        assert!(!before.holds(at) && !after.holds(at));
        assert!(!before.holds(at + time::Duration::SECOND));
        assert!(after.holds(at + time::Duration::SECOND));
        assert_eq!(
            before.explain(at + time::Duration::seconds(30)),
            "request.utc-timestamp is '2026-12-01T00:00:30Z', not before '2026-12-01T00:00Z'"
        );
        assert_eq!(
            before.explain(just_before),
            "request.utc-timestamp is '2026-11-30T23:59:59Z', before '2026-12-01T00:00Z'"
        );
    }

    #[test]
    fn between_includes_its_start_and_wraps_past_midnight() {
        let day = TimeCondition {
            variable: TimeVariable::TimeOfDay,
            test: TimeTest::Between(tod("17:00:00Z"), tod("01:00:00Z")),
        };
        let night = TimeCondition {
            variable: TimeVariable::TimeOfDay,
            test: TimeTest::Between(tod("01:00:00Z"), tod("17:00:00Z")),
        };
        for (at, in_day) in [
            (datetime!(2026-12-01 17:00:00 UTC), true),
            (datetime!(2026-12-01 23:59:59 UTC), true),
            (datetime!(2026-12-02 00:30:00 UTC), true),
            (datetime!(2026-12-02 01:00:00 UTC), false),
            (datetime!(2026-12-02 12:00:00 UTC), false),
            (datetime!(2026-12-02 16:59:59 UTC), false),
        ] {
            assert_eq!(day.holds(at), in_day, "{at}");
            assert_eq!(night.holds(at), !in_day, "{at}");
        }
        assert_eq!(
            day.explain(datetime!(2026-12-02 12:00:00 UTC)),
            "request.utc-timestamp.time-of-day is '12:00:00Z', not in ['17:00:00Z', '01:00:00Z') (the interval wraps past midnight)"
        );
        let empty = TimeCondition {
            variable: TimeVariable::TimeOfDay,
            test: TimeTest::Between(tod("09:00Z"), tod("09:00:00Z")),
        };
        assert!(empty.lint().unwrap().starts_with("never holds"));
    }

    #[test]
    fn calendar_fields_compare_as_numbers() {
        // 2026-12-01 is a Tuesday.
        let at = datetime!(2026-12-01 10:00:00 UTC);
        let field = |variable, text: &str| Field {
            value: quoted(text),
            number: parse_field(variable, text).unwrap(),
        };
        let month_in = TimeCondition {
            variable: TimeVariable::MonthOfYear,
            test: TimeTest::In(vec![
                field(TimeVariable::MonthOfYear, "6"),
                field(TimeVariable::MonthOfYear, "12"),
            ]),
        };
        assert!(month_in.holds(at));
        assert!(!month_in.holds(datetime!(2026-11-30 10:00:00 UTC)));
        let first = TimeCondition {
            variable: TimeVariable::DayOfMonth,
            test: TimeTest::Is {
                negated: false,
                value: field(TimeVariable::DayOfMonth, "01"),
            },
        };
        assert!(first.holds(at));
        let not_tuesday = TimeCondition {
            variable: TimeVariable::DayOfWeek,
            test: TimeTest::Is {
                negated: true,
                value: field(TimeVariable::DayOfWeek, "tuesday"),
            },
        };
        assert!(!not_tuesday.holds(at));
        assert!(not_tuesday.holds(at + time::Duration::DAY));
        assert_eq!(
            not_tuesday.explain(at),
            "request.utc-timestamp.day-of-week is 'Tuesday', which is 'tuesday'"
        );
        assert_eq!(TimeVariable::DayOfWeek.value_at(at), "Tuesday");
        assert_eq!(TimeVariable::MonthOfYear.value_at(at), "12");
        assert_eq!(TimeVariable::TimeOfDay.value_at(at), "10:00:00Z");
    }
}
