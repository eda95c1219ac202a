/* A vigil user's permissions as the store holds them: role and per-camera
 * rows, for whoever acts for a user (HTTP requests, MQTT commands). */
#pragma once

#include <glib.h>

#include "auth/permissions.h"
#include "store/store.h"

G_BEGIN_DECLS

/* Loads @user's role and per-camera rows from the store; NULL when the user
 * does not exist (any more). */
VigilPermissions *vigil_permissions_load(VigilStore *store, const char *user);

G_END_DECLS
