//! Custom field definitions (v2.0): the labels an administrator typed for the fields that
//! records carry as `custom_field_<definition id>` (a commitment's `custom_fields` names each
//! field by that key only, never by its label).

use serde::Serialize;

use crate::http::Client;
use crate::list::{list_methods, to_query, List, MAX_PER_PAGE_V2};
use crate::models::CustomFieldDefinition;

impl Client {
    /// `GET /rest/v2.0/companies/{company_id}/custom_field_definitions`: every definition of the
    /// company (at most 100 per page).
    pub fn custom_field_definitions(&self) -> ListCustomFieldDefinitions {
        ListCustomFieldDefinitions {
            client: self.clone(),
            with_label: None,
        }
    }
}

/// `GET /rest/v2.0/companies/{company_id}/custom_field_definitions`.
#[derive(Debug, Clone, Serialize)]
pub struct ListCustomFieldDefinitions {
    #[serde(skip)]
    client: Client,
    #[serde(
        rename = "filters[with_label]",
        skip_serializing_if = "Option::is_none"
    )]
    with_label: Option<String>,
}

impl ListCustomFieldDefinitions {
    /// `filters[with_label]`: only definitions whose label contains `text`.
    pub fn with_label(mut self, text: impl Into<String>) -> Self {
        self.with_label = Some(text.into());
        self
    }

    /// The list call, ready to walk.
    pub fn into_list(self) -> List<CustomFieldDefinition> {
        let path = format!(
            "rest/v2.0/companies/{}/custom_field_definitions",
            self.client.config().company_id
        );
        List::new(
            self.client.clone(),
            path,
            to_query(&self),
            MAX_PER_PAGE_V2,
            "custom field definition",
        )
    }

    list_methods!(CustomFieldDefinition);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definition_list_serializes_its_label_filter_as_procore_names_it() {
        let c = crate::api::test_client();
        assert_eq!(to_query(&c.custom_field_definitions()).unwrap(), "");
        assert_eq!(
            to_query(
                &c.custom_field_definitions()
                    .with_label("Compliance Profile")
            )
            .unwrap(),
            "filters%5Bwith_label%5D=Compliance+Profile"
        );
    }
}
