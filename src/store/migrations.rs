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

    /// A database written before 0013 (payloads as text) migrates with its rows as they are,
    /// and from then on its dashboard facts come from text and packed payloads alike.
    #[test]
    fn packed_payloads_join_a_database_of_text_payloads() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::packed::register(&conn).unwrap();
        MIGRATIONS.to_version(&mut conn, 12).unwrap();
        let insert = |c: &rusqlite::Connection, id: &str, payload: &dyn rusqlite::ToSql| {
            c.execute(
                "INSERT INTO encounter (encounter_id, revision, status, screener, device,
                     created_at, updated_at, finalized_at, received_at, audit_seq, payload_sha256,
                     payload)
                 VALUES (?1, 1, 'finalized', 's', 'd', '2026-12-01T10:00:00.000Z',
                     '2026-12-01T10:00:00.000Z', '2026-12-01T10:00:00.000Z',
                     '2026-12-01T09:00:00.000Z', 1, 'x', ?2)",
                rusqlite::params![id, payload],
            )
            .unwrap();
        };
        let text = r#"{"intake":{"interpreter":true},"referrals":[{"warm_handoff":true}],"crisis":{"actions":{"a":1,"b":2}}}"#;
        let old = "00000000-0000-7000-8000-000000000001";
        insert(&conn, old, &text);
        MIGRATIONS.to_latest(&mut conn).unwrap();
        let new = "00000000-0000-7000-8000-000000000002";
        insert(&conn, new, &crate::store::packed::Packed::of(text));
        let facts: Vec<(String, String, bool, bool, i64)> = conn
            .prepare(
                "SELECT f.encounter_id, typeof(e.payload), f.interpreter, f.warm_handoff,
                        f.crisis_actions
                 FROM dashboard_fact f JOIN encounter e USING (encounter_id, revision)
                 ORDER BY f.encounter_id",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            facts,
            [
                (old.into(), "text".into(), true, true, 2),
                (new.into(), "blob".into(), true, true, 2)
            ]
        );
        let texts: Vec<String> = conn
            .prepare("SELECT payload_text(payload) FROM encounter ORDER BY encounter_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(texts, [text, text]);
    }
}
