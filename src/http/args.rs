//! The options of `tokenbench serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use cookie::SameSite;

use super::config::{Limits, Revocation, ServerConfig, Transport};
use super::cors::{CookiePolicy, CorsPolicy, parse_origin, parse_same_site};
use super::site::{JwksUrl, SiteConfig};
use crate::claims::ClaimSet;
use crate::scheme::spec::{Family, SchemeSpec, StoreSpec};
use crate::scheme::{HybridConfig, JwtAlg, JwtConfig, PasetoPurpose, SessionConfig};
use crate::store::site::SiteName;
use crate::units::{parse_duration, parse_lifetime};

/// Options of `tokenbench serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Token family: session, jwt, paseto or hybrid (access JWTs of --alg, refresh families
    /// in --store).
    #[arg(long, default_value = "session", value_parser = parse_family)]
    pub scheme: Family,
    /// JWT algorithm: HS256, RS256, ES256, EdDSA.
    #[arg(long, default_value = "HS256", value_parser = parse_alg)]
    pub alg: JwtAlg,
    /// PASETO v4 purpose: public (Ed25519, claims readable) or local (encrypted).
    #[arg(long, default_value = "public", value_parser = parse_purpose)]
    pub purpose: PasetoPurpose,
    /// Session store: memory, rwlock, redis://HOST:PORT[/DB], redis+cluster://HOST:PORT[,...],
    /// postgres://USER:PASSWORD@HOST:PORT/DB (user, password and port optional).
    /// With a self-contained scheme and --revocation denylist|pushed|polled, a redis://
    /// store holds the denylist.
    #[arg(long, default_value = "memory", value_parser = parse_store)]
    pub store: StoreSpec,
    /// Revocation of a self-contained token (JWT, PASETO) at logout: none (valid until its
    /// expiry); denylist (a central denylist looked up by every request: in memory, or in
    /// the redis:// --store); pushed (a copy per node fed by Redis pub/sub) or polled (a
    /// copy per node refreshed every --poll-interval from Redis), both needing a redis://
    /// --store. Sessions are deleted.
    #[arg(long, default_value = "none", value_parser = parse_revocation)]
    pub revocation: Revocation,
    /// How often a --revocation polled node copies the denylist from Redis.
    #[arg(long, default_value = "1s", value_parser = parse_lifetime)]
    pub poll_interval: Duration,
    /// A per-node cache of this lifetime in front of the session store (sessions only): a
    /// revocation reaches the other nodes up to this late. Default: none.
    #[arg(long, value_parser = parse_lifetime)]
    pub session_cache: Option<Duration>,
    /// This node belongs to site NAME ([a-z0-9_-], at most 32): nodes with the same NAME,
    /// --store and --key-dir share their records (under a namespace derived from NAME,
    /// never deleted by a node) and their keys. Needs --key-dir.
    #[arg(long, value_name = "NAME", value_parser = parse_site, requires = "key_dir")]
    pub site: Option<SiteName>,
    /// The site's key directory (mode 0700; created if missing): the first node writes the
    /// site's keys there (files of mode 0600), the others load them. Needs --site.
    #[arg(long, value_name = "DIR", requires = "site")]
    pub key_dir: Option<PathBuf>,
    /// Verify tokens with the site's public key alone (RS256, ES256, EdDSA,
    /// paseto-v4-public), from --key-dir or --jwks-url; log nobody in (403). Needs --site.
    #[arg(long, requires = "site")]
    pub verify_only: bool,
    /// Where a --verify-only node fetches the issuer's public key:
    /// http://127.0.0.1:PORT/.well-known/jwks.json (plain HTTP, loopback only).
    #[arg(long, value_name = "URL", value_parser = parse_jwks_url, requires = "verify_only")]
    pub jwks_url: Option<JwksUrl>,
    /// How the credential travels: cookie or bearer.
    #[arg(long, default_value = "cookie", value_parser = parse_transport)]
    pub transport: Transport,
    /// Address to listen on (port 0: any free port; the first stdout line says which).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Allow a --listen address outside loopback (the demo accounts' passwords are public).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// How many demo accounts (demo only: their passwords are public).
    #[arg(
        long,
        default_value_t = 100,
        help = "Demo accounts user-<i> / password-<i> for i below N (demo only)",
        value_parser = clap::value_parser!(u64).range(1..=100_000)
    )]
    pub users: u64,
    /// HTTPS with HTTP/2 by ALPN and a certificate generated at start-up.
    #[arg(long)]
    pub tls: bool,
    /// Record the header bytes each request arrives with (HTTP/2: its HEADERS and
    /// CONTINUATION frames; HTTP/1.1: its head), per connection, in order; read them back
    /// with GET /debug/header-bytes (404 without this flag).
    #[arg(long)]
    pub record_header_bytes: bool,
    /// The claim set a login issues: minimal, typical or large (claims.rs).
    #[arg(long, default_value = "typical", value_parser = parse_claims)]
    pub claims: ClaimSet,
    /// Session idle timeout.
    #[arg(long, default_value = "30m", value_parser = parse_lifetime)]
    pub idle_timeout: Duration,
    /// Session absolute timeout.
    #[arg(long, default_value = "8h", value_parser = parse_lifetime)]
    pub absolute_timeout: Duration,
    /// JWT lifetime (exp - iat).
    #[arg(long, default_value = "15m", value_parser = parse_lifetime)]
    pub jwt_lifetime: Duration,
    /// The hybrid's access-token lifetime (exp - iat); its refresh family lives
    /// --absolute-timeout.
    #[arg(long, default_value = "5m", value_parser = parse_lifetime)]
    pub access_lifetime: Duration,
    /// The hybrid's reuse grace: how long after a rotation the replaced refresh token gets
    /// the same successor instead of revoking its family (0: never).
    #[arg(long, default_value = "0", value_parser = parse_grace)]
    pub reuse_grace: Duration,
    /// Time allowed to send a request's headers (HTTP/1.1).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// Deadline of a whole request (408 past it).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Requests in flight before new ones are shed with 503.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_inflight: u64,
    /// Largest total request header size (431 beyond).
    #[arg(long, default_value_t = 16 * 1024, value_parser = clap::value_parser!(u64).range(1024..=1_048_576))]
    pub max_header_bytes: u64,
    /// Worker threads of the server (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: Option<u64>,
    /// An origin (https://HOST or https://HOST:PORT) allowed to read the site's answers with
    /// credentials (CORS: echoed, never `*`, with `Vary: Origin`); repeat for several.
    /// Other origins get no CORS header and their preflights a 403. Default: none.
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = parse_origin)]
    pub cors_origins: Vec<String>,
    /// `Access-Control-Max-Age` of an allowed preflight, in seconds (at most 86400);
    /// default: not sent. Needs --cors-origin.
    #[arg(long, value_name = "SECS", requires = "cors_origins",
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub cors_max_age: Option<u64>,
    /// `SameSite` of every cookie the site sets: none, lax or strict (none keeps `Secure`,
    /// as every cookie of the site has).
    #[arg(long, default_value = "lax", value_parser = parse_same_site)]
    pub samesite: SameSite,
    /// Adds `Partitioned` (CHIPS) to every cookie the site sets.
    #[arg(long)]
    pub partitioned: bool,
    /// Keep which credential each request carried (names, never values) for
    /// `GET /requests` (the last 4096 requests).
    #[arg(long)]
    pub request_log: bool,
    /// The scheme as its serialized `SchemeSpec` (JSON) instead of --scheme, --alg and a
    /// session --store: how the http workload starts its servers, for any family.
    #[arg(long, hide = true, conflicts_with_all = ["scheme", "alg"])]
    pub spec: Option<String>,
}

fn parse_family(s: &str) -> Result<Family, String> {
    s.parse()
}
fn parse_alg(s: &str) -> Result<JwtAlg, String> {
    s.parse()
}
fn parse_purpose(s: &str) -> Result<PasetoPurpose, String> {
    s.parse()
}
fn parse_grace(s: &str) -> Result<Duration, String> {
    match s.trim() {
        "0" | "0s" | "0ms" => Ok(Duration::ZERO),
        other => parse_duration(other),
    }
}
fn parse_store(s: &str) -> Result<StoreSpec, String> {
    match StoreSpec::parse_list(s)?.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("'{s}': give exactly one store")),
    }
}
fn parse_claims(s: &str) -> Result<ClaimSet, String> {
    s.parse()
}
fn parse_revocation(s: &str) -> Result<Revocation, String> {
    s.parse()
}
fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse()
}
fn parse_site(s: &str) -> Result<SiteName, String> {
    s.parse()
}
fn parse_jwks_url(s: &str) -> Result<JwksUrl, String> {
    s.parse()
}

impl ServeArgs {
    /// The scheme these flags name: `--spec`, or the command line's spelling of a family
    /// (the one place in the server that names families).
    pub fn scheme_spec(&self) -> Result<SchemeSpec, String> {
        if let Some(json) = &self.spec {
            return serde_json::from_str(json)
                .map_err(|e| format!("--spec is not a scheme spec: {e}"));
        }
        Ok(match self.scheme {
            Family::Session => SchemeSpec::Session(self.store.clone()),
            Family::Jwt => SchemeSpec::Jwt(self.alg),
            Family::Paseto => SchemeSpec::Paseto(self.purpose),
            Family::Hybrid => SchemeSpec::Hybrid(self.alg, self.store.clone()),
        })
    }

    /// The server configuration these flags describe, or why they make no sense.
    pub fn config(&self) -> Result<ServerConfig, String> {
        if !self.listen.ip().is_loopback() && !self.allow_non_loopback {
            return Err(format!(
                "--listen {} is not a loopback address; the demo accounts have public passwords \
                 (add --allow-non-loopback to insist)",
                self.listen
            ));
        }
        if self.idle_timeout > self.absolute_timeout {
            return Err("--idle-timeout must not exceed --absolute-timeout".into());
        }
        let scheme = self.scheme_spec()?;
        let caps = scheme.capabilities();
        if self.revocation != Revocation::None && caps.revocable_by_delete {
            return Err(format!(
                "--revocation {} applies to self-contained tokens: {scheme} is revoked by \
                 deleting its record",
                self.revocation.name()
            ));
        }
        let denylisted = self.revocation.needs_denylist(caps);
        let denylist_redis = match &self.store {
            StoreSpec::Redis(url) if denylisted => Some(url.clone()),
            _ => None,
        };
        if denylisted && self.revocation.needs_redis() && denylist_redis.is_none() {
            return Err(format!(
                "--revocation {} keeps a copy of the denylist per node, fed from Redis: give \
                 --store redis://HOST:PORT (it holds the denylist)",
                self.revocation.name()
            ));
        }
        if self.session_cache.is_some() && !caps.store_lookup {
            return Err(format!(
                "--session-cache caches store lookups: {scheme} looks nothing up"
            ));
        }
        let site = match &self.site {
            None => None,
            Some(name) => Some(self.site_config(name, &scheme, denylisted, &denylist_redis)?),
        };
        let mut c = ServerConfig::new(scheme, self.transport);
        c.revocation = self.revocation;
        c.denylist_redis = denylist_redis;
        c.poll_interval = self.poll_interval;
        c.session_cache = self.session_cache;
        c.site = site;
        c.users = self.users as usize;
        c.record_header_bytes = self.record_header_bytes;
        c.login_claims = self.claims;
        c.session = SessionConfig {
            idle_timeout: self.idle_timeout,
            absolute_timeout: self.absolute_timeout,
            ..SessionConfig::default()
        };
        c.jwt = JwtConfig {
            lifetime: self.jwt_lifetime,
            ..JwtConfig::default()
        };
        c.cors = CorsPolicy {
            origins: self.cors_origins.clone(),
            max_age: self.cors_max_age.map(Duration::from_secs),
        };
        c.cookies = CookiePolicy {
            same_site: self.samesite,
            partitioned: self.partitioned,
        };
        c.request_log = self.request_log;
        c.hybrid = HybridConfig {
            access_lifetime: self.access_lifetime,
            refresh_lifetime: self.absolute_timeout,
            reuse_grace: self.reuse_grace,
        };
        c.limits = Limits {
            header_read_timeout: self.header_read_timeout,
            request_timeout: self.request_timeout,
            max_inflight: self.max_inflight as usize,
            max_header_bytes: self.max_header_bytes as usize,
            ..Limits::default()
        };
        Ok(c)
    }

    /// The site of `--site NAME`, or why the other flags cannot make one: a site's nodes
    /// must share what they decide on (sessions in a networked store, a denylist in Redis),
    /// and only a public-key scheme has verify-only nodes.
    fn site_config(
        &self,
        name: &SiteName,
        scheme: &SchemeSpec,
        denylisted: bool,
        denylist_redis: &Option<String>,
    ) -> Result<SiteConfig, String> {
        let key_dir = self
            .key_dir
            .clone()
            .ok_or("--site needs --key-dir DIR (where the site's keys live)")?;
        let caps = scheme.capabilities();
        if let Some(store) = scheme.any_store().filter(|s| !s.is_remote()) {
            return Err(format!(
                "--site {name}: the nodes of a site share their sessions through a networked \
                 store, and {} lives in one process: give --store redis://... or postgres://...",
                store.name()
            ));
        }
        if denylisted && denylist_redis.is_none() {
            return Err(format!(
                "--site {name} --revocation {}: the nodes of a site must share their denylist: \
                 give --store redis://HOST:PORT (it holds the denylist)",
                self.revocation.name()
            ));
        }
        if self.verify_only && !caps.public_key_verifiable {
            return Err(format!(
                "--verify-only: {scheme} is verified with a secret key (or a store lookup), so \
                 a verifier would hold what issues tokens; only RS256, ES256, EdDSA and \
                 paseto-v4-public have verify-only nodes"
            ));
        }
        Ok(SiteConfig {
            name: name.clone(),
            key_dir,
            verify_only: self.verify_only,
            jwks_url: self.jwks_url.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::http::LogoutOutcome;
    use crate::http::child::serve_args;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    fn config<S: AsRef<str>>(args: &[S]) -> Result<ServerConfig, String> {
        let argv = std::iter::once("serve").chain(args.iter().map(AsRef::as_ref));
        Cli::try_parse_from(argv)
            .map_err(|e| e.to_string())?
            .serve
            .config()
    }

    #[test]
    fn a_denylist_is_refused_for_a_scheme_revoked_by_delete() {
        let e = config(&["--revocation", "denylist"]).unwrap_err();
        assert!(
            e.contains("self-contained") && e.contains("session-memory"),
            "{e}"
        );
        let redis = "redis://127.0.0.1:1/";
        let c = config(&[
            "--scheme",
            "jwt",
            "--revocation",
            "denylist",
            "--store",
            redis,
        ])
        .unwrap();
        assert_eq!(c.denylist_redis.as_deref(), Some(redis));
        let c = config(&["--scheme", "jwt", "--store", redis]).unwrap();
        assert_eq!(c.denylist_redis, None, "no denylist asked, none built");
    }

    #[test]
    fn a_site_needs_what_its_nodes_share() {
        let redis = "redis://127.0.0.1:1/";
        let c = config(&[
            "--scheme",
            "jwt",
            "--alg",
            "ES256",
            "--site",
            "s1",
            "--key-dir",
            "/tmp/k",
            "--revocation",
            "pushed",
            "--store",
            redis,
        ])
        .unwrap();
        let site = c.site.unwrap();
        assert_eq!((site.name.as_str(), site.verify_only), ("s1", false));
        assert_eq!(c.denylist_redis.as_deref(), Some(redis));
        assert_eq!(c.revocation, Revocation::Pushed);
        // Both flags or neither.
        assert!(config(&["--site", "s1"]).is_err());
        assert!(config(&["--key-dir", "/tmp/k"]).is_err());
        let refused = |args: &[&str], says: &str| {
            let e = config(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        };
        refused(&["--site", "S:1", "--key-dir", "/k"], "site name");
        refused(&["--site", "s", "--key-dir", "/k"], "networked");
        // A hybrid's nodes share its refresh families: on a networked store only.
        refused(
            &["--scheme", "hybrid", "--site", "s", "--key-dir", "/k"],
            "networked",
        );
        let hybrid = config(&[
            "--scheme",
            "hybrid",
            "--site",
            "s",
            "--key-dir",
            "/k",
            "--store",
            redis,
        ])
        .unwrap();
        assert!(hybrid.site.is_some(), "a hybrid site on Redis");
        refused(
            &[
                "--site",
                "s",
                "--key-dir",
                "/k",
                "--scheme",
                "jwt",
                "--revocation",
                "denylist",
            ],
            "share their denylist",
        );
        refused(&["--scheme", "jwt", "--revocation", "polled"], "redis://");
        refused(&["--revocation", "pushed"], "self-contained");
        refused(
            &["--scheme", "jwt", "--session-cache", "1s"],
            "--session-cache",
        );
        for (scheme, extra) in [("jwt", "HS256"), ("paseto", "local"), ("session", "x")] {
            let mut args = vec![
                "--scheme",
                scheme,
                "--site",
                "s",
                "--key-dir",
                "/k",
                "--verify-only",
            ];
            match scheme {
                "jwt" => args.extend(["--alg", extra]),
                "paseto" => args.extend(["--purpose", extra]),
                _ => args.extend(["--store", "redis://127.0.0.1:1/"]),
            }
            refused(&args, "--verify-only");
        }
        assert!(config(&["--scheme", "jwt", "--alg", "EdDSA", "--verify-only"]).is_err());
        assert!(config(&["--scheme", "jwt", "--jwks-url", "http://127.0.0.1:1/j"]).is_err());
        refused(
            &[
                "--scheme",
                "jwt",
                "--alg",
                "EdDSA",
                "--site",
                "s",
                "--key-dir",
                "/k",
                "--verify-only",
                "--jwks-url",
                "http://10.1.1.1/j",
            ],
            "loopback",
        );
        let c = config(&[
            "--scheme",
            "paseto",
            "--site",
            "s",
            "--key-dir",
            "/k",
            "--verify-only",
            "--jwks-url",
            "http://127.0.0.2:9/.well-known/jwks.json",
        ])
        .unwrap();
        assert!(
            c.site
                .is_some_and(|s| s.verify_only && s.jwks_url.is_some())
        );
        let c = config(&[
            "--store",
            "postgres://127.0.0.1:1/x",
            "--site",
            "s",
            "--key-dir",
            "/k",
            "--session-cache",
            "2s",
        ])
        .unwrap();
        assert_eq!(c.session_cache, Some(Duration::from_secs(2)));
        // Without --site nothing changes.
        let plain = config(&["--scheme", "jwt"]).unwrap();
        assert!(plain.site.is_none() && plain.session_cache.is_none());
    }

    #[test]
    fn the_child_flags_name_the_scheme_they_were_made_from() {
        for spec in [
            SchemeSpec::Session(StoreSpec::Memory),
            SchemeSpec::Session(StoreSpec::Redis("redis://:pw@127.0.0.1:6379/2".into())),
            SchemeSpec::Jwt(JwtAlg::ES256),
        ] {
            let caps = spec.capabilities();
            for revocation in [Revocation::None, Revocation::Denylist] {
                let args = serve_args(&spec, Transport::Bearer, revocation, 7, true);
                let c = config(&args[1..]).unwrap();
                assert_eq!(c.scheme, spec);
                assert_eq!((c.transport, c.users), (Transport::Bearer, 7));
                assert_eq!(
                    LogoutOutcome::of(caps, c.revocation),
                    LogoutOutcome::of(caps, revocation)
                );
            }
        }
        assert!(config(&["--spec", "{\"Jwt\":\"ES256\"}", "--scheme", "jwt"]).is_err());
        let e = config(&["--spec", "{\"Jwt\":\"none\"}"]).unwrap_err();
        assert!(e.contains("--spec"), "{e}");
    }
}
