//! Output folders that are never mixed: one writer at a time, checked before any work,
//! cleaned of what an earlier run of the same command left, and complete only when
//! `manifest.json` is there.
//!
//! [`OutputDir::create`] (a command that writes a folder: `run`, `compare`, `trial`):
//! 1. creates the folder and takes an exclusive lock on it (`flock` on the folder itself,
//!    released by the kernel when the process ends, however it ends), failing at once with
//!    [`OutputError::Busy`] when another process holds it;
//! 2. checks the folder is writable (a probe file), before any simulation;
//! 3. removes `manifest.json` first, so from here the folder reads as incomplete;
//! 4. removes the files and folders of its own kinds an earlier run left (e.g. `trace.csv`
//!    of a run with `--trace` beside a run without, the `patients/` dataset folder), never
//!    anything else;
//! 5. removes the atomic writers' temporary files and folders (`.healthtwin-tmp-*`) of
//!    killed runs.
//!
//! [`OutputDir::commit`] writes `manifest.json` last (atomically, then syncs the folder) and
//! releases the lock. Dropped without commit (an error), the folder keeps no manifest.
//!
//! [`OutputDir::for_file`] (a command that writes one file, `cohort synth`): steps 1, 2 and
//! 5 for the file's folder; the file itself is replaced atomically, and no manifest is
//! touched.
//!
//! Must never: remove a file it would not write, or write into a folder another process
//! holds.

use std::fs::{self, File, TryLockError};
use std::path::{Path, PathBuf};

use crate::table::{write_atomic, ReportError, TMP_PREFIX};

/// The name of the file written last.
pub const MANIFEST: &str = "manifest.json";

/// Why an output folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{path}: another healthtwin command is writing into this folder; wait for it to \
         finish or choose another --out"
    )]
    Busy { path: String },
    #[error("{path}: the output folder cannot be created or written: {message}")]
    NotWritable { path: String, message: String },
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

impl OutputError {
    /// Whether the user can fix it by choosing another folder or waiting (exit code 2), as
    /// opposed to a failure of the machine.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            OutputError::Busy { .. } | OutputError::NotWritable { .. }
        )
    }
}

/// A locked output folder (see the module documentation).
#[derive(Debug)]
pub struct OutputDir {
    path: PathBuf,
    /// Holds the lock while alive.
    _lock: File,
    manifest: bool,
}

fn not_writable(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::NotWritable {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn io(path: &Path, e: impl std::fmt::Display) -> OutputError {
    OutputError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Whether `name` is a temporary file of the atomic writer, or of the writer of earlier
/// versions (`.<own file>.<pid>.tmp`).
fn is_temporary(name: &str, own: &[&str]) -> bool {
    if name.starts_with(TMP_PREFIX) {
        return true;
    }
    own.iter().any(|f| {
        name.strip_prefix('.')
            .and_then(|rest| rest.strip_prefix(f))
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
    })
}

impl OutputDir {
    /// Takes the folder `path` for a command whose files are `own` (their names, without
    /// `manifest.json`).
    pub fn create(path: &Path, own: &[&str]) -> Result<OutputDir, OutputError> {
        let dir = Self::lock(path)?;
        let manifest = path.join(MANIFEST);
        match fs::remove_file(&manifest) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(not_writable(&manifest, e)),
        }
        dir.clean(own, true)?;
        Ok(OutputDir {
            manifest: true,
            ..dir
        })
    }

    /// Takes the folder of the single file `file` (see the module documentation).
    pub fn for_file(file: &Path) -> Result<OutputDir, OutputError> {
        let parent = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let dir = Self::lock(parent)?;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        dir.clean(&[name], false)?;
        Ok(dir)
    }

    fn lock(path: &Path) -> Result<OutputDir, OutputError> {
        fs::create_dir_all(path).map_err(|e| not_writable(path, e))?;
        let lock = File::open(path).map_err(|e| not_writable(path, e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(OutputError::Busy {
                    path: path.display().to_string(),
                })
            }
            Err(TryLockError::Error(e)) => return Err(not_writable(path, e)),
        }
        // Writable? A probe under the writer's temporary prefix (removed at once, and by
        // any later run if this one is killed in between).
        let probe = path.join(format!("{TMP_PREFIX}{}-probe", std::process::id()));
        File::create(&probe)
            .and_then(|f| f.sync_all())
            .map_err(|e| not_writable(path, e))?;
        fs::remove_file(&probe).map_err(|e| not_writable(path, e))?;
        Ok(OutputDir {
            path: path.to_path_buf(),
            _lock: lock,
            manifest: false,
        })
    }

    /// Removes temporary files and folders, and when `stale` the files and folders in `own`
    /// too.
    fn clean(&self, own: &[&str], stale: bool) -> Result<(), OutputError> {
        let entries = fs::read_dir(&self.path).map_err(|e| io(&self.path, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io(&self.path, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let remove = is_temporary(name, own) || (stale && own.contains(&name));
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if remove && (kind.is_file() || kind.is_dir()) {
                let p = entry.path();
                let removed = if kind.is_dir() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
                match removed {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(not_writable(&p, e)),
                }
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of file `name` in the folder.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `manifest` as `manifest.json` (last), makes the folder's renames durable and
    /// releases the lock.
    pub fn commit(self, manifest: &[u8]) -> Result<(), ReportError> {
        if self.manifest {
            write_atomic(&self.path.join(MANIFEST), manifest)?;
        }
        self.finish()
    }

    /// Makes the folder's renames durable and releases the lock, without a manifest
    /// ([`Self::for_file`]).
    pub fn finish(self) -> Result<(), ReportError> {
        // fsync of the folder: the renames of the files into place survive a power loss.
        File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(|e| ReportError::Io {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = OutputDir::create(&out, &["a.csv"]).unwrap();
        let second = OutputDir::create(&out, &["a.csv"]);
        assert!(matches!(second, Err(OutputError::Busy { .. })));
        assert!(second.unwrap_err().is_usage());
        first.commit(b"{}").unwrap();
        // Released: the next one takes it.
        OutputDir::create(&out, &["a.csv"]).unwrap();
    }

    #[test]
    fn stale_own_files_and_temporaries_go_foreign_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        for f in [
            "manifest.json",
            "trace.csv",
            "summary.csv",
            "notes.txt",
            ".healthtwin-tmp-123-summary.csv",
            ".summary.csv.4567.tmp",
            ".notes.txt.99.tmp",
        ] {
            fs::write(out.join(f), b"old").unwrap();
        }
        let d = OutputDir::create(out, &["summary.csv", "trace.csv"]).unwrap();
        assert_eq!(names(out), [".notes.txt.99.tmp", "notes.txt"]);
        fs::write(d.join("summary.csv"), b"new").unwrap();
        d.commit(b"{}").unwrap();
        assert_eq!(
            names(out),
            [
                ".notes.txt.99.tmp",
                "manifest.json",
                "notes.txt",
                "summary.csv"
            ]
        );
    }

    #[test]
    fn stale_own_folders_and_temporary_folders_go_foreign_folders_stay() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        for d in ["patients", ".healthtwin-tmp-77-patients", "notes"] {
            fs::create_dir(out.join(d)).unwrap();
            fs::write(out.join(d).join("part.parquet"), b"old").unwrap();
        }
        let d = OutputDir::create(out, &["patients"]).unwrap();
        assert_eq!(names(out), ["notes"]);
        let parts = crate::table::AtomicDir::create(&d.join("patients")).unwrap();
        fs::write(parts.join("a"), b"new").unwrap();
        // Not yet in place: only its temporary folder exists.
        assert!(!out.join("patients").exists());
        parts.commit().unwrap();
        d.commit(b"{}").unwrap();
        assert_eq!(names(out), ["manifest.json", "notes", "patients"]);
        assert_eq!(names(&out.join("patients")), ["a"]);
        // Dropped without commit, a dataset folder leaves nothing.
        drop(crate::table::AtomicDir::create(&out.join("other")).unwrap());
        assert_eq!(names(out), ["manifest.json", "notes", "patients"]);
    }

    #[test]
    fn a_single_file_keeps_the_folder_manifest() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("manifest.json"), b"{}").unwrap();
        fs::write(dir.path().join(".healthtwin-tmp-1-c.parquet"), b"").unwrap();
        let d = OutputDir::for_file(&dir.path().join("c.parquet")).unwrap();
        d.finish().unwrap();
        assert_eq!(names(dir.path()), ["manifest.json"]);
    }

    #[test]
    fn a_folder_under_a_file_is_not_writable() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        let e = OutputDir::create(&file.join("out"), &[]).unwrap_err();
        assert!(matches!(e, OutputError::NotWritable { .. }), "{e}");
    }
}
