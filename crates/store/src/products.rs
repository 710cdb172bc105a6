//! Products ("offerings"). Creation counts the team's products against its plan in the same
//! transaction as the insert.

use outbound_core::ids::new_id;
use outbound_core::time::{Millis, now_millis};

use crate::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub created_at: Millis,
}

#[async_trait::async_trait]
pub trait ProductStore {
    /// The team's products, newest first.
    async fn list_products(&self, team: &str) -> StoreResult<Vec<Product>>;
    /// Creates a product unless the team already has `quota` of them.
    async fn create_product(
        &self,
        team: &str,
        name: &str,
        description: &str,
        quota: Option<u32>,
    ) -> StoreResult<Product>;
}

macro_rules! impl_product_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl ProductStore for $store {
            async fn list_products(&self, team: &str) -> StoreResult<Vec<Product>> {
                Ok(sqlx::query_as::<_, Product>(
                    "SELECT id, name, description, created_at FROM products \
                     WHERE team_id = $1 ORDER BY created_at DESC, id DESC",
                )
                .bind(team)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn create_product(
                &self,
                team: &str,
                name: &str,
                description: &str,
                quota: Option<u32>,
            ) -> StoreResult<Product> {
                let mut tx = self.begin_write().await?;
                Self::lock_team(&mut tx, team).await?;
                if let Some(limit) = quota {
                    let count: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE team_id = $1")
                            .bind(team)
                            .fetch_one(&mut *tx)
                            .await?;
                    if count >= i64::from(limit) {
                        return Err(StoreError::QuotaReached {
                            what: "products",
                            limit,
                        });
                    }
                }
                let product = Product {
                    id: new_id(),
                    name: name.to_owned(),
                    description: description.to_owned(),
                    created_at: now_millis(),
                };
                sqlx::query(
                    "INSERT INTO products (id, team_id, name, description, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&product.id)
                .bind(team)
                .bind(&product.name)
                .bind(&product.description)
                .bind(product.created_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(product)
            }
        }
    };
}

impl_product_store!(crate::sqlite::SqliteStore);
impl_product_store!(crate::postgres::PgStore);
