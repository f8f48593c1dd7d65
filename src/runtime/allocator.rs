//! Resident memory: the process allocates through mimalloc (the binary's
//! global allocator) and, in C code such as aws-lc, through glibc; both
//! keep freed memory mapped unless told otherwise.

/// `mi_option_arena_eager_commit` in the `mimalloc.h` (v3) that
/// libmimalloc-sys 0.1.49 builds; the crate names no constant for it.
const MI_OPTION_ARENA_EAGER_COMMIT: std::ffi::c_int = 4;

/// Makes mimalloc commit arena memory as it is used, not a whole arena at
/// once (its default on Linux): measured with the benchmark's 2,003
/// clients, resident memory was 41-42 MB idle and after a load with the
/// default, 26-27 MB without it, which is what glibc's allocator held.
/// Call it before the first allocation (the binary does, from
/// `.init_array`): only arenas reserved later follow it.
pub fn commit_as_used() {
    // SAFETY: mi_option_set only changes an allocator option; an option
    // number it does not know is ignored.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
    }
}

/// Makes glibc serve large allocations with mmap, always: for what glibc
/// still allocates (C code; all of Rust's allocations where the library
/// runs without the binary's mimalloc). Each Argon2 verification allocates
/// its memory cost (19 MiB by default); by default glibc raises its mmap
/// threshold after the first such block is freed and keeps later ones in
/// the heap, so resident memory would stay ~20 MiB higher for the life of
/// the process after the first cache miss.
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
/// configuration builds the parsed file and a registry of every client,
/// and a reload then frees the previous one: about 180 MB with 100,000
/// clients. mimalloc returns a thread's free pages only when that thread
/// allocates again, and the reload's thread may then sleep for minutes:
/// resident memory measured one second after start was 132 MB in one run
/// and 228 MB in the next. Called, on the thread that validated, after
/// start-up and after every reload that parsed a file.
pub fn release_freed() {
    // SAFETY: mi_collect only frees the calling thread's empty pages and
    // purges what is free; it is safe to call on any thread at any time.
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the OS; it takes the
    // allocator's own locks and is safe to call from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}
