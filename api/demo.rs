//! Demo data for trying the product on a laptop: the area tree of Phú Sơn ward with eight
//! neighbourhoods (placeholder names) and one account per role. Seeded only into an empty
//! database, so it can never mix with real records.

use base64::Engine;
use diesel::prelude::*;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::password::hash_password_blocking;
use crate::auth::Role;
use crate::db::{new_id, now, Db, DbConnection};
use crate::schema::{areas, users, volunteer_assignments};

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

fn insert_area(
    conn: &mut DbConnection,
    parent: Option<(&str, &str)>,
    kind: &str,
    code: &str,
    name: &str,
) -> anyhow::Result<(String, String)> {
    let id = new_id();
    let path = format!("{}{id}/", parent.map_or("/", |(_, path)| path));
    let at = now();
    diesel::insert_into(areas::table)
        .values((
            areas::id.eq(&id),
            areas::parent_id.eq(parent.map(|(parent_id, _)| parent_id)),
            areas::kind.eq(kind),
            areas::code.eq(code),
            areas::name.eq(name),
            areas::path.eq(&path),
            areas::version.eq(1),
            areas::created_at.eq(at),
            areas::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok((id, path))
}

fn insert_user(
    conn: &mut DbConnection,
    email: &str,
    name: &str,
    role: Role,
    area_id: Option<&str>,
    hash: &str,
) -> anyhow::Result<String> {
    let id = new_id();
    let at = now();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&id),
            users::email.eq(email),
            users::name.eq(name),
            users::role.eq(role.as_str()),
            users::area_id.eq(area_id),
            users::password_hash.eq(hash),
            users::language.eq("vi"),
            users::active.eq(true),
            users::version.eq(1),
            users::created_at.eq(at),
            users::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(id)
}

fn seed(conn: &mut DbConnection, hash: &str) -> anyhow::Result<()> {
    let province = insert_area(conn, None, "province", "TH", "Thanh Hóa")?;
    let town = insert_area(
        conn,
        Some((&province.0, &province.1)),
        "town",
        "TH-BS",
        "Bỉm Sơn",
    )?;
    let ward = insert_area(
        conn,
        Some((&town.0, &town.1)),
        "ward",
        "TH-BS-PS",
        "Phú Sơn",
    )?;
    let mut neighbourhoods = Vec::new();
    for n in 1..=8 {
        neighbourhoods.push(insert_area(
            conn,
            Some((&ward.0, &ward.1)),
            "neighbourhood",
            &format!("TH-BS-PS-KP{n:02}"),
            &format!("Khu phố {n}"),
        )?);
    }
    let first = &neighbourhoods[0].0;
    insert_user(
        conn,
        DEMO_EMAILS[0],
        "Quản trị viên (demo)",
        Role::Admin,
        None,
        hash,
    )?;
    insert_user(
        conn,
        DEMO_EMAILS[1],
        "Cán bộ phường Phú Sơn (demo)",
        Role::Official,
        Some(&ward.0),
        hash,
    )?;
    insert_user(
        conn,
        DEMO_EMAILS[2],
        "Trưởng Khu phố 1 (demo)",
        Role::Head,
        Some(first),
        hash,
    )?;
    let volunteer = insert_user(
        conn,
        DEMO_EMAILS[3],
        "Tình nguyện viên Khu phố 1 (demo)",
        Role::Volunteer,
        Some(first),
        hash,
    )?;
    diesel::insert_into(volunteer_assignments::table)
        .values((
            volunteer_assignments::user_id.eq(&volunteer),
            volunteer_assignments::area_id.eq(first),
            volunteer_assignments::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
