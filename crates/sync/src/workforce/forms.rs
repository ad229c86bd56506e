//! Where a completed form goes in Procore Documents, and when it must go again.
//!
//! The seed: a folder whose name contains "Corfix Forms" (text may be added around it, e.g.
//! "06 Corfix Forms") is used if one exists, otherwise "Corfix Forms" is created; inside it a
//! folder per month, `YYYY-MM`; inside that the file `TEMPLATE_NAME YYYY-MM-DD`. The base name is
//! configurable so a company can use its own app's name.

use chrono::NaiveDate;

/// The folder name the seed uses when none exists yet (kept with the connection settings).
pub use store::DEFAULT_FORMS_FOLDER;

/// A folder as Procore lists it: only what the choice needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    pub id: i64,
    pub name: String,
}

/// Picks the forms folder among a project's top-level folders.
///
/// Any folder whose name contains `base` qualifies. When several do, the one named exactly
/// `base` wins, then the oldest (lowest id), so the choice is stable from run to run.
pub fn choose_forms_folder<'a>(folders: &'a [FolderEntry], base: &str) -> Option<&'a FolderEntry> {
    folders
        .iter()
        .filter(|f| f.name.contains(base))
        .min_by_key(|f| (f.name != base, f.id))
}

/// The month folder for a form's date.
pub fn month_folder_name(form_date: NaiveDate) -> String {
    form_date.format("%Y-%m").to_string()
}

/// The document name: `TEMPLATE_NAME YYYY-MM-DD`, with `.pdf` so Procore shows and previews
/// it as a PDF. Characters Procore refuses in names are replaced; control characters (a line
/// break or an escape typed into a template name) become spaces, runs of spaces one space, and
/// a name too long for a file name is cut, so the name is one readable line.
pub fn document_name(template_name: &str, form_date: NaiveDate) -> String {
    /// Leaves room for the date and `.pdf` within the 255 bytes file systems allow.
    const MOST_BYTES: usize = 200;
    let replaced: String = template_name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '-'
            } else if c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = replaced.split_whitespace().collect();
    let joined = words.join(" ");
    let mut end = joined.len().min(MOST_BYTES);
    while !joined.is_char_boundary(end) {
        end -= 1;
    }
    let mut safe = joined[..end].trim_end().to_string();
    if safe.is_empty() {
        safe = "Form".into();
    }
    format!("{safe} {}.pdf", form_date.format("%Y-%m-%d"))
}

/// Whether a submission must (re)go to Procore: forms sync is on, the form is completed, and
/// its revision is newer than the last one Procore holds.
pub fn needs_upload(
    sync_forms: bool,
    completed: bool,
    revision: u32,
    uploaded_revision: Option<u32>,
) -> bool {
    sync_forms && completed && uploaded_revision.is_none_or(|r| revision > r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(id: i64, name: &str) -> FolderEntry {
        FolderEntry {
            id,
            name: name.into(),
        }
    }

    #[test]
    fn a_folder_whose_name_contains_the_base_name_is_used() {
        let folders = [f(1, "01 Drawings"), f(2, "06 Corfix Forms")];
        assert_eq!(
            choose_forms_folder(&folders, DEFAULT_FORMS_FOLDER).map(|x| x.id),
            Some(2)
        );
    }

    #[test]
    fn with_no_matching_folder_none_is_chosen_so_one_is_created() {
        let folders = [f(1, "01 Drawings"), f(2, "Corfix")];
        assert_eq!(choose_forms_folder(&folders, DEFAULT_FORMS_FOLDER), None);
    }

    #[test]
    fn among_several_matching_folders_the_exact_name_then_the_oldest_wins() {
        let folders = [
            f(9, "Corfix Forms"),
            f(3, "06 Corfix Forms"),
            f(5, "Old Corfix Forms"),
        ];
        assert_eq!(
            choose_forms_folder(&folders, DEFAULT_FORMS_FOLDER).map(|x| x.id),
            Some(9)
        );
        let folders = [f(5, "Old Corfix Forms"), f(3, "06 Corfix Forms")];
        assert_eq!(
            choose_forms_folder(&folders, DEFAULT_FORMS_FOLDER).map(|x| x.id),
            Some(3)
        );
    }

    #[test]
    fn the_base_name_is_configurable() {
        let folders = [f(1, "06 Corfix Forms"), f(2, "07 Safety PDFs")];
        assert_eq!(
            choose_forms_folder(&folders, "Safety PDFs").map(|x| x.id),
            Some(2)
        );
    }

    #[test]
    fn month_folders_and_documents_are_named_from_the_form_date() {
        let d: NaiveDate = "2026-03-07".parse().unwrap();
        assert_eq!(month_folder_name(d), "2026-03");
        assert_eq!(
            document_name("Toolbox Talk", d),
            "Toolbox Talk 2026-03-07.pdf"
        );
        assert_eq!(
            document_name("Hot Work / Permit", d),
            "Hot Work - Permit 2026-03-07.pdf"
        );
    }

    #[test]
    fn control_characters_in_a_template_name_never_reach_the_file_name() {
        let d: NaiveDate = "2026-03-07".parse().unwrap();
        assert_eq!(
            document_name("Toolbox\n\u{1b}[31mTalk\u{0}\t", d),
            "Toolbox [31mTalk 2026-03-07.pdf"
        );
        assert_eq!(document_name(" \u{7} ", d), "Form 2026-03-07.pdf");
        for long in ["x".repeat(70_000), "漢".repeat(70_000)] {
            let name = document_name(&long, d);
            assert!(name.len() <= 255, "{} bytes", name.len());
            assert!(name.ends_with(" 2026-03-07.pdf"));
        }
    }

    #[test]
    fn a_form_goes_to_procore_when_completed_and_again_for_each_new_revision() {
        assert!(needs_upload(true, true, 1, None));
        assert!(!needs_upload(true, true, 1, Some(1)));
        assert!(needs_upload(true, true, 2, Some(1)));
        assert!(!needs_upload(true, false, 0, None), "drafts never go");
        assert!(
            !needs_upload(false, true, 1, None),
            "only when Sync Forms to Procore is on"
        );
    }
}
