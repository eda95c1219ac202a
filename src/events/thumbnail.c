/* Event thumbnails (see thumbnail.h): worker-thread writes and the
 * day-folder expiry. */
#define G_LOG_DOMAIN "vigil-events"

#include "events/thumbnail.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/error.h"
#include "core/file.h"
#include "core/util.h"
#include "events/events.h"

static gchar *root;   /* DATA/thumbnails */
static guint pending; /* jobs in flight (main thread count) */

void vigil_event_thumbnails_init(const char *data_dir)
{
  g_free(root);
  root = data_dir ? g_build_filename(data_dir, "thumbnails", NULL) : NULL;
}

static gchar *day_of(gint64 start_us)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_utc(start_us / G_USEC_PER_SEC);
  return t ? g_date_time_format(t, "%Y-%m-%d") : g_strdup("1970-01-01");
}

gchar *vigil_event_thumbnail_path(const char *camera, gint64 event_id, gint64 start_us)
{
  if (!root || !camera || !vigil_slug_is_valid(camera) || event_id <= 0)
    return NULL;
  g_autofree gchar *day = day_of(start_us);
  g_autofree gchar *file = g_strdup_printf("%" G_GINT64_FORMAT ".jpg", event_id);
  return g_build_filename(root, camera, day, file, NULL);
}

gchar *vigil_event_thumbnail_url(const VigilEvent *event)
{
  g_autofree gchar *path = vigil_event_thumbnail_path(event->camera, event->id, event->start_us);
  if (!path || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  return g_strdup_printf("/api/v1/events/%" G_GINT64_FORMAT "/thumbnail.jpg", event->id);
}

typedef struct {
  gint64 event_id;
  gchar *path;
  GBytes *jpeg;
} Job;

static void job_free(gpointer data)
{
  Job *job = data;
  g_free(job->path);
  g_clear_pointer(&job->jpeg, g_bytes_unref);
  g_free(job);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Job *job = data;
  GError *error = NULL;
  g_autofree gchar *dir = g_path_get_dirname(job->path);
  if (g_mkdir_with_parents(dir, 0700) != 0) {
    int saved = errno;
    g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot create %s: %s", dir,
                            g_strerror(saved));
    return;
  }
  if (!vigil_file_replace(job->path, g_bytes_get_data(job->jpeg, NULL), g_bytes_get_size(job->jpeg),
                          &error)) {
    g_task_return_error(task, error);
    return;
  }
  g_task_return_boolean(task, TRUE);
}

static void job_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  pending--;
  if (!g_task_propagate_boolean(G_TASK(result), &error)) {
    g_warning("event %" G_GINT64_FORMAT ": no thumbnail: %s", job->event_id, error->message);
    return;
  }
  /* Listeners learn the thumbnail's URL. */
  vigil_events_republish(job->event_id);
}

static void run(Job *job)
{
  g_autoptr(GTask) task = g_task_new(NULL, NULL, job_done, NULL);
  g_task_set_task_data(task, job, job_free);
  pending++;
  g_task_run_in_thread(task, job_thread);
}

void vigil_event_thumbnail_save(const char *camera, gint64 event_id, gint64 start_us, GBytes *jpeg)
{
  gchar *path = vigil_event_thumbnail_path(camera, event_id, start_us);
  if (!path || !jpeg) {
    g_free(path);
    return;
  }
  Job *job = g_new0(Job, 1);
  job->event_id = event_id;
  job->path = path;
  job->jpeg = g_bytes_ref(jpeg);
  run(job);
}

void vigil_event_thumbnails_flush(void)
{
  while (pending > 0)
    g_main_context_iteration(NULL, TRUE);
}

/* --- expiry --- */

typedef struct {
  gchar *root;
  GHashTable *retain; /* camera -> days (GINT_TO_POINTER) */
  gint64 now_us;
} Expiry;

static void expiry_free(gpointer data)
{
  Expiry *e = data;
  g_free(e->root);
  g_hash_table_unref(e->retain);
  g_free(e);
}

static void remove_tree(const char *path)
{
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  const char *name;
  while (dir && (name = g_dir_read_name(dir))) {
    g_autofree gchar *child = g_build_filename(path, name, NULL);
    if (g_unlink(child) != 0 && errno != ENOENT)
      g_warning("cannot delete %s: %s", child, g_strerror(errno));
  }
  g_rmdir(path);
}

static void expiry_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
  Expiry *e = data;
  g_autoptr(GDir) cams = g_dir_open(e->root, 0, NULL);
  const char *cam;
  guint removed = 0;
  while (cams && (cam = g_dir_read_name(cams))) {
    if (!vigil_slug_is_valid(cam))
      continue;
    gpointer days_p = NULL;
    int days =
        g_hash_table_lookup_extended(e->retain, cam, NULL, &days_p) ? GPOINTER_TO_INT(days_p) : 30;
    if (days <= 0)
      continue; /* kept for ever, like its recordings */
    /* A day folder goes when its whole day is older than the limit. */
    g_autofree gchar *limit = day_of(e->now_us - (gint64)days * 86400 * G_USEC_PER_SEC);
    g_autofree gchar *cam_dir = g_build_filename(e->root, cam, NULL);
    g_autoptr(GDir) day_dirs = g_dir_open(cam_dir, 0, NULL);
    const char *day;
    while (day_dirs && (day = g_dir_read_name(day_dirs))) {
      if (strlen(day) != 10 || strcmp(day, limit) >= 0)
        continue;
      g_autofree gchar *day_dir = g_build_filename(cam_dir, day, NULL);
      remove_tree(day_dir);
      removed++;
    }
  }
  if (removed)
    g_info("retention: deleted %u day(s) of event thumbnails", removed);
  g_task_return_boolean(task, TRUE);
}

static void expiry_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  pending--;
}

void vigil_event_thumbnails_expire(GHashTable *retain_days, gint64 now_us)
{
  if (!root)
    return;
  Expiry *e = g_new0(Expiry, 1);
  e->root = g_strdup(root);
  e->now_us = now_us;
  /* A copy: the worker thread reads it. */
  e->retain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer camera, days;
  g_hash_table_iter_init(&iter, retain_days);
  while (g_hash_table_iter_next(&iter, &camera, &days))
    g_hash_table_insert(e->retain, g_strdup(camera), days);
  g_autoptr(GTask) task = g_task_new(NULL, NULL, expiry_done, NULL);
  g_task_set_task_data(task, e, expiry_free);
  pending++;
  g_task_run_in_thread(task, expiry_thread);
}
