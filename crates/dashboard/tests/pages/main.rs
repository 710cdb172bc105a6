//! The dashboard over HTTP, on both databases: sessions, CSRF, tenants apart on every page and
//! action, and the store queries behind the pages (inbox order, filters and pages; funnels;
//! daily activity; imports). The real-browser tests are `crates/cli/tests/browser.rs`.

mod common;
mod flows;
mod inbox;
mod security;
mod tenants;
