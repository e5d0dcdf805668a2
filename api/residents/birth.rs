//! Birth dates as people know them: a full date, a year and month, or only a year. For
//! "adult at D" the unknown part counts as the middle of the period (1 July; the 15th) and
//! the date is flagged as estimated.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BirthDate {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

impl BirthDate {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, not before 1900 and not after `today`.
    pub fn parse(text: &str, today: NaiveDate) -> Result<BirthDate, &'static str> {
        let parts: Vec<&str> = text.trim().split('-').collect();
        let number = |s: &str| s.parse::<u32>().map_err(|_| "invalid-date");
        let birth = match parts.as_slice() {
            [y] if y.len() == 4 => BirthDate {
                year: number(y)? as i32,
                month: None,
                day: None,
            },
            [y, m] if y.len() == 4 && m.len() == 2 => BirthDate {
                year: number(y)? as i32,
                month: Some(number(m)?),
                day: None,
            },
            [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2 => BirthDate {
                year: number(y)? as i32,
                month: Some(number(m)?),
                day: Some(number(d)?),
            },
            _ => return Err("invalid-date"),
        };
        if birth.year < 1900 {
            return Err("date-too-early");
        }
        let earliest_possible =
            NaiveDate::from_ymd_opt(birth.year, birth.month.unwrap_or(1), birth.day.unwrap_or(1))
                .ok_or("invalid-date")?;
        if earliest_possible > today {
            return Err("date-in-future");
        }
        Ok(birth)
    }

    pub fn from_parts(year: i32, month: Option<u32>, day: Option<u32>) -> BirthDate {
        BirthDate { year, month, day }
    }

    pub fn estimated(&self) -> bool {
        self.day.is_none()
    }

    /// The date used in the figures.
    pub fn effective(&self) -> NaiveDate {
        let (month, day) = match (self.month, self.day) {
            (Some(m), Some(d)) => (m, d),
            (Some(m), None) => (m, 15),
            _ => (7, 1),
        };
        NaiveDate::from_ymd_opt(self.year, month, day)
            .or_else(|| NaiveDate::from_ymd_opt(self.year, 7, 1))
            .unwrap_or_default()
    }

    /// The first day the person is an adult: born on or before D minus 18 years. Someone
    /// born on 29 February becomes an adult on 1 March in a common year.
    pub fn adult_on(&self) -> NaiveDate {
        let born = self.effective();
        let birthday = born
            .checked_add_months(Months::new(18 * 12))
            .unwrap_or(born);
        if birthday.day() == born.day() {
            birthday
        } else {
            birthday.succ_opt().unwrap_or(birthday)
        }
    }

    /// Back to the precision it was given in.
    pub fn to_text(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{:04}-{m:02}-{d:02}", self.year),
            (Some(m), None) => format!("{:04}-{m:02}", self.year),
            _ => format!("{:04}", self.year),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    #[test]
    fn unknown_parts_count_as_the_middle_of_the_period() {
        let year = BirthDate::parse("1980", today()).unwrap();
        assert_eq!(year.effective().to_string(), "1980-07-01");
        assert!(year.estimated());
        let month = BirthDate::parse("1980-03", today()).unwrap();
        assert_eq!(month.effective().to_string(), "1980-03-15");
        let full = BirthDate::parse("1980-03-09", today()).unwrap();
        assert!(!full.estimated());
        assert_eq!(full.to_text(), "1980-03-09");
    }

    #[test]
    fn a_person_turning_18_on_d_is_an_adult_on_d() {
        let birth = BirthDate::parse("2007-11-24", today()).unwrap();
        assert_eq!(birth.adult_on().to_string(), "2025-11-24");
        let leap = BirthDate::parse("2008-02-29", today()).unwrap();
        assert_eq!(leap.adult_on().to_string(), "2026-03-01");
    }

    #[test]
    fn impossible_and_future_dates_are_refused() {
        assert_eq!(BirthDate::parse("2030", today()), Err("date-in-future"));
        assert_eq!(BirthDate::parse("2026-12", today()), Err("date-in-future"));
        assert_eq!(BirthDate::parse("1980-02-30", today()), Err("invalid-date"));
        assert_eq!(BirthDate::parse("1980-13", today()), Err("invalid-date"));
        assert_eq!(BirthDate::parse("80-01-01", today()), Err("invalid-date"));
        assert_eq!(BirthDate::parse("1850", today()), Err("date-too-early"));
    }
}
