//! `.kready.yaml`: what a team tunes once for every run. Found in the
//! current folder or its parents (or given with `--config`), read strictly:
//! an unknown key or a value of the wrong type is an error with its line and
//! column, never ignored, because a misspelt exemption that silently does
//! nothing is worse than no exemption.
//!
//! Precedence: built-in defaults, then this file, then command-line flags.
//! The schema is `schemas/kready-config.schema.json`; `kready init` writes
//! a commented starting file ([`TEMPLATE`]).

use crate::catalog::{self, Pillar, Severity};
use crate::diagnostic::{Diagnostic, SharedText};
use crate::scan::RuleOverrides;
use crate::settings::{KubeVersion, PssLevel, Settings, Thresholds};
use crate::suppress::{Exemption, Matcher, Origin, RuleMatcher};
use crate::yaml::{self, de::from_node, Limits, Node, Pos};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File names looked for, in this order, in each folder.
pub const FILE_NAMES: [&str; 2] = [".kready.yaml", ".kready.yml"];

/// Diagnostic code of every configuration error.
pub const CODE_INVALID: &str = "config-invalid";

/// The gate's severity threshold (`--fail-on`, `failOn:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
    Info,
    /// Never fail on findings (the score gate still applies)
    Never,
}

impl FailOn {
    /// The lowest severity that fails the gate; `None` for `never`.
    pub fn severity(self) -> Option<Severity> {
        Some(match self {
            FailOn::Critical => Severity::Critical,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
            FailOn::Info => Severity::Info,
            FailOn::Never => return None,
        })
    }
}

/// The whole file. Every field is optional; absent means "the default".
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Target Kubernetes version (`"1.30"`).
    pub kubernetes_version: Option<KubeVersion>,
    /// Pod Security Standards level: `baseline` or `restricted`.
    pub pss_level: Option<PssLevel>,
    /// PSS policy version when it differs from `kubernetesVersion`.
    pub pss_version: Option<KubeVersion>,
    /// The input is a whole cluster: cluster-scope rules run.
    pub cluster_profile: Option<bool>,
    /// Gate: fail on findings of this severity or higher.
    pub fail_on: Option<FailOn>,
    /// Gate: fail when the overall score is below this.
    pub min_score: Option<f64>,
    #[serde(default, deserialize_with = "null_default")]
    pub rules: RulesConfig,
    /// Thresholds; absent keys keep their defaults.
    #[serde(default, deserialize_with = "null_default")]
    pub thresholds: Option<Thresholds>,
    #[serde(default, deserialize_with = "null_default")]
    pub exemptions: Vec<ExemptionSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    /// Rule IDs or pillars to turn on (an ID turns on an opt-in rule too).
    #[serde(default, deserialize_with = "null_default")]
    pub enable: Vec<String>,
    /// Rule IDs or pillars to turn off.
    #[serde(default, deserialize_with = "null_default")]
    pub disable: Vec<String>,
    /// Rule ID → severity.
    #[serde(default, deserialize_with = "null_default")]
    pub severity: BTreeMap<String, Severity>,
}

/// One exemption as written: which findings (rule, namespace, kind, name;
/// globs), why, and until when.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExemptionSpec {
    /// Rule IDs, pillars or globs over rule IDs; `"*"` for every rule.
    pub rules: Globs,
    pub namespace: Option<Globs>,
    pub kind: Option<Globs>,
    pub name: Option<Globs>,
    /// Why the findings are accepted (shown in every report).
    pub reason: String,
    /// Last day the exemption applies (`2027-01-31`); after it, findings come back.
    pub until: Option<Date>,
}

/// One glob or a list of globs (`name: "calico-*"` or `name: [a, b]`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Globs(pub Vec<String>);

impl<'de> Deserialize<'de> for Globs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read through `Node` text so `name: 123` stays "123".
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Globs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Globs, E> {
                Ok(Globs(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Globs, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = a.next_element::<String>()? {
                    out.push(s);
                }
                Ok(Globs(out))
            }
        }
        d.deserialize_any(ScalarAsStr(V))
    }
}

/// Visitor adapter: numbers and booleans (from `deserialize_any`) read as
/// text, so a glob like `1.2` or `true` is not a type error.
struct ScalarAsStr<V>(V);

impl<'de, V: serde::de::Visitor<'de>> serde::de::Visitor<'de> for ScalarAsStr<V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        self.0.visit_str(v)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<V::Value, E> {
        self.0.visit_str(&v.to_string())
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<V::Value, E> {
        self.0.visit_str(&v.to_string())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<V::Value, E> {
        self.0.visit_str(&v.to_string())
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<V::Value, E> {
        self.0.visit_str(&v.to_string())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, a: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(a)
    }
}

/// A calendar day, written `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub chrono::NaiveDate);

impl std::str::FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Date)
            .map_err(|_| format!("`{s}` is not a date (expected YYYY-MM-DD, e.g. 2027-01-31)"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `key:` with nothing after it means the default, not a type error
/// (a template whose entries are all commented out must still load).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A configuration file, read and checked.
#[derive(Debug)]
pub struct LoadedConfig {
    pub path: PathBuf,
    /// The path as shown in messages.
    pub file: Arc<str>,
    pub text: SharedText,
    pub config: Config,
    /// The exemptions, compiled (globs built, dates parsed).
    pub exemptions: Vec<Exemption>,
}

/// Why a configuration could not be used: positioned diagnostics, and the
/// text for their code frames.
#[derive(Debug)]
pub struct ConfigError {
    pub diagnostics: Vec<Diagnostic>,
    pub text: Option<SharedText>,
}

impl ConfigError {
    fn whole_file(file: &Arc<str>, message: String) -> ConfigError {
        ConfigError {
            diagnostics: vec![Diagnostic::error(CODE_INVALID, file, None, message)],
            text: None,
        }
    }

    /// Every diagnostic, rendered with miette (file, line, column, code frame).
    pub fn render(&self, color: bool) -> String {
        let src = self.text.clone().map(crate::diagnostic::SourceText::new);
        self.diagnostics
            .iter()
            .map(|d| crate::diagnostic::render(d, src.as_ref(), color))
            .collect()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            match d.pos {
                Some(p) => writeln!(f, "{}:{}:{}: {}", d.file, p.line, p.column, d.message)?,
                None => writeln!(f, "{}: {}", d.file, d.message)?,
            }
        }
        Ok(())
    }
}

/// The configuration file that applies in `start` (a folder): the first
/// `.kready.yaml` (or `.kready.yml`) in it or its parents.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find_map(|dir| FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()))
}

/// Reads and checks the configuration at `path`.
pub fn load_file(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let file: Arc<str> = Arc::from(display_path(path).as_str());
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::whole_file(&file, format!("cannot read the configuration: {e}"))
    })?;
    let mut loaded = parse(&text, file)?;
    loaded.path = path.to_path_buf();
    Ok(loaded)
}

/// The path relative to the working directory when it is below it.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let abs = std::fs::canonicalize(path).ok();
    match (cwd.and_then(|c| std::fs::canonicalize(c).ok()), abs) {
        (Some(c), Some(a)) => match a.strip_prefix(&c) {
            Ok(rel) => rel.display().to_string(),
            Err(_) => a.display().to_string(),
        },
        _ => path.display().to_string(),
    }
}

/// Parses and checks configuration text; `file` names it in messages.
pub fn parse(text: &str, file: Arc<str>) -> Result<LoadedConfig, ConfigError> {
    let shared_text: SharedText = Arc::new(text.to_string());
    let fail = |diagnostics: Vec<Diagnostic>| ConfigError {
        diagnostics,
        text: Some(shared_text.clone()),
    };
    let loaded = yaml::load(text, &Limits::default());
    if !loaded.problems.is_empty() {
        return Err(fail(
            loaded
                .problems
                .iter()
                .map(|p| Diagnostic::error(CODE_INVALID, &file, Some(p.pos), p.message.clone()))
                .collect(),
        ));
    }
    if loaded.docs.len() > 1 {
        let pos = Pos {
            line: loaded.docs[1].start_line,
            col: 1,
        };
        return Err(fail(vec![Diagnostic::error(
            CODE_INVALID,
            &file,
            Some(pos),
            "the configuration holds more than one YAML document",
        )]));
    }
    let empty = Node::scalar("", true, Pos::NONE);
    let root = loaded.docs.first().map(|d| &d.root).unwrap_or(&empty);
    let config: Config = if root.is_null() {
        Config::default()
    } else if root.as_map().is_none() {
        return Err(fail(vec![Diagnostic::error(
            CODE_INVALID,
            &file,
            Some(root.pos),
            format!(
                "the configuration must be a mapping of settings, not {}",
                root.type_name()
            ),
        )]));
    } else {
        from_node(root).map_err(|e| {
            let at = if e.path.is_empty() || e.path == "." {
                String::new()
            } else {
                format!(" (at `{}`)", e.path)
            };
            fail(vec![Diagnostic::error(
                CODE_INVALID,
                &file,
                Some(e.pos),
                format!("{}{at}", e.message),
            )
            .with_help(
                "see schemas/kready-config.schema.json, or `kready init` for a commented example",
            )])
        })?
    };
    let mut problems = Vec::new();
    let exemptions = check(&config, root, &file, &mut problems);
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(LoadedConfig {
        path: PathBuf::from(file.as_ref()),
        file,
        text: shared_text,
        config,
        exemptions,
    })
}

/// What a rule reference names.
fn known(id: &str) -> bool {
    Pillar::parse(id).is_some() || catalog::find(id).is_some()
}

fn unknown_rule(id: &str) -> String {
    crate::scan::unknown_rule(id)
}

/// Checks what types cannot: rule IDs exist, globs compile, numbers are in
/// range. Returns the compiled exemptions.
fn check(cfg: &Config, root: &Node, file: &Arc<str>, out: &mut Vec<Diagnostic>) -> Vec<Exemption> {
    let mut err = |pos: Pos, msg: String| {
        out.push(Diagnostic::error(CODE_INVALID, file, Some(pos), msg));
    };
    let rules_node = root.get("rules");
    for list in ["enable", "disable"] {
        let items = rules_node.and_then(|r| r.get(list));
        for (i, id) in match list {
            "enable" => &cfg.rules.enable,
            _ => &cfg.rules.disable,
        }
        .iter()
        .enumerate()
        {
            let pos = items
                .and_then(|n| n.items().get(i))
                .map_or(root.pos, |n| n.pos);
            if !known(id) {
                err(pos, unknown_rule(id));
            }
        }
    }
    for (i, id) in cfg.rules.disable.iter().enumerate() {
        if cfg.rules.enable.contains(id) {
            let pos = rules_node
                .and_then(|r| r.get("disable"))
                .and_then(|n| n.items().get(i))
                .map_or(root.pos, |n| n.pos);
            err(pos, format!("`{id}` is both enabled and disabled"));
        }
    }
    if let Some(sev) = rules_node
        .and_then(|r| r.get("severity"))
        .and_then(Node::as_map)
    {
        for (k, _) in &sev.entries {
            if catalog::find(&k.text).is_none() {
                let msg = if Pillar::parse(&k.text).is_some() {
                    format!(
                        "severity overrides take rule IDs, not a pillar (`{}`)",
                        k.text
                    )
                } else {
                    unknown_rule(&k.text).replace("rule or pillar", "rule")
                };
                err(k.pos, msg);
            }
        }
    }
    if let Some(m) = cfg.min_score {
        if !(0.0..=100.0).contains(&m) {
            let pos = root.get("minScore").map_or(root.pos, |n| n.pos);
            err(
                pos,
                format!("minScore is {m}: it takes a number from 0 to 100"),
            );
        }
    }
    if let Some(t) = &cfg.thresholds {
        let tn = root.get("thresholds");
        let at = |k: &str| tn.and_then(|n| n.get(k)).map_or(root.pos, |n| n.pos);
        if t.min_replicas < 1 {
            err(at("minReplicas"), "minReplicas must be at least 1".into());
        }
        if t.max_limit_request_ratio < 1.0 {
            err(
                at("maxLimitRequestRatio"),
                "maxLimitRequestRatio must be at least 1".into(),
            );
        }
    }

    let ex_nodes = root.get("exemptions");
    let mut compiled = Vec::new();
    for (i, spec) in cfg.exemptions.iter().enumerate() {
        let node = ex_nodes.and_then(|n| n.items().get(i));
        let pos_of = |k: &str| {
            node.and_then(|n| n.get(k))
                .or(node)
                .map_or(root.pos, |n| n.pos)
        };
        let item_pos = |k: &str, j: usize| {
            node.and_then(|n| n.get(k))
                .map(|n| n.items().get(j).unwrap_or(n).pos)
                .unwrap_or_else(|| pos_of(k))
        };
        if spec.reason.trim().is_empty() {
            err(
                pos_of("reason"),
                "an exemption needs a reason: say why these findings are accepted".into(),
            );
        }
        if spec.rules.0.is_empty() {
            err(
                pos_of("rules"),
                "an exemption needs at least one rule (`\"*\"` for every rule)".into(),
            );
        }
        let mut rules = Vec::new();
        for (j, r) in spec.rules.0.iter().enumerate() {
            match RuleMatcher::parse(r) {
                Ok(m) if m.matches_any_rule() => rules.push(m),
                Ok(_) if is_glob(r) => err(
                    item_pos("rules", j),
                    format!("the glob `{r}` matches no rule; `kready rules` lists them"),
                ),
                Ok(_) => err(item_pos("rules", j), unknown_rule(r)),
                Err(e) => err(item_pos("rules", j), e),
            }
        }
        let mut matcher = |k: &str, g: &Option<Globs>| -> Option<Matcher> {
            let g = g.as_ref()?;
            match Matcher::new(&g.0) {
                Ok(m) => Some(m),
                Err((j, e)) => {
                    err(item_pos(k, j), e);
                    None
                }
            }
        };
        let namespace = matcher("namespace", &spec.namespace);
        let kind = matcher("kind", &spec.kind);
        let name = matcher("name", &spec.name);
        compiled.push(Exemption {
            rules,
            namespace,
            kind,
            name,
            reason: spec.reason.trim().to_string(),
            until: spec.until.map(|d| d.0),
            origin: Origin::Config {
                file: file.clone(),
                pos: node.map_or(Pos::NONE, |n| n.pos),
                until_pos: node
                    .and_then(|n| n.get("until"))
                    .map_or(Pos::NONE, |n| n.pos),
            },
        });
    }
    compiled
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

impl LoadedConfig {
    /// Applies the file's settings on top of `s` (flags are applied after).
    pub fn apply_settings(&self, s: &mut Settings) {
        let c = &self.config;
        if let Some(v) = c.kubernetes_version {
            s.kubernetes_version = v;
            s.kubernetes_version_set = true;
        }
        if let Some(v) = c.pss_level {
            s.pss_level = v;
        }
        if c.pss_version.is_some() {
            s.pss_version = c.pss_version;
        }
        if let Some(v) = c.cluster_profile {
            s.cluster_profile = v;
        }
        if let Some(t) = &c.thresholds {
            s.thresholds = t.clone();
        }
    }

    /// Rule selection and severity overrides for `scan::select_rules_with`.
    pub fn rule_overrides(&self) -> RuleOverrides {
        let r = &self.config.rules;
        RuleOverrides {
            enable: r.enable.clone(),
            disable: r.disable.clone(),
            severity: r.severity.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }
}

/// What `kready init` writes: every setting, commented, with its default.
pub const TEMPLATE: &str = include_str!("config_template.yaml");

/// Writes [`TEMPLATE`] to `path`; refuses to overwrite unless `force`.
pub fn init(path: &Path, force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{} already exists (use --force to overwrite it)",
            path.display()
        ));
    }
    std::fs::write(path, TEMPLATE).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<LoadedConfig, ConfigError> {
        parse(s, Arc::from(".kready.yaml"))
    }

    #[test]
    fn template_loads_and_changes_nothing() {
        let c = parse_str(TEMPLATE).unwrap_or_else(|e| panic!("{e}"));
        let mut s = Settings::default();
        c.apply_settings(&mut s);
        assert_eq!(s.kubernetes_version, Settings::default().kubernetes_version);
        assert!(c.config.exemptions.is_empty());
    }

    #[test]
    fn empty_file_is_the_default() {
        let c = parse_str("# nothing\n").unwrap();
        assert!(c.config.kubernetes_version.is_none());
    }

    #[test]
    fn dates_parse_strictly() {
        assert!("2027-01-31".parse::<Date>().is_ok());
        assert!("2027-02-30".parse::<Date>().is_err());
        assert!("31/01/2027".parse::<Date>().is_err());
    }

    #[test]
    fn globs_take_one_or_many() {
        let c =
            parse_str("exemptions:\n- rules: '*'\n  name: [a, 'b-*']\n  kind: 123\n  reason: r\n")
                .unwrap();
        let e = &c.config.exemptions[0];
        assert_eq!(e.rules, Globs(vec!["*".into()]));
        assert_eq!(e.name, Some(Globs(vec!["a".into(), "b-*".into()])));
        assert_eq!(e.kind, Some(Globs(vec!["123".into()])));
    }
}
