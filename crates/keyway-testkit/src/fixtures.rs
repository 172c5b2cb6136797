//! Ready-made data for flow tests: a project with a web client and users, created through the
//! same console operations the CLI uses.

use keyway_core::console::{self, AudienceInput, ConsoleSettings, ProjectInput};
use keyway_core::project::{Project, Verification};
use keyway_core::user::User;
use keyway_core::{OAuthClient, Secret, Store, SystemClock};

/// The redirect URI of [`Fixture`]'s client.
pub const REDIRECT_URI: &str = "https://app.example.com/oauth2callback";
/// The password of every fixture user.
pub const PASSWORD: &str = "correct horse battery";

/// A project, its client (with its secret) and a user.
#[derive(Debug)]
pub struct Fixture {
    /// The project ("Photo Print", external, verified unless asked otherwise).
    pub project: Project,
    /// A web client with [`REDIRECT_URI`] and `http://localhost:8080/oauth2callback`.
    pub client: OAuthClient,
    /// The client's secret.
    pub secret: Secret,
    /// `ada@example.com`, password [`PASSWORD`].
    pub user: User,
}

impl Fixture {
    /// Creates the fixture in `store`.
    pub async fn create(store: &dyn Store) -> Self {
        Self::create_with(store, Verification::Verified, AudienceInput::External).await
    }

    /// Creates the fixture with a given verification status and audience.
    pub async fn create_with(
        store: &dyn Store,
        verification: Verification,
        audience: AudienceInput,
    ) -> Self {
        let clock = SystemClock;
        let project = console::create_project(
            store,
            &clock,
            ProjectInput {
                name: Some("Photo Print".into()),
                support_email: Some("help@photoprint.example.com".into()),
                verification: Some(verification),
                audience: Some(audience),
                ..Default::default()
            },
        )
        .await
        .expect("create project");
        let (client, secret) = console::create_client(
            store,
            &clock,
            &ConsoleSettings::default(),
            project.id.as_str(),
            "web",
            &[
                REDIRECT_URI.into(),
                "http://localhost:8080/oauth2callback".into(),
            ],
            &[],
        )
        .await
        .expect("create client");
        let user = add_user(store, "ada@example.com", "Ada Lovelace").await;
        Self {
            project,
            client,
            secret,
            user,
        }
    }
}

/// Creates a user with [`PASSWORD`].
pub async fn add_user(store: &dyn Store, email: &str, name: &str) -> User {
    console::create_user(store, &SystemClock, email, name, &Secret::new(PASSWORD))
        .await
        .expect("create user")
}
