use procore_sim::{demo, generate};
use serde_json::Value;

use crate::helpers::*;

fn rels(link: &str) -> Vec<(String, String)> {
    link.split(", ")
        .map(|l| {
            let (u, r) = l.split_once("; rel=").unwrap();
            (
                r.trim_matches('"').to_owned(),
                u.trim_matches(|c| c == '<' || c == '>').to_owned(),
            )
        })
        .collect()
}

async fn page(t: &T, n: usize) -> (Vec<(String, String)>, usize, Value) {
    let r = t
        .get(&format!(
            "/rest/v1.0/companies/{}/users?page={n}&per_page=7",
            demo::COMPANY_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let link = header(&r, "link").unwrap();
    let total: usize = header(&r, "total").unwrap().parse().unwrap();
    assert_eq!(header(&r, "per-page").as_deref(), Some("7"));
    (rels(&link), total, r.json().await.unwrap())
}

#[tokio::test]
async fn link_header_has_procores_rels_on_pages_1_2_3_and_last() {
    let t = start_with(
        generate::world(
            1,
            generate::Sizes {
                projects: 5,
                users: 40,
                vendors: 3,
                commitments_per_project: 0,
            },
        ),
        no_limits(),
    )
    .await;
    let names = |r: &Vec<(String, String)>| r.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let (p1, total, body) = page(&t, 1).await;
    assert_eq!(names(&p1), ["next", "last"]);
    assert_eq!(body.as_array().unwrap().len(), 7);
    let last = total.div_ceil(7);
    assert!(last >= 4, "need at least 4 pages, total {total}");
    let (p2, ..) = page(&t, 2).await;
    assert_eq!(names(&p2), ["first", "next", "last"]);
    let (p3, ..) = page(&t, 3).await;
    assert_eq!(names(&p3), ["first", "prev", "next", "last"]);
    assert!(p3[1].1.contains("page=2"));
    assert!(p3[2].1.contains("page=4"));
    let (pl, _, body) = page(&t, last).await;
    assert_eq!(names(&pl), ["first", "prev", "last"]);
    assert_eq!(body.as_array().unwrap().len(), total - 7 * (last - 1));
    // Absolute URLs built from the Host header, keeping other parameters.
    assert!(pl[0].1.starts_with(&t.run.url()));
    assert!(pl[0].1.contains("/rest/v1.0/companies/"));
}

#[tokio::test]
async fn per_page_above_the_maximum_is_clamped() {
    let t = start_with(
        generate::world(
            1,
            generate::Sizes {
                projects: 400,
                users: 10,
                vendors: 3,
                commitments_per_project: 0,
            },
        ),
        no_limits(),
    )
    .await;
    let r = t
        .get(&format!(
            "/rest/v1.1/projects?company_id={}&per_page=1000&filters[by_status]=All",
            demo::COMPANY_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "per-page").as_deref(), Some("300"));
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_array().unwrap().len(), 300);
    let r = t
        .get(&format!(
            "/rest/v1.0/projects?company_id={}&per_page=5000&filters[by_status]=All",
            demo::COMPANY_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "per-page").as_deref(), Some("2000"));
}

#[tokio::test]
async fn v2_lists_default_to_10_per_page_with_string_ids() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    let r = t
        .get(&format!(
            "/rest/v2.0/companies/{}/projects/{pid}/commitment_contracts?view=extended",
            demo::COMPANY_ID
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "per-page").as_deref(), Some("10"));
    assert_eq!(header(&r, "total").as_deref(), Some("14"));
    let v: Value = r.json().await.unwrap();
    let first = &v["data"][0];
    assert!(first["id"].is_string());
    assert!(first["vendor"]["name"].is_string());
    assert!(first["custom_fields"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()["value"]
        .is_string());
}

#[tokio::test]
async fn updated_at_filter_returns_only_records_changed_in_the_range() {
    let t = start().await;
    let pid = t.project("Harbor Tower");
    t.sim().advance_clock(std::time::Duration::from_secs(3600));
    let since = t.sim().now() - chrono::Duration::seconds(1);
    let (s, _) = t
        .json(
            t.patch(&format!("/rest/v1.0/projects/{pid}"))
                .json(&serde_json::json!({"project": {"description": "changed"}})),
        )
        .await;
    assert_eq!(s, 200);
    let range = format!(
        "{}...{}",
        since.format("%Y-%m-%dT%H:%M:%SZ"),
        (since + chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (_, v) = t
        .json(t.get("/rest/v1.0/projects").query(&[
            ("company_id", demo::COMPANY_ID.to_string()),
            ("filters[updated_at]", range),
        ]))
        .await;
    let ids: Vec<i64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![pid]);
}
