//! The messages of several topics in one recording-time order, as `ros2 bag record` wrote them:
//! a k-way merge over one stream per topic (each already in recording-time order). Ties go to
//! the topic listed first. A stream's error is passed on once, then that stream ends; the others
//! go on.

use crate::bag::{Bag, BagError, BagMessage};

type Stream = Box<dyn Iterator<Item = Result<BagMessage, BagError>> + Send>;

/// One merged message: which topic (index into the list given) and the message.
pub type Tagged = (usize, Result<BagMessage, BagError>);

/// Merges per-topic streams by recording time.
pub struct Interleaved {
    streams: Vec<Stream>,
    /// The next message of each stream, if it has one.
    heads: Vec<Option<Result<BagMessage, BagError>>>,
}

impl Interleaved {
    /// The messages of `topics` in `bag`.
    pub fn new(bag: &Bag, topics: &[&str]) -> Self {
        let mut streams: Vec<Stream> = topics.iter().map(|t| bag.messages(t)).collect();
        let heads = streams.iter_mut().map(Iterator::next).collect();
        Self { streams, heads }
    }
}

impl Iterator for Interleaved {
    type Item = Tagged;

    fn next(&mut self) -> Option<Tagged> {
        // Errors first (they end their stream), then the earliest message.
        let pick = self
            .heads
            .iter()
            .position(|h| matches!(h, Some(Err(_))))
            .or_else(|| {
                self.heads
                    .iter()
                    .enumerate()
                    .filter_map(|(i, h)| match h {
                        Some(Ok(m)) => Some((m.log_time_ns, i)),
                        _ => None,
                    })
                    .min()
                    .map(|(_, i)| i)
            })?;
        let item = self.heads.get_mut(pick)?.take()?;
        let failed = item.is_err();
        if let (Some(head), Some(stream)) = (self.heads.get_mut(pick), self.streams.get_mut(pick)) {
            *head = if failed { None } else { stream.next() };
        }
        Some((pick, item))
    }
}
