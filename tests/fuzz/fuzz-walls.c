/* libFuzzer target: POST and PUT /api/v1/walls bodies through the same check
 * as the handlers (vigil_http_parse_json, vigil_wall_body_check). The first
 * byte says which sources exist: bit n (0-3) refuses the cameras whose id
 * hashes to n mod 4, bit 4 + n the recordings whose id is n mod 4; the rest is
 * the body. Invariants: a refused body has a VIGIL_ERROR_INVALID message; an
 * accepted one is a valid wall (slug name, title of 1 to 100 characters, a
 * layout of at most 8x8, tiles inside it without overlap, sources the
 * callbacks accepted, known members only); the same body as a PUT is accepted
 * too; and the wall as GET shows it, sent back as a PUT (as is, and with every
 * source {"denied": true}), gives the same wall. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "http/http.h"
#include "http/walls-body.h"

static guint8 policy;

static gboolean camera_usable(const char *id, gpointer user_data)
{
  (void)user_data;
  if (!vigil_slug_is_valid(id)) /* the check asks only about well-formed ids */
    abort();
  return !((policy >> (g_str_hash(id) % 4)) & 1);
}

static gboolean recording_usable(gint64 id, gpointer user_data)
{
  (void)user_data;
  if (id < 1)
    abort();
  return !((policy >> (4 + id % 4)) & 1);
}

static gboolean refuse_camera(const char *id, gpointer user_data)
{
  (void)id;
  (void)user_data;
  return FALSE;
}

static gboolean refuse_recording(gint64 id, gpointer user_data)
{
  (void)id;
  (void)user_data;
  return FALSE;
}

static const VigilWallSources sources = {camera_usable, recording_usable};
static const VigilWallSources refuse_all = {refuse_camera, refuse_recording};

static gboolean has_only(JsonObject *o, const char *const *members)
{
  guint n = 0;
  for (; members[n]; n++)
    if (!json_object_has_member(o, members[n]))
      return FALSE;
  return json_object_get_size(o) == n;
}

static gint64 int_member(JsonObject *o, const char *member, gint64 min, gint64 max)
{
  JsonNode *n = json_object_get_member(o, member);
  if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
    abort();
  gint64 v = json_node_get_int(n);
  if (v < min || v > max)
    abort();
  return v;
}

static JsonObject *object_member(JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member(o, member);
  if (!n || !JSON_NODE_HOLDS_OBJECT(n))
    abort();
  return json_node_get_object(n);
}

static void check_source(JsonNode *n, gboolean asked)
{
  if (!n)
    abort();
  if (JSON_NODE_HOLDS_NULL(n))
    return;
  if (!JSON_NODE_HOLDS_OBJECT(n))
    abort();
  JsonObject *s = json_node_get_object(n);
  if (has_only(s, (const char *const[]){"camera", NULL})) {
    JsonNode *c = json_object_get_member(s, "camera");
    if (!JSON_NODE_HOLDS_VALUE(c) || json_node_get_value_type(c) != G_TYPE_STRING ||
        !vigil_slug_is_valid(json_node_get_string(c)) ||
        (asked && !camera_usable(json_node_get_string(c), NULL)))
      abort();
  } else if (has_only(s, (const char *const[]){"recording", NULL})) {
    gint64 id = int_member(s, "recording", 1, G_MAXINT64);
    if (asked && !recording_usable(id, NULL))
      abort();
  } else {
    abort();
  }
}

static void check_effect(JsonObject *e)
{
  if (!has_only(e, (const char *const[]){"name", "params", NULL}))
    abort();
  JsonNode *name = json_object_get_member(e, "name");
  if (!JSON_NODE_HOLDS_VALUE(name) || json_node_get_value_type(name) != G_TYPE_STRING)
    abort();
  JsonObject *params = object_member(e, "params");
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, params);
  while (json_object_iter_next(&iter, &member, &value))
    if (!JSON_NODE_HOLDS_VALUE(value) || json_node_get_value_type(value) != G_TYPE_DOUBLE ||
        !isfinite(json_node_get_double(value)))
      abort();
}

/* @asked: every source is one the callbacks accept. */
static void check_wall(const char *name, JsonObject *w, gboolean asked)
{
  if (!vigil_slug_is_valid(name) ||
      !has_only(w, (const char *const[]){"title", "layout", "tiles", "kiosk", NULL}))
    abort();
  JsonNode *title = json_object_get_member(w, "title");
  if (!JSON_NODE_HOLDS_VALUE(title) || json_node_get_value_type(title) != G_TYPE_STRING)
    abort();
  const char *t = json_node_get_string(title);
  if (!*t || !g_utf8_validate(t, -1, NULL) || g_utf8_strlen(t, -1) > VIGIL_WALL_MAX_TITLE)
    abort();
  JsonObject *layout = object_member(w, "layout");
  if (!has_only(layout, (const char *const[]){"cols", "rows", NULL}))
    abort();
  gint64 cols = int_member(layout, "cols", 1, VIGIL_WALL_MAX_GRID);
  gint64 rows = int_member(layout, "rows", 1, VIGIL_WALL_MAX_GRID);
  JsonNode *tn = json_object_get_member(w, "tiles");
  if (!JSON_NODE_HOLDS_ARRAY(tn))
    abort();
  JsonArray *tiles = json_node_get_array(tn);
  if (json_array_get_length(tiles) > (guint)(cols * rows))
    abort();
  gboolean used[VIGIL_WALL_MAX_GRID][VIGIL_WALL_MAX_GRID] = {{FALSE}};
  for (guint i = 0; i < json_array_get_length(tiles); i++) {
    JsonNode *n = json_array_get_element(tiles, i);
    if (!JSON_NODE_HOLDS_OBJECT(n))
      abort();
    JsonObject *tile = json_node_get_object(n);
    if (!has_only(tile, (const char *const[]){"x", "y", "w", "h", "source", "effect", NULL}))
      abort();
    gint64 x = int_member(tile, "x", 0, cols - 1);
    gint64 y = int_member(tile, "y", 0, rows - 1);
    gint64 tw = int_member(tile, "w", 1, cols - x);
    gint64 th = int_member(tile, "h", 1, rows - y);
    for (gint64 yy = y; yy < y + th; yy++)
      for (gint64 xx = x; xx < x + tw; xx++) {
        if (used[yy][xx])
          abort();
        used[yy][xx] = TRUE;
      }
    check_source(json_object_get_member(tile, "source"), asked);
    check_effect(object_member(tile, "effect"));
  }
  JsonNode *kiosk = json_object_get_member(w, "kiosk");
  if (!JSON_NODE_HOLDS_VALUE(kiosk) || json_node_get_value_type(kiosk) != G_TYPE_BOOLEAN)
    abort();
}

/* The wall as GET answers it (api-walls.c wall_to_json, all sources shown),
 * or with every source hidden as {"denied": true}. */
static gchar *api_text(const char *name, JsonObject *w, gboolean denied)
{
  g_autoptr(JsonObject) o = json_object_new();
  json_object_set_string_member(o, "name", name);
  g_autoptr(GList) members = json_object_get_members(w);
  for (GList *l = members; l; l = l->next)
    json_object_set_member(o, l->data, json_node_copy(json_object_get_member(w, l->data)));
  json_object_set_string_member(o, "created", "2026-11-25T13:45:01.250Z");
  json_object_set_string_member(o, "updated", "2026-11-25T13:45:01.250Z");
  JsonArray *tiles = json_object_get_array_member(o, "tiles");
  for (guint i = 0; denied && i < json_array_get_length(tiles); i++) {
    JsonObject *t = json_array_get_object_element(tiles, i);
    if (json_object_get_null_member(t, "source"))
      continue;
    JsonObject *d = json_object_new();
    json_object_set_boolean_member(d, "denied", TRUE);
    json_object_set_object_member(t, "source", d);
  }
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, o);
  return vigil_json_to_string(node);
}

static gchar *object_text(JsonObject *o)
{
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, o);
  return vigil_json_to_string(node);
}

/* @text (what GET gave) PUT back over wall @name stored as @stored. */
static void put_back(const char *text, const char *name, JsonObject *stored,
                     const VigilWallSources *with)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_http_parse_json(text, strlen(text), &error);
  if (!body)
    abort();
  g_autofree gchar *again_name = NULL;
  g_autoptr(JsonObject) again = vigil_wall_body_check(
      body, name, json_object_get_array_member(stored, "tiles"), with, NULL, &again_name, &error);
  if (!again || !g_str_equal(again_name, name))
    abort();
  g_autofree gchar *before = object_text(stored);
  g_autofree gchar *after = object_text(again);
  if (!g_str_equal(before, after))
    abort();
}

static JsonObject *check(JsonNode *body, const char *current, JsonArray *old_tiles, gchar **name)
{
  g_autoptr(GError) error = NULL;
  JsonObject *w = vigil_wall_body_check(body, current, old_tiles, &sources, NULL, name, &error);
  if (!w) {
    if (!g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_INVALID) || !*error->message || *name)
      abort();
    return NULL;
  }
  /* Old tiles only ever come from a wall checked with the same sources. */
  check_wall(*name, w, TRUE);
  return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  policy = data[0];
  g_autoptr(JsonNode) body = vigil_http_parse_json((const char *)data + 1, size - 1, NULL);
  if (!body)
    return 0;

  /* POST. */
  g_autofree gchar *name = NULL;
  g_autoptr(JsonObject) posted = check(body, NULL, NULL, &name);

  /* PUT over a wall "current" stored as the POST made it: it takes every
   * body the POST took, with the same tiles. */
  g_autofree gchar *put_name = NULL;
  g_autoptr(JsonObject) put = check(
      body, "current", posted ? json_object_get_array_member(posted, "tiles") : NULL, &put_name);
  if (posted) {
    if (!put)
      abort();
    g_autoptr(JsonNode) a = json_node_new(JSON_NODE_ARRAY);
    g_autoptr(JsonNode) b = json_node_new(JSON_NODE_ARRAY);
    json_node_set_array(a, json_object_get_array_member(posted, "tiles"));
    json_node_set_array(b, json_object_get_array_member(put, "tiles"));
    g_autofree gchar *ta = vigil_json_to_string(a);
    g_autofree gchar *tb = vigil_json_to_string(b);
    if (!g_str_equal(ta, tb))
      abort();
  }

  /* What GET shows of each wall, PUT back unchanged, as an editor who may
   * use every source and as one who may use none (every tile denied). */
  if (posted) {
    g_autofree gchar *shown = api_text(name, posted, FALSE);
    put_back(shown, name, posted, &sources);
    g_autofree gchar *hidden = api_text(name, posted, TRUE);
    put_back(hidden, name, posted, &refuse_all);
  }
  if (put) {
    g_autofree gchar *hidden = api_text(put_name, put, TRUE);
    put_back(hidden, put_name, put, &refuse_all);
  }
  return 0;
}
