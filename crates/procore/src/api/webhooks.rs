//! Webhook hooks and triggers (v1.0 paths: `/rest/v1.0/webhooks/hooks[/{id}/triggers]`).
//! Every call names its owner as `company_id` or `project_id`.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

use super::{from_answer, get_one};
use crate::error::Result;
use crate::http::Client;
use crate::ids::{HookId, ProjectId, TriggerId};
use crate::list::to_query;
use crate::models::{Hook, HookDelivery, Trigger};

/// Handler for webhook management. Created with [`Client::webhooks`] (company scope) or
/// [`Client::project_webhooks`].
#[derive(Debug, Clone)]
pub struct WebhooksHandler {
    client: Client,
    project_id: Option<ProjectId>,
}

impl Client {
    /// Company-level webhooks.
    pub fn webhooks(&self) -> WebhooksHandler {
        WebhooksHandler {
            client: self.clone(),
            project_id: None,
        }
    }

    /// Project-level webhooks.
    pub fn project_webhooks(&self, project_id: ProjectId) -> WebhooksHandler {
        WebhooksHandler {
            client: self.clone(),
            project_id: Some(project_id),
        }
    }
}

/// A new hook.
#[derive(Debug, Clone)]
pub struct NewHook {
    /// Payload version; Procore's v1.0 API expects `v2` (legacy payload).
    pub api_version: String,
    /// Namespace: lowercase letters, digits and `-`; one per app.
    pub namespace: String,
    /// Where deliveries are POSTed.
    pub destination_url: String,
    /// Sent verbatim as `Authorization` on each delivery (the only authentication Procore
    /// offers for deliveries).
    pub authorization: Option<SecretString>,
}

impl WebhooksHandler {
    fn owner(&self) -> (&'static str, i64) {
        match self.project_id {
            Some(p) => ("project_id", p.get()),
            None => ("company_id", self.client.config().company_id.get()),
        }
    }

    fn owner_query(&self) -> Result<String> {
        to_query(&[self.owner()])
    }

    /// Create a hook.
    pub async fn create_hook(&self, hook: &NewHook) -> Result<Hook> {
        let (key, id) = self.owner();
        let mut h = Map::new();
        h.insert("api_version".into(), json!(hook.api_version));
        h.insert("namespace".into(), json!(hook.namespace));
        h.insert("destination_url".into(), json!(hook.destination_url));
        if let Some(a) = &hook.authorization {
            h.insert(
                "destination_headers".into(),
                json!({ "Authorization": a.expose_secret() }),
            );
        }
        let mut body = Map::new();
        body.insert(key.into(), json!(id));
        body.insert("hook".into(), Value::Object(h));
        let url = self.client.url("rest/v1.0/webhooks/hooks")?;
        let answer = self
            .client
            .write_json(Method::POST, url, Some(Value::Object(body)), false)
            .await?;
        from_answer("webhook hook", answer)
    }

    /// List hooks, optionally of one namespace.
    pub async fn list_hooks(&self, namespace: Option<&str>) -> Result<Vec<Hook>> {
        let (key, id) = self.owner();
        let mut q = vec![(key.to_string(), id.to_string())];
        if let Some(ns) = namespace {
            q.push(("namespace".into(), ns.to_string()));
        }
        get_one(
            &self.client,
            "rest/v1.0/webhooks/hooks",
            &to_query(&q)?,
            "webhook hook",
        )
        .await
    }

    /// Delete a hook.
    pub async fn delete_hook(&self, id: HookId) -> Result<()> {
        let url = self.client.url_with_query(
            &format!("rest/v1.0/webhooks/hooks/{id}"),
            &self.owner_query()?,
        )?;
        self.client
            .write_json(Method::DELETE, url, None, true)
            .await?;
        Ok(())
    }

    /// Create a trigger: `event_type` is `create`, `update` or `delete`.
    pub async fn create_trigger(
        &self,
        hook_id: HookId,
        resource_name: &str,
        event_type: &str,
    ) -> Result<Trigger> {
        let (key, id) = self.owner();
        let mut body = Map::new();
        body.insert(key.into(), json!(id));
        body.insert("api_version".into(), json!("v2"));
        body.insert(
            "trigger".into(),
            json!({ "resource_name": resource_name, "event_type": event_type }),
        );
        let url = self
            .client
            .url(&format!("rest/v1.0/webhooks/hooks/{hook_id}/triggers"))?;
        let answer = self
            .client
            .write_json(Method::POST, url, Some(Value::Object(body)), false)
            .await?;
        from_answer("webhook trigger", answer)
    }

    /// List a hook's triggers.
    pub async fn list_triggers(&self, hook_id: HookId) -> Result<Vec<Trigger>> {
        get_one(
            &self.client,
            &format!("rest/v1.0/webhooks/hooks/{hook_id}/triggers"),
            &self.owner_query()?,
            "webhook trigger",
        )
        .await
    }

    /// Delete a trigger.
    pub async fn delete_trigger(&self, hook_id: HookId, trigger_id: TriggerId) -> Result<()> {
        let url = self.client.url_with_query(
            &format!("rest/v1.0/webhooks/hooks/{hook_id}/triggers/{trigger_id}"),
            &self.owner_query()?,
        )?;
        self.client
            .write_json(Method::DELETE, url, None, true)
            .await?;
        Ok(())
    }

    /// A hook's deliveries Procore gave up on (`discarded`: it could not make them for 12
    /// hours), at most 1,000, oldest first.
    pub async fn discarded_deliveries(&self, hook_id: HookId) -> Result<Vec<HookDelivery>> {
        let (key, id) = self.owner();
        get_one(
            &self.client,
            &format!("rest/v1.0/webhooks/hooks/{hook_id}/deliveries"),
            &to_query(&[
                (key.to_string(), id.to_string()),
                ("filters[status]".to_string(), "discarded".to_string()),
                ("page_size".to_string(), "1000".to_string()),
            ])?,
            "webhook delivery",
        )
        .await
    }
}
