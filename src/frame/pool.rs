//! Preallocated buffer pools: [`Pool<T>`] holds buffers created once at start-up by a factory
//! closure; [`Lease<T>`] is one buffer on loan, returned to its pool when dropped.
//!
//! The free list is a lock-free `crossbeam` [`ArrayQueue`] shared through an `Arc`, so leasing
//! and returning never block, never take a lock and never allocate. A lease owns its buffer and
//! is `Send`: it moves by ownership from stage to stage. When every buffer is on loan,
//! [`Pool::try_lease`] returns `None`; the caller drops the frame and counts
//! `DropReason::PoolExhausted { stage }` instead of allocating or waiting.

use std::fmt;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crossbeam::queue::ArrayQueue;

/// A pool must hold at least one buffer.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a buffer pool needs at least one buffer (capacity 0 requested)")]
pub struct EmptyPoolError;

/// A fixed set of preallocated buffers. Cloning the pool shares the same buffers.
pub struct Pool<T> {
    free: Arc<ArrayQueue<T>>,
}

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Self {
            free: Arc::clone(&self.free),
        }
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("capacity", &self.capacity())
            .field("available", &self.available())
            .finish()
    }
}

impl<T> Pool<T> {
    /// Create `capacity` buffers now with `factory(index)`; nothing is allocated later.
    pub fn new(
        capacity: usize,
        mut factory: impl FnMut(usize) -> T,
    ) -> Result<Self, EmptyPoolError> {
        if capacity == 0 {
            return Err(EmptyPoolError);
        }
        let free = ArrayQueue::new(capacity);
        for i in 0..capacity {
            // The queue has exactly `capacity` slots, so every push fits.
            let _ = free.push(factory(i));
        }
        Ok(Self {
            free: Arc::new(free),
        })
    }

    /// Like [`Pool::new`] with `max(capacity, 1)` buffers, so it cannot fail (for pools whose
    /// size comes from arithmetic rather than from the user).
    pub fn at_least_one(capacity: usize, mut factory: impl FnMut(usize) -> T) -> Self {
        let free = ArrayQueue::new(capacity.max(1));
        for i in 0..free.capacity() {
            let _ = free.push(factory(i));
        }
        Self {
            free: Arc::new(free),
        }
    }

    /// Take a free buffer, or `None` when all are on loan. Never blocks, never allocates.
    pub fn try_lease(&self) -> Option<Lease<T>> {
        self.free.pop().map(|item| Lease {
            item: ManuallyDrop::new(item),
            home: Arc::clone(&self.free),
        })
    }

    /// Number of buffers the pool was created with.
    pub fn capacity(&self) -> usize {
        self.free.capacity()
    }

    /// Number of buffers currently free.
    pub fn available(&self) -> usize {
        self.free.len()
    }
}

/// One pooled buffer on loan; dereferences to the buffer and returns it to the pool on drop.
pub struct Lease<T> {
    item: ManuallyDrop<T>,
    home: Arc<ArrayQueue<T>>,
}

impl<T> Deref for Lease<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T> DerefMut for Lease<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.item
    }
}

impl<T: fmt::Debug> fmt::Debug for Lease<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Lease").field(&*self.item).finish()
    }
}

impl<T> Drop for Lease<T> {
    fn drop(&mut self) {
        // SAFETY: `item` is taken exactly once, here, and never used afterwards.
        let item = unsafe { ManuallyDrop::take(&mut self.item) };
        // The free list has room for every buffer the pool owns, so this cannot be full; if it
        // ever were, dropping the buffer is the safe fallback.
        let _ = self.home.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_one_never_builds_an_empty_pool() {
        let empty = Pool::at_least_one(0, |i| i);
        assert_eq!((empty.capacity(), empty.available()), (1, 1));
        let three = Pool::at_least_one(3, |i| i * 10);
        let leased: Vec<usize> = (0..3).map(|_| *three.try_lease().unwrap()).collect();
        assert_eq!(leased, [0, 10, 20]);
    }

    #[test]
    fn exhaustion_returns_none_and_drop_returns_the_buffer() {
        let pool = Pool::new(2, |i| vec![i as u8; 4]).unwrap();
        let a = pool.try_lease().unwrap();
        let b = pool.try_lease().unwrap();
        assert_eq!(pool.available(), 0);
        assert!(pool.try_lease().is_none());
        drop(a);
        assert_eq!(pool.available(), 1);
        let c = pool.try_lease().unwrap();
        assert!(pool.try_lease().is_none());
        drop((b, c));
        assert_eq!(pool.available(), pool.capacity());
    }

    #[test]
    fn zero_capacity_is_refused() {
        assert_eq!(Pool::new(0, |_| 0u8).unwrap_err(), EmptyPoolError);
    }

    #[test]
    fn leases_move_between_threads_and_keep_their_contents() {
        let pool = Pool::new(1, |_| vec![0u8; 8]).unwrap();
        let mut lease = pool.try_lease().unwrap();
        lease[3] = 42;
        let handle = std::thread::spawn(move || {
            assert_eq!(lease[3], 42);
            drop(lease);
        });
        handle.join().unwrap();
        let again = pool.try_lease().unwrap();
        assert_eq!(again[3], 42, "the same preallocated buffer comes back");
        assert_eq!(again.capacity(), 8);
    }
}
