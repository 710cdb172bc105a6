//! Configuration of the Unipile client: the DSN, the API key and the request timeout.
//!
//! Rule: the DSN is the workspace's base URL (`https://apiN.unipile.com:PORT`); a missing scheme
//! means `https`, a trailing `/api/v1` is accepted, anything with another path or scheme is
//! refused; the API key never appears in `Debug` output.

use std::fmt;
use std::time::Duration;
use url::Url;

/// Default timeout of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and how to reach Unipile.
#[derive(Clone)]
pub struct UnipileConfig {
    /// The DSN of the Unipile workspace, e.g. `https://api8.unipile.com:13851` (a missing
    /// scheme means `https`; a trailing `/api/v1` is accepted).
    pub dsn: String,
    /// The access token (redacted in `Debug`).
    pub api_key: String,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl UnipileConfig {
    pub fn new(dsn: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            dsn: dsn.into(),
            api_key: api_key.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl fmt::Debug for UnipileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnipileConfig")
            .field("dsn", &self.dsn)
            .field("api_key", &"<redacted>")
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configuration the client cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum UnipileConfigError {
    #[error("the Unipile DSN is not an http(s) URL: {0}")]
    InvalidDsn(String),
    #[error("the Unipile API key is empty")]
    MissingApiKey,
    #[error("the HTTP client could not be built: {0}")]
    Client(#[from] reqwest::Error),
}

/// The DSN as a base URL (scheme, host, port; no path).
pub(super) fn base_url(dsn: &str) -> Result<Url, UnipileConfigError> {
    let dsn = dsn.trim().trim_end_matches('/');
    let dsn = dsn.strip_suffix("/api/v1").unwrap_or(dsn);
    let with_scheme = if dsn.contains("://") {
        dsn.to_owned()
    } else {
        format!("https://{dsn}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| UnipileConfigError::InvalidDsn(dsn.into()))?;
    let web = matches!(url.scheme(), "http" | "https");
    if !web || url.host_str().is_none() || url.path() != "/" {
        return Err(UnipileConfigError::InvalidDsn(dsn.into()));
    }
    Ok(url)
}
