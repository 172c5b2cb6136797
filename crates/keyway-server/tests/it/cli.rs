//! The console CLI: projects, clients, users and scopes, and how it answers bad input.

use serde_json::Value;

use crate::support::{Keyway, on_both_databases};

on_both_databases!(
    projects_clients_and_secrets,
    users_and_scopes,
    organizations_and_policies,
    bad_input_is_one_line_and_changes_nothing,
);

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

async fn projects_clients_and_secrets(k: Keyway) {
    let p = k.json(&[
        "project",
        "create",
        "--name",
        "Photo Print",
        "--support-email",
        "help@photo.example.com",
    ]);
    let pid = s(&p["id"]).to_owned();
    assert!(pid.starts_with("photo-print-"));
    assert_eq!(p["consent"]["user_type"], "external");
    assert_eq!(p["consent"]["verification"], "unverified");
    // A project is found by id or by exact name.
    assert_eq!(
        k.json(&["project", "show", "Photo Print"])["id"],
        pid.as_str()
    );
    let updated = k.json(&[
        "project",
        "update",
        &pid,
        "--verified",
        "--user-type",
        "internal",
        "--organization",
        "photo.example.com",
        "--owned-domain",
        "goo.gl",
        "--app-name",
        "Photo Print Pro",
    ]);
    assert_eq!(updated["consent"]["verification"], "verified");
    assert_eq!(updated["consent"]["user_type"], "internal");
    assert_eq!(updated["organization"], "photo.example.com");
    assert_eq!(updated["consent"]["app_name"], "Photo Print Pro");
    assert_eq!(k.json(&["project", "list"]).as_array().unwrap().len(), 1);

    let out = k.dir.path().join("client_secret.json");
    let c = k.json(&[
        "client",
        "create",
        "--project",
        "Photo Print",
        "--name",
        "web",
        "--redirect-uri",
        "https://photo.example.com/oauth2callback",
        "--redirect-uri",
        "http://localhost:8080/oauth2callback",
        "--redirect-uri",
        "https://goo.gl/google-callback",
        "--origin",
        "https://photo.example.com",
        "--out",
        out.to_str().unwrap(),
    ]);
    let cid = s(&c["client_id"]).to_owned();
    let secret = s(&c["client_secret"]).to_owned();
    assert!(cid.ends_with(".apps.keyway.test"), "{cid}");
    assert!(secret.starts_with("kwcs_") && secret.len() >= 48);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["web"]["client_id"], cid.as_str());
    assert_eq!(file["web"]["client_secret"], secret.as_str());
    assert_eq!(file["web"]["project_id"], pid.as_str());
    assert_eq!(file["web"]["redirect_uris"].as_array().unwrap().len(), 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // The secret is never shown again, only its last four characters.
    let shown = k.run(&["client", "show", &cid]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        !text.contains(&secret) && text.contains(&secret[secret.len() - 4..]),
        "{text}"
    );

    let rotated = k.json(&["client", "rotate-secret", &cid]);
    let second = s(&rotated["client_secret"]).to_owned();
    assert_ne!(second, secret);
    let listed = k.json(&["client", "show", &cid]);
    let ids: Vec<i64> = listed["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "both secrets live during rotation");
    k.json(&["client", "delete-secret", &cid, &ids[0].to_string()]);
    let err = k.fails(&["client", "delete-secret", &cid, &ids[1].to_string()]);
    assert!(err.contains("only secret"), "{err}");

    let u = k.json(&[
        "client",
        "update",
        &cid,
        "--add-redirect-uri",
        "https://photo.example.com/cb2",
        "--remove-redirect-uri",
        "http://localhost:8080/oauth2callback",
        "--disable",
        "--name",
        "web app",
    ]);
    let uris: Vec<&str> = u["redirect_uris"]
        .as_array()
        .unwrap()
        .iter()
        .map(s)
        .collect();
    assert_eq!(
        uris,
        [
            "https://photo.example.com/oauth2callback",
            "https://goo.gl/google-callback",
            "https://photo.example.com/cb2"
        ]
    );
    assert_eq!(u["enabled"], false);
    assert_eq!(u["name"], "web app");
    assert_eq!(
        k.json(&["client", "list", "--project", &pid])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    k.json(&["client", "delete", &cid]);
    assert!(k.json(&["client", "list"]).as_array().unwrap().is_empty());
}

async fn users_and_scopes(k: Keyway) {
    let out = k.run_with_stdin(
        &[
            "--json",
            "user",
            "create",
            "--email",
            "Ada@Example.com",
            "--name",
            "Ada",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ada: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ada["email"], "ada@example.com");
    assert_eq!(s(&ada["sub"]).len(), 21);
    assert!(
        ada.get("password_hash").is_none(),
        "the hash is never printed"
    );
    let dup = k.run_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Again",
            "--password-stdin",
        ],
        "another password\n",
    );
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already exists"));
    let disabled = k.json(&["user", "disable", "ada@example.com"]);
    assert_eq!(disabled["disabled"], true);
    let enabled = k.json(&["user", "enable", s(&ada["sub"])]);
    assert_eq!(enabled["disabled"], false);
    assert_eq!(k.json(&["user", "list"]).as_array().unwrap().len(), 1);

    let scopes = k.json(&["scope", "list"]);
    let names: Vec<&str> = scopes
        .as_array()
        .unwrap()
        .iter()
        .map(|x| s(&x["scope"]))
        .collect();
    for expected in [
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/drive.metadata.readonly",
        "https://www.googleapis.com/auth/youtube.force-ssl",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let added = k.json(&[
        "scope",
        "add",
        "https://api.example.com/auth/prints",
        "--description",
        "Order prints of your photos",
        "--sensitivity",
        "restricted",
    ]);
    assert_eq!(added["sensitivity"], "restricted");
    assert_eq!(
        k.json(&["scope", "list"]).as_array().unwrap().len(),
        names.len() + 1
    );
}

async fn organizations_and_policies(k: Keyway) {
    let o = k.json(&[
        "org",
        "create",
        "--domain",
        "Corp.Example.com",
        "--name",
        "Corp",
    ]);
    assert_eq!(o["domain"], "corp.example.com");
    let err = k.fails(&["org", "create", "--domain", "corp.example.com"]);
    assert!(err.contains("already exists"), "{err}");
    let u = k.json(&[
        "org",
        "update",
        "corp.example.com",
        "--block-scope",
        "https://www.googleapis.com/auth/drive",
        "--block-scope",
        "https://www.googleapis.com/auth/youtube",
        "--block-client",
        "123-abc.apps.keyway.test",
    ]);
    assert_eq!(
        u["blocked_scopes"],
        "https://www.googleapis.com/auth/drive https://www.googleapis.com/auth/youtube"
    );
    assert_eq!(u["blocked_clients"][0], "123-abc.apps.keyway.test");
    let u = k.json(&[
        "org",
        "update",
        "corp.example.com",
        "--unblock-scope",
        "https://www.googleapis.com/auth/youtube",
        "--unblock-client",
        "123-abc.apps.keyway.test",
    ]);
    assert_eq!(u["blocked_scopes"], "https://www.googleapis.com/auth/drive");
    assert!(u["blocked_clients"].as_array().unwrap().is_empty());
    assert_eq!(k.json(&["org", "show", "corp.example.com"]), u);
    assert_eq!(k.json(&["org", "list"]).as_array().unwrap().len(), 1);
    let err = k.fails(&[
        "org",
        "update",
        "nowhere.example.com",
        "--block-scope",
        "openid",
    ]);
    assert!(err.contains("unknown organization"), "{err}");
}

async fn bad_input_is_one_line_and_changes_nothing(k: Keyway) {
    let err = k.fails(&[
        "client",
        "create",
        "--project",
        "nope",
        "--name",
        "x",
        "--redirect-uri",
        "https://a.example.com/cb",
    ]);
    assert!(err.contains("unknown project \"nope\""), "{err}");

    let p = k.json(&[
        "project",
        "create",
        "--name",
        "Strict",
        "--support-email",
        "s@strict.example.com",
    ]);
    let pid = s(&p["id"]).to_owned();
    for (uri, rule) in [
        ("https://strict.example.com/a/%2e%2E/cb", "path-traversal"),
        ("http://strict.example.com/cb", "scheme"),
        ("https://strict.example.com/cb#x", "fragment"),
        ("https://user@strict.example.com/cb", "userinfo"),
        ("https://203.0.113.9/cb", "ip-address"),
        ("https://strict.invalidtld/cb", "public-suffix"),
        ("https://goo.gl/cb", "shortener"),
        (
            "https://strict.example.com/cb?next=https://evil.example.com",
            "open-redirect",
        ),
        ("https://strict.example.com/c%00b", "encoded-nul"),
        ("https://strict.example.com/*", "wildcard"),
    ] {
        // One valid URI and one invalid: the whole command is refused, nothing is created.
        let err = k.fails(&[
            "client",
            "create",
            "--project",
            &pid,
            "--name",
            "x",
            "--redirect-uri",
            "https://strict.example.com/ok",
            "--redirect-uri",
            uri,
        ]);
        assert!(err.contains(rule) && err.contains(uri), "{uri}: {err}");
    }
    assert!(
        k.json(&["client", "list"]).as_array().unwrap().is_empty(),
        "no client was half-created"
    );

    let short = k.run_with_stdin(
        &[
            "user",
            "create",
            "--email",
            "b@strict.example.com",
            "--name",
            "B",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("too short"));
    assert!(k.json(&["user", "list"]).as_array().unwrap().is_empty());

    for (args, needle) in [
        (vec!["client", "show", "no-such-client"], "unknown client"),
        (
            vec!["client", "rotate-secret", "no-such-client"],
            "unknown client",
        ),
        (
            vec!["user", "disable", "ghost@strict.example.com"],
            "unknown user",
        ),
        (vec!["project", "show", "ghost"], "unknown project"),
        (
            vec![
                "project",
                "create",
                "--name",
                "X",
                "--support-email",
                "not-an-email",
            ],
            "invalid email",
        ),
        (
            vec!["project", "update", &pid, "--user-type", "internal"],
            "--organization",
        ),
        (
            vec!["scope", "add", "bad scope", "--description", "d"],
            "invalid scope",
        ),
    ] {
        let err = k.fails(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // A usage error is clap's: exit status 2.
    assert_eq!(
        k.run(&["client", "delete-secret", "x", "not-a-number"])
            .status
            .code(),
        Some(2)
    );
    let again = k.json(&["project", "show", &pid]);
    assert_eq!(again, p, "the failed update changed nothing");
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let k = Keyway::sqlite();
    let err = k.fails(&[
        "--database-url",
        "postgres://keyway:hunter2pw@127.0.0.1:1/keyway",
        "project",
        "list",
    ]);
    assert!(
        err.contains("127.0.0.1:1") && !err.contains("hunter2pw"),
        "{err}"
    );
    let err = k.fails(&[
        "--database-url",
        "mysql://root:pw@localhost/x",
        "project",
        "list",
    ]);
    assert!(
        err.contains("unsupported database URL") && !err.contains(":pw@"),
        "{err}"
    );
}
