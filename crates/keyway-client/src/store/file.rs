//! A file holding one user's credentials, shared safely between processes.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{TokenKey, TokenStore, Update, UpdateFn};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::flow::random_token;

/// One user's credentials in a file, in google-auth's authorized-user JSON (so Python's
/// `Credentials.from_authorized_user_file` reads it too).
///
/// - Writes are atomic: a temporary file in the same directory (mode `0600` on Unix) is
///   written, flushed to disk, then renamed over the old file, and the directory is synced:
///   a reader sees the old or the new credentials, never half of them, even after a crash.
/// - As a [`TokenStore`] it holds one entry (keys are ignored), and every operation takes
///   an exclusive lock on a sibling `<file>.lock` ([`FileTokenStore::lock`]).
///   [`TokenStore::update`] re-reads the file under that lock before refreshing: when
///   another process (or another client in this one) refreshed meanwhile, its token is
///   used and no second refresh is made.
///
/// The inherent [`FileTokenStore::load`] and [`FileTokenStore::save`] are the blocking,
/// lock-free single-user forms, handy in command-line tools.
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
    /// thread: the [`TokenStore`] methods wait for it off the async runtime). Separate
    /// `FileTokenStore`s in one process exclude each other too.
    pub fn lock(&self) -> Result<StoreLock> {
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(self.lock_path())?;
        file.lock()?;
        Ok(StoreLock { _file: file })
    }
}

/// Runs blocking file work off the async runtime.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
}

/// The file holds one entry: every key reads and writes it (the key is ignored). Each
/// operation takes the cross-process lock, so a save never interleaves with another
/// process's refresh; [`TokenStore::update`] re-reads the file under the lock.
#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self, _key: &TokenKey) -> Result<Option<Credentials>> {
        let store = self.clone();
        blocking(move || store.load()).await
    }

    async fn save(&self, _key: &TokenKey, credentials: &Credentials) -> Result<()> {
        let (store, credentials) = (self.clone(), credentials.clone());
        blocking(move || {
            let _lock = store.lock()?;
            store.save(&credentials)
        })
        .await
    }

    async fn delete(&self, _key: &TokenKey) -> Result<bool> {
        let store = self.clone();
        blocking(move || {
            let _lock = store.lock()?;
            match std::fs::remove_file(&store.path) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
        .await
    }

    async fn update<'a>(&'a self, _key: &'a TokenKey, f: UpdateFn<'a>) -> Result<Credentials> {
        let store = self.clone();
        let lock = blocking(move || store.lock()).await?;
        let store = self.clone();
        let stored = blocking(move || store.load()).await?;
        let credentials = match f(stored).await? {
            Update::Keep(c) => c,
            Update::Save(c) => {
                let (store, saved) = (self.clone(), c.clone());
                blocking(move || store.save(&saved)).await?;
                c
            }
        };
        drop(lock);
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::tests::sample;
    use crate::store::update_fn;

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_updates_through_separate_stores_refresh_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token.json");
        FileTokenStore::new(&path).save(&sample("old")).unwrap();
        let key = TokenKey::new("cid", "", ["openid"]);
        let refreshes = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                // A store per task: they exclude each other through the lock file only.
                let (store, key, refreshes) =
                    (FileTokenStore::new(&path), key.clone(), refreshes.clone());
                tokio::spawn(async move {
                    let f = update_fn(|stored| async move {
                        let mut c = stored.unwrap();
                        if c.token.as_deref() != Some("old") {
                            return Ok(Update::Keep(c));
                        }
                        refreshes.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        c.token = Some("new".into());
                        Ok(Update::Save(c))
                    });
                    TokenStore::update(&store, &key, f).await.unwrap()
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().token.as_deref(), Some("new"));
        }
        assert_eq!(refreshes.load(Ordering::SeqCst), 1);
        let store = FileTokenStore::new(&path);
        assert_eq!(store.load().unwrap().unwrap().token.as_deref(), Some("new"));
        assert!(TokenStore::delete(&store, &key).await.unwrap());
        assert!(!TokenStore::delete(&store, &key).await.unwrap());
        assert_eq!(TokenStore::load(&store, &key).await.unwrap(), None);
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
