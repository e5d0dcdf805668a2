//! A reorganisation as the province publishes it: a title, the day it takes effect and the
//! steps, each naming areas by their codes (what the province's lists carry). Steps apply
//! in order, so a later step may name an area an earlier one formed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::areas::{validate_area_code, AreaKind};

/// The most steps one reorganisation may carry (a province's list of new wards is well
/// under it).
pub const MAX_STEPS: usize = 200;
/// The most households one split part may list.
pub const MAX_PART_HOUSEHOLDS: usize = 5000;

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReorganisationPlan {
    /// What it carries out, e.g. "Nghị quyết 1686/NQ-UBTVQH15 (Thanh Hóa)".
    #[validate(length(min = 1, max = 300))]
    #[schema(min_length = 1, max_length = 300)]
    pub title: String,
    /// The first day of the new map (a day in Vietnam). On or before today: applied at
    /// once; later: scheduled, and applied at the start of that day.
    pub effective_on: NaiveDate,
    #[validate(length(min = 1, max = 200), nested)]
    #[schema(min_items = 1, max_items = 200)]
    pub steps: Vec<Step>,
}

/// One change of the map.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Several areas of one kind become one: a new area (`into.new`) or one of them /
    /// another existing area (`into` without `new`). The others end; their children and
    /// households, users and volunteers' assignments go to it.
    Merge(MergeStep),
    /// One area ends and its children (or, for a neighbourhood, its households) are
    /// shared out between new or existing areas; every one must be given to a part.
    Split(SplitStep),
    /// A new name from the effective day.
    Rename(RenameStep),
    /// The area, with everything in it, goes under another parent.
    Move(MoveStep),
    /// An area with nothing left in it ends; its users go to its parent.
    Dissolve(DissolveStep),
}

impl validator::Validate for Step {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        match self {
            Step::Merge(step) => step.validate(),
            Step::Split(step) => step.validate(),
            Step::Rename(step) => step.validate(),
            Step::Move(step) => step.validate(),
            Step::Dissolve(step) => step.validate(),
        }
    }
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Merge(_) => "merge",
            Step::Split(_) => "split",
            Step::Rename(_) => "rename",
            Step::Move(_) => "move",
            Step::Dissolve(_) => "dissolve",
        }
    }

    /// Every area code the step names that must exist before it (not the ones it forms).
    pub fn named_codes(&self) -> Vec<&str> {
        fn target(t: &Target) -> &str {
            t.new
                .as_ref()
                .map_or(t.code.as_str(), |n| n.parent.as_str())
        }
        match self {
            Step::Merge(step) => step
                .sources
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(target(&step.into)))
                .collect(),
            Step::Split(step) => std::iter::once(step.source.as_str())
                .chain(step.parts.iter().map(|p| target(&p.into)))
                .chain(
                    step.parts
                        .iter()
                        .flat_map(|p| p.children.iter().map(String::as_str)),
                )
                .collect(),
            Step::Rename(step) => vec![step.area.as_str()],
            Step::Move(step) => vec![step.area.as_str(), step.parent.as_str()],
            Step::Dissolve(step) => vec![step.area.as_str()],
        }
    }
}

/// The area something goes to: an existing one by its code, or a new one (`new`) that
/// gets this code.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub code: String,
    /// Present when the area is formed by this step.
    #[validate(nested)]
    pub new: Option<NewTarget>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTarget {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub kind: AreaKind,
    /// Code of the parent area (it must exist when the step runs).
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub parent: String,
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub official_adult_population: Option<i64>,
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    pub official_household_count: Option<i64>,
}

fn codes_are_plain(codes: &[String]) -> Result<(), validator::ValidationError> {
    codes.iter().try_for_each(|code| {
        if code.len() > 32 {
            return Err(validator::ValidationError::new("length"));
        }
        validate_area_code(code)
    })
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeStep {
    /// Codes of the areas merged (the target may be one of them: it then stays).
    #[validate(length(min = 1, max = 100), custom(function = "codes_are_plain"))]
    #[schema(min_items = 1, max_items = 100)]
    pub sources: Vec<String>,
    #[validate(nested)]
    pub into: Target,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitStep {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub source: String,
    #[validate(length(min = 2, max = 50), nested)]
    #[schema(min_items = 2, max_items = 50)]
    pub parts: Vec<SplitPart>,
    /// Code of the part the accounts scoped to the split area go to (default: the first).
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub users_follow: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitPart {
    #[validate(nested)]
    pub into: Target,
    /// Codes of the split area's children this part takes (areas above neighbourhoods).
    #[validate(length(max = 500), custom(function = "codes_are_plain"))]
    #[schema(max_items = 500)]
    #[serde(default)]
    pub children: Vec<String>,
    /// Ids of the households this part takes (when a neighbourhood is split).
    #[validate(length(max = 5000))]
    #[schema(max_items = 5000)]
    #[serde(default)]
    pub households: Vec<uuid::Uuid>,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameStep {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub area: String,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveStep {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub area: String,
    /// Code of the new parent.
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub parent: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DissolveStep {
    #[validate(length(min = 1, max = 32), custom(function = "validate_area_code"))]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9_-]+$")]
    pub area: String,
}
