//! The people of the simulated network: names, jobs, companies and places, keyed by the slug.
//!
//! Rule: everything about a person is a pure function of `(seed, slug)`; a slug that reads like
//! a name (`jane-doe-42`) gives that name, so a URL found by a search and the profile behind it
//! always agree.

use crate::connector::{Profile, SearchHit};
use crate::hash::Hasher;
use outbound_core::dnc::CANONICAL_PREFIX;

const FIRST_NAMES: &[&str] = &[
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Sophia", "Mateo", "Mia", "Ethan", "Chloe",
    "Leo", "Amelia", "Hugo", "Isabella", "Arthur", "Zoe", "Oscar", "Nora", "Elias", "Clara",
    "Jonas", "Lea", "Samuel", "Maya", "David", "Sarah", "Daniel", "Julia", "Thomas", "Laura",
    "Marco", "Ines", "Felix", "Hannah", "Victor", "Alice", "Adam", "Priya", "Kenji",
];

const LAST_NAMES: &[&str] = &[
    "Martin",
    "Schmidt",
    "Rossi",
    "Garcia",
    "Johnson",
    "Dubois",
    "Muller",
    "Silva",
    "Novak",
    "Jensen",
    "Kowalski",
    "Brown",
    "Moreau",
    "Fischer",
    "Lopez",
    "Andersen",
    "Bianchi",
    "Walker",
    "Laurent",
    "Weber",
    "Costa",
    "Nielsen",
    "Becker",
    "Fernandez",
    "Taylor",
    "Lambert",
    "Wagner",
    "Romano",
    "Evans",
    "Girard",
    "Hoffmann",
    "Santos",
    "Clarke",
    "Bernard",
    "Keller",
    "Ricci",
    "Murphy",
    "Petit",
    "Sato",
    "Patel",
];

const JOB_TITLES: &[&str] = &[
    "Head of Sales",
    "VP of Marketing",
    "Chief Executive Officer",
    "Co-Founder",
    "Head of Growth",
    "Sales Director",
    "Chief Revenue Officer",
    "Marketing Manager",
    "Head of Operations",
    "Business Development Manager",
    "Chief Technology Officer",
    "Head of Partnerships",
    "Demand Generation Lead",
    "Revenue Operations Manager",
    "Account Executive",
    "Customer Success Director",
    "Head of People",
    "Product Marketing Manager",
    "Managing Director",
    "Head of Procurement",
];

const COMPANY_STEMS: &[&str] = &[
    "Northwind",
    "Bluepeak",
    "Brightlane",
    "Cobalt",
    "Evergreen",
    "Fjord",
    "Granite",
    "Harbor",
    "Ironwood",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tidewater",
    "Upland",
    "Vertex",
    "Willow",
    "Zenith",
];

const COMPANY_KINDS: &[&str] = &[
    "Analytics",
    "Labs",
    "Logistics",
    "Software",
    "Health",
    "Capital",
    "Systems",
    "Robotics",
    "Media",
    "Energy",
    "Foods",
    "Cloud",
    "Security",
    "Consulting",
    "Payments",
    "Studio",
];

const INDUSTRIES: &[&str] = &[
    "B2B SaaS",
    "logistics",
    "healthcare",
    "fintech",
    "e-commerce",
    "manufacturing",
    "cybersecurity",
    "professional services",
    "renewable energy",
    "marketing technology",
];

/// City and country pairs.
const PLACES: &[(&str, &str)] = &[
    ("Paris", "France"),
    ("Lyon", "France"),
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("London", "United Kingdom"),
    ("Manchester", "United Kingdom"),
    ("Amsterdam", "Netherlands"),
    ("Madrid", "Spain"),
    ("Barcelona", "Spain"),
    ("Milan", "Italy"),
    ("Lisbon", "Portugal"),
    ("Stockholm", "Sweden"),
    ("Copenhagen", "Denmark"),
    ("Zurich", "Switzerland"),
    ("Dublin", "Ireland"),
    ("New York", "United States"),
    ("San Francisco", "United States"),
    ("Austin", "United States"),
    ("Toronto", "Canada"),
    ("Sydney", "Australia"),
];

/// `{industry}`, `{company}`, `{years}` are filled in.
const ABOUT_TEMPLATES: &[&str] = &[
    "I help {industry} teams grow revenue without growing headcount. {years} years in the field, currently building at {company}.",
    "Operator at heart. At {company} I look after the go-to-market engine. Previously {years} years in {industry}.",
    "Passionate about {industry}, process and people. Happy to connect and swap notes on what works.",
    "{years} years of building teams in {industry}. At {company} we are hiring and always open to good ideas.",
    "Curious about automation, data and anything that saves my team time. Building {company}.",
];

const YEARS_RANGE: (u64, u64) = (4, 22);
/// Minimum length of a slug segment read as a name.
const MIN_NAME_SEGMENT: usize = 2;
/// Characters of the generated LinkedIn member id after `ACoAA`.
const PROVIDER_ID_LEN: usize = 34;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn pick<'a>(seed: u64, label: &str, slug: &str, list: &[&'a str]) -> &'a str {
    list[Hasher::new(seed).str(label).str(slug).index(list.len())]
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "jane-doe-42" → "Jane Doe"; `None` when the slug does not start with two name-like words.
fn name_from_slug(slug: &str) -> Option<String> {
    let words: Vec<&str> = slug
        .split(['-', '_'])
        .take_while(|w| w.len() >= MIN_NAME_SEGMENT && w.bytes().all(|b| b.is_ascii_alphabetic()))
        .take(2)
        .collect();
    (words.len() == 2).then(|| format!("{} {}", capitalize(words[0]), capitalize(words[1])))
}

/// The person's display name.
pub fn name(seed: u64, slug: &str) -> String {
    name_from_slug(slug).unwrap_or_else(|| {
        format!(
            "{} {}",
            pick(seed, "first-name", slug, FIRST_NAMES),
            pick(seed, "last-name", slug, LAST_NAMES)
        )
    })
}

fn company(seed: u64, slug: &str) -> String {
    format!(
        "{} {}",
        pick(seed, "company-stem", slug, COMPANY_STEMS),
        pick(seed, "company-kind", slug, COMPANY_KINDS)
    )
}

fn company_slug(company: &str) -> String {
    company.to_ascii_lowercase().replace(' ', "")
}

fn provider_id(seed: u64, slug: &str) -> String {
    let mut id = String::from("ACoAA");
    for i in 0..PROVIDER_ID_LEN {
        let index = Hasher::new(seed)
            .str("provider-id")
            .str(slug)
            .u64(i as u64)
            .index(BASE62.len());
        id.push(char::from(BASE62[index]));
    }
    id
}

fn about(seed: u64, slug: &str, company: &str) -> String {
    let span = YEARS_RANGE.1 - YEARS_RANGE.0;
    let years = YEARS_RANGE.0 + Hasher::new(seed).str("years").str(slug).finish() % span;
    pick(seed, "about", slug, ABOUT_TEMPLATES)
        .replace("{industry}", pick(seed, "industry", slug, INDUSTRIES))
        .replace("{company}", company)
        .replace("{years}", &years.to_string())
}

/// The generated profile of `slug`.
pub fn profile(seed: u64, slug: &str, connected: bool) -> Profile {
    let company = company(seed, slug);
    let title = pick(seed, "title", slug, JOB_TITLES);
    let (city, country) = PLACES[Hasher::new(seed).str("place").str(slug).index(PLACES.len())];
    let company_slug = company_slug(&company);
    Profile {
        name: name(seed, slug),
        headline: Some(format!("{title} at {company}")),
        about: Some(about(seed, slug, &company)),
        city: Some(city.to_owned()),
        country: Some(country.to_owned()),
        current_company_name: Some(company),
        current_job_title: Some(title.to_owned()),
        current_company_website: Some(format!("https://www.{company_slug}.com")),
        current_company_linkedin_url: Some(format!("https://linkedin.com/company/{company_slug}")),
        connected,
        provider_id: provider_id(seed, slug),
    }
}

/// The `index`-th person of the search whose URL hashes to `search`.
pub fn search_hit(seed: u64, search: u64, index: u64) -> SearchHit {
    let key = Hasher::new(seed)
        .str("search-person")
        .u64(search)
        .u64(index);
    let first = FIRST_NAMES[key.str("first").index(FIRST_NAMES.len())];
    let last = LAST_NAMES[key.str("last").index(LAST_NAMES.len())];
    let tag = key.str("tag").finish() & 0xff_ffff;
    let slug = format!(
        "{}-{}-{tag:06x}",
        first.to_ascii_lowercase(),
        last.to_ascii_lowercase()
    );
    SearchHit {
        name: format!("{first} {last}"),
        profile_url: format!("{CANONICAL_PREFIX}{slug}"),
    }
}

/// The first name of a display name, for replies signed informally.
pub fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_names_are_read_and_others_generated() {
        assert_eq!(name(1, "jane-doe-42"), "Jane Doe");
        assert_eq!(name(1, "jane_doe"), "Jane Doe");
        let generated = name(1, "jdoe42");
        assert_eq!(generated.split(' ').count(), 2);
        assert_eq!(generated, name(1, "jdoe42"));
    }

    #[test]
    fn search_hits_round_trip_to_the_same_name() {
        let hit = search_hit(9, 1234, 0);
        let slug = hit.profile_url.trim_start_matches(CANONICAL_PREFIX);
        assert_eq!(profile(9, slug, false).name, hit.name);
        assert!(profile(9, slug, false).provider_id.starts_with("ACoAA"));
    }
}
