//! What rules may read besides objects: the target versions, the PSS level,
//! thresholds. Filled from defaults, `.kready.yaml` and flags.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A Kubernetes minor version (`1.30`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KubeVersion {
    pub major: u32,
    pub minor: u32,
}

impl KubeVersion {
    pub const fn new(major: u32, minor: u32) -> Self {
        KubeVersion { major, minor }
    }
    /// The default target: a recent release.
    pub const DEFAULT: KubeVersion = KubeVersion::new(1, 34);
}

impl FromStr for KubeVersion {
    type Err = String;
    /// Accepts `1.30`, `v1.30`, `1.30.2`, `v1.30.2-eks-1234`.
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().trim_start_matches('v');
        let mut it = t.split(['.', '-', '+']);
        let bad = || format!("`{s}` is not a Kubernetes version (expected e.g. 1.30)");
        let major = it.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
        let minor_txt = it.next().ok_or_else(bad)?;
        let digits: String = minor_txt.chars().take_while(char::is_ascii_digit).collect();
        let minor = digits.parse().map_err(|_| bad())?;
        Ok(KubeVersion { major, minor })
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for KubeVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for KubeVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Pod Security Standards level whose rules run.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    Baseline,
    Restricted,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Thresholds {
    /// Fewest replicas a Deployment/StatefulSet should run (single-replica).
    pub min_replicas: i64,
    /// Lowest UID/GID that does not collide with host users (low-user-id).
    pub min_user_id: i64,
    /// Highest limit/request ratio (limit-request-ratio-high).
    pub max_limit_request_ratio: f64,
    /// Shortest backup retention in days (backup-retention-short).
    pub min_backup_retention_days: f64,
    /// Registries images may come from (image-registry-not-allowed; empty: rule off).
    pub allowed_registries: Vec<String>,
    /// Highest sum of limits over allocatable on a node (node-overcommitted).
    pub max_node_overcommit: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_replicas: 2,
            min_user_id: 10000,
            max_limit_request_ratio: 4.0,
            min_backup_retention_days: 7.0,
            allowed_registries: Vec::new(),
            max_node_overcommit: 2.0,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// Target Kubernetes version: deprecations and the PSS policy version.
    pub kubernetes_version: KubeVersion,
    /// The version was chosen by the user (flag or config): a live
    /// server's version does not replace it.
    pub kubernetes_version_set: bool,
    /// PSS policy version when it differs from `kubernetes_version`.
    pub pss_version: Option<KubeVersion>,
    pub pss_level: PssLevel,
    /// The input is a whole cluster: cluster-scope rules run.
    pub cluster_profile: bool,
    /// Objects come from a live API server.
    pub live: bool,
    /// Rules may read `status` (live scans and `kready snapshot` files).
    /// Plain manifests never: their status is stale or absent.
    pub read_status: bool,
    pub thresholds: Thresholds,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kubernetes_version: KubeVersion::DEFAULT,
            kubernetes_version_set: false,
            pss_version: None,
            pss_level: PssLevel::Restricted,
            cluster_profile: false,
            live: false,
            read_status: false,
            thresholds: Thresholds::default(),
        }
    }
}

impl Settings {
    /// The PSS policy version checks follow.
    pub fn pss_version(&self) -> KubeVersion {
        self.pss_version.unwrap_or(self.kubernetes_version)
    }

    /// True when the PSS policy at the target version is at least `minor` (1.x).
    pub fn pss_at_least(&self, minor: u32) -> bool {
        self.pss_version() >= KubeVersion::new(1, minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            "1.30".parse::<KubeVersion>().unwrap(),
            KubeVersion::new(1, 30)
        );
        assert_eq!(
            "v1.20.2".parse::<KubeVersion>().unwrap(),
            KubeVersion::new(1, 20)
        );
        assert_eq!(
            "v1.29.3-eks-4a0ef8e".parse::<KubeVersion>().unwrap(),
            KubeVersion::new(1, 29)
        );
        assert_eq!(
            "1.27+".parse::<KubeVersion>().unwrap(),
            KubeVersion::new(1, 27)
        );
        assert!("latest".parse::<KubeVersion>().is_err());
    }
}
