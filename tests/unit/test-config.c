/* Tests for config/config: defaults, strict validation of create and PATCH
 * bodies (atomic on failure), the JSON form and its secrets. */
#include <string.h>

#include "config/config.h"
#include "core/error.h"

static JsonNode *parse(const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  if (!json_parser_load_from_data(parser, json, -1, &error))
    g_error("test JSON does not parse: %s: %s", json, error->message);
  return json_node_copy(json_parser_get_root(parser));
}

static gboolean apply(VigilCameraConfig *cfg, const char *json, gboolean creating, GError **error)
{
  g_autoptr(JsonNode) node = parse(json);
  return vigil_camera_config_apply_json(cfg, node, creating, error);
}

static gchar *to_string(const VigilCameraConfig *cfg)
{
  g_autoptr(JsonNode) node = vigil_camera_config_to_json(cfg);
  return json_to_string(node, FALSE);
}

/* A camera with every field away from its default. */
static VigilCameraConfig *make_full(void)
{
  VigilCameraConfig *cfg = vigil_camera_config_new();
  g_autoptr(GError) error = NULL;
  gboolean ok =
      apply(cfg,
            "{\"id\": \"yard\", \"name\": \"Back yard\", \"enabled\": false,"
            " \"source\": \"rtsp://192.0.2.10:554/stream1\","
            " \"username\": \"viewer\", \"password\": \"hunter2-secret\","
            " \"rtsp_transport\": \"udp\", \"record\": \"continuous\","
            " \"pre_roll_s\": 7, \"post_roll_s\": 45, \"retain_days\": 9,"
            " \"motion\": {\"enabled\": false, \"threshold\": 0.2, \"zones\": ["
            "   {\"name\": \"door\", \"x\": 0.1, \"y\": 0.2, \"w\": 0.3, \"h\": 0.5,"
            "    \"threshold\": 0.05},"
            "   {\"name\": \"gate\", \"x\": 0.5, \"y\": 0, \"w\": 0.5, \"h\": 1}]},"
            " \"detect\": {\"enabled\": true, \"classes\": [\"person\", \"traffic light\"],"
            "   \"min_score\": 0.6, \"interval_s\": 20, \"record_on\": [\"person\"],"
            "   \"main_crop\": true},"
            " \"barcodes\": true, \"sub_source\": \"rtsp://192.0.2.10:554/stream2\","
            " \"sub_password\": \"sub-secret-7\", \"record_stream\": \"both\","
            " \"barcode_stream\": \"sub\", \"barcode_interval_s\": 1.5}",
            TRUE, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  return cfg;
}

static void test_defaults(void)
{
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  g_assert_null(cfg->id);
  g_assert_null(cfg->name);
  g_assert_null(cfg->source);
  g_assert_null(cfg->username);
  g_assert_null(cfg->password);
  g_assert_true(cfg->enabled);
  g_assert_cmpint(cfg->rtsp_transport, ==, VIGIL_TRANSPORT_TCP);
  g_assert_cmpint(cfg->record, ==, VIGIL_RECORD_EVENTS);
  g_assert_cmpint(cfg->pre_roll_s, ==, 5);
  g_assert_cmpint(cfg->post_roll_s, ==, 30);
  g_assert_cmpint(cfg->retain_days, ==, 30);
  g_assert_true(cfg->motion.enabled);
  g_assert_cmpfloat(cfg->motion.threshold, ==, 0.08);
  g_assert_cmpuint(cfg->motion.zones->len, ==, 0);
  g_assert_false(cfg->detect.enabled);
  const char *const classes[] = {"person", "dog", "cat", NULL};
  g_assert_true(g_strv_equal((const char *const *)cfg->detect.classes, classes));
  g_assert_cmpfloat(cfg->detect.min_score, ==, 0.5);
  g_assert_cmpint(cfg->detect.interval_s, ==, 15);
  g_assert_nonnull(cfg->detect.record_on);
  g_assert_null(cfg->detect.record_on[0]);
  g_assert_false(cfg->detect.main_crop);
  g_assert_false(cfg->barcodes);

  g_assert_cmpstr(vigil_record_mode_to_string(VIGIL_RECORD_OFF), ==, "off");
  g_assert_cmpstr(vigil_record_mode_to_string(VIGIL_RECORD_EVENTS), ==, "events");
  g_assert_cmpstr(vigil_record_mode_to_string(VIGIL_RECORD_CONTINUOUS), ==, "continuous");
  g_assert_cmpstr(vigil_rtsp_transport_to_string(VIGIL_TRANSPORT_TCP), ==, "tcp");
  g_assert_cmpstr(vigil_rtsp_transport_to_string(VIGIL_TRANSPORT_UDP), ==, "udp");
  g_assert_cmpstr(vigil_rtsp_transport_to_string(VIGIL_TRANSPORT_AUTO), ==, "auto");
}

static void test_create_minimal(void)
{
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(cfg,
                      "{\"name\": \"Front door\", \"source\": "
                      "\"rtsp://192.0.2.10:554/stream1\"}",
                      TRUE, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(cfg->id, ==, "front-door");
  g_assert_cmpstr(cfg->name, ==, "Front door");
  g_assert_cmpstr(cfg->source, ==, "rtsp://192.0.2.10:554/stream1");
  g_assert_cmpint(cfg->pre_roll_s, ==, 5); /* defaults kept */
  g_assert_cmpint(cfg->record, ==, VIGIL_RECORD_EVENTS);

  /* An explicit id wins over the derived one. */
  g_autoptr(VigilCameraConfig) cfg2 = vigil_camera_config_new();
  g_assert_true(apply(cfg2,
                      "{\"name\": \"Front door\", \"id\": \"cam-7\", \"source\": "
                      "\"test://\"}",
                      TRUE, &error));
  g_assert_cmpstr(cfg2->id, ==, "cam-7");

  /* A name that gives no slug needs an id. */
  g_autoptr(VigilCameraConfig) cfg3 = vigil_camera_config_new();
  g_assert_false(apply(cfg3, "{\"name\": \"!!!\", \"source\": \"test://\"}", TRUE, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "name gives no usable id; give an id");
  g_assert_null(cfg3->id);
  g_assert_null(cfg3->name);
  g_clear_error(&error);
  g_assert_true(
      apply(cfg3, "{\"name\": \"!!!\", \"id\": \"bang\", \"source\": \"test://\"}", TRUE, &error));
  g_assert_cmpstr(cfg3->id, ==, "bang");
  g_assert_cmpstr(cfg3->name, ==, "!!!");
}

static void test_create_requires(void)
{
  static const struct {
    const char *json;
    const char *field;
  } cases[] = {
      {"{\"source\": \"test://\"}", "\"name\""},
      {"{\"name\": \"A\"}", "\"source\""},
      {"{}", "\"name\""},
      {"{\"id\": \"a\", \"source\": \"test://\"}", "\"name\""},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
    g_autoptr(GError) error = NULL;
    g_assert_false(apply(cfg, cases[i].json, TRUE, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, cases[i].field));
    g_assert_nonnull(strstr(error->message, "required"));
    g_assert_null(cfg->name);
    g_assert_null(cfg->source);
  }
  /* On PATCH nothing is required. */
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(cfg, "{}", FALSE, &error));
  g_assert_no_error(error);
}

/* Each bad body fails, names its field, and leaves the camera untouched. */
static void test_bad_fields(void)
{
  static const struct {
    const char *json;
    const char *field; /* quoted in the message */
  } cases[] = {
      {"{\"name\": 5}", "\"name\""},
      {"{\"name\": null}", "\"name\""},
      {"{\"name\": \"\"}", "\"name\""},
      {"{\"name\": \"   \"}", "\"name\""},
      {"{\"name\": \"a\\u0007b\"}", "\"name\""},
      {"{\"name\": \"a\\nb\"}", "\"name\""},
      {"{\"name\": \"12345678901234567890123456789012345678901234567890123456789012345\"}",
       "\"name\""},
      {"{\"enabled\": \"yes\"}", "\"enabled\""},
      {"{\"enabled\": 1}", "\"enabled\""},
      {"{\"enabled\": null}", "\"enabled\""},
      {"{\"source\": \"ftp://x/y\"}", "\"source\""},
      {"{\"source\": 7}", "\"source\""},
      {"{\"source\": null}", "\"source\""},
      {"{\"source\": \"\"}", "\"source\""},
      {"{\"username\": 7}", "\"username\""},
      {"{\"username\": \"a\\tb\"}", "\"username\""},
      {"{\"username\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
       "\"username\""},
      {"{\"password\": false}", "\"password\""},
      {"{\"password\": \"a\\u0000b\"}", NULL}, /* json-glib cuts at NUL: stored "a" */
      {"{\"rtsp_transport\": \"TCP\"}", "\"rtsp_transport\""},
      {"{\"rtsp_transport\": \"http\"}", "\"rtsp_transport\""},
      {"{\"rtsp_transport\": 0}", "\"rtsp_transport\""},
      {"{\"record\": \"always\"}", "\"record\""},
      {"{\"record\": null}", "\"record\""},
      {"{\"pre_roll_s\": \"5\"}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 1.5}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 5.0}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 61}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": -1}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 4294967301}", "\"pre_roll_s\""}, /* 2^32 + 5 */
      {"{\"pre_roll_s\": 9223372036854775807}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 99999999999999999999}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": 1e1}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": true}", "\"pre_roll_s\""},
      {"{\"pre_roll_s\": [5]}", "\"pre_roll_s\""},
      {"{\"post_roll_s\": 3601}", "\"post_roll_s\""},
      {"{\"post_roll_s\": {}}", "\"post_roll_s\""},
      {"{\"retain_days\": 0}", "\"retain_days\""},
      {"{\"retain_days\": 3651}", "\"retain_days\""},
      {"{\"motion\": []}", "\"motion\""},
      {"{\"motion\": null}", "\"motion\""},
      {"{\"motion\": true}", "\"motion\""},
      {"{\"motion\": {\"enabled\": 0}}", "\"motion.enabled\""},
      {"{\"motion\": {\"threshold\": 1.01}}", "\"motion.threshold\""},
      {"{\"motion\": {\"threshold\": -0.01}}", "\"motion.threshold\""},
      {"{\"motion\": {\"threshold\": 1e400}}", "\"motion.threshold\""},
      {"{\"motion\": {\"threshold\": \"0.1\"}}", "\"motion.threshold\""},
      {"{\"motion\": {\"zones\": {}}}", "\"motion.zones\""},
      {"{\"motion\": {\"zones\": [1]}}", "\"motion.zones[0]\""},
      {"{\"motion\": {\"zones\": [[]]}}", "\"motion.zones[0]\""},
      {"{\"motion\": {\"zones\": [{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1}]}}",
       "\"motion.zones[0].name\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"y\": 0, \"w\": 1, \"h\": 1}]}}",
       "\"motion.zones[0].x\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 1}]}}",
       "\"motion.zones[0].h\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1}]}}",
       "\"motion.zones[0].name\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"123456789012345678901234567890123\", \"x\": 0,"
       " \"y\": 0, \"w\": 1, \"h\": 1}]}}",
       "\"motion.zones[0].name\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 0, \"h\": 1}]}}",
       "\"motion.zones[0].w\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": -1}]}}",
       "\"motion.zones[0].h\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 1.5, \"y\": 0, \"w\": 0.1, \"h\": 1}]}}",
       "\"motion.zones[0].x\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0.5, \"y\": 0, \"w\": 0.51, \"h\": "
       "1}]}}",
       "\"motion.zones[0]\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0.6, \"w\": 1, \"h\": "
       "0.41}]}}",
       "\"motion.zones[0]\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1,"
       " \"threshold\": 2}]}}",
       "\"motion.zones[0].threshold\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1,"
       " \"color\": \"red\"}]}}",
       "\"motion.zones[0].color\""},
      {"{\"motion\": {\"zones\": [{\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1},"
       " {\"name\": \"a\", \"x\": 0, \"y\": 0, \"w\": 0.5, \"h\": 0.5}]}}",
       "\"motion.zones[1].name\""},
      {"{\"motion\": {\"sensitivity\": 1}}", "\"motion.sensitivity\""},
      {"{\"detect\": [1]}", "\"detect\""},
      {"{\"detect\": {\"enabled\": \"true\"}}", "\"detect.enabled\""},
      {"{\"detect\": {\"classes\": \"person\"}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [\"Person\"]}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [\"\"]}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [1]}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [null]}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [\"caf\\u00e9\"]}}", "\"detect.classes\""},
      {"{\"detect\": {\"classes\": [\"123456789012345678901234567890123\"]}}",
       "\"detect.classes\""},
      {"{\"detect\": {\"min_score\": 1.5}}", "\"detect.min_score\""},
      {"{\"detect\": {\"interval_s\": 0}}", "\"detect.interval_s\""},
      {"{\"detect\": {\"interval_s\": 3601}}", "\"detect.interval_s\""},
      {"{\"detect\": {\"interval_s\": 2.5}}", "\"detect.interval_s\""},
      {"{\"detect\": {\"record_on\": [\"person\", 5]}}", "\"detect.record_on\""},
      {"{\"detect\": {\"main_crop\": 1}}", "\"detect.main_crop\""},
      {"{\"detect\": {\"model\": \"yolo\"}}", "\"detect.model\""},
      {"{\"barcodes\": \"false\"}", "\"barcodes\""},
      {"{\"status\": {}}", "\"status\""},
      {"{\"password_set\": false}", "\"password_set\""},
      {"{\"foo\": 1}", "\"foo\""},
      {"{\"Name\": \"x\"}", "\"Name\""},
      {"{\"id\": \"other\"}", "id cannot be changed"},
      {"{\"id\": 5}", "\"id\""},
      /* A valid member first, then a bad one: the first must not stick. */
      {"{\"pre_roll_s\": 0, \"record\": \"off\", \"bogus\": true}", "\"bogus\""},
      {"{\"motion\": {\"threshold\": 0.9, \"zones\": []}, \"detect\": {\"interval_s\": 0}}",
       "\"detect.interval_s\""},
  };

  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilCameraConfig) cfg = make_full();
    g_autofree gchar *before = to_string(cfg);
    g_autoptr(GError) error = NULL;
    g_test_message("PATCH %s", cases[i].json);
    gboolean ok = apply(cfg, cases[i].json, FALSE, &error);
    if (cases[i].field == NULL) {
      g_assert_no_error(error);
      g_assert_true(ok);
      continue;
    }
    g_assert_false(ok);
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_test_message("  -> %s", error->message);
    g_assert_nonnull(strstr(error->message, cases[i].field));

    g_autofree gchar *after = to_string(cfg);
    g_assert_cmpstr(after, ==, before);
    g_assert_cmpstr(cfg->password, ==, "hunter2-secret");
    g_assert_cmpstr(cfg->username, ==, "viewer");

    /* The same body fails on create too (with name and source added when
     * they are not the point). */
    g_autoptr(VigilCameraConfig) fresh = vigil_camera_config_new();
    g_autoptr(JsonNode) node = parse(cases[i].json);
    JsonObject *obj = json_node_get_object(node);
    if (!json_object_has_member(obj, "name"))
      json_object_set_string_member(obj, "name", "Cam");
    if (!json_object_has_member(obj, "source"))
      json_object_set_string_member(obj, "source", "test://");
    g_clear_error(&error);
    gboolean is_id_case = strstr(cases[i].field, "id cannot") != NULL;
    g_assert_cmpint(vigil_camera_config_apply_json(fresh, node, TRUE, &error), ==, is_id_case);
    if (!is_id_case)
      g_assert_null(fresh->name);
  }
}

static void test_not_an_object(void)
{
  static const char *const bodies[] = {"[]",  "[{\"name\": \"a\"}]", "\"camera\"", "5", "null",
                                       "true"};
  for (gsize i = 0; i < G_N_ELEMENTS(bodies); i++) {
    g_autoptr(VigilCameraConfig) cfg = make_full();
    g_autoptr(GError) error = NULL;
    g_assert_false(apply(cfg, bodies[i], FALSE, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "object"));
    g_assert_cmpstr(cfg->id, ==, "yard");
  }
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_camera_config_apply_json(cfg, NULL, TRUE, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
}

static void test_unknown_field_message(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;
  g_assert_false(apply(cfg, "{\"foo\": 1}", FALSE, &error));
  g_assert_cmpstr(error->message, ==, "unknown field \"foo\"");
  g_clear_error(&error);

  g_assert_false(apply(cfg, "{\"detect\": {\"foo\": 1}}", FALSE, &error));
  g_assert_cmpstr(error->message, ==, "unknown field \"detect.foo\"");
  g_clear_error(&error);

  /* A hostile member name is shortened and stripped of control characters. */
  g_autofree gchar *long_name = g_strnfill(500, 'q');
  g_autofree gchar *body = g_strdup_printf("{\"%s\\n\\u001b[31m\": 1}", long_name);
  g_assert_false(apply(cfg, body, FALSE, &error));
  g_assert_cmpuint(strlen(error->message), <, 100);
  g_assert_null(strchr(error->message, '\n'));
  g_assert_null(strchr(error->message, '\x1b'));
  g_clear_error(&error);

  g_assert_false(apply(cfg, "{\"status\": {\"state\": \"streaming\"}}", FALSE, &error));
  g_assert_cmpstr(error->message, ==, "field \"status\" is read-only");
  g_clear_error(&error);

  g_assert_false(apply(cfg, "{\"pre_roll_s\": \"5\"}", FALSE, &error));
  g_assert_cmpstr(error->message, ==, "field \"pre_roll_s\" must be an integer between 0 and 60");
}

static void test_limits_accepted(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(cfg,
                      "{\"pre_roll_s\": 60, \"post_roll_s\": 0, \"retain_days\": 3650,"
                      " \"motion\": {\"threshold\": 1}, \"detect\": {\"min_score\": 0,"
                      " \"interval_s\": 3600}}",
                      FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpint(cfg->pre_roll_s, ==, 60);
  g_assert_cmpint(cfg->post_roll_s, ==, 0);
  g_assert_cmpint(cfg->retain_days, ==, 3650);
  g_assert_cmpfloat(cfg->motion.threshold, ==, 1.0);
  g_assert_cmpfloat(cfg->detect.min_score, ==, 0.0);
  g_assert_cmpint(cfg->detect.interval_s, ==, 3600);

  g_assert_true(apply(cfg,
                      "{\"pre_roll_s\": 0, \"post_roll_s\": 3600, \"retain_days\": 1,"
                      " \"detect\": {\"interval_s\": 1}}",
                      FALSE, &error));
  g_assert_cmpint(cfg->retain_days, ==, 1);
  g_assert_cmpint(cfg->detect.interval_s, ==, 1);

  /* 64 characters, multi-byte: a character limit, not a byte limit. */
  GString *name = g_string_new("{\"name\": \"");
  for (int i = 0; i < 64; i++)
    g_string_append(name, "\xc3\xa9");
  g_string_append(name, "\"}");
  g_assert_true(apply(cfg, name->str, FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_utf8_strlen(cfg->name, -1), ==, 64);
  g_string_free(name, TRUE);

  /* Zones touching the right and bottom edges fit. */
  g_assert_true(apply(cfg,
                      "{\"motion\": {\"zones\": [{\"name\": \"z\", \"x\": 0.7, \"y\": 0.9,"
                      " \"w\": 0.3, \"h\": 0.1}]}}",
                      FALSE, &error));
  g_assert_no_error(error);
  /* A UI that sums 1/9 eight times sends x = 0.8888888888888891; with
   * w = 0.1111111111111111 the double sum is 1.0000000000000002. */
  g_assert_true(apply(cfg,
                      "{\"motion\": {\"zones\": [{\"name\": \"z\", \"x\": 0.8888888888888891,"
                      " \"y\": 0, \"w\": 0.1111111111111111, \"h\": 1}]}}",
                      FALSE, &error));
  g_assert_no_error(error);
  g_assert_false(apply(cfg,
                       "{\"motion\": {\"zones\": [{\"name\": \"z\", \"x\": 0.8888888888888891,"
                       " \"y\": 0, \"w\": 0.1111112, \"h\": 1}]}}",
                       FALSE, &error));
  g_clear_error(&error);

  /* 16 zones are fine, 17 are not. */
  GString *zones = g_string_new("{\"motion\": {\"zones\": [");
  for (int i = 0; i < 17; i++) {
    if (i == 16) {
      g_string_append(zones, "]}}");
      g_assert_true(apply(cfg, zones->str, FALSE, &error));
      g_assert_no_error(error);
      g_assert_cmpuint(cfg->motion.zones->len, ==, 16);
      g_string_truncate(zones, zones->len - 3);
      g_string_append_c(zones, ',');
    }
    g_string_append_printf(zones, "%s{\"name\": \"z%d\", \"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1}",
                           i > 0 && i < 16 ? "," : "", i);
  }
  g_string_append(zones, "]}}");
  g_assert_false(apply(cfg, zones->str, FALSE, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "\"motion.zones\""));
  g_assert_cmpuint(cfg->motion.zones->len, ==, 16);
  g_string_free(zones, TRUE);
  g_clear_error(&error);

  /* 80 classes are fine, 81 are not. */
  GString *classes = g_string_new("{\"detect\": {\"classes\": [\"c0\"");
  for (int i = 1; i < 80; i++)
    g_string_append_printf(classes, ", \"c%d\"", i);
  g_autofree gchar *eighty = g_strdup_printf("%s]}}", classes->str);
  g_string_append(classes, ", \"c80\"]}}");
  g_assert_true(apply(cfg, eighty, FALSE, &error));
  g_assert_cmpuint(g_strv_length(cfg->detect.classes), ==, 80);
  g_assert_false(apply(cfg, classes->str, FALSE, &error));
  g_assert_nonnull(strstr(error->message, "\"detect.classes\""));
  g_assert_cmpuint(g_strv_length(cfg->detect.classes), ==, 80);
  g_string_free(classes, TRUE);
}

static void test_patch_nested_merge(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;

  g_assert_true(apply(cfg, "{\"motion\": {\"threshold\": 0.1}}", FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpfloat(cfg->motion.threshold, ==, 0.1);
  g_assert_false(cfg->motion.enabled);             /* kept */
  g_assert_cmpuint(cfg->motion.zones->len, ==, 2); /* kept */

  g_assert_true(apply(cfg, "{\"detect\": {\"min_score\": 0.9}}", FALSE, &error));
  g_assert_cmpfloat(cfg->detect.min_score, ==, 0.9);
  g_assert_true(cfg->detect.enabled);
  g_assert_cmpint(cfg->detect.interval_s, ==, 20);
  g_assert_cmpuint(g_strv_length(cfg->detect.classes), ==, 2);
  g_assert_cmpstr(cfg->detect.record_on[0], ==, "person");
  g_assert_true(cfg->detect.main_crop); /* kept */

  /* Top-level partial: other fields untouched. */
  g_assert_true(apply(cfg, "{\"record\": \"off\", \"rtsp_transport\": \"auto\"}", FALSE, &error));
  g_assert_cmpint(cfg->record, ==, VIGIL_RECORD_OFF);
  g_assert_cmpint(cfg->rtsp_transport, ==, VIGIL_TRANSPORT_AUTO);
  g_assert_cmpstr(cfg->name, ==, "Back yard");
  g_assert_cmpstr(cfg->password, ==, "hunter2-secret");
  g_assert_cmpint(cfg->pre_roll_s, ==, 7);

  /* Integers are fine where a number is wanted. */
  g_assert_true(apply(cfg, "{\"motion\": {\"threshold\": 0}}", FALSE, &error));
  g_assert_cmpfloat(cfg->motion.threshold, ==, 0.0);
}

static void test_patch_arrays_replace(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;

  g_assert_true(apply(cfg,
                      "{\"motion\": {\"zones\": [{\"name\": \"new\", \"x\": 0.25,"
                      " \"y\": 0.5, \"w\": 0.5, \"h\": 0.25}]}}",
                      FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(cfg->motion.zones->len, ==, 1);
  const VigilZone *zone = g_ptr_array_index(cfg->motion.zones, 0);
  g_assert_cmpstr(zone->name, ==, "new");
  g_assert_cmpfloat(zone->x, ==, 0.25);
  g_assert_cmpfloat(zone->y, ==, 0.5);
  g_assert_cmpfloat(zone->w, ==, 0.5);
  g_assert_cmpfloat(zone->h, ==, 0.25);
  g_assert_cmpfloat(zone->threshold, ==, 0.08); /* default when not given */
  g_assert_cmpfloat(cfg->motion.threshold, ==, 0.2);

  g_assert_true(apply(cfg, "{\"motion\": {\"zones\": []}}", FALSE, &error));
  g_assert_cmpuint(cfg->motion.zones->len, ==, 0);

  g_assert_true(
      apply(cfg, "{\"detect\": {\"classes\": [\"car\"], \"record_on\": []}}", FALSE, &error));
  const char *const car[] = {"car", NULL};
  g_assert_true(g_strv_equal((const char *const *)cfg->detect.classes, car));
  g_assert_nonnull(cfg->detect.record_on);
  g_assert_null(cfg->detect.record_on[0]);
}

static void test_id_immutable(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(GError) error = NULL;

  g_assert_true(apply(cfg, "{\"id\": \"yard\", \"name\": \"Yard\"}", FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(cfg->id, ==, "yard");
  g_assert_cmpstr(cfg->name, ==, "Yard");

  g_assert_false(apply(cfg, "{\"id\": \"garden\"}", FALSE, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "id cannot be changed");
  g_assert_cmpstr(cfg->id, ==, "yard");
  g_clear_error(&error);

  /* Renaming on PATCH does not re-derive the id. */
  g_assert_true(apply(cfg, "{\"name\": \"Garden\"}", FALSE, &error));
  g_assert_cmpstr(cfg->id, ==, "yard");

  /* A bad id on create. */
  static const char *const bad_ids[] = {
      "\"Yard\"", "\"\"", "\"a b\"", "\"a_b\"", "null", "\"123456789012345678901234567890123\""};
  for (gsize i = 0; i < G_N_ELEMENTS(bad_ids); i++) {
    g_autoptr(VigilCameraConfig) fresh = vigil_camera_config_new();
    g_autofree gchar *body =
        g_strdup_printf("{\"id\": %s, \"name\": \"Yard\", \"source\": \"test://\"}", bad_ids[i]);
    g_assert_false(apply(fresh, body, TRUE, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "\"id\""));
    g_assert_null(fresh->id);
    g_clear_error(&error);
  }
}

static void test_password_write_only(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(JsonNode) node = vigil_camera_config_to_json(cfg);
  JsonObject *obj = json_node_get_object(node);
  g_assert_false(json_object_has_member(obj, "password"));
  g_assert_true(json_object_get_boolean_member(obj, "password_set"));
  g_assert_cmpstr(json_object_get_string_member(obj, "username"), ==, "viewer");
  g_autofree gchar *text = json_to_string(node, FALSE);
  g_assert_null(strstr(text, "hunter2"));

  /* null clears both; username then shows as null. */
  g_autoptr(GError) error = NULL;
  g_assert_true(apply(cfg, "{\"password\": null, \"username\": null}", FALSE, &error));
  g_assert_null(cfg->password);
  g_assert_null(cfg->username);
  g_autoptr(JsonNode) node2 = vigil_camera_config_to_json(cfg);
  obj = json_node_get_object(node2);
  g_assert_false(json_object_get_boolean_member(obj, "password_set"));
  g_assert_true(json_object_get_null_member(obj, "username"));

  /* "" clears too, rather than storing an empty secret. */
  g_assert_true(apply(cfg, "{\"password\": \"x\", \"username\": \"u\"}", FALSE, &error));
  g_assert_cmpstr(cfg->password, ==, "x");
  g_assert_true(apply(cfg, "{\"password\": \"\", \"username\": \"\"}", FALSE, &error));
  g_assert_null(cfg->password);
  g_assert_null(cfg->username);

  /* Credentials typed into the URL are masked in the output... */
  g_assert_true(apply(cfg,
                      "{\"source\": \"rtsp://admin:Url-Secret-9@192.0.2.10/s?token=Tok-Secret-8\"}",
                      FALSE, &error));
  g_assert_no_error(error);
  g_autofree gchar *text2 = to_string(cfg);
  g_assert_null(strstr(text2, "Url-Secret-9"));
  g_assert_null(strstr(text2, "Tok-Secret-8"));
  g_assert_nonnull(strstr(text2, "rtsp://admin:***@192.0.2.10/s?token=***"));

  /* ...and a client sending the masked URL back does not destroy them. */
  g_assert_true(
      apply(cfg, "{\"source\": \"rtsp://admin:***@192.0.2.10/s?token=***\"}", FALSE, &error));
  g_assert_cmpstr(cfg->source, ==, "rtsp://admin:Url-Secret-9@192.0.2.10/s?token=Tok-Secret-8");
}

static void test_to_json_shape(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(JsonNode) node = vigil_camera_config_to_json(cfg);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
  JsonObject *obj = json_node_get_object(node);

  /* SPEC's camera object, in order, without "status". */
  static const char *const top[] = {
      "id",           "name",           "enabled",    "source",         "username",
      "password_set", "rtsp_transport", "sub_source", "sub_username",   "sub_password_set",
      "record",       "record_stream",  "pre_roll_s", "post_roll_s",    "retain_days",
      "motion",       "detect",         "barcodes",   "barcode_stream", "barcode_interval_s",
      "onvif"};
  GList *members = json_object_get_members(obj);
  g_assert_cmpuint(g_list_length(members), ==, G_N_ELEMENTS(top));
  guint i = 0;
  for (GList *l = members; l != NULL; l = l->next, i++)
    g_assert_cmpstr(l->data, ==, top[i]);
  g_list_free(members);

  g_assert_cmpstr(json_object_get_string_member(obj, "id"), ==, "yard");
  g_assert_cmpstr(json_object_get_string_member(obj, "name"), ==, "Back yard");
  g_assert_false(json_object_get_boolean_member(obj, "enabled"));
  g_assert_cmpstr(json_object_get_string_member(obj, "source"), ==,
                  "rtsp://192.0.2.10:554/stream1");
  g_assert_cmpstr(json_object_get_string_member(obj, "rtsp_transport"), ==, "udp");
  g_assert_cmpstr(json_object_get_string_member(obj, "record"), ==, "continuous");
  g_assert_cmpint(json_object_get_int_member(obj, "pre_roll_s"), ==, 7);
  g_assert_cmpint(json_object_get_int_member(obj, "post_roll_s"), ==, 45);
  g_assert_cmpint(json_object_get_int_member(obj, "retain_days"), ==, 9);
  g_assert_true(json_object_get_boolean_member(obj, "barcodes"));
  /* Integers are JSON integers, not 7.0. */
  g_assert_cmpuint(json_node_get_value_type(json_object_get_member(obj, "pre_roll_s")), ==,
                   G_TYPE_INT64);

  JsonObject *motion = json_object_get_object_member(obj, "motion");
  static const char *const motion_keys[] = {"enabled", "threshold", "zones"};
  members = json_object_get_members(motion);
  i = 0;
  for (GList *l = members; l != NULL; l = l->next, i++)
    g_assert_cmpstr(l->data, ==, motion_keys[i]);
  g_assert_cmpuint(i, ==, 3);
  g_list_free(members);
  g_assert_false(json_object_get_boolean_member(motion, "enabled"));
  g_assert_cmpfloat(json_object_get_double_member(motion, "threshold"), ==, 0.2);
  JsonArray *zones = json_object_get_array_member(motion, "zones");
  g_assert_cmpuint(json_array_get_length(zones), ==, 2);
  JsonObject *zone = json_array_get_object_element(zones, 0);
  static const char *const zone_keys[] = {"name", "x", "y", "w", "h", "threshold"};
  members = json_object_get_members(zone);
  i = 0;
  for (GList *l = members; l != NULL; l = l->next, i++)
    g_assert_cmpstr(l->data, ==, zone_keys[i]);
  g_assert_cmpuint(i, ==, 6);
  g_list_free(members);
  g_assert_cmpstr(json_object_get_string_member(zone, "name"), ==, "door");
  g_assert_cmpfloat(json_object_get_double_member(zone, "x"), ==, 0.1);
  g_assert_cmpfloat(json_object_get_double_member(zone, "h"), ==, 0.5);
  g_assert_cmpfloat(json_object_get_double_member(zone, "threshold"), ==, 0.05);
  zone = json_array_get_object_element(zones, 1);
  g_assert_cmpfloat(json_object_get_double_member(zone, "threshold"), ==, 0.08);

  JsonObject *detect = json_object_get_object_member(obj, "detect");
  static const char *const detect_keys[] = {"enabled",    "classes",   "min_score",
                                            "interval_s", "record_on", "main_crop"};
  members = json_object_get_members(detect);
  i = 0;
  for (GList *l = members; l != NULL; l = l->next, i++)
    g_assert_cmpstr(l->data, ==, detect_keys[i]);
  g_assert_cmpuint(i, ==, 6);
  g_list_free(members);
  g_assert_true(json_object_get_boolean_member(detect, "enabled"));
  JsonArray *classes = json_object_get_array_member(detect, "classes");
  g_assert_cmpuint(json_array_get_length(classes), ==, 2);
  g_assert_cmpstr(json_array_get_string_element(classes, 1), ==, "traffic light");
  g_assert_cmpfloat(json_object_get_double_member(detect, "min_score"), ==, 0.6);
  g_assert_cmpint(json_object_get_int_member(detect, "interval_s"), ==, 20);
  JsonArray *record_on = json_object_get_array_member(detect, "record_on");
  g_assert_cmpuint(json_array_get_length(record_on), ==, 1);

  /* A fresh config: unset strings are null, defaults present. */
  g_autoptr(VigilCameraConfig) fresh = vigil_camera_config_new();
  g_autoptr(JsonNode) fresh_node = vigil_camera_config_to_json(fresh);
  obj = json_node_get_object(fresh_node);
  g_assert_true(json_object_get_null_member(obj, "username"));
  g_assert_false(json_object_get_boolean_member(obj, "password_set"));
  g_assert_cmpstr(json_object_get_string_member(obj, "record"), ==, "events");
  g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
                       json_object_get_object_member(obj, "detect"), "classes")),
                   ==, 3);
}

static void test_round_trip(void)
{
  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_autoptr(JsonNode) node = vigil_camera_config_to_json(cfg);
  g_autofree gchar *first = json_to_string(node, FALSE);

  json_object_remove_member(json_node_get_object(node), "password_set");
  json_object_remove_member(json_node_get_object(node), "sub_password_set");
  g_autoptr(VigilCameraConfig) copy = vigil_camera_config_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_camera_config_apply_json(copy, node, TRUE, &error));
  g_assert_no_error(error);
  g_assert_null(copy->password); /* never left the server */
  g_assert_null(copy->sub_password);

  g_autofree gchar *second = to_string(copy);
  /* Same object except password_set. */
  g_autoptr(JsonNode) a = parse(first);
  g_autoptr(JsonNode) b = parse(second);
  json_object_remove_member(json_node_get_object(a), "password_set");
  json_object_remove_member(json_node_get_object(b), "password_set");
  json_object_remove_member(json_node_get_object(a), "sub_password_set");
  json_object_remove_member(json_node_get_object(b), "sub_password_set");
  g_assert_true(json_node_equal(a, b));

  /* And as a PATCH of itself it changes nothing. */
  g_autoptr(JsonNode) again = vigil_camera_config_to_json(cfg);
  json_object_remove_member(json_node_get_object(again), "password_set");
  json_object_remove_member(json_node_get_object(again), "sub_password_set");
  g_assert_true(vigil_camera_config_apply_json(cfg, again, FALSE, &error));
  g_autofree gchar *third = to_string(cfg);
  g_assert_cmpstr(third, ==, first);
  g_assert_cmpstr(cfg->password, ==, "hunter2-secret");
  g_assert_cmpstr(cfg->sub_password, ==, "sub-secret-7");

  /* The copy function is deep and faithful. */
  g_autoptr(VigilCameraConfig) dup = vigil_camera_config_copy(cfg);
  g_autofree gchar *dup_text = to_string(dup);
  g_assert_cmpstr(dup_text, ==, first);
  g_assert_cmpstr(dup->password, ==, cfg->password);
  g_assert_true(dup->password != cfg->password);
  g_assert_true(dup->motion.zones != cfg->motion.zones);
  g_assert_true(g_ptr_array_index(dup->motion.zones, 0) != g_ptr_array_index(cfg->motion.zones, 0));
}

static void test_source_changed(void)
{
  static const struct {
    const char *patch;
    gboolean changed;
  } cases[] = {
      {"{}", FALSE},
      {"{\"name\": \"Other\"}", FALSE},
      {"{\"record\": \"off\", \"pre_roll_s\": 1, \"retain_days\": 2}", FALSE},
      {"{\"motion\": {\"threshold\": 0.5, \"zones\": []}}", FALSE},
      {"{\"detect\": {\"enabled\": false}, \"barcodes\": false}", FALSE},
      {"{\"source\": \"rtsp://192.0.2.10:554/stream1\"}", FALSE},
      {"{\"source\": \"rtsp://192.0.2.10:554/stream2\"}", TRUE},
      {"{\"username\": \"other\"}", TRUE},
      {"{\"username\": null}", TRUE},
      {"{\"password\": \"hunter3-secret\"}", TRUE},
      {"{\"password\": null}", TRUE},
      {"{\"password\": \"hunter2-secret\"}", FALSE},
      {"{\"rtsp_transport\": \"tcp\"}", TRUE},
      {"{\"rtsp_transport\": \"udp\"}", FALSE},
      {"{\"enabled\": true}", TRUE},
      {"{\"enabled\": false}", FALSE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilCameraConfig) a = make_full();
    g_autoptr(VigilCameraConfig) b = vigil_camera_config_copy(a);
    g_autoptr(GError) error = NULL;
    g_test_message("patch %s", cases[i].patch);
    g_assert_true(apply(b, cases[i].patch, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(vigil_camera_config_source_changed(a, b), ==, cases[i].changed);
    g_assert_cmpint(vigil_camera_config_source_changed(b, a), ==, cases[i].changed);
  }
}

/* docs/streams.md: the sub stream's fields, their checks, and what they
 * restart. */
static void test_sub_stream(void)
{
  g_autoptr(VigilCameraConfig) fresh = vigil_camera_config_new();
  g_assert_null(fresh->sub_source);
  g_assert_cmpint(fresh->record_stream, ==, VIGIL_STREAM_MAIN);
  g_assert_cmpint(fresh->barcode_stream, ==, VIGIL_STREAM_MAIN);
  g_assert_cmpfloat(fresh->barcode_interval_s, ==, 2.0);

  g_autoptr(VigilCameraConfig) cfg = make_full();
  g_assert_cmpstr(cfg->sub_source, ==, "rtsp://192.0.2.10:554/stream2");
  g_assert_cmpint(cfg->record_stream, ==, VIGIL_STREAM_BOTH);
  g_assert_cmpint(cfg->barcode_stream, ==, VIGIL_STREAM_SUB);
  g_assert_cmpfloat(cfg->barcode_interval_s, ==, 1.5);
  /* Credentials: the sub stream's own, else the main stream's. */
  g_assert_cmpstr(vigil_camera_config_sub_username(cfg), ==, "viewer");
  g_assert_cmpstr(vigil_camera_config_sub_password(cfg), ==, "sub-secret-7");

  g_autofree gchar *text = to_string(cfg);
  g_assert_null(strstr(text, "sub-secret-7"));
  g_autoptr(JsonNode) node = parse(text);
  JsonObject *obj = json_node_get_object(node);
  g_assert_true(json_object_get_boolean_member(obj, "sub_password_set"));
  g_assert_true(json_object_get_null_member(obj, "sub_username"));
  g_assert_cmpstr(json_object_get_string_member(obj, "record_stream"), ==, "both");

  static const struct {
    const char *body, *message;
  } bad[] = {
      {"{\"sub_source\": \"ftp://x/y\"}", "field \"sub_source\""},
      {"{\"sub_source\": 5}", "field \"sub_source\" must be a string"},
      {"{\"sub_source\": \"\"}", "field \"sub_source\""},
      {"{\"sub_username\": 5}", "field \"sub_username\""},
      {"{\"sub_password_set\": true}", "field \"sub_password_set\" is read-only"},
      {"{\"record_stream\": \"all\"}", "field \"record_stream\" must be one of main, sub, both"},
      {"{\"barcode_stream\": \"both\"}", "field \"barcode_stream\" must be one of main, sub"},
      {"{\"barcode_interval_s\": 0.1}", "field \"barcode_interval_s\" must be a number"},
      {"{\"barcode_interval_s\": 61}", "field \"barcode_interval_s\""},
      {"{\"barcode_interval_s\": \"2\"}", "field \"barcode_interval_s\""},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("patch %s", bad[i].body);
    g_assert_false(apply(cfg, bad[i].body, FALSE, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, bad[i].message));
  }
  g_assert_cmpstr(cfg->sub_source, ==, "rtsp://192.0.2.10:554/stream2");

  /* Masked inline credentials round-trip as for "source". */
  g_autoptr(GError) error = NULL;
  g_assert_true(
      apply(cfg, "{\"sub_source\": \"rtsp://u:Sub-Url-3@192.0.2.10/sub\"}", FALSE, &error));
  g_autofree gchar *masked = to_string(cfg);
  g_assert_null(strstr(masked, "Sub-Url-3"));
  g_assert_true(apply(cfg, "{\"sub_source\": \"rtsp://u:***@192.0.2.10/sub\"}", FALSE, &error));
  g_assert_cmpstr(cfg->sub_source, ==, "rtsp://u:Sub-Url-3@192.0.2.10/sub");

  /* What reconnects which stream. */
  static const struct {
    const char *patch;
    gboolean main, sub;
  } cases[] = {
      {"{\"record_stream\": \"sub\", \"barcode_interval_s\": 3}", FALSE, FALSE},
      {"{\"sub_source\": null}", FALSE, TRUE},
      {"{\"sub_source\": \"rtsp://192.0.2.10:554/other\"}", FALSE, TRUE},
      {"{\"sub_password\": null}", FALSE, TRUE},
      {"{\"sub_username\": \"viewer\"}", FALSE, FALSE}, /* the same as borrowed */
      {"{\"sub_username\": \"other\"}", FALSE, TRUE},
      {"{\"username\": \"other\"}", TRUE, TRUE},           /* borrowed by the sub stream */
      {"{\"password\": \"hunter3-secret\"}", TRUE, FALSE}, /* it has its own */
      {"{\"rtsp_transport\": \"tcp\"}", TRUE, TRUE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilCameraConfig) a = make_full();
    g_autoptr(VigilCameraConfig) b = vigil_camera_config_copy(a);
    g_test_message("patch %s", cases[i].patch);
    g_assert_true(apply(b, cases[i].patch, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpint(vigil_camera_config_source_changed(a, b), ==, cases[i].main);
    g_assert_cmpint(vigil_camera_config_sub_changed(a, b), ==, cases[i].sub);
  }
}

/* docs/onvif.md: the "onvif" object: null by default, replaced as a whole,
 * checked member by member. */
static void test_onvif(void)
{
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  g_assert_null(cfg->onvif.address);
  g_autofree gchar *none = to_string(cfg);
  g_assert_nonnull(strstr(none, "\"onvif\":null"));

  g_autoptr(GError) error = NULL;
  g_assert_true(apply(cfg,
                      "{\"onvif\": {\"address\": \"http://cam/onvif/device_service\","
                      " \"profile\": \"main\", \"motion_events\": true}}",
                      FALSE, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(cfg->onvif.address, ==, "http://cam/onvif/device_service");
  g_assert_cmpstr(cfg->onvif.profile, ==, "main");
  g_assert_null(cfg->onvif.sub_profile);
  g_assert_true(cfg->onvif.motion_events);

  /* Round trip through JSON, as the store keeps it. */
  g_autofree gchar *text = to_string(cfg);
  g_autoptr(VigilCameraConfig) back = vigil_camera_config_new();
  g_autoptr(JsonNode) node = parse(text);
  JsonObject *o = json_node_get_object(node);
  json_object_remove_member(o, "password_set");
  json_object_remove_member(o, "sub_password_set");
  json_object_set_string_member(o, "id", "x");
  json_object_set_string_member(o, "name", "x");
  json_object_set_string_member(o, "source", "rtsp://192.0.2.1/x");
  g_assert_true(vigil_camera_config_apply_json(back, node, TRUE, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(back->onvif.address, ==, "http://cam/onvif/device_service");
  g_assert_cmpstr(back->onvif.profile, ==, "main");
  g_assert_true(back->onvif.motion_events);
  g_autoptr(VigilCameraConfig) copy = vigil_camera_config_copy(cfg);
  g_assert_cmpstr(copy->onvif.profile, ==, "main");
  g_assert_false(vigil_camera_config_source_changed(cfg, copy));

  /* A new object replaces the old one: motion_events goes back to false. */
  g_assert_true(apply(cfg, "{\"onvif\": {\"address\": \"cam2\"}}", FALSE, &error));
  g_assert_cmpstr(cfg->onvif.address, ==, "cam2");
  g_assert_null(cfg->onvif.profile);
  g_assert_false(cfg->onvif.motion_events);

  static const struct {
    const char *body, *message;
  } bad[] = {
      {"{\"onvif\": 5}", "field \"onvif\" must be null or an object"},
      {"{\"onvif\": {}}", "field \"onvif.address\" is required"},
      {"{\"onvif\": {\"address\": \"\"}}", "field \"onvif.address\""},
      {"{\"onvif\": {\"address\": \"a b\"}}", "field \"onvif.address\" must not contain spaces"},
      {"{\"onvif\": {\"address\": 5}}", "field \"onvif.address\" must be a string"},
      {"{\"onvif\": {\"address\": \"x\", \"profile\": \"\"}}", "field \"onvif.profile\""},
      {"{\"onvif\": {\"address\": \"x\", \"motion_events\": 1}}", "field \"onvif.motion_events\""},
      {"{\"onvif\": {\"address\": \"x\", \"user\": \"a\"}}", "unknown field \"onvif.user\""},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) e = NULL;
    g_test_message("body %s", bad[i].body);
    g_assert_false(apply(cfg, bad[i].body, FALSE, &e));
    g_assert_error(e, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_nonnull(strstr(e->message, bad[i].message));
  }
  /* Unchanged after the failures; null clears. */
  g_assert_cmpstr(cfg->onvif.address, ==, "cam2");
  g_assert_true(apply(cfg, "{\"onvif\": null}", FALSE, &error));
  g_assert_null(cfg->onvif.address);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/defaults", test_defaults);
  g_test_add_func("/config/create-minimal", test_create_minimal);
  g_test_add_func("/config/create-requires", test_create_requires);
  g_test_add_func("/config/bad-fields", test_bad_fields);
  g_test_add_func("/config/not-an-object", test_not_an_object);
  g_test_add_func("/config/unknown-field-message", test_unknown_field_message);
  g_test_add_func("/config/limits-accepted", test_limits_accepted);
  g_test_add_func("/config/patch-nested-merge", test_patch_nested_merge);
  g_test_add_func("/config/patch-arrays-replace", test_patch_arrays_replace);
  g_test_add_func("/config/id-immutable", test_id_immutable);
  g_test_add_func("/config/password-write-only", test_password_write_only);
  g_test_add_func("/config/to-json-shape", test_to_json_shape);
  g_test_add_func("/config/round-trip", test_round_trip);
  g_test_add_func("/config/source-changed", test_source_changed);
  g_test_add_func("/config/sub-stream", test_sub_stream);
  g_test_add_func("/config/onvif", test_onvif);
  return g_test_run();
}
