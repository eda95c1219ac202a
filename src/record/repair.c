/* Crash repair: see repair.h for the rules. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/repair.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "record/playlist.h"
#include "record/segment.h"
#include "store/recordings.h"

gboolean vigil_record_remove_dir(const char *dir)
{
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  if (!d)
    return errno == ENOENT;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    g_autofree gchar *path = g_build_filename(dir, name, NULL);
    /* Only what the writer puts there: never recurse into anything else. */
    if ((g_str_has_suffix(name, ".ts") || g_str_has_suffix(name, ".m3u8") ||
         g_str_has_suffix(name, ".jpg") || g_str_has_suffix(name, ".tmp")) &&
        g_unlink(path) != 0 && errno != ENOENT)
      return FALSE;
  }
  return g_rmdir(dir) == 0 || errno == ENOENT;
}

static gboolean is_segment_name(const char *name)
{
  if (strlen(name) != 9 || !g_str_has_suffix(name, ".ts"))
    return FALSE;
  for (int i = 0; i < 6; i++)
    if (!g_ascii_isdigit(name[i]))
      return FALSE;
  return TRUE;
}

/* Size of a complete segment file, -1 if missing or not whole TS packets. */
static gint64 segment_size(const char *dir, int seq)
{
  g_autofree gchar *path = g_strdup_printf("%s/%06d.ts", dir, seq);
  GStatBuf st;
  if (g_stat(path, &st) != 0 || st.st_size == 0 || st.st_size % 188 != 0)
    return -1;
  return st.st_size;
}

/* Index rows → files. */
static void check_rows(VigilStore *store, const char *root, VigilRepairStats *stats)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recs =
      vigil_store_list_recordings(store, NULL, NULL, G_MININT64, G_MAXINT64, 0, TRUE, &error);
  if (!recs) {
    g_warning("repair: %s", error->message);
    return;
  }
  for (guint i = 0; i < recs->len; i++) {
    VigilRecording *rec = g_ptr_array_index(recs, i);
    g_autofree gchar *dir = g_build_filename(root, rec->path, NULL);
    g_autoptr(GPtrArray) segs = vigil_store_list_segments(store, rec->id, NULL);
    guint left = 0;
    for (guint k = 0; segs && k < segs->len; k++) {
      VigilSegment *seg = g_ptr_array_index(segs, k);
      if (segment_size(dir, seg->seq) >= 0) {
        left++;
        continue;
      }
      g_warning("repair: segment %d of recording %s is gone; dropping its row", seg->seq,
                rec->path);
      if (vigil_store_delete_segment(store, rec->id, seg->seq, NULL))
        stats->rows_dropped++;
    }
    if (left == 0) {
      g_warning("repair: recording %s has no files left; dropping it", rec->path);
      if (vigil_store_delete_recording(store, rec->id, NULL))
        stats->recordings_dropped++;
    }
  }
}

/* One recording directory: files → playlist → rows. */
static void repair_dir(VigilStore *store, const char *root, const char *camera,
                       const char *rel, VigilRepairStats *stats)
{
  g_autofree gchar *dir = g_build_filename(root, rel, NULL);
  g_autofree gchar *pl_path = g_build_filename(dir, "playlist.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autofree gchar *reason = NULL;
  gboolean closed = FALSE;
  if (g_file_get_contents(pl_path, &text, NULL, NULL))
    listed = vigil_playlist_parse(text, &closed, &reason);
  if (!listed)
    listed = g_ptr_array_new_with_free_func(g_free);

  /* Keep the listed segments whose files are whole. */
  g_autoptr(GPtrArray) good = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) keep = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < listed->len; i++) {
    VigilSegment *seg = g_ptr_array_index(listed, i);
    gint64 size = segment_size(dir, seg->seq);
    if (size < 0)
      continue;
    VigilSegment *copy = g_memdup2(seg, sizeof *seg);
    copy->size_bytes = size;
    g_ptr_array_add(good, copy);
    g_hash_table_add(keep, GINT_TO_POINTER(seg->seq));
  }
  /* Delete the partial segment (anything unlisted) and temporary files. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    g_autofree gchar *path = g_build_filename(dir, name, NULL);
    if ((is_segment_name(name) && !g_hash_table_contains(keep, GINT_TO_POINTER(atoi(name)))) ||
        g_str_has_suffix(name, ".tmp")) {
      g_info("repair: deleting the partial file %s/%s", rel, name);
      if (g_unlink(path) == 0 && is_segment_name(name))
        stats->partial_deleted++;
    }
  }
  if (good->len == 0) {
    vigil_record_remove_dir(dir);
    return;
  }
  if (!closed || good->len != listed->len) {
    g_autofree gchar *fixed = vigil_playlist_build(good, TRUE, "", reason);
    g_autoptr(GError) error = NULL;
    if (vigil_file_replace(pl_path, fixed, strlen(fixed), &error)) {
      vigil_dir_sync(dir);
      stats->playlists_closed++;
      g_info("repair: closed the playlist of %s", rel);
    } else {
      g_warning("repair: %s", error->message);
    }
  }

  /* Rows for what is complete but not indexed. */
  g_autoptr(VigilRecording) rec = vigil_store_find_recording_by_path(store, rel);
  gint64 id = rec ? rec->id : 0;
  if (!id) {
    VigilSegment *first = g_ptr_array_index(good, 0);
    VigilRecording row = {.camera = (gchar *)camera,
                          .start_us = first->start_us,
                          .end_us = first->start_us,
                          .reason = reason ? reason : "continuous",
                          .path = (gchar *)rel,
                          .open = FALSE};
    g_autoptr(GError) error = NULL;
    id = vigil_store_insert_recording(store, &row, &error);
    if (!id) {
      g_warning("repair: %s", error->message);
      return;
    }
    stats->recordings_added++;
  }
  g_autoptr(GPtrArray) indexed = vigil_store_list_segments(store, id, NULL);
  g_autoptr(GHashTable) have = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; indexed && i < indexed->len; i++)
    g_hash_table_add(have, GINT_TO_POINTER(((VigilSegment *)g_ptr_array_index(indexed, i))->seq));
  for (guint i = 0; i < good->len; i++) {
    VigilSegment *seg = g_ptr_array_index(good, i);
    if (g_hash_table_contains(have, GINT_TO_POINTER(seg->seq)))
      continue;
    seg->recording = id;
    if (vigil_store_add_segment(store, seg, NULL))
      stats->segments_added++;
  }
}

gboolean vigil_record_repair(VigilStore *store, const char *root, VigilRepairStats *stats,
                             GError **error)
{
  VigilRepairStats local = {0};
  if (!stats)
    stats = &local;
  memset(stats, 0, sizeof *stats);
  if (!vigil_store_close_all_recordings(store, error))
    return FALSE;

  g_autoptr(GDir) cams = g_dir_open(root, 0, NULL);
  const char *cam;
  while (cams && (cam = g_dir_read_name(cams))) {
    if (!vigil_slug_is_valid(cam))
      continue;
    g_autofree gchar *cam_dir = g_build_filename(root, cam, NULL);
    g_autoptr(GDir) days = g_dir_open(cam_dir, 0, NULL);
    const char *day;
    while (days && (day = g_dir_read_name(days))) {
      g_autofree gchar *day_dir = g_build_filename(cam_dir, day, NULL);
      g_autoptr(GDir) recs = g_dir_open(day_dir, 0, NULL);
      const char *stamp;
      while (recs && (stamp = g_dir_read_name(recs))) {
        g_autofree gchar *rel = g_build_filename(cam, day, stamp, NULL);
        g_autofree gchar *abs = g_build_filename(root, rel, NULL);
        if (g_file_test(abs, G_FILE_TEST_IS_DIR))
          repair_dir(store, root, cam, rel, stats);
      }
      g_rmdir(day_dir); /* only if empty */
    }
  }
  /* Rows last: the files are now what they will stay. */
  check_rows(store, root, stats);
  if (stats->playlists_closed || stats->partial_deleted || stats->rows_dropped ||
      stats->recordings_dropped || stats->segments_added || stats->recordings_added)
    g_message("recordings repaired: %u playlist(s) closed, %u partial segment(s) deleted, "
              "%u row(s) of missing files dropped, %u recording(s) dropped, %u segment(s) "
              "and %u recording(s) indexed",
              stats->playlists_closed, stats->partial_deleted, stats->rows_dropped,
              stats->recordings_dropped, stats->segments_added, stats->recordings_added);
  return TRUE;
}
