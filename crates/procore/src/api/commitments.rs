//! Commitments: work order contracts, purchase order contracts (v1.0, per project), and the
//! v2.0 `commitment_contracts` list whose `extended` view carries vendor names and custom
//! fields.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::get_one;
use crate::error::Result;
use crate::http::Client;
use crate::ids::{CommitmentId, ProjectId};
use crate::list::{list_methods, to_query, List, TimeRange, MAX_PER_PAGE_V1, MAX_PER_PAGE_V2};
use crate::models::{Commitment, CommitmentContract};

/// Handler for one project's commitments. Created with [`Client::commitments`].
#[derive(Debug, Clone)]
pub struct CommitmentsHandler {
    client: Client,
    project_id: ProjectId,
}

impl Client {
    /// Commitments of one project.
    pub fn commitments(&self, project_id: ProjectId) -> CommitmentsHandler {
        CommitmentsHandler {
            client: self.clone(),
            project_id,
        }
    }
}

/// Which v1.0 collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitmentKind {
    /// `/rest/v1.0/work_order_contracts` (subcontracts).
    WorkOrder,
    /// `/rest/v1.0/purchase_order_contracts`.
    PurchaseOrder,
}

impl CommitmentKind {
    fn path(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrder => "rest/v1.0/work_order_contracts",
            CommitmentKind::PurchaseOrder => "rest/v1.0/purchase_order_contracts",
        }
    }
}

/// `GET /rest/v1.0/{work_order,purchase_order}_contracts?project_id=`.
#[derive(Debug, Clone, Serialize)]
pub struct ListCommitments {
    #[serde(skip)]
    client: Client,
    #[serde(skip)]
    kind: CommitmentKind,
    project_id: ProjectId,
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
    #[serde(rename = "filters[status]", skip_serializing_if = "Option::is_none")]
    status: Option<String>,
    #[serde(
        rename = "filters[updated_at]",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<TimeRange>,
    #[serde(
        rename = "filters[include_deleted]",
        skip_serializing_if = "Option::is_none"
    )]
    include_deleted: Option<&'static str>,
}

impl CommitmentsHandler {
    fn list(&self, kind: CommitmentKind) -> ListCommitments {
        ListCommitments {
            client: self.client.clone(),
            kind,
            project_id: self.project_id,
            view: None,
            status: None,
            updated_at: None,
            include_deleted: None,
        }
    }

    /// Work order contracts of the project.
    pub fn work_order_contracts(&self) -> ListCommitments {
        self.list(CommitmentKind::WorkOrder)
    }

    /// Purchase order contracts of the project.
    pub fn purchase_order_contracts(&self) -> ListCommitments {
        self.list(CommitmentKind::PurchaseOrder)
    }

    /// Show one contract.
    pub async fn get(&self, kind: CommitmentKind, id: CommitmentId) -> Result<Commitment> {
        let q = to_query(&[("project_id", self.project_id.get())])?;
        get_one(
            &self.client,
            &format!("{}/{id}", kind.path()),
            &q,
            "commitment",
        )
        .await
    }

    /// v2.0 commitment contracts (both kinds) with `view=extended` (at most 100 per page).
    pub fn contracts(&self) -> ListCommitmentContracts {
        ListCommitmentContracts {
            client: self.client.clone(),
            project_id: self.project_id,
            view: Some("extended"),
            updated_at: None,
            kind: None,
            include_deleted: None,
        }
    }
}

impl ListCommitments {
    /// `view` (`compact` default, `extended`).
    pub fn view(mut self, view: &'static str) -> Self {
        self.view = Some(view);
        self
    }

    /// `filters[status]`, e.g. `Approved` or `Out For Signature`.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// Only contracts updated at or after `from`.
    pub fn updated_since(mut self, from: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: None });
        self
    }

    /// Only contracts updated in `[from, to]`.
    pub fn updated_between(mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: Some(to) });
        self
    }

    /// Include deleted contracts (`with`) or only them (`only`).
    pub fn include_deleted(mut self, only: bool) -> Self {
        self.include_deleted = Some(if only { "only" } else { "with" });
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<Commitment> {
        List::new(
            self.client.clone(),
            self.kind.path().into(),
            to_query(&self),
            MAX_PER_PAGE_V1,
            "commitment",
        )
    }

    list_methods!(Commitment);
}

/// `GET /rest/v2.0/companies/{c}/projects/{p}/commitment_contracts`.
#[derive(Debug, Clone, Serialize)]
pub struct ListCommitmentContracts {
    #[serde(skip)]
    client: Client,
    #[serde(skip)]
    project_id: ProjectId,
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
    #[serde(
        rename = "filters[updated_at]",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<TimeRange>,
    #[serde(rename = "filters[type]", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(
        rename = "filters[include_deleted]",
        skip_serializing_if = "Option::is_none"
    )]
    include_deleted: Option<&'static str>,
}

impl ListCommitmentContracts {
    /// Include deleted contracts (`with`) or only them (`only`): an incremental read needs the
    /// deletions, which an unfiltered list leaves out.
    pub fn include_deleted(mut self, only: bool) -> Self {
        self.include_deleted = Some(if only { "only" } else { "with" });
        self
    }

    /// Only contracts updated at or after `from`.
    pub fn updated_since(mut self, from: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: None });
        self
    }

    /// Only one kind.
    pub fn kind(mut self, kind: CommitmentKind) -> Self {
        self.kind = Some(match kind {
            CommitmentKind::WorkOrder => "WorkOrderContract",
            CommitmentKind::PurchaseOrder => "PurchaseOrderContract",
        });
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<CommitmentContract> {
        let path = format!(
            "rest/v2.0/companies/{}/projects/{}/commitment_contracts",
            self.client.config().company_id,
            self.project_id
        );
        List::new(
            self.client.clone(),
            path,
            to_query(&self),
            MAX_PER_PAGE_V2,
            "commitment contract",
        )
    }

    list_methods!(CommitmentContract);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn commitment_list_builders_serialize_their_filters_as_procore_names_them() {
        let c = crate::api::test_client();
        let from = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let b = c
            .commitments(ProjectId(9))
            .work_order_contracts()
            .status("Out For Signature")
            .updated_between(from, from)
            .include_deleted(false);
        assert_eq!(
            to_query(&b).unwrap(),
            "project_id=9&filters%5Bstatus%5D=Out+For+Signature&filters%5Bupdated_at%5D=2024-05-01T00%3A00%3A00Z...2024-05-01T00%3A00%3A00Z&filters%5Binclude_deleted%5D=with"
        );
        let b = c
            .commitments(ProjectId(9))
            .contracts()
            .kind(CommitmentKind::PurchaseOrder)
            .updated_since(from)
            .include_deleted(false);
        assert_eq!(
            to_query(&b).unwrap(),
            "view=extended&filters%5Bupdated_at%5D=2024-05-01T00%3A00%3A00Z...9999-12-31T23%3A59%3A59Z&filters%5Btype%5D=PurchaseOrderContract&filters%5Binclude_deleted%5D=with"
        );
    }
}
