/* Authentication (cookie session, Bearer token, Basic), login rate limiting,
 * CSRF and the per-camera checks routes call. See access.h. */
#define G_LOG_DOMAIN "vigil-http"

#include "http/access.h"

#include <stdlib.h>
#include <string.h>

#include "auth/basic.h"
#include "auth/ratelimit.h"
#include "auth/secret.h"
#include "core/error.h"
#include "core/util.h"

/* Sessions: idle and absolute lifetimes (docs/security.md). */
#define SESSION_IDLE_DEFAULT_S (24 * 3600)
#define SESSION_MAX_DEFAULT_S  (30 * 24 * 3600)

static gint64 env_seconds(const char *name, gint64 fallback)
{
  const char *text = g_getenv(name);
  if (!text || !*text)
    return fallback;
  gchar *end = NULL;
  gint64 v = g_ascii_strtoll(text, &end, 10);
  if (*end || v <= 0) {
    g_warning("%s must be a positive number of seconds; ignored", name);
    return fallback;
  }
  return v;
}

gint64 vigil_session_idle_us(void)
{
  static gint64 us;
  if (!us)
    us = env_seconds("VIGIL_SESSION_IDLE_S", SESSION_IDLE_DEFAULT_S) * G_USEC_PER_SEC;
  return us;
}

gint64 vigil_session_max_us(void)
{
  static gint64 us;
  if (!us)
    us = env_seconds("VIGIL_SESSION_MAX_S", SESSION_MAX_DEFAULT_S) * G_USEC_PER_SEC;
  return us;
}

/* --- rate limiting (the limiter itself: auth/ratelimit.h) --- */

void vigil_http_reply_rate_limited(SoupServerMessage *msg, gint64 retry_after_s)
{
  g_autofree gchar *value = g_strdup_printf("%" G_GINT64_FORMAT, retry_after_s);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After", value);
  vigil_http_reply_error(msg, 429 /* Too Many Requests: not in libsoup 3.2 */,
                         "too many failed logins; try again in %" G_GINT64_FORMAT " s",
                         retry_after_s);
}

/* --- identities --- */

void vigil_identity_free(VigilIdentity *id)
{
  if (!id)
    return;
  g_free(id->user);
  g_free(id->role);
  vigil_permissions_free(id->perms);
  if (id->session_token) {
    memset(id->session_token, 0, strlen(id->session_token));
    g_free(id->session_token);
  }
  g_free(id);
}

static VigilIdentity *identity_new(VigilStore *store, const char *user, VigilAuthMethod method)
{
  g_autoptr(VigilUser) row = vigil_store_get_user(store, user);
  if (!row)
    return NULL;
  VigilIdentity *id = g_new0(VigilIdentity, 1);
  id->user = g_strdup(row->name);
  id->role = g_strdup(row->role);
  id->method = method;
  id->perms = vigil_permissions_load(store, user);
  if (!id->perms)
    id->perms = vigil_permissions_new(VIGIL_ROLE_INVALID);
  return id;
}

/* The value of cookie @name in the request, or NULL. */
static gchar *request_cookie(SoupServerMessage *msg, const char *name)
{
  const char *header =
      soup_message_headers_get_list(soup_server_message_get_request_headers(msg), "Cookie");
  if (!header || strlen(header) > 8192)
    return NULL;
  gchar *found = NULL;
  g_auto(GStrv) parts = g_strsplit(header, ";", 64);
  for (guint i = 0; parts[i] && !found; i++) {
    const char *p = parts[i];
    while (*p == ' ' || *p == ',')
      p++;
    gsize n = strlen(name);
    if (strncmp(p, name, n) == 0 && p[n] == '=')
      found = g_strdup(g_strstrip((gchar *)p + n + 1));
  }
  return found;
}

static gboolean is_state_change(const char *method)
{
  return g_str_equal(method, "POST") || g_str_equal(method, "PUT") ||
         g_str_equal(method, "PATCH") || g_str_equal(method, "DELETE");
}

/* Browsers send Origin on cross-site POST/PUT/PATCH/DELETE; scripts usually
 * send none. A state change from another site is refused whatever the
 * credentials: browsers also replay cached Basic credentials, which no CSRF
 * token protects. */
gboolean vigil_http_origin_is_foreign(SoupServerMessage *msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  const char *origin = soup_message_headers_get_one(h, "Origin");
  if (!origin)
    return FALSE;
  const char *host = soup_message_headers_get_one(h, "Host");
  if (!host || g_str_equal(origin, "null"))
    return TRUE;
  const char *sep = strstr(origin, "://");
  return !sep || g_ascii_strcasecmp(sep + 3, host) != 0;
}

/* The web UI's fetches carry "X-Vigil-UI: 1": their 401 must not pop the
 * browser's Basic dialog (the page sends the user to /login instead). */
static void reply_unauthorized(SoupServerMessage *msg, const char *message)
{
  const char *ui =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "X-Vigil-UI");
  if (g_strcmp0(ui, "1") != 0)
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Basic realm=\"vigil\", charset=\"UTF-8\"");
  vigil_http_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "%s", message);
}

static void reply_wrong_credentials(SoupServerMessage *msg, const char *name, const char *address,
                                    gboolean bearer)
{
  vigil_login_failed(name, address);
  /* Not the name: people type passwords into the name field. */
  g_info("failed %s authentication from %s", bearer ? "token" : "password",
         address ? address : "?");
  reply_unauthorized(msg, "wrong credentials");
}

void vigil_http_reply_wrong_basic(SoupServerMessage *msg)
{
  const char *address = soup_server_message_get_remote_host(msg);
  g_info("failed password authentication from %s", address ? address : "?");
  reply_unauthorized(msg, "wrong credentials");
}

static VigilIdentity *authenticate_header(VigilApp *app, SoupServerMessage *msg,
                                          const char *authorization, const char *address)
{
  gboolean bearer = g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0;
  g_autofree gchar *name = bearer ? NULL : vigil_auth_basic_name(authorization);
  gint64 wait = vigil_login_retry_after(name, address);
  if (wait > 0) {
    vigil_http_reply_rate_limited(msg, wait);
    return NULL;
  }
  VigilIdentity *id = NULL;
  if (bearer) {
    const char *token = authorization + 7;
    while (*token == ' ')
      token++;
    if (*token && strlen(token) <= 256) {
      g_autofree gchar *hash = vigil_secret_sha256(token);
      g_autofree gchar *user = vigil_store_lookup_token(app->store, hash, g_get_real_time());
      if (user)
        id = identity_new(app->store, user, VIGIL_AUTH_BEARER);
    }
  } else {
    g_autoptr(VigilUser) user = vigil_auth_basic(app->store, authorization);
    if (user)
      id = identity_new(app->store, user->name, VIGIL_AUTH_BASIC);
  }
  if (!id)
    reply_wrong_credentials(msg, name, address, bearer);
  return id;
}

static VigilIdentity *authenticate_cookie(VigilApp *app, SoupServerMessage *msg)
{
  g_autofree gchar *token = request_cookie(msg, VIGIL_SESSION_COOKIE);
  if (!token || !*token || strlen(token) > 256)
    return NULL;
  gint64 now = g_get_real_time();
  gint64 idle = vigil_session_idle_us();
  g_autofree gchar *hash = vigil_secret_sha256(token);
  /* Touch last_used at most every minute, or sooner for short test lifetimes. */
  gint64 touch = MIN(60 * G_USEC_PER_SEC, idle / 4);
  g_autofree gchar *user = vigil_store_lookup_session(
      app->store, hash, now - idle, now - vigil_session_max_us(), now - touch, now);
  if (!user)
    return NULL;
  VigilIdentity *id = identity_new(app->store, user, VIGIL_AUTH_SESSION);
  if (id)
    id->session_token = g_steal_pointer(&token);
  return id;
}

VigilIdentity *vigil_http_identify_session(VigilApp *app, SoupServerMessage *msg)
{
  return authenticate_cookie(app, msg);
}

/* A state change or WebSocket handshake from another site's page. */
static gboolean is_cross_site(SoupServerMessage *msg)
{
  const char *method = soup_server_message_get_method(msg);
  /* WebSocket handshakes too: a foreign page opening the live socket with the
   * browser's cached credentials is cross-site WebSocket hijacking. */
  const char *upgrade =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Upgrade");
  gboolean websocket = upgrade && g_ascii_strcasecmp(upgrade, "websocket") == 0;
  return (is_state_change(method) || websocket) && vigil_http_origin_is_foreign(msg);
}

gboolean vigil_http_authenticate_needs_hash(VigilApp *app, SoupServerMessage *msg)
{
  const char *authorization =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  if (!authorization || g_ascii_strncasecmp(authorization, "Basic ", 6) != 0 || is_cross_site(msg))
    return FALSE;
  g_autofree gchar *name = vigil_auth_basic_name(authorization);
  if (vigil_login_retry_after(name, soup_server_message_get_remote_host(msg)) > 0)
    return FALSE;
  return !vigil_auth_basic_is_cached(app->store, authorization);
}

VigilIdentity *vigil_http_authenticate(VigilApp *app, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  const char *method = soup_server_message_get_method(msg);
  const char *address = soup_server_message_get_remote_host(msg);
  const char *authorization = soup_message_headers_get_one(headers, "Authorization");

  if (is_cross_site(msg)) {
    vigil_http_reply_error(msg, SOUP_STATUS_FORBIDDEN,
                           "cross-site request refused (Origin does not match Host)");
    return NULL;
  }
  g_autoptr(VigilIdentity) id = NULL;
  if (authorization) {
    /* Explicit credentials win over a cookie. */
    id = authenticate_header(app, msg, authorization, address);
    if (!id)
      return NULL;
  } else {
    id = authenticate_cookie(app, msg);
    if (!id) {
      reply_unauthorized(msg, "authentication required");
      return NULL;
    }
    if (is_state_change(method)) {
      const char *given = soup_message_headers_get_one(headers, "X-CSRF-Token");
      g_autofree gchar *expected = vigil_secret_csrf_token(id->session_token);
      if (!vigil_secret_equal(given, expected)) {
        vigil_http_reply_error(msg, SOUP_STATUS_FORBIDDEN, "missing or wrong X-CSRF-Token header");
        return NULL;
      }
    }
  }
  return g_steal_pointer(&id);
}

/* --- checks --- */

static VigilPermissions *perms_of(VigilRequest *req)
{
  return req->identity ? req->identity->perms : NULL;
}

gboolean vigil_request_can_see(VigilRequest *req, const char *camera_id)
{
  return vigil_permissions_can_see(perms_of(req), camera_id);
}

gboolean vigil_request_can(VigilRequest *req, const char *camera_id, VigilRight right)
{
  return vigil_permissions_has(perms_of(req), camera_id, right);
}

gchar **vigil_request_cameras_with(VigilRequest *req, VigilRight right)
{
  return vigil_permissions_cameras_with(perms_of(req), right);
}

gboolean vigil_request_is_admin(VigilRequest *req)
{
  return vigil_permissions_is_admin(perms_of(req));
}

gboolean vigil_request_require_camera(VigilRequest *req, const char *camera_id, VigilRight right)
{
  if (!vigil_request_can_see(req, camera_id)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, VIGIL_HTTP_NO_SUCH_CAMERA);
    return FALSE;
  }
  if (!vigil_request_can(req, camera_id, right)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                           "you do not have the %s right on this camera",
                           vigil_right_to_string(right) ? vigil_right_to_string(right) : "?");
    return FALSE;
  }
  return TRUE;
}

gboolean vigil_request_require_admin(VigilRequest *req)
{
  if (vigil_request_is_admin(req))
    return TRUE;
  vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN, "only an admin may do this");
  return FALSE;
}

/* --- route access --- */

/* A positive decimal id of at most 15 digits, nothing else. */
static gboolean parse_id(const char *text, gint64 *id)
{
  guint64 v = 0;
  if (!text || strlen(text) > 15 || !g_ascii_isdigit(text[0]) ||
      !g_ascii_string_to_unsigned(text, 10, 1, G_MAXINT64, &v, NULL))
    return FALSE;
  *id = (gint64)v;
  return TRUE;
}

static gboolean resolve_camera(VigilRequest *req, const char *id)
{
  req->camera = vigil_slug_is_valid(id) ? vigil_camera_manager_lookup(req->app->cameras, id) : NULL;
  /* A camera this user may not see is answered exactly like a missing one. */
  if (req->camera && vigil_request_can_see(req, id))
    return TRUE;
  vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, VIGIL_HTTP_NO_SUCH_CAMERA);
  return FALSE;
}

static gboolean resolve_recording(VigilRequest *req, const char *id_text)
{
  gint64 id;
  g_autoptr(GError) error = NULL;
  if (parse_id(id_text, &id))
    req->recording = vigil_store_get_recording(req->app->store, id, &error);
  if (req->recording && vigil_request_can_see(req, req->recording->camera))
    return TRUE;
  if (error && !g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND))
    vigil_http_reply_gerror(req->msg, error);
  else
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such recording");
  return FALSE;
}

static gboolean resolve_event(VigilRequest *req, const char *id_text)
{
  guint64 id = 0;
  if (g_ascii_string_to_unsigned(id_text, 10, 1, G_MAXINT64, &id, NULL))
    req->event = vigil_store_get_event(req->app->store, (gint64)id, NULL);
  if (req->event && req->event->camera && vigil_request_can_see(req, req->event->camera))
    return TRUE;
  vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such event");
  return FALSE;
}

gboolean vigil_request_resolve(VigilRequest *req, VigilAccessKind kind)
{
  const char *id = vigil_request_param(req, "id");
  switch (kind) {
  case VIGIL_ACCESS_CAMERA:
    return req->camera || resolve_camera(req, id);
  case VIGIL_ACCESS_RECORDING:
    return req->recording || resolve_recording(req, id);
  case VIGIL_ACCESS_EVENT:
    return req->event || resolve_event(req, id);
  default:
    return TRUE;
  }
}

/* Recordings have their own words for the missing rights. */
static gboolean allow_recording(VigilRequest *req, VigilRights rights)
{
  const char *camera = req->recording->camera;
  if ((rights & VIGIL_RIGHT_PLAYBACK) && !vigil_request_can(req, camera, VIGIL_RIGHT_PLAYBACK)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                           "you may not play back recordings of this camera");
    return FALSE;
  }
  if (!vigil_request_can(req, camera, rights)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                           "you may not change recordings of this camera");
    return FALSE;
  }
  return TRUE;
}

/* Each right of @rights in turn, so the reply names the first one missing. */
static gboolean allow_camera(VigilRequest *req, const char *camera, VigilRights rights)
{
  if (!rights)
    return vigil_request_require_camera(req, camera, 0);
  for (VigilRight r = VIGIL_RIGHT_VIEW; r <= VIGIL_RIGHT_CONTROL; r <<= 1)
    if ((rights & r) && !vigil_request_require_camera(req, camera, r))
      return FALSE;
  return TRUE;
}

static gboolean allow_role(VigilRequest *req, gboolean ok, const char *message)
{
  if (!ok)
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN, "%s", message);
  return ok;
}

gboolean vigil_request_allow(VigilRequest *req, VigilAccess access)
{
  if (!vigil_request_resolve(req, access.kind))
    return FALSE;
  switch (access.kind) {
  case VIGIL_ACCESS_OPEN:
  case VIGIL_ACCESS_USER:
    return TRUE;
  case VIGIL_ACCESS_SELF_OR_ADMIN:
    return g_strcmp0(vigil_request_param(req, "name"), req->user) == 0 ||
           vigil_request_require_admin(req);
  case VIGIL_ACCESS_WALL_WRITER:
    return allow_role(req,
                      g_strcmp0(req->role, "admin") == 0 || g_strcmp0(req->role, "operator") == 0,
                      "saving walls needs the admin or operator role");
  case VIGIL_ACCESS_CAMERA_CREATOR:
    return allow_role(req, vigil_permissions_has_all_cameras(perms_of(req), VIGIL_RIGHT_CONTROL),
                      "adding cameras needs the control right on all cameras (\"*\")");
  case VIGIL_ACCESS_ADMIN:
    return vigil_request_require_admin(req);
  case VIGIL_ACCESS_CAMERA:
    return allow_camera(req, vigil_camera_get_id(req->camera), access.rights);
  case VIGIL_ACCESS_RECORDING:
    return allow_recording(req, access.rights);
  case VIGIL_ACCESS_EVENT:
    return allow_camera(req, req->event->camera, access.rights);
  }
  return FALSE;
}
