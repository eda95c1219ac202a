/* Crash repair: see repair.h for the rules. */
#define G_LOG_DOMAIN "vigil-record"

#include "record/repair.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/file.h"
#include "core/util.h"
#include "record/playlist.h"
#include "record/segment.h"
#include "store/recordings.h"

/* The writer's files in @dir, then @dir. */
static gboolean remove_files_and_dir(const char *dir)
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

gboolean vigil_record_remove_dir(const char *dir)
{
  /* The sub stream's folder first (the only folder the writer makes). */
  g_autofree gchar *sub = g_build_filename(dir, VIGIL_RECORDING_SUB_DIR, NULL);
  if (g_file_test(sub, G_FILE_TEST_IS_DIR) && !g_file_test(sub, G_FILE_TEST_IS_SYMLINK) &&
      !remove_files_and_dir(sub))
    return FALSE;
  return remove_files_and_dir(dir);
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
    g_autofree gchar *sub_dir = g_build_filename(dir, VIGIL_RECORDING_SUB_DIR, NULL);
    g_autoptr(GPtrArray) sub_segs = vigil_store_list_sub_segments(store, rec->id, NULL);
    for (guint k = 0; sub_segs && k < sub_segs->len; k++) {
      VigilSegment *seg = g_ptr_array_index(sub_segs, k);
      if (segment_size(sub_dir, seg->seq) >= 0)
        continue;
      g_warning("repair: sub stream segment %d of recording %s is gone; dropping its row", seg->seq,
                rec->path);
      if (vigil_store_delete_sub_segment(store, rec->id, seg->seq, NULL))
        stats->rows_dropped++;
    }
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

/* One playlist's folder (a recording's directory or its sub/): keeps the
 * segments the playlist lists whose files are whole, deletes every other
 * segment file and the temporary files, and rewrites the playlist closed if
 * it was not or listed a file that is not whole. Returns the complete
 * segments (sizes from the files; sub set for @sub), perhaps none; @reason
 * gets the playlist's reason comment. */
static GPtrArray *repair_files(const char *dir, const char *rel, gboolean sub, gchar **reason,
                               VigilRepairStats *stats)
{
  g_autofree gchar *pl_path = g_build_filename(dir, "playlist.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  gboolean closed = FALSE;
  if (g_file_get_contents(pl_path, &text, NULL, NULL))
    listed = vigil_playlist_parse(text, &closed, reason);
  if (!listed)
    listed = g_ptr_array_new_with_free_func(g_free);

  /* Keep the listed segments whose files are whole. */
  GPtrArray *good = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) keep = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < listed->len; i++) {
    VigilSegment *seg = g_ptr_array_index(listed, i);
    gint64 size = segment_size(dir, seg->seq);
    if (size < 0)
      continue;
    VigilSegment *copy = g_memdup2(seg, sizeof *seg);
    copy->size_bytes = size;
    copy->sub = sub;
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
      g_info("repair: deleting the partial file %s/%s%s", rel, sub ? "sub/" : "", name);
      if (g_unlink(path) == 0 && is_segment_name(name))
        stats->partial_deleted++;
    }
  }
  if (good->len > 0 && (!closed || good->len != listed->len)) {
    g_autofree gchar *fixed = vigil_playlist_build(good, TRUE, "", reason ? *reason : NULL);
    g_autoptr(GError) error = NULL;
    if (vigil_file_replace(pl_path, fixed, strlen(fixed), &error)) {
      vigil_dir_sync(dir);
      stats->playlists_closed++;
      g_info("repair: closed the %splaylist of %s", sub ? "sub stream " : "", rel);
    } else {
      g_warning("repair: %s", error->message);
    }
  }
  return good;
}

/* Index rows for the complete segments @good of recording @id that have
 * none. */
static void index_missing(VigilStore *store, gint64 id, GPtrArray *good, gboolean sub,
                          VigilRepairStats *stats)
{
  g_autoptr(GPtrArray) indexed = sub ? vigil_store_list_sub_segments(store, id, NULL)
                                     : vigil_store_list_segments(store, id, NULL);
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

/* One recording directory: files → playlists → rows, the main stream's,
 * then the sub stream's in sub/ (record_stream "both"), which only exists
 * with a main stream that has something complete. */
static void repair_dir(VigilStore *store, const char *root, const char *camera, const char *rel,
                       VigilRepairStats *stats)
{
  g_autofree gchar *dir = g_build_filename(root, rel, NULL);
  g_autofree gchar *reason = NULL;
  g_autoptr(GPtrArray) good = repair_files(dir, rel, FALSE, &reason, stats);
  if (good->len == 0) {
    vigil_record_remove_dir(dir); /* sub/ included */
    return;
  }
  g_autofree gchar *sub_dir = g_build_filename(dir, VIGIL_RECORDING_SUB_DIR, NULL);
  g_autoptr(GPtrArray) sub_good = NULL;
  if (g_file_test(sub_dir, G_FILE_TEST_IS_DIR) && !g_file_test(sub_dir, G_FILE_TEST_IS_SYMLINK)) {
    sub_good = repair_files(sub_dir, rel, TRUE, NULL, stats);
    if (sub_good->len == 0) {
      g_info("repair: %s has no complete sub stream segment; removing sub/", rel);
      vigil_record_remove_dir(sub_dir);
      vigil_dir_sync(dir);
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
  index_missing(store, id, good, FALSE, stats);
  if (sub_good)
    index_missing(store, id, sub_good, TRUE, stats);
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
