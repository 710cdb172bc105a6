//! Products ("offerings"): what a campaign sells; the AI's knowledge base for it.

use crate::validation::{FieldError, Problems};

/// Name length bounds, in characters.
pub const NAME_LEN: (usize, usize) = (3, 200);
/// Description length bounds, in characters.
pub const DESCRIPTION_LEN: (usize, usize) = (10, 20_000);

/// Checks a new product's fields.
pub fn validate_new_product(name: &str, description: &str) -> Result<(), Vec<FieldError>> {
    let mut problems = Problems::new();
    problems.check_len("name", name.trim(), NAME_LEN.0, NAME_LEN.1);
    problems.check_len(
        "description",
        description.trim(),
        DESCRIPTION_LEN.0,
        DESCRIPTION_LEN.1,
    );
    problems.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds() {
        assert!(validate_new_product("Ledger AI", "Automated bookkeeping").is_ok());
        assert!(validate_new_product("AI", "Automated bookkeeping").is_err());
        assert!(validate_new_product("Ledger AI", "short").is_err());
        assert!(validate_new_product("   ", "Automated bookkeeping").is_err());
        assert!(validate_new_product(&"n".repeat(201), "Automated bookkeeping").is_err());
    }
}
