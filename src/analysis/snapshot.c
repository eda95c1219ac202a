/* Snapshots (see snapshot.h): the latest keyframes, and JPEG jobs on GTask
 * threads. */
#define G_LOG_DOMAIN "vigil-analysis"

#include "analysis/snapshot.h"

#include "analysis/decoder.h"
#include "core/error.h"
#include "detect/detect.h"

/* Indexed by VigilStreamChoice (main, sub). */
#define STREAMS 2

struct _VigilSnapshots {
  gint refs;
  GMutex lock; /* guards everything below */
  GstBuffer *latest[STREAMS];
  VigilCodec codec[STREAMS];
  guint64 seq[STREAMS];  /* keyframes seen */
  gint64 main_time;      /* the main keyframe's arrival, wall clock */
  GBytes *jpeg[STREAMS]; /* of keyframe jpeg_seq */
  guint64 jpeg_seq[STREAMS];
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
  for (int i = 0; i < STREAMS; i++) {
    gst_clear_buffer(&self->latest[i]);
    g_clear_pointer(&self->jpeg[i], g_bytes_unref);
  }
  g_clear_pointer(&self->boxes, g_array_unref);
  g_mutex_clear(&self->lock);
  g_free(self);
}

void vigil_snapshots_set_keyframe(VigilSnapshots *self, GstBuffer *buffer, VigilCodec codec,
                                  VigilStreamChoice stream)
{
  int i = stream == VIGIL_STREAM_SUB;
  g_mutex_lock(&self->lock);
  gst_buffer_replace(&self->latest[i], buffer);
  self->codec[i] = codec;
  self->seq[i]++;
  if (i == VIGIL_STREAM_MAIN)
    self->main_time = g_get_real_time();
  g_mutex_unlock(&self->lock);
}

/* Under the lock: which stream a snapshot of @want is made of: that one, or
 * the other while @want has sent no keyframe (a camera without a sub stream,
 * or a main stream still connecting); -1 when neither has. */
static int source_locked(VigilSnapshots *self, VigilStreamChoice want)
{
  int i = want == VIGIL_STREAM_SUB;
  if (self->latest[i])
    return i;
  return self->latest[!i] ? !i : -1;
}

GstBuffer *vigil_snapshots_get_keyframe(VigilSnapshots *self, VigilCodec *codec)
{
  g_mutex_lock(&self->lock);
  int i = source_locked(self, VIGIL_STREAM_MAIN);
  GstBuffer *keyframe = i < 0 ? NULL : gst_buffer_ref(self->latest[i]);
  if (i >= 0)
    *codec = self->codec[i];
  g_mutex_unlock(&self->lock);
  return keyframe;
}

GstBuffer *vigil_snapshots_get_main_keyframe(VigilSnapshots *self, VigilCodec *codec,
                                             gint64 *arrived_us)
{
  g_mutex_lock(&self->lock);
  GstBuffer *main = self->latest[VIGIL_STREAM_MAIN];
  GstBuffer *keyframe = main ? gst_buffer_ref(main) : NULL;
  *codec = self->codec[VIGIL_STREAM_MAIN];
  *arrived_us = self->main_time;
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

/* --- JPEG jobs (a thread pool; results as GTasks on the caller's context) --- */

typedef struct {
  VigilSnapshots *snapshots; /* ref; NULL: nothing to cache */
  GstBuffer *buffer;
  VigilCodec codec;
  int stream; /* the keyframe's, and the cache slot */
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

/* A pool thread: makes one JPEG and returns it through its GTask. */
static void job_thread(gpointer data, gpointer user_data)
{
  g_autoptr(GTask) task = data;
  Job *job = g_task_get_task_data(task);
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
    int i = job->stream;
    if (job->seq >= self->jpeg_seq[i]) {
      g_clear_pointer(&self->jpeg[i], g_bytes_unref);
      self->jpeg[i] = g_bytes_ref(jpeg);
      self->jpeg_seq[i] = job->seq;
    }
    g_mutex_unlock(&self->lock);
  }
  g_task_return_pointer(task, jpeg, (GDestroyNotify)g_bytes_unref);
}

/* The jobs share a pool of at most as many threads as there are cores (up
 * to 4). A page asking for sixteen stills at once (the grid's posters) then
 * gets them one after another, the first within milliseconds, rather than
 * all of them at the end of sixteen decodes sharing two cores, which starve
 * the main loop's replies meanwhile. */
static void run(Job *job, GAsyncReadyCallback callback, gpointer user_data)
{
  static GThreadPool *pool;
  if (g_once_init_enter(&pool)) {
    GThreadPool *created =
        g_thread_pool_new(job_thread, NULL, CLAMP((int)g_get_num_processors(), 1, 4), FALSE, NULL);
    g_once_init_leave(&pool, created);
  }
  GTask *task = g_task_new(NULL, NULL, callback, user_data);
  g_task_set_task_data(task, job, job_free);
  g_thread_pool_push(pool, task, NULL);
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

void vigil_snapshots_take_async(VigilSnapshots *self, VigilStreamChoice stream, gboolean boxes,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_mutex_lock(&self->lock);
  int i = source_locked(self, stream);
  if (i < 0 || (!boxes && self->jpeg[i] && self->jpeg_seq[i] == self->seq[i])) {
    /* Nothing to make: answer at once (still from the main loop, as a
     * GTask does). */
    GBytes *cached = i >= 0 ? g_bytes_ref(self->jpeg[i]) : NULL;
    g_mutex_unlock(&self->lock);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, callback, user_data);
    if (cached)
      g_task_return_pointer(task, cached, (GDestroyNotify)g_bytes_unref);
    else
      g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no keyframe yet");
    return;
  }
  Job *job = g_new0(Job, 1);
  job->buffer = gst_buffer_ref(self->latest[i]);
  job->codec = self->codec[i];
  job->stream = i;
  job->seq = self->seq[i];
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
