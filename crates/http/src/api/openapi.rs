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
        entry[method.to_ascii_lowercase()] = serde_json::json!({
            "summary": summary,
            "parameters": params,
            "security": [{"bearer": []}],
            "x-herald-role": if *role == Role::Admin { "admin" } else { "viewer" },
            "responses": {
                "200": {"description": "OK (JSON, the CLI's --json names)"},
                "401": {"description": "no or unknown token"},
                "403": {"description": "the token's user lacks the role"},
                "404": {"description": "not found"}
            }
        });
    }
    Json(serde_json::json!({
        "openapi": "3.1.0",
        "info": {"title": "Herald API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }))
}
