//! The binaries' allocator (the CLI's, and the step bench's through `#[path]`): mimalloc, told
//! to keep the memory it frees.
//!
//! mimalloc keeps freed tensor buffers for reuse where glibc's malloc unmaps the large ones and
//! the next step faults them in again (25% of a WRN-16-1 student step, docs/performance.md).
//! Left at its defaults, mimalloc still hands freed memory back to the OS after 10 ms (its
//! `purge_delay`), and a distillation step frees and re-allocates the same large buffers every
//! few milliseconds: the kernel faulted them back in and zeroed them (2 MiB at a time with
//! transparent huge pages) on every step. Measured on the WRN-16-1 student step: 18,123 page
//! faults in 12 steps and 13% more CPU time than with purging off; peak RSS 502 → 574 MiB.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(unsafe_code)] // two functions of the linked C library; see `keep_freed_memory`
unsafe extern "C" {
    fn mi_version() -> std::ffi::c_int;
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (include/mimalloc.h).
const PURGE_DELAY_V3: std::ffi::c_int = 15;

/// Turns mimalloc's purging off (delay −1) unless `MIMALLOC_PURGE_DELAY` says otherwise; only
/// on mimalloc 3, whose option numbering this relies on (other versions keep their defaults).
pub fn keep_freed_memory() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: two C calls into the linked mimalloc, the option index checked against its
    // version; mi_option_set is thread-safe and takes effect for later purges.
    #[allow(unsafe_code)]
    unsafe {
        if (30_000..40_000).contains(&mi_version()) {
            mi_option_set(PURGE_DELAY_V3, -1);
        }
    }
}
