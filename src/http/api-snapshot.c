/* GET /api/v1/cameras/{id}/snapshot.jpg[?stream=sub][&boxes=1]: the
 * camera's latest keyframe as JPEG, decoded only when asked (on a worker
 * thread) and cached until the next keyframe. ?stream=sub: the sub stream's
 * (the grid's posters: a 640x360 keyframe decodes in a fraction of a 1080p
 * one's time), the main stream's for a camera without one. 503 while no
 * keyframe has arrived. */
#define G_LOG_DOMAIN "vigil-http"

#include "analysis/analyzer.h"
#include "http/api.h"

/* The request while its JPEG is being made; the client may leave meanwhile. */
typedef struct {
  SoupServerMessage *msg; /* strong ref */
  gboolean gone;
} Pending;

static void on_gone(SoupServerMessage *msg, gpointer user_data)
{
  ((Pending *)user_data)->gone = TRUE;
}

static void on_snapshot(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *pending = user_data;
  g_autoptr(SoupServerMessage) msg = pending->msg;
  gboolean gone = pending->gone;
  g_signal_handlers_disconnect_by_data(msg, pending);
  g_free(pending);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jpeg = vigil_analyzer_snapshot_finish(result, &error);
  if (gone)
    return;
  soup_server_message_unpause(msg);
  if (!jpeg) {
    vigil_http_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "no snapshot: %s", error->message);
    return;
  }
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(msg, "image/jpeg", SOUP_MEMORY_COPY,
                                   g_bytes_get_data(jpeg, NULL), g_bytes_get_size(jpeg));
}

void vigil_api_snapshot(VigilRequest *req)
{
  VigilStreamChoice stream;
  if (!vigil_request_stream_choice(req, &stream))
    return;
  VigilAnalyzer *analyzer = vigil_camera_get_analyzer(req->camera);
  if (!vigil_analyzer_has_keyframe(analyzer)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                           "no picture from the camera yet");
    return;
  }
  Pending *pending = g_new0(Pending, 1);
  pending->msg = g_object_ref(req->msg);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_gone), pending);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_gone), pending);
  soup_server_message_pause(req->msg);
  /* ?boxes=1: the latest detection's boxes drawn in. */
  gboolean boxes = req->query && g_strcmp0(g_hash_table_lookup(req->query, "boxes"), "1") == 0;
  vigil_analyzer_snapshot_async(analyzer, stream, boxes, on_snapshot, pending);
}
