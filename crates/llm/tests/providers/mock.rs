//! A scripted HTTP server on `127.0.0.1:0`: it records every request and answers with the next
//! scripted response (the last one is repeated once the script runs out).

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Scripted {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Scripted {
    pub fn json(status: u16, body: Value) -> Scripted {
        Scripted::text(status, &body.to_string())
    }

    pub fn text(status: u16, body: &str) -> Scripted {
        Scripted {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Scripted {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Scripted {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Scripted>>,
    captured: Mutex<Vec<Captured>>,
}

/// A running mock server.
pub struct MockServer {
    pub base: String,
    shared: Arc<Shared>,
}

impl MockServer {
    /// Starts a server that answers with `script`, in order.
    pub async fn start(script: Vec<Scripted>) -> MockServer {
        assert!(!script.is_empty(), "a mock needs at least one answer");
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            captured: Mutex::default(),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port");
        let addr = listener.local_addr().expect("a bound address");
        tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("the mock server runs");
        });
        MockServer {
            base: format!("http://{addr}"),
            shared,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Captured> {
        self.shared
            .captured
            .lock()
            .expect("an unpoisoned lock")
            .clone()
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared
        .captured
        .lock()
        .expect("an unpoisoned lock")
        .push(Captured {
            method,
            path: uri.path().to_owned(),
            headers,
            body,
        });
    let next = {
        let mut script = shared.script.lock().expect("an unpoisoned lock");
        if script.len() > 1 {
            script.pop_front().expect("a scripted answer")
        } else {
            script.front().cloned().expect("a scripted answer")
        }
    };
    tokio::time::sleep(next.delay).await;
    let mut response = (
        StatusCode::from_u16(next.status).expect("a valid status"),
        next.body,
    )
        .into_response();
    for (name, value) in next.headers {
        response.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).expect("a valid header value"),
        );
    }
    response
}
