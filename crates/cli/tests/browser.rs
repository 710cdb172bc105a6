//! The dashboard in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`; `.ci/run` installs them), against the real `outbound serve`
//! binary on a fresh SQLite file, the sandbox network and an accelerated clock.
//!
//! Rules:
//! - without `chromedriver` on the PATH these tests fail when `CI` or `OUTBOUND_REQUIRE_BROWSER`
//!   is set (`.ci/run` sets it), and are skipped with a note otherwise;
//! - every screen visited is saved as a PNG under `target/screenshots/` for a person to look at;
//!   a failing test saves the page it failed on as `target/screenshots/failed-<test>.png`;
//! - steps are checks that return errors (not panics), so the browser and the server are
//!   always shut down.

use anyhow::{Context, Result, anyhow, bail, ensure};
use outbound_testkit::{Backend, TestDatabase};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use thirtyfour::prelude::*;

/// How fast the engine's clock runs: a simulated day in under nine seconds.
const TIME_SCALE: &str = "10000";
/// How long the server may take to print its key and address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long chromedriver may take to accept a session.
const DRIVER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the engine may take to produce what a step waits for (drafts, a sent message).
const ENGINE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often a waiting step reloads the page.
const RELOAD_EVERY: Duration = Duration::from_millis(700);
/// The prospects of the CSV the person uploads: enough that some accept quickly.
const PROSPECTS: usize = 24;

/// Whether a missing browser must fail the run.
fn browser_required() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("OUTBOUND_REQUIRE_BROWSER").is_some()
}

/// `chromedriver`'s path, or `None` (with a note) when it is missing and not required.
fn chromedriver() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromedriver"))
            .find(|path| path.is_file())
    });
    if found.is_none() {
        assert!(
            !browser_required(),
            "chromedriver is not installed: apt-get install chromium chromium-driver"
        );
        eprintln!("chromedriver is not installed: skipping the browser tests");
    }
    found
}

/// Where screenshots go: `target/screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).ok();
    dir
}

/// Forwards the lines of `stream` to a channel, from a thread of its own.
fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The rest of the first line of `lines` starting with `prefix`.
fn wait_for_line(lines: &Receiver<String>, prefix: &str) -> Result<String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return Ok(rest.trim().to_owned());
                }
            }
            Err(RecvTimeoutError::Timeout) => bail!("no line `{prefix}` in time"),
            Err(RecvTimeoutError::Disconnected) => bail!("the server exited before `{prefix}`"),
        }
    }
}

/// `outbound serve` on its own SQLite file, with an accelerated clock.
struct Server {
    child: Child,
    base: String,
    key: String,
    database: TestDatabase,
}

impl Server {
    fn command(database: &TestDatabase, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outbound"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OUTBOUND_") {
                command.env_remove(&name);
            }
        }
        command
            .env_remove("RUST_LOG")
            .current_dir(&database.dir)
            .args(args)
            .args(["--database-url", &database.url]);
        command
    }

    fn start() -> Result<Server> {
        let database =
            TestDatabase::new(Backend::Sqlite, "outbound_browser").context("a SQLite database")?;
        let mut child = Self::command(
            &database,
            &["serve", "--addr", "127.0.0.1:0", "--time-scale", TIME_SCALE],
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start outbound serve")?;
        let stdout = lines_of(child.stdout.take().context("stdout")?);
        let stderr = lines_of(child.stderr.take().context("stderr")?);
        let key = wait_for_line(&stdout, "API key:")?;
        let base = wait_for_line(&stderr, "Listening on")?;
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || while stderr.recv().is_ok() {});
        Ok(Server {
            child,
            base,
            key,
            database,
        })
    }

    /// A new team with one key, made by the CLI on the same database; its key.
    fn second_team_key(&self) -> Result<String> {
        let run = |args: &[&str]| -> Result<String> {
            let output = Self::command(&self.database, args).output()?;
            ensure!(output.status.success(), "outbound {args:?} failed");
            Ok(String::from_utf8(output.stdout)?.trim().to_owned())
        };
        let team = run(&["teams", "create", "--name", "Other agency"])?;
        run(&["keys", "create", "--team", &team])
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A headless Chromium session and its driver process.
struct Browser {
    driver: WebDriver,
    _chromedriver: tokio::process::Child,
    test: &'static str,
    shots: usize,
}

impl Browser {
    async fn start(chromedriver: &Path, test: &'static str) -> Result<Browser> {
        // The WebDriver client speaks HTTP through reqwest, built with rustls and ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let process = tokio::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("start chromedriver")?;
        let mut caps = DesiredCapabilities::chrome();
        for arg in [
            "--headless",
            "--no-sandbox",
            "--window-size=1400,1000",
            "--disable-gpu",
        ] {
            caps.add_arg(arg)?;
        }
        let deadline = Instant::now() + DRIVER_TIMEOUT;
        let driver = loop {
            match WebDriver::new(format!("http://127.0.0.1:{port}"), caps.clone()).await {
                Ok(driver) => break driver,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => return Err(error.into()),
            }
        };
        Ok(Browser {
            driver,
            _chromedriver: process,
            test,
            shots: 0,
        })
    }

    /// Saves the page as `target/screenshots/<test>-<n>-<name>.png`.
    async fn screenshot(&mut self, name: &str) -> Result<()> {
        self.shots += 1;
        let path = screenshot_dir().join(format!("{}-{:02}-{name}.png", self.test, self.shots));
        std::fs::write(&path, self.driver.screenshot_as_png().await?)?;
        Ok(())
    }

    /// The element of `data-testid`, waiting for it to appear.
    async fn testid(&self, id: &str) -> Result<WebElement> {
        self.driver
            .query(By::Css(format!("[data-testid='{id}']")))
            .first()
            .await
            .with_context(|| format!("no [data-testid={id}]"))
    }

    async fn css(&self, selector: &str) -> Result<WebElement> {
        self.driver
            .query(By::Css(selector))
            .first()
            .await
            .with_context(|| format!("no `{selector}`"))
    }

    async fn fill(&self, selector: &str, text: &str) -> Result<()> {
        let field = self.css(selector).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    async fn choose(&self, select: &str, value: &str) -> Result<()> {
        self.css(&format!("{select} option[value='{value}']"))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Reloads `url` until `selector` is on the page.
    async fn wait_for(&self, url: &str, selector: &str) -> Result<WebElement> {
        let deadline = Instant::now() + ENGINE_TIMEOUT;
        loop {
            self.driver.goto(url).await?;
            if let Some(found) = self
                .driver
                .query(By::Css(selector))
                .nowait()
                .first_opt()
                .await?
            {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!("`{selector}` did not appear on {url} within {ENGINE_TIMEOUT:?}");
            }
            tokio::time::sleep(RELOAD_EVERY).await;
        }
    }

    /// Clicks `element` and waits until the browser has left the page (the form's answer, or
    /// the link's target, replaced it), so that what follows reads the new page.
    async fn click_and_wait(&self, element: WebElement) -> Result<()> {
        let page = self.driver.find(By::Tag("html")).await?;
        element.click().await?;
        page.wait_until()
            .stale()
            .await
            .context("the page did not change")?;
        Ok(())
    }

    /// Clicks the element of `data-testid` and waits for the next page.
    async fn submit(&self, id: &str) -> Result<()> {
        let element = self.testid(id).await?;
        self.click_and_wait(element).await
    }

    async fn notice(&self) -> Result<String> {
        Ok(self.testid("notice").await?.text().await?)
    }

    async fn sign_in(&self, server: &Server, key: &str) -> Result<()> {
        self.driver.goto(server.url("/app")).await?;
        self.testid("api-key").await?.send_keys(key).await?;
        self.submit("login").await?;
        self.testid("kpi-prospects").await?;
        Ok(())
    }

    /// Runs `steps`; on failure saves the page and fails the test with the error. The session
    /// ends either way.
    async fn run<F>(mut self, steps: F)
    where
        F: AsyncFnOnce(&mut Browser) -> Result<()>,
    {
        let outcome = steps(&mut self).await;
        if outcome.is_err() {
            let path = screenshot_dir().join(format!("failed-{}.png", self.test));
            if let Ok(png) = self.driver.screenshot_as_png().await {
                std::fs::write(&path, png).ok();
            }
        }
        self.driver.quit().await.ok();
        if let Err(error) = outcome {
            panic!(
                "{error:#}\n(the page it failed on: target/screenshots/failed-{}.png)",
                self.test
            );
        }
    }
}

/// The CSV a person uploads: `PROSPECTS` people, with headers as an export names them.
fn prospects_csv(dir: &Path) -> Result<PathBuf> {
    let mut csv = String::from("First name,Last name,LinkedIn URL,Company\n");
    for i in 0..PROSPECTS {
        csv.push_str(&format!(
            "Person{i},Browser,https://www.linkedin.com/in/browser-test-{i},Company {i}\n"
        ));
    }
    let path = dir.join("prospects.csv");
    std::fs::write(&path, csv)?;
    Ok(path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_runs_a_campaign_from_the_browser() {
    let Some(chromedriver) = chromedriver() else {
        return;
    };
    let server = Server::start().expect("the server starts");
    let browser = Browser::start(&chromedriver, "campaign")
        .await
        .expect("the browser starts");
    let csv = prospects_csv(&server.database.dir).expect("a CSV file");
    browser
        .run(async |b: &mut Browser| {
            // Sign in with the printed key; the home cards.
            b.sign_in(&server, &server.key).await?;
            b.screenshot("home").await?;

            // A product, a prompt with its first message, an agent with an account that works
            // around the clock.
            b.driver.goto(server.url("/app/products")).await?;
            b.fill("[data-testid='product-name']", "Ledger AI").await?;
            b.fill(
                "[data-testid='product-description']",
                "Automated bookkeeping: the month-end close in two days.",
            )
            .await?;
            b.submit("create-product").await?;
            ensure!(b.notice().await?.contains("Product created"));

            b.driver.goto(server.url("/app/prompts")).await?;
            b.fill("[data-testid='prompt-name']", "CFO outreach")
                .await?;
            b.choose("[data-testid='prompt-model']", "template").await?;
            b.submit("create-prompt").await?;
            b.fill(
                "[data-testid='prompt-context']",
                "You sell {{offeringDescription}} to {{prospectDescription}}.",
            )
            .await?;
            b.fill(
                "[data-testid='prompt-first-message']",
                "Hi {{prospectName}}, how long does your month-end close take?",
            )
            .await?;
            b.submit("save-prompt").await?;
            ensure!(b.notice().await?.contains("Prompt saved"));
            b.screenshot("prompt").await?;

            b.driver.goto(server.url("/app/agents")).await?;
            b.submit("add-agent").await?;
            b.fill("[data-testid='setup-login']", "sdr@example.com")
                .await?;
            b.fill("[data-testid='setup-password']", "sandbox password")
                .await?;
            b.fill("[data-testid='setup-country']", "FR").await?;
            b.submit("setup-agent").await?;
            for day in 0..7 {
                let check = b.css(&format!("input[name='day_{day}']")).await?;
                if !check.is_selected().await? {
                    check.click().await?;
                }
            }
            b.fill("[data-testid='hours-start']", "00:00").await?;
            b.fill("[data-testid='hours-stop']", "00:00").await?;
            b.submit("save-agent").await?;
            ensure!(b.notice().await?.contains("Agent settings saved"));

            // A campaign whose first messages wait for approval.
            b.driver.goto(server.url("/app/campaigns/new")).await?;
            b.fill("[data-testid='campaign-name-input']", "Fintech CFOs")
                .await?;
            b.choose("[data-testid='campaign-review']", "first_message")
                .await?;
            b.submit("save-campaign").await?;
            ensure!(b.notice().await?.contains("Campaign created"));
            b.screenshot("campaign").await?;

            // The CSV: upload, mapping (recognised headers), the import's live progress.
            b.driver.goto(server.url("/app/imports/new")).await?;
            b.testid("import-file")
                .await?
                .send_keys(csv.display().to_string())
                .await?;
            b.submit("upload").await?;
            b.testid("import-preview").await?;
            b.screenshot("import-mapping").await?;
            b.submit("start-import").await?;
            b.driver
                .query(By::Css(
                    "[data-testid='import-status'][data-status='completed']",
                ))
                .wait(ENGINE_TIMEOUT, RELOAD_EVERY)
                .first()
                .await
                .context("the import finished in the live view")?;
            let imported = b.testid("import-imported").await?.text().await?;
            ensure!(imported == PROSPECTS.to_string(), "imported {imported}");
            b.screenshot("import-done").await?;

            // The engine invites; an acceptance makes a first message that waits for approval.
            let draft = b
                .wait_for(&server.url("/app/review"), "[data-testid='draft']")
                .await?;
            b.screenshot("review").await?;
            let text = draft.find(By::Css("[data-testid='draft-text']")).await?;
            text.send_keys(" (checked by a person)").await?;
            let approve = draft.find(By::Css("[data-testid='approve']")).await?;
            b.click_and_wait(approve).await?;
            ensure!(b.notice().await?.contains("Draft approved"));

            // The inbox: open a conversation, take it over, write by hand; the agent sends it.
            b.driver.goto(server.url("/app/inbox")).await?;
            b.screenshot("inbox").await?;
            b.submit("conversation").await?;
            b.submit("take-over").await?;
            ensure!(b.notice().await?.contains("taken over"));
            b.testid("taken-over").await?;
            b.fill(
                "[data-testid='message-text']",
                "Hello, I am the team's human.",
            )
            .await?;
            b.submit("send-message").await?;
            ensure!(b.notice().await?.contains("Message queued"));
            let thread = b.driver.current_url().await?.to_string();
            let thread = thread.split('?').next().unwrap_or(&thread).to_owned();
            b.wait_for(&thread, "[data-testid='message-person']")
                .await?;
            b.screenshot("conversation").await?;

            // The agent: healthy, then paused by hand.
            b.driver.goto(server.url("/app/agents")).await?;
            let status = b.testid("agent-status").await?.text().await?;
            ensure!(status == "Running", "agent status {status}");
            b.screenshot("agents").await?;
            let agent = b.css("[data-testid='agent'] h2 a").await?;
            b.click_and_wait(agent).await?;
            b.submit("pause-agent").await?;
            ensure!(b.notice().await?.contains("Agent paused"));
            ensure!(b.testid("agent-status").await?.text().await? == "Paused");

            // Home again: the figures moved; then sign out.
            b.driver.goto(server.url("/app")).await?;
            let prospects = b.testid("kpi-prospects").await?.text().await?;
            ensure!(prospects.contains(&PROSPECTS.to_string()), "{prospects}");
            b.screenshot("home-after").await?;
            for (path, name) in [
                ("/app/campaigns", "campaigns"),
                ("/app/webhooks", "webhooks"),
                ("/app/settings", "settings"),
                ("/app/dnc", "dnc"),
                ("/app/products", "products"),
            ] {
                b.driver.goto(server.url(path)).await?;
                b.testid("team-name").await?;
                b.screenshot(name).await?;
            }
            b.submit("sign-out").await?;
            b.testid("api-key").await?;
            b.driver.goto(server.url("/app/inbox")).await?;
            b.testid("api-key")
                .await
                .map_err(|_| anyhow!("signed out, the inbox still opened"))?;
            Ok(())
        })
        .await;
}

/// A page of another site whose form posts to the dashboard as soon as it loads.
async fn hostile_page(target: String) -> Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let html = format!(
        "<!doctype html><html><body><form id=f method=post action=\"{target}\">\
         <input name=_csrf value=guessed></form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    );
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.ok();
    });
    // `localhost` is another site than `127.0.0.1`, where the dashboard is served.
    Ok((format!("http://localhost:{port}/"), task))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_and_other_teams_are_kept_out() {
    let Some(chromedriver) = chromedriver() else {
        return;
    };
    let server = Server::start().expect("the server starts");
    let other_key = server.second_team_key().expect("a second team");
    let browser = Browser::start(&chromedriver, "kept-out")
        .await
        .expect("the browser starts");
    browser
        .run(async |b: &mut Browser| {
            // The first team has a campaign (made through the dashboard).
            b.sign_in(&server, &server.key).await?;
            b.driver.goto(server.url("/app/agents")).await?;
            b.submit("add-agent").await?;
            let agent_page = b.driver.current_url().await?.to_string();
            let agent_path = agent_page
                .split('?')
                .next()
                .and_then(|url| url.split("/app/").nth(1))
                .map(|rest| format!("/app/{rest}"))
                .context("the agent's page")?;

            // Signed in, the person visits another site whose form posts to the dashboard.
            let target = server.url(&format!("{agent_path}/pause"));
            let (page, task) = hostile_page(target).await?;
            b.driver.goto(page).await?;
            let title = b.testid("error-title").await?.text().await?;
            task.abort();
            ensure!(title == "Refused", "a cross-site post got {title:?}");
            b.screenshot("csrf-refused").await?;

            // The second team signs in and cannot open the first team's pages.
            b.driver.goto(server.url("/app")).await?;
            b.submit("sign-out").await?;
            b.sign_in(&server, &other_key).await?;
            b.driver.goto(server.url(&agent_path)).await?;
            let title = b.testid("error-title").await?.text().await?;
            ensure!(
                title == "Not found",
                "the other team's agent page: {title:?}"
            );
            b.screenshot("other-team").await?;
            b.driver.goto(server.url("/app/agents")).await?;
            let cards = b.driver.find_all(By::Css("[data-testid='agent']")).await?;
            ensure!(
                cards.is_empty(),
                "the second team sees {} agents",
                cards.len()
            );
            Ok(())
        })
        .await;
}
