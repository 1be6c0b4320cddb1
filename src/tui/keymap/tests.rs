use super::*;

#[test]
fn defaults_parse_and_bind_the_crisis_key_globally() {
    let map = Keymap::default_map();
    assert!(!map.keys_for(Context::Global, Command::Crisis).is_empty());
    assert_eq!(
        map.lookup(Context::Global, &"f2".parse().unwrap()),
        Some(Command::Crisis)
    );
}

#[test]
fn command_names_round_trip() {
    for c in Command::all() {
        assert_eq!(c.name().parse::<Command>(), Ok(c), "{c:?}");
    }
    assert_eq!(Command::NextStep.name(), "next_step");
    assert_eq!(Command::Pick(3).name(), "pick_3");
}

#[test]
fn keys_parse_and_print() {
    let k: Key = "ctrl-e".parse().unwrap();
    assert!(k.ctrl);
    assert_eq!(k.code, KeyCode::Char('e'));
    assert_eq!(k.to_string(), "Ctrl-e");
    assert_eq!("F12".parse::<Key>().unwrap().code, KeyCode::F(12));
    assert!("f13".parse::<Key>().is_err());
    assert!("banana".parse::<Key>().is_err());
}

#[test]
fn overrides_replace_a_commands_keys() {
    let map = Keymap::with_overrides("[global]\ncrisis = [\"f9\"]\n").unwrap();
    assert_eq!(
        map.lookup(Context::Global, &"f9".parse().unwrap()),
        Some(Command::Crisis)
    );
    assert_eq!(map.lookup(Context::Global, &"f2".parse().unwrap()), None);
}

#[test]
fn bad_overrides_are_refused_with_a_reason() {
    let e = Keymap::with_overrides("[global]\ncrisis = []\n").unwrap_err();
    assert_eq!(e, KeymapError::NoCrisisKey);
    let e = Keymap::with_overrides("[global]\nhelp = [\"h\"]\n").unwrap_err();
    assert!(matches!(e, KeymapError::PrintableGlobal { .. }));
    let e = Keymap::with_overrides("[home]\nfly = [\"x\"]\n").unwrap_err();
    assert_eq!(e, KeymapError::UnknownCommand("fly".into()));
    assert!(matches!(
        Keymap::with_overrides("[nowhere]\n").unwrap_err(),
        KeymapError::Parse(_)
    ));
}
