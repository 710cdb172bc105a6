//! Subscription plans and the quotas they carry.
//!
//! Quotas are Kakiyo's published ones; `agency` and `unlimited` have none. A create that would
//! exceed a quota is refused with 403 `plan_limit_reached`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A team's plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Pioneer,
    Hunter,
    Conqueror,
    Agency,
    Unlimited,
}

/// What a plan limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Agents,
    Campaigns,
    Products,
}

impl Plan {
    pub const ALL: [Plan; 5] = [
        Plan::Pioneer,
        Plan::Hunter,
        Plan::Conqueror,
        Plan::Agency,
        Plan::Unlimited,
    ];

    /// How many of `what` a team on this plan may have; `None` is no limit.
    pub fn quota(self, what: Quota) -> Option<u32> {
        match (self, what) {
            (Plan::Pioneer, Quota::Agents) => Some(1),
            (Plan::Pioneer, Quota::Campaigns | Quota::Products) => Some(3),
            (Plan::Hunter, Quota::Agents) => Some(3),
            (Plan::Hunter, Quota::Campaigns) => Some(12),
            (Plan::Hunter, Quota::Products) => Some(9),
            (Plan::Conqueror, Quota::Agents) => Some(5),
            (Plan::Conqueror, Quota::Campaigns | Quota::Products) => None,
            (Plan::Agency | Plan::Unlimited, _) => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Pioneer => "pioneer",
            Plan::Hunter => "hunter",
            Plan::Conqueror => "conqueror",
            Plan::Agency => "agency",
            Plan::Unlimited => "unlimited",
        }
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name was not one of the plans.
#[derive(Debug, thiserror::Error)]
#[error("unknown plan `{0}` (expected pioneer, hunter, conqueror, agency or unlimited)")]
pub struct UnknownPlan(String);

impl FromStr for Plan {
    type Err = UnknownPlan;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|plan| plan.as_str() == s)
            .ok_or_else(|| UnknownPlan(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_quotas() {
        assert_eq!(Plan::Pioneer.quota(Quota::Agents), Some(1));
        assert_eq!(Plan::Hunter.quota(Quota::Agents), Some(3));
        assert_eq!(Plan::Conqueror.quota(Quota::Agents), Some(5));
        assert_eq!(Plan::Pioneer.quota(Quota::Campaigns), Some(3));
        assert_eq!(Plan::Hunter.quota(Quota::Campaigns), Some(12));
        assert_eq!(Plan::Conqueror.quota(Quota::Campaigns), None);
        assert_eq!(Plan::Pioneer.quota(Quota::Products), Some(3));
        assert_eq!(Plan::Hunter.quota(Quota::Products), Some(9));
        assert_eq!(Plan::Conqueror.quota(Quota::Products), None);
        assert_eq!(Plan::Agency.quota(Quota::Agents), None);
        assert_eq!(Plan::Unlimited.quota(Quota::Campaigns), None);
    }

    #[test]
    fn names_round_trip() {
        for plan in Plan::ALL {
            assert_eq!(plan.as_str().parse::<Plan>().unwrap(), plan);
        }
        assert!("gold".parse::<Plan>().is_err());
    }
}
