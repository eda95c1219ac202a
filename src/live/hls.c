/* Live HLS segmenter over TS chunks. See hls.h. */
#define G_LOG_DOMAIN "vigil-live"

#include "live/hls.h"

#include <math.h>

typedef struct {
  guint64 seq;
  GPtrArray *chunks; /* VigilChunk refs */
  gsize bytes;
  gint64 start_pts; /* pts of the first video chunk */
  double duration_s;
} Segment;

struct _VigilHls {
  GQueue segments;  /* complete, oldest first */
  Segment *current; /* being filled, NULL until a keyframe */
  guint64 next_seq;
  int target_duration; /* seconds, never decreases */
};

static void segment_free(Segment *s)
{
  if (!s)
    return;
  g_ptr_array_unref(s->chunks);
  g_free(s);
}

VigilHls *vigil_hls_new(void)
{
  VigilHls *self = g_new0(VigilHls, 1);
  g_queue_init(&self->segments);
  self->target_duration = 1;
  return self;
}

void vigil_hls_free(VigilHls *self)
{
  if (!self)
    return;
  g_queue_clear_full(&self->segments, (GDestroyNotify)segment_free);
  segment_free(self->current);
  g_free(self);
}

static Segment *segment_new(guint64 seq, gint64 pts)
{
  Segment *s = g_new0(Segment, 1);
  s->seq = seq;
  s->chunks = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_chunk_unref);
  s->start_pts = pts;
  return s;
}

gboolean vigil_hls_push(VigilHls *self, VigilChunk *chunk)
{
  gboolean completed = FALSE;
  gboolean video = (chunk->flags & VIGIL_CHUNK_AUDIO) == 0;
  if (video && vigil_chunk_is_keyframe(chunk)) {
    Segment *cur = self->current;
    double elapsed = cur ? (double)(chunk->pts - cur->start_pts) / 90000.0 : 0;
    gboolean discont = (chunk->flags & VIGIL_CHUNK_DISCONT) != 0;
    /* 10 % slack: a 1 s GOP measured on the camera's clock can be a hair
     * under 1 s, and must not make 2 s segments. */
    if (cur && (elapsed >= 0.9 * VIGIL_HLS_MIN_SEGMENT_S || discont)) {
      cur->duration_s = elapsed > 0 ? elapsed : 0.001;
      int target = (int)ceil(cur->duration_s);
      if (target > self->target_duration)
        self->target_duration = target;
      g_queue_push_tail(&self->segments, cur);
      while (g_queue_get_length(&self->segments) > VIGIL_HLS_SEGMENTS)
        segment_free(g_queue_pop_head(&self->segments));
      self->current = NULL;
      completed = TRUE;
    }
    if (!self->current)
      self->current = segment_new(self->next_seq++, chunk->pts);
  }
  Segment *cur = self->current;
  if (!cur)
    return completed; /* waiting for a keyframe */
  gsize size = g_bytes_get_size(chunk->data);
  if (cur->bytes + size > VIGIL_HLS_MAX_SEGMENT_BYTES) {
    g_warning("camera sends no keyframe: live HLS segment dropped");
    segment_free(g_steal_pointer(&self->current));
    return completed;
  }
  g_ptr_array_add(cur->chunks, vigil_chunk_ref(chunk));
  cur->bytes += size;
  return completed;
}

guint vigil_hls_count(VigilHls *self)
{
  return g_queue_get_length(&self->segments);
}

gchar *vigil_hls_playlist(VigilHls *self, const char *prefix)
{
  Segment *first = g_queue_peek_head(&self->segments);
  if (!first)
    return NULL;
  GString *s = g_string_new("#EXTM3U\n#EXT-X-VERSION:3\n");
  g_string_append_printf(s, "#EXT-X-TARGETDURATION:%d\n", self->target_duration);
  g_string_append_printf(s, "#EXT-X-MEDIA-SEQUENCE:%" G_GUINT64_FORMAT "\n", first->seq);
  for (GList *l = self->segments.head; l; l = l->next) {
    Segment *seg = l->data;
    g_string_append_printf(s, "#EXTINF:%.3f,\n%s%" G_GUINT64_FORMAT ".ts\n", seg->duration_s,
                           prefix, seg->seq);
  }
  return g_string_free(s, FALSE);
}

GPtrArray *vigil_hls_get_segment(VigilHls *self, guint64 seq, gsize *size)
{
  for (GList *l = self->segments.head; l; l = l->next) {
    Segment *seg = l->data;
    if (seg->seq != seq)
      continue;
    GPtrArray *out = g_ptr_array_new_full(seg->chunks->len, (GDestroyNotify)vigil_chunk_unref);
    for (guint i = 0; i < seg->chunks->len; i++)
      g_ptr_array_add(out, vigil_chunk_ref(g_ptr_array_index(seg->chunks, i)));
    if (size)
      *size = seg->bytes;
    return out;
  }
  return NULL;
}
