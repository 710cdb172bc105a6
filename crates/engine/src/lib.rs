//! The engine of Outbound: the work that runs in the background, beside the HTTP API.
//!
//! That is the outreach engine ([`outreach::Engine`]: agents inviting, messaging, answering and
//! qualifying inside their working hours, on a [`clock::Clock`]), the import worker
//! ([`imports`]) and the webhook dispatcher ([`webhooks::Dispatcher`]), which turns the events
//! the API, the store and the engine write to the outbox into signed, retried HTTP deliveries.
//!
//! Rule: background work is driven by the database alone (the outbox, leased deliveries), so
//! that any number of processes (`outbound serve`, `outbound worker`) can share it and none of
//! it is lost when a process dies; tests drive it explicitly (`run_once`).

pub mod clock;
pub mod imports;
pub mod outreach;
pub mod sales_navigator;
pub mod webhooks;

pub use webhooks::{Dispatcher, EngineError, EngineResult, WebhookConfig};
