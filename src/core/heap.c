/* The allocator, tuned and counted: see heap.h. */
#define G_LOG_DOMAIN "vigil"

#include "heap.h"

#include "vigil-config.h"

#include <malloc.h>

#ifdef VIGIL_JEMALLOC
#include <jemalloc/jemalloc.h>

/* glibc's malloc kept whatever a burst had freed inside its arenas (a
 * network blackout's backlog arriving at once, 200 viewers leaving):
 * 9.8 MB/h of RSS growth in the hour soak while the heap in use stayed put,
 * though malloc_trim() ran once a minute. jemalloc packs allocations of one
 * size class together and hands back pages that stay free for a while.
 * background_thread: a thread of jemalloc's own returns them on time, not
 * the next malloc of some streaming thread; dirty pages go back after a
 * second unused (muzzy_decay_ms:0: at once, not first marked lazily free);
 * narenas:2: vigil's threads mostly wait, and each arena keeps its own free
 * pages (bench/RESULTS.md, "jemalloc"). Read by jemalloc at its first
 * malloc, before main(). */
const char *malloc_conf = "background_thread:true,narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0";
#endif

void vigil_heap_init(void)
{
#if !defined(VIGIL_JEMALLOC) && defined(M_ARENA_MAX)
  /* glibc gives a thread that finds the arenas busy one of its own, up to 8
   * per core, and what one arena frees the others do not reuse: with
   * vigil's many threads that cost ~55 MB at 8 cameras, a third of the RSS,
   * for no CPU saved (bench/RESULTS.md "memory"). One arena per core (at
   * least 2) instead, unless MALLOC_ARENA_MAX says otherwise. */
  if (!g_getenv("MALLOC_ARENA_MAX"))
    mallopt(M_ARENA_MAX, MAX(2, (int)g_get_num_processors()));
#endif
}

void vigil_heap_trim(void)
{
#if !defined(VIGIL_JEMALLOC) && defined(__GLIBC__)
  /* glibc hands freed memory back to the kernel only from the top of the
   * main heap; malloc_trim() also returns the whole free pages inside the
   * arenas (11.5 MB at once after a few blackouts, docs/soak.md). */
  malloc_trim(0);
#endif
}

#if !defined(VIGIL_JEMALLOC) && defined(__GLIBC__) &&                                              \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#define VIGIL_MALLINFO2 1
#endif

const char *vigil_heap_allocator(void)
{
#ifdef VIGIL_JEMALLOC
  return "jemalloc";
#elif defined(VIGIL_MALLINFO2)
  struct mallinfo2 mi = mallinfo2();
  /* Another allocator answering malloc (AddressSanitizer's) leaves glibc's
   * arenas untouched. */
  return mi.arena == 0 && mi.hblkhd == 0 ? "other" : "glibc";
#else
  return "other";
#endif
}

#ifdef VIGIL_JEMALLOC
/* One size_t statistic; 0 if this jemalloc does not have it. */
static gsize jemalloc_stat(const char *name)
{
  size_t value = 0, n = sizeof(value);
  return mallctl(name, &value, &n, NULL, 0) == 0 ? value : 0;
}

#define ALL_ARENAS "stats.arenas." G_STRINGIFY(MALLCTL_ARENAS_ALL) "."
#endif

gboolean vigil_heap_stats(VigilHeapStats *stats)
{
  *stats = (VigilHeapStats){0};
#ifdef VIGIL_JEMALLOC
  /* jemalloc's statistics are a snapshot taken when "epoch" is written. */
  guint64 epoch = 1;
  size_t len = sizeof(epoch);
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0)
    return FALSE;
  stats->in_use = jemalloc_stat("stats.allocated");
  stats->held = jemalloc_stat("stats.mapped");
  if (stats->in_use == 0)
    return FALSE;
  stats->active = jemalloc_stat("stats.active");
  stats->metadata = jemalloc_stat("stats.metadata");
  stats->resident = jemalloc_stat("stats.resident");
  stats->retained = jemalloc_stat("stats.retained");
  /* pdirty counts pages; tcache_bytes is not in 5.3's manual but is in its
   * mallctl tree. */
  stats->dirty = jemalloc_stat(ALL_ARENAS "pdirty") * (gsize)jemalloc_stat("arenas.page");
  stats->cached = jemalloc_stat(ALL_ARENAS "tcache_bytes");
  return TRUE;
#elif defined(VIGIL_MALLINFO2)
  /* Walks every arena's free lists under its lock: cheap at the rate a
   * scraper asks. */
  struct mallinfo2 mi = mallinfo2();
  if (mi.arena == 0 && mi.hblkhd == 0)
    return FALSE;
  stats->in_use = mi.uordblks + mi.hblkhd;
  stats->held = mi.arena + mi.hblkhd;
  return TRUE;
#else
  return FALSE;
#endif
}
