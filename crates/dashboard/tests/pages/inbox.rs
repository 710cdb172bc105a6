//! The inbox: the team-wide conversation list (newest activity first, filters, keyset pages),
//! the thread, and the actions of a take-over — as store queries and as pages.

use outbound_core::conversation::Qualification;
use outbound_core::review::ReviewMode;
use outbound_core::time::now_millis;
use outbound_store::chats::Role;
use outbound_store::inbox::InboxFilter;

use crate::both_backends;

const MINUTE: i64 = 60_000;

both_backends!(
    async fn the_inbox_lists_the_teams_conversations_newest_activity_first(app) {
        let team = app.team(ReviewMode::Off).await;
        let now = now_millis();
        let quiet = app.conversation(&team, "Quiet Quinn").await;
        let answered = app.conversation(&team, "Ada Lovelace").await;
        let messaged = app.conversation(&team, "Bob Byron").await;
        app.message(&team, &messaged, Role::Assistant, "Hi Bob", now + MINUTE).await;
        app.message(&team, &answered, Role::Assistant, "Hi Ada", now + 2 * MINUTE).await;
        app.message(&team, &answered, Role::User, "Tell me more", now + 3 * MINUTE).await;

        let all = app.store.inbox(&team.id, &InboxFilter::default(), None, 10).await.expect("inbox");
        let order: Vec<&str> = all.iter().map(|i| i.chat.id.as_str()).collect();
        assert_eq!(order, [answered.as_str(), messaged.as_str(), quiet.as_str()]);
        assert_eq!(all[0].last_message.as_deref(), Some("Tell me more"));
        assert!(all[0].awaiting_reply && !all[1].awaiting_reply && !all[2].awaiting_reply);
        assert_eq!(all[0].activity_at, now + 3 * MINUTE);

        let awaiting = InboxFilter { awaiting_reply: true, ..InboxFilter::default() };
        let waiting = app.store.inbox(&team.id, &awaiting, None, 10).await.expect("inbox");
        assert_eq!(waiting.len(), 1);
        // Our answer gives the word back to the prospect.
        app.message(&team, &answered, Role::Assistant, "Here it is", now + 4 * MINUTE).await;
        assert!(app.store.inbox(&team.id, &awaiting, None, 10).await.expect("inbox").is_empty());

        app.store.set_chat_paused(&team.id, &messaged, true, now).await.expect("pause");
        let paused = InboxFilter { paused: true, ..InboxFilter::default() };
        let taken = app.store.inbox(&team.id, &paused, None, 10).await.expect("inbox");
        assert_eq!(taken.iter().map(|i| i.chat.id.as_str()).collect::<Vec<_>>(), [messaged.as_str()]);

        let by_campaign = InboxFilter { campaign_id: Some(team.campaign_id.clone()), ..InboxFilter::default() };
        assert_eq!(app.store.inbox(&team.id, &by_campaign, None, 10).await.expect("inbox").len(), 3);
        let by_agent = InboxFilter { agent_id: Some(team.agent_id.clone()), ..InboxFilter::default() };
        assert_eq!(app.store.inbox(&team.id, &by_agent, None, 10).await.expect("inbox").len(), 3);
        let other_agent = InboxFilter { agent_id: Some("nobody".to_owned()), ..InboxFilter::default() };
        assert!(app.store.inbox(&team.id, &other_agent, None, 10).await.expect("inbox").is_empty());
        let verdict = InboxFilter { qualification: Some(Qualification::Qualified), ..InboxFilter::default() };
        assert!(app.store.inbox(&team.id, &verdict, None, 10).await.expect("inbox").is_empty());

        let other = app.team(ReviewMode::Off).await;
        assert!(app.store.inbox(&other.id, &InboxFilter::default(), None, 10).await.expect("inbox").is_empty());
    }
);

both_backends!(
    async fn inbox_pages_follow_a_cursor_without_gaps_or_repeats(app) {
        let team = app.team(ReviewMode::Off).await;
        let now = now_millis();
        let mut expected = Vec::new();
        for i in 0..57 {
            let chat = app.conversation(&team, &format!("Person {i:02}")).await;
            // Pairs share a time, so the id breaks ties.
            app.message(&team, &chat, Role::Assistant, "Hello", now + (i / 2) * MINUTE).await;
            expected.push(chat);
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = app
                .store
                .inbox(&team.id, &InboxFilter::default(), after.as_ref(), 10)
                .await
                .expect("inbox");
            if page.is_empty() {
                break;
            }
            after = page.last().map(|item| item.cursor());
            seen.extend(page.into_iter().map(|item| (item.activity_at, item.chat.id)));
        }
        assert_eq!(seen.len(), 57);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(seen, sorted, "newest first, ids breaking ties");

        // The page shows 50 and links the rest.
        let client = app.signed_in(&team).await;
        let first = client.get("/app/inbox").await;
        first.expect(200);
        assert_eq!(first.body.matches("data-testid=\"conversation\"").count(), 50);
        let start = first.body.find("/app/inbox?after=").expect("a link to older conversations");
        let link = &first.body[start..];
        let link = &link[..link.find('"').unwrap_or(link.len())];
        let second = client.get(&link.replace("&amp;", "&")).await;
        second.expect(200);
        assert_eq!(second.body.matches("data-testid=\"conversation\"").count(), 7);
    }
);

both_backends!(
    async fn a_person_takes_over_writes_and_hands_back(app) {
        let team = app.team(ReviewMode::Off).await;
        let chat = app.conversation(&team, "Ada Lovelace").await;
        app.message(&team, &chat, Role::Assistant, "Hi Ada, how is the close going?", now_millis()).await;
        app.message(&team, &chat, Role::User, "Slow. Who are you?", now_millis()).await;
        let client = app.signed_in(&team).await;
        let page = client.get(&format!("/app/inbox/{chat}")).await;
        page.expect(200).contains("Slow. Who are you?").contains("data-testid=\"take-over\"");

        let empty = client.act(&format!("/app/inbox/{chat}/message"), &[("text", "   ")]).await;
        empty.expect(400).contains("Write the message to send");
        let long = "x".repeat(8001);
        client.act(&format!("/app/inbox/{chat}/message"), &[("text", &long)]).await.expect(400);

        let sent = client.act(&format!("/app/inbox/{chat}/message"), &[("text", "I run the close at Ledger.")]).await;
        sent.expect(303);
        assert_eq!(sent.location(), format!("/app/inbox/{chat}?done=message-queued"));
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert!(details.summary.paused, "writing takes the conversation over");
        client
            .get(&format!("/app/inbox/{chat}?done=message-queued"))
            .await
            .expect(200)
            .contains("data-testid=\"resume\"")
            .contains("Message queued");

        client.act(&format!("/app/inbox/{chat}/resume"), &[]).await.expect(303);
        assert!(!app.store.get_chat(&team.id, &chat).await.expect("chat").summary.paused);

        client.act(&format!("/app/inbox/{chat}/qualify"), &[]).await.expect(303);
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert_eq!(details.summary.qualification, Qualification::Qualified);

        client.act(&format!("/app/inbox/{chat}/dnc"), &[]).await.expect(303);
        assert!(app.store.find_dnc(&team.id, &details.summary.prospect.url).await.expect("dnc").is_some());
        // Twice is done too.
        client.act(&format!("/app/inbox/{chat}/dnc"), &[]).await.expect(303);

        let search = client.get("/app/inbox?q=lovelace").await;
        search.expect(200).contains("Ada Lovelace");
        let none = client.get("/app/inbox?q=zzzzzz").await;
        none.expect(200).contains("data-testid=\"inbox-empty\"");
    }
);
