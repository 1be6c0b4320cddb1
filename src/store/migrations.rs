//! Embedded, numbered schema migrations. `PRAGMA user_version` holds how many have run.
//!
//! A released migration is never edited (a database in the field already ran it): change the
//! schema by appending a new `M::up` with its own file under `sql/`.

use rusqlite_migration::{M, Migrations};

const STEPS: &[M<'static>] = &[
    M::up(include_str!("sql/0001_initial.sql")).comment("0001_initial"),
    M::up(include_str!("sql/0002_audit_by_record.sql")).comment("0002_audit_by_record"),
    M::up(include_str!("sql/0003_sync.sql")).comment("0003_sync"),
    M::up(include_str!("sql/0004_users.sql")).comment("0004_users"),
    M::up(include_str!("sql/0005_review_speed.sql")).comment("0005_review_speed"),
    M::up(include_str!("sql/0006_list_filters.sql")).comment("0006_list_filters"),
    M::up(include_str!("sql/0007_amend_field.sql")).comment("0007_amend_field"),
    M::up(include_str!("sql/0008_dashboard_days.sql")).comment("0008_dashboard_days"),
    M::up(include_str!("sql/0009_withheld_view.sql")).comment("0009_withheld_view"),
    M::up(include_str!("sql/0010_awaiting_by_time.sql")).comment("0010_awaiting_by_time"),
    M::up(include_str!("sql/0011_state_by_time.sql")).comment("0011_state_by_time"),
    M::up(include_str!("sql/0012_sync_counts.sql")).comment("0012_sync_counts"),
    M::up(include_str!("sql/0013_packed_payloads.sql")).comment("0013_packed_payloads"),
];

pub static MIGRATIONS: Migrations<'static> = Migrations::from_slice(STEPS);

/// The schema version this program writes (the number of migrations).
pub const SCHEMA_VERSION: i64 = STEPS.len() as i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_validate() {
        MIGRATIONS
            .validate()
            .expect("migrations apply to an empty database");
    }

    #[test]
    fn schema_version_counts_the_migrations() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
