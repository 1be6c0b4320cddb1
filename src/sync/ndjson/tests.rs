use super::*;
use crate::store::SyncState;

fn row() -> EncounterRow {
    let payload = r#"{"schema":"accessline.encounter/1","intake":{"reason":"line\nbreak"}}"#;
    EncounterRow {
        encounter_id: Uuid::now_v7(),
        revision: 1,
        supersedes: None,
        screener: "s".into(),
        device: "d".into(),
        created_at: "2025-01-06T08:00:00.000Z".into(),
        updated_at: "2025-01-06T08:00:00.000Z".into(),
        finalized_at: "2025-01-06T08:00:00.000Z".into(),
        received_at: "2025-01-06T08:00:00.000Z".into(),
        caller_display: "Anonymous".into(),
        language: None,
        age: Some(40),
        cell_computed: Some("low_low".into()),
        cell_chosen: Some("low_low".into()),
        risk: Some("none".into()),
        triage: Some("routine".into()),
        crisis: false,
        deadline_at: None,
        reason: Some("r\u{2028}\"q\"".into()),
        note: None,
        definitions: r#"{"phq9":"1.0.0"}"#.into(),
        payload: payload.into(),
        payload_sha256: crate::store::payload_sha256(payload),
    }
}

fn encoded(row: &EncounterRow) -> Vec<u8> {
    let rec = OutboxRecord {
        device: "d".into(),
        seq: 3,
        state: SyncState::Pending,
        item: OutboxItem::Encounter {
            row: row.clone(),
            supersedes_sha256: None,
            kept: crate::store::Kept::Unknown,
            supersedes_kept: false,
            packed_payload: None,
        },
    };
    let mut buf = Vec::new();
    assert_eq!(encode(&rec, false, &mut buf), "accessline.encounter/1");
    buf
}

#[test]
fn a_line_reads_back_exactly() {
    let r = row();
    let buf = encoded(&r);
    assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 1);
    let parsed = parse(&buf[..buf.len() - 1]).unwrap();
    assert_eq!((parsed.device.as_str(), parsed.seq), ("d", 3));
    assert_eq!(
        parsed.incoming,
        Incoming::Encounter {
            row: r,
            supersedes_sha256: None
        }
    );
}

#[test]
fn a_payload_with_a_raw_line_break_travels_as_text() {
    let mut r = row();
    r.payload = "{\"schema\":\"accessline.encounter/1\",\n\"a\":1}".into();
    r.payload_sha256 = crate::store::payload_sha256(&r.payload);
    r.definitions = "{\n}".into();
    let buf = encoded(&r);
    assert_eq!(buf.iter().filter(|b| **b == b'\n').count(), 1);
    let parsed = parse(&buf[..buf.len() - 1]).unwrap();
    assert!(matches!(parsed.incoming, Incoming::Encounter { row, .. } if row == r));
}

#[test]
fn every_flipped_byte_is_caught() {
    let buf = encoded(&row());
    let line = &buf[..buf.len() - 1];
    for i in 0..line.len() {
        let mut bad = line.to_vec();
        bad[i] ^= 0x01;
        assert!(parse(&bad).is_err(), "byte {i} flipped went unnoticed");
    }
}

#[test]
fn payload_schema_is_read_from_the_front_or_parsed() {
    assert_eq!(payload_schema(r#"{"schema":"a/1","x":1}"#), "a/1");
    assert_eq!(payload_schema(r#"{"x":1,"schema":"b/2"}"#), "b/2");
    assert_eq!(payload_schema(r#"{"x":1}"#), "unknown");
}
