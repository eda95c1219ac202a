/* Tests for VigilStream: GOP cache, subscriber delivery (synchronous and in a
 * GMainContext, across threads), unsubscribe semantics, the cache cap, stats
 * and reset. Chunks are synthetic: their pts doubles as a sequence id. */
#include <string.h>

#include "live/stream.h"

#define K VIGIL_CHUNK_KEYFRAME
#define A VIGIL_CHUNK_AUDIO
#define D 0

static VigilChunk *make_chunk(gint64 pts, VigilChunkFlags flags, gsize size)
{
  guint8 *data = g_malloc0(size);
  g_autoptr(GBytes) bytes = g_bytes_new_take(data, size);
  return vigil_chunk_new(bytes, flags, pts, g_get_real_time(), g_get_monotonic_time());
}

static void push(VigilStream *stream, gint64 pts, VigilChunkFlags flags)
{
  g_autoptr(VigilChunk) chunk = make_chunk(pts, flags, 188);
  vigil_stream_push(stream, chunk);
}

static void assert_gop(VigilStream *stream, const gint64 *expect, guint n)
{
  g_autoptr(GPtrArray) gop = vigil_stream_get_gop(stream);
  g_assert_cmpuint(gop->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint(((VigilChunk *)g_ptr_array_index(gop, i))->pts, ==, expect[i]);
  if (n > 0)
    g_assert_true(vigil_chunk_is_keyframe(g_ptr_array_index(gop, 0)));
}

/* A recorder of what a subscriber saw. */
typedef struct {
  GMutex lock;
  GArray *pts;       /* gint64 */
  GPtrArray *chunks; /* refs, when keep_chunks */
  gboolean keep_chunks;
  GThread *expect_thread;
  gint destroyed;
  gint calls_after_unsubscribe;
  gint unsubscribed;
  /* unsubscribe self at this many calls (0 = never) */
  guint unsubscribe_at;
  VigilStream *stream;
  VigilSubscriber *sub;
  GMainLoop *loop;
  gint64 quit_at_pts;
} Rec;

static Rec *rec_new(void)
{
  Rec *r = g_new0(Rec, 1);
  g_mutex_init(&r->lock);
  r->pts = g_array_new(FALSE, FALSE, sizeof(gint64));
  r->chunks = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_chunk_unref);
  r->quit_at_pts = -1;
  return r;
}

static void rec_free(Rec *r)
{
  g_array_unref(r->pts);
  g_ptr_array_unref(r->chunks);
  g_mutex_clear(&r->lock);
  g_free(r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Rec, rec_free)

static void rec_destroy(gpointer data)
{
  Rec *r = data;
  g_assert_cmpint(g_atomic_int_add(&r->destroyed, 1), ==, 0);
}

static void rec_func(VigilChunk *chunk, gpointer data)
{
  Rec *r = data;
  g_assert_cmpint(g_atomic_int_get(&r->destroyed), ==, 0);
  if (g_atomic_int_get(&r->unsubscribed))
    g_atomic_int_inc(&r->calls_after_unsubscribe);
  if (r->expect_thread != NULL)
    g_assert_true(g_thread_self() == r->expect_thread);
  g_mutex_lock(&r->lock);
  g_array_append_val(r->pts, chunk->pts);
  if (r->keep_chunks)
    g_ptr_array_add(r->chunks, vigil_chunk_ref(chunk));
  guint n = r->pts->len;
  g_mutex_unlock(&r->lock);
  if (r->unsubscribe_at != 0 && n == r->unsubscribe_at) {
    vigil_stream_unsubscribe(r->stream, r->sub);
    g_atomic_int_set(&r->unsubscribed, 1);
  }
  if (r->loop != NULL && chunk->pts == r->quit_at_pts)
    g_main_loop_quit(r->loop);
}

static void assert_seen(Rec *r, const gint64 *expect, guint n)
{
  g_mutex_lock(&r->lock);
  g_assert_cmpuint(r->pts->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint(g_array_index(r->pts, gint64, i), ==, expect[i]);
  g_mutex_unlock(&r->lock);
}

/* ---- tests ---- */

static void test_gop_cache(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam1");
  g_assert_cmpstr(vigil_stream_get_camera_id(stream), ==, "cam1");
  assert_gop(stream, NULL, 0);
  push(stream, 1, D); /* before any keyframe: dropped */
  push(stream, 2, A);
  assert_gop(stream, NULL, 0);
  push(stream, 3, K);
  push(stream, 4, D);
  push(stream, 5, A);
  push(stream, 6, D);
  assert_gop(stream, (gint64[]){3, 4, 5, 6}, 4);
  push(stream, 7, K);
  assert_gop(stream, (gint64[]){7}, 1);
  push(stream, 8, A);
  push(stream, 9, D | VIGIL_CHUNK_DISCONT);
  assert_gop(stream, (gint64[]){7, 8, 9}, 3);

  /* The cache holds the very chunks pushed, not copies. */
  g_autoptr(VigilChunk) c = make_chunk(10, D, 188);
  vigil_stream_push(stream, c);
  g_autoptr(GPtrArray) gop = vigil_stream_get_gop(stream);
  g_assert_true(g_ptr_array_index(gop, 3) == c);
}

static void test_pre_keyframe_dropped(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) live = rec_new();
  g_autoptr(Rec) gop = rec_new();
  VigilSubscriber *s1 = vigil_stream_subscribe(stream, FALSE, NULL, rec_func, live, NULL);
  VigilSubscriber *s2 = vigil_stream_subscribe(stream, TRUE, NULL, rec_func, gop, NULL);
  push(stream, 1, D);
  push(stream, 2, A);
  push(stream, 3, K);
  push(stream, 4, D);
  assert_seen(live, (gint64[]){3, 4}, 2);
  assert_seen(gop, (gint64[]){3, 4}, 2);
  vigil_stream_unsubscribe(stream, s1);
  vigil_stream_unsubscribe(stream, s2);
}

static void test_from_gop_sync(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  push(stream, 1, K);
  push(stream, 2, D);
  push(stream, 3, A);
  push(stream, 4, D);
  g_autoptr(Rec) r = rec_new();
  r->expect_thread = g_thread_self();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, TRUE, NULL, rec_func, r, rec_destroy);
  /* The GOP is delivered during subscribe. */
  assert_seen(r, (gint64[]){1, 2, 3, 4}, 4);
  push(stream, 5, D);
  push(stream, 6, K);
  push(stream, 7, D);
  assert_seen(r, (gint64[]){1, 2, 3, 4, 5, 6, 7}, 7);

  /* A live-only subscriber starts with the next chunk, whatever it is. */
  g_autoptr(Rec) l = rec_new();
  VigilSubscriber *lsub = vigil_stream_subscribe(stream, FALSE, NULL, rec_func, l, NULL);
  assert_seen(l, NULL, 0);
  push(stream, 8, A);
  assert_seen(l, (gint64[]){8}, 1);

  VigilStreamStats stats;
  vigil_stream_get_stats(stream, &stats);
  g_assert_cmpuint(stats.subscribers, ==, 2);
  vigil_stream_unsubscribe(stream, sub);
  g_assert_cmpint(r->destroyed, ==, 1);
  vigil_stream_unsubscribe(stream, lsub);
  vigil_stream_get_stats(stream, &stats);
  g_assert_cmpuint(stats.subscribers, ==, 0);
  push(stream, 9, D);
  g_assert_cmpuint(r->pts->len, ==, 8); /* 8 arrived before unsubscribe, 9 after */
}

/* ---- delivery into a GMainContext from another thread ---- */

typedef struct {
  VigilStream *stream;
  gint64 count;
  guint gop;
  gulong sleep_every; /* pushes between short sleeps */
  gint progress;      /* chunks pushed so far */
} Pusher;

static VigilChunkFlags pusher_flags(const Pusher *p, gint64 i)
{
  if (i % p->gop == 0)
    return K;
  return i % 3 == 1 ? A : D;
}

static gpointer pusher_thread(gpointer data)
{
  Pusher *p = data;
  for (gint64 i = 0; i < p->count; i++) {
    push(p->stream, i, pusher_flags(p, i));
    g_atomic_int_set(&p->progress, (gint)i + 1);
    if (p->sleep_every && i % p->sleep_every == 0)
      g_usleep(200);
  }
  return NULL;
}

static gboolean subscribe_later(gpointer data)
{
  Rec *r = data;
  r->sub = vigil_stream_subscribe(r->stream, TRUE, g_main_context_get_thread_default(), rec_func, r,
                                  rec_destroy);
  return G_SOURCE_REMOVE;
}

static void test_context_delivery(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  g_autoptr(GMainLoop) loop = g_main_loop_new(ctx, FALSE);
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  Pusher p = {stream, 3000, 30, 7, 0};

  /* One subscriber from the start, one that joins mid-stream from_gop. */
  g_autoptr(Rec) early = rec_new();
  early->expect_thread = g_thread_self();
  early->stream = stream;
  early->sub = vigil_stream_subscribe(stream, TRUE, ctx, rec_func, early, rec_destroy);
  g_autoptr(Rec) late = rec_new();
  late->expect_thread = g_thread_self();
  late->stream = stream;
  late->loop = loop;
  late->quit_at_pts = p.count - 1;

  GThread *thread = g_thread_new("pusher", pusher_thread, &p);
  /* Join while the pusher is mid-GOP. */
  while (g_atomic_int_get(&p.progress) < 1015)
    g_main_context_iteration(ctx, FALSE);
  GSource *idle = g_idle_source_new();
  g_source_set_callback(idle, subscribe_later, late, NULL);
  g_source_attach(idle, ctx);
  g_source_unref(idle);
  g_main_loop_run(loop);
  g_thread_join(thread);
  while (g_main_context_iteration(ctx, FALSE))
    ;

  /* early: everything from 0, in order. */
  g_assert_cmpuint(early->pts->len, ==, p.count);
  for (guint i = 0; i < early->pts->len; i++)
    g_assert_cmpint(g_array_index(early->pts, gint64, i), ==, i);
  /* late: a contiguous run from a keyframe to the end, nothing missed or
   * repeated at the junction of GOP and live chunks. */
  g_assert_cmpuint(late->pts->len, >, 0);
  gint64 first = g_array_index(late->pts, gint64, 0);
  g_assert_cmpint(first % p.gop, ==, 0);
  g_assert_cmpint(first, >=, 990);
  g_assert_cmpuint(late->pts->len, ==, p.count - first);
  for (guint i = 0; i < late->pts->len; i++)
    g_assert_cmpint(g_array_index(late->pts, gint64, i), ==, first + i);

  vigil_stream_unsubscribe(stream, early->sub);
  vigil_stream_unsubscribe(stream, late->sub);
  g_assert_cmpint(early->destroyed, ==, 1);
  g_assert_cmpint(late->destroyed, ==, 1);
  g_main_context_pop_thread_default(ctx);
}

static void test_unsubscribe_pending(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) r = rec_new();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, FALSE, ctx, rec_func, r, rec_destroy);
  push(stream, 1, K);
  push(stream, 2, D);
  g_assert_true(g_main_context_pending(ctx)); /* a drain is due */
  vigil_stream_unsubscribe(stream, sub);
  g_assert_cmpint(r->destroyed, ==, 1); /* nothing was running: destroyed at once */
  while (g_main_context_iteration(ctx, FALSE))
    ;
  g_assert_cmpuint(r->pts->len, ==, 0);
  push(stream, 3, D);
  while (g_main_context_iteration(ctx, FALSE))
    ;
  g_assert_cmpuint(r->pts->len, ==, 0);

  /* Unsubscribing from inside the callback, with more queued behind. */
  g_autoptr(Rec) s = rec_new();
  s->stream = stream;
  s->unsubscribe_at = 2;
  s->sub = vigil_stream_subscribe(stream, TRUE, ctx, rec_func, s, rec_destroy);
  for (int i = 4; i < 10; i++)
    push(stream, i, i == 5 ? K : D);
  while (g_main_context_iteration(ctx, FALSE))
    ;
  assert_seen(s, (gint64[]){1, 2}, 2); /* GOP was 1,2,3 */
  g_assert_cmpint(s->destroyed, ==, 1);
  g_assert_cmpint(s->calls_after_unsubscribe, ==, 0);
}

/* A subscriber with a delay is woken once per batch: nothing is due right
 * after the pushes, and one iteration delivers them all, in order. */
static void test_batched_delivery(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) r = rec_new();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, FALSE, ctx, rec_func, r, rec_destroy);
  /* Long enough that no scheduling hiccup can make it due early. */
  vigil_subscriber_set_delay(sub, 3 * G_USEC_PER_SEC);
  gint64 start = g_get_monotonic_time();
  for (int i = 1; i <= 5; i++)
    push(stream, i, i == 1 ? K : D);
  g_assert_false(g_main_context_iteration(ctx, FALSE));
  g_assert_cmpuint(r->pts->len, ==, 0);
  g_assert_true(g_main_context_iteration(ctx, TRUE)); /* blocks until the batch is due */
  g_assert_cmpint(g_get_monotonic_time() - start, >=, 3 * G_USEC_PER_SEC);
  assert_seen(r, (gint64[]){1, 2, 3, 4, 5}, 5);

  /* Back to a wake-up per chunk. */
  vigil_subscriber_set_delay(sub, 0);
  push(stream, 6, D);
  g_assert_true(g_main_context_pending(ctx));
  while (g_main_context_iteration(ctx, FALSE))
    ;
  assert_seen(r, (gint64[]){1, 2, 3, 4, 5, 6}, 6);
  vigil_stream_unsubscribe(stream, sub);
}

static void test_sync_unsubscribe_in_callback(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) a = rec_new();
  g_autoptr(Rec) b = rec_new();
  a->stream = stream;
  a->unsubscribe_at = 2;
  a->sub = vigil_stream_subscribe(stream, FALSE, NULL, rec_func, a, rec_destroy);
  b->sub = vigil_stream_subscribe(stream, FALSE, NULL, rec_func, b, rec_destroy);
  push(stream, 1, K);
  push(stream, 2, D);
  /* destroy waits for the callback to return, then runs at once */
  g_assert_cmpint(a->destroyed, ==, 1);
  push(stream, 3, D);
  assert_seen(a, (gint64[]){1, 2}, 2);
  assert_seen(b, (gint64[]){1, 2, 3}, 3);
  g_assert_cmpint(a->calls_after_unsubscribe, ==, 0);

  vigil_stream_unsubscribe(stream, b->sub);
}

/* Synchronous subscribers come and go from the main thread while another
 * thread pushes: once unsubscribe returns, the callback never runs again and
 * user_data has been destroyed. */
static void test_sync_unsubscribe_threads(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  Pusher p = {stream, 20000, 25, 50, 0};
  GThread *thread = g_thread_new("pusher", pusher_thread, &p);
  guint rounds = 0;
  while (g_atomic_int_get(&p.progress) < p.count && rounds < 5000) {
    g_autoptr(Rec) r = rec_new();
    r->sub = vigil_stream_subscribe(stream, rounds % 2, NULL, rec_func, r, rec_destroy);
    g_thread_yield();
    vigil_stream_unsubscribe(stream, r->sub);
    g_atomic_int_set(&r->unsubscribed, 1);
    g_assert_cmpint(g_atomic_int_get(&r->destroyed), ==, 1);
    /* The pusher may still be about to push: give it a chance to misbehave. */
    g_thread_yield();
    g_assert_cmpint(g_atomic_int_get(&r->calls_after_unsubscribe), ==, 0);
    rounds++;
  }
  g_thread_join(thread);
  g_assert_cmpuint(rounds, >, 10);
}

static void test_shared_bytes(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  Rec *recs[6];
  VigilSubscriber *subs[6];
  for (int i = 0; i < 6; i++) {
    recs[i] = rec_new();
    recs[i]->keep_chunks = TRUE;
    subs[i] = vigil_stream_subscribe(stream, i % 3 == 0, i % 2 ? ctx : NULL, rec_func, recs[i],
                                     (GDestroyNotify)rec_free);
  }
  VigilChunk *sent[3];
  for (int i = 0; i < 3; i++) {
    sent[i] = make_chunk(i, i == 0 ? K : D, 188 * 50);
    vigil_stream_push(stream, sent[i]);
  }
  while (g_main_context_iteration(ctx, FALSE))
    ;
  for (int i = 0; i < 6; i++) {
    g_assert_cmpuint(recs[i]->chunks->len, ==, 3);
    for (int j = 0; j < 3; j++) {
      VigilChunk *got = g_ptr_array_index(recs[i]->chunks, j);
      g_assert_true(got == sent[j]);
      g_assert_true(got->data == sent[j]->data);
    }
  }
  for (int i = 0; i < 6; i++)
    vigil_stream_unsubscribe(stream, subs[i]); /* frees recs[i] */
  for (int i = 0; i < 3; i++) {
    g_assert_cmpint(sent[i]->refcount, ==, 2); /* ours + the GOP cache */
    vigil_chunk_unref(sent[i]);
  }
}

static void test_cache_cap(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  /* By count: tiny chunks, no keyframe for too long. */
  push(stream, 0, K);
  for (guint i = 1; i < VIGIL_STREAM_GOP_MAX_CHUNKS; i++)
    push(stream, i, D);
  g_autoptr(GPtrArray) full = vigil_stream_get_gop(stream);
  g_assert_cmpuint(full->len, ==, VIGIL_STREAM_GOP_MAX_CHUNKS);
  push(stream, VIGIL_STREAM_GOP_MAX_CHUNKS, D);
  assert_gop(stream, NULL, 0);
  push(stream, VIGIL_STREAM_GOP_MAX_CHUNKS + 1, D);
  assert_gop(stream, NULL, 0);

  /* A from_gop subscriber joining now waits for the next keyframe. */
  g_autoptr(Rec) r = rec_new();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, TRUE, NULL, rec_func, r, NULL);
  push(stream, 5000, D);
  push(stream, 5001, A);
  push(stream, 5002, K);
  push(stream, 5003, D);
  assert_seen(r, (gint64[]){5002, 5003}, 2);
  assert_gop(stream, (gint64[]){5002, 5003}, 2);
  vigil_stream_unsubscribe(stream, sub);

  /* By bytes: a few large chunks (sharing one buffer, so the test is cheap). */
  gsize mib = 1024 * 1024;
  g_autoptr(GBytes) big = g_bytes_new_take(g_malloc0(mib), mib);
  guint fit = VIGIL_STREAM_GOP_MAX_BYTES / mib;
  for (guint i = 0; i < fit; i++) {
    g_autoptr(VigilChunk) c = vigil_chunk_new(big, i == 0 ? K : D, 6000 + i, 0, 1);
    vigil_stream_push(stream, c);
  }
  g_autoptr(GPtrArray) gop = vigil_stream_get_gop(stream);
  g_assert_cmpuint(gop->len, ==, fit);
  g_autoptr(VigilChunk) over = vigil_chunk_new(big, D, 7000, 0, 1);
  vigil_stream_push(stream, over);
  assert_gop(stream, NULL, 0);
  push(stream, 7001, K);
  assert_gop(stream, (gint64[]){7001}, 1);
}

/* A context that does not drain loses its queue instead of growing it, and
 * resumes at a keyframe. */
static void test_queue_cap(void)
{
  g_autoptr(GMainContext) ctx = g_main_context_new();
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) r = rec_new();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, FALSE, ctx, rec_func, r, NULL);
  gsize mib = 1024 * 1024;
  g_autoptr(GBytes) big = g_bytes_new_take(g_malloc0(mib), mib);
  guint fit = VIGIL_STREAM_QUEUE_MAX_BYTES / mib;
  for (guint i = 0; i < fit + 5; i++) { /* one over the cap, then 4 more deltas */
    g_autoptr(VigilChunk) c = vigil_chunk_new(big, i == 0 ? K : D, i, 0, 1);
    vigil_stream_push(stream, c);
  }
  push(stream, 1000, K);
  push(stream, 1001, D);
  while (g_main_context_iteration(ctx, FALSE))
    ;
  assert_seen(r, (gint64[]){1000, 1001}, 2);
  vigil_stream_unsubscribe(stream, sub);
}

static void test_stats(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  VigilStreamStats st;
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpint(st.codec, ==, VIGIL_CODEC_NONE);
  g_assert_cmpfloat(st.fps, ==, 0);
  g_assert_cmpint(st.last_chunk_us, ==, 0);
  vigil_stream_set_format(stream, VIGIL_CODEC_H265, 1920, 1080, TRUE);

  /* 10 s at 30 fps, 2000-byte frames, a keyframe every 2 s, plus ~47 audio
   * chunks/s of 376 bytes. */
  gint64 pts = 0;
  guint64 bytes = 0, chunks = 0;
  gsize frame = 2000, audio = 376;
  for (int i = 0; i < 300; i++, pts += 3000) {
    g_autoptr(VigilChunk) c = make_chunk(pts, i % 60 == 0 ? K : D, frame);
    vigil_stream_push(stream, c);
    bytes += frame;
    chunks++;
  }
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpint(st.codec, ==, VIGIL_CODEC_H265);
  g_assert_cmpint(st.width, ==, 1920);
  g_assert_cmpint(st.height, ==, 1080);
  g_assert_true(st.has_audio);
  g_assert_cmpfloat_with_epsilon(st.fps, 30.0, 0.01);
  g_assert_cmpfloat_with_epsilon(st.bitrate_kbps, 2000 * 8 * 30 / 1000.0, 0.5);
  g_assert_cmpfloat_with_epsilon(st.keyframe_interval_s, 2.0, 1e-9);
  g_assert_cmpuint(st.chunks, ==, chunks);
  g_assert_cmpuint(st.bytes, ==, bytes);
  g_assert_cmpint(st.last_chunk_us, >, 0);
  g_assert_cmpint(st.last_chunk_us, <=, g_get_monotonic_time());

  /* Then 6 s at 15 fps with 4000-byte frames, keyframes 3 s apart, with
   * audio: the window shows only the new rate. */
  for (int i = 0; i < 90; i++, pts += 6000) {
    g_autoptr(VigilChunk) c = make_chunk(pts, i % 45 == 0 ? K : D, 4000);
    vigil_stream_push(stream, c);
    g_autoptr(VigilChunk) a = make_chunk(pts + 100, A, audio);
    vigil_stream_push(stream, a);
    bytes += 4000 + audio;
    chunks += 2;
  }
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpfloat_with_epsilon(st.fps, 15.0, 0.05);
  g_assert_cmpfloat_with_epsilon(st.bitrate_kbps, (4000 + audio) * 8 * 15 / 1000.0, 1.0);
  g_assert_cmpfloat_with_epsilon(st.keyframe_interval_s, 3.0, 1e-9);
  g_assert_cmpuint(st.chunks, ==, chunks);
  g_assert_cmpuint(st.bytes, ==, bytes);

  /* A stream that went quiet reads as 0 fps. */
  g_autoptr(GBytes) b = g_bytes_new_take(g_malloc0(188), 188);
  g_autoptr(VigilChunk) old = vigil_chunk_new(b, D, pts, 0, g_get_monotonic_time() - 6000000);
  vigil_stream_push(stream, old);
  vigil_stream_get_stats(stream, &st);
  g_assert_cmpfloat(st.fps, ==, 0);
  g_assert_cmpfloat(st.bitrate_kbps, ==, 0);
  g_assert_cmpuint(st.chunks, ==, chunks + 1);
}

static void test_reset(void)
{
  g_autoptr(VigilStream) stream = vigil_stream_new("cam");
  g_autoptr(Rec) r = rec_new();
  VigilSubscriber *sub = vigil_stream_subscribe(stream, FALSE, NULL, rec_func, r, NULL);
  push(stream, 1, K);
  push(stream, 2, D);
  vigil_stream_reset(stream);
  assert_gop(stream, NULL, 0);
  push(stream, 3, D | VIGIL_CHUNK_DISCONT); /* dropped: no keyframe since reset */
  push(stream, 4, A);
  assert_gop(stream, NULL, 0);
  push(stream, 5, K);
  push(stream, 6, D);
  assert_gop(stream, (gint64[]){5, 6}, 2);
  assert_seen(r, (gint64[]){1, 2, 5, 6}, 4); /* subscribers stayed */
  vigil_stream_unsubscribe(stream, sub);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stream/gop-cache", test_gop_cache);
  g_test_add_func("/stream/pre-keyframe-dropped", test_pre_keyframe_dropped);
  g_test_add_func("/stream/from-gop-sync", test_from_gop_sync);
  g_test_add_func("/stream/context-delivery", test_context_delivery);
  g_test_add_func("/stream/unsubscribe-pending", test_unsubscribe_pending);
  g_test_add_func("/stream/batched-delivery", test_batched_delivery);
  g_test_add_func("/stream/sync-unsubscribe-in-callback", test_sync_unsubscribe_in_callback);
  g_test_add_func("/stream/sync-unsubscribe-threads", test_sync_unsubscribe_threads);
  g_test_add_func("/stream/shared-bytes", test_shared_bytes);
  g_test_add_func("/stream/cache-cap", test_cache_cap);
  g_test_add_func("/stream/queue-cap", test_queue_cap);
  g_test_add_func("/stream/stats", test_stats);
  g_test_add_func("/stream/reset", test_reset);
  return g_test_run();
}
