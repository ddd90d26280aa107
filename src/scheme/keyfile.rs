//! A site's key directory: the key material every node of one site shares, kept the way
//! deployments keep it, in files of mode 0600 in a directory nobody else may enter.
//!
//! - `<scheme>.key` (`jwt-ES256.key`): the scheme's private key, as
//!   `{"scheme": "jwt-ES256", "private_key": "…"}` (a JWT's PKCS#8 document or HS256
//!   secret in base64url, a PASETO's PASERK; [`SchemeKeys::from_private_text`]).
//! - `<scheme>.pub`: its public key, `{"scheme": …, "public_key": …}`, written beside it
//!   by the issuer for verify-only nodes (asymmetric schemes only).
//! - `<name>.secret` (`csrf.secret`): a named 256-bit secret, `{"secret": "…"}`.
//!
//! The first node creates a file, the others read it: the content goes to a temporary file
//! (mode 0600, synced) that is then hard-linked to its name, which fails when the name
//! exists. So two nodes starting together never both create, no reader sees half a file,
//! and the loser reads the winner's key. A file or directory that group or others may
//! access, or a symbolic link, is refused, never used. Errors name files, never their
//! contents; nothing here prints or copies a key anywhere else.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::SchemeError;
use super::spec::{SchemeKeys, SchemeSpec};

/// Largest key file read (an RSA PKCS#8 document in base64 is under 2 KiB).
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// Bytes of a named secret.
pub const SECRET_BYTES: usize = 32;

/// Why key material could not be had from a key directory.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file or directory may be accessed by group or others: refused, never used.
    #[error(
        "{}: mode {mode:04o} lets group or others in; key material must be private \
         (chmod {} {0})", path.display(), if *dir { "700" } else { "600" }
    )]
    Insecure {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Whether it is the directory.
        dir: bool,
    },
    /// A file that is not a regular file, or a directory that is not one (a symbolic link
    /// included).
    #[error("{}: {what}", path.display())]
    NotPlain {
        /// The path.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// A file that should be there is not.
    #[error("{} does not exist: {hint}", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
        /// Who writes it.
        hint: &'static str,
    },
    /// A file that holds no usable key (its contents are never shown).
    #[error("{}: {why}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// Reading, writing or creating failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl KeyFileError {
    fn io(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> KeyFileError {
        let path = path.to_path_buf();
        move |source| KeyFileError::Io { what, path, source }
    }

    fn invalid(path: &Path, why: impl Into<String>) -> KeyFileError {
        KeyFileError::Invalid {
            path: path.to_path_buf(),
            why: why.into(),
        }
    }
}

impl From<KeyFileError> for SchemeError {
    fn from(e: KeyFileError) -> Self {
        SchemeError::Key(e.to_string())
    }
}

/// The private key file's content.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateFile {
    scheme: String,
    private_key: String,
}

/// The public key file's content.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicFile {
    scheme: String,
    public_key: String,
}

/// A named secret's file content.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretFile {
    secret: String,
}

/// A key directory, checked private (mode 0700 or stricter, not a symbolic link).
#[derive(Debug, Clone)]
pub struct KeyDir {
    path: PathBuf,
}

impl KeyDir {
    /// Opens `path`, creating it (mode 0700) when missing; refuses a directory that group
    /// or others may access, and anything but a directory.
    pub fn open(path: &Path) -> Result<KeyDir, KeyFileError> {
        match fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(KeyFileError::io("creating the key directory", path)(e)),
        }
        let meta = fs::symlink_metadata(path)
            .map_err(KeyFileError::io("reading the key directory", path))?;
        if !meta.file_type().is_dir() {
            return Err(KeyFileError::NotPlain {
                path: path.to_path_buf(),
                what: "not a directory (a symbolic link is refused too)",
            });
        }
        private(path, meta.mode(), true)?;
        Ok(KeyDir {
            path: path.to_path_buf(),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the private key of `spec` lives (`<dir>/<scheme>.key`).
    pub fn private_path(&self, spec: &SchemeSpec) -> PathBuf {
        self.path.join(format!("{}.key", spec.name()))
    }

    /// Where the public key of `spec` lives (`<dir>/<scheme>.pub`).
    pub fn public_path(&self, spec: &SchemeSpec) -> PathBuf {
        self.path.join(format!("{}.pub", spec.name()))
    }

    /// The keys of an issuing node of `spec`: read from `<scheme>.key`, or, for the first
    /// node, generated and written there (with `<scheme>.pub` beside it for an asymmetric
    /// scheme; a `.pub` that does not match the private key is refused). `None` for a
    /// scheme that keeps its state in a store.
    pub fn issuer_keys(&self, spec: &SchemeSpec) -> Result<Option<SchemeKeys>, KeyFileError> {
        let path = self.private_path(spec);
        let text = load_or_create(&path, || {
            let Some(private_key) = SchemeKeys::generate_private_text(spec)
                .map_err(|e| KeyFileError::invalid(&path, e.to_string()))?
            else {
                return Ok(None);
            };
            json(&PrivateFile {
                scheme: spec.name(),
                private_key,
            })
            .map(Some)
        })?;
        let Some(text) = text else {
            return Ok(None);
        };
        let file: PrivateFile = parse(&path, &text)?;
        same_scheme(&path, &file.scheme, spec)?;
        let keys = SchemeKeys::from_private_text(spec, &file.private_key)
            .map_err(|e| KeyFileError::invalid(&path, e.to_string()))?;
        if let Some(public_key) = keys.public_text() {
            let public_path = self.public_path(spec);
            let wanted = PublicFile {
                scheme: spec.name(),
                public_key,
            };
            let written = load_or_create(&public_path, || json(&wanted).map(Some))?
                .ok_or_else(|| KeyFileError::invalid(&public_path, "empty"))?;
            let found: PublicFile = parse(&public_path, &written)?;
            if found.scheme != wanted.scheme || found.public_key != wanted.public_key {
                return Err(KeyFileError::invalid(
                    &public_path,
                    format!(
                        "does not hold the public key of {} beside it",
                        path.display()
                    ),
                ));
            }
        }
        Ok(Some(keys))
    }

    /// The keys of a verify-only node of `spec`: the public key alone, from
    /// `<scheme>.pub` (written by an issuing node). The private key file is never opened.
    pub fn verifier_keys(&self, spec: &SchemeSpec) -> Result<SchemeKeys, KeyFileError> {
        let path = self.public_path(spec);
        let text = read_private(&path)?.ok_or_else(|| KeyFileError::Missing {
            path: path.clone(),
            hint: "an issuing node of the site writes it at start-up: start one first",
        })?;
        let file: PublicFile = parse(&path, &text)?;
        same_scheme(&path, &file.scheme, spec)?;
        SchemeKeys::from_public_text(spec, &file.public_key)
            .map_err(|e| KeyFileError::invalid(&path, e.to_string()))
    }

    /// The secret named `name` (`[a-z0-9-]`, e.g. `csrf`): read from `<name>.secret`, or,
    /// for the first node, 256 random bits written there.
    pub fn secret(&self, name: &str) -> Result<[u8; SECRET_BYTES], KeyFileError> {
        let path = self.path.join(format!("{name}.secret"));
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(KeyFileError::invalid(
                &path,
                "a secret's name is [a-z0-9-]+",
            ));
        }
        let text = load_or_create(&path, || {
            let mut secret = [0u8; SECRET_BYTES];
            rand::rng().fill_bytes(&mut secret);
            json(&SecretFile {
                secret: URL_SAFE_NO_PAD.encode(secret),
            })
            .map(Some)
        })?
        .ok_or_else(|| KeyFileError::invalid(&path, "empty"))?;
        let file: SecretFile = parse(&path, &text)?;
        URL_SAFE_NO_PAD
            .decode(file.secret.trim())
            .ok()
            .and_then(|b| <[u8; SECRET_BYTES]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| {
                KeyFileError::invalid(&path, format!("not {SECRET_BYTES} bytes of base64url"))
            })
    }
}

/// Refuses `mode` when group or others have any access.
fn private(path: &Path, mode: u32, dir: bool) -> Result<(), KeyFileError> {
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Insecure {
            path: path.to_path_buf(),
            mode: mode & 0o7777,
            dir,
        });
    }
    Ok(())
}

fn same_scheme(path: &Path, named: &str, spec: &SchemeSpec) -> Result<(), KeyFileError> {
    if named == spec.name() {
        Ok(())
    } else {
        Err(KeyFileError::invalid(
            path,
            format!("holds a key of {named}, not of {spec}"),
        ))
    }
}

fn json<T: Serialize>(value: &T) -> Result<String, KeyFileError> {
    // Plain structs of strings: serializing cannot fail, but say so if it ever did.
    serde_json::to_string_pretty(value)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| KeyFileError::invalid(Path::new("(key file)"), e.to_string()))
}

fn parse<'a, T: Deserialize<'a>>(path: &Path, text: &'a str) -> Result<T, KeyFileError> {
    // serde_json's message names a position and what it expected, never the value.
    serde_json::from_str(text).map_err(|e| {
        KeyFileError::invalid(
            path,
            format!(
                "not a tokenbench key file (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })
}

/// The content of `path`, `None` when it does not exist. Refuses a symbolic link,
/// anything but a regular file, and a file that group or others may access (checked on
/// the open file, so it cannot be swapped between the check and the read).
fn read_private(path: &Path) -> Result<Option<String>, KeyFileError> {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(KeyFileError::NotPlain {
                path: path.to_path_buf(),
                what: "a symbolic link (refused: a key file is a plain file)",
            });
        }
        Err(e) => return Err(KeyFileError::io("opening", path)(e)),
    };
    let meta = file
        .metadata()
        .map_err(KeyFileError::io("reading the mode of", path))?;
    if !meta.file_type().is_file() {
        return Err(KeyFileError::NotPlain {
            path: path.to_path_buf(),
            what: "not a regular file",
        });
    }
    private(path, meta.mode(), false)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(KeyFileError::invalid(path, "larger than any key file"));
    }
    let mut text = String::new();
    file.take(MAX_FILE_BYTES)
        .read_to_string(&mut text)
        .map_err(KeyFileError::io("reading", path))?;
    Ok(Some(text))
}

/// The content of `path`: read when it exists; otherwise `make` gives it (`None`: there is
/// nothing to write, and `None` is returned), it is written to a temporary file of mode
/// 0600 and linked to `path` unless another process got there first, and `path` is read.
fn load_or_create(
    path: &Path,
    make: impl FnOnce() -> Result<Option<String>, KeyFileError>,
) -> Result<Option<String>, KeyFileError> {
    if let Some(text) = read_private(path)? {
        return Ok(Some(text));
    }
    let Some(content) = make()? else {
        return Ok(None);
    };
    create_exclusive(path, &content)?;
    read_private(path)?
        .map(Some)
        .ok_or_else(|| KeyFileError::invalid(path, "vanished right after it was written"))
}

/// Writes `content` to `path` unless it exists (then leaves it alone): temporary file,
/// sync, `link(2)` (which never replaces a name), unlink of the temporary file.
fn create_exclusive(path: &Path, content: &str) -> Result<(), KeyFileError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nonce = [0u8; 8];
    rand::rng().fill_bytes(&mut nonce);
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", URL_SAFE_NO_PAD.encode(nonce)));
    let written = (|| -> io::Result<()> {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        // The umask can only take bits away; set exactly 0600 all the same.
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(content.as_bytes())?;
        f.sync_all()
    })();
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            // Make the new name durable; a failure here loses nothing already read.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(KeyFileError::io("writing", path)(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::scheme::{JwtAlg, PasetoPurpose};

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_first_node_creates_private_files_and_the_next_one_loads_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = KeyDir::open(&tmp.path().join("site")).unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        for spec in [
            SchemeSpec::Jwt(JwtAlg::ES256),
            SchemeSpec::Jwt(JwtAlg::HS256),
            SchemeSpec::Paseto(PasetoPurpose::Public),
            SchemeSpec::Paseto(PasetoPurpose::Local),
        ] {
            let a = dir.issuer_keys(&spec).unwrap().unwrap();
            let b = dir.issuer_keys(&spec).unwrap().unwrap();
            assert_eq!(a.public_text(), b.public_text(), "{spec}");
            assert_eq!(mode(&dir.private_path(&spec)), 0o600);
            let asymmetric = spec.capabilities().public_key_verifiable;
            assert_eq!(dir.public_path(&spec).exists(), asymmetric, "{spec}");
            if asymmetric {
                assert_eq!(mode(&dir.public_path(&spec)), 0o600);
                let v = dir.verifier_keys(&spec).unwrap();
                assert!(!v.can_issue() && a.can_issue());
                assert_eq!(v.public_text(), a.public_text());
            } else {
                assert!(dir.verifier_keys(&spec).is_err(), "{spec}");
            }
        }
        assert_eq!(
            dir.issuer_keys(&SchemeSpec::Session(crate::scheme::spec::StoreSpec::Memory))
                .unwrap()
                .map(|_| ()),
            None
        );
        let s = dir.secret("csrf").unwrap();
        assert_eq!(dir.secret("csrf").unwrap(), s);
        assert!(dir.secret("../x").is_err());
        // No temporary file is left behind.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn nodes_starting_together_share_one_key() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("k");
        let spec = SchemeSpec::Jwt(JwtAlg::EdDSA);
        let start = Arc::new(Barrier::new(4));
        let nodes: Vec<_> = (0..4)
            .map(|_| {
                let (path, spec, start) = (path.clone(), spec.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let dir = KeyDir::open(&path).unwrap();
                    dir.issuer_keys(&spec).unwrap().unwrap().public_text()
                })
            })
            .collect();
        let publics: Vec<Option<String>> = nodes.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(
            publics.iter().all(|p| p.is_some() && *p == publics[0]),
            "{publics:?}"
        );
    }

    #[test]
    fn readable_files_and_directories_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("site");
        let dir = KeyDir::open(&root).unwrap();
        let spec = SchemeSpec::Jwt(JwtAlg::RS256);
        dir.issuer_keys(&spec).unwrap();
        let key = dir.private_path(&spec);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let e = dir.issuer_keys(&spec).unwrap_err();
        assert!(matches!(e, KeyFileError::Insecure { .. }), "{e}");
        assert!(
            e.to_string().contains("0644") && e.to_string().contains("chmod 600"),
            "{e}"
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o750)).unwrap();
        let e = KeyDir::open(&root).unwrap_err();
        assert!(e.to_string().contains("chmod 700"), "{e}");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();
        // A symbolic link is not followed.
        let link = root.join("jwt-ES256.key");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let e = dir
            .issuer_keys(&SchemeSpec::Jwt(JwtAlg::ES256))
            .unwrap_err();
        assert!(matches!(e, KeyFileError::NotPlain { .. }), "{e}");
    }

    #[test]
    fn wrong_or_broken_files_are_refused_without_showing_them() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = KeyDir::open(&tmp.path().join("k")).unwrap();
        let es = SchemeSpec::Jwt(JwtAlg::ES256);
        let keys = dir.issuer_keys(&es).unwrap().unwrap();
        // Another scheme's key under this name.
        let ed = SchemeSpec::Jwt(JwtAlg::EdDSA);
        fs::copy(dir.private_path(&es), dir.private_path(&ed)).unwrap();
        let e = dir.issuer_keys(&ed).unwrap_err().to_string();
        assert!(e.contains("holds a key of jwt-ES256"), "{e}");
        // A public key file that is not the private key's.
        let other = SchemeKeys::from_private_text(
            &es,
            &SchemeKeys::generate_private_text(&es).unwrap().unwrap(),
        )
        .unwrap();
        let secret = fs::read_to_string(dir.private_path(&es)).unwrap();
        let forged = json(&PublicFile {
            scheme: es.name(),
            public_key: other.public_text().unwrap(),
        })
        .unwrap();
        fs::remove_file(dir.public_path(&es)).unwrap();
        create_exclusive(&dir.public_path(&es), &forged).unwrap();
        let e = dir.issuer_keys(&es).unwrap_err().to_string();
        assert!(e.contains("does not hold the public key"), "{e}");
        // Garbage: the error names the file, never its content.
        fs::remove_file(dir.private_path(&es)).unwrap();
        create_exclusive(
            &dir.private_path(&es),
            "{\"scheme\":\"jwt-ES256\",\"private_key\":\"c2VjcmV0LXNlY3JldA\"}",
        )
        .unwrap();
        let e = dir.issuer_keys(&es).unwrap_err().to_string();
        assert!(
            e.contains("jwt-ES256.key") && !e.contains("c2VjcmV0"),
            "{e}"
        );
        assert!(!secret.is_empty() && keys.can_issue());
        let missing = dir
            .verifier_keys(&SchemeSpec::Paseto(PasetoPurpose::Public))
            .unwrap_err();
        assert!(matches!(missing, KeyFileError::Missing { .. }), "{missing}");
    }
}
