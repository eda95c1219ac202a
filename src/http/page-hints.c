/* Preload hints on a page's answer: "Link: <url>; rel=preload; as=image" for
 * what the page will ask for first, so the browser fetches it while the
 * page's scripts still load and compile instead of after they ran.
 *
 * The grid ("/"): the stills its tiles show until their video starts
 * (LivePlayer's poster: docs/streams.md, "Live"). Only for a logged-in user
 * (the session cookie; pages are served to anyone, and a hint names camera
 * ids) and only the cameras the grid will show a poster for: ones the user
 * may view, enabled, whose tile stream is streaming. The tile's stream is the
 * grid's rule (grid.js): the sub stream where there is one, the main stream
 * for a lone camera. A hint the page does not use costs one snapshot and a
 * console warning; the page never depends on one. */
#define G_LOG_DOMAIN "vigil-http"

#include <string.h>

#include "camera/camera.h"
#include "http/access.h"
#include "http/http.h"

/* Headers stay well under what proxies accept (8 KiB is common): past this
 * the remaining tiles get no hint. */
#define MAX_HINTS_BYTES 6144

static void grid_hints(VigilApp *app, SoupServerMessage *msg)
{
  g_autoptr(VigilIdentity) id = vigil_http_identify_session(app, msg);
  if (!id)
    return;
  GPtrArray *cameras = vigil_camera_manager_list(app->cameras);
  guint shown = 0; /* the grid's tiles: every camera the user may see */
  for (guint i = 0; i < cameras->len; i++)
    if (vigil_permissions_can_see(id->perms, vigil_camera_get_id(g_ptr_array_index(cameras, i))))
      shown++;
  g_autoptr(GString) links = g_string_new(NULL);
  for (guint i = 0; i < cameras->len; i++) {
    VigilCamera *camera = g_ptr_array_index(cameras, i);
    const char *camera_id = vigil_camera_get_id(camera);
    if (!vigil_camera_get_config(camera)->enabled ||
        !vigil_permissions_has(id->perms, camera_id, VIGIL_RIGHT_VIEW))
      continue;
    gboolean sub = vigil_camera_get_sub_stream(camera) != NULL && shown > 1;
    VigilCameraState state =
        sub ? vigil_camera_get_sub_state(camera) : vigil_camera_get_state(camera);
    if (state != VIGIL_CAMERA_STREAMING)
      continue;
    g_autofree gchar *escaped = g_uri_escape_string(camera_id, NULL, FALSE);
    g_autofree gchar *link =
        g_strdup_printf("</api/v1/cameras/%s/snapshot.jpg%s>; rel=preload; as=image", escaped,
                        sub ? "?stream=sub" : "");
    if (links->len + strlen(link) + 2 > MAX_HINTS_BYTES)
      break;
    if (links->len)
      g_string_append(links, ", ");
    g_string_append(links, link);
  }
  if (links->len)
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Link", links->str);
}

void vigil_web_page_hints(VigilApp *app, SoupServerMessage *msg, const char *page)
{
  guint status = soup_server_message_get_status(msg);
  if (status != SOUP_STATUS_OK && status != SOUP_STATUS_NOT_MODIFIED)
    return;
  if (g_str_equal(page, "/pages/grid.html"))
    grid_hints(app, msg);
}
