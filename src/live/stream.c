/* VigilStream: the per-camera hub between the ingest and every consumer of
 * its MPEG-TS chunks (live viewers, pre-roll, recorder, analysis). It keeps
 * the current GOP for late joiners, fans chunks out by reference, and
 * measures what flows through.
 *
 * Locking: `lock` guards the stream's state (GOP cache, subscriber list,
 * stats) and is never held while user code runs. `deliver` (recursive) is
 * held by the pushing thread while it calls synchronous subscribers, so that
 * unsubscribing one from another thread waits for a call in progress, while
 * unsubscribing from inside a callback (same thread) still works. Each
 * context subscriber's queue has its own mutex. Order: deliver, lock,
 * subscriber lock, GMainContext's internal lock. */
#define G_LOG_DOMAIN "vigil-live"

#include "live/stream.h"

#define VIGIL_STREAM_WINDOW_90K (5 * 90000)

/* -------------------------------------------------------------------------
 * Chunks */

VigilChunk *vigil_chunk_new(GBytes *data, VigilChunkFlags flags, gint64 pts, gint64 wallclock_us,
                            gint64 arrival_us)
{
  g_return_val_if_fail(data != NULL, NULL);
  VigilChunk *chunk = g_new(VigilChunk, 1);
  chunk->data = g_bytes_ref(data);
  chunk->flags = flags;
  chunk->pts = pts;
  chunk->wallclock_us = wallclock_us;
  chunk->arrival_us = arrival_us;
  chunk->refcount = 1;
  return chunk;
}

VigilChunk *vigil_chunk_ref(VigilChunk *chunk)
{
  g_return_val_if_fail(chunk != NULL, NULL);
  g_atomic_int_inc(&chunk->refcount);
  return chunk;
}

void vigil_chunk_unref(VigilChunk *chunk)
{
  if (chunk == NULL)
    return;
  if (g_atomic_int_dec_and_test(&chunk->refcount)) {
    g_bytes_unref(chunk->data);
    g_free(chunk);
  }
}

/* -------------------------------------------------------------------------
 * Subscribers */

typedef struct {
  GSource parent;
  VigilSubscriber *subscriber; /* strong: a pending wake-up keeps it alive */
} VigilDrainSource;

struct _VigilSubscriber {
  gint refcount;
  VigilChunkFunc func;
  gpointer user_data;
  GDestroyNotify destroy;
  /* Set once by unsubscribe; read by deliveries, which then skip func. */
  gint cancelled;
  gint released;        /* destroy(user_data) has run */
  gboolean dispatching; /* context thread only: inside the drain loop */
  /* Waiting for a keyframe before the first delivery (from_gop without a
   * cached GOP, or after its queue overflowed). Guarded by the stream lock. */
  gboolean waiting_keyframe;

  /* Context subscribers only. */
  GMainContext *context;
  GSource *source; /* owned; destroyed on unsubscribe */
  GMutex queue_lock;
  GQueue queue; /* VigilChunk*, owned */
  gsize queue_bytes;
  gboolean wake_pending;
  gint64 delay_us; /* under queue_lock: batch wake-ups this long (0: per chunk) */
};

static VigilSubscriber *vigil_subscriber_ref(VigilSubscriber *sub)
{
  g_atomic_int_inc(&sub->refcount);
  return sub;
}

/* Frees user_data, once, when no call to func can be in progress. */
static void vigil_subscriber_release(VigilSubscriber *sub)
{
  if (g_atomic_int_compare_and_exchange(&sub->released, 0, 1) && sub->destroy != NULL)
    sub->destroy(sub->user_data);
}

static void vigil_subscriber_unref(VigilSubscriber *sub)
{
  if (!g_atomic_int_dec_and_test(&sub->refcount))
    return;
  /* Last reference: no delivery is running or can start. */
  vigil_subscriber_release(sub);
  g_queue_clear_full(&sub->queue, (GDestroyNotify)vigil_chunk_unref);
  g_mutex_clear(&sub->queue_lock);
  if (sub->context != NULL)
    g_main_context_unref(sub->context);
  g_free(sub);
}

static gboolean vigil_drain_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
  VigilSubscriber *sub = ((VigilDrainSource *)source)->subscriber;

  GQueue batch = G_QUEUE_INIT;
  g_mutex_lock(&sub->queue_lock);
  batch = sub->queue;
  g_queue_init(&sub->queue);
  sub->queue_bytes = 0;
  sub->wake_pending = FALSE;
  g_source_set_ready_time(source, -1);
  g_mutex_unlock(&sub->queue_lock);

  VigilChunk *chunk;
  sub->dispatching = TRUE;
  while ((chunk = g_queue_pop_head(&batch)) != NULL) {
    /* Unsubscribe runs in this thread (possibly from func itself), so the
     * flag cannot change under us between the check and the call. */
    if (!g_atomic_int_get(&sub->cancelled))
      sub->func(chunk, sub->user_data);
    vigil_chunk_unref(chunk);
  }
  sub->dispatching = FALSE;
  /* Unsubscribed from inside func: user_data could not go until now. */
  if (g_atomic_int_get(&sub->cancelled))
    vigil_subscriber_release(sub);
  return G_SOURCE_CONTINUE;
}

static void vigil_drain_finalize(GSource *source)
{
  vigil_subscriber_unref(((VigilDrainSource *)source)->subscriber);
}

static GSourceFuncs vigil_drain_funcs = {
    .dispatch = vigil_drain_dispatch,
    .finalize = vigil_drain_finalize,
};

/* -------------------------------------------------------------------------
 * Stream */

typedef struct {
  gint64 pts;
  gsize bytes;
  gboolean video;
} VigilStreamSample;

struct _VigilStream {
  gint refcount;
  char *camera_id;
  GRecMutex deliver;
  GMutex lock;

  /* Guarded by lock. */
  VigilCodec codec;
  int width, height;
  gboolean has_audio;
  gboolean started;        /* a keyframe arrived since creation/reset */
  gboolean gop_overflowed; /* cache dropped until the next keyframe */
  GPtrArray *gop;          /* VigilChunk*, owned */
  gsize gop_bytes;
  GPtrArray *subscribers; /* VigilSubscriber*, one reference each */
  guint viewers;

  GArray *window; /* VigilStreamSample, oldest first from window_head */
  guint window_head;
  gint64 window_max_pts;
  gboolean have_window_pts;
  gint64 last_keyframe_pts;
  gboolean have_last_keyframe;
  double keyframe_interval_s;
  gint64 last_chunk_us;
  guint64 chunks, bytes;

  /* Guarded by deliver: the synchronous subscribers of the push in progress
   * (kept to avoid an allocation per push). */
  GPtrArray *sync_batch;
};

VigilStream *vigil_stream_new(const char *camera_id)
{
  g_return_val_if_fail(camera_id != NULL, NULL);
  VigilStream *stream = g_new0(VigilStream, 1);
  stream->refcount = 1;
  stream->camera_id = g_strdup(camera_id);
  g_rec_mutex_init(&stream->deliver);
  g_mutex_init(&stream->lock);
  stream->gop = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_chunk_unref);
  stream->subscribers = g_ptr_array_new();
  stream->window = g_array_new(FALSE, FALSE, sizeof(VigilStreamSample));
  stream->sync_batch = g_ptr_array_new();
  return stream;
}

VigilStream *vigil_stream_ref(VigilStream *stream)
{
  g_return_val_if_fail(stream != NULL, NULL);
  g_atomic_int_inc(&stream->refcount);
  return stream;
}

static void vigil_subscriber_cancel(VigilSubscriber *sub)
{
  g_atomic_int_set(&sub->cancelled, 1);
  if (sub->source != NULL) {
    g_mutex_lock(&sub->queue_lock);
    GQueue dropped = sub->queue;
    g_queue_init(&sub->queue);
    sub->queue_bytes = 0;
    g_mutex_unlock(&sub->queue_lock);
    g_queue_clear_full(&dropped, (GDestroyNotify)vigil_chunk_unref);
    /* The source's finalize drops its subscriber reference, possibly later
     * if it is dispatching right now. */
    g_source_destroy(sub->source);
    g_clear_pointer(&sub->source, g_source_unref);
  }
}

/* After vigil_subscriber_cancel, from the thread that delivers to @sub. */
static void vigil_subscriber_release_if_idle(VigilSubscriber *sub)
{
  /* A GMainContext may keep a reference to a destroyed source for a while
   * (until its next dispatch), so do not wait for the last reference. */
  if (sub->context != NULL && !sub->dispatching)
    vigil_subscriber_release(sub);
}

void vigil_stream_unref(VigilStream *stream)
{
  if (stream == NULL || !g_atomic_int_dec_and_test(&stream->refcount))
    return;
  /* Subscribers left behind are cancelled here; their owners should have
   * unsubscribed, but nothing must be called after the stream is gone. */
  for (guint i = 0; i < stream->subscribers->len; i++) {
    VigilSubscriber *sub = g_ptr_array_index(stream->subscribers, i);
    vigil_subscriber_cancel(sub);
    vigil_subscriber_unref(sub);
  }
  g_ptr_array_unref(stream->subscribers);
  g_ptr_array_unref(stream->gop);
  g_array_unref(stream->window);
  g_ptr_array_unref(stream->sync_batch);
  g_mutex_clear(&stream->lock);
  g_rec_mutex_clear(&stream->deliver);
  g_free(stream->camera_id);
  g_free(stream);
}

const char *vigil_stream_get_camera_id(VigilStream *stream)
{
  g_return_val_if_fail(stream != NULL, NULL);
  return stream->camera_id;
}

void vigil_stream_set_format(VigilStream *stream, VigilCodec codec, int width, int height,
                             gboolean has_audio)
{
  g_return_if_fail(stream != NULL);
  g_mutex_lock(&stream->lock);
  stream->codec = codec;
  stream->width = width;
  stream->height = height;
  stream->has_audio = has_audio;
  g_mutex_unlock(&stream->lock);
}

static void vigil_stream_clear_gop_locked(VigilStream *stream)
{
  g_ptr_array_set_size(stream->gop, 0);
  stream->gop_bytes = 0;
}

/* Updates the sliding window and totals. Called with lock held. */
static void vigil_stream_account_locked(VigilStream *stream, VigilChunk *chunk, gsize size)
{
  gboolean video = (chunk->flags & VIGIL_CHUNK_AUDIO) == 0;
  stream->chunks++;
  stream->bytes += size;
  stream->last_chunk_us = chunk->arrival_us;

  if (video && vigil_chunk_is_keyframe(chunk)) {
    if (stream->have_last_keyframe && chunk->pts > stream->last_keyframe_pts)
      stream->keyframe_interval_s = (double)(chunk->pts - stream->last_keyframe_pts) / 90000.0;
    stream->last_keyframe_pts = chunk->pts;
    stream->have_last_keyframe = TRUE;
  }

  if (!stream->have_window_pts || chunk->pts > stream->window_max_pts) {
    stream->window_max_pts = chunk->pts;
    stream->have_window_pts = TRUE;
  }
  VigilStreamSample sample = {chunk->pts, size, video};
  g_array_append_val(stream->window, sample);
  gint64 oldest = stream->window_max_pts - VIGIL_STREAM_WINDOW_90K;
  while (stream->window_head < stream->window->len &&
         g_array_index(stream->window, VigilStreamSample, stream->window_head).pts < oldest)
    stream->window_head++;
  /* Compact now and then rather than shifting on every chunk. */
  if (stream->window_head > 256 && stream->window_head * 2 > stream->window->len) {
    g_array_remove_range(stream->window, 0, stream->window_head);
    stream->window_head = 0;
  }
}

/* Queues @chunk for a context subscriber and wakes its source. Called with
 * the stream lock held. */
static void vigil_subscriber_enqueue_locked(VigilSubscriber *sub, VigilChunk *chunk)
{
  gsize size = g_bytes_get_size(chunk->data);
  g_mutex_lock(&sub->queue_lock);
  if (sub->queue_bytes + size > VIGIL_STREAM_QUEUE_MAX_BYTES) {
    /* The context is not draining (stuck or far too slow): drop what is
     * queued rather than grow without bound, and resume at a keyframe. */
    g_queue_clear_full(&sub->queue, (GDestroyNotify)vigil_chunk_unref);
    sub->queue_bytes = 0;
    g_mutex_unlock(&sub->queue_lock);
    g_message("a stream subscriber fell %u MiB behind; its queue was dropped until the "
              "next keyframe",
              VIGIL_STREAM_QUEUE_MAX_BYTES >> 20);
    sub->waiting_keyframe = TRUE;
    if (!vigil_chunk_is_keyframe(chunk))
      return;
    sub->waiting_keyframe = FALSE;
    g_mutex_lock(&sub->queue_lock);
  }
  g_queue_push_tail(&sub->queue, vigil_chunk_ref(chunk));
  sub->queue_bytes += size;
  if (!sub->wake_pending) {
    sub->wake_pending = TRUE;
    g_source_set_ready_time(sub->source,
                            sub->delay_us ? g_get_monotonic_time() + sub->delay_us : 0);
  }
  g_mutex_unlock(&sub->queue_lock);
}

void vigil_stream_push(VigilStream *stream, VigilChunk *chunk)
{
  g_return_if_fail(stream != NULL);
  g_return_if_fail(chunk != NULL);

  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  gsize size = g_bytes_get_size(chunk->data);

  g_rec_mutex_lock(&stream->deliver);
  g_mutex_lock(&stream->lock);
  vigil_stream_account_locked(stream, chunk, size);

  if (!stream->started && !keyframe) {
    /* Nobody can start decoding here: wait for the first keyframe. */
    g_mutex_unlock(&stream->lock);
    g_rec_mutex_unlock(&stream->deliver);
    return;
  }
  stream->started = TRUE;

  if (keyframe) {
    vigil_stream_clear_gop_locked(stream);
    stream->gop_overflowed = FALSE;
  }
  if (!stream->gop_overflowed) {
    g_ptr_array_add(stream->gop, vigil_chunk_ref(chunk));
    stream->gop_bytes += size;
    if (stream->gop_bytes > VIGIL_STREAM_GOP_MAX_BYTES ||
        stream->gop->len > VIGIL_STREAM_GOP_MAX_CHUNKS) {
      g_message("camera %s: no keyframe for %u chunks / %" G_GSIZE_FORMAT
                " bytes; GOP cache dropped until the next keyframe",
                stream->camera_id, stream->gop->len, stream->gop_bytes);
      vigil_stream_clear_gop_locked(stream);
      stream->gop_overflowed = TRUE;
    }
  }

  for (guint i = 0; i < stream->subscribers->len; i++) {
    VigilSubscriber *sub = g_ptr_array_index(stream->subscribers, i);
    if (sub->waiting_keyframe) {
      if (!keyframe)
        continue;
      sub->waiting_keyframe = FALSE;
    }
    if (sub->context != NULL)
      vigil_subscriber_enqueue_locked(sub, chunk);
    else
      g_ptr_array_add(stream->sync_batch, vigil_subscriber_ref(sub));
  }
  g_mutex_unlock(&stream->lock);

  /* Synchronous subscribers run outside the lock, so they may call into the
   * stream (stats, even unsubscribe themselves). */
  for (guint i = 0; i < stream->sync_batch->len; i++) {
    VigilSubscriber *sub = g_ptr_array_index(stream->sync_batch, i);
    if (!g_atomic_int_get(&sub->cancelled))
      sub->func(chunk, sub->user_data);
  }
  for (guint i = 0; i < stream->sync_batch->len; i++)
    vigil_subscriber_unref(g_ptr_array_index(stream->sync_batch, i));
  g_ptr_array_set_size(stream->sync_batch, 0);
  g_rec_mutex_unlock(&stream->deliver);
}

void vigil_stream_reset(VigilStream *stream)
{
  g_return_if_fail(stream != NULL);
  g_mutex_lock(&stream->lock);
  vigil_stream_clear_gop_locked(stream);
  stream->started = FALSE;
  stream->gop_overflowed = FALSE;
  /* The next keyframe follows a gap: no interval across it. */
  stream->have_last_keyframe = FALSE;
  g_mutex_unlock(&stream->lock);
}

VigilSubscriber *vigil_stream_subscribe(VigilStream *stream, gboolean from_gop,
                                        GMainContext *context, VigilChunkFunc func,
                                        gpointer user_data, GDestroyNotify destroy)
{
  g_return_val_if_fail(stream != NULL, NULL);
  g_return_val_if_fail(func != NULL, NULL);

  VigilSubscriber *sub = g_new0(VigilSubscriber, 1);
  sub->refcount = 1; /* the stream's subscriber list */
  sub->func = func;
  sub->user_data = user_data;
  sub->destroy = destroy;
  g_mutex_init(&sub->queue_lock);
  g_queue_init(&sub->queue);

  if (context != NULL) {
    sub->context = g_main_context_ref(context);
    sub->source = g_source_new(&vigil_drain_funcs, sizeof(VigilDrainSource));
    ((VigilDrainSource *)sub->source)->subscriber = vigil_subscriber_ref(sub);
    g_source_set_name(sub->source, "vigil-stream-drain");
    g_source_attach(sub->source, context);

    g_mutex_lock(&stream->lock);
    if (from_gop) {
      sub->waiting_keyframe = stream->gop->len == 0;
      for (guint i = 0; i < stream->gop->len; i++)
        vigil_subscriber_enqueue_locked(sub, g_ptr_array_index(stream->gop, i));
    }
    g_ptr_array_add(stream->subscribers, sub);
    g_mutex_unlock(&stream->lock);
    return sub;
  }

  /* Synchronous: hold deliver so no push runs between the GOP snapshot and
   * the end of its delivery; the next push then continues right after it. */
  g_autoptr(GPtrArray) gop = NULL;
  g_rec_mutex_lock(&stream->deliver);
  g_mutex_lock(&stream->lock);
  if (from_gop) {
    sub->waiting_keyframe = stream->gop->len == 0;
    gop = g_ptr_array_new_full(stream->gop->len, (GDestroyNotify)vigil_chunk_unref);
    for (guint i = 0; i < stream->gop->len; i++)
      g_ptr_array_add(gop, vigil_chunk_ref(g_ptr_array_index(stream->gop, i)));
  }
  g_ptr_array_add(stream->subscribers, vigil_subscriber_ref(sub));
  g_mutex_unlock(&stream->lock);
  for (guint i = 0; gop != NULL && i < gop->len; i++) {
    if (g_atomic_int_get(&sub->cancelled))
      break;
    sub->func(g_ptr_array_index(gop, i), sub->user_data);
  }
  g_rec_mutex_unlock(&stream->deliver);
  /* The returned pointer stays valid while it is in the list; drop ours. */
  vigil_subscriber_unref(sub);
  return sub;
}

void vigil_subscriber_set_delay(VigilSubscriber *subscriber, gint64 delay_us)
{
  g_return_if_fail(subscriber != NULL && subscriber->context != NULL);
  g_mutex_lock(&subscriber->queue_lock);
  subscriber->delay_us = MAX(delay_us, 0);
  g_mutex_unlock(&subscriber->queue_lock);
}

void vigil_stream_unsubscribe(VigilStream *stream, VigilSubscriber *subscriber)
{
  g_return_if_fail(stream != NULL);
  g_return_if_fail(subscriber != NULL);

  gboolean sync = subscriber->context == NULL;
  /* For a synchronous subscriber, wait out a push that is calling it (unless
   * that push is this thread, i.e. we are inside the callback). */
  if (sync)
    g_rec_mutex_lock(&stream->deliver);
  g_mutex_lock(&stream->lock);
  gboolean found = g_ptr_array_remove_fast(stream->subscribers, subscriber);
  g_mutex_unlock(&stream->lock);
  if (found) {
    vigil_subscriber_cancel(subscriber);
    vigil_subscriber_release_if_idle(subscriber);
  }
  if (sync)
    g_rec_mutex_unlock(&stream->deliver);
  g_return_if_fail(found);
  vigil_subscriber_unref(subscriber);
}

void vigil_stream_add_viewer(VigilStream *stream, int delta)
{
  g_mutex_lock(&stream->lock);
  stream->viewers = delta < 0 && stream->viewers == 0 ? 0 : stream->viewers + delta;
  g_mutex_unlock(&stream->lock);
}

void vigil_stream_get_stats(VigilStream *stream, VigilStreamStats *stats)
{
  g_return_if_fail(stream != NULL);
  g_return_if_fail(stats != NULL);

  gint64 now = g_get_monotonic_time();
  g_mutex_lock(&stream->lock);
  *stats = (VigilStreamStats){
      .codec = stream->codec,
      .width = stream->width,
      .height = stream->height,
      .has_audio = stream->has_audio,
      .keyframe_interval_s = stream->keyframe_interval_s,
      .last_chunk_us = stream->last_chunk_us,
      .chunks = stream->chunks,
      .bytes = stream->bytes,
      .subscribers = stream->subscribers->len,
      .viewers = stream->viewers,
  };

  /* Rates come from the chunks' own timestamps (no network jitter): frames
   * over the span of video pts in the window, bytes per frame times fps. A
   * stream that went quiet for a whole window reads as 0. */
  guint frames = 0;
  guint64 window_bytes = 0;
  gint64 min_pts = G_MAXINT64, max_pts = G_MININT64;
  for (guint i = stream->window_head; i < stream->window->len; i++) {
    const VigilStreamSample *s = &g_array_index(stream->window, VigilStreamSample, i);
    window_bytes += s->bytes;
    if (s->video) {
      frames++;
      min_pts = MIN(min_pts, s->pts);
      max_pts = MAX(max_pts, s->pts);
    }
  }
  gboolean stale = stream->last_chunk_us == 0 ||
                   now - stream->last_chunk_us > VIGIL_STREAM_WINDOW_90K / 90 * 1000;
  if (!stale && frames >= 2 && max_pts > min_pts) {
    stats->fps = (double)(frames - 1) * 90000.0 / (double)(max_pts - min_pts);
    stats->bitrate_kbps = (double)window_bytes * 8.0 / frames * stats->fps / 1000.0;
  }
  g_mutex_unlock(&stream->lock);
}

GPtrArray *vigil_stream_get_gop(VigilStream *stream)
{
  g_return_val_if_fail(stream != NULL, NULL);
  g_mutex_lock(&stream->lock);
  GPtrArray *gop = g_ptr_array_new_full(stream->gop->len, (GDestroyNotify)vigil_chunk_unref);
  for (guint i = 0; i < stream->gop->len; i++)
    g_ptr_array_add(gop, vigil_chunk_ref(g_ptr_array_index(stream->gop, i)));
  g_mutex_unlock(&stream->lock);
  return gop;
}
