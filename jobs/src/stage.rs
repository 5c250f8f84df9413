//! Stage names: the stable text that names a stage in the database, on its queue, in the API
//! and on the CLI. Which stages exist is decided by the stage registry in `caly-core`, not here.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The name of one pipeline stage (`ingest`, `charge`, ...). Each stage has its own queue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StageName(Cow<'static, str>);

impl StageName {
    /// A name known at compile time (each stage module declares its own).
    pub const fn new(name: &'static str) -> Self {
        StageName(Cow::Borrowed(name))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for StageName {
    /// A name read back from storage (the registry decides whether it is known).
    fn from(name: String) -> Self {
        StageName(Cow::Owned(name))
    }
}

impl fmt::Display for StageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for StageName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Returned when a stage name is not one the registry knows; lists the names it knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStage {
    /// The name asked for.
    pub asked: String,
    /// The names that exist.
    pub known: Vec<StageName>,
}

impl fmt::Display for UnknownStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = self.known.iter().map(StageName::as_str).collect();
        write!(
            f,
            "unknown stage '{}'; use one of: {}",
            self.asked,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownStage {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_serialise_as_plain_text() {
        const CHARGE: StageName = StageName::new("charge");
        assert_eq!(serde_json::to_string(&CHARGE).unwrap(), r#""charge""#);
        let back: StageName = serde_json::from_str(r#""charge""#).unwrap();
        assert_eq!(back, CHARGE);
        let unknown = UnknownStage {
            asked: "transcode".into(),
            known: vec![CHARGE],
        };
        assert_eq!(
            unknown.to_string(),
            "unknown stage 'transcode'; use one of: charge"
        );
    }
}
