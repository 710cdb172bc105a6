//! Synthetic people, deterministic from a seed: names, job titles, companies and places drawn
//! so that text and location filters have realistic selectivity (many distinct surnames and
//! companies; countries and cities skewed, a few large, many small).

/// A small, fast, deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
    }

    /// `true` with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// Skewed towards 0: the minimum of two uniform draws, twice.
    pub fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n).min(self.below(n));
        let b = self.below(n).min(self.below(n));
        a.min(b)
    }
}

const FIRST_NAMES: [&str; 48] = [
    "Ana", "John", "Maria", "Peter", "Li", "Sofia", "Lucas", "Emma", "Noah", "Olivia", "Liam",
    "Mia", "Ethan", "Chloe", "Mateo", "Hana", "Yuki", "Omar", "Fatima", "Ivan", "Elena", "Pierre",
    "Julia", "Carlos", "Zoe", "Arjun", "Priya", "Kofi", "Amara", "Sven", "Ingrid", "Tomas", "Lea",
    "Marco", "Giulia", "Ahmed", "Layla", "Kenji", "Aiko", "Diego", "Lucia", "Jonas", "Freya",
    "Mehmet", "Aylin", "Oscar", "Nora", "Felix",
];

const SYLLABLES: [&str; 40] = [
    "ka", "lo", "mi", "ra", "ten", "vor", "bel", "dan", "sor", "gri", "nak", "pel", "tru", "sha",
    "vin", "mor", "les", "ban", "kor", "zel", "fa", "ri", "on", "ul", "ber", "son", "ham", "wick",
    "ley", "ford", "dal", "ros", "tan", "mer", "vik", "hol", "ste", "lin", "gar", "nu",
];

const TITLES: [&str; 24] = [
    "CTO",
    "CEO",
    "CFO",
    "COO",
    "VP of Sales",
    "Head of Growth",
    "Software Engineer",
    "Product Manager",
    "Founder",
    "Data Scientist",
    "Marketing Director",
    "Account Executive",
    "Recruiter",
    "Designer",
    "Sales Manager",
    "Engineering Manager",
    "Head of Finance",
    "Operations Lead",
    "Customer Success Manager",
    "Business Developer",
    "Consultant",
    "Chief Revenue Officer",
    "Procurement Manager",
    "IT Director",
];

const COMPANY_SUFFIXES: [&str; 8] = [
    "Labs",
    "Systems",
    "Capital",
    "Group",
    "Software",
    "Health",
    "Logistics",
    "Partners",
];

const COUNTRIES: [&str; 30] = [
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "India",
    "Spain",
    "Canada",
    "Brazil",
    "Netherlands",
    "Italy",
    "Australia",
    "Sweden",
    "Poland",
    "Japan",
    "Mexico",
    "Switzerland",
    "Belgium",
    "Ireland",
    "Singapore",
    "Nigeria",
    "Portugal",
    "Denmark",
    "Norway",
    "Finland",
    "Austria",
    "Israel",
    "Kenya",
    "Chile",
    "Argentina",
    "Turkey",
];

/// Distinct cities per country.
const CITIES_PER_COUNTRY: usize = 20;
/// Distinct companies.
const COMPANIES: usize = 20_000;

/// What enrichment would find about a person.
#[derive(Debug, Clone)]
pub struct Person {
    pub name: String,
    pub slug: String,
    pub title: &'static str,
    pub company: String,
    /// `None` for the tenth of profiles without a location.
    pub place: Option<(String, &'static str)>,
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A surname of two or three syllables (tens of thousands of them).
fn surname(rng: &mut Rng) -> String {
    let syllables = 2 + rng.below(2);
    let word: String = (0..syllables)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    capitalised(&word)
}

/// Company number `n`: a made-up word and a suffix.
pub fn company(n: usize) -> String {
    let mut rng = Rng::new(0x00C0_FFEE ^ (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    format!(
        "{} {}",
        surname(&mut rng),
        COMPANY_SUFFIXES[n % COMPANY_SUFFIXES.len()]
    )
}

/// City `n` of a country.
fn city(country: usize, n: usize) -> String {
    let mut rng = Rng::new(((country * CITIES_PER_COUNTRY + n) as u64 + 7) * 0x5851_F42D);
    format!(
        "{}{}",
        surname(&mut rng),
        ["burg", "ton", "ville", "polis", "stad"][n % 5]
    )
}

/// Person number `i` (the same every run).
pub fn person(i: usize) -> Person {
    let mut rng = Rng::new((i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let first = FIRST_NAMES[rng.below(FIRST_NAMES.len())];
    let last = surname(&mut rng);
    let country = rng.skewed(COUNTRIES.len());
    let place = (!rng.chance(10)).then(|| {
        (
            city(country, rng.skewed(CITIES_PER_COUNTRY)),
            COUNTRIES[country],
        )
    });
    Person {
        name: format!("{first} {last}"),
        slug: format!("bench-{i}"),
        title: TITLES[rng.below(TITLES.len())],
        company: company(rng.skewed(COMPANIES)),
        place,
    }
}

/// A city and country that exist in the data, with the given rank (0 = the largest).
pub fn place_of_rank(country_rank: usize, city_rank: usize) -> (String, &'static str) {
    let country = country_rank % COUNTRIES.len();
    (
        city(country, city_rank % CITIES_PER_COUNTRY),
        COUNTRIES[country],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_deterministic_and_varied() {
        assert_eq!(person(7).name, person(7).name);
        let surnames: std::collections::HashSet<String> =
            (0..5000).map(|i| person(i).name).collect();
        assert!(surnames.len() > 4000, "{}", surnames.len());
        assert!((0..1000).filter(|&i| person(i).place.is_none()).count() < 200);
    }
}
