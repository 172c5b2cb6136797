//! A file holding one user's credentials, shared safely between processes.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::flow::random_token;

/// One user's credentials in a file, in google-auth's authorized-user JSON (so Python's
/// `Credentials.from_authorized_user_file` reads it too).
///
/// - Writes are atomic: a temporary file in the same directory (mode `0600` on Unix) is
///   written, flushed to disk, then renamed over the old file, and the directory is synced:
///   a reader sees the old or the new credentials, never half of them, even after a crash.
/// - [`FileTokenStore::refresh`] takes an exclusive lock on a sibling `<file>.lock` and
///   re-reads the file under it before refreshing: when another process refreshed
///   meanwhile, its token is used and no second refresh is made.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

/// An exclusive lock on a [`FileTokenStore`], released when dropped.
#[derive(Debug)]
pub struct StoreLock {
    _file: File,
}

impl FileTokenStore {
    /// A store at `path` (the file need not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The credentials file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// Reads the credentials; `None` when the file does not exist.
    pub fn load(&self) -> Result<Option<Credentials>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Credentials::from_json(&text).map(Some),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes the credentials atomically (see the type's documentation).
    pub fn save(&self, credentials: &Credentials) -> Result<()> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self.path.file_name().ok_or_else(|| Error::InvalidConfig {
            what: "token store",
            message: format!("`{}` is not a file path", self.path.display()),
        })?;
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".tmp-{}", random_token(9)));
        let tmp = dir.join(tmp_name);
        let result = (|| {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&tmp)?;
            file.write_all(credentials.to_json().as_bytes())?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&tmp, &self.path)?;
            #[cfg(unix)]
            File::open(&dir)?.sync_all()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Takes the store's exclusive cross-process lock, waiting for it (blocking the
    /// thread: in async code use [`FileTokenStore::refresh`], which waits off the runtime).
    pub fn lock(&self) -> Result<StoreLock> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(self.lock_path())?;
        file.lock()?;
        Ok(StoreLock { _file: file })
    }

    /// Returns credentials whose access token does not expire within `threshold` and is
    /// not `stale`, refreshing and saving them only when needed. Under the store's lock,
    /// the file is re-read first: when another process already refreshed, its credentials
    /// are returned and no request is made. `current` is used when the file does not exist
    /// yet.
    pub async fn refresh(
        &self,
        http: &reqwest::Client,
        current: &Credentials,
        stale: Option<&str>,
        threshold: Duration,
    ) -> Result<Credentials> {
        let store = self.clone();
        let lock = tokio::task::spawn_blocking(move || store.lock())
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        let mut credentials = self.load()?.unwrap_or_else(|| current.clone());
        let is_stale = stale.is_some() && credentials.token.as_deref() == stale;
        if !is_stale && !credentials.expires_within(threshold) {
            return Ok(credentials);
        }
        credentials.refresh(http).await?;
        self.save(&credentials)?;
        drop(lock);
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn sample(token: &str) -> Credentials {
        let mut c = Credentials::from_refresh_token(
            url::Url::parse("https://oauth2.googleapis.com/token").unwrap(),
            "cid",
            Some("secret".into()),
            "rt",
            vec!["openid".into()],
        );
        c.token = Some(token.into());
        c.expiry = Some(crate::time::truncate_micros(
            SystemTime::now() + Duration::from_secs(3600),
        ));
        c
    }

    #[test]
    fn saves_atomically_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("token.json"));
        assert_eq!(store.load().unwrap(), None);
        store.save(&sample("a")).unwrap();
        store.save(&sample("b")).unwrap();
        let loaded = store.load().unwrap().unwrap();
        assert_eq!(loaded.token.as_deref(), Some("b"));
        assert_eq!(loaded.to_json(), {
            let mut b = sample("b");
            b.expiry = loaded.expiry;
            b.to_json()
        });
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["token.json"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn a_fresh_token_in_the_file_needs_no_request() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("token.json"));
        store.save(&sample("from-file")).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Its token URI is Google's: a request would fail here, so none must be made.
        let http = crate::http::default_http_client().unwrap();
        let c = rt
            .block_on(store.refresh(&http, &sample("old"), Some("old"), Duration::from_secs(300)))
            .unwrap();
        assert_eq!(c.token.as_deref(), Some("from-file"));
    }

    #[test]
    fn the_lock_is_exclusive_across_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("token.json"));
        let held = store.lock().unwrap();
        let other = File::options()
            .write(true)
            .open(dir.path().join("token.json.lock"))
            .unwrap();
        assert!(other.try_lock().is_err());
        drop(held);
        assert!(other.try_lock().is_ok());
    }
}
