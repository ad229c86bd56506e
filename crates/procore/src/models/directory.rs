use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Named;
use crate::ids::{ContactId, LookupId, PersonId, ProjectId, UserId, VendorId};

/// A permission template reference on a user.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PermissionTemplate {
    /// Id.
    pub id: LookupId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it is project specific.
    #[serde(default)]
    pub project_specific: Option<bool>,
    /// `company_tools`, `global` or `project_specific`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A company user (`GET /rest/v1.0/companies/{company_id}/users`, `/users/inactive`, v1.3).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct CompanyUser {
    /// User id.
    pub id: UserId,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default)]
    pub name: Option<String>,
    /// Initials.
    #[serde(default)]
    pub initials: Option<String>,
    /// Email address (the login).
    #[serde(default)]
    pub email_address: Option<String>,
    /// Mobile phone.
    #[serde(default)]
    pub mobile_phone: Option<String>,
    /// Business phone.
    #[serde(default)]
    pub business_phone: Option<String>,
    /// Business phone extension.
    #[serde(default)]
    pub business_phone_extension: Option<i64>,
    /// Fax.
    #[serde(default)]
    pub fax_number: Option<String>,
    /// Job title.
    #[serde(default)]
    pub job_title: Option<String>,
    /// Employee id (a string in Procore).
    #[serde(default, deserialize_with = "crate::de::string")]
    pub employee_id: Option<String>,
    /// Whether the user is an employee of the company.
    #[serde(default)]
    pub is_employee: Option<bool>,
    /// Whether the user is active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State code.
    #[serde(default)]
    pub state_code: Option<String>,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub zip: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Contact id.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
    /// Work classification id.
    #[serde(default)]
    pub work_classification_id: Option<LookupId>,
    /// The vendor (Directory company) the user belongs to.
    #[serde(default)]
    pub vendor: Option<Named<VendorId>>,
    /// Project permission template.
    #[serde(default)]
    pub permission_template: Option<PermissionTemplate>,
    /// Company permission template.
    #[serde(default)]
    pub company_permission_template: Option<PermissionTemplate>,
    /// Role (v1.3).
    #[serde(default)]
    pub role: Option<String>,
    /// Verified employee (v1.3).
    #[serde(default)]
    pub verified_employee: Option<bool>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// External data.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_data: Option<String>,
    /// Last login.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub last_login_at: Option<DateTime<Utc>>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// `contact` of a company person.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PersonContact {
    /// Whether the contact is active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
}

/// A company person (`GET /rest/v1.0/companies/{company_id}/people`): workforce members,
/// including people who are not login users.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Person {
    /// Person id.
    pub id: PersonId,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Employee id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub employee_id: Option<String>,
    /// Whether the person is an employee.
    #[serde(default)]
    pub is_employee: Option<bool>,
    /// The login user, when the person is one.
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// Contact details.
    #[serde(default)]
    pub contact: Option<PersonContact>,
    /// Work classification id.
    #[serde(default)]
    pub work_classification_id: Option<LookupId>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
}

/// A vendor's `primary_contact`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PrimaryContact {
    /// Contact id.
    #[serde(default)]
    pub id: Option<ContactId>,
    /// First name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Business phone.
    #[serde(default)]
    pub business_phone: Option<String>,
    /// Business phone extension.
    #[serde(default)]
    pub business_phone_extension: Option<i64>,
    /// Mobile phone.
    #[serde(default)]
    pub mobile_phone: Option<String>,
    /// Fax.
    #[serde(default)]
    pub fax_number: Option<String>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A company vendor (`GET /rest/v1.0/vendors`, `/companies/{id}/vendors/inactive`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Vendor {
    /// Vendor id.
    pub id: VendorId,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Abbreviated name.
    #[serde(default)]
    pub abbreviated_name: Option<String>,
    /// Legal name.
    #[serde(default)]
    pub legal_name: Option<String>,
    /// Trade name (DBA).
    #[serde(default)]
    pub trade_name: Option<String>,
    /// Street address.
    #[serde(default)]
    pub address: Option<String>,
    /// City.
    #[serde(default)]
    pub city: Option<String>,
    /// State code.
    #[serde(default)]
    pub state_code: Option<String>,
    /// Postal code.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub zip: Option<String>,
    /// Country code.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Business phone.
    #[serde(default)]
    pub business_phone: Option<String>,
    /// Mobile phone.
    #[serde(default)]
    pub mobile_phone: Option<String>,
    /// Fax.
    #[serde(default)]
    pub fax_number: Option<String>,
    /// Email.
    #[serde(default)]
    pub email_address: Option<String>,
    /// Website.
    #[serde(default)]
    pub website: Option<String>,
    /// Whether the vendor is active.
    #[serde(default)]
    pub is_active: Option<bool>,
    /// License number.
    #[serde(default)]
    pub license_number: Option<String>,
    /// Notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// Primary contact.
    #[serde(default)]
    pub primary_contact: Option<PrimaryContact>,
    /// Vendor group.
    #[serde(default)]
    pub vendor_group: Option<Named>,
    /// Parent vendor.
    #[serde(default)]
    pub parent: Option<Named<VendorId>>,
    /// Projects the vendor is on.
    #[serde(default)]
    pub project_ids: Option<Vec<ProjectId>>,
    /// External id.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_id: Option<String>,
    /// External data.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_data: Option<String>,
    /// External code.
    #[serde(default, deserialize_with = "crate::de::string")]
    pub origin_code: Option<String>,
    /// Created.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last updated.
    #[serde(default, deserialize_with = "crate::de::datetime")]
    pub updated_at: Option<DateTime<Utc>>,
}
