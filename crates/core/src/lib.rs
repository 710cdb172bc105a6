//! Domain types and rules of Outbound, free of IO.
//!
//! Everything here is a pure function or a plain type: the store persists these types, the API
//! validates requests with these rules, and the engine (later) schedules with them. Nothing in
//! this crate touches the network, the clock of the machine (callers pass time in) or a database.

pub mod agent;
pub mod campaign;
pub mod conversation;
pub mod dnc;
pub mod events;
pub mod ids;
pub mod keys;
pub mod model;
pub mod plan;
pub mod product;
pub mod prompt;
pub mod review;
pub mod schedule;
pub mod secrets;
pub mod time;
pub mod validation;
pub mod webhooks;
