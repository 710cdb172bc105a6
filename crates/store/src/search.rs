//! Prospect search (`GET /prospects/search`): the conversations a team can read, filtered by
//! text, campaign, verdict, status, location, response and pause, newest first, with the total.
//!
//! Rule: a request costs in proportion to its page, not to the team, except that `query` costs
//! in proportion to the conversations of the prospects it matches (a few microseconds each; a
//! term shorter than 3 characters scans the team's prospects) and `city` to the city's
//! conversations. `bench/README.md` has the figures for a million conversations. To hold that
//! (migration 0010):
//! - totals without `query` or `city` are sums over `chat_counts`, a few rows per campaign kept
//!   exact by triggers, never a count over the conversations;
//! - a page walks, in list order, the index whose range the filters narrow most (0010's team
//!   indexes, 0009's campaign ones); the ranges are read from the same counts, so the expected
//!   walk (`(offset + limit) × range / total`) is known before the walk, and SQLite is told
//!   which index to take (`INDEXED BY`), its planner having no per-value statistics.
//!   PostgreSQL's planner has them and chooses alone;
//! - `query` reads the prospects whose search text contains every term: SQLite's FTS5 trigram
//!   index for terms of 3 characters or more, PostgreSQL's pg_trgm GIN index; the matches'
//!   conversations are then sorted, and counted in the same pass;
//! - the client team of an agency workspace searches its own conversations and those of the
//!   agents assigned to it (`readable_campaign!`); such a scope spans several teams, so it is
//!   left to each planner.

use outbound_core::conversation::{CoarseQualification, Qualification};
use outbound_core::time::Millis;

use crate::chats::{ChatSummary, ProspectCard};
use crate::{StoreError, StoreResult, readable_campaign};

/// Terms shorter than this are matched by scanning (a trigram index cannot hold them).
pub const MIN_INDEXED_TERM_CHARS: usize = 3;
/// Most distinct cities (and countries) offered in `filters.available`.
pub const MAX_FILTER_OPTIONS: i64 = 100;

/// What to search for; `None` leaves a dimension open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchFilter {
    /// Every whitespace-separated term must occur in the name, headline or company
    /// (case-insensitive substrings).
    pub query: Option<String>,
    pub campaign_id: Option<String>,
    pub qualification: Option<CoarseQualification>,
    pub status: Option<i64>,
    /// Exact, case-insensitive.
    pub city: Option<String>,
    /// Exact, case-insensitive.
    pub country: Option<String>,
    pub has_responded: Option<bool>,
    pub paused: Option<bool>,
}

impl SearchFilter {
    /// The lowercased terms of `query`.
    fn terms(&self) -> Vec<String> {
        self.query
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    }
}

/// One conversation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub chat: ChatSummary,
    pub has_responded: bool,
    pub city: Option<String>,
    pub country: Option<String>,
    pub campaign_id: String,
    pub campaign_name: String,
    /// The agent's messages.
    pub messages_sent: i64,
    /// The prospect's messages.
    pub responses: i64,
    pub last_response_at: Option<Millis>,
}

/// A page of results and how many there are in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: i64,
}

/// The distinct locations of the prospects a team can read, sorted, at most
/// [`MAX_FILTER_OPTIONS`] each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterOptions {
    pub cities: Vec<String>,
    pub countries: Vec<String>,
}

#[async_trait::async_trait]
pub trait SearchStore {
    /// The conversations readable by `team` that match `filter`, newest first: `limit` of
    /// them after skipping `offset`, and the total.
    async fn search_chats(
        &self,
        team: &str,
        filter: &SearchFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<SearchResults>;

    /// The cities and countries a search of `team` can filter on.
    async fn search_filter_options(&self, team: &str) -> StoreResult<FilterOptions>;
}

/// A filter dimension that bounds an index range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Campaign,
    Status,
    /// The coarse verdict; bounds a range when it is `qualified` or `disqualified`.
    Verdict,
    /// `paused` equal to the filter's value.
    Paused,
    /// `has_responded` equal to the filter's value.
    Responded,
    /// Only `paused = true` (a partial index).
    PausedOnly,
    /// Only `has_responded = true` (a partial index).
    RespondedOnly,
    Country,
}

/// An index that yields conversations in list order within the range its keys select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Walk {
    index: &'static str,
    keys: &'static [Key],
    /// The predicate of a partial index, repeated in the query so that SQLite may use it.
    predicate: Option<&'static str>,
}

/// Every walk, the team-wide one first (the fallback).
const WALKS: [Walk; 10] = [
    Walk {
        index: "chats_by_team",
        keys: &[],
        predicate: None,
    },
    Walk {
        index: "chats_by_campaign",
        keys: &[Key::Campaign],
        predicate: None,
    },
    Walk {
        index: "chats_by_team_status",
        keys: &[Key::Status],
        predicate: None,
    },
    Walk {
        index: "chats_by_campaign_status_time",
        keys: &[Key::Campaign, Key::Status],
        predicate: None,
    },
    Walk {
        index: "chats_by_campaign_paused",
        keys: &[Key::Campaign, Key::PausedOnly],
        predicate: Some("ch.paused"),
    },
    Walk {
        index: "chats_by_campaign_responded",
        keys: &[Key::Campaign, Key::RespondedOnly],
        predicate: Some("ch.has_responded"),
    },
    Walk {
        index: "chats_by_team_verdict",
        keys: &[Key::Verdict],
        predicate: Some("ch.qualification <> 'inProgress'"),
    },
    Walk {
        index: "chats_by_team_paused",
        keys: &[Key::PausedOnly],
        predicate: Some("ch.paused"),
    },
    Walk {
        index: "chats_by_team_responded",
        keys: &[Key::RespondedOnly],
        predicate: Some("ch.has_responded"),
    },
    Walk {
        index: "chats_by_team_country",
        keys: &[Key::Country],
        predicate: Some("ch.country_key IS NOT NULL"),
    },
];

/// The index of conversations by prospect, which a text search starts from.
const BY_PROSPECT: &str = "chats_by_prospect_time";
/// The index of conversations by city, in list order.
const BY_CITY: Walk = Walk {
    index: "chats_by_team_city",
    keys: &[],
    predicate: Some("ch.city_key IS NOT NULL"),
};

/// Whether `key` can bound a range for `filter`.
fn key_applies(key: Key, filter: &SearchFilter) -> bool {
    match key {
        Key::Campaign => filter.campaign_id.is_some(),
        Key::Status => filter.status.is_some(),
        // `pending` includes `inProgress`, which the partial index leaves out.
        Key::Verdict => filter
            .qualification
            .is_some_and(|q| q != CoarseQualification::Pending),
        Key::Paused => filter.paused.is_some(),
        Key::Responded => filter.has_responded.is_some(),
        Key::PausedOnly => filter.paused == Some(true),
        Key::RespondedOnly => filter.has_responded == Some(true),
        Key::Country => filter.country.is_some(),
    }
}

/// The walks usable for `filter`.
fn walks_for(filter: &SearchFilter) -> Vec<Walk> {
    WALKS
        .into_iter()
        .filter(|walk| walk.keys.iter().all(|&key| key_applies(key, filter)))
        .collect()
}

/// Rows a walk over a range of `range` conversations reads to find `wanted` of the `total`
/// matches, the matches being spread evenly.
fn walk_cost(range: i64, total: i64, wanted: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    let expected = i128::from(wanted) * i128::from(range) / i128::from(total);
    i64::try_from(expected).unwrap_or(i64::MAX).min(range)
}

/// The walk that reads fewest rows, given each walk's range.
fn cheapest_walk(walks: &[(Walk, i64)], total: i64, wanted: i64) -> Walk {
    walks
        .iter()
        .min_by_key(|(_, range)| walk_cost(*range, total, wanted))
        .map_or(WALKS[0], |(walk, _)| *walk)
}

/// `term` as a LIKE pattern matching it anywhere (`\` escapes).
fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// An FTS5 query requiring every term as a substring (trigram phrases).
fn fts_query(terms: &[&String]) -> String {
    terms
        .iter()
        .map(|term| format!("\"{}\"", term.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn is_indexed_term(term: &str) -> bool {
    term.chars().count() >= MIN_INDEXED_TERM_CHARS
}

/// How a backend searches text and picks indexes.
trait Dialect {
    /// SQLite: `INDEXED BY` hints and the FTS5 table; PostgreSQL: neither.
    const SQLITE: bool;
}

impl Dialect for crate::sqlite::SqliteStore {
    const SQLITE: bool = true;
}

impl Dialect for crate::postgres::PgStore {
    const SQLITE: bool = false;
}

/// Whose conversations a search covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The team's own: one team id, the `*_by_team*` indexes.
    Team,
    /// The team's own and those of agents assigned to it in agency workspaces.
    Readable,
}

#[derive(Debug, sqlx::FromRow)]
struct HitRow {
    id: String,
    status: i64,
    qualification: String,
    paused: bool,
    has_responded: bool,
    last_message_at: Option<Millis>,
    last_response_at: Option<Millis>,
    messages_sent: i64,
    created_at: Millis,
    prospect_id: String,
    name: String,
    url: String,
    headline: Option<String>,
    current_company_name: Option<String>,
    current_job_title: Option<String>,
    current_company_website: Option<String>,
    current_company_linkedin_url: Option<String>,
    city: Option<String>,
    country: Option<String>,
    campaign_id: String,
    campaign_name: String,
    responses: i64,
}

impl TryFrom<HitRow> for SearchHit {
    type Error = StoreError;

    fn try_from(row: HitRow) -> StoreResult<SearchHit> {
        let qualification = Qualification::parse(&row.qualification)
            .ok_or_else(|| StoreError::Corrupt(format!("qualification {}", row.qualification)))?;
        Ok(SearchHit {
            chat: ChatSummary {
                id: row.id,
                status: row.status,
                qualification,
                paused: row.paused,
                last_message_at: row.last_message_at,
                created_at: row.created_at,
                prospect: ProspectCard {
                    id: row.prospect_id,
                    name: row.name,
                    url: row.url,
                    headline: row.headline,
                    current_company_name: row.current_company_name,
                    current_job_title: row.current_job_title,
                    current_company_website: row.current_company_website,
                    current_company_linkedin_url: row.current_company_linkedin_url,
                },
            },
            has_responded: row.has_responded,
            city: row.city,
            country: row.country,
            campaign_id: row.campaign_id,
            campaign_name: row.campaign_name,
            messages_sent: row.messages_sent,
            responses: row.responses,
            last_response_at: row.last_response_at,
        })
    }
}

/// The columns of a hit, for chats `ch`, prospects `p` and campaigns `c`.
const HIT_COLUMNS: &str = "SELECT ch.id, ch.status, ch.qualification, ch.paused, \
     ch.has_responded, ch.last_message_at, ch.last_response_at, ch.messages_sent, ch.created_at, \
     p.id AS prospect_id, p.name, p.url, p.headline, p.current_company_name, \
     p.current_job_title, p.current_company_website, p.current_company_linkedin_url, p.city, \
     p.country, c.id AS campaign_id, c.name AS campaign_name, \
     (SELECT COUNT(*) FROM messages m WHERE m.chat_id = ch.id AND m.role = 'user') AS responses \
     FROM chats ch JOIN prospects p ON p.id = ch.prospect_id \
     JOIN campaigns c ON c.id = ch.campaign_id WHERE ch.id IN (";

/// Whether the team reads any campaign through an agency workspace.
const READS_SHARED: &str = "SELECT COUNT(*) FROM workspace_agents wa \
     JOIN workspaces w ON w.id = wa.workspace_id WHERE w.client_team_id = $1";

/// The distinct values of a prospects column of one team, by skipping through its index.
macro_rules! distinct_skip_scan {
    ($column:literal) => {
        concat!(
            "WITH RECURSIVE v(x, k) AS (SELECT MIN(p.",
            $column,
            "), 1 FROM prospects p WHERE p.team_id = $1 AND p.",
            $column,
            " IS NOT NULL UNION ALL SELECT (SELECT MIN(p.",
            $column,
            ") FROM prospects p WHERE p.team_id = $1 AND p.",
            $column,
            " IS NOT NULL AND p.",
            $column,
            " > v.x), v.k + 1 FROM v WHERE v.x IS NOT NULL AND v.k < $2) \
             SELECT x FROM v WHERE x IS NOT NULL"
        )
    };
}

/// The distinct values of a prospects column over the readable conversations.
macro_rules! distinct_readable {
    ($column:literal) => {
        concat!(
            "SELECT DISTINCT p.",
            $column,
            " FROM chats ch JOIN campaigns c ON c.id = ch.campaign_id \
             JOIN prospects p ON p.id = ch.prospect_id WHERE ",
            readable_campaign!(),
            " AND p.",
            $column,
            " IS NOT NULL ORDER BY p.",
            $column,
            " LIMIT $2"
        )
    };
}

/// Every filter dimension held by `chat_counts` (all but text and city).
const COUNTED_KEYS: [Key; 6] = [
    Key::Campaign,
    Key::Status,
    Key::Verdict,
    Key::Paused,
    Key::Responded,
    Key::Country,
];

/// List order, newest first.
const NEWEST_FIRST: &str = " ORDER BY ch.created_at DESC, ch.id DESC LIMIT ";

macro_rules! impl_search_store {
    ($store:ty) => {
        impl $store {
            /// `(SELECT c.id FROM campaigns c WHERE <readable by team>)`.
            fn push_readable_campaigns(
                query: &mut sqlx::QueryBuilder<<$store as crate::Backend>::Db>,
                team: &str,
            ) {
                query
                    .push("(SELECT c.id FROM campaigns c WHERE c.team_id = ")
                    .push_bind(team.to_owned())
                    .push(
                        " OR c.agent_id IN (SELECT wa.agent_id FROM workspace_agents wa \
                         JOIN workspaces w ON w.id = wa.workspace_id WHERE w.client_team_id = ",
                    )
                    .push_bind(team.to_owned())
                    .push("))");
            }

            /// ` AND <condition>` for `key` on the columns of `alias` (`ch`: chats,
            /// `cc`: chat_counts, which share the names).
            fn push_key_condition(
                query: &mut sqlx::QueryBuilder<<$store as crate::Backend>::Db>,
                alias: &str,
                key: Key,
                filter: &SearchFilter,
            ) {
                match key {
                    Key::Campaign => {
                        if let Some(campaign) = &filter.campaign_id {
                            query
                                .push(format!(" AND {alias}.campaign_id = "))
                                .push_bind(campaign.clone());
                        }
                    }
                    Key::Status => {
                        if let Some(code) = filter.status {
                            query.push(format!(" AND {alias}.status = ")).push_bind(code);
                        }
                    }
                    Key::Verdict => {
                        if let Some(coarse) = filter.qualification {
                            query.push(format!(" AND {alias}.qualification IN ("));
                            let mut members = query.separated(", ");
                            for member in coarse.members() {
                                members.push_bind(member.as_str());
                            }
                            query.push(")");
                        }
                    }
                    Key::Paused | Key::PausedOnly => {
                        if let Some(paused) = filter.paused {
                            query.push(format!(" AND {alias}.paused = ")).push_bind(paused);
                        }
                    }
                    Key::Responded | Key::RespondedOnly => {
                        if let Some(responded) = filter.has_responded {
                            query
                                .push(format!(" AND {alias}.has_responded = "))
                                .push_bind(responded);
                        }
                    }
                    Key::Country => {
                        if let Some(country) = &filter.country {
                            query
                                .push(format!(" AND {alias}.country_key = lower("))
                                .push_bind(country.clone())
                                .push(")");
                        }
                    }
                }
            }

            /// `FROM chats ch [INDEXED BY ..] WHERE <scope> AND <every filter>`, with the
            /// predicate of the partial index walked, if any.
            fn push_matching_chats(
                query: &mut sqlx::QueryBuilder<<$store as crate::Backend>::Db>,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                index: Option<&'static str>,
                predicate: Option<&'static str>,
            ) {
                query.push(" FROM chats ch");
                if let Some(index) = index.filter(|_| <$store as Dialect>::SQLITE) {
                    query.push(" INDEXED BY ").push(index);
                }
                match scope {
                    Scope::Team => {
                        query.push(" WHERE ch.team_id = ").push_bind(team.to_owned());
                    }
                    Scope::Readable => {
                        query.push(" WHERE ch.campaign_id IN ");
                        Self::push_readable_campaigns(query, team);
                    }
                }
                for key in COUNTED_KEYS {
                    Self::push_key_condition(query, "ch", key, filter);
                }
                if let Some(city) = &filter.city {
                    query.push(" AND ch.city_key = lower(").push_bind(city.clone()).push(")");
                }
                if let Some(predicate) = predicate {
                    query.push(" AND ").push(predicate);
                }
                let terms = filter.terms();
                if !terms.is_empty() {
                    query.push(" AND ch.prospect_id IN (");
                    Self::push_text_match(query, scope, team, &terms);
                    query.push(")");
                }
            }

            /// The ids of the prospects whose search text holds every term.
            fn push_text_match(
                query: &mut sqlx::QueryBuilder<<$store as crate::Backend>::Db>,
                scope: Scope,
                team: &str,
                terms: &[String],
            ) {
                let indexed: Vec<&String> =
                    terms.iter().filter(|term| is_indexed_term(term)).collect();
                if <$store as Dialect>::SQLITE && !indexed.is_empty() {
                    query
                        .push(
                            "SELECT k.prospect_id FROM prospect_search s \
                             JOIN prospect_search_keys k ON k.id = s.rowid \
                             WHERE s.search_text MATCH ",
                        )
                        .push_bind(fts_query(&indexed));
                    if scope == Scope::Team {
                        query.push(" AND k.team_id = ").push_bind(team.to_owned());
                    }
                    for term in terms.iter().filter(|term| !is_indexed_term(term)) {
                        query
                            .push(" AND s.search_text LIKE ")
                            .push_bind(like_pattern(term))
                            .push(" ESCAPE '\\'");
                    }
                    return;
                }
                query.push("SELECT p.id FROM prospects p WHERE 1 = 1");
                if scope == Scope::Team {
                    query.push(" AND p.team_id = ").push_bind(team.to_owned());
                }
                for term in terms {
                    query
                        .push(" AND p.search_text LIKE ")
                        .push_bind(like_pattern(term))
                        .push(" ESCAPE '\\'");
                }
            }

            /// `SELECT COUNT(*)` of the matching conversations.
            async fn count_matching(
                &self,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                index: Option<&'static str>,
                predicate: Option<&'static str>,
            ) -> StoreResult<i64> {
                let mut query = sqlx::QueryBuilder::new("SELECT COUNT(*)");
                Self::push_matching_chats(&mut query, scope, team, filter, index, predicate);
                Ok(query.build_query_scalar::<i64>().fetch_one(&self.pool).await?)
            }

            /// The ids of one page of the matching conversations, walking `index` if given.
            async fn page_ids(
                &self,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                index: Option<&'static str>,
                predicate: Option<&'static str>,
                (limit, offset): (i64, i64),
            ) -> StoreResult<Vec<String>> {
                let mut query = sqlx::QueryBuilder::new("SELECT ch.id");
                Self::push_matching_chats(&mut query, scope, team, filter, index, predicate);
                query.push(NEWEST_FIRST).push_bind(limit).push(" OFFSET ").push_bind(offset);
                Ok(query.build_query_scalar::<String>().fetch_all(&self.pool).await?)
            }

            /// A text search: the matches' conversations, sorted and counted in one pass.
            async fn text_search(
                &self,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                (limit, offset): (i64, i64),
            ) -> StoreResult<(i64, Vec<String>)> {
                let index = (scope == Scope::Team).then_some(BY_PROSPECT);
                let mut query = sqlx::QueryBuilder::new("SELECT ch.id, COUNT(*) OVER ()");
                Self::push_matching_chats(&mut query, scope, team, filter, index, None);
                query.push(NEWEST_FIRST).push_bind(limit).push(" OFFSET ").push_bind(offset);
                let rows = query.build_query_as::<(String, i64)>().fetch_all(&self.pool).await?;
                let Some(&(_, total)) = rows.first() else {
                    // Past the end (or nothing): the count needs its own pass.
                    let total = if offset > 0 {
                        self.count_matching(scope, team, filter, index, None).await?
                    } else {
                        0
                    };
                    return Ok((total, Vec::new()));
                };
                Ok((total, rows.into_iter().map(|(id, _)| id).collect()))
            }

            /// A city search: the city's conversations, counted, then walked in list order.
            async fn city_search(
                &self,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                (limit, offset): (i64, i64),
            ) -> StoreResult<(i64, Vec<String>)> {
                let (index, predicate) = match scope {
                    Scope::Team => (Some(BY_CITY.index), BY_CITY.predicate),
                    Scope::Readable => (None, None),
                };
                let total = self.count_matching(scope, team, filter, index, predicate).await?;
                if offset >= total {
                    return Ok((total, Vec::new()));
                }
                let ids = self
                    .page_ids(scope, team, filter, index, predicate, (limit, offset))
                    .await?;
                Ok((total, ids))
            }

            /// A search on counted dimensions only: the total and the walks' ranges from
            /// `chat_counts`, then the cheapest walk.
            async fn counted_search(
                &self,
                scope: Scope,
                team: &str,
                filter: &SearchFilter,
                (limit, offset): (i64, i64),
            ) -> StoreResult<(i64, Vec<String>)> {
                let walks = match scope {
                    Scope::Team => walks_for(filter),
                    Scope::Readable => Vec::new(),
                };
                let mut query = sqlx::QueryBuilder::new("SELECT CAST(COALESCE(SUM(CASE WHEN 1 = 1");
                for key in COUNTED_KEYS {
                    Self::push_key_condition(&mut query, "cc", key, filter);
                }
                query.push(" THEN cc.n ELSE 0 END), 0) AS BIGINT)");
                for walk in &walks {
                    query.push(", CAST(COALESCE(SUM(CASE WHEN 1 = 1");
                    for key in walk.keys {
                        Self::push_key_condition(&mut query, "cc", *key, filter);
                    }
                    query.push(" THEN cc.n ELSE 0 END), 0) AS BIGINT)");
                }
                match scope {
                    Scope::Team => {
                        query
                            .push(" FROM chat_counts cc WHERE cc.team_id = ")
                            .push_bind(team.to_owned());
                    }
                    Scope::Readable => {
                        query.push(" FROM chat_counts cc WHERE cc.campaign_id IN ");
                        Self::push_readable_campaigns(&mut query, team);
                    }
                }
                let row = query.build().fetch_one(&self.pool).await?;
                let total: i64 = sqlx::Row::try_get(&row, 0)?;
                if offset >= total {
                    return Ok((total, Vec::new()));
                }
                let mut ranges = Vec::with_capacity(walks.len());
                for (i, walk) in walks.iter().enumerate() {
                    ranges.push((*walk, sqlx::Row::try_get::<i64, _>(&row, i + 1)?));
                }
                let walk = (!ranges.is_empty())
                    .then(|| cheapest_walk(&ranges, total, offset.saturating_add(limit)));
                let ids = self
                    .page_ids(
                        scope,
                        team,
                        filter,
                        walk.map(|w| w.index),
                        walk.and_then(|w| w.predicate),
                        (limit, offset),
                    )
                    .await?;
                Ok((total, ids))
            }

            /// The hits of `ids`, in list order, with their prospects and campaigns.
            async fn hits(&self, ids: &[String]) -> StoreResult<Vec<SearchHit>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = sqlx::QueryBuilder::new(HIT_COLUMNS);
                let mut separated = query.separated(", ");
                for id in ids {
                    separated.push_bind(id.clone());
                }
                query.push(") ORDER BY ch.created_at DESC, ch.id DESC");
                query
                    .build_query_as::<HitRow>()
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(SearchHit::try_from)
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl SearchStore for $store {
            async fn search_chats(
                &self,
                team: &str,
                filter: &SearchFilter,
                limit: i64,
                offset: i64,
            ) -> StoreResult<SearchResults> {
                let scope = self.search_scope(team).await?;
                let page = (limit, offset);
                let (total, ids) = if !filter.terms().is_empty() {
                    self.text_search(scope, team, filter, page).await?
                } else if filter.city.is_some() {
                    self.city_search(scope, team, filter, page).await?
                } else {
                    self.counted_search(scope, team, filter, page).await?
                };
                Ok(SearchResults { hits: self.hits(&ids).await?, total })
            }

            async fn search_filter_options(&self, team: &str) -> StoreResult<FilterOptions> {
                let (cities, countries) = match self.search_scope(team).await? {
                    Scope::Team => (
                        distinct_skip_scan!("city"),
                        distinct_skip_scan!("country"),
                    ),
                    Scope::Readable => {
                        (distinct_readable!("city"), distinct_readable!("country"))
                    }
                };
                let mut options = FilterOptions::default();
                for (sql, values) in
                    [(cities, &mut options.cities), (countries, &mut options.countries)]
                {
                    *values = sqlx::query_scalar::<_, String>(sql)
                        .bind(team)
                        .bind(MAX_FILTER_OPTIONS)
                        .fetch_all(&self.pool)
                        .await?
                        .into_iter()
                        .filter(|value| !value.trim().is_empty())
                        .collect();
                }
                Ok(options)
            }
        }

        impl $store {
            async fn search_scope(&self, team: &str) -> StoreResult<Scope> {
                let shared: i64 =
                    sqlx::query_scalar(READS_SHARED).bind(team).fetch_one(&self.pool).await?;
                Ok(if shared > 0 { Scope::Readable } else { Scope::Team })
            }
        }
    };
}

impl_search_store!(crate::sqlite::SqliteStore);
impl_search_store!(crate::postgres::PgStore);

#[cfg(test)]
mod tests {
    use super::*;

    fn filter() -> SearchFilter {
        SearchFilter::default()
    }

    #[test]
    fn walks_follow_the_filters() {
        let names = |f: &SearchFilter| walks_for(f).iter().map(|w| w.index).collect::<Vec<_>>();
        assert_eq!(names(&filter()), ["chats_by_team"]);
        let f = SearchFilter {
            campaign_id: Some("c".into()),
            status: Some(4),
            ..filter()
        };
        assert_eq!(
            names(&f),
            [
                "chats_by_team",
                "chats_by_campaign",
                "chats_by_team_status",
                "chats_by_campaign_status_time"
            ]
        );
        let pending = SearchFilter {
            qualification: Some(CoarseQualification::Pending),
            ..filter()
        };
        assert_eq!(names(&pending), ["chats_by_team"]);
        let qualified = SearchFilter {
            qualification: Some(CoarseQualification::Qualified),
            ..filter()
        };
        assert_eq!(
            names(&qualified),
            ["chats_by_team", "chats_by_team_verdict"]
        );
        let not_paused = SearchFilter {
            paused: Some(false),
            ..filter()
        };
        assert_eq!(names(&not_paused), ["chats_by_team"]);
        let paused = SearchFilter {
            paused: Some(true),
            has_responded: Some(true),
            ..filter()
        };
        assert_eq!(
            names(&paused),
            [
                "chats_by_team",
                "chats_by_team_paused",
                "chats_by_team_responded"
            ]
        );
    }

    #[test]
    fn the_cheapest_walk_reads_fewest_rows() {
        let team = WALKS[0];
        let status = WALKS[2];
        // 1M conversations, 100 match, all of them in a status range of 1000: walking the team
        // reads ~500k rows, walking the status range at most 1000.
        assert_eq!(
            cheapest_walk(&[(team, 1_000_000), (status, 1000)], 100, 50),
            status
        );
        // Half of the team matches: the team walk reads ~100 rows, the status range ~ as many.
        assert_eq!(walk_cost(1_000_000, 500_000, 50), 100);
        assert_eq!(walk_cost(1000, 0, 50), 0);
        assert_eq!(walk_cost(10, 5, i64::MAX), 10);
    }

    #[test]
    fn text_terms_are_escaped() {
        let f = SearchFilter {
            query: Some("  Ana  O\"Neil 50%_\\ ".into()),
            ..filter()
        };
        let terms = f.terms();
        assert_eq!(terms, ["ana", "o\"neil", "50%_\\"]);
        assert_eq!(like_pattern(&terms[2]), "%50\\%\\_\\\\%");
        let indexed: Vec<&String> = terms.iter().collect();
        assert_eq!(
            fts_query(&indexed),
            "\"ana\" AND \"o\"\"neil\" AND \"50%_\\\""
        );
        assert!(!is_indexed_term("ab"));
        assert!(is_indexed_term("abc"));
        assert!(is_indexed_term("éèà"));
    }
}
