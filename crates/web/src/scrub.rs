//! The last line of defence before bytes leave the server: every response body passes
//! through [`scrub`], which removes passwords from anything URL-shaped, wherever and as
//! often as they appear (the engine redacts what it writes; this catches what a database
//! error or a future report might echo).

/// Removes passwords from every URL in `s`: the `user:password@` part, and query
/// parameters whose name says they hold a secret (`password`, `sslpassword`, `token`…).
pub fn scrub(s: &str) -> String {
    let s = lockstep_engine::redact(s);
    query_secrets(&userinfo(&s))
}

/// Characters that end a URL inside text, JSON or HTML.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '\\' | '`')
}

fn userinfo(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        out.push_str(&rest[..i + 3]);
        rest = &rest[i + 3..];
        let end = rest
            .find(|c: char| ends_url(c) || matches!(c, '/' | '?' | '#'))
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        match authority.rfind('@') {
            Some(at) => {
                let user = &authority[..at];
                match user.find(':') {
                    Some(colon) if &user[colon + 1..] != "***" => {
                        out.push_str(&user[..colon]);
                        out.push_str(":***");
                    }
                    _ => out.push_str(user),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    k.contains("password") || k.contains("secret") || k.contains("token") || k == "pass"
}

fn query_secrets(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // `;` as well: in HTML, `&password=` arrives escaped as `&amp;password=`.
    while let Some(i) = rest.find(['?', '&', ';']) {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let key_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if key_end == 0 || !rest[key_end..].starts_with('=') || !secret_key(&rest[..key_end]) {
            continue;
        }
        out.push_str(&rest[..=key_end]);
        rest = &rest[key_end + 1..];
        let v_end = rest
            .find(|c: char| ends_url(c) || matches!(c, '&' | '#'))
            .unwrap_or(rest.len());
        if v_end > 0 {
            out.push_str("***");
        }
        rest = &rest[v_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn every_form_and_every_occurrence() {
        let t = "a postgres://bob:S1@h/db?sslmode=require&password=S2 and mysql://x:S3@h/y?sslpassword=S4#f, \"postgres://u:S5@h/d\"";
        let s = scrub(t);
        for secret in ["S1", "S2", "S3", "S4", "S5"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(s.contains("sslmode=require"), "{s}");
        assert!(s.contains("postgres://bob:***@h/db"), "{s}");
        let html = scrub("postgres://h/d?sslmode=require&amp;password=S6&amp;x=1");
        // The shared redaction masks more rather than less: what follows may go too.
        assert!(!html.contains("S6"), "{html}");
        // Text that only looks like a query is left alone.
        assert_eq!(scrub("why? & how=now"), "why? & how=now");
        assert_eq!(scrub("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
