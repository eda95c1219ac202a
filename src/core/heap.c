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

gboolean vigil_heap_stats(gsize *in_use, gsize *held)
{
  *in_use = *held = 0;
#ifdef VIGIL_JEMALLOC
  /* jemalloc's statistics are a snapshot taken when "epoch" is written. */
  guint64 epoch = 1;
  size_t len = sizeof(epoch);
  size_t allocated = 0, mapped = 0;
  size_t n = sizeof(size_t);
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0 ||
      mallctl("stats.allocated", &allocated, &n, NULL, 0) != 0 ||
      mallctl("stats.mapped", &mapped, &n, NULL, 0) != 0)
    return FALSE;
  *in_use = allocated;
  *held = mapped;
  return TRUE;
#elif defined(VIGIL_MALLINFO2)
  /* Walks every arena's free lists under its lock: cheap at the rate a
   * scraper asks. */
  struct mallinfo2 mi = mallinfo2();
  if (mi.arena == 0 && mi.hblkhd == 0)
    return FALSE;
  *in_use = mi.uordblks + mi.hblkhd;
  *held = mi.arena + mi.hblkhd;
  return TRUE;
#else
  return FALSE;
#endif
}
