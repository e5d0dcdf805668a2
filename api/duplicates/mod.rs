//! Suspected duplicates: the same citizen-ID hash twice in a ward, or the same folded name
//! and birth date twice in a neighbourhood, is queued for the head. Merging keeps the
//! survivor the head chooses, moves the other record's status events to it and leaves the
//! other as a tombstone; dismissing says they are two people.

pub mod list;
pub mod resolve;

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::db::{new_id, now, DbConnection};
use crate::problem::ApiError;
use crate::schema::{duplicate_pairs, households, residents};

/// The path of a neighbourhood's ward: the neighbourhood's path without its last segment.
fn ward_path(neighbourhood_path: &str) -> String {
    let trimmed = neighbourhood_path.trim_end_matches('/');
    match trimmed.rfind('/') {
        Some(cut) => format!("{}/", &trimmed[..cut]),
        None => "/".to_owned(),
    }
}

/// How many of these residents live in households inside the scope. A pair is shown to,
/// and resolved by, only a caller whose scope holds both of its records: matching on the
/// citizen ID is ward-wide, and a head of one neighbourhood must not see (or delete) a
/// person of another through a pair.
pub fn residents_in_scope(
    conn: &mut DbConnection,
    scope: &crate::auth::Scope,
    ids: &[&str],
) -> Result<i64, ApiError> {
    Ok(residents::table
        .inner_join(households::table)
        .filter(residents::id.eq_any(ids))
        .filter(households::area_path.like(scope.path_pattern()))
        .count()
        .get_result(conn)?)
}

/// Looks for records that may be the same person as this resident and queues each new pair.
pub fn detect_for(conn: &mut DbConnection, resident_id: &str) -> Result<usize, ApiError> {
    let found: Option<(Option<String>, String, NaiveDate, String, String)> = residents::table
        .inner_join(households::table)
        .filter(residents::id.eq(resident_id))
        .filter(residents::deleted_at.is_null())
        .filter(residents::erased_at.is_null())
        .select((
            residents::citizen_id_hash,
            residents::search_text,
            residents::birth_date,
            households::area_id,
            households::area_path,
        ))
        .first(conn)
        .optional()?;
    let Some((hash, search_text, birth_date, area_id, area_path)) = found else {
        return Ok(0);
    };
    let mut candidates: Vec<(String, &str)> = Vec::new();
    if let Some(hash) = &hash {
        let same_id: Vec<String> = residents::table
            .inner_join(households::table)
            .filter(residents::citizen_id_hash.eq(hash))
            .filter(residents::id.ne(resident_id))
            .filter(residents::deleted_at.is_null())
            .filter(households::deleted_at.is_null())
            .filter(households::area_path.like(format!("{}%", ward_path(&area_path))))
            .select(residents::id)
            .load(conn)?;
        candidates.extend(same_id.into_iter().map(|other| (other, "citizen_id")));
    }
    if !search_text.is_empty() {
        let same_name: Vec<String> = residents::table
            .inner_join(households::table)
            .filter(residents::search_text.eq(&search_text))
            .filter(residents::birth_date.eq(birth_date))
            .filter(residents::id.ne(resident_id))
            .filter(residents::deleted_at.is_null())
            .filter(residents::erased_at.is_null())
            .filter(households::deleted_at.is_null())
            .filter(households::area_id.eq(&area_id))
            .select(residents::id)
            .load(conn)?;
        candidates.extend(
            same_name
                .into_iter()
                .map(|other| (other, "name_and_birth_date")),
        );
    }
    let mut queued = 0;
    for (other, reason) in candidates {
        let (a, b) = if resident_id < other.as_str() {
            (resident_id.to_owned(), other)
        } else {
            (other, resident_id.to_owned())
        };
        let exists: i64 = duplicate_pairs::table
            .filter(duplicate_pairs::resident_a.eq(&a))
            .filter(duplicate_pairs::resident_b.eq(&b))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            diesel::insert_into(duplicate_pairs::table)
                .values((
                    duplicate_pairs::id.eq(new_id()),
                    duplicate_pairs::resident_a.eq(&a),
                    duplicate_pairs::resident_b.eq(&b),
                    duplicate_pairs::area_path.eq(&area_path),
                    duplicate_pairs::reason.eq(reason),
                    duplicate_pairs::status.eq("open"),
                    duplicate_pairs::created_at.eq(now()),
                ))
                .execute(conn)?;
            queued += 1;
        }
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_neighbourhoods_ward_is_its_parent_in_the_path() {
        assert_eq!(ward_path("/p/t/w/n/"), "/p/t/w/");
        assert_eq!(ward_path("/p/"), "/");
    }
}
