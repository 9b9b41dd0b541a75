//! The typed names the store, the runner, the metrics and the report share: a run's
//! status and the split a metric or score set belongs to. Stored as their text (`done`,
//! `test`); everywhere else they are these enums, never strings compared as text.

use std::fmt;
use std::str::FromStr;

/// Where a run is: `queued → running → done | failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl RunStatus {
    pub const ALL: [RunStatus; 4] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Done,
        RunStatus::Failed,
    ];

    /// The text the store holds.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
        }
    }
}

/// The split of a dataset a metric, a score set or a timing belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SplitName {
    Train,
    Val,
    Test,
}

impl SplitName {
    pub const ALL: [SplitName; 3] = [SplitName::Train, SplitName::Val, SplitName::Test];

    /// The text the store holds.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitName::Train => "train",
            SplitName::Val => "val",
            SplitName::Test => "test",
        }
    }
}

/// Reads the stored text of a [`RunStatus`] or [`SplitName`]; an unknown text is an
/// error that lists the valid ones.
macro_rules! text_enum {
    ($T:ident, $what:literal) => {
        impl FromStr for $T {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $T::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let valid: Vec<&str> = $T::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown {} `{s}`: use {}", $what, valid.join(", "))
                    })
            }
        }

        impl fmt::Display for $T {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
text_enum!(RunStatus, "status");
text_enum!(SplitName, "split");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_and_unknown_ones_list_the_valid() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
        }
        for s in SplitName::ALL {
            assert_eq!(s.to_string().parse::<SplitName>(), Ok(s));
        }
        assert_eq!(
            "finished".parse::<RunStatus>().unwrap_err(),
            "unknown status `finished`: use queued, running, done, failed"
        );
    }
}
