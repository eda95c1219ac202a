/* core/json: the member getters and readers (types, ranges, the 400
 * messages) and the member writers. */
#include <glib.h>

#include "core/error.h"
#include "core/json.h"

static JsonNode *parse(const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_assert_true(json_parser_load_from_data(parser, text, -1, NULL));
  return json_node_copy(json_parser_get_root(parser));
}

/* Member @name of the object in @text. */
static JsonNode *member(JsonNode *root, const char *name)
{
  return json_object_get_member(json_node_get_object(root), name);
}

static void test_getters(void)
{
  g_autoptr(JsonNode) o = parse("{\"s\": \"x\", \"i\": 5, \"d\": 0.5, \"b\": true, \"n\": null,"
                                " \"f\": 5.0}");
  const char *s = NULL;
  gint64 i = 0;
  double d = 0;
  gboolean b = FALSE;
  g_assert_true(vigil_json_get_string(member(o, "s"), &s));
  g_assert_cmpstr(s, ==, "x");
  g_assert_false(vigil_json_get_string(member(o, "i"), &s));
  g_assert_false(vigil_json_get_string(member(o, "n"), &s));
  g_assert_false(vigil_json_get_string(NULL, &s));
  g_assert_true(vigil_json_get_int(member(o, "i"), 1, 5, &i));
  g_assert_cmpint(i, ==, 5);
  g_assert_false(vigil_json_get_int(member(o, "i"), 6, 9, &i));
  g_assert_false(vigil_json_get_int(member(o, "f"), 0, 9, &i)); /* 5.0 is not an integer */
  g_assert_false(vigil_json_get_int(member(o, "s"), 0, 9, &i));
  g_assert_true(vigil_json_get_double(member(o, "d"), 0, 1, &d));
  g_assert_cmpfloat(d, ==, 0.5);
  g_assert_true(vigil_json_get_double(member(o, "i"), 0, 9, &d)); /* integers are numbers */
  g_assert_cmpfloat(d, ==, 5);
  g_assert_false(vigil_json_get_double(member(o, "d"), 0.6, 1, &d));
  g_assert_false(vigil_json_get_double(member(o, "b"), 0, 1, &d));
  g_assert_true(vigil_json_get_bool(member(o, "b"), &b));
  g_assert_true(b);
  g_assert_false(vigil_json_get_bool(member(o, "i"), &b));
}

static void test_enum_and_members(void)
{
  g_autoptr(JsonNode) o = parse("{\"mode\": \"sub\", \"x\": 1, \"y\": 2}");
  static const char *const names[] = {"main", "sub", "both"};
  int v = -1;
  g_assert_true(vigil_json_get_enum(member(o, "mode"), names, 3, &v));
  g_assert_cmpint(v, ==, 1);
  g_assert_false(vigil_json_get_enum(member(o, "mode"), names, 1, &v));
  g_assert_false(vigil_json_get_enum(member(o, "x"), names, 3, &v));
  g_assert_null(vigil_json_unknown_member(json_node_get_object(o),
                                          (const char *const[]){"mode", "x", "y", NULL}));
  g_assert_cmpstr(
      vigil_json_unknown_member(json_node_get_object(o), (const char *const[]){"mode", NULL}), ==,
      "x");
}

static void test_reader_messages(void)
{
  g_autoptr(JsonNode) o = parse("{\"s\": 1, \"i\": 99, \"e\": \"all\", \"b\": 0}");
  const char *s;
  int i, e;
  gboolean b;
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_json_read_string(member(o, "s"), "name", &s, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_cmpstr(error->message, ==, "field \"name\" must be a string");
  g_clear_error(&error);
  g_assert_false(vigil_json_read_int(member(o, "i"), "pre_roll_s", 0, 60, &i, &error));
  g_assert_cmpstr(error->message, ==, "field \"pre_roll_s\" must be an integer between 0 and 60");
  g_clear_error(&error);
  static const char *const names[] = {"main", "sub", "both"};
  g_assert_false(vigil_json_read_enum(member(o, "e"), "record_stream", names, 2, &e, &error));
  g_assert_cmpstr(error->message, ==, "field \"record_stream\" must be one of main, sub");
  g_clear_error(&error);
  g_assert_false(vigil_json_read_bool(member(o, "b"), "enabled", &b, &error));
  g_assert_cmpstr(error->message, ==, "field \"enabled\" must be true or false");
}

static void test_writers(void)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "s", "x");
  vigil_json_add_string_or_null(b, "n1", NULL);
  vigil_json_add_int(b, "i", -3);
  vigil_json_add_bool(b, "b", FALSE);
  vigil_json_add_double(b, "d", 0.08);
  vigil_json_add_null(b, "n2");
  vigil_json_begin_array(b, "a");
  json_builder_add_int_value(b, 1);
  json_builder_end_array(b);
  vigil_json_begin_object(b, "o");
  vigil_json_add_node(b, "v", json_node_init_int(json_node_alloc(), 2));
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree gchar *text = vigil_json_to_string(root);
  g_assert_cmpstr(text, ==,
                  "{\"s\":\"x\",\"n1\":null,\"i\":-3,\"b\":false,\"d\":0.08,\"n2\":null,"
                  "\"a\":[1],\"o\":{\"v\":2}}");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/json/getters", test_getters);
  g_test_add_func("/json/enum-and-members", test_enum_and_members);
  g_test_add_func("/json/reader-messages", test_reader_messages);
  g_test_add_func("/json/writers", test_writers);
  return g_test_run();
}
