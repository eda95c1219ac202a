/* Snapshots (see snapshot.h): the latest keyframes, and JPEG jobs on GTask
 * threads. */
#define G_LOG_DOMAIN "vigil-analysis"

#include "analysis/snapshot.h"

#include "analysis/decoder.h"
#include "core/error.h"
#include "detect/detect.h"

struct _VigilSnapshots {
  gint refs;
  GMutex lock;       /* guards everything below */
  GstBuffer *latest; /* the main stream's */
  VigilCodec latest_codec;
  gint64 latest_time;    /* its arrival, wall clock */
  GstBuffer *latest_sub; /* the sub stream's, until the main one has one */
  VigilCodec latest_sub_codec;
  guint64 latest_seq;
  GBytes *jpeg; /* of keyframe jpeg_seq */
  guint64 jpeg_seq;
  GArray *boxes; /* VigilDetection: the latest detection */
};

VigilSnapshots *vigil_snapshots_new(void)
{
  VigilSnapshots *self = g_new0(VigilSnapshots, 1);
  self->refs = 1;
  g_mutex_init(&self->lock);
  return self;
}

VigilSnapshots *vigil_snapshots_ref(VigilSnapshots *self)
{
  g_atomic_int_inc(&self->refs);
  return self;
}

void vigil_snapshots_unref(VigilSnapshots *self)
{
  if (!self || !g_atomic_int_dec_and_test(&self->refs))
    return;
  gst_clear_buffer(&self->latest);
  gst_clear_buffer(&self->latest_sub);
  g_clear_pointer(&self->jpeg, g_bytes_unref);
  g_clear_pointer(&self->boxes, g_array_unref);
  g_mutex_clear(&self->lock);
  g_free(self);
}

void vigil_snapshots_set_keyframe(VigilSnapshots *self, GstBuffer *buffer, VigilCodec codec,
                                  VigilStreamChoice stream)
{
  g_mutex_lock(&self->lock);
  if (stream == VIGIL_STREAM_MAIN) {
    gst_buffer_replace(&self->latest, buffer);
    self->latest_codec = codec;
    self->latest_time = g_get_real_time();
  } else {
    gst_buffer_replace(&self->latest_sub, buffer);
    self->latest_sub_codec = codec;
  }
  self->latest_seq++;
  g_mutex_unlock(&self->lock);
}

/* Under the lock: the main stream's keyframe, the sub stream's while the
 * main one has none (a new ref, NULL if none). */
static GstBuffer *keyframe_locked(VigilSnapshots *self, VigilCodec *codec)
{
  if (self->latest) {
    *codec = self->latest_codec;
    return gst_buffer_ref(self->latest);
  }
  *codec = self->latest_sub_codec;
  return self->latest_sub ? gst_buffer_ref(self->latest_sub) : NULL;
}

GstBuffer *vigil_snapshots_get_keyframe(VigilSnapshots *self, VigilCodec *codec)
{
  g_mutex_lock(&self->lock);
  GstBuffer *keyframe = keyframe_locked(self, codec);
  g_mutex_unlock(&self->lock);
  return keyframe;
}

GstBuffer *vigil_snapshots_get_main_keyframe(VigilSnapshots *self, VigilCodec *codec,
                                             gint64 *arrived_us)
{
  g_mutex_lock(&self->lock);
  GstBuffer *keyframe = self->latest ? gst_buffer_ref(self->latest) : NULL;
  *codec = self->latest_codec;
  *arrived_us = self->latest_time;
  g_mutex_unlock(&self->lock);
  return keyframe;
}

void vigil_snapshots_set_boxes(VigilSnapshots *self, GArray *dets)
{
  g_mutex_lock(&self->lock);
  g_clear_pointer(&self->boxes, g_array_unref);
  self->boxes = dets ? g_array_ref(dets) : NULL;
  g_mutex_unlock(&self->lock);
}

/* --- JPEG jobs (GTask threads) --- */

typedef struct {
  VigilSnapshots *snapshots; /* ref; NULL: nothing to cache */
  GstBuffer *buffer;
  VigilCodec codec;
  guint64 seq;
  float *boxes; /* x, y, w, h each; NULL for none */
  int n_boxes;
  int max_width; /* 0 = full size */
} Job;

static void job_free(gpointer data)
{
  Job *job = data;
  g_clear_pointer(&job->snapshots, vigil_snapshots_unref);
  gst_buffer_unref(job->buffer);
  g_free(job->boxes);
  g_free(job);
}

static float *boxes_of(GArray *dets, int *n)
{
  *n = dets ? (int)dets->len : 0;
  float *boxes = g_new0(float, (gsize)*n * 4 + 1);
  for (int i = 0; i < *n; i++) {
    const VigilDetection *d = &g_array_index(dets, VigilDetection, i);
    boxes[i * 4] = d->x;
    boxes[i * 4 + 1] = d->y;
    boxes[i * 4 + 2] = d->w;
    boxes[i * 4 + 3] = d->h;
  }
  return boxes;
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Job *job = data;
  GError *error = NULL;
  GstMapInfo map;
  if (!gst_buffer_map(job->buffer, &map, GST_MAP_READ)) {
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_FAILED, "unreadable keyframe");
    return;
  }
  GBytes *jpeg = vigil_decode_jpeg(job->codec, map.data, map.size, job->max_width, job->boxes,
                                   job->n_boxes, &error);
  gst_buffer_unmap(job->buffer, &map);
  if (!jpeg) {
    g_task_return_error(task, error);
    return;
  }
  VigilSnapshots *self = job->snapshots;
  if (self) {
    g_mutex_lock(&self->lock);
    if (job->seq >= self->jpeg_seq) {
      g_clear_pointer(&self->jpeg, g_bytes_unref);
      self->jpeg = g_bytes_ref(jpeg);
      self->jpeg_seq = job->seq;
    }
    g_mutex_unlock(&self->lock);
  }
  g_task_return_pointer(task, jpeg, (GDestroyNotify)g_bytes_unref);
}

static void run(Job *job, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_task_data(task, job, job_free);
  g_task_run_in_thread(task, job_thread);
}

void vigil_snapshot_jpeg_async(GstBuffer *keyframe, VigilCodec codec, GArray *dets, int max_width,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  Job *job = g_new0(Job, 1);
  job->buffer = gst_buffer_ref(keyframe);
  job->codec = codec;
  if (dets)
    job->boxes = boxes_of(dets, &job->n_boxes);
  job->max_width = max_width;
  run(job, callback, user_data);
}

void vigil_snapshots_take_async(VigilSnapshots *self, gboolean boxes, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_mutex_lock(&self->lock);
  VigilCodec codec;
  GstBuffer *keyframe = keyframe_locked(self, &codec);
  if (!keyframe || (!boxes && self->jpeg && self->jpeg_seq == self->latest_seq)) {
    /* Nothing to make: answer at once (still from the main loop, as a
     * GTask does). */
    GBytes *cached = keyframe ? g_bytes_ref(self->jpeg) : NULL;
    g_mutex_unlock(&self->lock);
    g_clear_pointer(&keyframe, gst_buffer_unref);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    if (cached)
      g_task_return_pointer(task, cached, (GDestroyNotify)g_bytes_unref);
    else
      g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no keyframe yet");
    return;
  }
  Job *job = g_new0(Job, 1);
  job->buffer = keyframe;
  job->codec = codec;
  job->seq = self->latest_seq;
  if (boxes)
    job->boxes = boxes_of(self->boxes, &job->n_boxes);
  else
    job->snapshots = vigil_snapshots_ref(self); /* the plain one is cached */
  g_mutex_unlock(&self->lock);
  run(job, callback, user_data);
}

GBytes *vigil_snapshots_take_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}
