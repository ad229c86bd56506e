//! Insurances at company-vendor, project-vendor, company and project level: list, show,
//! create, update, and the batch `sync` (upsert by `id` or `origin_id`, at most 1000 items per
//! call, always HTTP 200 with `{entities, errors}`).

use reqwest::Method;
use serde_json::{json, Value};

use super::{from_answer, get_one};
use crate::error::Result;
use crate::http::Client;
use crate::ids::{InsuranceId, ProjectId, VendorId};
use crate::list::{convert, List, MAX_PER_PAGE_V1};
use crate::models::{Insurance, InsuranceWrite, SyncItemError, SyncResult};

/// Entry point for insurances. Created with [`Client::insurances`].
#[derive(Debug, Clone)]
pub struct InsurancesHandler {
    client: Client,
}

impl Client {
    /// Insurance records.
    pub fn insurances(&self) -> InsurancesHandler {
        InsurancesHandler {
            client: self.clone(),
        }
    }
}

/// One insurance collection (a base path).
#[derive(Debug, Clone)]
pub struct InsuranceScope {
    client: Client,
    base: String,
}

/// Procore's limit of items per sync call.
pub const SYNC_BATCH: usize = 1000;

impl InsurancesHandler {
    /// `/rest/v1.0/companies/{c}/vendors/{vendor_id}/insurances`.
    pub fn company_vendor(&self, vendor_id: VendorId) -> InsuranceScope {
        let c = self.client.config().company_id;
        InsuranceScope {
            client: self.client.clone(),
            base: format!("rest/v1.0/companies/{c}/vendors/{vendor_id}/insurances"),
        }
    }

    /// `/rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances`.
    pub fn project_vendor(&self, project_id: ProjectId, vendor_id: VendorId) -> InsuranceScope {
        InsuranceScope {
            client: self.client.clone(),
            base: format!("rest/v1.0/projects/{project_id}/vendors/{vendor_id}/insurances"),
        }
    }

    /// `/rest/v1.0/companies/{c}/insurances` (every vendor; writes need `vendor_id`).
    pub fn company(&self) -> InsuranceScope {
        let c = self.client.config().company_id;
        InsuranceScope {
            client: self.client.clone(),
            base: format!("rest/v1.0/companies/{c}/insurances"),
        }
    }

    /// `/rest/v1.0/projects/{project_id}/insurances`.
    pub fn project(&self, project_id: ProjectId) -> InsuranceScope {
        InsuranceScope {
            client: self.client.clone(),
            base: format!("rest/v1.0/projects/{project_id}/insurances"),
        }
    }
}

impl InsuranceScope {
    /// All insurances of the collection (Procore offers no filters here).
    pub fn list(&self) -> List<Insurance> {
        List::new(
            self.client.clone(),
            self.base.clone(),
            Ok(String::new()),
            MAX_PER_PAGE_V1,
            "insurance",
        )
    }

    /// Show one.
    pub async fn get(&self, id: InsuranceId) -> Result<Insurance> {
        get_one(
            &self.client,
            &format!("{}/{id}", self.base),
            "",
            "insurance",
        )
        .await
    }

    /// Create one. Not repeated on an ambiguous failure: a lost answer gives
    /// [`crate::Error::WriteOutcomeUnknown`]; prefer [`InsuranceScope::sync`] with `origin_id`.
    pub async fn create(&self, insurance: &InsuranceWrite) -> Result<Insurance> {
        let url = self.client.url(&self.base)?;
        let answer = self
            .client
            .write_json(
                Method::POST,
                url,
                Some(json!({ "insurance": insurance })),
                false,
            )
            .await?;
        from_answer("insurance", answer)
    }

    /// Update one (safe to repeat: the same values are set again).
    pub async fn update(&self, id: InsuranceId, insurance: &InsuranceWrite) -> Result<Insurance> {
        let url = self.client.url(&format!("{}/{id}", self.base))?;
        let answer = self
            .client
            .write_json(
                Method::PATCH,
                url,
                Some(json!({ "insurance": insurance })),
                true,
            )
            .await?;
        from_answer("insurance", answer)
    }

    /// Upsert many by `id` or `origin_id`, in batches of 1000. A batch where every item has an
    /// `id` or `origin_id` is idempotent and retried after transient failures.
    pub async fn sync(&self, items: &[InsuranceWrite]) -> Result<SyncResult<Insurance>> {
        let url = self.client.url(&format!("{}/sync", self.base))?;
        let mut out = SyncResult {
            entities: Vec::new(),
            errors: Vec::new(),
            malformed: Vec::new(),
        };
        for batch in items.chunks(SYNC_BATCH) {
            let idempotent = batch
                .iter()
                .all(|i| i.id.is_some() || i.origin_id.is_some());
            let answer = self
                .client
                .write_json(
                    Method::PATCH,
                    url.clone(),
                    Some(json!({ "updates": batch })),
                    idempotent,
                )
                .await?;
            let answer = super::unwrap_data(answer);
            if let Some(Value::Array(entities)) = answer.get("entities") {
                for e in entities {
                    match convert::<Insurance>("insurance", e.clone()) {
                        Ok(i) => out.entities.push(i),
                        Err(m) => out.malformed.push(m),
                    }
                }
            }
            if let Some(Value::Array(errors)) = answer.get("errors") {
                out.errors
                    .extend(errors.iter().cloned().map(SyncItemError::from_value));
            }
        }
        Ok(out)
    }

    /// Delete one.
    pub async fn delete(&self, id: InsuranceId) -> Result<()> {
        let url = self.client.url(&format!("{}/{id}", self.base))?;
        self.client
            .write_json(Method::DELETE, url, None, true)
            .await?;
        Ok(())
    }
}
