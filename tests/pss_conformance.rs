//! The Pod Security Standards rules against the reference implementation's
//! own test data (`../shared/conformance/pss`, see its README.md), laid out
//! as `<level>/v1.<minor>/<verdict>/<check><n>.yaml`.
//!
//! Each file is scanned in-process with the PSS rules of its level at its
//! policy version. A `fail` file must get a finding from the rule mapped from
//! its check name; a `pass` file must get no PSS finding at all.

mod common;
use kready::catalog;
use kready::engine::ActiveRule;
use kready::rules;
use kready::scan;
use kready::settings::{KubeVersion, PssLevel, Settings};
use kready::yaml::Limits;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File-name prefix (the reference check, lower-cased) → kready rule.
const CHECK_RULE: &[(&str, &str)] = &[
    ("windowshostprocess", "host-process"),
    ("hostnamespaces", "host-namespaces"),
    ("privileged", "privileged-container"),
    ("capabilities_baseline", "capabilities-beyond-baseline"),
    ("hostpathvolumes", "host-path-volume"),
    ("hostports", "host-port"),
    ("apparmorprofile", "apparmor-unconfined"),
    ("selinuxoptions", "selinux-custom-options"),
    ("procmount_restricted", "proc-mount-unmasked"),
    ("procmount", "proc-mount-unmasked"),
    ("seccompprofile_baseline", "seccomp-unconfined"),
    ("sysctls", "unsafe-sysctls"),
    ("hostprobesandhostlifecycle", "probe-host-field"),
    ("restrictedvolumes", "restricted-volume-types"),
    ("allowprivilegeescalation", "privilege-escalation-allowed"),
    ("runasnonroot", "run-as-non-root"),
    ("runasuser", "run-as-root-user"),
    ("seccompprofile_restricted", "seccomp-profile-missing"),
    ("capabilities_restricted", "capabilities-not-dropped"),
];

/// The conformance folder: `common::shared()`, or a `shared/` folder above
/// the repository (worktrees live one level deeper than the main checkout).
fn conformance_root() -> PathBuf {
    let first = common::shared().join("conformance/pss");
    if first.is_dir() {
        return first;
    }
    common::repo_root()
        .ancestors()
        .map(|a| a.join("shared/conformance/pss"))
        .find(|p| p.is_dir())
        .unwrap_or(first)
}

/// The PSS rules of a level: baseline ones, or all of them for restricted.
fn pss_rules(level: PssLevel) -> Vec<ActiveRule> {
    let imps: HashMap<&str, rules::RuleImpl> =
        rules::all().into_iter().map(|r| (r.id, r)).collect();
    catalog::catalog()
        .iter()
        .filter(|m| m.pss.as_ref().is_some_and(|p| p.level <= level))
        .map(|meta| ActiveRule {
            meta,
            severity: meta.severity,
            imp: *imps
                .get(meta.id.as_str())
                .unwrap_or_else(|| panic!("{} has no implementation", meta.id)),
        })
        .collect()
}

fn rule_for(file_name: &str) -> Option<&'static str> {
    let stem = file_name.trim_end_matches(".yaml");
    let check = stem.trim_end_matches(|c: char| c.is_ascii_digit());
    CHECK_RULE
        .iter()
        .find(|(c, _)| *c == check)
        .map(|(_, r)| *r)
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn pss_rules_match_the_reference_implementation() {
    let root = conformance_root();
    assert!(
        root.join("README.md").is_file(),
        "conformance fixtures not found at {}",
        root.display()
    );
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut problems = Vec::new();
    for (level_dir, level) in [
        ("baseline", PssLevel::Baseline),
        ("restricted", PssLevel::Restricted),
    ] {
        let rules = pss_rules(level);
        assert_eq!(
            rules.len(),
            if level == PssLevel::Baseline { 12 } else { 18 },
            "PSS rules at {level_dir}"
        );
        let mut versions: Vec<PathBuf> = std::fs::read_dir(root.join(level_dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        versions.sort();
        for vdir in versions {
            let vname = vdir.file_name().unwrap().to_string_lossy().to_string();
            let version: KubeVersion = vname.parse().unwrap();
            let settings = Settings {
                kubernetes_version: version,
                pss_version: Some(version),
                pss_level: level,
                ..Settings::default()
            };
            for verdict in ["pass", "fail"] {
                for f in yaml_files(&vdir.join(verdict)) {
                    let name = f.file_name().unwrap().to_string_lossy().to_string();
                    let s = scan::scan_paths(
                        &[f.display().to_string()],
                        &settings,
                        rules.clone(),
                        &Limits::default(),
                    );
                    let findings: Vec<String> = s
                        .results
                        .findings
                        .iter()
                        .map(|x| {
                            format!(
                                "{} (line {}): {}",
                                s.results.rules[x.rule].meta.id, x.pos.line, x.message
                            )
                        })
                        .collect();
                    let ids: Vec<&str> = s
                        .results
                        .findings
                        .iter()
                        .map(|x| s.results.rules[x.rule].meta.id.as_str())
                        .collect();
                    let ok = if s.inventory.objects.is_empty() {
                        false
                    } else if verdict == "pass" {
                        ids.is_empty()
                    } else {
                        match rule_for(&name) {
                            Some(r) => ids.contains(&r),
                            None => false,
                        }
                    };
                    if ok {
                        passed += 1;
                    } else {
                        failed += 1;
                        let want = if verdict == "pass" {
                            "no finding".to_string()
                        } else {
                            format!("a finding from {:?}", rule_for(&name))
                        };
                        problems.push(format!(
                            "{level_dir}/{vname}/{verdict}/{name}: expected {want}, got {findings:#?}"
                        ));
                    }
                }
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    assert!(
        failed == 0,
        "{failed} conformance files misclassified:\n{}",
        problems.join("\n")
    );
    assert_eq!(passed, 4537, "every conformance file is checked");
}
