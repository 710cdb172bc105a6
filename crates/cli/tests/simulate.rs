//! `outbound simulate`: one JSON object on stdout with `--json`, the same for the same seed, no
//! violation; a human report without it; `serve --time-scale` refused with a real connector.

use serde_json::Value;
use std::process::{Command, Output};

fn outbound(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_outbound"))
        .args(args)
        .env_remove("OUTBOUND_CONFIG")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run outbound")
}

fn simulate_json(seed: &str) -> Value {
    let output = outbound(&[
        "simulate",
        "--days",
        "8",
        "--agents",
        "2",
        "--prospects",
        "40",
        "--seed",
        seed,
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout}");
    serde_json::from_str(stdout.trim()).expect("one JSON object")
}

#[test]
fn simulate_prints_one_reproducible_json_report_without_violations() {
    let report = simulate_json("3");
    for key in [
        "invitations_sent",
        "invitations_accepted",
        "messages_sent",
        "followups_sent",
        "replies_received",
        "qualified",
        "need_verification",
        "unqualified",
        "skipped_dnc",
    ] {
        assert!(report[key].is_u64(), "{key} in {report}");
    }
    let violations = report["violations"].as_object().expect("violations");
    for key in [
        "daily_limit",
        "weekly_limit",
        "working_hours",
        "dnc_contacted",
        "duplicate_send",
        "followup_after_reply",
        "paused_messaged",
        "monthly_limit",
        "warmup",
        "sent_without_approval",
        "ai_after_takeover",
    ] {
        assert_eq!(violations[key], 0, "{key} in {report}");
    }
    assert!(report["invitations_sent"].as_u64() > Some(0), "{report}");
    assert_eq!(simulate_json("3"), report, "same seed, same report");
}

#[test]
fn simulate_prints_a_report_for_people_and_checks_its_arguments() {
    let output = outbound(&[
        "simulate",
        "--days",
        "2",
        "--agents",
        "1",
        "--prospects",
        "5",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(stdout.contains("invitations sent"), "{stdout}");
    assert!(stdout.contains("no violation"), "{stdout}");
    let refused = outbound(&["simulate", "--days", "0"]);
    assert_eq!(refused.status.code(), Some(2), "a usage error");
}

#[test]
fn time_scale_needs_the_sandbox() {
    let dir = std::env::temp_dir().join(format!("outbound-timescale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let database = format!("sqlite://{}", dir.join("o.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_outbound"))
        .args(["serve", "--addr", "127.0.0.1:0", "--time-scale", "50"])
        .env_remove("OUTBOUND_CONFIG")
        .env("OUTBOUND_DATABASE_URL", &database)
        .env("OUTBOUND_LINKEDIN_CONNECTOR", "unipile")
        .env("OUTBOUND_UNIPILE_DSN", "https://api1.unipile.com:13111")
        .env("OUTBOUND_UNIPILE_API_KEY", "key")
        .output()
        .expect("run outbound");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--time-scale"), "{stderr}");
    let bad = outbound(&["serve", "--time-scale", "0.5"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "a time scale below 1 is a usage error"
    );
}

#[test]
fn simulate_with_review_mode_sends_only_what_a_person_approved() {
    let run = |extra: &[&str]| -> Value {
        let mut args = vec![
            "simulate",
            "--days",
            "10",
            "--agents",
            "2",
            "--prospects",
            "40",
            "--seed",
            "4",
            "--json",
        ];
        args.extend_from_slice(extra);
        let output = outbound(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("one JSON object")
    };
    let approved = run(&["--review-mode", "all", "--auto-approve-after", "30"]);
    assert!(approved["drafts_approved"].as_u64() > Some(0), "{approved}");
    assert!(approved["messages_sent"].as_u64() > Some(0), "{approved}");
    let violations = approved["violations"].as_object().expect("violations");
    assert!(violations.values().all(|v| v == 0), "{approved}");
    // Nobody approves: the drafts expire and no AI message goes out.
    let unattended = run(&["--review-mode", "first_message"]);
    assert_eq!(unattended["drafts_approved"], 0);
    assert_eq!(unattended["messages_sent"], 0, "{unattended}");
    let bad = outbound(&["simulate", "--review-mode", "sometimes"]);
    assert!(!bad.status.success());
}
