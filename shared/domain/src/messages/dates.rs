//! Dates as people write them, in the practitioner's zone and the reader's language:
//! "jeudi 3 décembre 2026 à 14h30", "Thursday 3 December 2026 at 2:30 pm".

use crate::contact::Language;
use crate::time::Zone;
use chrono::{DateTime, Datelike, Timelike, Utc};

// The names of the two languages written here rather than chrono's
// `unstable-locales`, which links the data of every locale (issue 14).
const DAYS_FR: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const DAYS_EN: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// "jeudi 3 décembre 2026", "Thursday 3 December 2026".
pub fn long_date(t: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let local = t.with_timezone(&zone.0);
    let (days, months) = match language {
        Language::Fr => (&DAYS_FR, &MONTHS_FR),
        Language::En => (&DAYS_EN, &MONTHS_EN),
    };
    format!(
        "{} {} {} {}",
        days[local.weekday().num_days_from_monday() as usize],
        local.day(),
        months[local.month0() as usize],
        local.year()
    )
}

pub fn time_of_day(t: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let local = t.with_timezone(&zone.0);
    match language {
        Language::Fr => format!("{}h{:02}", local.hour(), local.minute()),
        Language::En => {
            let (pm, hour) = local.hour12();
            format!(
                "{hour}:{:02} {}",
                local.minute(),
                if pm { "pm" } else { "am" }
            )
        }
    }
}

pub fn long_date_time(t: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let at = match language {
        Language::Fr => "à",
        Language::En => "at",
    };
    format!(
        "{} {at} {}",
        long_date(t, zone, language),
        time_of_day(t, zone, language)
    )
}

/// "07/12/2026 à 14h30", "07/12/2026 at 2:30 pm": for SMS short of room.
pub fn short_date_time(t: DateTime<Utc>, zone: Zone, language: Language) -> String {
    let at = match language {
        Language::Fr => "à",
        Language::En => "at",
    };
    format!(
        "{} {at} {}",
        t.with_timezone(&zone.0).format("%d/%m/%Y"),
        time_of_day(t, zone, language)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn written_as_people_write_them() {
        let paris = Zone::default();
        let t = utc("2026-12-03T13:30:00Z");
        assert_eq!(
            long_date_time(t, paris, Language::Fr),
            "jeudi 3 décembre 2026 à 14h30"
        );
        assert_eq!(
            long_date_time(t, paris, Language::En),
            "Thursday 3 December 2026 at 2:30 pm"
        );
        assert_eq!(
            long_date_time(utc("2026-12-04T08:05:00Z"), paris, Language::Fr),
            "vendredi 4 décembre 2026 à 9h05"
        );
    }

    #[test]
    fn day_and_month_names_are_those_of_fr_fr_and_en_gb() {
        // Every day of a year, against chrono's locale data (a dev-only
        // feature of chrono here: see long_date).
        let paris = Zone::default();
        for day in 0..366 {
            let t = utc("2026-01-01T12:00:00Z") + chrono::Duration::days(day);
            let local = t.with_timezone(&paris.0);
            for (language, locale) in [
                (Language::Fr, chrono::Locale::fr_FR),
                (Language::En, chrono::Locale::en_GB),
            ] {
                assert_eq!(
                    long_date(t, paris, language),
                    local.format_localized("%A %-d %B %Y", locale).to_string()
                );
            }
        }
    }

    #[test]
    fn local_time_is_right_on_both_sides_of_a_dst_change() {
        let paris = Zone::default();
        // Clocks go back on Sunday 25 October 2026 at 03:00 CEST.
        assert_eq!(
            long_date_time(utc("2026-10-24T08:00:00Z"), paris, Language::Fr),
            "samedi 24 octobre 2026 à 10h00"
        );
        assert_eq!(
            long_date_time(utc("2026-10-26T09:00:00Z"), paris, Language::Fr),
            "lundi 26 octobre 2026 à 10h00"
        );
        // Clocks go forward on Sunday 29 March 2026 at 02:00 CET.
        assert_eq!(
            long_date_time(utc("2026-03-30T08:00:00Z"), paris, Language::En),
            "Monday 30 March 2026 at 10:00 am"
        );
    }
}
