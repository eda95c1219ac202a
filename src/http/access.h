/* The one enforcement point for who may do what over HTTP: authentication
 * (session cookie, Bearer token, Basic), login rate limiting, CSRF, and the
 * per-camera checks every route calls. The decisions themselves live in
 * auth/permissions.h (pure); this file turns them into replies.
 *
 * How a route uses it (the request has already been authenticated by
 * server.c, or by vigil_http_authenticate for handlers outside /api/v1):
 *
 *   VigilCamera *cam = vigil_camera_manager_lookup(...);
 *   if (!cam) { reply 404 VIGIL_HTTP_NO_SUCH_CAMERA; return; }
 *   if (!vigil_request_require_camera(req, id, VIGIL_RIGHT_PLAYBACK))
 *     return;   // replied 404 (cannot see it) or 403 (sees it, lacks the right)
 *
 * Lists filter with vigil_request_can_see(); admin-only actions call
 * vigil_request_require_admin(). */
#pragma once

#include <glib.h>

#include "auth/permissions.h"
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
 * and NULL returned. For handlers outside server.c's routing (WebSocket,
 * web pages, /metrics): call it first. */
VigilIdentity *vigil_http_authenticate(VigilApp *app, SoupServerMessage *msg);

/* TRUE when the request has an Origin header naming another origin than its
 * Host (a request made by another site's page). */
gboolean vigil_http_origin_is_foreign(SoupServerMessage *msg);

/* Loads @user's role and per-camera rows from the store; NULL when the user
 * does not exist (any more). */
VigilPermissions *vigil_permissions_load(VigilStore *store, const char *user);

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
gboolean vigil_request_require_camera(VigilRequest *req, const char *camera_id,
                                      VigilRight right);

/* TRUE for admins; otherwise replies 403 and returns FALSE. */
gboolean vigil_request_require_admin(VigilRequest *req);

/* --- session and token endpoints (api-session.c) --- */

/* POST /api/v1/session (no authentication needed: it is the login). */
void vigil_api_session_login(VigilApp *app, SoupServerMessage *msg);
/* GET, DELETE /api/v1/session: who am I (+ the CSRF token of a cookie
 * session) / log out. */
void vigil_api_session(VigilRequest *req);
/* /api/v1/tokens, /api/v1/tokens/{id}: the current user's API tokens. */
void vigil_api_tokens(VigilRequest *req);
/* /api/v1/users, /api/v1/users/{name} (api-users.c). */
void vigil_api_users(VigilRequest *req);
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

/* Counts a failed login for @name (may be NULL) and @address, and tells
 * whether either is now blocked: the Retry-After seconds, or 0. */
void vigil_login_failed(const char *name, const char *address);
gint64 vigil_login_retry_after(const char *name, const char *address);
/* Replies 429 with Retry-After. */
void vigil_http_reply_rate_limited(SoupServerMessage *msg, gint64 retry_after_s);

G_END_DECLS
