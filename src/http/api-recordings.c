/* /api/v1/recordings[/{id}[/playlist.m3u8|/segments/{name}|/thumbnail.jpg|
 * /export.mp4]] and the camera subresources /cameras/{id}/recording (manual
 * start/stop) and /cameras/{id}/export.mp4?from=&to=. playlist.m3u8 and
 * segments/ take ?stream=main|sub: a recording's sub stream (record_stream
 * "both"), whose playlist's segment URIs are segments/NNNNNN.ts?stream=sub.
 *
 * Files are only ever found through the index: a recording id (digits) names
 * a row, whose stored path and a segment number (six digits) that the index
 * lists make the file name. Nothing from the URL is used as a path, so ".."
 * and encoded traversal have nothing to work with. */
#define G_LOG_DOMAIN "vigil-http"

#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "http/access.h"
#include "http/api.h"
#include "record/export.h"
#include "record/playlist.h"
#include "record/recorder.h"
#include "record/retention.h"
#include "store/recordings.h"

#define LIST_LIMIT_DEFAULT 100
#define LIST_LIMIT_MAX     1000
/* Ids listed in a recording's "events" (a recording lasts 15 min at most). */
#define EVENTS_LIMIT 1000

/* A positive decimal id, nothing else. */
static gboolean parse_id(const char *text, gint64 *id)
{
  if (!text || !*text || strlen(text) > 15)
    return FALSE;
  for (const char *p = text; *p; p++)
    if (!g_ascii_isdigit(*p))
      return FALSE;
  *id = g_ascii_strtoll(text, NULL, 10);
  return *id > 0;
}

/* "NNNNNN.ts" → seq. */
static gboolean parse_segment_name(const char *text, int *seq)
{
  if (!text || strlen(text) != 9 || !g_str_has_suffix(text, ".ts"))
    return FALSE;
  for (int i = 0; i < 6; i++)
    if (!g_ascii_isdigit(text[i]))
      return FALSE;
  *seq = atoi(text);
  return *seq > 0;
}

static gboolean has_thumbnail(VigilApp *app, const VigilRecording *rec)
{
  g_autofree gchar *path = g_build_filename(app->recordings_dir, rec->path, "thumbnail.jpg", NULL);
  return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

static JsonNode *recording_to_json(VigilApp *app, const VigilRecording *rec)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  g_autofree gchar *start = vigil_time_format(rec->start_us);
  g_autofree gchar *end = vigil_time_format(rec->end_us);
  g_autofree gchar *base = g_strdup_printf("/api/v1/recordings/%" G_GINT64_FORMAT, rec->id);
  json_builder_begin_object(b);
  vigil_json_add_int(b, "id", rec->id);
  vigil_json_add_string(b, "camera", rec->camera);
  vigil_json_add_string(b, "start", start);
  vigil_json_add_string(b, "end", end);
  vigil_json_add_double(b, "duration_s", (double)((rec->end_us - rec->start_us) / 1000) / 1000.0);
  vigil_json_add_string(b, "reason", rec->reason);
  vigil_json_add_int(b, "size_bytes", rec->size_bytes);
  vigil_json_add_bool(b, "keep", rec->keep);
  g_autofree gchar *thumbnail =
      has_thumbnail(app, rec) ? g_strconcat(base, "/thumbnail.jpg", NULL) : NULL;
  vigil_json_add_string_or_null(b, "thumbnail", thumbnail);
  g_autofree gchar *playlist = g_strconcat(base, "/playlist.m3u8", NULL);
  vigil_json_add_string(b, "playlist", playlist);
  g_autofree gchar *sub_playlist =
      rec->has_sub ? g_strconcat(base, "/playlist.m3u8?stream=sub", NULL) : NULL;
  vigil_json_add_string_or_null(b, "sub_playlist", sub_playlist);
  /* The events of its camera that overlap it in time (docs/recording.md). */
  vigil_json_begin_array(b, "events");
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) events = vigil_store_list_recording_events(
      app->store, rec->camera, rec->start_us, rec->end_us, rec->open, EVENTS_LIMIT, &error);
  if (!events)
    g_warning("recording %" G_GINT64_FORMAT ": %s", rec->id, error->message);
  for (guint i = 0; events && i < events->len; i++)
    json_builder_add_int_value(b, g_array_index(events, gint64, i));
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gboolean query_time(VigilRequest *req, const char *name, gint64 *out)
{
  const char *text = req->query ? g_hash_table_lookup(req->query, name) : NULL;
  if (!text || !*text)
    return TRUE;
  if (!vigil_time_parse(text, out)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "\"%s\" must be an ISO 8601 time such as 2026-11-25T13:45:01Z", name);
    return FALSE;
  }
  return TRUE;
}

void vigil_api_recordings_list(VigilRequest *req)
{
  const char *camera = req->query ? g_hash_table_lookup(req->query, "camera") : NULL;
  const char *limit_text = req->query ? g_hash_table_lookup(req->query, "limit") : NULL;
  gint64 from = G_MININT64, to = G_MAXINT64;
  int limit = LIST_LIMIT_DEFAULT;
  if (camera && *camera && !vigil_slug_is_valid(camera)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "\"camera\" is not a camera id");
    return;
  }
  if (!query_time(req, "from", &from) || !query_time(req, "to", &to))
    return;
  if (limit_text && *limit_text) {
    gint64 v;
    if (!parse_id(limit_text, &v) || v > LIST_LIMIT_MAX) {
      vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                             "\"limit\" must be a whole number from 1 to %d", LIST_LIMIT_MAX);
      return;
    }
    limit = (int)v;
  }
  /* Only recordings of cameras this user may play back, chosen in SQL before
   * the limit applies, so that a page is full whenever enough exist. */
  g_auto(GStrv) allowed = vigil_request_cameras_with(req, VIGIL_RIGHT_PLAYBACK);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recs =
      vigil_store_list_recordings(req->app->store, camera && *camera ? camera : NULL,
                                  (const char *const *)allowed, from, to, limit, FALSE, &error);
  if (!recs) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonArray) array = json_array_sized_new(recs->len);
  for (guint i = 0; i < recs->len; i++)
    json_array_add_element(array, recording_to_json(req->app, g_ptr_array_index(recs, i)));
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

static void serve_file(VigilRequest *req, const char *path, const char *type, gboolean cache)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) file = g_mapped_file_new(path, FALSE, &error);
  if (!file) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  g_autoptr(GBytes) bytes = g_mapped_file_get_bytes(file);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_content_type(headers, type, NULL);
  /* Finished segments never change. */
  soup_message_headers_replace(headers, "Cache-Control",
                               cache ? "private, max-age=86400" : "no-store");
  soup_message_body_append_bytes(soup_server_message_get_response_body(req->msg), bytes);
}

/* ?stream=: FALSE for "main" or none, TRUE for "sub"; replies 400 for
 * another value and 404 for "sub" on a recording without a sub stream. */
static gboolean query_stream(VigilRequest *req, const VigilRecording *rec, gboolean *sub)
{
  const char *stream = req->query ? g_hash_table_lookup(req->query, "stream") : NULL;
  *sub = stream && g_str_equal(stream, "sub");
  if (stream && !*sub && !g_str_equal(stream, "main")) {
    /* The live endpoints' words (api-live.c). */
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "stream must be main or sub");
    return FALSE;
  }
  if (*sub && !rec->has_sub) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "the recording has no sub stream");
    return FALSE;
  }
  return TRUE;
}

static void reply_playlist(VigilRequest *req, const VigilRecording *rec, gboolean sub)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) segs = sub ? vigil_store_list_sub_segments(req->app->store, rec->id, &error)
                                  : vigil_store_list_segments(req->app->store, rec->id, &error);
  if (!segs) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  /* The sub stream ends with its recording: "open" is the recording's. */
  gchar *text =
      vigil_playlist_build_uris(segs, !rec->open, "segments/", sub ? "?stream=sub" : "", NULL);
  gsize len = strlen(text);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(req->msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_TAKE,
                                   text, len);
}

static void reply_segment(VigilRequest *req, const VigilRecording *rec, const char *name,
                          gboolean sub)
{
  int seq;
  if (!parse_segment_name(name, &seq)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such segment");
    return;
  }
  g_autoptr(GPtrArray) segs = sub ? vigil_store_list_sub_segments(req->app->store, rec->id, NULL)
                                  : vigil_store_list_segments(req->app->store, rec->id, NULL);
  gboolean indexed = FALSE;
  for (guint i = 0; segs && i < segs->len; i++)
    indexed = indexed || ((VigilSegment *)g_ptr_array_index(segs, i))->seq == seq;
  if (!indexed) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such segment");
    return;
  }
  g_autofree gchar *file = g_strdup_printf("%06d.ts", seq);
  g_autofree gchar *path = g_build_filename(req->app->recordings_dir, rec->path,
                                            sub ? VIGIL_RECORDING_SUB_DIR : "", file, NULL);
  serve_file(req, path, "video/mp2t", TRUE);
}

/* --- MP4 export, streamed --- */

typedef struct {
  SoupServerMessage *msg; /* strong ref until finished */
  VigilExport *export;
  gboolean started;
  gboolean done;
} ExportReply;

static void on_export_data(GBytes *data, const GError *error, gpointer user_data)
{
  ExportReply *self = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body(self->msg);
  if (data) {
    if (!self->started) {
      self->started = TRUE;
      soup_server_message_set_status(self->msg, SOUP_STATUS_OK, NULL);
    }
    soup_message_body_append_bytes(body, data);
  } else {
    self->done = TRUE;
    if (!self->started) {
      /* Nothing sent yet: a proper error reply instead of an empty MP4. */
      SoupMessageHeaders *headers = soup_server_message_get_response_headers(self->msg);
      soup_message_headers_remove(headers, "Content-Disposition");
      soup_message_headers_set_encoding(headers, SOUP_ENCODING_CONTENT_LENGTH);
      if (error)
        vigil_http_reply_gerror(self->msg, error);
      else
        vigil_http_reply_error(self->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR,
                               "the export produced nothing");
    } else {
      soup_message_body_complete(body);
    }
  }
  soup_server_message_unpause(self->msg);
}

static void on_export_wrote(SoupServerMessage *msg, guint size, gpointer user_data)
{
  ExportReply *self = user_data;
  if (self->export)
    vigil_export_consumed(self->export, size);
}

static void on_export_finished(SoupServerMessage *msg, gpointer user_data)
{
  ExportReply *self = user_data;
  g_signal_handlers_disconnect_by_data(msg, self);
  g_clear_pointer(&self->export, vigil_export_free);
  g_object_unref(self->msg);
  g_free(self);
}

static void start_export(VigilRequest *req, GPtrArray *files, const char *filename)
{
  if (files->len == 0) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "nothing recorded in that range");
    return;
  }
  ExportReply *self = g_new0(ExportReply, 1);
  self->msg = g_object_ref(req->msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_set_content_type(headers, "video/mp4", NULL);
  g_autofree gchar *disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
  soup_message_headers_replace(headers, "Content-Disposition", disposition);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
  g_signal_connect(req->msg, "wrote-body-data", G_CALLBACK(on_export_wrote), self);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_export_finished), self);
  soup_server_message_pause(req->msg);
  self->export = vigil_export_start(files, on_export_data, self);
}

/* Adds the files of @rec's segments that overlap [from, to]. */
static void add_files(VigilApp *app, const VigilRecording *rec, gint64 from, gint64 to,
                      GPtrArray *files)
{
  g_autoptr(GPtrArray) segs = vigil_store_list_segments(app->store, rec->id, NULL);
  for (guint i = 0; segs && i < segs->len; i++) {
    VigilSegment *seg = g_ptr_array_index(segs, i);
    if (seg->start_us + seg->duration_us <= from || seg->start_us >= to)
      continue;
    g_autofree gchar *name = g_strdup_printf("%06d.ts", seg->seq);
    g_ptr_array_add(files, g_build_filename(app->recordings_dir, rec->path, name, NULL));
  }
}

void vigil_api_recording_export(VigilRequest *req)
{
  const VigilRecording *rec = req->recording;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  add_files(req->app, rec, G_MININT64, G_MAXINT64, files);
  g_autofree gchar *name = g_strdup_printf("%s-%" G_GINT64_FORMAT ".mp4", rec->camera, rec->id);
  start_export(req, files, name);
}

void vigil_api_camera_export(VigilRequest *req)
{
  VigilCamera *camera = req->camera;
  gint64 from = G_MININT64, to = G_MAXINT64;
  const char *f = req->query ? g_hash_table_lookup(req->query, "from") : NULL;
  const char *t = req->query ? g_hash_table_lookup(req->query, "to") : NULL;
  if (!f || !t) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "\"from\" and \"to\" are required");
    return;
  }
  if (!query_time(req, "from", &from) || !query_time(req, "to", &to))
    return;
  if (to <= from) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "\"to\" must be after \"from\"");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) recs = vigil_store_list_recordings(
      req->app->store, vigil_camera_get_id(camera), NULL, from, to, 0, TRUE, &error);
  if (!recs) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < recs->len; i++)
    add_files(req->app, g_ptr_array_index(recs, i), from, to, files);
  g_autofree gchar *name = g_strdup_printf("%s.mp4", vigil_camera_get_id(camera));
  start_export(req, files, name);
}

/* --- manual recording --- */

void vigil_api_camera_recording(VigilRequest *req)
{
  VigilCamera *camera = req->camera;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  JsonNode *action = obj ? json_object_get_member(obj, "action") : NULL;
  int start;
  if (!vigil_json_get_enum(action, (const char *const[]){"stop", "start"}, 2, &start) ||
      json_object_get_size(obj) != 1) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "the body must be {\"action\": \"start\"} or {\"action\": \"stop\"}");
    return;
  }
  VigilRecorder *recorder = vigil_camera_get_recorder(camera);
  if (!recorder) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "recording is not available");
    return;
  }
  if (!vigil_recorder_manual(recorder, start, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonNode) node = vigil_camera_to_json(camera);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

/* --- /recordings --- */

void vigil_api_recording_get(VigilRequest *req)
{
  g_autoptr(JsonNode) node = recording_to_json(req->app, req->recording);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_recording_patch(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  JsonObject *obj = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  gboolean keep;
  if (!obj || !vigil_json_get_bool(json_object_get_member(obj, "keep"), &keep) ||
      json_object_get_size(obj) != 1) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "only {\"keep\": true|false} can be changed");
    return;
  }
  VigilRecording *rec = req->recording;
  if (!vigil_store_set_recording_keep(req->app->store, rec->id, keep, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  rec->keep = keep;
  g_autoptr(JsonNode) node = recording_to_json(req->app, rec);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_recording_delete(VigilRequest *req)
{
  const VigilRecording *rec = req->recording;
  g_autoptr(GError) error = NULL;
  if (rec->open) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_CONFLICT,
                           "the recording is still being written; stop it first");
    return;
  }
  if (!vigil_recording_delete(req->app->store, req->app->recordings_dir, rec->id, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_info("recording %" G_GINT64_FORMAT " deleted by %s", rec->id, req->user);
  vigil_http_reply_no_content(req->msg);
}

void vigil_api_recording_playlist(VigilRequest *req)
{
  gboolean sub_stream;
  if (query_stream(req, req->recording, &sub_stream))
    reply_playlist(req, req->recording, sub_stream);
}

void vigil_api_recording_segment(VigilRequest *req)
{
  gboolean sub_stream;
  if (query_stream(req, req->recording, &sub_stream))
    reply_segment(req, req->recording, vigil_request_param(req, "name"), sub_stream);
}

void vigil_api_recording_thumbnail(VigilRequest *req)
{
  g_autofree gchar *path =
      g_build_filename(req->app->recordings_dir, req->recording->path, "thumbnail.jpg", NULL);
  serve_file(req, path, "image/jpeg", TRUE);
}
