//! Applying a reorganisation: every step runs in the caller's transaction, so a plan lands
//! whole or not at all; a dry run is the same work in a savepoint that is rolled back, so
//! what it reports is exactly what applying would do.
//!
//! What follows an area when it changes:
//! - households and everything in them (their path changes; the counters move their whole
//!   history to the new place, so a live area's series is the history of the households it
//!   has now, back before the change); where each household was until the effective day is
//!   kept in `household_locations`, so an area that ended stays countable for the days it
//!   existed;
//! - accounts scoped to an area that ended go to its successor (dissolve: its parent);
//!   volunteers' assignments go to the successor (split: to every part), their period
//!   keeping its start so what the phone recorded while assigned is still accepted;
//! - targets an area had of its own are copied to an area formed from it (merge: when all
//!   the merged areas agree).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::plan::{
    DissolveStep, MergeStep, MoveStep, RenameStep, ReorganisationPlan, SplitStep, Step, Target,
};
use crate::adoption::counters::{sync_household_and_residents, EPOCH};
use crate::areas::{find_by_code, insert_area, Area, AreaKind, NewArea};
use crate::auth::{Role, Scope};
use crate::db::{new_id, now, DbConnection};
use crate::i18n::Text;
use crate::problem::{ApiError, FieldError};
use crate::schema::{
    area_changes, areas, data_breaches, data_requests, duplicate_pairs, household_locations,
    households, report_templates, residents, sign_offs, sync_conflicts, targets, users,
    volunteer_assignments,
};

/// What one step did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct StepOutcome {
    /// Position of the step in the plan, from 0.
    pub step: usize,
    pub kind: String,
    /// The step in words, Vietnamese.
    pub description_vi: String,
    /// The step in words, English.
    pub description_en: String,
    /// Codes of the areas it formed.
    pub areas_formed: Vec<String>,
    /// Codes of the areas that end with it.
    pub areas_ended: Vec<String>,
    /// Areas (with everything in them) that got a new parent.
    pub areas_moved: i64,
    pub households_moved: i64,
    /// People living in the households moved.
    pub residents_moved: i64,
    /// Accounts whose scope went to another area.
    pub users_rescoped: i64,
    /// Volunteers' neighbourhood assignments carried to another area.
    pub assignments_moved: i64,
    pub targets_copied: i64,
    /// What an administrator should look at (e.g. targets that could not be carried over).
    pub warnings: Vec<String>,
}

/// Applies `plan` as reorganisation `id`, effective `plan.effective_on`, within `scope`.
/// Plan problems are 422 with one error per problem found, pointing into the plan.
pub fn apply(
    conn: &mut DbConnection,
    id: &str,
    plan: &ReorganisationPlan,
    scope: &Scope,
) -> Result<Vec<StepOutcome>, ApiError> {
    let latest: Option<NaiveDate> = super::reorganisations_table()
        .filter(crate::schema::reorganisations::status.eq("applied"))
        .filter(crate::schema::reorganisations::id.ne(id))
        .select(diesel::dsl::max(
            crate::schema::reorganisations::effective_on,
        ))
        .first(conn)?;
    if let Some(latest) = latest.filter(|latest| *latest > plan.effective_on) {
        return Err(bad(
            "/effective_on",
            "before-last-reorganisation",
            words(
                format!(
                    "Một đợt sắp xếp có hiệu lực từ {} đã được áp dụng; ngày hiệu lực không được sớm hơn",
                    latest.format("%d/%m/%Y")
                ),
                format!(
                    "A reorganisation effective on {latest} has already been applied; this one cannot take effect before it"
                ),
            ),
        ));
    }
    let mut run = Run {
        id,
        day: plan.effective_on,
        scope,
    };
    plan.steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let mut outcome = StepOutcome {
                step: index,
                kind: step.kind().to_owned(),
                ..StepOutcome::default()
            };
            let pointer = format!("/steps/{index}");
            match step {
                Step::Merge(step) => run.merge(conn, &pointer, step, &mut outcome)?,
                Step::Split(step) => run.split(conn, &pointer, step, &mut outcome)?,
                Step::Rename(step) => run.rename(conn, &pointer, step, &mut outcome)?,
                Step::Move(step) => run.relocate(conn, &pointer, step, &mut outcome)?,
                Step::Dissolve(step) => run.dissolve(conn, &pointer, step, &mut outcome)?,
            }
            Ok(outcome)
        })
        .collect()
}

fn words(vi: impl Into<String>, en: impl Into<String>) -> Text {
    Text::owned(vi.into(), en.into())
}

fn bad(pointer: &str, code: &str, detail: Text) -> ApiError {
    ApiError::validation(vec![FieldError {
        pointer: pointer.to_owned(),
        code: code.to_owned(),
        detail,
    }])
}

struct Run<'a> {
    id: &'a str,
    day: NaiveDate,
    scope: &'a Scope,
}

impl Run<'_> {
    /// A live area in the caller's scope, by code; otherwise a plan error at `pointer`.
    fn live(&self, conn: &mut DbConnection, pointer: &str, code: &str) -> Result<Area, ApiError> {
        let area = find_by_code(conn, code)?
            .filter(|area| self.scope.contains(&area.path))
            .ok_or_else(|| {
                bad(
                    pointer,
                    "area-unknown",
                    words(
                        format!("Không có địa bàn mã {code} trong phạm vi của bạn"),
                        format!("No area with the code {code} in your scope"),
                    ),
                )
            })?;
        if area.is_ended() {
            return Err(bad(
                pointer,
                "area-ended",
                words(
                    format!("Địa bàn {code} đã kết thúc từ trước"),
                    format!("The area {code} has already ended"),
                ),
            ));
        }
        Ok(area)
    }

    /// The target of a merge or split part: the existing area, or the one formed now.
    fn target(
        &self,
        conn: &mut DbConnection,
        pointer: &str,
        target: &Target,
        outcome: &mut StepOutcome,
    ) -> Result<Area, ApiError> {
        let Some(new) = &target.new else {
            return self.live(conn, &format!("{pointer}/code"), &target.code);
        };
        if find_by_code(conn, &target.code)?.is_some() {
            return Err(bad(
                &format!("{pointer}/code"),
                "area-code-taken",
                words(
                    format!("Mã địa bàn {} đã tồn tại", target.code),
                    format!("The area code {} is already in use", target.code),
                ),
            ));
        }
        let parent = self.live(conn, &format!("{pointer}/new/parent"), &new.parent)?;
        check_fits(&format!("{pointer}/new/kind"), new.kind, &parent)?;
        let area = insert_area(
            conn,
            NewArea {
                parent: Some(&parent),
                kind: new.kind,
                code: &target.code,
                name: &new.name,
                official_adult_population: new.official_adult_population,
                official_household_count: new.official_household_count,
            },
        )?;
        self.change(conn, &area, "formed", None, |row| row)?;
        outcome.areas_formed.push(area.code.clone());
        Ok(area)
    }

    fn merge(
        &mut self,
        conn: &mut DbConnection,
        pointer: &str,
        step: &MergeStep,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let mut sources = Vec::new();
        for (index, code) in step.sources.iter().enumerate() {
            let source = self.live(conn, &format!("{pointer}/sources/{index}"), code)?;
            if sources.iter().any(|s: &Area| s.id == source.id) {
                return Err(bad(
                    &format!("{pointer}/sources/{index}"),
                    "area-repeated",
                    words(
                        format!("Địa bàn {code} được nêu hai lần"),
                        format!("The area {code} is named twice"),
                    ),
                ));
            }
            sources.push(source);
        }
        let into = self.target(conn, &format!("{pointer}/into"), &step.into, outcome)?;
        for (index, source) in sources.iter().enumerate() {
            if source.kind != into.kind {
                return Err(bad(
                    &format!("{pointer}/sources/{index}"),
                    "kind-differs",
                    words(
                        "Chỉ sáp nhập các địa bàn cùng cấp",
                        "Only areas of the same kind can be merged",
                    ),
                ));
            }
            if into.path.starts_with(&source.path) && into.id != source.id {
                return Err(bad(
                    &format!("{pointer}/into"),
                    "target-inside-source",
                    words(
                        "Không sáp nhập một địa bàn vào địa bàn nằm trong nó",
                        "An area cannot be merged into an area inside it",
                    ),
                ));
            }
        }
        let merged: Vec<&Area> = sources.iter().filter(|s| s.id != into.id).collect();
        for source in &merged {
            for child in live_children(conn, &source.id)? {
                self.repath(conn, &child, &into, outcome)?;
            }
            let homes = households_in(conn, &source.id)?;
            self.rehome(conn, &homes, &into, outcome)?;
        }
        if step.into.new.is_some() {
            self.copy_agreed_targets(conn, &merged, &into, outcome)?;
        }
        for source in &merged {
            self.end(conn, source, Some(&into), "merged_into", outcome)?;
            self.carry_assignments(conn, source, std::slice::from_ref(&into), outcome)?;
        }
        outcome.description_vi = format!(
            "Sáp nhập {} vào {} ({})",
            names(&merged),
            into.name,
            into.code
        );
        outcome.description_en = format!(
            "Merge {} into {} ({})",
            names(&merged),
            into.name,
            into.code
        );
        Ok(())
    }

    fn split(
        &mut self,
        conn: &mut DbConnection,
        pointer: &str,
        step: &SplitStep,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let source = self.live(conn, &format!("{pointer}/source"), &step.source)?;
        let children = live_children(conn, &source.id)?;
        let homes = households_in(conn, &source.id)?;
        // Every child and household given to exactly one part.
        let mut given_children: BTreeMap<String, usize> = BTreeMap::new();
        let mut given_homes: BTreeMap<String, usize> = BTreeMap::new();
        for (index, part) in step.parts.iter().enumerate() {
            for (at, code) in part.children.iter().enumerate() {
                let here = format!("{pointer}/parts/{index}/children/{at}");
                let Some(child) = children.iter().find(|c| &c.code == code) else {
                    return Err(bad(
                        &here,
                        "not-a-child",
                        words(
                            format!("{code} không trực thuộc {}", source.code),
                            format!("{code} is not directly under {}", source.code),
                        ),
                    ));
                };
                if given_children.insert(child.id.clone(), index).is_some() {
                    return Err(bad(
                        &here,
                        "given-twice",
                        words(
                            format!("{code} được chia cho hai phần"),
                            format!("{code} is given to two parts"),
                        ),
                    ));
                }
            }
            for (at, household) in part.households.iter().enumerate() {
                let here = format!("{pointer}/parts/{index}/households/{at}");
                let household = household.to_string();
                if !homes.contains(&household) {
                    return Err(bad(
                        &here,
                        "not-a-household-of-source",
                        words(
                            format!("Hộ {household} không thuộc {}", source.code),
                            format!("The household {household} is not in {}", source.code),
                        ),
                    ));
                }
                if given_homes.insert(household.clone(), index).is_some() {
                    return Err(bad(
                        &here,
                        "given-twice",
                        words(
                            format!("Hộ {household} được chia cho hai phần"),
                            format!("The household {household} is given to two parts"),
                        ),
                    ));
                }
            }
        }
        let missing_children: Vec<&str> = children
            .iter()
            .filter(|c| !given_children.contains_key(&c.id))
            .map(|c| c.code.as_str())
            .collect();
        let missing_homes = homes.len() - given_homes.len();
        if !missing_children.is_empty() || missing_homes > 0 {
            return Err(bad(
                &format!("{pointer}/parts"),
                "split-incomplete",
                words(
                    format!(
                        "Chưa chia hết: còn {} địa bàn trực thuộc ({}) và {missing_homes} hộ chưa có phần",
                        missing_children.len(),
                        missing_children.join(", ")
                    ),
                    format!(
                        "Not everything is given to a part: {} areas below ({}) and {missing_homes} households are left",
                        missing_children.len(),
                        missing_children.join(", ")
                    ),
                ),
            ));
        }
        let mut parts = Vec::new();
        for (index, part) in step.parts.iter().enumerate() {
            let into = self.target(
                conn,
                &format!("{pointer}/parts/{index}/into"),
                &part.into,
                outcome,
            )?;
            if into.kind != source.kind
                || into.id == source.id
                || into.path.starts_with(&source.path)
            {
                return Err(bad(
                    &format!("{pointer}/parts/{index}/into"),
                    "part-not-a-sibling",
                    words(
                        "Mỗi phần phải là một địa bàn khác cùng cấp, không nằm trong địa bàn bị chia",
                        "Each part must be another area of the same kind, not inside the area split",
                    ),
                ));
            }
            parts.push(into);
        }
        for (index, part) in step.parts.iter().enumerate() {
            let into = &parts[index];
            for child in children.iter().filter(|c| given_children[&c.id] == index) {
                self.repath(conn, child, into, outcome)?;
            }
            let ids: Vec<String> = part.households.iter().map(|h| h.to_string()).collect();
            self.rehome(conn, &ids, into, outcome)?;
            if part.into.new.is_some() {
                self.copy_agreed_targets(conn, &[&source], into, outcome)?;
            }
        }
        let follow = match &step.users_follow {
            Some(code) => parts
                .iter()
                .find(|p| &p.code == code)
                .ok_or_else(|| {
                    bad(
                        &format!("{pointer}/users_follow"),
                        "not-a-part",
                        words(
                            format!("{code} không phải một phần của việc chia tách"),
                            format!("{code} is not one of the parts"),
                        ),
                    )
                })?
                .clone(),
            None => parts[0].clone(),
        };
        self.end(conn, &source, Some(&follow), "split", outcome)?;
        for part in &parts {
            self.change(conn, &source, "split_into", Some(&part.id), |row| row)?;
        }
        self.carry_assignments(conn, &source, &parts, outcome)?;
        let part_names = names(&parts.iter().collect::<Vec<_>>());
        outcome.description_vi = format!("Chia {} thành {part_names}", source.name);
        outcome.description_en = format!("Split {} into {part_names}", source.name);
        Ok(())
    }

    fn rename(
        &mut self,
        conn: &mut DbConnection,
        pointer: &str,
        step: &RenameStep,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let area = self.live(conn, &format!("{pointer}/area"), &step.area)?;
        let name = step.name.trim().to_owned();
        diesel::update(areas::table.find(&area.id))
            .set((
                areas::name.eq(&name),
                areas::version.eq(area.version + 1),
                areas::updated_at.eq(now()),
            ))
            .execute(conn)?;
        self.change(conn, &area, "renamed", None, |row| {
            (row.0, row.1, Some(area.name.clone()), Some(name.clone()))
        })?;
        outcome.description_vi = format!("Đổi tên {} thành {name}", area.name);
        outcome.description_en = format!("Rename {} to {name}", area.name);
        Ok(())
    }

    fn relocate(
        &mut self,
        conn: &mut DbConnection,
        pointer: &str,
        step: &MoveStep,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let area = self.live(conn, &format!("{pointer}/area"), &step.area)?;
        let parent = self.live(conn, &format!("{pointer}/parent"), &step.parent)?;
        if parent.path.starts_with(&area.path) {
            return Err(bad(
                &format!("{pointer}/parent"),
                "parent-inside-area",
                words(
                    "Không chuyển một địa bàn vào bên trong chính nó",
                    "An area cannot be moved inside itself",
                ),
            ));
        }
        let kind = area
            .kind()
            .ok_or_else(|| ApiError::internal("unknown area kind stored"))?;
        check_fits(&format!("{pointer}/parent"), kind, &parent)?;
        self.repath(conn, &area, &parent, outcome)?;
        outcome.description_vi = format!("Chuyển {} về trực thuộc {}", area.name, parent.name);
        outcome.description_en = format!("Move {} under {}", area.name, parent.name);
        Ok(())
    }

    fn dissolve(
        &mut self,
        conn: &mut DbConnection,
        pointer: &str,
        step: &DissolveStep,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let area = self.live(conn, &format!("{pointer}/area"), &step.area)?;
        let children = live_children(conn, &area.id)?.len();
        let homes = households_in(conn, &area.id)?.len();
        if children > 0 || homes > 0 {
            return Err(bad(
                &format!("{pointer}/area"),
                "area-not-empty",
                words(
                    format!(
                        "{} còn {children} địa bàn trực thuộc và {homes} hộ; hãy sáp nhập hoặc chuyển chúng trước (trong các bước trước)",
                        area.code
                    ),
                    format!(
                        "{} still has {children} areas below it and {homes} households; merge or move them first (in earlier steps)",
                        area.code
                    ),
                ),
            ));
        }
        let heads: i64 = users::table
            .filter(users::area_id.eq(&area.id))
            .filter(users::role.eq(Role::Head.as_str()))
            .count()
            .get_result(conn)?;
        if heads > 0 {
            return Err(bad(
                &format!("{pointer}/area"),
                "area-has-heads",
                words(
                    format!(
                        "{} còn trưởng khu phố; hãy sáp nhập khu phố thay vì giải thể",
                        area.code
                    ),
                    format!(
                        "{} still has neighbourhood heads; merge the neighbourhood instead of dissolving it",
                        area.code
                    ),
                ),
            ));
        }
        let parent = match &area.parent_id {
            Some(parent_id) => Some(
                areas::table
                    .find(parent_id)
                    .select(Area::as_select())
                    .first(conn)?,
            ),
            None => None,
        };
        self.end(conn, &area, parent.as_ref(), "dissolved", outcome)?;
        self.carry_assignments(conn, &area, &[], outcome)?;
        outcome.description_vi = format!("Giải thể {}", area.name);
        outcome.description_en = format!("Dissolve {}", area.name);
        Ok(())
    }

    /// Records a change of `area` (and, through `fill`, its names).
    fn change(
        &self,
        conn: &mut DbConnection,
        area: &Area,
        change: &str,
        other: Option<&str>,
        fill: impl FnOnce(Names) -> Names,
    ) -> Result<(), ApiError> {
        let (old_parent, new_parent, old_name, new_name) =
            fill((None, area.parent_id.clone(), None, None));
        diesel::insert_into(area_changes::table)
            .values((
                area_changes::id.eq(new_id()),
                area_changes::reorganisation_id.eq(self.id),
                area_changes::area_id.eq(&area.id),
                area_changes::change.eq(change),
                area_changes::other_area_id.eq(other),
                area_changes::old_name.eq(old_name),
                area_changes::new_name.eq(new_name),
                area_changes::old_parent_id.eq(old_parent),
                area_changes::new_parent_id.eq(new_parent),
                area_changes::effective_on.eq(self.day),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Ends `area` from the effective day; its accounts go to `successor`.
    fn end(
        &self,
        conn: &mut DbConnection,
        area: &Area,
        successor: Option<&Area>,
        change: &str,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        diesel::update(areas::table.find(&area.id))
            .set((
                areas::ended_on.eq(Some(self.day)),
                areas::succeeded_by.eq(successor.map(|s| s.id.clone())),
                areas::version.eq(area.version + 1),
                areas::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if change != "split" {
            self.change(
                conn,
                area,
                change,
                successor.map(|s| s.id.as_str()),
                |row| row,
            )?;
        }
        if let Some(successor) = successor {
            outcome.users_rescoped +=
                diesel::update(users::table.filter(users::area_id.eq(&area.id)))
                    .set((
                        users::area_id.eq(&successor.id),
                        users::updated_at.eq(now()),
                    ))
                    .execute(conn)? as i64;
            // The register of requests and breaches follows the accounts that keep it:
            // their legal deadlines run on.
            diesel::update(data_requests::table.filter(data_requests::area_id.eq(&area.id)))
                .set((
                    data_requests::area_id.eq(&successor.id),
                    data_requests::area_path.eq(&successor.path),
                ))
                .execute(conn)?;
            diesel::update(data_breaches::table.filter(data_breaches::area_id.eq(&area.id)))
                .set((
                    data_breaches::area_id.eq(&successor.id),
                    data_breaches::area_path.eq(&successor.path),
                ))
                .execute(conn)?;
            diesel::update(
                report_templates::table.filter(report_templates::area_path.eq(&area.path)),
            )
            .set(report_templates::area_path.eq(&successor.path))
            .execute(conn)?;
        }
        outcome.areas_ended.push(area.code.clone());
        Ok(())
    }

    /// Gives `area` (and everything below it) the parent `parent`: new paths for it, the
    /// areas below it (ended ones too, so they stay in the scope of those above) and its
    /// households.
    fn repath(
        &self,
        conn: &mut DbConnection,
        area: &Area,
        parent: &Area,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let old = area.path.clone();
        let new = format!("{}{}/", parent.path, area.id);
        let below: Vec<(String, String)> = areas::table
            .filter(areas::path.like(format!("{old}%")))
            .select((areas::id, areas::path))
            .load(conn)?;
        for (id, path) in &below {
            let moved = format!("{new}{}", &path[old.len()..]);
            diesel::update(areas::table.find(id))
                .set((areas::path.eq(&moved), areas::updated_at.eq(now())))
                .execute(conn)?;
            // What is filed under an area moves with it (scope checks read these paths).
            diesel::update(sign_offs::table.filter(sign_offs::area_id.eq(id)))
                .set(sign_offs::area_path.eq(&moved))
                .execute(conn)?;
            diesel::update(data_requests::table.filter(data_requests::area_id.eq(id)))
                .set(data_requests::area_path.eq(&moved))
                .execute(conn)?;
            diesel::update(data_breaches::table.filter(data_breaches::area_id.eq(id)))
                .set(data_breaches::area_path.eq(&moved))
                .execute(conn)?;
            diesel::update(report_templates::table.filter(report_templates::area_path.eq(path)))
                .set(report_templates::area_path.eq(&moved))
                .execute(conn)?;
        }
        diesel::update(areas::table.find(&area.id))
            .set((
                areas::parent_id.eq(&parent.id),
                areas::version.eq(area.version + 1),
            ))
            .execute(conn)?;
        self.change(conn, area, "moved", None, |_| {
            (area.parent_id.clone(), Some(parent.id.clone()), None, None)
        })?;
        let homes: Vec<(String, String)> = households::table
            .filter(households::area_path.like(format!("{old}%")))
            .select((households::id, households::area_path))
            .load(conn)?;
        let ids: Vec<String> = homes.iter().map(|(id, _)| id.clone()).collect();
        self.remember_locations(conn, &ids)?;
        let paths: BTreeSet<&String> = homes.iter().map(|(_, path)| path).collect();
        for path in paths {
            let moved = format!("{new}{}", &path[old.len()..]);
            diesel::update(households::table.filter(households::area_path.eq(path)))
                .set(households::area_path.eq(&moved))
                .execute(conn)?;
            diesel::update(sync_conflicts::table.filter(sync_conflicts::area_path.eq(path)))
                .set(sync_conflicts::area_path.eq(&moved))
                .execute(conn)?;
            diesel::update(duplicate_pairs::table.filter(duplicate_pairs::area_path.eq(path)))
                .set(duplicate_pairs::area_path.eq(&moved))
                .execute(conn)?;
        }
        self.recount_subjects(conn, &ids, outcome)?;
        outcome.areas_moved += 1;
        Ok(())
    }

    /// Moves households into the neighbourhood `to`.
    fn rehome(
        &self,
        conn: &mut DbConnection,
        ids: &[String],
        to: &Area,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        if ids.is_empty() {
            return Ok(());
        }
        if to.kind() != Some(AreaKind::Neighbourhood) {
            return Err(ApiError::internal("households go to a neighbourhood"));
        }
        self.remember_locations(conn, ids)?;
        for chunk in ids.chunks(CHUNK) {
            diesel::update(households::table.filter(households::id.eq_any(chunk)))
                .set((
                    households::area_id.eq(&to.id),
                    households::area_path.eq(&to.path),
                ))
                .execute(conn)?;
            diesel::update(
                sync_conflicts::table.filter(sync_conflicts::household_id.eq_any(chunk)),
            )
            .set((
                sync_conflicts::area_id.eq(&to.id),
                sync_conflicts::area_path.eq(&to.path),
            ))
            .execute(conn)?;
            let people = residents::table
                .filter(residents::household_id.eq_any(chunk))
                .select(residents::id);
            diesel::update(
                duplicate_pairs::table.filter(
                    duplicate_pairs::resident_a
                        .eq_any(people)
                        .or(duplicate_pairs::resident_b.eq_any(
                            residents::table
                                .filter(residents::household_id.eq_any(chunk))
                                .select(residents::id),
                        )),
                ),
            )
            .set(duplicate_pairs::area_path.eq(&to.path))
            .execute(conn)?;
            // A request about a person goes where the person's household goes.
            diesel::update(
                data_requests::table.filter(
                    data_requests::resident_id.eq_any(
                        residents::table
                            .filter(residents::household_id.eq_any(chunk))
                            .select(residents::id.nullable()),
                    ),
                ),
            )
            .set((
                data_requests::area_id.eq(&to.id),
                data_requests::area_path.eq(&to.path),
            ))
            .execute(conn)?;
        }
        self.recount_subjects(conn, ids, outcome)
    }

    /// Keeps where each household was until the effective day (from the end of its last
    /// kept location, or from the first day figures exist).
    fn remember_locations(&self, conn: &mut DbConnection, ids: &[String]) -> Result<(), ApiError> {
        for chunk in ids.chunks(CHUNK) {
            let since: BTreeMap<String, Option<NaiveDate>> = household_locations::table
                .filter(household_locations::household_id.eq_any(chunk))
                .group_by(household_locations::household_id)
                .select((
                    household_locations::household_id,
                    diesel::dsl::max(household_locations::until_on),
                ))
                .load::<(String, Option<NaiveDate>)>(conn)?
                .into_iter()
                .collect();
            let now_at: Vec<(String, String)> = households::table
                .filter(households::id.eq_any(chunk))
                .select((households::id, households::area_path))
                .load(conn)?;
            let rows: Vec<_> = now_at
                .into_iter()
                .filter_map(|(id, path)| {
                    let from = since.get(&id).copied().flatten().unwrap_or(EPOCH);
                    (from < self.day).then(|| {
                        (
                            household_locations::household_id.eq(id),
                            household_locations::area_path.eq(path),
                            household_locations::from_on.eq(from),
                            household_locations::until_on.eq(self.day),
                            household_locations::reorganisation_id.eq(self.id.to_owned()),
                        )
                    })
                })
                .collect();
            for row in rows {
                diesel::insert_into(household_locations::table)
                    .values(row)
                    .execute(conn)?;
            }
        }
        Ok(())
    }

    /// Brings the counters of the moved households and their people up to date (in the
    /// transaction's batch) and counts them.
    fn recount_subjects(
        &self,
        conn: &mut DbConnection,
        ids: &[String],
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        for chunk in ids.chunks(CHUNK) {
            let people: i64 = residents::table
                .filter(residents::household_id.eq_any(chunk))
                .filter(residents::deleted_at.is_null())
                .count()
                .get_result(conn)?;
            outcome.residents_moved += people;
        }
        for id in ids {
            sync_household_and_residents(conn, id)?;
        }
        outcome.households_moved += ids.len() as i64;
        Ok(())
    }

    /// Carries the volunteers assigned to `from` to each of `to` (none: the assignment
    /// just ends), each new period starting when the old one did.
    fn carry_assignments(
        &self,
        conn: &mut DbConnection,
        from: &Area,
        to: &[Area],
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        use crate::schema::assignment_periods;
        let assigned: Vec<String> = volunteer_assignments::table
            .filter(volunteer_assignments::area_id.eq(&from.id))
            .select(volunteer_assignments::user_id)
            .load(conn)?;
        for user_id in assigned {
            let since: Option<chrono::NaiveDateTime> = assignment_periods::table
                .filter(assignment_periods::user_id.eq(&user_id))
                .filter(assignment_periods::area_id.eq(&from.id))
                .filter(assignment_periods::unassigned_at.is_null())
                .select(diesel::dsl::min(assignment_periods::assigned_at))
                .first(conn)?;
            crate::volunteers::end_assignment(conn, &user_id, &from.id)?;
            for area in to {
                crate::volunteers::start_assignment_since(conn, &user_id, &area.id, since)?;
                outcome.assignments_moved += 1;
            }
        }
        Ok(())
    }

    /// Copies to `into` the targets the `sources` set for themselves, when they all set the
    /// same ones; otherwise `into` inherits from its parent and a warning says why.
    fn copy_agreed_targets(
        &self,
        conn: &mut DbConnection,
        sources: &[&Area],
        into: &Area,
        outcome: &mut StepOutcome,
    ) -> Result<(), ApiError> {
        let mut sets = Vec::new();
        for source in sources {
            let own: BTreeSet<(String, String, i32, NaiveDate)> = targets::table
                .filter(targets::area_id.eq(&source.id))
                .select((
                    targets::indicator,
                    targets::comparison,
                    targets::threshold_basis_points,
                    targets::deadline,
                ))
                .load(conn)?
                .into_iter()
                .collect();
            sets.push(own);
        }
        let Some(first) = sets.first() else {
            return Ok(());
        };
        if sets.iter().any(|set| set != first) {
            outcome.warnings.push(format!(
                "The merged areas set different targets of their own; {} inherits its parent's until an administrator sets them",
                into.code
            ));
            return Ok(());
        }
        for (indicator, comparison, threshold, deadline) in first {
            diesel::insert_into(targets::table)
                .values((
                    targets::id.eq(new_id()),
                    targets::area_id.eq(Some(&into.id)),
                    targets::indicator.eq(indicator),
                    targets::comparison.eq(comparison),
                    targets::threshold_basis_points.eq(threshold),
                    targets::deadline.eq(deadline),
                    targets::updated_at.eq(now()),
                ))
                .execute(conn)?;
            outcome.targets_copied += 1;
        }
        Ok(())
    }
}

/// (old parent, new parent, old name, new name) of an area change.
type Names = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

const CHUNK: usize = 500;

fn check_fits(pointer: &str, kind: AreaKind, parent: &Area) -> Result<(), ApiError> {
    if kind.fits_under(parent.kind()) {
        Ok(())
    } else {
        Err(bad(
            pointer,
            "kind-does-not-fit-parent",
            words(
                "Loại địa bàn không phù hợp với cấp trên (tỉnh → phường/xã hoặc thị xã/huyện → phường → khu phố)",
                "This kind of area cannot sit under that parent (province → ward, or town/district → ward → neighbourhood)",
            ),
        ))
    }
}

fn live_children(conn: &mut DbConnection, area_id: &str) -> Result<Vec<Area>, ApiError> {
    Ok(areas::table
        .filter(areas::parent_id.eq(area_id))
        .filter(areas::ended_on.is_null())
        .order(areas::code)
        .select(Area::as_select())
        .load(conn)?)
}

/// Every household of a neighbourhood, deleted ones too (nothing may point into an area
/// that ended).
fn households_in(conn: &mut DbConnection, area_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(households::table
        .filter(households::area_id.eq(area_id))
        .order(households::id)
        .select(households::id)
        .load(conn)?)
}

fn names(areas: &[&Area]) -> String {
    areas
        .iter()
        .map(|a| format!("{} ({})", a.name, a.code))
        .collect::<Vec<_>>()
        .join(", ")
}
