//! Dynamic groups: which instance and resource principals a matching rule
//! takes in (reference §11.6, Oracle "Writing Matching Rules to Define
//! Dynamic Groups").
//!
//! A rule is one condition or `ANY {…}` / `ALL {…}` of conditions (nesting
//! allowed), each `variable = 'value'` or `variable != 'value'` (patterns
//! `/…*/` too, compared without regard to case, as in policies), over:
//!
//! - `instance.id`, `instance.compartment.id` (instance principals);
//! - `resource.id`, `resource.type`, `resource.compartment.id` (resource
//!   principals: the RPST's `res_id`, `res_type`, `res_compartment`);
//! - `tag.<namespace>.<key>.value` (an instance's defined tag), compared
//!   with a value, or alone to mean "has this tag".
//!
//! A variable the principal does not have (an instance's `resource.type`)
//! makes its condition false, `!=` included, as OCI declines a condition on
//! a variable a request does not supply.

use std::fmt;

use super::policy::{value_matches, Condition, ParseError};
use serde::{Deserialize, Serialize};

/// Variables a matching rule may name (besides `tag.<ns>.<key>.value`).
pub const VARIABLES: &[&str] = &[
    "instance.id",
    "instance.compartment.id",
    "resource.id",
    "resource.type",
    "resource.compartment.id",
];

/// One dynamic group checked against one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    /// The dynamic group's OCID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether the rule holds.
    pub matched: bool,
    /// Why, naming the principal's values (`instance.compartment.id =
    /// 'ocid1…'`).
    pub why: String,
}

/// What a principal offers a matching rule.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    vars: Vec<(&'static str, String)>,
    /// `(namespace, key, value)` of defined tags.
    tags: Vec<(String, String, String)>,
}

impl Facts {
    /// An instance principal's: `instance.id`, `instance.compartment.id`,
    /// its defined tags.
    pub fn instance(instance: &Instance) -> Self {
        Self {
            vars: vec![
                ("instance.id", instance.id.clone()),
                ("instance.compartment.id", instance.compartment_id.clone()),
            ],
            tags: instance
                .defined_tags
                .iter()
                .flat_map(|(ns, keys)| {
                    keys.iter()
                        .map(move |(k, v)| (ns.clone(), k.clone(), v.clone()))
                })
                .collect(),
        }
    }

    /// A resource principal's: `resource.id`, `resource.type`,
    /// `resource.compartment.id`.
    pub fn resource(id: &str, resource_type: &str, compartment_id: &str) -> Self {
        Self {
            vars: vec![
                ("resource.id", id.to_owned()),
                ("resource.type", resource_type.to_owned()),
                ("resource.compartment.id", compartment_id.to_owned()),
            ],
            tags: Vec::new(),
        }
    }

    fn value(&self, variable: &str) -> Option<&str> {
        if let Some(tag) = variable
            .strip_prefix("tag.")
            .and_then(|t| t.strip_suffix(".value"))
        {
            let (ns, key) = tag.split_once('.')?;
            return self
                .tags
                .iter()
                .find(|(n, k, _)| n.eq_ignore_ascii_case(ns) && k.eq_ignore_ascii_case(key))
                .map(|(_, _, v)| v.as_str());
        }
        self.vars
            .iter()
            .find(|(name, _)| *name == variable)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a matching rule. A bare `tag.<ns>.<key>.value` (presence) is
/// read as `tag.<ns>.<key>.value = /*/`.
///
/// # Errors
/// Where it stops parsing; or a variable a matching rule cannot name.
pub fn parse_rule(text: &str) -> Result<Condition, ParseError> {
    let condition = super::policy::parse_condition(text)?;
    for variable in condition.variables() {
        let is_tag = variable.starts_with("tag.")
            && variable.ends_with(".value")
            && variable.matches('.').count() == 3;
        if !is_tag && !VARIABLES.contains(&variable) {
            return Err(ParseError {
                column: text.to_lowercase().find(variable).map_or(1, |i| i + 1),
                message: format!(
                    "{variable} is not a matching-rule variable (instance.id, instance.compartment.id, resource.id, resource.type, resource.compartment.id, tag.<namespace>.<key>.value)"
                ),
            });
        }
    }
    Ok(condition)
}

/// Every dynamic group checked against `facts` (`rules[i]` is
/// `groups[i]`'s parsed rule).
pub fn evaluate(groups: &[DynamicGroup], rules: &[Condition], facts: &Facts) -> Vec<Match> {
    groups
        .iter()
        .zip(rules)
        .map(|(g, rule)| {
            let matched = holds(rule, facts);
            let values = rule
                .variables()
                .iter()
                .map(|v| match facts.value(v) {
                    Some(x) => format!("{v} = '{x}'"),
                    None => format!("{v} absent"),
                })
                .collect::<Vec<_>>();
            let why = format!(
                "{} {} ({})",
                g.matching_rule,
                if matched { "holds" } else { "does not hold" },
                Values(&values)
            );
            Match {
                id: g.id.clone(),
                name: g.name.clone(),
                matched,
                why,
            }
        })
        .collect()
}

struct Values<'a>(&'a [String]);

impl fmt::Display for Values<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut seen: Vec<&str> = Vec::new();
        for v in self.0 {
            if !seen.contains(&v.as_str()) {
                if !seen.is_empty() {
                    f.write_str(", ")?;
                }
                f.write_str(v)?;
                seen.push(v);
            }
        }
        Ok(())
    }
}

fn holds(condition: &Condition, facts: &Facts) -> bool {
    match condition {
        Condition::Any(list) => list.iter().any(|c| holds(c, facts)),
        Condition::All(list) => list.iter().all(|c| holds(c, facts)),
        Condition::Compare {
            variable,
            negated,
            value,
        } => match facts.value(variable) {
            Some(actual) => value_matches(value, actual) != *negated,
            None => false,
        },
        // `parse_rule` refuses the request.utc-timestamp variables.
        Condition::Time(_) => false,
    }
}

/// A compute instance, as OCI's `Instance` model names its fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Instance {
    /// `ocid1.instance.oc1..…`
    pub id: String,
    /// The compartment it lives in.
    pub compartment_id: String,
    /// Display name.
    pub display_name: String,
    /// Free-form tags (`{"key": "value"}`); shown, not matched (OCI's
    /// matching rules read defined tags).
    #[serde(default)]
    pub freeform_tags: std::collections::BTreeMap<String, String>,
    /// Defined tags (`{"namespace": {"key": "value"}}`), read by
    /// `tag.<namespace>.<key>.value` in matching rules.
    #[serde(default)]
    pub defined_tags:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

/// A dynamic group: principals matching `matchingRule` are its members.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DynamicGroup {
    /// `ocid1.dynamicgroup.oc1..…`
    pub id: String,
    /// Name.
    pub name: String,
    /// e.g. `any {instance.compartment.id = 'ocid1.compartment…'}`.
    pub matching_rule: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(rule: &str) -> (Vec<DynamicGroup>, Vec<Condition>) {
        (
            vec![DynamicGroup {
                id: "ocid1.dynamicgroup.oc1..g".into(),
                name: "G".into(),
                matching_rule: rule.into(),
            }],
            vec![parse_rule(rule).unwrap()],
        )
    }

    fn instance(compartment: &str, tags: &[(&str, &str, &str)]) -> Instance {
        let mut defined = std::collections::BTreeMap::new();
        for (ns, k, v) in tags {
            defined
                .entry(ns.to_string())
                .or_insert_with(std::collections::BTreeMap::new)
                .insert(k.to_string(), v.to_string());
        }
        Instance {
            id: "ocid1.instance.oc1..i".into(),
            compartment_id: compartment.into(),
            display_name: "i".into(),
            freeform_tags: Default::default(),
            defined_tags: defined,
        }
    }

    fn matched(rule: &str, facts: &Facts) -> bool {
        let (g, r) = group(rule);
        evaluate(&g, &r, facts)[0].matched
    }

    #[test]
    fn instance_rules_match_by_compartment_id_and_tags() {
        let c = Facts::instance(&instance(
            "ocid1.compartment.oc1..c",
            &[("ops", "role", "web")],
        ));
        assert!(matched(
            "instance.compartment.id = 'ocid1.compartment.oc1..c'",
            &c
        ));
        assert!(!matched(
            "instance.compartment.id = 'ocid1.compartment.oc1..d'",
            &c
        ));
        assert!(matched(
            "ALL {instance.id = 'ocid1.instance.oc1..i', tag.ops.role.value = 'web'}",
            &c
        ));
        assert!(matched("ANY {tag.ops.role.value}", &c));
        assert!(!matched("ANY {tag.ops.team.value}", &c));
        assert!(!matched("resource.type != 'fnfunc'", &c), "absent is false");
        let (g, r) = group("instance.compartment.id = 'ocid1.compartment.oc1..d'");
        assert_eq!(
            evaluate(&g, &r, &c)[0].why,
            "instance.compartment.id = 'ocid1.compartment.oc1..d' does not hold (instance.compartment.id = 'ocid1.compartment.oc1..c')"
        );
    }

    #[test]
    fn resource_rules_match_by_type_id_and_compartment() {
        let f = Facts::resource(
            "ocid1.computecontainerinstance.oc1..r",
            "computecontainerinstance",
            "ocid1.compartment.oc1..c",
        );
        assert!(matched(
            "ALL {resource.type = 'computecontainerinstance', resource.compartment.id = 'ocid1.compartment.oc1..c'}",
            &f
        ));
        assert!(!matched("resource.type = 'fnfunc'", &f));
        assert!(!matched(
            "instance.compartment.id = 'ocid1.compartment.oc1..c'",
            &f
        ));
    }

    #[test]
    fn unknown_variables_are_refused_with_the_column() {
        let e = parse_rule("ANY {request.user.id = 'x'}").unwrap_err();
        assert_eq!(e.column, 6);
        assert!(e.message.contains("request.user.id"), "{}", e.message);
    }
}
