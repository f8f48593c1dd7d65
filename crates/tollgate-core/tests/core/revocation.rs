//! Token revocation (RFC 7009) in the core: an access token revoked by its
//! client is inactive at introspection and no subject token of an exchange;
//! a refresh token's family is revoked; another client's token or one not
//! ours changes nothing.

use serde_json::json;
use tollgate_core::ErrorCode::{InvalidClient, InvalidGrant};
use tollgate_core::Reason;
use tollgate_core::exchange::ACCESS_TOKEN_TYPE;
use tollgate_core::introspection::Introspection;
use tollgate_core::revocation::Revoked;

use crate::support::people::{code, redeem, refresh, world};
use crate::support::subjects::{exchange, own};
use crate::support::{API, Key, Req, SECRET, granted, refused};

fn revoke(token: &str, id: &str, secret: &str) -> Req {
    Req::form(&[("token", token)]).basic(id, secret)
}

async fn an_access_token_revoked_is_inactive_and_not_exchangeable() {
    let world = crate::support::subjects::world(&Key::new(None));
    let token = own(&world, json!({"jti": "to-revoke"}));
    let exchanged = || exchange("exchanger", &token, ACCESS_TOKEN_TYPE, &[]);
    granted("before", world.token(&exchanged()).await);
    let by_other = world.revoke(&revoke(&token, "exchanger", SECRET)).await;
    assert_eq!(granted("another client's", by_other), Revoked::Nothing);
    let ours = world.revoke(&revoke(&token, "caller", SECRET)).await;
    assert_eq!(granted("its client's", ours), Revoked::AccessToken);
    let asked = Req::form(&[("token", token.as_str())]).basic(API, SECRET);
    assert_eq!(
        world.introspect(&asked).await.unwrap(),
        Introspection::Inactive
    );
    refused(
        "exchanged after",
        world.token(&exchanged()).await,
        InvalidGrant,
        Reason::SubjectTokenRevoked,
    );
    let unknown = world.revoke(&revoke("not-a-token", "caller", SECRET)).await;
    assert_eq!(granted("unknown", unknown), Revoked::Nothing);
    refused(
        "a wrong secret",
        world.revoke(&revoke(&token, "caller", "wrong")).await,
        InvalidClient,
        Reason::WrongSecret,
    );
}

async fn a_refresh_token_revoked_revokes_its_family() {
    let world = world();
    let sealed = code(&world, "web", "openid offline_access", |_| {});
    let token = granted("redeem", world.token(&redeem(&sealed)).await)
        .refresh_token
        .unwrap();
    let revoked = world.revoke(&revoke(&token, "web", SECRET)).await;
    assert_eq!(granted("revoke", revoked), Revoked::RefreshFamily);
    refused(
        "refreshed after",
        world.token(&refresh(&token, None)).await,
        InvalidGrant,
        Reason::RefreshFamilyRevoked,
    );
}

pub(crate) async fn all() {
    an_access_token_revoked_is_inactive_and_not_exchangeable().await;
    a_refresh_token_revoked_revokes_its_family().await;
}

#[tokio::test]
async fn the_revocation_cases() {
    all().await;
}
