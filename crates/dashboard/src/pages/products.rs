//! Products: what campaigns sell, the AI's knowledge of it — the list and a form to add one.
//!
//! Rule: `outbound_core::product::validate_new_product` and `create_product` within the plan's
//! product quota, as `POST /v1/products`.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use outbound_core::plan::Quota;
use outbound_core::product::validate_new_product;
use outbound_core::time::now_millis;
use outbound_core::validation::FieldError;
use serde::Deserialize;

use super::{done, form_status};
use crate::AppState;
use crate::session::Signed;
use crate::view::{Chrome, PageError, Section, ago, excerpt, render_status};

/// Characters of a description shown in the list.
const DESCRIPTION_EXCERPT: usize = 220;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/products", get(list).post(create))
}

struct ProductRow {
    name: String,
    description: String,
    created: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ProductForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ProductsPage {
    chrome: Chrome,
    products: Vec<ProductRow>,
    form: ProductForm,
    problems: Vec<FieldError>,
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    done: Option<String>,
}

async fn page(
    state: &AppState,
    signed: &Signed,
    notice: Option<&str>,
    form: ProductForm,
    problems: Vec<FieldError>,
) -> Result<Response, PageError> {
    let now = now_millis();
    let products = state
        .store
        .list_products(signed.team())
        .await?
        .into_iter()
        .map(|p| ProductRow {
            description: excerpt(&p.description, DESCRIPTION_EXCERPT),
            created: ago(p.created_at, now),
            name: p.name,
        })
        .collect();
    let status = form_status(!problems.is_empty());
    let page = ProductsPage {
        chrome: Chrome::new(signed, Section::Products, "Products").with_notice(notice),
        products,
        form,
        problems,
    };
    Ok(render_status(status, &page))
}

async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    page(
        &state,
        &signed,
        query.done.as_deref(),
        ProductForm::default(),
        Vec::new(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<ProductForm>,
) -> Result<Response, PageError> {
    if let Err(problems) = validate_new_product(&form.name, &form.description) {
        return page(&state, &signed, None, form, problems).await;
    }
    state
        .store
        .create_product(
            signed.team(),
            form.name.trim(),
            form.description.trim(),
            signed.session.plan.quota(Quota::Products),
        )
        .await?;
    Ok(done("/app/products", "product-created").into_response())
}
