//! `docs/ui.md` shows pages as the tests saw them: each picture it shows is in `docs/ui/` and is
//! a page some test here visits and saves (`seen` or `screenshot` with that name), so a picture
//! of a page no test reaches any more, or one missing, is caught. The tests take the pictures
//! themselves when run with `TRESTLE_UI_DOCS=1` (`Browser::screenshot`).

use std::path::Path;

/// The names of the pages `docs/ui.md` shows (`![...](ui/NAME.png)`), `root` being the
/// workspace.
pub fn guide_shows(root: &Path) -> Vec<String> {
    let guide = std::fs::read_to_string(root.join("docs/ui.md")).expect("docs/ui.md");
    guide
        .split("](ui/")
        .skip(1)
        .filter_map(|rest| rest.split_once(".png)").map(|(name, _)| name.to_string()))
        .collect()
}

#[test]
fn every_picture_in_the_ui_guide_is_there_and_is_a_page_a_test_visits_and_no_other_is_kept() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shown = guide_shows(&root);
    assert!(shown.len() >= 10, "{shown:?}");
    let tests: String = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    for file in std::fs::read_dir(root.join("docs/ui")).unwrap() {
        let file = file.unwrap().file_name().to_string_lossy().into_owned();
        let name = file.trim_end_matches(".png");
        assert!(
            shown.iter().any(|s| s == name),
            "docs/ui/{file} is not shown in docs/ui.md: show it or remove it"
        );
    }
    for name in &shown {
        assert!(
            root.join(format!("docs/ui/{name}.png")).is_file(),
            "docs/ui.md shows ui/{name}.png, which is not in docs/ui/"
        );
        assert!(
            tests.contains(&format!("seen(\"{name}\")"))
                || tests.contains(&format!("screenshot(\"{name}\")")),
            "docs/ui.md shows {name}, a page no test saves: copy a picture a test takes \
             (run the UI tests with TRESTLE_UI_DOCS=1) or take one"
        );
    }
}
