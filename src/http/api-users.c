/* /api/v1/users and /api/v1/users/{name}: admins manage users, their roles,
 * passwords and per-camera rights. Never answers a password or its hash. */
#define G_LOG_DOMAIN "vigil-http"

#include <string.h>

#include "auth/basic.h"
#include "auth/password.h"
#include "core/error.h"
#include "core/json.h"
#include "core/util.h"
#include "http/access.h"
#include "http/api.h"

#define MAX_USER_NAME   64
#define MIN_PASSWORD    8
#define MAX_PASSWORD    1024
#define MAX_CAMERA_ROWS 1024

/* [A-Za-z0-9][A-Za-z0-9._@-]{0,63}: no ':' (Basic), no '/' (paths), nothing
 * that needs escaping in a URL or a log line. */
static gboolean user_name_is_valid(const char *name)
{
  gsize len = strlen(name);
  if (len == 0 || len > MAX_USER_NAME || !g_ascii_isalnum(name[0]))
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '@' && *p != '-')
      return FALSE;
  return TRUE;
}

JsonNode *vigil_user_json(VigilStore *store, const char *name)
{
  g_autoptr(VigilUser) user = vigil_store_get_user(store, name);
  if (!user)
    return NULL;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "name", user->name);
  vigil_json_add_string(b, "role", user->role);
  vigil_json_begin_object(b, "cameras");
  g_autoptr(VigilPermissions) perms = vigil_permissions_load(store, name);
  if (vigil_permissions_is_admin(perms)) {
    /* What an admin effectively has, whatever rows exist. */
    vigil_permissions_set(perms, VIGIL_ALL_CAMERAS, VIGIL_RIGHTS_ALL);
  }
  GHashTable *rows = perms ? vigil_permissions_rows(perms) : NULL;
  g_autoptr(GList) keys = rows ? g_hash_table_get_keys(rows) : NULL;
  keys = g_list_sort(keys, (GCompareFunc)g_strcmp0);
  for (GList *l = keys; l; l = l->next) {
    if (vigil_permissions_is_admin(perms) && !g_str_equal(l->data, VIGIL_ALL_CAMERAS))
      continue;
    VigilRights rights = GPOINTER_TO_UINT(g_hash_table_lookup(rows, l->data));
    vigil_json_begin_array(b, l->data);
    for (VigilRight r = VIGIL_RIGHT_VIEW; r <= VIGIL_RIGHT_CONTROL; r <<= 1)
      if (rights & r)
        json_builder_add_string_value(b, vigil_right_to_string(r));
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
  g_autofree gchar *created = vigil_time_format(user->created_us);
  vigil_json_add_string(b, "created", created);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void reply_user_to(SoupServerMessage *msg, VigilStore *store, guint status, const char *name)
{
  g_autoptr(JsonNode) node = vigil_user_json(store, name);
  if (!node) {
    vigil_http_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such user");
    return;
  }
  vigil_http_reply_json(msg, status, node);
}

static void reply_user(VigilRequest *req, guint status, const char *name)
{
  reply_user_to(req->msg, req->app->store, status, name);
}

/* Parses a "cameras" map into camera key -> stored rights string, checking
 * keys, rights and the role's ceiling. */
static GHashTable *parse_cameras(JsonNode *node, VigilRole role, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node)) {
    vigil_json_invalid(error,
                       "field \"cameras\" must be an object mapping camera ids (or \"*\") to "
                       "lists of rights");
    return NULL;
  }
  JsonObject *o = json_node_get_object(node);
  if (json_object_get_size(o) > MAX_CAMERA_ROWS) {
    vigil_json_invalid(error, "field \"cameras\" has too many entries");
    return NULL;
  }
  g_autoptr(GHashTable) rows = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *camera = l->data;
    if (!g_str_equal(camera, VIGIL_ALL_CAMERAS) && !vigil_slug_is_valid(camera)) {
      vigil_json_invalid(error, "keys of \"cameras\" must be camera ids or \"*\"");
      return NULL;
    }
    JsonNode *v = json_object_get_member(o, camera);
    if (!JSON_NODE_HOLDS_ARRAY(v)) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "cameras.%s must be a list of rights (view, playback, control)", camera);
      return NULL;
    }
    VigilRights rights = 0;
    JsonArray *a = json_node_get_array(v);
    for (guint i = 0; i < json_array_get_length(a); i++) {
      const char *name = NULL;
      vigil_json_get_string(json_array_get_element(a, i), &name);
      VigilRight r = vigil_right_from_string(name);
      if (!r) {
        g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                    "cameras.%s: rights are \"view\", \"playback\" and \"control\"", camera);
        return NULL;
      }
      rights |= r;
    }
    if (rights & ~vigil_role_max_rights(role)) {
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                  "cameras.%s: a viewer cannot have the control right", camera);
      return NULL;
    }
    if (rights)
      g_hash_table_replace(rows, g_strdup(camera), vigil_rights_to_string(rights));
  }
  return g_steal_pointer(&rows);
}

gboolean vigil_user_body_parse(JsonNode *body, gboolean creating, const char *current_role,
                               const char **name, const char **password, const char **role,
                               GHashTable **cameras, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(body))
    return vigil_json_invalid(error, "a user must be a JSON object");
  JsonObject *o = json_node_get_object(body);
  JsonNode *cameras_node = NULL;
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *l = members; l; l = l->next) {
    const char *member = l->data;
    JsonNode *v = json_object_get_member(o, member);
    const char *text = NULL;
    vigil_json_get_string(v, &text);
    if (g_str_equal(member, "name")) {
      if (!text || !user_name_is_valid(text))
        return vigil_json_invalid(error,
                                  "field \"name\" must be 1-64 letters, digits, '.', '_', '@' or "
                                  "'-', starting with a letter or digit");
      *name = text;
    } else if (g_str_equal(member, "password")) {
      glong chars = text ? g_utf8_strlen(text, -1) : 0;
      if (!text || chars < MIN_PASSWORD || strlen(text) > MAX_PASSWORD)
        return vigil_json_invalid(error,
                                  "field \"password\" must be a string of 8 to 1024 characters");
      *password = text;
    } else if (g_str_equal(member, "role")) {
      if (vigil_role_from_string(text) == VIGIL_ROLE_INVALID)
        return vigil_json_invalid(error,
                                  "field \"role\" must be \"admin\", \"operator\" or \"viewer\"");
      *role = text;
    } else if (g_str_equal(member, "cameras")) {
      cameras_node = v;
    } else if (g_str_equal(member, "created")) {
      return vigil_json_invalid(error, "field \"created\" is read-only");
    } else {
      return vigil_json_invalid(error, "unknown field \"%s\"", member);
    }
  }
  if (creating && (!*name || !*password || !*role))
    return vigil_json_invalid(error, "fields \"name\", \"password\" and \"role\" are required");
  if (cameras_node) {
    const char *effective = *role ? *role : current_role;
    *cameras = parse_cameras(cameras_node, vigil_role_from_string(effective), error);
    if (!*cameras)
      return FALSE;
  }
  return TRUE;
}

/* Drops control from stored rows (a user demoted to viewer). */
static GHashTable *rows_without_control(VigilStore *store, const char *name)
{
  g_autoptr(GHashTable) rows = vigil_store_get_user_cameras(store, name);
  GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  if (!rows)
    return out;
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, rows);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    VigilRights r = vigil_rights_from_string(value) & ~VIGIL_RIGHT_CONTROL;
    if (r)
      g_hash_table_replace(out, g_strdup(key), vigil_rights_to_string(r));
  }
  return out;
}

/* --- setting a password: Argon2id on the password thread --- */

/* A request that sets a password, paused while the password thread hashes
 * it (~145 ms and 64 MiB, never on the main loop, which serves live video):
 * a new user, an admin's change, or a user's own change, whose current
 * password is checked there first. */
typedef enum { CHANGE_CREATE, CHANGE_PATCH, CHANGE_OWN } ChangeKind;

typedef struct {
  ChangeKind kind;
  VigilApp *app;
  SoupServerMessage *msg; /* strong ref */
  gboolean gone;          /* the client left: nothing is changed */
  gchar *actor;           /* who asked */
  gchar *name;            /* whose password */
  gchar *role;            /* create: the role; patch: the new one or NULL */
  GHashTable *cameras;    /* NULL: unchanged */
  gchar *password;        /* the new one; wiped when freed */
  gchar *checked_hash;    /* own change: the stored hash the current password is checked against */
  gchar *address;         /* own change: for the login rate limit */
} Change;

static void change_gone(SoupServerMessage *msg, gpointer data)
{
  ((Change *)data)->gone = TRUE;
}

static Change *change_new(VigilRequest *req, ChangeKind kind, const char *name,
                          const char *password, const char *role, GHashTable *cameras)
{
  Change *c = g_new0(Change, 1);
  c->kind = kind;
  c->app = req->app;
  c->msg = g_object_ref(req->msg);
  c->actor = g_strdup(req->user);
  c->name = g_strdup(name);
  c->role = g_strdup(role);
  c->cameras = cameras ? g_hash_table_ref(cameras) : NULL;
  c->password = g_strdup(password);
  g_signal_connect(c->msg, "finished", G_CALLBACK(change_gone), c);
  g_signal_connect(c->msg, "disconnected", G_CALLBACK(change_gone), c);
  soup_server_message_pause(c->msg);
  return c;
}

static void change_free(Change *c)
{
  g_signal_handlers_disconnect_by_data(c->msg, c);
  g_object_unref(c->msg);
  g_free(c->actor);
  g_free(c->name);
  g_free(c->role);
  g_clear_pointer(&c->cameras, g_hash_table_unref);
  memset(c->password, 0, strlen(c->password));
  g_free(c->password);
  g_free(c->checked_hash);
  g_free(c->address);
  g_free(c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Change, change_free)

/* An admin's PATCH of @name, on the main loop: @hash (NULL: the password
 * stays), @role and @cameras (NULL: unchanged). */
static void apply_patch(SoupServerMessage *msg, VigilStore *store, const char *actor,
                        const char *name, const char *role, const char *hash, GHashTable *cameras)
{
  g_autoptr(GError) error = NULL;
  if ((role || hash) && !vigil_store_update_user(store, name, role, hash, &error)) {
    vigil_http_reply_gerror(msg, error);
    return;
  }
  g_autoptr(GHashTable) rows = cameras ? g_hash_table_ref(cameras) : NULL;
  if (!rows && role && vigil_role_from_string(role) == VIGIL_ROLE_VIEWER)
    rows = rows_without_control(store, name);
  if (rows && !vigil_store_set_user_cameras(store, name, rows, &error)) {
    vigil_http_reply_gerror(msg, error);
    return;
  }
  if (hash) {
    /* The store ended sessions and tokens; cached Basic successes go too. */
    vigil_auth_basic_forget();
    g_info("password of user %s changed by %s", name, actor);
  }
  if (role || rows)
    g_info("user %s changed by %s", name, actor);
  reply_user_to(msg, store, SOUP_STATUS_OK, name);
}

static void on_password_hashed(GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr(Change) c = data;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *hash = vigil_password_hash_finish(result, &error);
  if (c->gone)
    return;
  soup_server_message_unpause(c->msg);
  if (!hash) {
    vigil_http_reply_gerror(c->msg, error);
    return;
  }
  VigilStore *store = c->app->store;
  switch (c->kind) {
  case CHANGE_CREATE:
    if (!vigil_store_insert_user(store, c->name, c->role, hash, &error) ||
        !vigil_store_set_user_cameras(store, c->name, c->cameras, &error)) {
      vigil_http_reply_gerror(c->msg, error);
      return;
    }
    g_info("user %s (%s) created by %s", c->name, c->role, c->actor);
    reply_user_to(c->msg, store, SOUP_STATUS_CREATED, c->name);
    return;
  case CHANGE_PATCH:
    apply_patch(c->msg, store, c->actor, c->name, c->role, hash, c->cameras);
    return;
  case CHANGE_OWN: {
    /* The password changed while this one was checked and hashed: the
     * check was against a stale hash. */
    g_autoptr(VigilUser) user = vigil_store_get_user(store, c->name);
    if (!user || g_strcmp0(user->password_hash, c->checked_hash) != 0) {
      vigil_http_reply_error(c->msg, SOUP_STATUS_CONFLICT,
                             "the password was changed meanwhile; try again");
      return;
    }
    if (!vigil_store_update_user(store, c->name, NULL, hash, &error)) {
      vigil_http_reply_gerror(c->msg, error);
      return;
    }
    /* The store ended sessions and tokens; cached Basic successes go too. */
    vigil_auth_basic_forget();
    g_info("user %s changed their own password", c->name);
    reply_user_to(c->msg, store, SOUP_STATUS_OK, c->name);
    return;
  }
  }
}

/* Own change: the current password checked; the new one is hashed next. */
static void on_current_checked(GObject *source, GAsyncResult *result, gpointer data)
{
  Change *c = data;
  g_autoptr(GError) error = NULL;
  gboolean ok = vigil_password_verify_finish(result, &error);
  vigil_login_check_ended(c->name, c->address);
  if (!ok && !error) { /* counted even when the client left */
    vigil_login_failed(c->name, c->address);
    g_info("wrong current password in a password change from %s", c->address ? c->address : "?");
  }
  if (!ok || c->gone) {
    if (!c->gone) {
      soup_server_message_unpause(c->msg);
      if (error)
        vigil_http_reply_gerror(c->msg, error);
      else
        vigil_http_reply_error(c->msg, SOUP_STATUS_FORBIDDEN, "the current password is wrong");
    }
    change_free(c);
    return;
  }
  vigil_password_hash_async(c->password, on_password_hashed, c);
}

void vigil_api_users_create(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  const char *name = NULL, *password = NULL, *role = NULL;
  g_autoptr(GHashTable) cameras = NULL;
  if (!vigil_user_body_parse(body, TRUE, NULL, &name, &password, &role, &cameras, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (!cameras) {
    /* Role defaults (docs/security.md): operators all cameras, viewers view. */
    cameras = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    VigilRights rights = vigil_role_default_rights(vigil_role_from_string(role));
    if (rights)
      g_hash_table_replace(cameras, g_strdup(VIGIL_ALL_CAMERAS), vigil_rights_to_string(rights));
  }
  vigil_password_hash_async(password, on_password_hashed,
                            change_new(req, CHANGE_CREATE, name, password, role, cameras));
}

static void patch_user(VigilRequest *req, const VigilUser *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) body = vigil_request_body(req);
  if (!body)
    return;
  const char *name = NULL, *password = NULL, *role = NULL;
  g_autoptr(GHashTable) cameras = NULL;
  if (!vigil_user_body_parse(body, FALSE, user->role, &name, &password, &role, &cameras, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  if (name && !g_str_equal(name, user->name)) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST, "a user's name cannot change");
    return;
  }
  if (password)
    vigil_password_hash_async(password, on_password_hashed,
                              change_new(req, CHANGE_PATCH, user->name, password, role, cameras));
  else
    apply_patch(req->msg, req->app->store, req->user, user->name, role, NULL, cameras);
}

/* PATCH /api/v1/users/{self} {"password", "current_password"}: any user
 * changes their own password by proving the current one (a stolen session
 * cookie or token alone cannot). Wrong current passwords count as failed
 * logins (rate limit). Like an admin's change, it ends ALL of the user's
 * sessions (this one included) and revokes their API tokens. */
static void change_own_password(VigilRequest *req, JsonObject *o)
{
  const char *address = soup_server_message_get_remote_host(req->msg);
  const char *password, *current;
  if (!vigil_json_get_string(json_object_get_member(o, "password"), &password) ||
      !vigil_json_get_string(json_object_get_member(o, "current_password"), &current) ||
      json_object_get_size(o) != 2) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "changing your own password takes exactly \"password\" and "
                           "\"current_password\" (strings)");
    return;
  }
  if (g_utf8_strlen(password, -1) < MIN_PASSWORD || strlen(password) > MAX_PASSWORD) {
    vigil_http_reply_error(req->msg, SOUP_STATUS_BAD_REQUEST,
                           "field \"password\" must be a string of 8 to 1024 characters");
    return;
  }
  gint64 wait = vigil_login_retry_after(req->user, address);
  if (wait > 0) {
    vigil_http_reply_rate_limited(req->msg, wait);
    return;
  }
  g_autoptr(VigilUser) user = vigil_store_get_user(req->app->store, req->user);
  Change *c = change_new(req, CHANGE_OWN, req->user, password, NULL, NULL);
  c->checked_hash = user ? g_strdup(user->password_hash) : NULL;
  c->address = g_strdup(address);
  vigil_login_check_started(c->name, c->address);
  /* Too long to be anyone's: checked against the dummy, wrong in the same time. */
  gboolean possible = strlen(current) <= MAX_PASSWORD;
  vigil_password_verify_async(possible ? c->checked_hash : NULL, possible ? current : "",
                              on_current_checked, c);
}

/* The user {name} names; NULL after a 404. */
static VigilUser *lookup_user(VigilRequest *req)
{
  const char *name = vigil_request_param(req, "name");
  VigilUser *user = user_name_is_valid(name) ? vigil_store_get_user(req->app->store, name) : NULL;
  if (!user)
    vigil_http_reply_error(req->msg, SOUP_STATUS_NOT_FOUND, "no such user");
  return user;
}

void vigil_api_users_list(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) users = vigil_store_list_users(req->app->store, &error);
  if (!users) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  g_autoptr(JsonArray) array = json_array_new();
  for (guint i = 0; i < users->len; i++) {
    JsonNode *u = vigil_user_json(req->app->store, ((VigilUser *)users->pdata[i])->name);
    if (u)
      json_array_add_element(array, u);
  }
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_ARRAY);
  json_node_set_array(node, array);
  vigil_http_reply_json(req->msg, SOUP_STATUS_OK, node);
}

void vigil_api_user_get(VigilRequest *req)
{
  g_autoptr(VigilUser) user = lookup_user(req);
  if (user)
    reply_user(req, SOUP_STATUS_OK, user->name);
}

/* A user's own PATCH with "current_password" changes their password;
 * anything else is an admin's change. */
void vigil_api_user_patch(VigilRequest *req)
{
  if (g_str_equal(vigil_request_param(req, "name"), req->user)) {
    g_autoptr(JsonNode) body = vigil_http_parse_body(req->msg, NULL);
    JsonObject *o = body && JSON_NODE_HOLDS_OBJECT(body) ? json_node_get_object(body) : NULL;
    if (o && json_object_has_member(o, "current_password")) {
      change_own_password(req, o);
      return;
    }
  }
  if (!vigil_request_require_admin(req))
    return;
  g_autoptr(VigilUser) user = lookup_user(req);
  if (user)
    patch_user(req, user);
}

void vigil_api_user_delete(VigilRequest *req)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilUser) user = lookup_user(req);
  if (!user)
    return;
  if (!vigil_store_delete_user(req->app->store, user->name, &error)) {
    vigil_http_reply_gerror(req->msg, error);
    return;
  }
  vigil_auth_basic_forget();
  g_info("user %s deleted by %s", user->name, req->user);
  vigil_http_reply_no_content(req->msg);
}
