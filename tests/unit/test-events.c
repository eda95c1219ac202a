/* Unit tests of the event bus (events/events.c) over a real store: events
 * are saved, listed with filters newest first, ended, alarms raised once and
 * cleared, listeners told, and events left open by a crash closed at start;
 * events and recordings linked by time overlap both ways. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "core/json.h"
#include "events/events.h"
#include "store/recordings.h"

typedef struct {
  gchar *dir;
  gchar *path;
  VigilStore *store;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp("vigil-test-events-XXXXXX", NULL);
  f->path = g_build_filename(f->dir, "vigil.db", NULL);
  f->store = vigil_store_open(f->path, NULL);
  g_assert_nonnull(f->store);
  vigil_events_init(f->store);
}

static void teardown(Fixture *f, gconstpointer data)
{
  vigil_events_shutdown();
  vigil_store_close(f->store);
  g_autofree gchar *wal = g_strconcat(f->path, "-wal", NULL);
  g_autofree gchar *shm = g_strconcat(f->path, "-shm", NULL);
  g_unlink(wal);
  g_unlink(shm);
  g_unlink(f->path);
  g_rmdir(f->dir);
  g_free(f->path);
  g_free(f->dir);
}

static void on_bus(const char *name, const char *camera, const char *json, gpointer user_data)
{
  g_string_append_printf(user_data, "%s %s\n", name, json);
}

static void test_store_and_list(Fixture *f, gconstpointer data)
{
  g_autoptr(GString) heard = g_string_new("");
  guint listener = vigil_events_subscribe(on_bus, heard);
  gint64 t0 = 1795600000000000; /* 2026-11-25 */
  gint64 m = vigil_events_begin("front", "motion", t0, 0.25, "door", NULL);
  g_assert_cmpint(m, >, 0);
  vigil_events_update_score(m, 0.5);
  vigil_events_update_score(m, 0.1); /* lower: kept at 0.5 */
  vigil_events_end(m, t0 + 5000000);
  gint64 b = vigil_events_add("back", "barcode", t0 + 10000000, NAN, "QR-Code",
                              "{\"format\":\"QR-Code\",\"text\":\"hi\"}");
  g_assert_cmpint(b, >, m);
  g_assert_true(strstr(heard->str, "\"end\":null") != NULL);          /* the start */
  g_assert_true(strstr(heard->str, "\"end\":\"2026-11-25T") != NULL); /* the end */
  vigil_events_unsubscribe(listener);

  g_autoptr(GPtrArray) all = vigil_store_list_events(f->store, NULL, NULL, NULL, 0, 0, 10, NULL);
  g_assert_cmpuint(all->len, ==, 2);
  VigilEvent *newest = g_ptr_array_index(all, 0);
  g_assert_cmpint(newest->id, ==, b);
  g_autoptr(JsonNode) node = vigil_event_to_json(newest);
  g_autofree gchar *json = vigil_json_to_string(node);
  g_assert_true(strstr(json, "\"data\":{\"format\":\"QR-Code\",\"text\":\"hi\"}") != NULL);
  g_assert_true(strstr(json, "\"score\":null") != NULL);
  VigilEvent *motion = g_ptr_array_index(all, 1);
  g_assert_cmpfloat(motion->score, ==, 0.5);
  g_assert_cmpint(motion->end_us, ==, t0 + 5000000);
  g_assert_cmpstr(motion->label, ==, "door");

  g_autoptr(GPtrArray) fronts =
      vigil_store_list_events(f->store, "front", NULL, NULL, 0, 0, 10, NULL);
  g_assert_cmpuint(fronts->len, ==, 1);
  g_autoptr(GPtrArray) codes =
      vigil_store_list_events(f->store, NULL, NULL, "barcode", 0, 0, 10, NULL);
  g_assert_cmpuint(codes->len, ==, 1);
  /* from after the motion ended: only the barcode. */
  g_autoptr(GPtrArray) later =
      vigil_store_list_events(f->store, NULL, NULL, NULL, t0 + 6000000, 0, 10, NULL);
  g_assert_cmpuint(later->len, ==, 1);
  /* to before the barcode: only the motion. */
  g_autoptr(GPtrArray) earlier =
      vigil_store_list_events(f->store, NULL, NULL, NULL, 0, t0 + 6000000, 10, NULL);
  g_assert_cmpuint(earlier->len, ==, 1);
  g_autoptr(GPtrArray) one = vigil_store_list_events(f->store, NULL, NULL, NULL, 0, 0, 1, NULL);
  g_assert_cmpuint(one->len, ==, 1);

  VigilEventCounters c;
  vigil_events_get_counters(&c);
  g_assert_cmpuint(c.motion, ==, 1);
  g_assert_cmpuint(c.barcode, ==, 1);
}

static void test_alarms(Fixture *f, gconstpointer data)
{
  gint64 a = vigil_alarm_raise("cam", "camera-dark", NULL);
  g_assert_cmpint(vigil_alarm_raise("cam", "camera-dark", NULL), ==, a);
  gint64 disk = vigil_alarm_raise(NULL, "disk-low", "{\"free_percent\":3}");
  g_assert_cmpint(disk, !=, a);
  g_assert_true(vigil_alarm_is_raised(NULL, "disk-low"));
  vigil_alarm_clear("cam", "camera-dark");
  vigil_alarm_clear("cam", "camera-dark"); /* twice: harmless */
  g_assert_false(vigil_alarm_is_raised("cam", "camera-dark"));
  gint64 again = vigil_alarm_raise("cam", "camera-dark", NULL);
  g_assert_cmpint(again, >, disk);

  g_autoptr(GPtrArray) alarms =
      vigil_store_list_events(f->store, NULL, NULL, "alarm", 0, 0, 10, NULL);
  g_assert_cmpuint(alarms->len, ==, 3);
  VigilEventCounters c;
  vigil_events_get_counters(&c);
  g_assert_cmpuint(c.alarm, ==, 3);
  /* disk-low has no camera. */
  gboolean found = FALSE;
  for (guint i = 0; i < alarms->len; i++) {
    VigilEvent *e = g_ptr_array_index(alarms, i);
    if (g_strcmp0(e->label, "disk-low") == 0) {
      g_assert_null(e->camera);
      g_assert_cmpint(e->end_us, ==, 0);
      found = TRUE;
    } else if (e->id == a) {
      g_assert_cmpint(e->end_us, >=, e->start_us);
    }
  }
  g_assert_true(found);

  /* A restart (crash: no shutdown) closes what was left open. */
  vigil_store_close_open_events(f->store, g_get_real_time(), NULL);
  g_autoptr(GPtrArray) after =
      vigil_store_list_events(f->store, NULL, NULL, "alarm", 0, 0, 10, NULL);
  for (guint i = 0; i < after->len; i++)
    g_assert_cmpint(((VigilEvent *)g_ptr_array_index(after, i))->end_us, >, 0);
}

static gint64 add_recording(Fixture *f, const char *camera, gint64 start, gint64 end, gboolean open,
                            const char *path)
{
  VigilRecording rec = {.camera = (gchar *)camera,
                        .start_us = start,
                        .end_us = end,
                        .reason = (gchar *)"motion",
                        .path = (gchar *)path,
                        .open = open};
  gint64 id = vigil_store_insert_recording(f->store, &rec, NULL);
  g_assert_cmpint(id, >, 0);
  return id;
}

static gint64 recording_of(Fixture *f, gint64 event_id)
{
  g_autoptr(GPtrArray) all = vigil_store_list_events(f->store, NULL, NULL, NULL, 0, 0, 100, NULL);
  for (guint i = 0; i < all->len; i++) {
    VigilEvent *e = g_ptr_array_index(all, i);
    if (e->id == event_id)
      return e->recording;
  }
  g_assert_not_reached();
}

static void test_recording_link(Fixture *f, gconstpointer data)
{
  const gint64 s = 1000000, t0 = 1795600000000000;
  /* Two consecutive recordings of "front" (a split): [0, 10 s], [10 s, 20 s];
   * one of "back" over the same time; an open one of "front" from 30 s whose
   * row ends at 31 s (its last indexed segment) but lasts until now. */
  gint64 r1 = add_recording(f, "front", t0, t0 + 10 * s, FALSE, "front/a");
  gint64 r2 = add_recording(f, "front", t0 + 10 * s, t0 + 20 * s, FALSE, "front/b");
  gint64 rb = add_recording(f, "back", t0, t0 + 20 * s, FALSE, "back/a");
  gint64 now = g_get_real_time();
  gint64 r3 = add_recording(f, "front", now - 30 * s, now - 29 * s, TRUE, "front/c");

  g_autoptr(GString) heard = g_string_new("");
  guint listener = vigil_events_subscribe(on_bus, heard);
  gint64 inside = vigil_events_add("front", "motion", t0 + 3 * s, NAN, NULL, NULL);
  vigil_events_unsubscribe(listener);
  /* Listeners get the same link as the API. */
  g_autofree gchar *linked = g_strdup_printf("\"recording\":%" G_GINT64_FORMAT "}", r1);
  g_assert_nonnull(strstr(heard->str, linked));
  /* Overlaps both: belongs to the one holding its start. */
  gint64 across = vigil_events_begin("front", "motion", t0 + 8 * s, NAN, NULL, NULL);
  vigil_events_end(across, t0 + 12 * s);
  /* Starts before any recording (a long alarm): the earliest it overlaps. */
  gint64 before = vigil_events_begin("front", "alarm", t0 - 5 * s, NAN, "camera-dark", NULL);
  vigil_events_end(before, t0 + 15 * s);
  gint64 outside = vigil_events_add("front", "motion", t0 + 25 * s, NAN, NULL, NULL);
  gint64 other_camera = vigil_events_add("back", "barcode", t0 + 3 * s, NAN, NULL, NULL);
  gint64 system = vigil_events_add(NULL, "alarm", t0 + 3 * s, NAN, "disk-low", NULL);
  /* In the open recording, after its last indexed segment. */
  gint64 live = vigil_events_begin("front", "motion", now - 2 * s, NAN, NULL, NULL);

  g_assert_cmpint(recording_of(f, inside), ==, r1);
  g_assert_cmpint(recording_of(f, across), ==, r1);
  g_assert_cmpint(recording_of(f, before), ==, r1);
  g_assert_cmpint(recording_of(f, outside), ==, 0);
  g_assert_cmpint(recording_of(f, other_camera), ==, rb);
  g_assert_cmpint(recording_of(f, system), ==, 0);
  g_assert_cmpint(recording_of(f, live), ==, r3);
  g_assert_cmpint(vigil_store_find_event_recording(f->store, "front", t0 + 11 * s, 0), ==, r2);
  g_assert_cmpint(vigil_store_find_event_recording(f->store, NULL, t0 + 3 * s, 0), ==, 0);

  /* The other way: every event of the camera overlapping, oldest first. */
  g_autoptr(GArray) e1 =
      vigil_store_list_recording_events(f->store, "front", t0, t0 + 10 * s, FALSE, 100, NULL);
  g_assert_cmpuint(e1->len, ==, 3);
  g_assert_cmpint(g_array_index(e1, gint64, 0), ==, before);
  g_assert_cmpint(g_array_index(e1, gint64, 1), ==, inside);
  g_assert_cmpint(g_array_index(e1, gint64, 2), ==, across);
  g_autoptr(GArray) e2 = vigil_store_list_recording_events(f->store, "front", t0 + 10 * s,
                                                           t0 + 20 * s, FALSE, 100, NULL);
  g_assert_cmpuint(e2->len, ==, 2); /* before, across */
  g_autoptr(GArray) e3 = vigil_store_list_recording_events(f->store, "front", now - 30 * s,
                                                           now - 29 * s, TRUE, 100, NULL);
  g_assert_cmpuint(e3->len, ==, 1);
  g_assert_cmpint(g_array_index(e3, gint64, 0), ==, live);
  g_autoptr(GArray) closed = vigil_store_list_recording_events(f->store, "front", now - 30 * s,
                                                               now - 29 * s, FALSE, 100, NULL);
  g_assert_cmpuint(closed->len, ==, 0);

  /* A stored link wins while its recording exists, and falls back after. */
  vigil_events_set_recording(live, r2);
  g_assert_cmpint(recording_of(f, live), ==, r2);
  g_assert_true(vigil_store_delete_recording(f->store, r2, NULL));
  g_assert_cmpint(recording_of(f, live), ==, r3);
  g_assert_cmpint(recording_of(f, across), ==, r1);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/events/store-and-list", Fixture, NULL, setup, test_store_and_list, teardown);
  g_test_add("/events/alarms", Fixture, NULL, setup, test_alarms, teardown);
  g_test_add("/events/recording-link", Fixture, NULL, setup, test_recording_link, teardown);
  return g_test_run();
}
