//! Webhook delivery end to end: events recorded in the store reach a real HTTP receiver on
//! 127.0.0.1, signed, retried, and judged; on SQLite, and on PostgreSQL when
//! `OUTBOUND_TEST_POSTGRES_URL` is set. Signatures are checked with an implementation written
//! here from the specs (`hmac`, `sha2`), not with the functions that make them.

pub mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{Answer, HUGE_BODY, Harness, Hit, Receiver, STEP, drive, drive_until, fast_config};
use hmac::{Hmac, Mac};
use outbound_core::time::now_millis;
use outbound_core::webhooks::RetryPolicy;
use outbound_engine::WebhookConfig;
use outbound_store::webhooks::{PENDING, SUCCEEDED};
use serde_json::json;
use sha2::Sha256;
use std::sync::Arc;
use std::time::{Duration, Instant};

type HmacSha256 = Hmac<Sha256>;

const MESSAGE_RECEIVED: &str = "linkedin.message.received";
const MESSAGE_SENT: &str = "linkedin.message.sent";
const INVITATION_SENT: &str = "linkedin.invitation.sent";
/// A Standard Webhooks secret: `whsec_` and base64 of the key bytes.
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Standard Webhooks' tolerance on `webhook-timestamp`.
const TOLERANCE_SECS: i64 = 5 * 60;

// ---------------------------------------------------------------------------------------------
// An independent verifier.

/// Kakiyo: `X-Kakiyo-Signature` is the lowercase hex HMAC-SHA256 of the raw body, keyed with
/// the secret's UTF-8 bytes. Compared in constant time over the full length.
fn verify_kakiyo(secret: &str, body: &[u8], header: &str) -> bool {
    if header.chars().any(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let Ok(tag) = hex::decode(header) else {
        return false;
    };
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// Standard Webhooks: the key is the base64 after `whsec_`; the signed content is
/// `{id}.{timestamp}.{body}`; the header is a space-separated list of `v1,<base64>`. Any
/// matching signature passes; the comparison covers the full tag (`verify_slice`), so a
/// truncated or empty signature fails.
fn verify_standard(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("base64 key");
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now_millis() / 1000 - ts).abs() > TOLERANCE_SECS {
        return false;
    }
    header.split(' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = BASE64.decode(encoded) else {
            return false;
        };
        let mut mac = HmacSha256::new_from_slice(&key).expect("any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&tag).is_ok()
    })
}

fn standard_headers(hit: &Hit) -> (&str, &str, &str) {
    (
        hit.header("webhook-id").expect("webhook-id"),
        hit.header("webhook-timestamp").expect("webhook-timestamp"),
        hit.header("webhook-signature").expect("webhook-signature"),
    )
}

#[test]
fn the_verifier_accepts_the_reference_vector_and_rejects_forgeries() {
    // The test vector of the Standard Webhooks reference libraries (its timestamp is old, so
    // the tolerance check is bypassed here by verifying the MAC part alone).
    let body = br#"{"test": 2432232314}"#;
    let key = BASE64.decode(&WHSEC[6..]).unwrap();
    let mut mac = HmacSha256::new_from_slice(&key).unwrap();
    mac.update(b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.");
    mac.update(body);
    let tag = BASE64
        .decode("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        .unwrap();
    assert!(mac.verify_slice(&tag).is_ok());

    // RFC 4231-style check of the hex form.
    assert!(verify_kakiyo(
        "key",
        b"The quick brown fox jumps over the lazy dog",
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    ));
    assert!(!verify_kakiyo(
        "key",
        b"The quick brown fox jumps over the lazy dog",
        "f7bc83f430538424b13298e6aa6fb143"
    ));
    assert!(!verify_kakiyo(
        "key",
        b"The quick brown fox jumps over the lazy dog",
        ""
    ));
}

// ---------------------------------------------------------------------------------------------
// Format and signatures.

both_backends!(
    async fn a_delivery_is_the_exact_body_signed_both_ways(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Error).await;
        let webhook = h
            .webhook(&receiver.url("/hook"), Some(WHSEC), &[MESSAGE_RECEIVED])
            .await;
        let dispatcher = h.dispatcher(fast_config());
        let data = json!({
            "agentId": "a9b8", "campaignId": "c0a1", "chatId": "h3j4",
            "message": "Sounds interesting, tell me more", "prospectId": "t5u6"
        });
        h.event(MESSAGE_RECEIVED, data.clone()).await;

        // First attempt fails (500), the retry succeeds.
        drive_until(&dispatcher, "a first attempt", async || {
            !receiver.hits().is_empty()
        })
        .await;
        receiver.answer(Answer::Ok);
        drive_until(&dispatcher, "a successful retry", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        let hits = receiver.hits();
        assert_eq!(hits.len(), 2);
        let delivery = h.delivery(&webhook).await;

        for hit in &hits {
            // The body: the catalogue's envelope, in order, compact.
            let body = std::str::from_utf8(&hit.body).expect("UTF-8 body");
            let parsed: serde_json::Value = serde_json::from_str(body).expect("JSON body");
            let timestamp = parsed["timestamp"].as_str().expect("a timestamp");
            assert!(timestamp.ends_with('Z'), "{timestamp}");
            chrono::DateTime::parse_from_rfc3339(timestamp).expect("RFC 3339");
            let expected = format!(
                r#"{{"event":"{MESSAGE_RECEIVED}","teamId":"{}","timestamp":"{timestamp}","data":{}}}"#,
                h.team,
                serde_json::to_string(&data).expect("JSON")
            );
            assert_eq!(body, expected);
            assert_eq!(hit.body, hits[0].body, "every attempt sends the same bytes");

            // Headers.
            assert_eq!(hit.header("content-type"), Some("application/json"));
            assert_eq!(
                hit.header("user-agent").map(str::to_owned),
                Some(format!("Outbound-Webhooks/{}", env!("CARGO_PKG_VERSION")))
            );
            let kakiyo = hit.header("x-kakiyo-signature").expect("X-Kakiyo-Signature");
            assert!(verify_kakiyo(WHSEC, &hit.body, kakiyo), "{kakiyo}");
            let (id, ts, signature) = standard_headers(hit);
            assert_eq!(id, delivery.id, "webhook-id is the delivery id");
            assert!(ts.chars().all(|c| c.is_ascii_digit()), "{ts}");
            assert!(
                verify_standard(WHSEC, id, ts, &hit.body, signature),
                "{signature}"
            );

            // Forgeries are rejected.
            let (prefix, encoded) = signature.split_at(3);
            assert_eq!(prefix, "v1,");
            let truncated = format!("v1,{}", &encoded[..encoded.len() / 2]);
            assert!(!verify_standard(WHSEC, id, ts, &hit.body, &truncated));
            assert!(!verify_standard(WHSEC, id, ts, &hit.body, "v1,"));
            assert!(!verify_standard(WHSEC, id, ts, &hit.body, ""));
            assert!(!verify_standard(WHSEC, id, ts, b"{}", signature));
            let other_ts = (ts.parse::<i64>().expect("integer timestamp") + 1).to_string();
            assert!(!verify_standard(WHSEC, id, &other_ts, &hit.body, signature));
            assert!(!verify_kakiyo(WHSEC, &hit.body, &kakiyo[..32]));
            assert!(!verify_kakiyo(WHSEC, &hit.body, ""));
            assert!(!verify_kakiyo("another secret", &hit.body, kakiyo));
        }
        assert_eq!(
            standard_headers(&hits[0]).0,
            standard_headers(&hits[1]).0,
            "webhook-id is stable across retries"
        );
    }
);

both_backends!(
    async fn a_plain_secret_signs_with_its_own_bytes(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let secret = "my-plain-secret";
        let webhook = h
            .webhook(&receiver.url("/"), Some(secret), &["*"])
            .await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({"chatId": "c1"})).await;
        drive_until(&dispatcher, "the delivery", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        let hit = &receiver.hits()[0];
        let kakiyo = hit.header("x-kakiyo-signature").expect("X-Kakiyo-Signature");
        assert!(verify_kakiyo(secret, &hit.body, kakiyo));
        // Standard Webhooks with a non-`whsec_` secret: the key is the secret's bytes.
        let (id, ts, signature) = standard_headers(hit);
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
        mac.update(format!("{id}.{ts}.").as_bytes());
        mac.update(&hit.body);
        let tag = BASE64
            .decode(signature.strip_prefix("v1,").expect("v1 signature"))
            .expect("base64 signature");
        assert!(mac.verify_slice(&tag).is_ok());
    }
);

both_backends!(
    async fn without_a_secret_there_is_no_signature(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({"chatId": "c1"})).await;
        drive_until(&dispatcher, "the delivery", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        let hits = receiver.hits();
        assert_eq!(hits.len(), 1);
        let hit = &hits[0];
        assert!(hit.header("x-kakiyo-signature").is_none());
        assert!(hit.header("webhook-signature").is_none());
        assert_eq!(hit.header("webhook-id"), Some(h.delivery(&webhook).await.id.as_str()));
        assert!(hit.header("webhook-timestamp").is_some());
        assert_eq!(hit.header("content-type"), Some("application/json"));
    }
);

// ---------------------------------------------------------------------------------------------
// Retries, counters, disabling.

both_backends!(
    async fn a_failed_delivery_is_retried_until_it_succeeds(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Error).await;
        let webhook = h.webhook(&receiver.url("/"), Some(WHSEC), &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        let before = now_millis();
        h.event(MESSAGE_RECEIVED, json!({"chatId": "c1"})).await;

        drive_until(&dispatcher, "a failed attempt", async || {
            h.delivery(&webhook).await.attempts == 1
        })
        .await;
        let failed = h.delivery(&webhook).await;
        assert_eq!(failed.status, PENDING);
        assert_eq!(failed.response_code, Some(500));
        assert_eq!(failed.last_error.as_deref(), Some("HTTP 500"));
        let next = failed.next_attempt_at.expect("a retry is scheduled");
        let last = failed.last_attempt_at.expect("an attempt time");
        assert!(next >= last, "{next} {last}");
        assert!(next <= last + 5_000, "the 50 ms step: {next} {last}");

        receiver.answer(Answer::Ok);
        drive_until(&dispatcher, "the retry", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        let delivered = h.delivery(&webhook).await;
        assert_eq!(delivered.attempts, 2);
        assert_eq!(delivered.response_code, Some(200));
        assert_eq!(receiver.hits().len(), 2);

        let webhook = h.reload(&webhook).await;
        assert!(webhook.active);
        assert_eq!(webhook.success_count, 1);
        assert_eq!(webhook.failure_count, 1);
        let last_success = webhook.last_success.expect("lastSuccess");
        let last_failure = webhook.last_failure.expect("lastFailure");
        assert!(last_failure >= before && last_success >= last_failure);

        // Nothing more is sent.
        drive(&dispatcher, 3).await;
        assert_eq!(receiver.hits().len(), 2);
    }
);

both_backends!(
    async fn consecutive_exhausted_events_disable_the_webhook_and_a_success_resets(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Error).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let config = WebhookConfig {
            disable_after: 2,
            retry: RetryPolicy {
                schedule: vec![Duration::ZERO, STEP],
                jitter: 0.0,
            },
            ..fast_config()
        };
        let dispatcher = h.dispatcher(config);
        let exhaust = async |expected_failed: usize| {
            h.event(MESSAGE_SENT, json!({"n": expected_failed})).await;
            drive_until(&dispatcher, "retries to run out", async || {
                let all = h.deliveries(&webhook).await;
                all.iter().filter(|d| d.status == "failed").count() == expected_failed
            })
            .await;
        };

        // One exhausted event (two attempts): still active.
        exhaust(1).await;
        assert_eq!(receiver.hits().len(), 2);
        assert!(h.reload(&webhook).await.active);

        // A success in between resets the streak.
        receiver.answer(Answer::Ok);
        h.event(MESSAGE_SENT, json!({"n": "ok"})).await;
        drive_until(&dispatcher, "a success", async || {
            h.reload(&webhook).await.success_count == 1
        })
        .await;
        receiver.answer(Answer::Error);
        exhaust(2).await;
        assert!(
            h.reload(&webhook).await.active,
            "one exhausted event since the success"
        );

        // The second consecutive one disables it.
        exhaust(3).await;
        let disabled = h.reload(&webhook).await;
        assert!(!disabled.active);
        assert_eq!(disabled.failure_count, 6);
        assert_eq!(disabled.success_count, 1);

        // A disabled webhook gets nothing more.
        let hits = receiver.hits().len();
        assert_eq!(hits, 7);
        h.event(MESSAGE_SENT, json!({"n": "after"})).await;
        drive(&dispatcher, 3).await;
        assert_eq!(receiver.hits().len(), hits);
    }
);

both_backends!(
    async fn gone_disables_the_webhook_at_once(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Gone).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "the webhook to be disabled", async || {
            !h.reload(&webhook).await.active
        })
        .await;
        let delivery = h.delivery(&webhook).await;
        assert_eq!(delivery.status, "failed");
        assert_eq!(delivery.attempts, 1);
        assert_eq!(delivery.response_code, Some(410));
        assert_eq!(delivery.next_attempt_at, None);
        assert_eq!(receiver.hits().len(), 1);

        h.event(MESSAGE_SENT, json!({})).await;
        drive(&dispatcher, 3).await;
        assert_eq!(receiver.hits().len(), 1, "no retry, no new delivery");
    }
);

both_backends!(
    async fn retry_after_delays_the_next_attempt(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::TooMany(1)).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        // Scheduled retry after 600 ms; the receiver asks for 1 s (within twice the step).
        let config = WebhookConfig {
            retry: RetryPolicy {
                schedule: vec![Duration::ZERO, Duration::from_millis(600)],
                jitter: 0.0,
            },
            ..fast_config()
        };
        let dispatcher = h.dispatcher(config);
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "a first attempt", async || {
            h.delivery(&webhook).await.attempts == 1
        })
        .await;
        let first = h.delivery(&webhook).await;
        assert_eq!(first.response_code, Some(429));
        let wait = first.next_attempt_at.expect("next attempt")
            - first.last_attempt_at.expect("last attempt");
        assert!((900..=1_100).contains(&wait), "Retry-After: 1 honoured: {wait} ms");

        receiver.answer(Answer::Ok);
        drive_until(&dispatcher, "the retry", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        let hits = receiver.hits();
        assert_eq!(hits.len(), 2);
        let gap = hits[1].at.duration_since(hits[0].at);
        assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    }
);

both_backends!(
    async fn a_slow_receiver_times_out(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Slow(3_000)).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config().with_timeout(Duration::from_millis(300)));
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "a timed-out attempt", async || {
            h.delivery(&webhook).await.attempts >= 1
        })
        .await;
        let delivery = h.delivery(&webhook).await;
        assert_eq!(delivery.last_error.as_deref(), Some("timeout after 300ms"));
        assert_eq!(delivery.response_code, None);
    }
);

// ---------------------------------------------------------------------------------------------
// Durability.

both_backends!(
    async fn a_pending_delivery_survives_a_restart(db) {
        let receiver = Receiver::start(Answer::Ok).await;
        receiver.down().await;
        let (team, webhook_id) = {
            // The first "process": the receiver is down, so the first attempt fails...
            let h = Harness::new(&db).await;
            let webhook = h.webhook(&receiver.url("/"), Some(WHSEC), &["*"]).await;
            let dispatcher = h.dispatcher(fast_config());
            h.event(MESSAGE_RECEIVED, json!({"chatId": "c1"})).await;
            drive_until(&dispatcher, "a failed attempt", async || {
                h.delivery(&webhook).await.attempts == 1
            })
            .await;
            let failed = h.delivery(&webhook).await;
            assert_eq!(failed.status, PENDING);
            assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
            // ...then it leases the retry and dies before finishing it.
            tokio::time::sleep(STEP * 2).await;
            let now = now_millis();
            let leased = h
                .store
                .claim_deliveries(now, now + 700, 10)
                .await
                .expect("claim");
            assert_eq!(leased.len(), 1);
            assert_eq!(leased[0].id, failed.id);
            (h.team.clone(), webhook.id.clone())
        };
        receiver.up().await;

        // The second "process": a new connection and a new dispatcher on the same database.
        let store = db.connect().await;
        let dispatcher = outbound_engine::Dispatcher::new(
            Arc::clone(&store),
            Arc::clone(&db.secrets),
            fast_config(),
        )
        .expect("a dispatcher");
        let started = Instant::now();
        let delivery = async || {
            store
                .list_deliveries(&team, &webhook_id, 10, 0)
                .await
                .expect("list deliveries")
                .remove(0)
        };
        // Leased: not sent while the lease lasts.
        dispatcher.run_once().await.expect("run_once");
        assert!(receiver.hits().is_empty(), "sent during the lease");
        drive_until(&dispatcher, "the delivery after the lease", async || {
            delivery().await.status == SUCCEEDED
        })
        .await;
        assert!(started.elapsed() >= Duration::from_millis(500));
        let hits = receiver.hits();
        assert_eq!(hits.len(), 1);
        let done = delivery().await;
        assert_eq!(done.attempts, 2);
        assert_eq!(hits[0].header("webhook-id"), Some(done.id.as_str()));
        let (id, ts, signature) = standard_headers(&hits[0]);
        assert!(verify_standard(WHSEC, id, ts, &hits[0].body, signature));
    }
);

both_backends!(
    async fn run_delivers_in_the_background_and_stops_on_shutdown(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(dispatcher.run(async move {
            let _ = stopped.await;
        }));
        for n in 0..20 {
            h.event(MESSAGE_SENT, json!({ "n": n })).await;
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while receiver.hits().len() < 20 {
            assert!(Instant::now() < deadline, "only {} hits", receiver.hits().len());
            tokio::time::sleep(common::POLL).await;
        }
        stop.send(()).expect("the dispatcher is running");
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("run returns after shutdown")
            .expect("run does not panic");
        let all = h.deliveries(&webhook).await;
        assert_eq!(all.len(), 20);
        assert!(all.iter().all(|d| d.status == SUCCEEDED));
    }
);

// ---------------------------------------------------------------------------------------------
// Fan-out.

both_backends!(
    async fn an_event_reaches_exactly_the_subscribed_webhooks_of_its_team(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let exact = h
            .webhook(&receiver.url("/exact"), None, &[MESSAGE_SENT])
            .await;
        let star = h.webhook(&receiver.url("/star"), None, &["*"]).await;
        let other = h
            .webhook(&receiver.url("/other"), None, &[INVITATION_SENT])
            .await;
        let second_team = common::new_team(h.store.as_ref()).await;
        let foreign = h
            .webhook_of(&second_team, &receiver.url("/foreign"), None, &["*"])
            .await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({"chatId": "c1"})).await;

        drive_until(&dispatcher, "two deliveries", async || {
            receiver.hits().len() >= 2
        })
        .await;
        drive(&dispatcher, 3).await;
        let mut paths: Vec<String> = receiver.hits().into_iter().map(|h| h.path).collect();
        paths.sort();
        assert_eq!(paths, ["/exact", "/star"]);
        assert_eq!(h.delivery(&exact).await.status, SUCCEEDED);
        assert_eq!(h.delivery(&star).await.status, SUCCEEDED);
        assert!(h.deliveries(&other).await.is_empty());
        assert!(h.deliveries(&foreign).await.is_empty());
        for hit in receiver.hits() {
            let body: serde_json::Value = serde_json::from_slice(&hit.body).expect("JSON body");
            assert_eq!(body["teamId"], h.team.as_str());
            assert_eq!(body["event"], MESSAGE_SENT);
        }
    }
);

// ---------------------------------------------------------------------------------------------
// Safety.

both_backends!(
    async fn private_addresses_are_refused_unless_allowed(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let port = receiver.port();
        let literal = h
            .webhook(&format!("http://127.0.0.1:{port}/"), None, &["*"])
            .await;
        let named = h
            .webhook(&format!("http://localhost:{port}/"), None, &["*"])
            .await;
        let v6 = h
            .webhook(&format!("http://[::1]:{port}/"), None, &["*"])
            .await;
        let mapped = h
            .webhook(&format!("http://[::ffff:127.0.0.1]:{port}/"), None, &["*"])
            .await;
        let config = WebhookConfig {
            allow_private: false,
            ..fast_config()
        };
        let dispatcher = h.dispatcher(config);
        h.event(MESSAGE_SENT, json!({})).await;

        let all = [&literal, &named, &v6, &mapped];
        drive_until(&dispatcher, "every delivery to be refused", async || {
            for webhook in all {
                if h.delivery(webhook).await.attempts == 0 {
                    return false;
                }
            }
            true
        })
        .await;
        for webhook in all {
            let delivery = h.delivery(webhook).await;
            let error = delivery.last_error.expect("an error");
            assert!(error.starts_with("blocked address "), "{}: {error}", webhook.url);
            assert!(
                error.contains("127.0.0.1 (loopback)") || error.contains("::1 (loopback)"),
                "{}: {error}",
                webhook.url
            );
            assert_eq!(delivery.response_code, None);
            assert_eq!(delivery.status, PENDING, "still retried on the schedule");
        }
        assert!(
            h.delivery(&literal)
                .await
                .last_error
                .expect("an error")
                .contains("blocked address 127.0.0.1 (loopback)")
        );
        // Retried, and refused every time, to the end of the schedule.
        drive_until(&dispatcher, "the retries to run out", async || {
            h.delivery(&literal).await.status == "failed"
        })
        .await;
        assert!(receiver.hits().is_empty(), "the receiver was called");

        // The same webhook is delivered when private targets are allowed.
        let allowing = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&allowing, "delivery when allowed", async || {
            !receiver.hits().is_empty()
        })
        .await;
    }
);

both_backends!(
    async fn redirects_are_not_followed(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Redirect).await;
        let webhook = h.webhook(&receiver.url("/hook"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "the 302 to be recorded", async || {
            h.delivery(&webhook).await.attempts == 1
        })
        .await;
        let delivery = h.delivery(&webhook).await;
        assert_eq!(delivery.response_code, Some(302));
        assert_eq!(delivery.status, PENDING);
        assert!(
            delivery.last_error.as_deref().expect("an error").starts_with("HTTP 302"),
            "{:?}",
            delivery.last_error
        );
        assert_eq!(receiver.hits_on("/hook").len(), 1);
        assert!(receiver.hits_on("/elsewhere").is_empty());
    }
);

both_backends!(
    async fn a_huge_answer_is_read_only_up_to_the_limit(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Huge).await;
        let webhook = h.webhook(&receiver.url("/"), None, &["*"]).await;
        let dispatcher = h.dispatcher(fast_config());
        let started = Instant::now();
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "the delivery", async || {
            h.delivery(&webhook).await.status == SUCCEEDED
        })
        .await;
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(h.delivery(&webhook).await.response_code, Some(200));
        assert!(HUGE_BODY > fast_config().max_response_bytes * 100);
    }
);

both_backends!(
    async fn a_secret_that_cannot_be_opened_is_never_sent_unsigned(db) {
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        // Sealed with another master key (as after a key change without re-sealing).
        let other = outbound_core::secrets::SecretBox::from_encoded_key(
            &outbound_core::secrets::SecretBox::generate_encoded_key(),
        )
        .expect("a key");
        let webhook = h
            .store
            .create_webhook(
                &h.team,
                outbound_store::webhooks::NewWebhook {
                    name: "sealed elsewhere".to_owned(),
                    url: receiver.url("/"),
                    secret_sealed: Some(other.seal("whsec_c2VjcmV0")),
                    events: vec!["*".to_owned()],
                },
            )
            .await
            .expect("create webhook");
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "a failed attempt", async || {
            h.delivery(&webhook).await.attempts == 1
        })
        .await;
        let delivery = h.delivery(&webhook).await;
        assert_eq!(delivery.status, PENDING);
        assert!(
            delivery
                .last_error
                .as_deref()
                .expect("an error")
                .contains("cannot open the webhook secret"),
            "{:?}",
            delivery.last_error
        );
        assert!(receiver.hits().is_empty());
    }
);

both_backends!(
    async fn https_targets_go_through_tls(db) {
        // A plain HTTP receiver behind an https:// URL: the TLS handshake fails, cleanly.
        let h = Harness::new(&db).await;
        let receiver = Receiver::start(Answer::Ok).await;
        let webhook = h
            .webhook(&format!("https://127.0.0.1:{}/", receiver.port()), None, &["*"])
            .await;
        let dispatcher = h.dispatcher(fast_config());
        h.event(MESSAGE_SENT, json!({})).await;
        drive_until(&dispatcher, "a failed attempt", async || {
            h.delivery(&webhook).await.attempts == 1
        })
        .await;
        let delivery = h.delivery(&webhook).await;
        assert_eq!(delivery.response_code, None);
        let error = delivery.last_error.expect("an error");
        assert!(
            error.starts_with("connection failed") || error.starts_with("connection reset"),
            "{error}"
        );
        assert!(receiver.hits().is_empty(), "no HTTP request was made");
    }
);
