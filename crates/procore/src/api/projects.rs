//! Projects: `GET /rest/v1.0/projects`, `/rest/v1.1/projects`, `/rest/v1.0/projects/{id}`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::get_one;
use crate::error::Result;
use crate::http::Client;
use crate::ids::{CompanyId, ProjectId};
use crate::list::{
    list_methods, to_query, List, TimeRange, MAX_PER_PAGE_PROJECTS_V11, MAX_PER_PAGE_V1,
};
use crate::models::Project;

/// Handler for projects of the configured company. Created with [`Client::projects`].
#[derive(Debug, Clone)]
pub struct ProjectsHandler {
    client: Client,
}

impl Client {
    /// Projects of the configured company.
    pub fn projects(&self) -> ProjectsHandler {
        ProjectsHandler {
            client: self.clone(),
        }
    }
}

/// `filters[by_status]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProjectStatus {
    /// Active projects (Procore's default).
    Active,
    /// Inactive projects.
    Inactive,
    /// Both.
    All,
}

/// `GET /rest/v1.0/projects` (max 2000 per page) or `/rest/v1.1/projects` (max 300).
#[derive(Debug, Clone, Serialize)]
pub struct ListProjects {
    #[serde(skip)]
    client: Client,
    #[serde(skip)]
    v11: bool,
    company_id: CompanyId,
    #[serde(rename = "filters[by_status]", skip_serializing_if = "Option::is_none")]
    by_status: Option<ProjectStatus>,
    #[serde(
        rename = "filters[updated_at]",
        skip_serializing_if = "Option::is_none"
    )]
    updated_at: Option<TimeRange>,
    #[serde(rename = "filters[origin_id]", skip_serializing_if = "Option::is_none")]
    origin_id: Option<String>,
    #[serde(rename = "filters[template]", skip_serializing_if = "Option::is_none")]
    template: Option<bool>,
    #[serde(rename = "view", skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
}

impl ProjectsHandler {
    /// List projects (v1.0). Active ones only unless [`ListProjects::status`] says otherwise.
    pub fn list(&self) -> ListProjects {
        ListProjects {
            client: self.client.clone(),
            v11: false,
            company_id: self.client.config().company_id,
            by_status: None,
            updated_at: None,
            origin_id: None,
            template: None,
            view: None,
        }
    }

    /// List projects with v1.1 (adds description, office, ...; at most 300 per page).
    pub fn list_v11(&self) -> ListProjects {
        ListProjects {
            v11: true,
            ..self.list()
        }
    }

    /// Show one project (v1.0).
    pub async fn get(&self, id: ProjectId) -> Result<Project> {
        let q = to_query(&[("company_id", self.client.config().company_id.get())])?;
        get_one(
            &self.client,
            &format!("rest/v1.0/projects/{id}"),
            &q,
            "project",
        )
        .await
    }
}

impl ListProjects {
    /// `filters[by_status]`.
    pub fn status(mut self, status: ProjectStatus) -> Self {
        self.by_status = Some(status);
        self
    }

    /// Only projects updated at or after `from`.
    pub fn updated_since(mut self, from: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: None });
        self
    }

    /// Only projects updated in `[from, to]`.
    pub fn updated_between(mut self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.updated_at = Some(TimeRange { from, to: Some(to) });
        self
    }

    /// `filters[origin_id]`.
    pub fn origin_id(mut self, origin_id: impl Into<String>) -> Self {
        self.origin_id = Some(origin_id.into());
        self
    }

    /// v1.1 `view` (`compact`, `normal`, `extended`).
    /// Only templates (`true`) or only real projects (`false`); v1.1 only.
    pub fn template(mut self, template: bool) -> Self {
        self.template = Some(template);
        self
    }

    pub fn view(mut self, view: &'static str) -> Self {
        self.view = Some(view);
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<Project> {
        let (path, per_page) = if self.v11 {
            ("rest/v1.1/projects", MAX_PER_PAGE_PROJECTS_V11)
        } else {
            ("rest/v1.0/projects", MAX_PER_PAGE_V1)
        };
        List::new(
            self.client.clone(),
            path.into(),
            to_query(&self),
            per_page,
            "project",
        )
    }

    list_methods!(Project);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn project_list_builders_serialize_their_filters_as_procore_names_them() {
        let c = crate::api::test_client();
        let from = Utc.with_ymd_and_hms(2024, 1, 2, 3, 4, 5).unwrap();
        let to = Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap();
        let b = c
            .projects()
            .list()
            .status(ProjectStatus::All)
            .updated_between(from, to);
        assert_eq!(
            to_query(&b).unwrap(),
            "company_id=42&filters%5Bby_status%5D=All&filters%5Bupdated_at%5D=2024-01-02T03%3A04%3A05Z...2024-02-01T00%3A00%3A00Z"
        );
        let b = c.projects().list_v11().view("extended").origin_id("X-1");
        assert_eq!(
            to_query(&b).unwrap(),
            "company_id=42&filters%5Borigin_id%5D=X-1&view=extended"
        );
        let b = c
            .projects()
            .list_v11()
            .status(ProjectStatus::All)
            .template(false);
        assert_eq!(
            to_query(&b).unwrap(),
            "company_id=42&filters%5Bby_status%5D=All&filters%5Btemplate%5D=false"
        );
        let b = c.projects().list().updated_since(from);
        assert_eq!(
            to_query(&b).unwrap(),
            "company_id=42&filters%5Bupdated_at%5D=2024-01-02T03%3A04%3A05Z...9999-12-31T23%3A59%3A59Z"
        );
    }
}
