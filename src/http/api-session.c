/* /api/v1/session (log in, who am I, log out) and /api/v1/tokens (API tokens
 * for scripts). Tokens and session ids are random 256-bit values; the store
 * keeps only their SHA-256. */
#define G_LOG_DOMAIN "vigil-http"

#include <string.h>

#include "auth/password.h"
#include "auth/secret.h"
#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "http/access.h"
#include "http/api.h"

#define MAX_NAME_LEN       64
#define MAX_PASSWORD_LEN   1024
#define MAX_TOKEN_NAME_LEN 100

static void set_session_cookie(VigilApp *app, SoupServerMessage *msg, const char *value,
                               gint64 max_age_s)
{
  GUri *uri = soup_server_message_get_uri(msg);
  gboolean tls = uri && g_strcmp0(g_uri_get_scheme(uri), "https") == 0;
  g_autofree gchar *cookie =
      g_strdup_printf("%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%" G_GINT64_FORMAT "%s",
                      VIGIL_SESSION_COOKIE, value, max_age_s, tls ? "; Secure" : "");
  soup_message_headers_append(soup_server_message_get_response_headers(msg), "Set-Cookie", cookie);
}

static void reply_session(SoupServerMessage *msg, VigilStore *store, const char *user,
                          const char *csrf)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_node(b, "user", vigil_user_json(store, user));
  vigil_json_add_string_or_null(b, "csrf_token", csrf);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  vigil_http_reply_json(msg, SOUP_STATUS_OK, node);
}

/* A login waiting for its password check. */
typedef struct {
  VigilApp *app;
  SoupServerMessage *msg; /* strong ref */
  gchar *name;
  gchar *address;
  gchar *password_hash; /* NULL for an unknown name */
  gboolean gone;
} Login;

static void login_gone(SoupServerMessage *msg, gpointer data)
{
  ((Login *)data)->gone = TRUE;
}

static void login_free(Login *login)
{
  g_signal_handlers_disconnect_by_data(login->msg, login);
  g_object_unref(login->msg);
  g_free(login->name);
  g_free(login->address);
  g_free(login->password_hash);
  g_free(login);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Login, login_free)

static void on_login_checked(GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Login) login = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_password_verify_finish(result, &error);
  SoupServerMessage *msg = login->msg;
  const char *address = login->address;
  VigilApp *app = login->app;
  /* The user as stored now: a password changed during the check makes the
   * answer stale, so it counts as wrong. */
  g_autoptr(VigilUser) user = ok ? vigil_store_get_user(app->store, login->name) : NULL;
  if (user && g_strcmp0(user->password_hash, login->password_hash) != 0)
    g_clear_pointer(&user, vigil_user_free);
  vigil_login_check_ended(login->name, address);
  if (!user && !error) /* counted even when the client left */
    vigil_login_failed(login->name, address);
  if (login->gone)
    return;
  soup_server_message_unpause(msg);
  if (error) {
    vigil_http_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "%s; try again", error->message);
    return;
  }
  if (!user) {
    g_info("failed login from %s", address ? address : "?");
    vigil_http_reply_error(msg, SOUP_STATUS_UNAUTHORIZED, "wrong user name or password");
    return;
  }
  gint64 now = g_get_real_time();
  /* Expired rows go at each login: no timer needed. */
  vigil_store_purge_sessions(app->store, now - vigil_session_idle_us(),
                             now - vigil_session_max_us());
  g_autofree gchar *token = vigil_secret_random_hex(NULL, 32);
  g_autofree gchar *hash = vigil_secret_sha256(token);
  if (!vigil_store_insert_session(app->store, hash, user->name, now, &error)) {
    vigil_http_reply_gerror(msg, error);
    return;
  }
  set_session_cookie(app, msg, token, vigil_session_max_us() / G_USEC_PER_SEC);
  g_autofree gchar *csrf = vigil_secret_csrf_token(token);
  g_info("user %s logged in from %s", user->name, address ? address : "?");
  reply_session(msg, app->store, user->name, csrf);
  memset(token, 0, strlen(token));
}

void vigil_api_session_login(VigilRequest *req)
{
  VigilApp *app = req->app;
  SoupServerMessage *msg = req->msg;
  /* Login CSRF: another site must not log a browser into some account. */
  if (vigil_http_origin_is_foreign(msg)) {
    vigil_http_reply_error(msg, SOUP_STATUS_FORBIDDEN,
                           "cross-site request refused (Origin does not match Host)");
    return;
  }
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  const char *name = NULL, *password = NULL;
  if (!o || !vigil_json_get_string(json_object_get_member(o, "username"), &name) ||
      !vigil_json_get_string(json_object_get_member(o, "password"), &password) || !*name ||
      strlen(name) > MAX_NAME_LEN || strlen(password) > MAX_PASSWORD_LEN) {
    vigil_http_reply_error(msg, SOUP_STATUS_BAD_REQUEST,
                           "give \"username\" and \"password\" as strings");
    return;
  }
  const char *address = soup_server_message_get_remote_host(msg);
  gint64 wait = vigil_login_retry_after(name, address);
  if (wait > 0) {
    vigil_http_reply_rate_limited(msg, wait);
    return;
  }
  /* The Argon2id check runs on the password thread (~145 ms): the main loop
   * serves everyone else meanwhile. An unknown name costs the same time as
   * a known one. */
  g_autoptr(VigilUser) user = vigil_store_get_user(app->store, name);
  Login *login = g_new0(Login, 1);
  login->app = app;
  login->msg = g_object_ref(msg);
  login->name = g_strdup(name);
  login->address = g_strdup(address);
  login->password_hash = user ? g_strdup(user->password_hash) : NULL;
  g_signal_connect(msg, "finished", G_CALLBACK(login_gone), login);
  g_signal_connect(msg, "disconnected", G_CALLBACK(login_gone), login);
  soup_server_message_pause(msg);
  vigil_login_check_started(login->name, login->address);
  vigil_password_verify_async(login->password_hash, password, on_login_checked, login);
}

void vigil_api_session_get(VigilRequest *req)
{
  VigilIdentity *id = req->identity;
  g_autofree gchar *csrf = id->session_token ? vigil_secret_csrf_token(id->session_token) : NULL;
  reply_session(req->msg, req->app->store, id->user, csrf);
}

void vigil_api_session_delete(VigilRequest *req)
{
  VigilIdentity *id = req->identity;
  if (id->session_token) {
    g_autofree gchar *hash = vigil_secret_sha256(id->session_token);
    vigil_store_delete_session(req->app->store, hash);
    g_info("user %s logged out", id->user);
  }
  set_session_cookie(req->app, req->msg, "", 0);
  vigil_http_reply_no_content(req->msg);
}

/* --- API tokens --- */

static JsonNode *token_json(const VigilApiToken *t, const char *secret)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_int(b, "id", t->id);
  vigil_json_add_string_or_null(b, "name", t->name);
  g_autofree gchar *created = vigil_time_format(t->created_us);
  vigil_json_add_string(b, "created", created);
  g_autofree gchar *used = t->last_used_us ? vigil_time_format(t->last_used_us) : NULL;
  vigil_json_add_string_or_null(b, "last_used", used);
  if (secret) {
    vigil_json_add_string(b, "token", secret);
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

void vigil_api_tokens_create(VigilRequest *req)
{
  if (req->identity->method == VIGIL_AUTH_BEARER) {
    /* A leaked token must not be able to mint tokens that outlive it. */
    vigil_http_reply_error(req->msg, SOUP_STATUS_FORBIDDEN,
                           "log in with a password to create API tokens");
    return;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  JsonObject *o = JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
  const char *name = NULL;
  const char *unknown =
      o ? vigil_json_unknown_member(o, (const char *const[]){"name", NULL}) : NULL;
  if (unknown) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "unknown field \"%s\"", unknown);
    return;
  }
  if (o)
    vigil_json_get_string(json_object_get_member(o, "name"), &name);
  if (!o || (json_object_has_member(o, "name") && !name) ||
      (name && (g_utf8_strlen(name, -1) > MAX_TOKEN_NAME_LEN))) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "give an object with an optional \"name\" (up to %d characters)",
                           MAX_TOKEN_NAME_LEN);
    return;
  }
  g_autofree gchar *secret = vigil_secret_random_hex("vigil_", 32);
  g_autofree gchar *hash = vigil_secret_sha256(secret);
  gint64 now = g_get_real_time();
  gint64 id =
      vigil_store_insert_token(req->app->store, req->identity->user, hash, name, now, &error);
  if (id < 0) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  VigilApiToken t = {.id = id, .name = (gchar *)name, .created_us = now};
  g_autoptr(JsonNode) node = token_json(&t, secret);
  g_info("user %s created API token %" G_GINT64_FORMAT, req->identity->user, id);
  vigil_http_reply_json(req->msg, SOUP_STATUS_CREATED, node);
  memset(secret, 0, strlen(secret));
}

void vigil_api_tokens_list(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens =
      vigil_store_list_tokens(req->app->store, req->identity->user, &error);
  if (!tokens) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonArray) array = json_array_new();
  for (guint i = 0; i < tokens->len; i++)
    json_array_add_element(array, token_json(g_ptr_array_index(tokens, i), NULL));
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_token_delete(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  guint64 id = 0;
  if (!g_ascii_string_to_unsigned(vigil_request_param(req, "id"), 10, 1, G_MAXINT64, &id, NULL)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such token");
    return;
  }
  /* Only the owner's tokens: another user's id answers 404 like a missing one. */
  if (!vigil_store_delete_token(req->app->store, req->identity->user, (gint64)id, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_info("user %s revoked API token %" G_GINT64_FORMAT, req->identity->user, (gint64)id);
  vigil_http_reply_no_content(req->msg);
}
