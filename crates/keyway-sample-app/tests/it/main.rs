//! The sample app end to end in headless Chromium: `/test` → sign-in → consent → back on
//! `/test` with the user's files; `/revoke`; `/test` needs authorization again; `/clear`.

use keyway_core::client_secret_json::{ClientSecretJson, Endpoints};
use keyway_core::console::{ConsoleSettings, create_client};
use keyway_sample_app::{App, Settings};
use keyway_testkit::browser::Browser;
use keyway_testkit::fixtures::PASSWORD;
use keyway_testkit::{Fixture, TestApp};

const DRIVE_RO: &str = "https://www.googleapis.com/auth/drive.metadata.readonly";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_example_in_a_real_browser() {
    let keyway = TestApp::spawn().await;
    let fx = Fixture::create(keyway.store()).await;

    // The sample app's socket first: its port is in the redirect URI the client registers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let redirect_uri = format!("http://127.0.0.1:{port}/oauth2callback");
    let (client, secret) = create_client(
        keyway.store(),
        &keyway_core::SystemClock,
        &ConsoleSettings::default(),
        fx.project.id.as_str(),
        "sample app",
        std::slice::from_ref(&redirect_uri),
        &[],
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("client_secret.json");
    let json = ClientSecretJson::web(
        &client,
        &secret,
        &Endpoints::from_public_url(&keyway.base_url),
    );
    std::fs::write(&secrets, json.to_json()).unwrap();
    let app = App::new(Settings {
        client_secrets: secrets,
        scopes: vec![DRIVE_RO.into()],
        api_base: keyway.base_url.to_string(),
        redirect_uri,
        database: dir.path().join("sample.db"),
    })
    .await
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, app.router()).await });
    let sample = format!("http://127.0.0.1:{port}");
    let keyway_port = keyway.address.port();

    let browser = Browser::start().await;
    browser.goto(&format!("{sample}/")).await;
    assert!(browser.body_text().await.contains("Test an API request"));
    browser.goto(&format!("{sample}/test")).await;
    browser
        .wait_for_url("Keyway's sign-in page", |u| {
            u.port() == Some(keyway_port) && u.path() == "/signin"
        })
        .await;
    browser
        .find("#email")
        .await
        .send_keys(fx.user.email.as_str())
        .await;
    browser.find("#password").await.send_keys(PASSWORD).await;
    browser.find("button[type=submit]").await.click().await;
    browser
        .wait_for_url("the consent page", |u| u.path() == "/consent")
        .await;
    browser.find("button[value=allow]").await.click().await;
    let landed = browser
        .wait_for_url("back on /test", |u| {
            u.port() == Some(port) && u.path() == "/test"
        })
        .await;
    assert!(
        landed.query().is_none(),
        "the code is not left in the address bar"
    );
    let text = browser.body_text().await;
    assert!(
        text.contains("drive#fileList") && text.contains("\"files\""),
        "{text}"
    );

    browser.goto(&format!("{sample}/revoke")).await;
    assert!(
        browser
            .body_text()
            .await
            .contains("Credentials successfully revoked.")
    );
    // The grant is gone: /test needs a new authorization (the browser is still signed in
    // at Keyway, so it goes straight to consent).
    browser.goto(&format!("{sample}/test")).await;
    browser
        .wait_for_url("consent again", |u| {
            u.port() == Some(keyway_port) && u.path() == "/consent"
        })
        .await;
    browser.find("button[value=allow]").await.click().await;
    browser
        .wait_for_url("back on /test", |u| {
            u.port() == Some(port) && u.path() == "/test"
        })
        .await;
    assert!(browser.body_text().await.contains("drive#fileList"));

    browser.goto(&format!("{sample}/clear")).await;
    assert!(
        browser
            .body_text()
            .await
            .contains("Credentials have been cleared.")
    );
    // Cleared, not revoked: authorizing again skips consent and lands on /test directly.
    browser.goto(&format!("{sample}/test")).await;
    let url = browser
        .wait_for_url("back on /test without consent", |u| {
            u.port() == Some(port) && u.path() == "/test"
        })
        .await;
    assert!(url.query().is_none());
    assert!(browser.body_text().await.contains("drive#fileList"));
}
