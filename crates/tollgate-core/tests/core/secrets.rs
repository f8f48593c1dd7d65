//! `client_secret_basic` and `client_secret_post`: the right secret, and
//! every way it is not, each the one `invalid_client` body.

use tollgate_core::{AuthMethod, Challenge, Client, ErrorCode, Reason, Secrets};

use crate::support::{NOW, Req, SECRET, World, client, granted, refused, secrets};

const CC: (&str, &str) = ("grant_type", "client_credentials");

fn post(id: &str, secret: &str) -> Req {
    Req::form(&[CC, ("client_id", id), ("client_secret", secret)])
}

async fn secret_cases() {
    let world = World::new(vec![
        client("svc"),
        Client {
            enabled: false,
            ..client("disabled")
        },
        Client {
            secrets: secrets(SECRET, Some(NOW - time::Duration::days(1)), "expired"),
            ..client("expired")
        },
        Client {
            secrets: secrets(SECRET, Some(NOW + time::Duration::days(1)), "expiring"),
            ..client("expiring")
        },
        Client {
            secrets: Secrets::default(),
            ..client("keyless")
        },
    ]);
    let basic = granted(
        "Basic",
        world.token(&Req::form(&[CC]).basic("svc", SECRET)).await,
    );
    assert_eq!(basic.method, AuthMethod::ClientSecretBasic);
    let post_ok = granted("post", world.token(&post("svc", SECRET)).await);
    assert_eq!(post_ok.method, AuthMethod::ClientSecretPost);
    granted(
        "a secret that expires tomorrow",
        world.token(&post("expiring", SECRET)).await,
    );
    let long = "x".repeat(300);
    use Reason::*;
    let cases = [
        ("a wrong secret", "svc", "wrong", WrongSecret),
        ("an unknown client", "nobody", SECRET, UnknownClient),
        ("a disabled client", "disabled", SECRET, DisabledClient),
        ("an expired secret", "expired", SECRET, NoValidSecret),
        ("a client without secrets", "keyless", SECRET, NoValidSecret),
        ("an id longer than any", &long, SECRET, ClientIdTooLong),
    ];
    for (case, id, secret, reason) in cases {
        // Basic: the challenge names the scheme; post: none.
        let basic = world.token(&Req::form(&[CC]).basic(id, secret)).await;
        let refusal = refused(case, basic, ErrorCode::InvalidClient, reason);
        assert_eq!(refusal.error.challenge, Challenge::Basic, "{case}");
        let posted = world.token(&post(id, secret)).await;
        let refusal = refused(case, posted, ErrorCode::InvalidClient, reason);
        assert_eq!(refusal.error.challenge, Challenge::None, "{case}");
    }
    // The audit trail keeps the id the request claimed.
    let refused_ = world.token(&post("nobody", "x")).await.unwrap_err();
    assert_eq!(refused_.claimed_id.as_deref(), Some("nobody"));
    refused(
        "a secret without a client_id",
        world
            .token(&Req::form(&[CC, ("client_secret", SECRET)]))
            .await,
        ErrorCode::InvalidClient,
        NoCredentials,
    );
}

pub(crate) async fn all() {
    secret_cases().await;
}

#[tokio::test]
async fn every_wrong_secret_is_the_one_invalid_client_with_its_reason() {
    secret_cases().await;
}
