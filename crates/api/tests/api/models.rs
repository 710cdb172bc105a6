//! Models: the list holds the active models only (the harness configures `openai`, so the
//! template model, the GPT models and the OpenAI-served legacy aliases); a single model is found
//! whatever its status; an unknown id is 404.

use crate::both_backends;
use crate::common::{assert_keys, keys};
use outbound_core::model::{ModelSpec, default_catalogue};
use outbound_core::plan::Plan;
use reqwest::Method;
use serde_json::{Value, json};

/// The catalogue entry with `id`.
fn spec(id: &str) -> ModelSpec {
    default_catalogue()
        .into_iter()
        .find(|m| m.id == id)
        .expect("a catalogue model")
}

/// Asserts that `model` is `spec` with `status`, field by field.
#[track_caller]
fn assert_model(model: &Value, spec: &ModelSpec, status: &str) {
    assert_eq!(keys(model), ["id", "name", "pricing", "status"], "{model}");
    assert_eq!(model["id"], spec.id.as_str());
    assert_eq!(model["name"], spec.name.as_str());
    assert_eq!(model["status"], status, "{model}");
    let pricing = &model["pricing"];
    assert_keys(pricing, &["input", "output"], &["cached"]);
    assert_eq!(
        pricing["input"].as_f64(),
        Some(spec.pricing.input),
        "{model}"
    );
    assert_eq!(
        pricing["output"].as_f64(),
        Some(spec.pricing.output),
        "{model}"
    );
    match spec.pricing.cached {
        Some(cached) => assert_eq!(pricing["cached"].as_f64(), Some(cached), "{model}"),
        None => assert!(pricing.get("cached").is_none(), "{model}"),
    }
}

both_backends!(
    async fn the_list_holds_exactly_the_active_models(app) {
        let reply = app.get(app.key(), "/v1/models").await;
        let body = reply.expect(200);
        assert_eq!(keys(body), ["models", "total"]);
        let models = body["models"].as_array().expect("models array");
        assert_eq!(body["total"].as_u64(), Some(models.len() as u64));

        let expected: Vec<ModelSpec> = default_catalogue()
            .into_iter()
            .filter(|m| m.provider == "openai" || m.provider == "template")
            .collect();
        let ids: Vec<&str> = models.iter().map(|m| m["id"].as_str().expect("id")).collect();
        let expected_ids: Vec<&str> = expected.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, expected_ids);
        // Spelled out, so that a catalogue change is noticed here too.
        assert_eq!(
            ids,
            [
                "template",
                "680321aa001300a6673d",
                "689f6adb001e16e22378",
                "680321c8001e2f527d82",
                "model_gpt4",
                "model_gpt35"
            ]
        );
        for (model, spec) in models.iter().zip(&expected) {
            assert_model(model, spec, "active");
        }
        // Spot-check the documented prices.
        let gpt41 = &models[1];
        assert_eq!(gpt41["name"], "GPT 4.1");
        assert_eq!(gpt41["pricing"], json!({ "input": 2.0, "output": 8.0, "cached": 0.5 }));
        // The list is the same for every team.
        let other = app.new_team(Plan::Pioneer).await;
        assert_eq!(app.get(&other.key, "/v1/models").await.expect(200), body);
    }
);

both_backends!(
    async fn a_single_model_is_found_whatever_its_status(app) {
        let cases = [
            ("template", "active"),
            ("680321aa001300a6673d", "active"),
            ("689f6adb001e16e22378", "active"),
            ("680321c8001e2f527d82", "active"),
            ("model_gpt4", "active"),
            ("model_gpt35", "active"),
            ("67fcab2e0032f8b20363", "inactive"),
            ("67fccf2900258424236f", "inactive"),
            ("680321e500318611796d", "inactive"),
            ("682c0dfc0036ded6b90b", "inactive"),
            ("689f1e61000b7da834bf", "inactive"),
            ("model_claude3", "inactive"),
        ];
        assert_eq!(cases.len(), default_catalogue().len());
        for (id, status) in cases {
            let reply = app.get(app.key(), &format!("/v1/models/{id}")).await;
            assert_model(reply.expect(200), &spec(id), status);
        }
        let sonnet = app.get(app.key(), "/v1/models/67fcab2e0032f8b20363").await;
        assert_eq!(
            sonnet.expect(200),
            &json!({
                "id": "67fcab2e0032f8b20363",
                "name": "Claude 4 Sonnet",
                "pricing": { "input": 3.0, "output": 15.0, "cached": 3.75 },
                "status": "inactive"
            })
        );
        let gemini_pro = app.get(app.key(), "/v1/models/682c0dfc0036ded6b90b").await;
        assert!(gemini_pro.expect(200)["pricing"]["cached"].is_null());
    }
);

both_backends!(
    async fn an_unknown_model_is_not_found(app) {
        for id in ["gpt-4", "67FCAB2E0032F8B20363", "model_gpt5", "%20"] {
            let reply = app.get(app.key(), &format!("/v1/models/{id}")).await;
            reply.expect_error(404, "not_found");
            assert_eq!(keys(&reply.body), ["error", "message"], "{id}");
            assert_eq!(reply.body["message"], "Model not found", "{id}");
        }
    }
);

both_backends!(
    async fn models_need_a_key(app) {
        for path in ["/v1/models", "/v1/models/template"] {
            app.send(Method::GET, path, None, None)
                .await
                .expect_error(401, "missing_api_key");
            app.get(&"Z".repeat(40), path)
                .await
                .expect_error(401, "invalid_api_key");
        }
    }
);
