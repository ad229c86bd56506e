//! The company Directory: users (active, inactive, v1.3), people, vendors, vendor contacts.
//!
//! Procore has no vendor-contacts endpoint: a vendor's people are the company users filtered
//! by `filters[vendor_id][]`, the company people with the same filter, and the vendor's
//! `primary_contact`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::get_one;
use crate::error::Result;
use crate::http::Client;
use crate::ids::{CompanyId, UserId, VendorId};
use crate::list::{list_methods, to_query, List, Many, TimeRange, MAX_PER_PAGE_V1};
use crate::models::{CompanyUser, Person, Vendor};

/// Handler for company users. Created with [`Client::users`].
#[derive(Debug, Clone)]
pub struct UsersHandler {
    client: Client,
}

/// Handler for company vendors. Created with [`Client::vendors`].
#[derive(Debug, Clone)]
pub struct VendorsHandler {
    client: Client,
}

/// Handler for company people. Created with [`Client::people`].
#[derive(Debug, Clone)]
pub struct PeopleHandler {
    client: Client,
}

impl Client {
    /// Company users.
    pub fn users(&self) -> UsersHandler {
        UsersHandler {
            client: self.clone(),
        }
    }

    /// Company vendors.
    pub fn vendors(&self) -> VendorsHandler {
        VendorsHandler {
            client: self.clone(),
        }
    }

    /// Company people (workforce members, including non-login people).
    pub fn people(&self) -> PeopleHandler {
        PeopleHandler {
            client: self.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UsersPath {
    Active,
    Inactive,
    V13,
}

/// `GET /rest/v1.0/companies/{id}/users` (active), `.../users/inactive`, or
/// `/rest/v1.3/companies/{id}/users`.
#[derive(Debug, Clone, Serialize)]
pub struct ListUsers {
    #[serde(skip)]
    client: Client,
    #[serde(skip)]
    which: UsersPath,
    #[serde(
        rename = "filters[updated_at]",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<TimeRange>,
    #[serde(flatten)]
    vendor_ids: Many<VendorId>,
    #[serde(rename = "filters[origin_id]", skip_serializing_if = "Option::is_none")]
    origin_id: Option<String>,
    #[serde(rename = "filters[search]", skip_serializing_if = "Option::is_none")]
    search: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
}

impl UsersHandler {
    fn builder(&self, which: UsersPath) -> ListUsers {
        ListUsers {
            client: self.client.clone(),
            which,
            updated_at: None,
            vendor_ids: Many::new("filters[vendor_id][]"),
            origin_id: None,
            search: None,
            view: None,
        }
    }

    /// Active company users (v1.0).
    pub fn list(&self) -> ListUsers {
        self.builder(UsersPath::Active)
    }

    /// Inactive company users (Procore's list takes no filters here, only paging).
    pub fn list_inactive(&self) -> ListUsers {
        self.builder(UsersPath::Inactive)
    }

    /// Company users at v1.3 (adds `role`, `verified_employee`, and `view`).
    pub fn list_v13(&self) -> ListUsers {
        self.builder(UsersPath::V13)
    }

    /// The contacts of a vendor: company users with `filters[vendor_id][]=<vendor>`.
    pub fn vendor_contacts(&self, vendor_id: VendorId) -> ListUsers {
        self.list().vendor(vendor_id)
    }

    /// Show one user (v1.0).
    pub async fn get(&self, id: UserId) -> Result<CompanyUser> {
        let cid = self.client.config().company_id;
        get_one(
            &self.client,
            &format!("rest/v1.0/companies/{cid}/users/{id}"),
            "",
            "company user",
        )
        .await
    }

    /// Show one user (v1.3, with `role` and `verified_employee`).
    pub async fn get_v13(&self, id: UserId) -> Result<CompanyUser> {
        let cid = self.client.config().company_id;
        get_one(
            &self.client,
            &format!("rest/v1.3/companies/{cid}/users/{id}"),
            "",
            "company user",
        )
        .await
    }
}

impl ListUsers {
    /// Only users updated at or after `from` (not for the inactive list).
    pub fn updated_since(mut self, from: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: None });
        self
    }

    /// Only users updated in `[from, to]`.
    pub fn updated_between(mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: Some(to) });
        self
    }

    /// Only users of this vendor (repeatable).
    pub fn vendor(mut self, vendor_id: VendorId) -> Self {
        self.vendor_ids.push(vendor_id);
        self
    }

    /// `filters[origin_id]`.
    pub fn origin_id(mut self, origin_id: impl Into<String>) -> Self {
        self.origin_id = Some(origin_id.into());
        self
    }

    /// `filters[search]`.
    pub fn search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// v1.3 `view` (`normal`, `extended`).
    pub fn view(mut self, view: &'static str) -> Self {
        self.view = Some(view);
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<CompanyUser> {
        let cid: CompanyId = self.client.config().company_id;
        let path = match self.which {
            UsersPath::Active => format!("rest/v1.0/companies/{cid}/users"),
            UsersPath::Inactive => format!("rest/v1.0/companies/{cid}/users/inactive"),
            UsersPath::V13 => format!("rest/v1.3/companies/{cid}/users"),
        };
        List::new(
            self.client.clone(),
            path,
            to_query(&self),
            MAX_PER_PAGE_V1,
            "company user",
        )
    }

    list_methods!(CompanyUser);
}

/// `GET /rest/v1.0/vendors?company_id=` (active) or
/// `/rest/v1.0/companies/{id}/vendors/inactive`.
#[derive(Debug, Clone, Serialize)]
pub struct ListVendors {
    #[serde(skip)]
    client: Client,
    #[serde(skip)]
    inactive: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_id: Option<CompanyId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
    #[serde(
        rename = "filters[updated_at]",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<TimeRange>,
    #[serde(rename = "filters[origin_id]", skip_serializing_if = "Option::is_none")]
    origin_id: Option<String>,
    #[serde(flatten)]
    ids: Many<VendorId>,
}

impl VendorsHandler {
    /// Active company vendors (the default `extended` view, with `primary_contact`).
    pub fn list(&self) -> ListVendors {
        ListVendors {
            client: self.client.clone(),
            inactive: false,
            company_id: Some(self.client.config().company_id),
            view: None,
            updated_at: None,
            origin_id: None,
            ids: Many::new("filters[id][]"),
        }
    }

    /// Inactive company vendors.
    pub fn list_inactive(&self) -> ListVendors {
        ListVendors {
            inactive: true,
            company_id: None,
            ..self.list()
        }
    }

    /// Show one vendor.
    pub async fn get(&self, id: VendorId) -> Result<Vendor> {
        let q = to_query(&[("company_id", self.client.config().company_id.get())])?;
        get_one(
            &self.client,
            &format!("rest/v1.0/vendors/{id}"),
            &q,
            "vendor",
        )
        .await
    }

    /// The vendor's contacts among company users.
    pub fn contacts(&self, vendor_id: VendorId) -> ListUsers {
        self.client.users().vendor_contacts(vendor_id)
    }
}

impl ListVendors {
    /// Only vendors updated at or after `from` (active list).
    pub fn updated_since(mut self, from: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: None });
        self
    }

    /// Only vendors updated in `[from, to]`.
    pub fn updated_between(mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: Some(to) });
        self
    }

    /// `filters[origin_id]`.
    pub fn origin_id(mut self, origin_id: impl Into<String>) -> Self {
        self.origin_id = Some(origin_id.into());
        self
    }

    /// `filters[id][]` (repeatable).
    pub fn id(mut self, id: VendorId) -> Self {
        self.ids.push(id);
        self
    }

    /// `view` (`compact`, `normal`, `extended`, ...).
    pub fn view(mut self, view: &'static str) -> Self {
        self.view = Some(view);
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<Vendor> {
        let path = if self.inactive {
            format!(
                "rest/v1.0/companies/{}/vendors/inactive",
                self.client.config().company_id
            )
        } else {
            "rest/v1.0/vendors".to_string()
        };
        List::new(
            self.client.clone(),
            path,
            to_query(&self),
            MAX_PER_PAGE_V1,
            "vendor",
        )
    }

    list_methods!(Vendor);
}

/// `GET /rest/v1.0/companies/{id}/people`.
#[derive(Debug, Clone, Serialize)]
pub struct ListPeople {
    #[serde(skip)]
    client: Client,
    #[serde(
        rename = "filters[is_employee]",
        skip_serializing_if = "Option::is_none"
    )]
    is_employee: Option<bool>,
    #[serde(flatten)]
    vendor_ids: Many<VendorId>,
}

impl PeopleHandler {
    /// All company people.
    pub fn list(&self) -> ListPeople {
        ListPeople {
            client: self.client.clone(),
            is_employee: None,
            vendor_ids: Many::new("filters[vendor_id][]"),
        }
    }

    /// People of one vendor.
    pub fn vendor_contacts(&self, vendor_id: VendorId) -> ListPeople {
        self.list().vendor(vendor_id)
    }
}

impl ListPeople {
    /// `filters[is_employee]`.
    pub fn employees(mut self, is_employee: bool) -> Self {
        self.is_employee = Some(is_employee);
        self
    }

    /// `filters[vendor_id][]` (repeatable).
    pub fn vendor(mut self, vendor_id: VendorId) -> Self {
        self.vendor_ids.push(vendor_id);
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<Person> {
        let path = format!(
            "rest/v1.0/companies/{}/people",
            self.client.config().company_id
        );
        List::new(
            self.client.clone(),
            path,
            to_query(&self),
            MAX_PER_PAGE_V1,
            "company person",
        )
    }

    list_methods!(Person);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn user_list_builders_serialize_their_filters_as_procore_names_them() {
        let c = crate::api::test_client();
        let from = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap();
        let b = c
            .users()
            .list()
            .updated_between(from, to)
            .vendor(VendorId(7))
            .vendor(VendorId(8));
        assert_eq!(
            to_query(&b).unwrap(),
            "filters%5Bupdated_at%5D=2024-01-01T00%3A00%3A00Z...2024-01-02T00%3A00%3A00Z&filters%5Bvendor_id%5D%5B%5D=7&filters%5Bvendor_id%5D%5B%5D=8"
        );
        assert_eq!(to_query(&c.users().list_inactive()).unwrap(), "");
        assert_eq!(
            to_query(&c.users().list_v13().view("extended")).unwrap(),
            "view=extended"
        );
        assert_eq!(
            to_query(&c.vendors().contacts(VendorId(3))).unwrap(),
            "filters%5Bvendor_id%5D%5B%5D=3"
        );
    }

    #[test]
    fn vendor_list_builders_serialize_their_filters_as_procore_names_them() {
        let c = crate::api::test_client();
        let from = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let b = c
            .vendors()
            .list()
            .updated_between(from, from)
            .id(VendorId(1));
        assert_eq!(
            to_query(&b).unwrap(),
            "company_id=42&filters%5Bupdated_at%5D=2024-01-01T00%3A00%3A00Z...2024-01-01T00%3A00%3A00Z&filters%5Bid%5D%5B%5D=1"
        );
        assert_eq!(to_query(&c.vendors().list_inactive()).unwrap(), "");
    }

    #[test]
    fn people_list_builders_serialize_their_filters_as_procore_names_them() {
        let c = crate::api::test_client();
        let b = c.people().vendor_contacts(VendorId(5)).employees(false);
        assert_eq!(
            to_query(&b).unwrap(),
            "filters%5Bis_employee%5D=false&filters%5Bvendor_id%5D%5B%5D=5"
        );
    }
}
