//! Procore webhooks: which events trestle subscribes to for the integrations a company has on,
//! and which records a batch of deliveries asks it to read again.
//!
//! A delivery says only that a record changed, not how, and Procore may repeat it, reorder it,
//! or drop it. So trestle never applies what a delivery says: it reads the record's current
//! state from Procore, and any number of deliveries about one record become one read. Repeated,
//! reordered or replayed deliveries therefore change nothing twice, and what webhooks miss the
//! scheduled reconcile finds. Deliveries caused by trestle's own writes (the insurance records
//! and documents its service account writes) are recognised by their author and cost nothing.

use chrono::{DateTime, Utc};
use procore::api::webhooks::NewHook;
use procore::webhook::{Delivery, EventType, Resource};
use procore::Client;
use secrecy::SecretString;
use std::collections::BTreeSet;
use store::{HookRecord, Store};

/// The namespace of trestle's hook in a Procore company: one hook per app, found again by it.
pub const NAMESPACE: &str = "trestle";

/// The payload version trestle's hook asks for (Procore's v1.0 API spells v2.0 so).
pub const PAYLOAD_VERSION: &str = "v2";

/// Which integrations a company has on, which decides the events its hook needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Integrations {
    pub workforce: bool,
    pub compliance: bool,
}

/// The events of every resource trestle follows. Deletes too: a record deleted in Procore must
/// leave what trestle holds of it (the planners decide what that means for the app side).
const EVENTS: [&str; 3] = ["create", "update", "delete"];

/// The triggers (resource name, event type) a company's hook needs: every resource the enabled
/// integrations read, and the insurance records the compliance integration writes, so that a
/// hand edit of one in Procore is put back within seconds. Never the Project Users / Project
/// Vendors events, whose `update` Procore stopped sending after 2026-06-30 (Company Users and
/// Company Vendors carry those changes).
pub fn wanted_triggers(on: Integrations) -> BTreeSet<(&'static str, &'static str)> {
    let mut resources = BTreeSet::new();
    if on.workforce {
        resources.extend(["Projects", "Company Users"]);
    }
    if on.compliance {
        resources.extend([
            "Projects",
            "Company Users",
            "Company Vendors",
            "Work Order Contracts",
            "Purchase Order Contracts",
            "Company Insurances",
            "Project Insurances",
        ]);
    }
    resources
        .into_iter()
        .flat_map(|r| EVENTS.map(|e| (r, e)))
        .collect()
}

/// The Procore records a batch of deliveries asks trestle to read again. Each integration
/// takes the kinds it follows. Serializable: it travels in a job's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Targets {
    pub projects: BTreeSet<i64>,
    /// Company users: workers for the workforce integration, vendor contacts for compliance.
    pub users: BTreeSet<i64>,
    pub vendors: BTreeSet<i64>,
    /// Projects whose commitments changed: read since that project's cursor (one request
    /// brings every change of the project, with the custom fields a single record's read
    /// lacks).
    pub commitment_projects: BTreeSet<i64>,
    /// Commitments Procore says were deleted: an incremental read does not list them.
    pub deleted_commitments: BTreeSet<i64>,
    /// Insurance records (company or project level) someone changed.
    pub insurances: BTreeSet<i64>,
}

impl Targets {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.projects.is_empty()
            && self.users.is_empty()
            && self.vendors.is_empty()
            && self.commitment_projects.is_empty()
            && self.deleted_commitments.is_empty()
            && self.insurances.is_empty()
    }

    /// What the workforce integration reads of these: projects and users.
    pub fn workforce(&self) -> Targets {
        Targets {
            projects: self.projects.clone(),
            users: self.users.clone(),
            ..Targets::default()
        }
    }

    /// Adds another batch's targets.
    pub fn extend(&mut self, other: Targets) {
        self.projects.extend(other.projects);
        self.users.extend(other.users);
        self.vendors.extend(other.vendors);
        self.commitment_projects.extend(other.commitment_projects);
        self.deleted_commitments.extend(other.deleted_commitments);
        self.insurances.extend(other.insurances);
    }
}

/// What [`route`] made of a batch of deliveries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routed {
    pub targets: Targets,
    /// Deliveries about trestle's own writes: nothing to read.
    pub own: usize,
    /// Deliveries about resources trestle does not follow (a trigger added by hand, or one
    /// left from an integration since turned off).
    pub ignored: usize,
}

/// Turns deliveries into the records to read. `service_account` is the Procore user trestle
/// writes as (`/me`): a change that user made is trestle's own, already known.
pub fn route<'a>(
    deliveries: impl IntoIterator<Item = &'a Delivery>,
    service_account: Option<i64>,
) -> Routed {
    let mut routed = Routed::default();
    for d in deliveries {
        let author = d
            .metadata
            .as_ref()
            .and_then(|m| m.source_user_id)
            .or(d.user_id)
            .map(|u| u.get());
        if author.is_some() && author == service_account {
            routed.own += 1;
            continue;
        }
        let id = d.resource_id.get();
        let t = &mut routed.targets;
        match &d.resource {
            Resource::Projects => {
                t.projects.insert(id);
            }
            Resource::CompanyUsers => {
                t.users.insert(id);
            }
            Resource::CompanyVendors => {
                t.vendors.insert(id);
            }
            Resource::WorkOrderContracts | Resource::PurchaseOrderContracts => {
                if d.event == EventType::Delete {
                    t.deleted_commitments.insert(id);
                } else if let Some(project) = d.project_id {
                    t.commitment_projects.insert(project.get());
                } else {
                    routed.ignored += 1;
                }
            }
            Resource::CompanyInsurances | Resource::ProjectInsurances => {
                t.insurances.insert(id);
            }
            _ => routed.ignored += 1,
        }
    }
    routed
}

/// The lock a company's hook checks take in turn (see [`ensure_hook`]); one per company, so
/// one company's slow check (Procore pacing its requests) keeps no other company waiting.
fn company_turn(company: i64) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    static TURNS: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<i64, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    > = std::sync::OnceLock::new();
    let turns = TURNS.get_or_init(Default::default);
    let mut turns = turns
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    turns.entry(company).or_default().clone()
}

/// What [`ensure_hook`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookReport {
    /// Procore's id of the hook, when one is wanted.
    pub hook_id: Option<i64>,
    /// A hook was created (none was there, or the one there could not be used).
    pub created: bool,
    /// Hooks of trestle's namespace removed: left by another address, or by a secret trestle
    /// no longer holds.
    pub stale_removed: usize,
    pub triggers_added: Vec<String>,
    pub triggers_removed: Vec<String>,
}

impl HookReport {
    /// Whether anything in Procore had to change: the hook was missing or incomplete.
    pub fn repaired(&self) -> bool {
        self.created
            || self.stale_removed > 0
            || !self.triggers_added.is_empty()
            || !self.triggers_removed.is_empty()
    }
}

/// A new delivery secret: 32 random bytes, as the `Authorization` value Procore sends back
/// verbatim with every delivery.
fn new_secret() -> SecretString {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    SecretString::from(format!("Bearer {hex}"))
}

/// Makes the company's hook in Procore what the enabled integrations need, and records it:
/// one hook of trestle's namespace delivering to `destination_url` with the secret the store
/// holds, carrying exactly [`wanted_triggers`]. Procore never shows a hook's `Authorization`
/// again, so a hook trestle holds no secret for (the store was replaced, or the address
/// changed) is deleted and made anew; hooks of the namespace other than the recorded one are
/// removed. With no integration on, the hook is removed. Safe to run again at any time: on
/// start, by `trestle hooks repair`, after a connect.
///
/// # Errors
/// Procore refused (no permission to manage webhooks) or the store failed.
pub async fn ensure_hook(
    client: &Client,
    store: &Store,
    company: i64,
    destination_url: &str,
    on: Integrations,
    now: DateTime<Utc>,
) -> crate::Result<HookReport> {
    // One check of a company's hook at a time in this process: two at once (the server's
    // start-up check and a repair asked through the API) would each find no hook and make
    // one. Across processes the next check deletes the hook whose id trestle did not keep.
    let turn = company_turn(company);
    let _turn = turn.lock().await;
    let wanted = wanted_triggers(on);
    if wanted.is_empty() {
        let stale_removed = remove_hook(client, store, company).await?;
        return Ok(HookReport {
            stale_removed,
            ..HookReport::default()
        });
    }
    let api = client.webhooks();
    let record = store.hook_record(company).await?;
    let hooks = api.list_hooks(Some(NAMESPACE)).await?;
    let kept = record.as_ref().and_then(|r| {
        hooks.iter().find(|h| {
            Some(h.id.get()) == r.hook_id
                && h.destination_url.as_deref() == Some(destination_url)
                && r.destination_url == destination_url
        })
    });
    let mut report = HookReport::default();
    for h in &hooks {
        if Some(h.id) != kept.map(|k| k.id) {
            api.delete_hook(h.id).await?;
            report.stale_removed += 1;
        }
    }
    let (hook_id, secret) = match (kept, record) {
        (Some(h), Some(r)) => (h.id, r.secret),
        _ => {
            let secret = new_secret();
            let hook = api
                .create_hook(&NewHook {
                    api_version: PAYLOAD_VERSION.into(),
                    namespace: NAMESPACE.into(),
                    destination_url: destination_url.into(),
                    authorization: Some(secret.clone()),
                })
                .await?;
            report.created = true;
            (hook.id, secret)
        }
    };
    report.hook_id = Some(hook_id.get());
    // Recorded before the triggers are made: a secret Procore holds must never be lost to a
    // failure after it.
    let mut saved = HookRecord {
        company_id: company,
        hook_id: Some(hook_id.get()),
        destination_url: destination_url.into(),
        secret,
        triggers_json: "[]".into(),
        checked_at: Some(now),
    };
    store.save_hook_record(&saved).await?;
    let triggers = api.list_triggers(hook_id).await?;
    let mut have = BTreeSet::new();
    for t in &triggers {
        let key = (
            t.resource_name.clone().unwrap_or_default(),
            t.event_type
                .clone()
                .unwrap_or_default()
                .to_ascii_lowercase(),
        );
        let is_wanted = wanted
            .iter()
            .any(|(r, e)| r.eq_ignore_ascii_case(&key.0) && *e == key.1);
        if is_wanted && have.insert(key.clone()) {
            continue;
        }
        api.delete_trigger(hook_id, t.id).await?;
        report.triggers_removed.push(format!("{} {}", key.0, key.1));
    }
    for (resource, event) in &wanted {
        let present = have
            .iter()
            .any(|(r, e)| r.eq_ignore_ascii_case(resource) && e == event);
        if !present {
            api.create_trigger(hook_id, resource, event).await?;
            report.triggers_added.push(format!("{resource} {event}"));
        }
    }
    saved.triggers_json = serde_json::to_string(
        &wanted
            .iter()
            .map(|(r, e)| format!("{r} {e}"))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|_| "[]".into());
    store.save_hook_record(&saved).await?;
    Ok(report)
}

/// Removes every hook of trestle's namespace from the company and forgets the record (when a
/// company is disconnected, or no integration is on). Returns how many hooks were removed.
///
/// # Errors
/// Procore refused or the store failed.
pub async fn remove_hook(client: &Client, store: &Store, company: i64) -> crate::Result<usize> {
    let api = client.webhooks();
    let hooks = api.list_hooks(Some(NAMESPACE)).await?;
    for h in &hooks {
        api.delete_hook(h.id).await?;
    }
    store.delete_hook_record(company).await?;
    Ok(hooks.len())
}

/// The company health aspect the hook's state is kept under.
pub const HEALTH_ASPECT: &str = "webhook";

/// When the company's hook was found lacking (made anew, triggers added, or a check that
/// failed part way), empty once a reconcile read what changed since: while it is open, a
/// compliance reconcile reads commitments itself instead of leaving them to the hook.
pub const HOOK_GAP: &str = "service.hook_gap";

/// Records how checking the company's hook went, whoever checked it (the server, `trestle
/// hooks repair`, the API): its webhook health, cleared when the hook is in place, degraded
/// (changes still arrive, at the next reconcile) with what went wrong and what fixes it when
/// not; and, when the hook was found lacking, the opening of [`HOOK_GAP`], since the hook
/// delivered nothing of the events it lacked.
///
/// # Errors
/// The store failed.
pub async fn record_hook_check(
    store: &Store,
    company: i64,
    outcome: std::result::Result<&HookReport, &str>,
    now: DateTime<Utc>,
) -> store::Result<()> {
    let lacking = outcome.map_or(true, HookReport::repaired);
    if lacking
        && store
            .cursor(company, HOOK_GAP)
            .await?
            .unwrap_or_default()
            .is_empty()
    {
        store
            .set_cursor(company, HOOK_GAP, &now.to_rfc3339())
            .await?;
    }
    match outcome {
        Ok(_) => store.clear_health(company, HEALTH_ASPECT).await,
        Err(error) => {
            store
                .set_health(
                    company,
                    HEALTH_ASPECT,
                    store::HealthState::Degraded,
                    &format!("the Procore webhook could not be registered or checked: {error}"),
                    "give trestle's Procore app permission to manage webhooks in the company (Company Admin > Webhooks) and check that server.public_url reaches trestle; until then changes arrive at the next reconcile",
                    now,
                )
                .await
        }
    }
}

/// After a check that left the hook in place: while the company's hook gap is open, queues a
/// sync of each integration it has on, which reads what the hook never delivered (the server's
/// check, `trestle hooks repair` and the API's repair all follow this rule). Whether the gap
/// was open.
///
/// # Errors
/// The store failed.
pub async fn queue_gap_reads(
    store: &Store,
    company: i64,
    now: DateTime<Utc>,
    max_attempts: u32,
) -> store::Result<bool> {
    let gap = !store
        .cursor(company, HOOK_GAP)
        .await?
        .unwrap_or_default()
        .is_empty();
    if gap {
        crate::jobs::enqueue_following(store, company, now, max_attempts).await?;
    }
    Ok(gap)
}

/// The address of a company's deliveries under the server's public URL.
pub fn destination_url(public_url: &str, company: i64) -> String {
    format!(
        "{}/webhooks/procore/{company}",
        public_url.trim_end_matches('/')
    )
}

/// A record's read, with "not found" and "forbidden" (the record is gone, or no longer visible
/// to the integration user) as `None` rather than an error that would stop the sync.
pub(crate) fn gone_is_none<T>(read: procore::Result<T>) -> crate::Result<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(e) if matches!(e.status(), Some(403 | 404)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use procore::webhook::parse;

    fn delivery(resource: &str, event: &str, id: i64, project: Option<i64>, by: i64) -> Delivery {
        let body = serde_json::json!({
            "id": id * 10 + 1, "ulid": format!("01H{id:023}"), "timestamp": "2026-12-03T10:00:00Z",
            "metadata": {"source_user_id": by, "source_company_id": 7, "source_project_id": project,
                         "source_application_id": null, "source_operation_id": null},
            "user_id": by, "company_id": 7, "project_id": project, "api_version": "v2.0",
            "event_type": event, "resource_name": resource, "resource_id": id,
        });
        parse(body.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn the_workforce_integration_subscribes_to_projects_and_company_users_only() {
        let t = wanted_triggers(Integrations {
            workforce: true,
            compliance: false,
        });
        let resources: BTreeSet<_> = t.iter().map(|(r, _)| *r).collect();
        assert_eq!(resources, BTreeSet::from(["Company Users", "Projects"]));
        assert_eq!(t.len(), 6, "create, update and delete of each");
    }

    #[test]
    fn compliance_subscribes_to_what_it_reads_and_the_insurance_records_it_writes() {
        let t = wanted_triggers(Integrations {
            workforce: false,
            compliance: true,
        });
        for r in [
            "Projects",
            "Company Users",
            "Company Vendors",
            "Work Order Contracts",
            "Purchase Order Contracts",
            "Company Insurances",
            "Project Insurances",
        ] {
            assert!(t.contains(&(r, "update")), "{r}");
        }
        assert!(!t
            .iter()
            .any(|(r, _)| r.starts_with("Project Users") || r.starts_with("Project Vendors")));
    }

    #[test]
    fn no_integration_on_needs_no_trigger() {
        assert!(wanted_triggers(Integrations::default()).is_empty());
    }

    #[test]
    fn many_deliveries_about_one_record_become_one_read() {
        let ds = [
            delivery("Company Users", "update", 5, None, 1),
            delivery("Company Users", "update", 5, None, 1),
            delivery("Company Users", "create", 5, None, 2),
        ];
        let r = route(&ds, Some(99));
        assert_eq!(r.targets.users, BTreeSet::from([5]));
        assert_eq!(r.own, 0);
    }

    #[test]
    fn a_change_made_by_trestles_own_service_account_costs_no_read() {
        let ds = [
            delivery("Project Insurances", "create", 40, Some(3), 99),
            delivery("Projects", "update", 3, Some(3), 1),
        ];
        let r = route(&ds, Some(99));
        assert_eq!(r.own, 1);
        assert!(r.targets.insurances.is_empty());
        assert_eq!(r.targets.projects, BTreeSet::from([3]));
    }

    #[test]
    fn commitment_changes_read_their_project_and_deletes_name_the_commitment() {
        let ds = [
            delivery("Work Order Contracts", "update", 70, Some(3), 1),
            delivery("Purchase Order Contracts", "create", 71, Some(3), 1),
            delivery("Purchase Order Contracts", "delete", 72, Some(4), 1),
        ];
        let r = route(&ds, None);
        assert_eq!(r.targets.commitment_projects, BTreeSet::from([3]));
        assert_eq!(r.targets.deleted_commitments, BTreeSet::from([72]));
    }

    #[test]
    fn resources_trestle_does_not_follow_are_counted_and_ignored() {
        let ds = [delivery("RFIs", "update", 1, Some(3), 1)];
        let r = route(&ds, None);
        assert!(r.targets.is_empty());
        assert_eq!(r.ignored, 1);
    }

    #[test]
    fn the_workforce_takes_projects_and_users_of_the_targets() {
        let ds = [
            delivery("Projects", "update", 3, Some(3), 1),
            delivery("Company Vendors", "update", 8, None, 1),
            delivery("Company Users", "update", 5, None, 1),
        ];
        let w = route(&ds, None).targets.workforce();
        assert_eq!(w.projects, BTreeSet::from([3]));
        assert_eq!(w.users, BTreeSet::from([5]));
        assert!(w.vendors.is_empty());
    }
}
