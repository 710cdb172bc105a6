//! The engine of Outbound: the work that runs in the background, beside the HTTP API.
//!
//! Today that is the webhook dispatcher ([`webhooks::Dispatcher`]), which turns the events the
//! API and the store write to the outbox into signed, retried HTTP deliveries. The outreach
//! scheduler (tasks, per-agent working hours, conversations) comes later and will live here
//! too.
//!
//! Rule: background work is driven by the database alone (the outbox, leased deliveries), so
//! that any number of processes (`outbound serve`, `outbound worker`) can share it and none of
//! it is lost when a process dies; tests drive it explicitly (`run_once`).

pub mod imports;
pub mod webhooks;

pub use webhooks::{Dispatcher, EngineError, EngineResult, WebhookConfig};
