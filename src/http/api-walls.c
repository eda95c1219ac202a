/* /api/v1/walls and /api/v1/walls/{name}: saved video walls (docs/api.md).
 *
 * A wall is {"name", "title", "layout": {"cols", "rows"}, "tiles": [{"x", "y",
 * "w", "h", "source": {"camera": id} | {"recording": id} | null, "effect":
 * {"name", "params": {...}}}], "kiosk"}. Every body is checked strictly by
 * walls-body.c (tiles inside the grid, no overlap, known effects with
 * parameters in range, cameras and recordings the writer may use) and stored
 * normalized, so the pages can trust what they read; this file answers the
 * check's questions about cameras and recordings for the request's user.
 *
 * Reading needs a login; writing needs the admin or operator role (routes.c). A tile
 * showing a camera the reader may not view (or a recording they may not play
 * back) reads as {"denied": true}: the id does not leak. Writing such a tile
 * back unchanged (same x, y, source {"denied": true}) keeps what was stored. */
#define G_LOG_DOMAIN "vigil-http"

#include "core/util.h"
#include "http/access.h"
#include "http/api.h"
#include "http/walls-body.h"
#include "store/recordings.h"
#include "store/walls.h"

#define WALL_MAX_WALLS 1000

/* VigilWallSources for the request (user data) writing the wall. */
static gboolean camera_usable(const char *id, gpointer user_data)
{
  VigilRequest *req = user_data;
  return vigil_camera_manager_lookup(req->app->cameras, id) &&
         vigil_request_can(req, id, VIGIL_RIGHT_VIEW);
}

static gboolean recording_usable(gint64 id, gpointer user_data)
{
  VigilRequest *req = user_data;
  g_autoptr(VigilRecording) r = vigil_store_get_recording(req->app->store, id, NULL);
  return r && vigil_request_can(req, r->camera, VIGIL_RIGHT_PLAYBACK);
}

static const VigilWallSources request_sources = {camera_usable, recording_usable};

static JsonNode *parse_text(const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, text, -1, NULL))
    return NULL;
  JsonNode *root = json_parser_get_root(parser);
  return root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_copy(root) : NULL;
}

/* The API's wall object as @req's user may see it. */
static JsonNode *wall_to_json(VigilRequest *req, const VigilWall *wall)
{
  JsonNode *stored = parse_text(wall->body);
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "name", wall->name);
  if (stored) {
    /* get_members keeps the stored order (an iterator would not). */
    JsonObject *so = json_node_get_object(stored);
    g_autoptr(GList) members = json_object_get_members(so);
    for (GList *l = members; l; l = l->next)
      json_object_set_member(o, l->data, json_node_copy(json_object_get_member(so, l->data)));
    json_node_unref(stored);
  }
  JsonArray *tiles =
      json_object_has_member(o, "tiles") ? json_object_get_array_member(o, "tiles") : NULL;
  for (guint i = 0; tiles && i < json_array_get_length(tiles); i++) {
    JsonObject *t = json_array_get_object_element(tiles, i);
    JsonNode *sn = t ? json_object_get_member(t, "source") : NULL;
    if (!sn || !JSON_NODE_HOLDS_OBJECT(sn))
      continue;
    JsonObject *s = json_node_get_object(sn);
    gboolean allowed = TRUE;
    if (json_object_has_member(s, "camera")) {
      allowed =
          vigil_request_can(req, json_object_get_string_member(s, "camera"), VIGIL_RIGHT_VIEW);
    } else if (json_object_has_member(s, "recording")) {
      g_autoptr(VigilRecording) r = vigil_store_get_recording(
          req->app->store, json_object_get_int_member(s, "recording"), NULL);
      /* A recording deleted since stays visible as a dead id: it says nothing. */
      allowed = !r || vigil_request_can(req, r->camera, VIGIL_RIGHT_PLAYBACK);
    }
    if (!allowed) {
      JsonObject *denied = json_object_new();
      json_object_set_boolean_member(denied, "denied", TRUE);
      json_object_set_object_member(t, "source", denied);
    }
  }
  g_autofree gchar *created = vigil_time_format(wall->created_us);
  g_autofree gchar *updated = vigil_time_format(wall->updated_us);
  json_object_set_string_member(o, "created", created);
  json_object_set_string_member(o, "updated", updated);
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, o);
  return node;
}

static void reply_wall(VigilRequest *req, guint status, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilWall) wall = vigil_store_get_wall(req->app->store, name, &error);
  if (!wall) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonNode) node = wall_to_json(req, wall);
  vigil_http_reply_json(req->msg, status, node);
}

static gchar *object_text(JsonObject *o)
{
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, o);
  return json_to_string(node, FALSE);
}

void vigil_api_walls_list(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) walls = vigil_store_list_walls(req->app->store, &error);
  if (!walls) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonArray) array = json_array_sized_new(walls->len);
  for (guint i = 0; i < walls->len; i++)
    json_array_add_element(array, wall_to_json(req, g_ptr_array_index(walls, i)));
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_walls_create(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  g_autoptr(JsonObject) out = NULL;
  g_autofree gchar *name = NULL;
  if (!(out = vigil_wall_body_check(body, NULL, NULL, &request_sources, req, &name, &error))) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(GPtrArray) walls = vigil_store_list_walls(req->app->store, NULL);
  if (walls && walls->len >= WALL_MAX_WALLS) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "at most %d walls", WALL_MAX_WALLS);
    return;
  }
  g_autofree gchar *text = object_text(out);
  if (!vigil_store_insert_wall(req->app->store, name, text, g_get_real_time(), &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_info("wall \"%s\" created by %s", name, req->user);
  reply_wall(req, SOUP_STATUS_CREATED, name);
}

/* The wall {name} names; NULL after a 404. */
static const char *wall_name(VigilRequest *req)
{
  const char *name = vigil_request_param(req, "name");
  if (vigil_slug_is_valid(name))
    return name;
  vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such wall");
  return NULL;
}

void vigil_api_wall_get(VigilRequest *req)
{
  const char *name = wall_name(req);
  if (name)
    reply_wall(req, SOUP_STATUS_OK, name);
}

void vigil_api_wall_put(VigilRequest *req)
{
  const char *name = wall_name(req);
  if (!name)
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilWall) old = vigil_store_get_wall(req->app->store, name, &error);
  if (!old) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonNode) old_body = parse_text(old->body);
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  g_autoptr(JsonObject) out = NULL;
  g_autofree gchar *new_name = NULL;
  JsonArray *old_tiles = NULL;
  if (old_body && json_object_has_member(json_node_get_object(old_body), "tiles"))
    old_tiles = json_object_get_array_member(json_node_get_object(old_body), "tiles");
  if (!(out = vigil_wall_body_check(body, name, old_tiles, &request_sources, req, &new_name,
                                    &error))) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autofree gchar *text = object_text(out);
  if (!vigil_store_update_wall(req->app->store, name, new_name, text, g_get_real_time(), &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  reply_wall(req, SOUP_STATUS_OK, new_name);
}

void vigil_api_wall_delete(VigilRequest *req)
{
  const char *name = wall_name(req);
  g_autoptr(GError) error = NULL;
  if (!name)
    return;
  if (!vigil_store_delete_wall(req->app->store, name, &error))
    vigil_http_reply_gerror(req->msg, error);
  else
    vigil_http_reply_no_content(req->msg);
}
