//! The OCI policy language: statements parsed into a [`Statement`] and
//! printed back in a canonical form ([`std::fmt::Display`]).
//!
//! Grammar (OCI "Policy Syntax", "Locations", "Conditions" pages; reference
//! §11.1–11.5), keywords case-insensitive, whitespace insignificant:
//!
//! ```text
//! statement := 'Allow' subject 'to' verb [resource-type] 'in' location ['where' condition]
//! subject   := 'any-user' | 'any-group'
//!            | ('group' | 'dynamic-group') (name (',' name)* | 'id' ocid (',' 'id' ocid)*)
//! name      := [word-or-quoted '/'] word-or-quoted         (identity-domain/name)
//! verb      := 'inspect' | 'read' | 'use' | 'manage' | '{' PERMISSION (',' PERMISSION)* '}'
//! location  := 'tenancy' | 'compartment' 'id' ocid | 'compartment' cname (':' cname)*
//! condition := ('any' | 'all') '{' condition (',' condition)* '}' | variable ('=' | '!=') value
//!            | time-var ('before' | 'after') value              (request.utc-timestamp)
//!            | time-var ('=' | '!=') value | time-var 'in' '(' value (',' value)* ')'
//!                                           (.month-of-year, .day-of-month, .day-of-week)
//!            | time-var 'between' value 'and' value             (.time-of-day)
//! value     := 'quoted literal' | /pattern/ | word
//! ```
//!
//! Time variables, their operators and values are read by
//! [`super::time_conditions`]; a value that is not a time of the documented
//! form, or an operator the variable does not take, is a parse error at the
//! value's or operator's column.
//!
//! A resource type is required after a verb word and optional after a
//! permission list. `Deny`, `Define`, `Endorse` and `Admit` statements are
//! refused with a message saying so. Errors carry the 1-based column of the
//! offending character. The same condition grammar parses dynamic-group
//! matching rules ([`parse_condition`]).
//!
//! Hand-written rather than built on a parser library: the grammar is a
//! dozen productions, `/` means two things depending on position (domain
//! separator or pattern), and column-accurate messages come for free from a
//! character cursor.

use std::fmt;

pub use super::value::Value;

use super::time_conditions::{
    parse_field, parse_stamp, parse_time_of_day, Field, Stamp, TimeCondition, TimeOfDay, TimeTest,
    TimeVariable,
};

/// A parsed `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Who it grants to.
    pub subject: Subject,
    /// What it grants.
    pub verb: Verb,
    /// The resource type, lowercase (`secret-family`), if written.
    pub resource: Option<String>,
    /// Where it grants.
    pub location: Location,
    /// The `where` clause, if any.
    pub condition: Option<Condition>,
}

/// A group or dynamic-group name, optionally prefixed by an identity domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    /// `'Default'` in `'Default'/'Developers'`.
    pub domain: Option<String>,
    /// The group's name.
    pub name: String,
}

/// The subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// `group A, B`.
    Groups(Vec<Name>),
    /// `group id ocid1.group…, id …`.
    GroupIds(Vec<String>),
    /// `dynamic-group A, B`.
    DynamicGroups(Vec<Name>),
    /// `dynamic-group id …`.
    DynamicGroupIds(Vec<String>),
    /// `any-user`.
    AnyUser,
    /// `any-group`.
    AnyGroup,
}

/// The verb: a level (cumulative) or an explicit permission list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verb {
    /// `inspect`, `read`, `use` or `manage`.
    Level(Level),
    /// `{SECRET_BUNDLE_READ, …}`, uppercase.
    Permissions(Vec<String>),
}

/// `inspect` ⊂ `read` ⊂ `use` ⊂ `manage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// `inspect`.
    Inspect,
    /// `read`.
    Read,
    /// `use`.
    Use,
    /// `manage`.
    Manage,
}

impl Level {
    /// The keyword.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Inspect => "inspect",
            Level::Read => "read",
            Level::Use => "use",
            Level::Manage => "manage",
        }
    }
}

/// Where a statement grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `tenancy`.
    Tenancy,
    /// `compartment a:b:c`, relative to the policy's compartment.
    Path(Vec<String>),
    /// `compartment id ocid1.compartment…`.
    Id(String),
}

/// A condition of a `where` clause (or a dynamic-group matching rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `variable = value` or `variable != value`.
    Compare {
        /// e.g. `target.secret.name`, lowercase.
        variable: String,
        /// `!=`.
        negated: bool,
        /// The right-hand side.
        value: Value,
    },
    /// A `request.utc-timestamp…` condition (`before`, `after`, `=`, `!=`,
    /// `in`, `between`), evaluated at the request's time.
    Time(TimeCondition),
    /// `any {…}`: one must hold.
    Any(Vec<Condition>),
    /// `all {…}`: every one must hold.
    All(Vec<Condition>),
}

/// A syntax error: a message and the 1-based column it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based character column.
    pub column: usize,
    /// What was expected or what is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses one policy statement.
///
/// # Errors
/// [`ParseError`] with the column of the first character that does not fit.
pub fn parse(text: &str) -> Result<Statement, ParseError> {
    let mut c = Cursor::new(text);
    let statement = c.statement()?;
    c.end()?;
    Ok(statement)
}

/// Parses a condition alone (a dynamic group's matching rule).
///
/// # Errors
/// [`ParseError`] with the column of the first character that does not fit.
pub fn parse_condition(text: &str) -> Result<Condition, ParseError> {
    let mut c = Cursor::new(text);
    let condition = c.condition(0)?;
    c.end()?;
    Ok(condition)
}

/// Whether `variable` is `tag.<namespace>.<key>.value`, which a dynamic
/// group's matching rule may write alone to mean "has this defined tag".
fn is_tag_presence(variable: &str) -> bool {
    let lower = variable.to_ascii_lowercase();
    lower.starts_with("tag.") && lower.ends_with(".value") && lower.matches('.').count() == 3
}

/// Conditions nest at most this deep (keeps recursion bounded on any input).
const MAX_DEPTH: usize = 32;

struct Cursor {
    chars: Vec<char>,
    pos: usize,
}

fn is_word_char(ch: char) -> bool {
    ch.is_alphanumeric() || matches!(ch, '_' | '-' | '.' | '$' | '@')
}

impl Cursor {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
        }
    }

    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.skip_ws();
        self.chars.get(self.pos).copied()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            column: self.pos + 1,
            message: message.into(),
        })
    }

    fn found(&mut self) -> String {
        match self.peek() {
            None => "the end of the statement".into(),
            Some(_) => {
                let start = self.pos;
                let word: String = self.chars[start..]
                    .iter()
                    .take_while(|c| is_word_char(**c))
                    .collect();
                if word.is_empty() {
                    format!("'{}'", self.chars[start])
                } else {
                    format!("'{word}'")
                }
            }
        }
    }

    fn end(&mut self) -> Result<(), ParseError> {
        if self.peek().is_some() {
            let found = self.found();
            return self.error(format!("unexpected {found} after a complete statement"));
        }
        Ok(())
    }

    /// The next bare word, without consuming it.
    fn peek_word(&mut self) -> Option<String> {
        self.skip_ws();
        let word: String = self.chars[self.pos..]
            .iter()
            .take_while(|c| is_word_char(**c))
            .collect();
        (!word.is_empty()).then_some(word)
    }

    fn word(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek_word() {
            Some(w) => {
                self.pos += w.chars().count();
                Ok(w)
            }
            None => {
                let found = self.found();
                self.error(format!("expected {what}, found {found}"))
            }
        }
    }

    fn keyword_is(&mut self, keyword: &str) -> bool {
        self.peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.keyword_is(keyword) {
            self.pos += keyword.chars().count();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<(), ParseError> {
        if self.eat_keyword(keyword) {
            return Ok(());
        }
        let found = self.found();
        self.error(format!("expected '{keyword}', found {found}"))
    }

    fn eat(&mut self, ch: char) -> bool {
        if self.peek() == Some(ch) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, ch: char) -> Result<(), ParseError> {
        if self.eat(ch) {
            return Ok(());
        }
        let found = self.found();
        self.error(format!("expected '{ch}', found {found}"))
    }

    /// Text between `delim`s (no escapes exist in OCI's language).
    fn delimited(&mut self, delim: char, what: &str) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.chars.get(self.pos) {
                None => {
                    self.pos = start;
                    return self.error(format!("{what} is not closed with {delim}"));
                }
                Some(c) if *c == delim => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(*c);
                    self.pos += 1;
                }
            }
        }
    }

    fn word_or_quoted(&mut self, what: &str) -> Result<String, ParseError> {
        if self.peek() == Some('\'') {
            let text = self.delimited('\'', "a quoted name")?;
            if text.is_empty() {
                return self.error("a quoted name cannot be empty");
            }
            Ok(text)
        } else {
            self.word(what)
        }
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        for refused in ["deny", "define", "endorse", "admit"] {
            if self.keyword_is(refused) {
                return self.error(format!(
                    "'{refused}' statements are not supported by the emulator (it evaluates Allow statements)"
                ));
            }
        }
        self.expect_keyword("allow")?;
        let subject = self.subject()?;
        self.expect_keyword("to")?;
        let verb = self.verb()?;
        let resource = if self.keyword_is("in") && matches!(verb, Verb::Permissions(_)) {
            None
        } else if self.keyword_is("in") {
            return self.error("expected a resource type such as secret-family, found 'in'");
        } else {
            Some(
                self.word("a resource type such as secret-family")?
                    .to_lowercase(),
            )
        };
        self.expect_keyword("in")?;
        let location = self.location()?;
        let condition = if self.eat_keyword("where") {
            Some(self.condition(0)?)
        } else {
            None
        };
        Ok(Statement {
            subject,
            verb,
            resource,
            location,
            condition,
        })
    }

    fn subject(&mut self) -> Result<Subject, ParseError> {
        if self.eat_keyword("any-user") {
            return Ok(Subject::AnyUser);
        }
        if self.eat_keyword("any-group") {
            return Ok(Subject::AnyGroup);
        }
        let dynamic = if self.eat_keyword("group") {
            false
        } else if self.eat_keyword("dynamic-group") {
            true
        } else {
            let found = self.found();
            return self.error(format!(
                "expected a subject (group, dynamic-group, any-user, any-group), found {found}"
            ));
        };
        if self.keyword_is("id") {
            let mut ids = Vec::new();
            loop {
                self.expect_keyword("id")?;
                ids.push(self.word("an OCID")?);
                if !self.eat(',') {
                    break;
                }
            }
            return Ok(if dynamic {
                Subject::DynamicGroupIds(ids)
            } else {
                Subject::GroupIds(ids)
            });
        }
        let mut names = Vec::new();
        loop {
            let first = self.word_or_quoted("a group name")?;
            let name = if self.eat('/') {
                Name {
                    domain: Some(first),
                    name: self.word_or_quoted("a group name")?,
                }
            } else {
                Name {
                    domain: None,
                    name: first,
                }
            };
            names.push(name);
            if !self.eat(',') {
                break;
            }
        }
        Ok(if dynamic {
            Subject::DynamicGroups(names)
        } else {
            Subject::Groups(names)
        })
    }

    fn verb(&mut self) -> Result<Verb, ParseError> {
        if self.eat('{') {
            let mut permissions = Vec::new();
            loop {
                permissions.push(
                    self.word("a permission such as SECRET_READ")?
                        .to_uppercase(),
                );
                if !self.eat(',') {
                    break;
                }
            }
            self.expect('}')?;
            return Ok(Verb::Permissions(permissions));
        }
        for level in [Level::Inspect, Level::Read, Level::Use, Level::Manage] {
            if self.eat_keyword(level.as_str()) {
                return Ok(Verb::Level(level));
            }
        }
        let found = self.found();
        self.error(format!(
            "expected a verb (inspect, read, use, manage or {{PERMISSION, …}}), found {found}"
        ))
    }

    fn location(&mut self) -> Result<Location, ParseError> {
        if self.eat_keyword("tenancy") {
            return Ok(Location::Tenancy);
        }
        self.expect_keyword("compartment")?;
        if self.eat_keyword("id") {
            return Ok(Location::Id(self.word("a compartment OCID")?));
        }
        let mut path = vec![self.compartment_name()?];
        while self.eat(':') {
            path.push(self.compartment_name()?);
        }
        Ok(Location::Path(path))
    }

    fn compartment_name(&mut self) -> Result<String, ParseError> {
        if self.peek() == Some('\'') {
            return self.word_or_quoted("a compartment name");
        }
        // Compartment names may contain '.', which word_char allows; ':' separates.
        self.word("a compartment name")
    }

    fn condition(&mut self, depth: usize) -> Result<Condition, ParseError> {
        if depth > MAX_DEPTH {
            return self.error(format!("conditions nest deeper than {MAX_DEPTH} levels"));
        }
        for (keyword, all) in [("any", false), ("all", true)] {
            if self.keyword_is(keyword) {
                let save = self.pos;
                self.pos += 3;
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let mut list = vec![self.condition(depth + 1)?];
                    while self.eat(',') {
                        list.push(self.condition(depth + 1)?);
                    }
                    self.expect('}')?;
                    return Ok(if all {
                        Condition::All(list)
                    } else {
                        Condition::Any(list)
                    });
                }
                self.pos = save;
            }
        }
        let variable = self.word("a variable such as target.secret.name")?;
        if !variable.contains('.') {
            self.pos -= variable.chars().count();
            return self.error(format!(
                "expected a variable such as request.operation or target.secret.name, found '{variable}'"
            ));
        }
        if let Some(time_variable) = TimeVariable::named(&variable) {
            return self.time_condition(time_variable).map(Condition::Time);
        }
        for keyword in ["before", "after", "between", "in"] {
            if self.keyword_is(keyword) {
                return self.error(format!(
                    "'{keyword}' compares the request.utc-timestamp variables only; {variable} takes = or !="
                ));
            }
        }
        let negated = if self.eat('=') {
            false
        } else if self.peek() == Some('!') && self.chars.get(self.pos + 1) == Some(&'=') {
            self.pos += 2;
            true
        } else if is_tag_presence(&variable) && matches!(self.peek(), None | Some(',' | '}')) {
            // A matching rule's `tag.<ns>.<key>.value` alone: "has the tag".
            return Ok(Condition::Compare {
                variable: variable.to_lowercase(),
                negated: false,
                value: presence(),
            });
        } else {
            let found = self.found();
            return self.error(format!(
                "expected '=' or '!=' (the emulator supports these comparisons), found {found}"
            ));
        };
        let value = match self.peek() {
            Some('\'') => Value::Quoted(self.delimited('\'', "a quoted value")?),
            Some('/') => {
                let pattern = self.delimited('/', "a /pattern/")?;
                if pattern.is_empty() {
                    return self.error("a /pattern/ cannot be empty");
                }
                Value::Pattern(pattern)
            }
            _ => Value::Word(self.word("a value ('quoted', /pattern*/ or a word)")?),
        };
        Ok(Condition::Compare {
            variable: variable.to_lowercase(),
            negated,
            value,
        })
    }
}

impl Cursor {
    /// The operator and value(s) after a time variable (Oracle's "Restricting
    /// Access to Resources Based on Time Frame" lists which go with which).
    fn time_condition(&mut self, variable: TimeVariable) -> Result<TimeCondition, ParseError> {
        self.skip_ws();
        let at = self.pos;
        let wrong = |c: &mut Self| {
            let found = c.found();
            c.pos = at;
            c.error(format!(
                "{} is compared with {}, found {found}",
                variable.name(),
                variable.operators()
            ))
        };
        let test = match variable {
            TimeVariable::Timestamp => {
                if self.eat_keyword("before") {
                    TimeTest::Before(self.time_value(parse_stamp, |value, at| Stamp { value, at })?)
                } else if self.eat_keyword("after") {
                    TimeTest::After(self.time_value(parse_stamp, |value, at| Stamp { value, at })?)
                } else {
                    return wrong(self);
                }
            }
            TimeVariable::TimeOfDay => {
                if !self.eat_keyword("between") {
                    return wrong(self);
                }
                let tod = |value, second| TimeOfDay { value, second };
                let start = self.time_value(parse_time_of_day, tod)?;
                self.expect_keyword("and")?;
                let end = self.time_value(parse_time_of_day, tod)?;
                TimeTest::Between(start, end)
            }
            TimeVariable::MonthOfYear | TimeVariable::DayOfMonth | TimeVariable::DayOfWeek => {
                let field = |value, number| Field { value, number };
                let read = |t: &str| parse_field(variable, t);
                if self.eat('=') {
                    TimeTest::Is {
                        negated: false,
                        value: self.time_value(read, field)?,
                    }
                } else if self.peek() == Some('!') && self.chars.get(self.pos + 1) == Some(&'=') {
                    self.pos += 2;
                    TimeTest::Is {
                        negated: true,
                        value: self.time_value(read, field)?,
                    }
                } else if self.eat_keyword("in") {
                    self.expect('(')?;
                    let mut list = vec![self.time_value(read, field)?];
                    while self.eat(',') {
                        list.push(self.time_value(read, field)?);
                    }
                    self.expect(')')?;
                    TimeTest::In(list)
                } else {
                    return wrong(self);
                }
            }
        };
        Ok(TimeCondition { variable, test })
    }

    /// A quoted or bare value read by `read` (a `/pattern/` is refused);
    /// an error points at the value.
    fn time_value<T, V>(
        &mut self,
        read: impl Fn(&str) -> Result<T, String>,
        make: impl Fn(Value, T) -> V,
    ) -> Result<V, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let value = match self.peek() {
            Some('\'') => Value::Quoted(self.delimited('\'', "a quoted value")?),
            Some('/') => {
                return self.error("a time is compared with a quoted value, not a /pattern/")
            }
            _ => Value::Word(self.word("a quoted time value")?),
        };
        let text = match &value {
            Value::Quoted(t) | Value::Word(t) | Value::Pattern(t) => t.clone(),
        };
        match read(&text) {
            Ok(parsed) => Ok(make(value, parsed)),
            Err(message) => {
                self.pos = start;
                self.error(message)
            }
        }
    }
}

/// Whether a name can be printed bare (else it is quoted).
fn bare(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(is_word_char)
        && !["id", "to", "in", "where", "any", "all"]
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k))
}

fn fmt_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if bare(name) {
        f.write_str(name)
    } else {
        write!(f, "'{name}'")
    }
}

fn fmt_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    mut one: impl FnMut(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        one(f, item)?;
    }
    Ok(())
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(domain) = &self.domain {
            write!(f, "'{domain}'/")?;
        }
        fmt_name(f, &self.name)
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = |f: &mut fmt::Formatter<'_>, ids: &[String]| {
            fmt_list(f, ids, |f, id| write!(f, "id {id}"))
        };
        match self {
            Subject::AnyUser => f.write_str("any-user"),
            Subject::AnyGroup => f.write_str("any-group"),
            Subject::Groups(names) => {
                f.write_str("group ")?;
                fmt_list(f, names, |f, n| write!(f, "{n}"))
            }
            Subject::DynamicGroups(names) => {
                f.write_str("dynamic-group ")?;
                fmt_list(f, names, |f, n| write!(f, "{n}"))
            }
            Subject::GroupIds(list) => {
                f.write_str("group ")?;
                ids(f, list)
            }
            Subject::DynamicGroupIds(list) => {
                f.write_str("dynamic-group ")?;
                ids(f, list)
            }
        }
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verb::Level(level) => f.write_str(level.as_str()),
            Verb::Permissions(list) => {
                f.write_str("{")?;
                fmt_list(f, list, |f, p| f.write_str(p))?;
                f.write_str("}")
            }
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Tenancy => f.write_str("tenancy"),
            Location::Id(id) => write!(f, "compartment id {id}"),
            Location::Path(path) => {
                f.write_str("compartment ")?;
                for (i, name) in path.iter().enumerate() {
                    if i > 0 {
                        f.write_str(":")?;
                    }
                    fmt_name(f, name)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare {
                variable,
                negated,
                value,
            } => write!(
                f,
                "{variable} {} {value}",
                if *negated { "!=" } else { "=" }
            ),
            Condition::Time(t) => write!(f, "{t}"),
            Condition::Any(list) | Condition::All(list) => {
                f.write_str(if matches!(self, Condition::Any(_)) {
                    "any {"
                } else {
                    "all {"
                })?;
                fmt_list(f, list, |f, c| write!(f, "{c}"))?;
                f.write_str("}")
            }
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Allow {} to {}", self.subject, self.verb)?;
        if let Some(resource) = &self.resource {
            write!(f, " {resource}")?;
        }
        write!(f, " in {}", self.location)?;
        if let Some(condition) = &self.condition {
            write!(f, " where {condition}")?;
        }
        Ok(())
    }
}

impl Condition {
    /// Every variable the condition names, in order.
    pub fn variables(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_variables(&mut out);
        out
    }

    fn collect_variables<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Condition::Compare { variable, .. } => out.push(variable),
            Condition::Time(t) => out.push(t.variable.name()),
            Condition::Any(list) | Condition::All(list) => {
                for c in list {
                    c.collect_variables(out);
                }
            }
        }
    }

    /// Every value of the condition, in order (for lint).
    pub fn values(&self) -> Vec<&Value> {
        match self {
            Condition::Compare { value, .. } => vec![value],
            Condition::Time(t) => t.values(),
            Condition::Any(list) | Condition::All(list) => {
                list.iter().flat_map(Condition::values).collect()
            }
        }
    }
}

/// The value a bare `tag.<ns>.<key>.value` stands for: any value.
pub fn presence() -> Value {
    Value::Pattern("*".to_owned())
}

/// Whether `actual` matches a condition's value: a literal compared without
/// regard to case, or a `/pattern*/`.
pub fn value_matches(value: &Value, actual: &str) -> bool {
    match value {
        Value::Quoted(text) | Value::Word(text) => text.to_lowercase() == actual.to_lowercase(),
        Value::Pattern(pattern) => glob(&pattern.to_lowercase(), &actual.to_lowercase()),
    }
}

/// `*` matches any run of characters; everything else itself.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_forms_parse() {
        let s = parse("Allow group Developers to read secret-family in compartment apps").unwrap();
        assert_eq!(
            s.subject,
            Subject::Groups(vec![Name {
                domain: None,
                name: "Developers".into()
            }])
        );
        assert_eq!(s.verb, Verb::Level(Level::Read));
        assert_eq!(s.resource.as_deref(), Some("secret-family"));
        assert_eq!(s.location, Location::Path(vec!["apps".into()]));

        let s = parse("ALLOW ANY-USER TO {secret_bundle_read} IN TENANCY WHERE request.operation = 'GetSecretBundle'").unwrap();
        assert_eq!(s.subject, Subject::AnyUser);
        assert_eq!(s.verb, Verb::Permissions(vec!["SECRET_BUNDLE_READ".into()]));
        assert_eq!(s.resource, None);
        assert!(s.condition.is_some());

        let s = parse("allow group id ocid1.group.oc1..a, id ocid1.group.oc1..b to use keys in compartment id ocid1.compartment.oc1..x where any {target.key.id = ocid1.key.oc1..k, all {request.user.name != 'bob', target.secret.name = /db-*/}}").unwrap();
        assert_eq!(
            s.subject,
            Subject::GroupIds(vec![
                "ocid1.group.oc1..a".into(),
                "ocid1.group.oc1..b".into()
            ])
        );
        assert_eq!(s.location, Location::Id("ocid1.compartment.oc1..x".into()));

        let s = parse(
            "Allow group 'Default'/'Secret Admins' to manage secrets in compartment apps:dev",
        )
        .unwrap();
        assert_eq!(
            s.subject,
            Subject::Groups(vec![Name {
                domain: Some("Default".into()),
                name: "Secret Admins".into()
            }])
        );
        assert_eq!(
            s.location,
            Location::Path(vec!["apps".into(), "dev".into()])
        );
    }

    #[test]
    fn errors_carry_the_column() {
        let e = parse("Allow group Developers too read secrets in tenancy").unwrap_err();
        assert_eq!(e.column, 24, "{e}");
        assert!(e.message.contains("expected 'to'"), "{e}");
        let e = parse("Allow group X to read secrets in tenancy where target.secret.name = 'db")
            .unwrap_err();
        assert_eq!(e.column, 69, "{e}");
        let e = parse("Deny group X to read secrets in tenancy").unwrap_err();
        assert_eq!(e.column, 1);
        let e = parse("Allow group X to read secrets in tenancy extra").unwrap_err();
        assert_eq!(e.column, 42);
        let e = parse("Allow group X to read in tenancy").unwrap_err();
        assert!(e.message.contains("resource type"), "{e}");
    }

    #[test]
    fn oracles_time_examples_parse_and_print_back() {
        for text in [
            "Allow group Contractors to manage secret-family in tenancy where request.utc-timestamp before '2022-01-01T00:00Z'",
            "Allow group Contractors to manage secret-family in tenancy where request.utc-timestamp after '2022-01-01Z'",
            "Allow group SummerInterns to manage secret-family in tenancy where any {request.utc-timestamp.month-of-year in ('6', '7', '8')}",
            "Allow group ComplianceAuditors to read all-resources in tenancy where request.utc-timestamp.day-of-month = '1'",
            "Allow group WorkWeek to manage secret-family in tenancy where any {request.utc-timestamp.day-of-week in ('monday', 'tuesday', 'wednesday', 'thursday', 'friday')}",
            "Allow group DayShift to manage secret-family in tenancy where request.utc-timestamp.time-of-day between '17:00:00Z' and '01:00:00Z'",
            "Allow group X to read secrets in tenancy where all {request.utc-timestamp.day-of-week != 'Sunday', request.operation = 'GetSecret'}",
        ] {
            let s = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(s.to_string(), text);
        }
        let s = parse("allow group X to read secrets in tenancy where REQUEST.UTC-TIMESTAMP BEFORE '2026-12-01T00:00Z'").unwrap();
        let Some(Condition::Time(t)) = &s.condition else {
            panic!("{s:?}")
        };
        assert_eq!(t.variable, TimeVariable::Timestamp);
        assert_eq!(
            t.test,
            TimeTest::Before(Stamp {
                value: Value::Quoted("2026-12-01T00:00Z".into()),
                at: time::macros::datetime!(2026-12-01 00:00:00 UTC),
            })
        );
        assert_eq!(s.condition.unwrap().variables(), ["request.utc-timestamp"]);
    }

    #[test]
    fn time_conditions_refuse_other_operators_and_bad_values_at_their_column() {
        let head = "Allow group X to read secrets in tenancy where ";
        let at = |text: &str| {
            let e = parse(&format!("{head}{text}")).unwrap_err();
            (e.column - head.len(), e.message)
        };
        // Columns are 1-based within the condition here.
        assert_eq!(
            at("request.utc-timestamp = '2026-12-01T00:00Z'"),
            (
                23,
                "request.utc-timestamp is compared with before or after, found '='".into()
            )
        );
        assert_eq!(
            at("request.utc-timestamp before '2026-13-01T00:00Z'"),
            (30, "'2026-13-01T00:00Z' is not a UTC timestamp in ISO 8601 (YYYY-MM-DDThh:mm:ssZ, YYYY-MM-DDThh:mmZ or YYYY-MM-DDZ): there is no month 13".into())
        );
        assert_eq!(
            at("request.utc-timestamp.month-of-year in ('6', '13')"),
            (46, "'13' is not a month of the year ('1' to '12')".into())
        );
        assert_eq!(
            at("request.utc-timestamp.day-of-week = 'Mon'"),
            (37, "'Mon' is not a day of the week in English (Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday)".into())
        );
        assert_eq!(
            at("request.utc-timestamp.time-of-day = '09:00:00Z'"),
            (
                35,
                "request.utc-timestamp.time-of-day is compared with between '…' and '…', found '='"
                    .into()
            )
        );
        assert_eq!(
            at("request.utc-timestamp.time-of-day between '09:00Z' '17:00Z'").1,
            "expected 'and', found '''"
        );
        assert_eq!(
            at("request.utc-timestamp.day-of-month before '1'"),
            (
                36,
                "request.utc-timestamp.day-of-month is compared with =, != or in (…), found 'before'"
                    .into()
            )
        );
        assert_eq!(
            at("target.secret.name before 'x'"),
            (
                20,
                "'before' compares the request.utc-timestamp variables only; target.secret.name takes = or !=".into()
            )
        );
        assert_eq!(
            at("request.utc-timestamp after /2026*/").1,
            "a time is compared with a quoted value, not a /pattern/"
        );
        // A matching rule cannot name them.
        assert!(crate::iam::dynamic_groups::parse_rule(
            "request.utc-timestamp before '2026-12-01T00:00Z'"
        )
        .is_err());
    }

    #[test]
    fn printing_is_canonical() {
        let s = parse("allow   group a,b to MANAGE Secret-Family in compartment x:y where all{request.operation='A',target.secret.name=/db-*/}").unwrap();
        assert_eq!(
            s.to_string(),
            "Allow group a, b to manage secret-family in compartment x:y where all {request.operation = 'A', target.secret.name = /db-*/}"
        );
    }

    fn ident() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9_-]{0,8}"
    }
    fn spaced() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9 _-]{0,8}[A-Za-z0-9]"
    }
    fn ocid() -> impl Strategy<Value = String> {
        "[a-z]{1,6}".prop_map(|k| format!("ocid1.{k}.oc1..aaaa{k}"))
    }
    fn name() -> impl Strategy<Value = Name> {
        (
            proptest::option::of(spaced()),
            prop_oneof![ident(), spaced()],
        )
            .prop_map(|(domain, name)| Name { domain, name })
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            "[A-Za-z0-9 *._-]{0,10}".prop_map(Value::Quoted),
            "[A-Za-z0-9*._-]{1,10}".prop_map(Value::Pattern),
            ident().prop_map(Value::Word),
        ]
    }

    fn condition() -> impl Strategy<Value = Condition> {
        let variable = prop_oneof![
            Just("request.operation".to_string()),
            Just("target.secret.name".to_string()),
            Just("request.groups.id".to_string()),
            "[a-z]{1,5}\\.[a-z]{1,5}",
        ];
        let leaf = (variable, any::<bool>(), value()).prop_map(|(variable, negated, value)| {
            Condition::Compare {
                variable,
                negated,
                value,
            }
        });
        let time = prop_oneof![
            Just("request.utc-timestamp before '2026-12-01T00:00Z'"),
            Just("request.utc-timestamp after '2020-04-01T15:00:00Z'"),
            Just("request.utc-timestamp.month-of-year in ('6', '7', '8')"),
            Just("request.utc-timestamp.day-of-month != '31'"),
            Just("request.utc-timestamp.day-of-week = Monday"),
            Just("request.utc-timestamp.time-of-day between '17:00:00Z' and '2:01:00Z'"),
        ]
        .prop_map(|text| parse_condition(text).unwrap());
        let leaf = prop_oneof![3 => leaf, 1 => time];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..4).prop_map(Condition::Any),
                proptest::collection::vec(inner, 1..4).prop_map(Condition::All),
            ]
        })
    }

    /// Any statement the emulator's grammar can express.
    pub fn statement() -> impl Strategy<Value = Statement> {
        let subject = prop_oneof![
            Just(Subject::AnyUser),
            Just(Subject::AnyGroup),
            proptest::collection::vec(name(), 1..3).prop_map(Subject::Groups),
            proptest::collection::vec(name(), 1..3).prop_map(Subject::DynamicGroups),
            proptest::collection::vec(ocid(), 1..3).prop_map(Subject::GroupIds),
            proptest::collection::vec(ocid(), 1..3).prop_map(Subject::DynamicGroupIds),
        ];
        let verb = prop_oneof![
            prop_oneof![
                Just(Level::Inspect),
                Just(Level::Read),
                Just(Level::Use),
                Just(Level::Manage)
            ]
            .prop_map(Verb::Level),
            proptest::collection::vec("[A-Z][A-Z_]{2,12}", 1..3).prop_map(Verb::Permissions),
        ];
        let resource = prop_oneof![
            Just("secret-family".to_string()),
            Just("keys".to_string()),
            Just("all-resources".to_string()),
            "[a-z][a-z-]{0,10}",
        ];
        let location = prop_oneof![
            Just(Location::Tenancy),
            ocid().prop_map(Location::Id),
            proptest::collection::vec(prop_oneof![ident(), spaced()], 1..3)
                .prop_map(Location::Path),
        ];
        (
            subject,
            verb,
            proptest::option::of(resource),
            location,
            proptest::option::of(condition()),
        )
            .prop_map(|(subject, verb, resource, location, condition)| {
                // A resource type is required after a verb word.
                let resource = match (&verb, resource) {
                    (Verb::Level(_), None) => Some("secrets".to_string()),
                    (_, r) => r,
                };
                Statement {
                    subject,
                    verb,
                    resource,
                    location,
                    condition,
                }
            })
            .prop_filter("a resource type cannot be the keyword 'in'", |s| {
                s.resource.as_deref() != Some("in")
            })
    }

    proptest! {
        #[test]
        fn print_then_parse_is_identity(s in statement()) {
            let printed = s.to_string();
            let parsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
            prop_assert_eq!(&parsed, &s);
            prop_assert_eq!(parse(&parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,80}") {
            let _ = parse(&text);
            let _ = parse_condition(&text);
        }
    }
}
