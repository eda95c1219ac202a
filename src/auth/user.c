/* A user's permissions as the store holds them (see auth/user.h). */
#include "auth/user.h"

VigilPermissions *vigil_permissions_load(VigilStore *store, const char *name)
{
  g_autoptr(VigilUser) user = vigil_store_get_user(store, name);
  if (!user)
    return NULL;
  VigilPermissions *perms = vigil_permissions_new(vigil_role_from_string(user->role));
  g_autoptr(GHashTable) rows = vigil_store_get_user_cameras(store, name);
  if (rows) {
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, rows);
    while (g_hash_table_iter_next(&it, &key, &value))
      vigil_permissions_set(perms, key, vigil_rights_from_string(value));
  }
  return perms;
}
