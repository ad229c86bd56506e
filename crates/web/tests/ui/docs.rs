//! `docs/ui.md` shows pages as the tests saw them: each picture it shows is in `docs/ui/` and is
//! a page some test here visits and saves (`seen` or `screenshot` with that name), so a picture
//! of a page no test reaches any more, or one missing, is caught.

use std::path::Path;

#[test]
fn every_picture_in_the_ui_guide_is_there_and_is_a_page_a_test_visits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let guide = std::fs::read_to_string(root.join("docs/ui.md")).unwrap();
    let shown: Vec<&str> = guide
        .split("](ui/")
        .skip(1)
        .filter_map(|rest| rest.split_once(".png)").map(|(name, _)| name))
        .collect();
    assert!(shown.len() >= 10, "{shown:?}");
    let tests: String = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    for name in shown {
        assert!(
            root.join(format!("docs/ui/{name}.png")).is_file(),
            "docs/ui.md shows ui/{name}.png, which is not in docs/ui/"
        );
        assert!(
            tests.contains(&format!("seen(\"{name}\")"))
                || tests.contains(&format!("screenshot(\"{name}\")")),
            "docs/ui.md shows {name}, a page no test saves: copy a picture a test takes \
             (target/ui-screenshots/) or take one"
        );
    }
}
