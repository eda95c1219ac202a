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

/* What the allocator holds, in bytes. in_use and held come from any
 * allocator that says; the rest only from jemalloc (0 otherwise), and tell
 * apart where memory vigil freed but the process still holds has gone. */
typedef struct {
  gsize in_use;   /* allocated by vigil and not freed */
  gsize held;     /* taken from the system, in use or free (jemalloc: mapped) */
  gsize active;   /* pages with an allocation in them: in_use + slab holes */
  gsize dirty;    /* free pages not yet handed back (they decay) */
  gsize metadata; /* the allocator's own bookkeeping */
  gsize resident; /* jemalloc's pages in memory, at most: it counts pages never written */
  gsize retained; /* address space kept unmapped for reuse (not in RSS) */
  gsize cached;   /* free objects in the threads' caches (jemalloc counts them in in_use) */
} VigilHeapStats;

/* FALSE, and all 0, when the allocator does not say. */
gboolean vigil_heap_stats(VigilHeapStats *stats);

G_END_DECLS
