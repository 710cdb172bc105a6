//! Validation results: a list of `{field, message}` pairs, the `details` of a 400.

use serde::Serialize;
use utoipa::ToSchema;

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every problem found in one request; empty means valid.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem with `field`.
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    /// Records a problem when `len` (in characters) is outside `min..=max`.
    pub fn check_len(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min || len > max {
            self.add(
                field,
                format!("The {field} field must be between {min} and {max} characters long"),
            );
        }
    }

    /// Records a problem when `value` is outside `min..=max`.
    pub fn check_range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.add(
                field,
                format!("The {field} field must be between {min} and {max}"),
            );
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when nothing was recorded, else every problem.
    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_counts_characters_not_bytes() {
        let mut problems = Problems::new();
        problems.check_len("name", "ééé", 3, 3);
        assert!(problems.is_empty());
        problems.check_len("name", "ab", 3, 100);
        assert_eq!(problems.into_result().unwrap_err()[0].field, "name");
    }

    #[test]
    fn range_is_inclusive() {
        let mut problems = Problems::new();
        problems.check_range("n", 0, 0, 100);
        problems.check_range("n", 100, 0, 100);
        assert!(problems.is_empty());
        problems.check_range("n", 101, 0, 100);
        problems.check_range("n", -1, 0, 100);
        assert_eq!(problems.into_result().unwrap_err().len(), 2);
    }
}
