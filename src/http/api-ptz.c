/* POST /api/v1/cameras/{id}/ptz and GET /api/v1/cameras/{id}/ptz/presets
 * (control right, routes.c): pan, tilt, zoom, presets and home of a camera
 * with an "onvif" device, through onvif/ptz.c while the request waits
 * paused (docs/onvif.md). 409 for a camera without PTZ, 502 with words when
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
      vigil_http_reply_error(pr->msg, SOUP_STATUS_CONFLICT, NO_PTZ);
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
  vigil_ptz_async(cfg->onvif.address, cfg->username, cfg->password, cfg->onvif.profile, cmd,
                  pr->cancellable, on_done, pr);
}

/* A speed member: absent is 0. */
static gboolean read_speed(JsonObject *o, const char *field, double *out, GError **error)
{
  JsonNode *node = json_object_get_member(o, field);
  *out = 0;
  if (!node)
    return TRUE;
  if (!vigil_json_get_double(node, -1, 1, out))
    return vigil_json_field_invalid(error, field, "must be a number from -1 to 1");
  return TRUE;
}

/* A preset token or name: 1-64 characters of text. */
static gboolean read_text(JsonObject *o, const char *field, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member(o, field);
  if (!node)
    return vigil_json_field_invalid(error, field, "is required");
  if (!vigil_json_read_string(node, field, out, error))
    return FALSE;
  glong chars = g_utf8_strlen(*out, -1);
  if (chars < 1 || chars > VIGIL_ONVIF_MAX_TOKEN)
    return vigil_json_field_invalid(error, field, "must be 1 to %d characters",
                                    VIGIL_ONVIF_MAX_TOKEN);
  for (const char *p = *out; *p; p = g_utf8_next_char(p))
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return vigil_json_field_invalid(error, field, "must not contain control characters");
  return TRUE;
}

static gboolean parse_command(JsonNode *body, VigilPtzCommand *cmd, GError **error)
{
  static const char *const actions[] = {"move",       "stop",          "goto_preset",
                                        "set_preset", "remove_preset", "home"};
  static const VigilPtzAction codes[] = {VIGIL_PTZ_MOVE,          VIGIL_PTZ_STOP,
                                         VIGIL_PTZ_GOTO_PRESET,   VIGIL_PTZ_SET_PRESET,
                                         VIGIL_PTZ_REMOVE_PRESET, VIGIL_PTZ_HOME};
  static const char *const move_fields[] = {"action", "pan", "tilt", "zoom", NULL};
  static const char *const preset_fields[] = {"action", "preset", NULL};
  static const char *const name_fields[] = {"action", "name", NULL};
  static const char *const bare_fields[] = {"action", NULL};
  if (!JSON_NODE_HOLDS_OBJECT(body))
    return vigil_json_invalid(error, "give an object with \"action\"");
  JsonObject *o = json_node_get_object(body);
  JsonNode *action = json_object_get_member(o, "action");
  if (!action)
    return vigil_json_field_invalid(error, "action", "is required");
  int which;
  if (!vigil_json_read_enum(action, "action", actions, G_N_ELEMENTS(actions), &which, error))
    return FALSE;
  memset(cmd, 0, sizeof *cmd);
  cmd->action = codes[which];
  const char *const *allowed =
      cmd->action == VIGIL_PTZ_MOVE ? move_fields
      : cmd->action == VIGIL_PTZ_GOTO_PRESET || cmd->action == VIGIL_PTZ_REMOVE_PRESET
          ? preset_fields
      : cmd->action == VIGIL_PTZ_SET_PRESET ? name_fields
                                            : bare_fields;
  const char *unknown = vigil_json_unknown_member(o, allowed);
  if (unknown)
    return vigil_json_invalid(error, "unknown field \"%s\" for action \"%s\"", unknown,
                              actions[which]);
  switch (cmd->action) {
  case VIGIL_PTZ_MOVE:
    return read_speed(o, "pan", &cmd->pan, error) && read_speed(o, "tilt", &cmd->tilt, error) &&
           read_speed(o, "zoom", &cmd->zoom, error);
  case VIGIL_PTZ_GOTO_PRESET:
  case VIGIL_PTZ_REMOVE_PRESET:
    return read_text(o, "preset", &cmd->preset, error);
  case VIGIL_PTZ_SET_PRESET:
    return read_text(o, "name", &cmd->name, error);
  default:
    return TRUE;
  }
}

void vigil_api_camera_ptz(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  VigilPtzCommand cmd;
  if (!parse_command(body, &cmd, &error)) {
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
