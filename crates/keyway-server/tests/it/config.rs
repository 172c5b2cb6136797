//! `keyway config show`: the layers (file < environment < flags) and redaction.

use crate::support::Keyway;

#[test]
fn layers_and_redaction_through_the_binary() {
    let k = Keyway::sqlite();
    let file = k.dir.path().join("keyway.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:7001\"\nlog = \"debug\"\n[tokens]\naccess_token_lifetime = 1800\n",
    )
    .unwrap();
    let show = |env: &[(&str, &str)], args: &[&str]| {
        let mut all = vec!["config", "show"];
        all.extend_from_slice(args);
        let mut c = k.command(&all);
        c.env("KEYWAY_CONFIG", &file);
        for (key, v) in env {
            c.env(key, v);
        }
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let from_file = show(&[], &[]);
    assert!(
        from_file.contains("listen = \"127.0.0.1:7001\""),
        "{from_file}"
    );
    assert!(from_file.contains("access_token_lifetime = 1800"));
    let from_env = show(&[("KEYWAY_LISTEN", "127.0.0.1:7002")], &[]);
    assert!(
        from_env.contains("127.0.0.1:7002"),
        "the environment beats the file"
    );
    let from_flag = show(
        &[("KEYWAY_LISTEN", "127.0.0.1:7002")],
        &["--listen", "127.0.0.1:7003"],
    );
    assert!(
        from_flag.contains("127.0.0.1:7003"),
        "flags beat the environment"
    );
    let secret = show(
        &[(
            "KEYWAY_DATABASE_URL",
            "postgres://keyway:pa55word@db.example:5432/keyway",
        )],
        &[],
    );
    assert!(
        secret.contains("db.example") && !secret.contains("pa55word"),
        "{secret}"
    );

    std::fs::write(&file, "listn = \"127.0.0.1:7001\"\n").unwrap();
    let out = k
        .command(&["config", "show"])
        .env("KEYWAY_CONFIG", &file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown field `listn`"));
}
