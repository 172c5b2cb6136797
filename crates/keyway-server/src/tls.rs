//! HTTPS material for `keyway serve`: the user's PEM files, or a local CA in the data directory.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
};
use rcgen::{IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier as _;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{RootCertStore, ServerConfig};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Where the server's certificate and key come from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// A local CA under `<data_dir>/tls/`, created once, and a leaf for loopback and `extra_host`.
    SelfSigned {
        data_dir: PathBuf,
        extra_host: Option<String>,
    },
    /// A PEM certificate chain and private key given by the user.
    Files { cert: PathBuf, key: PathBuf },
}

/// Checked PEM files ready to be served.
#[derive(Debug, Clone)]
pub struct TlsMaterial {
    /// The certificate chain, leaf first.
    pub cert_chain_pem: PathBuf,
    /// The leaf's private key.
    pub key_pem: PathBuf,
    /// the CA users should trust, for self-signed
    pub ca_pem: Option<PathBuf>,
    /// true when this call created the CA
    pub created_ca: bool,
}

/// Why TLS material could not be prepared or loaded; each message names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read TLS {what} {}: {source}", .path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", .path.display())]
    Write { path: PathBuf, source: io::Error },
    /// A file is not valid PEM, or holds a key of an unsupported kind.
    #[error("cannot parse {}: {reason}", .path.display())]
    Parse { path: PathBuf, reason: String },
    /// A certificate file holds no certificate.
    #[error("no certificate found in {}", .0.display())]
    NoCertificate(PathBuf),
    /// A key file holds no private key.
    #[error("no private key found in {}", .0.display())]
    NoPrivateKey(PathBuf),
    /// The key is not the one the certificate was issued for.
    #[error("the private key {} does not match the certificate {}", .key.display(), .cert.display())]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// rustls refused the certificate and key for another reason.
    #[error("cannot use the certificate {} with the key {}: {reason}", .cert.display(), .key.display())]
    Unusable {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    /// Only the CA key exists.
    #[error("the CA key {} exists but its certificate {} is missing", .key.display(), .cert.display())]
    CaCertMissing { cert: PathBuf, key: PathBuf },
    /// Only the CA certificate exists.
    #[error("the CA certificate {} exists but its key {} is missing", .cert.display(), .key.display())]
    CaKeyMissing { cert: PathBuf, key: PathBuf },
    /// The stored CA cannot issue a certificate that verifies (foreign, wrong key, expired...).
    #[error("the CA in {} cannot issue a valid server certificate ({reason}); remove ca.pem and ca-key.pem there to create a new CA", .dir.display())]
    CaUnusable { dir: PathBuf, reason: String },
    /// Certificate generation failed (e.g. a host name that cannot go in a certificate).
    #[error("cannot generate a TLS certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Makes sure the files exist (creating/reusing for self-signed; checking readable and parseable
/// for Files).
pub fn prepare(source: &TlsSource) -> Result<TlsMaterial, TlsError> {
    match source {
        TlsSource::SelfSigned {
            data_dir,
            extra_host,
        } => self_signed(data_dir, extra_host.as_deref()),
        TlsSource::Files { cert, key } => {
            server_config(cert, key)?;
            let (cert_chain_pem, key_pem) = (cert.clone(), key.clone());
            Ok(TlsMaterial {
                cert_chain_pem,
                key_pem,
                ca_pem: None,
                created_ca: false,
            })
        }
    }
}

/// Builds the rustls server config (ALPN h2 and http/1.1) for axum-server, using the ring provider
/// explicitly.
pub fn rustls_config(material: &TlsMaterial) -> Result<RustlsConfig, TlsError> {
    let config = server_config(&material.cert_chain_pem, &material.key_pem)?;
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

// An explicit provider, so nothing depends on which process-global default another crate installed.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain = read_certs(cert, "certificate")?;
    let key_der = read_key(key, "private key")?;
    let (cert, key) = (cert.to_path_buf(), key.to_path_buf());
    let unusable = |e: rustls::Error| match e {
        rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch { cert, key },
        e => TlsError::Unusable {
            cert,
            key,
            reason: e.to_string(),
        },
    };
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .and_then(|builder| {
            builder
                .with_no_client_auth()
                .with_single_cert(chain, key_der)
        })
        .map_err(unusable)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_failed(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> TlsError {
    let path = path.to_path_buf();
    move |source| TlsError::Read { what, path, source }
}

fn pem_error(e: pem::Error, path: &Path, what: &'static str) -> TlsError {
    match e {
        pem::Error::Io(source) => read_failed(what, path)(source),
        pem::Error::NoItemsFound => TlsError::NoPrivateKey(path.into()),
        e => TlsError::Parse {
            path: path.into(),
            reason: e.to_string(),
        },
    }
}

fn read_certs(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error(e, path, what))?;
    match certs.is_empty() {
        true => Err(TlsError::NoCertificate(path.into())),
        false => Ok(certs),
    }
}

fn read_key(path: &Path, what: &'static str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| pem_error(e, path, what))
}

fn self_signed(data_dir: &Path, extra_host: Option<&str>) -> Result<TlsMaterial, TlsError> {
    let dir = data_dir.join("tls");
    let [cert, key, leaf_cert, leaf_key] =
        ["ca.pem", "ca-key.pem", "server.pem", "server-key.pem"].map(|name| dir.join(name));
    // The CA key lives here, so the directory is private even if it existed with looser rights.
    let made_dir = fs::create_dir_all(&dir).and_then(|()| set_mode(&dir, 0o700));
    made_dir.map_err(|source| TlsError::Write {
        path: dir.clone(),
        source,
    })?;
    let cert_exists = cert
        .try_exists()
        .map_err(read_failed("CA certificate", &cert))?;
    let key_exists = key.try_exists().map_err(read_failed("CA key", &key))?;
    let created_ca = match (cert_exists, key_exists) {
        (false, false) => true,
        (true, true) => false,
        // Never replace half a CA: someone may already trust the certificate.
        (false, true) => return Err(TlsError::CaCertMissing { cert, key }),
        (true, false) => return Err(TlsError::CaKeyMissing { cert, key }),
    };
    if created_ca {
        let ca_key = KeyPair::generate()?;
        let name = format!("Keyway local CA ({})", machine_name());
        let ca = ca_params(&name)?.self_signed(&ca_key)?;
        write_atomic(&key, &ca_key.serialize_pem(), 0o600)?;
        write_atomic(&cert, &ca.pem(), 0o644)?;
        tracing::info!(ca = %cert.display(), "created a local certificate authority for HTTPS");
    }

    let ca_pem = fs::read_to_string(&cert).map_err(read_failed("CA certificate", &cert))?;
    let ca_der = read_certs(&cert, "CA certificate")?.swap_remove(0);
    let ca_key = KeyPair::try_from(&read_key(&key, "CA key")?).map_err(|e| TlsError::Parse {
        path: key.clone(),
        reason: e.to_string(),
    })?;
    // An unrecognised subject still yields an issuer; the chain check below reports it.
    let subject = ca_common_name(&ca_der).unwrap_or_default();
    let issuer = Issuer::new(ca_params(&subject)?, ca_key);

    let leaf_key_pair = KeyPair::generate()?;
    let leaf = leaf_params(extra_host)?.signed_by(&leaf_key_pair, &issuer)?;
    // Catches a CA key that does not belong to ca.pem, or an expired CA, before clients do.
    verify_leaf(&ca_der, leaf.der(), "localhost")
        .map_err(|reason| TlsError::CaUnusable { dir, reason })?;
    write_atomic(&leaf_key, &leaf_key_pair.serialize_pem(), 0o600)?;
    write_atomic(&leaf_cert, &format!("{}{ca_pem}", leaf.pem()), 0o644)?;
    Ok(TlsMaterial {
        cert_chain_pem: leaf_cert,
        key_pem: leaf_key,
        ca_pem: Some(cert),
        created_ca,
    })
}

fn params(
    common_name: &str,
    names: Vec<String>,
    days: u32,
) -> Result<CertificateParams, rcgen::Error> {
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    let now = SystemTime::now();
    params.not_before = (now - DAY).into();
    params.not_after = (now + days * DAY).into();
    Ok(params)
}

fn ca_params(common_name: &str) -> Result<CertificateParams, rcgen::Error> {
    let mut params = params(common_name, Vec::new(), 3652)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(params)
}

fn leaf_params(extra_host: Option<&str>) -> Result<CertificateParams, rcgen::Error> {
    let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(Into::into).into();
    // Accept the host as a URL spells it ("[::1]", "Example.COM") and skip names already covered.
    if let Some(host) = extra_host.map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase()) {
        let host = host.parse::<IpAddr>().map_or(host, |ip| ip.to_string());
        if !host.is_empty() && !names.contains(&host) {
            names.push(host);
        }
    }
    let mut params = params("Keyway local server", names, 397)?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Strict verifiers (Python 3.13's default context, used by Google's libraries) require it.
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn verify_leaf(
    ca: &CertificateDer<'_>,
    leaf: &CertificateDer<'_>,
    host: &str,
) -> Result<(), String> {
    let mut roots = RootCertStore::empty();
    roots
        .add(ca.clone().into_owned())
        .map_err(|e| e.to_string())?;
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host).map_err(|e| e.to_string())?;
    let verified = verifier.verify_server_cert(leaf, &[], &name, &[], UnixTime::now());
    verified.map(drop).map_err(|e| e.to_string())
}

fn machine_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| fs::read_to_string(path).ok())
        // X.509 caps a CN at 64 characters, and ca_common_name reads only short ASCII lengths.
        .map(|name| name.trim().chars().take(40).collect::<String>())
        .filter(|name| !name.is_empty() && name.is_ascii())
        .unwrap_or_else(|| "this machine".to_owned())
}

// rcgen reads certificates only with its x509-parser feature. Our CA is self-signed with a single
// UTF8String CN, so the first CN in the DER is its subject; the chain check catches anything else.
fn ca_common_name(cert: &[u8]) -> Option<String> {
    const CN_UTF8: [u8; 6] = [0x06, 0x03, 0x55, 0x04, 0x03, 0x0c];
    let start = cert.windows(6).position(|w| w == CN_UTF8)? + 6;
    let len = usize::from(*cert.get(start)?);
    let value = cert
        .get(start + 1..start + 1 + len)
        .filter(|_| len < 0x80)?;
    String::from_utf8(value.to_vec()).ok()
}

// A crash must never leave half a key: write a private temp file beside the target, then rename.
fn write_atomic(path: &Path, contents: &str, mode: u32) -> Result<(), TlsError> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        // Explicitly, because a stale temp file keeps its old mode and umask may mask ours.
        set_mode(&tmp, mode)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|source| TlsError::Write {
        path: path.into(),
        source,
    })
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    return fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode));
    #[cfg(not(unix))]
    {
        let _ = (path, mode);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed_in(dir: &Path, extra_host: Option<&str>) -> Result<TlsMaterial, TlsError> {
        let extra_host = extra_host.map(Into::into);
        prepare(&TlsSource::SelfSigned {
            data_dir: dir.into(),
            extra_host,
        })
    }

    fn files(cert: &Path, key: &Path) -> Result<TlsMaterial, TlsError> {
        prepare(&TlsSource::Files {
            cert: cert.into(),
            key: key.into(),
        })
    }

    fn certs(path: &Path) -> Vec<CertificateDer<'static>> {
        read_certs(path, "certificate").unwrap()
    }

    #[test]
    fn creates_the_ca_once_then_reuses_it_and_reissues_the_leaf() {
        let dir = tempfile::tempdir().unwrap();
        let first = self_signed_in(dir.path(), None).unwrap();
        let ca_path = first.ca_pem.clone().unwrap();
        assert!(first.created_ca);
        assert_eq!(ca_path, dir.path().join("tls/ca.pem"));
        let (ca, leaf) = (
            fs::read(&ca_path).unwrap(),
            fs::read(&first.cert_chain_pem).unwrap(),
        );

        let second = self_signed_in(dir.path(), None).unwrap();
        assert!(!second.created_ca);
        assert_eq!(fs::read(&ca_path).unwrap(), ca);
        assert_ne!(fs::read(&second.cert_chain_pem).unwrap(), leaf);
        // Leaf then CA, and the leaf issued by the reloaded CA verifies against the trusted file.
        let chain = certs(&second.cert_chain_pem);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], certs(&ca_path)[0]);
        verify_leaf(&chain[1], &chain[0], "localhost").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn keys_and_their_directory_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        self_signed_in(dir.path(), None).unwrap();
        let tls = dir.path().join("tls");
        let mode = |name| fs::metadata(tls.join(name)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(""), 0o700);
        assert_eq!((mode("ca-key.pem"), mode("server-key.pem")), (0o600, 0o600));
        assert_eq!(
            fs::read_dir(&tls).unwrap().count(),
            4,
            "temp files left behind"
        );
    }

    #[test]
    fn leaf_chains_to_the_ca_for_loopback_and_the_extra_host() {
        let dir = tempfile::tempdir().unwrap();
        let material = self_signed_in(dir.path(), Some("Keyway.Test")).unwrap();
        let ca = certs(material.ca_pem.as_ref().unwrap()).remove(0);
        let leaf = certs(&material.cert_chain_pem).remove(0);
        for host in ["localhost", "127.0.0.1", "::1", "keyway.test"] {
            verify_leaf(&ca, &leaf, host).unwrap_or_else(|e| panic!("{host}: {e}"));
        }
        assert!(verify_leaf(&ca, &leaf, "example.com").is_err());

        // The host as a URL spells an IPv6 address; the SANs follow the configured host.
        let material = self_signed_in(dir.path(), Some("[fd00::7]")).unwrap();
        let leaf = certs(&material.cert_chain_pem).remove(0);
        verify_leaf(&ca, &leaf, "fd00::7").unwrap();
        assert!(verify_leaf(&ca, &leaf, "keyway.test").is_err());
    }

    #[test]
    fn rustls_config_accepts_generated_and_user_files() {
        let dir = tempfile::tempdir().unwrap();
        let material = self_signed_in(dir.path(), None).unwrap();
        let config = rustls_config(&material).unwrap().get_inner();
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );

        let user = files(&material.cert_chain_pem, &material.key_pem).unwrap();
        assert_eq!((user.ca_pem.as_ref(), user.created_ca), (None, false));
        rustls_config(&user).unwrap();
    }

    #[test]
    fn files_source_says_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let m = self_signed_in(dir.path(), None).unwrap();
        let (cert, key) = (&m.cert_chain_pem, &m.key_pem);
        let missing = dir.path().join("nope.pem");
        let message = |result: Result<TlsMaterial, TlsError>| result.unwrap_err().to_string();

        let err = message(files(&missing, key));
        let read = format!("cannot read TLS certificate {}: ", missing.display());
        assert!(err.starts_with(&read), "{err}");
        let err = message(files(cert, &missing));
        let read = format!("cannot read TLS private key {}: ", missing.display());
        assert!(err.starts_with(&read), "{err}");
        // The files exist but hold the wrong kind of PEM section.
        let err = message(files(key, key));
        assert_eq!(err, format!("no certificate found in {}", key.display()));
        let err = message(files(cert, cert));
        assert_eq!(err, format!("no private key found in {}", cert.display()));

        let ca_key = dir.path().join("tls/ca-key.pem");
        let err = files(cert, &ca_key).unwrap_err();
        assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err:?}");
    }

    #[test]
    fn half_a_ca_is_an_error_naming_the_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        self_signed_in(dir.path(), None).unwrap();
        let (ca, ca_key) = (
            dir.path().join("tls/ca.pem"),
            dir.path().join("tls/ca-key.pem"),
        );
        let kept = fs::read(&ca).unwrap();
        fs::remove_file(&ca).unwrap();
        let err = self_signed_in(dir.path(), None).unwrap_err().to_string();
        assert!(
            err.contains(&format!("its certificate {} is missing", ca.display())),
            "{err}"
        );
        assert!(!ca.exists(), "the CA must not be replaced");

        fs::write(&ca, kept).unwrap();
        fs::remove_file(&ca_key).unwrap();
        let err = self_signed_in(dir.path(), None).unwrap_err();
        assert!(matches!(err, TlsError::CaKeyMissing { .. }), "{err:?}");
    }

    #[test]
    fn a_ca_key_from_another_ca_is_refused() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        self_signed_in(a.path(), None).unwrap();
        self_signed_in(b.path(), None).unwrap();
        fs::copy(
            b.path().join("tls/ca-key.pem"),
            a.path().join("tls/ca-key.pem"),
        )
        .unwrap();
        let err = self_signed_in(a.path(), None).unwrap_err();
        assert!(matches!(err, TlsError::CaUnusable { .. }), "{err:?}");
    }
}
