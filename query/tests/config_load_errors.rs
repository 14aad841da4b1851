//! Loading a directory reports file-level problems by path: unreadable paths, files of unknown
//! kind, and two configs of one kind sharing a name (R-CFG-5); hidden files are skipped.

use std::fs;
use std::path::PathBuf;

use tilefold_query::config::{load_path, load_production_dir, ConfigError};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tilefold-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const STAGING: &str = r#"{"metaData": {"name": "shop.daily.v1"}, "query": "SELECT 1"}"#;

#[test]
fn duplicate_names_are_an_error() {
    let dir = TempDir::new("duplicate-names");
    let first = dir.write("staging_queries/shop/daily.v1", STAGING);
    let second = dir.write("staging_queries/shop/daily_copy.v1", STAGING);
    let error = load_production_dir(&dir.0).unwrap_err();
    assert!(matches!(error, ConfigError::DuplicateName { .. }));
    assert_eq!(
        error.to_string(),
        format!(
            "two StagingQuery configs are named shop.daily.v1: {} and {}",
            first.display(),
            second.display()
        )
    );
}

#[test]
fn hidden_files_are_skipped_and_kinds_inferred() {
    let dir = TempDir::new("hidden-files");
    dir.write("staging_queries/shop/daily.v1", STAGING);
    dir.write("staging_queries/shop/.DS_Store", "\u{0}\u{1}");
    assert_eq!(load_production_dir(&dir.0).unwrap().len(), 1);

    // Outside a production layout the kind comes from the JSON shape.
    let loose = TempDir::new("loose-files");
    loose.write("daily.json", STAGING);
    let set = load_path(&loose.0).unwrap();
    assert!(set.staging_query("shop.daily.v1").is_some());

    let unknown = loose.write("notes.json", r#"{"metaData": {"name": "x"}}"#);
    let error = load_path(&loose.0).unwrap_err();
    assert!(matches!(error, ConfigError::UnknownKind { .. }));
    assert!(error
        .to_string()
        .starts_with(&unknown.display().to_string()));
}

#[test]
fn missing_paths_and_bad_json_name_the_file() {
    let dir = TempDir::new("missing-paths");
    let missing = dir.0.join("nowhere");
    let error = load_path(&missing).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }));
    assert!(error.to_string().contains(&missing.display().to_string()));

    let bad = dir.write(
        "group_bys/shop/broken.v1",
        "{\n  \"keyColumns\": [\"a\",]\n}",
    );
    let error = load_production_dir(&dir.0).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{}: invalid JSON at line 2, column 22: trailing comma",
            bad.display()
        )
    );
}
