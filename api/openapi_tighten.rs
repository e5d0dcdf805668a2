//! What the derive macros cannot say, added to the generated contract: request bodies
//! refuse unknown members (every request struct is `deny_unknown_fields`), a sync mutation
//! is one of six typed shapes chosen by `entity` and `op`, and the links from a create to
//! the reads and updates of what it made (so that a client generator, or a stateful
//! fuzzer, can follow them with the ETag).

use serde_json::{json, Map, Value};

/// A UUIDv7, as every client-made id must be.
pub const UUID_V7_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-7[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$";

pub fn tighten(mut doc: Value) -> Value {
    close_request_bodies(&mut doc);
    admit_union_tags(&mut doc);
    refuse_control_characters(&mut doc);
    type_headers(&mut doc);
    type_mutations(&mut doc);
    require_one_of(&mut doc, "LoginRequest", &["email", "phone"]);
    require_one_of(&mut doc, "CreateInvitationRequest", &["email", "phone"]);
    add_links(&mut doc);
    add_request_examples(&mut doc);
    doc
}

/// A tagged union (`#[serde(tag = "kind")]`) is generated as `oneOf` of `allOf [$ref
/// Variant, {kind}]`; closing the variant's schema (`additionalProperties: false`) would then
/// refuse its own tag. The tag is a member of each variant, so it is declared there too.
fn admit_union_tags(doc: &mut Value) {
    let mut tags: Vec<(String, String, Value)> = Vec::new();
    for schema in doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flat_map(|s| s.values())
    {
        for variant in schema["oneOf"].as_array().into_iter().flatten() {
            let parts = variant["allOf"].as_array();
            let target = parts
                .and_then(|p| p.iter().find_map(|part| part["$ref"].as_str()))
                .and_then(|r| r.strip_prefix("#/components/schemas/"));
            let tag = parts.and_then(|p| {
                p.iter().find_map(|part| {
                    let properties = part["properties"].as_object()?;
                    let (name, value) = properties.iter().next()?;
                    Some((name.clone(), value.clone()))
                })
            });
            if let (Some(target), Some((name, value))) = (target, tag) {
                tags.push((target.to_owned(), name, value));
            }
        }
    }
    for (target, name, value) in tags {
        let Some(schema) = doc
            .pointer_mut(&format!("/components/schemas/{target}"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            properties.insert(name.clone(), value);
        }
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.push(Value::String(name));
        }
    }
}

/// A rule across members that the server enforces: at least one of `members` is present
/// (an account is named by its e-mail or its phone number).
fn require_one_of(doc: &mut Value, schema: &str, members: &[&str]) {
    let alternatives: Vec<Value> = members
        .iter()
        // Present and not null: an absent member and a `null` one are the same to the server.
        .map(|member| json!({"required": [member], "properties": {*member: {"type": "string"}}}))
        .collect();
    if let Some(target) = doc
        .pointer_mut(&format!("/components/schemas/{schema}"))
        .and_then(Value::as_object_mut)
    {
        target.insert("anyOf".to_owned(), Value::Array(alternatives));
    }
}

/// The component schemas a request body reaches, through `$ref`s, `items`, `allOf`…
fn request_schema_names(doc: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let mut stack: Vec<&Value> = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
            if let Some(body) = operation.get("requestBody") {
                stack.push(body);
            }
        }
    }
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                        if !names.iter().any(|n| n == name) {
                            names.push(name.to_owned());
                            if let Some(schema) = doc["components"]["schemas"].get(name) {
                                stack.push(schema);
                            }
                        }
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    names
}

fn close_request_bodies(doc: &mut Value) {
    for name in request_schema_names(doc) {
        // A mutation's shape is checked per mutation, so an unknown one is rejected alone.
        if name == "Mutation" {
            continue;
        }
        if let Some(Value::Object(schema)) = doc["components"]["schemas"].get_mut(&name) {
            if schema.get("type") == Some(&json!("object")) {
                schema
                    .entry("additionalProperties")
                    .or_insert(Value::Bool(false));
            }
        }
    }
}

/// Text a request may carry: no control character but tab, line feed and carriage return
/// (`crate::problem::is_forbidden_control`, enforced by the body and query extractors).
pub const TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F]*$";

/// A calendar day the server keeps figures for: years 1900–2099.
pub const DATE_PATTERN: &str = "^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

fn is_string_schema(schema: &Map<String, Value>) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Every free text of a request says what the extractors enforce: no control characters;
/// every date, the years kept.
fn constrain_text(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    // Integers the server reads into i32/i64: the fuzzer does not bound them by format.
    let bounds = match map.get("format").and_then(Value::as_str) {
        Some("int32") => Some((i64::from(i32::MIN), i64::from(i32::MAX))),
        Some("int64") => Some((i64::MIN, i64::MAX)),
        _ => None,
    };
    if let Some((low, high)) = bounds {
        map.entry("minimum").or_insert(json!(low));
        map.entry("maximum").or_insert(json!(high));
    }
    if is_string_schema(map) && !map.contains_key("enum") && !map.contains_key("pattern") {
        match map.get("format").and_then(Value::as_str) {
            None => {
                map.insert("pattern".into(), json!(TEXT_PATTERN));
            }
            Some("date") => {
                map.insert("pattern".into(), json!(DATE_PATTERN));
            }
            _ => {}
        }
    }
    for key in ["properties"] {
        if let Some(Value::Object(properties)) = map.get_mut(key) {
            properties.values_mut().for_each(constrain_text);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            constrain_text(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(variants)) = map.get_mut(key) {
            variants.iter_mut().for_each(constrain_text);
        }
    }
}

fn refuse_control_characters(doc: &mut Value) {
    for name in request_schema_names(doc) {
        if let Some(schema) = doc["components"]["schemas"].get_mut(&name) {
            constrain_text(schema);
        }
    }
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            let parameters = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                if parameter["in"] == "query" {
                    constrain_text(&mut parameter["schema"]);
                }
            }
        }
    }
}

/// The headers the server parses, with the shape it accepts.
fn type_headers(doc: &mut Value) {
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            let parameters = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                if parameter["in"] != "header" {
                    continue;
                }
                let pattern = match parameter["name"].as_str() {
                    // The ETag as read: a version number in quotes.
                    Some("If-Match") => "^\"[0-9]{1,9}\"$",
                    // major.minor.patch, missing parts 0; older than the server's minimum
                    // (1.0.0 unless set otherwise), malformed or missing is 426: update the app.
                    Some("X-App-Version") => "^[1-9][0-9]{0,3}(\\.[0-9]{1,4}){0,3}$",
                    // Visible ASCII (and spaces), as HTTP header values are.
                    Some("Idempotency-Key") => "^[ -~]{1,255}$",
                    _ => continue,
                };
                parameter["schema"]["pattern"] = json!(pattern);
            }
        }
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// `Mutation`: one typed shape per entity and operation the server applies. The server
/// also answers a mutation of another shape, item by item (`rejected`), so that an old
/// server and a newer phone still agree on the rest of the batch.
fn type_mutations(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let Some(resident) = schemas.get("CreateResidentRequest").cloned() else {
        return;
    };
    // A resident create carries the household it belongs to.
    let mut resident_data = resident;
    if let Some(properties) = resident_data["properties"].as_object_mut() {
        properties.insert(
            "household_id".into(),
            json!({"type": "string", "format": "uuid", "description": "The household the person belongs to."}),
        );
    }
    if let Some(required) = resident_data["required"].as_array_mut() {
        required.push(json!("household_id"));
    }
    resident_data["additionalProperties"] = Value::Bool(false);
    schemas["CreateResidentMutationData"] = resident_data;

    let shapes = [
        (
            "household",
            "create",
            "CreateHouseholdRequest",
            "A new household; `id` is its UUIDv7.",
        ),
        (
            "household",
            "update",
            "UpdateHouseholdRequest",
            "An offline edit of a household (`base_version` required).",
        ),
        (
            "resident",
            "create",
            "CreateResidentMutationData",
            "A new person in a household; `id` is their UUIDv7.",
        ),
        (
            "resident",
            "update",
            "UpdateResidentRequest",
            "An offline edit of a person (`base_version` required).",
        ),
        (
            "visit",
            "create",
            "RecordVisitRequest",
            "A visit and the statuses recorded at it; `id` is its UUIDv7.",
        ),
        (
            "visit",
            "void",
            "VoidVisitRequest",
            "Voiding a visit made earlier; `id` is the visit's.",
        ),
    ];
    let variants: Vec<Value> = shapes
        .iter()
        .map(|(entity, op, data, description)| {
            let mut required = vec![json!("seq"), json!("op"), json!("entity"), json!("id"), json!("data")];
            if *op == "update" {
                required.push(json!("base_version"));
            }
            json!({
                "title": format!("{entity} {op}"),
                "description": description,
                "type": "object",
                "required": required,
                "properties": {
                    "seq": {"type": "integer", "format": "int64", "minimum": 1,
                            "description": "1, 2, 3… per device, never reused."},
                    "op": {"type": "string", "const": op},
                    "entity": {"type": "string", "const": entity},
                    "id": {"type": "string", "format": "uuid", "pattern": UUID_V7_PATTERN},
                    "base_version": {"type": ["integer", "null"], "format": "int32", "minimum": 1,
                                     "description": "For `update`: the record's version the edit was made on."},
                    "data": schema_ref(data),
                },
                "additionalProperties": false,
            })
        })
        .collect();
    schemas["Mutation"] = json!({
        "description": "One queued change, of one of these shapes (by `entity` and `op`).",
        "oneOf": variants,
    });
}

/// Links from a create's answer to the reads and edits of the record it made.
fn add_links(doc: &mut Value) {
    let links = [
        (
            "/api/v1/households",
            "post",
            "201",
            &[
                ("GetHousehold", "get_household", false),
                ("UpdateHousehold", "update_household", true),
                ("DeleteHousehold", "delete_household", false),
                ("AddResident", "create_resident", false),
                ("ListHouseholdVisits", "list_household_visits", false),
            ][..],
        ),
        (
            "/api/v1/households/{id}/residents",
            "post",
            "201",
            &[
                ("GetResident", "get_resident", false),
                ("UpdateResident", "update_resident", true),
                ("ResidentHistory", "resident_history", false),
            ][..],
        ),
        (
            "/api/v1/visits",
            "post",
            "201",
            &[("VoidVisit", "void_visit", false)][..],
        ),
        (
            "/api/v1/areas",
            "post",
            "201",
            &[
                ("GetArea", "get_area", false),
                ("UpdateArea", "update_area", true),
            ][..],
        ),
        (
            "/api/v1/users",
            "post",
            "201",
            &[
                ("GetUser", "get_user", false),
                ("UpdateUser", "update_user", true),
            ][..],
        ),
    ];
    let operation_ids: Vec<String> = doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
        .flat_map(|item| item.as_object().into_iter().flat_map(|o| o.values()))
        .filter_map(|op| op["operationId"].as_str().map(str::to_owned))
        .collect();
    for (path, method, status, targets) in links {
        let response = doc.pointer_mut(&format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('~', "~0").replace('/', "~1")
        ));
        let Some(response) = response else {
            continue;
        };
        let mut map = Map::new();
        for (name, operation_id, with_etag) in targets {
            if !operation_ids.iter().any(|id| id == operation_id) {
                continue;
            }
            let mut parameters = Map::new();
            parameters.insert("id".into(), json!("$response.body#/id"));
            if *with_etag {
                parameters.insert("If-Match".into(), json!("$response.header.ETag"));
            }
            map.insert(
                (*name).to_owned(),
                json!({"operationId": operation_id, "parameters": parameters}),
            );
        }
        if !map.is_empty() {
            response["links"] = Value::Object(map);
        }
    }
}

/// One valid example of every JSON request body (a test checks each against its schema):
/// what a client author copies first, and where a fuzzer starts.
fn request_examples() -> Vec<(&'static str, Value)> {
    let area = "01936b2e-1f2a-7c3d-8e4f-5a6b7c8d9e0f";
    let household = "01936b2e-2a3b-7c4d-9e5f-6a7b8c9d0e1f";
    let resident = "01936b2e-3b4c-7d5e-af60-7b8c9d0e1f2a";
    let visit = "01936b2e-4c5d-7e6f-b071-8c9d0e1f2a3b";
    let device = "01936b2e-5d6e-7f70-8182-9d0e1f2a3b4c";
    vec![
        (
            "create_area",
            json!({"kind": "neighbourhood", "parent_id": area, "code": "TH-BS-PS-KP09", "name": "Khu phố 9", "official_adult_population": 1250, "official_household_count": 410}),
        ),
        (
            "submit_reorganisation",
            json!({"title": "Nghị quyết sắp xếp đơn vị hành chính cấp xã (Thanh Hóa)", "effective_on": "2025-07-01", "steps": [
                {"kind": "merge", "sources": ["TH-BS-PS", "TH-BS-BS", "TH-BS-NT", "TH-BS-QT"],
                 "into": {"code": "TH-QT", "new": {"name": "Phường Quang Trung", "kind": "ward", "parent": "TH"}}},
                {"kind": "split", "source": "TH-QT-KP09", "parts": [
                    {"into": {"code": "TH-QT-KP09A", "new": {"name": "Khu phố 9A", "kind": "neighbourhood", "parent": "TH-QT"}}, "households": [household]},
                    {"into": {"code": "TH-QT-KP10"}, "households": []}]},
                {"kind": "rename", "area": "TH-QT-KP01", "name": "Khu phố Bắc Sơn 1"},
                {"kind": "move", "area": "TH-NS", "parent": "TH"},
                {"kind": "dissolve", "area": "TH-BS"}]}),
        ),
        (
            "sign_off_period",
            json!({"period": "2026-11", "note": "Số liệu tháng 11 đã rà soát / November checked"}),
        ),
        (
            "reopen_sign_off",
            json!({"reason": "Có số liệu nhận muộn cần đưa vào / late records to include"}),
        ),
        (
            "create_data_request",
            json!({"resident_id": resident, "kind": "erasure", "channel": "in_person", "received_on": "2026-12-01", "details": "Đề nghị xóa dữ liệu cá nhân"}),
        ),
        (
            "extend_data_request",
            json!({"reason": "Cần xác minh với bên thứ ba / needs checking with a third party"}),
        ),
        (
            "close_data_request",
            json!({"outcome": "completed", "note": "Đã xóa dữ liệu ngày 03/12/2026"}),
        ),
        (
            "record_breach",
            json!({"area_id": area, "discovered_at": "2026-12-01T02:30:00Z", "description": "Mất điện thoại của tình nguyện viên khi đang đăng nhập", "data_categories": ["name", "birth_date", "statuses"], "subjects_affected": 120, "measures": "Thu hồi phiên đăng nhập của thiết bị"}),
        ),
        (
            "record_breach_notifications",
            json!({"authority_notified_at": "2026-12-02T01:00:00Z"}),
        ),
        (
            "cancel_reorganisation",
            json!({"reason": "Nghị quyết được sửa đổi / the resolution was amended"}),
        ),
        (
            "update_area",
            json!({"name": "Khu phố 9 (mới)", "official_adult_population": 1300}),
        ),
        (
            "put_targets",
            json!({"targets": [
            {"indicator": "eid", "comparison": "at_least", "threshold_percent": 80.0, "deadline": "2025-12-31"},
            {"indicator": "signature", "comparison": "more_than", "threshold_percent": 70.0, "deadline": "2030-12-31"}]}),
        ),
        (
            "login",
            json!({"email": "volunteer@demo.local", "password": "correct horse battery staple"}),
        ),
        (
            "logout",
            json!({"refresh_token": "kQ3v2u8mP0yXcJ7tLr5sA1bN4dE6fG9hI2jK3lM5nO8"}),
        ),
        (
            "refresh",
            json!({"refresh_token": "kQ3v2u8mP0yXcJ7tLr5sA1bN4dE6fG9hI2jK3lM5nO8"}),
        ),
        (
            "request_password_reset",
            json!({"email": "truong-khu-pho@example.vn"}),
        ),
        (
            "confirm_password_reset",
            json!({"token": "Zx8c7V6b5N4m3L2k1J0hGfEdCbA9876543210zyxwvu", "password": "một mật khẩu đủ dài"}),
        ),
        (
            "accept_invitation",
            json!({"token": "Zx8c7V6b5N4m3L2k1J0hGfEdCbA9876543210zyxwvu", "password": "một mật khẩu đủ dài"}),
        ),
        ("resolve_conflict", json!({"resolution": "take_phone"})),
        ("merge_duplicate", json!({"survivor_id": resident})),
        (
            "create_household",
            json!({"area_id": area, "code": "HK-0123", "address": "Số 12, ngõ 3, đường Trần Phú", "head_name": "Nguyễn Văn Ánh", "phone": "0912 345 678"}),
        ),
        (
            "update_household",
            json!({"address": "Số 14, ngõ 3, đường Trần Phú", "phone": null}),
        ),
        (
            "create_resident",
            json!({"full_name": "Nguyễn Thị Lan", "birth_date": "1968-04", "sex": "female", "relation_to_head": "spouse", "consent": true}),
        ),
        (
            "update_resident",
            json!({"full_name": "Nguyễn Thị Lan Anh", "birth_date": "1968-04-12"}),
        ),
        (
            "create_invitation",
            json!({"email": "tinhnguyenvien@example.vn", "name": "Trần Văn Bình", "role": "volunteer", "area_id": area, "assignment_ids": [area], "language": "vi"}),
        ),
        ("put_digest", json!({"subscribed": true})),
        (
            "record_status_events",
            json!({"household_id": household, "events": [
            {"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": "2025-11-20"}]}),
        ),
        (
            "record_visit",
            json!({"household_id": household, "visited_at": "2025-11-20T02:30:00Z", "outcome": "helped", "notes": "Đã hướng dẫn kích hoạt VNeID",
            "events": [{"kind": "eid", "resident_id": resident, "value": "level2", "effective_on": "2025-11-20"}]}),
        ),
        ("void_visit", json!({"reason": "Ghi nhầm hộ"})),
        (
            "create_user",
            json!({"email": "can-bo@example.vn", "name": "Lê Thị Hoa", "role": "official", "area_id": area, "password": "một mật khẩu đủ dài", "language": "vi"}),
        ),
        ("update_user", json!({"name": "Lê Thị Hoa", "active": true})),
        (
            "sync_push",
            json!({"device_id": device, "mutations": [
            {"seq": 1, "op": "create", "entity": "household", "id": household,
             "data": {"area_id": area, "address": "Số 5 Lê Lợi", "head_name": "Phạm Văn Cường"}},
            {"seq": 2, "op": "create", "entity": "resident", "id": resident,
             "data": {"household_id": household, "full_name": "Phạm Văn Cường", "birth_date": "1975", "sex": "male", "relation_to_head": "head"}},
            {"seq": 3, "op": "create", "entity": "visit", "id": visit,
             "data": {"household_id": household, "visited_at": "2025-11-20T02:30:00Z", "outcome": "helped",
                      "events": [{"kind": "eid", "resident_id": resident, "value": "level1", "effective_on": "2025-11-20"}]}},
            {"seq": 4, "op": "update", "entity": "household", "id": household, "base_version": 1,
             "data": {"phone": "0912 345 678"}}]}),
        ),
    ]
}

fn add_request_examples(doc: &mut Value) {
    let examples = request_examples();
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|o| o.values_mut())
        {
            let Some(id) = operation["operationId"].as_str().map(str::to_owned) else {
                continue;
            };
            let Some((_, example)) = examples.iter().find(|(op, _)| *op == id) else {
                continue;
            };
            let content = operation
                .get_mut("requestBody")
                .and_then(|body| body.get_mut("content"))
                .and_then(|content| content.get_mut("application/json"));
            if let Some(content) = content {
                content["example"] = example.clone();
            }
        }
    }
}
