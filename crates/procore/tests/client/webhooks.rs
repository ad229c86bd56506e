use procore::webhook::{self, EventId, EventType, PayloadVersion, Resource};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/resources")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_recorded_webhook_payload_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/resources");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with("_webhook.json") {
            let d = webhook::parse(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!d.dedupe_key().is_empty());
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn a_v2_event_id_above_2_pow_53_is_kept_exactly() {
    let d = webhook::parse(&fixture("v2_older_big_id_webhook.json")).unwrap();
    assert_eq!(d.id, EventId::Number(5_982_324_300_946_918_154));
    assert_eq!(d.version, PayloadVersion::V2);
    assert_eq!(d.event, EventType::Create);
    assert_eq!(
        d.resource,
        Resource::Unknown("Purchase Order Contract Line Items".into())
    );
    assert_eq!(d.dedupe_key(), "01EDPD2J6SBY1163N77H95GW09");
    assert_eq!(d.metadata.unwrap().source_user_id.unwrap().get(), 1_469_242);
}

#[test]
fn v3_related_resources_and_v4_string_ids_are_read() {
    let v3 = webhook::parse(&fixture("v3_example_webhook.json")).unwrap();
    assert_eq!(v3.version, PayloadVersion::V3);
    assert_eq!(v3.related_resources.len(), 1);
    let v4 = webhook::parse(&fixture("v4_example_webhook.json")).unwrap();
    assert_eq!(v4.version, PayloadVersion::V4);
    assert_eq!(v4.id, EventId::Text("01JMYXMZRBVKK0PC6XS8SA4QRE".into()));
    assert_eq!(v4.event, EventType::Update);
    assert_eq!(v4.resource_id.get(), 379_913);
    assert_eq!(v4.project_id.unwrap().get(), 6778);
}
