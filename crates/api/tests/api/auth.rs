//! Authentication: the four documented 401/403 codes, and revocation taking effect at once.

use crate::both_backends;
use outbound_store::teams::TeamChanges;
use reqwest::Method;

both_backends!(
    async fn verify_returns_the_team_of_the_key(app) {
        let reply = app.get(app.key(), "/v1/verify").await;
        let body = reply.expect(200);
        assert_eq!(body["status"], "success");
        assert_eq!(body["message"], "API key is valid");
        assert_eq!(body["teamId"], app.team.team_id.as_str());
        let other = app.new_team(outbound_core::plan::Plan::Pioneer).await;
        let reply = app.get(&other.key, "/v1/verify").await;
        assert_eq!(reply.expect(200)["teamId"], other.team_id.as_str());
    }
);

both_backends!(
    async fn each_authentication_failure_has_its_code(app) {
        let missing = app.send(Method::GET, "/v1/verify", None, None).await;
        missing.expect_error(401, "missing_api_key");
        let raw = app
            .client
            .get(format!("{}/v1/verify", app.base))
            .header("authorization", app.key())
            .send()
            .await
            .expect("send");
        assert_eq!(raw.status(), 401);
        let body: serde_json::Value = raw.json().await.expect("json");
        assert_eq!(body["error"], "invalid_api_key_format");
        for malformed in ["short", "has-dashes-------------------------------", &"a".repeat(41)] {
            let reply = app.get(malformed, "/v1/verify").await;
            reply.expect_error(401, "invalid_api_key_format");
        }
        let unknown = app.get(&"Z".repeat(40), "/v1/verify").await;
        unknown.expect_error(401, "invalid_api_key");
        app.store
            .update_team(
                &app.team.team_id,
                TeamChanges { subscription_active: Some(false), ..TeamChanges::default() },
            )
            .await
            .expect("deactivate");
        let inactive = app.get(app.key(), "/v1/verify").await;
        inactive.expect_error(403, "subscription_inactive");
    }
);

both_backends!(
    async fn a_revoked_key_stops_working_at_once(app) {
        let other = app.new_team(outbound_core::plan::Plan::Hunter).await;
        app.get(&other.key, "/v1/verify").await.expect(200);
        let keys = app.store.list_api_keys(&other.team_id).await.expect("keys");
        assert_eq!(keys.len(), 1);
        app.store.revoke_api_key(&keys[0].id).await.expect("revoke");
        app.get(&other.key, "/v1/verify").await.expect_error(401, "invalid_api_key");
        app.get(app.key(), "/v1/verify").await.expect(200);
    }
);
