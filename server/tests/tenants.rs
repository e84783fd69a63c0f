//! Tenants over the real server: a token bound to a tenant ingests into it only and reads only its events; a
//! host's viewer of one tenant sees only its events on every surface (list, totals, menus, live counts,
//! detail, proof, export, the page itself), another tenant's event is a 404; an admin of the whole log
//! filters by tenant.

mod common;

use app::{
    model::{Role, User},
    store::Scopes,
};
use common::TestApp;
use serde_json::{Value, json};

/// The log of the tests below: two events of `acme`, one of `globex` and one without a tenant, each by its own
/// actor (so that a page shows whose events it holds). Returns acme's token and globex's event id.
async fn seeded(app: &TestApp) -> (String, String) {
    let acme = tenant_token(app, "acme").await;
    let (status, body) = app
        .post_events(
            &acme,
            &json!({"events": [
                {"action": "mailbox.create", "actor": {"type": "user", "name": "Ada Acme"}},
                {"action": "domain.delete", "actor": {"type": "user", "name": "Ada Acme"}, "tenant": "acme",
                 "target": {"type": "domain", "id": "acme.example"}}
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let whole = app.token("ingest").await;
    let (status, body) = app
        .post_events(
            &whole,
            &json!({"events": [
                {"action": "user.delete", "actor": {"type": "user", "name": "Gus Globex"}, "tenant": "globex",
                 "source": "globex-panel"},
                {"action": "settings.update", "actor": {"type": "system", "name": "Nobody Tenant"}}
            ]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let globex_id = body["ids"][0].as_str().unwrap().to_string();
    (acme, globex_id)
}

async fn tenant_token(app: &TestApp, tenant: &str) -> String {
    let scopes = Scopes::parse("ingest,read").unwrap();
    app.store
        .create_token_recorded(&format!("{tenant}-ci"), &scopes, Some(tenant), |_| None)
        .await
        .unwrap()
        .plaintext
}

/// The actor names of a page of the API.
fn actors(page: &Value) -> Vec<String> {
    let mut names: Vec<String> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        // A row has `actor_name`; a whole event (`fields=full`) its actor.
        .map(|e| {
            e["actor_name"]
                .as_str()
                .or(e["actor"]["name"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[tokio::test]
async fn a_tenants_token_ingests_into_its_tenant_and_reads_only_its_events() {
    let app = TestApp::start().await;
    let (acme, globex_id) = seeded(&app).await;

    // An event naming another tenant is refused, and nothing of its batch is stored.
    let (status, body) = app
        .post_events(
            &acme,
            &json!({"events": [
                {"action": "mailbox.create", "actor": {"type": "user", "name": "Ada Acme"}},
                {"action": "mailbox.create", "actor": {"type": "user", "name": "Ada Acme"}, "tenant": "globex"}
            ]}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("events[1].tenant"),
        "{body}"
    );

    // Its list, whatever `tenant=` it names, holds its own two events.
    for path in [
        "/api/v1/events",
        "/api/v1/events?tenant=globex",
        "/api/v1/events?fields=full",
    ] {
        let (status, page) = app.get_json(&acme, path).await;
        assert_eq!(status, 200, "{path}: {page}");
        assert_eq!(page["total"], 2, "{path}: {page}");
        assert_eq!(actors(&page), ["Ada Acme"], "{path}");
    }
    let (_, full) = app.get_json(&acme, "/api/v1/events?fields=full").await;
    assert!(
        full["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant"] == "acme"),
        "{full}"
    );
    // A filter within the tenant, and a total counted from its cube.
    let (_, deletes) = app.get_json(&acme, "/api/v1/events?verb=delete").await;
    assert_eq!(deletes["total"], 1, "{deletes}");

    // Another tenant's event is as unknown as one that does not exist, and so is its proof.
    let (status, _) = app.get_json(&acme, &format!("/api/v1/events/{globex_id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(&acme, &format!("/api/v1/events/{globex_id}/proof")).await;
    assert_eq!(status, 404);
    let whole = app.token("read").await;
    let (status, event) = app.get_json(&whole, &format!("/api/v1/events/{globex_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(event["tenant"], "globex");

    // The menus offer only what the tenant has.
    let (_, facets) = app.get_json(&acme, "/api/v1/facets").await;
    let actions: Vec<&str> = facets["categories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["actions"].as_array().unwrap())
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["domain.delete", "mailbox.create"], "{facets}");
    assert_eq!(facets["sources"], json!(["default"]), "{facets}");
    assert_eq!(facets["tenants"], json!([]), "{facets}");
    assert_eq!(facets["actors"][0]["actor"], "Ada Acme", "{facets}");

    // Its exports hold its events only: CSV (with the tenant column) and JSONL.
    let csv = export(&app, &acme, "format=csv").await;
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().contains(",source,tenant,ip,"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().all(|r| r.contains(",default,acme,")), "{csv}");
    // (The CSV export just made is one of acme's events too, once recorded.)
    let jsonl = export(&app, &acme, "format=jsonl&tenant=globex").await;
    let events: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(events.iter().all(|e| e["tenant"] == "acme"), "{jsonl}");
    let exports = events.iter().filter(|e| e["action"] == "audit.export").count();
    assert_eq!(events.len() - exports, 2, "{jsonl}");
}

async fn export(app: &TestApp, token: &str, query: &str) -> String {
    let resp = app
        .client
        .get(app.url(&format!("/api/v1/events/export?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap().trim_start_matches('\u{feff}').to_string()
}

#[tokio::test]
async fn an_admin_of_the_whole_log_filters_by_tenant() {
    let app = TestApp::start().await;
    seeded(&app).await;
    let whole = app.token("read").await;
    let (_, all) = app.get_json(&whole, "/api/v1/events").await;
    assert_eq!(all["total"], 4);
    let (_, globex) = app.get_json(&whole, "/api/v1/events?tenant=globex").await;
    assert_eq!(globex["total"], 1);
    assert_eq!(actors(&globex), ["Gus Globex"]);
    let (_, searched) = app.get_json(&whole, "/api/v1/events?q=tenant:acme%20domain").await;
    assert_eq!(searched["total"], 1, "{searched}");
    let (status, bad) = app.get_json(&whole, "/api/v1/events?tenant=acme%20corp").await;
    assert_eq!(status, 400);
    assert_eq!(bad["error"]["field"], "tenant", "{bad}");
    let (_, facets) = app.get_json(&whole, "/api/v1/facets").await;
    assert_eq!(facets["tenants"], json!(["acme", "globex"]), "{facets}");

    // The tab offers the Tenant filter, all tenants first.
    let cookie = app.session(Role::Admin).await;
    let page = page(&app, &cookie, "/admin/audit-log?tenant=globex").await;
    // (The server's markup marks where text ends with `<!>`.)
    let page = page.replace("<!>", "");
    assert!(
        page.contains(r#"<label for="audit-tenant">Tenant</label>"#),
        "no Tenant filter"
    );
    let select = &page[page.find(r#"<select id="audit-tenant""#).unwrap()..];
    let select = &select[..select.find("</select>").unwrap()];
    assert!(select.contains(r#"<option value="">All tenants</option>"#), "{select}");
    assert!(
        select.contains(r#"<option value="globex" selected>globex</option>"#),
        "{select}"
    );
    // Its table holds globex's event only (the Actor suggestions name every busy actor of the log).
    let table = &page[page.find("<table").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("Gus Globex") && !table.contains("Ada Acme"), "{table}");
}

/// A page, which must answer 200.
async fn page(app: &TestApp, cookie: &str, path: &str) -> String {
    let (status, body) = call(app, cookie, path).await;
    assert_eq!(status, 200, "{path}");
    body
}

/// The answer to a GET with this session (a page, a server function).
async fn call(app: &TestApp, cookie: &str, path: &str) -> (u16, String) {
    let resp = app
        .client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test]
async fn a_hosts_viewer_of_one_tenant_sees_only_its_events_on_every_surface() {
    let app = TestApp::start().await;
    let (_, globex_id) = seeded(&app).await;
    let viewer = User {
        id: "host:u-7".into(),
        email: "ada@acme.example".into(),
        name: "Ada".into(),
        role: Role::Admin,
        tenant: Some("acme".into()),
    };
    let expires = chrono::Utc::now().timestamp_millis() + 60_000;
    let cookie = format!(
        "auditlog_session={}",
        app.store.create_host_session(&viewer, expires).await.unwrap()
    );

    // The page, rendered on the server, even when its URL names another tenant: no Tenant filter, no
    // other tenant's actor, action or source.
    for path in ["/admin/audit-log", "/admin/audit-log?tenant=globex"] {
        let html = page(&app, &cookie, path).await;
        assert!(html.contains("Ada Acme"), "{path}: the tenant's events");
        for other in [
            "Gus Globex",
            "Nobody Tenant",
            "user.delete",
            "globex-panel",
            "audit-tenant",
        ] {
            assert!(!html.contains(other), "{path}: shows {other}");
        }
    }
    // The server functions behind auto-refresh, the menus' live counts and the detail.
    let query = urlencoding::encode("tenant=globex");
    let (status, list) = call(&app, &cookie, &format!("/api/fn/list_events?query={query}")).await;
    assert_eq!(status, 200);
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(actors(&list), ["Ada Acme"]);
    let (_, counts) = call(&app, &cookie, "/api/fn/get_facet_counts?query=").await;
    let counts: Value = serde_json::from_str(&counts).unwrap();
    assert_eq!(
        counts["actions"],
        json!({"domain.delete": 1, "mailbox.create": 1}),
        "{counts}"
    );
    let (status, _) = call(&app, &cookie, &format!("/api/fn/get_event?id={globex_id}")).await;
    assert_eq!(status, 404);
    // Its export, as the tab's Export button asks for it.
    let resp = app
        .client
        .get(app.url("/api/v1/events/export?format=jsonl"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    let body = resp.text().await.unwrap();
    assert_eq!(body.lines().count(), 2, "{body}");
    assert!(!body.contains("globex"), "{body}");
    // And its export is one of its tenant's events.
    let q = app::model::AuditQuery::from_query_string("action=audit.export&tenant=acme").unwrap();
    let mut recorded = app.store.list(&q).await.unwrap();
    for _ in 0..50 {
        if recorded.total > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        recorded = app.store.list(&q).await.unwrap();
    }
    assert_eq!(recorded.total, 1);
}
