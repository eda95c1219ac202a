/* The pure part of notifications: the events filter, the cool-down, the
 * text of an event, and each request's body, headers and signature. */
#include "notify/notify.h"

#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#include "core/json.h"
#include "vigil-config.h"

#define MAX_TEXT 200 /* of a barcode's text in a message */

static gboolean in_list(gchar **list, const char *word)
{
  return word && g_strv_contains((const gchar *const *)list, word);
}

static const char *member_string(JsonObject *o, const char *name)
{
  JsonNode *v = json_object_get_member(o, name);
  return v && JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
             ? json_node_get_string(v)
             : NULL;
}

/* The event's score, or NAN when it has none. */
static double member_score(JsonObject *o)
{
  JsonNode *v = json_object_get_member(o, "score");
  return v && JSON_NODE_HOLDS_VALUE(v) ? json_node_get_double(v) : NAN;
}

gboolean vigil_notify_matches(const VigilWebhook *w, JsonObject *event)
{
  const char *camera = member_string(event, "camera");
  const char *type = member_string(event, "type");
  const char *label = member_string(event, "label");
  if (w->cameras[0] && !in_list(w->cameras, camera))
    return FALSE;
  if (w->types[0] && !in_list(w->types, type))
    return FALSE;
  if (w->labels[0] && !in_list(w->labels, label))
    return FALSE;
  double score = member_score(event);
  return isnan(score) || score >= w->min_score;
}

GHashTable *vigil_notify_cooldowns_new(void)
{
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

gboolean vigil_notify_cooldown_allows(GHashTable *last, const char *webhook, const char *camera,
                                      int cooldown_s, gint64 now_us)
{
  g_autofree gchar *key = g_strdup_printf("%s\n%s", webhook, camera ? camera : "");
  gint64 *when = g_hash_table_lookup(last, key);
  if (when && cooldown_s > 0 && now_us - *when < (gint64)cooldown_s * G_USEC_PER_SEC)
    return FALSE;
  if (!when) {
    when = g_new(gint64, 1);
    g_hash_table_insert(last, g_steal_pointer(&key), when);
  }
  *when = now_us;
  return TRUE;
}

gchar *vigil_notify_signature(const char *secret, GBytes *body)
{
  g_autoptr(GHmac) hmac = g_hmac_new(G_CHECKSUM_SHA256, (const guchar *)secret, strlen(secret));
  gsize len = 0;
  const guchar *data = g_bytes_get_data(body, &len);
  g_hmac_update(hmac, data, len);
  return g_strdup_printf("sha256=%s", g_hmac_get_string(hmac));
}

gchar *vigil_notify_text(JsonObject *event, const char *camera_name, gboolean test)
{
  const char *type = member_string(event, "type");
  const char *label = member_string(event, "label");
  GString *text = g_string_new(test ? "Test: " : "");
  if (g_strcmp0(type, "object") == 0 && label && *label) {
    g_string_append_c(text, g_ascii_toupper(label[0]));
    g_string_append(text, label + 1);
  } else if (g_strcmp0(type, "barcode") == 0) {
    JsonNode *data = json_object_get_member(event, "data");
    const char *code = data && JSON_NODE_HOLDS_OBJECT(data)
                           ? member_string(json_node_get_object(data), "text")
                           : NULL;
    gboolean qr = label && strstr(label, "QR");
    g_string_append(text, qr ? "QR code" : "Barcode");
    if (code) {
      g_autofree gchar *cut = g_utf8_make_valid(code, -1);
      if (g_utf8_strlen(cut, -1) > MAX_TEXT)
        *g_utf8_offset_to_pointer(cut, MAX_TEXT) = '\0';
      g_string_append_printf(text, " \"%s\"", cut);
    }
  } else if (g_strcmp0(type, "alarm") == 0) {
    g_string_append_printf(text, "Alarm \"%s\"", label ? label : "alarm");
  } else if (g_strcmp0(type, "motion") == 0) {
    g_string_append(text, "Motion");
  } else {
    g_string_append(text, type ? type : "Event");
  }
  if (camera_name)
    g_string_append_printf(text, " in %s", camera_name);
  double score = member_score(event);
  if (g_strcmp0(type, "object") == 0 && !isnan(score))
    g_string_append_printf(text, " (%d %%)", (int)lround(score * 100));
  return g_string_free(text, FALSE);
}

void vigil_notify_job_free(VigilNotifyJob *job)
{
  if (!job)
    return;
  g_free(job->webhook);
  g_free(job->url);
  g_free(job->secret);
  g_free(job->auth_token);
  g_free(job->event_json);
  g_free(job->camera_id);
  g_free(job->camera_name);
  g_free(job->public_url);
  g_free(job->snapshot_url);
  g_free(job->thumbnail_path);
  g_free(job);
}

void vigil_notify_request_free(VigilNotifyRequest *request)
{
  if (!request)
    return;
  g_clear_pointer(&request->body, g_bytes_unref);
  g_clear_pointer(&request->headers, g_ptr_array_unref);
  g_free(request);
}

const char *vigil_notify_request_header(const VigilNotifyRequest *request, const char *name)
{
  for (guint i = 0; i + 1 < request->headers->len; i += 2)
    if (g_ascii_strcasecmp(g_ptr_array_index(request->headers, i), name) == 0)
      return g_ptr_array_index(request->headers, i + 1);
  return NULL;
}

/* A header value from any text: control characters become spaces, and
 * text beyond ASCII is sent as an RFC 2047 encoded word (ntfy reads it). */
static gchar *header_value(const char *text)
{
  g_autofree gchar *valid = g_utf8_make_valid(text, -1);
  gboolean ascii = TRUE;
  for (char *p = valid; *p; p++) {
    if ((guchar)*p < 0x20 || *p == 0x7f)
      *p = ' ';
    ascii = ascii && (guchar)*p < 0x80;
  }
  if (ascii)
    return g_steal_pointer(&valid);
  g_autofree gchar *b64 = g_base64_encode((const guchar *)valid, strlen(valid));
  return g_strdup_printf("=?UTF-8?B?%s?=", b64);
}

static void add_header(GPtrArray *headers, const char *name, const char *value)
{
  g_ptr_array_add(headers, g_strdup(name));
  g_ptr_array_add(headers, header_value(value));
}

/* {"type", "event", "camera", "snapshot_url"} */
static gchar *json_body(const VigilNotifyJob *job)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "type", job->test ? "test" : "new");
  JsonNode *event = json_from_string(job->event_json, NULL);
  if (event)
    vigil_json_add_node(b, "event", event);
  else
    vigil_json_add_null(b, "event");
  if (job->camera_id) {
    vigil_json_begin_object(b, "camera");
    vigil_json_add_string(b, "id", job->camera_id);
    vigil_json_add_string(b, "name", job->camera_name ? job->camera_name : job->camera_id);
    json_builder_end_object(b);
  } else {
    vigil_json_add_null(b, "camera");
  }
  if (job->snapshot == VIGIL_WEBHOOK_SNAPSHOT_URL && job->snapshot_url)
    vigil_json_add_string(b, "snapshot_url", job->snapshot_url);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  return vigil_json_to_string(node);
}

static void build_json(const VigilNotifyJob *job, GBytes *jpeg, VigilNotifyRequest *r)
{
  gchar *body = json_body(job);
  gsize len = strlen(body);
  g_autoptr(GBytes) json = g_bytes_new_take(body, len);
  if (job->snapshot != VIGIL_WEBHOOK_SNAPSHOT_ATTACH || !jpeg) {
    add_header(r->headers, "Content-Type", "application/json");
    r->body = g_steal_pointer(&json);
    return;
  }
  g_autoptr(SoupMultipart) multipart = soup_multipart_new("multipart/form-data");
  soup_multipart_append_form_file(multipart, "event", NULL, "application/json", json);
  g_autofree gchar *filename = g_strdup_printf("event-%" G_GINT64_FORMAT ".jpg", job->event_id);
  soup_multipart_append_form_file(multipart, "snapshot", filename, "image/jpeg", jpeg);
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
  soup_multipart_to_message(multipart, headers, &r->body);
  add_header(r->headers, "Content-Type", soup_message_headers_get_one(headers, "Content-Type"));
}

static void build_ntfy(const VigilNotifyJob *job, GBytes *jpeg, VigilNotifyRequest *r)
{
  g_autoptr(JsonNode) event = json_from_string(job->event_json, NULL);
  g_autoptr(JsonObject) empty = json_object_new();
  JsonObject *o = event && JSON_NODE_HOLDS_OBJECT(event) ? json_node_get_object(event) : empty;
  g_autofree gchar *text = vigil_notify_text(o, job->camera_name, job->test);
  g_autofree gchar *title =
      job->camera_name ? g_strdup_printf("vigil: %s", job->camera_name) : g_strdup("vigil");
  add_header(r->headers, "Title", title);
  const char *type = member_string(o, "type");
  const char *label = member_string(o, "label");
  const char *tag = g_strcmp0(type, "object") == 0 && label ? label : type;
  if (tag)
    add_header(r->headers, "Tags", tag);
  if (job->public_url && job->camera_id) {
    g_autofree gchar *escaped = g_uri_escape_string(job->camera_id, NULL, FALSE);
    g_autofree gchar *click = g_strdup_printf("%s/camera?id=%s", job->public_url, escaped);
    add_header(r->headers, "Click", click);
  }
  if (job->snapshot == VIGIL_WEBHOOK_SNAPSHOT_URL && job->snapshot_url)
    add_header(r->headers, "Attach", job->snapshot_url);
  if (job->snapshot == VIGIL_WEBHOOK_SNAPSHOT_ATTACH && jpeg) {
    r->method = "PUT";
    g_autofree gchar *filename = g_strdup_printf("event-%" G_GINT64_FORMAT ".jpg", job->event_id);
    add_header(r->headers, "Filename", filename);
    add_header(r->headers, "Message", text);
    add_header(r->headers, "Content-Type", "image/jpeg");
    r->body = g_bytes_ref(jpeg);
    return;
  }
  add_header(r->headers, "Content-Type", "text/plain; charset=utf-8");
  r->body = g_bytes_new(text, strlen(text));
}

VigilNotifyRequest *vigil_notify_build_request(const VigilNotifyJob *job, GBytes *jpeg)
{
  VigilNotifyRequest *r = g_new0(VigilNotifyRequest, 1);
  r->method = "POST";
  r->headers = g_ptr_array_new_with_free_func(g_free);
  if (job->format == VIGIL_WEBHOOK_NTFY)
    build_ntfy(job, jpeg, r);
  else
    build_json(job, jpeg, r);
  add_header(r->headers, "User-Agent", "vigil/" VIGIL_VERSION);
  g_autofree gchar *id = g_strdup_printf("%" G_GUINT64_FORMAT, job->id);
  add_header(r->headers, "X-Vigil-Delivery", id);
  add_header(r->headers, "X-Vigil-Event", job->test ? "test" : "new");
  if (job->secret) {
    g_autofree gchar *signature = vigil_notify_signature(job->secret, r->body);
    add_header(r->headers, "X-Vigil-Signature", signature);
  }
  if (job->auth_token) {
    g_autofree gchar *bearer = g_strdup_printf("Bearer %s", job->auth_token);
    add_header(r->headers, "Authorization", bearer);
  }
  return r;
}
