//! The weekly digest: each Monday (`EID_DIGEST_SCHEDULE`, Vietnam time) officials and heads
//! who opted in get their area's figures and the change since the week before, in their
//! language, through the mail outbox. `eid-adoption send-digest [--dry-run]` sends it now.
//! A row per recipient and week in `digest_deliveries` makes it once per week, however many
//! server processes run the schedule.

pub mod subscription;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, Weekday};
use diesel::prelude::*;

use crate::adoption::children::{judged_rate, ranked_children, Order, RankBy};
use crate::adoption::figures::{figures_of, AdoptionFigures, TargetStatus};
use crate::areas::Area;
use crate::audit::{self, Action, Actor, Entry};
use crate::config::Settings;
use crate::db::{now, Db, DbConnection};
use crate::i18n::Lang;
use crate::mail::templates::{render, Context};
use crate::mail::{enqueue, Email};
use crate::problem::ApiError;
use crate::schema::{areas, users};
use crate::targets::Indicator;

/// The day of this week's digest, if its time has come (`at` is Vietnam time).
pub fn due_week(at: NaiveDateTime, schedule: (Weekday, chrono::NaiveTime)) -> Option<NaiveDate> {
    let (weekday, time) = schedule;
    let today = at.date();
    let back = (7 + today.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    let day = today - Days::new(u64::from(back));
    (day.and_time(time) <= at).then_some(day)
}

/// Someone who receives the digest.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct Recipient {
    pub id: String,
    /// Only accounts with an e-mail are subscribers (`subscribers` filters on it).
    #[diesel(select_expression = users::email.assume_not_null())]
    #[diesel(select_expression_type = diesel::dsl::AssumeNotNull<users::email>)]
    pub email: String,
    pub name: String,
    pub role: String,
    pub area_id: Option<String>,
    pub language: String,
}

pub fn subscribers(conn: &mut DbConnection) -> Result<Vec<Recipient>, ApiError> {
    Ok(users::table
        .filter(users::digest_subscribed.eq(true))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(["official", "head"]))
        .filter(users::area_id.is_not_null())
        .filter(users::email.is_not_null())
        .order(users::email)
        .select(Recipient::as_select())
        .load(conn)?)
}

/// Whether some subscriber has not been queued this week's digest yet: read before the
/// schedule opens a write, so that once everyone has theirs the 2-second poll costs one
/// read, not a write transaction with one upsert per subscriber, for the rest of the week.
pub fn anyone_waiting(conn: &mut DbConnection, week_of: NaiveDate) -> Result<bool, ApiError> {
    use crate::schema::digest_deliveries;
    let delivered = digest_deliveries::table
        .filter(digest_deliveries::week_of.eq(week_of))
        .select(digest_deliveries::user_id);
    let waiting: i64 = users::table
        .filter(users::digest_subscribed.eq(true))
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(["official", "head"]))
        .filter(users::area_id.is_not_null())
        .filter(users::id.ne_all(delivered))
        .count()
        .get_result(conn)?;
    Ok(waiting > 0)
}

fn rate_text(rate: Option<f64>, lang: Lang) -> String {
    match rate {
        None => "—".to_owned(),
        Some(rate) => {
            let text = format!("{rate:.1} %");
            match lang {
                Lang::Vi => text.replace('.', ","),
                Lang::En => text,
            }
        }
    }
}

fn signed(change: i64) -> String {
    if change >= 0 {
        format!("+{change}")
    } else {
        change.to_string()
    }
}

fn indicator_name(indicator: Indicator, lang: Lang) -> &'static str {
    match (indicator, lang) {
        (Indicator::Eid, Lang::Vi) => "Người trưởng thành có định danh điện tử",
        (Indicator::Signature, Lang::Vi) => "Người trưởng thành có chữ ký số / điện tử",
        (Indicator::Broadband, Lang::Vi) => "Hộ có cáp quang",
        (Indicator::Eid, Lang::En) => "Adults with an e-ID",
        (Indicator::Signature, Lang::En) => "Adults with a signature",
        (Indicator::Broadband, Lang::En) => "Households with fibre",
    }
}

fn status_name(status: TargetStatus, lang: Lang) -> &'static str {
    match (status, lang) {
        (TargetStatus::Met, Lang::Vi) => "đã đạt",
        (TargetStatus::OnTrack, Lang::Vi) => "đúng tiến độ",
        (TargetStatus::AtRisk, Lang::Vi) => "có nguy cơ",
        (TargetStatus::OffTrack, Lang::Vi) => "chậm tiến độ",
        (TargetStatus::Missed, Lang::Vi) => "không đạt",
        (TargetStatus::Met, Lang::En) => "met",
        (TargetStatus::OnTrack, Lang::En) => "on track",
        (TargetStatus::AtRisk, Lang::En) => "at risk",
        (TargetStatus::OffTrack, Lang::En) => "off track",
        (TargetStatus::Missed, Lang::En) => "missed",
    }
}

/// The lines about the figures of an area this week against last week.
pub fn figure_lines(now: &AdoptionFigures, before: &AdoptionFigures, lang: Lang) -> Vec<String> {
    let mut lines = Vec::new();
    for (current, previous) in now.indicators.iter().zip(&before.indicators) {
        let denominator = current
            .official_denominator
            .unwrap_or(current.recorded_denominator);
        let rate = current.rate_official.or(current.rate_recorded);
        let change = current.count - previous.count;
        let targets: Vec<String> = current
            .targets
            .iter()
            .map(|t| match lang {
                Lang::Vi => format!(
                    "mục tiêu {} {} % trước {}: {}{}",
                    if t.comparison.as_str() == "at_least" {
                        "ít nhất"
                    } else {
                        "trên"
                    },
                    rate_text(Some(t.threshold_percent), lang)
                        .trim_end_matches(" %")
                        .trim_end_matches(",0"),
                    t.deadline.format("%d/%m/%Y"),
                    status_name(t.status, lang),
                    match t.on_deadline {
                        Some(then) if then.short_by > 0 => format!(
                            " (ngày {} đạt {}, thiếu {} so với mục tiêu)",
                            t.deadline.format("%d/%m/%Y"),
                            rate_text(then.rate, lang),
                            then.short_by
                        ),
                        Some(then) => format!(
                            " (ngày {} đạt {})",
                            t.deadline.format("%d/%m/%Y"),
                            rate_text(then.rate, lang)
                        ),
                        None if t.still_needed > 0 => format!(", còn cần {}", t.still_needed),
                        None => String::new(),
                    },
                ),
                Lang::En => format!(
                    "target {} {} % by {}: {}{}",
                    if t.comparison.as_str() == "at_least" {
                        "at least"
                    } else {
                        "more than"
                    },
                    rate_text(Some(t.threshold_percent), lang)
                        .trim_end_matches(" %")
                        .trim_end_matches(".0"),
                    t.deadline,
                    status_name(t.status, lang),
                    match t.on_deadline {
                        Some(then) if then.short_by > 0 => format!(
                            " ({} on {}, {} short of the target)",
                            rate_text(then.rate, lang),
                            t.deadline,
                            then.short_by
                        ),
                        Some(then) => {
                            format!(" ({} on {})", rate_text(then.rate, lang), t.deadline)
                        }
                        None if t.still_needed > 0 => format!(", {} still needed", t.still_needed),
                        None => String::new(),
                    },
                ),
            })
            .collect();
        lines.push(match lang {
            Lang::Vi => format!(
                "{}: {} ({}/{}), {} so với tuần trước; {}.",
                indicator_name(current.indicator, lang),
                rate_text(rate, lang),
                current.count,
                denominator,
                signed(change),
                targets.join("; ")
            ),
            Lang::En => format!(
                "{}: {} ({}/{}), {} since last week; {}.",
                indicator_name(current.indicator, lang),
                rate_text(rate, lang),
                current.count,
                denominator,
                signed(change),
                targets.join("; ")
            ),
        });
    }
    lines
}

/// Renders one recipient's digest for `day`.
pub fn compose(
    conn: &mut DbConnection,
    recipient: &Recipient,
    day: NaiveDate,
    settings: &Settings,
) -> Result<Option<Email>, ApiError> {
    let Some(area_id) = &recipient.area_id else {
        return Ok(None);
    };
    let area: Area = areas::table
        .find(area_id)
        .select(Area::as_select())
        .first(conn)?;
    let lang = Lang::parse(&recipient.language).unwrap_or(Lang::Vi);
    let pace = settings.adoption.pace_days;
    let current = figures_of(conn, &area, day, pace)?;
    let before = figures_of(conn, &area, day - Days::new(7), pace)?;
    let mut lines = vec![
        match lang {
            Lang::Vi => format!("Chào {},", recipient.name),
            Lang::En => format!("Hello {},", recipient.name),
        },
        match lang {
            Lang::Vi => format!(
                "Số liệu của {} đến ngày {}:",
                area.name,
                day.format("%d/%m/%Y")
            ),
            Lang::En => format!("The figures of {} on {day}:", area.name),
        },
    ];
    lines.extend(figure_lines(&current, &before, lang));
    let lagging: Vec<String> =
        ranked_children(conn, &area, day, pace, RankBy::EidRate, Some(Order::Asc))?
            .iter()
            .take(3)
            .map(|child| {
                format!(
                    "{} ({})",
                    child.area_name,
                    rate_text(judged_rate(child, Indicator::Eid), lang)
                )
            })
            .collect();
    if !lagging.is_empty() {
        lines.push(match lang {
            Lang::Vi => format!("Chậm nhất về định danh điện tử: {}.", lagging.join(", ")),
            Lang::En => format!("Furthest behind on e-ID: {}.", lagging.join(", ")),
        });
    }
    let link = settings.mail.link("/dashboard");
    lines.push(match lang {
        Lang::Vi => "Xem chi tiết trên bảng theo dõi:".to_owned(),
        Lang::En => "See the details on the dashboard:".to_owned(),
    });
    lines.push(link.clone());
    lines.push(match lang {
        Lang::Vi => "Bạn nhận thư này vì đã đăng ký nhận bản tin hằng tuần; có thể tắt trên bảng theo dõi.".to_owned(),
        Lang::En => "You receive this because you subscribed to the weekly digest; you can turn it off on the dashboard.".to_owned(),
    });
    let subject = match lang {
        Lang::Vi => format!(
            "Bản tin tuần: {} — ngày {}",
            area.name,
            day.format("%d/%m/%Y")
        ),
        Lang::En => format!("Weekly digest: {} — {day}", area.name),
    };
    let context = Context {
        lang,
        to: &recipient.email,
        recipient_name: &recipient.name,
        ward: &area.name,
    };
    Ok(Some(render(&context, subject, &lines, &link)))
}

/// What a run did (or, dry, would do).
#[derive(Debug, Default)]
pub struct Outcome {
    pub emails: Vec<Email>,
    pub skipped_already_sent: usize,
}

/// Queues the digest of `week_of` (figures as of `day`) for every subscriber who has not
/// had it; `force` sends to those who had it too. Nothing is written on a dry run.
pub fn send(
    conn: &mut DbConnection,
    settings: &Settings,
    week_of: NaiveDate,
    day: NaiveDate,
    force: bool,
    dry_run: bool,
) -> Result<Outcome, ApiError> {
    let mut outcome = Outcome::default();
    for recipient in subscribers(conn)? {
        let claimed = if dry_run {
            true
        } else {
            // Written in SQL both backends share: diesel's upsert builder does not reach
            // through the multi-backend connection.
            let inserted = diesel::sql_query(
                "INSERT INTO digest_deliveries (user_id, week_of, queued_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (user_id, week_of) DO NOTHING",
            )
            .bind::<diesel::sql_types::Text, _>(&recipient.id)
            .bind::<diesel::sql_types::Date, _>(week_of)
            .bind::<diesel::sql_types::Timestamp, _>(now())
            .execute(conn)?;
            inserted == 1 || force
        };
        if !claimed {
            outcome.skipped_already_sent += 1;
            continue;
        }
        let Some(email) = compose(conn, &recipient, day, settings)? else {
            continue;
        };
        if !dry_run {
            enqueue(conn, &email)?;
            audit::record(
                conn,
                &Actor::new(None, Some("digest")),
                Entry {
                    action: Action::DigestSent,
                    entity_id: Some(&recipient.id),
                    area_id: recipient.area_id.as_deref(),
                    changes: serde_json::json!({"week_of": week_of, "as_of": day}),
                },
            )?;
        }
        outcome.emails.push(email);
    }
    Ok(outcome)
}

/// Runs the schedule until the process ends: as often as the mail outbox is polled, queues
/// this week's digest if its time has come and it was not queued yet.
pub fn spawn(db: Db, settings: std::sync::Arc<Settings>) {
    let Some(schedule) = settings.adoption.digest_schedule else {
        return;
    };
    actix_web::rt::spawn(async move {
        loop {
            let at = crate::clock::local_now();
            let due = match due_week(at, schedule) {
                Some(week_of) => match db.read(move |conn| anyone_waiting(conn, week_of)).await {
                    Ok(true) => Some(week_of),
                    Ok(false) => None,
                    Err(error) => {
                        tracing::warn!(%error, "checking the weekly digest failed");
                        None
                    }
                },
                None => None,
            };
            if let Some(week_of) = due {
                let settings = settings.clone();
                let result = db
                    .write(move |conn| send(conn, &settings, week_of, at.date(), false, false))
                    .await;
                match result {
                    Ok(outcome) if !outcome.emails.is_empty() => {
                        tracing::info!(%week_of, queued = outcome.emails.len(), "weekly digest queued")
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "weekly digest failed"),
                }
            }
            actix_web::rt::time::sleep(settings.mail.poll_interval).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_digest_is_due_from_its_weekday_and_time_until_the_next_week() {
        let monday_seven = (
            Weekday::Mon,
            chrono::NaiveTime::from_hms_opt(7, 0, 0).unwrap(),
        );
        // 2026-11-23 is a Monday.
        assert_eq!(due_week(at("2026-11-23 06:59"), monday_seven), None);
        assert_eq!(
            due_week(at("2026-11-23 07:00"), monday_seven),
            Some(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
        );
        assert_eq!(
            due_week(at("2026-11-29 23:00"), monday_seven),
            Some(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap())
        );
        let friday = (
            Weekday::Fri,
            chrono::NaiveTime::from_hms_opt(16, 30, 0).unwrap(),
        );
        assert_eq!(
            due_week(at("2026-11-23 07:00"), friday),
            Some(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
        );
    }
}
