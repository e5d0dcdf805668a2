//! How many more are needed to meet a target, exactly: thresholds are basis points and
//! the arithmetic is on integers, so "at least 80 %" of 10 needs 8 and "more than 50 %"
//! of 10 needs 6, with no rounding error at the boundary.

use crate::targets::Comparison;

/// The smallest count that meets the target over `denominator`.
pub fn required(comparison: Comparison, threshold_basis_points: i64, denominator: i64) -> i64 {
    let scaled = denominator * threshold_basis_points;
    match comparison {
        Comparison::AtLeast => (scaled + 9_999) / 10_000,
        Comparison::MoreThan => scaled / 10_000 + 1,
    }
}

pub fn still_needed(
    comparison: Comparison,
    threshold_basis_points: i64,
    denominator: i64,
    count: i64,
) -> i64 {
    (required(comparison, threshold_basis_points, denominator) - count).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_eighty_percent_of_ten_needs_eight_and_more_than_half_needs_six() {
        assert_eq!(required(Comparison::AtLeast, 8000, 10), 8);
        assert_eq!(required(Comparison::MoreThan, 5000, 10), 6);
        assert_eq!(required(Comparison::MoreThan, 5000, 11), 6);
        assert_eq!(required(Comparison::AtLeast, 8000, 11), 9);
        assert_eq!(still_needed(Comparison::AtLeast, 8000, 10, 8), 0);
        assert_eq!(still_needed(Comparison::MoreThan, 5000, 10, 5), 1);
        assert_eq!(still_needed(Comparison::AtLeast, 9500, 0, 0), 0);
    }
}
