//! Working as a team over the real HTTP API: invitations mailed over SMTP (maildev) and
//! accepted by new and existing users, and nested teams with members and a lead.

use crate::support::accounts::{PASSWORD, fresh_email, mail_to};
use crate::support::{Backend, Options, TestApp};
use caly_core::tenancy::accounts::Role;
use reqwest::Method;
use serde_json::{Value, json};

async fn spawn(backend: Backend) -> TestApp {
    TestApp::spawn_opts(
        backend,
        Options {
            smtp: true,
            workers: false,
            ..Options::default()
        },
    )
    .await
}

fn token_in(text: &str) -> String {
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/accept-invite?token="))
        .unwrap_or_else(|| panic!("no link in {text:?}"));
    link.split("token=").nth(1).unwrap().to_string()
}

#[tokio::test]
async fn an_invited_person_joins_with_the_role_and_an_existing_user_joins_with_their_password() {
    let t = spawn(Backend::Production).await;
    let (_, admin) = t.signed_in(Role::Admin).await;
    let (_, viewer) = t.signed_in(Role::Viewer).await;
    let email = fresh_email("priya");
    let invite = |role: &str, email: &str| json!({"email": email, "role": role});
    // Only admins invite, and only owners invite owners.
    let refused = t
        .request(
            Method::POST,
            "/api/v1/invitations",
            Some(&viewer),
            Some(invite("agent", &email)),
        )
        .await;
    assert_eq!(refused.status, 403);
    let owner_invite = t
        .request(
            Method::POST,
            "/api/v1/invitations",
            Some(&admin),
            Some(invite("owner", &email)),
        )
        .await;
    assert_eq!(owner_invite.status, 403);
    let sent = t
        .request(
            Method::POST,
            "/api/v1/invitations",
            Some(&admin),
            Some(invite("agent", &email)),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert!(sent.body.get("token_hash").is_none());
    let pending = t
        .request(Method::GET, "/api/v1/invitations", Some(&admin), None)
        .await;
    assert_eq!(pending.body["items"].as_array().unwrap().len(), 1);

    let (subject, text) = mail_to(&email, "You are invited").await;
    assert!(subject.contains("Test Store"), "{subject}");
    let token = token_in(&text);
    let weak = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": "weak"})),
        )
        .await;
    assert_eq!(weak.status, 422);
    let joined = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": "Saffron-Lane-9", "name": "Priya"})),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(joined.body["role"], "agent");
    assert_eq!(joined.body["tenant"]["id"], t.tenant.tenant.id);
    let again = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": "Saffron-Lane-9"})),
        )
        .await;
    assert_eq!(again.status, 401, "a link works once");
    let users = t
        .request(Method::GET, "/api/v1/users", Some(&admin), None)
        .await;
    assert!(
        users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == email.as_str() && u["role"] == "agent")
    );
    let duplicate = t
        .request(
            Method::POST,
            "/api/v1/invitations",
            Some(&admin),
            Some(invite("viewer", &email)),
        )
        .await;
    assert_eq!(duplicate.status, 409);

    // A person with an account elsewhere joins with their own password and has both stores.
    let other = t.other_tenant().await;
    let elsewhere = t.add_user_to(other.tenant.id, Role::Owner).await;
    t.request(
        Method::POST,
        "/api/v1/invitations",
        Some(&admin),
        Some(invite("viewer", &elsewhere.email)),
    )
    .await;
    let token = token_in(&mail_to(&elsewhere.email, "You are invited").await.1);
    let wrong = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": "Not-Their-Pass-1"})),
        )
        .await;
    assert_eq!(wrong.status, 401);
    let joined = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": PASSWORD})),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    let me = t
        .request(
            Method::GET,
            "/api/v1/me",
            Some(joined.body["access_token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(me.body["memberships"].as_array().unwrap().len(), 2);
    assert_eq!(me.body["role"], "viewer");

    // A person signed in (a Google-only user has no password) accepts without one.
    let signed_in = t.add_user_to(other.tenant.id, Role::Agent).await;
    let their_token = t.login(&signed_in.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    t.request(
        Method::POST,
        "/api/v1/invitations",
        Some(&admin),
        Some(invite("agent", &signed_in.email)),
    )
    .await;
    let token = token_in(&mail_to(&signed_in.email, "You are invited").await.1);
    let anonymous = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(
        anonymous.status, 422,
        "without a session the password is needed"
    );
    let joined = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            Some(&their_token),
            Some(json!({"token": token})),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.body);
    assert_eq!(joined.body["tenant"]["id"], t.tenant.tenant.id);

    // A withdrawn invitation cannot be accepted.
    let late = fresh_email("late");
    let sent = t
        .request(
            Method::POST,
            "/api/v1/invitations",
            Some(&admin),
            Some(invite("viewer", &late)),
        )
        .await;
    let id = sent.body["id"].as_i64().unwrap();
    let token = token_in(&mail_to(&late, "You are invited").await.1);
    let withdrawn = t
        .request(
            Method::DELETE,
            &format!("/api/v1/invitations/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, 204);
    let refused = t
        .request(
            Method::POST,
            "/api/v1/auth/invitations/accept",
            None,
            Some(json!({"token": token, "password": "Saffron-Lane-9"})),
        )
        .await;
    assert_eq!(refused.status, 401);
    // Another tenant cannot withdraw this tenant's invitation.
    let outsider = t.add_user_to(other.tenant.id, Role::Admin).await;
    let outsider = t.login(&outsider.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let probe = t
        .request(
            Method::DELETE,
            &format!("/api/v1/invitations/{id}"),
            Some(&outsider),
            None,
        )
        .await;
    assert_eq!(probe.status, 404);
}

#[tokio::test]
async fn teams_nest_have_members_and_a_lead_and_stay_inside_their_tenant() {
    let t = spawn(Backend::Embedded).await;
    let (_, admin) = t.signed_in(Role::Admin).await;
    let lead = t.add_user(Role::Supervisor).await;
    let agent = t.add_user(Role::Agent).await;
    let create = |body: Value| t.request(Method::POST, "/api/v1/teams", Some(&admin), Some(body));
    let support = create(json!({"name": "Support", "lead_user_id": lead.id})).await;
    assert_eq!(support.status, 201, "{}", support.body);
    let support_id = support.body["id"].as_i64().unwrap();
    let hindi = create(json!({"name": "Hindi line", "parent_id": support_id})).await;
    let hindi_id = hindi.body["id"].as_i64().unwrap();
    assert_eq!(hindi.body["parent_id"], support_id);
    let member = t
        .request(
            Method::PUT,
            &format!("/api/v1/teams/{hindi_id}/members/{}", agent.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(member.status, 204);
    let renamed = t
        .request(
            Method::PATCH,
            &format!("/api/v1/teams/{hindi_id}"),
            Some(&admin),
            Some(json!({"name": "Hindi & Marathi"})),
        )
        .await;
    assert_eq!(renamed.body["name"], "Hindi & Marathi");
    assert_eq!(renamed.body["parent_id"], support_id, "untouched");
    // A team cannot sit inside itself or its own sub-team.
    let cycle = t
        .request(
            Method::PATCH,
            &format!("/api/v1/teams/{support_id}"),
            Some(&admin),
            Some(json!({"parent_id": hindi_id})),
        )
        .await;
    assert_eq!(cycle.status, 422);
    assert!(cycle.body["error"]["fields"]["parent_id"].is_string());
    let listed = t
        .request(Method::GET, "/api/v1/teams", Some(&admin), None)
        .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["lead_user_id"], lead.id);
    assert_eq!(items[1]["members"], json!([agent.id]));

    // Another tenant's people and teams are out of reach.
    let other = t.other_tenant().await;
    let stranger = t.add_user_to(other.tenant.id, Role::Agent).await;
    let bad_lead = create(json!({"name": "X", "lead_user_id": stranger.id})).await;
    assert_eq!(bad_lead.status, 422);
    let bad_member = t
        .request(
            Method::PUT,
            &format!("/api/v1/teams/{hindi_id}/members/{}", stranger.id),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(bad_member.status, 404);
    let other_admin = t.add_user_to(other.tenant.id, Role::Admin).await;
    let other_token = t.login(&other_admin.email, PASSWORD).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path) in [
        (Method::PATCH, format!("/api/v1/teams/{hindi_id}")),
        (Method::DELETE, format!("/api/v1/teams/{hindi_id}")),
        (
            Method::PUT,
            format!("/api/v1/teams/{hindi_id}/members/{}", other_admin.id),
        ),
    ] {
        let answer = t
            .request(
                method.clone(),
                &path,
                Some(&other_token),
                Some(json!({"name": "Mine"})),
            )
            .await;
        assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
    }
    let theirs = t
        .request(Method::GET, "/api/v1/teams", Some(&other_token), None)
        .await;
    assert_eq!(theirs.body["items"], json!([]));

    // Deleting a team moves its sub-teams up.
    let deleted = t
        .request(
            Method::DELETE,
            &format!("/api/v1/teams/{support_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    let listed = t
        .request(Method::GET, "/api/v1/teams", Some(&admin), None)
        .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0]["parent_id"].is_null());
}

#[tokio::test]
async fn handoffs_and_closed_tasks_are_attributed_to_the_person_who_took_them() {
    let t = TestApp::spawn(Backend::Embedded).await;
    let (agent, token) = t.signed_in(Role::Agent).await;
    let phone = t
        .request(
            Method::PATCH,
            "/api/v1/me",
            Some(&token),
            Some(json!({"phone": "098111 22233"})),
        )
        .await;
    assert_eq!(phone.body["phone"], "+919811122233");

    // Exotel's Connect applet dialled the agent's number for this call.
    let sid = crate::support::sid(77);
    t.post_json(
        "status",
        &json!({"CallSid": sid, "Status": "completed", "From": "09812345678",
                "DialWhomNumber": "09811122233", "ConversationDuration": "42"}),
    )
    .await;
    t.drain().await;
    let call = t.call_by_sid(&sid).await;
    assert_eq!(call.dialed_number.as_deref(), Some("+919811122233"));
    let detail = t
        .request(
            Method::GET,
            &format!("/api/v1/calls/{}", call.id),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        detail.body["handled_by"]["id"], agent.id,
        "{}",
        detail.body["handled_by"]
    );
    assert_eq!(detail.body["handled_by"]["email"], agent.email.as_str());

    // A task the agent closes records them.
    crate::turns::connect(&t).await;
    let conversation = crate::turns::open(&t).await;
    crate::turns::say(&t, conversation, "the kurta arrived damaged").await;
    let tasks = t
        .request(Method::GET, "/api/v1/tasks?status=open", Some(&token), None)
        .await;
    let id = tasks.body["items"][0]["id"].as_i64().unwrap();
    let closed = t
        .request(
            Method::POST,
            &format!("/api/v1/tasks/{id}/close"),
            Some(&token),
            Some(json!({"note": "Replacement sent."})),
        )
        .await;
    assert_eq!(closed.status, 200, "{}", closed.body);
    assert_eq!(closed.body["closed_by"], agent.id);
}
