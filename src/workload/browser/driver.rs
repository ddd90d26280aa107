//! A headless Chromium driven over W3C WebDriver (`chromedriver`), with the few commands
//! the browser workload needs: new session, navigate, run a script (sync or async), click
//! an element, read and add cookies, end the session.
//!
//! Why a client of our own rather than `fantoccini`: WebDriver is JSON over HTTP/1.1 on
//! loopback, which the hyper client already in the tree speaks; `fantoccini` (0.22, even
//! without default features) pulls `webdriver` 0.53 and with it 24 crates more, among them
//! ICU4X's segmenter and its data (the build this crate keeps out through `idna_adapter`),
//! a second `http` (0.2), a second `cookie` (0.16) and a second `thiserror` (1). What CDP
//! would add (preflights, each cookie's blocked reasons) is observed where it is ground
//! truth instead: the server counts `OPTIONS` and logs which credential each request
//! carried ([`crate::http::request_log`]).
//!
//! Chromium is told to resolve the workload's host names to loopback
//! (`--host-resolver-rules`) and to trust the server's certificate by the hash of its key
//! alone (`--ignore-certificate-errors-spki-list`), never every certificate.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// Where Debian's `chromium-driver` package puts the driver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// What to run when either is missing.
pub const INSTALL_HINT: &str =
    "scripts/install-browser.sh (as root: apt-get install chromium chromium-driver nghttp2-client)";

/// The W3C key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Why the browser could not be driven.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// `chromium` or `chromedriver` is not installed.
    #[error("chromium not found ({0}); install it with {INSTALL_HINT}")]
    NotFound(String),
    /// Starting or talking to chromedriver failed.
    #[error("chromedriver: {0}")]
    Driver(String),
    /// A WebDriver command answered with an error.
    #[error("WebDriver {command}: {error}: {message}")]
    Command {
        /// The command.
        command: String,
        /// The W3C error code.
        error: String,
        /// Its message (first line).
        message: String,
    },
}

/// Result of a driver call.
pub type DriverResult<T> = Result<T, DriverError>;

/// The paths of `chromium` and `chromedriver` when both are installed (the environment's
/// `TOKENBENCH_CHROMIUM` / `TOKENBENCH_CHROMEDRIVER` override Debian's paths).
pub fn find() -> DriverResult<(PathBuf, PathBuf)> {
    let pick = |var: &str, default: &str| {
        std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
    };
    let browser = pick("TOKENBENCH_CHROMIUM", CHROMIUM);
    let driver = pick("TOKENBENCH_CHROMEDRIVER", CHROMEDRIVER);
    for p in [&browser, &driver] {
        if !p.is_file() {
            return Err(DriverError::NotFound(format!("no {}", p.display())));
        }
    }
    Ok((browser, driver))
}

/// The version line of the browser (`Chromium 156.0...`), or empty.
pub fn browser_version(browser: &Path) -> String {
    Command::new(browser)
        .arg("--version")
        .stderr(Stdio::null())
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// How a browser session is started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Host names Chromium resolves to 127.0.0.1.
    pub hosts: Vec<String>,
    /// Base64 SHA-256 of the only server key trusted beyond the system's roots.
    pub spki: String,
    /// Blocks third-party cookies (the profile preference and its newer control).
    pub block_third_party_cookies: bool,
}

impl Launch {
    /// The command-line switches Chromium gets.
    pub fn args(&self) -> Vec<String> {
        let rules: Vec<String> = self
            .hosts
            .iter()
            .map(|h| format!("MAP {h} 127.0.0.1"))
            .collect();
        let mut a = vec![
            "--headless=new".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-extensions".to_owned(),
            "--disable-background-networking".to_owned(),
            format!("--host-resolver-rules={}", rules.join(", ")),
            format!("--ignore-certificate-errors-spki-list={}", self.spki),
        ];
        // Chromium refuses to run as root with its sandbox (CI runs as root).
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            a.push("--no-sandbox".to_owned());
        }
        a
    }

    /// The profile preferences Chromium gets.
    pub fn prefs(&self) -> Value {
        if self.block_third_party_cookies {
            // 1 = "block third-party cookies" in the cookie controls; the older boolean
            // says the same to builds that still read it.
            json!({
                "profile.cookie_controls_mode": 1,
                "profile.block_third_party_cookies": true,
            })
        } else {
            json!({
                "profile.cookie_controls_mode": 0,
                "profile.block_third_party_cookies": false,
            })
        }
    }
}

/// A running chromedriver, killed when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    addr: SocketAddr,
    browser: PathBuf,
    runtime: tokio::runtime::Runtime,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser (a fresh profile), ended when dropped.
#[derive(Debug)]
pub struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self
            .driver
            .call("DELETE", &format!("/session/{}", self.id), None);
    }
}

impl Driver {
    /// Starts `driver` on a free loopback port, sessions to run `browser`, and waits
    /// (at most 20 s) until it answers.
    pub fn start(browser: &Path, driver: &Path) -> DriverResult<Driver> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| DriverError::Driver(format!("finding a free port: {e}")))?
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| DriverError::Driver(format!("starting {}: {e}", driver.display())))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| DriverError::Driver(format!("a runtime: {e}")))?;
        let d = Driver {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            browser: browser.to_owned(),
            runtime,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match d.call("GET", "/status", None) {
                Ok(v) if v["ready"] == json!(true) => return Ok(d),
                _ if Instant::now() > deadline => {
                    return Err(DriverError::Driver(
                        "did not answer /status within 20 s".into(),
                    ));
                }
                _ => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// A new browser session started as `launch` says.
    pub fn session(&self, launch: &Launch) -> DriverResult<Session<'_>> {
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "acceptInsecureCerts": false,
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": {
                        "binary": self.browser.to_string_lossy(),
                        "args": launch.args(),
                        "prefs": launch.prefs(),
                    },
                    "timeouts": {"script": 20_000, "pageLoad": 20_000, "implicit": 0},
                }
            }
        });
        let v = self.call("POST", "/session", Some(caps))?;
        let id = v["sessionId"]
            .as_str()
            .ok_or_else(|| DriverError::Driver(format!("no sessionId in {v}")))?
            .to_owned();
        Ok(Session { driver: self, id })
    }

    /// One WebDriver command: its `value`, or its error.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> DriverResult<Value> {
        let addr = self.addr;
        let command = format!("{method} {path}");
        let body = body.map_or_else(String::new, |b| b.to_string());
        let method = method.to_owned();
        let path = path.to_owned();
        let fut = async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| e.to_string())?;
            let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
            tokio::spawn(conn);
            let req = hyper::Request::builder()
                .method(method.as_str())
                .uri(path)
                .header("host", addr.to_string())
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body)))
                .map_err(|e| e.to_string())?;
            let resp = send.send_request(req).await.map_err(|e| e.to_string())?;
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            Ok::<_, String>(bytes)
        };
        let bytes = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), fut).await })
            .map_err(|_| DriverError::Driver(format!("{command}: no answer in 60 s")))?
            .map_err(|e| DriverError::Driver(format!("{command}: {e}")))?;
        let v: Value = serde_json::from_slice(&bytes)
            .map_err(|e| DriverError::Driver(format!("{command}: not JSON: {e}")))?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value["message"].as_str().unwrap_or("").lines().next();
            return Err(DriverError::Command {
                command,
                error: error.to_owned(),
                message: message.unwrap_or("").to_owned(),
            });
        }
        Ok(value)
    }
}

impl Session<'_> {
    fn call(&self, method: &str, rest: &str, body: Option<Value>) -> DriverResult<Value> {
        self.driver
            .call(method, &format!("/session/{}{rest}", self.id), body)
    }

    /// Navigates (top level) to `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> DriverResult<()> {
        self.call("POST", "/url", Some(json!({ "url": url })))
            .map(drop)
    }

    /// The URL of the page shown.
    pub fn url(&self) -> DriverResult<String> {
        Ok(self
            .call("GET", "/url", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// Waits (at most 10 s) until the page shown is `path` on some origin, e.g. the
    /// `/me` a login's redirect leads to; whether it got there.
    pub fn wait_for_path(&self, path: &str) -> DriverResult<bool> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.url()?;
            let at = url
                .split_once("://")
                .and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]))
                .unwrap_or("");
            if at == path {
                return Ok(true);
            }
            if Instant::now() > deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs `script` (a function body) with `args` in the page; its return value.
    pub fn run(&self, script: &str, args: Value) -> DriverResult<Value> {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Runs `script`, which ends by calling `done(value)` (the last argument), in the page.
    pub fn run_async(&self, script: &str, args: Value) -> DriverResult<Value> {
        let script = format!("const done = arguments[arguments.length - 1];\n{script}");
        self.call(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Clicks the element `css` selects, as a user would (the driver waits for a
    /// navigation it starts).
    pub fn click(&self, css: &str) -> DriverResult<()> {
        let el = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )?;
        let id = el[ELEMENT_KEY]
            .as_str()
            .ok_or_else(|| DriverError::Driver(format!("no element for {css}: {el}")))?
            .to_owned();
        self.call("POST", &format!("/element/{id}/click"), Some(json!({})))
            .map(drop)
    }

    /// The cookies the browser holds for the page shown (HttpOnly ones included: the
    /// driver sees what no page script can).
    pub fn cookies(&self) -> DriverResult<Vec<Value>> {
        Ok(self
            .call("GET", "/cookie", None)?
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Deletes every cookie the page shown can see.
    pub fn delete_cookies(&self) -> DriverResult<()> {
        self.call("DELETE", "/cookie", None).map(drop)
    }

    /// Adds `cookie` (a WebDriver cookie object) for the page shown.
    pub fn add_cookie(&self, cookie: Value) -> DriverResult<()> {
        self.call("POST", "/cookie", Some(json!({ "cookie": cookie })))
            .map(drop)
    }
}
