/* Saved video walls (GET/POST /api/v1/walls, GET/PUT/DELETE /api/v1/walls/{name}):
 * one row per wall, its name (a slug, the URL /wall/{name}) and the wall's
 * JSON body as checked by the HTTP layer (http/api-walls.c). The store does
 * not look inside the JSON. Main thread only, like the rest of the store. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

typedef struct {
  gchar *name; /* slug */
  gchar *body; /* JSON object text, without name/created/updated */
  gint64 created_us;
  gint64 updated_us;
} VigilWall;

void vigil_wall_free(VigilWall *wall);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilWall, vigil_wall_free)

/* Every wall, by name. NULL with @error on a database error. */
GPtrArray *vigil_store_list_walls(VigilStore *store, GError **error); /* VigilWall* */
/* NULL with VIGIL_ERROR_NOT_FOUND when there is no wall @name. */
VigilWall *vigil_store_get_wall(VigilStore *store, const char *name, GError **error);
/* VIGIL_ERROR_CONFLICT when a wall @name exists. */
gboolean vigil_store_insert_wall(VigilStore *store, const char *name, const char *body,
                                 gint64 now_us, GError **error);
/* Replaces the body of wall @name and renames it to @new_name (may equal
 * @name). VIGIL_ERROR_NOT_FOUND for an unknown wall, VIGIL_ERROR_CONFLICT
 * when @new_name is taken by another wall. */
gboolean vigil_store_update_wall(VigilStore *store, const char *name, const char *new_name,
                                 const char *body, gint64 now_us, GError **error);
/* VIGIL_ERROR_NOT_FOUND for an unknown wall. */
gboolean vigil_store_delete_wall(VigilStore *store, const char *name, GError **error);

G_END_DECLS
