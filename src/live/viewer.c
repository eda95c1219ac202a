/* One live viewer's bounded queue over a camera's VigilStream, and the live
 * counters that /metrics reports. See viewer.h. */
#define G_LOG_DOMAIN "vigil-live"

#include "live/viewer.h"

struct _VigilViewer {
  VigilStream *stream;
  gchar *camera_id;
  VigilViewerKind kind;
  VigilSubscriber *subscriber;
  VigilViewerReadyFunc ready;
  VigilViewerCloseFunc close;
  gpointer user_data;

  GQueue pending; /* chunks not yet popped by the transport */
  gsize pending_bytes;
  GQueue inflight; /* popped, not yet completely written */
  gsize inflight_bytes;
  gsize head_written; /* bytes of inflight's head already written */

  gboolean skipping; /* dropping until the next keyframe */
  gboolean closed;
  gint64 slow_since_us; /* first drop of the current slow spell, 0 = not slow */
  guint64 gops_dropped;
  gint64 created_us;
};

/* --- counters --- */

typedef struct {
  VigilViewerCounters c;
} CameraCounters;

static GHashTable *counters_table; /* camera id → CameraCounters, main thread */
static VigilViewerLatency latency;

const gint64 vigil_viewer_latency_bounds_us[VIGIL_VIEWER_LATENCY_BUCKETS] = {
    50,   100,  200,   300,   500,   750,    1000,    2000,
    3000, 5000, 10000, 25000, 50000, 100000, 1000000, G_MAXINT64,
};

static CameraCounters *counters_for(const char *camera_id)
{
  if (!counters_table)
    counters_table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  CameraCounters *c = g_hash_table_lookup(counters_table, camera_id);
  if (!c) {
    c = g_new0(CameraCounters, 1);
    g_hash_table_insert(counters_table, g_strdup(camera_id), c);
  }
  return c;
}

void vigil_viewer_get_counters(const char *camera_id, VigilViewerCounters *out)
{
  CameraCounters *c = counters_table ? g_hash_table_lookup(counters_table, camera_id) : NULL;
  if (c)
    *out = c->c;
  else
    *out = (VigilViewerCounters){0};
}

void vigil_viewer_count_bytes(const char *camera_id, VigilViewerKind kind, guint64 bytes)
{
  counters_for(camera_id)->c.bytes_sent[kind] += bytes;
}

void vigil_viewer_set_hls_viewers(const char *camera_id, guint n)
{
  counters_for(camera_id)->c.viewers[VIGIL_VIEWER_HLS] = n;
}

void vigil_viewer_get_latency(VigilViewerLatency *out)
{
  *out = latency;
}

static void record_latency(gint64 us)
{
  if (us < 0)
    us = 0;
  for (guint i = 0; i < VIGIL_VIEWER_LATENCY_BUCKETS; i++) {
    if (us <= vigil_viewer_latency_bounds_us[i]) {
      latency.buckets[i]++;
      break;
    }
  }
  latency.count++;
  latency.sum_us += us;
}

const char *vigil_viewer_kind_to_string(VigilViewerKind kind)
{
  switch (kind) {
  case VIGIL_VIEWER_WS:
    return "ws";
  case VIGIL_VIEWER_TS:
    return "ts";
  case VIGIL_VIEWER_HLS:
    return "hls";
  case VIGIL_VIEWER_N_KINDS:
    break;
  }
  return "unknown";
}

/* --- the viewer --- */

gsize vigil_viewer_get_outstanding(VigilViewer *self)
{
  return self->pending_bytes + self->inflight_bytes - self->head_written;
}

guint64 vigil_viewer_get_gops_dropped(VigilViewer *self)
{
  return self->gops_dropped;
}

static void on_chunk(VigilChunk *chunk, gpointer user_data)
{
  VigilViewer *self = user_data;
  if (self->closed)
    return;
  if (self->skipping) {
    if (!vigil_chunk_is_keyframe(chunk))
      return;
    self->skipping = FALSE;
  }
  gsize size = g_bytes_get_size(chunk->data);
  if (vigil_viewer_get_outstanding(self) + size > VIGIL_VIEWER_MAX_QUEUED) {
    /* Too slow: what is still queued goes (the transport already has the
     * in-flight bytes), and the viewer resumes at the next keyframe. */
    g_queue_clear_full(&self->pending, (GDestroyNotify)vigil_chunk_unref);
    self->pending_bytes = 0;
    self->skipping = TRUE;
    self->gops_dropped++;
    counters_for(self->camera_id)->c.gops_dropped++;
    gint64 now = g_get_monotonic_time();
    if (self->slow_since_us == 0) {
      self->slow_since_us = now;
      g_info("camera %s: a %s viewer is too slow, skipping to the next keyframe", self->camera_id,
             vigil_viewer_kind_to_string(self->kind));
    } else if (now - self->slow_since_us > VIGIL_VIEWER_GRACE_US) {
      g_info("camera %s: closing a %s viewer that stayed too slow", self->camera_id,
             vigil_viewer_kind_to_string(self->kind));
      self->closed = TRUE;
      counters_for(self->camera_id)->c.slow_disconnects++;
      /* Last statement: close may free the viewer. */
      self->close(self, self->user_data);
    }
    return;
  }
  g_queue_push_tail(&self->pending, vigil_chunk_ref(chunk));
  self->pending_bytes += size;
  self->ready(self, self->user_data);
}

VigilChunk *vigil_viewer_pop(VigilViewer *self)
{
  VigilChunk *chunk = g_queue_pop_head(&self->pending);
  if (!chunk)
    return NULL;
  gsize size = g_bytes_get_size(chunk->data);
  self->pending_bytes -= size;
  g_queue_push_tail(&self->inflight, vigil_chunk_ref(chunk));
  self->inflight_bytes += size;
  return chunk;
}

void vigil_viewer_wrote(VigilViewer *self, gsize bytes)
{
  counters_for(self->camera_id)->c.bytes_sent[self->kind] += bytes;
  gint64 now = 0;
  while (bytes > 0) {
    VigilChunk *head = g_queue_peek_head(&self->inflight);
    if (!head)
      break;
    gsize left = g_bytes_get_size(head->data) - self->head_written;
    if (bytes < left) {
      self->head_written += bytes;
      break;
    }
    bytes -= left;
    if (now == 0)
      now = g_get_monotonic_time();
    /* The cached GOP a viewer starts with arrived before the viewer did:
     * its age is not latency the server added. */
    if (head->arrival_us >= self->created_us)
      record_latency(now - head->arrival_us);
    self->inflight_bytes -= g_bytes_get_size(head->data);
    self->head_written = 0;
    vigil_chunk_unref(g_queue_pop_head(&self->inflight));
  }
  if (self->slow_since_us && !self->skipping &&
      vigil_viewer_get_outstanding(self) < VIGIL_VIEWER_MAX_QUEUED / 4)
    self->slow_since_us = 0;
}

VigilViewer *vigil_viewer_new(VigilStream *stream, VigilViewerKind kind, VigilViewerReadyFunc ready,
                              VigilViewerCloseFunc close, gpointer user_data)
{
  VigilViewer *self = g_new0(VigilViewer, 1);
  self->stream = vigil_stream_ref(stream);
  self->camera_id = g_strdup(vigil_stream_get_camera_id(stream));
  self->kind = kind;
  self->created_us = g_get_monotonic_time();
  self->ready = ready;
  self->close = close;
  self->user_data = user_data;
  g_queue_init(&self->pending);
  g_queue_init(&self->inflight);
  counters_for(self->camera_id)->c.viewers[kind]++;
  vigil_stream_add_viewer(stream, +1);
  self->subscriber =
      vigil_stream_subscribe(stream, TRUE, g_main_context_default(), on_chunk, self, NULL);
  return self;
}

void vigil_viewer_free(VigilViewer *self)
{
  if (!self)
    return;
  vigil_stream_unsubscribe(self->stream, self->subscriber);
  vigil_stream_add_viewer(self->stream, -1);
  CameraCounters *c = counters_for(self->camera_id);
  if (c->c.viewers[self->kind] > 0)
    c->c.viewers[self->kind]--;
  g_queue_clear_full(&self->pending, (GDestroyNotify)vigil_chunk_unref);
  g_queue_clear_full(&self->inflight, (GDestroyNotify)vigil_chunk_unref);
  vigil_stream_unref(self->stream);
  g_free(self->camera_id);
  g_free(self);
}
