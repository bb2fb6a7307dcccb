//! The committed JSON Schemas of the model's tools (`tools/schema/tools.schema.json`, what
//! `breadcrumb tools schema` prints) are the ones the code makes, as uv checks its
//! `uv.schema.json`: a change to a tool's arguments or doc comments fails here until the file
//! is regenerated and committed, so the schema a model receives is reviewed like code. The
//! campaign's own tool (`strategic_waypoints`, not in the per-sol registry) is kept the same way
//! in `tools/schema/campaign.schema.json`.

use std::path::PathBuf;

use breadcrumb_tools::api::specs;

/// The schema file's text: every tool's name, description and argument schema, pretty JSON
/// with a trailing newline, as `breadcrumb tools schema` prints it.
fn schema_text() -> String {
    serde_json::to_string_pretty(&specs()).unwrap() + "\n"
}

#[test]
fn the_committed_tool_schema_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/tools.schema.json");
    let now = schema_text();
    if std::env::var_os("BREADCRUMB_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "{} is out of date with the tools' argument types and doc comments. Regenerate it with\n\
         \n    BREADCRUMB_UPDATE_SCHEMA=1 cargo test -p breadcrumb-tools --test tests schema\n\
         \nor `breadcrumb tools schema > tools/schema/tools.schema.json`, and commit it.",
        path.display()
    );
    let tools: serde_json::Value = serde_json::from_str(&committed).unwrap();
    let names: Vec<&str> =
        tools.as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&"submit_route") && names.contains(&"view_tile"), "{names:?}");
}

#[test]
fn the_committed_campaign_tool_schema_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/campaign.schema.json");
    let now = serde_json::to_string_pretty(&[breadcrumb_tools::campaign::waypoints::spec()])
        .unwrap()
        + "\n";
    if std::env::var_os("BREADCRUMB_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == now,
        "{} is out of date with strategic_waypoints' argument types and doc comments. \
         Regenerate it with\n\n    BREADCRUMB_UPDATE_SCHEMA=1 cargo test -p breadcrumb-tools \
         --test tests schema\n\nand commit it.",
        path.display()
    );
}
