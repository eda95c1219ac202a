/* GET /api/v1/events (filters, newest first) and GET /api/v1/events/stream
 * (Server-Sent Events: every new or ended event and every camera state
 * change, as they happen, plus a comment line every 15 s so proxies and
 * browsers keep the connection open), and an event's thumbnail. */
#define G_LOG_DOMAIN "vigil-events"

#include "core/util.h"
#include "events/events.h"
#include "events/thumbnail.h"
#include "http/access.h"
#include "http/api.h"

#define EVENTS_DEFAULT_LIMIT 100
#define EVENTS_MAX_LIMIT     1000
#define SSE_KEEPALIVE_S      15
/* A listener that does not read gets cut off past this. */
#define SSE_MAX_QUEUED (1024 * 1024)

void vigil_api_events_list(VigilRequest *req)
{
  const char *camera = req->query ? g_hash_table_lookup(req->query, "camera") : NULL;
  const char *type = req->query ? g_hash_table_lookup(req->query, "type") : NULL;
  const char *from = req->query ? g_hash_table_lookup(req->query, "from") : NULL;
  const char *to = req->query ? g_hash_table_lookup(req->query, "to") : NULL;
  const char *limit_text = req->query ? g_hash_table_lookup(req->query, "limit") : NULL;
  gint64 from_us = 0, to_us = 0;
  guint64 limit = EVENTS_DEFAULT_LIMIT;

  if (camera && !vigil_slug_is_valid(camera)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "camera must be a camera id");
    return;
  }
  if (type &&
      !g_strv_contains((const char *const[]){"motion", "object", "barcode", "alarm", NULL}, type)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "type must be motion, object, barcode or alarm");
    return;
  }
  if ((from && !vigil_time_parse(from, &from_us)) || (to && !vigil_time_parse(to, &to_us))) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "from and to must be ISO 8601 times like 2026-11-25T13:45:01Z");
    return;
  }
  if (limit_text &&
      (!g_ascii_string_to_unsigned(limit_text, 10, 1, EVENTS_MAX_LIMIT, &limit, NULL))) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "limit must be a number from 1 to %d",
                           EVENTS_MAX_LIMIT);
    return;
  }
  /* Only events of cameras this user may play back (system alarms: all),
   * chosen in SQL before the limit applies, so that pages are full. */
  g_auto(GStrv) allowed = vigil_request_cameras_with(req, VIGIL_RIGHT_PLAYBACK);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) events =
      vigil_store_list_events(req->app->store, camera, (const char *const *)allowed, type, from_us,
                              to_us, (guint)limit, &error);
  if (!events) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonArray) array = json_array_sized_new(events->len);
  for (guint i = 0; i < events->len; i++)
    json_array_add_element(array, vigil_event_to_json(g_ptr_array_index(events, i)));
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

typedef struct {
  SoupServerMessage *msg;  /* strong ref until finished */
  VigilPermissions *perms; /* the listener's rights, as they were when it connected */
  guint listener;
  guint keepalive;
  gsize queued;
} Sse;

static void sse_send(Sse *self, const char *text)
{
  gsize len = strlen(text);
  if (self->queued + len > SSE_MAX_QUEUED)
    return; /* the client stopped reading; drop rather than grow */
  soup_message_body_append(soup_server_message_get_response_body(self->msg), SOUP_MEMORY_COPY, text,
                           len);
  self->queued += len;
  soup_server_message_unpause(self->msg);
}

static void on_bus(const char *name, const char *camera, const char *json, gpointer user_data)
{
  Sse *self = user_data;
  /* Events of cameras the user may not play back never reach them; camera
   * states need only the view right. System alarms (no camera) go to all. */
  VigilRight right = g_str_equal(name, "event") ? VIGIL_RIGHT_PLAYBACK : VIGIL_RIGHT_VIEW;
  if (camera && !vigil_permissions_has(self->perms, camera, right))
    return;
  g_autofree gchar *text = g_strdup_printf("event: %s\ndata: %s\n\n", name, json);
  sse_send(self, text);
}

static gboolean on_keepalive(gpointer user_data)
{
  sse_send(user_data, ": keep-alive\n\n");
  return G_SOURCE_CONTINUE;
}

static void on_wrote_body_data(SoupServerMessage *msg, guint size, gpointer user_data)
{
  Sse *self = user_data;
  self->queued = self->queued > size ? self->queued - size : 0;
}

static void on_finished(SoupServerMessage *msg, gpointer user_data)
{
  Sse *self = user_data;
  vigil_events_unsubscribe(self->listener);
  g_clear_handle_id(&self->keepalive, g_source_remove);
  g_signal_handlers_disconnect_by_data(msg, self);
  g_object_unref(self->msg);
  vigil_permissions_free(self->perms);
  g_free(self);
}

void vigil_api_events_stream(VigilRequest *req)
{
  Sse *self = g_new0(Sse, 1);
  self->msg = g_object_ref(req->msg);
  self->perms = vigil_permissions_copy(req->identity->perms);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(req->msg);
  soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
  soup_message_headers_set_content_type(headers, "text/event-stream", NULL);
  soup_message_body_set_accumulate(soup_server_message_get_response_body(req->msg), FALSE);
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  g_signal_connect(req->msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), self);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_finished), self);
  /* At shutdown the server drops its connections without "finished". */
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_finished), self);
  self->listener = vigil_events_subscribe(on_bus, self);
  self->keepalive = g_timeout_add_seconds(SSE_KEEPALIVE_S, on_keepalive, self);
  /* Headers and a first line at once, so clients know they are connected. */
  sse_send(self, ": vigil events\nretry: 3000\n\n");
}

/* GET /api/v1/events/{id}/thumbnail.jpg (playback on the event's camera). */
void vigil_api_event_thumbnail(VigilRequest *req)
{
  const VigilEvent *event = req->event;
  g_autofree gchar *path = vigil_event_thumbnail_path(event->camera, event->id, event->start_us);
  gchar *data = NULL;
  gsize size = 0;
  /* About 15 kB: read at once. */
  if (!path || !g_file_get_contents(path, &data, &size, NULL)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "this event has no thumbnail");
    return;
  }
  soup_server_message_set_status(req->msg, SOUP_STATUS_OK, NULL);
  /* The picture of an event never changes. */
  soup_message_headers_replace(soup_server_message_get_response_headers(req->msg), "Cache-Control",
                               "private, max-age=86400");
  soup_server_message_set_response(req->msg, "image/jpeg", SOUP_MEMORY_TAKE, data, size);
}
