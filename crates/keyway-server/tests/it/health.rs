//! `/healthz` and `/readyz` on a real server, on both databases.

use keyway_testkit::{TestApp, TestStore};

async fn probes_answer(app: &TestApp) {
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], app.store().backend());
    assert_eq!(app.get("/no-such-page").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_on_sqlite() {
    let app = TestApp::spawn().await;
    probes_answer(&app).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_on_postgres_and_readiness_follows_the_database() {
    let Some(db) = TestStore::postgres().await else {
        eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
        return;
    };
    let app = TestApp::spawn_on(db, |_| {}).await;
    probes_answer(&app).await;
    // Take the database away: the process stays up, but it is no longer ready.
    app.db.drop_postgres_database().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.headers()["retry-after"], "5");
    let body = ready.text().await.unwrap();
    assert!(
        !body.contains("keyway_test_"),
        "no internal detail leaks: {body}"
    );
}
