//! Loading configs from files and `production/` directories (R-CFG-5), and looking them up by
//! name (R-CFG-7).

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::parse::parse_json;
use super::{Config, ConfigError, ConfigKind, GroupBy, Join, StagingQuery};
use crate::naming;

/// The largest config file read, in bytes.
pub const MAX_CONFIG_BYTES: u64 = 64 << 20;

/// How deep directories are walked below the directory given.
const MAX_DIRECTORY_DEPTH: usize = 16;

/// Configs keyed by `metaData.name`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigSet {
    /// The GroupBys.
    pub group_bys: BTreeMap<String, GroupBy>,
    /// The Joins.
    pub joins: BTreeMap<String, Join>,
    /// The StagingQueries.
    pub staging_queries: BTreeMap<String, StagingQuery>,
}

impl ConfigSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a config under its name, returning the config of the same kind it replaces.
    pub fn insert(&mut self, config: Config) -> Option<Config> {
        let name = config.name().to_owned();
        match config {
            Config::GroupBy(group_by) => self.group_bys.insert(name, group_by).map(Config::GroupBy),
            Config::Join(join) => self
                .joins
                .insert(name, *join)
                .map(|join| Config::Join(Box::new(join))),
            Config::StagingQuery(staging_query) => self
                .staging_queries
                .insert(name, staging_query)
                .map(Config::StagingQuery),
        }
    }

    /// Number of configs.
    pub fn len(&self) -> usize {
        self.group_bys.len() + self.joins.len() + self.staging_queries.len()
    }

    /// Whether the set holds no config.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The GroupBy named `name`, or else the first whose cleanName equals `cleanName(name)`, so
    /// `shop.purchases.v1`, `shop_purchases_v1` and `shop/purchases.v1` all work (R-CFG-7).
    pub fn group_by(&self, name: &str) -> Option<&GroupBy> {
        self.group_bys.get(name).or_else(|| {
            let clean = naming::clean_name(name);
            self.group_bys
                .values()
                .find(|group_by| group_by.clean_name() == clean)
        })
    }

    /// The Join named `name`, in dotted (`team.name.v1`) or request (`team/name.v1`) form
    /// (R-CFG-7).
    pub fn join(&self, name: &str) -> Option<&Join> {
        self.joins
            .get(name)
            .or_else(|| self.joins.get(&naming::join_name_from_request(name)))
    }

    /// The StagingQuery named `name`.
    pub fn staging_query(&self, name: &str) -> Option<&StagingQuery> {
        self.staging_queries.get(name)
    }
}

/// Reads a config file, bounded by [`MAX_CONFIG_BYTES`].
pub(crate) fn read_config_file(path: &Path) -> Result<String, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let file = fs::File::open(path).map_err(read_error)?;
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > MAX_CONFIG_BYTES {
        return Err(ConfigError::TooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_CONFIG_BYTES,
        });
    }
    String::from_utf8(bytes)
        .map_err(|error| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, error)))
}

/// Loads one config file. Its kind comes from the nearest `group_bys`, `joins` or
/// `staging_queries` directory in its path, or else from its JSON shape
/// ([`ConfigKind::from_shape`]). Errors name the file.
pub fn load_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
    let path = path.as_ref();
    let kind = path
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .filter_map(|component| component.as_os_str().to_str())
        .filter_map(ConfigKind::from_directory)
        .next_back();
    load_file_of_kind(path, kind)
}

fn load_file_of_kind(path: &Path, kind: Option<ConfigKind>) -> Result<Config, ConfigError> {
    let text = read_config_file(path).map_err(|error| error.in_file(path))?;
    let value = parse_json(&text).map_err(|error| error.in_file(path))?;
    let Some(kind) = kind.or_else(|| ConfigKind::from_shape(&value)) else {
        return Err(ConfigError::UnknownKind {
            path: path.to_owned(),
        });
    };
    let config = match kind {
        ConfigKind::GroupBy => GroupBy::from_parsed(&text, &value).map(Config::GroupBy),
        ConfigKind::Join => {
            Join::from_parsed(&text, &value).map(|join| Config::Join(Box::new(join)))
        }
        ConfigKind::StagingQuery => {
            StagingQuery::from_parsed(&text, &value).map(Config::StagingQuery)
        }
    };
    config.map_err(|error| error.in_file(path))
}

/// Loads every config of a compiled `production/` directory:
/// `{group_bys,joins,staging_queries}/<team>/<name>` (R-CFG-5). Missing kind directories are
/// empty; hidden files are skipped. Two configs of one kind with the same name are an error.
pub fn load_production_dir(path: impl AsRef<Path>) -> Result<ConfigSet, ConfigError> {
    let path = path.as_ref();
    fs::read_dir(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut loader = Loader::default();
    for kind in ConfigKind::ALL {
        let directory = path.join(kind.directory());
        if directory.is_dir() {
            for file in list_files(&directory)? {
                loader.add(&file, Some(kind))?;
            }
        }
    }
    Ok(loader.set)
}

/// Loads a config file, a `production/` directory, or any directory of config files (kinds
/// inferred per file as in [`load_file`]).
pub fn load_path(path: impl AsRef<Path>) -> Result<ConfigSet, ConfigError> {
    let path = path.as_ref();
    let metadata = fs::metadata(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    if !metadata.is_dir() {
        let mut set = ConfigSet::new();
        set.insert(load_file(path)?);
        return Ok(set);
    }
    let is_production = ConfigKind::ALL
        .iter()
        .any(|kind| path.join(kind.directory()).is_dir());
    if is_production {
        return load_production_dir(path);
    }
    let mut loader = Loader::default();
    for file in list_files(path)? {
        loader.add(&file, None)?;
    }
    Ok(loader.set)
}

/// Collects configs and the files they came from, rejecting duplicate names.
#[derive(Default)]
struct Loader {
    set: ConfigSet,
    origins: BTreeMap<(ConfigKind, String), PathBuf>,
}

impl Loader {
    fn add(&mut self, path: &Path, kind: Option<ConfigKind>) -> Result<(), ConfigError> {
        let config = match kind {
            Some(kind) => load_file_of_kind(path, Some(kind))?,
            None => load_file(path)?,
        };
        let key = (config.kind(), config.name().to_owned());
        if let Some(first) = self.origins.get(&key) {
            return Err(ConfigError::DuplicateName {
                kind: key.0,
                name: key.1,
                first: first.clone(),
                second: path.to_owned(),
            });
        }
        self.origins.insert(key, path.to_owned());
        self.set.insert(config);
        Ok(())
    }
}

/// The non-hidden files below `directory`, sorted, at most [`MAX_DIRECTORY_DEPTH`] deep.
fn list_files(directory: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let mut files = Vec::new();
    collect_files(directory, 0, &mut files)?;
    Ok(files)
}

fn collect_files(
    directory: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
) -> Result<(), ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: directory.to_owned(),
        source,
    };
    let mut entries = fs::read_dir(directory)
        .map_err(read_error)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        if entry.is_dir() {
            if depth < MAX_DIRECTORY_DEPTH {
                collect_files(&entry, depth + 1, files)?;
            }
        } else if entry.is_file() {
            files.push(entry);
        }
    }
    Ok(())
}
