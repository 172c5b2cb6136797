//! Running the `keyway` binary against a fresh database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use keyway_testkit::TestStore;
use serde_json::Value;

/// The binary under test.
pub fn keyway_bin() -> &'static str {
    env!("CARGO_BIN_EXE_keyway")
}

/// A fresh database plus the arguments that point `keyway` at it.
pub struct Keyway {
    pub dir: tempfile::TempDir,
    db_args: Vec<String>,
    _db: Option<TestStore>,
}

impl Keyway {
    /// The embedded SQLite database in a temporary data directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_args = vec![
            "--data-dir".into(),
            dir.path().join("data").display().to_string(),
        ];
        Self {
            dir,
            db_args,
            _db: None,
        }
    }

    /// A fresh PostgreSQL database, when `KEYWAY_TEST_DATABASE_URL` is set.
    pub async fn postgres() -> Option<Self> {
        let db = TestStore::postgres().await?;
        let url = db.database_url.clone().expect("postgres URL");
        let dir = tempfile::tempdir().expect("temp dir");
        let db_args = vec![
            "--data-dir".into(),
            dir.path().join("data").display().to_string(),
            "--database-url".into(),
            url,
        ];
        Some(Self {
            dir,
            db_args,
            _db: Some(db),
        })
    }

    /// The SQLite file, when this is the embedded database.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self._db
            .is_none()
            .then(|| self.dir.path().join("data").join("keyway.db"))
    }

    /// A `Command` for `keyway <args>` on this database, with a clean environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(keyway_bin());
        c.args(&self.db_args)
            .args(args)
            .current_dir(self.dir.path());
        for (k, _) in std::env::vars() {
            if k.starts_with("KEYWAY_") {
                c.env_remove(k);
            }
        }
        c
    }

    /// Runs `keyway <args>`, feeding `stdin`.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn keyway");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes())
            .expect("write stdin");
        child.wait_with_output().expect("wait for keyway")
    }

    /// Runs `keyway <args>` with empty stdin.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_stdin(args, "")
    }

    /// Runs `keyway --json <args>`, asserting success, and parses the output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "keyway {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "keyway {args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs `keyway <args>` expecting failure; returns stderr, asserting it is one line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "keyway {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(err.trim_end().lines().count(), 1, "one line, not: {err}");
        assert!(err.starts_with("error: "), "{err}");
        err
    }
}

/// Generates one test per backend from an `async fn(Keyway)`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Keyway::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(k) = $crate::support::Keyway::postgres().await else {
                        eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
                        return;
                    };
                    super::$name(k).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_databases;
