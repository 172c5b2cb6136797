//! Organizations and projects: who owns OAuth clients, and what their consent screen says.

use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::{ClientId, Email, ProjectId};
use crate::scope::ScopeSet;

/// An organization: users whose email is under its domain belong to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Internal row id.
    pub id: i64,
    /// The domain its users' addresses end with, lowercased.
    pub domain: String,
    /// Display name.
    pub name: String,
    /// Policy: scopes the organization's users may not grant to any app.
    pub blocked_scopes: ScopeSet,
    /// Policy: apps the organization's users may not authorize at all.
    pub blocked_clients: Vec<ClientId>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// Who may authorize a project's apps (Google's consent-screen "user type").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "user_type", rename_all = "lowercase")]
pub enum Audience {
    /// Any user.
    External,
    /// Only users of one organization.
    Internal {
        /// The organization's row id.
        organization_id: i64,
    },
}

impl Audience {
    /// `external` or `internal`, as stored.
    pub const fn user_type(&self) -> &'static str {
        match self {
            Audience::External => "external",
            Audience::Internal { .. } => "internal",
        }
    }
}

/// Whether the project passed verification: unverified projects asking for sensitive or
/// restricted scopes show users a warning first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Not verified: users see the unverified-app warning for sensitive scopes.
    Unverified,
    /// Verified.
    Verified,
}

impl Verification {
    /// `unverified` or `verified`, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verification::Unverified => "unverified",
            Verification::Verified => "verified",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unverified" => Some(Verification::Unverified),
            "verified" => Some(Verification::Verified),
            _ => None,
        }
    }
}

/// The consent screen: what users are shown about the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsentScreen {
    /// The app's name as users see it.
    pub app_name: String,
    /// Where users can write to about the app.
    pub support_email: Email,
    /// Optional logo, an https URL.
    pub logo_url: Option<String>,
    /// Who may use the app.
    #[serde(flatten)]
    pub audience: Audience,
    /// Verification status.
    pub verification: Verification,
}

/// A project: owns OAuth clients, a consent screen and the domains it has proven it owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The project id (`keyway-demo-482913`).
    pub id: ProjectId,
    /// The developer's name for it.
    pub name: String,
    /// What users see.
    pub consent: ConsentScreen,
    /// Domains the project owns, which lifts the URL-shortener redirect rule for them.
    pub owned_domains: Vec<String>,
    /// When it was created.
    pub created_at: Timestamp,
}
