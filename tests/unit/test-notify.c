/* notify/payload.c: the events filter, the cool-down, the text of an event,
 * JSON and ntfy requests, headers and the HMAC signature. */
#include <glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "core/settings.h"
#include "notify/notify.h"

#define EVENT_OBJECT                                                                               \
  "{\"id\": 42, \"camera\": \"front\", \"type\": \"object\", \"start\": "                          \
  "\"2026-12-05T03:00:00.000Z\", \"end\": null, \"score\": 0.874, \"label\": \"person\", "         \
  "\"box\": null, \"data\": null, \"thumbnail\": \"/api/v1/events/42/thumbnail.jpg\", "            \
  "\"recording\": null}"

static JsonObject *parse(const char *json)
{
  JsonNode *node = json_from_string(json, NULL);
  g_assert_nonnull(node);
  JsonObject *o = json_object_ref(json_node_get_object(node));
  json_node_unref(node);
  return o;
}

static VigilWebhook *webhook(void)
{
  VigilWebhook *w = g_new0(VigilWebhook, 1);
  w->name = g_strdup("phone");
  w->enabled = TRUE;
  w->url = g_strdup("https://hooks.example/in?token=abc");
  w->cameras = g_new0(gchar *, 1);
  w->types = g_new0(gchar *, 1);
  w->labels = g_new0(gchar *, 1);
  return w;
}

static void test_filter(void)
{
  g_autoptr(VigilWebhook) w = webhook();
  JsonObject *person = parse(EVENT_OBJECT);
  JsonObject *motion = parse("{\"id\": 1, \"camera\": \"garage\", \"type\": \"motion\","
                             " \"score\": null, \"label\": null}");
  JsonObject *alarm = parse("{\"id\": 2, \"camera\": null, \"type\": \"alarm\","
                            " \"score\": null, \"label\": \"disk-low\"}");
  /* Empty lists: everything. */
  g_assert_true(vigil_notify_matches(w, person));
  g_assert_true(vigil_notify_matches(w, motion));
  g_assert_true(vigil_notify_matches(w, alarm));

  g_strfreev(w->cameras);
  w->cameras = g_strsplit("front,back", ",", -1);
  g_assert_true(vigil_notify_matches(w, person));
  g_assert_false(vigil_notify_matches(w, motion));
  g_assert_false(vigil_notify_matches(w, alarm)); /* no camera */

  g_strfreev(w->cameras);
  w->cameras = g_new0(gchar *, 1);
  g_strfreev(w->types);
  w->types = g_strsplit("object,alarm", ",", -1);
  g_assert_true(vigil_notify_matches(w, person));
  g_assert_false(vigil_notify_matches(w, motion));
  g_assert_true(vigil_notify_matches(w, alarm));

  g_strfreev(w->labels);
  w->labels = g_strsplit("car", ",", -1);
  g_assert_false(vigil_notify_matches(w, person));
  g_strfreev(w->labels);
  w->labels = g_strsplit("car,person", ",", -1);
  g_assert_true(vigil_notify_matches(w, person));

  /* min_score: scored events below it are out; events without a score pass. */
  g_strfreev(w->labels);
  w->labels = g_new0(gchar *, 1);
  w->min_score = 0.9;
  g_assert_false(vigil_notify_matches(w, person));
  g_assert_true(vigil_notify_matches(w, alarm));
  w->min_score = 0.874;
  g_assert_true(vigil_notify_matches(w, person));
  json_object_unref(person);
  json_object_unref(motion);
  json_object_unref(alarm);
}

static void test_cooldown(void)
{
  g_autoptr(GHashTable) last = vigil_notify_cooldowns_new();
  gint64 t = 1000 * G_USEC_PER_SEC;
  g_assert_true(vigil_notify_cooldown_allows(last, "phone", "front", 60, t));
  g_assert_false(vigil_notify_cooldown_allows(last, "phone", "front", 60, t + 59 * G_USEC_PER_SEC));
  /* Per camera and per webhook. */
  g_assert_true(vigil_notify_cooldown_allows(last, "phone", "back", 60, t + G_USEC_PER_SEC));
  g_assert_true(vigil_notify_cooldown_allows(last, "hook", "front", 60, t + G_USEC_PER_SEC));
  g_assert_true(vigil_notify_cooldown_allows(last, "phone", NULL, 60, t));
  g_assert_false(vigil_notify_cooldown_allows(last, "phone", NULL, 60, t + 1));
  /* A suppressed event does not extend it. */
  g_assert_true(vigil_notify_cooldown_allows(last, "phone", "front", 60, t + 60 * G_USEC_PER_SEC));
  /* 0: no cool-down. */
  g_assert_true(vigil_notify_cooldown_allows(last, "zero", "front", 0, t));
  g_assert_true(vigil_notify_cooldown_allows(last, "zero", "front", 0, t));
}

static void test_signature(void)
{
  /* RFC 4231 test case 2. */
  g_autoptr(GBytes) body = g_bytes_new_static("what do ya want for nothing?", 28);
  g_autofree gchar *sig = vigil_notify_signature("Jefe", body);
  g_assert_cmpstr(sig, ==,
                  "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_text(void)
{
  JsonObject *person = parse(EVENT_OBJECT);
  g_autofree gchar *a = vigil_notify_text(person, "Front door", FALSE);
  g_assert_cmpstr(a, ==, "Person in Front door (87 %)");
  g_autofree gchar *t = vigil_notify_text(person, "Front door", TRUE);
  g_assert_cmpstr(t, ==, "Test: Person in Front door (87 %)");
  JsonObject *motion = parse("{\"type\": \"motion\", \"score\": 0.2, \"label\": null}");
  g_autofree gchar *b = vigil_notify_text(motion, "Garage", FALSE);
  g_assert_cmpstr(b, ==, "Motion in Garage");
  JsonObject *qr = parse("{\"type\": \"barcode\", \"label\": \"QR-Code\","
                         " \"data\": {\"format\": \"QR-Code\", \"text\": \"hello\"}}");
  g_autofree gchar *c = vigil_notify_text(qr, "Garage", FALSE);
  g_assert_cmpstr(c, ==, "QR code \"hello\" in Garage");
  JsonObject *alarm = parse("{\"type\": \"alarm\", \"label\": \"disk-low\", \"camera\": null}");
  g_autofree gchar *d = vigil_notify_text(alarm, NULL, FALSE);
  g_assert_cmpstr(d, ==, "Alarm \"disk-low\"");
  json_object_unref(person);
  json_object_unref(motion);
  json_object_unref(qr);
  json_object_unref(alarm);
}

static VigilNotifyJob *job(void)
{
  VigilNotifyJob *j = g_new0(VigilNotifyJob, 1);
  j->id = 7;
  j->webhook = g_strdup("phone");
  j->url = g_strdup("https://hooks.example/in?token=abc");
  j->event_id = 42;
  j->event_json = g_strdup(EVENT_OBJECT);
  j->camera_id = g_strdup("front");
  j->camera_name = g_strdup("Front door");
  j->public_url = g_strdup("https://nvr.example");
  return j;
}

static JsonObject *body_object(GBytes *body)
{
  gsize len = 0;
  const char *data = g_bytes_get_data(body, &len);
  g_autofree gchar *text = g_strndup(data, len);
  return parse(text);
}

static void test_json_request(void)
{
  g_autoptr(VigilNotifyJob) j = job();
  j->secret = g_strdup("k3y");
  j->auth_token = g_strdup("tok");
  j->snapshot = VIGIL_WEBHOOK_SNAPSHOT_URL;
  j->snapshot_url = g_strdup("https://nvr.example/api/v1/events/42/thumbnail.jpg");
  g_autoptr(VigilNotifyRequest) r = vigil_notify_build_request(j, NULL);
  g_assert_cmpstr(r->method, ==, "POST");
  g_assert_cmpstr(vigil_notify_request_header(r, "Content-Type"), ==, "application/json");
  g_assert_true(g_str_has_prefix(vigil_notify_request_header(r, "User-Agent"), "vigil/"));
  g_assert_cmpstr(vigil_notify_request_header(r, "X-Vigil-Delivery"), ==, "7");
  g_assert_cmpstr(vigil_notify_request_header(r, "X-Vigil-Event"), ==, "new");
  g_assert_cmpstr(vigil_notify_request_header(r, "Authorization"), ==, "Bearer tok");
  g_autofree gchar *sig = vigil_notify_signature("k3y", r->body);
  g_assert_cmpstr(vigil_notify_request_header(r, "X-Vigil-Signature"), ==, sig);
  JsonObject *o = body_object(r->body);
  g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, "new");
  JsonObject *event = json_object_get_object_member(o, "event");
  g_assert_cmpint(json_object_get_int_member(event, "id"), ==, 42);
  g_assert_cmpstr(json_object_get_string_member(event, "label"), ==, "person");
  JsonObject *camera = json_object_get_object_member(o, "camera");
  g_assert_cmpstr(json_object_get_string_member(camera, "id"), ==, "front");
  g_assert_cmpstr(json_object_get_string_member(camera, "name"), ==, "Front door");
  g_assert_cmpstr(json_object_get_string_member(o, "snapshot_url"), ==,
                  "https://nvr.example/api/v1/events/42/thumbnail.jpg");
  json_object_unref(o);

  /* Without a secret or token: no such headers; snapshot "none": no URL. */
  g_autoptr(VigilNotifyJob) plain = job();
  plain->test = TRUE;
  g_autoptr(VigilNotifyRequest) p = vigil_notify_build_request(plain, NULL);
  g_assert_null(vigil_notify_request_header(p, "X-Vigil-Signature"));
  g_assert_null(vigil_notify_request_header(p, "Authorization"));
  g_assert_cmpstr(vigil_notify_request_header(p, "X-Vigil-Event"), ==, "test");
  JsonObject *po = body_object(p->body);
  g_assert_cmpstr(json_object_get_string_member(po, "type"), ==, "test");
  g_assert_false(json_object_has_member(po, "snapshot_url"));
  json_object_unref(po);
}

static void test_json_attach(void)
{
  g_autoptr(VigilNotifyJob) j = job();
  j->secret = g_strdup("k3y");
  j->snapshot = VIGIL_WEBHOOK_SNAPSHOT_ATTACH;
  static const guchar jpeg_data[] = {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9};
  g_autoptr(GBytes) jpeg = g_bytes_new_static(jpeg_data, sizeof jpeg_data);
  g_autoptr(VigilNotifyRequest) r = vigil_notify_build_request(j, jpeg);
  const char *type = vigil_notify_request_header(r, "Content-Type");
  g_assert_true(g_str_has_prefix(type, "multipart/form-data; boundary="));
  g_autofree gchar *sig = vigil_notify_signature("k3y", r->body);
  g_assert_cmpstr(vigil_notify_request_header(r, "X-Vigil-Signature"), ==, sig);
  /* Reads back as two parts. */
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new(SOUP_MESSAGE_HEADERS_REQUEST);
  soup_message_headers_replace(headers, "Content-Type", type);
  g_autoptr(SoupMultipart) mp = soup_multipart_new_from_message(headers, r->body);
  g_assert_nonnull(mp);
  g_assert_cmpint(soup_multipart_get_length(mp), ==, 2);
  SoupMessageHeaders *part_headers = NULL;
  GBytes *part = NULL;
  g_assert_true(soup_multipart_get_part(mp, 1, &part_headers, &part));
  g_assert_true(g_bytes_equal(part, jpeg));
  g_assert_cmpstr(soup_message_headers_get_content_type(part_headers, NULL), ==, "image/jpeg");
  const char *disposition = soup_message_headers_get_one(part_headers, "Content-Disposition");
  g_assert_nonnull(strstr(disposition, "name=\"snapshot\""));
  g_assert_nonnull(strstr(disposition, "filename=\"event-42.jpg\""));
  g_assert_true(soup_multipart_get_part(mp, 0, &part_headers, &part));
  JsonObject *o = body_object(part);
  g_assert_cmpstr(json_object_get_string_member(o, "type"), ==, "new");
  json_object_unref(o);

  /* No thumbnail: plain JSON. */
  g_autoptr(VigilNotifyRequest) none = vigil_notify_build_request(j, NULL);
  g_assert_cmpstr(vigil_notify_request_header(none, "Content-Type"), ==, "application/json");
}

static void test_ntfy(void)
{
  g_autoptr(VigilNotifyJob) j = job();
  j->format = VIGIL_WEBHOOK_NTFY;
  j->snapshot = VIGIL_WEBHOOK_SNAPSHOT_URL;
  j->snapshot_url = g_strdup("https://nvr.example/api/v1/events/42/thumbnail.jpg");
  j->auth_token = g_strdup("tk");
  g_autoptr(VigilNotifyRequest) r = vigil_notify_build_request(j, NULL);
  g_assert_cmpstr(r->method, ==, "POST");
  g_assert_cmpstr(vigil_notify_request_header(r, "Title"), ==, "vigil: Front door");
  g_assert_cmpstr(vigil_notify_request_header(r, "Tags"), ==, "person");
  g_assert_cmpstr(vigil_notify_request_header(r, "Click"), ==,
                  "https://nvr.example/camera?id=front");
  g_assert_cmpstr(vigil_notify_request_header(r, "Attach"), ==, j->snapshot_url);
  g_assert_cmpstr(vigil_notify_request_header(r, "Authorization"), ==, "Bearer tk");
  g_assert_true(g_str_has_prefix(vigil_notify_request_header(r, "Content-Type"), "text/plain"));
  gsize len = 0;
  const char *text = g_bytes_get_data(r->body, &len);
  g_assert_cmpmem(text, len, "Person in Front door (87 %)", 27);

  /* attach: PUT with the JPEG, the text in Message. */
  j->snapshot = VIGIL_WEBHOOK_SNAPSHOT_ATTACH;
  g_autoptr(GBytes) jpeg = g_bytes_new_static("\xff\xd8\xff\xd9", 4);
  g_autoptr(VigilNotifyRequest) put = vigil_notify_build_request(j, jpeg);
  g_assert_cmpstr(put->method, ==, "PUT");
  g_assert_true(g_bytes_equal(put->body, jpeg));
  g_assert_cmpstr(vigil_notify_request_header(put, "Filename"), ==, "event-42.jpg");
  g_assert_cmpstr(vigil_notify_request_header(put, "Message"), ==, "Person in Front door (87 %)");
  g_assert_null(vigil_notify_request_header(put, "Attach"));

  /* Without public_url: no Click; a name beyond ASCII is an encoded word. */
  g_clear_pointer(&j->public_url, g_free);
  g_free(j->camera_name);
  j->camera_name = g_strdup("Café\r\nX");
  g_autoptr(VigilNotifyRequest) q = vigil_notify_build_request(j, NULL);
  g_assert_null(vigil_notify_request_header(q, "Click"));
  const char *title = vigil_notify_request_header(q, "Title");
  g_assert_true(g_str_has_prefix(title, "=?UTF-8?B?"));
  g_assert_null(strchr(title, '\n'));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/notify/filter", test_filter);
  g_test_add_func("/notify/cooldown", test_cooldown);
  g_test_add_func("/notify/signature", test_signature);
  g_test_add_func("/notify/text", test_text);
  g_test_add_func("/notify/json", test_json_request);
  g_test_add_func("/notify/json-attach", test_json_attach);
  g_test_add_func("/notify/ntfy", test_ntfy);
  return g_test_run();
}
