/* WS /api/v1/cameras/{id}/live: the camera's TS byte stream over a WebSocket,
 * one binary message per chunk (one access unit: a whole number of 188-byte
 * packets). The first message starts with PAT, PMT and the current GOP.
 *
 * libsoup checks the handshake and writes the 101; then we take the
 * connection and frame the messages ourselves. SoupWebsocketConnection (3.2)
 * queues sends without limit and cannot tell how much is queued, and live
 * video needs exactly that number: with our own writes the queue is the
 * VigilViewer's, bounded, and a slow viewer loses whole GOPs. Server frames
 * are not masked, so sending is a small header plus the shared chunk bytes
 * (writev, no copy). From the client we only honour close and ping. */
#define G_LOG_DOMAIN "vigil-live"

#include "http/api.h"

#include <string.h>

#include "http/ws-frame.h"
#include "live/viewer.h"

typedef struct {
  SoupServerMessage *msg; /* until the upgrade */
  VigilStream *stream;
  gchar *camera_id;
  GIOStream *io;
  GPollableOutputStream *out;
  GPollableInputStream *in;
  GSource *out_source;
  GSource *in_source;
  VigilViewer *viewer;

  /* The frame being written: header + chunk, @offset bytes written. */
  guint8 header[10];
  gsize header_len;
  VigilChunk *chunk;
  gsize offset;

  GByteArray *control; /* pong/close frames to send at the next frame boundary */
  gboolean closing;    /* close frame queued: shut down once it is written */
  GByteArray *rbuf;    /* bytes read from the client */
} LiveWs;

static void ws_pump(LiveWs *self);

static void ws_free(LiveWs *self)
{
  g_debug("camera %s: WebSocket viewer left", self->camera_id);
  vigil_viewer_free(self->viewer);
  if (self->out_source) {
    g_source_destroy(self->out_source);
    g_source_unref(self->out_source);
  }
  if (self->in_source) {
    g_source_destroy(self->in_source);
    g_source_unref(self->in_source);
  }
  if (self->io) {
    g_io_stream_close(self->io, NULL, NULL);
    g_object_unref(self->io);
  }
  g_clear_pointer(&self->chunk, vigil_chunk_unref);
  g_byte_array_unref(self->control);
  g_byte_array_unref(self->rbuf);
  vigil_stream_unref(self->stream);
  g_free(self->camera_id);
  g_free(self);
}

static gboolean on_writable(GObject *stream, gpointer user_data)
{
  LiveWs *self = user_data;
  g_clear_pointer(&self->out_source, g_source_unref);
  ws_pump(self);
  return G_SOURCE_REMOVE;
}

/* Writes what it can without blocking; waits for the socket otherwise. May
 * free @self (write error, close written). */
static void ws_pump(LiveWs *self)
{
  if (self->out_source)
    return; /* waiting for the socket */
  for (;;) {
    if (!self->chunk && self->control->len > 0) {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking(self->out, self->control->data,
                                                            self->control->len, NULL, &error);
      if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (n < 0) {
        ws_free(self);
        return;
      }
      g_byte_array_remove_range(self->control, 0, (guint)n);
      if (self->control->len > 0)
        break;
      if (self->closing) {
        ws_free(self);
        return;
      }
      continue;
    }
    if (!self->chunk) {
      /* Closing: the close frame went out above (or waits for the socket);
       * a frame in progress is finished first, no new one starts. */
      if (self->closing)
        return;
      self->chunk = vigil_viewer_pop(self->viewer);
      if (!self->chunk)
        return; /* all written */
      self->header_len =
          vigil_ws_frame_header(self->header, 0x2, g_bytes_get_size(self->chunk->data));
      self->offset = 0;
    }
    gsize size = 0;
    const guint8 *data = g_bytes_get_data(self->chunk->data, &size);
    GOutputVector v[2];
    guint nv = 0;
    if (self->offset < self->header_len) {
      v[nv].buffer = self->header + self->offset;
      v[nv++].size = self->header_len - self->offset;
      v[nv].buffer = data;
      v[nv++].size = size;
    } else {
      v[nv].buffer = data + (self->offset - self->header_len);
      v[nv++].size = size - (self->offset - self->header_len);
    }
    gsize written = 0;
    g_autoptr(GError) error = NULL;
    GPollableReturn r =
        g_pollable_output_stream_writev_nonblocking(self->out, v, nv, &written, NULL, &error);
    if (r == G_POLLABLE_RETURN_WOULD_BLOCK)
      break;
    if (r == G_POLLABLE_RETURN_FAILED) {
      g_debug("camera %s: WebSocket write failed: %s", self->camera_id, error->message);
      ws_free(self);
      return;
    }
    /* Tell the viewer about payload bytes only. */
    gsize before = self->offset;
    self->offset += written;
    gsize payload_before = before > self->header_len ? before - self->header_len : 0;
    gsize payload_now = self->offset > self->header_len ? self->offset - self->header_len : 0;
    if (payload_now > payload_before)
      vigil_viewer_wrote(self->viewer, payload_now - payload_before);
    if (self->offset == self->header_len + size)
      g_clear_pointer(&self->chunk, vigil_chunk_unref);
  }
  self->out_source = g_pollable_output_stream_create_source(self->out, NULL);
  g_source_set_callback(self->out_source, G_SOURCE_FUNC(on_writable), self, NULL);
  g_source_attach(self->out_source, NULL);
}

static gboolean on_readable(GObject *stream, gpointer user_data)
{
  LiveWs *self = user_data;
  guint8 buf[4096];
  for (;;) {
    g_autoptr(GError) error = NULL;
    gssize n = g_pollable_input_stream_read_nonblocking(self->in, buf, sizeof buf, NULL, &error);
    if (n < 0 && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    if (n <= 0) {
      /* The client went away. */
      g_clear_pointer(&self->in_source, g_source_unref);
      ws_free(self);
      return G_SOURCE_REMOVE;
    }
    g_byte_array_append(self->rbuf, buf, (guint)n);
    if (!vigil_ws_parse_client(self->rbuf, self->control, &self->closing)) {
      g_clear_pointer(&self->in_source, g_source_unref);
      ws_free(self);
      return G_SOURCE_REMOVE;
    }
  }
  if (self->closing) {
    /* Stop reading; ws_pump frees us once the close frame is out. */
    g_clear_pointer(&self->in_source, g_source_unref);
    ws_pump(self);
    return G_SOURCE_REMOVE;
  }
  if (self->control->len > 0)
    ws_pump(self);
  return G_SOURCE_CONTINUE;
}

static void on_viewer_ready(VigilViewer *viewer, gpointer user_data)
{
  ws_pump(user_data);
}

static void on_viewer_too_slow(VigilViewer *viewer, gpointer user_data)
{
  ws_free(user_data);
}

static void on_upgraded(SoupServerMessage *msg, gpointer user_data)
{
  LiveWs *self = user_data;
  g_signal_handlers_disconnect_by_data(msg, self);
  self->io = soup_server_message_steal_connection(msg);
  g_clear_object(&self->msg);
  GInputStream *in = self->io ? g_io_stream_get_input_stream(self->io) : NULL;
  GOutputStream *out = self->io ? g_io_stream_get_output_stream(self->io) : NULL;
  if (!G_IS_POLLABLE_INPUT_STREAM(in) || !G_IS_POLLABLE_OUTPUT_STREAM(out)) {
    g_warning("WebSocket: the connection is not pollable");
    ws_free(self);
    return;
  }
  self->in = G_POLLABLE_INPUT_STREAM(in);
  self->out = G_POLLABLE_OUTPUT_STREAM(out);
  self->in_source = g_pollable_input_stream_create_source(self->in, NULL);
  g_source_set_callback(self->in_source, G_SOURCE_FUNC(on_readable), self, NULL);
  g_source_attach(self->in_source, NULL);
  self->viewer =
      vigil_viewer_new(self->stream, VIGIL_VIEWER_WS, on_viewer_ready, on_viewer_too_slow, self);
  g_debug("camera %s: WebSocket viewer joined", self->camera_id);
}

static void on_finished_early(SoupServerMessage *msg, gpointer user_data)
{
  /* The 101 was never written (the client left first). */
  LiveWs *self = user_data;
  g_signal_handlers_disconnect_by_data(msg, self);
  g_clear_object(&self->msg);
  ws_free(self);
}

/* Browsers send cached Basic credentials with a WebSocket handshake whatever
 * page opens it: only accept pages of our own origin (or non-browsers, which
 * send no Origin). */
static gboolean origin_allowed(SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  const char *origin = soup_message_headers_get_one(h, "Origin");
  const char *host = soup_message_headers_get_one(h, "Host");
  if (!origin)
    return TRUE;
  if (!host)
    return FALSE;
  g_autoptr(GUri) uri = g_uri_parse(origin, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host(uri))
    return FALSE;
  const char *oh = g_uri_get_host(uri);
  int port = g_uri_get_port(uri);
  g_autofree gchar *expect = NULL;
  if (port > 0)
    expect = g_strdup_printf(strchr(oh, ':') ? "[%s]:%d" : "%s:%d", oh, port);
  else
    expect = g_strdup_printf(strchr(oh, ':') ? "[%s]" : "%s", oh);
  return g_ascii_strcasecmp(expect, host) == 0;
}

void vigil_api_live_ws(VigilRequest *req)
{
  VigilStream *stream = vigil_request_live_stream(req);
  if (!stream)
    return;
  if (!origin_allowed(req->msg)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                           "WebSocket from another origin refused");
    return;
  }
  g_autoptr(GError) error = NULL;
  if (!soup_websocket_server_check_handshake(req->msg, NULL, NULL, NULL, &error)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "a WebSocket handshake is needed: %s",
                           error->message);
    return;
  }
  /* Every response says "Connection: close" (server.c); this one upgrades. */
  soup_message_headers_remove(soup_server_message_get_response_headers(req->msg), "Connection");
  if (!soup_websocket_server_process_handshake(req->msg, NULL, NULL, NULL, NULL)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "bad WebSocket handshake");
    return;
  }
  LiveWs *self = g_new0(LiveWs, 1);
  self->msg = g_object_ref(req->msg);
  self->stream = vigil_stream_ref(stream);
  self->camera_id = g_strdup(vigil_camera_get_id(req->camera));
  self->control = g_byte_array_new();
  self->rbuf = g_byte_array_new();
  g_signal_connect(req->msg, "wrote-informational", G_CALLBACK(on_upgraded), self);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_finished_early), self);
}
