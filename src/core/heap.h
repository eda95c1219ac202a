/* The allocator vigil runs on: set up before any thread starts, its free
 * memory handed back now and then, and what it holds counted for /metrics.
 * vigil links jemalloc when it is there (meson option "jemalloc", off in
 * sanitizer builds, whose allocator answers malloc instead), else it tunes
 * glibc's malloc. Why: docs/soak.md, "RSS after warm-up". Thread-safe. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first thing in main(), before any thread exists. */
void vigil_heap_init(void);

/* Hands free memory back to the kernel where the allocator does not do it by
 * itself (glibc's arenas). Once a minute from the main loop. */
void vigil_heap_trim(void);

/* "jemalloc", "glibc" or "other" (AddressSanitizer's, say). */
const char *vigil_heap_allocator(void);

/* Bytes vigil holds (allocated, not freed) and bytes the allocator holds
 * from the system for it (in use or free). FALSE, and both 0, when the
 * allocator does not say. */
gboolean vigil_heap_stats(gsize *in_use, gsize *held);

G_END_DECLS
