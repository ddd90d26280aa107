//! The load target: an `http://` or `https://` URL whose host must be a loopback address.
//! Load is never sent anywhere else.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};

use super::LoadError;

/// A loopback server to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The URL as given (no path).
    pub url: String,
    /// The socket address to connect to.
    pub addr: SocketAddr,
    /// The authority sent in `Host` / `:authority`.
    pub authority: String,
    /// `https://`.
    pub tls: bool,
}

impl Target {
    /// Parses `http[s]://HOST:PORT`; the host must be `localhost`, an address in
    /// 127.0.0.0/8, or `::1`.
    pub fn parse(url: &str) -> Result<Target, LoadError> {
        let bad = |why: &str| LoadError::BadTarget(url.to_owned(), why.to_owned());
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse()
                .map_err(|_| LoadError::NotLoopback(url.to_owned()))?
        };
        if !ip.is_loopback() {
            return Err(LoadError::NotLoopback(url.to_owned()));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        if !matches!(uri.path(), "" | "/") {
            return Err(bad("give the server's root URL, without a path"));
        }
        Ok(Target {
            url: format!("{}://{}", if tls { "https" } else { "http" }, authority),
            addr: SocketAddr::new(ip, port),
            authority: authority.to_string(),
            tls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_targets() {
        let t = Target::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(t.addr.port(), 8080);
        assert!(!t.tls);
        assert!(Target::parse("https://localhost:1").unwrap().tls);
        assert!(Target::parse("http://[::1]:9").is_ok());
        assert!(Target::parse("http://127.9.9.9:9").is_ok());
        for bad in [
            "http://10.0.0.1:80",
            "http://192.168.1.1",
            "http://example.com",
            "http://8.8.8.8:53",
        ] {
            assert!(
                matches!(Target::parse(bad), Err(LoadError::NotLoopback(_))),
                "{bad}"
            );
        }
        for bad in [
            "ftp://127.0.0.1",
            "127.0.0.1:80",
            "http://127.0.0.1:80/me",
            "",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
