/* GET /api/v1/cameras/{id}/live.m3u8[?stream=sub] and .../live/SEQ.ts (the sub
 * stream's: .../live/sub-SEQ.ts): live HLS for
 * browsers without MSE (Safari on iOS), cut by VigilHls from the camera's TS
 * chunks.
 *
 * Segmenting runs only while someone watches over HLS: the first request
 * subscribes to the stream (from the current GOP, so the first segment is
 * complete one keyframe interval later) and HLS_IDLE_US without any HLS
 * request stops it. Always segmenting every camera would cost nothing in CPU
 * but keep ~6 s of video per camera in RAM for a player almost nobody uses.
 * A playlist request that arrives before HLS_START_SEGMENTS segments are
 * complete waits for them (up to HLS_WAIT_US): the first HLS viewer of a
 * camera waits about three keyframe intervals, later ones none.
 *
 * HLS has no connection to count, so an HLS viewer is a distinct client
 * address that fetched the playlist in the last HLS_CLIENT_US. */
#define G_LOG_DOMAIN "vigil-live"

#include "http/api.h"

#include <stdlib.h>

#include "live/hls.h"
#include "live/viewer.h"

#define HLS_IDLE_US   (60 * G_USEC_PER_SEC)
#define HLS_WAIT_US   (15 * G_USEC_PER_SEC)
#define HLS_CLIENT_US (15 * G_USEC_PER_SEC)
/* Players (chromium's native HLS for one) fail on a live playlist of a
 * single segment: the first playlist waits for this many. */
#define HLS_START_SEGMENTS 3

typedef struct {
  gchar *key; /* camera id, + "/sub" for the sub stream */
  gchar *camera_id;
  gboolean sub; /* segments are live/sub-SEQ.ts */
  VigilStream *stream;
  VigilSubscriber *subscriber;
  VigilHls *hls;
  gint64 last_request_us;
  GHashTable *clients; /* address → last playlist fetch (monotonic µs) */
  guint counted;       /* viewers added to the stream */
  GList *waiting;      /* WaitingPlaylist, for the first segment */
  guint timer;
} HlsCamera;

typedef struct {
  HlsCamera *cam;
  SoupServerMessage *msg;
  gint64 since_us;
} WaitingPlaylist;

static GHashTable *hls_cameras; /* key → HlsCamera */

static void reply_playlist(HlsCamera *cam, SoupServerMessage *msg)
{
  gchar *text = vigil_hls_playlist(cam->hls, cam->sub ? "live/sub-" : "live/");
  if (!text) {
    vigil_http_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                           "the camera has sent no complete segment yet");
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(msg, "application/vnd.apple.mpegurl", SOUP_MEMORY_TAKE, text,
                                   strlen(text));
}

static void on_waiting_finished(SoupServerMessage *msg, gpointer user_data)
{
  WaitingPlaylist *w = user_data;
  w->cam->waiting = g_list_remove(w->cam->waiting, w);
  g_signal_handlers_disconnect_by_data(msg, w);
  g_object_unref(w->msg);
  g_free(w);
}

static void answer_waiting(HlsCamera *cam, gboolean all)
{
  gint64 now = g_get_monotonic_time();
  GList *l = cam->waiting;
  while (l) {
    GList *next = l->next;
    WaitingPlaylist *w = l->data;
    if (all || vigil_hls_count(cam->hls) >= HLS_START_SEGMENTS || now - w->since_us > HLS_WAIT_US) {
      cam->waiting = g_list_delete_link(cam->waiting, l);
      g_signal_handlers_disconnect_by_data(w->msg, w);
      reply_playlist(cam, w->msg);
      soup_server_message_unpause(w->msg);
      g_object_unref(w->msg);
      g_free(w);
    }
    l = next;
  }
}

static void set_viewers(HlsCamera *cam, guint n)
{
  while (cam->counted < n) {
    vigil_stream_add_viewer(cam->stream, +1);
    cam->counted++;
  }
  while (cam->counted > n) {
    vigil_stream_add_viewer(cam->stream, -1);
    cam->counted--;
  }
  /* The metrics count a camera's HLS viewers of both streams. */
  g_autofree gchar *other_key =
      cam->sub ? g_strdup(cam->camera_id) : g_strconcat(cam->camera_id, "/sub", NULL);
  HlsCamera *other = g_hash_table_lookup(hls_cameras, other_key);
  vigil_viewer_set_hls_viewers(cam->camera_id, n + (other ? other->counted : 0));
}

static void hls_camera_free(HlsCamera *cam)
{
  answer_waiting(cam, TRUE);
  set_viewers(cam, 0);
  if (cam->timer)
    g_source_remove(cam->timer);
  vigil_stream_unsubscribe(cam->stream, cam->subscriber);
  vigil_stream_unref(cam->stream);
  vigil_hls_free(cam->hls);
  g_hash_table_unref(cam->clients);
  g_free(cam->camera_id);
  g_free(cam->key);
  g_free(cam);
}

static gboolean on_tick(gpointer user_data)
{
  HlsCamera *cam = user_data;
  gint64 now = g_get_monotonic_time();
  if (now - cam->last_request_us > HLS_IDLE_US && !cam->waiting) {
    g_debug("camera %s: nobody watches live HLS, segmenting stops", cam->camera_id);
    cam->timer = 0;
    g_hash_table_remove(hls_cameras, cam->key); /* frees cam */
    return G_SOURCE_REMOVE;
  }
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, cam->clients);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    if (now - *(gint64 *)value > HLS_CLIENT_US)
      g_hash_table_iter_remove(&it);
  }
  set_viewers(cam, g_hash_table_size(cam->clients));
  answer_waiting(cam, FALSE);
  return G_SOURCE_CONTINUE;
}

static void on_chunk(VigilChunk *chunk, gpointer user_data)
{
  HlsCamera *cam = user_data;
  if (vigil_hls_push(cam->hls, chunk) && cam->waiting)
    answer_waiting(cam, FALSE);
}

/* The segmenter of @stream (the camera's main or sub stream), made on the
 * first request; NULL when @sub and the camera has no sub stream. */
static HlsCamera *hls_camera_get(VigilCamera *camera, VigilStream *stream)
{
  if (!hls_cameras)
    hls_cameras =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)hls_camera_free);
  const char *id = vigil_camera_get_id(camera);
  gboolean sub = stream != vigil_camera_get_stream(camera);
  g_autofree gchar *key = sub ? g_strconcat(id, "/sub", NULL) : g_strdup(id);
  HlsCamera *cam = g_hash_table_lookup(hls_cameras, key);
  if (cam && cam->stream != stream) {
    /* The camera was deleted and created again. */
    g_hash_table_remove(hls_cameras, key);
    cam = NULL;
  }
  if (!cam) {
    cam = g_new0(HlsCamera, 1);
    cam->key = g_steal_pointer(&key);
    cam->sub = sub;
    cam->camera_id = g_strdup(id);
    cam->stream = vigil_stream_ref(stream);
    cam->hls = vigil_hls_new();
    cam->clients = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    cam->subscriber =
        vigil_stream_subscribe(stream, TRUE, g_main_context_default(), on_chunk, cam, NULL);
    cam->timer = g_timeout_add_seconds(1, on_tick, cam);
    g_hash_table_insert(hls_cameras, cam->key, cam);
    g_debug("camera %s: live HLS segmenting of the %s stream starts", id, sub ? "sub" : "main");
  }
  cam->last_request_us = g_get_monotonic_time();
  return cam;
}

static void note_client(HlsCamera *cam, SoupServerMessage *msg)
{
  const char *host = soup_server_message_get_remote_host(msg);
  gint64 *seen = g_new(gint64, 1);
  *seen = g_get_monotonic_time();
  g_hash_table_replace(cam->clients, g_strdup(host ? host : "?"), seen);
  set_viewers(cam, g_hash_table_size(cam->clients));
}

void vigil_api_live_hls_playlist(VigilRequest *req)
{
  VigilStream *stream = vigil_request_live_stream(req);
  if (!stream)
    return;
  HlsCamera *cam = hls_camera_get(req->camera, stream);
  note_client(cam, req->msg);
  if (vigil_hls_count(cam->hls) >= HLS_START_SEGMENTS) {
    reply_playlist(cam, req->msg);
    return;
  }
  WaitingPlaylist *w = g_new0(WaitingPlaylist, 1);
  w->cam = cam;
  w->msg = g_object_ref(req->msg);
  w->since_us = g_get_monotonic_time();
  cam->waiting = g_list_append(cam->waiting, w);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_waiting_finished), w);
  soup_server_message_pause(req->msg);
}

void vigil_api_live_hls_segment(VigilRequest *req)
{
  /* live/SEQ.ts (main stream), live/sub-SEQ.ts (sub stream). */
  const char *name = vigil_request_param(req, "segment");
  VigilCamera *camera = req->camera;
  VigilStream *stream = vigil_camera_get_stream(camera);
  if (g_str_has_prefix(name, "sub-")) {
    stream = vigil_camera_get_sub_stream(camera);
    name += 4;
  }
  char *end = NULL;
  guint64 seq = g_ascii_strtoull(name, &end, 10);
  if (!stream || !g_ascii_isdigit(name[0]) || !end || !g_str_equal(end, ".ts")) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such segment");
    return;
  }
  HlsCamera *cam = hls_camera_get(camera, stream);
  gsize size = 0;
  g_autoptr(GPtrArray) chunks = vigil_hls_get_segment(cam->hls, seq, &size);
  if (!chunks) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND,
                           "segment %" G_GUINT64_FORMAT " is not (or no longer) available", seq);
    return;
  }
  SoupMessageBody *body = soup_server_message_get_response_body(req->msg);
  for (guint i = 0; i < chunks->len; i++)
    soup_message_body_append_bytes(body, ((VigilChunk *)g_ptr_array_index(chunks, i))->data);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_content_type(headers, "video/mp2t", NULL);
  soup_message_headers_set_content_length(headers, (goffset)size);
  /* A segment never changes; it only disappears. */
  soup_message_headers_replace(headers, "Cache-Control", "private, max-age=60");
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  vigil_viewer_count_bytes(cam->camera_id, VIGIL_VIEWER_HLS, size);
}
