//! `GET /api/v1/openapi.json`, generated from the route table.

use axum::Json;

use super::ROUTES;
use crate::auth::Role;

pub async fn document() -> Json<serde_json::Value> {
    let mut paths = serde_json::Map::new();
    for (method, path, role, summary) in ROUTES {
        let entry = paths
            .entry(path.to_string())
            .or_insert_with(|| serde_json::json!({}));
        let params: Vec<serde_json::Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| serde_json::json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        // One status per kind of failure (`herald_http::Failure`), the same for every route.
        let mut responses = serde_json::json!({
            "200": {"description": "OK (JSON, the CLI's --json names)"},
            "401": {"description": "no or unknown token"},
            "403": {"description": "the token's user lacks the role"},
            "404": {"description": "what the path names does not exist"},
            "422": {"description": "the request is wrong; the error says what"},
            "500": {"description": "internal error (logged; no details are sent)"},
            "503": {"description": "the database did not answer; try again"}
        });
        if *method != "GET" {
            responses["409"] =
                serde_json::json!({"description": "the installation's state refuses it now"});
        }
        if path.ends_with("/send") {
            responses["202"] = serde_json::json!({"description": "the send started"});
        }
        if *method == "DELETE" {
            responses["204"] = serde_json::json!({"description": "done"});
        }
        entry[method.to_ascii_lowercase()] = serde_json::json!({
            "summary": summary,
            "parameters": params,
            "security": [{"bearer": []}],
            "x-herald-role": if *role == Role::Admin { "admin" } else { "viewer" },
            "responses": responses,
        });
    }
    Json(serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "Herald API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }))
}
