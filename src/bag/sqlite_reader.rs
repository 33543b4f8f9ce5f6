//! Reading messages of one topic from rosbag2 sqlite3 files (`.db3`; Humble schema v3 and
//! Jazzy v4 alike: only the `topics` and `messages` tables are used), in timestamp order.
//!
//! Row ids are read a page at a time (keyset pagination on `(timestamp, id)`), so memory does
//! not grow with the number of messages; each BLOB's length is checked (`length(data)`, which
//! SQLite answers from the record header) against the message limit before it is fetched; a
//! negative timestamp is an error, never clamped.
#![deny(clippy::arithmetic_side_effects)]

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::error::BagError;
use super::files::regular_file;
use super::limits::BagLimits;
use super::metadata::TopicInfo;
use super::BagMessage;

/// Rows listed per query.
const PAGE: usize = 256;

fn sql_err(path: &Path, what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> BagError {
    let path = path.to_path_buf();
    let what = what.into();
    move |source| BagError::Sqlite { path, what, source }
}

fn open(path: &Path) -> Result<Connection, BagError> {
    regular_file(path)?;
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
                message_count: row
                    .get::<_, i64>(2)
                    .ok()
                    .and_then(|n| u64::try_from(n).ok()),
            })
        })
        .map_err(sql_err(path, "reading the topics table"))?;
    rows.collect::<Result<Vec<_>, _>>()
        .map_err(sql_err(path, "reading the topics table"))
}

/// One listed row: id, timestamp, BLOB length.
type Row = (i64, i64, i64);

/// One open file and where its listing stands.
struct OpenFile {
    path: PathBuf,
    db: Connection,
    page: std::vec::IntoIter<Row>,
    /// The last `(timestamp, id)` listed; the next page starts after it.
    after: Option<(i64, i64)>,
    exhausted: bool,
}

impl OpenFile {
    /// List the next page of the topic's rows.
    fn next_page(&mut self, topic: &str) -> Result<(), BagError> {
        let what = "listing messages of the topic";
        let (ts, id) = self.after.unwrap_or((i64::MIN, i64::MIN));
        let mut stmt = self
            .db
            .prepare_cached(
                "SELECT m.id, m.timestamp, length(m.data) FROM messages m JOIN topics t ON m.topic_id = t.id \
                 WHERE t.name = ?1 AND (m.timestamp, m.id) > (?2, ?3) ORDER BY m.timestamp, m.id LIMIT ?4",
            )
            .map_err(sql_err(&self.path, what))?;
        let rows: Vec<Row> = stmt
            .query_map(rusqlite::params![topic, ts, id, PAGE as i64], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get::<_, Option<i64>>(2)?.unwrap_or(0),
                ))
            })
            .map_err(sql_err(&self.path, what))?
            .collect::<Result<_, _>>()
            .map_err(sql_err(&self.path, what))?;
        self.exhausted = rows.len() < PAGE;
        self.after = rows.last().map(|&(id, ts, _)| (ts, id)).or(self.after);
        self.page = rows.into_iter();
        Ok(())
    }
}

/// Streams one topic's messages across the files of a bag.
pub(crate) struct SqliteTopicStream {
    files: Vec<PathBuf>,
    next_file: usize,
    topic: String,
    limits: BagLimits,
    current: Option<OpenFile>,
    failed: bool,
    topic_seen: bool,
    other_topics: Vec<String>,
}

impl SqliteTopicStream {
    pub(crate) fn new(files: Vec<PathBuf>, topic: &str, limits: BagLimits) -> Self {
        Self {
            files,
            next_file: 0,
            topic: topic.to_string(),
            limits,
            current: None,
            failed: false,
            topic_seen: false,
            other_topics: Vec::new(),
        }
    }

    fn open_next(&mut self) -> Option<Result<(), BagError>> {
        let path = self.files.get(self.next_file)?.clone();
        self.next_file = self.next_file.saturating_add(1);
        let result = (|| {
            let db = open(&path)?;
            let names: Vec<String> = {
                let mut stmt = db
                    .prepare("SELECT name FROM topics ORDER BY id LIMIT 32")
                    .map_err(sql_err(&path, "reading the topics table"))?;
                let rows = stmt
                    .query_map([], |row| row.get(0))
                    .map_err(sql_err(&path, "reading the topics table"))?;
                rows.collect::<Result<_, _>>()
                    .map_err(sql_err(&path, "reading the topics table"))?
            };
            let has: bool = db
                .query_row(
                    "SELECT EXISTS(SELECT 1 FROM topics WHERE name = ?1)",
                    [&self.topic],
                    |row| row.get(0),
                )
                .map_err(sql_err(&path, "reading the topics table"))?;
            self.topic_seen |= has;
            for n in names {
                if !self.other_topics.contains(&n) {
                    self.other_topics.push(n);
                }
            }
            let mut file = OpenFile {
                path: path.clone(),
                db,
                page: Vec::new().into_iter(),
                after: None,
                exhausted: false,
            };
            file.next_page(&self.topic)?;
            Ok(file)
        })();
        Some(result.map(|current| self.current = Some(current)))
    }

    /// The next listed row of the current file, paging as needed.
    fn next_row(&mut self) -> Option<Result<Row, BagError>> {
        let file = self.current.as_mut()?;
        if let Some(row) = file.page.next() {
            return Some(Ok(row));
        }
        if file.exhausted {
            self.current = None;
            return None;
        }
        if let Err(e) = file.next_page(&self.topic) {
            return Some(Err(e));
        }
        match file.page.next() {
            Some(row) => Some(Ok(row)),
            None => {
                self.current = None;
                None
            }
        }
    }

    fn fetch(&self, (id, timestamp, len): Row) -> Result<BagMessage, BagError> {
        let Some(file) = self.current.as_ref() else {
            return Err(BagError::NotABag {
                path: self.files.first().cloned().unwrap_or_default(),
            });
        };
        let log_time_ns = u64::try_from(timestamp).map_err(|_| BagError::NegativeTimestamp {
            path: file.path.clone(),
            row: id,
            timestamp,
        })?;
        let size = u64::try_from(len).unwrap_or(0);
        if size > self.limits.max_message_bytes {
            return Err(BagError::TooLarge {
                path: file.path.clone(),
                what: format!("message row id {id} (timestamp {timestamp})"),
                size,
                limit: self.limits.max_message_bytes,
            });
        }
        let data = file
            .db
            .query_row("SELECT data FROM messages WHERE id = ?1", [id], |row| {
                row.get::<_, Vec<u8>>(0)
            })
            .map_err(sql_err(
                &file.path,
                format!("message row id {id} (timestamp {timestamp})"),
            ))?;
        Ok(BagMessage { log_time_ns, data })
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
                let Some(opened) = self.open_next() else {
                    if self.topic_seen || self.files.is_empty() {
                        return None;
                    }
                    self.failed = true;
                    return Some(Err(BagError::TopicNotInData {
                        path: self.files.first().cloned().unwrap_or_default(),
                        topic: self.topic.clone(),
                        found: std::mem::take(&mut self.other_topics),
                    }));
                };
                if let Err(e) = opened {
                    self.failed = true;
                    return Some(Err(e));
                }
            }
            let row = match self.next_row() {
                None => continue,
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                Some(Ok(row)) => row,
            };
            let message = self.fetch(row);
            if message.is_err() {
                self.failed = true;
            }
            return Some(message);
        }
    }
}
