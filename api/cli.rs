//! The command line: `serve`, `migrate`, `create-admin`, `seed-demo`, `import`, `recount`,
//! `send-digest`.

use std::io::{BufRead, IsTerminal};
use std::net::TcpListener;

use clap::{Parser, Subcommand};
use diesel::prelude::*;

use crate::auth::password::hash_password_blocking;
use crate::auth::Role;
use crate::config::Settings;
use crate::db::{CommitMode, Db};
use crate::demo::{self, DemoOutcome};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::users::{check_password_policy, insert_account, NewAccount};
use crate::{areas, startup};

#[derive(Debug, Parser)]
#[command(
    name = "eid-adoption",
    version,
    about = "e-ID and digital-signature adoption tracking for Vietnamese wards"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrations run first).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "BIND_ADDR")]
        bind: Option<String>,
        /// Seed demo data into an empty database and say so loudly.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator; the password is read from standard input (or prompted).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Quản trị viên")]
        name: String,
        /// Code of the area the administrator is scoped to; national when omitted.
        #[arg(long)]
        area: Option<String>,
    },
    /// Seed the demo data into an empty database.
    SeedDemo,
    /// Import a household register (CSV or XLSX) into a neighbourhood.
    Import {
        /// The file (.csv or .xlsx), in the layout of the template.
        file: std::path::PathBuf,
        /// Code of the neighbourhood, e.g. TH-BS-PS-KP01.
        #[arg(long)]
        area: String,
        /// Check and report only; nothing is written.
        #[arg(long)]
        dry_run: bool,
    },
    /// Recompute the adoption figures from the raw rows and report every difference with
    /// the counters the API serves (exit status 1 if there is any).
    Recount {
        /// Code of the area to check (default: everything).
        #[arg(long)]
        area: Option<String>,
        /// Rebuild the counters of the neighbourhoods that differ (then check them again).
        #[arg(long)]
        repair: bool,
    },
    /// Merge, split, rename, move or dissolve areas from a plan file (JSON, the body of
    /// `POST /api/v1/reorganisations`). Effective on or before today: applied now; later:
    /// scheduled (the server applies it on its day).
    Reorganise {
        /// The plan (.json).
        file: std::path::PathBuf,
        /// Check and report what would move; nothing is written.
        #[arg(long)]
        dry_run: bool,
    },
    /// Send the weekly digest now to every official and head who opted in.
    SendDigest {
        /// Print the messages instead of queuing them.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Demo data comes with a national administrator whose password is printed or known: it
/// has no place on a production server.
fn refuse_demo_in_production(settings: &Settings) -> anyhow::Result<()> {
    if settings.environment == crate::config::Environment::Production {
        anyhow::bail!(
            "demo data (with a national administrator account) is refused when EID_ENV=production"
        );
    }
    Ok(())
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve { demo: true, .. } | Command::SeedDemo => {
            refuse_demo_in_production(&settings)?
        }
        _ => {}
    }
    match cli.command {
        Command::Serve { bind, demo } => serve(settings, bind, demo).await,
        Command::Migrate => {
            let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
            db.run_migrations()?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::CreateAdmin { email, name, area } => {
            create_admin(&settings, &email, &name, area.as_deref())
        }
        Command::Import {
            file,
            area,
            dry_run,
        } => import(&settings, &file, &area, dry_run),
        Command::Recount { area, repair } => recount(&settings, area.as_deref(), repair),
        Command::Reorganise { file, dry_run } => reorganise(&settings, &file, dry_run),
        Command::SendDigest { dry_run } => send_digest(&settings, dry_run),
        Command::SeedDemo => {
            let state = AppState::build(settings)?;
            report_demo(demo::seed_if_empty(
                &state.db,
                state.settings.demo_password.as_ref(),
            )?);
            Ok(())
        }
    }
}

async fn serve(
    mut settings: Settings,
    bind: Option<String>,
    demo_mode: bool,
) -> anyhow::Result<()> {
    let bind = bind.unwrap_or_else(|| settings.bind_addr.clone());
    let listener = TcpListener::bind(&bind)?;
    let address = listener.local_addr()?;
    if settings.mail.public_url.is_none() {
        let scheme = if settings.http.tls.is_some() {
            "https"
        } else {
            "http"
        };
        settings.mail.public_url = Some(format!("{scheme}://{address}"));
        if address.ip().is_unspecified() {
            // A link or QR code naming 0.0.0.0 opens nothing on a volunteer's phone.
            tracing::warn!(
                %address,
                "EID_PUBLIC_URL is not set: links in e-mails and sign-in QR codes will name \
                 {scheme}://{address}, which no phone can open; set EID_PUBLIC_URL to the \
                 address people use"
            );
        }
    }
    settings.bind_addr = address.to_string();
    let state = AppState::build(settings)?;
    let released = {
        let mut conn = state.db.writer_connection()?;
        crate::idempotency::release_leases_of(&mut conn, &state.node)?
    };
    if released > 0 {
        tracing::warn!(
            released,
            "released the idempotency keys of requests cut off by the last stop"
        );
    }
    if demo_mode {
        tracing::warn!("==================================================================");
        tracing::warn!("DEMO MODE: demo data and demo accounts (*@demo.local) are enabled.");
        tracing::warn!("Never run --demo against a database holding real people's data.");
        tracing::warn!("==================================================================");
        report_demo(demo::seed_if_empty(
            &state.db,
            state.settings.demo_password.as_ref(),
        )?);
    }
    let public = state.settings.mail.link("");
    tracing::info!(%address, "listening; volunteers' app at {public}/app/, API docs at {public}/docs");
    startup::run(state, listener)?.await?;
    Ok(())
}

fn report_demo(outcome: DemoOutcome) {
    match outcome {
        DemoOutcome::Seeded {
            password,
            generated,
        } => {
            tracing::warn!(
                accounts = demo::DEMO_EMAILS.join(", "),
                "demo data seeded: Thanh Hóa → Quang Trung ward (formed 2025-07-01 from Phú Sơn, Bắc Sơn, Ngọc Trạo and Quang Trung commune of Bỉm Sơn town)"
            );
            if generated {
                // Printed once, on stdout, so it is seen even with JSON logs.
                println!(
                    "Demo password for {}: {password}",
                    demo::DEMO_EMAILS.join(", ")
                );
                println!("(set EID_DEMO_PASSWORD to choose it; it is not shown again)");
            } else {
                tracing::warn!("demo accounts use the password from EID_DEMO_PASSWORD");
            }
        }
        DemoOutcome::AlreadyPresent { password_reset } => {
            if password_reset {
                tracing::warn!("database not empty: demo data left as is; demo accounts now use EID_DEMO_PASSWORD");
            } else {
                tracing::warn!(
                    "database not empty: demo data left as is (demo accounts keep their password)"
                );
            }
        }
    }
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let second = rpassword::prompt_password("Repeat password: ")?;
        anyhow::ensure!(first == second, "the passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn create_admin(
    settings: &Settings,
    email: &str,
    name: &str,
    area_code: Option<&str>,
) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    anyhow::ensure!(
        validator::ValidateEmail::validate_email(&email),
        "'{email}' is not an e-mail address"
    );
    let password = read_password()?;
    if let Err(refused) = check_password_policy(&password, Some(&email), None) {
        let reason = refused
            .errors
            .first()
            .map(|e| e.detail.en.to_string())
            .unwrap_or_default();
        anyhow::bail!("the password is refused: {reason}");
    }
    let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
    db.run_migrations()?;
    let hash = hash_password_blocking(&password)?;
    let mut conn = db.writer_connection()?;
    conn.transaction::<_, anyhow::Error, _>(|conn| {
        let area_id = match area_code {
            Some(code) => Some(
                areas::find_by_code(conn, code)?
                    .ok_or_else(|| anyhow::anyhow!("no area has the code '{code}'"))?
                    .id,
            ),
            None => None,
        };
        insert_account(
            conn,
            NewAccount {
                email: Some(&email),
                phone: None,
                name,
                role: Role::Admin,
                area_id: area_id.as_deref(),
                password_hash: &hash,
                language: Lang::Vi,
                active: true,
            },
        )?;
        Ok(())
    })?;
    tracing::info!(%email, scope = area_code.unwrap_or("national"), "administrator created");
    Ok(())
}

fn import(
    settings: &Settings,
    file: &std::path::Path,
    area_code: &str,
    dry_run: bool,
) -> anyhow::Result<()> {
    use crate::imports::read::Format;
    use crate::imports::run::{parse, run};
    let format = Format::from_path(file)
        .ok_or_else(|| anyhow::anyhow!("{}: expected a .csv or .xlsx file", file.display()))?;
    let bytes = std::fs::read(file)?;
    let (rows, problems) = parse(format, &bytes, crate::status::today())
        .map_err(|e| anyhow::anyhow!("{}: {}", file.display(), e.en))?;
    let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
    db.run_migrations()?;
    let bar = indicatif::ProgressBar::new(rows.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} people ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let key = settings.secrets.citizen_id_key_bytes().to_vec();
    let mut conn = db.writer_connection()?;
    let outcome = conn.transaction::<_, anyhow::Error, _>(|conn| {
        let area = areas::find_by_code(conn, area_code)?
            .ok_or_else(|| anyhow::anyhow!("no area has the code '{area_code}'"))?;
        anyhow::ensure!(
            area.kind() == Some(areas::AreaKind::Neighbourhood),
            "{area_code} is not a neighbourhood"
        );
        let actor = crate::audit::Actor::new(None, Some("cli"));
        Ok(run(
            conn,
            &area,
            &rows,
            problems,
            dry_run,
            &key,
            &actor,
            format,
            &|done| bar.set_position(done as u64),
        )?)
    })?;
    bar.finish_and_clear();
    for problem in &outcome.problems {
        println!(
            "row {}{}: {} ({})",
            problem.row,
            problem
                .column
                .map(|c| format!(", {}", c.key()))
                .unwrap_or_default(),
            problem.message.en,
            problem.code
        );
    }
    println!(
        "{}{} rows: {} households created, {} matched; {} people created, {} matched; {} status events",
        if dry_run { "dry run, " } else { "" },
        outcome.rows,
        outcome.households_created,
        outcome.households_matched,
        outcome.residents_created,
        outcome.residents_matched,
        outcome.events_created
    );
    anyhow::ensure!(
        outcome.problems.is_empty(),
        "{} problems; nothing was written",
        outcome.problems.len()
    );
    Ok(())
}

fn reorganise(settings: &Settings, file: &std::path::Path, dry_run: bool) -> anyhow::Result<()> {
    use crate::reorganisations::{plan::ReorganisationPlan, submit, Submitted};
    let text = std::fs::read_to_string(file)?;
    let plan: ReorganisationPlan = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: not a reorganisation plan: {e}", file.display()))?;
    if let Err(errors) = validator::Validate::validate(&plan) {
        anyhow::bail!("{}: {errors}", file.display());
    }
    let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
    db.run_migrations()?;
    let mut conn = db.writer_connection()?;
    let actor = crate::audit::Actor::new(None, Some("cli"));
    let today = crate::status::today();
    let outcome = conn.transaction::<_, crate::problem::ApiError, _>(|conn| {
        crate::adoption::counters::batched(conn, |conn| {
            submit(
                conn,
                &plan,
                &crate::auth::Scope::national(),
                &actor,
                today,
                dry_run,
            )
        })
    });
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            for field in &error.errors {
                println!(
                    "{}: {} / {} ({})",
                    field.pointer, field.detail.vi, field.detail.en, field.code
                );
            }
            anyhow::bail!(
                "{}: the plan was refused ({}); nothing was written",
                file.display(),
                error.code.as_str()
            );
        }
    };
    let (heading, outcomes) = match outcome {
        Submitted::Preview(outcomes) => ("dry run, nothing written".to_owned(), outcomes),
        Submitted::Stored(row) => {
            let outcomes = serde_json::from_str(row.summary.as_deref().unwrap_or("[]"))?;
            (
                format!("reorganisation {} is {}", row.id, row.status),
                outcomes,
            )
        }
    };
    println!("{heading}; effective {}", plan.effective_on);
    for step in outcomes {
        let step: crate::reorganisations::apply::StepOutcome = step;
        println!(
            "{}. {} / {}: {} households ({} people) moved, {} areas moved, {} accounts re-scoped, {} assignments carried",
            step.step + 1,
            step.description_vi,
            step.description_en,
            step.households_moved,
            step.residents_moved,
            step.areas_moved,
            step.users_rescoped,
            step.assignments_moved
        );
        for warning in step.warnings {
            println!("   warning: {warning}");
        }
    }
    Ok(())
}

fn recount(settings: &Settings, area_code: Option<&str>, repair: bool) -> anyhow::Result<()> {
    use crate::adoption::check::check_all;
    let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
    db.run_migrations()?;
    let mut conn = db.writer_connection()?;
    let path = match area_code {
        Some(code) => {
            areas::find_by_code(&mut conn, code)?
                .ok_or_else(|| anyhow::anyhow!("no area has the code '{code}'"))?
                .path
        }
        None => "/".to_owned(),
    };
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} neighbourhoods ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let started = std::time::Instant::now();
    let today = crate::status::today();
    let run = |conn: &mut crate::db::DbConnection, repair: bool| {
        conn.transaction::<_, anyhow::Error, _>(|conn| {
            Ok(check_all(conn, &path, today, repair, &|done, all| {
                bar.set_length(all as u64);
                bar.set_position(done as u64);
            })?)
        })
    };
    let report = run(&mut conn, repair)?;
    bar.finish_and_clear();
    for difference in &report.differences {
        println!("{difference}");
    }
    println!(
        "checked {} neighbourhoods, {} people and households, on {} days ({} to {}) in {:.1} s: {} differences",
        report.neighbourhoods,
        report.subjects,
        report.days.len(),
        report.days.first().map(|d| d.to_string()).unwrap_or_default(),
        report.days.last().map(|d| d.to_string()).unwrap_or_default(),
        started.elapsed().as_secs_f64(),
        report.differences.len()
    );
    if report.differences.is_empty() {
        return Ok(());
    }
    if repair {
        let again = run(&mut conn, false)?;
        println!(
            "repaired {} neighbourhoods; checked again: {} differences",
            report.repaired,
            again.differences.len()
        );
        anyhow::ensure!(
            again.differences.is_empty(),
            "differences remain after repair"
        );
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "{} differences between the counters and the raw rows",
        report.differences.len()
    ))
}

fn send_digest(settings: &Settings, dry_run: bool) -> anyhow::Result<()> {
    let db = Db::connect(&settings.database_location()?, 1, CommitMode::Each)?;
    db.run_migrations()?;
    let mut conn = db.writer_connection()?;
    let at = crate::clock::local_now();
    // Counted as this week's digest, so the schedule does not send it again.
    let week_of = settings
        .adoption
        .digest_schedule
        .and_then(|schedule| crate::digest::due_week(at, schedule))
        .unwrap_or(at.date());
    let outcome = conn.transaction::<_, anyhow::Error, _>(|conn| {
        Ok(crate::digest::send(
            conn,
            settings,
            week_of,
            at.date(),
            true,
            dry_run,
        )?)
    })?;
    for email in &outcome.emails {
        if dry_run {
            println!(
                "To: {}\nSubject: {}\n\n{}",
                email.to, email.subject, email.text
            );
        } else {
            println!("queued for {}: {}", email.to, email.subject);
        }
    }
    println!(
        "{}{} digests",
        if dry_run {
            "dry run: would queue "
        } else {
            "queued "
        },
        outcome.emails.len()
    );
    Ok(())
}
