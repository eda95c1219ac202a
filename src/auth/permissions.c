/* Per-camera permissions: role + rows -> effective rights. Pure. */
#include "auth/permissions.h"

struct _VigilPermissions {
  VigilRole role;
  GHashTable *rows; /* camera key (gchar*) -> GUINT_TO_POINTER(VigilRights) */
};

static const struct {
  VigilRight right;
  const char *name;
} right_names[] = {
    {VIGIL_RIGHT_VIEW, "view"},
    {VIGIL_RIGHT_PLAYBACK, "playback"},
    {VIGIL_RIGHT_CONTROL, "control"},
};

VigilRole vigil_role_from_string(const char *role)
{
  if (!role)
    return VIGIL_ROLE_INVALID;
  if (g_str_equal(role, "admin"))
    return VIGIL_ROLE_ADMIN;
  if (g_str_equal(role, "operator"))
    return VIGIL_ROLE_OPERATOR;
  if (g_str_equal(role, "viewer"))
    return VIGIL_ROLE_VIEWER;
  return VIGIL_ROLE_INVALID;
}

const char *vigil_right_to_string(VigilRight right)
{
  for (guint i = 0; i < G_N_ELEMENTS(right_names); i++)
    if (right_names[i].right == right)
      return right_names[i].name;
  return NULL;
}

VigilRight vigil_right_from_string(const char *name)
{
  for (guint i = 0; name && i < G_N_ELEMENTS(right_names); i++)
    if (g_str_equal(right_names[i].name, name))
      return right_names[i].right;
  return 0;
}

gchar *vigil_rights_to_string(VigilRights rights)
{
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(right_names); i++) {
    if (!(rights & right_names[i].right))
      continue;
    if (s->len)
      g_string_append_c(s, ',');
    g_string_append(s, right_names[i].name);
  }
  return g_string_free(s, FALSE);
}

VigilRights vigil_rights_from_string(const char *text)
{
  VigilRights rights = 0;
  if (!text)
    return 0;
  g_auto(GStrv) names = g_strsplit(text, ",", -1);
  for (guint i = 0; names[i]; i++)
    rights |= vigil_right_from_string(g_strstrip(names[i]));
  return rights;
}

VigilRights vigil_role_max_rights(VigilRole role)
{
  switch (role) {
  case VIGIL_ROLE_ADMIN:
  case VIGIL_ROLE_OPERATOR:
    return VIGIL_RIGHTS_ALL;
  case VIGIL_ROLE_VIEWER:
    return VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK;
  case VIGIL_ROLE_INVALID:
    break;
  }
  return 0;
}

VigilRights vigil_role_default_rights(VigilRole role)
{
  switch (role) {
  case VIGIL_ROLE_OPERATOR:
    return VIGIL_RIGHTS_ALL;
  case VIGIL_ROLE_VIEWER:
    return VIGIL_RIGHT_VIEW;
  case VIGIL_ROLE_ADMIN:
  case VIGIL_ROLE_INVALID:
    break;
  }
  return 0;
}

VigilPermissions *vigil_permissions_new(VigilRole role)
{
  VigilPermissions *p = g_new0(VigilPermissions, 1);
  p->role = role;
  p->rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return p;
}

VigilPermissions *vigil_permissions_copy(const VigilPermissions *src)
{
  VigilPermissions *p = vigil_permissions_new(src->role);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, src->rows);
  while (g_hash_table_iter_next(&it, &key, &value))
    g_hash_table_insert(p->rows, g_strdup(key), value);
  return p;
}

void vigil_permissions_free(VigilPermissions *p)
{
  if (!p)
    return;
  g_hash_table_unref(p->rows);
  g_free(p);
}

void vigil_permissions_set(VigilPermissions *p, const char *camera, VigilRights rights)
{
  g_return_if_fail(p != NULL && camera != NULL);
  rights &= VIGIL_RIGHTS_ALL;
  if (rights)
    g_hash_table_replace(p->rows, g_strdup(camera), GUINT_TO_POINTER(rights));
  else
    g_hash_table_remove(p->rows, camera);
}

VigilRole vigil_permissions_get_role(const VigilPermissions *p)
{
  return p ? p->role : VIGIL_ROLE_INVALID;
}

gboolean vigil_permissions_is_admin(const VigilPermissions *p)
{
  return p && p->role == VIGIL_ROLE_ADMIN;
}

VigilRights vigil_permissions_rights(const VigilPermissions *p, const char *camera_id)
{
  /* No permissions, no camera id, or the wildcard key used as an id: nothing. */
  if (!p || !camera_id || g_str_equal(camera_id, VIGIL_ALL_CAMERAS))
    return 0;
  if (p->role == VIGIL_ROLE_ADMIN)
    return VIGIL_RIGHTS_ALL;
  VigilRights rights = GPOINTER_TO_UINT(g_hash_table_lookup(p->rows, camera_id)) |
                       GPOINTER_TO_UINT(g_hash_table_lookup(p->rows, VIGIL_ALL_CAMERAS));
  return rights & vigil_role_max_rights(p->role);
}

gboolean vigil_permissions_can_see(const VigilPermissions *p, const char *camera_id)
{
  return vigil_permissions_rights(p, camera_id) != 0;
}

gboolean vigil_permissions_has(const VigilPermissions *p, const char *camera_id, VigilRights rights)
{
  if (rights == 0)
    return vigil_permissions_can_see(p, camera_id);
  return (vigil_permissions_rights(p, camera_id) & rights) == rights;
}

gboolean vigil_permissions_has_all_cameras(const VigilPermissions *p, VigilRights rights)
{
  if (!p)
    return FALSE;
  if (p->role == VIGIL_ROLE_ADMIN)
    return TRUE;
  VigilRights all = GPOINTER_TO_UINT(g_hash_table_lookup(p->rows, VIGIL_ALL_CAMERAS)) &
                    vigil_role_max_rights(p->role);
  return rights != 0 && (all & rights) == rights;
}

gchar **vigil_permissions_cameras_with(const VigilPermissions *p, VigilRights rights)
{
  if (vigil_permissions_has_all_cameras(p, rights))
    return NULL;
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new();
  if (p) {
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, p->rows);
    while (g_hash_table_iter_next(&iter, &key, NULL))
      if (!g_str_equal(key, VIGIL_ALL_CAMERAS) && vigil_permissions_has(p, key, rights))
        g_strv_builder_add(ids, key);
  }
  return g_strv_builder_end(ids);
}

GHashTable *vigil_permissions_rows(const VigilPermissions *p)
{
  return p->rows;
}
