//! Events: what happened, as webhooks announce it.
//!
//! The subscribable events are Kakiyo's six plus `prospect.qualified` (our extension, sent when
//! a prospect is qualified automatically or by hand); `*` subscribes to all of those. The review
//! queue's `draft.created` and `draft.expired`, and the circuit breaker's `agent.stopped`, reach
//! only the webhooks that name them
//! ([`EventType::is_opt_in`]), so that a `*` receiver written for Kakiyo sees nothing new. A delivery body is
//! `{"event", "teamId", "timestamp", "data"}` in that order, as compact JSON.
//!
//! The test endpoints speak Kakiyo's older vocabulary (`prospect.qualified`, `message.sent`…)
//! with a different envelope (`team: {id, name}`); [`TEST_EVENTS`] and [`example_payload`] keep
//! that catalogue.

use serde::Serialize;
use serde_json::{Value, json};

/// The wildcard subscription.
pub const WILDCARD: &str = "*";

/// An event a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    InvitationSent,
    InvitationAccepted,
    MessageSent,
    MessageReceived,
    QualificationManual,
    Unqualified,
    Qualified,
    DraftCreated,
    DraftExpired,
    AgentStopped,
}

impl EventType {
    pub const ALL: [EventType; 10] = [
        EventType::InvitationSent,
        EventType::InvitationAccepted,
        EventType::MessageSent,
        EventType::MessageReceived,
        EventType::QualificationManual,
        EventType::Unqualified,
        EventType::Qualified,
        EventType::DraftCreated,
        EventType::DraftExpired,
        EventType::AgentStopped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::InvitationSent => "linkedin.invitation.sent",
            EventType::InvitationAccepted => "linkedin.invitation.accepted",
            EventType::MessageSent => "linkedin.message.sent",
            EventType::MessageReceived => "linkedin.message.received",
            EventType::QualificationManual => "prospect.qualification.manual",
            EventType::Unqualified => "prospect.unqualified",
            EventType::Qualified => "prospect.qualified",
            EventType::DraftCreated => "draft.created",
            EventType::DraftExpired => "draft.expired",
            EventType::AgentStopped => "agent.stopped",
        }
    }

    /// The human name shown by `GET /webhooks/events`.
    pub fn display_name(self) -> &'static str {
        match self {
            EventType::InvitationSent => "LinkedIn Invitation Sent",
            EventType::InvitationAccepted => "LinkedIn Invitation Accepted",
            EventType::MessageSent => "LinkedIn Message Sent",
            EventType::MessageReceived => "LinkedIn Message Received",
            EventType::QualificationManual => "Prospect Needs Manual Qualification",
            EventType::Unqualified => "Prospect Unqualified",
            EventType::Qualified => "Prospect Qualified",
            EventType::DraftCreated => "AI Draft Waiting for Review",
            EventType::DraftExpired => "AI Draft Expired",
            EventType::AgentStopped => "Agent Stopped to Protect the Account",
        }
    }

    /// Delivered only to webhooks that subscribe to it by name, not to `*`.
    pub fn is_opt_in(self) -> bool {
        matches!(
            self,
            EventType::DraftCreated | EventType::DraftExpired | EventType::AgentStopped
        )
    }

    pub fn parse(value: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == value)
    }
}

/// Whether a webhook subscribed to `subscriptions` receives `event`.
pub fn is_subscribed(subscriptions: &[String], event: &str) -> bool {
    let wildcard_covers = EventType::parse(event).is_none_or(|e| !e.is_opt_in());
    subscriptions
        .iter()
        .any(|s| s == event || (s == WILDCARD && wildcard_covers))
}

/// Whether `value` may appear in a webhook's `events`.
pub fn is_valid_subscription(value: &str) -> bool {
    value == WILDCARD || EventType::parse(value).is_some()
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeliveryBody<'a> {
    event: &'a str,
    team_id: &'a str,
    timestamp: &'a str,
    data: &'a Value,
}

/// The exact bytes POSTed to a webhook for an event.
pub fn delivery_body(event: &str, team_id: &str, timestamp: &str, data: &Value) -> String {
    let body = DeliveryBody {
        event,
        team_id,
        timestamp,
        data,
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// One entry of the legacy test-event catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TestEvent {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
}

/// `GET /webhooks/test/events`.
pub const TEST_EVENTS: [TestEvent; 6] = [
    TestEvent {
        id: "prospect.qualified",
        name: "Prospect Qualified",
        description: "Triggered when a prospect is marked as qualified",
        category: "prospect",
    },
    TestEvent {
        id: "prospect.responded",
        name: "Prospect Responded",
        description: "Triggered when a prospect replies to a message",
        category: "prospect",
    },
    TestEvent {
        id: "campaign.completed",
        name: "Campaign Completed",
        description: "Triggered when a campaign has no work left",
        category: "campaign",
    },
    TestEvent {
        id: "agent.status_changed",
        name: "Agent Status Changed",
        description: "Triggered when an agent changes status",
        category: "agent",
    },
    TestEvent {
        id: "message.sent",
        name: "Message Sent",
        description: "Triggered when an agent sends a message",
        category: "message",
    },
    TestEvent {
        id: "connection.accepted",
        name: "Connection Accepted",
        description: "Triggered when a prospect accepts a connection request",
        category: "connection",
    },
];

/// The example payload of a legacy test event, or `None` for an unknown event.
pub fn example_payload(
    event: &str,
    team_id: &str,
    team_name: &str,
    timestamp: &str,
) -> Option<Value> {
    let prospect = json!({
        "id": "prospect_12345abcde", "name": "Ana Ruiz", "headline": "CFO at Ledgerly",
        "url": "https://linkedin.com/in/anaruiz"
    });
    let campaign = json!({ "id": "campaign_12345abcde", "name": "Fintech CFOs - Q3" });
    let agent = json!({ "id": "agent_abcdef123456", "name": "Sam Lee" });
    let data = match event {
        "prospect.qualified" => json!({
            "prospect": {
                "id": "prospect_12345abcde", "name": "Ana Ruiz", "email": "ana@ledgerly.example",
                "headline": "CFO at Ledgerly", "url": "https://linkedin.com/in/anaruiz",
                "location": { "city": "Madrid", "country": "Spain" },
                "qualification": "qualified", "qualifiedAt": timestamp, "qualifiedBy": "ai"
            },
            "campaign": campaign,
            "conversation": {
                "id": "chat_12345abcde", "messageCount": 6,
                "lastMessage": "Sounds interesting, tell me more", "lastActivity": timestamp
            }
        }),
        "prospect.responded" => json!({
            "prospect": prospect, "campaign": campaign, "agent": agent,
            "message": { "id": "message_12345abcde", "content": "Sounds interesting, tell me more",
                         "receivedAt": timestamp, "platform": "linkedin" }
        }),
        "campaign.completed" => json!({
            "campaign": {
                "id": "campaign_12345abcde", "name": "Fintech CFOs - Q3", "status": "completed",
                "completedAt": timestamp, "duration": "45 days",
                "stats": { "prospects": 200, "messages": 410, "responses": 30, "qualified": 10,
                           "closed": 3, "conversionRate": "5.00%", "responseRate": "15.00%" }
            },
            "agent": agent
        }),
        "agent.status_changed" => json!({
            "agent": { "id": "agent_abcdef123456", "name": "Sam Lee", "previousStatus": "running",
                       "currentStatus": "paused", "statusChangedAt": timestamp,
                       "reason": "Paused by user" },
            "stats": { "dailyMessages": 40, "dailyConnections": 12, "dailyProfileViews": 0 }
        }),
        "message.sent" => json!({
            "message": { "id": "message_12345abcde", "content": "Hi Ana, quick question…",
                         "type": "initial", "sentAt": timestamp, "platform": "linkedin" },
            "prospect": prospect, "campaign": campaign, "agent": agent
        }),
        "connection.accepted" => json!({
            "connection": { "id": "connection_12345abcde", "acceptedAt": timestamp,
                            "sentAt": timestamp, "responseTime": "2 days" },
            "prospect": prospect, "campaign": campaign, "agent": agent
        }),
        _ => return None,
    };
    Some(json!({
        "event": event,
        "timestamp": timestamp,
        "data": data,
        "team": { "id": team_id, "name": team_name },
    }))
}

/// The data of a test delivery of `event`: a realistic sample, with `extra` merged over it.
pub fn test_data(event: EventType, timestamp: &str, extra: Option<&Value>) -> Value {
    let mut data = json!({
        "agentId": "agent_test", "campaignId": "campaign_test", "chatId": "chat_test",
        "prospectId": "prospect_test", "timestamp": timestamp, "test": true,
    });
    if matches!(event, EventType::MessageSent | EventType::MessageReceived) {
        data["message"] = json!("This is a test message from Outbound");
    }
    if let (Some(Value::Object(extra)), Value::Object(target)) = (extra, &mut data) {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_wildcard_matches_all() {
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
            let by_wildcard = is_subscribed(&["*".to_owned()], event.as_str());
            assert_eq!(by_wildcard, !event.is_opt_in(), "{event:?}");
            assert!(is_subscribed(&[event.as_str().to_owned()], event.as_str()));
        }
        assert!(!is_subscribed(&["*".to_owned()], "draft.created"));
        let subs = vec!["linkedin.message.sent".to_owned()];
        assert!(is_subscribed(&subs, "linkedin.message.sent"));
        assert!(!is_subscribed(&subs, "linkedin.message.received"));
        assert!(!is_valid_subscription("message.sent"));
        assert!(is_valid_subscription("*"));
    }

    #[test]
    fn delivery_body_is_compact_and_ordered() {
        let body = delivery_body(
            "linkedin.message.received",
            "t1",
            "2026-05-02T10:14:00.000Z",
            &json!({"a": 1}),
        );
        assert_eq!(
            body,
            r#"{"event":"linkedin.message.received","teamId":"t1","timestamp":"2026-05-02T10:14:00.000Z","data":{"a":1}}"#
        );
    }

    #[test]
    fn every_test_event_has_an_example() {
        for event in TEST_EVENTS {
            let example =
                example_payload(event.id, "t", "Team", "2026-01-01T00:00:00.000Z").unwrap();
            assert_eq!(example["event"], event.id);
            assert_eq!(example["team"]["id"], "t");
        }
        assert!(example_payload("nope", "t", "T", "now").is_none());
    }

    #[test]
    fn test_data_merges_extra_keys() {
        let data = test_data(
            EventType::MessageReceived,
            "now",
            Some(&json!({"message": "hi", "x": 1})),
        );
        assert_eq!(data["message"], "hi");
        assert_eq!(data["x"], 1);
        assert_eq!(data["test"], true);
    }
}
