//! Per-team rate limits over HTTP: the documented tiers and DNC buckets, the 429 body and
//! headers, the `X-RateLimit-*` headers, and the `off` and per-bucket settings.

use crate::common::{Backend, Reply, TestApp};
use outbound_api::RateLimits;
use outbound_core::plan::Plan;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs the body on both databases, on a server with the given rate limits:
/// `with_limits!(limits_expr, async fn name(app) { ... });`
macro_rules! with_limits {
    ($limits:expr, async fn $name:ident($app:ident) $body:block) => {
        mod $name {
            use super::*;

            async fn run($app: TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = TestApp::spawn_with(Backend::Sqlite, $limits)
                    .await
                    .expect("a SQLite server");
                run(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = TestApp::spawn_with(Backend::Postgres, $limits).await {
                    run(app).await;
                }
            }
        }
    };
}

/// A valid product body.
fn product(i: usize) -> Value {
    json!({ "name": format!("Product {i}"), "description": "Automated bookkeeping for small teams" })
}

/// A numeric header.
#[track_caller]
fn header_number(reply: &Reply, name: &str) -> u64 {
    let value = reply
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header: {:?}", reply.headers));
    value
        .to_str()
        .expect("an ASCII header")
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number: {value:?}"))
}

/// The three `X-RateLimit-*` headers: limit, remaining, reset (seconds).
#[track_caller]
fn rate_headers(reply: &Reply) -> (u64, u64, u64) {
    (
        header_number(reply, "x-ratelimit-limit"),
        header_number(reply, "x-ratelimit-remaining"),
        header_number(reply, "x-ratelimit-reset"),
    )
}

fn now_millis() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since.as_millis()).expect("milliseconds fit")
}

/// The team's product count.
async fn product_count(app: &TestApp, key: &str) -> usize {
    let reply = app.get(key, "/v1/products").await;
    reply.expect(200).as_array().expect("array").len()
}

with_limits!(
    RateLimits::default(),
    async fn the_sixteenth_write_in_a_minute_is_refused(app) {
        let mut remaining = Vec::new();
        for i in 0..15 {
            let reply = app.post(app.key(), "/v1/products", product(i)).await;
            reply.expect(201);
            let (limit, left, reset) = rate_headers(&reply);
            assert_eq!(limit, 15, "the Low tier");
            assert!((1..=60).contains(&reset), "reset {reset}");
            remaining.push(left);
        }
        assert_eq!(remaining, (0..15).rev().collect::<Vec<u64>>(), "remaining decreases to 0");

        let refused = app.post(app.key(), "/v1/products", product(15)).await;
        refused.expect_error(429, "rate_limit_exceeded");
        assert_eq!(refused.body["message"], "Too many requests. Please try again later.");
        let retry_after = refused.body["retryAfter"].as_u64().expect("retryAfter is a number");
        assert!((1..=60).contains(&retry_after), "retryAfter {retry_after}");
        assert_eq!(header_number(&refused, "retry-after"), retry_after);
        assert!(refused.body.get("resetTime").is_none(), "resetTime is for DNC routes only");
        let (limit, left, reset) = rate_headers(&refused);
        assert_eq!((limit, left), (15, 0));
        assert!((1..=60).contains(&reset), "reset {reset}");
        assert!(refused.headers.contains_key("x-request-id"));
        assert_eq!(product_count(&app, app.key()).await, 15, "the refused write wrote nothing");

        // Other writes of the same tier share the bucket.
        let agent = app.post_empty(app.key(), "/v1/agents").await;
        agent.expect_error(429, "rate_limit_exceeded");

        // Reads of another tier are unaffected, with their own counters.
        let verify = app.get(app.key(), "/v1/verify").await;
        verify.expect(200);
        let (limit, left, _) = rate_headers(&verify);
        assert_eq!(limit, 60, "the High tier");
        assert!(left >= 58, "remaining {left}");
        let list = app.get(app.key(), "/v1/products").await;
        list.expect(200);
        assert_eq!(rate_headers(&list).0, 30, "the Medium tier");
        // So are the DNC buckets.
        let dnc = app.post(app.key(), "/v1/dnc", json!({ "url": "in/someone" })).await;
        dnc.expect(201);
        assert_eq!(rate_headers(&dnc).0, 30, "the DNC write bucket");

        // Another team has its own buckets.
        let other = app.new_team(Plan::Unlimited).await;
        let reply = app.post(&other.key, "/v1/products", product(0)).await;
        reply.expect(201);
        let (limit, left, _) = rate_headers(&reply);
        assert_eq!((limit, left), (15, 14));
        // Another key of the same team shares its team's bucket.
        let second_key = app.new_key(&app.team.team_id).await;
        app.post(&second_key, "/v1/products", product(99))
            .await
            .expect_error(429, "rate_limit_exceeded");
    }
);

with_limits!(
    RateLimits::default(),
    async fn the_eleventh_dnc_batch_in_a_minute_is_refused_with_a_reset_time(app) {
        for i in 0..10 {
            let reply = app
                .post(app.key(), "/v1/dnc/batch", json!({ "entries": [{ "url": format!("in/person-{i}") }] }))
                .await;
            reply.expect(201);
            let (limit, left, _) = rate_headers(&reply);
            assert_eq!(limit, 10, "the DNC batch bucket");
            assert_eq!(left, 9 - i);
        }
        let before = now_millis();
        let refused = app
            .post(app.key(), "/v1/dnc/batch", json!({ "entries": [{ "url": "in/one-too-many" }] }))
            .await;
        refused.expect_error(429, "rate_limit_exceeded");
        let reset_time = refused.body["resetTime"].as_i64().expect("resetTime is epoch milliseconds");
        assert!(reset_time > before, "resetTime {reset_time} is in the future of {before}");
        assert!(reset_time <= now_millis() + 60_000, "resetTime {reset_time} within the minute");
        let retry_after = refused.body["retryAfter"].as_u64().expect("retryAfter");
        assert!(retry_after >= 1);
        assert_eq!(header_number(&refused, "retry-after"), retry_after);
        assert_eq!(rate_headers(&refused).1, 0);

        // Nothing of the refused batch was written.
        let check = app.get(app.key(), "/v1/dnc/check?url=in/one-too-many").await;
        assert_eq!(check.expect(200)["data"]["onList"], false);
        // The single add and the reads use their own buckets.
        let single = app.post(app.key(), "/v1/dnc", json!({ "url": "in/one-too-many" })).await;
        single.expect(201);
        assert_eq!(rate_headers(&single).0, 30);
        let list = app.get(app.key(), "/v1/dnc").await;
        assert_eq!(list.expect(200)["data"]["total"], 11);
        assert_eq!(rate_headers(&list).0, 60);
        assert_eq!(rate_headers(&check).0, 60, "check and list share the DNC read bucket");
        assert_eq!(rate_headers(&list).1 + 1, rate_headers(&check).1);
    }
);

with_limits!(
    RateLimits::parse("off").expect("a valid setting"),
    async fn with_limits_off_nothing_is_refused_or_counted(app) {
        for i in 0..40 {
            let reply = app.post(app.key(), "/v1/products", product(i)).await;
            reply.expect(201);
            for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"] {
                assert!(!reply.headers.contains_key(name), "{name} with limits off");
            }
        }
        for i in 0..12 {
            let reply = app
                .post(app.key(), "/v1/dnc/batch", json!({ "entries": [{ "url": format!("in/p-{i}") }] }))
                .await;
            reply.expect(201);
            assert!(!reply.headers.contains_key("x-ratelimit-limit"));
        }
        assert_eq!(product_count(&app, app.key()).await, 40);
    }
);

with_limits!(
    RateLimits::parse("low=3").expect("a valid setting"),
    async fn a_custom_low_limit_refuses_the_fourth_write(app) {
        for i in 0..3 {
            let reply = app.post(app.key(), "/v1/products", product(i)).await;
            reply.expect(201);
            let (limit, left, _) = rate_headers(&reply);
            assert_eq!(limit, 3);
            assert_eq!(left, 2 - u64::try_from(i).expect("small"));
        }
        let refused = app.post(app.key(), "/v1/products", product(3)).await;
        refused.expect_error(429, "rate_limit_exceeded");
        assert!(refused.body["retryAfter"].as_u64().expect("retryAfter") >= 1);
        assert!(refused.headers.contains_key("retry-after"));
        assert_eq!(product_count(&app, app.key()).await, 3);
        // The other buckets keep their defaults.
        let verify = app.get(app.key(), "/v1/verify").await;
        assert_eq!(rate_headers(&verify).0, 60);
        let batch = app.post(app.key(), "/v1/dnc/batch", json!({ "entries": [{ "url": "in/u" }] })).await;
        assert_eq!(rate_headers(&batch).0, 10);
    }
);

#[test]
fn bad_rate_limit_settings_are_refused() {
    for bad in ["", "fast", "low", "low=x", "turbo=5", "-1", "0"] {
        assert!(RateLimits::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(RateLimits::parse("OFF").expect("off"), RateLimits::off());
}
