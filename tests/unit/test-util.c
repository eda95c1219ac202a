/* Tests for core/util: ISO 8601 times and camera id slugs. */
#include <string.h>

#include "core/error.h"
#include "core/util.h"

static void test_time_format_known(void)
{
  static const struct {
    gint64 us;
    const char *text;
  } cases[] = {
      {0, "1970-01-01T00:00:00.000Z"},
      {1795614301250000, "2026-11-25T13:45:01.250Z"},
      {1795614301250999, "2026-11-25T13:45:01.250Z"}, /* truncated, not rounded */
      {999, "1970-01-01T00:00:00.000Z"},
      {1000, "1970-01-01T00:00:00.001Z"},
      {-1, "1969-12-31T23:59:59.999Z"},
      {-1000000, "1969-12-31T23:59:59.000Z"},
      {951782400000000, "2000-02-29T00:00:00.000Z"},
      {253402300799999000, "9999-12-31T23:59:59.999Z"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *text = vigil_time_format(cases[i].us);
    g_assert_cmpstr(text, ==, cases[i].text);
  }
}

static void test_time_parse_known(void)
{
  static const struct {
    const char *text;
    gint64 us;
  } cases[] = {
      {"1970-01-01T00:00:00.000Z", 0},
      {"1970-01-01T00:00:00Z", 0},
      {"2026-11-25T13:45:01.250Z", 1795614301250000},
      {"2026-11-25T13:45:01.25Z", 1795614301250000},
      {"2026-11-25T13:45:01.250123Z", 1795614301250123},
      {"2026-11-25T13:45:01.2501239Z", 1795614301250123},
      {"2026-11-25T13:45:01z", 1795614301000000},
      {"2026-11-25t13:45:01Z", 1795614301000000},
      {"2026-11-25T15:45:01.250+02:00", 1795614301250000},
      {"2026-11-25T15:45:01.250+0200", 1795614301250000},
      {"2026-11-25T15:45:01.250+02", 1795614301250000},
      {"2026-11-25T08:15:01.250-05:30", 1795614301250000},
      {"2026-11-26T00:45:01+11:00", 1795614301000000},
      {"2026-11-25T13:45Z", 1795614300000000},
      {"1969-12-31T23:59:59.999Z", -1000},
      {"2000-02-29T00:00:00Z", 951782400000000},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    gint64 us = 42;
    g_test_message("parsing %s", cases[i].text);
    g_assert_true(vigil_time_parse(cases[i].text, &us));
    g_assert_cmpint(us, ==, cases[i].us);
  }
}

static void test_time_parse_rejects(void)
{
  static const char *const bad[] = {
      "",
      "garbage",
      "2026-11-25",
      "2026-11-25T13:45:01",     /* no zone */
      "2026-11-25T13:45:01.250", /* no zone */
      "2026-11-25 13:45:01Z",    /* space separator */
      "2026-11-25T13:45:01.Z",   /* empty fraction */
      "2026-11-25T13:45:01ZZ",
      "2026-11-25T13:45:01Z ",
      " 2026-11-25T13:45:01Z",
      "2026-13-25T13:45:01Z",
      "2026-02-30T13:45:01Z",
      "2026-11-25T24:00:00Z",
      "2026-11-25T13:60:00Z",
      "2026-11-25T13:45:61Z",
      "2026-11-25T13:45:01+24:00",
      "2026-11-25T13:45:01+02:60",
      "2026-11-25T13:45:01+2",
      "2026-11-25T13:45:01+02:0",
      "20261125T134501Z",     /* basic format */
      "2026-W48-3T13:45:01Z", /* week date */
      "2026-329T13:45:01Z",   /* ordinal date */
      "0000-01-01T00:00:00Z",
      "+2026-11-25T13:45:01Z",
      "2026-11-25T13:45:01.250Zjunk",
      "1795614301250000",
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    gint64 us = 42;
    g_test_message("parsing \"%s\"", bad[i]);
    g_assert_false(vigil_time_parse(bad[i], &us));
    g_assert_cmpint(us, ==, 42); /* untouched on failure */
  }
  gint64 us = 42;
  g_assert_false(vigil_time_parse(NULL, &us));
}

static void test_time_round_trip(void)
{
  /* Millisecond values survive format -> parse exactly. */
  static const gint64 values[] = {
      0, 1, 1795614301250000, 1700000000123000, -86400000000, 4102444799999000};
  for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
    gint64 ms_value = values[i] - (((values[i] % 1000) + 1000) % 1000);
    g_autofree gchar *text = vigil_time_format(values[i]);
    gint64 back = 0;
    g_assert_true(vigil_time_parse(text, &back));
    g_assert_cmpint(back, ==, ms_value);
  }
  /* And a spread of "now"-like times. */
  for (gint64 t = 1600000000000000; t < 1900000000000000; t += 7777777777777) {
    g_autofree gchar *text = vigil_time_format(t);
    gint64 back = 0;
    g_assert_true(vigil_time_parse(text, &back));
    g_assert_cmpint(back, ==, t - t % 1000);
    g_assert_cmpint(strlen(text), ==, 24);
  }
}

static void test_slug_valid(void)
{
  static const struct {
    const char *slug;
    gboolean valid;
  } cases[] = {
      {"front-door", TRUE},
      {"a", TRUE},
      {"0", TRUE},
      {"-", TRUE},
      {"cam-1", TRUE},
      {"abcdefghijklmnopqrstuvwxyz012345", TRUE},   /* 32 */
      {"abcdefghijklmnopqrstuvwxyz0123456", FALSE}, /* 33 */
      {"", FALSE},
      {"Front", FALSE},
      {"front door", FALSE},
      {"front_door", FALSE},
      {"caf\xc3\xa9", FALSE},
      {"a/b", FALSE},
      {"..", FALSE},
      {"a\n", FALSE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *shown = g_strescape(cases[i].slug, NULL);
    g_test_message("slug \"%s\"", shown);
    g_assert_cmpint(vigil_slug_is_valid(cases[i].slug), ==, cases[i].valid);
  }
  g_assert_false(vigil_slug_is_valid(NULL));
}

static void test_slug_from_name(void)
{
  static const struct {
    const char *name;
    const char *slug;
  } cases[] = {
      {"Front door", "front-door"},
      {"  \xc3\x9c"
       "ber Garage!! ",
       "uber-garage"},
      {"!!!", NULL},
      {"", NULL},
      {"   ", NULL},
      {"Cam 1", "cam-1"},
      {"cam--1", "cam-1"},
      {"-cam-", "cam"},
      {"Caf\xc3\xa9 Cr\xc3\xa8me", "cafe-creme"},
      {"Cafe\xcc\x81", "cafe"},           /* decomposed e + combining acute */
      {"\xe6\x9d\xb1\xe4\xba\xac", NULL}, /* CJK: nothing transliterable */
      {"Garage \xe6\x9d\xb1 2", "garage-2"},
      {"back_yard.cam", "back-yard-cam"},
      {"ABC123", "abc123"},
      {"bad\xff utf8", "bad-utf8"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *slug = vigil_slug_from_name(cases[i].name);
    g_autofree gchar *shown = g_strescape(cases[i].name, NULL);
    g_test_message("name \"%s\" -> %s", shown, slug ? slug : "(null)");
    g_assert_cmpstr(slug, ==, cases[i].slug);
    if (slug != NULL)
      g_assert_true(vigil_slug_is_valid(slug));
  }
  g_assert_null(vigil_slug_from_name(NULL));
}

static void test_slug_from_long_name(void)
{
  /* 100 characters: cut to at most 32, never ending in '-'. */
  GString *name = g_string_new(NULL);
  while (name->len < 100)
    g_string_append(name, "Camera ");
  g_string_truncate(name, 100);
  g_autofree gchar *slug = vigil_slug_from_name(name->str);
  g_string_free(name, TRUE);
  g_assert_nonnull(slug);
  g_assert_true(vigil_slug_is_valid(slug));
  g_assert_cmpuint(strlen(slug), <=, 32);
  g_assert_true(g_str_has_prefix(slug, "camera-camera-camera-camera"));
  g_assert_cmpint(slug[strlen(slug) - 1], !=, '-');

  /* A dash would land exactly at position 32: it must be dropped, not kept. */
  g_autofree gchar *slug2 = vigil_slug_from_name("abcdefghijklmnopqrstuvwxyz01234 five");
  g_assert_cmpstr(slug2, ==, "abcdefghijklmnopqrstuvwxyz01234");

  g_autofree gchar *slug3 = vigil_slug_from_name("abcdefghijklmnopqrstuvwxyz012345678 nine");
  g_assert_cmpstr(slug3, ==, "abcdefghijklmnopqrstuvwxyz012345");

  g_autofree gchar *slug4 = vigil_slug_from_name("abcdefghijklmnopqrstuvwxyz0123 x yz");
  g_assert_cmpstr(slug4, ==, "abcdefghijklmnopqrstuvwxyz0123-x");
}

static void test_error_quark(void)
{
  g_assert_cmpuint(VIGIL_ERROR, !=, 0);
  g_assert_cmpstr(g_quark_to_string(VIGIL_ERROR), ==, "vigil-error-quark");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/util/time/format-known", test_time_format_known);
  g_test_add_func("/util/time/parse-known", test_time_parse_known);
  g_test_add_func("/util/time/parse-rejects", test_time_parse_rejects);
  g_test_add_func("/util/time/round-trip", test_time_round_trip);
  g_test_add_func("/util/slug/valid", test_slug_valid);
  g_test_add_func("/util/slug/from-name", test_slug_from_name);
  g_test_add_func("/util/slug/from-long-name", test_slug_from_long_name);
  g_test_add_func("/util/error/quark", test_error_quark);
  return g_test_run();
}
