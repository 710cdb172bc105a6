//! Sessions and CSRF.

use outbound_core::review::ReviewMode;

use crate::both_backends;

both_backends!(
    async fn pages_need_a_session_and_sign_in_returns_there(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.client();
        let page = client.get("/app/inbox?paused=1").await;
        page.expect(303);
        assert_eq!(page.location(), "/app/login?next=/app/inbox%3Fpaused%3D1");

        let form = client.get("/app/login?next=/app/inbox").await;
        form.expect(200).contains("data-testid=\"api-key\"");
        let token = form.csrf();
        let refused = client
            .post("/app/login", &[("_csrf", &token), ("api_key", &"x".repeat(40)), ("next", "/app/inbox")])
            .await;
        refused.expect(401).contains("not valid");
        let token = refused.csrf();
        let signed = client
            .post("/app/login", &[("_csrf", &token), ("api_key", &team.key), ("next", "/app/inbox")])
            .await;
        signed.expect(303);
        assert_eq!(signed.location(), "/app/inbox");
        let cookie = signed
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("outbound_session="))
            .expect("a session cookie")
            .to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
        client.get("/app").await.expect(200).contains("data-testid=\"kpi-prospects\"");
    }
);

both_backends!(
    async fn the_sign_in_form_refuses_a_post_without_its_token(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.client();
        client
            .post("/app/login", &[("_csrf", "forged"), ("api_key", &team.key)])
            .await
            .expect(403);
        client.get("/app").await.expect(303);
    }
);

both_backends!(
    async fn signing_out_ends_the_session_and_revoking_the_key_too(app) {
        let team = app.team(ReviewMode::Off).await;
        let client = app.signed_in(&team).await;
        let token = client.token().await;
        let out = client.post("/app/logout", &[("_csrf", &token)]).await;
        out.expect(303);
        assert_eq!(out.location(), "/app/login");
        client.get("/app").await.expect(303);

        let client = app.signed_in(&team).await;
        client.get("/app/campaigns").await.expect(200);
        app.store.revoke_api_key(&team.key_id).await.expect("revoke");
        client.get("/app/campaigns").await.expect(303);
        client.sign_in(&team.key).await.expect(401);

        // Ended sessions are purged (each sign-in does it); live ones stay.
        let other = app.team(ReviewMode::Off).await;
        let live = app.signed_in(&other).await;
        let limits = outbound_store::sessions::SessionLimits {
            idle: outbound_dashboard::DEFAULT_SESSION_IDLE,
            absolute: outbound_dashboard::DEFAULT_SESSION_ABSOLUTE,
        };
        let now = outbound_core::time::now_millis();
        assert_eq!(app.store.purge_sessions(now, limits).await.expect("purge"), 0);
        live.get("/app").await.expect(200);
        let later = now + outbound_dashboard::DEFAULT_SESSION_IDLE + 1;
        assert!(app.store.purge_sessions(later, limits).await.expect("purge") >= 1);
        live.get("/app").await.expect(303);
    }
);

both_backends!(
    async fn state_changing_posts_need_the_token_and_our_origin(app) {
        let team = app.team(ReviewMode::Off).await;
        let chat = app.conversation(&team, "Ada Lovelace").await;
        let client = app.signed_in(&team).await;
        let token = client.token().await;
        let path = format!("/app/inbox/{chat}/pause");
        client.post(&path, &[]).await.expect(403);
        client.post(&path, &[("_csrf", "not-the-token")]).await.expect(403);
        client.post_from(&path, &[("_csrf", &token)], "cross-site").await.expect(403);
        client.post_from(&path, &[("_csrf", &token)], "same-site").await.expect(403);
        let foreign_origin = client
            .http
            .post(format!("{}{path}", client.base))
            .header("origin", "http://evil.example")
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .expect("post");
        assert_eq!(foreign_origin.status().as_u16(), 403);
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert!(!details.summary.paused, "a refused post changed nothing");

        client.post(&path, &[("_csrf", &token)]).await.expect(303);
        let details = app.store.get_chat(&team.id, &chat).await.expect("chat");
        assert!(details.summary.paused);
    }
);

both_backends!(
    async fn pages_carry_the_security_headers(app) {
        let client = app.client();
        let page = client.get("/app/login").await;
        let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
        let missing = client.get("/app/no-such-page").await;
        missing.expect(404).contains("Not found");
        let css = client.get(&format!("/app/assets/{}/app.css", env!("CARGO_PKG_VERSION"))).await;
        css.expect(200);
        assert!(css.headers.get("cache-control").is_some_and(|v| v.to_str().unwrap_or_default().contains("immutable")));
    }
);
