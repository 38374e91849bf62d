use super::*;

#[test]
fn the_template_parses_and_unknown_keys_fail() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("herald.toml");
    std::fs::write(&f, TEMPLATE).unwrap();
    let s = Settings::load(&f).unwrap();
    assert_eq!(s.delivery.mx_port, 25);
    assert_eq!(s.delivery.expiry, Dur(Duration::from_secs(72 * 3600)));
    std::fs::write(&f, "[delivery]\nmx_prot = 25\n").unwrap();
    let e = Settings::load(&f).unwrap_err().to_string();
    assert!(e.contains("mx_prot"), "{e}");
    std::fs::write(&f, "[delivery]\nexpiry = \"soon\"\n").unwrap();
    let e = Settings::load(&f).unwrap_err().to_string();
    assert!(e.contains("soon"), "{e}");
}

#[test]
fn env_values_are_typed() {
    assert_eq!(env_value("2525"), toml::Value::Integer(2525));
    assert_eq!(
        env_value("[\"127.0.0.1:53\"]").as_array().map(|a| a.len()),
        Some(1)
    );
    assert_eq!(env_value("72h"), toml::Value::String("72h".into()));
}
