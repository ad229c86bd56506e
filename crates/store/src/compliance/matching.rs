//! How an import finds its records again among the stored ones, as a pure function: the store
//! reads what it holds, [`match_import`] decides for each record of the file whether it is a
//! stored one (and which) or a new one, and the store writes the result. Kept apart from the
//! writes so each "find this record again" rule has a unit test without a database.

use super::import::ImportSummary;
use super::profiles::{certificate_key, numbers, waiver_key};
use super::{ComplianceProjectRecord, CustomFields};
use crate::{Result, StoreError};
use domain::compliance::{
    Certificate, ComplianceData, ComplianceProfile, Contact, Party, PartyId, PartyProject,
    ProjectId, Waiver, WaiverScope,
};
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// What the store holds of a company, read in the import's transaction before it writes.
#[derive(Debug, Default)]
pub(super) struct Stored {
    pub profiles: Vec<ComplianceProfile>,
    pub parties: Vec<Party>,
    pub projects: Vec<ComplianceProjectRecord>,
    pub party_projects: Vec<PartyProject>,
    pub contacts: Vec<Contact>,
    pub certificates: Vec<Certificate>,
    pub waivers: Vec<Waiver>,
    /// Procore id to local id, for each of the three kinds of record a link can name.
    pub party_links: BTreeMap<i64, i64>,
    pub project_links: BTreeMap<i64, i64>,
    pub contact_links: BTreeMap<i64, i64>,
}

/// One record of the file and what to write for it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Match<T> {
    /// The file's record; when found, with the stored record's id and the stored fields a file
    /// that leaves them out keeps. Its references to other records are still the file's ids:
    /// only the writes learn the ids of the records they create.
    pub record: T,
    /// A stored record found again (the write updates it), or a new one (the write inserts it).
    pub found: bool,
}

/// What to write for each record of the file: one [`Match`] per record, in the file's order.
#[derive(Debug, Default)]
pub(super) struct Matches {
    pub profiles: Vec<Match<ComplianceProfile>>,
    pub parties: Vec<Match<Party>>,
    pub projects: Vec<Match<ComplianceProjectRecord>>,
    pub party_projects: Vec<Match<PartyProject>>,
    pub contacts: Vec<Match<Contact>>,
    pub certificates: Vec<Match<Certificate>>,
    pub waivers: Vec<Match<Waiver>>,
}

impl Matches {
    /// What the import does once written: found records are updated, the others added.
    pub fn summary(&self) -> ImportSummary {
        fn count<T>(matches: &[Match<T>]) -> super::Imported {
            let found = matches.iter().filter(|m| m.found).count();
            super::Imported {
                added: matches.len() - found,
                updated: found,
            }
        }
        ImportSummary {
            profiles: count(&self.profiles),
            parties: count(&self.parties),
            projects: count(&self.projects),
            party_projects: count(&self.party_projects),
            contacts: count(&self.contacts),
            certificates: count(&self.certificates),
            waivers: count(&self.waivers),
        }
    }
}

/// The links of one kind as the import's earlier updates leave them, so a later record of the
/// file finds through a link what the store's link lookup would find at that point: an update
/// moves the link to the Procore id the record now carries (`writes::relink`). A create's new
/// link needs no model: it names no stored record, and neither does its absence, since a
/// create means no stored record carries that Procore id.
struct Links(BTreeMap<i64, i64>);

impl Links {
    fn updated(&mut self, local_id: i64, procore_id: Option<i64>) {
        self.0
            .retain(|p, l| *l != local_id || Some(*p) == procore_id);
        if let Some(p) = procore_id {
            self.0.insert(p, local_id);
        }
    }

    /// The stored record a Procore id finds: through its link when it has one, else the stored
    /// record carrying it.
    fn find<'a, T>(
        &self,
        procore_id: i64,
        stored: &'a [T],
        id: impl Fn(&T) -> i64,
        carried: impl Fn(&T) -> Option<i64>,
    ) -> Option<&'a T> {
        match self.0.get(&procore_id) {
            Some(local) => stored.iter().find(|s| id(s) == *local),
            None => stored.iter().find(|s| carried(s) == Some(procore_id)),
        }
    }
}

/// Decides, for every record of `data`, which stored record it is, if any.
///
/// The rules, in the order the records are matched:
/// - a profile by its name;
/// - a party or project by its Procore id (through its link, else the stored record carrying
///   it), else, without one, by its name;
/// - an association by its pair, once both records are found;
/// - a contact by its Procore id (through its link only), else within its party by email
///   (ignoring case and surrounding spaces), else by first and last name among the party's
///   contacts without an email;
/// - a certificate by its party and the set of its policy numbers;
/// - a waiver by its party, scope and target.
///
/// A found record takes the file's fields, except a Procore id the file leaves out, and the
/// Procore-owned fields of a linked party (address, website) or project (description, dates)
/// that the file leaves out; a project keeps its custom fields; an association keeps the
/// commitments that made it when the file names none. A record pointing at a record the
/// import creates is new: ids are never reused, so no stored record points at it.
///
/// # Errors
/// [`StoreError::Conflict`] when a name finds several stored parties or projects.
pub(super) fn match_import(data: &ComplianceData, stored: &Stored) -> Result<Matches> {
    let mut out = Matches::default();
    for p in &data.profiles {
        out.profiles.push(Match {
            record: p.clone(),
            found: stored.profiles.iter().any(|s| s.name == p.name),
        });
    }

    let mut links = Links(stored.party_links.clone());
    let mut parties: HashMap<PartyId, Option<PartyId>> = HashMap::new();
    for p in &data.parties {
        let found = match p.procore_vendor_id {
            Some(v) => links.find(v, &stored.parties, |s| s.id.0, |s| s.procore_vendor_id),
            None => by_name(
                "parties",
                &p.name,
                stored.parties.iter().filter(|s| s.name == p.name),
                "procore_vendor_id",
            )?,
        };
        let mut party = p.clone();
        if let Some(s) = found {
            party.id = s.id;
            party.procore_vendor_id = party.procore_vendor_id.or(s.procore_vendor_id);
            // Procore owns a linked party's address and website: a file that leaves them
            // out keeps what the sync wrote.
            if party.procore_vendor_id.is_some() {
                party.address = party.address.or_else(|| s.address.clone());
                party.website = party.website.or_else(|| s.website.clone());
            }
            links.updated(s.id.0, party.procore_vendor_id);
        }
        parties.insert(p.id, found.map(|s| s.id));
        out.parties.push(Match {
            record: party,
            found: found.is_some(),
        });
    }

    let mut links = Links(stored.project_links.clone());
    let mut projects: HashMap<ProjectId, Option<ProjectId>> = HashMap::new();
    for p in &data.projects {
        let found = match p.procore_project_id {
            Some(v) => links.find(
                v,
                &stored.projects,
                |s| s.project.id.0,
                |s| s.project.procore_project_id,
            ),
            None => by_name(
                "projects",
                &p.name,
                stored.projects.iter().filter(|s| s.project.name == p.name),
                "procore_project_id",
            )?,
        };
        let mut project = p.clone();
        let mut custom_fields = CustomFields::new();
        if let Some(s) = found {
            project.id = s.project.id;
            project.procore_project_id =
                project.procore_project_id.or(s.project.procore_project_id);
            // Procore owns a linked project's description and dates: a file that leaves
            // them out keeps what the sync wrote.
            if project.procore_project_id.is_some() {
                project.description = project
                    .description
                    .or_else(|| s.project.description.clone());
                project.start_date = project.start_date.or(s.project.start_date);
                project.completion_date = project.completion_date.or(s.project.completion_date);
            }
            custom_fields = s.custom_fields.clone();
            links.updated(s.project.id.0, project.procore_project_id);
        }
        projects.insert(p.id, found.map(|s| s.project.id));
        out.projects.push(Match {
            record: ComplianceProjectRecord {
                project,
                custom_fields,
            },
            found: found.is_some(),
        });
    }
    let party = |id: PartyId| parties.get(&id).copied().flatten();
    let project = |id: ProjectId| projects.get(&id).copied().flatten();

    for pp in &data.party_projects {
        let mut record = pp.clone();
        let before = match (party(pp.party_id), project(pp.project_id)) {
            (Some(a), Some(b)) => stored
                .party_projects
                .iter()
                .find(|s| (s.party_id, s.project_id) == (a, b)),
            _ => None,
        };
        // The commitments that made an association are Procore's to say: a file without them
        // keeps those the sync recorded, or the sync would take the association for one made
        // by hand and never end it.
        if let Some(before) = before {
            if record.procore_commitment_ids.is_empty() {
                record.procore_commitment_ids = before.procore_commitment_ids.clone();
            }
        }
        out.party_projects.push(Match {
            record,
            found: before.is_some(),
        });
    }

    let mut links = Links(stored.contact_links.clone());
    for c in &data.contacts {
        let owner = party(c.party_id);
        let linked = c.procore_contact_id.and_then(|v| links.0.get(&v).copied());
        let found = stored.contacts.iter().find(|s| match linked {
            Some(id) => s.id.0 == id,
            None if c.procore_contact_id.is_some() => false,
            None if c.email.is_some() => Some(s.party_id) == owner && same_text(&s.email, &c.email),
            None => {
                Some(s.party_id) == owner
                    && s.email.is_none()
                    && (c.first_name.is_some() || c.last_name.is_some())
                    && (&s.first_name, &s.last_name) == (&c.first_name, &c.last_name)
            }
        });
        let mut contact = c.clone();
        if let Some(s) = found {
            contact.id = s.id;
            contact.procore_contact_id = contact.procore_contact_id.or(s.procore_contact_id);
            links.updated(s.id.0, contact.procore_contact_id);
        }
        out.contacts.push(Match {
            record: contact,
            found: found.is_some(),
        });
    }

    for c in &data.certificates {
        let found = party(c.party_id).and_then(|owner| {
            let key = certificate_key(&Certificate {
                party_id: owner,
                ..c.clone()
            });
            stored
                .certificates
                .iter()
                .find(|s| certificate_key(s) == key)
        });
        let mut record = c.clone();
        if let Some(s) = found {
            record.id = s.id;
        }
        out.certificates.push(Match {
            record,
            found: found.is_some(),
        });
    }

    for w in &data.waivers {
        let scope = match w.scope {
            WaiverScope::Project(p) => project(p).map(WaiverScope::Project),
            other => Some(other),
        };
        let found = party(w.party_id).zip(scope).and_then(|(owner, scope)| {
            let stored_terms = Waiver {
                party_id: owner,
                scope,
                ..w.clone()
            };
            stored
                .waivers
                .iter()
                .find(|s| waiver_key(s) == waiver_key(&stored_terms))
        });
        let mut record = w.clone();
        if let Some(s) = found {
            record.id = s.id;
        }
        out.waivers.push(Match {
            record,
            found: found.is_some(),
        });
    }
    Ok(out)
}

/// What the import format cannot say by itself but the store needs to find records again:
/// `problems()` plus names and keys an import would otherwise apply twice over one record.
pub(super) fn import_problems(data: &ComplianceData) -> Vec<ImportProblem> {
    let mut out: Vec<ImportProblem> = data
        .problems()
        .iter()
        .map(|p| ImportProblem::new(p.section(), p.to_string()))
        .collect();
    for (first, p) in repeats(&data.profiles, |p| p.name.as_str()) {
        out.push(ImportProblem::new(
            "profiles",
            format!(
                "profiles {} and {} are both named \"{}\"; a profile is saved under its name",
                first.id, p.id, p.name
            ),
        ));
    }
    let unlinked = data
        .parties
        .iter()
        .filter(|p| p.procore_vendor_id.is_none());
    for (first, p) in repeats(unlinked, |p| p.name.as_str()) {
        out.push(ImportProblem::new(
            "parties",
            format!(
                "parties {} and {} are both named \"{}\" and have no procore_vendor_id; \
             a party without one is found again by its name",
                first.id, p.id, p.name
            ),
        ));
    }
    let unlinked = data
        .projects
        .iter()
        .filter(|p| p.procore_project_id.is_none());
    for (first, p) in repeats(unlinked, |p| p.name.as_str()) {
        out.push(ImportProblem::new(
            "projects",
            format!(
                "projects {} and {} are both named \"{}\" and have no procore_project_id; \
             a project without one is found again by its name",
                first.id, p.id, p.name
            ),
        ));
    }
    for (first, c) in repeats(&data.certificates, certificate_key) {
        out.push(ImportProblem::new(
            "certificates",
            format!(
                "certificates {} and {} of party {} list the same policies ({}); a \
             certificate is found again by its policy numbers, so merge them (applies_to \
             can name several projects)",
                first.id,
                c.id,
                c.party_id,
                numbers(&certificate_key(c).1)
            ),
        ));
    }
    for (i, w) in data.waivers.iter().enumerate() {
        if let Some(first) = data.waivers[..i]
            .iter()
            .find(|x| waiver_key(x) == waiver_key(w))
        {
            out.push(ImportProblem::new(
                "waivers",
                format!(
                    "waivers {} and {} of party {} have the same target and scope; keep one",
                    first.id, w.id, w.party_id
                ),
            ));
        }
    }
    out
}

/// Every record whose key the record before it with that key already had, with that record:
/// the "same name twice" check.
fn repeats<'a, T: 'a, K: Eq + Hash>(
    records: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&'a T) -> K,
) -> Vec<(&'a T, &'a T)> {
    let mut seen = HashMap::new();
    records
        .into_iter()
        .filter_map(|r| seen.insert(key(r), r).map(|before| (before, r)))
        .collect()
}

/// The one stored record a name finds, if any; two are a question only a person can answer.
fn by_name<'a, T>(
    what: &str,
    name: &str,
    mut candidates: impl Iterator<Item = &'a T>,
    procore_field: &str,
) -> Result<Option<&'a T>> {
    let first = candidates.next();
    if first.is_some() && candidates.next().is_some() {
        return Err(StoreError::Conflict(format!(
            "several {what} are named \"{name}\"; give the one in the file its {procore_field}, \
             or rename one of them"
        )));
    }
    Ok(first)
}

fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    }
}

#[cfg(test)]
mod tests;

/// One problem of an import file, with the section of the file it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProblem {
    /// `parties`, `projects`, `party_projects`, `contacts`, `profiles`, `certificates`,
    /// `waivers` or `version`.
    pub section: &'static str,
    /// What is wrong, naming the record by the file's id.
    pub message: String,
}

impl ImportProblem {
    fn new(section: &'static str, message: String) -> ImportProblem {
        ImportProblem { section, message }
    }
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
