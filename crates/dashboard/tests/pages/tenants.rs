//! A second team never sees nor changes the first team's rows, on any page or action.

use outbound_core::review::ReviewMode;
use outbound_store::chats::Role;
use outbound_store::imports::{NewImportRow, source};

use crate::both_backends;

both_backends!(
    async fn another_teams_ids_are_not_found_on_every_page_and_action(app) {
        let first = app.team(ReviewMode::FirstMessage).await;
        let chat = app.conversation(&first, "Ada Lovelace").await;
        app.message(&first, &chat, Role::User, "Tell me more", outbound_core::time::now_millis()).await;
        let list = app
            .store
            .create_import(
                &first.id,
                &first.campaign_id,
                source::DASHBOARD_CSV,
                &[NewImportRow {
                    name: "Bob Byron".to_owned(),
                    url: "https://www.linkedin.com/in/bob-byron".to_owned(),
                    custom_data: String::new(),
                    ongoing: false,
                }],
            )
            .await
            .expect("import");
        let entry = app
            .store
            .add_dnc(&first.id, "https://linkedin.com/in/carl-dnc")
            .await
            .expect("dnc");

        let second = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&second).await;
        for path in [
            format!("/app/campaigns/{}", first.campaign_id),
            format!("/app/campaigns/{}/edit", first.campaign_id),
            format!("/app/inbox/{chat}"),
            format!("/app/inbox/{chat}/thread"),
            format!("/app/agents/{}", first.agent_id),
            format!("/app/prompts/{}", first.prompt_id),
            format!("/app/imports/{list}"),
        ] {
            client.get(&path).await.expect(404);
        }
        for (path, form) in [
            (format!("/app/inbox/{chat}/pause"), vec![]),
            (format!("/app/inbox/{chat}/message"), vec![("text", "Hello from the wrong team")]),
            (format!("/app/inbox/{chat}/qualify"), vec![]),
            (format!("/app/inbox/{chat}/dnc"), vec![]),
            (format!("/app/review/verdict/{chat}"), vec![("verdict", "qualified")]),
            (format!("/app/campaigns/{}/pause", first.campaign_id), vec![]),
            (
                format!("/app/campaigns/{}", first.campaign_id),
                vec![("name", "Taken over"), ("review_mode", "off")],
            ),
            (format!("/app/agents/{}/pause", first.agent_id), vec![]),
            (format!("/app/agents/{}/code", first.agent_id), vec![("code", "123456")]),
            (
                format!("/app/prompts/{}", first.prompt_id),
                vec![("context", "{{prospectDescription}} {{offeringDescription}}")],
            ),
            (format!("/app/dnc/{}/delete", entry.id), vec![]),
            ("/app/review/no-such-draft/approve".to_owned(), vec![("text", "x"), ("original", "y")]),
        ] {
            client.act(&path, &form).await.expect(404);
        }
        // Nothing of the first team changed.
        let details = app.store.get_chat(&first.id, &chat).await.expect("chat");
        assert!(!details.summary.paused);
        assert_eq!(details.messages.len(), 1);
        let campaign = app.store.get_campaign(&first.id, &first.campaign_id).await.expect("campaign");
        assert_eq!(campaign.name, "Fintech CFOs");
        assert_eq!(campaign.status.as_str(), "active");
        assert!(app.store.find_dnc(&first.id, &entry.url).await.expect("dnc").is_some());
        assert!(app.store.find_dnc(&second.id, "https://linkedin.com/in/ada-lovelace").await.expect("dnc").is_none());
        // And its rows appear in none of the second team's lists.
        for path in ["/app", "/app/inbox", "/app/campaigns", "/app/review", "/app/dnc", "/app/imports/new"] {
            let page = client.get(path).await;
            page.expect(200);
            assert!(!page.body.contains("Ada Lovelace"), "{path} shows the other team's prospect");
            assert!(!page.body.contains(&first.campaign_id), "{path} links the other team's campaign");
            assert!(!page.body.contains("carl-dnc"), "{path} shows the other team's DNC entry");
        }
    }
);

both_backends!(
    async fn another_teams_webhooks_and_keys_are_not_found(app) {
        let first = app.team(ReviewMode::Off).await;
        let webhook = app
            .store
            .create_webhook(
                &first.id,
                outbound_store::webhooks::NewWebhook {
                    name: "CRM".to_owned(),
                    url: "https://crm.example.com/hooks".to_owned(),
                    secret_sealed: None,
                    events: vec!["*".to_owned()],
                },
            )
            .await
            .expect("webhook");
        let second = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&second).await;
        client.get(&format!("/app/webhooks/{}", webhook.id)).await.expect(404);
        for (path, form) in [
            (format!("/app/webhooks/{}", webhook.id), vec![("name", "Mine"), ("url", "https://evil.example.com"), ("events", "*")]),
            (format!("/app/webhooks/{}/delete", webhook.id), vec![]),
            (format!("/app/webhooks/{}/deliveries/x/retry", webhook.id), vec![]),
            (format!("/app/settings/keys/{}/revoke", first.key_id), vec![]),
        ] {
            client.act(&path, &form).await.expect(404);
        }
        // The second team's test event reaches none of the first team's webhooks.
        client.act("/app/webhooks/test", &[("event", "prospect.qualified")]).await.expect(404);
        let kept = app.store.get_webhook(&first.id, &webhook.id).await.expect("webhook");
        assert_eq!(kept.name, "CRM");
        assert!(app.store.list_deliveries(&first.id, &webhook.id, 10, 0).await.expect("d").is_empty());
        assert!(app.store.key_owner(&outbound_core::keys::hash_api_key(&first.key)).await.expect("owner").is_some());
        let page = client.get("/app/webhooks").await;
        assert!(!page.body.contains("crm.example.com"));
        let settings = client.get("/app/settings").await;
        assert!(!settings.body.contains(&first.key_id));
    }
);
