//! Application events: any event an application defines, beside the 13 of the vocabulary.
//!
//! An application event's name has a dot — `namespace.name`, matching
//! `^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$`, at most 64 bytes — and no name of the vocabulary has
//! one (nor will a future one), so the two can never collide. Its data is any JSON value. ssekit
//! stores, numbers, replays and resumes it like any event, but never reads it: it ends no stream
//! and no snapshot folds it.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::vocabulary::VocabularyError;

/// Longest application event name, in bytes.
pub const MAX_APP_NAME: usize = 64;

/// The pattern of application event names, as a regular expression (for schemas; the check is
/// [`is_app_name`], which also bounds the length by [`MAX_APP_NAME`]).
pub const APP_NAME_PATTERN: &str = r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$";

/// The rule for application event names, as error messages and docs state it.
pub const APP_NAME_RULE: &str = r"an application event's name is namespace.name: ^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$, at most 64 bytes";

/// The name of an application event, checked against the rule of the [module](self).
///
/// ```
/// use ssekit_events::AppName;
/// assert_eq!(AppName::new("import.progress").unwrap(), "import.progress");
/// assert!(AppName::new("import").is_err()); // no dot: only the vocabulary's names have none
/// assert!(AppName::new("Import.progress").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct AppName(Box<str>);

impl AppName {
    /// The name, if it follows the rule.
    pub fn new(name: &str) -> Result<Self, VocabularyError> {
        if is_app_name(name) {
            Ok(Self(name.into()))
        } else {
            Err(VocabularyError::unknown(name))
        }
    }

    /// The name as sent on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `name` follows the rule for application event names.
pub fn is_app_name(name: &str) -> bool {
    let segment = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    let mut parts = name.split('.');
    let first = parts.next().unwrap_or_default();
    let mut more = 0;
    let rest_ok = parts.all(|p| {
        more += 1;
        segment(p)
    });
    name.len() <= MAX_APP_NAME
        && first.starts_with(|c: char| c.is_ascii_lowercase())
        && segment(first)
        && rest_ok
        && more > 0
}

impl fmt::Display for AppName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for AppName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for AppName {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for AppName {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl<'de> Deserialize<'de> for AppName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        AppName::new(&name).map_err(serde::de::Error::custom)
    }
}

/// An application event: its name and its data, any JSON value.
///
/// ```
/// use ssekit_events::{AppEvent, Event};
/// use serde::Deserialize;
///
/// #[derive(Deserialize)]
/// struct Progress { done: u32, total: u32 }
///
/// let event = Event::from_parts("import.progress", r#"{"done":3,"total":10}"#).unwrap();
/// let Event::App(app) = &event else { unreachable!() };
/// assert_eq!(app.name, "import.progress");
/// let p: Progress = app.data_as().unwrap();
/// assert_eq!((p.done, p.total), (3, 10));
/// assert!(!event.is_terminal());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AppEvent {
    /// The event's name (`namespace.name`).
    pub name: AppName,
    /// Its data, as the producer sent it (object keys come back sorted).
    pub data: serde_json::Value,
}

impl AppEvent {
    /// An application event named `name`, refused if the name does not follow the rule.
    pub fn new(name: &str, data: serde_json::Value) -> Result<Self, VocabularyError> {
        Ok(Self {
            name: AppName::new(name)?,
            data,
        })
    }

    /// The data as the caller's type.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rule_states_the_pattern() {
        assert!(super::APP_NAME_RULE.contains(super::APP_NAME_PATTERN));
    }

    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for ok in [
            "import.progress",
            "a.b",
            "build.step.done",
            "a1_-.0",
            "x.y-z_9",
            &format!("a.{}", "b".repeat(MAX_APP_NAME - 2)),
        ] {
            assert!(is_app_name(ok), "{ok:?} was refused");
        }
        for bad in [
            "",
            ".",
            "a.",
            ".a",
            "a..b",
            "import",
            "block-start",
            "1a.b",
            "_a.b",
            "-a.b",
            "Import.progress",
            "import.Progress",
            "import progress.x",
            "import.pro gress",
            "import.progress\n",
            "import.progress\nevent: x",
            "import:progress.x",
            "import.progress:x",
            "import.prögress",
            "import/x.y",
            &format!("a.{}", "b".repeat(MAX_APP_NAME - 1)),
        ] {
            assert!(!is_app_name(bad), "{bad:?} was accepted");
            assert!(AppName::new(bad).is_err());
        }
    }
}
