/* The HTTP layer: one SoupServer for the REST API (and, later, live streams
 * and the web UI). server.c owns the server, authentication and routing; each
 * api-*.c file answers one REST resource. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "http/app.h"

G_BEGIN_DECLS

/* JSON request bodies larger than this get 413. */
#define VIGIL_HTTP_MAX_BODY (1024 * 1024)
/* Nesting deeper than this is refused before parsing (json-glib recurses). */
#define VIGIL_HTTP_MAX_JSON_DEPTH 32

typedef struct _VigilHttp VigilHttp;

VigilHttp *vigil_http_new(VigilApp *app);
/* @address is "HOST:PORT" or "[IPv6]:PORT". */
gboolean vigil_http_listen(VigilHttp *http, const char *address, GError **error);
/* The URL users open ("http://127.0.0.1:8080/"). */
gchar *vigil_http_get_url(VigilHttp *http);
void vigil_http_free(VigilHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHttp, vigil_http_free)

/* One authenticated API request, as the resource handlers see it. */
typedef struct {
  VigilApp *app;
  SoupServerMessage *msg;
  const char *method;
  GStrv segments;    /* path below /api/v1/, split on '/' */
  GHashTable *query; /* may be NULL */
  const char *user;
  const char *role;
  struct _VigilIdentity *identity; /* who asks and their rights: http/access.h */
} VigilRequest;

void vigil_http_reply_json(SoupServerMessage *msg, guint status, JsonNode *node);
void vigil_http_reply_error(SoupServerMessage *msg, guint status, const char *format, ...)
    G_GNUC_PRINTF(3, 4);
/* Maps VIGIL_ERROR codes to status codes. */
void vigil_http_reply_gerror(SoupServerMessage *msg, const GError *error);
void vigil_http_reply_no_content(SoupServerMessage *msg);
void vigil_http_reply_method_not_allowed(SoupServerMessage *msg, const char *allow);

/* The request body as JSON: VIGIL_ERROR_TOO_LARGE over the limit,
 * VIGIL_ERROR_INVALID for empty bodies, bad UTF-8, too deep or malformed JSON. */
JsonNode *vigil_http_parse_body(SoupServerMessage *msg, GError **error);

/* Checks nesting depth and UTF-8 before json-glib sees the text. Exposed for
 * tests and fuzzing. */
JsonNode *vigil_http_parse_json(const char *data, gsize size, GError **error);

/* Resource handlers: return after replying. */
void vigil_api_health(VigilRequest *req);
void vigil_api_system(VigilRequest *req);
void vigil_api_settings(VigilRequest *req);
void vigil_api_cameras(VigilRequest *req);
/* Every live path below /cameras/{id}/ (api-live.c): returns FALSE when
 * segments[2..] is not one of them. Each takes ?stream=main|sub
 * (docs/streams.md): @stream is the one asked for (the main one when the
 * camera has no sub stream). */
gboolean vigil_api_live(VigilRequest *req, VigilCamera *camera);
void vigil_api_live_ts(VigilRequest *req, VigilCamera *camera, VigilStream *stream);
/* WS /cameras/{id}/live (api-live-ws.c). */
void vigil_api_live_ws(VigilRequest *req, VigilCamera *camera, VigilStream *stream);
/* Live HLS (api-live-hls.c): the playlist's segment URLs carry the stream. */
void vigil_api_live_hls_playlist(VigilRequest *req, VigilCamera *camera, VigilStream *stream);
void vigil_api_live_hls_segment(VigilRequest *req, VigilCamera *camera, const char *name);
/* GET /metrics, Prometheus text (api-metrics.c). */
void vigil_api_metrics(VigilApp *app, SoupServerMessage *msg);
/* Non-API GET paths: the embedded web assets (web.c). */
void vigil_web_serve(SoupServerMessage *msg, const char *path);
void vigil_api_recordings(VigilRequest *req);
void vigil_api_camera_recording(VigilRequest *req, VigilCamera *camera);
void vigil_api_camera_export(VigilRequest *req, VigilCamera *camera);
void vigil_api_snapshot(VigilRequest *req, VigilCamera *camera);
/* POST /api/v1/cameras/probe: test a source before saving it (api-probe.c). */
void vigil_api_camera_probe(VigilRequest *req);
void vigil_api_events(VigilRequest *req);
/* /api/v1/walls, /api/v1/walls/{name} (api-walls.c). */
void vigil_api_walls(VigilRequest *req);

G_END_DECLS
