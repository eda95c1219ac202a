/* POST /api/v1/cameras/probe: opens a camera source with the real ingest for a
 * few seconds, before it is saved, and answers what it sends (codec, size,
 * fps, bitrate, keyframe interval) or why it failed. The web UI's "Test"
 * button on the camera form. An addition to SPEC's API (docs/api.md).
 *
 * Body: {"source", "username", "password", "rtsp_transport"} as in the camera
 * object, plus an optional "camera": the id of a saved camera whose settings
 * fill in what the body leaves out (its stored password, above all, which
 * the form never sees), and an optional "stream": "main" (default) or "sub":
 * with "camera", "sub" fills in from the camera's sub stream settings
 * (docs/streams.md). Admins (and users with control on "*") may probe any
 * source; other users only through a camera they hold control on.
 *
 * Replies: 200 {"codec", "width", "height", "fps", "bitrate_kbps",
 * "keyframe_interval_s" (null when fewer than two keyframes came), "has_audio",
 * "elapsed_s"}; 400 bad input; 502 {"error"} when the source failed or could
 * not be reached; 504 when no video came within the time limit; 503 when too
 * many probes run at once. Nothing about the source is logged but its scheme. */
#define G_LOG_DOMAIN "vigil-http"

#include <math.h>
#include <string.h>

#include "camera/ingest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "http/access.h"
#include "http/api.h"

/* At most this long per probe; it answers as soon as two keyframes and a
 * little time for fps and bitrate have come. */
#define PROBE_TIMEOUT_US (8 * G_USEC_PER_SEC)
#define PROBE_MIN_US     (1500 * G_USEC_PER_SEC / 1000)
#define PROBE_POLL_MS    100
/* Each probe is a whole pipeline (and an RTSP session on the camera). */
#define PROBE_MAX_ACTIVE 4

static guint active_probes;

typedef struct {
  SoupServerMessage *msg; /* strong ref */
  gboolean gone;          /* the client left */
  VigilStream *stream;
  VigilIngest *ingest;
  guint poll_id;
  gint64 started_us;
  gchar *error; /* from the ingest's fail callback: for users, no secrets */
} Probe;

static void probe_free(Probe *p)
{
  if (p->poll_id)
    g_source_remove(p->poll_id);
  /* Teardown happens on a worker thread; no callback after this. */
  if (p->ingest)
    vigil_ingest_stop(p->ingest);
  g_clear_pointer(&p->stream, vigil_stream_unref);
  if (p->msg) {
    g_signal_handlers_disconnect_by_data(p->msg, p);
    g_object_unref(p->msg);
  }
  g_free(p->error);
  g_free(p);
  active_probes--;
}

static void on_gone(SoupServerMessage *msg, gpointer user_data)
{
  ((Probe *)user_data)->gone = TRUE;
}

static void on_fail(VigilIngest *ingest, const char *message, gboolean offline, gpointer user_data)
{
  Probe *p = user_data;
  if (!p->error)
    p->error = g_strdup(message && *message ? message : "the source failed");
}

static JsonNode *result_json(const VigilStreamStats *s, gint64 elapsed_us)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "codec", s->codec == VIGIL_CODEC_H265 ? "h265" : "h264");
  vigil_json_add_int(b, "width", s->width);
  vigil_json_add_int(b, "height", s->height);
  vigil_json_add_double(b, "fps", round(s->fps * 10) / 10);
  vigil_json_add_int(b, "bitrate_kbps", (gint64)round(s->bitrate_kbps));
  if (s->keyframe_interval_s > 0)
    vigil_json_add_double(b, "keyframe_interval_s", round(s->keyframe_interval_s * 100) / 100);
  else
    vigil_json_add_null(b, "keyframe_interval_s");
  vigil_json_add_bool(b, "has_audio", s->has_audio);
  vigil_json_add_double(b, "elapsed_s", round((double)elapsed_us / G_USEC_PER_SEC * 10) / 10);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static gboolean poll_probe(gpointer user_data)
{
  Probe *p = user_data;
  gint64 elapsed = g_get_monotonic_time() - p->started_us;
  VigilStreamStats s;
  vigil_stream_get_stats(p->stream, &s);
  gboolean complete = s.keyframe_interval_s > 0 && s.width > 0 && elapsed >= PROBE_MIN_US;
  if (!p->gone && !p->error && !complete && elapsed < PROBE_TIMEOUT_US)
    return G_SOURCE_CONTINUE;
  p->poll_id = 0;
  if (!p->gone) {
    SoupServerMessage *msg = p->msg;
    soup_server_message_unpause(msg);
    if (s.chunks > 0 && (complete || !p->error)) {
      /* Timed out with video but one keyframe: still worth showing. */
      g_autoptr(JsonNode) node = result_json(&s, elapsed);
      vigil_http_reply_json(msg, SOUP_STATUS_OK, node);
    } else if (p->error) {
      vigil_http_reply_error(msg, SOUP_STATUS_BAD_GATEWAY, "%s", p->error);
    } else {
      vigil_http_reply_error(msg, SOUP_STATUS_GATEWAY_TIMEOUT,
                             "no video from the source within %d s",
                             (int)(PROBE_TIMEOUT_US / G_USEC_PER_SEC));
    }
  }
  probe_free(p);
  return G_SOURCE_REMOVE;
}

static const char *const probe_fields[] = {"source", "username", "password", "rtsp_transport",
                                           NULL};

/* The configuration to probe, from the body (and the saved camera it names). */
static VigilCameraConfig *probe_config(VigilRequest *req, JsonObject *o, gboolean sub,
                                       GError **error)
{
  g_autoptr(JsonObject) fields = json_object_new();
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *name = l->data;
    if (g_str_equal(name, "camera") || g_str_equal(name, "stream"))
      continue;
    if (!g_strv_contains(probe_fields, name)) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "unknown field \"%s\" (a probe takes source, username, password, "
                  "rtsp_transport, camera and stream)",
                  name);
      return NULL;
    }
    json_object_set_member(fields, name, json_node_copy(json_object_get_member(o, name)));
  }
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, fields);

  const char *camera_id = json_object_has_member(o, "camera")
                              ? json_object_get_string_member_with_default(o, "camera", NULL)
                              : NULL;
  if (camera_id) {
    VigilCamera *camera = vigil_slug_is_valid(camera_id)
                              ? vigil_camera_manager_lookup(req->app->cameras, camera_id)
                              : NULL;
    if (!camera || !vigil_request_can_see(req, camera_id)) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, VIGIL_HTTP_NO_SUCH_CAMERA);
      return NULL;
    }
    if (!vigil_request_can(req, camera_id, VIGIL_RIGHT_CONTROL)) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_FORBIDDEN,
                          "probing needs the control right on the camera");
      return NULL;
    }
    const VigilCameraConfig *saved = vigil_camera_get_config(camera);
    g_autoptr(VigilCameraConfig) cfg =
        sub ? vigil_camera_config_for_sub(saved) : vigil_camera_config_copy(saved);
    cfg->enabled = TRUE;
    if (!vigil_camera_config_apply_json(cfg, node, FALSE, error))
      return NULL;
    if (!cfg->source) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                          "the camera has no sub stream; give \"source\"");
      return NULL;
    }
    return g_steal_pointer(&cfg);
  }
  if (!vigil_permissions_has_all_cameras(req->identity->perms, VIGIL_RIGHT_CONTROL)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_FORBIDDEN,
                        "probing a new source needs the control right on all cameras (\"*\"); "
                        "give \"camera\" to probe a camera you control");
    return NULL;
  }
  if (!json_object_has_member(fields, "source")) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "\"source\" is required");
    return NULL;
  }
  json_object_set_string_member(fields, "name", "probe");
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  if (!vigil_camera_config_apply_json(cfg, node, TRUE, error))
    return NULL;
  return g_steal_pointer(&cfg);
}

void vigil_api_camera_probe(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  if (!JSON_NODE_HOLDS_OBJECT(body)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "give an object with \"source\" (and username, password, "
                           "rtsp_transport, camera)");
    return;
  }
  JsonObject *o = json_node_get_object(body);
  JsonNode *cam = json_object_get_member(o, "camera");
  const char *camera_id;
  if (cam && !vigil_json_get_string(cam, &camera_id)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "\"camera\" must be a camera id");
    return;
  }
  JsonNode *stream = json_object_get_member(o, "stream");
  int sub = 0;
  if (stream && !vigil_json_get_enum(stream, (const char *const[]){"main", "sub"}, 2, &sub)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "\"stream\" must be \"main\" or \"sub\"");
    return;
  }
  g_autoptr(VigilCameraConfig) cfg = probe_config(req, o, sub, &error);
  if (!cfg) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (active_probes >= PROBE_MAX_ACTIVE) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_SERVICE_UNAVAILABLE,
                           "%d probes are running already; try again in a few seconds",
                           PROBE_MAX_ACTIVE);
    return;
  }
  active_probes++;
  Probe *p = g_new0(Probe, 1);
  p->stream = vigil_stream_new(cfg->id);
  p->started_us = g_get_monotonic_time();
  p->ingest = vigil_ingest_start(cfg, p->stream, 0, on_fail, p, &error);
  const char *colon = strchr(cfg->source, ':');
  g_info("user %s probes a %.*s source", req->user, colon ? (int)(colon - cfg->source) : 0,
         cfg->source);
  if (!p->ingest) {
    probe_free(p);
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_GATEWAY, "%s", error->message);
    return;
  }
  p->msg = g_object_ref(req->msg);
  g_signal_connect(req->msg, "finished", G_CALLBACK(on_gone), p);
  g_signal_connect(req->msg, "disconnected", G_CALLBACK(on_gone), p);
  soup_server_message_pause(req->msg);
  p->poll_id = g_timeout_add(PROBE_POLL_MS, poll_probe, p);
}
