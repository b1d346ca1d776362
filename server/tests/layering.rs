//! The layering rule keeps itself: this test reads the "Layering" table of
//! `ARCHITECTURE.md` (module → the modules of ours it may import) and every
//! source file under `src/`, and fails when a module names a module of ours
//! (`crate::x`) that its row does not allow, or an external crate its row
//! forbids. Test modules (`#[cfg(test)] mod tests`) are not checked.
//!
//! It also checks that the table itself has no cycle, so following it can
//! never make modules import one another in a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One row: which modules of ours a module may import, and which external
/// crates it must not.
#[derive(Debug, Default)]
struct Rule {
    allowed: BTreeSet<String>,
    forbidden_crates: BTreeSet<String>,
    everything: bool,
}

/// Parses the rows between `<!-- layering:begin -->` and
/// `<!-- layering:end -->`: `| `module` | `a`, `b` or nothing or everything | `crate`, … or — |`.
fn rules() -> BTreeMap<String, Rule> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).expect("ARCHITECTURE.md");
    let begin = text
        .find("<!-- layering:begin -->")
        .expect("ARCHITECTURE.md has a layering table");
    let end = text.find("<!-- layering:end -->").expect("layering:end");
    let names = |cell: &str| -> BTreeSet<String> {
        cell.split(',')
            .map(|n| n.trim().trim_matches('`').trim().to_owned())
            .filter(|n| !n.is_empty() && n != "nothing" && n != "—")
            .collect()
    };
    let mut rules = BTreeMap::new();
    for line in text[begin..end].lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // ["", module, may import, must not use, ""]
        if cells.len() < 5 || !cells[1].starts_with('`') {
            continue;
        }
        let module = cells[1].trim_matches('`').trim_end_matches('/').to_owned();
        let rule = Rule {
            everything: cells[2].contains("everything"),
            allowed: names(cells[2]),
            forbidden_crates: names(cells[3]),
        };
        rules.insert(module, rule);
    }
    assert!(
        rules.len() > 10,
        "the layering table has too few rows: {rules:?}"
    );
    rules
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`domain/keys.rs` → `domain`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The file without its test module.
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// Every `crate::x` a text names (in `use` lines and inline paths).
fn crate_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let before = text[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // e.g. `oci_vault_emulator_crate::`
        }
        let name: String = text[i + "crate::".len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

/// Whether the text uses an external crate (`use x::` or `x::` in a path).
fn uses_crate(text: &str, krate: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with("//"))
        .any(|l| {
            l.match_indices(&format!("{krate}::")).any(|(i, _)| {
                l[..i]
                    .chars()
                    .last()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'))
            })
        })
}

#[test]
fn every_module_imports_only_what_architecture_md_allows() {
    let rules = rules();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        if module == "lib" || module == "main" {
            continue;
        }
        let rule = rules
            .get(&module)
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no layering row for `{module}`"));
        let text = std::fs::read_to_string(file).unwrap();
        let text = without_tests(&text);
        let rel = file.strip_prefix(&src).unwrap().display();
        if !rule.everything {
            for used in crate_modules(text) {
                if used != module && !rule.allowed.contains(&used) {
                    violations.push(format!("{rel}: `{module}` may not import `crate::{used}`"));
                }
            }
        }
        for krate in &rule.forbidden_crates {
            if uses_crate(text, krate) {
                violations.push(format!("{rel}: `{module}` may not use the `{krate}` crate"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_layering_table_has_no_cycle() {
    let rules = rules();
    // Depth-first search over "may import" edges.
    fn visit<'a>(
        module: &'a str,
        rules: &'a BTreeMap<String, Rule>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|m| *m == module) {
            panic!("cycle: {} → {module}", path[start..].join(" → "));
        }
        path.push(module);
        if let Some(rule) = rules.get(module) {
            if !rule.everything {
                for next in &rule.allowed {
                    visit(next, rules, path, done);
                }
            }
        }
        path.pop();
        done.insert(module);
    }
    let mut done = BTreeSet::new();
    for module in rules.keys() {
        visit(module, &rules, &mut Vec::new(), &mut done);
    }
}

#[test]
fn the_checker_sees_imports_and_paths() {
    let text = "use crate::store::{self, Table};\nlet x = crate::clock::format_time(t);\n// crate::http in a comment counts too\n#[cfg(test)]\nmod tests { use crate::app; }";
    let found = crate_modules(without_tests(text));
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["clock", "http", "store"]
    );
    assert!(uses_crate("use axum::http::Method;", "axum"));
    assert!(uses_crate("    let r = axum::Json(x);", "axum"));
    assert!(!uses_crate("use my_axum::x;", "axum"));
    assert!(!uses_crate("// axum::x", "axum"));
}
