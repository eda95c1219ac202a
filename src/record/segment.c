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

#include "core/error.h"
#include "core/file.h"
#include "record/playlist.h"
#include "record/repair.h"
#include "record/thumbnail.h"
#include "record/writer-pool.h"
#include "record/writer-reports.h"

typedef enum { OP_BEGIN, OP_CHUNK, OP_SUB_CHUNK, OP_SUB_GAP, OP_END, OP_FLUSH, OP_QUIT } OpKind;

typedef struct {
  OpKind kind;
  VigilRecInfo *rec;
  VigilChunk *chunk;
} Op;

/* Chunks gathered for one writev (IOV_MAX is 1024 on Linux). */
#define BATCH_IOVS 64

/* One stream's files in the open recording: the main stream's in the
 * recording's directory, the sub stream's (record_stream "both") in its sub/
 * folder, each with its own segments, playlist and clock. Only the pool
 * thread running the writer touches it. */
typedef struct {
  gboolean sub;
  struct iovec iov[BATCH_IOVS]; /* chunks of the open segment not yet written */
  guint n_iov;
  gchar *dir;          /* absolute; NULL until the track's first segment */
  GPtrArray *segments; /* VigilSegment*, completed */
  int fd;
  int seq; /* of the open segment or the next one */
  gint64 seg_first_pts, seg_last_pts, frame_pts;
  gint64 seg_start_us;
  gint64 seg_bytes;
  gboolean seg_discont;
  gboolean pending_discont;
  gboolean anchored;        /* base_pts/base_us are set */
  gint64 base_pts, base_us; /* wall clock anchor: base_us at base_pts */
  gboolean failing;
  int playlist_target_s; /* of the playlist on disk; 0: write it whole next */
} Track;

struct _VigilSegmentWriter {
  gchar *root;
  VigilWriterReports *reports;
  VigilPoolClient *client;
  gint queued; /* bytes pushed and not yet written, atomic */

  GMutex lock; /* guards the fields down to the blank line */
  GCond cond;
  GArray *pending;      /* Op: pushed, not yet taken by the pool */
  gsize pending_bytes;  /* of the chunks in pending */
  gint64 cut_pts;       /* a main keyframe at or past this ends the open segment */
  gint64 sub_cut_pts;   /* the same for the sub stream's */
  guint flushes_pushed; /* OP_FLUSH pushed */
  guint flushes_done;   /* OP_FLUSH done, everything before them written */
  gboolean quit_done;

  /* the pool thread running the writer (one at a time) only */
  GArray *ops;         /* Op: taken from pending, being done */
  gsize ops_unwritten; /* bytes of ops' chunks not yet subtracted from queued */
  VigilRecInfo *rec;
  Track main, sub;
  VigilChunk *first_keyframe; /* for the thumbnail */
  gboolean thumbnail_done;
};

static guint64 segments_total; /* atomic */

guint64 vigil_segment_writer_segments_total(void)
{
  return __atomic_load_n(&segments_total, __ATOMIC_RELAXED);
}

static void report(VigilSegmentWriter *self, VigilWriterEvent event, const VigilSegment *seg,
                   const char *message)
{
  vigil_writer_reports_post(self->reports, event, self->rec, seg, message);
}

static void track_init(Track *track, gboolean sub)
{
  track->sub = sub;
  track->segments = g_ptr_array_new_with_free_func(g_free);
  track->fd = -1;
  track->seq = 1;
  track->frame_pts = 3000;
}

/* Forgets the recording (its files are closed). */
static void track_reset(Track *track)
{
  g_clear_pointer(&track->dir, g_free);
  g_ptr_array_set_size(track->segments, 0);
  track->n_iov = 0;
  track->seq = 1;
  track->frame_pts = 3000;
  track->pending_discont = FALSE;
  /* The anchor stays: a recording split from this one continues its clock
   * (anchor(), below). */
  track->playlist_target_s = 0;
}

static gint64 wall_at(Track *track, gint64 pts)
{
  return track->base_us + (pts - track->base_pts) * 100 / 9;
}

/* A recording's first picture may be off the anchor by this much (arrival
 * jitter, the camera's clock drifting from the wall clock) before it is
 * anchored anew. */
#define REANCHOR_US G_USEC_PER_SEC

/* Anchors the wall clock at the first picture, and again after a gap: pts
 * ran on, time did too. At a recording's first picture the anchor of the
 * recording before is kept when it still holds within REANCHOR_US, so a
 * recording split from the one before starts exactly where that one ended
 * (no gap, no overlap from arrival jitter); a wall-clock step or a drift
 * past it anchors anew. */
static void anchor(Track *track, VigilChunk *chunk)
{
  gboolean first = track->segments->len == 0;
  if (!track->anchored || chunk->flags & VIGIL_CHUNK_DISCONT || track->pending_discont ||
      (first && ABS(wall_at(track, chunk->pts) - chunk->wallclock_us) > REANCHOR_US)) {
    track->anchored = TRUE;
    track->base_pts = chunk->pts;
    track->base_us = chunk->wallclock_us;
  }
}

/* The track's playlist: the open one gets the newest segment appended
 * (~100 bytes and an fsync); it is written whole, through a temporary file,
 * for the first segment, for one longer than its target duration allows,
 * after a failed append, and closed at the end (VOD, exact target
 * duration). */
static void write_playlist(VigilSegmentWriter *self, Track *track, gboolean closed)
{
  g_autofree gchar *path = g_build_filename(track->dir, "playlist.m3u8", NULL);
  g_autoptr(GError) error = NULL;
  if (!closed && track->playlist_target_s > 0 && track->segments->len > 1) {
    VigilSegment *seg = g_ptr_array_index(track->segments, track->segments->len - 1);
    if (vigil_playlist_target_s(seg->duration_us) <= track->playlist_target_s) {
      g_autofree gchar *entry = vigil_playlist_entry(seg, FALSE);
      if (vigil_file_append_sync(path, entry, strlen(entry), &error))
        return;
      g_warning("%s", error->message);
      track->playlist_target_s = 0; /* a part may be there: whole next time */
      return;
    }
  }
  /* Crash repair re-indexes a recording from the main playlist's reason. */
  const char *reason = track->sub ? NULL : self->rec->reason;
  int target_s = 0;
  g_autofree gchar *text = closed
                               ? vigil_playlist_build(track->segments, TRUE, "", reason)
                               : vigil_playlist_build_growing(track->segments, reason, &target_s);
  if (vigil_file_replace(path, text, strlen(text), &error)) {
    track->playlist_target_s = target_s;
  } else {
    g_warning("%s", error->message);
    track->playlist_target_s = 0;
  }
}

static void fail(VigilSegmentWriter *self, Track *track, int err, const char *what)
{
  g_autofree gchar *message = g_strdup_printf("camera %s: cannot %s%s: %s", self->rec->camera, what,
                                              track->sub ? " of the sub stream" : "",
                                              err == ENOSPC ? "the disk is full" : g_strerror(err));
  track->n_iov = 0; /* the rest of the segment goes with it */
  if (track->fd >= 0) {
    close(track->fd);
    track->fd = -1;
    g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", track->dir, track->seq);
    g_unlink(file);
  }
  track->pending_discont = TRUE;
  if (!track->failing) {
    track->failing = TRUE;
    g_warning("%s; recording paused until it works again", message);
    /* The main stream's state is the recording's (status, disk-low); the sub
     * stream's trouble only shows in the log and a gap in its playlist. */
    if (!track->sub)
      report(self, VIGIL_WRITER_FAILED, NULL, message);
  }
}

/* Writes the chunks gathered for the open segment in one writev. The chunks
 * stay referenced by self->ops until the pool's run ends, which always
 * writes the batch first. */
static void write_batch(VigilSegmentWriter *self, Track *track)
{
  if (track->n_iov == 0)
    return;
  gboolean ok = track->fd < 0 || vigil_writev_all(track->fd, track->iov, track->n_iov);
  int err = errno;
  track->n_iov = 0;
  if (!ok)
    fail(self, track, err, "write a segment");
}

/* Completes the open segment: write, fsync, playlist, directory fsync,
 * report. */
static void close_segment(VigilSegmentWriter *self, Track *track, gint64 next_pts)
{
  if (track->fd < 0)
    return;
  write_batch(self, track);
  if (track->fd < 0)
    return; /* the write failed */
  gint64 end_pts =
      next_pts > track->seg_first_pts ? next_pts : track->seg_last_pts + track->frame_pts;
  if (!vigil_fsync(track->fd)) {
    fail(self, track, errno, "write a segment");
    return;
  }
  close(track->fd);
  track->fd = -1;

  VigilSegment *seg = g_new0(VigilSegment, 1);
  seg->seq = track->seq;
  seg->start_us = track->seg_start_us;
  seg->duration_us = MAX(1, (end_pts - track->seg_first_pts) * 100 / 9);
  seg->size_bytes = track->seg_bytes;
  seg->discont = track->seg_discont;
  seg->sub = track->sub;
  g_ptr_array_add(track->segments, seg);
  track->seq++;
  __atomic_fetch_add(&segments_total, 1, __ATOMIC_RELAXED);
  write_playlist(self, track, FALSE);
  /* One directory fsync makes both the new file and the playlist's rename
   * durable; only then may the index mention the segment. */
  if (!vigil_dir_sync(track->dir))
    g_warning("fsync of %s failed: %s", track->dir, g_strerror(errno));
  report(self, VIGIL_WRITER_SEGMENT, seg, NULL);
  if (track->failing) {
    track->failing = FALSE;
    g_info("camera %s: recording%s works again", self->rec->camera,
           track->sub ? " of the sub stream" : "");
    if (!track->sub)
      report(self, VIGIL_WRITER_RECOVERED, NULL, NULL);
  }

  if (!track->sub && !self->thumbnail_done && self->first_keyframe) {
    self->thumbnail_done = TRUE;
    g_autofree gchar *path = g_build_filename(track->dir, "thumbnail.jpg", NULL);
    g_autoptr(GError) error = NULL;
    if (!vigil_thumbnail_write(self->first_keyframe->data, path, &error))
      g_warning("camera %s: no thumbnail: %s", self->rec->camera, error->message);
    g_clear_pointer(&self->first_keyframe, vigil_chunk_unref);
  }
}

/* Creates the recording's directory on its first segment. */
static gboolean ensure_main_dir(VigilSegmentWriter *self, VigilChunk *chunk)
{
  Track *track = &self->main;
  gint64 start_us = wall_at(track, chunk->pts); /* anchored by open_segment */
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(start_us / G_USEC_PER_SEC);
  g_autofree gchar *day = g_date_time_format(t, "%Y-%m-%d");
  g_autofree gchar *stamp = g_date_time_format(t, "%Y%m%dT%H%M%SZ");
  g_autofree gchar *parent = g_build_filename(self->root, self->rec->camera, day, NULL);
  if (g_mkdir_with_parents(parent, 0755) != 0) {
    fail(self, track, errno, "create a recording directory");
    return FALSE;
  }
  /* Two recordings in one second (stop then start): suffix the second. */
  g_autofree gchar *name = vigil_dir_create_unique(parent, stamp, 0755);
  if (!name) {
    fail(self, track, errno, "create a recording directory");
    return FALSE;
  }
  vigil_dir_sync(parent);
  track->dir = g_build_filename(parent, name, NULL);
  g_free(self->rec->rel_path);
  self->rec->rel_path = g_build_filename(self->rec->camera, day, name, NULL);
  self->rec->start_us = start_us;
  return TRUE;
}

/* The sub stream's folder, inside the recording's directory: only once the
 * main stream has created that (its name is the main stream's first
 * picture's time); until then the sub stream waits for its next keyframe. */
static gboolean ensure_sub_dir(VigilSegmentWriter *self)
{
  Track *track = &self->sub;
  if (!self->main.dir)
    return FALSE;
  g_autofree gchar *dir = g_build_filename(self->main.dir, VIGIL_RECORDING_SUB_DIR, NULL);
  if (g_mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fail(self, track, errno, "create a recording directory");
    return FALSE;
  }
  vigil_dir_sync(self->main.dir);
  track->dir = g_steal_pointer(&dir);
  return TRUE;
}

/* Where the open segment will be cut, for the push functions to wake the
 * pool at once then: the segment is fsynced and reported without waiting
 * for a tick. Rounded up; a wake too many is harmless. */
static gint64 cut_pts(Track *track)
{
  if (track->fd < 0)
    return G_MAXINT64;
  return track->seg_first_pts + ((VIGIL_SEGMENT_TARGET_US - 50000) * 9 + 99) / 100;
}

static void update_cut_pts(VigilSegmentWriter *self)
{
  g_mutex_lock(&self->lock);
  self->cut_pts = cut_pts(&self->main);
  self->sub_cut_pts = cut_pts(&self->sub);
  g_mutex_unlock(&self->lock);
}

static void open_segment(VigilSegmentWriter *self, Track *track, VigilChunk *chunk)
{
  anchor(track, chunk);
  if (!track->dir && !(track->sub ? ensure_sub_dir(self) : ensure_main_dir(self, chunk)))
    return;
  struct statvfs fs;
  if (statvfs(track->dir, &fs) == 0 &&
      (guint64)fs.f_bavail * fs.f_frsize < VIGIL_SEGMENT_RESERVE_BYTES) {
    fail(self, track, ENOSPC, "start a segment");
    return;
  }
  g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", track->dir, track->seq);
  track->fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (track->fd < 0) {
    fail(self, track, errno, "create a segment");
    return;
  }
  track->seg_first_pts = track->seg_last_pts = chunk->pts;
  track->seg_start_us = wall_at(track, chunk->pts);
  track->seg_bytes = 0;
  track->seg_discont =
      track->segments->len > 0 && (track->pending_discont || (chunk->flags & VIGIL_CHUNK_DISCONT));
  track->pending_discont = FALSE;
  if (!track->sub && !self->thumbnail_done && !self->first_keyframe)
    self->first_keyframe = vigil_chunk_ref(chunk);
  /* Now, not at the end of the run: the keyframe that ends this segment may
   * be pushed while the run goes on (an fsync, a thumbnail). */
  update_cut_pts(self);
}

static void do_chunk(VigilSegmentWriter *self, Track *track, VigilChunk *chunk)
{
  if (!self->rec)
    return;
  gboolean video = !(chunk->flags & VIGIL_CHUNK_AUDIO);
  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  /* A batch never spans a keyframe: a write that fails then loses the
   * segment up to this keyframe, which starts a new one, exactly as when
   * every chunk was written on its own. */
  if (keyframe)
    write_batch(self, track);
  if (track->fd >= 0 && keyframe) {
    if (chunk->flags & VIGIL_CHUNK_DISCONT) {
      close_segment(self, track, 0);
      track->pending_discont = TRUE;
    } else if ((chunk->pts - track->seg_first_pts) * 100 / 9 >= VIGIL_SEGMENT_TARGET_US - 50000) {
      /* 50 ms early is on time: a 1 s GOP must give 2 s segments, not 3. */
      close_segment(self, track, chunk->pts);
    }
  }
  if (track->fd < 0) {
    if (!keyframe)
      return; /* a segment begins at a keyframe */
    open_segment(self, track, chunk);
    if (track->fd < 0)
      return;
  }
  if (track->n_iov == BATCH_IOVS) {
    write_batch(self, track);
    if (track->fd < 0)
      return;
  }
  gsize size;
  const guint8 *data = g_bytes_get_data(chunk->data, &size);
  track->iov[track->n_iov++] = (struct iovec){.iov_base = (void *)data, .iov_len = size};
  track->seg_bytes += size;
  if (video) {
    if (chunk->pts > track->seg_last_pts) {
      track->frame_pts = chunk->pts - track->seg_last_pts;
      track->seg_last_pts = chunk->pts;
    }
  }
}

/* The sub stream went away or was replaced: its open segment ends here, and
 * the next one (a new stream's first keyframe) follows a gap. */
static void do_sub_gap(VigilSegmentWriter *self)
{
  if (!self->rec)
    return;
  close_segment(self, &self->sub, 0);
  self->sub.pending_discont = TRUE;
}

/* Closes the track's open segment, if any, even when that fails half-way. */
static void track_close(VigilSegmentWriter *self, Track *track)
{
  close_segment(self, track, 0);
  if (track->fd >= 0) {
    close(track->fd);
    track->fd = -1;
  }
}

static void do_end(VigilSegmentWriter *self)
{
  if (!self->rec)
    return;
  track_close(self, &self->main);
  track_close(self, &self->sub);
  if (self->main.dir) {
    if (self->main.segments->len > 0) {
      /* The sub stream's playlist first: once the main one is closed the
       * recording is complete. */
      if (self->sub.dir && self->sub.segments->len > 0) {
        write_playlist(self, &self->sub, TRUE);
        vigil_dir_sync(self->sub.dir);
      } else if (self->sub.dir) {
        vigil_record_remove_dir(self->sub.dir);
      }
      write_playlist(self, &self->main, TRUE);
      vigil_dir_sync(self->main.dir);
    } else {
      /* Nothing made it to disk: leave no directory behind (nor the sub
       * stream's segments, which the index cannot hold without it). */
      if (!vigil_record_remove_dir(self->main.dir))
        g_warning("cannot remove %s: %s", self->main.dir, g_strerror(errno));
    }
  }
  report(self, VIGIL_WRITER_CLOSED, NULL, NULL);
  g_clear_pointer(&self->first_keyframe, vigil_chunk_unref);
  track_reset(&self->main);
  track_reset(&self->sub);
  self->sub.failing = FALSE;
  g_clear_pointer(&self->rec, vigil_rec_info_unref);
}

static void do_begin(VigilSegmentWriter *self, VigilRecInfo *rec)
{
  do_end(self);
  self->rec = vigil_rec_info_ref(rec);
  self->thumbnail_done = FALSE;
}

/* Everything taken so far is on disk (or failed): give its bytes back. */
static void account_written(VigilSegmentWriter *self)
{
  write_batch(self, &self->main);
  write_batch(self, &self->sub);
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
    case OP_SUB_CHUNK:
      do_chunk(self, op->kind == OP_CHUNK ? &self->main : &self->sub, op->chunk);
      self->ops_unwritten += g_bytes_get_size(op->chunk->data);
      break;
    case OP_SUB_GAP:
      do_sub_gap(self);
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
  self->cut_pts = cut_pts(&self->main);
  self->sub_cut_pts = cut_pts(&self->sub);
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
  self->reports = vigil_writer_reports_new(context, func, user_data);
  g_mutex_init(&self->lock);
  g_cond_init(&self->cond);
  self->pending = g_array_new(FALSE, FALSE, sizeof(Op));
  self->ops = g_array_new(FALSE, FALSE, sizeof(Op));
  self->cut_pts = self->sub_cut_pts = G_MAXINT64;
  track_init(&self->main, FALSE);
  track_init(&self->sub, TRUE);
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
  vigil_writer_reports_close(self->reports);
  g_array_unref(self->pending);
  g_array_unref(self->ops);
  g_ptr_array_unref(self->main.segments);
  g_ptr_array_unref(self->sub.segments);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->cond);
  g_free(self->root);
  g_free(self);
}

void vigil_segment_writer_begin(VigilSegmentWriter *self, VigilRecInfo *rec)
{
  push(self, OP_BEGIN, rec, FALSE);
}

static void push_chunk(VigilSegmentWriter *self, OpKind kind, VigilChunk *chunk)
{
  gsize size = g_bytes_get_size(chunk->data);
  g_atomic_int_add(&self->queued, (gint)size);
  Op op = {.kind = kind, .chunk = vigil_chunk_ref(chunk)};
  g_mutex_lock(&self->lock);
  g_array_append_val(self->pending, op);
  gboolean first = self->pending->len == 1;
  self->pending_bytes += size;
  gint64 cut = kind == OP_CHUNK ? self->cut_pts : self->sub_cut_pts;
  /* No wake-up per chunk: the pool takes the batch at its next tick, or at
   * once when the batch is large or this keyframe ends a segment. */
  gboolean now = (self->pending_bytes >= VIGIL_SEGMENT_BATCH_BYTES &&
                  self->pending_bytes - size < VIGIL_SEGMENT_BATCH_BYTES) ||
                 (vigil_chunk_is_keyframe(chunk) &&
                  (chunk->pts >= cut || (chunk->flags & VIGIL_CHUNK_DISCONT)));
  g_mutex_unlock(&self->lock);
  if (now)
    vigil_writer_pool_kick(self->client);
  else if (first)
    vigil_writer_pool_mark(self->client);
}

void vigil_segment_writer_write(VigilSegmentWriter *self, VigilChunk *chunk)
{
  push_chunk(self, OP_CHUNK, chunk);
}

void vigil_segment_writer_write_sub(VigilSegmentWriter *self, VigilChunk *chunk)
{
  push_chunk(self, OP_SUB_CHUNK, chunk);
}

void vigil_segment_writer_sub_gap(VigilSegmentWriter *self)
{
  push(self, OP_SUB_GAP, NULL, FALSE);
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
