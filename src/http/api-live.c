/* GET /api/v1/cameras/{id}/live.ts: the camera's TS byte stream as one endless
 * chunked HTTP response, for VLC, ffplay and ffmpeg. The first bytes are PAT,
 * PMT and the current GOP, so a player shows a picture at once.
 *
 * A client that reads too slowly never slows anyone else: bytes handed to
 * libsoup but not yet written are counted, and past a bound the viewer skips
 * whole GOPs and resumes at the next keyframe. */
#define G_LOG_DOMAIN "vigil-live"

#include "http/http.h"

/* About 8 s of a 4 Mbps camera. */
#define LIVE_TS_MAX_QUEUED (4 * 1024 * 1024)

typedef struct {
  SoupServerMessage *msg; /* strong ref until finished */
  VigilStream *stream;
  VigilSubscriber *subscriber;
  gsize queued; /* appended to the body, not yet written to the socket */
  gboolean skipping;
  guint64 skipped_gops;
} LiveTs;

static void on_chunk(VigilChunk *chunk, gpointer user_data)
{
  LiveTs *self = user_data;
  gboolean keyframe = vigil_chunk_is_keyframe(chunk);
  if (self->skipping) {
    if (!keyframe)
      return;
    self->skipping = FALSE;
  }
  gsize size = g_bytes_get_size(chunk->data);
  if (self->queued + size > LIVE_TS_MAX_QUEUED) {
    self->skipping = TRUE;
    self->skipped_gops++;
    g_info("camera %s: a live.ts client is too slow, skipping to the next keyframe",
           vigil_stream_get_camera_id(self->stream));
    return;
  }
  soup_message_body_append_bytes(soup_server_message_get_response_body(self->msg), chunk->data);
  self->queued += size;
  soup_server_message_unpause(self->msg);
}

static void on_wrote_body_data(SoupServerMessage *msg, guint size, gpointer user_data)
{
  LiveTs *self = user_data;
  self->queued = self->queued > size ? self->queued - size : 0;
}

static void on_finished(SoupServerMessage *msg, gpointer user_data)
{
  LiveTs *self = user_data;
  if (self->subscriber) {
    vigil_stream_unsubscribe(self->stream, g_steal_pointer(&self->subscriber));
    vigil_stream_add_viewer(self->stream, -1);
    g_debug("camera %s: live.ts client left", vigil_stream_get_camera_id(self->stream));
  }
  g_signal_handlers_disconnect_by_data(msg, self);
  vigil_stream_unref(self->stream);
  g_object_unref(self->msg);
  g_free(self);
}

void vigil_api_live_ts(VigilRequest *req, VigilCamera *camera)
{
  if (!g_str_equal(req->method, "GET")) {
    vigil_http_reply_method_not_allowed(req->msg, "GET");
    return;
  }
  LiveTs *self = g_new0(LiveTs, 1);
  self->msg = g_object_ref(req->msg);
  self->stream = vigil_stream_ref(vigil_camera_get_stream(camera));

  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_headers_set_content_type(headers, "video/mp2t", NULL);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);

  g_signal_connect(req->msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), self);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_finished), self);
  soup_server_message_pause(req->msg);
  self->subscriber = vigil_stream_subscribe(self->stream, TRUE, g_main_context_default(),
                                            on_chunk, self, NULL);
  vigil_stream_add_viewer(self->stream, +1);
  g_debug("camera %s: live.ts client joined", vigil_camera_get_id(camera));
}
