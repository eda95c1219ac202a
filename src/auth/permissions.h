/* Per-camera permissions: the one place that decides what a user may do with
 * a camera. Pure (no I/O): the HTTP layer loads a user's role and rows from
 * the store into a VigilPermissions and asks it; see http/access.h for the
 * checks routes call.
 *
 * Rules (docs/security.md):
 * - admin: every right on every camera (rows are ignored).
 * - operator, viewer: the union of the row for the camera id and the row for
 *   "*" (all cameras). No row, no right.
 * - viewer: never holds control, whatever a row says (the users API refuses
 *   to store it; this check is the backstop).
 * - A camera is visible when the user holds at least one right on it; an
 *   invisible camera answers 404 so its id does not leak. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_RIGHT_VIEW = 1 << 0,     /* live, snapshot, status */
  VIGIL_RIGHT_PLAYBACK = 1 << 1, /* recordings, segments, exports, events */
  VIGIL_RIGHT_CONTROL = 1 << 2,  /* manual recording, camera settings */
} VigilRight;

/* A set of VigilRight bits. */
typedef guint VigilRights;
#define VIGIL_RIGHTS_ALL (VIGIL_RIGHT_VIEW | VIGIL_RIGHT_PLAYBACK | VIGIL_RIGHT_CONTROL)

typedef enum {
  VIGIL_ROLE_INVALID,
  VIGIL_ROLE_VIEWER,
  VIGIL_ROLE_OPERATOR,
  VIGIL_ROLE_ADMIN,
} VigilRole;

/* "admin", "operator", "viewer"; VIGIL_ROLE_INVALID for anything else. */
VigilRole vigil_role_from_string(const char *role);

/* "view", "playback", "control" for one right; NULL otherwise. */
const char *vigil_right_to_string(VigilRight right);
/* 0 when @name is not a right. */
VigilRight vigil_right_from_string(const char *name);

/* The stored form: "view,playback" (fixed order, no spaces; "" for none). */
gchar *vigil_rights_to_string(VigilRights rights);
/* Parses the stored form; unknown names are skipped (a downgrade must not
 * fail closed in a confusing way). */
VigilRights vigil_rights_from_string(const char *text);

/* The rights a role may hold at most (viewer: view + playback). */
VigilRights vigil_role_max_rights(VigilRole role);
/* The rows a new user gets when the users API is given no "cameras" map:
 * operator {"*": view, playback, control}, viewer {"*": view}, admin none
 * (not needed). */
VigilRights vigil_role_default_rights(VigilRole role);

/* The camera key meaning every camera. */
#define VIGIL_ALL_CAMERAS "*"

typedef struct _VigilPermissions VigilPermissions;

VigilPermissions *vigil_permissions_new(VigilRole role);
VigilPermissions *vigil_permissions_copy(const VigilPermissions *perms);
void vigil_permissions_free(VigilPermissions *perms);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPermissions, vigil_permissions_free)

/* Sets the rights of @camera (a camera id or VIGIL_ALL_CAMERAS), replacing
 * what was there; 0 removes the row. */
void vigil_permissions_set(VigilPermissions *perms, const char *camera, VigilRights rights);

VigilRole vigil_permissions_get_role(const VigilPermissions *perms);
gboolean vigil_permissions_is_admin(const VigilPermissions *perms);

/* The effective rights on camera @camera_id (never "*" itself). */
VigilRights vigil_permissions_rights(const VigilPermissions *perms, const char *camera_id);
/* Holds at least one right on the camera. */
gboolean vigil_permissions_can_see(const VigilPermissions *perms, const char *camera_id);
/* Holds every bit of @rights on the camera. */
gboolean vigil_permissions_has(const VigilPermissions *perms, const char *camera_id,
                               VigilRights rights);
/* Holds @rights on every camera, present and future (admin, or a "*" row):
 * what creating a camera needs (control). */
gboolean vigil_permissions_has_all_cameras(const VigilPermissions *perms, VigilRights rights);

/* The camera ids on which the user holds every bit of @rights, for filtering
 * lists in SQL: NULL when that is every camera (admin, or a "*" row), else a
 * NULL-terminated array, empty when none. Free with g_strfreev. */
gchar **vigil_permissions_cameras_with(const VigilPermissions *perms, VigilRights rights);
/* The stored rows (camera key -> VigilRights as GUINT_TO_POINTER), for the
 * users API; borrowed. */
GHashTable *vigil_permissions_rows(const VigilPermissions *perms);

G_END_DECLS
