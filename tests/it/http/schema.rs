//! `http.json` as committed reads back through the results schema and writes out the same
//! JSON: moving a type into the schema, or between modules, must not change its form.

use super::*;

use tokenbench::results::schema::http::HttpResults;
use tokenbench::workload::http::HttpParams;

#[test]
fn the_reference_http_json_round_trips_through_the_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/results/reference/http.json");
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let typed: HttpResults = serde_json::from_value(raw.clone()).unwrap();
    assert!(!typed.rows.is_empty());
    assert_eq!(serde_json::to_value(&typed).unwrap(), raw);
    // The parameters as run: the workload's own type, the search's from the schema.
    let params: HttpParams = serde_json::from_value(raw["params"].clone()).unwrap();
    assert_eq!(serde_json::to_value(&params).unwrap(), raw["params"]);
    let search = typed.search_params().expect("the search parameters");
    assert_eq!(search, params.search);
}
