/* libFuzzer target: POST and PATCH /api/v1/users bodies through the same
 * check as the handlers (vigil_http_parse_json, vigil_user_body_parse), for
 * a new user and for a viewer, an operator and an admin being changed.
 * Invariants: a POST has name, password and role; every value is in its
 * documented range; the stored rights of each camera row are not empty and
 * within the role's ceiling; and the rows, sent back as a "cameras" map,
 * parse to the same rows. */
#include <stdint.h>
#include <string.h>

#include "auth/permissions.h"
#include "core/json.h"
#include "core/util.h"
#include "http/access.h"
#include "http/http.h"

static JsonNode *cameras_body(const char *role, GHashTable *rows)
{
  JsonObject *o = json_object_new();
  json_object_set_string_member(o, "role", role);
  JsonObject *cams = json_object_new();
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, rows);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    JsonArray *a = json_array_new();
    VigilRights rights = vigil_rights_from_string(value);
    for (VigilRight r = VIGIL_RIGHT_VIEW; r <= VIGIL_RIGHT_CONTROL; r <<= 1)
      if (rights & r)
        json_array_add_string_element(a, vigil_right_to_string(r));
    json_object_set_array_member(cams, key, a);
  }
  json_object_set_object_member(o, "cameras", cams);
  JsonNode *node = json_node_new(JSON_NODE_OBJECT);
  json_node_take_object(node, o);
  return node;
}

static void check(JsonNode *node, gboolean creating, const char *current_role)
{
  const char *name = NULL, *password = NULL, *role = NULL;
  g_autoptr(GHashTable) cameras = NULL;
  g_autoptr(GError) error = NULL;
  if (!vigil_user_body_parse(node, creating, current_role, &name, &password, &role, &cameras,
                             &error)) {
    if (!error)
      __builtin_trap();
    return;
  }
  if (creating && (!name || !password || !role))
    __builtin_trap();
  if (name &&
      (strlen(name) < 1 || strlen(name) > 64 || !g_ascii_isalnum(name[0]) || strpbrk(name, ":/ %")))
    __builtin_trap();
  if (password && (g_utf8_strlen(password, -1) < 8 || strlen(password) > 1024))
    __builtin_trap();
  if (role && vigil_role_from_string(role) == VIGIL_ROLE_INVALID)
    __builtin_trap();
  if (!cameras)
    return;
  const char *effective = role ? role : current_role;
  VigilRights ceiling = vigil_role_max_rights(vigil_role_from_string(effective));
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, cameras);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    VigilRights r = vigil_rights_from_string(value);
    if ((!g_str_equal(key, VIGIL_ALL_CAMERAS) && !vigil_slug_is_valid(key)) || !r || (r & ~ceiling))
      __builtin_trap();
  }
  g_autoptr(JsonNode) again = cameras_body(effective, cameras);
  const char *n2 = NULL, *p2 = NULL, *r2 = NULL;
  g_autoptr(GHashTable) cameras2 = NULL;
  if (!vigil_user_body_parse(again, FALSE, current_role, &n2, &p2, &r2, &cameras2, NULL) ||
      g_hash_table_size(cameras2) != g_hash_table_size(cameras))
    __builtin_trap();
  g_hash_table_iter_init(&it, cameras);
  while (g_hash_table_iter_next(&it, &key, &value))
    if (g_strcmp0(value, g_hash_table_lookup(cameras2, key)) != 0)
      __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  JsonNode *node = vigil_http_parse_json((const char *)data, size, NULL);
  if (!node)
    return 0;
  check(node, TRUE, NULL);
  check(node, FALSE, "viewer");
  check(node, FALSE, "operator");
  check(node, FALSE, "admin");
  json_node_unref(node);
  return 0;
}
