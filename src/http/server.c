/* The HTTP server: listening, request limits, replies and request bodies.
 * Requests below /api/v1/ go to the route table (routes.c), the rest to the
 * web UI's assets (web.c). */
#define G_LOG_DOMAIN "vigil-http"

#include "http/http.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "vigil-config.h"

struct _VigilHttp {
  VigilApp *app;
  SoupServer *server;
  GSocket *listener;
  GSource *accepting;   /* the listener's watch, or a short pause after an error */
  GTlsCertificate *tls; /* NULL: plain HTTP */
  gint64 warned_us;     /* last accept error logged */
  gchar *url;
};

/* --- replies --- */

void vigil_http_reply_json(SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autofree gchar *text = vigil_json_to_string(node);
  gsize len = strlen(text);
  soup_server_message_set_status(msg, status, NULL);
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Cache-Control",
                               "no-store");
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE,
                                   g_steal_pointer(&text), len);
}

void vigil_http_reply_error(SoupServerMessage *msg, guint status, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree gchar *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "error", message);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  vigil_http_reply_json(msg, status, node);
}

void vigil_http_reply_gerror(SoupServerMessage *msg, const GError *error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  if (error->domain == VIGIL_ERROR) {
    switch ((VigilErrorCode)error->code) {
    case VIGIL_ERROR_INVALID:
      status = SOUP_STATUS_BAD_REQUEST;
      break;
    case VIGIL_ERROR_NOT_FOUND:
      status = SOUP_STATUS_NOT_FOUND;
      break;
    case VIGIL_ERROR_CONFLICT:
      status = SOUP_STATUS_CONFLICT;
      break;
    case VIGIL_ERROR_TOO_LARGE:
      status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
      break;
    case VIGIL_ERROR_FORBIDDEN:
      status = SOUP_STATUS_FORBIDDEN;
      break;
    case VIGIL_ERROR_BUSY:
      status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      break;
    case VIGIL_ERROR_STORAGE:
    case VIGIL_ERROR_FAILED:
      break;
    }
  }
  if (status >= 500)
    g_warning("request failed: %s", error->message);
  vigil_http_reply_error(msg, status, "%s", error->message);
}

void vigil_http_reply_no_content(SoupServerMessage *msg)
{
  soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, NULL);
}

void vigil_http_reply_method_not_allowed(SoupServerMessage *msg, const char *allow)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", allow);
  vigil_http_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method not allowed (use %s)", allow);
}

/* --- request bodies --- */

/* Every string and member name in @node is UTF-8 (the depth is bounded by
 * the caller's check). */
static gboolean strings_valid(JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    JsonObjectIter iter;
    const char *member;
    JsonNode *value;
    json_object_iter_init(&iter, json_node_get_object(node));
    while (json_object_iter_next(&iter, &member, &value))
      if (!g_utf8_validate(member, -1, NULL) || !strings_valid(value))
        return FALSE;
  } else if (JSON_NODE_HOLDS_ARRAY(node)) {
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); i++)
      if (!strings_valid(json_array_get_element(array, i)))
        return FALSE;
  } else if (JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING) {
    return g_utf8_validate(json_node_get_string(node), -1, NULL);
  }
  return TRUE;
}

JsonNode *vigil_http_parse_json(const char *data, gsize size, GError **error)
{
  if (size == 0) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "a JSON body is required");
    return NULL;
  }
  if (!g_utf8_validate_len(data, size, NULL)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the body is not valid UTF-8");
    return NULL;
  }
  /* json-glib's parser recurses per nesting level: refuse deep nesting first. */
  int depth = 0;
  int digits = 0;
  gboolean past_point = FALSE;
  gboolean in_string = FALSE;
  for (gsize i = 0; i < size; i++) {
    char c = data[i];
    /* json-glib wraps integers too large for 64 bits silently (a huge
     * negative number can read as 1): refuse long integer parts. Digits after
     * a '.' or an exponent make a double, which reads safely at any length
     * (and vigil_json_to_string writes 0.00012345678901234567). */
    if (in_string ||
        !(g_ascii_isdigit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      digits = 0;
      past_point = FALSE;
    } else if (c == '.' || c == 'e' || c == 'E') {
      past_point = past_point || digits > 0;
    } else if (g_ascii_isdigit(c) && !past_point && ++digits > 18) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                          "a number in the JSON body has too many digits");
      return NULL;
    }
    if (in_string) {
      if (c == '\\') {
        /* JSON's escapes only: json-glib also reads octal ones ("\\777"),
         * which can make a string that is not UTF-8, or cut it at a NUL. */
        char e = i + 1 < size ? data[i + 1] : '\0';
        if (!e || !strchr("\"\\/bfnrtu", e)) {
          g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                              "invalid escape in a JSON string (use \\\", \\\\, \\/, \\b, "
                              "\\f, \\n, \\r, \\t or \\uXXXX)");
          return NULL;
        }
        i++;
      } else if (c == '"') {
        in_string = FALSE;
      }
    } else if (c == '"') {
      in_string = TRUE;
    } else if (c == '{' || c == '[') {
      if (++depth > VIGIL_HTTP_MAX_JSON_DEPTH) {
        g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "JSON nested deeper than %d levels",
                    VIGIL_HTTP_MAX_JSON_DEPTH);
        return NULL;
      }
    } else if (c == '}' || c == ']') {
      depth--;
    }
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) parse_error = NULL;
  if (!json_parser_load_from_data(parser, data, (gssize)size, &parse_error)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "malformed JSON: %s",
                parse_error->message);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "a JSON body is required");
    return NULL;
  }
  if (!strings_valid(root)) {
    /* A lone surrogate ("\\ud800") decodes to bytes that are not UTF-8. */
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "a string in the JSON body is not valid UTF-8");
    return NULL;
  }
  return json_node_copy(root);
}

JsonNode *vigil_http_parse_body(SoupServerMessage *msg, GError **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(body);
  gsize size = 0;
  const char *data = g_bytes_get_data(bytes, &size);
  if (size > VIGIL_HTTP_MAX_BODY) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_TOO_LARGE, "request body over %d bytes",
                VIGIL_HTTP_MAX_BODY);
    return NULL;
  }
  return vigil_http_parse_json(data, size, error);
}

JsonNode *vigil_request_body(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  JsonNode *body = vigil_http_parse_body(req->msg, &error);
  if (!body)
    vigil_http_reply_gerror(req->msg, error);
  return body;
}

/* --- request handling --- */

/* Runs once the headers are in, before any body is read: refuse bodies that
 * are too large (or of unknown size) without ever buffering them. */
static void early_handler(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  SoupEncoding encoding = soup_message_headers_get_encoding(headers);
  if (encoding == SOUP_ENCODING_CHUNKED) {
    vigil_http_reply_error(msg, SOUP_STATUS_LENGTH_REQUIRED,
                           "request bodies need a Content-Length");
  } else if (encoding == SOUP_ENCODING_CONTENT_LENGTH &&
             soup_message_headers_get_content_length(headers) > VIGIL_HTTP_MAX_BODY) {
    vigil_http_reply_error(msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "request body over %d bytes",
                           VIGIL_HTTP_MAX_BODY);
  }
}

static void handler(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user_data)
{
  VigilHttp *self = user_data;
  /* The web UI's pages, scripts and styles hold no data (every datum comes
   * from the authenticated API), so they are served to anyone: the login
   * page must load before a login. A logged-in user's page answer may carry
   * preload hints (page-hints.c). */
  if (!g_str_has_prefix(path, "/api/v1/") && !g_str_equal(path, "/metrics")) {
    const char *page = vigil_web_serve(msg, path);
    if (page)
      vigil_web_page_hints(self->app, msg, page);
    return;
  }
  /* "/api/v1/" itself (also what "/api/v1/x/.." normalizes to). */
  if (g_str_equal(path, "/api/v1/")) {
    vigil_http_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such API path");
    return;
  }
  vigil_http_route(self->app, msg, path, query);
}

static GSocketAddress *parse_address(const char *address, GError **error)
{
  g_autoptr(GSocketConnectable) connectable = g_network_address_parse(address, 0, error);
  if (!connectable)
    return NULL;
  GNetworkAddress *na = G_NETWORK_ADDRESS(connectable);
  guint16 port = g_network_address_get_port(na);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(g_network_address_get_hostname(na));
  if (!inet || port == 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "--listen needs a numeric IP address and a port, like 127.0.0.1:8080 or "
                "[::]:8080 (got \"%s\")",
                address);
    return NULL;
  }
  return g_inet_socket_address_new(inet, port);
}

/* --- connections ---
 *
 * vigil accepts connections itself and hands each one to libsoup
 * (soup_server_accept_iostream) rather than letting soup_server_listen do
 * it. Debian 12's libsoup 3.2.3 leaks with its own listener: every accepted
 * connection's GSocket (~340 bytes; fixed upstream in 3.3.1, "soup-listener:
 * Plug a leak"), and every keep-alive connection that the client closes while
 * it waits for the next request, with its file descriptor (~1.8 KB; upstream
 * d20c6601, 3.3.0). Browsers close idle connections after a few minutes, so a
 * long-running server ran out of descriptors. libsoup never keeps alive a
 * connection it did not accept itself, so every response says
 * "Connection: close" (on_request_started) and no connection ever waits idle.
 * Its listener also stopped accepting for good after one failed accept
 * (EMFILE); this one pauses and tries again. */

#define ACCEPT_PAUSE_MS 200

static void watch_listener(VigilHttp *self);

/* The socket behind @msg's connection (live.ts cuts a slow viewer off with
 * it): libsoup only knows the sockets its own listener accepted. */
GSocket *vigil_http_message_socket(SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address(msg);
  return remote ? g_object_get_data(G_OBJECT(remote), "vigil-socket") : NULL;
}

static void hand_over(VigilHttp *self, GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address(socket, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address(socket, NULL);
  if (!local || !remote)
    return; /* the client already left */
  g_socket_set_option(socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  /* libsoup keeps @remote as long as the connection: the socket rides on it. */
  g_object_set_data_full(G_OBJECT(remote), "vigil-socket", g_object_ref(socket), g_object_unref);
  g_autoptr(GIOStream) stream = G_IO_STREAM(g_socket_connection_factory_create_connection(socket));
  if (self->tls) {
    /* The handshake runs on the first read, as libsoup's own TLS did. */
    GIOStream *tls = g_tls_server_connection_new(stream, self->tls, &error);
    if (!tls) {
      g_warning("TLS connection from a client failed: %s", error->message);
      return;
    }
    g_object_set(tls, "require-close-notify", FALSE, NULL);
    g_object_unref(stream);
    stream = tls;
  }
  if (!soup_server_accept_iostream(self->server, stream, local, remote, &error))
    g_warning("cannot take a connection: %s", error->message);
}

static gboolean resume_accepting(gpointer user_data)
{
  VigilHttp *self = user_data;
  g_clear_pointer(&self->accepting, g_source_unref);
  watch_listener(self);
  return G_SOURCE_REMOVE;
}

static gboolean on_incoming(GSocket *listener, GIOCondition condition, gpointer user_data)
{
  VigilHttp *self = user_data;
  /* A bounded batch, so a flood of connections cannot starve the loop. */
  for (int i = 0; i < 64; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) socket = g_socket_accept(listener, NULL, &error);
    if (socket) {
      hand_over(self, socket);
      continue;
    }
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    /* Out of descriptors (EMFILE) and the like: the client waits in the
     * backlog; try again shortly instead of spinning or giving up. */
    gint64 now = g_get_monotonic_time();
    if (now - self->warned_us > 60 * G_USEC_PER_SEC) {
      g_warning("cannot accept a connection (pausing %d ms): %s", ACCEPT_PAUSE_MS, error->message);
      self->warned_us = now;
    }
    g_clear_pointer(&self->accepting, g_source_unref);
    self->accepting = g_timeout_source_new(ACCEPT_PAUSE_MS);
    g_source_set_callback(self->accepting, resume_accepting, self, NULL);
    g_source_attach(self->accepting, NULL);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static void watch_listener(VigilHttp *self)
{
  self->accepting = g_socket_create_source(self->listener, G_IO_IN, NULL);
  g_source_set_callback(self->accepting, G_SOURCE_FUNC(on_incoming), self, NULL);
  g_source_attach(self->accepting, NULL);
}

/* Before any handler runs, for every request libsoup reads (its own 400s too). */
static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                               "close");
}

static GSocket *listen_on(GSocketAddress *address, GError **error)
{
  GSocketFamily family = g_socket_address_get_family(address);
  g_autoptr(GSocket) socket =
      g_socket_new(family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, error);
  if (!socket)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option(socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
  g_socket_set_blocking(socket, FALSE);
  /* GLib's default backlog is 10: a 4x4 grid opening 16 streams at once
   * (or 200 viewers) would see SYNs dropped and retried a second later. */
  g_socket_set_listen_backlog(socket, 256);
  if (!g_socket_bind(socket, address, TRUE, error) || !g_socket_listen(socket, error))
    return NULL;
  return g_steal_pointer(&socket);
}

gboolean vigil_http_listen(VigilHttp *self, const char *address, GError **error)
{
  g_autoptr(GSocketAddress) sa = parse_address(address, error);
  if (!sa)
    return FALSE;
  g_return_val_if_fail(self->listener == NULL, FALSE);
  /* TLS from the settings; a change applies at the next start. */
  const VigilSettings *settings = self->app->settings;
  g_autoptr(GTlsCertificate) cert = NULL;
  if (settings && settings->tls_cert && settings->tls_key) {
    g_autoptr(GError) tls_error = NULL;
    cert = g_tls_certificate_new_from_files(settings->tls_cert, settings->tls_key, &tls_error);
    if (!cert) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "cannot load the TLS certificate %s and key %s (settings \"tls\"): %s",
                  settings->tls_cert, settings->tls_key, tls_error->message);
      return FALSE;
    }
  }
  self->listener = listen_on(sa, error); /* GLib's message names the address */
  if (!self->listener)
    return FALSE;
  self->tls = g_steal_pointer(&cert);
  watch_listener(self);
  GInetAddress *inet = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa));
  g_autofree gchar *host = g_inet_address_to_string(inet);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa));
  if (g_inet_address_get_is_any(inet)) {
    g_free(host);
    host = g_strdup("127.0.0.1");
  }
  gboolean v6 = strchr(host, ':') != NULL;
  self->url = g_strdup_printf("%s://%s%s%s:%u/", self->tls ? "https" : "http", v6 ? "[" : "", host,
                              v6 ? "]" : "", port);
  return TRUE;
}

/* --- lifetime --- */

VigilHttp *vigil_http_new(VigilApp *app)
{
  VigilHttp *self = g_new0(VigilHttp, 1);
  self->app = app;
  self->server = soup_server_new("server-header", "vigil/" VIGIL_VERSION, NULL);
  /* Compressing video over WebSocket tripled CPU in the prototype. */
  soup_server_remove_websocket_extension(self->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
  soup_server_add_early_handler(self->server, NULL, early_handler, self, NULL);
  soup_server_add_handler(self->server, NULL, handler, self, NULL);
  g_signal_connect(self->server, "request-started", G_CALLBACK(on_request_started), NULL);
  return self;
}

gchar *vigil_http_get_url(VigilHttp *self)
{
  return g_strdup(self->url);
}

void vigil_http_free(VigilHttp *self)
{
  if (!self)
    return;
  if (self->accepting) {
    g_source_destroy(self->accepting);
    g_source_unref(self->accepting);
  }
  if (self->listener) {
    g_socket_close(self->listener, NULL);
    g_object_unref(self->listener);
  }
  soup_server_disconnect(self->server);
  g_clear_object(&self->server);
  g_clear_object(&self->tls);
  g_free(self->url);
  g_free(self);
}
