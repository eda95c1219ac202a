/* Tests for core/heap.c: which allocator answers malloc, and that the
 * figures /metrics shows follow what vigil allocates. */
#include <malloc.h>
#include <string.h>

#include "core/heap.h"
#include "vigil-config.h"

#ifdef VIGIL_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

static gboolean sanitized(void)
{
  return g_strcmp0(vigil_heap_allocator(), "other") == 0;
}

static void test_allocator(void)
{
  const char *name = vigil_heap_allocator();
#ifdef VIGIL_JEMALLOC
  g_assert_cmpstr(name, ==, "jemalloc");
  /* jemalloc, not glibc, answers malloc: glibc's arenas stay empty. */
  void *p = malloc(4 << 20);
  memset(p, 1, 4 << 20);
  struct mallinfo2 mi = mallinfo2();
  g_assert_cmpuint(mi.arena + mi.hblkhd, <, 1 << 20);
  free(p);
  /* heap.c's malloc_conf was read. */
  bool on = false;
  size_t n = sizeof(on);
  g_assert_cmpint(mallctl("background_thread", &on, &n, NULL, 0), ==, 0);
  g_assert_true(on);
  unsigned arenas = 0;
  n = sizeof(arenas);
  g_assert_cmpint(mallctl("opt.narenas", &arenas, &n, NULL, 0), ==, 0);
  g_assert_cmpuint(arenas, ==, 2);
#else
  g_assert_true(g_strcmp0(name, "glibc") == 0 || g_strcmp0(name, "other") == 0);
#endif
}

static void test_stats_follow_allocations(void)
{
  vigil_heap_init();
  VigilHeapStats h0;
  gboolean known = vigil_heap_stats(&h0);
  if (sanitized()) {
    g_assert_false(known);
    g_assert_cmpuint(h0.in_use, ==, 0);
    g_test_skip("the allocator (a sanitizer's) gives no figures");
    return;
  }
  g_assert_true(known);
  g_assert_cmpuint(h0.in_use, >, 0);
  g_assert_cmpuint(h0.held, >=, h0.in_use);

  const gsize size = 16 << 20;
  guint8 *block = g_malloc(size);
  memset(block, 0x5a, size);
  VigilHeapStats h1;
  g_assert_true(vigil_heap_stats(&h1));
  g_assert_cmpuint(h1.in_use, >=, h0.in_use + size);
  g_assert_cmpuint(h1.held, >=, h1.in_use);
#ifdef VIGIL_JEMALLOC
  /* The breakdown: the block's pages are active and resident, inside what
   * is mapped; the allocator's bookkeeping is something but not that. */
  g_assert_cmpuint(h1.active, >=, h1.in_use);
  g_assert_cmpuint(h1.active, <=, h1.held);
  g_assert_cmpuint(h1.resident, >=, h1.active);
  g_assert_cmpuint(h1.metadata, >, 0);
  g_assert_cmpuint(h1.metadata, <, size);
#else
  g_assert_cmpuint(h1.active + h1.dirty + h1.metadata + h1.resident + h1.retained + h1.cached, ==,
                   0);
#endif

  g_free(block);
  vigil_heap_trim();
  VigilHeapStats h2;
  g_assert_true(vigil_heap_stats(&h2));
  g_assert_cmpuint(h2.in_use + size, <=, h1.in_use);
#ifdef VIGIL_JEMALLOC
  /* The freed block's pages are no longer active: dirty until they decay
   * (or already handed back), never still counted as in use. */
  g_assert_cmpuint(h2.active + size, <=, h1.active);
#endif
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/heap/allocator", test_allocator);
  g_test_add_func("/heap/stats-follow-allocations", test_stats_follow_allocations);
  return g_test_run();
}
