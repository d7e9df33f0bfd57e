//! Lesson 13's certificates: a certificate authority of the lesson's own, and a certificate for
//! the server, signed by it, for the names a client on this machine uses: `localhost`,
//! `127.0.0.1` and `::1`. They are kept as PEM files in a folder, so that a client can be told once
//! to trust the authority (`ca.pem`), and the server uses the same certificate every time it
//! starts.
//!
//! An authority made on your machine is trusted by nobody else, which is the point: only the
//! clients you give `ca.pem` to will accept the server. On the internet, a server's certificate
//! comes from an authority that browsers and systems already trust.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

// ANCHOR: files
/// The authority's certificate: what a client is told to trust.
pub const AUTHORITY_FILE: &str = "ca.pem";
/// The server's certificate, and its private key (which never leaves the server).
pub const CERTIFICATE_FILE: &str = "server.pem";
pub const KEY_FILE: &str = "server.key.pem";

/// The names the server's certificate is for: what a client on this machine connects to.
pub const NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Where the certificates are kept when no folder is given: in the system's folder for temporary
/// files. On Linux that folder is shared by every user, so the lesson keeps its own folder in it
/// to you alone (see [`load_or_make`]).
pub fn default_folder() -> PathBuf {
    std::env::temp_dir().join("client-server-rust-13-tls")
}
// ANCHOR_END: files

/// What a server needs to prove who it is.
pub struct ServerIdentity {
    /// The server's certificate.
    pub certificate: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    /// The authority's certificate file, for clients to trust.
    pub authority: PathBuf,
}

/// How long a certificate made here is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// From a day ago (clocks differ a little) to a year from now.
    Now,
    /// It expired in 2020: for showing what a client says about that.
    Expired,
}

/// The server's identity from `folder`, made there first if the files are not all there.
pub fn load_or_make(folder: &Path) -> anyhow::Result<ServerIdentity> {
    let all_there = [AUTHORITY_FILE, CERTIFICATE_FILE, KEY_FILE]
        .iter()
        .all(|file| folder.join(file).exists());
    if all_there {
        keep_private(folder)?;
    } else {
        make(folder, NAMES, Validity::Now)?;
    }
    load(folder)
}

/// An empty file made for a moment in the certificates' folder, to learn who we are.
const OWNER_PROBE: &str = ".owner";

/// On Unix, makes `folder` yours alone (mode 700) and the private key readable by you alone
/// (600). Anyone who can read the key can pretend to be your server to every client that trusts
/// `ca.pem`, and anyone who can write in the folder can put an authority of theirs there. A
/// folder another user made first is refused (even for root, who could change it), and so is a
/// folder that holds anything but the three files (your home, the repository, `/tmp`): closing
/// it is not the lesson's to do.
fn keep_private(folder: &Path) -> anyhow::Result<()> {
    // The three files, and the probe below, which a run that was stopped may have left.
    let own_files = [AUTHORITY_FILE, CERTIFICATE_FILE, KEY_FILE, OWNER_PROBE];
    let entries = std::fs::read_dir(folder)
        .with_context(|| format!("reading the folder {}", folder.display()))?;
    for entry in entries {
        let name = entry?.file_name();
        if !own_files.iter().any(|file| name == *file) {
            bail!(
                "{} holds other files too ({name:?}): give the certificates a folder of their \
                 own, new or empty (--certs FOLDER)",
                folder.display()
            );
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // std cannot say who we are, but a file we make is ours: its owner is us.
        let probe = folder.join(OWNER_PROBE);
        let ours = std::fs::File::create(&probe)
            .and_then(|file| file.metadata())
            .map(|metadata| metadata.uid());
        let _ = std::fs::remove_file(&probe);
        let owner = std::fs::metadata(folder)?.uid();
        if ours.ok() != Some(owner) {
            bail!(
                "{} is another user's folder: give the program a folder of your own for its \
                 certificates (--certs FOLDER)",
                folder.display()
            );
        }
        let private = |path: &Path, mode: u32| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).with_context(
                || {
                    format!(
                        "making {} yours alone: is it another user's? Give the program a \
                         folder of your own for its certificates (--certs FOLDER)",
                        path.display()
                    )
                },
            )
        };
        private(folder, 0o700)?;
        let key = folder.join(KEY_FILE);
        if key.exists() {
            private(&key, 0o600)?;
        }
    }
    Ok(())
}

/// Reads the server's identity from the PEM files in `folder`.
pub fn load(folder: &Path) -> anyhow::Result<ServerIdentity> {
    let certificate = folder.join(CERTIFICATE_FILE);
    let key = folder.join(KEY_FILE);
    Ok(ServerIdentity {
        certificate: CertificateDer::from_pem_file(&certificate).with_context(|| {
            format!(
                "reading the certificate {}: delete the folder to have new ones made",
                certificate.display()
            )
        })?,
        key: PrivateKeyDer::from_pem_file(&key).with_context(|| {
            format!(
                "reading the private key {}: delete the folder to have new ones made",
                key.display()
            )
        })?,
        authority: folder.join(AUTHORITY_FILE),
    })
}

/// Makes a new authority, and a certificate for `names` signed by it, and writes them to
/// `folder` as PEM files. The authority's own private key is not kept: nothing else will ever be
/// signed by it, so nobody can steal it to sign a certificate your clients would trust.
pub fn make(folder: &Path, names: &[&str], validity: Validity) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("creating the folder {}", folder.display()))?;
    keep_private(folder)?;

    let mut authority = CertificateParams::default();
    authority.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own, with when it was made: each authority made here is another one, and
    // a client that trusts one must not mistake another for it.
    authority.distinguished_name.push(
        DnType::CommonName,
        format!(
            "Client-Server Applications in Rust, lesson 13, this machine only, made {} s after \
             2000",
            since_2000().as_secs()
        ),
    );
    authority.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let authority_key = KeyPair::generate()?;
    let authority = authority.self_signed(&authority_key)?;

    // Each name that reads as an IP address becomes an IP address in the certificate.
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let mut server = CertificateParams::new(names)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "lesson 13's server");
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    (server.not_before, server.not_after) = match validity {
        Validity::Now => {
            let now = rcgen::date_time_ymd(2000, 1, 1) + since_2000();
            (now - DAY, now + 365 * DAY)
        }
        Validity::Expired => (
            rcgen::date_time_ymd(2019, 1, 1),
            rcgen::date_time_ymd(2020, 1, 1),
        ),
    };
    let server_key = KeyPair::generate()?;
    let server = server.signed_by(&server_key, &authority, &authority_key)?;

    for (file, pem) in [
        (AUTHORITY_FILE, authority.pem()),
        (CERTIFICATE_FILE, server.pem()),
        (KEY_FILE, server_key.serialize_pem()),
    ] {
        let path = folder.join(file);
        std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
    }
    // The key was written with the usual mode, readable by all, in a folder only you can enter.
    keep_private(folder)
}

const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// How long it is since 2000 began, by the system's clock.
fn since_2000() -> std::time::Duration {
    let year_2000 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(946_684_800);
    std::time::SystemTime::now()
        .duration_since(year_2000)
        .unwrap_or_default()
}
