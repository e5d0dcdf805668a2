//! Demo data for trying the product on a laptop: the real map of the plan's ward and what
//! happened to it, with synthetic people. Until 30 June 2025 Phú Sơn, Bắc Sơn and Ngọc Trạo
//! wards and Quang Trung commune were units of Bỉm Sơn town (Thanh Hóa); from 1 July 2025
//! they form Quang Trung ward, directly under the province, and the town is gone. The demo
//! builds the old map, seeds the population into its 25 neighbourhoods (placeholder names),
//! and applies that reorganisation through the same code an administrator uses, so the new
//! ward's series runs back through 2024 and the old wards stay readable as history. One
//! account per role. Seeded only into an empty database, so it never mixes with real
//! records.

pub mod population;

use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::areas::{insert_area, Area, AreaKind, NewArea};
use crate::auth::password::hash_password_blocking;
use crate::auth::Role;
use crate::db::{Db, DbConnection};
use crate::i18n::Lang;
use crate::schema::{areas, users};
use crate::users::{insert_account, replace_assignments, NewAccount};

pub const DEMO_EMAILS: [&str; 4] = [
    "admin@demo.local",
    "official@demo.local",
    "head@demo.local",
    "volunteer@demo.local",
];

pub enum DemoOutcome {
    /// Seeded now; the password is shown once.
    Seeded { password: String, generated: bool },
    /// The database already had data; demo accounts (if any) got `EID_DEMO_PASSWORD` if set.
    AlreadyPresent { password_reset: bool },
}

/// Seeds the demo data if the database holds no area and no user yet.
pub fn seed_if_empty(db: &Db, password: Option<&SecretString>) -> anyhow::Result<DemoOutcome> {
    let mut conn = db.writer_connection()?;
    let (area_count, user_count): (i64, i64) = (
        areas::table.count().get_result(&mut *conn)?,
        users::table.count().get_result(&mut *conn)?,
    );
    if area_count > 0 || user_count > 0 {
        let password_reset = match password {
            Some(password) => reset_demo_passwords(&mut conn, password.expose_secret())?,
            None => false,
        };
        return Ok(DemoOutcome::AlreadyPresent { password_reset });
    }
    let (password, generated) = match password {
        Some(p) => (p.expose_secret().to_owned(), false),
        None => (generate_password(), true),
    };
    let hash = hash_password_blocking(&password)?;
    conn.transaction::<_, anyhow::Error, _>(|conn| seed(conn, &hash))?;
    Ok(DemoOutcome::Seeded {
        password,
        generated,
    })
}

fn generate_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn reset_demo_passwords(conn: &mut DbConnection, password: &str) -> anyhow::Result<bool> {
    let hash = hash_password_blocking(password)?;
    let changed = diesel::update(users::table.filter(users::email.eq_any(DEMO_EMAILS)))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(changed > 0)
}

fn seed(conn: &mut DbConnection, hash: &str) -> anyhow::Result<()> {
    let area = |conn: &mut DbConnection, parent: Option<&Area>, kind, code: &str, name: &str| {
        insert_area(
            conn,
            NewArea {
                parent,
                kind,
                code,
                name,
                official_adult_population: None,
                official_household_count: None,
            },
        )
    };
    let province = area(conn, None, AreaKind::Province, "TH", "Thanh Hóa")?;
    let town = area(
        conn,
        Some(&province),
        AreaKind::Town,
        "TH-BS",
        "Thị xã Bỉm Sơn",
    )?;
    let mut neighbourhoods = Vec::new();
    let mut units = Vec::new();
    for (code, name, label, count) in UNITS_BEFORE_JULY_2025 {
        let unit = area(conn, Some(&town), AreaKind::Ward, code, name)?;
        for n in 1..=count {
            let code = format!("{code}-{}{n:02}", if label == "Thôn" { "T" } else { "KP" });
            let name = format!("{label} {n}");
            neighbourhoods.push(area(
                conn,
                Some(&unit),
                AreaKind::Neighbourhood,
                &code,
                &name,
            )?);
        }
        units.push(unit);
    }
    let first = &neighbourhoods[0];
    // The official belongs to Phú Sơn; the reorganisation carries the account to Quang
    // Trung ward, as it carries everyone else's.
    let accounts = [
        (DEMO_EMAILS[0], "Quản trị viên (demo)", Role::Admin, None),
        (
            DEMO_EMAILS[1],
            "Cán bộ phường Quang Trung (demo)",
            Role::Official,
            Some(&units[0]),
        ),
        (
            DEMO_EMAILS[2],
            "Trưởng Khu phố 1 (demo)",
            Role::Head,
            Some(first),
        ),
        (
            DEMO_EMAILS[3],
            "Tình nguyện viên Khu phố 1 (demo)",
            Role::Volunteer,
            Some(first),
        ),
    ];
    let mut ids = Vec::new();
    for (email, name, role, area) in accounts {
        let id = insert_account(
            conn,
            NewAccount {
                email: Some(email),
                phone: None,
                name,
                role,
                area_id: area.map(|a| a.id.as_str()),
                password_hash: hash,
                language: Lang::Vi,
                active: true,
            },
        )?;
        if role == Role::Volunteer {
            replace_assignments(conn, &id, std::slice::from_ref(first))?;
        }
        ids.push(id);
    }
    let totals = population::seed(conn, &neighbourhoods, &ids[3], &ids[0])?;
    tracing::info!(
        households = totals.households,
        residents = totals.residents,
        adults = totals.adults,
        "synthetic demo population seeded (generated, no real person)"
    );
    merge_into_quang_trung(conn, &units)
}

/// The four units of Bỉm Sơn town before 1 July 2025: code, name, what a neighbourhood is
/// called there, how many (placeholder names; the count is the demo's, not the register's).
const UNITS_BEFORE_JULY_2025: [(&str, &str, &str, u32); 4] = [
    ("TH-BS-PS", "Phường Phú Sơn", "Khu phố", 8),
    ("TH-BS-BS", "Phường Bắc Sơn", "Khu phố", 6),
    ("TH-BS-NT", "Phường Ngọc Trạo", "Khu phố", 6),
    ("TH-BS-QT", "Xã Quang Trung", "Thôn", 5),
];

/// The day Vietnam went to two levels of local government.
pub const TWO_LEVEL_GOVERNMENT: chrono::NaiveDate =
    match chrono::NaiveDate::from_ymd_opt(2025, 7, 1) {
        Some(day) => day,
        None => panic!("2025-07-01 is a date"),
    };

/// Applies the real reorganisation of 1 July 2025: the four units form Quang Trung ward
/// under the province (their official figures together), and Bỉm Sơn town is dissolved.
fn merge_into_quang_trung(conn: &mut DbConnection, units: &[Area]) -> anyhow::Result<()> {
    use crate::reorganisations::plan::{
        DissolveStep, MergeStep, NewTarget, ReorganisationPlan, Step, Target,
    };
    let official: Vec<(Option<i64>, Option<i64>)> = areas::table
        .filter(areas::id.eq_any(units.iter().map(|u| u.id.as_str())))
        .select((
            areas::official_adult_population,
            areas::official_household_count,
        ))
        .load(conn)?;
    let adults: Option<i64> = official.iter().map(|o| o.0).sum();
    let homes: Option<i64> = official.iter().map(|o| o.1).sum();
    let plan = ReorganisationPlan {
        title: "Sắp xếp đơn vị hành chính cấp xã tỉnh Thanh Hóa năm 2025 (demo)".to_owned(),
        effective_on: TWO_LEVEL_GOVERNMENT,
        steps: vec![
            Step::Merge(MergeStep {
                sources: units.iter().map(|u| u.code.clone()).collect(),
                into: Target {
                    code: "TH-QT".to_owned(),
                    new: Some(NewTarget {
                        name: "Phường Quang Trung".to_owned(),
                        kind: AreaKind::Ward,
                        parent: "TH".to_owned(),
                        official_adult_population: adults,
                        official_household_count: homes,
                    }),
                },
            }),
            Step::Dissolve(DissolveStep {
                area: "TH-BS".to_owned(),
            }),
        ],
    };
    let actor = crate::audit::Actor::new(None, Some("seed-demo"));
    // Counters of the moved households brought up to date together, before the commit.
    crate::adoption::counters::batched(conn, |conn| {
        crate::reorganisations::submit(
            conn,
            &plan,
            &crate::auth::Scope::national(),
            &actor,
            crate::status::today(),
            false,
        )
    })?;
    Ok(())
}
