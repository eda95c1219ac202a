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
  VigilCamera *camera = vigil_camera_manager_create(req->app->cameras, body, &error);
  if (!camera)
    vigil_http_reply_gerror(req->msg, error);
  else
    reply_camera(req, SOUP_STATUS_CREATED, camera);
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
  VigilCamera *camera =
      vigil_camera_manager_patch(req->app->cameras, vigil_request_param(req, "id"), body, &error);
  if (!camera)
    vigil_http_reply_gerror(req->msg, error);
  else
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
