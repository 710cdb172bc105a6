//! The harness of the dashboard's page tests: the dashboard served over a fresh database (both
//! backends), teams with keys and a campaign with conversations written through the store, and
//! a browser-like client (cookies kept, redirects not followed) that signs in through the forms.

use outbound_core::dnc::{normalize_linkedin_url, slug_of};
use outbound_core::keys::{generate_api_key, hash_api_key};
use outbound_core::plan::Plan;
use outbound_core::prompt::PromptType;
use outbound_core::review::ReviewMode;
use outbound_core::secrets::SecretBox;
use outbound_core::time::now_millis;
use outbound_dashboard::DashboardSettings;
use outbound_store::Store;
use outbound_store::campaigns::NewCampaign;
use outbound_store::chats::{Added, NewConversation, Role};
use outbound_testkit::{Backend, TestDatabase};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Runs the test body once per backend: `both_backends!(async fn name(app) { ... });`
#[macro_export]
macro_rules! both_backends {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        async fn $name($app: $crate::common::TestApp) $body

        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::common::TestApp::spawn(outbound_testkit::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::common::TestApp::spawn(outbound_testkit::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

/// A team with a key and a campaign of its own.
#[derive(Debug, Clone)]
pub struct Team {
    pub id: String,
    pub key: String,
    pub key_id: String,
    pub campaign_id: String,
    pub agent_id: String,
    pub prompt_id: String,
    pub product_id: String,
}

/// The dashboard over its own database.
pub struct TestApp {
    pub base: String,
    pub store: Arc<dyn Store>,
    database: TestDatabase,
}

/// A response read whole.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The value of the first `name="_csrf"` field of the page.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "_csrf").unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn contains(&self, text: &str) -> &Self {
        assert!(
            self.body.contains(text),
            "{text:?} not in the page: {}",
            self.body
        );
        self
    }
}

/// The `value` of the first input named `name` in `html`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl TestApp {
    /// The dashboard on `backend`; `None` for PostgreSQL without a configured server.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        let database = TestDatabase::new(backend, "outbound_dashboard")?;
        let store = outbound_store::connect(&database.url)
            .await
            .expect("connect store");
        store.migrate().await.expect("migrate");
        let secrets = SecretBox::from_encoded_key(&SecretBox::generate_encoded_key()).expect("key");
        let app = outbound_dashboard::app(Arc::clone(&store), DashboardSettings::new(secrets));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve");
        });
        Some(TestApp {
            base: format!("http://{addr}"),
            store,
            database,
        })
    }

    /// A new team with a key, a product, a prompt, an agent and a campaign.
    pub async fn team(&self, review: ReviewMode) -> Team {
        let store = &self.store;
        let team = store
            .create_team(
                &format!("team {}", outbound_core::ids::new_id()),
                Plan::Unlimited,
            )
            .await
            .expect("team");
        let key = generate_api_key();
        let key_info = store
            .create_api_key(&team.id, "test", &hash_api_key(&key))
            .await
            .expect("key");
        let product = store
            .create_product(
                &team.id,
                "Ledger AI",
                "Automated bookkeeping for finance teams",
                None,
            )
            .await
            .expect("product");
        let prompt = store
            .create_prompt(&team.id, "CFO outreach", PromptType::Messages, "template")
            .await
            .expect("prompt");
        let agent = store.create_agent(&team.id, None).await.expect("agent");
        let campaign = store
            .create_campaign(
                &team.id,
                &NewCampaign {
                    name: "Fintech CFOs".to_owned(),
                    product_id: product.id.clone(),
                    prompt_id: prompt.id.clone(),
                    agent_id: agent.id.clone(),
                    qualification_automatic: 70,
                    qualification_verification: 50,
                    variables: BTreeMap::new(),
                    prevent_auto_start: false,
                    review_mode: review,
                },
                None,
            )
            .await
            .expect("campaign");
        Team {
            id: team.id,
            key,
            key_id: key_info.id,
            campaign_id: campaign.id,
            agent_id: agent.id,
            prompt_id: prompt.id,
            product_id: product.id,
        }
    }

    /// A conversation with `name` in the team's campaign; its id.
    pub async fn conversation(&self, team: &Team, name: &str) -> String {
        let url = normalize_linkedin_url(&format!(
            "linkedin.com/in/{}",
            name.to_lowercase().replace(' ', "-")
        ))
        .expect("url");
        let person = NewConversation {
            name: name.to_owned(),
            slug: slug_of(&url).expect("slug"),
            url,
            custom_data: String::new(),
            ongoing: false,
            list_id: None,
        };
        match self
            .store
            .add_to_campaign(&team.id, &team.campaign_id, person, now_millis())
            .await
            .expect("add")
        {
            Added::Created { chat_id, .. } | Added::Existing { chat_id, .. } => chat_id,
        }
    }

    /// Leaves a conversation's verdict to a person, as the engine does for a score between the
    /// campaign's thresholds (no store call does it from outside the engine).
    pub async fn needs_verdict(&self, chat_id: &str) {
        let sql = "UPDATE chats SET qualification = 'needVerification' WHERE id = $1";
        if self.database.is_postgres() {
            let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&self.database.url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .bind(chat_id)
                .execute(&mut db)
                .await
                .expect("update");
        } else {
            let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.database.url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .bind(chat_id)
                .execute(&mut db)
                .await
                .expect("update");
        }
    }

    /// A message in a conversation at `at`.
    pub async fn message(&self, team: &Team, chat_id: &str, role: Role, text: &str, at: i64) {
        self.store
            .append_message(&team.id, chat_id, role, text, at)
            .await
            .expect("message");
    }

    /// A browser-like client, not signed in.
    pub fn client(&self) -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            base: self.base.clone(),
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// A client signed in with `team`'s key.
    pub async fn signed_in(&self, team: &Team) -> Client {
        let client = self.client();
        client.sign_in(&team.key).await.expect(303);
        client
    }
}

/// A client that keeps cookies and sends what a browser's same-origin form would.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    async fn read(response: reqwest::Response) -> Page {
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub async fn get(&self, path: &str) -> Page {
        Self::read(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// A form post as the dashboard's own page sends it (same-origin).
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.post_from(path, form, "same-origin").await
    }

    /// A form post that the browser says comes from `site` (`cross-site`, `same-site`, …).
    pub async fn post_from(&self, path: &str, form: &[(&str, &str)], site: &str) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", site)
            .form(form)
            .send()
            .await
            .expect("post");
        Self::read(response).await
    }

    /// A multipart form post (same-origin).
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Page {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("sec-fetch-site", "same-origin")
            .multipart(form)
            .send()
            .await
            .expect("post");
        Self::read(response).await
    }

    /// Signs in through the form; the answer to the form's post.
    pub async fn sign_in(&self, key: &str) -> Page {
        let form = self.get("/app/login").await;
        let token = form.csrf();
        self.post(
            "/app/login",
            &[("_csrf", &token), ("api_key", key), ("next", "/app")],
        )
        .await
    }

    /// The CSRF token of the session (read from a page's form).
    pub async fn token(&self) -> String {
        let page = self.get("/app").await;
        assert_eq!(page.status, StatusCode::OK, "signed in: {}", page.body);
        page.csrf()
    }

    /// A state-changing form post with the session's token.
    pub async fn act(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let token = self.token().await;
        let mut fields = vec![("_csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }
}
