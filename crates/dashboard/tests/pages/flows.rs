//! The screens' forms end to end over HTTP: home figures, campaigns, the CSV import wizard,
//! agents, products and prompts, the DNC list, the review queue's verdicts.

use outbound_core::conversation::Qualification;
use outbound_core::review::ReviewMode;
use outbound_core::time::now_millis;
use outbound_store::chats::Role;
use outbound_store::imports::ImportStatus;

use crate::both_backends;
use crate::common::field_value;

both_backends!(
    async fn home_shows_the_funnel_figures_and_what_needs_attention(app) {
        let team = app.team(ReviewMode::Off).await;
        let now = now_millis();
        let ada = app.conversation(&team, "Ada Lovelace").await;
        let _bob = app.conversation(&team, "Bob Byron").await;
        app.message(&team, &ada, Role::Assistant, "Hi Ada", now).await;
        app.message(&team, &ada, Role::User, "Interesting, tell me more", now).await;

        let funnels = app.store.funnels(&team.id).await.expect("funnels");
        assert_eq!(funnels.len(), 1);
        let funnel = funnels[0].funnel;
        assert_eq!((funnel.imported, funnel.messaged, funnel.replied, funnel.qualified), (2, 1, 1, 0));
        let days = app.store.activity_days(&team.id, now, 30).await.expect("days");
        assert_eq!(days.len(), 30);
        let today = days.last().expect("today");
        assert_eq!((today.messages, today.replies), (1, 1));
        assert_eq!(days.iter().map(|d| d.messages).sum::<i64>(), 1);

        let client = app.signed_in(&team).await;
        let home = client.get("/app").await;
        home.expect(200)
            .contains("data-testid=\"kpi-prospects\"")
            .contains("data-testid=\"activity-chart\"")
            .contains("Ada Lovelace replied: Interesting, tell me more")
            .contains("Fintech CFOs");
        let prospects = &home.body[home.body.find("kpi-prospects").expect("card")..];
        assert!(prospects[..200].contains("<div class=\"value\">2</div>"), "{}", &prospects[..200]);
        client.get("/app?sort=reply").await.expect(200).contains("Sorted by reply");
        assert!(!client.get("/app").await.body.contains("waits for your verdict"));
        app.needs_verdict(&ada).await;
        client
            .get("/app")
            .await
            .expect(200)
            .contains("Ada Lovelace waits for your verdict");
        // And the review queue offers the verdict.
        client
            .get("/app/review")
            .await
            .expect(200)
            .contains(&format!("/app/review/verdict/{ada}"));
    }
);

both_backends!(
    async fn a_campaign_is_created_checked_edited_paused_and_resumed(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        client.get("/app/campaigns/new").await.expect(200).contains("Ledger AI");
        let bad = client
            .act(
                "/app/campaigns",
                &[
                    ("name", "x"),
                    ("product_id", &team.product_id),
                    ("prompt_id", &team.prompt_id),
                    ("agent_id", &team.agent_id),
                    ("review_mode", "sometimes"),
                    ("qualification_automatic", "170"),
                    ("variables", "no equals sign"),
                ],
            )
            .await;
        bad.expect(400).contains("reviewMode").contains("qualificationAutomatic").contains("variables");
        let before = app
            .store
            .list_campaigns(&team.id, &Default::default())
            .await
            .expect("campaigns")
            .len();
        assert_eq!(before, 1, "a refused form writes nothing");

        let created = client
            .act(
                "/app/campaigns",
                &[
                    ("name", "  Series B founders  "),
                    ("product_id", &team.product_id),
                    ("prompt_id", &team.prompt_id),
                    ("agent_id", &team.agent_id),
                    ("review_mode", "all"),
                    ("qualification_automatic", "80"),
                    ("qualification_verification", ""),
                    ("variables", "goal = a demo"),
                ],
            )
            .await;
        created.expect(303);
        let id = created
            .location()
            .strip_prefix("/app/campaigns/")
            .and_then(|rest| rest.split('?').next())
            .expect("the campaign's page")
            .to_owned();
        let campaign = app.store.get_campaign(&team.id, &id).await.expect("campaign");
        assert_eq!(campaign.name, "Series B founders");
        assert_eq!(campaign.review_mode, ReviewMode::All);
        assert_eq!(campaign.qualification_automatic, 80);
        assert_eq!(campaign.qualification_verification, 50);
        assert_eq!(campaign.variables.get("goal").map(String::as_str), Some("a demo"));
        client.get(&format!("/app/campaigns/{id}")).await.expect(200).contains("data-testid=\"funnel\"");

        client
            .act(&format!("/app/campaigns/{id}"), &[("name", "Founders"), ("review_mode", "off"), ("variables", "")])
            .await
            .expect(303);
        let campaign = app.store.get_campaign(&team.id, &id).await.expect("campaign");
        assert_eq!((campaign.name.as_str(), campaign.review_mode), ("Founders", ReviewMode::Off));

        client.act(&format!("/app/campaigns/{id}/pause"), &[]).await.expect(303);
        assert_eq!(app.store.get_campaign(&team.id, &id).await.expect("c").status.as_str(), "paused");
        client.act(&format!("/app/campaigns/{id}/resume"), &[]).await.expect(303);
        assert_eq!(app.store.get_campaign(&team.id, &id).await.expect("c").status.as_str(), "active");
        client.get("/app/campaigns").await.expect(200).contains("Founders");
    }
);

both_backends!(
    async fn a_csv_is_uploaded_mapped_previewed_and_imported(app) {
        let team = app.team(ReviewMode::Off).await;
        app.store.add_dnc(&team.id, "https://linkedin.com/in/dina-dnc").await.expect("dnc");
        let client = app.signed_in(&team).await;
        let token = client.token().await;
        let csv = "First name,Last name,LinkedIn URL,Company,Phone\n\
                   Ada,Lovelace,https://www.linkedin.com/in/ada-lovelace,Analytical,1\n\
                   Bob,Byron,linkedin.com/in/bob-byron,,2\n\
                   Dina,Dee,https://linkedin.com/in/dina-dnc,,3\n\
                   Eve,Example,https://example.com/eve,,4\n\
                   No,Url,,,5\n";
        let form = reqwest::multipart::Form::new()
            .text("_csrf", token.clone())
            .text("campaign", team.campaign_id.clone())
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("people.csv"));
        let mapping = client.post_multipart("/app/imports/preview", form).await;
        mapping.expect(200).contains("5 rows, 4 with a name and a URL").contains("Ada Lovelace");
        // Auto-mapped: first, last, url, custom data, skipped.
        for (i, target) in ["first_name", "last_name", "url", "custom_data", "skip"].iter().enumerate() {
            let select = &mapping.body[mapping.body.find(&format!("name=\"map_{i}\"")).expect("select")..];
            let select = &select[..select.find("</select>").expect("end")];
            assert!(select.contains(&format!("value=\"{target}\" selected")), "column {i}: {select}");
        }
        let csv_field = {
            let start = mapping.body.find("name=\"csv\"").expect("csv field");
            let rest = &mapping.body[start..];
            let open = rest.find('>').expect(">") + 1;
            let close = rest.find("</textarea>").expect("</textarea>");
            html_unescape(&rest[open..close])
        };
        assert_eq!(csv_field, csv, "the file travels back unchanged");

        // Without a URL column nothing is imported.
        let no_url = client
            .post(
                "/app/imports",
                &[("_csrf", &token), ("campaign", &team.campaign_id), ("csv", &csv_field), ("map_0", "name"), ("map_2", "skip")],
            )
            .await;
        no_url.expect(400).contains("LinkedIn URL");

        let started = client
            .post(
                "/app/imports",
                &[
                    ("_csrf", &token),
                    ("campaign", &team.campaign_id),
                    ("csv", &csv_field),
                    ("map_0", "first_name"),
                    ("map_1", "last_name"),
                    ("map_2", "url"),
                    ("map_3", "custom_data"),
                    ("map_4", "skip"),
                ],
            )
            .await;
        started.expect(303);
        let location = started.location().to_owned();
        assert!(location.contains("left_out=1"), "{location}");
        let list_id = location
            .strip_prefix("/app/imports/")
            .and_then(|rest| rest.split('?').next())
            .expect("the import's page")
            .to_owned();
        client.get(&location).await.expect(200).contains("data-status=\"queued\"").contains("1 rows had no name");
        while app.store.process_imports(100).await.expect("process") > 0 {}
        let import = app.store.get_import(&team.id, &list_id).await.expect("import");
        assert_eq!(import.status, ImportStatus::Completed);
        assert_eq!((import.imported, import.skipped_dnc, import.invalid), (2, 1, 1));
        let fragment = client
            .http
            .get(format!("{}/app/imports/{list_id}", client.base))
            .header("x-fragment", "1")
            .send()
            .await
            .expect("fragment")
            .text()
            .await
            .expect("text");
        assert!(fragment.contains("data-done") && fragment.contains("data-status=\"completed\""), "{fragment}");
        let chats = app
            .store
            .inbox(&team.id, &Default::default(), None, 10)
            .await
            .expect("inbox");
        let ada = chats.iter().find(|c| c.chat.prospect.name == "Ada Lovelace").expect("Ada imported");
        let details = app.store.get_chat(&team.id, &ada.chat.id).await.expect("chat");
        assert_eq!(details.custom_data, "Company: Analytical");
    }
);

/// `&amp;` and friends back to text.
fn html_unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

both_backends!(
    async fn agents_are_added_connected_set_up_and_paused(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        let added = client.act("/app/agents", &[]).await;
        added.expect(303);
        let id = added
            .location()
            .strip_prefix("/app/agents/")
            .and_then(|rest| rest.split('?').next())
            .expect("the agent's page")
            .to_owned();
        client.get(&format!("/app/agents/{id}")).await.expect(200).contains("data-testid=\"setup-form\"");
        client
            .act(&format!("/app/agents/{id}/setup"), &[("login", "not an email"), ("password", "123"), ("country", "France")])
            .await
            .expect(400)
            .contains("valid email");
        client
            .act(&format!("/app/agents/{id}/setup"), &[("login", "sdr@example.com"), ("password", "sandbox password"), ("country", "fr")])
            .await
            .expect(303);
        let agent = app.store.get_agent(&team.id, &id).await.expect("agent");
        assert_eq!(agent.status.as_str(), "auth_in_progress");
        assert_eq!(agent.country.as_deref(), Some("FR"));

        let bad = client
            .act(
                &format!("/app/agents/{id}/settings"),
                &[("day_0", "1"), ("start", "9am"), ("stop", "17:00"), ("timezone", "1"), ("invitations_min", "0"), ("invitations_max", "20"), ("messages_min", "10"), ("messages_max", "20")],
            )
            .await;
        bad.expect(400).contains("workingHours.start").contains("limits.invitationsMin");
        client
            .act(
                &format!("/app/agents/{id}/settings"),
                &[("day_0", "1"), ("day_2", "1"), ("start", "08:30"), ("stop", "18:00"), ("timezone", "2"), ("invitations_min", "10"), ("invitations_max", "20"), ("messages_min", "10"), ("messages_max", "30"), ("warmup", "1")],
            )
            .await
            .expect(303);
        let agent = app.store.get_agent(&team.id, &id).await.expect("agent");
        assert_eq!(agent.working_hours.days, "1:0:1:0:0:0:0");
        assert_eq!((agent.working_hours.start.as_str(), agent.working_hours.timezone), ("08:30", 2));
        assert_eq!((agent.limits.invitations_min, agent.limits.messages_max), (10, 30));
        assert!(agent.settings.warmup && !agent.settings.skip_in_network);

        // Only a running agent pauses (the browser test pauses one); the refusal says why.
        client
            .act(&format!("/app/agents/{id}/pause"), &[])
            .await
            .expect(400)
            .contains("auth_in_progress");
        let page = client.get(&format!("/app/agents/{id}")).await;
        page.expect(200).contains("Logging in");
        assert!(!page.body.contains("data-testid=\"pause-agent\""));
        client.act(&format!("/app/agents/{id}/code"), &[("code", "12")]).await.expect(400).contains("4 to 12");
    }
);

both_backends!(
    async fn products_and_prompts_are_written_with_the_api_rules(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        client.act("/app/products", &[("name", "ab"), ("description", "short")]).await.expect(400);
        client
            .act("/app/products", &[("name", "Close Copilot"), ("description", "A month-end close in two days.")])
            .await
            .expect(303);
        client.get("/app/products").await.expect(200).contains("Close Copilot");

        client.act("/app/prompts", &[("name", "Founders"), ("kind", "Messages"), ("model", "no-such-model")]).await.expect(400);
        let created = client
            .act("/app/prompts", &[("name", "Founders"), ("kind", "Messages"), ("model", "template")])
            .await;
        created.expect(303);
        let id = created
            .location()
            .strip_prefix("/app/prompts/")
            .and_then(|rest| rest.split('?').next())
            .expect("the prompt's page")
            .to_owned();
        client
            .act(&format!("/app/prompts/{id}"), &[("context", "Hi"), ("first_message", "Hello"), ("follow_up_0", "Nudge"), ("delay_0", "45")])
            .await
            .expect(400)
            .contains("followUps[0].delay");
        client
            .act(
                &format!("/app/prompts/{id}"),
                &[
                    ("context", "You sell {{offeringDescription}} to {{prospectDescription}} about {{goal}}."),
                    ("first_message", "Hi {{prospectName}}"),
                    ("follow_up_enabled", "1"),
                    ("follow_up_0", "A gentle nudge"),
                    ("delay_0", "3"),
                ],
            )
            .await
            .expect(303);
        let prompt = app.store.get_prompt(&team.id, &id).await.expect("prompt");
        assert_eq!(prompt.sections.follow_ups.len(), 1);
        assert_eq!(prompt.sections.follow_ups[0].delay, 3);
        assert!(prompt.sections.follow_up_enabled);
        client.get(&format!("/app/prompts/{id}")).await.expect(200).contains("{{goal}}");
    }
);

both_backends!(
    async fn the_dnc_list_is_searched_added_to_uploaded_and_trimmed(app) {
        let team = app.team(ReviewMode::Off).await;
        let chat = app.conversation(&team, "Ada Lovelace").await;
        let client = app.signed_in(&team).await;
        client.act("/app/dnc", &[("url", "not a url")]).await.expect(400).contains("not a LinkedIn profile URL");
        client.act("/app/dnc", &[("url", "https://www.linkedin.com/in/ada-lovelace/")]).await.expect(303);
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert_eq!(details.summary.status, outbound_core::conversation::status::SKIPPED, "the conversation stopped");

        let token = client.token().await;
        let form = reqwest::multipart::Form::new().text("_csrf", token).part(
            "file",
            reqwest::multipart::Part::bytes(
                b"url\nhttps://linkedin.com/in/bob-byron\nlinkedin.com/in/ada-lovelace\n".to_vec(),
            )
            .file_name("dnc.csv"),
        );
        let uploaded = client.post_multipart("/app/dnc/upload", form).await;
        uploaded.expect(200).contains("1 added, 1 already on the list");
        let found = client.get("/app/dnc?q=linkedin.com/in/bob-byron").await;
        found.expect(200).contains("bob-byron");
        let entry = app
            .store
            .find_dnc(&team.id, "https://linkedin.com/in/bob-byron")
            .await
            .expect("find")
            .expect("on the list");
        let page = client.get("/app/dnc").await;
        let token = field_value(&page.body, "_csrf").unwrap_or_default();
        client.post(&format!("/app/dnc/{}/delete", entry.id), &[("_csrf", &token)]).await.expect(303);
        assert!(app.store.find_dnc(&team.id, &entry.url).await.expect("find").is_none());
    }
);

both_backends!(
    async fn the_review_queue_takes_verdicts_on_conversations_left_to_a_person(app) {
        let team = app.team(ReviewMode::FirstMessage).await;
        let chat = app.conversation(&team, "Ada Lovelace").await;
        let client = app.signed_in(&team).await;
        client.get("/app/review").await.expect(200).contains("data-testid=\"no-drafts\"");
        client.act(&format!("/app/review/verdict/{chat}"), &[("verdict", "maybe")]).await.expect(400);
        client.act(&format!("/app/review/verdict/{chat}"), &[("verdict", "unqualified")]).await.expect(303);
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert_eq!(details.summary.qualification, Qualification::Unqualified);
    }
);

both_backends!(
    async fn webhooks_are_added_tested_edited_and_replayed(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        client
            .act("/app/webhooks", &[("name", "CRM"), ("url", "ftp://crm.example.com"), ("events", "nope")])
            .await
            .expect(400)
            .contains("http or https")
            .contains("events[0]");
        client
            .act("/app/webhooks/test", &[("event", "prospect.qualified")])
            .await
            .expect(404)
            .contains("No active webhook");
        let created = client
            .act(
                "/app/webhooks",
                &[
                    ("name", "CRM"),
                    ("url", "https://crm.example.com/hooks"),
                    ("secret", "s3cret"),
                    ("events", "prospect.qualified"),
                    ("events", "draft.created"),
                ],
            )
            .await;
        created.expect(303);
        let id = created
            .location()
            .strip_prefix("/app/webhooks/")
            .and_then(|rest| rest.split('?').next())
            .expect("the webhook's page")
            .to_owned();
        let webhook = app.store.get_webhook(&team.id, &id).await.expect("webhook");
        assert_eq!(webhook.events, ["prospect.qualified", "draft.created"]);
        assert!(webhook.active);
        client.act("/app/webhooks/test", &[("event", "prospect.qualified")]).await.expect(303);
        let deliveries = app.store.list_deliveries(&team.id, &id, 10, 0).await.expect("deliveries");
        assert_eq!(deliveries.len(), 1);
        client.get(&format!("/app/webhooks/{id}")).await.expect(200).contains("prospect.qualified");

        // Disabled, then re-enabled with the secret kept.
        client
            .act(&format!("/app/webhooks/{id}"), &[("name", "CRM"), ("url", "https://crm.example.com/hooks"), ("events", "*")])
            .await
            .expect(303);
        let webhook = app.store.get_webhook(&team.id, &id).await.expect("webhook");
        assert!(!webhook.active);
        assert_eq!(webhook.events, ["*"]);
        client
            .act(&format!("/app/webhooks/{id}"), &[("name", "CRM 2"), ("url", "https://crm.example.com/hooks"), ("events", "*"), ("active", "1")])
            .await
            .expect(303);
        assert!(app.store.get_webhook(&team.id, &id).await.expect("webhook").active);

        // A delivery that is not failed cannot be replayed; a missing one is not found.
        client
            .act(&format!("/app/webhooks/{id}/deliveries/{}/retry", "missing"), &[])
            .await
            .expect(404);
        client.act(&format!("/app/webhooks/{id}/delete"), &[]).await.expect(303);
        assert!(app.store.list_webhooks(&team.id).await.expect("webhooks").is_empty());
    }
);

both_backends!(
    async fn keys_are_created_shown_once_and_revoked(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        client.get("/app/settings").await.expect(200).contains("this session").contains("unlimited");
        client.act("/app/settings/keys", &[("name", "  ")]).await.expect(400);
        let created = client.act("/app/settings/keys", &[("name", "n8n")]).await;
        created.expect(200).contains("will not be shown again");
        let start = created.body.find("data-testid=\"new-key-value\">").expect("the key") + "data-testid=\"new-key-value\">".len();
        let key = &created.body[start..start + 40];
        assert!(key.chars().all(|c| c.is_ascii_alphanumeric()), "{key}");
        assert_eq!(created.headers.get("cache-control").map(|v| v.as_bytes()), Some(&b"no-store"[..]));
        // The new key works (a second browser signs in with it), and is never shown again.
        let other = app.client();
        other.sign_in(key).await.expect(303);
        assert!(!client.get("/app/settings").await.body.contains(key));
        let keys = app.store.list_api_keys(&team.id).await.expect("keys");
        let n8n = keys.iter().find(|k| k.name == "n8n").expect("the n8n key");
        assert!(n8n.last_used_at.is_none(), "a dashboard session is not a use of the key by a client");
        app.store.key_owner(&outbound_core::keys::hash_api_key(key)).await.expect("owner");
        let keys = app.store.list_api_keys(&team.id).await.expect("keys");
        assert!(keys.iter().find(|k| k.name == "n8n").and_then(|k| k.last_used_at).is_some());

        // Revoking it ends the sessions opened with it.
        client.act(&format!("/app/settings/keys/{}/revoke", n8n.id), &[]).await.expect(303);
        other.get("/app").await.expect(303);
        client.get("/app/settings").await.expect(200).contains("revoked");
    }
);
