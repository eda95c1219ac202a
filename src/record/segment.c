/* The segment writer: operations batched in memory, written, fsynced and
 * reported back to the main context by the shared writer pool. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "analysis/decoder.h"
#include "core/error.h"
#include "live/tsmux.h"
#include "record/playlist.h"
#include "record/writer-pool.h"

/* --- recording info --- */

VigilRecInfo *vigil_rec_info_new(const char *camera, const char *reason)
{
  VigilRecInfo *info = g_new0(VigilRecInfo, 1);
  info->camera = g_strdup(camera);
  info->reason = g_strdup(reason);
  info->refcount = 1;
  return info;
}

VigilRecInfo *vigil_rec_info_ref(VigilRecInfo *info)
{
  g_atomic_int_inc(&info->refcount);
  return info;
}

void vigil_rec_info_unref(VigilRecInfo *info)
{
  if (!info || !g_atomic_int_dec_and_test(&info->refcount))
    return;
  g_free(info->camera);
  g_free(info->reason);
  g_free(info->rel_path);
  g_free(info);
}

/* --- file helpers --- */

gboolean vigil_dir_sync(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  gboolean ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

static gboolean write_all(int fd, const guint8 *data, gsize size)
{
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    data += n;
    size -= (gsize)n;
  }
  return TRUE;
}

gboolean vigil_file_replace(const char *path, const void *data, gsize size, GError **error)
{
  g_autofree gchar *tmp = g_strconcat(path, ".tmp", NULL);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  gboolean ok = fd >= 0 && write_all(fd, data, size) && fsync(fd) == 0;
  int saved = errno;
  if (fd >= 0)
    close(fd);
  if (ok && rename(tmp, path) != 0) {
    saved = errno;
    ok = FALSE;
  }
  if (!ok) {
    g_unlink(tmp);
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot write %s: %s", path,
                g_strerror(saved));
  }
  return ok;
}

/* --- thumbnails --- */

/* Recording thumbnails are this wide (aspect kept). */
#define THUMBNAIL_WIDTH 320

gboolean vigil_thumbnail_write(GBytes *ts, const char *path, GError **error)
{
  /* libavcodec directly, one picture: a GStreamer decodebin here mapped
   * ~20 MiB more of plugins and libraries (gst-libav pulls in libavfilter and
   * its dependencies) and left the writer threads' malloc arenas holding
   * what it had allocated (bench/RESULTS.md, "Memory per camera"). */
  gsize size;
  const guint8 *data = g_bytes_get_data(ts, &size);
  VigilCodec codec;
  g_autoptr(GBytes) unit = vigil_ts_read_video_unit(data, size, &codec);
  if (!unit) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_FAILED, "no picture in the first keyframe");
    return FALSE;
  }
  const guint8 *unit_data = g_bytes_get_data(unit, &size);
  g_autoptr(GBytes) jpeg = vigil_decode_jpeg_scaled(codec, unit_data, size, THUMBNAIL_WIDTH, error);
  if (!jpeg)
    return FALSE;
  return vigil_file_replace(path, g_bytes_get_data(jpeg, NULL), g_bytes_get_size(jpeg), error);
}

/* --- the writer --- */

typedef enum { OP_BEGIN, OP_CHUNK, OP_END, OP_FLUSH, OP_QUIT } OpKind;

typedef struct {
  OpKind kind;
  VigilRecInfo *rec;
  VigilChunk *chunk;
} Op;

/* Chunks gathered for one writev (IOV_MAX is 1024 on Linux). */
#define BATCH_IOVS 64

/* What reports hold: outlives the writer, tells the main context whether
 * the writer is still there. Main thread reads and clears alive. */
typedef struct {
  gint refcount;
  gboolean alive;
  GAsyncQueue *reports; /* Report*, in order */
  VigilWriterFunc func;
  gpointer user_data;
} Link;

struct _VigilSegmentWriter {
  gchar *root;
  GMainContext *context;
  Link *link;
  VigilPoolClient *client;
  gint queued; /* bytes pushed and not yet written, atomic */

  GMutex lock; /* guards the fields down to the blank line */
  GCond cond;
  GArray *pending;      /* Op: pushed, not yet taken by the pool */
  gsize pending_bytes;  /* of the chunks in pending */
  gint64 cut_pts;       /* a keyframe at or past this ends the open segment */
  guint flushes_pushed; /* OP_FLUSH pushed */
  guint flushes_done;   /* OP_FLUSH done, everything before them written */
  gboolean quit_done;

  /* the pool thread running the writer (one at a time) only */
  GArray *ops;                  /* Op: taken from pending, being done */
  gsize ops_unwritten;          /* bytes of ops' chunks not yet subtracted from queued */
  struct iovec iov[BATCH_IOVS]; /* chunks of the open segment not yet written */
  guint n_iov;
  VigilRecInfo *rec;
  gchar *dir;          /* absolute path of the recording */
  GPtrArray *segments; /* VigilSegment*, completed */
  int fd;
  int seq; /* of the open segment or the next one */
  gint64 seg_first_pts, seg_last_pts, frame_pts;
  gint64 seg_start_us;
  gint64 seg_bytes;
  gboolean seg_discont;
  gboolean pending_discont;
  gint64 base_pts, base_us;   /* wall clock anchor: base_us at base_pts */
  VigilChunk *first_keyframe; /* for the thumbnail */
  gboolean thumbnail_done;
  gboolean failing;
};

typedef struct {
  VigilWriterEvent event;
  VigilRecInfo *rec;
  VigilSegment segment;
  gchar *message;
} Report;

static void report_free(gpointer data)
{
  Report *r = data;
  vigil_rec_info_unref(r->rec);
  g_free(r->message);
  g_free(r);
}

static void link_unref(gpointer data)
{
  Link *link = data;
  if (!g_atomic_int_dec_and_test(&link->refcount))
    return;
  g_async_queue_unref(link->reports);
  g_free(link);
}

/* Delivers the oldest pending report (main context). The queue keeps the
 * order; vigil_segment_writer_free delivers what is left synchronously. */
static void dispatch_one(Link *link)
{
  Report *r = g_async_queue_try_pop(link->reports);
  if (!r)
    return;
  if (link->alive)
    link->func(r->event, r->rec, r->event == VIGIL_WRITER_SEGMENT ? &r->segment : NULL,
               r->message, link->user_data);
  report_free(r);
}

static gboolean report_dispatch(gpointer data)
{
  dispatch_one(data);
  return G_SOURCE_REMOVE;
}

static void report(VigilSegmentWriter *self, VigilWriterEvent event, const VigilSegment *seg,
                   const char *message)
{
  Report *r = g_new0(Report, 1);
  r->event = event;
  r->rec = self->rec ? vigil_rec_info_ref(self->rec) : NULL;
  if (seg)
    r->segment = *seg;
  r->message = g_strdup(message);
  g_async_queue_push(self->link->reports, r);
  g_atomic_int_inc(&self->link->refcount);
  GSource *source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, report_dispatch, self->link, link_unref);
  g_source_attach(source, self->context);
  g_source_unref(source);
}

static gint64 wall_at(VigilSegmentWriter *self, gint64 pts)
{
  return self->base_us + (pts - self->base_pts) * 100 / 9;
}

static void write_playlist(VigilSegmentWriter *self, gboolean closed)
{
  g_autofree gchar *text =
      vigil_playlist_build(self->segments, closed, "", self->rec->reason);
  g_autofree gchar *path = g_build_filename(self->dir, "playlist.m3u8", NULL);
  g_autoptr(GError) error = NULL;
  if (!vigil_file_replace(path, text, strlen(text), &error))
    g_warning("%s", error->message);
}

static void fail(VigilSegmentWriter *self, int err, const char *what)
{
  g_autofree gchar *message = g_strdup_printf(
      "camera %s: cannot %s: %s", self->rec->camera, what,
      err == ENOSPC ? "the disk is full" : g_strerror(err));
  self->n_iov = 0; /* the rest of the segment goes with it */
  if (self->fd >= 0) {
    close(self->fd);
    self->fd = -1;
    g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", self->dir, self->seq);
    g_unlink(file);
  }
  self->pending_discont = TRUE;
  if (!self->failing) {
    self->failing = TRUE;
    g_warning("%s; recording paused until it works again", message);
    report(self, VIGIL_WRITER_FAILED, NULL, message);
  }
}

static gboolean writev_all(int fd, struct iovec *iov, guint n)
{
  while (n > 0) {
    ssize_t done = writev(fd, iov, (int)n);
    if (done < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    while (n > 0 && (gsize)done >= iov->iov_len) {
      done -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) { /* a short write: the rest of this chunk first */
      iov->iov_base = (guint8 *)iov->iov_base + done;
      iov->iov_len -= (gsize)done;
    }
  }
  return TRUE;
}

/* Writes the chunks gathered for the open segment in one writev. The chunks
 * stay referenced by self->ops until the pool's run ends, which always
 * writes the batch first. */
static void write_batch(VigilSegmentWriter *self)
{
  if (self->n_iov == 0)
    return;
  gboolean ok = self->fd < 0 || writev_all(self->fd, self->iov, self->n_iov);
  int err = errno;
  self->n_iov = 0;
  if (!ok)
    fail(self, err, "write a segment");
}

/* Completes the open segment: write, fsync, playlist, directory fsync,
 * report. */
static void close_segment(VigilSegmentWriter *self, gint64 next_pts)
{
  if (self->fd < 0)
    return;
  write_batch(self);
  if (self->fd < 0)
    return; /* the write failed */
  gint64 end_pts = next_pts > self->seg_first_pts ? next_pts : self->seg_last_pts + self->frame_pts;
  if (fsync(self->fd) != 0) {
    fail(self, errno, "write a segment");
    return;
  }
  close(self->fd);
  self->fd = -1;

  VigilSegment *seg = g_new0(VigilSegment, 1);
  seg->seq = self->seq;
  seg->start_us = self->seg_start_us;
  seg->duration_us = MAX(1, (end_pts - self->seg_first_pts) * 100 / 9);
  seg->size_bytes = self->seg_bytes;
  seg->discont = self->seg_discont;
  g_ptr_array_add(self->segments, seg);
  self->seq++;
  write_playlist(self, FALSE);
  /* One directory fsync makes both the new file and the playlist's rename
   * durable; only then may the index mention the segment. */
  if (!vigil_dir_sync(self->dir))
    g_warning("fsync of %s failed: %s", self->dir, g_strerror(errno));
  report(self, VIGIL_WRITER_SEGMENT, seg, NULL);
  if (self->failing) {
    self->failing = FALSE;
    g_info("camera %s: recording works again", self->rec->camera);
    report(self, VIGIL_WRITER_RECOVERED, NULL, NULL);
  }

  if (!self->thumbnail_done && self->first_keyframe) {
    self->thumbnail_done = TRUE;
    g_autofree gchar *path = g_build_filename(self->dir, "thumbnail.jpg", NULL);
    g_autoptr(GError) error = NULL;
    if (!vigil_thumbnail_write(self->first_keyframe->data, path, &error))
      g_warning("camera %s: no thumbnail: %s", self->rec->camera, error->message);
    g_clear_pointer(&self->first_keyframe, vigil_chunk_unref);
  }
}

/* Creates the recording's directory on its first segment. */
static gboolean ensure_dir(VigilSegmentWriter *self, VigilChunk *chunk)
{
  if (self->dir)
    return TRUE;
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(chunk->wallclock_us / G_USEC_PER_SEC);
  g_autofree gchar *day = g_date_time_format(t, "%Y-%m-%d");
  g_autofree gchar *stamp = g_date_time_format(t, "%Y%m%dT%H%M%SZ");
  g_autofree gchar *parent = g_build_filename(self->root, self->rec->camera, day, NULL);
  if (g_mkdir_with_parents(parent, 0755) != 0) {
    fail(self, errno, "create a recording directory");
    return FALSE;
  }
  /* Two recordings in one second (stop then start): suffix the second. */
  g_autofree gchar *name = g_strdup(stamp);
  for (int n = 2;; n++) {
    g_autofree gchar *dir = g_build_filename(parent, name, NULL);
    if (g_mkdir(dir, 0755) == 0)
      break;
    if (errno != EEXIST || n > 100) {
      fail(self, errno, "create a recording directory");
      return FALSE;
    }
    g_free(name);
    name = g_strdup_printf("%s-%d", stamp, n);
  }
  vigil_dir_sync(parent);
  self->dir = g_build_filename(parent, name, NULL);
  g_free(self->rec->rel_path);
  self->rec->rel_path = g_build_filename(self->rec->camera, day, name, NULL);
  self->rec->start_us = chunk->wallclock_us;
  self->base_pts = chunk->pts;
  self->base_us = chunk->wallclock_us;
  return TRUE;
}

/* Where the open segment will be cut, for vigil_segment_writer_write to wake
 * the pool at once then: the segment is fsynced and reported without waiting
 * for a tick. Rounded up; a wake too many is harmless. */
static gint64 cut_pts(VigilSegmentWriter *self)
{
  if (self->fd < 0)
    return G_MAXINT64;
  return self->seg_first_pts + ((VIGIL_SEGMENT_TARGET_US - 50000) * 9 + 99) / 100;
}

static void open_segment(VigilSegmentWriter *self, VigilChunk *chunk)
{
  if (!ensure_dir(self, chunk))
    return;
  struct statvfs fs;
  if (statvfs(self->dir, &fs) == 0 &&
      (guint64)fs.f_bavail * fs.f_frsize < VIGIL_SEGMENT_RESERVE_BYTES) {
    fail(self, ENOSPC, "start a segment");
    return;
  }
  if (chunk->flags & VIGIL_CHUNK_DISCONT || self->pending_discont) {
    /* Re-anchor the wall clock after a gap: pts runs on, time did too. */
    self->base_pts = chunk->pts;
    self->base_us = chunk->wallclock_us;
  }
  g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", self->dir, self->seq);
  self->fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (self->fd < 0) {
    fail(self, errno, "create a segment");
    return;
  }
  self->seg_first_pts = self->seg_last_pts = chunk->pts;
  self->seg_start_us = wall_at(self, chunk->pts);
  self->seg_bytes = 0;
  self->seg_discont = self->segments->len > 0 &&
                      (self->pending_discont || (chunk->flags & VIGIL_CHUNK_DISCONT));
  self->pending_discont = FALSE;
  if (!self->thumbnail_done && !self->first_keyframe)
    self->first_keyframe = vigil_chunk_ref(chunk);
  /* Now, not at the end of the run: the keyframe that ends this segment may
   * be pushed while the run goes on (an fsync, a thumbnail). */
  g_mutex_lock(&self->lock);
  self->cut_pts = cut_pts(self);
  g_mutex_unlock(&self->lock);
}

static void do_chunk(VigilSegmentWriter *self, VigilChunk *chunk)
{
  if (!self->rec)
    return;
  gboolean video = !(chunk->flags & VIGIL_CHUNK_AUDIO);
  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  /* A batch never spans a keyframe: a write that fails then loses the
   * segment up to this keyframe, which starts a new one, exactly as when
   * every chunk was written on its own. */
  if (keyframe)
    write_batch(self);
  if (self->fd >= 0 && keyframe) {
    if (chunk->flags & VIGIL_CHUNK_DISCONT) {
      close_segment(self, 0);
      self->pending_discont = TRUE;
    } else if ((chunk->pts - self->seg_first_pts) * 100 / 9 >= VIGIL_SEGMENT_TARGET_US - 50000) {
      /* 50 ms early is on time: a 1 s GOP must give 2 s segments, not 3. */
      close_segment(self, chunk->pts);
    }
  }
  if (self->fd < 0) {
    if (!keyframe)
      return; /* a segment begins at a keyframe */
    open_segment(self, chunk);
    if (self->fd < 0)
      return;
  }
  if (self->n_iov == BATCH_IOVS) {
    write_batch(self);
    if (self->fd < 0)
      return;
  }
  gsize size;
  const guint8 *data = g_bytes_get_data(chunk->data, &size);
  self->iov[self->n_iov++] = (struct iovec){.iov_base = (void *)data, .iov_len = size};
  self->seg_bytes += size;
  if (video) {
    if (chunk->pts > self->seg_last_pts) {
      self->frame_pts = chunk->pts - self->seg_last_pts;
      self->seg_last_pts = chunk->pts;
    }
  }
}

static void do_end(VigilSegmentWriter *self)
{
  if (!self->rec)
    return;
  close_segment(self, 0);
  if (self->fd >= 0) { /* close_segment failed half-way */
    close(self->fd);
    self->fd = -1;
  }
  if (self->dir) {
    if (self->segments->len > 0) {
      write_playlist(self, TRUE);
      vigil_dir_sync(self->dir);
    } else {
      /* Nothing made it to disk: leave no empty directory behind. */
      g_autofree gchar *pl = g_build_filename(self->dir, "playlist.m3u8", NULL);
      g_unlink(pl);
      g_rmdir(self->dir);
    }
  }
  report(self, VIGIL_WRITER_CLOSED, NULL, NULL);
  g_clear_pointer(&self->first_keyframe, vigil_chunk_unref);
  g_clear_pointer(&self->dir, g_free);
  g_ptr_array_set_size(self->segments, 0);
  g_clear_pointer(&self->rec, vigil_rec_info_unref);
}

static void do_begin(VigilSegmentWriter *self, VigilRecInfo *rec)
{
  do_end(self);
  self->rec = vigil_rec_info_ref(rec);
  self->seq = 1;
  self->thumbnail_done = FALSE;
  self->pending_discont = FALSE;
  self->frame_pts = 3000;
}

/* Everything taken so far is on disk (or failed): give its bytes back. */
static void account_written(VigilSegmentWriter *self)
{
  write_batch(self);
  g_atomic_int_add(&self->queued, -(gint)self->ops_unwritten);
  self->ops_unwritten = 0;
}

/* The pool runs this: takes what was pushed since the last run and does it
 * in order. Chunks become one writev per run and segment; fsync, playlist
 * and reports happen where a segment or recording ends, as they did on the
 * writer's own thread. */
static void writer_run(gpointer data)
{
  VigilSegmentWriter *self = data;
  g_mutex_lock(&self->lock);
  GArray *ops = self->pending;
  self->pending = self->ops;
  self->ops = ops;
  self->pending_bytes = 0;
  g_mutex_unlock(&self->lock);

  gboolean flushed = FALSE, quit = FALSE;
  for (guint i = 0; i < ops->len; i++) {
    Op *op = &g_array_index(ops, Op, i);
    switch (op->kind) {
    case OP_BEGIN:
      do_begin(self, op->rec);
      break;
    case OP_CHUNK:
      do_chunk(self, op->chunk);
      self->ops_unwritten += g_bytes_get_size(op->chunk->data);
      break;
    case OP_END:
      do_end(self);
      break;
    case OP_QUIT:
      do_end(self);
      quit = TRUE;
      break;
    case OP_FLUSH:
      /* Wake the flusher only once what came before is written. */
      account_written(self);
      g_mutex_lock(&self->lock);
      self->flushes_done++;
      g_mutex_unlock(&self->lock);
      flushed = TRUE;
      break;
    }
  }
  account_written(self);
  for (guint i = 0; i < ops->len; i++) {
    Op *op = &g_array_index(ops, Op, i);
    if (op->rec)
      vigil_rec_info_unref(op->rec);
    if (op->chunk)
      vigil_chunk_unref(op->chunk);
  }
  g_array_set_size(ops, 0);

  g_mutex_lock(&self->lock);
  self->cut_pts = cut_pts(self);
  if (quit)
    self->quit_done = TRUE;
  if (flushed || quit)
    g_cond_broadcast(&self->cond);
  g_mutex_unlock(&self->lock);
}

/* Queues an operation; @now: have the pool do it without waiting for a
 * tick. Returns the number of OP_FLUSH queued so far, this one included. */
static guint push(VigilSegmentWriter *self, OpKind kind, VigilRecInfo *rec, gboolean now)
{
  Op op = {.kind = kind, .rec = rec ? vigil_rec_info_ref(rec) : NULL};
  g_mutex_lock(&self->lock);
  g_array_append_val(self->pending, op);
  gboolean first = self->pending->len == 1;
  if (kind == OP_FLUSH)
    self->flushes_pushed++;
  guint flushes = self->flushes_pushed;
  g_mutex_unlock(&self->lock);
  if (now)
    vigil_writer_pool_kick(self->client);
  else if (first)
    vigil_writer_pool_mark(self->client);
  return flushes;
}

VigilSegmentWriter *vigil_segment_writer_new(const char *recordings_dir, GMainContext *context,
                                             VigilWriterFunc func, gpointer user_data)
{
  VigilSegmentWriter *self = g_new0(VigilSegmentWriter, 1);
  self->root = g_strdup(recordings_dir);
  self->context = g_main_context_ref(context ? context : g_main_context_default());
  self->link = g_new0(Link, 1);
  self->link->refcount = 1;
  self->link->alive = TRUE;
  self->link->reports = g_async_queue_new();
  self->link->func = func;
  self->link->user_data = user_data;
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  self->pending = g_array_new(FALSE, FALSE, sizeof(Op));
  self->ops = g_array_new(FALSE, FALSE, sizeof(Op));
  self->cut_pts = G_MAXINT64;
  self->segments = g_ptr_array_new_with_free_func(g_free);
  self->fd = -1;
  self->client = vigil_writer_pool_join(writer_run, self);
  return self;
}

void vigil_segment_writer_free(VigilSegmentWriter *self)
{
  if (!self)
    return;
  push(self, OP_QUIT, NULL, TRUE);
  g_mutex_lock(&self->lock);
  while (!self->quit_done)
    g_cond_wait(&self->cond, &self->lock);
  g_mutex_unlock(&self->lock);
  vigil_writer_pool_leave(self->client);
  /* Deliver what the pool reported last (the final segments and the
   * close) now, so they are indexed; idles still queued then find nothing. */
  while (g_async_queue_length(self->link->reports) > 0)
    dispatch_one(self->link);
  self->link->alive = FALSE;
  link_unref(self->link);
  g_array_unref(self->pending);
  g_array_unref(self->ops);
  g_ptr_array_unref(self->segments);
  g_main_context_unref(self->context);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  g_free(self->root);
  g_free(self);
}

void vigil_segment_writer_begin(VigilSegmentWriter *self, VigilRecInfo *rec)
{
  push(self, OP_BEGIN, rec, FALSE);
}

void vigil_segment_writer_write(VigilSegmentWriter *self, VigilChunk *chunk)
{
  gsize size = g_bytes_get_size(chunk->data);
  g_atomic_int_add(&self->queued, (gint)size);
  Op op = {.kind = OP_CHUNK, .chunk = vigil_chunk_ref(chunk)};
  g_mutex_lock(&self->lock);
  g_array_append_val(self->pending, op);
  gboolean first = self->pending->len == 1;
  self->pending_bytes += size;
  /* No wake-up per chunk: the pool takes the batch at its next tick, or at
   * once when the batch is large or this keyframe ends a segment. */
  gboolean now = (self->pending_bytes >= VIGIL_SEGMENT_BATCH_BYTES &&
                  self->pending_bytes - size < VIGIL_SEGMENT_BATCH_BYTES) ||
                 (vigil_chunk_is_keyframe(chunk) &&
                  (chunk->pts >= self->cut_pts || (chunk->flags & VIGIL_CHUNK_DISCONT)));
  g_mutex_unlock(&self->lock);
  if (now)
    vigil_writer_pool_kick(self->client);
  else if (first)
    vigil_writer_pool_mark(self->client);
}

void vigil_segment_writer_end(VigilSegmentWriter *self)
{
  push(self, OP_END, NULL, TRUE);
}

gsize vigil_segment_writer_get_queued(VigilSegmentWriter *self)
{
  return (gsize)g_atomic_int_get(&self->queued);
}

void vigil_segment_writer_flush(VigilSegmentWriter *self)
{
  guint target = push(self, OP_FLUSH, NULL, TRUE);
  g_mutex_lock(&self->lock);
  while (self->flushes_done < target)
    g_cond_wait(&self->cond, &self->lock);
  g_mutex_unlock(&self->lock);
}
