//! Collect: read what the workforce integration needs from Procore into a snapshot.
//!
//! The first sync reads everything; later syncs pass the cursors saved by the last apply and
//! ask Procore only for records updated since (`filters[updated_at]`), so a sync with no change
//! upstream costs one request per collection. Procore's inactive-users list takes no filters,
//! so it is read whole and narrowed here by its `updated_at`.
//!
//! Each record is checked on the way in: one with a missing name is not turned into a planner
//! input but listed in [`WorkforceSnapshot::rejected`] with the problem, and the rest go on.

use super::input::{ProcoreProject, ProcoreUser, RecordKind, Rejected, WorkforceSnapshot};
use crate::error::Result;
use crate::hooks::Progress;
use crate::text::non_empty;
use crate::webhooks::{gone_is_none, Targets};
use chrono::{DateTime, Utc};
use procore::api::projects::ProjectStatus as ProcoreStatus;
use procore::{Client, Collected, Malformed};
use std::collections::BTreeMap;
use store::CursorUpdate;

/// The collections the workforce integration follows, named as cursors are stored.
pub const PROJECTS: &str = "workforce.projects";
pub const USERS: &str = "workforce.users";
pub const INACTIVE_USERS: &str = "workforce.inactive_users";
/// The Procore user trestle works as (`/me`), kept so that a sync of a few records named by
/// webhooks, and the routing of deliveries, need not ask for it each time.
pub const SERVICE_ACCOUNT: &str = "workforce.service_account";

/// Where the last sync left off, per collection. `None` reads the whole collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursors {
    pub projects: Option<DateTime<Utc>>,
    pub users: Option<DateTime<Utc>>,
    pub inactive_users: Option<DateTime<Utc>>,
}

impl Cursors {
    pub fn parse(
        projects: Option<String>,
        users: Option<String>,
        inactive: Option<String>,
    ) -> Cursors {
        let p = |s: Option<String>| s.and_then(|v| v.parse().ok());
        Cursors {
            projects: p(projects),
            users: p(users),
            inactive_users: p(inactive),
        }
    }
}

/// A snapshot, the cursors to save once it is applied, and how many records Procore sent.
#[derive(Debug, Clone)]
pub struct Collection {
    pub snapshot: WorkforceSnapshot,
    pub cursors: Vec<CursorUpdate>,
    pub records_read: usize,
    /// Where each record came from and its `updated_at`, so a record skipped until the app
    /// side changes can hold its collection's cursor back (see [`Collection::hold_back`]).
    pub seen: BTreeMap<(RecordKind, i64), (&'static str, DateTime<Utc>)>,
}

impl Collection {
    /// Moves cursors back so that the given records are read again next time.
    ///
    /// A cursor normally moves to the newest `updated_at` read. But some skips wait on the app
    /// side, not on Procore (a project number an unlinked app project holds, an email an
    /// unlinked worker has, Sync Employees Only): if the cursor moved past such a record, it
    /// would never be read again after the administrator fixed the clash.
    pub fn hold_back(&mut self, records: impl IntoIterator<Item = (RecordKind, i64)>) {
        let mut caps: BTreeMap<&'static str, DateTime<Utc>> = BTreeMap::new();
        for key in records {
            if let Some((collection, at)) = self.seen.get(&key) {
                let cap = caps.entry(collection).or_insert(*at);
                *cap = (*cap).min(*at);
            }
        }
        for (collection, cap) in caps {
            let value = crate::cursor::format(cap);
            match self.cursors.iter_mut().find(|c| c.collection == collection) {
                Some(c) if value < c.value => c.value = value,
                Some(_) => {}
                None => self.cursors.push(CursorUpdate {
                    collection: collection.into(),
                    value,
                }),
            }
        }
    }
}

/// Reads projects (v1.1, every status, templates left out by Procore's own filter) and company
/// users (active through v1.3 for their role, and inactive) changed since `cursors`, and `/me`
/// for the service account unless `service_account` already says who it is.
///
/// # Errors
/// Only what stops the whole collection: auth, permissions, Procore unavailable after retries.
pub async fn collect(
    client: &Client,
    cursors: &Cursors,
    service_account: Option<i64>,
    progress: Option<&Progress>,
) -> Result<Collection> {
    let report = |name: &'static str| {
        let p = progress.cloned();
        move |seen: u64, total: Option<u64>| {
            if let Some(p) = &p {
                p(name, seen, total);
            }
        }
    };
    // The service account does not change while the connection stays; it is read again only
    // when not known (the first sync, or a whole read).
    let me = match service_account {
        Some(id) => id,
        None => client.me().await?.id.get(),
    };

    let mut projects = client
        .projects()
        .list_v11()
        .status(ProcoreStatus::All)
        .template(false);
    if let Some(since) = cursors.projects {
        projects = projects.updated_since(since);
    }
    let projects: Collected<procore::models::Project> = projects
        .into_list()
        .on_progress(report("projects"))
        .collect()
        .await?;

    // v1.3, not v1.0: the same page size and filters, plus `role`, which marks the service
    // accounts of every app installed in the company (never workers).
    let mut active = client.users().list_v13();
    if let Some(since) = cursors.users {
        active = active.updated_since(since);
    }
    let active = active
        .into_list()
        .on_progress(report("users"))
        .collect()
        .await?;
    let inactive = client
        .users()
        .list_inactive()
        .into_list()
        .on_progress(report("inactive users"))
        .collect()
        .await?;

    let mut snapshot = WorkforceSnapshot {
        service_account_id: Some(me),
        ..Default::default()
    };
    let mut cursor_updates = Vec::new();
    let mut seen = BTreeMap::new();
    let records_read = projects.items.len() + active.items.len() + inactive.items.len();

    reject_all(&mut snapshot, RecordKind::Project, &projects.malformed);
    reject_all(&mut snapshot, RecordKind::User, &active.malformed);
    reject_all(&mut snapshot, RecordKind::User, &inactive.malformed);

    let mut newest = Newest::default();
    for p in &projects.items {
        newest.see(p.updated_at);
        if let Some(at) = p.updated_at {
            seen.insert((RecordKind::Project, p.id.get()), (PROJECTS, at));
        }
        match project_input(p) {
            Ok(input) => snapshot.projects.push(input),
            Err(problem) => snapshot.rejected.push(Rejected {
                kind: RecordKind::Project,
                procore_id: Some(p.id.get()),
                problem,
            }),
        }
    }
    cursor_updates.extend(newest.update(PROJECTS, cursors.projects, projects.server_time));

    let mut newest = Newest::default();
    for u in &active.items {
        newest.see(u.updated_at);
        if let Some(at) = u.updated_at {
            seen.insert((RecordKind::User, u.id.get()), (USERS, at));
        }
        push_user(&mut snapshot, u, true);
    }
    cursor_updates.extend(newest.update(USERS, cursors.users, active.server_time));

    let mut newest = Newest::default();
    for u in &inactive.items {
        newest.see(u.updated_at);
        if let Some(at) = u.updated_at {
            seen.insert((RecordKind::User, u.id.get()), (INACTIVE_USERS, at));
        }
        // The inactive list has no updated_at filter: keep only what changed since last time.
        let changed = match (cursors.inactive_users, u.updated_at) {
            (Some(since), Some(at)) => at >= since,
            _ => true,
        };
        if changed {
            push_user(&mut snapshot, u, false);
        }
    }
    cursor_updates.extend(newest.update(
        INACTIVE_USERS,
        cursors.inactive_users,
        inactive.server_time,
    ));
    cursor_updates.push(CursorUpdate {
        collection: SERVICE_ACCOUNT.into(),
        value: me.to_string(),
    });

    Ok(Collection {
        snapshot,
        cursors: cursor_updates,
        records_read,
        seen,
    })
}

/// Reads the records webhook deliveries named, one request each, instead of the lists: their
/// state now, whatever the deliveries said, so repeated or reordered deliveries read the same
/// thing. A record Procore no longer shows (deleted, or hidden from the integration user) is
/// left as trestle holds it: the next whole read decides. No cursor moves, so the next
/// incremental read of the lists still starts where the last one stopped; `service_account`
/// (from an earlier sync) spares the `/me` request when known.
///
/// # Errors
/// As [`collect`]; a record that is gone or forbidden is not an error.
pub async fn collect_targets(
    client: &Client,
    targets: &Targets,
    service_account: Option<i64>,
) -> Result<Collection> {
    let service_account = match service_account {
        Some(id) => id,
        None => client.me().await?.id.get(),
    };
    let mut snapshot = WorkforceSnapshot {
        service_account_id: Some(service_account),
        ..Default::default()
    };
    let mut records_read = 0;
    for &id in &targets.projects {
        let Some(p) = gone_is_none(client.projects().get(procore::ProjectId(id)).await)? else {
            continue;
        };
        // A template is not a project anyone works on; the lists leave templates out too.
        if p.template == Some(true) {
            continue;
        }
        records_read += 1;
        match project_input(&p) {
            Ok(input) => snapshot.projects.push(input),
            Err(problem) => snapshot.rejected.push(Rejected {
                kind: RecordKind::Project,
                procore_id: Some(id),
                problem,
            }),
        }
    }
    for &id in &targets.users {
        let Some(u) = gone_is_none(client.users().get_v13(procore::UserId(id)).await)? else {
            continue;
        };
        records_read += 1;
        push_user(&mut snapshot, &u, true);
    }
    Ok(Collection {
        snapshot,
        cursors: Vec::new(),
        records_read,
        seen: BTreeMap::new(),
    })
}

/// The largest `updated_at` seen in one collection, which becomes its next cursor.
#[derive(Default)]
struct Newest(Option<DateTime<Utc>>);

impl Newest {
    fn see(&mut self, at: Option<DateTime<Utc>>) {
        if at > self.0 {
            self.0 = at;
        }
    }

    /// The cursor moves forward only, and past the newest second only once Procore's clock is
    /// well beyond it (see [`crate::cursor`]).
    fn update(
        self,
        collection: &str,
        previous: Option<DateTime<Utc>>,
        server_time: Option<DateTime<Utc>>,
    ) -> Option<CursorUpdate> {
        let next = crate::cursor::next_cursor(self.0?, server_time, None);
        (Some(next) > previous).then(|| CursorUpdate {
            collection: collection.into(),
            value: crate::cursor::format(next),
        })
    }
}

fn reject_all(snapshot: &mut WorkforceSnapshot, kind: RecordKind, malformed: &[Malformed]) {
    for m in malformed {
        snapshot.rejected.push(Rejected {
            kind,
            procore_id: m.id.as_deref().and_then(|id| id.parse().ok()),
            problem: m.reason.clone(),
        });
    }
}

fn push_user(
    snapshot: &mut WorkforceSnapshot,
    u: &procore::models::CompanyUser,
    listed_active: bool,
) {
    match user_input(u, listed_active) {
        Ok(input) => snapshot.users.push(input),
        Err(problem) => snapshot.rejected.push(Rejected {
            kind: RecordKind::User,
            procore_id: Some(u.id.get()),
            problem,
        }),
    }
}

/// Checks a Procore project and keeps what the planner maps.
pub fn project_input(p: &procore::models::Project) -> std::result::Result<ProcoreProject, String> {
    let name = non_empty(p.name.as_deref()).ok_or("the project has no name")?;
    Ok(ProcoreProject {
        id: p.id.get(),
        name,
        project_number: non_empty(p.project_number.as_deref()),
        description: non_empty(p.description.as_deref()),
        public_notes: non_empty(p.public_notes.as_deref()),
        address: non_empty(p.address.as_deref()),
        city: non_empty(p.city.as_deref()),
        state_code: non_empty(p.state_code.as_deref()),
        zip: non_empty(p.zip.as_deref()),
        country_code: non_empty(p.country_code.as_deref()),
        active: p
            .active
            .ok_or("the project does not say whether it is active")?,
        start_date: p.start_date,
        is_template: p.template.unwrap_or(false),
    })
}

/// Checks a Procore company user and keeps what the planner maps. Which list the user came
/// from is the authority on whether they are active.
pub fn user_input(
    u: &procore::models::CompanyUser,
    listed_active: bool,
) -> std::result::Result<ProcoreUser, String> {
    let mut first_name = non_empty(u.first_name.as_deref()).unwrap_or_default();
    let mut last_name = non_empty(u.last_name.as_deref()).unwrap_or_default();
    if first_name.is_empty() && last_name.is_empty() {
        // Procore may send both parts as `null` and still name the user in full ("First
        // Last"): the last word is the last name.
        let full =
            non_empty(u.name.as_deref()).ok_or("the user has neither a first nor a last name")?;
        match full.rsplit_once(char::is_whitespace) {
            Some((first, last)) => {
                first_name = first.trim().to_owned();
                last_name = last.to_owned();
            }
            None => last_name = full,
        }
    }
    Ok(ProcoreUser {
        id: u.id.get(),
        first_name,
        last_name,
        mobile_phone: non_empty(u.mobile_phone.as_deref()),
        business_phone: non_empty(u.business_phone.as_deref()),
        employee_id: non_empty(u.employee_id.as_deref()),
        email_address: non_empty(u.email_address.as_deref()),
        is_active: listed_active && u.is_active.unwrap_or(true),
        is_employee: u.is_employee.unwrap_or(false),
        is_service_account: u
            .role
            .as_deref()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("service_account")),
    })
}
