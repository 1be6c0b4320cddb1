use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn age_field_reads_ages_and_dates() {
    let today = d("2026-11-23");
    assert_eq!(parse_age("", today), AgeInput::Empty);
    assert_eq!(parse_age(" 34 ", today), AgeInput::Age(34));
    assert_eq!(
        parse_age("1990-05-01", today),
        AgeInput::Born(d("1990-05-01"))
    );
    assert_eq!(
        parse_age("05/01/1990", today),
        AgeInput::Born(d("1990-05-01"))
    );
    assert!(matches!(parse_age("130", today), AgeInput::Invalid(_)));
    assert!(matches!(
        parse_age("2027-01-01", today),
        AgeInput::Invalid(_)
    ));
    assert!(matches!(
        parse_age("1990-02-30", today),
        AgeInput::Invalid(_)
    ));
    assert!(matches!(parse_age("abc", today), AgeInput::Invalid(_)));
}

#[test]
fn steps_move_in_order_and_stop_at_the_ends() {
    assert_eq!(Step::Intake.prev(), Step::Intake);
    assert_eq!(Step::Intake.next(), Step::Safety);
    assert_eq!(Step::Summary.next(), Step::Summary);
    for s in Step::ALL {
        assert_eq!(Step::parse(s.id()), Some(s));
    }
}
