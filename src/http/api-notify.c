/* /api/v1/notify: the webhooks' delivery log and test deliveries
 * (docs/webhooks.md). Admin only: receivers' names and errors are the
 * admin's business. */
#define G_LOG_DOMAIN "vigil-http"

#include "core/json.h"
#include "http/api.h"
#include "notify/notify.h"

void vigil_api_notify_deliveries(VigilRequest *req)
{
  g_autoptr(JsonNode) node = vigil_notify_deliveries_to_json(req->app->notify);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_notify_test(VigilRequest *req)
{
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  const char *unknown =
      o ? vigil_json_unknown_member(o, (const char *const[]){"name", NULL}) : NULL;
  if (unknown) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "unknown field \"%s\"", unknown);
    return;
  }
  const char *name = NULL;
  if (!o || !vigil_json_get_string(json_object_get_member(o, "name"), &name)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "give an object with the \"name\" of a webhook");
    return;
  }
  guint64 id = vigil_notify_test(req->app->notify, name);
  if (!id) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no webhook is named \"%s\"", name);
    return;
  }
  g_info("test delivery %" G_GUINT64_FORMAT " to webhook %s queued by %s", id, name, req->user);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_int(b, "delivery", (gint64)id);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  vigil_http_reply_json(req->msg, SOUP_STATUS_ACCEPTED, node);
}
