/* The HTTP layer: one SoupServer for the REST API, live streams and the web
 * UI. server.c owns the server and request limits, routes.c the route table
 * (every URL, its handler and the access it needs), access.c authentication
 * and access checks; each api-*.c file answers one REST resource. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "http/app.h"
#include "store/recordings.h"

G_BEGIN_DECLS

/* JSON request bodies larger than this get 413. */
#define VIGIL_HTTP_MAX_BODY (1024 * 1024)
/* Nesting deeper than this is refused before parsing (json-glib recurses). */
#define VIGIL_HTTP_MAX_JSON_DEPTH 32

typedef struct _VigilHttp VigilHttp;

VigilHttp *vigil_http_new(VigilApp *app);
/* @address is "HOST:PORT" or "[IPv6]:PORT". */
gboolean vigil_http_listen(VigilHttp *http, const char *address, GError **error);
/* The socket of @msg's connection, or NULL. */
GSocket *vigil_http_message_socket(SoupServerMessage *msg);
/* The URL users open ("http://127.0.0.1:8080/"). */
gchar *vigil_http_get_url(VigilHttp *http);
void vigil_http_free(VigilHttp *http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilHttp, vigil_http_free)

/* One API request, as the resource handlers see it: authenticated (unless
 * its route is open) and access-checked by the router. */
typedef struct {
  VigilApp *app;
  SoupServerMessage *msg;
  const char *method;
  GHashTable *params; /* the route pattern's {name} -> value */
  GHashTable *query;  /* may be NULL */
  const char *user;
  const char *role;
  struct _VigilIdentity *identity; /* who asks and their rights: http/access.h */
  /* What the route's {id} names, when its access is on a camera, a
   * recording or an event (routes.c); the recording and event are owned by
   * the router. */
  VigilCamera *camera;
  VigilRecording *recording;
  VigilEvent *event;
} VigilRequest;

/* The value of the route pattern's {@name}. */
const char *vigil_request_param(VigilRequest *req, const char *name);

/* Answers every request below /api/v1/ and /metrics (routes.c). */
void vigil_http_route(VigilApp *app, SoupServerMessage *msg, const char *path, GHashTable *query);

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

/* The same for a handler: NULL after replying 400 or 413. */
JsonNode *vigil_request_body(VigilRequest *req);

/* Checks nesting depth and UTF-8 before json-glib sees the text. Exposed for
 * tests and fuzzing. */
JsonNode *vigil_http_parse_json(const char *data, gsize size, GError **error);

/* Non-API GET paths: the embedded web assets (web.c). Returns the page
 * resource ("/pages/grid.html") when @path is a page, else NULL. */
const char *vigil_web_serve(SoupServerMessage *msg, const char *path);

/* Preload hints for a page just served with 200 or 304 (page-hints.c). */
void vigil_web_page_hints(VigilApp *app, SoupServerMessage *msg, const char *page);

G_END_DECLS
