//! LinkedIn profile URLs in their one canonical form, `https://linkedin.com/in/<slug>`.
//!
//! The Do-Not-Contact list, prospect imports and duplicate checks all compare URLs in this form,
//! so two spellings of the same profile are always the same entry.

/// The canonical prefix of every normalised profile URL.
pub const CANONICAL_PREFIX: &str = "https://linkedin.com/in/";

/// Longest profile slug we accept (LinkedIn allows 100; percent-encoding can triple it).
pub const MAX_SLUG_LEN: usize = 300;

/// Longest URL input we look at.
pub const MAX_URL_LEN: usize = 2048;
/// Most URLs added to the list in one request (Kakiyo's limit of a DNC upload).
pub const MAX_BATCH_URLS: usize = 1000;

/// `https://linkedin.com/in/<slug>` for any accepted spelling of a profile URL, or `None` when
/// the input is not a LinkedIn profile URL.
///
/// Accepted: with or without scheme (`http`, `https`), `www.` or a country subdomain
/// (`fr.linkedin.com`), a trailing slash, a query string or fragment, and the bare `in/<slug>`.
/// The slug is lowercased; it may contain letters, digits, `-`, `_` and percent-encoded bytes.
pub fn normalize_linkedin_url(input: &str) -> Option<String> {
    slug_of(input).map(|slug| format!("{CANONICAL_PREFIX}{slug}"))
}

/// The lowercased profile slug of an accepted URL (see [`normalize_linkedin_url`]).
pub fn slug_of(input: &str) -> Option<String> {
    let input = input.trim();
    if input.is_empty() || input.len() > MAX_URL_LEN {
        return None;
    }
    let lower = input.to_ascii_lowercase();
    let without_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let without_extras = without_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or(without_scheme);
    let path = if let Some(path) = without_extras.strip_prefix("in/") {
        path
    } else {
        let (host, path) = without_extras.split_once('/')?;
        if !is_linkedin_host(host) {
            return None;
        }
        path.strip_prefix("in/")?
    };
    let slug = path.strip_suffix('/').unwrap_or(path);
    is_valid_slug(slug).then(|| slug.to_owned())
}

fn is_linkedin_host(host: &str) -> bool {
    let host = host.strip_suffix(":443").unwrap_or(host);
    match host.strip_suffix("linkedin.com") {
        Some("") => true,
        Some(sub) => {
            let sub = sub.strip_suffix('.').unwrap_or("");
            sub.len() >= 2 && sub.len() <= 3 && sub.bytes().all(|c| c.is_ascii_lowercase())
        }
        None => false,
    }
}

fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_LEN
        && slug
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'%' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_spelling_normalises_to_one_form() {
        let cases = [
            "https://linkedin.com/in/u",
            "https://www.linkedin.com/in/u/",
            "linkedin.com/in/u",
            "in/u",
            "http://www.linkedin.com/in/u",
            "HTTPS://WWW.LINKEDIN.COM/IN/U/",
            "  https://linkedin.com/in/u  ",
            "https://www.linkedin.com/in/u?utm_source=share",
            "https://www.linkedin.com/in/u/#about",
            "www.linkedin.com/in/u",
            "https://fr.linkedin.com/in/u/",
            "https://www.linkedin.com:443/in/u",
        ];
        for input in cases {
            assert_eq!(
                normalize_linkedin_url(input).as_deref(),
                Some("https://linkedin.com/in/u"),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn slugs_keep_their_characters_but_lose_case() {
        assert_eq!(
            normalize_linkedin_url("https://www.linkedin.com/in/Jane-Doe_42/").as_deref(),
            Some("https://linkedin.com/in/jane-doe_42")
        );
        assert_eq!(
            normalize_linkedin_url("linkedin.com/in/jos%C3%A9-garc%C3%ADa").as_deref(),
            Some("https://linkedin.com/in/jos%c3%a9-garc%c3%ada")
        );
    }

    #[test]
    fn other_urls_are_rejected() {
        let cases = [
            "",
            "   ",
            "not a url",
            "https://linkedin.com/company/acme",
            "https://linkedin.com/in/",
            "https://linkedin.com/in//",
            "https://evil.com/in/u",
            "https://linkedin.com.evil.com/in/u",
            "https://notlinkedin.com/in/u",
            "https://linkedin.com/in/u/details/experience",
            "https://linkedin.com/in/jane doe",
            "ftp://linkedin.com/in/u",
            "in/",
        ];
        for input in cases {
            assert_eq!(normalize_linkedin_url(input), None, "input {input:?}");
        }
        assert_eq!(normalize_linkedin_url(&"a".repeat(MAX_URL_LEN + 1)), None);
    }
}
