//! The kube client: kubeconfig (`--kubeconfig`, `--context`, `KUBECONFIG`)
//! or in-cluster config, with connect and read timeouts, TLS verification
//! on, and error messages that never carry a credential.

use super::{LiveError, Options};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use secrecy::ExposeSecret;

/// A connected client, and what error messages must never contain.
pub struct Connected {
    pub client: Client,
    pub server: String,
    pub redactor: Redactor,
    /// The kubeconfig asks to skip TLS verification (said on stderr).
    pub insecure: bool,
    pub timeout: std::time::Duration,
}

/// Removes credentials from text shown to the user.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if s.len() >= 4 {
                out = out.replace(s.as_str(), "<redacted>");
            }
        }
        redact_patterns(&out)
    }
}

/// Masks the value after words that introduce credentials (`Bearer x`,
/// `token: x`, `password=x`), for messages built before the credentials
/// were known (a kubeconfig that does not parse).
pub fn redact_patterns(text: &str) -> String {
    const MARKERS: &[&str] = &[
        "bearer ",
        "token:",
        "token=",
        "token\":",
        "password:",
        "password=",
        "key-data:",
        "client-key-data",
    ];
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hit = MARKERS.iter().find(|m| lower[i..].starts_with(**m));
        match hit {
            Some(m) => {
                out.push_str(&text[i..i + m.len()]);
                i += m.len();
                // Keep the spaces and quotes, mask the value.
                while i < text.len() && matches!(text.as_bytes()[i], b' ' | b'"' | b'\'') {
                    out.push(text.as_bytes()[i] as char);
                    i += 1;
                }
                let start = i;
                while i < text.len()
                    && !matches!(
                        text.as_bytes()[i],
                        b' ' | b'"' | b'\'' | b',' | b'\n' | b')'
                    )
                {
                    i += 1;
                }
                if i > start {
                    out.push_str("<redacted>");
                }
            }
            None => {
                let c = text[i..].chars().next().unwrap_or(' ');
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The error and its causes, one line: `a: b: c`.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

async fn load_config(opts: &Options) -> Result<Config, LiveError> {
    let kc_opts = KubeConfigOptions {
        context: opts.context.clone(),
        cluster: None,
        user: None,
    };
    // Only the first line of a parse error: the parser's code frame would
    // quote the kubeconfig, credentials included.
    let bad = |what: String, e: &(dyn std::error::Error + 'static)| {
        let detail = chain(e);
        let first = detail.lines().next().unwrap_or_default();
        LiveError::Config(redact_patterns(&format!("{what}: {first}")))
    };
    if let Some(path) = &opts.kubeconfig {
        let kc = Kubeconfig::read_from(path)
            .map_err(|e| bad(format!("cannot load kubeconfig {}", path.display()), &e))?;
        return Config::from_custom_kubeconfig(kc, &kc_opts)
            .await
            .map_err(|e| bad(format!("cannot use kubeconfig {}", path.display()), &e));
    }
    if opts.context.is_some() {
        return Config::from_kubeconfig(&kc_opts)
            .await
            .map_err(|e| bad("cannot load the kubeconfig".into(), &e));
    }
    Config::infer().await.map_err(|e| {
        bad(
            "no usable kubeconfig (KUBECONFIG, ~/.kube/config) and not running in a cluster".into(),
            &e,
        )
    })
}

pub async fn connect(opts: &Options) -> Result<Connected, LiveError> {
    let mut config = load_config(opts).await?;
    let mut redactor = Redactor::default();
    let auth = &config.auth_info;
    for s in [&auth.token, &auth.password, &auth.client_key_data]
        .into_iter()
        .flatten()
    {
        redactor.secrets.push(s.expose_secret().to_string());
    }
    config.connect_timeout = Some(opts.timeout);
    config.read_timeout = Some(opts.timeout);
    config.write_timeout = Some(opts.timeout);
    // The read timeout counts from the request, not from when a pooled
    // connection went idle.
    config.reset_reader_on_write = true;
    // Say who is asking, for the cluster's audit log.
    if let Ok(agent) = http::HeaderValue::from_str(&format!("kready/{}", env!("CARGO_PKG_VERSION")))
    {
        config.headers.push((http::header::USER_AGENT, agent));
    }
    let server = config.cluster_url.to_string();
    let server = server.trim_end_matches('/').to_string();
    let insecure = config.accept_invalid_certs;
    let client = Client::try_from(config).map_err(|e| {
        LiveError::Config(redactor.redact(&format!(
            "cannot build a client for {server}: {}",
            chain(&e)
        )))
    })?;
    Ok(Connected {
        client,
        server,
        redactor,
        insecure,
        timeout: opts.timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_mask_values() {
        assert_eq!(
            redact_patterns("Authorization: Bearer abc.def-123 rejected"),
            "Authorization: Bearer <redacted> rejected"
        );
        assert_eq!(
            redact_patterns("invalid type at user.token: \"s3cr3t\", line 4"),
            "invalid type at user.token: \"<redacted>\", line 4"
        );
        assert_eq!(redact_patterns("no secrets here"), "no secrets here");
        assert_eq!(
            redact_patterns("ünïcode token=x"),
            "ünïcode token=<redacted>"
        );
    }

    #[test]
    fn known_secrets_are_removed() {
        let r = Redactor {
            secrets: vec!["supersecrettoken".into()],
        };
        assert_eq!(r.redact("got supersecrettoken back"), "got <redacted> back");
    }
}
