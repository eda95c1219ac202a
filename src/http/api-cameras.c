/* /api/v1/cameras and /api/v1/cameras/{id}. */
#define G_LOG_DOMAIN "vigil-http"

#include "core/util.h"
#include "http/access.h"
#include "http/http.h"

static void list_cameras(VigilRequest *req)
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

/* Creating a camera needs control over every camera, present and future
 * (admins, and operators with control on "*"). */
static gboolean require_create(VigilRequest *req)
{
  if (vigil_permissions_has_all_cameras(req->identity->perms, VIGIL_RIGHT_CONTROL))
    return TRUE;
  vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                         "adding cameras needs the control right on all cameras (\"*\")");
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
      if (!require_create(req))
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

  /* A camera may be called "probe": only POST (which no camera takes) probes. */
  if (g_str_equal(id, "probe") && !req->segments[2] && g_str_equal(req->method, "POST")) {
    vigil_api_camera_probe(req);
    return;
  }
  VigilCamera *camera = vigil_slug_is_valid(id) ? vigil_camera_manager_lookup(manager, id) : NULL;
  /* A camera this user may not see is answered exactly like a missing one. */
  if (!camera || !vigil_request_can_see(req, id)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, VIGIL_HTTP_NO_SUCH_CAMERA);
    return;
  }
  const char *sub = req->segments[2];
  if (sub && g_str_has_prefix(sub, "live")) {
    /* live.ts, WS live, live.m3u8 and its segments: the view right. */
    if (vigil_request_require_camera(req, id, VIGIL_RIGHT_VIEW) && !vigil_api_live(req, camera))
      vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such camera resource");
    return;
  }
  if (sub && g_str_equal(sub, "recording") && !req->segments[3]) {
    if (vigil_request_require_camera(req, id, VIGIL_RIGHT_CONTROL))
      vigil_api_camera_recording(req, camera);
    return;
  }
  if (sub && g_str_equal(sub, "snapshot.jpg") && !req->segments[3]) {
    if (vigil_request_require_camera(req, id, VIGIL_RIGHT_VIEW))
      vigil_api_snapshot(req, camera);
    return;
  }
  if (sub && g_str_equal(sub, "export.mp4") && !req->segments[3]) {
    if (vigil_request_require_camera(req, id, VIGIL_RIGHT_PLAYBACK))
      vigil_api_camera_export(req, camera);
    return;
  }
  if (sub) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such camera resource");
    return;
  }

  if (g_str_equal(req->method, "GET")) {
    reply_camera(req, SOUP_STATUS_OK, camera);
  } else if (g_str_equal(req->method, "PATCH")) {
    if (!vigil_request_require_camera(req, id, VIGIL_RIGHT_CONTROL))
      return;
    g_autoptr(JsonNode) body = vigil_http_parse_body(req->msg, &error);
    camera = body ? vigil_camera_manager_patch(manager, id, body, &error) : NULL;
    if (!camera)
      vigil_http_reply_gerror(req->msg, error);
    else
      reply_camera(req, SOUP_STATUS_OK, camera);
  } else if (g_str_equal(req->method, "DELETE")) {
    if (!vigil_request_require_camera(req, id, VIGIL_RIGHT_CONTROL))
      return;
    if (!vigil_camera_manager_delete(manager, id, &error))
      vigil_http_reply_gerror(req->msg, error);
    else
      vigil_http_reply_no_content(req->msg);
  } else {
    vigil_http_reply_method_not_allowed(req->msg, "GET, PATCH, DELETE");
  }
}
