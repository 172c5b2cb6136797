//! Registration rules for OAuth redirect URIs and JavaScript origins, after Google's
//! "Using OAuth 2.0 for Web Server Applications" (section "Redirect URI validation rules")
//! and the matching rules for JavaScript origins, read against the URI syntax of
//! RFC 3986 §3 (`scheme "://" authority path [ "?" query ] [ "#" fragment ]`).
//!
//! The checks run on the *raw* string as well as on the parsed URL: the `url` crate
//! normalises (it removes `..` segments, tabs and newlines, percent-encodes spaces), and a
//! rule checked only after normalisation would let exactly the trick it exists for through.
//! A registered value is stored verbatim because the authorization endpoint compares it
//! byte for byte; every refusal names the rule it broke so a developer can fix it.

use std::fmt;
use std::net::Ipv6Addr;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// Longest redirect URI or origin accepted, in bytes.
const MAX_LEN: usize = 2048; // Google's limit; the `Length` message repeats the number
/// Bound on repeated percent-decoding: enough for any realistic multiple encoding, and it
/// keeps a hostile `%252525…` input from costing more than a few passes.
const MAX_DECODE_ROUNDS: usize = 8;
/// Path marker that a URL-shortener domain owned by the project must use.
const SHORTENER_CALLBACK: &str = "/google-callback";

/// Configuration of the redirect-URI policy (from Keyway's config file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUriPolicy {
    /// Domains serving user-uploaded content; neither they nor their subdomains may receive codes.
    pub user_content_domains: Vec<String>,
    /// URL-shortener domains, refused unless the registering project owns them.
    pub shortener_domains: Vec<String>,
}

impl Default for RedirectUriPolicy {
    fn default() -> Self {
        let shorteners = [
            "goo.gl",
            "bit.ly",
            "tinyurl.com",
            "t.co",
            "ow.ly",
            "is.gd",
            "buff.ly",
            "rebrand.ly",
            "cutt.ly",
            "shorturl.at",
            "tiny.cc",
            "rb.gy",
            "t.ly",
        ];
        Self {
            user_content_domains: vec!["googleusercontent.com".to_owned()],
            shortener_domains: shorteners.iter().map(|d| (*d).to_owned()).collect(),
        }
    }
}

impl RedirectUriPolicy {
    /// Validates a redirect URI being registered for a project that owns `owned_domains`.
    ///
    /// On success the URI is returned exactly as given; it is never normalised.
    pub fn validate_redirect_uri(
        &self,
        raw: &str,
        owned_domains: &[String],
    ) -> Result<RedirectUri, RedirectUriError> {
        let target = Target::Redirect;
        check_raw(raw, target)?;
        // Google's rule is about the URI as written, so the whole raw string counts (query
        // included) and a plain substring match suffices: `/..x` is refused along with `/..`.
        if decode_layers(raw.as_bytes())
            .iter()
            .any(|l| has_traversal(l))
        {
            return Err(target.err(RedirectUriRule::PathTraversal));
        }
        let (url, authority, rest) = parse(raw, target)?;
        self.check_host(&url, authority, target, Some((owned_domains, url.path())))?;
        if let Some((_, query)) = rest.split_once('?') {
            check_query(query)?;
        }
        Ok(RedirectUri(raw.to_owned()))
    }

    /// Validates a JavaScript origin (`scheme://host[:port]`, nothing after it).
    ///
    /// On success the origin is returned exactly as given; it is never normalised.
    pub fn validate_origin(&self, raw: &str) -> Result<JavaScriptOrigin, RedirectUriError> {
        let target = Target::Origin;
        check_raw(raw, target)?;
        let (url, authority, rest) = parse(raw, target)?;
        if !rest.is_empty() {
            let message = if rest.starts_with('?') {
                "JavaScript origins must not contain a query"
            } else {
                "JavaScript origins must not contain a path or end with '/'"
            };
            return Err(RedirectUriError::new(RedirectUriRule::OriginPath, message));
        }
        // An origin has no project context, so a shortener domain can never be shown owned.
        self.check_host(&url, authority, target, None)?;
        Ok(JavaScriptOrigin(raw.to_owned()))
    }

    /// Scheme, host and domain rules shared by redirect URIs and origins. `shortener_ctx`
    /// carries the project's owned domains and the URL path for redirect URIs.
    fn check_host(
        &self,
        url: &Url,
        authority: &str,
        target: Target,
        shortener_ctx: Option<(&[String], &str)>,
    ) -> Result<(), RedirectUriError> {
        let host = match url.host() {
            Some(Host::Ipv4(ip)) if ip.is_loopback() => HostKind::Loopback,
            Some(Host::Ipv6(ip)) if ip == Ipv6Addr::LOCALHOST => HostKind::Loopback,
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => HostKind::OtherIp,
            Some(Host::Domain("localhost")) => HostKind::Loopback,
            Some(Host::Domain(d)) => HostKind::Domain(d),
            None => return Err(target.syntax("must have a host")),
        };
        match (url.scheme(), &host) {
            ("https", _) | ("http", HostKind::Loopback) => {}
            _ => return Err(target.err(RedirectUriRule::Scheme)),
        }
        let domain = match host {
            HostKind::Loopback => return check_loopback_spelling(url, authority, target),
            HostKind::OtherIp => return Err(target.err(RedirectUriRule::IpAddress)),
            HostKind::Domain(d) => d,
        };
        // Empty labels (`a..b`, a trailing dot) would let `x.googleusercontent.com.` slip past
        // the suffix comparisons below while still resolving to the same host.
        for label in domain.split('.') {
            if label.contains('*') {
                return Err(target.err(RedirectUriRule::Wildcard));
            }
            let ldh =
                |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_';
            if label.is_empty() || !label.bytes().all(ldh) {
                return Err(target.syntax(
                    "must have a host of letters, digits, hyphens and underscores, with no empty label or trailing dot",
                ));
            }
        }
        if let Some(d) = find_parent(domain, &self.user_content_domains) {
            return Err(RedirectUriError::new(
                RedirectUriRule::UserContentDomain,
                format!(
                    "{} must not be on the user-content domain {d} or its subdomains",
                    target.noun()
                ),
            ));
        }
        if let Some(d) = find_parent(domain, &self.shortener_domains) {
            let owned_path =
                shortener_ctx.and_then(|(owned, path)| find_parent(domain, owned).map(|_| path));
            let Some(path) = owned_path else {
                return Err(RedirectUriError::new(
                    RedirectUriRule::Shortener,
                    format!(
                        "{} must not be on the URL shortener {d} unless the project owns that domain",
                        target.noun()
                    ),
                ));
            };
            if !(path.ends_with(SHORTENER_CALLBACK) || path.contains("/google-callback/")) {
                return Err(target.err(RedirectUriRule::ShortenerCallbackPath));
            }
        }
        let known = psl::suffix(domain.as_bytes()).is_some_and(|s| s.is_known());
        if !known || psl::domain(domain.as_bytes()).is_none() {
            return Err(target.err(RedirectUriRule::PublicSuffix));
        }
        Ok(())
    }
}

/// A registered redirect URI: the exact string the developer registered (no normalisation at
/// all: scheme case, port, path and trailing slash all count at the authorization endpoint).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Wraps a value read back from storage (already validated when it was registered).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The URI exactly as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Exact, byte-for-byte equality with what a request presents.
    pub fn matches(&self, presented: &str) -> bool {
        // Any leniency here (case folding, default ports, trailing slashes) is an open
        // redirect waiting for a second host that normalises differently.
        self.0.as_bytes() == presented.as_bytes()
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registered JavaScript origin (`scheme://host[:port]`), stored exactly as registered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JavaScriptOrigin(String);

impl JavaScriptOrigin {
    /// Wraps a value read back from storage (already validated when it was registered).
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The origin exactly as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JavaScriptOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The registration rule a redirect URI or JavaScript origin broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectUriRule {
    /// Not an absolute `scheme://host…` URL, or a malformed host.
    Syntax,
    /// Longer than 2048 bytes.
    Length,
    /// Not `https` (plain `http` only for localhost and loopback addresses).
    Scheme,
    /// A raw IP address other than a loopback address.
    IpAddress,
    /// The host is not under a suffix of the public suffix list, or is a public suffix itself.
    PublicSuffix,
    /// The host is, or is under, a user-content domain.
    UserContentDomain,
    /// The host is, or is under, a URL shortener the project does not own.
    Shortener,
    /// An owned URL-shortener domain without `/google-callback` in the path.
    ShortenerCallbackPath,
    /// A `user@` or `user:password@` part.
    Userinfo,
    /// A `/..` or `\..`, possibly percent-encoded.
    PathTraversal,
    /// A query parameter whose value is itself an absolute URL.
    OpenRedirect,
    /// A `#` fragment, even an empty one.
    Fragment,
    /// A `*` wildcard.
    Wildcard,
    /// A control character, space or (outside an internationalised host) non-ASCII character.
    NonPrintable,
    /// A `%` not followed by two hexadecimal digits.
    InvalidPercentEncoding,
    /// A percent-encoded NUL (`%00`, overlong `%C0%80`, or a multiple encoding of either).
    EncodedNul,
    /// A JavaScript origin with a path, trailing `/` or query.
    OriginPath,
}

impl RedirectUriRule {
    /// The rule's stable kebab-case name, e.g. `"path-traversal"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::Length => "length",
            Self::Scheme => "scheme",
            Self::IpAddress => "ip-address",
            Self::PublicSuffix => "public-suffix",
            Self::UserContentDomain => "user-content-domain",
            Self::Shortener => "shortener",
            Self::ShortenerCallbackPath => "shortener-callback-path",
            Self::Userinfo => "userinfo",
            Self::PathTraversal => "path-traversal",
            Self::OpenRedirect => "open-redirect",
            Self::Fragment => "fragment",
            Self::Wildcard => "wildcard",
            Self::NonPrintable => "non-printable",
            Self::InvalidPercentEncoding => "invalid-percent-encoding",
            Self::EncodedNul => "encoded-nul",
            Self::OriginPath => "origin-path",
        }
    }
}

impl fmt::Display for RedirectUriRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a redirect URI or JavaScript origin was refused: the rule and one sentence on what it
/// requires (the URI itself is not repeated; the caller prints it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", .rule.name())]
pub struct RedirectUriError {
    /// The rule that was broken.
    pub rule: RedirectUriRule,
    /// What the rule requires, as one human sentence.
    pub message: String,
}

impl RedirectUriError {
    fn new(rule: RedirectUriRule, message: impl Into<String>) -> Self {
        Self {
            rule,
            message: message.into(),
        }
    }
}

/// Whether the messages speak of redirect URIs or of origins.
#[derive(Clone, Copy)]
enum Target {
    Redirect,
    Origin,
}

impl Target {
    fn noun(self) -> &'static str {
        match self {
            Self::Redirect => "redirect URIs",
            Self::Origin => "JavaScript origins",
        }
    }

    fn syntax(self, what: &str) -> RedirectUriError {
        RedirectUriError::new(RedirectUriRule::Syntax, format!("{} {what}", self.noun()))
    }

    /// The standard sentence for a rule.
    fn err(self, rule: RedirectUriRule) -> RedirectUriError {
        use RedirectUriRule as R;
        #[rustfmt::skip]
        let requirement = match rule {
            R::Syntax => "must be absolute URLs of the form scheme://host",
            R::Length => "must be at most 2048 bytes long",
            R::Scheme => "must use https (http is allowed only for localhost and loopback addresses)",
            R::IpAddress => "must not use a raw IP address as host, except a loopback address",
            R::PublicSuffix => "must have a host under a suffix on the public suffix list, not a public suffix itself",
            R::UserContentDomain => "must not be on a user-content domain",
            R::Shortener => "must not be on a URL shortener domain unless the project owns it",
            R::ShortenerCallbackPath => "on a URL shortener domain owned by the project must have a path containing /google-callback/ or ending with /google-callback",
            R::Userinfo => "must not contain userinfo (user@ or user:password@)",
            R::PathTraversal => "cannot contain a path traversal (/.. or \\.., also percent-encoded)",
            R::OpenRedirect => "must not carry an absolute URL in a query parameter",
            R::Fragment => "must not contain a fragment (#)",
            R::Wildcard => "must not contain a wildcard (*)",
            R::NonPrintable => "must not contain control characters, spaces, or non-ASCII characters outside the host",
            R::InvalidPercentEncoding => "must follow every % with two hexadecimal digits",
            R::EncodedNul => "must not contain an encoded NUL character (%00 or %C0%80)",
            R::OriginPath => "must not contain a path or end with '/'",
        };
        RedirectUriError::new(rule, format!("{} {requirement}", self.noun()))
    }
}

/// What the host is, as far as the scheme and IP rules care.
enum HostKind<'a> {
    Loopback,
    OtherIp,
    Domain(&'a str),
}

/// Splits `scheme://authority rest` on the raw string, or `None` when it does not have that
/// shape. `url` would also accept `https:host` or `https:///host`; they are refused because
/// the registered string is what is later compared, and it should say plainly where it goes.
fn split_raw(raw: &str) -> Option<(&str, &str, &str)> {
    let (scheme, after) = raw.split_once("://")?;
    let mut bytes = scheme.bytes();
    let scheme_ok = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !scheme_ok {
        return None;
    }
    // `\` ends the authority too: browsers and `url` treat it as `/` in http(s) URLs.
    let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    (!authority.is_empty()).then_some((scheme, authority, rest))
}

/// Rules checked on the raw string before `url` gets a chance to normalise it away.
fn check_raw(raw: &str, target: Target) -> Result<(), RedirectUriError> {
    use RedirectUriRule as R;
    if raw.len() > MAX_LEN {
        return Err(target.err(R::Length));
    }
    // Non-ASCII is allowed only in the authority, for internationalised host names (IDNA
    // turns them into punycode); even there only letters and digits, since IDNA silently
    // maps or drops invisible characters and look-alike dots.
    let authority_span = split_raw(raw).map(|(scheme, authority, _)| {
        let start = scheme.len() + 3;
        start..start + authority.len()
    });
    for (i, c) in raw.char_indices() {
        let bad = if c.is_ascii() {
            c.is_ascii_control() || c == ' '
        } else {
            !(c.is_alphanumeric() && authority_span.as_ref().is_some_and(|s| s.contains(&i)))
        };
        if bad {
            return Err(target.err(R::NonPrintable));
        }
    }
    if raw.contains('#') {
        return Err(target.err(R::Fragment));
    }
    if raw.contains('*') {
        return Err(target.err(R::Wildcard));
    }
    let bytes = raw.as_bytes();
    for (i, _) in raw.match_indices('%') {
        let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
        if !(hex(i + 1) && hex(i + 2)) {
            return Err(target.err(R::InvalidPercentEncoding));
        }
    }
    if decode_layers(bytes).iter().any(|l| contains_nul(l)) {
        return Err(target.err(R::EncodedNul));
    }
    Ok(())
}

fn parse(raw: &str, target: Target) -> Result<(Url, &str, &str), RedirectUriError> {
    let Some((_, authority, rest)) = split_raw(raw) else {
        return Err(target.err(RedirectUriRule::Syntax));
    };
    let url = Url::parse(raw)
        .map_err(|e| target.syntax(&format!("must be valid absolute URLs ({e})")))?;
    // The raw authority is the one a browser will see; `url` may have dropped an empty `@`.
    if authority.contains('@') || !url.username().is_empty() || url.password().is_some() {
        return Err(target.err(RedirectUriRule::Userinfo));
    }
    Ok((url, authority, rest))
}

/// `url` reads `0x7f.1` or `2130706433` as 127.0.0.1; such spellings only serve to disguise a
/// host, so a loopback address must be written the way `url` would serialise it.
fn check_loopback_spelling(
    url: &Url,
    authority: &str,
    target: Target,
) -> Result<(), RedirectUriError> {
    let written = if authority.ends_with(']') {
        authority
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _port)| host)
    };
    match url.host_str() {
        Some(canonical) if canonical.eq_ignore_ascii_case(written) => Ok(()),
        _ => {
            Err(target
                .syntax("must write a loopback host as localhost, dotted-decimal IPv4 or [::1]"))
        }
    }
}

/// The input followed by each successive percent-decoding of it, until it stops changing.
fn decode_layers(input: &[u8]) -> Vec<Vec<u8>> {
    let mut layers = vec![input.to_vec()];
    for _ in 0..MAX_DECODE_ROUNDS {
        let Some(last) = layers.last() else { break };
        let next = percent_decode(last);
        if &next == last {
            break;
        }
        layers.push(next);
    }
    layers
}

/// Decodes `%XX` sequences; a `%` without two hex digits is kept as it is.
fn percent_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%'
            && let (Some(h), Some(l)) = (
                input.get(i + 1).and_then(|&b| hex(b)),
                input.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            // Both digits are below 16, so the byte fits.
            out.push(u8::try_from(h * 16 + l).unwrap_or(0));
            i += 3;
        } else {
            out.push(input[i]);
            i += 1;
        }
    }
    out
}

fn contains_nul(bytes: &[u8]) -> bool {
    // 0xC0 0x80 is the overlong UTF-8 NUL that lenient decoders still turn into a NUL.
    bytes.contains(&0) || bytes.windows(2).any(|w| w == [0xC0, 0x80])
}

fn has_traversal(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| matches!(w, [b'/' | b'\\', b'.', b'.']))
}

/// The configured domain that `host` equals or lies under, if any.
fn find_parent<'a>(host: &str, domains: &'a [String]) -> Option<&'a str> {
    domains.iter().map(String::as_str).find(|d| {
        let d = d.trim_end_matches('.');
        if d.is_empty() || d.len() > host.len() {
            return false;
        }
        let (head, tail) = host.split_at(host.len() - d.len());
        tail.eq_ignore_ascii_case(d) && (head.is_empty() || head.ends_with('.'))
    })
}

/// Refuses a query that carries an absolute URL in a parameter (RFC 3986 §3.4 leaves the
/// query's structure open, so `&` and `;` both count as separators).
fn check_query(query: &str) -> Result<(), RedirectUriError> {
    for param in query.split(['&', ';']) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        for piece in [name, value] {
            // `+` is a space in form encoding; try it both ways so that neither reading hides
            // a URL (`svn+ssh://…` as written, `+//host` as a space that browsers trim).
            let spaced = piece.replace('+', " ");
            for variant in [piece, spaced.as_str()] {
                if decode_layers(variant.as_bytes())
                    .iter()
                    .any(|l| is_absolute_url(l))
                {
                    return Err(Target::Redirect.err(RedirectUriRule::OpenRedirect));
                }
            }
        }
    }
    Ok(())
}

/// Whether a browser would follow `value` to another host (or run it as script).
fn is_absolute_url(value: &[u8]) -> bool {
    // Browsers drop tabs and newlines anywhere and trim leading controls and spaces.
    let cleaned: Vec<u8> = value
        .iter()
        .copied()
        .filter(|b| !matches!(b, b'\t' | b'\n' | b'\r'))
        .collect();
    let start = cleaned
        .iter()
        .position(|&b| b > b' ')
        .unwrap_or(cleaned.len());
    let v = &cleaned[start..];
    let slash = |b: Option<&u8>| matches!(b, Some(b'/' | b'\\'));
    if slash(v.first()) && slash(v.get(1)) {
        return true;
    }
    let Some(colon) = v.iter().position(|&b| b == b':') else {
        return false;
    };
    let scheme = &v[..colon];
    let is_scheme = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    // `https:/host` and `https:\host` also reach another host in browsers.
    let scripting = ["javascript", "data", "vbscript"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s.as_bytes()));
    is_scheme && (slash(v.get(colon + 1)) || scripting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RedirectUriRule as R;
    use proptest::prelude::*;

    fn policy() -> RedirectUriPolicy {
        RedirectUriPolicy::default()
    }

    fn owned(d: &[&str]) -> Vec<String> {
        d.iter().map(|s| (*s).to_owned()).collect()
    }

    const ACCEPTED: &[&str] = &[
        "https://app.example.com/oauth2callback",
        "https://app.example.com",
        "https://app.example.com/",
        "https://app.example.com:8443/cb",
        "HTTPS://App.Example.com/CB",
        "https://example.co.uk/cb",
        "https://me.github.io/cb",
        "http://localhost:8080/oauth2callback",
        "http://localhost/cb",
        "https://localhost/cb",
        "http://127.0.0.1:8080/oauth2callback",
        "http://127.5.6.7/cb",
        "http://[::1]:8080/cb",
        "https://127.0.0.1/cb",
        "https://app.example.com/cb?a=b&c=https-is-cool",
        "https://app.example.com/cb?ratio=1:2&path=/a/b",
        "https://app.example.com/a/.b/c.d/x..y",
        "https://пример.рф/cb",
        "https://xn--e1afmkfd.xn--p1ai/cb",
        "https://app.example.com/cb%20x/%41",
        "https://app.example.com/cb?q=a%2Bb",
        "https://bücher.de/cb",
        "https://xn--bcher-kva.de/cb",
        "https://münchen.example.com/cb",
        "https://my_host.example.com/cb",
    ];

    const REFUSED: &[(&str, RedirectUriRule)] = &[
        ("/oauth2callback", R::Syntax),
        ("app.example.com/cb", R::Syntax),
        ("https:app.example.com/cb", R::Syntax),
        ("https:///app.example.com/cb", R::Syntax),
        ("https://", R::Syntax),
        ("https://app.example.com:99999/cb", R::Syntax),
        ("https://a..example.com/cb", R::Syntax),
        ("https://example.com./cb", R::Syntax),
        ("https://x.googleusercontent.com./cb", R::Syntax),
        ("https://app!.example.com/cb", R::Syntax),
        ("http://app.example.com/cb", R::Scheme),
        ("ftp://app.example.com/cb", R::Scheme),
        ("com.example.app://oauth2redirect", R::Scheme),
        ("http://app.localhost/cb", R::Scheme),
        ("http://203.0.113.7/cb", R::Scheme),
        ("http://[::ffff:127.0.0.1]/cb", R::Scheme),
        ("https://203.0.113.7/cb", R::IpAddress),
        ("https://[2001:db8::1]/cb", R::IpAddress),
        ("https://0x7f.1/cb", R::Syntax),
        ("http://2130706433/cb", R::Syntax),
        ("http://[0:0::1]/cb", R::Syntax),
        ("https://3405803783/cb", R::IpAddress),
        ("https://app.notatld/cb", R::PublicSuffix),
        ("https://com/cb", R::PublicSuffix),
        ("https://co.uk/cb", R::PublicSuffix),
        ("https://github.io/cb", R::PublicSuffix),
        ("https://app.localhost/cb", R::PublicSuffix),
        ("https://bücher.notatld/cb", R::PublicSuffix),
        ("https://x.googleusercontent.com/cb", R::UserContentDomain),
        ("https://googleusercontent.com/cb", R::UserContentDomain),
        ("https://a.b.GoogleUserContent.com/cb", R::UserContentDomain),
        ("https://goo.gl/cb", R::Shortener),
        ("https://goo.gl/google-callback", R::Shortener),
        ("https://bit.ly/x", R::Shortener),
        ("https://www.tinyurl.com/x", R::Shortener),
        ("https://user@app.example.com/cb", R::Userinfo),
        ("https://user:pass@app.example.com/cb", R::Userinfo),
        ("https://@app.example.com/cb", R::Userinfo),
        ("https://app.example.com/a/../b", R::PathTraversal),
        ("https://app.example.com/a/..", R::PathTraversal),
        ("https://app.example.com/a/..e", R::PathTraversal),
        ("https://app.example.com/a\\..\\b", R::PathTraversal),
        ("https://app.example.com/a/%2e%2e/b", R::PathTraversal),
        ("https://app.example.com/a/%2E%2E/b", R::PathTraversal),
        ("https://app.example.com/a/.%2E/b", R::PathTraversal),
        ("https://app.example.com/a/%2e./b", R::PathTraversal),
        ("https://app.example.com/a%2F../b", R::PathTraversal),
        ("https://app.example.com/a%5C../b", R::PathTraversal),
        ("https://app.example.com/a%2F%2E%2E/b", R::PathTraversal),
        ("https://app.example.com/a/%252e%252e/b", R::PathTraversal),
        ("https://app.example.com/a/%252E%252E/b", R::PathTraversal),
        ("https://app.example.com/a/%2e%2E/b", R::PathTraversal),
        ("https://app.example.com/cb?f=/../x", R::PathTraversal),
        (
            "https://app.example.com/cb?next=https://evil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=https%3A%2F%2Fevil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=//evil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?a=1&next=%2F%2Fevil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=https%253A%252F%252Fevil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=/%5Cevil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=https:/evil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=+//evil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?next=javascript:alert(1)",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb?https://evil.example",
            R::OpenRedirect,
        ),
        (
            "https://app.example.com/cb;next=x?a=b;u=//evil.example",
            R::OpenRedirect,
        ),
        ("https://app.example.com/cb#", R::Fragment),
        ("https://app.example.com/cb#frag", R::Fragment),
        ("https://app.example.com/#/route", R::Fragment),
        ("https://*.example.com/cb", R::Wildcard),
        ("https://app.example.com/*", R::Wildcard),
        ("https://app.example.com/cb?x=*", R::Wildcard),
        ("https://%2A.example.com/cb", R::Wildcard),
        ("https://app.example.com/c\tb", R::NonPrintable),
        ("https://app.example.com/cb\n", R::NonPrintable),
        ("https://app.example.com/c\u{7f}b", R::NonPrintable),
        ("https://app.example.com/c b", R::NonPrintable),
        (" https://app.example.com/cb", R::NonPrintable),
        ("https://app.example.com/caf\u{e9}", R::NonPrintable),
        ("https://app.example.com/cb?q=\u{e9}", R::NonPrintable),
        ("https://goo\u{200b}.gl/cb", R::NonPrintable),
        ("https://app\u{ff0e}example.com/cb", R::NonPrintable),
        ("https://app.example.com/cb%zz", R::InvalidPercentEncoding),
        ("https://app.example.com/cb%4", R::InvalidPercentEncoding),
        ("https://app.example.com/cb%", R::InvalidPercentEncoding),
        (
            "https://app.example.com/cb?a=%g0",
            R::InvalidPercentEncoding,
        ),
        ("https://app.example.com/cb%00", R::EncodedNul),
        ("https://app.example.com/cb%c0%80", R::EncodedNul),
        ("https://app.example.com/cb%C0%80", R::EncodedNul),
        ("https://app.example.com/cb%2500", R::EncodedNul),
        ("https://app.example.com/cb?x=%25C0%2580", R::EncodedNul),
    ];

    #[test]
    fn accepted_redirect_uris() {
        for raw in ACCEPTED {
            let got = policy().validate_redirect_uri(raw, &[]);
            assert_eq!(got.as_ref().map(RedirectUri::as_str), Ok(*raw), "{raw}");
        }
    }

    #[test]
    fn refused_redirect_uris_name_their_rule() {
        for (raw, rule) in REFUSED {
            let got = policy().validate_redirect_uri(raw, &[]).map_err(|e| e.rule);
            assert_eq!(got, Err(*rule), "{raw}");
        }
    }

    #[test]
    fn overlong_uri_is_refused() {
        let raw = format!("https://app.example.com/{}", "a".repeat(MAX_LEN));
        assert_eq!(
            policy()
                .validate_redirect_uri(&raw, &[])
                .map_err(|e| e.rule),
            Err(R::Length)
        );
        let exact = format!("https://app.example.com/{}", "a".repeat(MAX_LEN - 24));
        assert_eq!(exact.len(), MAX_LEN);
        assert!(policy().validate_redirect_uri(&exact, &[]).is_ok());
    }

    #[test]
    fn owned_shortener_needs_the_callback_path() {
        #[rustfmt::skip]
        let cases: &[(&str, &[&str], Option<RedirectUriRule>)] = &[
            ("https://goo.gl/google-callback", &["goo.gl"], None),
            ("https://goo.gl/google-callback/x", &["goo.gl"], None),
            ("https://goo.gl/a/google-callback", &["GOO.GL"], None),
            ("https://x.goo.gl/google-callback", &["goo.gl"], None),
            ("https://x.goo.gl/google-callback", &["x.goo.gl"], None),
            ("https://goo.gl/other", &["goo.gl"], Some(R::ShortenerCallbackPath)),
            ("https://goo.gl/google-callbackx", &["goo.gl"], Some(R::ShortenerCallbackPath)),
            ("https://goo.gl/google-callback", &["x.goo.gl"], Some(R::Shortener)),
            ("https://goo.gl/google-callback", &["bit.ly"], Some(R::Shortener)),
            ("https://notgoo.gl/other", &[], None),
        ];
        for (raw, own, want) in cases {
            let got = policy()
                .validate_redirect_uri(raw, &owned(own))
                .err()
                .map(|e| e.rule);
            assert_eq!(got, *want, "{raw} owned by {own:?}");
        }
    }

    #[test]
    fn policy_lists_are_configurable() {
        let p = RedirectUriPolicy {
            user_content_domains: owned(&["uploads.example.com"]),
            shortener_domains: vec![],
        };
        let rule = |raw: &str| p.validate_redirect_uri(raw, &[]).err().map(|e| e.rule);
        assert_eq!(
            rule("https://x.uploads.example.com/cb"),
            Some(R::UserContentDomain)
        );
        assert_eq!(rule("https://notuploads.example.com/cb"), None);
        assert_eq!(rule("https://goo.gl/cb"), None);
        assert_eq!(rule("https://x.googleusercontent.com/cb"), None);
    }

    #[test]
    fn error_message_names_the_rule() {
        let err = policy()
            .validate_redirect_uri("https://app.example.com/a/../b", &[])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "path-traversal: redirect URIs cannot contain a path traversal (/.. or \\.., also percent-encoded)"
        );
        for (raw, _) in REFUSED {
            let err = policy().validate_redirect_uri(raw, &[]).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("{}: ", err.rule.name()))
            );
            assert!(!err.message.contains(raw), "{raw} echoed in {err}");
        }
        assert_eq!(R::ShortenerCallbackPath.name(), "shortener-callback-path");
    }

    #[test]
    fn origins() {
        let accepted = [
            "https://app.example.com",
            "https://app.example.com:8443",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://[::1]",
            "https://bücher.de",
        ];
        for raw in accepted {
            let got = policy().validate_origin(raw);
            assert_eq!(got.as_ref().map(JavaScriptOrigin::as_str), Ok(raw), "{raw}");
        }
        let refused = [
            ("https://app.example.com/", R::OriginPath),
            ("https://app.example.com/cb", R::OriginPath),
            ("https://app.example.com\\", R::OriginPath),
            ("https://app.example.com?x=1", R::OriginPath),
            ("https://app.example.com/..", R::OriginPath),
            ("https://app.example.com#", R::Fragment),
            ("https://user@app.example.com", R::Userinfo),
            ("https://*.example.com", R::Wildcard),
            ("http://app.example.com", R::Scheme),
            ("https://203.0.113.7", R::IpAddress),
            ("https://[2001:db8::1]", R::IpAddress),
            ("https://app.notatld", R::PublicSuffix),
            ("https://co.uk", R::PublicSuffix),
            ("https://x.googleusercontent.com", R::UserContentDomain),
            ("https://goo.gl", R::Shortener),
            ("https://app.example.com%00", R::EncodedNul),
            ("https://app.example.com%4", R::InvalidPercentEncoding),
            ("https://app.exa mple.com", R::NonPrintable),
            ("app.example.com", R::Syntax),
        ];
        for (raw, rule) in refused {
            assert_eq!(
                policy().validate_origin(raw).map_err(|e| e.rule),
                Err(rule),
                "{raw}"
            );
        }
    }

    #[test]
    fn matches_is_exact() {
        let uri = RedirectUri::from_stored("https://app.example.com/cb".to_owned());
        assert!(uri.matches("https://app.example.com/cb"));
        for other in [
            "https://app.example.com/cb/",
            "HTTPS://app.example.com/cb",
            "https://APP.example.com/cb",
            "https://app.example.com/CB",
            "https://app.example.com:443/cb",
            "https://app.example.com/cb?x=1",
            "https://app.example.com/c%62",
            "",
        ] {
            assert!(!uri.matches(other), "{other}");
        }
        assert_eq!(uri.to_string(), uri.as_str());
    }

    #[test]
    fn stored_values_deserialize_from_plain_strings() {
        use serde::de::value::{Error, StrDeserializer};
        let raw = "https://app.example.com/cb";
        let uri = RedirectUri::deserialize(StrDeserializer::<Error>::new(raw));
        assert_eq!(uri, Ok(RedirectUri::from_stored(raw.to_owned())));
        let origin = JavaScriptOrigin::deserialize(StrDeserializer::<Error>::new("http://[::1]"));
        assert_eq!(origin.map(|o| o.to_string()), Ok("http://[::1]".to_owned()));
    }

    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "https://", "http://", "localhost", "app.example.com", "goo.gl", "127.0.0.1", "[::1]",
        "googleusercontent.com", "com", ".", "..", "/", "\\", "?", "#", "@", "=", "&", ":", "%",
        "%2e", "%25", "%2f", "%00", "%c0", "%80", "0", "8", "f", "x", "*", "ü", " ", "\t", "+",
        "google-callback", "//", "https%3A", "xn--", "-",
    ];

    fn near_valid() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..16).prop_map(|v| v.concat())
    }

    fn check_no_panic_and_verbatim(raw: &str) {
        let p = policy();
        if let Ok(uri) = p.validate_redirect_uri(raw, &owned(&["goo.gl"])) {
            assert_eq!(uri.as_str(), raw);
            assert!(!raw.contains('#') && !raw.contains('*'));
        }
        if let Ok(origin) = p.validate_origin(raw) {
            assert_eq!(origin.as_str(), raw);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn never_panics_on_arbitrary_strings(raw in ".*") {
            check_no_panic_and_verbatim(&raw);
        }

        #[test]
        fn never_panics_on_near_valid_urls(raw in near_valid()) {
            check_no_panic_and_verbatim(&raw);
        }

        #[test]
        fn never_panics_past_the_character_checks(
            raw in "https?://[a-z0-9.:\\[\\]-]{0,24}[a-z0-9/\\\\?=&%.:@+-]{0,40}",
        ) {
            check_no_panic_and_verbatim(&raw);
        }
    }
}
