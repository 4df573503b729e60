//! Where an output goes, with the checks that keep it inside its container and folder.

use super::LakeError;

/// A copy's destination: a container (or ADLS file system), a folder and, optionally, one
/// file name. Without a file name the copy owns the folder and names its own part files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLocation {
    /// The container or file system.
    pub container: String,
    /// The folder inside it, `/`-separated; may be empty.
    pub folder: String,
    /// One file to write, or `None` for part files.
    pub file_name: Option<String>,
}

impl OutputLocation {
    /// Checks every part and returns the folder's segments.
    pub fn validate(&self) -> Result<Vec<&str>, LakeError> {
        check_segment("container", &self.container)?;
        if self.container.contains('/') {
            return Err(LakeError::UnsafePath {
                what: "container",
                value: self.container.clone(),
                reason: "holds a `/`; put sub-folders in folderPath",
            });
        }
        let segments: Vec<&str> = self
            .folder
            .split('/')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>();
        if self.folder.starts_with('/') || self.folder.starts_with('\\') {
            return Err(LakeError::UnsafePath {
                what: "folderPath",
                value: self.folder.clone(),
                reason: "is absolute; give a path relative to the container",
            });
        }
        for segment in &segments {
            check_segment("folderPath", segment).map_err(|_| LakeError::UnsafePath {
                what: "folderPath",
                value: self.folder.clone(),
                reason: "would leave its container (`..`, `.`, `\\`, `:` or control characters); \
                         use plain folder names separated by `/`",
            })?;
        }
        if let Some(name) = &self.file_name {
            check_segment("fileName", name)?;
        }
        Ok(segments)
    }

    /// A name for this output's staging and manifest entries that two outputs of one run
    /// never share: the folder and file name with everything but letters and digits
    /// replaced.
    pub fn staging_key(&self) -> String {
        let key = format!(
            "{}/{}",
            self.folder_path(),
            self.file_name.as_deref().unwrap_or("")
        );
        key.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }

    /// The folder as a lake path, `container/folder`.
    pub fn folder_path(&self) -> String {
        let folder = self.folder.trim_matches('/');
        if folder.is_empty() {
            self.container.clone()
        } else {
            format!("{}/{folder}", self.container)
        }
    }
}

/// Refuses names that could escape their place: empty, `.`/`..`, separators, drive or URL
/// colons, control characters.
pub fn check_segment(what: &'static str, value: &str) -> Result<(), LakeError> {
    let reason = if value.is_empty() {
        Some("is empty")
    } else if value == "." || value == ".." {
        Some("would leave its folder; use a plain name")
    } else if value.contains(['\\', ':']) || value.chars().any(char::is_control) {
        Some("holds `\\`, `:` or control characters, which could point elsewhere; use a plain name")
    } else if what == "fileName" && value.contains('/') {
        Some("holds a `/`; put folders in folderPath")
    } else if value.starts_with("_mdflow") {
        Some("uses the `_mdflow` prefix, which mdflow keeps for staging")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(LakeError::UnsafePath {
            what,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(container: &str, folder: &str, file: Option<&str>) -> OutputLocation {
        OutputLocation {
            container: container.into(),
            folder: folder.into(),
            file_name: file.map(Into::into),
        }
    }

    #[test]
    fn escapes_are_refused() {
        assert!(location("raw", "a/../../etc", None).validate().is_err());
        assert!(location("raw", "/etc", None).validate().is_err());
        assert!(location("..", "a", None).validate().is_err());
        assert!(location("raw", "a", Some("../x.json")).validate().is_err());
        assert!(location("raw", "https://evil/x", None).validate().is_err());
        assert!(location("raw", "a", Some("C:x")).validate().is_err());
    }

    #[test]
    fn plain_paths_pass() {
        let loc = location("raw", "o365/messages/2024-01-01", Some("m.json"));
        assert_eq!(loc.validate().unwrap(), ["o365", "messages", "2024-01-01"]);
        assert_eq!(loc.folder_path(), "raw/o365/messages/2024-01-01");
    }
}
