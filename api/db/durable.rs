//! Group commit for SQLite: no write is answered before its commit is on disk, and
//! concurrent writers share one fsync.
//!
//! The writer connection runs with `synchronous = NORMAL` in WAL mode, so a commit only
//! writes its frames to the WAL (and SQLite fsyncs the WAL before every checkpoint and the
//! database after it); the fsync a commit needs to survive a power cut is done here, once
//! for every commit made before it started. Each committed write takes a ticket while it
//! still holds the single writer connection; the first writer to wait becomes the leader,
//! fsyncs the WAL and wakes everyone whose ticket it covered, while the others commit and
//! queue for the next round. Under load one fsync covers many commits; alone, a write pays
//! one fsync, exactly as `synchronous = FULL` would.
//!
//! An fsync that fails leaves the kernel free to have dropped the pages it could not
//! write, and a second fsync may then "succeed" without them. As PostgreSQL does, the
//! process stops rather than answer anything after it: the restart recovers from what is
//! on disk, and every phone resends what it was not told was taken.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

/// How SQLite writes reach the disk (`EID_SQLITE_COMMIT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitMode {
    /// The default: durable answers, one shared fsync per group of commits.
    Group,
    /// `synchronous = FULL`: durable, one fsync per commit (what the CLI uses).
    Each,
    /// `synchronous = NORMAL` and no fsync before answering: an answer may be undone by a
    /// power cut. Only for measuring what durability costs; refused in production.
    UnsafeNoSync,
}

impl CommitMode {
    pub fn parse(text: &str) -> Option<CommitMode> {
        match text {
            "group" => Some(CommitMode::Group),
            "each" => Some(CommitMode::Each),
            "unsafe-no-sync" => Some(CommitMode::UnsafeNoSync),
            _ => None,
        }
    }

    /// The `synchronous` pragma of the writer connection.
    pub fn synchronous_pragma(self) -> &'static str {
        match self {
            CommitMode::Each => "FULL",
            CommitMode::Group | CommitMode::UnsafeNoSync => "NORMAL",
        }
    }
}

#[derive(Default)]
struct Progress {
    /// Tickets handed out: commits made.
    committed: u64,
    /// Every commit with a ticket up to this one is on disk.
    synced: u64,
    /// A leader is fsyncing now.
    syncing: bool,
}

/// The shared fsync of one SQLite database file's WAL.
#[derive(Clone)]
pub struct GroupSync {
    wal: Arc<PathBuf>,
    /// Opened at the first sync and kept: a writeback error is reported to the open files
    /// of the WAL, and a file opened afresh for each sync could miss one.
    file: Arc<std::sync::OnceLock<std::fs::File>>,
    progress: Arc<(Mutex<Progress>, Condvar)>,
}

/// A committed write waiting to be made durable.
#[derive(Clone, Copy, Debug)]
pub struct Ticket(u64);

impl GroupSync {
    /// `database` is the main file as SQLite itself names it (`PRAGMA database_list`,
    /// symlinks resolved), so the WAL synced is the one SQLite writes.
    pub fn new(database: &std::path::Path) -> GroupSync {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        GroupSync {
            wal: Arc::new(PathBuf::from(wal)),
            file: Arc::default(),
            progress: Arc::default(),
        }
    }

    /// Every commit made so far, as a ticket: a read waits for it so that nothing is shown
    /// (or handed to a phone as a cursor) that a power cut could still take back.
    pub fn latest(&self) -> Ticket {
        Ticket(lock(&self.progress.0).committed)
    }

    /// Called right after a commit, while the writer connection is still held, so the
    /// commit's frames are in the WAL before any fsync that counts this ticket starts.
    pub fn committed(&self) -> Ticket {
        let mut progress = lock(&self.progress.0);
        progress.committed += 1;
        Ticket(progress.committed)
    }

    /// Returns once the commit of `ticket` is on disk.
    pub fn wait(&self, ticket: Ticket) {
        let (mutex, wake) = &*self.progress;
        let mut progress = lock(mutex);
        loop {
            if progress.synced >= ticket.0 {
                return;
            }
            if progress.syncing {
                progress = wake.wait(progress).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            progress.syncing = true;
            let target = progress.committed;
            drop(progress);
            let outcome = self.sync_wal();
            if let Err(error) = outcome {
                tracing::error!(%error, wal = %self.wal.display(),
                    "fsync of the SQLite WAL failed; stopping so that no answer claims data the disk may not have");
                std::process::abort();
            }
            progress = lock(mutex);
            progress.syncing = false;
            progress.synced = progress.synced.max(target);
            wake.notify_all();
        }
    }
}

impl GroupSync {
    /// fdatasync of the WAL. It exists: a commit was just made in WAL mode, and SQLite
    /// removes the WAL only when the last connection closes, which the pools never do.
    /// A missing WAL means the path is not SQLite's, and nothing would be synced: that is
    /// an error, not a success.
    fn sync_wal(&self) -> std::io::Result<()> {
        let file = match self.file.get() {
            Some(file) => file,
            None => {
                let opened = std::fs::File::open(&*self.wal)?;
                self.file.get_or_init(|| opened)
            }
        };
        file.sync_data()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_fsync_covers_every_commit_made_before_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        std::fs::write(dir.path().join("x.db-wal"), b"frames").unwrap();
        let sync = GroupSync::new(&db);
        let first = sync.committed();
        let second = sync.committed();
        sync.wait(second);
        // The first ticket was covered by the same fsync: no second round.
        assert_eq!(lock(&sync.progress.0).synced, 2);
        sync.wait(first);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let sync = sync.clone();
                std::thread::spawn(move || {
                    let ticket = sync.committed();
                    sync.wait(ticket);
                    ticket.0
                })
            })
            .collect();
        for thread in threads {
            let ticket = thread.join().unwrap();
            assert!(lock(&sync.progress.0).synced >= ticket);
        }
    }

    #[test]
    fn commit_modes_are_named_as_in_the_settings() {
        assert_eq!(CommitMode::parse("group"), Some(CommitMode::Group));
        assert_eq!(CommitMode::parse("each"), Some(CommitMode::Each));
        assert_eq!(
            CommitMode::parse("unsafe-no-sync"),
            Some(CommitMode::UnsafeNoSync)
        );
        assert_eq!(CommitMode::parse("normal"), None);
        assert_eq!(CommitMode::Each.synchronous_pragma(), "FULL");
    }
}
