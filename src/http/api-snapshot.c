/* GET /api/v1/cameras/{id}/snapshot.jpg: the camera's latest keyframe as
 * JPEG, decoded only when asked (on a worker thread) and cached until the
 * next keyframe. 503 while no keyframe has arrived. */
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
  if (boxes)
    vigil_analyzer_snapshot_boxes_async(analyzer, on_snapshot, pending);
  else
    vigil_analyzer_snapshot_async(analyzer, on_snapshot, pending);
}
