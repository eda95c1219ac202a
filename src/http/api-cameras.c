/* /api/v1/cameras and /api/v1/cameras/{id}. */
#define G_LOG_DOMAIN "vigil-http"

#include "core/util.h"
#include "http/http.h"

static void list_cameras(VigilRequest *req)
{
  GPtrArray *cameras = vigil_camera_manager_list(req->app->cameras);
  g_autoptr(JsonArray) array = json_array_sized_new(cameras->len);
  for (guint i = 0; i < cameras->len; i++)
    json_array_add_element(array, vigil_camera_to_json(g_ptr_array_index(cameras, i)));
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

static void reply_camera(VigilRequest *req, guint status, VigilCamera *camera)
{
  g_autoptr(JsonNode) node = vigil_camera_to_json(camera);
  vigil_http_reply_json(req->msg, status, node);
}

static gboolean require_control(VigilRequest *req)
{
  /* Per-camera rights arrive with the users issue; until then admins and
   * operators manage cameras, viewers only look. */
  if (g_str_equal(req->role, "admin") || g_str_equal(req->role, "operator"))
    return TRUE;
  vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN, "you may not change cameras");
  return FALSE;
}

void vigil_api_cameras(VigilRequest *req)
{
  VigilCameraManager *manager = req->app->cameras;
  const char *id = req->segments[1];
  g_autoptr(GError) error = NULL;

  if (!id) {
    if (g_str_equal(req->method, "GET")) {
      list_cameras(req);
    } else if (g_str_equal(req->method, "POST")) {
      if (!require_control(req))
        return;
      g_autoptr(JsonNode) body = vigil_http_parse_body(req->msg, &error);
      VigilCamera *camera = body ? vigil_camera_manager_create(manager, body, &error) : NULL;
      if (!camera)
        vigil_http_reply_gerror(req->msg, error);
      else
        reply_camera(req, SOUP_STATUS_CREATED, camera);
    } else {
      vigil_http_reply_method_not_allowed(req->msg, "GET, POST");
    }
    return;
  }

  VigilCamera *camera = vigil_slug_is_valid(id) ? vigil_camera_manager_lookup(manager, id) : NULL;
  if (camera && req->segments[2] && g_str_equal(req->segments[2], "live.ts") &&
      !req->segments[3]) {
    vigil_api_live_ts(req, camera);
    return;
  }
  if (camera && req->segments[2] && g_str_equal(req->segments[2], "snapshot.jpg") &&
      !req->segments[3]) {
    vigil_api_snapshot(req, camera);
    return;
  }
  if (!camera || req->segments[2]) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such camera");
    return;
  }

  if (g_str_equal(req->method, "GET")) {
    reply_camera(req, SOUP_STATUS_OK, camera);
  } else if (g_str_equal(req->method, "PATCH")) {
    if (!require_control(req))
      return;
    g_autoptr(JsonNode) body = vigil_http_parse_body(req->msg, &error);
    camera = body ? vigil_camera_manager_patch(manager, id, body, &error) : NULL;
    if (!camera)
      vigil_http_reply_gerror(req->msg, error);
    else
      reply_camera(req, SOUP_STATUS_OK, camera);
  } else if (g_str_equal(req->method, "DELETE")) {
    if (!require_control(req))
      return;
    if (!vigil_camera_manager_delete(manager, id, &error))
      vigil_http_reply_gerror(req->msg, error);
    else
      vigil_http_reply_no_content(req->msg);
  } else {
    vigil_http_reply_method_not_allowed(req->msg, "GET, PATCH, DELETE");
  }
}
