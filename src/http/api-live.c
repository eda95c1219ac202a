/* GET /api/v1/cameras/{id}/live.ts: the camera's TS byte stream as one endless
 * chunked HTTP response, for VLC, ffplay and ffmpeg. The first bytes are PAT,
 * PMT and the current GOP, so a player shows a picture at once. Also the
 * ?stream= choice of every live path below a camera.
 *
 * A client that reads too slowly never slows anyone else: VigilViewer counts
 * the bytes handed to libsoup but not yet written, skips whole GOPs past its
 * bound and has the connection closed if the client stays too slow. */
#define G_LOG_DOMAIN "vigil-live"

#include "http/api.h"

#include "live/viewer.h"

typedef struct {
  SoupServerMessage *msg; /* strong ref until finished */
  VigilViewer *viewer;
  gchar *camera_id;
} LiveTs;

static void live_ts_free(LiveTs *self)
{
  g_signal_handlers_disconnect_by_data(self->msg, self);
  vigil_viewer_free(self->viewer);
  g_debug("camera %s: live.ts client left", self->camera_id);
  g_object_unref(self->msg);
  g_free(self->camera_id);
  g_free(self);
}

static void on_ready(VigilViewer *viewer, gpointer user_data)
{
  LiveTs *self = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body(self->msg);
  VigilChunk *chunk;
  while ((chunk = vigil_viewer_pop(viewer)) != NULL) {
    soup_message_body_append_bytes(body, chunk->data);
    vigil_chunk_unref(chunk);
  }
  soup_server_message_unpause(self->msg);
}

static void on_too_slow(VigilViewer *viewer, gpointer user_data)
{
  LiveTs *self = user_data;
  /* The client has megabytes unread and libsoup a write pending: ending the
   * body would wait for the client. Shut the socket down instead; the
   * pending write fails and libsoup finishes the message (on_finished). */
  GSocket *socket = vigil_http_message_socket(self->msg);
  if (socket)
    g_socket_shutdown(socket, TRUE, TRUE, NULL);
}

static void on_wrote_body_data(SoupServerMessage *msg, guint size, gpointer user_data)
{
  LiveTs *self = user_data;
  vigil_viewer_wrote(self->viewer, size);
}

static void on_finished(SoupServerMessage *msg, gpointer user_data)
{
  live_ts_free(user_data);
}

void vigil_api_live_ts(VigilRequest *req)
{
  VigilStream *stream = vigil_request_live_stream(req);
  if (!stream)
    return;
  LiveTs *self = g_new0(LiveTs, 1);
  self->msg = g_object_ref(req->msg);
  self->camera_id = g_strdup(vigil_camera_get_id(req->camera));

  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_headers_set_content_type(headers, "video/mp2t", NULL);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);

  g_signal_connect(req->msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), self);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_finished), self);
  soup_server_message_pause(req->msg);
  self->viewer = vigil_viewer_new(stream, VIGIL_VIEWER_TS, on_ready, on_too_slow, self);
  g_debug("camera %s: live.ts client joined", self->camera_id);
}

gboolean vigil_request_stream_choice(VigilRequest *req, VigilStreamChoice *out)
{
  const char *value = req->query ? g_hash_table_lookup(req->query, "stream") : NULL;
  if (value && !g_str_equal(value, "main") && !g_str_equal(value, "sub")) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "stream must be main or sub");
    return FALSE;
  }
  *out = g_strcmp0(value, "sub") == 0 ? VIGIL_STREAM_SUB : VIGIL_STREAM_MAIN;
  return TRUE;
}

VigilStream *vigil_request_live_stream(VigilRequest *req)
{
  VigilStreamChoice choice;
  return vigil_request_stream_choice(req, &choice) ? vigil_camera_pick_stream(req->camera, choice)
                                                   : NULL;
}
