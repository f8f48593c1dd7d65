//! The browser's side of sign-in: the sealed form tampered with,
//! expired or posted by another browser, sessions of people removed,
//! disabled or revoked since, and one message for every failed sign-in
//! (throttled per user and address).

use tollgate_core::authorize::{self, Answer};
use tollgate_core::session::SessionChange;
use tollgate_core::{Reason, User};

use crate::authorize::{page, pending, query, sign_in, signed_in, start, web, world};
use crate::support::{reach, user};

async fn the_sealed_form() {
    let mut world = world();
    let first = start(&world, &query(&[]), None);
    let blob = pending(&first.answer);
    let mut tampered = blob.clone().into_bytes();
    tampered[30] = if tampered[30] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    page(
        "tampered",
        &sign_in(&world, &tampered, "alice", "alice").await.answer,
        Reason::PendingInvalid,
    );
    let other = authorize::sign_in(
        &world.cx(),
        &world.ports,
        format!("pending={blob}&username=alice&password=alice").as_bytes(),
        Some("another-browser"),
    )
    .await;
    page(
        "another browser's cookie",
        &other.answer,
        Reason::CsrfMismatch,
    );
    let none = authorize::sign_in(
        &world.cx(),
        &world.ports,
        format!("pending={blob}").as_bytes(),
        None,
    )
    .await;
    page("no CSRF cookie", &none.answer, Reason::CsrfMismatch);
    world.now += time::Duration::seconds(601);
    page(
        "expired",
        &sign_in(&world, &blob, "alice", "alice").await.answer,
        Reason::PendingInvalid,
    );
}

async fn sessions_of_people_who_no_longer_stand() {
    let mut world = world();
    let alice = signed_in(&world, "alice").await;
    let edits: [(&str, Option<User>); 3] = [
        ("removed", None),
        (
            "disabled",
            Some(User {
                enabled: false,
                ..user("alice", &[])
            }),
        ),
        (
            "revoked",
            Some(User {
                tokens_valid_after: Some(world.now + time::Duration::seconds(1)),
                ..user("alice", &[])
            }),
        ),
    ];
    for (case, edited) in edits {
        world.reload_people(vec![web()], edited.into_iter().collect());
        let outcome = start(&world, &query(&[]), Some(&alice));
        assert_eq!(outcome.session, SessionChange::Clear, "{case}");
        assert!(matches!(outcome.answer, Answer::SignIn(_)), "{case}");
    }
}

async fn every_failed_sign_in_says_the_same() {
    let world = world();
    let blob = pending(&start(&world, &query(&[]), None).answer);
    let cases = [
        ("unknown user", "nobody", "nobody", Reason::UnknownUser),
        ("disabled user", "carol", "carol", Reason::DisabledUser),
        ("wrong password", "alice", "bob", Reason::WrongPassword),
    ];
    for (case, name, password, reason) in cases {
        let outcome = sign_in(&world, &blob, name, password).await;
        assert_eq!(outcome.session, SessionChange::Keep, "{case}");
        let Answer::SignIn(form) = &outcome.answer else {
            panic!("{case}: {:?}", outcome.answer)
        };
        let failed = form.failed.expect("a failure");
        assert_eq!(failed.reason, reason, "{case}");
        assert_eq!(
            failed.message(),
            tollgate_core::signin::FAILED,
            "{case}: one message"
        );
        assert_eq!(
            form.login_hint.as_deref(),
            Some(name),
            "{case}: the name kept"
        );
        reach(reason);
    }
    for _ in 0..20 {
        let _ = sign_in(&world, &blob, "alice", "guess").await;
    }
    let Answer::SignIn(form) = sign_in(&world, &blob, "alice", "alice").await.answer else {
        panic!("a sign-in page")
    };
    assert_eq!(
        form.failed.map(|f| f.reason),
        Some(Reason::Throttled),
        "throttled per user and address"
    );
}

pub(crate) async fn all() {
    the_sealed_form().await;
    sessions_of_people_who_no_longer_stand().await;
    every_failed_sign_in_says_the_same().await;
}

#[tokio::test]
async fn a_tampered_expired_or_foreign_form_is_refused() {
    the_sealed_form().await;
}

#[tokio::test]
async fn a_removed_disabled_or_revoked_user_is_signed_out() {
    sessions_of_people_who_no_longer_stand().await;
}

#[tokio::test]
async fn unknown_user_disabled_user_and_wrong_password_get_one_message() {
    every_failed_sign_in_says_the_same().await;
}
