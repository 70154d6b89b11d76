//! The allocator, and handing memory back to the system after a burst of connections.
//!
//! jemalloc over glibc's malloc: less memory per idle subscriber, faster replay and appends
//! (BENCHMARKS.md). Freed memory stays with jemalloc — in each thread's cache and in its arenas'
//! dirty pages, returned over 10 s of further activity — so after thousands of connections close
//! the server asks for it back explicitly: [`release`] purges every arena, and each runtime
//! worker, the next time it goes idle, empties its thread cache and purges again
//! ([`on_worker_park`]): the workers free what every connection held, so their caches alone keep
//! much of it (BENCHMARKS.md, "Each runtime worker empties its jemalloc thread cache").

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Bumped by each release; a worker that has not flushed since does so when it parks.
static RELEASES: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static FLUSHED: Cell<u64> = const { Cell::new(0) };
}

/// Hands freed memory back to the system (for `Config::release_memory`; runs on a blocking
/// thread).
pub fn release() {
    RELEASES.fetch_add(1, Ordering::Relaxed);
    // `arena.<MALLCTL_ARENAS_ALL>.purge`: 4096 addresses every arena in jemalloc 5.
    mallctl_void(b"arena.4096.purge\0");
}

/// Runtime hook (`on_thread_park`): a worker going idle after a release empties its thread
/// cache, then purges what that freed. Otherwise one atomic load.
pub fn on_worker_park() {
    let wanted = RELEASES.load(Ordering::Relaxed);
    if FLUSHED.with(|f| f.replace(wanted)) != wanted {
        mallctl_void(b"thread.tcache.flush\0");
        mallctl_void(b"arena.4096.purge\0");
    }
}

/// A mallctl that reads and writes nothing (a command such as purge or flush).
fn mallctl_void(name: &[u8]) {
    debug_assert_eq!(name.last(), Some(&0));
    // SAFETY: `name` is nul-terminated; a command reads and writes no value, so the old and new
    // value pointers are null with a zero length, as jemalloc's mallctl documents. Failure (an
    // unknown name) leaves the allocator as it was, and memory release is best effort.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr().cast(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}
