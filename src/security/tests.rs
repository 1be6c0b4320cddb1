use chrono::{Duration, TimeZone, Utc};

use super::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 17, 0, 0).unwrap()
}

fn cheap_vault(db: &Path) -> Vault {
    let mut v = Vault::for_db(db).unwrap();
    v.set_kdf_params(KdfParams::insecure_for_tests());
    v
}

#[test]
fn back_off_doubles_from_the_fifth_failure_up_to_fifteen_minutes() {
    let secs: Vec<Option<i64>> = (1..=12)
        .map(|f| lock_after(f).map(|d| d.num_seconds()))
        .collect();
    assert_eq!(
        secs,
        [
            None,
            None,
            None,
            None,
            Some(30),
            Some(60),
            Some(120),
            Some(240),
            Some(480),
            Some(900),
            Some(900),
            Some(900)
        ]
    );
}

#[test]
fn first_run_then_sign_in_and_lockout_with_an_injected_clock() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let mut vault = cheap_vault(&db);
    assert!(vault.needs_setup());
    assert!(matches!(
        first_run(&mut vault, &db, "ada", "Ada", "short", t0()),
        Err(AuthError::PinTooShort { min: 8 })
    ));
    let (store, p) = first_run(&mut vault, &db, "ada", "Ada L.", "correct horse", t0()).unwrap();
    assert_eq!(p.role, Role::Admin);
    drop(store);

    let mut vault = Vault::for_db(&db).unwrap();
    assert!(!vault.needs_setup());
    let mut now = t0();
    for i in 1..=4 {
        let e = sign_in(&mut vault, &db, "ada", "wrong pin", now)
            .err()
            .unwrap();
        assert!(matches!(e, AuthError::WrongPin), "{i}: {e}");
        assert_eq!(e.to_string(), "unknown user or wrong PIN");
    }
    let e = sign_in(&mut vault, &db, "nobody", "wrong pin", now)
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "unknown user or wrong PIN");
    let e = sign_in(&mut vault, &db, "ada", "wrong pin", now)
        .err()
        .unwrap();
    let AuthError::LockedOut { until, failures: 5 } = e else {
        panic!("{e}")
    };
    assert_eq!(until, now + Duration::seconds(30));
    // Locked: even the right PIN is refused until then.
    now += Duration::seconds(29);
    assert!(matches!(
        sign_in(&mut vault, &db, "ada", "correct horse", now),
        Err(AuthError::LockedOut { .. })
    ));
    now += Duration::seconds(2);
    let e = sign_in(&mut vault, &db, "ada", "wrong again", now)
        .err()
        .unwrap();
    let AuthError::LockedOut { until, failures: 6 } = e else {
        panic!("{e}")
    };
    assert_eq!(until, now + Duration::seconds(60));
    now += Duration::seconds(61);
    let (store, p) = sign_in(&mut vault, &db, "ada", "correct horse", now).unwrap();
    assert_eq!(p.user, "ada");
    assert_eq!(vault.failures("ada"), 0);
    // The failures noted while the database was closed are in the audit log with their times.
    let tail = store.audit_tail(50).unwrap();
    let actions: Vec<&str> = tail.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "sign_in_failed").count(),
        7,
        "{actions:?}"
    );
    assert!(actions.contains(&"locked_out"));
    assert_eq!(tail.first().unwrap().at, t0());
    assert_eq!(*actions.last().unwrap(), "sign_in");
    assert!(store.verify().unwrap().is_ok());
}

#[test]
fn enrol_verify_disable_and_reset_in_memory() {
    let mut vault = Vault::in_memory(KdfParams::insecure_for_tests());
    let mut store = Store::open_in_memory().unwrap();
    let admin = Actor::new("ada", "test");
    enrol(
        &mut vault,
        &mut store,
        &admin,
        "ada",
        "Ada",
        Role::Admin,
        "123456",
        t0(),
    )
    .unwrap();
    let p = enrol(
        &mut vault,
        &mut store,
        &admin,
        "sam",
        "Sam",
        Role::Screener,
        "654321",
        t0(),
    )
    .unwrap();
    assert_eq!(p.role, Role::Screener);
    assert!(!p.role.can_review());
    assert!(matches!(
        enrol(
            &mut vault,
            &mut store,
            &admin,
            "sam",
            "Sam",
            Role::Screener,
            "654321",
            t0()
        ),
        Err(AuthError::UserExists { .. })
    ));
    assert!(matches!(
        enrol(
            &mut vault,
            &mut store,
            &admin,
            "tim",
            "Tim",
            Role::Screener,
            "12345",
            t0()
        ),
        Err(AuthError::PinTooShort { min: 6 })
    ));
    assert_eq!(
        verify(&mut vault, &mut store, "sam", "654321", t0()).unwrap(),
        p
    );
    assert!(matches!(
        verify(&mut vault, &mut store, "sam", "000000", t0()),
        Err(AuthError::WrongPin)
    ));
    // Written at once: the database is open.
    let last = store.audit_tail(1).unwrap().remove(0);
    assert_eq!(
        (last.action.as_str(), last.actor.as_str()),
        ("sign_in_failed", "sam")
    );

    reset_pin(&mut vault, &mut store, &admin, "sam", "111111", t0()).unwrap();
    assert!(verify(&mut vault, &mut store, "sam", "654321", t0()).is_err());
    verify(&mut vault, &mut store, "sam", "111111", t0()).unwrap();

    disable(&mut vault, &mut store, &admin, "sam", t0()).unwrap();
    assert!(!vault.has_user("sam"));
    assert!(store.user("sam").unwrap().unwrap().is_disabled());
    assert!(matches!(
        verify(&mut vault, &mut store, "sam", "111111", t0()),
        Err(AuthError::WrongPin)
    ));
    assert!(matches!(
        disable(&mut vault, &mut store, &admin, "ada", t0()),
        Err(AuthError::Refused(_))
    ));
    let actions: Vec<String> = store
        .audit_tail(100)
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    for a in [
        "user_added",
        "sign_in",
        "sign_in_failed",
        "pin_reset",
        "user_disabled",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
}

#[test]
fn a_renamed_slot_does_not_open_and_a_removed_slot_is_noticed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("a.db");
    let mut vault = cheap_vault(&db);
    let (mut store, p) = first_run(&mut vault, &db, "ada", "Ada", "passphrase1", t0()).unwrap();
    enrol(
        &mut vault,
        &mut store,
        &p.actor(),
        "sam",
        "Sam",
        Role::Screener,
        "654321",
        t0(),
    )
    .unwrap();
    drop(store);
    let keys = key_file_path(&db);
    let text = std::fs::read_to_string(&keys).unwrap();
    // Sam renames his slot to the admin's name (and the admin's away): his PIN no longer opens it.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let slots = json["slots"].as_array_mut().unwrap();
    slots.remove(0);
    slots[0]["user"] = "ada".into();
    std::fs::write(&keys, json.to_string()).unwrap();
    let mut v = Vault::for_db(&db).unwrap();
    assert!(matches!(
        sign_in(&mut v, &db, "ada", "654321", t0()),
        Err(AuthError::WrongPin)
    ));
    // Removing a slot: the seal no longer matches.
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["slots"].as_array_mut().unwrap().remove(1);
    std::fs::write(&keys, json.to_string()).unwrap();
    let mut v = Vault::for_db(&db).unwrap();
    let e = sign_in(&mut v, &db, "ada", "passphrase1", t0())
        .err()
        .unwrap();
    assert!(matches!(e, AuthError::KeyFile { .. }), "{e}");
    std::fs::write(&keys, "{ not json").unwrap();
    assert!(matches!(Vault::for_db(&db), Err(AuthError::KeyFile { .. })));
}
