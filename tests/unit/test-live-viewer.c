/* Tests for VigilViewer (bounded queue: order, GOP drop and resume at a
 * keyframe, close after the grace period, counters, latency) and VigilHls
 * (cutting at keyframes, ring size, playlist text). Chunks are synthetic. */
#include <string.h>

#include "live/hls.h"
#include "live/viewer.h"

#define K VIGIL_CHUNK_KEYFRAME

static VigilChunk *make_chunk(gint64 pts, VigilChunkFlags flags, gsize size)
{
  g_autoptr(GBytes) bytes = g_bytes_new_take(g_malloc0(size), size);
  return vigil_chunk_new(bytes, flags, pts, g_get_real_time(), g_get_monotonic_time());
}

static void push(VigilStream *stream, gint64 pts, VigilChunkFlags flags, gsize size)
{
  g_autoptr(VigilChunk) chunk = make_chunk(pts, flags, size);
  vigil_stream_push(stream, chunk);
}

static void drain(void)
{
  while (g_main_context_iteration(NULL, FALSE))
    ;
}

typedef struct {
  guint ready_calls;
  gboolean closed;
} Transport;

static void on_ready(VigilViewer *viewer, gpointer user_data)
{
  ((Transport *)user_data)->ready_calls++;
}

static void on_close(VigilViewer *viewer, gpointer user_data)
{
  ((Transport *)user_data)->closed = TRUE;
}

static void test_viewer_order_and_counters(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("order");
  push(stream, 0, K, 188);
  push(stream, 1, 0, 188);
  /* Latency counts chunks that arrived after the viewer joined (by the
   * monotonic clock, in microseconds): keep the three moments apart. */
  g_usleep(1000);
  Transport t = {0};
  VigilViewer *v = vigil_viewer_new(stream, VIGIL_VIEWER_WS, on_ready, on_close, &t);
  g_usleep(1000);
  push(stream, 2, 0, 376);
  drain();
  g_assert_cmpuint(t.ready_calls, ==, 3);
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 752);
  for (gint64 i = 0; i < 3; i++) {
    g_autoptr(VigilChunk) c = vigil_viewer_pop(v);
    g_assert_nonnull(c);
    g_assert_cmpint(c->pts, ==, i);
  }
  g_assert_null(vigil_viewer_pop(v));
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 752);
  VigilViewerLatency before;
  vigil_viewer_get_latency(&before);
  vigil_viewer_wrote(v, 200); /* first chunk and part of the second */
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 552);
  vigil_viewer_wrote(v, 552);
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 0);
  VigilViewerLatency after;
  vigil_viewer_get_latency(&after);
  /* Only the chunk pushed after the viewer joined counts as latency. */
  g_assert_cmpuint(after.count - before.count, ==, 1);

  VigilViewerCounters c;
  vigil_viewer_get_counters("order", &c);
  g_assert_cmpuint(c.viewers[VIGIL_VIEWER_WS], ==, 1);
  g_assert_cmpuint(c.bytes_sent[VIGIL_VIEWER_WS], ==, 752);
  VigilStreamStats st;
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpuint(st.viewers, ==, 1);
  vigil_viewer_free(v);
  vigil_viewer_get_counters("order", &c);
  g_assert_cmpuint(c.viewers[VIGIL_VIEWER_WS], ==, 0);
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpuint(st.viewers, ==, 0);
}

static void test_viewer_drops_gops(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("slow");
  Transport t = {0};
  VigilViewer *v = vigil_viewer_new(stream, VIGIL_VIEWER_TS, on_ready, on_close, &t);
  const gsize big = VIGIL_VIEWER_MAX_QUEUED / 4;
  /* Nothing is ever written: the 5th chunk passes the bound. */
  push(stream, 0, K, big);
  for (gint64 i = 1; i < 8; i++)
    push(stream, i, 0, big);
  drain();
  g_assert_cmpuint(vigil_viewer_get_gops_dropped(v), ==, 1);
  /* Queued chunks were dropped; the rest of the GOP is skipped. */
  g_assert_null(vigil_viewer_pop(v));
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 0);
  push(stream, 8, 0, 188);
  drain();
  g_assert_null(vigil_viewer_pop(v));
  /* It resumes at the next keyframe. */
  push(stream, 9, K, 188);
  push(stream, 10, 0, 188);
  drain();
  g_autoptr(VigilChunk) c = vigil_viewer_pop(v);
  g_assert_nonnull(c);
  g_assert_cmpint(c->pts, ==, 9);
  g_assert_true(vigil_chunk_is_keyframe(c));
  g_assert_false(t.closed);
  VigilViewerCounters counters;
  vigil_viewer_get_counters("slow", &counters);
  g_assert_cmpuint(counters.gops_dropped, ==, 1);
  vigil_viewer_free(v);
}

static void test_viewer_in_flight_bytes_count(void)
{
  /* Bytes popped but not written hold the bound too (live.ts: libsoup's
   * buffer). */
  g_autoptr(VigilStream) stream = vigil_stream_new("inflight");
  Transport t = {0};
  VigilViewer *v = vigil_viewer_new(stream, VIGIL_VIEWER_TS, on_ready, on_close, &t);
  const gsize big = VIGIL_VIEWER_MAX_QUEUED / 2;
  push(stream, 0, K, big);
  drain();
  vigil_chunk_unref(vigil_viewer_pop(v));
  push(stream, 1, 0, big - 188);
  drain();
  vigil_chunk_unref(vigil_viewer_pop(v));
  push(stream, 2, 0, 376);
  drain();
  g_assert_cmpuint(vigil_viewer_get_gops_dropped(v), ==, 1);
  vigil_viewer_wrote(v, VIGIL_VIEWER_MAX_QUEUED - 188);
  g_assert_cmpuint(vigil_viewer_get_outstanding(v), ==, 0);
  vigil_viewer_free(v);
}

static void test_hls_segments(void)
{
  g_autoptr(VigilHls) hls = vigil_hls_new();
  g_assert_null(vigil_hls_playlist(hls, "live/"));
  /* 25 fps, keyframe every second: a segment is one GOP. Chunks
   * before the first keyframe are ignored. */
  g_autoptr(VigilChunk) early = make_chunk(0, 0, 188);
  vigil_hls_push(hls, early);
  guint completed = 0;
  for (int f = 1; f <= 25 * 10; f++) {
    g_autoptr(VigilChunk) c = make_chunk(f * 3600, f % 25 == 1 ? K : 0, 188);
    completed += vigil_hls_push(hls, c);
  }
  g_assert_cmpuint(completed, ==, 9);
  g_assert_cmpuint(vigil_hls_count(hls), ==, VIGIL_HLS_SEGMENTS);
  g_autofree gchar *text = vigil_hls_playlist(hls, "live/");
  g_assert_true(g_str_has_prefix(text, "#EXTM3U\n"));
  g_assert_nonnull(strstr(text, "#EXT-X-TARGETDURATION:1\n"));
  g_assert_nonnull(strstr(text, "#EXT-X-MEDIA-SEQUENCE:"));
  g_assert_nonnull(strstr(text, "#EXTINF:1.000,\nlive/"));
  /* Segment numbers: the oldest held is completed - 6. */
  guint64 oldest = completed - VIGIL_HLS_SEGMENTS;
  gsize size = 0;
  g_autoptr(GPtrArray) seg = vigil_hls_get_segment(hls, oldest, &size);
  g_assert_nonnull(seg);
  g_assert_cmpuint(seg->len, ==, 25);
  g_assert_cmpuint(size, ==, 25 * 188);
  g_assert_true(vigil_chunk_is_keyframe(g_ptr_array_index(seg, 0)));
  g_assert_null(vigil_hls_get_segment(hls, oldest - 1, NULL));
  g_assert_null(vigil_hls_get_segment(hls, completed, NULL)); /* still being filled */
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/viewer/order-and-counters", test_viewer_order_and_counters);
  g_test_add_func("/viewer/drops-gops", test_viewer_drops_gops);
  g_test_add_func("/viewer/in-flight-bytes-count", test_viewer_in_flight_bytes_count);
  g_test_add_func("/hls/segments", test_hls_segments);
  return g_test_run();
}
