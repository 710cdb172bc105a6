//! Providers against a local mock HTTP server on 127.0.0.1: request shapes, answers, errors,
//! retries, timeouts and fallbacks. No test reaches any other address.

mod anthropic;
mod factory;
mod mock;
mod openai;
