//! Resident memory: two adjustments to glibc's allocator, which otherwise
//! keeps freed memory mapped for the life of the process.

/// Makes glibc serve large allocations with mmap, always. Each Argon2
/// verification allocates its memory cost (19 MiB by default); by default
/// glibc raises its mmap threshold after the first such block is freed and
/// keeps later ones in the heap, so resident memory would stay ~20 MiB
/// higher for the life of the process after the first cache miss.
///
/// Call it before any other thread exists.
pub fn return_large_allocations_to_the_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; the caller runs it
    // before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Hands the pages freed since the last call back to the OS. Validating a
/// configuration builds a TOML document, a JSON value and the schema's
/// errors for every client and then frees them; glibc keeps those pages,
/// scattered between live allocations (measured with 2,001 clients: 4.6 MB
/// of the 16 MB the process holds after start-up). Called after start-up
/// and after every reload that parsed a file; it costs about a millisecond.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the OS; it takes the
    // allocator's own locks and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
