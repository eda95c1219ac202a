/* The one enforcement point for who may do what over HTTP: authentication
 * (session cookie, Bearer token, Basic), login rate limiting, CSRF, and the
 * access each route of the table in routes.c declares (VigilAccess), which
 * the router checks before any handler runs. The decisions themselves live
 * in auth/permissions.h (pure); this file turns them into replies.
 *
 * Handlers only filter what they list (vigil_request_can_see(),
 * vigil_request_cameras_with()) and check what depends on the body (probe a
 * camera given by id, a user's own password change). */
#pragma once

#include <glib.h>

#include "auth/permissions.h"
#include "auth/ratelimit.h"
#include "auth/user.h"
#include "http/http.h"

G_BEGIN_DECLS

/* The one message for "no such camera" and "a camera you may not see", so the
 * two cannot be told apart. */
#define VIGIL_HTTP_NO_SUCH_CAMERA "no such camera"

/* The session cookie's name (SPEC). */
#define VIGIL_SESSION_COOKIE "vigil_session"

typedef enum {
  VIGIL_AUTH_BASIC,
  VIGIL_AUTH_SESSION, /* cookie: state changes need X-CSRF-Token */
  VIGIL_AUTH_BEARER,  /* API token */
} VigilAuthMethod;

/* Who is asking, and how they proved it. */
struct _VigilIdentity {
  gchar *user;
  gchar *role;
  VigilAuthMethod method;
  VigilPermissions *perms;
  gchar *session_token; /* VIGIL_AUTH_SESSION only: the cookie value (secret) */
};
typedef struct _VigilIdentity VigilIdentity;

void vigil_identity_free(VigilIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilIdentity, vigil_identity_free)

/* Authenticates @msg: "Authorization: Bearer TOKEN", "Authorization: Basic
 * ...", or else the vigil_session cookie. Rate-limited logins answer 429 with
 * Retry-After; missing or wrong credentials 401; a cookie-authenticated POST,
 * PUT, PATCH or DELETE without the right X-CSRF-Token, or any state change or
 * WebSocket handshake whose Origin header names another site, 403. On failure the reply is set
 * and NULL returned. The router calls it for every route that is not open. */
VigilIdentity *vigil_http_authenticate(VigilApp *app, SoupServerMessage *msg);

/* The user of @msg's session cookie, or NULL; never replies. For what a
 * page served to anyone may add for a logged-in user (page-hints.c). */
VigilIdentity *vigil_http_identify_session(VigilApp *app, SoupServerMessage *msg);

/* TRUE when vigil_http_authenticate(@msg) would check a password with
 * Argon2id: Basic credentials not in the cache, from an allowed origin and
 * not rate-limited. The router then checks them off the main loop first
 * (vigil_auth_basic_async) and authenticates once they are cached, or
 * answers with vigil_http_reply_wrong_basic() when they are wrong. */
gboolean vigil_http_authenticate_needs_hash(VigilApp *app, SoupServerMessage *msg);

/* The 401 of Basic credentials that vigil_auth_basic_async found wrong
 * (which counted the failure). */
void vigil_http_reply_wrong_basic(SoupServerMessage *msg);

/* TRUE when the request has an Origin header naming another origin than its
 * Host (a request made by another site's page). */
gboolean vigil_http_origin_is_foreign(SoupServerMessage *msg);

/* Pure checks on the request's identity (no reply). */
gboolean vigil_request_can_see(VigilRequest *req, const char *camera_id);
gboolean vigil_request_can(VigilRequest *req, const char *camera_id, VigilRight right);
/* vigil_permissions_cameras_with() for the request's user: NULL = all cameras. */
gchar **vigil_request_cameras_with(VigilRequest *req, VigilRight right);
gboolean vigil_request_is_admin(VigilRequest *req);

/* TRUE when the user holds @right on @camera_id. Otherwise replies 404
 * VIGIL_HTTP_NO_SUCH_CAMERA when the user holds no right on it at all (the id
 * must not leak), or 403 when they see it but lack @right, and returns FALSE.
 * Does not check that the camera exists: do that first with the same 404. */
gboolean vigil_request_require_camera(VigilRequest *req, const char *camera_id, VigilRight right);

/* TRUE for admins; otherwise replies 403 and returns FALSE. */
gboolean vigil_request_require_admin(VigilRequest *req);

/* --- route access (the route table in routes.c) --- */

/* What a route needs (the access column of routes.c). */
typedef enum {
  VIGIL_ACCESS_OPEN,           /* nothing: no login */
  VIGIL_ACCESS_USER,           /* any logged-in user */
  VIGIL_ACCESS_SELF_OR_ADMIN,  /* {name} is the user, or an admin */
  VIGIL_ACCESS_WALL_WRITER,    /* the admin or operator role */
  VIGIL_ACCESS_CAMERA_CREATOR, /* control on all cameras ("*") */
  VIGIL_ACCESS_ADMIN,
  VIGIL_ACCESS_CAMERA,    /* rights on camera {id} (0: may see it) */
  VIGIL_ACCESS_RECORDING, /* rights on the camera of recording {id} */
  VIGIL_ACCESS_EVENT,     /* rights on the camera of event {id} */
} VigilAccessKind;

typedef struct {
  VigilAccessKind kind;
  VigilRights rights; /* camera, recording and event kinds */
} VigilAccess;

/* For the camera, recording and event kinds: finds what {id} names into
 * req->camera, req->recording or req->event, and replies 404 (the same as
 * for a missing one when the user may not see it) and returns FALSE when
 * there is none. TRUE at once for the other kinds. */
gboolean vigil_request_resolve(VigilRequest *req, VigilAccessKind kind);

/* TRUE when the (authenticated, resolved) request has @access; otherwise
 * replies 403, or 404 where the answer must not tell that the thing exists,
 * and returns FALSE. */
gboolean vigil_request_allow(VigilRequest *req, VigilAccess access);

/* --- users (api-users.c) --- */

/* The API's user object {"name", "role", "cameras", "created"} (never the
 * password hash); NULL for an unknown user. */
JsonNode *vigil_user_json(VigilStore *store, const char *name);
/* Checks a POST (@creating) or PATCH /api/v1/users body: its members, the
 * name, password length, role and "cameras" (keys, rights, and the ceiling of
 * the new role or else @current_role). Fills what the body has: the strings
 * point into @body; @cameras gets camera key -> stored rights string. */
gboolean vigil_user_body_parse(JsonNode *body, gboolean creating, const char *current_role,
                               const char **name, const char **password, const char **role,
                               GHashTable **cameras, GError **error);

/* Settings of the auth layer, read once from the environment (test knobs,
 * docs/security.md): VIGIL_SESSION_IDLE_S, VIGIL_SESSION_MAX_S. */
gint64 vigil_session_idle_us(void);
gint64 vigil_session_max_us(void);

/* Replies 429 with Retry-After. */
void vigil_http_reply_rate_limited(SoupServerMessage *msg, gint64 retry_after_s);

G_END_DECLS
