//! Reading messages of one topic from rosbag2 sqlite3 files (`.db3`; Humble schema v3 and
//! Jazzy v4 alike: only the `topics` and `messages` tables are used), in timestamp order.
//!
//! The ordered list of row ids is read first (8 bytes per message); each message's data is
//! then fetched on demand, so a large bag is never held in memory.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::BagError;
use super::metadata::TopicInfo;
use super::BagMessage;

fn sql_err(path: &Path, what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BagError {
    let path = path.to_path_buf();
    let what = what.into();
    move |source| BagError::Sqlite { path, what, source }
}

fn open(path: &Path) -> Result<Connection, BagError> {
    if !path.is_file() {
        return Err(BagError::Open {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sql_err(path, "open"))
}

/// Topics and their message counts.
pub(crate) fn topics(path: &Path) -> Result<Vec<TopicInfo>, BagError> {
    let db = open(path)?;
    let mut stmt = db
        .prepare("SELECT t.name, t.type, (SELECT COUNT(*) FROM messages m WHERE m.topic_id = t.id) FROM topics t ORDER BY t.id")
        .map_err(sql_err(path, "reading the topics table"))?;
    let rows = stmt
        .query_map([], |row| {
            Ok(TopicInfo {
                name: row.get(0)?,
                type_name: row.get(1)?,
                message_count: row.get::<_, i64>(2).ok().map(|n| n.max(0) as u64),
            })
        })
        .map_err(sql_err(path, "reading the topics table"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql_err(path, "reading the topics table"))
}

/// One open file: its path, connection, and the (row id, timestamp) pairs still to read.
type OpenFile = (PathBuf, Connection, std::vec::IntoIter<(i64, i64)>);

/// Streams one topic's messages across the files of a bag.
pub(crate) struct SqliteTopicStream {
    files: Vec<PathBuf>,
    next_file: usize,
    topic: String,
    current: Option<OpenFile>,
    failed: bool,
}

impl SqliteTopicStream {
    pub(crate) fn new(files: Vec<PathBuf>, topic: &str) -> Self {
        Self {
            files,
            next_file: 0,
            topic: topic.to_string(),
            current: None,
            failed: false,
        }
    }

    fn open_next(&mut self) -> Option<Result<(), BagError>> {
        let path = self.files.get(self.next_file)?.clone();
        self.next_file += 1;
        let result = (|| {
            let db = open(&path)?;
            let what = "listing messages of the topic";
            let ids: Vec<(i64, i64)> = {
                let mut stmt = db
                    .prepare("SELECT m.id, m.timestamp FROM messages m JOIN topics t ON m.topic_id = t.id WHERE t.name = ?1 ORDER BY m.timestamp, m.id")
                    .map_err(sql_err(&path, what))?;
                let rows = stmt
                    .query_map([&self.topic], |row| Ok((row.get(0)?, row.get(1)?)))
                    .map_err(sql_err(&path, what))?;
                rows.collect::<Result<_, _>>()
                    .map_err(sql_err(&path, what))?
            };
            Ok((path.clone(), db, ids.into_iter()))
        })();
        Some(result.map(|current| self.current = Some(current)))
    }
}

impl Iterator for SqliteTopicStream {
    type Item = Result<BagMessage, BagError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            if self.current.is_none() {
                if let Err(e) = self.open_next()? {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
            let (path, db, ids) = self.current.as_mut()?;
            let Some((id, timestamp)) = ids.next() else {
                self.current = None;
                continue;
            };
            let data = db
                .query_row("SELECT data FROM messages WHERE id = ?1", [id], |row| {
                    row.get::<_, Vec<u8>>(0)
                })
                .map_err(sql_err(
                    path,
                    format!("message row id {id} (timestamp {timestamp})"),
                ));
            return Some(match data {
                Ok(data) => Ok(BagMessage {
                    log_time_ns: timestamp.max(0) as u64,
                    data,
                }),
                Err(e) => {
                    self.failed = true;
                    Err(e)
                }
            });
        }
    }
}
