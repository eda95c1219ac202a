/* The check of a wall's JSON body (walls-body.h): what api-walls.c stores is
 * what this returns, so the pages can trust what they read. Pure: the
 * handler answers the questions about cameras and recordings. */
#include <math.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "http/walls-body.h"

/* The effects web/static/js/effects.js draws; keep the two lists equal. */
typedef struct {
  const char *name;
  double min, max, def;
} EffectParam;

typedef struct {
  const char *name;
  EffectParam params[4]; /* up to the first without a name: keep one spare */
} Effect;

static const Effect effects[] = {
    {.name = "none"},
    {"crt", {{"scanlines", 0, 1, 0.5}, {"curvature", 0, 1, 0.3}}},
    {"grain", {{"amount", 0, 1, 0.3}}},
    {"blur", {{"radius", 0, 20, 4}}},
    {"water", {{"level", 0.3, 0.9, 0.65}, {"ripple", 0, 1, 0.5}}},
    {"sepia", {{"amount", 0, 1, 1}}},
    {"posterize", {{"levels", 2, 16, 4}}},
    {"thermal", {{"contrast", 0.5, 3, 1}}},
    {"pixelate", {{"size", 2, 64, 12}}},
    {"edge", {{"strength", 0.5, 5, 1.5}, {"glow", 0, 1, 0.5}}},
};

static const Effect *find_effect(const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS(effects); i++)
    if (g_str_equal(effects[i].name, name))
      return &effects[i];
  return NULL;
}

/* An integer member in [min, max]. */
static gboolean get_int(JsonObject *o, const char *member, gint64 min, gint64 max,
                        const char *where, gint64 *out, GError **error)
{
  JsonNode *n = json_object_get_member(o, member);
  gint64 v;
  if (!vigil_json_get_int(n, G_MININT64, G_MAXINT64, &v))
    return vigil_json_invalid(
        error, "%s: \"%s\" must be a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
        where, member, min, max);
  if (!vigil_json_get_int(n, min, max, out))
    return vigil_json_invalid(error,
                              "%s: \"%s\" must be from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                              where, member, min, max);
  return TRUE;
}

static gboolean only_members(JsonObject *o, const char *const *allowed, const char *where,
                             GError **error)
{
  const char *unknown = vigil_json_unknown_member(o, allowed);
  return !unknown || vigil_json_invalid(error, "%s: unknown member \"%s\"", where, unknown);
}

/* What the checks of one body share. */
typedef struct {
  JsonArray *old_tiles; /* the stored wall's tiles (PUT), may be NULL */
  const VigilWallSources *sources;
  gpointer user_data;
} Check;

/* The stored source of the old tile at (x, y), for a "denied" source. */
static JsonNode *old_source(Check *c, gint64 x, gint64 y)
{
  if (!c->old_tiles)
    return NULL;
  for (guint i = 0; i < json_array_get_length(c->old_tiles); i++) {
    JsonObject *t = json_array_get_object_element(c->old_tiles, i);
    if (json_object_get_int_member_with_default(t, "x", -1) == x &&
        json_object_get_int_member_with_default(t, "y", -1) == y &&
        json_object_has_member(t, "source") && !json_object_get_null_member(t, "source"))
      return json_object_get_member(t, "source");
  }
  return NULL;
}

/* Checks a tile's source; adds the normalized one to @out (NULL allowed). */
static gboolean check_source(Check *c, JsonNode *n, gint64 x, gint64 y, const char *where,
                             JsonObject *out, GError **error)
{
  if (!n || JSON_NODE_HOLDS_NULL(n)) {
    json_object_set_null_member(out, "source");
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return vigil_json_invalid(
        error, "%s: \"source\" must be {\"camera\": id}, {\"recording\": id} or null", where);
  JsonObject *o = json_node_get_object(n);
  /* A camera's source may also name a PTZ preset (docs/onvif.md). */
  JsonNode *preset = json_object_get_member(o, "preset");
  guint size = json_object_get_size(o) - (preset && json_object_has_member(o, "camera") ? 1 : 0);
  if (size != 1)
    return vigil_json_invalid(
        error, "%s: \"source\" must have exactly one of \"camera\" or \"recording\"", where);
  if (json_object_has_member(o, "denied")) {
    JsonNode *old = old_source(c, x, y);
    if (!old)
      return vigil_json_invalid(error, "%s: no stored source to keep", where);
    json_object_set_member(out, "source", json_node_copy(old));
    return TRUE;
  }
  JsonObject *src = json_object_new();
  JsonNode *cam = json_object_get_member(o, "camera");
  JsonNode *rec = json_object_get_member(o, "recording");
  if (cam) {
    const char *id;
    /* One message for unknown and invisible cameras: ids do not leak. */
    if (!vigil_json_get_string(cam, &id) || !vigil_slug_is_valid(id) ||
        !c->sources->camera_usable(id, c->user_data)) {
      json_object_unref(src);
      return vigil_json_invalid(error, "%s: no such camera", where);
    }
    json_object_set_string_member(src, "camera", id);
    const char *token;
    if (preset && (!vigil_json_get_string(preset, &token) || !*token ||
                   g_utf8_strlen(token, -1) > VIGIL_WALL_MAX_PRESET)) {
      json_object_unref(src);
      return vigil_json_invalid(error,
                                "%s: \"preset\" must be a preset token of 1 to %d characters",
                                where, VIGIL_WALL_MAX_PRESET);
    }
    if (preset)
      json_object_set_string_member(src, "preset", token);
  } else if (rec) {
    gint64 id;
    if (!vigil_json_get_int(rec, 1, G_MAXINT64, &id)) {
      json_object_unref(src);
      return vigil_json_invalid(error, "%s: \"recording\" must be a recording id", where);
    }
    if (!c->sources->recording_usable(id, c->user_data)) {
      json_object_unref(src);
      return vigil_json_invalid(error, "%s: no such recording", where);
    }
    json_object_set_int_member(src, "recording", id);
  } else {
    json_object_unref(src);
    return vigil_json_invalid(error, "%s: \"source\" must have \"camera\" or \"recording\"", where);
  }
  json_object_set_object_member(out, "source", src);
  return TRUE;
}

static gboolean check_effect(JsonNode *n, const char *where, JsonObject *out, GError **error)
{
  JsonObject *effect = json_object_new();
  JsonObject *params = json_object_new();
  json_object_set_object_member(out, "effect", effect);
  json_object_set_string_member(effect, "name", "none");
  json_object_set_object_member(effect, "params", params);
  if (!n || JSON_NODE_HOLDS_NULL(n))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(n))
    return vigil_json_invalid(error, "%s: \"effect\" must be {\"name\", \"params\"}", where);
  JsonObject *o = json_node_get_object(n);
  if (!only_members(o, (const char *const[]){"name", "params", NULL}, where, error))
    return FALSE;
  const char *name = json_object_get_string_member_with_default(o, "name", NULL);
  const Effect *e = name ? find_effect(name) : NULL;
  if (!e) {
    g_autoptr(GString) known = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(effects); i++)
      g_string_append_printf(known, "%s%s", i ? ", " : "", effects[i].name);
    return vigil_json_invalid(error, "%s: effect \"name\" must be one of %s", where, known->str);
  }
  json_object_set_string_member(effect, "name", e->name);
  JsonNode *pn = json_object_get_member(o, "params");
  JsonObject *given = NULL;
  if (pn && !JSON_NODE_HOLDS_NULL(pn)) {
    if (!JSON_NODE_HOLDS_OBJECT(pn))
      return vigil_json_invalid(error, "%s: effect \"params\" must be an object", where);
    given = json_node_get_object(pn);
    JsonObjectIter iter;
    const char *member;
    JsonNode *value;
    json_object_iter_init(&iter, given);
    while (json_object_iter_next(&iter, &member, &value)) {
      gboolean known = FALSE;
      for (const EffectParam *p = e->params; p->name; p++)
        known = known || g_str_equal(p->name, member);
      if (!known)
        return vigil_json_invalid(error, "%s: effect %s has no parameter \"%s\"", where, e->name,
                                  member);
    }
  }
  for (const EffectParam *p = e->params; p->name; p++) {
    double v = p->def;
    JsonNode *vn = given ? json_object_get_member(given, p->name) : NULL;
    if (vn) {
      GType t = JSON_NODE_HOLDS_VALUE(vn) ? json_node_get_value_type(vn) : G_TYPE_INVALID;
      if (t != G_TYPE_INT64 && t != G_TYPE_DOUBLE)
        return vigil_json_invalid(error, "%s: effect parameter \"%s\" must be a number", where,
                                  p->name);
      v = json_node_get_double(vn);
      if (!isfinite(v) || v < p->min || v > p->max)
        return vigil_json_invalid(error, "%s: effect parameter \"%s\" must be from %g to %g", where,
                                  p->name, p->min, p->max);
    }
    json_object_set_double_member(params, p->name, v);
  }
  return TRUE;
}

/* Checks @body and builds the stored form (everything but the name) in
 * @out; @name_out gets the wall's name (@current when the body has none). */
static gboolean check_wall(Check *c, JsonNode *body, const char *current, gchar **name_out,
                           JsonObject *out, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(body))
    return vigil_json_invalid(error, "a wall must be a JSON object");
  JsonObject *o = json_node_get_object(body);
  if (!only_members(o,
                    (const char *const[]){"name", "title", "layout", "tiles", "kiosk", "created",
                                          "updated", NULL},
                    "wall", error))
    return FALSE;

  JsonNode *tn = json_object_get_member(o, "title");
  const char *title = NULL;
  if (tn && !JSON_NODE_HOLDS_NULL(tn)) {
    if (!vigil_json_get_string(tn, &title))
      return vigil_json_invalid(error, "\"title\" must be a string");
    if (g_utf8_strlen(title, -1) > VIGIL_WALL_MAX_TITLE)
      return vigil_json_invalid(error, "\"title\" must be at most %d characters",
                                VIGIL_WALL_MAX_TITLE);
  }
  JsonNode *nn = json_object_get_member(o, "name");
  g_autofree gchar *name = NULL;
  const char *given = NULL;
  if (nn && !JSON_NODE_HOLDS_NULL(nn)) {
    if (!vigil_json_get_string(nn, &given) || !vigil_slug_is_valid(given))
      return vigil_json_invalid(error, "\"name\" must be 1 to 32 of a-z, 0-9 and -");
    name = g_strdup(given);
  } else if (current) {
    name = g_strdup(current);
  } else if (title) {
    name = vigil_slug_from_name(title);
    if (name && strlen(name) > 32)
      name[32] = '\0';
    if (!name || !vigil_slug_is_valid(name))
      return vigil_json_invalid(error, "give the wall a \"name\" (a-z, 0-9 and -)");
  } else {
    return vigil_json_invalid(error, "a wall needs a \"name\" or a \"title\"");
  }
  json_object_set_string_member(out, "title", title && *title ? title : name);

  JsonNode *ln = json_object_get_member(o, "layout");
  if (!ln || !JSON_NODE_HOLDS_OBJECT(ln))
    return vigil_json_invalid(error, "\"layout\" must be {\"cols\", \"rows\"}");
  JsonObject *lo = json_node_get_object(ln);
  gint64 cols, rows;
  if (!only_members(lo, (const char *const[]){"cols", "rows", NULL}, "layout", error) ||
      !get_int(lo, "cols", 1, VIGIL_WALL_MAX_GRID, "layout", &cols, error) ||
      !get_int(lo, "rows", 1, VIGIL_WALL_MAX_GRID, "layout", &rows, error))
    return FALSE;
  JsonObject *layout = json_object_new();
  json_object_set_int_member(layout, "cols", cols);
  json_object_set_int_member(layout, "rows", rows);
  json_object_set_object_member(out, "layout", layout);

  JsonNode *tsn = json_object_get_member(o, "tiles");
  if (!tsn || !JSON_NODE_HOLDS_ARRAY(tsn))
    return vigil_json_invalid(error, "\"tiles\" must be an array");
  JsonArray *tiles = json_node_get_array(tsn);
  guint n = json_array_get_length(tiles);
  if (n > (guint)(cols * rows))
    return vigil_json_invalid(error, "at most %d tiles fit a %dx%d layout", (int)(cols * rows),
                              (int)cols, (int)rows);
  gboolean used[VIGIL_WALL_MAX_GRID][VIGIL_WALL_MAX_GRID] = {{FALSE}};
  JsonArray *out_tiles = json_array_new();
  json_object_set_array_member(out, "tiles", out_tiles);
  for (guint i = 0; i < n; i++) {
    g_autofree gchar *where = g_strdup_printf("tile %u", i + 1);
    JsonNode *t = json_array_get_element(tiles, i);
    if (!JSON_NODE_HOLDS_OBJECT(t))
      return vigil_json_invalid(error, "%s must be an object", where);
    JsonObject *to = json_node_get_object(t);
    gint64 x, y, w, h;
    if (!only_members(to, (const char *const[]){"x", "y", "w", "h", "source", "effect", NULL},
                      where, error) ||
        !get_int(to, "x", 0, cols - 1, where, &x, error) ||
        !get_int(to, "y", 0, rows - 1, where, &y, error) ||
        !get_int(to, "w", 1, cols - x, where, &w, error) ||
        !get_int(to, "h", 1, rows - y, where, &h, error))
      return FALSE;
    for (gint64 yy = y; yy < y + h; yy++)
      for (gint64 xx = x; xx < x + w; xx++) {
        if (used[yy][xx])
          return vigil_json_invalid(error, "%s overlaps another tile at column %d, row %d", where,
                                    (int)xx + 1, (int)yy + 1);
        used[yy][xx] = TRUE;
      }
    JsonObject *tile = json_object_new();
    json_array_add_object_element(out_tiles, tile);
    json_object_set_int_member(tile, "x", x);
    json_object_set_int_member(tile, "y", y);
    json_object_set_int_member(tile, "w", w);
    json_object_set_int_member(tile, "h", h);
    if (!check_source(c, json_object_get_member(to, "source"), x, y, where, tile, error) ||
        !check_effect(json_object_get_member(to, "effect"), where, tile, error))
      return FALSE;
  }

  JsonNode *kn = json_object_get_member(o, "kiosk");
  gboolean kiosk = FALSE;
  if (kn && !JSON_NODE_HOLDS_NULL(kn)) {
    if (!vigil_json_get_bool(kn, &kiosk))
      return vigil_json_invalid(error, "\"kiosk\" must be true or false");
  }
  json_object_set_boolean_member(out, "kiosk", kiosk);
  *name_out = g_steal_pointer(&name);
  return TRUE;
}

JsonObject *vigil_wall_body_check(JsonNode *body, const char *current_name, JsonArray *old_tiles,
                                  const VigilWallSources *sources, gpointer user_data, gchar **name,
                                  GError **error)
{
  g_return_val_if_fail(body != NULL, NULL);
  g_return_val_if_fail(sources && sources->camera_usable && sources->recording_usable, NULL);
  g_return_val_if_fail(name != NULL, NULL);
  Check c = {.old_tiles = old_tiles, .sources = sources, .user_data = user_data};
  g_autoptr(JsonObject) out = json_object_new();
  if (!check_wall(&c, body, current_name, name, out, error))
    return NULL;
  return g_steal_pointer(&out);
}
