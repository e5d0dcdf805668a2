//! Demo data for trying the product on a laptop: the area tree of Phú Sơn ward with eight
//! neighbourhoods (placeholder names) and one account per role. Seeded only into an empty
//! database, so it can never mix with real records.

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
    let town = area(conn, Some(&province), AreaKind::Town, "TH-BS", "Bỉm Sơn")?;
    let ward = area(conn, Some(&town), AreaKind::Ward, "TH-BS-PS", "Phú Sơn")?;
    let mut neighbourhoods = Vec::new();
    for n in 1..=8 {
        let code = format!("TH-BS-PS-KP{n:02}");
        let name = format!("Khu phố {n}");
        neighbourhoods.push(area(
            conn,
            Some(&ward),
            AreaKind::Neighbourhood,
            &code,
            &name,
        )?);
    }
    let first = &neighbourhoods[0];
    let accounts = [
        (DEMO_EMAILS[0], "Quản trị viên (demo)", Role::Admin, None),
        (
            DEMO_EMAILS[1],
            "Cán bộ phường Phú Sơn (demo)",
            Role::Official,
            Some(&ward),
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
    Ok(())
}
