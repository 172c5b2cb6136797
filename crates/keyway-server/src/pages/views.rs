//! The HTML pages a person sees (sign-in, account chooser, consent, unverified-app warning,
//! errors, signed-out, try-later), rendered with askama from `templates/`, plus the stylesheet
//! served at `/static/keyway.css`. Everything user-controlled is HTML-escaped by the templates.

use askama::Template;

/// One signed-in account, as shown in the chooser and on the consent screen.
#[derive(Debug, Clone)]
pub struct AccountLine {
    pub name: String,
    pub email: String,
    /// The account's index in the browser session (the `authuser` value).
    pub authuser: u32,
}

/// One requested scope on the consent screen.
#[derive(Debug, Clone)]
pub struct ScopeLine {
    /// The scope string, submitted as `scope`.
    pub scope: String,
    /// The human sentence describing what the scope allows.
    pub description: String,
    /// True: a checkbox named `scope` (checked by default). False: a fixed check mark and a
    /// hidden input `scope`, so the scope is always submitted.
    pub optional: bool,
    /// Shown in the "Already granted" list, with no input (not submitted).
    pub already_granted: bool,
}

/// The sign-in form (`POST /signin`).
#[derive(Debug, Clone)]
pub struct SignInView {
    pub app_name: String,
    /// Pre-filled email (may be empty).
    pub email: String,
    pub error: Option<String>,
    pub req: String,
    pub csrf: String,
}

/// The account chooser (`POST /accountchooser`).
#[derive(Debug, Clone)]
pub struct ChooserView {
    pub app_name: String,
    pub accounts: Vec<AccountLine>,
    pub req: String,
    pub csrf: String,
}

/// The consent screen (`POST /consent`).
#[derive(Debug, Clone)]
pub struct ConsentView {
    pub app_name: String,
    pub support_email: String,
    /// The project's logo; shown only when it is an `https://` URL.
    pub logo_url: Option<String>,
    pub account: AccountLine,
    pub scopes: Vec<ScopeLine>,
    /// True: "Select what … can access" (granular consent); false: "This will allow … to:".
    pub granular: bool,
    pub req: String,
    pub csrf: String,
}

/// The unverified-app interstitial (`POST /consent/unverified`).
#[derive(Debug, Clone)]
pub struct UnverifiedView {
    pub app_name: String,
    pub support_email: String,
    pub account_email: String,
    pub req: String,
    pub csrf: String,
}

/// An error page: "Access blocked" when the error concerns an app, else "Something went wrong".
#[derive(Debug, Clone)]
pub struct ErrorView {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Key/value pairs shown under "Request details" (e.g. `redirect_uri`).
    pub details: Vec<(String, String)>,
    pub app_name: Option<String>,
}

/// Shown after signing out.
#[derive(Debug, Clone)]
pub struct SignedOutView {
    pub message: String,
}

/// Shown while sign-in is rate-limited.
#[derive(Debug, Clone)]
pub struct TryLaterView {
    pub minutes: u32,
}

/// The stylesheet, for the route that serves /static/keyway.css (as `text/css`).
pub const STYLESHEET: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/keyway.css"));

/// Returned if askama ever fails to render (it cannot in practice: the templates are checked at
/// compile time and render into a `String`).
const FALLBACK: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Something went wrong – Keyway</title>\
<link rel=\"stylesheet\" href=\"/static/keyway.css\"></head>\
<body><main class=\"card\"><h1>Something went wrong</h1>\
<p>Keyway could not show this page. Please try again.</p></main></body></html>\n";

fn render_page(page: &impl Template) -> String {
    page.render().unwrap_or_else(|_| FALLBACK.to_owned())
}

/// The avatar of an account: the first letter of its name (or email) and one of eight colours,
/// picked from the email so an account keeps its colour.
#[derive(Debug)]
struct Avatar {
    initial: String,
    tone: u32,
}

impl Avatar {
    fn of(account: &AccountLine) -> Self {
        let initial = account
            .name
            .chars()
            .chain(account.email.chars())
            .find(|c| c.is_alphanumeric())
            .map_or_else(|| "?".to_owned(), |c| c.to_uppercase().collect());
        // FNV-1a over the email, folded so every byte moves the low bits.
        let hash = account.email.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let tone = (hash ^ (hash >> 16) ^ (hash >> 8)) % 8;
        Self { initial, tone }
    }
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    v: &'a SignInView,
}

#[derive(Template)]
#[template(path = "account_chooser.html")]
struct ChooserPage<'a> {
    v: &'a ChooserView,
    rows: Vec<(&'a AccountLine, Avatar)>,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    v: &'a ConsentView,
    avatar: Avatar,
    logo: Option<&'a str>,
    requested: Vec<&'a ScopeLine>,
    granted: Vec<&'a ScopeLine>,
}

#[derive(Template)]
#[template(path = "unverified.html")]
struct UnverifiedPage<'a> {
    v: &'a UnverifiedView,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    v: &'a ErrorView,
}

#[derive(Template)]
#[template(path = "signed_out.html")]
struct SignedOutPage<'a> {
    v: &'a SignedOutView,
}

#[derive(Template)]
#[template(path = "try_later.html")]
struct TryLaterPage<'a> {
    v: &'a TryLaterView,
}

/// The sign-in page.
pub fn sign_in(v: &SignInView) -> String {
    render_page(&SignInPage { v })
}

/// The account chooser.
pub fn account_chooser(v: &ChooserView) -> String {
    let rows = v.accounts.iter().map(|a| (a, Avatar::of(a))).collect();
    render_page(&ChooserPage { v, rows })
}

/// The consent screen.
pub fn consent(v: &ConsentView) -> String {
    let (granted, requested) = v.scopes.iter().partition(|s| s.already_granted);
    let logo = v
        .logo_url
        .as_deref()
        .filter(|u| u.starts_with("https://") && u.len() > "https://".len());
    render_page(&ConsentPage {
        v,
        avatar: Avatar::of(&v.account),
        logo,
        requested,
        granted,
    })
}

/// The unverified-app interstitial.
pub fn unverified(v: &UnverifiedView) -> String {
    render_page(&UnverifiedPage { v })
}

/// An error page.
pub fn error(v: &ErrorView) -> String {
    render_page(&ErrorPage { v })
}

/// The signed-out page.
pub fn signed_out(v: &SignedOutView) -> String {
    render_page(&SignedOutPage { v })
}

/// The too-many-attempts page.
pub fn try_later(v: &TryLaterView) -> String {
    render_page(&TryLaterPage { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"'";

    fn sign_in_view() -> SignInView {
        SignInView {
            app_name: "Photo Print".into(),
            email: String::new(),
            error: None,
            req: "req-handle-1".into(),
            csrf: "csrf-token-1".into(),
        }
    }

    fn chooser_view() -> ChooserView {
        ChooserView {
            app_name: "Photo Print".into(),
            accounts: vec![
                AccountLine {
                    name: "Ada Lovelace".into(),
                    email: "ada@example.com".into(),
                    authuser: 0,
                },
                AccountLine {
                    name: "Bob".into(),
                    email: "bob@example.org".into(),
                    authuser: 3,
                },
            ],
            req: "req-handle-1".into(),
            csrf: "csrf-token-1".into(),
        }
    }

    fn scope(scope: &str, description: &str, optional: bool, granted: bool) -> ScopeLine {
        ScopeLine {
            scope: scope.into(),
            description: description.into(),
            optional,
            already_granted: granted,
        }
    }

    fn consent_view() -> ConsentView {
        ConsentView {
            app_name: "Photo Print".into(),
            support_email: "help@photoprint.example".into(),
            logo_url: None,
            account: AccountLine {
                name: "Ada Lovelace".into(),
                email: "ada@example.com".into(),
                authuser: 0,
            },
            scopes: vec![
                scope(
                    "openid",
                    "Associate you with your personal info on Keyway",
                    false,
                    false,
                ),
                scope(
                    "https://photos.example/auth/read",
                    "See your photos",
                    true,
                    false,
                ),
                scope("email", "See your primary email address", false, true),
            ],
            granular: true,
            req: "req-handle-1".into(),
            csrf: "csrf-token-1".into(),
        }
    }

    fn unverified_view() -> UnverifiedView {
        UnverifiedView {
            app_name: "Photo Print".into(),
            support_email: "help@photoprint.example".into(),
            account_email: "ada@example.com".into(),
            req: "req-handle-1".into(),
            csrf: "csrf-token-1".into(),
        }
    }

    fn error_view() -> ErrorView {
        ErrorView {
            status: 400,
            code: "redirect_uri_mismatch".into(),
            message: "You can't sign in to this app because it sent an invalid request.".into(),
            details: vec![
                (
                    "redirect_uri".into(),
                    "https://photoprint.example/oauth/callback".into(),
                ),
                ("client_id".into(), "1234.apps.example".into()),
            ],
            app_name: Some("Photo Print".into()),
        }
    }

    fn all_pages() -> Vec<(&'static str, String)> {
        vec![
            ("sign_in", sign_in(&sign_in_view())),
            ("chooser", account_chooser(&chooser_view())),
            ("consent", consent(&consent_view())),
            ("unverified", unverified(&unverified_view())),
            ("error", error(&error_view())),
            (
                "signed_out",
                signed_out(&SignedOutView {
                    message: "You signed out of all accounts.".into(),
                }),
            ),
            ("try_later", try_later(&TryLaterView { minutes: 15 })),
        ]
    }

    /// The opening tag of the element with `id="{id}"`.
    fn tag_with_id<'a>(html: &'a str, id: &str) -> &'a str {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no element with id {id}"));
        let start = html[..at].rfind('<').unwrap();
        let end = at + html[at..].find('>').unwrap();
        &html[start..=end]
    }

    /// The `for` attribute of the label whose text is exactly `text`.
    fn label_for(html: &str, text: &str) -> String {
        let needle = format!(">{text}</label>");
        let end = html
            .find(&needle)
            .unwrap_or_else(|| panic!("no label {text:?}"));
        let start = html[..end].rfind("<label").unwrap();
        let tag = &html[start..end];
        let f = tag.find("for=\"").expect("label has for") + 5;
        tag[f..f + tag[f..].find('"').unwrap()].to_owned()
    }

    #[test]
    fn every_page_renders_a_complete_document() {
        for (name, html) in all_pages() {
            assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
            assert!(html.contains("<html lang=\"en\">"), "{name}");
            assert!(html.contains("<meta charset=\"utf-8\">"), "{name}");
            assert!(html.contains("name=\"viewport\""), "{name}");
            assert!(
                html.contains("<meta name=\"referrer\" content=\"no-referrer\">"),
                "{name}"
            );
            assert!(
                html.contains("<link rel=\"stylesheet\" href=\"/static/keyway.css\">"),
                "{name}"
            );
            assert!(html.contains(" – Keyway</title>"), "{name}");
            assert_eq!(html.matches("<h1").count(), 1, "{name}: one h1");
            assert!(html.contains("Keyway</span>"), "{name}: the product mark");
            assert!(!html.contains("<script"), "{name}: no script");
            assert!(html.trim_end().ends_with("</html>"), "{name}");
            assert_ne!(html, FALLBACK, "{name}");
        }
    }

    #[test]
    fn no_external_resources() {
        for (name, html) in all_pages() {
            assert!(!html.contains("http://"), "{name}");
            assert!(!html.contains("src="), "{name}: no logo in these fixtures");
            assert!(
                !html.contains("@import") && !html.contains("<style"),
                "{name}"
            );
            for (at, _) in html.match_indices("href=\"") {
                let href = &html[at + 6..];
                assert!(
                    ["/static/keyway.css\"", "/signin\"", "mailto:"]
                        .iter()
                        .any(|ok| href.starts_with(ok)),
                    "{name}: {}",
                    &href[..href.find('"').unwrap()]
                );
            }
        }
    }

    #[test]
    fn forms_post_and_carry_req_and_csrf() {
        let pages = [
            ("sign_in", sign_in(&sign_in_view()), "/signin"),
            (
                "chooser",
                account_chooser(&chooser_view()),
                "/accountchooser",
            ),
            ("consent", consent(&consent_view()), "/consent"),
            (
                "unverified",
                unverified(&unverified_view()),
                "/consent/unverified",
            ),
        ];
        for (name, html, action) in pages {
            assert_eq!(html.matches("<form").count(), 1, "{name}");
            assert!(
                html.contains(&format!("<form method=\"post\" action=\"{action}\"")),
                "{name}"
            );
            assert!(
                html.contains("<input type=\"hidden\" name=\"req\" value=\"req-handle-1\">"),
                "{name}"
            );
            assert!(
                html.contains("<input type=\"hidden\" name=\"csrf\" value=\"csrf-token-1\">"),
                "{name}"
            );
            assert!(
                !html.contains("<button>"),
                "{name}: buttons declare their type"
            );
        }
    }

    #[test]
    fn pages_without_forms() {
        let e = error(&error_view());
        let s = signed_out(&SignedOutView {
            message: "Bye.".into(),
        });
        let t = try_later(&TryLaterView { minutes: 15 });
        for html in [&e, &s, &t] {
            assert!(!html.contains("<form"));
            assert!(!html.contains("<input"));
        }
        assert!(s.contains("<h1>You're signed out</h1>"));
        assert!(s.contains("href=\"/signin\""));
        assert!(s.contains("Sign in again</a>"));
        assert!(t.contains("<h1>Too many attempts</h1>"));
        assert!(t.contains("Try again in 15 minutes."));
        assert!(try_later(&TryLaterView { minutes: 1 }).contains("Try again in 1 minute."));
    }

    #[test]
    fn sign_in_has_labelled_fields_and_next() {
        let html = sign_in(&sign_in_view());
        assert!(html.contains("<h1>Sign in</h1>"));
        assert!(html.contains("to continue to Photo Print"));
        assert!(html.contains("action=\"/signin\""));

        let email_id = label_for(&html, "Email");
        let email = tag_with_id(&html, &email_id);
        assert!(email.starts_with("<input"), "{email}");
        assert!(email.contains("name=\"email\""), "{email}");
        assert!(email.contains("type=\"email\""), "{email}");
        assert!(email.contains("autocomplete=\"username\""), "{email}");
        assert!(
            email.contains("autofocus"),
            "empty email gets the focus: {email}"
        );

        let password_id = label_for(&html, "Password");
        let password = tag_with_id(&html, &password_id);
        assert!(password.starts_with("<input"), "{password}");
        assert!(password.contains("name=\"password\""), "{password}");
        assert!(password.contains("type=\"password\""), "{password}");
        assert!(password.contains("autocomplete=\"current-password\""));
        assert!(!password.contains("autofocus"));

        assert!(html.contains("<button type=\"submit\" class=\"btn btn-primary\">Next</button>"));
        assert!(!html.contains("role=\"alert\""), "no error, no alert");
        assert!(!html.contains("aria-describedby"));
    }

    #[test]
    fn sign_in_error_is_an_alert_linked_to_the_fields() {
        let mut v = sign_in_view();
        v.email = "ada@example.com".into();
        v.error = Some("Wrong password. Try again.".into());
        let html = sign_in(&v);
        let alert = tag_with_id(&html, "signin-error");
        assert!(alert.contains("role=\"alert\""), "{alert}");
        assert!(html.contains("Wrong password. Try again."));
        let email = tag_with_id(&html, &label_for(&html, "Email"));
        assert!(email.contains("value=\"ada@example.com\""));
        assert!(!email.contains("autofocus"));
        let password = tag_with_id(&html, &label_for(&html, "Password"));
        assert!(password.contains("aria-describedby=\"signin-error\""));
        assert!(password.contains("aria-invalid=\"true\""));
        assert!(
            password.contains("autofocus"),
            "known email: focus the password"
        );
    }

    #[test]
    fn chooser_lists_accounts_then_another() {
        let html = account_chooser(&chooser_view());
        assert!(html.contains("<h1>Choose an account</h1>"));
        assert!(html.contains("to continue to Photo Print"));
        assert!(html.contains("action=\"/accountchooser\""));
        let ada = html
            .find("<button type=\"submit\" name=\"authuser\" value=\"0\"")
            .unwrap();
        let bob = html
            .find("<button type=\"submit\" name=\"authuser\" value=\"3\"")
            .unwrap();
        let new = html
            .find("<button type=\"submit\" name=\"authuser\" value=\"new\"")
            .unwrap();
        assert!(ada < bob && bob < new);
        assert!(html[ada..bob].contains("Ada Lovelace"));
        assert!(html[ada..bob].contains("ada@example.com"));
        assert!(html[ada..bob].contains(">A</span>"), "initial avatar");
        assert!(html[bob..new].contains(">B</span>"));
        assert!(html[new..].contains("Use another account"));
    }

    #[test]
    fn consent_inputs_follow_the_scope_kinds() {
        let html = consent(&consent_view());
        assert!(html.contains("<h1>Photo Print wants access to your Keyway Account</h1>"));
        assert!(html.contains("Ada Lovelace"));
        assert!(html.contains("ada@example.com"));
        assert!(html.contains("Select what Photo Print can access"));
        assert!(!html.contains("This will allow"));
        assert!(html.contains("action=\"/consent\""));

        // The fixed scope: a hidden input, no checkbox.
        assert!(html.contains("<input type=\"hidden\" name=\"scope\" value=\"openid\">"));
        assert!(!html.contains("type=\"checkbox\" name=\"scope\" value=\"openid\""));
        // The optional scope: a checked checkbox with a label holding the description.
        let photos = "https://photos.example/auth/read";
        let id = label_for(&html, "See your photos");
        let checkbox = tag_with_id(&html, &id);
        assert!(checkbox.contains("type=\"checkbox\""), "{checkbox}");
        assert!(checkbox.contains("name=\"scope\""), "{checkbox}");
        assert!(
            checkbox.contains(&format!("value=\"{photos}\"")),
            "{checkbox}"
        );
        assert!(checkbox.contains(" checked"), "{checkbox}");
        assert!(!html.contains(&format!(
            "type=\"hidden\" name=\"scope\" value=\"{photos}\""
        )));
        assert_eq!(html.matches("type=\"checkbox\"").count(), 1);

        // The granted scope: listed, never submitted.
        let granted = html.find("Already granted").unwrap();
        assert!(html[granted..].contains("See your primary email address"));
        assert!(!html.contains("value=\"email\""));

        assert!(html.contains("Make sure you trust Photo Print"));
        assert!(html.contains("href=\"mailto:help@photoprint.example\""));
        let cancel = html
            .find("<button type=\"submit\" name=\"action\" value=\"cancel\"")
            .unwrap();
        let allow = html
            .find("<button type=\"submit\" name=\"action\" value=\"allow\"")
            .unwrap();
        assert!(cancel < allow, "Cancel comes before Allow");
        assert!(html[cancel..allow].contains("Cancel"));
        assert!(html[allow..].contains("Allow"));
    }

    #[test]
    fn consent_variants() {
        let mut v = consent_view();
        v.granular = false;
        v.scopes.retain(|s| !s.already_granted);
        v.logo_url = Some("https://photoprint.example/logo.png".into());
        let html = consent(&v);
        assert!(html.contains("This will allow Photo Print to:"));
        assert!(!html.contains("Select what"));
        assert!(!html.contains("Already granted"));
        assert!(html.contains("src=\"https://photoprint.example/logo.png\""));

        v.logo_url = Some("javascript:alert(1)".into());
        assert!(!consent(&v).contains("<img"), "only https logos");
        v.logo_url = Some("http://photoprint.example/logo.png".into());
        assert!(!consent(&v).contains("<img"), "only https logos");
    }

    #[test]
    fn unverified_interstitial() {
        let html = unverified(&unverified_view());
        assert!(html.contains("<h1>Keyway hasn't verified this app</h1>"));
        assert!(html.contains("ada@example.com"));
        assert!(html.contains("help@photoprint.example"));
        assert!(html.contains("action=\"/consent/unverified\""));
        assert!(html.contains("name=\"action\" value=\"cancel\""));
        assert!(html.contains("name=\"action\" value=\"continue\""));
        assert!(html.contains("Back to safety</button>"));
        assert!(html.contains("Continue</button>"));
    }

    #[test]
    fn error_page() {
        let html = error(&error_view());
        assert!(html.contains("Error 400: redirect_uri_mismatch"));
        assert!(html.contains("<h1>Access blocked: Photo Print's request is invalid</h1>"));
        assert!(html.contains("<dl"));
        assert!(html.contains("<dt>redirect_uri</dt>"));
        assert!(html.contains("<dd>https://photoprint.example/oauth/callback</dd>"));
        assert!(html.contains("invalid request."));

        let mut v = error_view();
        v.app_name = None;
        v.details.clear();
        let html = error(&v);
        assert!(html.contains("<h1>Something went wrong</h1>"));
        assert!(!html.contains("Access blocked"));
        assert!(!html.contains("Request details"));
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let h = HOSTILE.to_owned();
        let account = AccountLine {
            name: h.clone(),
            email: h.clone(),
            authuser: 0,
        };
        let pages = [
            sign_in(&SignInView {
                app_name: h.clone(),
                email: h.clone(),
                error: Some(h.clone()),
                req: h.clone(),
                csrf: h.clone(),
            }),
            account_chooser(&ChooserView {
                app_name: h.clone(),
                accounts: vec![account.clone()],
                req: h.clone(),
                csrf: h.clone(),
            }),
            consent(&ConsentView {
                app_name: h.clone(),
                support_email: h.clone(),
                logo_url: Some(format!("https://x/{h}")),
                account: account.clone(),
                scopes: vec![
                    scope(&h, &h, true, false),
                    scope(&h, &h, false, false),
                    scope(&h, &h, false, true),
                ],
                granular: true,
                req: h.clone(),
                csrf: h.clone(),
            }),
            unverified(&UnverifiedView {
                app_name: h.clone(),
                support_email: h.clone(),
                account_email: h.clone(),
                req: h.clone(),
                csrf: h.clone(),
            }),
            error(&ErrorView {
                status: 400,
                code: h.clone(),
                message: h.clone(),
                details: vec![(h.clone(), h.clone())],
                app_name: Some(h.clone()),
            }),
            signed_out(&SignedOutView { message: h.clone() }),
        ];
        for html in pages {
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("\"'"), "{html}");
            assert!(
                html.contains("&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;"),
                "{html}"
            );
        }
    }

    #[test]
    fn avatar_initials() {
        let a = |name: &str, email: &str| {
            Avatar::of(&AccountLine {
                name: name.into(),
                email: email.into(),
                authuser: 0,
            })
            .initial
        };
        assert_eq!(a("ada", "x@y"), "A");
        assert_eq!(a("", "zoe@example.com"), "Z");
        assert_eq!(a("élodie", "e@x"), "É");
        assert_eq!(a("", ""), "?");
        assert!(
            Avatar::of(&AccountLine {
                name: String::new(),
                email: "q@example.com".into(),
                authuser: 0,
            })
            .tone
                < 8
        );
    }

    #[test]
    fn stylesheet_is_served_text() {
        assert!(STYLESHEET.contains(".card"));
        assert!(STYLESHEET.contains(":focus-visible"));
        assert!(!STYLESHEET.contains("@import"));
        assert!(!STYLESHEET.contains("url("));
    }
}
