//! HTTP tests of the API: each test spawns the real application on 127.0.0.1:0 over a fresh
//! database, on SQLite always and on PostgreSQL when `OUTBOUND_TEST_POSTGRES_URL` is set.

mod common;

mod agents;
mod analytics;
mod auth;
mod campaigns;
mod conformance;
mod dnc;
mod drafts;
mod errors;
mod imports;
mod models;
mod openapi;
mod outage;
mod products;
mod prompts;
mod prospects;
mod rate_limits;
mod sales_navigator;
mod search;
mod unipile;
mod webhooks;
mod workspaces;
