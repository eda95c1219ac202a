/* /api/v1/cameras and /api/v1/cameras/{id}: list, create, read, change and
 * delete cameras (routes.c says who may). */
#define G_LOG_DOMAIN "vigil-http"

#include "core/error.h"
#include "http/access.h"
#include "http/api.h"
#include "onvif/onvif.h"

/* The config layer checks "onvif.address" as text; here it becomes the
 * device service URL (HOST[:PORT] → http://HOST[:PORT]/onvif/device_service),
 * in the body itself, before the camera manager applies it. */
static gboolean normalise_onvif(JsonNode *body, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(body))
    return TRUE;
  JsonNode *onvif = json_object_get_member(json_node_get_object(body), "onvif");
  if (!onvif || !JSON_NODE_HOLDS_OBJECT(onvif))
    return TRUE;
  JsonObject *o = json_node_get_object(onvif);
  JsonNode *address = json_object_get_member(o, "address");
  if (!address || !JSON_NODE_HOLDS_VALUE(address) ||
      json_node_get_value_type(address) != G_TYPE_STRING)
    return TRUE; /* the config layer words the error */
  g_autoptr(GError) local = NULL;
  g_autofree char *url = vigil_onvif_device_url(json_node_get_string(address), &local);
  if (!url) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "field \"onvif.address\": %s",
                local->message);
    return FALSE;
  }
  json_object_set_string_member(o, "address", url);
  return TRUE;
}

void vigil_api_cameras_list(VigilRequest *req)
{
  GPtrArray *cameras = vigil_camera_manager_list(req->app->cameras);
  g_autoptr(JsonArray) array = json_array_sized_new(cameras->len);
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *camera = g_ptr_array_index(cameras, i);
    /* Only the cameras this user may see. */
    if (vigil_request_can_see(req, vigil_camera_get_id(camera)))
      json_array_add_element(array, vigil_camera_to_json(camera));
  }
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

static void reply_camera(VigilRequest *req, guint status, VigilCamera *camera)
{
  g_autoptr(JsonNode) node = vigil_camera_to_json(camera);
  vigil_http_reply_json(req->msg, status, node);
}

static void create_now(VigilApp *app, SoupServerMessage *msg, JsonNode *body)
{
  g_autoptr(GError) error = NULL;
  VigilCamera *camera = vigil_camera_manager_create(app->cameras, body, &error);
  if (!camera) {
    vigil_http_reply_gerror(msg, error);
    return;
  }
  g_autoptr(JsonNode) node = vigil_camera_to_json(camera);
  vigil_http_reply_json(msg, SOUP_STATUS_CREATED, node);
}

/* A create with "onvif" and no "source" waits for the device's profiles. */
typedef struct {
  VigilApp *app;
  SoupServerMessage *msg; /* strong ref */
  JsonNode *body;
  GCancellable *cancellable;
} OnvifCreate;

static void on_create_gone(SoupServerMessage *msg, gpointer user_data)
{
  g_cancellable_cancel(((OnvifCreate *)user_data)->cancellable);
}

static const char *member_string(JsonObject *o, const char *name)
{
  JsonNode *n = o ? json_object_get_member(o, name) : NULL;
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : NULL;
}

/* The profile named @token, or the largest (@largest) or smallest one. */
static const VigilOnvifProfile *pick_profile(const VigilOnvifDevice *d, const char *token,
                                             gboolean largest)
{
  const VigilOnvifProfile *best = NULL;
  for (guint i = 0; i < d->profiles->len; i++) {
    const VigilOnvifProfile *p = g_ptr_array_index(d->profiles, i);
    if (token) {
      if (g_str_equal(p->token, token))
        return p;
      continue;
    }
    gint64 area = (gint64)p->width * p->height;
    gint64 best_area = best ? (gint64)best->width * best->height : 0;
    if (!best || (largest ? area > best_area : area < best_area))
      best = p;
  }
  return best;
}

static void on_create_probed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  OnvifCreate *oc = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilOnvifDevice) device = vigil_onvif_probe_finish(result, &error);
  if (!g_cancellable_is_cancelled(oc->cancellable)) {
    soup_server_message_unpause(oc->msg);
    JsonObject *o = json_node_get_object(oc->body);
    JsonObject *onvif = json_object_get_object_member(o, "onvif");
    const char *want_main = member_string(onvif, "profile");
    const char *want_sub = member_string(onvif, "sub_profile");
    const VigilOnvifProfile *main = device ? pick_profile(device, want_main, TRUE) : NULL;
    const VigilOnvifProfile *sub = device ? pick_profile(device, want_sub, FALSE) : NULL;
    if (!device) {
      vigil_http_reply_error(oc->msg, SOUP_STATUS_BAD_REQUEST,
                             "no \"source\" given, and the ONVIF device did not tell it: %s",
                             error->message);
    } else if (!main || (want_sub && !sub)) {
      vigil_http_reply_error(oc->msg, SOUP_STATUS_BAD_REQUEST,
                             "field \"onvif.%s\": the device has no H.264 or H.265 profile \"%s\"",
                             main ? "sub_profile" : "profile", main ? want_sub : want_main);
    } else {
      json_object_set_string_member(o, "source", main->uri);
      if (!json_object_has_member(o, "sub_source") && sub && sub != main)
        json_object_set_string_member(o, "sub_source", sub->uri);
      create_now(oc->app, oc->msg, oc->body);
    }
  }
  g_signal_handlers_disconnect_by_data(oc->msg, oc);
  g_object_unref(oc->msg);
  g_object_unref(oc->cancellable);
  json_node_unref(oc->body);
  g_free(oc);
}

void vigil_api_cameras_create(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  if (!normalise_onvif(body, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  JsonNode *onvif = o ? json_object_get_member(o, "onvif") : NULL;
  if (!o || json_object_has_member(o, "source") || !onvif || !JSON_NODE_HOLDS_OBJECT(onvif)) {
    create_now(req->app, req->msg, body);
    return;
  }
  /* Everything else is checked before the device is asked: the body with a
   * stand-in source must pass. */
  g_autoptr(JsonNode) trial = json_node_copy(body);
  json_object_set_string_member(json_node_get_object(trial), "source", "rtsp://192.0.2.1/");
  g_autoptr(VigilCameraConfig) check = vigil_camera_config_new();
  if (!vigil_camera_config_apply_json(check, trial, TRUE, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_info("user %s adds camera %s: asking its ONVIF device for the streams", req->user, check->id);
  OnvifCreate *oc = g_new0(OnvifCreate, 1);
  oc->app = req->app;
  oc->msg = g_object_ref(req->msg);
  oc->body = json_node_ref(body);
  oc->cancellable = g_cancellable_new();
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_create_gone), oc);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_create_gone), oc);
  soup_server_message_pause(req->msg);
  vigil_onvif_probe_async(check->onvif.address, check->username, check->password, oc->cancellable,
                          on_create_probed, oc);
}

void vigil_api_camera_get(VigilRequest *req)
{
  reply_camera(req, SOUP_STATUS_OK, req->camera);
}

void vigil_api_camera_patch(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  if (!normalise_onvif(body, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  /* A changed device (or credentials) is found again at the next PTZ call. */
  g_autofree char *old_onvif = g_strdup(vigil_camera_get_config(req->camera)->onvif.address);
  VigilCamera *camera =
      vigil_camera_manager_patch(req->app->cameras, vigil_request_param(req, "id"), body, &error);
  if (!camera) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (old_onvif)
    vigil_ptz_forget(old_onvif);
  reply_camera(req, SOUP_STATUS_OK, camera);
}

void vigil_api_camera_delete(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  if (!vigil_camera_manager_delete(req->app->cameras, vigil_request_param(req, "id"), &error))
    vigil_http_reply_gerror(req->msg, error);
  else
    vigil_http_reply_no_content(req->msg);
}
