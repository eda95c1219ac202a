/* mqtt: command topics and payloads (vigil_mqtt_parse_command). */
#include <glib.h>
#include <string.h>

#include "mqtt/messages.h"

static gboolean parse(const char *prefix, const char *topic, const char *payload, gchar **camera,
                      gchar **name, gboolean *on)
{
  return vigil_mqtt_parse_command(prefix, topic, payload, (int)strlen(payload), camera, name, on);
}

static void test_commands(void)
{
  static const struct {
    const char *topic, *payload, *camera, *name;
    gboolean on;
  } good[] = {
      {"vigil/door/record/set", "ON", "door", "record", TRUE},
      {"vigil/door/motion/set", "OFF", "door", "motion", FALSE},
      {"vigil/garage-2/detect/set", "ON", "garage-2", "detect", TRUE},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree gchar *camera = NULL, *name = NULL;
    gboolean on = !good[i].on;
    g_assert_true(parse("vigil", good[i].topic, good[i].payload, &camera, &name, &on));
    g_assert_cmpstr(camera, ==, good[i].camera);
    g_assert_cmpstr(name, ==, good[i].name);
    g_assert_cmpint(on, ==, good[i].on);
  }
  /* A prefix of several levels. */
  g_autofree gchar *camera = NULL, *name = NULL;
  gboolean on = FALSE;
  g_assert_true(parse("home/nvr", "home/nvr/door/record/set", "ON", &camera, &name, &on));
  g_assert_cmpstr(camera, ==, "door");
}

static void test_not_commands(void)
{
  static const struct {
    const char *topic, *payload;
  } bad[] = {
      {"vigil/door/record/set", "on"},   {"vigil/door/record/set", "ON "},
      {"vigil/door/record/set", ""},     {"vigil/door/record/set", "TRUE"},
      {"vigil/door/snapshot/set", "ON"}, {"vigil/door/record", "ON"},
      {"vigil/door/record/set/x", "ON"}, {"vigil//record/set", "ON"},
      {"vigilx/door/record/set", "ON"},  {"other/door/record/set", "ON"},
      {"vigil/door/motion/state", "ON"}, {"vigil", "ON"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree gchar *camera = NULL, *name = NULL;
    gboolean on = FALSE;
    if (parse("vigil", bad[i].topic, bad[i].payload, &camera, &name, &on))
      g_error("accepted %s %s", bad[i].topic, bad[i].payload);
    g_assert_null(camera);
    g_assert_null(name);
  }
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mqtt/commands", test_commands);
  g_test_add_func("/mqtt/not-commands", test_not_commands);
  return g_test_run();
}
