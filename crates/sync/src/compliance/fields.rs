//! The fields the integration manages on each trestle record, read from Procore and from
//! trestle in one shape, so a plan can say field by field what an import, link or update
//! changes (the seed's dry run) and the executor writes exactly that.

use super::input::{ProcoreContact, ProcoreProject, ProcoreVendor};
use super::settings::{PROJECT_NUMBER_FIELD, TOTAL_VALUE_FIELD};
use crate::text::non_empty;
use chrono::NaiveDate;
use domain::compliance::{Contact, Party, Project};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A managed field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Name,
    Description,
    StartDate,
    CompletionDate,
    ProjectNumber,
    TotalValue,
    Address,
    Website,
    Active,
    FirstName,
    LastName,
    Email,
    Phone,
    Fax,
    Primary,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Description => "description",
            Field::StartDate => "start date",
            Field::CompletionDate => "completion date",
            Field::ProjectNumber => "project number (custom field)",
            Field::TotalValue => "total value (custom field)",
            Field::Address => "address",
            Field::Website => "website",
            Field::Active => "active status",
            Field::FirstName => "first name",
            Field::LastName => "last name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Fax => "fax",
            Field::Primary => "primary contact",
        }
    }
}

/// One field's value before and after; `None` is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: Field,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<String>| match v {
            Some(v) => format!("{v:?}"),
            None => "(empty)".to_owned(),
        };
        write!(
            f,
            "{}: {} -> {}",
            self.field.label(),
            show(&self.from),
            show(&self.to)
        )
    }
}

/// The managed fields as (field, text) pairs, in display order.
pub trait Managed {
    fn entries(&self) -> Vec<(Field, Option<String>)>;
}

/// What changes from `before` (nothing, for a new record) to `after`.
pub fn changes<F: Managed>(before: Option<&F>, after: &F) -> Vec<FieldChange> {
    let old = before.map(Managed::entries);
    after
        .entries()
        .into_iter()
        .enumerate()
        .filter_map(|(i, (field, to))| {
            let from = old.as_ref().and_then(|o| o[i].1.clone());
            (from != to).then_some(FieldChange { field, from, to })
        })
        .collect()
}

fn date(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn flag(active: bool, yes: &str, no: &str) -> Option<String> {
    Some(if active { yes } else { no }.to_owned())
}

/// The fields of a compliance project the integration keeps up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectFields {
    pub name: String,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    pub active: bool,
    /// Stored as the [`PROJECT_NUMBER_FIELD`] custom field.
    pub project_number: Option<String>,
    /// Stored as the [`TOTAL_VALUE_FIELD`] custom field.
    pub total_value: Option<String>,
}

impl ProjectFields {
    /// Procore's values for every field.
    pub fn from_procore(p: &ProcoreProject) -> Self {
        ProjectFields {
            name: crate::text::kept(&p.name),
            description: non_empty(p.description.as_deref()),
            start_date: p.start_date,
            completion_date: p.completion_date,
            active: p.active,
            project_number: non_empty(p.project_number.as_deref()),
            total_value: non_empty(p.total_value.as_deref()),
        }
    }

    /// trestle's values.
    pub fn of(project: &Project, custom: Option<&BTreeMap<String, String>>) -> Self {
        let custom_field =
            |label: &str| custom.and_then(|c| non_empty(c.get(label).map(String::as_str)));
        ProjectFields {
            name: project.name.clone(),
            description: project.description.clone(),
            start_date: project.start_date,
            completion_date: project.completion_date,
            active: project.active,
            project_number: custom_field(PROJECT_NUMBER_FIELD),
            total_value: custom_field(TOTAL_VALUE_FIELD),
        }
    }

    /// Writes the fields onto a trestle project and its custom fields; other custom fields are
    /// left alone.
    pub fn apply_to(&self, project: &mut Project, custom: &mut BTreeMap<String, String>) {
        project.name.clone_from(&self.name);
        project.description.clone_from(&self.description);
        project.start_date = self.start_date;
        project.completion_date = self.completion_date;
        project.active = self.active;
        for (label, value) in [
            (PROJECT_NUMBER_FIELD, &self.project_number),
            (TOTAL_VALUE_FIELD, &self.total_value),
        ] {
            match value {
                Some(v) => custom.insert(label.to_owned(), v.clone()),
                None => custom.remove(label),
            };
        }
    }
}

impl Managed for ProjectFields {
    fn entries(&self) -> Vec<(Field, Option<String>)> {
        vec![
            (Field::Name, Some(self.name.clone())),
            (Field::Description, self.description.clone()),
            (Field::StartDate, date(self.start_date)),
            (Field::CompletionDate, date(self.completion_date)),
            (Field::ProjectNumber, self.project_number.clone()),
            (Field::TotalValue, self.total_value.clone()),
            (Field::Active, flag(self.active, "active", "inactive")),
        ]
    }
}

/// The fields of a party the integration keeps up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyFields {
    pub name: String,
    pub address: Option<String>,
    pub website: Option<String>,
    pub active: bool,
}

impl PartyFields {
    /// Procore's values. trestle keeps one address line, so Procore's parts are joined:
    /// "1 Main St, Toronto, ON M5V 2T6, CA".
    pub fn from_procore(v: &ProcoreVendor) -> Self {
        let region = [v.state_code.as_deref(), v.zip.as_deref()]
            .into_iter()
            .filter_map(non_empty)
            .collect::<Vec<_>>()
            .join(" ");
        let parts: Vec<String> = [
            non_empty(v.address.as_deref()),
            non_empty(v.city.as_deref()),
            non_empty(Some(&region)),
            non_empty(v.country_code.as_deref()),
        ]
        .into_iter()
        .flatten()
        .collect();
        PartyFields {
            name: crate::text::kept(&v.name),
            address: (!parts.is_empty()).then(|| parts.join(", ")),
            website: non_empty(v.website.as_deref()),
            active: v.active,
        }
    }

    pub fn of(party: &Party) -> Self {
        PartyFields {
            name: party.name.clone(),
            address: party.address.clone(),
            website: party.website.clone(),
            active: party.active,
        }
    }

    pub fn apply_to(&self, party: &mut Party) {
        party.name.clone_from(&self.name);
        party.address.clone_from(&self.address);
        party.website.clone_from(&self.website);
        party.active = self.active;
    }
}

impl Managed for PartyFields {
    fn entries(&self) -> Vec<(Field, Option<String>)> {
        vec![
            (Field::Name, Some(self.name.clone())),
            (Field::Address, self.address.clone()),
            (Field::Website, self.website.clone()),
            (Field::Active, flag(self.active, "active", "inactive")),
        ]
    }
}

/// The fields of a contact the integration keeps up to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactFields {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub primary: bool,
}

impl ContactFields {
    /// Procore's values; the phone is the business phone, or the mobile phone when there is
    /// none (trestle keeps one number, and a vendor contact is called at work first).
    pub fn from_procore(c: &ProcoreContact, primary: bool) -> Self {
        ContactFields {
            first_name: non_empty(c.first_name.as_deref()),
            last_name: non_empty(c.last_name.as_deref()),
            email: non_empty(c.email.as_deref()),
            phone: non_empty(c.business_phone.as_deref())
                .or_else(|| non_empty(c.mobile_phone.as_deref())),
            fax: non_empty(c.fax.as_deref()),
            primary,
        }
    }

    pub fn of(contact: &Contact) -> Self {
        ContactFields {
            first_name: contact.first_name.clone(),
            last_name: contact.last_name.clone(),
            email: contact.email.clone(),
            phone: contact.phone.clone(),
            fax: contact.fax.clone(),
            primary: contact.primary,
        }
    }

    pub fn apply_to(&self, contact: &mut Contact) {
        contact.first_name.clone_from(&self.first_name);
        contact.last_name.clone_from(&self.last_name);
        contact.email.clone_from(&self.email);
        contact.phone.clone_from(&self.phone);
        contact.fax.clone_from(&self.fax);
        contact.primary = self.primary;
    }
}

impl Managed for ContactFields {
    fn entries(&self) -> Vec<(Field, Option<String>)> {
        vec![
            (Field::FirstName, self.first_name.clone()),
            (Field::LastName, self.last_name.clone()),
            (Field::Email, self.email.clone()),
            (Field::Phone, self.phone.clone()),
            (Field::Fax, self.fax.clone()),
            (Field::Primary, flag(self.primary, "yes", "no")),
        ]
    }
}
