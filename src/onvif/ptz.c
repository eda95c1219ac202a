/* ONVIF PTZ: one call to a camera's PTZ service (move, stop, presets, home),
 * asynchronously on libsoup. What a call needs from the device (the PTZ
 * service address, the media profile token and the clock offset for the
 * WS-Security digest) comes from the probe in onvif.c, once per device and
 * user, and is cached; a cached entry that stops working is probed again. */
#define G_LOG_DOMAIN "vigil-onvif"

#include <libsoup/soup.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "onvif/onvif.h"

#define READ_CHUNK 65536

typedef struct {
  char *ptz_address, *profile_token;
  gint64 clock_offset_s;
} Entry;

/* device URL + user + profile → Entry; main context only. */
static GHashTable *cache;
static SoupSession *session;

static void entry_free(Entry *e)
{
  if (!e)
    return;
  g_free(e->ptz_address);
  g_free(e->profile_token);
  g_free(e);
}

static Entry *entry_copy(const Entry *e)
{
  Entry *c = g_new0(Entry, 1);
  c->ptz_address = g_strdup(e->ptz_address);
  c->profile_token = g_strdup(e->profile_token);
  c->clock_offset_s = e->clock_offset_s;
  return c;
}

typedef struct {
  char *device_url, *username, *password, *profile, *key;
  VigilPtzCommand cmd; /* preset and name point into the copies below */
  char *preset, *name;
  Entry *entry;
  gboolean from_cache, reprobed, http_auth_tried;
  SoupMessage *msg;
  GInputStream *body;
  GByteArray *answer;
  char *preset_token;
  GPtrArray *presets;
} Job;

static void job_free(Job *j)
{
  g_free(j->device_url);
  g_free(j->username);
  if (j->password)
    memset(j->password, 0, strlen(j->password));
  g_free(j->password);
  g_free(j->profile);
  g_free(j->key);
  g_free(j->preset);
  g_free(j->name);
  entry_free(j->entry);
  g_clear_object(&j->msg);
  g_clear_object(&j->body);
  if (j->answer)
    g_byte_array_unref(j->answer);
  g_free(j->preset_token);
  if (j->presets)
    g_ptr_array_unref(j->presets);
  g_free(j);
}

void vigil_ptz_forget(const char *device_url)
{
  if (!cache)
    return;
  if (!device_url) {
    g_hash_table_remove_all(cache);
    return;
  }
  g_autofree char *prefix = g_strconcat(device_url, "\n", NULL);
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, cache);
  while (g_hash_table_iter_next(&iter, &key, NULL))
    if (g_str_has_prefix(key, prefix))
      g_hash_table_iter_remove(&iter);
}

static void fail(GTask *task, gint code, const char *format, ...) G_GNUC_PRINTF(3, 4);
static void fail(GTask *task, gint code, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_task_return_new_error(task, VIGIL_ERROR, code, "%s", message);
  g_object_unref(task);
}

static void start_probe(GTask *task);
static void send_ptz(GTask *task);

/* A login or transport failure with a cached entry: the device may have
 * changed (new address, clock drift): probe it again, once. */
static gboolean retry_with_probe(GTask *task)
{
  Job *j = g_task_get_task_data(task);
  if (!j->from_cache || j->reprobed || g_cancellable_is_cancelled(g_task_get_cancellable(task)))
    return FALSE;
  g_debug("PTZ: the cached device entry failed; probing the device again");
  g_hash_table_remove(cache, j->key);
  j->reprobed = TRUE;
  j->from_cache = FALSE;
  start_probe(task);
  return TRUE;
}

static void handle_answer(GTask *task)
{
  Job *j = g_task_get_task_data(task);
  guint status = soup_message_get_status(j->msg);
  const char *xml = (const char *)j->answer->data;
  gsize len = j->answer->len;
  gboolean not_authorized = FALSE, ok = FALSE;
  g_autoptr(GError) error = NULL;
  const char *op = vigil_onvif_ptz_operation(j->cmd.action);

  if (status == SOUP_STATUS_UNAUTHORIZED) {
    not_authorized = TRUE;
  } else if (j->cmd.action == VIGIL_PTZ_SET_PRESET) {
    j->preset_token = vigil_onvif_parse_set_preset(xml, len, &not_authorized, &error);
    ok = j->preset_token != NULL;
  } else if (j->cmd.action == VIGIL_PTZ_GET_PRESETS) {
    j->presets = vigil_onvif_parse_presets(xml, len, &not_authorized, &error);
    ok = j->presets != NULL;
  } else {
    ok = vigil_onvif_parse_ptz_ack(xml, len, j->cmd.action, &not_authorized, &error);
  }
  if (ok) {
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
    return;
  }
  if (not_authorized) {
    if (retry_with_probe(task))
      return;
    fail(task, VIGIL_ERROR_FAILED,
         "the camera refused the login for %s: check its username, "
         "password and clock",
         op);
    return;
  }
  if (g_error_matches(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT)) {
    fail(task, VIGIL_ERROR_CONFLICT, "%s", error->message);
    return;
  }
  fail(task, VIGIL_ERROR_FAILED, "the camera's %s failed: %s", op, error->message);
}

static void on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Job *j = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (!bytes) {
    if (!retry_with_probe(task))
      fail(task, VIGIL_ERROR_FAILED, "the camera stopped answering (%s)", error->message);
    return;
  }
  gsize n = g_bytes_get_size(bytes);
  if (n == 0) {
    g_clear_object(&j->body);
    handle_answer(task);
    return;
  }
  if (j->answer->len + n > VIGIL_ONVIF_MAX_ANSWER) {
    fail(task, VIGIL_ERROR_FAILED, "the camera's answer is over %d bytes", VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  g_byte_array_append(j->answer, g_bytes_get_data(bytes, NULL), (guint)n);
  g_input_stream_read_bytes_async(j->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                  g_task_get_cancellable(task), on_read, task);
}

static void on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Job *j = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  j->body = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (!j->body) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail(task, VIGIL_ERROR_FAILED, "cancelled");
    else if (!retry_with_probe(task))
      fail(task, VIGIL_ERROR_FAILED, "cannot reach the camera's PTZ service: %s", error->message);
    return;
  }
  goffset length =
      soup_message_headers_get_content_length(soup_message_get_response_headers(j->msg));
  if (length > VIGIL_ONVIF_MAX_ANSWER) {
    fail(task, VIGIL_ERROR_FAILED, "the camera's answer is over %d bytes", VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  if (j->answer)
    g_byte_array_unref(j->answer);
  j->answer = g_byte_array_new();
  g_input_stream_read_bytes_async(j->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                  g_task_get_cancellable(task), on_read, task);
}

static gboolean on_http_authenticate(SoupMessage *msg, SoupAuth *auth, gboolean retrying,
                                     gpointer user_data)
{
  Job *j = user_data;
  /* HTTP Digest for devices that want it too; once: a second ask is a no. */
  if (retrying || j->http_auth_tried || !j->username)
    return FALSE;
  j->http_auth_tried = TRUE;
  soup_auth_authenticate(auth, j->username, j->password);
  return TRUE;
}

static void send_ptz(GTask *task)
{
  Job *j = g_task_get_task_data(task);
  g_autofree char *request = vigil_onvif_build_ptz_request(
      &j->cmd, j->entry->profile_token, j->username, j->password, j->entry->clock_offset_s);
  g_clear_object(&j->msg);
  g_clear_object(&j->body);
  j->msg = soup_message_new("POST", j->entry->ptz_address);
  if (!j->msg) {
    fail(task, VIGIL_ERROR_FAILED, "the camera gave an unusable PTZ service address");
    return;
  }
  j->http_auth_tried = FALSE;
  g_signal_connect(j->msg, "authenticate", G_CALLBACK(on_http_authenticate), j);
  g_autofree char *type = g_strdup_printf(
      "application/soap+xml; charset=utf-8; action=\"http://www.onvif.org/ver20/ptz/wsdl/%s\"",
      vigil_onvif_ptz_operation(j->cmd.action));
  gsize len = strlen(request);
  soup_message_set_request_body_from_bytes(j->msg, type,
                                           g_bytes_new_take(g_steal_pointer(&request), len));
  soup_session_send_async(session, j->msg, G_PRIORITY_DEFAULT, g_task_get_cancellable(task),
                          on_sent, task);
}

/* The profile PTZ calls name: the configured one when the device lists it,
 * else the largest (the one a camera's main stream comes from). */
static const char *pick_profile(const VigilOnvifDevice *d, const char *wanted)
{
  const VigilOnvifProfile *big = NULL;
  for (guint i = 0; i < d->profiles->len; i++) {
    const VigilOnvifProfile *p = g_ptr_array_index(d->profiles, i);
    if (wanted && g_str_equal(p->token, wanted))
      return p->token;
    if (!big || (gint64)p->width * p->height > (gint64)big->width * big->height)
      big = p;
  }
  return big ? big->token : NULL;
}

static void on_probed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Job *j = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilOnvifDevice) d = vigil_onvif_probe_finish(result, &error);
  if (!d) {
    fail(task, VIGIL_ERROR_FAILED, "%s", error->message);
    return;
  }
  if (!d->ptz_address) {
    fail(task, VIGIL_ERROR_CONFLICT, "camera has no PTZ");
    return;
  }
  Entry *e = g_new0(Entry, 1);
  e->ptz_address = g_strdup(d->ptz_address);
  e->profile_token = g_strdup(pick_profile(d, j->profile));
  e->clock_offset_s = d->clock_offset_s;
  g_hash_table_replace(cache, g_strdup(j->key), e);
  entry_free(j->entry);
  j->entry = entry_copy(e);
  send_ptz(task);
}

static void start_probe(GTask *task)
{
  Job *j = g_task_get_task_data(task);
  vigil_onvif_probe_async(j->device_url, j->username, j->password, g_task_get_cancellable(task),
                          on_probed, task);
}

void vigil_ptz_async(const char *device_url, const char *username, const char *password,
                     const char *profile, const VigilPtzCommand *cmd, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail(device_url != NULL && cmd != NULL);
  if (!cache) {
    cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)entry_free);
    session = soup_session_new_with_options("timeout", VIGIL_ONVIF_TIMEOUT_S, "idle-timeout", 30,
                                            "user-agent", "vigil", NULL);
  }
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, vigil_ptz_async);
  Job *j = g_new0(Job, 1);
  j->device_url = g_strdup(device_url);
  j->username = g_strdup(username && *username ? username : NULL);
  j->password = g_strdup(password ? password : "");
  j->profile = g_strdup(profile);
  j->key = g_strdup_printf("%s\n%s\n%s", device_url, j->username ? j->username : "",
                           profile ? profile : "");
  j->cmd = *cmd;
  j->preset = g_strdup(cmd->preset);
  j->name = g_strdup(cmd->name);
  j->cmd.preset = j->preset;
  j->cmd.name = j->name;
  g_task_set_task_data(task, j, (GDestroyNotify)job_free);
  const Entry *e = g_hash_table_lookup(cache, j->key);
  if (e) {
    j->from_cache = TRUE;
    j->entry = entry_copy(e);
    send_ptz(task);
  } else {
    start_probe(task);
  }
}

gboolean vigil_ptz_finish(GAsyncResult *result, char **preset_token, GPtrArray **presets,
                          GError **error)
{
  GTask *task = G_TASK(result);
  if (!g_task_propagate_boolean(task, error))
    return FALSE;
  Job *j = g_task_get_task_data(task);
  if (preset_token)
    *preset_token = g_steal_pointer(&j->preset_token);
  if (presets)
    *presets = g_steal_pointer(&j->presets);
  return TRUE;
}

/* ---- the API's command set (docs/api.md#ptz), shared with MQTT ---- */

/* A speed member: absent is 0. */
static gboolean read_speed(JsonObject *o, const char *field, double *out, GError **error)
{
  JsonNode *node = json_object_get_member(o, field);
  *out = 0;
  if (!node)
    return TRUE;
  if (!vigil_json_get_double(node, -1, 1, out))
    return vigil_json_field_invalid(error, field, "must be a number from -1 to 1");
  return TRUE;
}

/* A preset token or name: 1-64 characters of text. */
static gboolean read_text(JsonObject *o, const char *field, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member(o, field);
  if (!node)
    return vigil_json_field_invalid(error, field, "is required");
  if (!vigil_json_read_string(node, field, out, error))
    return FALSE;
  glong chars = g_utf8_strlen(*out, -1);
  if (chars < 1 || chars > VIGIL_ONVIF_MAX_TOKEN)
    return vigil_json_field_invalid(error, field, "must be 1 to %d characters",
                                    VIGIL_ONVIF_MAX_TOKEN);
  for (const char *p = *out; *p; p = g_utf8_next_char(p))
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return vigil_json_field_invalid(error, field, "must not contain control characters");
  return TRUE;
}

gboolean vigil_ptz_command_from_json(JsonNode *body, VigilPtzCommand *cmd, GError **error)
{
  static const char *const actions[] = {"move",          "stop", "goto_preset", "set_preset",
                                        "remove_preset", "home", "relative"};
  static const VigilPtzAction codes[] = {
      VIGIL_PTZ_MOVE,          VIGIL_PTZ_STOP, VIGIL_PTZ_GOTO_PRESET, VIGIL_PTZ_SET_PRESET,
      VIGIL_PTZ_REMOVE_PRESET, VIGIL_PTZ_HOME, VIGIL_PTZ_RELATIVE};
  static const char *const move_fields[] = {"action", "pan", "tilt", "zoom", NULL};
  static const char *const preset_fields[] = {"action", "preset", NULL};
  static const char *const name_fields[] = {"action", "name", NULL};
  static const char *const bare_fields[] = {"action", NULL};
  if (!JSON_NODE_HOLDS_OBJECT(body))
    return vigil_json_invalid(error, "give an object with \"action\"");
  JsonObject *o = json_node_get_object(body);
  JsonNode *action = json_object_get_member(o, "action");
  if (!action)
    return vigil_json_field_invalid(error, "action", "is required");
  int which;
  if (!vigil_json_read_enum(action, "action", actions, G_N_ELEMENTS(actions), &which, error))
    return FALSE;
  memset(cmd, 0, sizeof *cmd);
  cmd->action = codes[which];
  const char *const *allowed =
      cmd->action == VIGIL_PTZ_MOVE || cmd->action == VIGIL_PTZ_RELATIVE ? move_fields
      : cmd->action == VIGIL_PTZ_GOTO_PRESET || cmd->action == VIGIL_PTZ_REMOVE_PRESET
          ? preset_fields
      : cmd->action == VIGIL_PTZ_SET_PRESET ? name_fields
                                            : bare_fields;
  const char *unknown = vigil_json_unknown_member(o, allowed);
  if (unknown)
    return vigil_json_invalid(error, "unknown field \"%s\" for action \"%s\"", unknown,
                              actions[which]);
  switch (cmd->action) {
  case VIGIL_PTZ_MOVE:
    return read_speed(o, "pan", &cmd->pan, error) && read_speed(o, "tilt", &cmd->tilt, error) &&
           read_speed(o, "zoom", &cmd->zoom, error);
  case VIGIL_PTZ_RELATIVE:
    if (!read_speed(o, "pan", &cmd->pan, error) || !read_speed(o, "tilt", &cmd->tilt, error) ||
        !read_speed(o, "zoom", &cmd->zoom, error))
      return FALSE;
    if (cmd->pan == 0 && cmd->tilt == 0 && cmd->zoom == 0)
      return vigil_json_invalid(error, "a relative move needs a non-zero pan, tilt or zoom");
    return TRUE;
  case VIGIL_PTZ_GOTO_PRESET:
  case VIGIL_PTZ_REMOVE_PRESET:
    return read_text(o, "preset", &cmd->preset, error);
  case VIGIL_PTZ_SET_PRESET:
    return read_text(o, "name", &cmd->name, error);
  default:
    return TRUE;
  }
}
