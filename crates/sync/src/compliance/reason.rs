//! Why the planner decided what it did: one variant per rule, each displaying as a sentence a
//! site administrator understands, naming the setting or record to change. The seed's
//! troubleshooting questions (why is this company not on that project, why did this contact
//! not sync, why is this status not in Procore) are each answered by one of these.

use super::fields::Field;
use super::settings::{CommitmentKind, ContactSync, InsuranceLevel, SyncLevel};
use chrono::NaiveDate;
use domain::compliance::{ContactId, PartyId, ProcoreInsuranceStatus, ProjectId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which of the two mapped record kinds a reason is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mapped {
    Project,
    Company,
}

impl Mapped {
    /// What the record is called in Procore.
    pub fn procore(self) -> &'static str {
        match self {
            Mapped::Project => "Procore project",
            Mapped::Company => "Procore company",
        }
    }

    /// What the record is called in trestle.
    pub fn trestle(self) -> &'static str {
        match self {
            Mapped::Project => "trestle project",
            Mapped::Company => "trestle party",
        }
    }
}

/// A custom field a commitment carries: its key, and its label when Procore's definitions
/// give one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarriedField {
    /// `custom_field_<id>`.
    pub key: String,
    pub label: Option<String>,
}

impl fmt::Display for CarriedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.label {
            Some(label) => write!(f, "\"{label}\" ({})", self.key),
            None => write!(f, "{} (no label known)", self.key),
        }
    }
}

/// The rule that decided an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Reason {
    // ---- mapping and import
    /// The mapping is Import.
    ImportChosen {
        kind: Mapped,
    },
    /// The mapping is Link to this trestle record.
    LinkChosen {
        kind: Mapped,
        local_id: i64,
    },
    /// No mapping, and automatic project import is on.
    ImportedAutomatically,
    /// No mapping, company import through commitments is on, and this commitment is active on
    /// a linked project.
    ImportedThroughCommitment {
        commitment_id: i64,
        procore_project_id: i64,
    },
    DoNotAdd {
        kind: Mapped,
    },
    AwaitingMapping {
        kind: Mapped,
    },
    /// Automatic import applies only to active records.
    InactiveNotImportedAutomatically {
        kind: Mapped,
    },
    LinkTargetMissing {
        kind: Mapped,
        local_id: i64,
    },
    LinkTargetLinkedElsewhere {
        kind: Mapped,
        local_id: i64,
        procore_id: i64,
    },
    /// A linked record whose managed fields differ from Procore's.
    Updated {
        kind: Mapped,
        fields: Vec<Field>,
    },

    // ---- contacts
    ContactAdded {
        setting: ContactSync,
    },
    ContactUpdated {
        fields: Vec<Field>,
    },
    /// An unlinked trestle contact of the party has the same email: linked instead of
    /// duplicated.
    ContactMatchedByEmail {
        contact_id: ContactId,
    },
    /// Procore names another primary contact, so this one is no longer primary.
    NoLongerPrimary {
        procore_contact_id: i64,
    },
    ContactSyncOff,
    NoPrimaryContact,
    /// The Procore contact belongs to another company now, and trestle holds it as a contact of
    /// that company's former party.
    ContactOfAnotherParty {
        contact_id: ContactId,
        party: PartyId,
    },
    NotThePrimaryContact,
    ContactHasNoEmail,
    /// The contact's or commitment's company is not in trestle (see the company's own entry).
    CompanyNotInTrestle {
        procore_vendor_id: i64,
    },

    // ---- commitments and associations
    Associated {
        commitment_ids: Vec<i64>,
        profile: Option<String>,
    },
    AssociationUpdated {
        commitment_ids: Vec<i64>,
        profile: Option<String>,
    },
    AssociationEnded,
    ProjectNotLinked {
        procore_project_id: i64,
    },
    CommitmentTypeIgnored {
        kind: CommitmentKind,
    },
    CommitmentNotActive {
        kind: CommitmentKind,
        status: Option<String>,
        active: Vec<String>,
    },
    CommitmentNotExecuted {
        kind: CommitmentKind,
    },
    CommitmentHasNoVendor,
    /// The profile custom field names no profile; never applied, reported with the closest
    /// names.
    UnknownProfile {
        field: String,
        value: String,
        closest: Vec<String>,
    },
    /// The active commitments of one association name different profiles.
    ConflictingProfiles {
        field: String,
        profiles: Vec<String>,
    },
    /// Commitments are active, but no custom field Procore defines is called `field` (the
    /// profile field setting) and no commitment carries one by that key.
    ProfileFieldNotFound {
        field: String,
        /// The custom fields the commitments carry.
        carried: Vec<CarriedField>,
        /// Why Procore's custom field definitions could not be read, when they could not.
        definitions_unreadable: Option<String>,
    },

    // ---- write-back
    FirstWrite {
        level: InsuranceLevel,
    },
    StatusChanged {
        from: ProcoreInsuranceStatus,
        to: ProcoreInsuranceStatus,
        since: NaiveDate,
    },
    /// The subject-level status is the same; the notes changed, and are written.
    NotesOnly {
        since: NaiveDate,
    },
    /// The record in Procore no longer says what trestle wrote: someone changed these managed
    /// fields there. trestle's fields win, so it is written again.
    ChangedInProcore {
        fields: Vec<String>,
        since: NaiveDate,
    },
    /// The record trestle wrote is no longer in Procore (deleted there): written again.
    MissingFromProcore {
        since: NaiveDate,
    },
    NothingChangedSince {
        on: NaiveDate,
    },
    ComplianceSyncOff,
    LevelExcludes {
        setting: SyncLevel,
        level: InsuranceLevel,
    },
    /// A record trestle wrote that it no longer reports: its association ended or the format
    /// changed.
    NoLongerReported,
    /// The party or project of a record trestle wrote is linked to another Procore record
    /// since: the record is removed from where it was and written where it belongs.
    MovedInProcore {
        from_vendor: i64,
        from_project: Option<i64>,
    },
    /// The party or project of a record trestle wrote is no longer linked where it was written
    /// (the link moved to another trestle record, or was dropped).
    NoLongerLinked {
        procore_vendor_id: i64,
        procore_project_id: Option<i64>,
    },
    /// A record trestle wrote at a level the setting now excludes.
    LevelNoLongerSent {
        setting: SyncLevel,
        level: InsuranceLevel,
    },
    PartyNotLinked {
        party: PartyId,
    },
    InsuranceProjectNotLinked {
        project: ProjectId,
    },
}

fn list<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn field_list(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.label())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::ImportChosen { kind } => write!(f, "imported as a new {}: its mapping in the Procore integration settings is Import", kind.trestle()),
            Reason::LinkChosen { kind, local_id } => write!(f, "linked to {} {local_id}: its mapping in the Procore integration settings is Link; the changes listed are what linking writes", kind.trestle()),
            Reason::ImportedAutomatically => write!(f, "imported as a new trestle project: it has no mapping yet and automatic project import is on (new projects: \"import new projects automatically\")"),
            Reason::ImportedThroughCommitment { commitment_id, procore_project_id } => write!(f, "imported as a new trestle party: it has no mapping yet, company import through commitments is on, and its commitment {commitment_id} is active on linked Procore project {procore_project_id}"),
            Reason::DoNotAdd { kind } => write!(f, "ignored: the {} is marked Do not add in the Procore integration settings; change its mapping to Import or Link to bring it in", kind.procore()),
            Reason::AwaitingMapping { kind: Mapped::Project } => write!(f, "not added yet: it is listed for mapping; choose Import, Link or Do not add in the Procore integration settings, or set new projects to \"import new projects automatically\""),
            Reason::AwaitingMapping { kind: Mapped::Company } => write!(f, "not added yet: it is listed for mapping; choose Import, Link or Do not add in the Procore integration settings, or turn on company import through commitments (it then comes in with its first active commitment on a linked project)"),
            Reason::InactiveNotImportedAutomatically { kind } => write!(f, "not imported automatically: the {} is inactive, and automatic import only brings in active records; map it to Import or Link to bring it in anyway", kind.procore()),
            Reason::LinkTargetMissing { kind, local_id } => write!(f, "not linked: its mapping links it to {} {local_id}, which does not exist; choose another record in the Procore integration settings", kind.trestle()),
            Reason::LinkTargetLinkedElsewhere { kind, local_id, procore_id } => write!(f, "not linked: its mapping links it to {} {local_id}, which is already linked to {} {procore_id}; unlink that one first or choose another record", kind.trestle(), kind.procore()),
            Reason::Updated { kind, fields } => write!(f, "updated from the {}: {} changed", kind.procore(), field_list(fields)),
            Reason::ContactAdded { setting } => write!(f, "added to the party: contacts synchronization is \"{}\" and the contact has an email", setting.label()),
            Reason::ContactUpdated { fields } => write!(f, "updated from Procore: {} changed", field_list(fields)),
            Reason::ContactMatchedByEmail { contact_id } => write!(f, "linked to the party's existing contact {contact_id}: it has the same email and was not linked to a Procore contact yet"),
            Reason::NoLongerPrimary { procore_contact_id } => write!(f, "no longer primary: Procore's primary contact for the company is contact {procore_contact_id}, and contacts synchronization sets the primary contact"),
            Reason::ContactSyncOff => write!(f, "not synced: contacts synchronization is \"Do not sync contacts\"; choose another contacts setting in the Procore integration settings"),
            Reason::NoPrimaryContact => write!(f, "no contact synced: contacts synchronization is \"Only sync primary contact\" and the company has no primary contact in Procore; set one in Procore's company directory or choose \"Sync all contacts\""),
            Reason::ContactOfAnotherParty { contact_id, party } => write!(f, "contact not synced here: this person is trestle contact {contact_id} of party {party}, and Procore now lists them under another company; trestle does not move contacts between parties, so the contact stays with party {party}"),
            Reason::NotThePrimaryContact => write!(f, "not synced: contacts synchronization is \"Only sync primary contact\" and this is not the company's primary contact in Procore"),
            Reason::ContactHasNoEmail => write!(f, "not synced: the contact has no email address in Procore; add one in Procore's company directory"),
            Reason::CompanyNotInTrestle { procore_vendor_id } => write!(f, "not synced: its company (Procore company {procore_vendor_id}) is not in trestle; see that company's entry (no mapping yet, or Do not add)"),
            Reason::Associated { commitment_ids, profile } => {
                write!(f, "associated with the project: commitment {} is active under the current settings and the project is linked", list(commitment_ids))?;
                match profile {
                    Some(p) => write!(f, "; profile \"{p}\" applies, as the commitment's profile field names it"),
                    None => Ok(()),
                }
            }
            Reason::AssociationUpdated { commitment_ids, profile } => {
                write!(f, "association updated: its active commitments are now {}", list(commitment_ids))?;
                match profile {
                    Some(p) => write!(f, "; profile \"{p}\" applies, as the commitment's profile field names it"),
                    None => Ok(()),
                }
            }
            Reason::AssociationEnded => write!(f, "association ended: no commitment between the company and the project is active any more under the current settings"),
            Reason::ProjectNotLinked { procore_project_id } => write!(f, "not associated: Procore project {procore_project_id} is not linked to a trestle project; map it to Import or Link in the Procore integration settings"),
            Reason::CommitmentTypeIgnored { kind } => write!(f, "not associated: {}s are ignored by the Procore integration settings (ignore {}s)", kind.label(), kind.label()),
            Reason::CommitmentNotActive { kind, status, active } => write!(f, "not associated: the {}'s status is {} and the statuses that count as active for {}s are {}; change the active commitment statuses in the Procore integration settings", kind.label(), status.as_deref().map(|s| format!("\"{s}\"")).unwrap_or_else(|| "empty".into()), kind.label(), if active.is_empty() { "none".to_owned() } else { quoted(active) }),
            Reason::CommitmentNotExecuted { kind } => write!(f, "not associated: active commitments are set to mean executed only, and this {} is not executed in Procore", kind.label()),
            Reason::CommitmentHasNoVendor => write!(f, "not associated: the commitment has no company in Procore; set its contract company"),
            Reason::UnknownProfile { field, value, closest } => {
                write!(f, "profile not applied: the commitment's \"{field}\" field is \"{value}\", which is not the exact name of any compliance profile")?;
                if closest.is_empty() {
                    write!(f, " (there are no profiles)")
                } else {
                    write!(f, "; closest: {}; fix the value in Procore", quoted(closest))
                }
            }
            Reason::ProfileFieldNotFound { field, carried, definitions_unreadable } => {
                write!(f, "no profile applied from commitments: the profile field setting is \"{field}\", and no commitment custom field is labelled so (nor has that key); ")?;
                if carried.is_empty() {
                    write!(f, "the commitments carry no custom fields; create the field on Commitments in Procore")?;
                } else {
                    let names: Vec<String> = carried.iter().map(ToString::to_string).collect();
                    write!(f, "the commitments carry {}; set the compliance setting \"profile field\" to one of these", names.join(", "))?;
                }
                if let Some(problem) = definitions_unreadable {
                    write!(f, "; trestle could not read Procore's custom field definitions ({problem}), so only a custom_field_<id> name works until it can")?;
                }
                write!(f, " (an empty profile field takes no profiles from commitments)")
            }
            Reason::ConflictingProfiles { field, profiles } => write!(f, "profile not applied: the active commitments' \"{field}\" fields name different profiles ({}); make them agree in Procore", quoted(profiles)),
            Reason::FirstWrite { level } => write!(f, "written: trestle has not written this {} insurance record before", level.label()),
            Reason::StatusChanged { from, to, since } => write!(f, "written: the subject-level status changed since the last write on {since} ({from} -> {to}, or a date, policy number or insurer)"),
            Reason::NotesOnly { since } => write!(f, "written: only the notes changed since the last write on {since}; the subject-level status did not change"),
            Reason::ChangedInProcore { fields, since } => write!(f, "written again: the record in Procore was changed there since trestle wrote it on {since} ({}), and trestle's fields win", fields.join(", ")),
            Reason::MissingFromProcore { since } => write!(f, "written again: the record trestle wrote on {since} is no longer in Procore (deleted there), and trestle reports it"),
            Reason::NothingChangedSince { on } => write!(f, "not written: nothing changed since the last write on {on}"),
            Reason::ComplianceSyncOff => write!(f, "not written: compliance sync is off in the Procore integration settings"),
            Reason::LevelExcludes { setting, level } => write!(f, "not written: the compliance sync level is \"{}\", which does not send {} compliance", setting.label(), level.label()),
            Reason::NoLongerReported => write!(f, "removed: trestle wrote this insurance record but no longer reports it (its association ended, or the write-back format changed), so it is taken out of Procore"),
            Reason::MovedInProcore { from_vendor, from_project } => write!(f, "moved: the party or project is linked to another Procore record since this record was written under Procore company {from_vendor}{}, so it is removed there and written where the party and project are linked now", from_project.map(|p| format!(" on Procore project {p}")).unwrap_or_default()),
            Reason::NoLongerLinked { procore_vendor_id, procore_project_id } => write!(f, "removed: the record's party or project is no longer linked to Procore company {procore_vendor_id}{}, where trestle wrote it, so trestle no longer reports there", procore_project_id.map(|p| format!(" on Procore project {p}")).unwrap_or_default()),
            Reason::LevelNoLongerSent { setting, level } => write!(f, "removed: the compliance sync level is now \"{}\", which does not send {} compliance, so the record trestle wrote before is taken out of Procore", setting.label(), level.label()),
            Reason::PartyNotLinked { party } => write!(f, "not written: party {party} is not linked to a Procore company (or its company is marked Do not add); link it in the Procore integration settings"),
            Reason::InsuranceProjectNotLinked { project } => write!(f, "not written: project {project} is not linked to a Procore project (or that project is marked Do not add); link it in the Procore integration settings"),
        }
    }
}
