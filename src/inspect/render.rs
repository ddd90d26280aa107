//! The text report of an [`Inspection`]: what `tokenbench inspect` prints without `--json`.

use std::fmt::Write as _;

use serde_json::Value;

use super::{Expiry, Inspection, SignatureCheck, TokenView, Verdict, shown_date};

impl Inspection {
    /// Process exit code for the CLI: 0 when no JWK was given or the signature is valid,
    /// 1 when a JWK was given and the signature is invalid (an opaque token has no
    /// signature, so with a JWK it counts as invalid).
    pub fn exit_code(&self) -> i32 {
        match &self.signature {
            Some(SignatureCheck {
                verdict: Verdict::Invalid(_),
                ..
            }) => 1,
            _ => 0,
        }
    }

    /// Human-readable, multi-line report; JSON parts pretty-printed. Ends with a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, so the fmt::Results below are ignored.
        match &self.token {
            TokenView::Jwt(jwt) => {
                let _ = writeln!(
                    out,
                    "token: JWT ({} characters, {} bytes of claims)",
                    self.chars, jwt.claims_bytes
                );
                let _ = writeln!(out, "header (readable by anyone holding the token):");
                let _ = writeln!(out, "{}", pretty(&jwt.header));
                let _ = writeln!(out, "claims (readable by anyone holding the token):");
                let _ = writeln!(out, "{}", pretty(&jwt.claims));
                for (name, what) in [("iat", "issued at"), ("nbf", "not before")] {
                    if let Some(value) = jwt.claims.get(name) {
                        let _ = writeln!(out, "{what}: {}", shown_date(name, value));
                    }
                }
                let _ = writeln!(out, "expiry: {}; reported, not enforced", jwt.expiry);
            }
            TokenView::Paseto(p) => {
                let _ = writeln!(
                    out,
                    "token: PASETO {} ({} characters, {} bytes of readable claims)",
                    p.protocol, self.chars, p.claims_bytes
                );
                match &p.claims {
                    Some(claims) => {
                        let _ = writeln!(out, "claims (readable by anyone holding the token):");
                        let _ = writeln!(out, "{}", pretty(claims));
                    }
                    None => {
                        let _ = writeln!(
                            out,
                            "claims: encrypted (XChaCha20 + BLAKE2b); nothing readable without the key"
                        );
                    }
                }
                if let Some(footer) = &p.footer {
                    let _ = writeln!(out, "footer (readable by anyone): {footer}");
                }
                if let Some(expiry) = &p.expiry {
                    let _ = writeln!(out, "expiry: {expiry}; reported, not enforced");
                }
            }
            TokenView::Opaque(o) => {
                let _ = writeln!(out, "token: opaque ({} characters)", self.chars);
                let _ = writeln!(out, "base64url: {}", if o.base64url { "yes" } else { "no" });
                match &o.decoded {
                    Some(d) => {
                        let _ = writeln!(out, "decodes as {}: {} bytes", d.encoding, d.bytes);
                        let _ = writeln!(
                            out,
                            "randomness: at most {} bits (if every byte comes from a CSPRNG)",
                            d.max_random_bits
                        );
                    }
                    None => {
                        let _ = writeln!(out, "decodes as: nothing recognised (not hex or base64)");
                    }
                }
                let _ = writeln!(
                    out,
                    "character entropy: {:.2} bits/char over {} distinct characters \
                     (an observation, not a randomness test)",
                    o.char_entropy_bits_per_char, o.distinct_chars
                );
                let _ = writeln!(
                    out,
                    "readable data: none. An opaque token is only a reference; the user, roles \
                     and expiry live in the server's session store."
                );
            }
        }
        match &self.signature {
            None => {
                let _ = writeln!(out, "signature: not checked (no JWK given)");
            }
            Some(check) => {
                let kid = check
                    .kid
                    .as_deref()
                    .map(|k| format!(", kid {k:?}"))
                    .unwrap_or_default();
                let key = format!("{} key allowing {}{kid}", check.kty, check.allowed_alg);
                match &check.verdict {
                    Verdict::Valid => {
                        let _ = writeln!(out, "signature: valid ({key})");
                    }
                    Verdict::Invalid(reason) => {
                        let _ = writeln!(out, "signature: invalid ({key}): {reason}");
                    }
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "note: {note}");
        }
        out
    }
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expiry::NoExp => f.write_str("no exp claim: the token never expires by itself"),
            Expiry::Expired { exp, secs_ago } => {
                write!(
                    f,
                    "expired {secs_ago} s ago ({})",
                    shown_date("exp", &(*exp).into())
                )
            }
            Expiry::ExpiresIn { exp, secs } => {
                write!(
                    f,
                    "expires in {secs} s ({})",
                    shown_date("exp", &(*exp).into())
                )
            }
            Expiry::Unreadable { reason } => write!(f, "unreadable exp: {reason}"),
        }
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}
