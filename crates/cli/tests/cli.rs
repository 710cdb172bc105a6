//! End-to-end tests of the `outbound` binary: each test runs the compiled program against a
//! fresh database (a SQLite file in its own temporary directory, or, when
//! `OUTBOUND_TEST_POSTGRES_URL` is set, also a fresh PostgreSQL database) and checks what a
//! script would see: stdout carries only values, errors give a non-zero exit code.

use outbound_testkit::{Backend, POSTGRES_ENV, TestDatabase};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// Length of an API key.
const API_KEY_LEN: usize = 40;
/// How long a started server may take to print its address.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Read and write timeout of the raw HTTP requests.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a stopping process is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// A valid master key, required with PostgreSQL.
const HEX_SECRET_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A fresh database and a working directory of its own (so no `outbound.toml` is picked up).
struct TestDb {
    dir: PathBuf,
    url: String,
    postgres: bool,
    _database: TestDatabase,
}

impl TestDb {
    fn sqlite() -> Self {
        Self::on(TestDatabase::new(Backend::Sqlite, "outbound_cli").expect("a SQLite database"))
    }

    /// A fresh PostgreSQL database, or `None` when no server is configured for tests.
    fn postgres() -> Option<Self> {
        TestDatabase::new(Backend::Postgres, "outbound_cli").map(Self::on)
    }

    fn on(database: TestDatabase) -> Self {
        Self {
            dir: database.dir.clone(),
            url: database.url.clone(),
            postgres: database.is_postgres(),
            _database: database,
        }
    }

    /// `outbound` with the given arguments, pointed at this database, with no `OUTBOUND_*`
    /// variable of the caller's environment leaking in.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outbound"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OUTBOUND_") {
                command.env_remove(&name);
            }
        }
        command
            .env_remove("RUST_LOG")
            .current_dir(&self.dir)
            .args(args)
            .args(["--database-url", &self.url]);
        if self.postgres {
            command.env("OUTBOUND_SECRET_KEY", HEX_SECRET_KEY);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run outbound")
    }

    /// Runs a command that must succeed and returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "outbound {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("stdout is UTF-8")
    }

    /// Runs a command that must fail with exit code `code`; returns its stderr.
    fn fails(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "outbound {args:?}: stdout {:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.stdout.is_empty(), "a failing command prints nothing");
        String::from_utf8(output.stderr).expect("stderr is UTF-8")
    }
}

/// The only line of a command's stdout.
fn single_line(stdout: &str) -> &str {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got {stdout:?}");
    lines[0]
}

fn is_id(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric())
}

/// The whole teams and keys workflow of a script, against `db`.
fn teams_and_keys_workflow(db: &TestDb) {
    assert_eq!(
        db.ok(&["teams", "list"]),
        "",
        "a fresh database has no team"
    );

    let team = db.ok(&["teams", "create", "--name", "Acme Sales"]);
    let team = single_line(&team).to_owned();
    assert!(is_id(&team), "{team:?}");
    let other = db.ok(&["teams", "create", "--name", "Pioneers", "--plan", "pioneer"]);
    let other = single_line(&other).to_owned();

    let list = db.ok(&["teams", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list:?}");
    assert!(lines.contains(&format!("{team}\tAcme Sales\tunlimited\tactive").as_str()));
    assert!(lines.contains(&format!("{other}\tPioneers\tpioneer\tactive").as_str()));

    let set = db.ok(&[
        "teams",
        "set",
        "--team",
        &other,
        "--plan",
        "hunter",
        "--subscription",
        "inactive",
    ]);
    assert_eq!(single_line(&set), other);
    let list = db.ok(&["teams", "list"]);
    assert!(
        list.contains(&format!("{other}\tPioneers\thunter\tinactive")),
        "{list:?}"
    );
    db.ok(&["teams", "set", "--team", &other, "--subscription", "active"]);
    assert!(
        db.ok(&["teams", "list"])
            .contains(&format!("{other}\tPioneers\thunter\tactive"))
    );

    let key = db.ok(&["keys", "create", "--team", &team]);
    let key = single_line(&key).to_owned();
    assert_eq!(key.len(), API_KEY_LEN, "{key:?}");
    assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key:?}");
    let named = db.ok(&["keys", "create", "--team", &team, "--name", "zapier"]);
    assert_eq!(single_line(&named).len(), API_KEY_LEN);
    assert_ne!(single_line(&named), key);

    let keys = db.ok(&["keys", "list", "--team", &team]);
    let rows: Vec<Vec<&str>> = keys.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{keys:?}");
    let cli_key = rows
        .iter()
        .find(|row| row[1] == "cli")
        .expect("the key named cli");
    assert_eq!(cli_key.len(), 4, "{cli_key:?}");
    assert!(is_id(cli_key[0]));
    assert!(
        cli_key[2].ends_with('Z') && cli_key[2].contains('T'),
        "{cli_key:?}"
    );
    assert_eq!(cli_key[3], "active");
    assert!(rows.iter().any(|row| row[1] == "zapier"));
    assert!(
        !keys.contains(&key),
        "a key is never shown again after its creation"
    );
    assert_eq!(db.ok(&["keys", "list", "--team", &other]), "");

    let key_id = cli_key[0].to_owned();
    let revoked = db.ok(&["keys", "revoke", "--key-id", &key_id]);
    assert_eq!(single_line(&revoked), key_id);
    let keys = db.ok(&["keys", "list", "--team", &team]);
    assert!(
        keys.lines()
            .any(|l| l.starts_with(&key_id) && l.ends_with("\trevoked"))
    );
    assert!(
        keys.lines()
            .any(|l| l.contains("\tzapier\t") && l.ends_with("\tactive"))
    );

    // Unknown teams and keys: a clear message and exit code 1.
    let err = db.fails(&["keys", "create", "--team", "nosuchteam"], 1);
    assert!(err.contains("no team with id `nosuchteam`"), "{err}");
    let err = db.fails(&["keys", "list", "--team", "nosuchteam"], 1);
    assert!(err.contains("nosuchteam"), "{err}");
    let err = db.fails(
        &["teams", "set", "--team", "nosuchteam", "--plan", "agency"],
        1,
    );
    assert!(err.contains("no team with id `nosuchteam`"), "{err}");
    let err = db.fails(&["keys", "revoke", "--key-id", "nosuchkey"], 1);
    assert!(err.contains("no API key with id `nosuchkey`"), "{err}");

    // Usage errors: clap's message and exit code 2.
    let err = db.fails(&["teams", "set", "--team", &team], 2);
    assert!(
        err.contains("--plan") && err.contains("--subscription"),
        "{err}"
    );
    let err = db.fails(&["teams", "create", "--name", "X", "--plan", "gold"], 2);
    assert!(
        err.contains("pioneer") && err.contains("unlimited"),
        "{err}"
    );
    let err = db.fails(&["teams", "create", "--name", "  "], 1);
    assert!(err.contains("must not be empty"), "{err}");
}

#[test]
fn teams_and_keys_on_sqlite() {
    teams_and_keys_workflow(&TestDb::sqlite());
}

#[test]
fn teams_and_keys_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
        return;
    };
    teams_and_keys_workflow(&db);
}

#[test]
fn migrate_is_idempotent() {
    let db = TestDb::sqlite();
    for _ in 0..2 {
        let output = db.run(&["migrate"]);
        assert!(output.status.success());
        assert!(output.stdout.is_empty());
        assert!(String::from_utf8_lossy(&output.stderr).contains("up to date"));
    }
}

#[test]
fn help_mentions_every_subcommand() {
    let db = TestDb::sqlite();
    let help = db.ok(&["--help"]);
    assert!(help.contains("Kakiyo API v1"), "{help}");
    for command in [
        "serve", "worker", "simulate", "migrate", "teams", "keys", "unipile",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    let teams = db.ok(&["teams", "--help"]);
    for command in ["create", "list", "set"] {
        assert!(teams.contains(command), "{teams}");
    }
    let keys = db.ok(&["keys", "--help"]);
    for command in ["create", "list", "revoke"] {
        assert!(keys.contains(command), "{keys}");
    }
}

#[test]
fn invalid_configuration_names_its_source() {
    let db = TestDb::sqlite();
    let output = db
        .command(&["teams", "list"])
        .env("OUTBOUND_MAX_BODY_BYTES", "lots")
        .output()
        .expect("run outbound");
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("OUTBOUND_MAX_BODY_BYTES") && err.contains("max_body_bytes"),
        "{err}"
    );

    let file = db.dir.join("bad.toml");
    std::fs::write(&file, "log_format = \"xml\"\n").expect("write config file");
    let file = file.display().to_string();
    let err = db.fails(&["teams", "list", "--config", &file], 1);
    assert!(
        err.contains("bad.toml") && err.contains("log_format"),
        "{err}"
    );

    let err = db.fails(&["teams", "list", "--config", "missing.toml"], 1);
    assert!(err.contains("missing.toml"), "{err}");
}

#[test]
fn the_environment_configures_like_the_flags() {
    let db = TestDb::sqlite();
    std::fs::write(db.dir.join("custom.toml"), "log_format = \"xml\"\n").expect("write file");
    let output = db
        .command(&["teams", "list"])
        .env("OUTBOUND_CONFIG", "custom.toml")
        .output()
        .expect("run outbound");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("custom.toml"));

    // OUTBOUND_DATABASE_URL names the database; an empty value counts as unset.
    let mut command = Command::new(env!("CARGO_BIN_EXE_outbound"));
    command
        .current_dir(&db.dir)
        .env_remove("OUTBOUND_CONFIG")
        .env("OUTBOUND_DATABASE_URL", &db.url)
        .args(["teams", "create", "--name", "Env"]);
    let output = command.output().expect("run outbound");
    assert!(output.status.success());
    assert!(db.ok(&["teams", "list"]).contains("\tEnv\t"));
    let elsewhere = db.dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("create a directory");
    let output = Command::new(env!("CARGO_BIN_EXE_outbound"))
        .current_dir(&elsewhere)
        .env_remove("OUTBOUND_CONFIG")
        .env("OUTBOUND_DATABASE_URL", "")
        .args(["migrate"])
        .output()
        .expect("run outbound");
    assert!(output.status.success(), "{output:?}");
    assert!(
        elsewhere.join("outbound.db").is_file(),
        "the default database, in the working directory"
    );
}

#[test]
fn the_configuration_file_in_the_working_directory_is_read() {
    let db = TestDb::sqlite();
    std::fs::write(db.dir.join("outbound.toml"), "max_body_bytes = 0\n").expect("write file");
    let err = db.fails(&["teams", "list"], 1);
    assert!(
        err.contains("outbound.toml") && err.contains("max_body_bytes"),
        "{err}"
    );
}

#[test]
fn serve_on_postgres_requires_a_secret_key() {
    let mut db = TestDb::sqlite();
    // The key is checked before connecting, so no server needs to listen at this address.
    db.url = "postgres://outbound@127.0.0.1:1/outbound".to_owned();
    let output = db.run(&["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("OUTBOUND_SECRET_KEY is required with PostgreSQL"),
        "{err}"
    );
}

/// A running `outbound serve` (or `outbound worker`), killed if the test fails before stopping
/// it.
struct Server {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Server {
    fn start(db: &TestDb) -> Self {
        Self::spawn(db, &["serve", "--addr", "127.0.0.1:0"])
    }

    fn spawn(db: &TestDb, args: &[&str]) -> Self {
        Self::spawn_with_env(db, args, &[])
    }

    fn spawn_with_env(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = db
            .command(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start outbound");
        let stdout = lines_of(child.stdout.take().expect("piped stdout"));
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Sends SIGTERM and waits for a successful exit; returns the rest of stdout.
    fn stop(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        let exit = loop {
            if let Some(exit) = self.child.try_wait().expect("poll the server") {
                break exit;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop within {SHUTDOWN_TIMEOUT:?} of SIGTERM"
            );
            thread::sleep(POLL_INTERVAL);
        };
        assert!(exit.success(), "the server exited with {exit}");
        self.stdout.iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}

/// Forwards the lines of `stream` to a channel, from a thread of its own.
fn lines_of(stream: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The rest of the first line of `lines` that starts with `prefix`, waiting up to
/// [`STARTUP_TIMEOUT`]. Lines before it are discarded.
fn wait_for_line(lines: &Receiver<String>, prefix: &str) -> String {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => match line.strip_prefix(prefix) {
                Some(rest) => return rest.to_owned(),
                None => seen.push(line),
            },
            Err(RecvTimeoutError::Timeout) => panic!("no line `{prefix}…` in time; saw {seen:#?}"),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("the stream ended without a line `{prefix}…`; saw {seen:#?}")
            }
        }
    }
}

/// A raw HTTP/1.1 GET; returns the status code and the body.
fn http_get(addr: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(HTTP_TIMEOUT))
        .expect("set a read timeout");
    stream
        .set_write_timeout(Some(HTTP_TIMEOUT))
        .expect("set a write timeout");
    let auth = bearer
        .map(|key| format!("Authorization: Bearer {key}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A raw HTTP/1.1 POST of a JSON body; returns the status code and the body.
fn http_post(addr: &str, path: &str, bearer: &str, json: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the server");
    stream
        .set_read_timeout(Some(HTTP_TIMEOUT))
        .expect("set a read timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A webhook receiver on 127.0.0.1: answers 200 to every request and forwards its head (request
/// line and headers, lowercased) and body.
fn webhook_receiver() -> (String, Receiver<(String, String)>) {
    http_receiver("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned())
}

/// An HTTP server on 127.0.0.1 that answers every request with `answer` (a whole response,
/// closing the connection) and reports each one as (lowercased head, body).
fn http_receiver(answer: String) -> (String, Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a receiver");
    let addr = listener.local_addr().expect("receiver address").to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            stream.set_read_timeout(Some(HTTP_TIMEOUT)).ok();
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            let mut head = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&lower);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).ok();
            stream.write_all(answer.as_bytes()).ok();
            if tx
                .send((head, String::from_utf8_lossy(&body).into_owned()))
                .is_err()
            {
                break;
            }
        }
    });
    (addr, rx)
}

/// `serve` runs the dispatcher with the API's master key: a webhook created through the API,
/// with a secret, receives a signed test delivery.
fn serve_delivers_webhooks(db: &TestDb) {
    let (receiver, requests) = webhook_receiver();
    let server = Server::spawn_with_env(
        db,
        &["serve", "--addr", "127.0.0.1:0"],
        &[
            ("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE", "true"),
            ("OUTBOUND_WEBHOOK_RETRY_SCHEDULE", "0,0.1,0.1"),
        ],
    );
    let key = wait_for_line(&server.stdout, "API key: ");
    let addr = wait_for_line(&server.stderr, "Listening on http://");
    let (status, body) = http_post(
        &addr,
        "/v1/webhooks",
        &key,
        &format!(
            r#"{{"name":"cli test","url":"http://{receiver}/hook","secret":"s3cret","events":["*"]}}"#
        ),
    );
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, body) = http_post(
        &addr,
        "/v1/webhooks/test",
        &key,
        r#"{"event":"linkedin.message.sent"}"#,
    );
    assert_eq!(status, 200, "{body}");

    let (head, body) = requests
        .recv_timeout(STARTUP_TIMEOUT)
        .expect("the webhook is delivered");
    assert!(head.starts_with("post /hook http/1.1"), "{head}");
    assert!(head.contains("webhook-id: "), "{head}");
    let signature = head
        .lines()
        .find_map(|line| line.strip_prefix("x-kakiyo-signature: "))
        .expect("signed with the secret the API sealed")
        .trim();
    assert_eq!(signature.len(), 64, "{signature}");
    assert!(head.contains("webhook-signature: v1,"), "{head}");
    assert!(
        body.starts_with(r#"{"event":"linkedin.message.sent","teamId":""#),
        "{body}"
    );
    let rest = server.stop();
    assert!(rest.is_empty(), "nothing else on stdout: {rest:?}");
}

#[test]
fn serve_delivers_webhooks_on_sqlite() {
    serve_delivers_webhooks(&TestDb::sqlite());
}

#[test]
fn serve_delivers_webhooks_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
        return;
    };
    serve_delivers_webhooks(&db);
}

fn serve_workflow(db: &TestDb) {
    let server = Server::start(db);
    let key = wait_for_line(&server.stdout, "API key: ");
    assert_eq!(key.len(), API_KEY_LEN, "{key:?}");
    let addr = wait_for_line(&server.stderr, "Listening on http://");
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_ne!(addr, "127.0.0.1:0", "the real bound address is shown");
    // What it runs on, then the next steps with the key, for a person.
    let database = wait_for_line(&server.stderr, "  database   ");
    assert!(
        database.starts_with("SQLite file ") || database.starts_with("PostgreSQL "),
        "{database}"
    );
    let linkedin = wait_for_line(&server.stderr, "  LinkedIn   ");
    assert!(linkedin.starts_with("sandbox"), "{linkedin}");
    let models = wait_for_line(&server.stderr, "  models     ");
    assert!(models.contains("template"), "{models}");
    let dashboard = wait_for_line(&server.stderr, "  1. Open the dashboard, ");
    assert_eq!(
        dashboard,
        format!("http://{addr}/app, and sign in with the key")
    );
    let docs = wait_for_line(&server.stderr, "  2. Read the API reference: ");
    assert_eq!(docs, format!("http://{addr}/docs"));
    let call = wait_for_line(&server.stderr, "  3. Call it: ");
    assert_eq!(
        call,
        format!("curl -s http://{addr}/v1/verify -H \"Authorization: Bearer {key}\"")
    );

    let (status, _) = http_get(&addr, "/healthz", None);
    assert_eq!(status, 200);
    let (status, body) = http_get(&addr, "/v1/verify", Some(&key));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("teamId"), "{body}");
    let (status, _) = http_get(&addr, "/v1/verify", Some(&"x".repeat(API_KEY_LEN)));
    assert_eq!(status, 401);

    let rest = server.stop();
    assert!(rest.is_empty(), "nothing else on stdout: {rest:?}");

    // The team from the first start is there; a second start shows no key.
    let teams = db.ok(&["teams", "list"]);
    assert!(
        single_line(&teams).contains("\tdefault\tunlimited\tactive"),
        "{teams:?}"
    );
    let server = Server::start(db);
    wait_for_line(&server.stderr, "Listening on http://");
    let stdout = server.stop();
    assert!(
        stdout.is_empty(),
        "a second start prints no key: {stdout:?}"
    );
}

#[test]
fn serve_bootstraps_once_answers_and_stops_on_sigterm() {
    let db = TestDb::sqlite();
    serve_workflow(&db);
    let key_file = db.dir.join("outbound.db.key");
    assert!(
        key_file.is_file(),
        "a master key was generated next to the database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file)
            .expect("key file metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn serve_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
        return;
    };
    serve_workflow(&db);
}

#[test]
fn teams_commands_do_not_touch_the_working_directory() {
    let db = TestDb::sqlite();
    db.ok(&["teams", "list"]);
    let entries: Vec<PathBuf> = std::fs::read_dir(&db.dir)
        .expect("read the test directory")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| !is_database_file(path))
        .collect();
    assert!(entries.is_empty(), "unexpected files: {entries:?}");
}

fn is_database_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("outbound.db") && !name.ends_with(".key"))
}

fn worker_workflow(db: &TestDb) {
    let worker = Server::spawn(db, &["worker"]);
    wait_for_line(&worker.stderr, "Worker running");
    let stdout = worker.stop();
    assert!(
        stdout.is_empty(),
        "a worker prints nothing on stdout: {stdout:?}"
    );
    // The worker migrated the database: teams commands work on it.
    assert_eq!(db.ok(&["teams", "list"]), "");
}

#[test]
fn worker_runs_until_sigterm() {
    worker_workflow(&TestDb::sqlite());
}

#[test]
fn worker_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
        return;
    };
    worker_workflow(&db);
}

#[test]
fn invalid_webhook_settings_stop_the_worker() {
    let db = TestDb::sqlite();
    let output = db
        .command(&["worker"])
        .env("OUTBOUND_WEBHOOK_RETRY_SCHEDULE", "5,300")
        .output()
        .expect("run outbound");
    assert_eq!(output.status.code(), Some(1));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(
        err.contains("OUTBOUND_WEBHOOK_RETRY_SCHEDULE") && err.contains("webhook_retry_schedule"),
        "{err}"
    );
}

/// `unipile register-webhooks` registers the three sources with Unipile's API (a local server
/// speaking its shape), each pointing at our ingress route with the secret header; without a
/// secret or a public URL it refuses before calling anyone.
#[test]
fn unipile_webhooks_are_registered_with_the_secret() {
    let body = r#"{"object":"WebhookCreated","webhook_id":"wh_7"}"#;
    let answer = format!(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let (unipile, requests) = http_receiver(answer);
    let db = TestDb::sqlite();
    let register = |extra: &[(&str, &str)]| {
        let mut command = db.command(&["unipile", "register-webhooks"]);
        command
            .env("OUTBOUND_UNIPILE_DSN", format!("http://{unipile}"))
            .env("OUTBOUND_UNIPILE_API_KEY", "unipile-key");
        for (name, value) in extra {
            command.env(name, value);
        }
        command.output().expect("run outbound")
    };

    let refused = register(&[("OUTBOUND_PUBLIC_URL", "https://sdr.example.com")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("unipile_webhook_secret"),
        "{refused:?}"
    );
    let refused = register(&[("OUTBOUND_UNIPILE_WEBHOOK_SECRET", "s3cret")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--url"),
        "{refused:?}"
    );
    assert!(
        requests.try_recv().is_err(),
        "nothing was sent before the checks"
    );

    let done = register(&[
        ("OUTBOUND_UNIPILE_WEBHOOK_SECRET", "s3cret"),
        ("OUTBOUND_PUBLIC_URL", "https://sdr.example.com/"),
    ]);
    assert!(done.status.success(), "{done:?}");
    assert_eq!(
        String::from_utf8_lossy(&done.stdout),
        "messaging\twh_7\nusers\twh_7\naccount_status\twh_7\n"
    );
    let mut sources = Vec::new();
    for _ in 0..3 {
        let (head, body) = requests.recv_timeout(HTTP_TIMEOUT).expect("a registration");
        assert!(head.starts_with("post /api/v1/webhooks "), "{head}");
        assert!(head.contains("x-api-key: unipile-key"), "{head}");
        let body: serde_json::Value = serde_json::from_str(&body).expect("a JSON body");
        assert_eq!(
            body["request_url"],
            "https://sdr.example.com/integrations/unipile/webhook"
        );
        assert_eq!(
            body["headers"],
            serde_json::json!([{ "key": "X-Outbound-Webhook-Secret", "value": "s3cret" }])
        );
        sources.push(body["source"].as_str().expect("source").to_owned());
    }
    assert_eq!(sources, ["messaging", "users", "account_status"]);
}

/// How long the demo may take to show a whole conversation, at the test's clock speed.
const DEMO_TIMEOUT: Duration = Duration::from_secs(90);

/// The first line of `lines` containing one of `needles`, waiting up to [`DEMO_TIMEOUT`].
fn wait_for_text(lines: &Receiver<String>, needles: &[&str]) -> String {
    let deadline = Instant::now() + DEMO_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if needles.iter().any(|needle| line.contains(needle)) => return line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line with one of {needles:?} in time; saw {seen:#?}"),
        }
    }
}

/// `outbound demo` sets a campaign up through its own API and tells the whole loop —
/// invitation, acceptance, the agent's message, the prospect's reply, a verdict — then stops
/// on SIGTERM and removes its database.
#[test]
fn demo_shows_a_campaign_from_invitation_to_verdict() {
    let db = TestDb::sqlite();
    let server = Server::spawn(
        &db,
        &["demo", "--addr", "127.0.0.1:0", "--time-scale", "3000"],
    );
    let key = wait_for_line(&server.stdout, "API key: ");
    let addr = wait_for_line(&server.stderr, "Listening on http://");
    let place = wait_for_line(&server.stderr, "Demo: a throwaway database in ");
    let dir = PathBuf::from(place.split(" (removed").next().expect("a directory"));
    assert!(dir.join("demo.db").is_file(), "{place}");
    for step in [
        "POST /v1/prospects/batch",
        ": invitation sent",
        ": accepted the invitation",
        " -> Hi ",
        " wrote: ",
    ] {
        wait_for_text(&server.stderr, &[step]);
    }
    let verdict = wait_for_text(
        &server.stderr,
        &["QUALIFIED", "needs your verdict", "not a fit"],
    );
    assert!(
        verdict.starts_with('['),
        "told at the engine's time: {verdict}"
    );

    // The campaign is there for the reader's own calls, with the printed key.
    let (status, body) = http_get(&addr, "/v1/campaigns", Some(&key));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"Fintech CFOs\""), "{body}");

    let rest = server.stop();
    assert!(rest.is_empty(), "only the key on stdout: {rest:?}");
    assert!(!dir.exists(), "the demo database is removed on exit");
}

/// `outbound mcp` serves the 42 tools over stdio to a real MCP client (rmcp's, spawning the
/// binary), acting with the key of `OUTBOUND_API_KEY`; a bad key stops it before it serves.
fn mcp_over_stdio(db: &TestDb) {
    use rmcp::ServiceExt;
    use rmcp::model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation};
    use rmcp::transport::TokioChildProcess;

    let team = single_line(&db.ok(&["teams", "create", "--name", "Assistants"])).to_owned();
    let key = single_line(&db.ok(&["keys", "create", "--team", &team])).to_owned();
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let mut command = db.command(&["mcp"]);
        command.env("OUTBOUND_API_KEY", &key);
        let (transport, _) = TokioChildProcess::builder(tokio::process::Command::from(command))
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn outbound mcp");
        let client = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("stdio-test", "0"),
        )
        .serve(transport)
        .await
        .expect("initialize over stdio");
        let tools = client.list_all_tools().await.expect("tools/list");
        assert_eq!(
            tools.len(),
            47,
            "Kakiyo's 42 tools and our five review tools"
        );
        let verified = client
            .call_tool(CallToolRequestParams::new("verify_api_key"))
            .await
            .expect("verify_api_key");
        assert_eq!(verified.is_error, Some(false), "{verified:?}");
        let team_id = verified
            .structured_content
            .as_ref()
            .and_then(|v| v["teamId"].as_str().map(str::to_owned));
        assert_eq!(team_id.as_deref(), Some(team.as_str()), "the key's team");
        let missing = client
            .call_tool(CallToolRequestParams::new("get_campaign_stats"))
            .await
            .expect("get_campaign_stats");
        assert_eq!(
            missing.is_error,
            Some(true),
            "campaignId is required: {missing:?}"
        );
        client.cancel().await.expect("close");
    });

    let mut refused = db.command(&["mcp"]);
    refused.env("OUTBOUND_API_KEY", "x".repeat(API_KEY_LEN));
    let output = refused
        .stdin(Stdio::null())
        .output()
        .expect("run outbound mcp");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "no protocol for a refused key");
    assert!(String::from_utf8_lossy(&output.stderr).contains("OUTBOUND_API_KEY was refused"));
}

#[test]
fn mcp_over_stdio_on_sqlite() {
    mcp_over_stdio(&TestDb::sqlite());
}

#[test]
fn mcp_over_stdio_on_postgres() {
    let Some(db) = TestDb::postgres() else {
        eprintln!("{POSTGRES_ENV} is not set: skipping the PostgreSQL run");
        return;
    };
    mcp_over_stdio(&db);
}

#[test]
fn a_live_database_is_backed_up_and_restored() {
    let db = TestDb::sqlite();
    let server = Server::start(&db);
    let key = wait_for_line(&server.stdout, "API key: ");
    let addr = wait_for_line(&server.stderr, "Listening on http://");
    let (status, _) = http_post(
        &addr,
        "/v1/products",
        &key,
        r#"{"name":"Ledger AI","description":"Automated bookkeeping for finance teams"}"#,
    );
    assert_eq!(status, 201);
    let (_, products) = http_get(&addr, "/v1/products", Some(&key));

    // Backed up while the server runs.
    let copy = db.dir.join("backup.db");
    let copy_arg = copy.display().to_string();
    assert_eq!(single_line(&db.ok(&["backup", &copy_arg])), copy_arg);
    assert!(copy.exists());
    assert!(
        db.dir.join("backup.db.key").exists(),
        "the master key goes with it"
    );
    db.fails(&["backup", &copy_arg], 1);
    server.stop();

    // Restored as another database: the same API reads, with the same key.
    let other = TestDb::sqlite();
    other.ok(&["restore", &copy_arg]);
    other.fails(&["restore", &copy_arg], 1);
    other.ok(&["restore", &copy_arg, "--force"]);
    let restored = Server::start(&other);
    let addr = wait_for_line(&restored.stderr, "Listening on http://");
    let (status, again) = http_get(&addr, "/v1/products", Some(&key));
    assert_eq!(status, 200);
    assert_eq!(
        again, products,
        "the restored server reads what the live one wrote"
    );
    restored.stop();

    let garbage = other.dir.join("garbage.db");
    std::fs::write(&garbage, b"not a database").expect("write");
    let err = TestDb::sqlite().fails(&["restore", &garbage.display().to_string()], 1);
    assert!(
        err.contains("not a SQLite database") || err.contains("damaged"),
        "{err}"
    );
}
