//! Scopes (RFC 6749 §3.3): single scope tokens, sets of them, and the catalogue entries that
//! give each a human description and a sensitivity.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a scope string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid scope {0:?}: a scope is 1 to 512 characters from RFC 6749 §3.3 (printable ASCII except space, '\"' and '\\')"
)]
pub struct InvalidScope(pub String);

/// One scope token, e.g. `openid` or `https://www.googleapis.com/auth/drive.file`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// Checks the RFC 6749 §3.3 grammar: `%x21 / %x23-5B / %x5D-7E`, bounded in length.
    pub fn parse(value: &str) -> Result<Self, InvalidScope> {
        let ok = (1..=512).contains(&value.len())
            && value
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidScope(value.chars().take(64).collect()))
        }
    }

    /// The scope string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from storage.
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.0)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

impl TryFrom<String> for Scope {
    type Error = InvalidScope;

    fn try_from(value: String) -> Result<Self, InvalidScope> {
        Self::parse(&value)
    }
}

/// A set of scopes; its text form is the space-delimited list of RFC 6749 §3.3, in a stable
/// (sorted) order so equal sets always print and store the same.
///
/// ```
/// use keyway_core::ScopeSet;
///
/// let asked = ScopeSet::parse("email  openid").unwrap();
/// let granted = ScopeSet::parse("openid").unwrap();
/// assert_eq!(asked.to_string(), "email openid");
/// assert!(granted.is_subset(&asked));
/// assert_eq!(asked.union(&granted), asked);
/// assert!(ScopeSet::parse("").unwrap().is_empty());
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-delimited list; repeated spaces and repeated scopes are tolerated.
    pub fn parse(value: &str) -> Result<Self, InvalidScope> {
        value
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(Scope::parse)
            .collect()
    }

    /// Wraps a list read back from storage.
    pub fn from_stored(value: &str) -> Self {
        Self(
            value
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(|s| Scope(s.to_owned()))
                .collect(),
        )
    }

    /// No scopes at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many scopes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.0 == scope)
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Scopes in either set.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.union(&other.0).cloned().collect())
    }

    /// Scopes in both sets.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).cloned().collect())
    }

    /// Scopes of `self` that are not in `other`.
    pub fn difference(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.difference(&other.0).cloned().collect())
    }

    /// The scopes in order.
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(&s.0)?;
        }
        Ok(())
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeSet({:?})", self.to_string())
    }
}

impl From<ScopeSet> for String {
    fn from(s: ScopeSet) -> String {
        s.to_string()
    }
}

impl TryFrom<String> for ScopeSet {
    type Error = InvalidScope;

    fn try_from(value: String) -> Result<Self, InvalidScope> {
        Self::parse(&value)
    }
}

/// How much a scope exposes, which decides whether an unverified app gets a warning first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sensitivity {
    /// Basic sign-in information and narrow access.
    NonSensitive,
    /// Access to private user data.
    Sensitive,
    /// Broad access to highly personal data.
    Restricted,
}

impl Sensitivity {
    /// The stored and printed form.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sensitivity::NonSensitive => "non-sensitive",
            Sensitivity::Sensitive => "sensitive",
            Sensitivity::Restricted => "restricted",
        }
    }
}

impl std::str::FromStr for Sensitivity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "non-sensitive" => Ok(Sensitivity::NonSensitive),
            "sensitive" => Ok(Sensitivity::Sensitive),
            "restricted" => Ok(Sensitivity::Restricted),
            other => Err(format!(
                "unknown sensitivity {other:?}: use non-sensitive, sensitive or restricted"
            )),
        }
    }
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A catalogue entry: what a scope means to the person asked to allow it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeInfo {
    /// The scope string.
    pub scope: Scope,
    /// One line shown on the consent page, e.g. "See and download your Google Drive files".
    pub description: String,
    /// Decides the unverified-app warning.
    pub sensitivity: Sensitivity,
}

/// The scopes every new database starts with: OpenID Connect's and the Drive and YouTube
/// scopes the guides use.
pub fn default_catalogue() -> Vec<ScopeInfo> {
    use Sensitivity::*;
    const G: &str = "https://www.googleapis.com/auth/";
    let entries: [(&str, &str, Sensitivity); 16] = [
        (
            "openid",
            "Associate you with your personal info",
            NonSensitive,
        ),
        ("email", "See your primary email address", NonSensitive),
        (
            "profile",
            "See your personal info, including any personal info you've made publicly available",
            NonSensitive,
        ),
        (
            "userinfo.email",
            "See your primary email address",
            NonSensitive,
        ),
        (
            "userinfo.profile",
            "See your personal info, including any personal info you've made publicly available",
            NonSensitive,
        ),
        (
            "drive.metadata.readonly",
            "See information about your Drive files",
            Restricted,
        ),
        (
            "drive.readonly",
            "See and download all your Drive files",
            Restricted,
        ),
        (
            "drive.file",
            "See, edit, create and delete only the specific Drive files you use with this app",
            NonSensitive,
        ),
        (
            "drive",
            "See, edit, create and delete all of your Drive files",
            Restricted,
        ),
        ("youtube.readonly", "View your YouTube account", Sensitive),
        (
            "youtube.force-ssl",
            "See, edit and permanently delete your YouTube videos, ratings, comments and captions",
            Sensitive,
        ),
        ("youtube", "Manage your YouTube account", Sensitive),
        ("youtube.upload", "Manage your YouTube videos", Sensitive),
        (
            "youtubepartner",
            "View and manage your assets and associated content on YouTube",
            Sensitive,
        ),
        (
            "youtube.channel-memberships.creator",
            "See a list of your current active channel members, their current level, and when they became a member",
            Sensitive,
        ),
        (
            "calendar.readonly",
            "See and download any calendar you can access using your Calendar",
            Sensitive,
        ),
    ];
    entries
        .into_iter()
        .map(|(s, description, sensitivity)| {
            let full = if matches!(s, "openid" | "email" | "profile") {
                s.to_owned()
            } else {
                format!("{G}{s}")
            };
            ScopeInfo {
                scope: Scope(full),
                description: description.to_owned(),
                sensitivity,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_grammar_follows_rfc_6749() {
        assert!(Scope::parse("openid").is_ok());
        assert!(Scope::parse("https://www.googleapis.com/auth/drive.file").is_ok());
        for bad in [
            "",
            "a b",
            "a\"b",
            "a\\b",
            "tab\there",
            "é",
            &"x".repeat(513),
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn scope_sets_are_order_independent() {
        let a = ScopeSet::parse("profile email openid").unwrap();
        let b = ScopeSet::parse("openid email profile email").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "email openid profile");
        assert_eq!(ScopeSet::from_stored(&a.to_string()), a);
        let only = ScopeSet::parse("email").unwrap();
        assert_eq!(a.difference(&only).to_string(), "openid profile");
        assert_eq!(a.intersection(&only), only);
    }

    #[test]
    fn catalogue_is_well_formed() {
        let cat = default_catalogue();
        let set: ScopeSet = cat.iter().map(|s| s.scope.clone()).collect();
        assert_eq!(set.len(), cat.len(), "no duplicates");
        for s in &cat {
            assert!(Scope::parse(s.scope.as_str()).is_ok());
            assert!(!s.description.is_empty());
        }
        assert!(set.contains("https://www.googleapis.com/auth/youtube.force-ssl"));
        assert!(set.contains("https://www.googleapis.com/auth/drive.metadata.readonly"));
    }
}
