/* The check of a wall's JSON body (POST and PUT /api/v1/walls, docs/api.md
 * "Walls"), kept apart from the handlers in api-walls.c: pure, no store, no
 * request. What it must know about cameras and recordings it asks through
 * VigilWallSources, so it can be unit-tested and fuzzed on its own. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A layout has 1 to 8 columns and 1 to 8 rows. */
#define VIGIL_WALL_MAX_GRID 8
/* Characters (not bytes) in a title. */
#define VIGIL_WALL_MAX_TITLE 100
/* Characters of a camera tile's PTZ preset token (ONVIF's limit in vigil). */
#define VIGIL_WALL_MAX_PRESET 64

/* What the check asks about a tile's source. Each answers TRUE when the
 * writer may put it on a wall: the camera exists and they may view it; the
 * recording exists and they may play back its camera. Either reason for FALSE
 * gives the same error, so a hidden camera's id does not leak. */
typedef struct {
  gboolean (*camera_usable)(const char *id, gpointer user_data);
  gboolean (*recording_usable)(gint64 id, gpointer user_data);
} VigilWallSources;

/* Checks @body strictly (members, name or title, a layout of at most
 * VIGIL_WALL_MAX_GRID square, tiles inside the grid without overlap, known
 * effects with parameters in range, usable sources) and returns the stored
 * form: {"title", "layout", "tiles", "kiosk"} with every default filled in.
 * @name gets the wall's name: the body's, else @current_name (PUT), else one
 * made from the title. @old_tiles are the stored wall's tiles (PUT), or NULL:
 * a tile whose source is {"denied": true} keeps the source stored at its x, y.
 * On a bad body: NULL and VIGIL_ERROR_INVALID with a message for the user. */
JsonObject *vigil_wall_body_check(JsonNode *body, const char *current_name, JsonArray *old_tiles,
                                  const VigilWallSources *sources, gpointer user_data, gchar **name,
                                  GError **error);

G_END_DECLS
