//! A believable, entirely synthetic population for the demo map: 120 households per
//! neighbourhood (about 3,000 households and 9,000 residents over the 25 neighbourhoods of
//! the four units that formed Quang Trung ward), with a Vietnamese-looking age pyramid and
//! names, e-ID, signature and broadband events dated over 2024–2026 (some certificates
//! expired, some people moved away or deceased), and visits by the demo volunteer in
//! Khu phố 1. Generated from a fixed seed by SplitMix64, so the same day gives the same
//! data; no real person is in it.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::areas::Area;
use crate::db::{now, DbConnection};
use crate::households::{insert_household, NewHousehold};
use crate::residents::birth::BirthDate;
use crate::residents::{insert_resident, CurrentStatus, NewResident};
use crate::status::derive::{broadband_on, Event, EventKind};
use crate::status::{insert_event_row, today, EventRecord};

pub const SEED: u64 = 0x5048_5553_4f4e_2025;
pub const HOUSEHOLDS_PER_NEIGHBOURHOOD: usize = 120;

/// SplitMix64: tiny, fast and stable forever (unlike a library RNG whose stream may change).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn date_between(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        let span = (to - from).num_days().max(0) as u64;
        from.checked_add_days(Days::new(self.below(span + 1)))
            .unwrap_or(from)
    }
}

const FAMILY: &[&str] = &[
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Vũ", "Phan",
    "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Mai", "Trịnh",
];
const MALE: &[&str] = &[
    "Anh", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh", "Nam",
    "Phúc", "Quang", "Sơn", "Thắng", "Toàn", "Tuấn", "Việt", "Vinh",
];
const FEMALE: &[&str] = &[
    "Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Hương", "Huyền", "Lan", "Linh", "Mai", "Ngọc",
    "Nhung", "Phương", "Thảo", "Thủy", "Trang", "Vân", "Xuân", "Yến",
];
const MALE_MIDDLE: &[&str] = &["Văn", "Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân"];
const FEMALE_MIDDLE: &[&str] = &["Thị", "Thị", "Thị", "Ngọc", "Thu", "Minh", "Thanh"];
const STREETS: &[&str] = &[
    "đường Trần Phú",
    "đường Nguyễn Huệ",
    "phố Lê Lợi",
    "đường Bà Triệu",
    "phố Đông Sơn",
    "đường Phú Sơn",
    "phố Lam Sơn",
    "đường Nguyễn Trãi",
];

struct Person {
    name: String,
    birth: BirthDate,
    sex: &'static str,
    relation: &'static str,
}

fn person(
    rng: &mut Rng,
    family: &str,
    age: i32,
    relation: &'static str,
    reference: NaiveDate,
) -> Person {
    let male = match relation {
        "head" => rng.chance(70),
        "spouse" => false,
        _ => rng.chance(50),
    };
    let (middle, given) = if male {
        (*rng.pick(MALE_MIDDLE), *rng.pick(MALE))
    } else {
        (*rng.pick(FEMALE_MIDDLE), *rng.pick(FEMALE))
    };
    let family = if relation == "spouse" {
        *rng.pick(FAMILY)
    } else {
        family
    };
    let year = reference.year() - age;
    // Older people often know only their birth year.
    let birth = if age > 60 && rng.chance(40) {
        BirthDate::from_parts(year, None, None)
    } else if rng.chance(10) {
        BirthDate::from_parts(year, Some(1 + rng.below(12) as u32), None)
    } else {
        BirthDate::from_parts(
            year,
            Some(1 + rng.below(12) as u32),
            Some(1 + rng.below(28) as u32),
        )
    };
    // A baby of this year may not be born yet on a given date of it: take last year then.
    let birth = if birth.effective() > reference {
        BirthDate::from_parts(year - 1, birth.month, birth.day)
    } else {
        birth
    };
    Person {
        name: format!("{family} {middle} {given}"),
        birth,
        sex: if male { "male" } else { "female" },
        relation,
    }
}

/// A household's people: a head, often a spouse, children, sometimes a grandparent.
fn family_of(rng: &mut Rng, reference: NaiveDate) -> Vec<Person> {
    let family = *rng.pick(FAMILY);
    let head_age = 24 + rng.below(56) as i32;
    let mut people = vec![person(rng, family, head_age, "head", reference)];
    if head_age < 75 && rng.chance(75) {
        let age = (head_age - 5 + rng.below(8) as i32).max(20);
        people.push(person(rng, family, age, "spouse", reference));
    }
    let children = if head_age < 30 {
        rng.below(2)
    } else {
        rng.below(4)
    };
    for _ in 0..children {
        let age = (head_age - 22 - rng.below(14) as i32).max(0);
        people.push(person(rng, family, age, "child", reference));
    }
    if head_age < 55 && rng.chance(25) {
        let age = head_age + 25 + rng.below(10) as i32;
        people.push(person(rng, family, age, "parent", reference));
    }
    people
}

/// Seeds the population into the demo neighbourhoods; `volunteer_id` makes the visits of
/// the first one, `recorder_id` records the rest.
pub fn seed(
    conn: &mut DbConnection,
    neighbourhoods: &[Area],
    volunteer_id: &str,
    recorder_id: &str,
) -> anyhow::Result<Totals> {
    let mut rng = Rng(SEED);
    let today = today();
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default();
    let mut totals = Totals::default();
    let mut adults_by_parent: std::collections::BTreeMap<String, (i64, i64)> =
        std::collections::BTreeMap::new();
    for (index, area) in neighbourhoods.iter().enumerate() {
        let mut adults = 0i64;
        for number in 0..HOUSEHOLDS_PER_NEIGHBOURHOOD {
            let household_id = uuid::Uuid::now_v7().to_string();
            let people = family_of(&mut rng, today);
            let address = format!("Số {}, {}", 1 + number, rng.pick(STREETS));
            let head_name = people[0].name.clone();
            let created = at(start, &mut rng);
            let visited_by_volunteer = index == 0 && rng.chance(60);
            let visit = visited_by_volunteer.then(|| {
                (
                    uuid::Uuid::now_v7().to_string(),
                    rng.date_between(start, today),
                )
            });
            let mut household_events = Vec::new();
            if rng.chance(88) {
                let value = if rng.chance(92) { "yes" } else { "no" };
                household_events.push(event(&mut rng, EventKind::Broadband, value, start, today));
            }
            let broadband = broadband_on(&household_events, today);
            let code = format!("{}-{:04}", area.code, number + 1);
            let phone = rng
                .chance(60)
                .then(|| format!("09{:08}", rng.below(100_000_000)));
            insert_household(
                conn,
                NewHousehold {
                    id: &household_id,
                    area,
                    code: Some(&code),
                    address: &address,
                    head_name: &head_name,
                    phone: phone.as_deref(),
                    broadband,
                    last_visited_on: visit.as_ref().map(|(_, day)| *day),
                    created_by: Some(recorder_id),
                    created_at: created,
                },
            )?;
            if let Some((visit_id, day)) = &visit {
                diesel::insert_into(crate::schema::visits::table)
                    .values((
                        crate::schema::visits::id.eq(visit_id),
                        crate::schema::visits::household_id.eq(&household_id),
                        crate::schema::visits::volunteer_id.eq(volunteer_id),
                        crate::schema::visits::visited_at
                            .eq(day.and_hms_opt(9, 0, 0).unwrap_or_default()),
                        crate::schema::visits::outcome.eq(*rng.pick(&[
                            "helped",
                            "helped",
                            "already_done",
                            "not_home",
                            "refused",
                        ])),
                        crate::schema::visits::received_at.eq(received(day, &mut rng)),
                    ))
                    .execute(conn)?;
            }
            insert_events(
                conn,
                &household_id,
                None,
                &household_events,
                visit.as_ref().map(|v| v.0.as_str()),
                recorder_id,
            )?;
            totals.households += 1;
            for someone in people {
                let resident_id = uuid::Uuid::now_v7().to_string();
                let adult_on = someone.birth.adult_on();
                let adult_now = adult_on <= today;
                let mut events = Vec::new();
                if adult_now {
                    adults += 1;
                    let eid_roll = rng.below(100);
                    let level = match eid_roll {
                        0..=59 => Some("level2"),
                        60..=71 => Some("level1"),
                        72..=77 => Some("level2_pending"),
                        _ => None,
                    };
                    if let Some(level) = level {
                        events.push(event(
                            &mut rng,
                            EventKind::Eid,
                            level,
                            start.max(adult_on),
                            today,
                        ));
                    }
                    let signature_roll = rng.below(100);
                    if signature_roll < 25 {
                        events.push(event(
                            &mut rng,
                            EventKind::Signature,
                            "electronic",
                            start.max(adult_on),
                            today,
                        ));
                    } else if signature_roll < 40 {
                        let mut digital = event(
                            &mut rng,
                            EventKind::Signature,
                            "digital",
                            start.max(adult_on),
                            today,
                        );
                        let years = 1 + rng.below(3);
                        digital.issued_on = Some(digital.effective_on);
                        // Some certificates were bought for a year in early 2024 and have lapsed.
                        digital.expires_on = digital
                            .effective_on
                            .checked_add_days(Days::new(365 * years - 1));
                        events.push(digital);
                    }
                }
                let (presence, since) = if rng.chance(3) {
                    ("moved_away", Some(rng.date_between(start, today)))
                } else if someone.birth.effective()
                    < NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
                    && rng.chance(10)
                {
                    ("deceased", Some(rng.date_between(start, today)))
                } else {
                    ("present", None)
                };
                let created = at(start, &mut rng);
                insert_resident(
                    conn,
                    NewResident {
                        id: &resident_id,
                        household_id: &household_id,
                        full_name: &someone.name,
                        birth: someone.birth,
                        sex: someone.sex,
                        relation_to_head: someone.relation,
                        presence,
                        presence_since: since,
                        consent: true,
                        citizen_id: None,
                        status: CurrentStatus::from_events(&events, today),
                        created_by: Some(recorder_id),
                        created_at: created,
                    },
                )?;
                insert_events(
                    conn,
                    &household_id,
                    Some(&resident_id),
                    &events,
                    visit.as_ref().map(|v| v.0.as_str()),
                    recorder_id,
                )?;
                totals.residents += 1;
            }
        }
        // The official figure sits a little above what volunteers have recorded: people
        // nobody has visited yet still count in the target.
        diesel::update(crate::schema::areas::table.find(&area.id))
            .set((
                crate::schema::areas::official_adult_population.eq(Some(adults * 108 / 100)),
                crate::schema::areas::official_household_count
                    .eq(Some((HOUSEHOLDS_PER_NEIGHBOURHOOD as i64) * 104 / 100)),
            ))
            .execute(conn)?;
        totals.adults += adults;
        if let Some(parent) = &area.parent_id {
            let entry = adults_by_parent.entry(parent.clone()).or_default();
            entry.0 += adults;
            entry.1 += 1;
        }
    }
    // The counters in one pass over the demo tree rather than person by person.
    if let Some(root) = neighbourhoods.first().and_then(|n| {
        crate::adoption::counters::path_and_ancestors(&n.path)
            .into_iter()
            .next()
    }) {
        crate::adoption::counters::rebuild_tree(conn, &root, &|_, _| {})?;
    }
    // Each ward's official figures are those of its neighbourhoods together.
    for (ward_id, (adults, count)) in adults_by_parent {
        diesel::update(crate::schema::areas::table.find(ward_id))
            .set((
                crate::schema::areas::official_adult_population.eq(Some(adults * 108 / 100)),
                crate::schema::areas::official_household_count.eq(Some(
                    count * (HOUSEHOLDS_PER_NEIGHBOURHOOD as i64) * 104 / 100,
                )),
            ))
            .execute(conn)?;
    }
    Ok(totals)
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub households: usize,
    pub residents: usize,
    pub adults: i64,
}

fn at(start: NaiveDate, rng: &mut Rng) -> NaiveDateTime {
    rng.date_between(start, today())
        .and_hms_opt(8 + rng.below(10) as u32, rng.below(60) as u32, 0)
        .unwrap_or_default()
        .min(now())
}

/// Received on the day or up to ten days later (phones sync late), never in the future.
fn received(day: &NaiveDate, rng: &mut Rng) -> NaiveDateTime {
    day.checked_add_days(Days::new(rng.below(11)))
        .unwrap_or(*day)
        .and_hms_opt(18, rng.below(60) as u32, 0)
        .unwrap_or_default()
        .min(now())
}

fn event(rng: &mut Rng, kind: EventKind, value: &str, from: NaiveDate, to: NaiveDate) -> Event {
    let effective_on = rng.date_between(from.min(to), to);
    Event {
        kind,
        value: value.to_owned(),
        effective_on,
        issued_on: None,
        expires_on: None,
        correction: false,
        received_at: received(&effective_on, rng),
    }
}

fn insert_events(
    conn: &mut DbConnection,
    household_id: &str,
    resident_id: Option<&str>,
    events: &[Event],
    visit_id: Option<&str>,
    recorder_id: &str,
) -> anyhow::Result<()> {
    for event in events {
        let id = uuid::Uuid::now_v7().to_string();
        let record = EventRecord {
            id: &id,
            household_id,
            resident_id,
            visit_id,
            recorded_by: Some(recorder_id),
        };
        insert_event_row(conn, record, event)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_families() {
        let reference = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let names = |seed| {
            let mut rng = Rng(seed);
            (0..50)
                .flat_map(|_| family_of(&mut rng, reference))
                .map(|p| p.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(SEED), names(SEED));
        assert_ne!(names(SEED), names(SEED + 1));
    }

    #[test]
    fn families_look_like_households_of_about_three() {
        let reference = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let mut rng = Rng(SEED);
        let people: usize = (0..3000)
            .map(|_| family_of(&mut rng, reference).len())
            .sum();
        let average = people as f64 / 3000.0;
        assert!((2.5..=3.6).contains(&average), "{average}");
    }
}
