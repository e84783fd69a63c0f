//! The OpenAPI document and the server agree: every `/api/v1` route is documented with the parameters the
//! server reads, nothing is documented that is not routed, and every operation but the document itself needs
//! credentials. (Schemathesis, in scripts/fuzz.sh, then checks the answers against the document.)

mod common;

use std::collections::BTreeSet;

use app::model::AuditQuery;
use common::TestApp;
use serde_json::Value;

/// The document as the server serves it, without credentials.
async fn document(app: &TestApp) -> Value {
    let resp = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let doc: Value = resp.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    doc
}

fn query_parameters(operation: &Value) -> BTreeSet<String> {
    operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn every_api_route_is_documented_and_nothing_else() {
    let app = TestApp::start().await;
    let doc = document(&app).await;
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = server::router::http_routes()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/api/v1/"))
        .map(|(method, path, _)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(documented, routed);

    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let open = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().all(|r| r == &serde_json::json!({})));
            assert_eq!(open, path == "/api/v1/openapi.json", "{method} {path}: credentials");
            if !open {
                assert!(op["responses"]["401"].is_object(), "{method} {path}: 401 documented");
            }
        }
    }
}

#[tokio::test]
async fn the_list_and_the_export_document_the_parameters_the_parser_reads() {
    let app = TestApp::start().await;
    let doc = document(&app).await;
    let filters: BTreeSet<String> = AuditQuery::PARAMETERS.iter().map(|p| p.to_string()).collect();
    let with = |extra: &[&str]| {
        let mut all = filters.clone();
        all.extend(extra.iter().map(|p| p.to_string()));
        all
    };
    assert_eq!(
        query_parameters(&doc["paths"]["/api/v1/events"]["get"]),
        with(&["fields"])
    );
    assert_eq!(
        query_parameters(&doc["paths"]["/api/v1/events/export"]["get"]),
        with(&["format", "proof"])
    );
}

#[tokio::test]
async fn errors_have_the_documented_shape() {
    let app = TestApp::start().await;
    let doc = document(&app).await;
    let shape = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(shape["required"], serde_json::json!(["error"]));
    let token = app.token("read").await;
    let (status, body) = app.get_json(&token, "/api/v1/events?page_size=0").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_filter");
    assert_eq!(body["error"]["field"], "page_size");
    assert!(body["error"]["message"].as_str().unwrap().contains("page_size"));
}
