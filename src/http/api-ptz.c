/* POST /api/v1/cameras/{id}/ptz and GET /api/v1/cameras/{id}/ptz/presets
 * (control right, routes.c): pan, tilt, zoom, presets and home of a camera
 * with an "onvif" device, through onvif/ptz.c while the request waits
 * paused (docs/onvif.md). 409 for a camera without PTZ (or, for "relative",
 * one that cannot move by a relative amount), 502 with words when
 * the device fails. */
#define G_LOG_DOMAIN "vigil-http"

#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "http/access.h"
#include "http/api.h"
#include "onvif/onvif.h"

#define NO_PTZ "camera has no PTZ"

typedef struct {
  SoupServerMessage *msg; /* strong ref */
  GCancellable *cancellable;
  VigilPtzAction action;
} PtzRequest;

static void on_gone(SoupServerMessage *msg, gpointer user_data)
{
  g_cancellable_cancel(((PtzRequest *)user_data)->cancellable);
}

static JsonNode *presets_json(GPtrArray *presets)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; presets && i < presets->len; i++) {
    const VigilPtzPreset *p = g_ptr_array_index(presets, i);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "token", p->token);
    vigil_json_add_string(b, "name", p->name);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

static void on_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  PtzRequest *pr = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GPtrArray) presets = NULL;
  gboolean ok = vigil_ptz_finish(result, &token, &presets, &error);
  if (!g_cancellable_is_cancelled(pr->cancellable)) {
    soup_server_message_unpause(pr->msg);
    if (!ok && g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT)) {
      /* No PTZ, or no relative move: the message says which. */
      vigil_http_reply_error(pr->msg, SOUP_STATUS_CONFLICT, "%s", error->message);
    } else if (!ok) {
      g_info("PTZ %s failed: %s", vigil_onvif_ptz_operation(pr->action), error->message);
      vigil_http_reply_error(pr->msg, SOUP_STATUS_BAD_GATEWAY, "%s", error->message);
    } else if (pr->action == VIGIL_PTZ_SET_PRESET) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      vigil_json_add_string(b, "preset", token);
      json_builder_end_object(b);
      g_autoptr(JsonNode) node = json_builder_get_root(b);
      vigil_http_reply_json(pr->msg, SOUP_STATUS_OK, node);
    } else if (pr->action == VIGIL_PTZ_GET_PRESETS) {
      g_autoptr(JsonNode) node = presets_json(presets);
      vigil_http_reply_json(pr->msg, SOUP_STATUS_OK, node);
    } else {
      vigil_http_reply_no_content(pr->msg);
    }
  }
  g_signal_handlers_disconnect_by_data(pr->msg, pr);
  g_object_unref(pr->msg);
  g_object_unref(pr->cancellable);
  g_free(pr);
}

static void run(VigilRequest *req, const VigilPtzCommand *cmd)
{
  const VigilCameraConfig *cfg = vigil_camera_get_config(req->camera);
  if (!cfg->onvif.address) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_CONFLICT, NO_PTZ);
    return;
  }
  g_debug("user %s: PTZ %s on camera %s", req->user, vigil_onvif_ptz_operation(cmd->action),
          cfg->id);
  PtzRequest *pr = g_new0(PtzRequest, 1);
  pr->msg = g_object_ref(req->msg);
  pr->cancellable = g_cancellable_new();
  pr->action = cmd->action;
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_gone), pr);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_gone), pr);
  soup_server_message_pause(req->msg);
  vigil_camera_ptz(req->camera, cmd, pr->cancellable, on_done, pr);
}

void vigil_api_camera_ptz(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  VigilPtzCommand cmd;
  if (!vigil_ptz_command_from_json(body, &cmd, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  /* cmd's strings point into @body: vigil_ptz_async() copies them. */
  run(req, &cmd);
}

void vigil_api_camera_ptz_presets(VigilRequest *req)
{
  VigilPtzCommand cmd = {.action = VIGIL_PTZ_GET_PRESETS};
  run(req, &cmd);
}
