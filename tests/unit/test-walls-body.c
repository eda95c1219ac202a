/* The wall body check (http/walls-body.c): the stored form with its defaults,
 * names from titles, the exact messages the API answers, what is asked of the
 * source callbacks, "denied" sources kept from the stored wall, and a wall as
 * GET shows it PUT back unchanged (through vigil_http_parse_json). */
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "http/http.h"
#include "http/walls-body.h"

/* The sources that exist ("cam-a", "cam-b"; recordings 1 to 10), those the
 * writer may not use, and what the check asked. */
typedef struct {
  const char *hidden_camera;
  gint64 hidden_recording;
  GString *asked;
} Sources;

static gboolean camera_usable(const char *id, gpointer user_data)
{
  Sources *s = user_data;
  g_string_append_printf(s->asked, "camera %s;", id);
  return (g_str_equal(id, "cam-a") || g_str_equal(id, "cam-b")) &&
         g_strcmp0(id, s->hidden_camera) != 0;
}

static gboolean recording_usable(gint64 id, gpointer user_data)
{
  Sources *s = user_data;
  g_string_append_printf(s->asked, "recording %" G_GINT64_FORMAT ";", id);
  return id >= 1 && id <= 10 && id != s->hidden_recording;
}

static const VigilWallSources sources = {camera_usable, recording_usable};

/* The wall of tests/integration/test_walls.py. */
#define LOBBY                                                                                      \
  "{\"name\": \"lobby\", \"title\": \"Lobby wall\", \"layout\": {\"cols\": 2, \"rows\": 2},"       \
  " \"tiles\": ["                                                                                  \
  "{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"source\": {\"camera\": \"cam-a\"},"                  \
  " \"effect\": {\"name\": \"crt\", \"params\": {\"scanlines\": 0.8}}},"                           \
  "{\"x\": 1, \"y\": 0, \"w\": 1, \"h\": 2, \"source\": {\"camera\": \"cam-b\"},"                  \
  " \"effect\": {\"name\": \"sepia\"}},"                                                           \
  "{\"x\": 0, \"y\": 1, \"w\": 1, \"h\": 1, \"source\": null}], \"kiosk\": true}"

/* Checks @text; returns the stored form as text, or NULL with @error. */
static gchar *check_full(const char *text, const char *current, const char *old_text, Sources *s,
                         gchar **name, GError **error)
{
  g_autoptr(JsonNode) body = vigil_http_parse_json(text, strlen(text), NULL);
  g_assert_nonnull(body);
  g_autoptr(JsonNode) old = old_text ? json_from_string(old_text, NULL) : NULL;
  JsonArray *old_tiles =
      old ? json_object_get_array_member(json_node_get_object(old), "tiles") : NULL;
  g_autoptr(JsonObject) out =
      vigil_wall_body_check(body, current, old_tiles, &sources, s, name, error);
  if (!out)
    return NULL;
  g_autoptr(JsonNode) node = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(node, out);
  return vigil_json_to_string(node);
}

static gchar *check(const char *text, gchar **name, GError **error)
{
  g_autoptr(GString) asked = g_string_new(NULL);
  Sources s = {.asked = asked};
  return check_full(text, NULL, NULL, &s, name, error);
}

static void test_normalized(void)
{
  g_autofree gchar *name = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = check(LOBBY, &name, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(name, ==, "lobby");
  /* Every parameter of the effect, defaults included; no effect is "none". */
  g_assert_cmpstr(out, ==,
                  "{\"title\":\"Lobby wall\",\"layout\":{\"cols\":2,\"rows\":2},\"tiles\":["
                  "{\"x\":0,\"y\":0,\"w\":1,\"h\":1,\"source\":{\"camera\":\"cam-a\"},"
                  "\"effect\":{\"name\":\"crt\",\"params\":{\"scanlines\":0.8,"
                  "\"curvature\":0.3}}},"
                  "{\"x\":1,\"y\":0,\"w\":1,\"h\":2,\"source\":{\"camera\":\"cam-b\"},"
                  "\"effect\":{\"name\":\"sepia\",\"params\":{\"amount\":1.0}}},"
                  "{\"x\":0,\"y\":1,\"w\":1,\"h\":1,\"source\":null,"
                  "\"effect\":{\"name\":\"none\",\"params\":{}}}],\"kiosk\":true}");

  /* The smallest wall: title from the name, no tiles, kiosk false. */
  g_clear_pointer(&name, g_free);
  g_clear_pointer(&out, g_free);
  out = check("{\"name\": \"a\", \"title\": \"\", \"layout\": {\"cols\": 1, \"rows\": 1},"
              " \"tiles\": [], \"kiosk\": null}",
              &name, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(out, ==,
                  "{\"title\":\"a\",\"layout\":{\"cols\":1,\"rows\":1},\"tiles\":[],"
                  "\"kiosk\":false}");
}

static void test_names(void)
{
  const char *rest = "\"layout\": {\"cols\": 1, \"rows\": 1}, \"tiles\": []}";
  struct {
    const char *members, *current, *name, *message;
  } cases[] = {
      {"\"title\": \"Front Gate!\",", NULL, "front-gate", NULL},
      /* A slug of at most 32 characters. */
      {"\"title\": \"A very long title for a wall, longer than 32\",", NULL,
       "a-very-long-title-for-a-wall-lon", NULL},
      /* PUT: the current name unless the body gives one. */
      {"\"title\": \"Front Gate!\",", "lobby", "lobby", NULL},
      {"\"name\": \"new\", \"title\": \"Front Gate!\",", "lobby", "new", NULL},
      {"\"name\": null, \"title\": \"Über\",", NULL, "uber", NULL},
      {"\"title\": \"!!!\",", NULL, NULL, "give the wall a \"name\" (a-z, 0-9 and -)"},
      {"", NULL, NULL, "a wall needs a \"name\" or a \"title\""},
      {"\"name\": \"Bad Name\",", NULL, NULL, "\"name\" must be 1 to 32 of a-z, 0-9 and -"},
      {"\"name\": 5,", "lobby", NULL, "\"name\" must be 1 to 32 of a-z, 0-9 and -"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *text = g_strdup_printf("{%s %s", cases[i].members, rest);
    g_autoptr(GString) asked = g_string_new(NULL);
    Sources s = {.asked = asked};
    g_autofree gchar *name = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gchar *out = check_full(text, cases[i].current, NULL, &s, &name, &error);
    if (cases[i].message) {
      g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
      g_assert_cmpstr(error->message, ==, cases[i].message);
      g_assert_null(out);
      g_assert_null(name);
    } else {
      g_assert_no_error(error);
      g_assert_cmpstr(name, ==, cases[i].name);
    }
  }
}

/* Each body (the lobby wall with one member replaced) and its message: the
 * API answers them with 400 and this text. */
static void test_messages(void)
{
  struct {
    const char *body, *message;
  } cases[] = {
      {"[]", "a wall must be a JSON object"},
      {"{\"name\": \"a\", \"color\": \"red\"}", "wall: unknown member \"color\""},
      {"{\"name\": \"a\", \"title\": 1}", "\"title\" must be a string"},
      {"{\"name\": \"a\", \"layout\": [2, 2]}", "\"layout\" must be {\"cols\", \"rows\"}"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 9, \"rows\": 2}}",
       "layout: \"cols\" must be from 1 to 8"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2.5, \"rows\": 2}}",
       "layout: \"cols\" must be a whole number from 1 to 8"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2}}",
       "layout: \"rows\" must be a whole number from 1 to 8"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2, \"gap\": 1}}",
       "layout: unknown member \"gap\""},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": \"no\"}",
       "\"tiles\" must be an array"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 1}, \"tiles\": [{}, {}, {}]}",
       "at most 2 tiles fit a 2x1 layout"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": [1]}",
       "tile 1 must be an object"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 2, \"y\": 0, \"w\": 1, \"h\": 1}]}",
       "tile 1: \"x\" must be from 0 to 1"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 1, \"y\": 0, \"w\": 2, \"h\": 1}]}",
       "tile 1: \"w\" must be from 1 to 1"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 2, \"h\": 2}, {\"x\": 1, \"y\": 1, \"w\": 1, \"h\": 1}]}",
       "tile 2 overlaps another tile at column 2, row 2"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"extra\": 1}]}",
       "tile 1: unknown member \"extra\""},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"effect\": {\"name\": \"nope\"}}]}",
       "tile 1: effect \"name\" must be one of none, crt, grain, blur, water, sepia, "
       "posterize, thermal, pixelate, edge"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"effect\": \"blur\"}]}",
       "tile 1: \"effect\" must be {\"name\", \"params\"}"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, "
       "\"effect\": {\"name\": \"blur\", \"params\": {\"radius\": 99}}}]}",
       "tile 1: effect parameter \"radius\" must be from 0 to 20"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, "
       "\"effect\": {\"name\": \"water\", \"params\": {\"level\": 0.1}}}]}",
       "tile 1: effect parameter \"level\" must be from 0.3 to 0.9"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, "
       "\"effect\": {\"name\": \"blur\", \"params\": {\"sigma\": 1}}}]}",
       "tile 1: effect blur has no parameter \"sigma\""},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": "
       "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, "
       "\"effect\": {\"name\": \"blur\", \"params\": {\"radius\": \"2\"}}}]}",
       "tile 1: effect parameter \"radius\" must be a number"},
      {"{\"name\": \"a\", \"layout\": {\"cols\": 2, \"rows\": 2}, \"tiles\": [], "
       "\"kiosk\": \"yes\"}",
       "\"kiosk\" must be true or false"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *name = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gchar *out = check(cases[i].body, &name, &error);
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, cases[i].message);
    g_assert_null(out);
    g_assert_null(name);
  }

  /* Titles count characters, not bytes. */
  g_autoptr(GString) title = g_string_new(NULL);
  for (int i = 0; i < VIGIL_WALL_MAX_TITLE; i++)
    g_string_append(title, "é");
  g_autofree gchar *ok = g_strdup_printf("{\"name\": \"a\", \"title\": \"%s\", "
                                         "\"layout\": {\"cols\": 1, \"rows\": 1}, \"tiles\": []}",
                                         title->str);
  g_string_append(title, "e");
  g_autofree gchar *long_title = g_strdup_printf(
      "{\"name\": \"a\", \"title\": \"%s\", \"layout\": {\"cols\": 1, \"rows\": 1}, "
      "\"tiles\": []}",
      title->str);
  g_autofree gchar *name = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = check(ok, &name, &error);
  g_assert_no_error(error);
  g_clear_pointer(&name, g_free);
  g_free(check(long_title, &name, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "\"title\" must be at most 100 characters");
}

/* One tile at x 0, y 0 showing @source. */
static gchar *one_tile(const char *source)
{
  return g_strdup_printf("{\"name\": \"w\", \"layout\": {\"cols\": 2, \"rows\": 1}, \"tiles\": "
                         "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"source\": %s}]}",
                         source);
}

static void test_sources(void)
{
  struct {
    const char *source, *hidden_camera;
    gint64 hidden_recording;
    const char *asked, *message;
  } cases[] = {
      {"{\"camera\": \"cam-a\"}", NULL, 0, "camera cam-a;", NULL},
      {"{\"recording\": 7}", NULL, 0, "recording 7;", NULL},
      /* Unknown and hidden read the same. */
      {"{\"camera\": \"nope\"}", NULL, 0, "camera nope;", "tile 1: no such camera"},
      {"{\"camera\": \"cam-b\"}", "cam-b", 0, "camera cam-b;", "tile 1: no such camera"},
      {"{\"recording\": 999}", NULL, 0, "recording 999;", "tile 1: no such recording"},
      {"{\"recording\": 7}", NULL, 7, "recording 7;", "tile 1: no such recording"},
      /* Ids that cannot exist are not asked about. */
      {"{\"camera\": \"Cam A\"}", NULL, 0, "", "tile 1: no such camera"},
      {"{\"camera\": 5}", NULL, 0, "", "tile 1: no such camera"},
      {"{\"recording\": 0}", NULL, 0, "", "tile 1: \"recording\" must be a recording id"},
      {"{\"recording\": \"7\"}", NULL, 0, "", "tile 1: \"recording\" must be a recording id"},
      {"{\"camera\": \"cam-a\", \"recording\": 1}", NULL, 0, "",
       "tile 1: \"source\" must have exactly one of \"camera\" or \"recording\""},
      {"{\"file\": \"/etc/passwd\"}", NULL, 0, "",
       "tile 1: \"source\" must have \"camera\" or \"recording\""},
      {"\"cam-a\"", NULL, 0, "",
       "tile 1: \"source\" must be {\"camera\": id}, {\"recording\": id} or null"},
      {"{\"denied\": true}", NULL, 0, "", "tile 1: no stored source to keep"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *text = one_tile(cases[i].source);
    g_autoptr(GString) asked = g_string_new(NULL);
    Sources s = {cases[i].hidden_camera, cases[i].hidden_recording, asked};
    g_autofree gchar *name = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gchar *out = check_full(text, NULL, NULL, &s, &name, &error);
    g_assert_cmpstr(asked->str, ==, cases[i].asked);
    if (cases[i].message) {
      g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
      g_assert_cmpstr(error->message, ==, cases[i].message);
    } else {
      g_assert_no_error(error);
      g_assert_nonnull(strstr(out, cases[i].source[2] == 'c' ? "\"source\":{\"camera\":\"cam-a\"}"
                                                             : "\"source\":{\"recording\":7}"));
    }
  }
}

/* A camera tile may name a PTZ preset: kept as given; refused when empty,
 * too long, not text, or beside a recording. */
static void test_preset(void)
{
  struct {
    const char *source, *stored, *message;
  } cases[] = {
      {"{\"camera\": \"cam-a\", \"preset\": \"door <1>\"}",
       "\"source\":{\"camera\":\"cam-a\",\"preset\":\"door <1>\"}", NULL},
      {"{\"camera\": \"cam-a\", \"preset\": \"\"}", NULL,
       "tile 1: \"preset\" must be a preset token of 1 to 64 characters"},
      {"{\"camera\": \"cam-a\", \"preset\": 3}", NULL,
       "tile 1: \"preset\" must be a preset token of 1 to 64 characters"},
      {"{\"camera\": \"cam-a\", \"preset\": "
       "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
       NULL, "tile 1: \"preset\" must be a preset token of 1 to 64 characters"},
      {"{\"recording\": 7, \"preset\": \"p1\"}", NULL,
       "tile 1: \"source\" must have exactly one of \"camera\" or \"recording\""},
      {"{\"preset\": \"p1\"}", NULL, "tile 1: \"source\" must have \"camera\" or \"recording\""},
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *text = one_tile(cases[i].source);
    g_autoptr(GString) asked = g_string_new(NULL);
    Sources s = {NULL, 0, asked};
    g_autofree gchar *name = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree gchar *out = check_full(text, NULL, NULL, &s, &name, &error);
    if (cases[i].message) {
      g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
      g_assert_cmpstr(error->message, ==, cases[i].message);
    } else {
      g_assert_no_error(error);
      g_assert_nonnull(strstr(out, cases[i].stored));
    }
  }
}

/* A tile the writer may not see, sent back as {"denied": true}, keeps the
 * source stored at its x, y; nothing is asked about it. */
static void test_denied(void)
{
  const char *stored = "{\"tiles\": ["
                       "{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"source\": null},"
                       "{\"x\": 1, \"y\": 0, \"w\": 1, \"h\": 1, \"source\": {\"camera\": "
                       "\"cam-b\"}}]}";
  const char *body = "{\"layout\": {\"cols\": 2, \"rows\": 1}, \"tiles\": ["
                     "{\"x\": %d, \"y\": 0, \"w\": 1, \"h\": 1, \"source\": {\"denied\": true}}]}";
  g_autoptr(GString) asked = g_string_new(NULL);
  Sources s = {.hidden_camera = "cam-b", .asked = asked};
  g_autofree gchar *keep = g_strdup_printf(body, 1);
  g_autofree gchar *name = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = check_full(keep, "lobby", stored, &s, &name, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(name, ==, "lobby");
  g_assert_nonnull(
      strstr(out, "\"x\":1,\"y\":0,\"w\":1,\"h\":1,\"source\":{\"camera\":\"cam-b\"}"));
  g_assert_cmpstr(asked->str, ==, "");

  /* Moved to where nothing (or null) is stored: refused. */
  g_autofree gchar *moved = g_strdup_printf(body, 0);
  g_clear_pointer(&name, g_free);
  g_free(check_full(moved, "lobby", stored, &s, &name, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "tile 1: no stored source to keep");
}

/* What GET shows of a wall can be PUT back unchanged, even a parameter whose
 * shortest form has a long run of digits (0.00012345678901234567). */
static void test_put_back(void)
{
  const char *text = "{\"name\": \"fx\", \"layout\": {\"cols\": 1, \"rows\": 1}, \"tiles\": "
                     "[{\"x\": 0, \"y\": 0, \"w\": 1, \"h\": 1, \"effect\": {\"name\": "
                     "\"grain\", \"params\": {\"amount\": 1.2345678901234567e-4}}}]}";
  g_autofree gchar *name = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *out = check(text, &name, &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(out, "0.00012345678901234567"));
  g_autofree gchar *name2 = NULL;
  g_autofree gchar *again = check(out, &name2, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(again, ==, out);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/walls-body/normalized", test_normalized);
  g_test_add_func("/walls-body/names", test_names);
  g_test_add_func("/walls-body/messages", test_messages);
  g_test_add_func("/walls-body/sources", test_sources);
  g_test_add_func("/walls-body/preset", test_preset);
  g_test_add_func("/walls-body/denied", test_denied);
  g_test_add_func("/walls-body/put-back", test_put_back);
  return g_test_run();
}
