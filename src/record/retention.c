/* Retention: the pure selection and the periodic job. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/retention.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sys/statvfs.h>

#include "core/error.h"
#include "record/repair.h"
#include "store/recordings.h"

GArray *vigil_retention_select(const VigilRetentionItem *items, guint n,
                               const VigilRetentionLimits *lim, GArray *split_out)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autofree gboolean *chosen = g_new0(gboolean, n ? n : 1);
  guint batch = lim->batch ? lim->batch : G_MAXUINT;
  gint64 used = 0;
  for (guint i = 0; i < n; i++)
    used += items[i].size_bytes;

  /* How many bytes must go. */
  gint64 over_quota = lim->max_bytes >= 0 ? used - lim->max_bytes : 0;
  gint64 under_free = 0;
  if (lim->min_free_percent > 0 && lim->fs_total > 0)
    under_free =
        (gint64)((double)lim->fs_total * lim->min_free_percent / 100.0) - (gint64)lim->fs_free;
  gint64 need = MAX(MAX(over_quota, under_free), 0);

  gint64 freed = 0;
  for (guint i = 0; i < n && out->len < batch; i++) {
    const VigilRetentionItem *it = &items[i];
    if (it->keep || it->open || it->retain_days <= 0)
      continue;
    if (it->end_us < lim->now_us - (gint64)it->retain_days * 86400 * G_USEC_PER_SEC) {
      chosen[i] = TRUE;
      g_array_append_val(out, it->id);
      freed += it->size_bytes;
    }
  }
  for (guint i = 0; i < n && freed < need && out->len < batch; i++) {
    const VigilRetentionItem *it = &items[i];
    if (chosen[i] || it->keep || it->open)
      continue;
    chosen[i] = TRUE;
    g_array_append_val(out, it->id);
    freed += it->size_bytes;
  }
  /* Only when the batch is not what stopped us: a full batch may free the
   * rest next time. */
  for (guint i = 0; split_out && i < n && freed < need && out->len < batch; i++) {
    const VigilRetentionItem *it = &items[i];
    if (!it->open || it->keep)
      continue;
    g_array_append_val(split_out, it->id);
    freed += it->size_bytes;
  }
  /* Oldest first overall (items are oldest first). */
  g_array_set_size(out, 0);
  for (guint i = 0; i < n; i++)
    if (chosen[i])
      g_array_append_val(out, items[i].id);
  return out;
}

gboolean vigil_recording_delete(VigilStore *store, const char *root, gint64 id, GError **error)
{
  g_autoptr(VigilRecording) rec = vigil_store_get_recording(store, id, error);
  if (!rec)
    return FALSE;
  g_autofree gchar *dir = g_build_filename(root, rec->path, NULL);
  if (!vigil_record_remove_dir(dir)) {
    int saved = errno;
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_STORAGE, "cannot delete %s: %s", rec->path,
                g_strerror(saved));
    return FALSE;
  }
  /* Remove the day directory too once it is empty. */
  g_autofree gchar *day = g_path_get_dirname(dir);
  g_rmdir(day);
  return vigil_store_delete_recording(store, id, error);
}

struct _VigilRetention {
  VigilStore *store; /* borrowed */
  gchar *root;
  VigilRetentionFuncs funcs;
  gpointer data;
  guint timer;
  guint kick;
  gboolean split_asked; /* the last pass asked a recorder to split */
  VigilClockGuard clock;
};

gint64 vigil_clock_guard_update(VigilClockGuard *guard, gint64 wall_us, gint64 mono_us)
{
  gint64 step = 0;
  if (guard->mono_us != 0)
    step = (wall_us - guard->wall_us) - (mono_us - guard->mono_us);
  guard->wall_us = wall_us;
  guard->mono_us = mono_us;
  if (step <= VIGIL_CLOCK_STEP_US)
    return 0;
  guard->paused_until_us = mono_us + VIGIL_CLOCK_STEP_PAUSE_US;
  return step;
}

gboolean vigil_clock_guard_paused(const VigilClockGuard *guard, gint64 mono_us)
{
  return mono_us < guard->paused_until_us;
}

/* Watches the wall clock; TRUE while deleting by age must wait. */
static gboolean age_paused(VigilRetention *self, gint64 wall_us)
{
  gint64 mono = g_get_monotonic_time();
  gint64 step = vigil_clock_guard_update(&self->clock, wall_us, mono);
  if (step > 0) {
    double hours = (double)step / G_USEC_PER_SEC / 3600;
    g_autofree gchar *by = hours >= 48 ? g_strdup_printf("%.0f days", hours / 24)
                                       : g_strdup_printf("%.1f hours", hours);
    g_warning("the wall clock stepped forward by %s: recordings and event pictures are not "
              "deleted by age for the next %d hours (the disk quota still applies); if the "
              "clock is wrong, set it right",
              by, (int)(VIGIL_CLOCK_STEP_PAUSE_US / G_USEC_PER_SEC / 3600));
  }
  return vigil_clock_guard_paused(&self->clock, mono);
}

/* Camera id -> retain_days (GINT_TO_POINTER) of the cameras in the store. */
static GHashTable *retain_days_by_camera(VigilRetention *self)
{
  GHashTable *days = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) configs = vigil_store_list_cameras(self->store, &error);
  if (!configs)
    g_warning("retention: %s", error->message);
  for (guint i = 0; configs && i < configs->len; i++) {
    const VigilCameraConfig *cfg = g_ptr_array_index(configs, i);
    g_hash_table_insert(days, g_strdup(cfg->id), GINT_TO_POINTER(cfg->retain_days));
  }
  return days;
}

static int retain_days_of(GHashTable *days, const char *camera)
{
  gpointer value;
  /* A deleted camera's recordings age out with the default. */
  return g_hash_table_lookup_extended(days, camera, NULL, &value) ? GPOINTER_TO_INT(value) : 30;
}

/* The disk needs the space an open recording holds: its camera's recorder
 * ends it at the next keyframe (recording goes on in a new one) so the next
 * pass can delete it. */
static void split_open_recording(VigilRetention *self, GPtrArray *recs, gint64 id)
{
  for (guint i = 0; i < recs->len; i++) {
    VigilRecording *r = g_ptr_array_index(recs, i);
    if (r->id != id)
      continue;
    if (self->funcs.split)
      self->funcs.split(r->camera, self->data);
    return;
  }
}

guint vigil_retention_run(VigilRetention *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recs =
      vigil_store_list_recordings(self->store, NULL, NULL, G_MININT64, G_MAXINT64, 0, TRUE, &error);
  if (!recs) {
    g_warning("retention: %s", error->message);
    return 0;
  }
  g_autoptr(GHashTable) days = retain_days_by_camera(self);
  gint64 now = g_get_real_time();
  gboolean paused = age_paused(self, now);
  g_autofree VigilRetentionItem *items = g_new0(VigilRetentionItem, recs->len + 1);
  for (guint i = 0; i < recs->len; i++) {
    VigilRecording *r = g_ptr_array_index(recs, i);
    items[i] = (VigilRetentionItem){.id = r->id,
                                    .end_us = r->end_us,
                                    .size_bytes = r->size_bytes,
                                    .retain_days = paused ? 0 : retain_days_of(days, r->camera),
                                    .keep = r->keep,
                                    .open = r->open};
  }
  VigilRetentionLimits lim = {.now_us = now, .max_bytes = -1, .batch = VIGIL_RETENTION_BATCH};
  if (self->funcs.get_limits)
    self->funcs.get_limits(&lim.max_bytes, &lim.min_free_percent, self->data);
  struct statvfs fs;
  if (statvfs(self->root, &fs) == 0) {
    lim.fs_total = (guint64)fs.f_blocks * fs.f_frsize;
    lim.fs_free = (guint64)fs.f_bavail * fs.f_frsize;
  }
  g_autoptr(GArray) split = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) ids = vigil_retention_select(items, recs->len, &lim, split);
  for (guint i = 0; i < split->len; i++)
    split_open_recording(self, recs, g_array_index(split, gint64, i));
  self->split_asked = split->len > 0;
  guint deleted = 0;
  for (guint i = 0; i < ids->len; i++) {
    gint64 id = g_array_index(ids, gint64, i);
    g_clear_error(&error);
    if (vigil_recording_delete(self->store, self->root, id, &error))
      deleted++;
    else
      g_warning("retention: recording %" G_GINT64_FORMAT ": %s", id, error->message);
  }
  if (deleted)
    g_info("retention: deleted %u recording(s)", deleted);
  if (self->funcs.expire && !paused)
    self->funcs.expire(days, lim.now_us, self->data);
  return deleted;
}

static void kick_after(VigilRetention *self, guint ms);

/* A pass, and the next one soon when there may be more to do: a full batch,
 * or a split asked for (the recorder splits at the next keyframe, then the
 * older part can go). */
static void pass(VigilRetention *self)
{
  if (vigil_retention_run(self) >= VIGIL_RETENTION_BATCH)
    kick_after(self, 200);
  else if (self->split_asked)
    kick_after(self, 1000);
}

static gboolean on_timer(gpointer data)
{
  pass(data);
  return G_SOURCE_CONTINUE;
}

static gboolean on_kick(gpointer data)
{
  VigilRetention *self = data;
  self->kick = 0;
  pass(self);
  return G_SOURCE_REMOVE;
}

static void kick_after(VigilRetention *self, guint ms)
{
  if (!self->kick)
    self->kick = g_timeout_add(ms, on_kick, self);
}

void vigil_retention_kick(VigilRetention *self)
{
  kick_after(self, 200);
}

VigilRetention *vigil_retention_new(VigilStore *store, const char *recordings_dir,
                                    const VigilRetentionFuncs *funcs, gpointer data)
{
  VigilRetention *self = g_new0(VigilRetention, 1);
  self->store = store;
  self->root = g_strdup(recordings_dir);
  if (funcs)
    self->funcs = *funcs;
  self->data = data;
  self->timer = g_timeout_add_seconds(VIGIL_RETENTION_INTERVAL_S, on_timer, self);
  return self;
}

void vigil_retention_free(VigilRetention *self)
{
  if (!self)
    return;
  g_clear_handle_id(&self->timer, g_source_remove);
  g_clear_handle_id(&self->kick, g_source_remove);
  g_free(self->root);
  g_free(self);
}
