//! Conformance: a full flow — every route of the Kakiyo catalogue at least once with a success
//! and with an error, for three teams, with the real engine writing conversations and the real
//! webhook dispatcher recording deliveries — in which every response is checked against the
//! OpenAPI document this server serves at `/v1/openapi.json` ([`contract`]): its status must be
//! documented for the operation and its body valid against that status's schema.
//!
//! With `OUTBOUND_CONFORMANCE_OPENAPI=<file>`, every response is also checked against that
//! document wherever it describes the operation and status — Kakiyo's own OpenAPI document, for
//! instance, to show that a client generated from it can read everything we answer.

pub(crate) mod contract;

use crate::both_backends;
use crate::common::{Reply, TestApp};
use crate::openapi::CATALOGUE;
use contract::{Contract, Operation};
use outbound_core::plan::Plan;
use outbound_core::time::{Millis, now_millis};
use outbound_engine::outreach::{Engine, EngineConfig, ModelRegistry};
use outbound_engine::{Dispatcher, WebhookConfig};
use outbound_linkedin::sandbox::DelayRange;
use outbound_linkedin::{SandboxConfig, SandboxConnector};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// The variable naming an extra document to check every response against.
const EXTRA_DOCUMENT_ENV: &str = "OUTBOUND_CONFORMANCE_OPENAPI";
const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
const DAY: Millis = 24 * HOUR;
/// How long the engine runs the campaign: invitations, acceptances, messages, replies.
const ENGINE_DAYS: Millis = 5 * DAY;
/// The people of the campaign.
const PEOPLE: [(&str, &str); 4] = [
    ("Ana Ruiz", "https://www.linkedin.com/in/conformance-ana"),
    ("Li Wei", "linkedin.com/in/conformance-li"),
    ("Sam Okafor", "https://linkedin.com/in/conformance-sam"),
    ("Mia Novak", "https://linkedin.com/in/conformance-mia"),
];
/// How often [`failed_delivery`] runs the dispatcher, and the pause between two runs.
const DISPATCH_ROUNDS: usize = 100;
const DISPATCH_PAUSE: Duration = Duration::from_millis(50);
/// A person on the Do-Not-Contact list.
const DNC_PERSON: &str = "https://www.linkedin.com/in/conformance-do-not-contact";

/// The server under test, the contracts its answers are held to, and what was seen.
struct Checked<'a> {
    app: &'a TestApp,
    ours: Contract,
    extra: Option<Contract>,
    /// The statuses each of our operations answered.
    seen: BTreeMap<Operation, BTreeSet<u16>>,
    violations: Vec<String>,
}

impl<'a> Checked<'a> {
    async fn new(app: &'a TestApp) -> Checked<'a> {
        let document = app
            .send(Method::GET, "/v1/openapi.json", None, None)
            .await
            .expect(200)
            .clone();
        let extra = std::env::var(EXTRA_DOCUMENT_ENV).ok().map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{EXTRA_DOCUMENT_ENV}={path}: {e}"));
            let document: Value = serde_json::from_str(&text).expect("a JSON document");
            Contract::new(&path, &document, false)
        });
        Checked {
            app,
            ours: Contract::new("/v1/openapi.json", &document, true),
            extra,
            seen: BTreeMap::new(),
            violations: Vec::new(),
        }
    }

    /// Sends a request and checks the response against every contract.
    async fn call(
        &mut self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let reply = self.app.send(method.clone(), path, key, body).await;
        let status = reply.status.as_u16();
        assert!(
            status < 500,
            "{method} {path} answered {status}: {}",
            reply.body
        );
        for contract in std::iter::once(&self.ours).chain(&self.extra) {
            self.violations
                .extend(contract.violations(method.as_str(), path, status, &reply.body));
        }
        if let Some(operation) = self.ours.operation_of(method.as_str(), path) {
            self.seen.entry(operation).or_default().insert(status);
        }
        reply
    }

    /// A call that must answer `status`; returns the body.
    async fn expect(
        &mut self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let reply = self.call(Some(key), method.clone(), path, body).await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {path}: {}",
            reply.body
        );
        reply.body
    }

    async fn get(&mut self, key: &str, path: &str, status: u16) -> Value {
        self.expect(key, Method::GET, path, None, status).await
    }

    async fn post(&mut self, key: &str, path: &str, body: Value, status: u16) -> Value {
        self.expect(key, Method::POST, path, Some(body), status)
            .await
    }

    /// A POST without a body, as action calls are sent.
    async fn action(&mut self, key: &str, path: &str, status: u16) -> Value {
        self.expect(key, Method::POST, path, None, status).await
    }

    async fn put(&mut self, key: &str, path: &str, body: Value, status: u16) -> Value {
        self.expect(key, Method::PUT, path, Some(body), status)
            .await
    }

    async fn delete(&mut self, key: &str, path: &str, status: u16) -> Value {
        self.expect(key, Method::DELETE, path, None, status).await
    }

    /// Every route of the catalogue answered a success and an error, and every response
    /// agreed with every contract.
    fn assert_conformant(&self) {
        let mut untested = Vec::new();
        for (method, template) in CATALOGUE {
            let operation = self
                .ours
                .operation_of(method, &sample(template))
                .unwrap_or_else(|| panic!("{method} {template} is not in the document"));
            let statuses = self.seen.get(&operation).cloned().unwrap_or_default();
            if !statuses.iter().any(|s| (200..300).contains(s)) {
                untested.push(format!(
                    "{method} {template}: no success (saw {statuses:?})"
                ));
            }
            if !statuses.iter().any(|s| (400..500).contains(s)) {
                untested.push(format!("{method} {template}: no error (saw {statuses:?})"));
            }
        }
        assert!(
            untested.is_empty(),
            "untested routes:\n{}",
            untested.join("\n")
        );
        assert!(
            self.violations.is_empty(),
            "{} responses disagree with the documents:\n{}",
            self.violations.len(),
            self.violations.join("\n")
        );
    }
}

/// `template` with its parameters replaced by a sample id.
fn sample(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The string at `pointer` of `body`.
#[track_caller]
fn text(body: &Value, pointer: &str) -> String {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string at {pointer} in {body}"))
        .to_owned()
}

/// A network where everyone accepts within hours and answers every message.
fn answering_network() -> SandboxConnector {
    let config = SandboxConfig {
        acceptance_rate: 1.0,
        acceptance_delay: DelayRange::new(Duration::from_secs(1800), Duration::from_secs(3600)),
        reply_rate: 1.0,
        conversation_reply_rate: 1.0,
        reply_delay: DelayRange::new(Duration::from_secs(600), Duration::from_secs(1800)),
        already_connected_rate: 0.0,
        unreachable_rate: 0.0,
        invites_disabled_rate: 0.0,
        ..SandboxConfig::default()
    };
    SandboxConnector::new(11, config).expect("a sandbox network")
}

/// Runs `engine` from `from` until `until`, jumping from one due task to the next.
async fn run_engine(engine: &Engine, from: Millis, until: Millis) {
    engine.plan(from).await.expect("plan");
    let mut now = from;
    while let Some(next) = engine.next_due().await.expect("next due") {
        let at = next.max(now) + MINUTE;
        if at > until {
            break;
        }
        now = at;
        engine.run_all_due(now).await.expect("run");
    }
}

/// A webhook dispatcher that tries once (and so fails at once on a closed port).
fn one_attempt_dispatcher(app: &TestApp) -> Dispatcher {
    let mut config = WebhookConfig::default().with_timeout(Duration::from_secs(2));
    config.retry.schedule = vec![Duration::ZERO];
    config.retry.jitter = 0.0;
    config.allow_private = true;
    Dispatcher::new(Arc::clone(&app.store), Arc::clone(&app.secrets), config).expect("a dispatcher")
}

/// Runs a dispatcher that tries once until a delivery of `webhook` has failed; returns its id.
async fn failed_delivery(app: &TestApp, webhook: &str) -> String {
    let dispatcher = one_attempt_dispatcher(app);
    for _ in 0..DISPATCH_ROUNDS {
        dispatcher.run_once().await.expect("dispatch");
        let deliveries = app
            .store
            .list_deliveries(&app.team.team_id, webhook, 100, 0)
            .await
            .expect("deliveries");
        if let Some(failed) = deliveries.iter().find(|d| d.status == "failed") {
            return failed.id.clone();
        }
        tokio::time::sleep(DISPATCH_PAUSE).await;
    }
    panic!("no delivery of {webhook} failed");
}

/// A local port nothing listens on.
async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("address").port()
}

both_backends!(
    /// Every route, success and error, for the owner, a stranger and an agency.
    async fn every_response_matches_the_served_document(app) {
        let mut c = Checked::new(&app).await;
        let owner = app.key().to_owned();
        let stranger = app.new_team(Plan::Unlimited).await.key;
        let agency = app.new_team(Plan::Agency).await.key;
        let a = owner.as_str();
        let b = stranger.as_str();

        // Key, models.
        c.get(a, "/v1/verify", 200).await;
        c.get(a, "/v1/models", 200).await;
        c.get(a, "/v1/models/template", 200).await;
        c.get(a, "/v1/models/no-such-model", 404).await;

        // Products and prompts.
        let product = c
            .post(a, "/v1/products", json!({ "name": "Ledger AI", "description": "Bookkeeping for finance teams." }), 201)
            .await;
        let product = text(&product, "/id");
        c.post(a, "/v1/products", json!({ "name": "" }), 400).await;
        c.get(a, "/v1/products", 200).await;
        let prompt = c
            .post(a, "/v1/prompts", json!({ "name": "CFO outreach", "model": "template", "type": "Messages" }), 201)
            .await;
        let prompt = text(&prompt, "/id");
        let prompt_path = format!("/v1/prompts/{prompt}");
        c.post(a, "/v1/prompts", json!({ "name": "x", "type": "Poems" }), 400).await;
        c.get(a, "/v1/prompts", 200).await;
        let sections = json!({
            "context": "You sell {{offeringDescription}} to {{prospectDescription}}.",
            "firstMessage": "Hi {{prospectName}}, a quick question about your month-end close.",
            "followUps": [{ "prompt": "Gentle nudge", "delay": 1 }],
            "followUpEnabled": true
        });
        c.put(a, &prompt_path, sections.clone(), 200).await;
        c.put(a, &prompt_path, json!({ "followUps": "soon" }), 400).await;
        c.put(b, &prompt_path, sections, 404).await;
        c.get(a, &prompt_path, 200).await;
        c.get(b, &prompt_path, 404).await;

        // Agents: one that runs the campaign, one whose login asks for a code.
        let agent = text(&c.action(a, "/v1/agents", 201).await, "/id");
        let agent_path = format!("/v1/agents/{agent}");
        c.get(a, "/v1/agents", 200).await;
        c.get(a, &agent_path, 200).await;
        c.get(b, &agent_path, 404).await;
        let always = json!({
            "workingHours": { "days": "1:1:1:1:1:1:1", "start": "00:00", "stop": "00:00", "timezone": 0 },
            "limits": { "invitationsMin": 20, "invitationsMax": 25, "messagesMin": 20, "messagesMax": 25 }
        });
        c.put(a, &agent_path, always.clone(), 200).await;
        c.put(a, &agent_path, json!({ "limits": { "invitationsMin": 0 } }), 400).await;
        c.put(b, &agent_path, always.clone(), 404).await;
        let login = json!({ "login": "sam@example.com", "password": "correct horse", "country": "FR" });
        c.post(a, &format!("{agent_path}/setup"), json!({ "login": "sam@example.com" }), 400).await;
        c.post(b, &format!("{agent_path}/setup"), login.clone(), 404).await;
        c.post(a, &format!("{agent_path}/setup"), login, 200).await;
        c.get(a, &agent_path, 200).await;
        let coded = text(&c.action(a, "/v1/agents", 201).await, "/id");
        let coded_path = format!("/v1/agents/{coded}");
        c.post(a, &format!("{coded_path}/verification-code"), json!({ "code": "123456" }), 400).await;
        c.post(a, &format!("{coded_path}/setup"), json!({ "login": "kim+2fa@example.com", "password": "correct horse", "country": "DE" }), 200).await;

        // The Do-Not-Contact list.
        let entry = c.post(a, "/v1/dnc", json!({ "url": DNC_PERSON }), 201).await;
        let entry = text(&entry, "/data/$id");
        c.post(a, "/v1/dnc", json!({ "url": DNC_PERSON }), 409).await;
        c.post(a, "/v1/dnc", json!({ "url": "not a profile" }), 400).await;
        c.get(a, "/v1/dnc", 200).await;
        c.get(a, "/v1/dnc/check?url=linkedin.com/in/conformance-do-not-contact", 200).await;
        c.get(a, "/v1/dnc/check?url=linkedin.com/in/conformance-nobody", 200).await;
        c.get(a, "/v1/dnc/check", 400).await;
        c.post(a, "/v1/dnc/batch", json!({ "entries": [{ "url": "linkedin.com/in/conformance-dnc-2" }, { "url": "nope" }] }), 201).await;
        c.post(a, "/v1/dnc/batch", json!({ "entries": [] }), 400).await;

        // Campaigns.
        let new_campaign = |name: &str| {
            json!({ "name": name, "productId": product, "promptId": prompt, "agentId": agent })
        };
        let campaign = text(&c.post(a, "/v1/campaigns", new_campaign("Fintech CFOs"), 201).await, "/id");
        let campaign_path = format!("/v1/campaigns/{campaign}");
        c.post(a, "/v1/campaigns", json!({ "name": "No parts" }), 400).await;
        c.post(b, "/v1/campaigns", new_campaign("Not mine"), 404).await;
        c.get(a, "/v1/campaigns", 200).await;
        c.get(a, "/v1/campaigns?limit=1&offset=0", 200).await;
        c.put(a, &campaign_path, json!({ "name": "Fintech CFOs (EU)" }), 200).await;
        c.put(a, &campaign_path, json!({ "qualificationAutomatic": 101 }), 400).await;
        c.put(b, &campaign_path, json!({ "name": "Taken over" }), 404).await;
        let second = text(&c.post(a, "/v1/campaigns", new_campaign("Second wave"), 201).await, "/id");

        // Prospects in, through the import worker.
        let people: Vec<Value> = PEOPLE
            .iter()
            .map(|(name, url)| json!({ "name": name, "url": url, "customData": "Met at SaaStr" }))
            .chain([json!({ "name": "Do Not", "url": DNC_PERSON }), json!({ "name": "Broken", "url": "nope" })])
            .collect();
        let batch = c
            .post(a, "/v1/prospects/batch", json!({ "campaignId": campaign, "prospects": people }), 201)
            .await;
        let list = text(&batch, "/listId");
        let import_path = format!("/v1/prospects/imports/{list}");
        c.get(a, &import_path, 200).await;
        c.post(a, "/v1/prospects/batch", json!({ "campaignId": campaign, "prospects": [] }), 400).await;
        c.post(b, "/v1/prospects/batch", json!({ "campaignId": campaign, "prospects": [{ "name": "X Y", "url": "linkedin.com/in/x-y" }] }), 404).await;
        let single = json!({ "campaignId": second, "name": "Jo Park", "url": "linkedin.com/in/conformance-jo" });
        c.post(a, "/v1/prospects", single.clone(), 201).await;
        c.post(a, "/v1/prospects", json!({ "campaignId": second, "name": "No Url" }), 400).await;
        c.post(b, "/v1/prospects", single, 404).await;
        let round_robin = json!({
            "campaignIds": [campaign, second],
            "prospects": [
                { "name": "Round One", "url": "linkedin.com/in/conformance-rr-1" },
                { "name": "Round Two", "url": "linkedin.com/in/conformance-rr-2" }
            ]
        });
        c.post(a, "/v1/prospects/batch/round-robin", round_robin.clone(), 201).await;
        c.post(a, "/v1/prospects/batch/round-robin", json!({ "campaignIds": [campaign], "prospects": [{ "name": "A B", "url": "linkedin.com/in/a-b" }] }), 400).await;
        c.post(b, "/v1/prospects/batch/round-robin", round_robin, 403).await;
        while app.store.process_imports(100).await.expect("import step") > 0 {}
        c.get(a, &import_path, 200).await;
        let foreign_import = c.call(Some(b), Method::GET, &import_path, None).await;
        assert!([403, 404].contains(&foreign_import.status.as_u16()), "{}", foreign_import.body);

        // The engine runs the campaign: invitations, acceptances, messages, replies, verdicts.
        let engine = Engine::new(
            Arc::clone(&app.store),
            Arc::new(answering_network()),
            ModelRegistry::offline(),
            Arc::clone(&app.secrets),
            EngineConfig::default(),
        );
        let start = now_millis();
        run_engine(&engine, start, start + ENGINE_DAYS).await;
        c.get(a, &agent_path, 200).await;
        let coded_agent = c.get(a, &coded_path, 200).await;
        assert_eq!(coded_agent["status"], "auth_needed", "{coded_agent}");
        c.post(a, &format!("{coded_path}/verification-code"), json!({ "code": "123456" }), 202).await;
        c.post(a, &format!("{coded_path}/verification-code"), json!({ "code": "1" }), 400).await;
        c.post(b, &format!("{coded_path}/verification-code"), json!({ "code": "123456" }), 404).await;

        // Conversations: lists, search, details and actions.
        let list_path = format!("/v1/prospects/campaign/{campaign}");
        let chats = c.get(a, &list_path, 200).await;
        let chats = chats.as_array().expect("a list").clone();
        assert!(chats.len() >= PEOPLE.len(), "{chats:?}");
        assert!(
            chats.iter().any(|chat| chat["status"].as_i64().unwrap_or_default() >= 4),
            "the engine reached a reply: {chats:?}"
        );
        c.get(a, &format!("{list_path}?limit=1"), 200).await;
        c.get(a, &format!("{list_path}?status=4&hasResponded=true"), 200).await;
        c.get(a, &format!("{list_path}?limit=1000"), 400).await;
        c.get(b, &list_path, 404).await;
        c.get(a, "/v1/prospects/search?query=ana", 200).await;
        c.get(a, "/v1/prospects/search?qualification=pending&limit=2", 200).await;
        c.get(a, &format!("/v1/prospects/search?campaignId={campaign}&hasResponded=true"), 200).await;
        c.get(a, "/v1/prospects/search?qualification=maybe", 400).await;
        for chat in &chats {
            let chat_path = format!("/v1/prospects/{}", text(chat, "/id"));
            c.get(a, &chat_path, 200).await;
        }
        let chat = text(&chats[0], "/id");
        let chat_path = format!("/v1/prospects/{chat}");
        c.get(b, &chat_path, 404).await;
        c.expect(a, Method::PATCH, &format!("{chat_path}/custom-data"), Some(json!({ "customData": "Prefers email" })), 200).await;
        c.expect(a, Method::PATCH, &format!("{chat_path}/custom-data"), Some(json!({})), 400).await;
        c.expect(b, Method::PATCH, &format!("{chat_path}/custom-data"), Some(json!({ "customData": "x" })), 404).await;
        for action in ["pause", "resume", "qualify"] {
            c.action(a, &format!("{chat_path}/{action}"), 200).await;
            c.action(b, &format!("{chat_path}/{action}"), 404).await;
        }
        c.get(a, &chat_path, 200).await;

        // Figures.
        c.get(a, &format!("{campaign_path}/stats"), 200).await;
        c.get(b, &format!("{campaign_path}/stats"), 404).await;
        c.get(a, "/v1/analytics/overview", 200).await;
        c.get(a, &format!("/v1/analytics/campaigns/{campaign}"), 200).await;
        c.get(b, &format!("/v1/analytics/campaigns/{campaign}"), 404).await;

        // Webhooks, with deliveries the real dispatcher recorded (and failed: nobody listens).
        let hook_url = format!("http://127.0.0.1:{}/hook", closed_port().await);
        let hook = json!({ "name": "CRM", "url": hook_url, "events": ["*"], "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
        let webhook = text(&c.post(a, "/v1/webhooks", hook, 201).await, "/id");
        let webhook_path = format!("/v1/webhooks/{webhook}");
        c.post(a, "/v1/webhooks", json!({ "name": "No url", "events": ["*"] }), 400).await;
        c.get(a, "/v1/webhooks", 200).await;
        c.put(a, &webhook_path, json!({ "name": "CRM (sales)" }), 200).await;
        c.put(a, &webhook_path, json!({ "events": ["no.such.event"] }), 400).await;
        c.put(b, &webhook_path, json!({ "name": "Mine now" }), 404).await;
        c.get(a, "/v1/webhooks/events", 200).await;
        c.get(a, "/v1/webhooks/test/events", 200).await;
        c.get(a, "/v1/webhooks/test/example/prospect.qualified", 200).await;
        c.get(a, "/v1/webhooks/test/example/no.such.event", 400).await;
        c.post(a, "/v1/webhooks/test", json!({ "event": "linkedin.message.received" }), 200).await;
        c.post(a, "/v1/webhooks/test", json!({ "event": "no.such.event" }), 400).await;
        c.post(b, "/v1/webhooks/test", json!({ "event": "linkedin.message.received", "webhookId": webhook }), 404).await;
        app.store
            .record_event(&app.team.team_id, "linkedin.message.sent", &json!({ "chatId": chat }))
            .await
            .expect("an event");
        let failed = failed_delivery(&app, &webhook).await;
        c.get(a, &format!("{webhook_path}/deliveries"), 200).await;
        c.get(a, &format!("{webhook_path}/deliveries?limit=2&offset=1"), 200).await;
        let retry_path = format!("{webhook_path}/deliveries/{failed}/retry");
        c.action(a, &retry_path, 200).await;
        c.action(b, &retry_path, 404).await;
        c.get(b, &format!("{webhook_path}/deliveries"), 404).await;

        // A Sales Navigator search.
        let search_url = "https://www.linkedin.com/sales/search/people?query=(keywords%3ACFO)";
        let queued = c
            .post(a, "/v1/prospects/sales-navigator", json!({ "campaignId": second, "searchUrl": search_url }), 202)
            .await;
        let source_path = format!("/v1/prospects/sales-navigator/{}", text(&queued, "/sourceId"));
        c.post(a, "/v1/prospects/sales-navigator", json!({ "campaignId": second, "searchUrl": "https://example.com" }), 400).await;
        c.post(b, "/v1/prospects/sales-navigator", json!({ "campaignId": second, "searchUrl": search_url }), 404).await;
        c.get(a, &source_path, 200).await;
        c.get(b, &source_path, 404).await;

        // Campaign and agent actions.
        for action in ["pause", "resume"] {
            c.action(a, &format!("{campaign_path}/{action}"), 200).await;
            c.action(b, &format!("{campaign_path}/{action}"), 404).await;
        }
        c.action(a, &format!("{agent_path}/pause"), 200).await;
        c.action(b, &format!("{agent_path}/pause"), 404).await;
        c.action(a, &format!("{agent_path}/resume"), 200).await;
        c.action(b, &format!("{agent_path}/resume"), 404).await;
        c.action(a, &format!("{agent_path}/relaunch"), 400).await;
        c.action(b, &format!("{agent_path}/relaunch"), 404).await;
        let disabled = "UPDATE agents SET status = 'disabled' WHERE id = $1";
        app.execute(&[disabled], &[disabled], &[&coded]).await;
        c.action(a, &format!("{coded_path}/relaunch"), 200).await;
        c.delete(b, &coded_path, 404).await;
        c.delete(a, &coded_path, 200).await;

        // Deleting prospects: one person, then the rest in bulk.
        let person = text(&c.get(a, &chat_path, 200).await, "/prospect/id");
        c.action(a, &format!("{chat_path}/pause"), 200).await;
        c.delete(b, &format!("/v1/prospects/{person}"), 404).await;
        c.delete(a, &format!("/v1/prospects/{person}"), 200).await;
        c.action(a, &format!("{campaign_path}/pause"), 200).await;
        let rest: Vec<String> = chats[1..].iter().map(|chat| text(chat, "/prospect/id")).collect();
        c.expect(a, Method::DELETE, "/v1/prospects", Some(json!({ "prospectIds": rest })), 200).await;
        c.expect(a, Method::DELETE, "/v1/prospects", Some(json!({ "prospectIds": [] })), 400).await;

        // Deleting a campaign, once paused.
        let second_path = format!("/v1/campaigns/{second}");
        c.action(a, &format!("{second_path}/pause"), 200).await;
        c.delete(b, &second_path, 404).await;
        c.delete(a, &second_path, 200).await;

        // Webhook and DNC deletion.
        c.delete(b, &webhook_path, 404).await;
        c.delete(a, &webhook_path, 200).await;
        c.delete(b, &format!("/v1/dnc/{entry}"), 403).await;
        c.delete(a, &format!("/v1/dnc/{entry}"), 200).await;
        c.delete(a, &format!("/v1/dnc/{entry}"), 404).await;

        // Workspaces, on the agency plan only.
        c.get(a, "/v1/workspaces", 403).await;
        c.post(a, "/v1/workspaces", json!({ "name": "Not an agency" }), 403).await;
        let g = agency.as_str();
        c.get(g, "/v1/workspaces", 200).await;
        let workspace = text(&c.post(g, "/v1/workspaces", json!({ "name": "Acme (client)" }), 201).await, "/id");
        let workspace_path = format!("/v1/workspaces/{workspace}");
        c.post(g, "/v1/workspaces", json!({ "name": "" }), 400).await;
        c.get(g, "/v1/workspaces", 200).await;
        c.post(g, &format!("{workspace_path}/invite"), json!({ "email": "client@example.com" }), 201).await;
        c.post(g, &format!("{workspace_path}/invite"), json!({ "email": "not an email" }), 400).await;
        c.post(a, &format!("{workspace_path}/invite"), json!({ "email": "client@example.com" }), 403).await;
        let clients = format!("{workspace_path}/clients");
        c.expect(g, Method::DELETE, &clients, Some(json!({ "email": "client@example.com" })), 200).await;
        c.expect(g, Method::DELETE, &clients, Some(json!({})), 400).await;
        let agency_agent = text(&c.action(g, "/v1/agents", 201).await, "/id");
        let assign = format!("{workspace_path}/agents/{agency_agent}");
        c.action(g, &assign, 200).await;
        c.action(g, &format!("{workspace_path}/agents/{agent}"), 404).await;
        c.delete(g, &assign, 200).await;
        c.delete(g, &format!("{workspace_path}/agents/{agent}"), 404).await;
        c.delete(a, &workspace_path, 403).await;
        c.delete(g, &workspace_path, 200).await;
        c.delete(g, &workspace_path, 404).await;

        // Without a key, every route of the catalogue is refused the same way.
        for (method, template) in CATALOGUE {
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let reply = c.call(None, method.clone(), &sample(template), None).await;
            assert_eq!(reply.status.as_u16(), 401, "{method} {template}: {}", reply.body);
        }

        c.assert_conformant();
    }
);
