/* POST /api/v1/onvif/probe (admin): {"address", "username", "password"} →
 * the device's identity, its media profiles with their RTSP URIs, and the
 * largest and smallest profile's URI as "source" and "sub_source", ready for
 * a camera (docs/onvif.md). The SOAP exchange runs on the main loop through
 * libsoup's async API while the request waits paused. The password is never
 * logged.
 * POST /api/v1/onvif/discover (admin): the devices that answer a
 * WS-Discovery Probe within a few seconds, each with the camera already
 * made from it. */
#define G_LOG_DOMAIN "vigil-http"

#include "core/json.h"
#include "http/access.h"
#include "http/api.h"
#include "onvif/onvif.h"

/* Each probe is a handful of HTTP requests to one device. */
#define ONVIF_MAX_ACTIVE 4

static guint active_probes;

typedef struct {
  SoupServerMessage *msg; /* strong ref */
  GCancellable *cancellable;
} OnvifProbe;

static void on_gone(SoupServerMessage *msg, gpointer user_data)
{
  g_cancellable_cancel(((OnvifProbe *)user_data)->cancellable);
}

static JsonNode *device_json(const VigilOnvifDevice *d)
{
  const VigilOnvifProfile *big = NULL, *small = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string_or_null(b, "manufacturer", d->manufacturer);
  vigil_json_add_string_or_null(b, "model", d->model);
  vigil_json_add_string_or_null(b, "firmware", d->firmware);
  vigil_json_add_bool(b, "ptz", d->ptz_address != NULL);
  vigil_json_add_string(b, "media_service", d->media2 ? "media2" : "media");
  vigil_json_begin_array(b, "profiles");
  for (guint i = 0; i < d->profiles->len; i++) {
    const VigilOnvifProfile *p = g_ptr_array_index(d->profiles, i);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "token", p->token);
    vigil_json_add_string(b, "name", p->name);
    vigil_json_add_string(b, "codec", p->codec);
    vigil_json_add_int(b, "width", p->width);
    vigil_json_add_int(b, "height", p->height);
    vigil_json_add_string(b, "uri", p->uri);
    json_builder_end_object(b);
    gint64 area = (gint64)p->width * p->height;
    if (!big || area > (gint64)big->width * big->height)
      big = p;
    if (!small || area < (gint64)small->width * small->height)
      small = p;
  }
  json_builder_end_array(b);
  vigil_json_add_string(b, "source", big->uri);
  /* One profile: no separate sub stream. */
  vigil_json_add_string_or_null(b, "sub_source", small != big ? small->uri : NULL);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void on_probed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  OnvifProbe *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilOnvifDevice) device = vigil_onvif_probe_finish(result, &error);
  active_probes--;
  if (!g_cancellable_is_cancelled(op->cancellable)) {
    soup_server_message_unpause(op->msg);
    if (device) {
      g_autoptr(JsonNode) node = device_json(device);
      vigil_http_reply_json(op->msg, SOUP_STATUS_OK, node);
    } else {
      vigil_http_reply_error(op->msg, SOUP_STATUS_BAD_REQUEST, "%s", error->message);
    }
  }
  g_signal_handlers_disconnect_by_data(op->msg, op);
  g_object_unref(op->msg);
  g_object_unref(op->cancellable);
  g_free(op);
}

void vigil_api_onvif_probe(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  static const char *const fields[] = {"address", "username", "password", NULL};
  const char *unknown;
  if (!JSON_NODE_HOLDS_OBJECT(body)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "give an object with \"address\", \"username\" and \"password\"");
    return;
  }
  if ((unknown = vigil_json_unknown_member(json_node_get_object(body), fields))) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "unknown field \"%s\" (a probe takes address, username and password)",
                           unknown);
    return;
  }
  JsonObject *o = json_node_get_object(body);
  const char *values[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3; i++) {
    JsonNode *member = json_object_get_member(o, fields[i]);
    if (member && !JSON_NODE_HOLDS_NULL(member) &&
        !vigil_json_read_string(member, fields[i], &values[i], &error)) {
      vigil_http_reply_gerror(req->msg, error);
      return;
    }
  }
  const char *address = values[0], *username = values[1], *password = values[2];
  if (!address) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "\"address\" is required");
    return;
  }
  g_autofree char *url = vigil_onvif_device_url(address, &error);
  if (!url) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (active_probes >= ONVIF_MAX_ACTIVE) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                           "%d ONVIF probes are running already; try again in a few seconds",
                           ONVIF_MAX_ACTIVE);
    return;
  }
  g_info("user %s probes an ONVIF device", req->user);
  active_probes++;
  OnvifProbe *op = g_new0(OnvifProbe, 1);
  op->msg = g_object_ref(req->msg);
  op->cancellable = g_cancellable_new();
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_gone), op);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_gone), op);
  soup_server_message_pause(req->msg);
  vigil_onvif_probe_async(url, username, password, op->cancellable, on_probed, op);
}

/* ---- discover ---- */

/* Set (to 1) for tests: probe on the loopback interface too, where
 * vigil-fakecam's responders listen. */
#define DISCOVER_LOOPBACK_ENV "VIGIL_ONVIF_DISCOVER_LOOPBACK"

typedef struct {
  SoupServerMessage *msg; /* strong ref */
  gboolean gone;
} DiscoverWaiter;

/* The one discovery running: requests that come while it runs wait for
 * its answer too, so devices are never probed by two runs at once. */
static struct {
  GPtrArray *waiters; /* of DiscoverWaiter; NULL when none runs */
  VigilApp *app;
} discovery;

static void on_waiter_gone(SoupServerMessage *msg, gpointer user_data)
{
  ((DiscoverWaiter *)user_data)->gone = TRUE;
}

static void waiter_free(DiscoverWaiter *w)
{
  g_signal_handlers_disconnect_by_data(w->msg, w);
  g_object_unref(w->msg);
  g_free(w);
}

/* The host of a URL, lowercased; NULL when it has none. */
static char *url_host(const char *url)
{
  g_autoptr(GUri) uri = url ? g_uri_parse(url, G_URI_FLAGS_NON_DNS, NULL) : NULL;
  const char *host = uri ? g_uri_get_host(uri) : NULL;
  return host && *host ? g_ascii_strdown(host, -1) : NULL;
}

/* The id of the first camera whose ONVIF device, main or sub source is on
 * @host. */
static const char *camera_on_host(VigilApp *app, const char *host)
{
  GPtrArray *cameras = vigil_camera_manager_list(app->cameras);
  for (guint i = 0; host && i < cameras->len; i++) {
    VigilCamera *camera = g_ptr_array_index(cameras, i);
    const VigilCameraConfig *cfg = vigil_camera_get_config(camera);
    g_autofree char *main_host = url_host(cfg->source);
    g_autofree char *sub_host = url_host(cfg->sub_source);
    g_autofree char *onvif_host = url_host(cfg->onvif.address);
    if (g_strcmp0(main_host, host) == 0 || g_strcmp0(sub_host, host) == 0 ||
        g_strcmp0(onvif_host, host) == 0)
      return vigil_camera_get_id(camera);
  }
  return NULL;
}

static JsonNode *discovered_json(VigilApp *app, GPtrArray *found)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_array(b);
  for (guint i = 0; found && i < found->len; i++) {
    const VigilOnvifDiscovered *d = g_ptr_array_index(found, i);
    g_autofree char *host = url_host(d->address);
    json_builder_begin_object(b);
    vigil_json_add_string(b, "address", d->address);
    vigil_json_add_string_or_null(b, "manufacturer", d->manufacturer);
    vigil_json_add_string_or_null(b, "model", d->model);
    vigil_json_add_string_or_null(b, "camera", camera_on_host(app, host));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  return json_builder_get_root(b);
}

static void on_discovered(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = vigil_onvif_discover_finish(result, &error);
  g_autoptr(GPtrArray) waiters = g_steal_pointer(&discovery.waiters);
  /* Built once the run ends: cameras added meanwhile count. */
  g_autoptr(JsonNode) node = found ? discovered_json(discovery.app, found) : NULL;
  for (guint i = 0; i < waiters->len; i++) {
    DiscoverWaiter *w = g_ptr_array_index(waiters, i);
    if (w->gone)
      continue;
    soup_server_message_unpause(w->msg);
    if (node)
      vigil_http_reply_json(w->msg, SOUP_STATUS_OK, node);
    else
      vigil_http_reply_error(w->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "discovery failed: %s",
                             error->message);
  }
}

void vigil_api_onvif_discover(VigilRequest *req)
{
  DiscoverWaiter *w = g_new0(DiscoverWaiter, 1);
  w->msg = g_object_ref(req->msg);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_waiter_gone), w);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_waiter_gone), w);
  soup_server_message_pause(req->msg);
  if (discovery.waiters) {
    g_info("user %s joins the running ONVIF discovery", req->user);
    g_ptr_array_add(discovery.waiters, w);
    return;
  }
  g_info("user %s starts an ONVIF discovery", req->user);
  discovery.waiters = g_ptr_array_new_with_free_func((GDestroyNotify)waiter_free);
  discovery.app = req->app;
  g_ptr_array_add(discovery.waiters, w);
  const char *loopback = g_getenv(DISCOVER_LOOPBACK_ENV);
  vigil_onvif_discover_async(VIGIL_ONVIF_DISCOVERY_MS, loopback && g_str_equal(loopback, "1"), NULL,
                             on_discovered, NULL);
}
