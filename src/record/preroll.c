/* The pre-roll ring: a queue of chunk references trimmed a whole GOP at a
 * time whenever a keyframe arrives. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/preroll.h"

struct _VigilPreroll {
  GQueue chunks; /* VigilChunk*, owned; head is always a keyframe */
  gsize bytes;
  int seconds;
  gint64 newest_pts;
};

VigilPreroll *vigil_preroll_new(int seconds)
{
  VigilPreroll *self = g_new0(VigilPreroll, 1);
  g_queue_init(&self->chunks);
  self->seconds = MAX(seconds, 0);
  return self;
}

void vigil_preroll_clear(VigilPreroll *self)
{
  g_queue_clear_full(&self->chunks, (GDestroyNotify)vigil_chunk_unref);
  self->bytes = 0;
}

void vigil_preroll_free(VigilPreroll *self)
{
  if (!self)
    return;
  vigil_preroll_clear(self);
  g_free(self);
}

void vigil_preroll_set_seconds(VigilPreroll *self, int seconds)
{
  self->seconds = MAX(seconds, 0);
}

static void drop_head(VigilPreroll *self)
{
  VigilChunk *c = g_queue_pop_head(&self->chunks);
  self->bytes -= g_bytes_get_size(c->data);
  vigil_chunk_unref(c);
}

/* Drops the GOPs before @keep (a keyframe chunk in the queue). */
static void drop_before(VigilPreroll *self, VigilChunk *keep)
{
  while (g_queue_peek_head(&self->chunks) != keep)
    drop_head(self);
}

/* After a keyframe: begin at the latest keyframe old enough to cover the
 * window, and keep within the memory bound. */
static void trim(VigilPreroll *self)
{
  gint64 limit = self->newest_pts - (gint64)self->seconds * 90000;
  VigilChunk *start = NULL;
  for (GList *l = self->chunks.head; l; l = l->next) {
    VigilChunk *c = l->data;
    if (vigil_chunk_is_keyframe(c) && c->pts <= limit)
      start = c;
  }
  if (start)
    drop_before(self, start);
  while (self->bytes > VIGIL_PREROLL_MAX_BYTES) {
    /* Drop the first GOP whole: up to the next keyframe. */
    GList *next = self->chunks.head->next;
    while (next && !vigil_chunk_is_keyframe(next->data))
      next = next->next;
    if (!next) {
      vigil_preroll_clear(self); /* one GOP over the bound: start afresh */
      return;
    }
    drop_before(self, next->data);
  }
}

void vigil_preroll_push(VigilPreroll *self, VigilChunk *chunk)
{
  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  /* After a gap (camera reconnected) older pictures are not "just before". */
  if (chunk->flags & VIGIL_CHUNK_DISCONT)
    vigil_preroll_clear(self);
  if (g_queue_is_empty(&self->chunks) && !keyframe)
    return;
  g_queue_push_tail(&self->chunks, vigil_chunk_ref(chunk));
  self->bytes += g_bytes_get_size(chunk->data);
  if (!(chunk->flags & VIGIL_CHUNK_AUDIO))
    self->newest_pts = MAX(self->newest_pts, chunk->pts);
  if (keyframe)
    trim(self);
}

GPtrArray *vigil_preroll_take(VigilPreroll *self)
{
  GPtrArray *out = g_ptr_array_new_full(self->chunks.length, (GDestroyNotify)vigil_chunk_unref);
  VigilChunk *c;
  while ((c = g_queue_pop_head(&self->chunks)))
    g_ptr_array_add(out, c);
  self->bytes = 0;
  return out;
}

GPtrArray *vigil_preroll_get_since(VigilPreroll *self, gint64 wallclock_us)
{
  GList *from = self->chunks.head; /* a keyframe */
  for (GList *l = self->chunks.head; l; l = l->next) {
    VigilChunk *c = l->data;
    if (c->wallclock_us > wallclock_us)
      break;
    if (vigil_chunk_is_keyframe(c))
      from = l;
  }
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_chunk_unref);
  for (GList *l = from; l; l = l->next)
    g_ptr_array_add(out, vigil_chunk_ref(l->data));
  return out;
}

guint vigil_preroll_get_length(VigilPreroll *self)
{
  return self->chunks.length;
}

gsize vigil_preroll_get_bytes(VigilPreroll *self)
{
  return self->bytes;
}

gint64 vigil_preroll_get_span(VigilPreroll *self)
{
  VigilChunk *head = g_queue_peek_head(&self->chunks);
  return head ? self->newest_pts - head->pts : 0;
}
