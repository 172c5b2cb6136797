//! The Store conformance suite on SQLite and PostgreSQL.

use keyway_testkit::{TestStore, conformance};

macro_rules! on_both_stores {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let db = TestStore::sqlite().await;
                    conformance::$check(db.store.clone()).await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(db) = TestStore::postgres().await else {
                        eprintln!("skipped: KEYWAY_TEST_DATABASE_URL is not set");
                        return;
                    };
                    conformance::$check(db.store.clone()).await;
                }
            )*
        }
    };
}

on_both_stores!(
    users,
    concurrent_writes_fail_alone,
    disabling_a_user_revokes_everything,
    projects,
    clients,
    deleting_a_client_deletes_its_tokens,
    scope_catalogue,
    grants_accumulate_scopes,
    codes_redeem_once,
    concurrent_redemptions_have_one_winner,
    refresh_token_limits_drop_the_oldest,
    refreshing_issues_access_tokens,
    revoking_a_grant_removes_everything_under_it,
    disabled_clients_tokens_do_not_validate,
    expired_rows_are_purged,
    sessions,
    signing_keys,
    organization_policies,
    pending_requests,
    signin_failures_are_counted,
);
