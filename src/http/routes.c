/* The route table: every path vigil answers below /api/v1 (and /metrics),
 * with its method, the access it needs and its handler, and the router that
 * uses it. Access is checked here, through http/access.c, before any handler
 * runs; handlers check only what depends on the body (a user changing their
 * own password, probing a camera given by id).
 *
 * How a request is answered:
 * 1. the route is the first row whose pattern matches the path and whose
 *    method is the request's;
 * 2. the request is authenticated (401) unless that route is open, or the
 *    path has only open routes;
 * 3. no pattern matches → 404;
 * 4. what {id} names (camera, recording, event) is looked up and the
 *    route's access checked (404, 403), then its handler runs;
 * 5. with no route for the method, the access of the path's first row is
 *    checked the same way, so who may not use a path (or see its camera)
 *    learns nothing from a wrong method, and then 405 with Allow: the
 *    path's methods in table order (HEAD is answered where the table has a
 *    HEAD row, and not listed). */
#define G_LOG_DOMAIN "vigil-http"

#include "auth/basic.h"
#include "http/access.h"
#include "http/api.h"
#include "http/route.h"

typedef struct {
  const char *method;
  const char *pattern;
  VigilAccess access;
  VigilHandler handler;
} VigilRoute;

/* One row per line, so that a grep for a path shows its method, access and
 * handler together. */
/* clang-format off */
#define OPEN {VIGIL_ACCESS_OPEN, 0}
#define USER {VIGIL_ACCESS_USER, 0}
#define SELF_OR_ADMIN {VIGIL_ACCESS_SELF_OR_ADMIN, 0}
#define ADMIN {VIGIL_ACCESS_ADMIN, 0}
#define WALL_WRITER {VIGIL_ACCESS_WALL_WRITER, 0}
#define CAMERA_CREATOR {VIGIL_ACCESS_CAMERA_CREATOR, 0}
#define CAMERA(rights) {VIGIL_ACCESS_CAMERA, (rights)}
#define RECORDING(rights) {VIGIL_ACCESS_RECORDING, (rights)}
#define EVENT(rights) {VIGIL_ACCESS_EVENT, (rights)}
#define SEE 0
#define VIEW VIGIL_RIGHT_VIEW
#define PLAYBACK VIGIL_RIGHT_PLAYBACK
#define CONTROL VIGIL_RIGHT_CONTROL

/* Rows of one pattern stay together; their order is the order of Allow. */
static const VigilRoute routes[] = {
    {"GET", "/api/v1/health", OPEN, vigil_api_health},
    {"HEAD", "/api/v1/health", OPEN, vigil_api_health},
    {"GET", "/api/v1/system", USER, vigil_api_system},
    {"GET", "/api/v1/settings", USER, vigil_api_settings_get},
    {"PATCH", "/api/v1/settings", ADMIN, vigil_api_settings_patch},
    {"GET", "/api/v1/notify/deliveries", ADMIN, vigil_api_notify_deliveries},
    {"POST", "/api/v1/notify/test", ADMIN, vigil_api_notify_test},
    {"POST", "/api/v1/onvif/discover", ADMIN, vigil_api_onvif_discover},
    {"POST", "/api/v1/onvif/probe", ADMIN, vigil_api_onvif_probe},

    {"GET", "/api/v1/cameras", USER, vigil_api_cameras_list},
    {"POST", "/api/v1/cameras", CAMERA_CREATOR, vigil_api_cameras_create},
    /* Before probe: a camera may be called "probe"; only POST probes. */
    {"GET", "/api/v1/cameras/{id}", CAMERA(SEE), vigil_api_camera_get},
    {"PATCH", "/api/v1/cameras/{id}", CAMERA(CONTROL), vigil_api_camera_patch},
    {"DELETE", "/api/v1/cameras/{id}", CAMERA(CONTROL), vigil_api_camera_delete},
    /* Control on "*", or on the camera the body names: api-probe.c checks. */
    {"POST", "/api/v1/cameras/probe", USER, vigil_api_camera_probe},
    {"GET", "/api/v1/cameras/{id}/live", CAMERA(VIEW), vigil_api_live_ws},
    {"GET", "/api/v1/cameras/{id}/live.ts", CAMERA(VIEW), vigil_api_live_ts},
    {"GET", "/api/v1/cameras/{id}/live.m3u8", CAMERA(VIEW), vigil_api_live_hls_playlist},
    {"HEAD", "/api/v1/cameras/{id}/live.m3u8", CAMERA(VIEW), vigil_api_live_hls_playlist},
    {"GET", "/api/v1/cameras/{id}/live/{segment}", CAMERA(VIEW), vigil_api_live_hls_segment},
    {"HEAD", "/api/v1/cameras/{id}/live/{segment}", CAMERA(VIEW), vigil_api_live_hls_segment},
    {"GET", "/api/v1/cameras/{id}/snapshot.jpg", CAMERA(VIEW), vigil_api_snapshot},
    {"POST", "/api/v1/cameras/{id}/recording", CAMERA(CONTROL), vigil_api_camera_recording},
    {"GET", "/api/v1/cameras/{id}/export.mp4", CAMERA(PLAYBACK), vigil_api_camera_export},
    {"POST", "/api/v1/cameras/{id}/ptz", CAMERA(CONTROL), vigil_api_camera_ptz},
    {"GET", "/api/v1/cameras/{id}/ptz/presets", CAMERA(CONTROL), vigil_api_camera_ptz_presets},

    /* The list holds only recordings of cameras the user may play back. */
    {"GET", "/api/v1/recordings", USER, vigil_api_recordings_list},
    {"GET", "/api/v1/recordings/{id}", RECORDING(PLAYBACK), vigil_api_recording_get},
    {"PATCH", "/api/v1/recordings/{id}", RECORDING(PLAYBACK | CONTROL),
     vigil_api_recording_patch},
    {"DELETE", "/api/v1/recordings/{id}", RECORDING(PLAYBACK | CONTROL),
     vigil_api_recording_delete},
    {"GET", "/api/v1/recordings/{id}/playlist.m3u8", RECORDING(PLAYBACK),
     vigil_api_recording_playlist},
    {"GET", "/api/v1/recordings/{id}/segments/{name}", RECORDING(PLAYBACK),
     vigil_api_recording_segment},
    {"GET", "/api/v1/recordings/{id}/thumbnail.jpg", RECORDING(PLAYBACK),
     vigil_api_recording_thumbnail},
    {"GET", "/api/v1/recordings/{id}/export.mp4", RECORDING(PLAYBACK),
     vigil_api_recording_export},

    /* Lists and the stream hold only events the user may play back. */
    {"GET", "/api/v1/events", USER, vigil_api_events_list},
    {"GET", "/api/v1/events/stream", USER, vigil_api_events_stream},
    {"GET", "/api/v1/events/{id}/thumbnail.jpg", EVENT(PLAYBACK), vigil_api_event_thumbnail},
    {"HEAD", "/api/v1/events/{id}/thumbnail.jpg", EVENT(PLAYBACK), vigil_api_event_thumbnail},

    {"GET", "/api/v1/users", ADMIN, vigil_api_users_list},
    {"POST", "/api/v1/users", ADMIN, vigil_api_users_create},
    {"GET", "/api/v1/users/{name}", ADMIN, vigil_api_user_get},
    /* A user changes their own password here, proving the current one. */
    {"PATCH", "/api/v1/users/{name}", SELF_OR_ADMIN, vigil_api_user_patch},
    {"DELETE", "/api/v1/users/{name}", ADMIN, vigil_api_user_delete},

    {"POST", "/api/v1/session", OPEN, vigil_api_session_login},
    {"GET", "/api/v1/session", USER, vigil_api_session_get},
    {"DELETE", "/api/v1/session", USER, vigil_api_session_delete},
    /* The user's own tokens. */
    {"GET", "/api/v1/tokens", USER, vigil_api_tokens_list},
    {"POST", "/api/v1/tokens", USER, vigil_api_tokens_create},
    {"DELETE", "/api/v1/tokens/{id}", USER, vigil_api_token_delete},

    /* Tiles of cameras or recordings the reader may not use read as denied. */
    {"GET", "/api/v1/walls", USER, vigil_api_walls_list},
    {"POST", "/api/v1/walls", WALL_WRITER, vigil_api_walls_create},
    {"GET", "/api/v1/walls/{name}", USER, vigil_api_wall_get},
    {"PUT", "/api/v1/walls/{name}", WALL_WRITER, vigil_api_wall_put},
    {"DELETE", "/api/v1/walls/{name}", WALL_WRITER, vigil_api_wall_delete},

    /* Metrics cover every camera. */
    {"GET", "/metrics", ADMIN, vigil_api_metrics},
    {"HEAD", "/metrics", ADMIN, vigil_api_metrics},
};
/* clang-format on */

const char *vigil_request_param(VigilRequest *req, const char *name)
{
  return req->params ? g_hash_table_lookup(req->params, name) : NULL;
}

/* The route for @method on @path in *route (NULL: none), and the first row
 * whose pattern matches @path in *first (NULL: none). Returns the parameters
 * of the route's pattern, or else of the first row's. */
static GHashTable *find(const char *method, const char *path, const VigilRoute **route,
                        const VigilRoute **first)
{
  GHashTable *first_params = NULL;
  *route = *first = NULL;
  for (gsize i = 0; i < G_N_ELEMENTS(routes); i++) {
    GHashTable *params = vigil_route_match(routes[i].pattern, path);
    if (!params)
      continue;
    if (g_str_equal(routes[i].method, method)) {
      *route = &routes[i];
      *first = *first ? *first : *route;
      g_clear_pointer(&first_params, g_hash_table_unref);
      return params;
    }
    if (*first) {
      g_hash_table_unref(params);
    } else {
      *first = &routes[i];
      first_params = params;
    }
  }
  return first_params;
}

/* TRUE when every row of @pattern is open. */
static gboolean pattern_is_open(const char *pattern)
{
  for (gsize i = 0; i < G_N_ELEMENTS(routes); i++)
    if (g_str_equal(routes[i].pattern, pattern) && routes[i].access.kind != VIGIL_ACCESS_OPEN)
      return FALSE;
  return TRUE;
}

static void reply_allow(SoupServerMessage *msg, const char *pattern)
{
  g_autoptr(GString) allow = g_string_new(NULL);
  for (gsize i = 0; i < G_N_ELEMENTS(routes); i++) {
    if (g_str_equal(routes[i].pattern, pattern) && !g_str_equal(routes[i].method, "HEAD"))
      g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", routes[i].method);
  }
  vigil_http_reply_method_not_allowed(msg, allow->str);
}

/* A request waiting for its Basic credentials' Argon2id check. */
typedef struct {
  VigilApp *app;
  SoupServerMessage *msg; /* strong ref */
  gchar *path;
  GHashTable *query; /* ref, may be NULL */
  gboolean gone;
} Deferred;

static void deferred_gone(SoupServerMessage *msg, gpointer data)
{
  ((Deferred *)data)->gone = TRUE;
}

static void route_checked(VigilApp *app, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gboolean checked);

static void on_basic_checked(GObject *source, GAsyncResult *result, gpointer data)
{
  Deferred *d = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilUser) user = vigil_auth_basic_finish(result, &error);
  g_signal_handlers_disconnect_by_data(d->msg, d);
  if (!d->gone) {
    soup_server_message_unpause(d->msg);
    if (error)
      vigil_http_reply_error(d->msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "%s; try again",
                             error->message);
    else if (!user)
      vigil_http_reply_wrong_basic(d->msg);
    else /* cached now: authenticates without a hash */
      route_checked(d->app, d->msg, d->path, d->query, TRUE);
  }
  g_object_unref(d->msg);
  g_free(d->path);
  g_clear_pointer(&d->query, g_hash_table_unref);
  g_free(d);
}

/* Checks the request's Basic credentials on the password thread, then routes
 * it again (an Argon2id check takes ~145 ms: the main loop serves everyone
 * else meanwhile). */
static void defer_for_basic(VigilRequest *req, const char *path)
{
  Deferred *d = g_new0(Deferred, 1);
  d->app = req->app;
  d->msg = g_object_ref(req->msg);
  d->path = g_strdup(path);
  d->query = req->query ? g_hash_table_ref(req->query) : NULL;
  g_signal_connect(req->msg, "finished", G_CALLBACK(deferred_gone), d);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(deferred_gone), d);
  soup_server_message_pause(req->msg);
  const char *authorization = soup_message_headers_get_one(
      soup_server_message_get_request_headers(req->msg), "Authorization");
  vigil_auth_basic_async(req->app->store, authorization,
                         soup_server_message_get_remote_host(req->msg), on_basic_checked, d);
}

static void route(VigilRequest *req, const char *path, gboolean checked)
{
  const VigilRoute *route, *first;
  req->params = find(req->method, path, &route, &first);
  gboolean open =
      route ? route->access.kind == VIGIL_ACCESS_OPEN : first && pattern_is_open(first->pattern);
  g_autoptr(VigilIdentity) identity = NULL;
  if (!open && !checked && vigil_http_authenticate_needs_hash(req->app, req->msg)) {
    defer_for_basic(req, path);
    return;
  }
  if (!open) {
    /* Replies 401/403/429 itself. */
    identity = vigil_http_authenticate(req->app, req->msg);
    if (!identity)
      return;
    req->identity = identity;
    req->user = identity->user;
    req->role = identity->role;
  }
  if (!first) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such API path");
    return;
  }
  /* The path's first row decides who learns that a method is wrong. */
  if (!vigil_request_allow(req, route ? route->access : first->access))
    return;
  if (route)
    route->handler(req);
  else
    reply_allow(req->msg, first->pattern);
}

static void route_checked(VigilApp *app, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gboolean checked)
{
  VigilRequest req = {
      .app = app, .msg = msg, .method = soup_server_message_get_method(msg), .query = query};
  route(&req, path, checked);
  g_clear_pointer(&req.params, g_hash_table_unref);
  g_clear_pointer(&req.recording, vigil_recording_free);
  g_clear_pointer(&req.event, vigil_event_free);
}

void vigil_http_route(VigilApp *app, SoupServerMessage *msg, const char *path, GHashTable *query)
{
  route_checked(app, msg, path, query, FALSE);
}
