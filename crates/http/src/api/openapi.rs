//! `GET /api/v1/openapi.json`, generated from the route table ([`ROUTES`]) and the types it
//! names: request and response bodies are the JSON Schemas of `herald_engine::api_types`
//! (schemars), so the document cannot drift from what the handlers send.

use axum::Json;
use schemars::generate::{Contract, SchemaSettings};
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::{ROUTES, Route, SchemaFn};
use crate::auth::Role;

/// Components are referenced as `#/components/schemas/<name>`. Responses are described as
/// they are serialized, request bodies as they are read.
fn generator(contract: Contract) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.contract = contract;
        })
        .into_generator()
}

fn json_content(schema: Schema) -> Value {
    json!({ "application/json": { "schema": schema } })
}

/// The query struct's fields as `in: query` parameters (a JSON null is never sent in a query,
/// so an optional field is simply not required).
fn query_parameters(f: SchemaFn) -> Vec<Value> {
    let mut g = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let root = f(&mut g);
    let required: Vec<String> = root
        .get("required")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_default();
    let Some(Value::Object(props)) = root.get("properties") else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, schema)| {
            let mut schema = schema.clone();
            if let Some(Value::Array(types)) = schema.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let t = types[0].clone();
                    schema["type"] = t;
                }
            }
            json!({
                "name": name,
                "in": "query",
                "required": required.contains(name),
                "schema": schema,
            })
        })
        .collect()
}

fn operation(r: &Route, answers: &mut SchemaGenerator, reads: &mut SchemaGenerator) -> Value {
    let error = json_content(answers.subschema_for::<herald_engine::api_types::ErrorBody>());
    let said = |what: &str| json!({ "description": what, "content": error.clone() });
    let mut params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| {
            // What each path parameter holds, so generated requests are meaningful.
            let schema = match name {
                "email" | "address" => {
                    json!({"type": "string", "pattern": super::EMAIL_PATTERN, "maxLength": 254})
                }
                "domain" => json!({"type": "string", "format": "hostname"}),
                _ => json!({"type": "string"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    if let Some(q) = r.query {
        params.extend(query_parameters(q));
    }
    let mut responses = Map::new();
    let (status, body) = r.ok;
    let mut ok = json!({ "description": "done (JSON in the CLI's --json names)" });
    if let Some(b) = body {
        ok["content"] = json_content(b(answers));
    }
    responses.insert(status.to_string(), ok);
    // Adds that find what they add already there answer 200 with the same body.
    let already = match (r.method, r.path) {
        ("POST", "/api/v1/suppressions") => Some("the address was suppressed already"),
        ("POST", "/api/v1/contacts") => Some("the person was subscribed to the list already"),
        _ => None,
    };
    if let Some(said) = already {
        let mut again = responses["201"].clone();
        again["description"] = said.into();
        responses.insert("200".into(), again);
    }
    // One status per kind of failure (`herald_http::Failure`).
    responses.insert("401".into(), said("no or unknown token"));
    responses.insert("403".into(), said("the token's user lacks the role"));
    responses.insert(
        "500".into(),
        said("internal error (logged; no details are sent)"),
    );
    responses.insert("503".into(), said("the database did not answer; try again"));
    if r.path.contains('{') {
        responses.insert("404".into(), said("what the path names does not exist"));
    }
    if r.path.contains('{') || r.query.is_some() || r.body.is_some() {
        responses.insert(
            "422".into(),
            said("the request is wrong; the error says what"),
        );
    }
    if r.query.is_some() || r.body.is_some() {
        responses.insert("400".into(), said("the query or body cannot be read"));
    }
    if r.body.is_some() {
        responses.insert("415".into(), said("the body is not application/json"));
        responses.insert(
            "413".into(),
            said("the body is larger than the route takes (2 MB; 6 MB for the CSV imports)"),
        );
    }
    if r.conflicts {
        responses.insert(
            "409".into(),
            said("the installation's state refuses it now"),
        );
    }
    let mut op = json!({
        "summary": r.summary,
        "operationId": operation_id(r),
        "parameters": params,
        "security": [{"bearer": []}],
        "x-herald-role": if r.role == Role::Admin { "admin" } else { "viewer" },
        "responses": responses,
    });
    if let Some(b) = r.body {
        op["requestBody"] = json!({ "required": true, "content": json_content(b(reads)) });
    }
    op
}

/// `get_campaigns_id_why_email`: unique per method and path.
fn operation_id(r: &Route) -> String {
    let path: Vec<&str> = r
        .path
        .trim_start_matches("/api/v1/")
        .split('/')
        .map(|s| s.trim_matches(|c| c == '{' || c == '}'))
        .collect();
    format!("{}_{}", r.method.to_ascii_lowercase(), path.join("_")).replace(['.', '-'], "_")
}

/// The whole document.
pub fn build() -> Value {
    let mut answers = generator(Contract::Serialize);
    let mut reads = generator(Contract::Deserialize);
    let mut paths = Map::new();
    for r in ROUTES {
        let op = operation(r, &mut answers, &mut reads);
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    let mut schemas = answers.take_definitions(true);
    schemas.extend(reads.take_definitions(true));
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Herald API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    })
}

pub async fn document() -> Json<Value> {
    Json(build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `$ref` in the document points at a schema it defines.
    #[test]
    fn references_resolve() {
        let doc = build();
        let text = doc.to_string();
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let mut seen = 0;
        for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                schemas.contains_key(name),
                "{name} is referenced, not defined"
            );
            seen += 1;
        }
        assert!(seen > 10, "only {seen} references");
        for name in [
            "Diagnosis",
            "CampaignReport",
            "TestSend",
            "ErrorBody",
            "TestBody",
        ] {
            assert!(schemas.contains_key(name), "{name} missing");
        }
    }

    #[test]
    fn documents_bodies_and_statuses() {
        let doc = build();
        let test = &doc["paths"]["/api/v1/campaigns/{id}/test"]["post"];
        assert_eq!(test["requestBody"]["required"], true);
        assert!(test["responses"]["415"].is_object());
        assert!(test["responses"]["409"].is_object());
        let rec = &doc["paths"]["/api/v1/campaigns/{id}/recipients"]["get"];
        let mut names: Vec<&str> = rec["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["after", "id", "limit", "q", "tab"]);
        let send = &doc["paths"]["/api/v1/campaigns/{id}/send"]["post"];
        assert!(send["responses"]["202"]["content"].is_object());
    }
}
