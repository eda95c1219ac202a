/* Unit tests of object tracking (analysis/tracker.c): the same object across
 * detections, new objects, lost objects after the allowed misses, a changed
 * class, one object never continuing two detections, small objects that
 * move fast (the step). */
#include <glib.h>

#include "analysis/tracker.h"

#define S ((gint64)G_USEC_PER_SEC)

static VigilDetection box(const char *label, float x, float y, float w, float h, float score)
{
  return (VigilDetection){
      .class_id = -1, .label = label, .score = score, .x = x, .y = y, .w = w, .h = h};
}

static const VigilTrackEvent *change(GArray *changes, guint i)
{
  g_assert_cmpuint(i, <, changes->len);
  return &g_array_index(changes, VigilTrackEvent, i);
}

static GArray *update(VigilTracker *t, const VigilDetection *dets, guint n, gint64 time_us)
{
  return vigil_tracker_update(t, dets, n, time_us);
}

/* A person moving a little stays one object; its latest box and score are
 * reported. */
static void test_same_object_across_frames(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  VigilDetection a = box("person", 0.10f, 0.10f, 0.20f, 0.40f, 0.6f);
  g_autoptr(GArray) first = update(t, &a, 1, 1 * S);
  g_assert_cmpuint(first->len, ==, 1);
  g_assert_cmpint(change(first, 0)->change, ==, VIGIL_TRACK_NEW);
  guint64 id = change(first, 0)->id;
  g_assert_cmpuint(id, >, 0);

  VigilDetection b = box("person", 0.12f, 0.11f, 0.20f, 0.40f, 0.9f);
  g_autoptr(GArray) second = update(t, &b, 1, 2 * S);
  g_assert_cmpuint(second->len, ==, 1);
  g_assert_cmpint(change(second, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(second, 0)->id, ==, id);
  g_assert_cmpfloat(change(second, 0)->det.score, ==, 0.9f);
  g_assert_cmpfloat(change(second, 0)->det.x, ==, 0.12f);
  g_assert_cmpint(change(second, 0)->last_seen_us, ==, 2 * S);
  g_assert_cmpuint(vigil_tracker_get_count(t), ==, 1);
}

/* A box elsewhere in the picture is another object, even of the same class;
 * ids are not reused. */
static void test_new_object(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  VigilDetection a = box("car", 0.0f, 0.0f, 0.2f, 0.2f, 0.8f);
  g_autoptr(GArray) first = update(t, &a, 1, 1 * S);
  VigilDetection two[] = {box("car", 0.01f, 0.0f, 0.2f, 0.2f, 0.8f),
                          box("car", 0.6f, 0.6f, 0.2f, 0.2f, 0.7f)};
  g_autoptr(GArray) second = update(t, two, 2, 2 * S);
  g_assert_cmpuint(second->len, ==, 2);
  g_assert_cmpint(change(second, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(second, 0)->id, ==, change(first, 0)->id);
  g_assert_cmpint(change(second, 1)->change, ==, VIGIL_TRACK_NEW);
  g_assert_cmpuint(change(second, 1)->id, !=, change(first, 0)->id);
  g_assert_cmpuint(vigil_tracker_get_count(t), ==, 2);
}

/* Overlap below the threshold is a new object; at the threshold, the same. */
static void test_overlap_threshold(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(0.5, 2);
  VigilDetection a = box("dog", 0.0f, 0.0f, 0.4f, 0.4f, 0.5f);
  g_autoptr(GArray) c1 = update(t, &a, 1, 1 * S);
  /* Shifted by half its width: IoU = 0.08 / 0.24 = 1/3. */
  VigilDetection far = box("dog", 0.2f, 0.0f, 0.4f, 0.4f, 0.5f);
  g_autoptr(GArray) c2 = update(t, &far, 1, 2 * S);
  g_assert_cmpint(change(c2, 0)->change, ==, VIGIL_TRACK_NEW);
  /* Same as the second box: IoU 1. */
  g_autoptr(GArray) c3 = update(t, &far, 1, 3 * S);
  g_assert_cmpint(change(c3, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(c3, 0)->id, ==, change(c2, 0)->id);
}

/* An object missing from one detection stays; from two in a row it is lost,
 * reported with when it was last seen. */
static void test_lost_object(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  VigilDetection a = box("person", 0.3f, 0.3f, 0.2f, 0.4f, 0.7f);
  g_autoptr(GArray) c1 = update(t, &a, 1, 1 * S);
  guint64 id = change(c1, 0)->id;
  g_autoptr(GArray) c2 = update(t, NULL, 0, 2 * S); /* one miss */
  g_assert_cmpuint(c2->len, ==, 0);
  g_assert_cmpuint(vigil_tracker_get_count(t), ==, 1);
  /* Seen again: the misses start over. */
  g_autoptr(GArray) c3 = update(t, &a, 1, 3 * S);
  g_assert_cmpint(change(c3, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_autoptr(GArray) c4 = update(t, NULL, 0, 4 * S);
  g_assert_cmpuint(c4->len, ==, 0);
  g_autoptr(GArray) c5 = update(t, NULL, 0, 5 * S);
  g_assert_cmpuint(c5->len, ==, 1);
  g_assert_cmpint(change(c5, 0)->change, ==, VIGIL_TRACK_LOST);
  g_assert_cmpuint(change(c5, 0)->id, ==, id);
  g_assert_cmpint(change(c5, 0)->last_seen_us, ==, 3 * S);
  g_assert_cmpstr(change(c5, 0)->det.label, ==, "person");
  g_assert_cmpuint(vigil_tracker_get_count(t), ==, 0);
  /* Back after it was lost: a new object. */
  g_autoptr(GArray) c6 = update(t, &a, 1, 6 * S);
  g_assert_cmpint(change(c6, 0)->change, ==, VIGIL_TRACK_NEW);
  g_assert_cmpuint(change(c6, 0)->id, !=, id);
}

/* The same box with another label is another object; the first one is lost
 * in its turn. */
static void test_class_change(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, 1);
  VigilDetection cat = box("cat", 0.5f, 0.5f, 0.2f, 0.2f, 0.6f);
  g_autoptr(GArray) c1 = update(t, &cat, 1, 1 * S);
  VigilDetection dog = box("dog", 0.5f, 0.5f, 0.2f, 0.2f, 0.6f);
  g_autoptr(GArray) c2 = update(t, &dog, 1, 2 * S);
  g_assert_cmpuint(c2->len, ==, 2);
  g_assert_cmpint(change(c2, 0)->change, ==, VIGIL_TRACK_NEW);
  g_assert_cmpstr(change(c2, 0)->det.label, ==, "dog");
  g_assert_cmpint(change(c2, 1)->change, ==, VIGIL_TRACK_LOST);
  g_assert_cmpuint(change(c2, 1)->id, ==, change(c1, 0)->id);
  g_assert_cmpstr(change(c2, 1)->det.label, ==, "cat");
}

/* Two people side by side, each continuing the box it overlaps best; one
 * object never continues two detections. */
static void test_one_match_per_object(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  VigilDetection two[] = {box("person", 0.10f, 0.1f, 0.2f, 0.5f, 0.8f),
                          box("person", 0.25f, 0.1f, 0.2f, 0.5f, 0.8f)};
  g_autoptr(GArray) c1 = update(t, two, 2, 1 * S);
  guint64 left = change(c1, 0)->id, right = change(c1, 1)->id;
  /* The right one listed first: it still continues the right object. */
  VigilDetection swapped[] = {box("person", 0.26f, 0.1f, 0.2f, 0.5f, 0.8f),
                              box("person", 0.11f, 0.1f, 0.2f, 0.5f, 0.8f)};
  g_autoptr(GArray) c2 = update(t, swapped, 2, 2 * S);
  g_assert_cmpuint(c2->len, ==, 2);
  g_assert_cmpint(change(c2, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(c2, 0)->id, ==, right);
  g_assert_cmpint(change(c2, 1)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(c2, 1)->id, ==, left);
  /* Two detections of one object: the second is a new object. */
  VigilDetection twice[] = {box("person", 0.10f, 0.1f, 0.2f, 0.5f, 0.8f),
                            box("person", 0.10f, 0.1f, 0.2f, 0.5f, 0.7f)};
  g_autoptr(VigilTracker) t2 = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  g_autoptr(GArray) c3 = update(t2, twice, 1, 1 * S);
  g_autoptr(GArray) c4 = update(t2, twice, 2, 2 * S);
  g_assert_cmpint(change(c4, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpint(change(c4, 1)->change, ==, VIGIL_TRACK_NEW);
  g_assert_cmpuint(vigil_tracker_get_count(t2), ==, 2);
}

/* With a step: someone small who walked past their own width between two
 * detections (no overlap) is still the same object; one of another size,
 * or too far, or of another label is not; an overlap is never taken by a
 * step. */
static void test_step(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  vigil_tracker_set_max_step(t, VIGIL_TRACK_STEP);
  VigilDetection a = box("person", 0.10f, 0.70f, 0.05f, 0.13f, 0.6f);
  g_autoptr(GArray) c1 = update(t, &a, 1, 1 * S);
  guint64 id = change(c1, 0)->id;
  /* 0.12 to the right: 2.4 widths (0.9 heights), no overlap. */
  VigilDetection b = box("person", 0.22f, 0.71f, 0.05f, 0.13f, 0.7f);
  g_autoptr(GArray) c2 = update(t, &b, 1, 2 * S);
  g_assert_cmpint(change(c2, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(c2, 0)->id, ==, id);
  /* 2.7 heights further: a new object (and b's object stays, one miss). */
  VigilDetection far = box("person", 0.57f, 0.71f, 0.05f, 0.13f, 0.7f);
  g_autoptr(GArray) c3 = update(t, &far, 1, 3 * S);
  g_assert_cmpint(change(c3, 0)->change, ==, VIGIL_TRACK_NEW);
  /* Twice the size, next to b: another object too. */
  VigilDetection big = box("person", 0.26f, 0.60f, 0.10f, 0.26f, 0.7f);
  g_autoptr(VigilTracker) t2 = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  vigil_tracker_set_max_step(t2, VIGIL_TRACK_STEP);
  g_autoptr(GArray) d1 = update(t2, &b, 1, 1 * S);
  g_autoptr(GArray) d2 = update(t2, &big, 1, 2 * S);
  g_assert_cmpint(change(d2, 0)->change, ==, VIGIL_TRACK_NEW);
  /* Another label at the step's distance: a new object. */
  VigilDetection dog = box("dog", 0.22f, 0.71f, 0.05f, 0.13f, 0.7f);
  g_autoptr(VigilTracker) t3 = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  vigil_tracker_set_max_step(t3, VIGIL_TRACK_STEP);
  g_autoptr(GArray) e1 = update(t3, &a, 1, 1 * S);
  g_autoptr(GArray) e2 = update(t3, &dog, 1, 2 * S);
  g_assert_cmpint(change(e2, 0)->change, ==, VIGIL_TRACK_NEW);
  /* Two objects; the first detection is a step from the second object but
   * listed first, the second overlaps it: the overlap wins, the step goes
   * to the first object. */
  VigilDetection two[] = {box("person", 0.10f, 0.10f, 0.05f, 0.13f, 0.8f),
                          box("person", 0.20f, 0.10f, 0.05f, 0.13f, 0.8f)};
  g_autoptr(VigilTracker) t4 = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  vigil_tracker_set_max_step(t4, VIGIL_TRACK_STEP);
  g_autoptr(GArray) f1 = update(t4, two, 2, 1 * S);
  VigilDetection next[] = {box("person", 0.17f, 0.10f, 0.05f, 0.13f, 0.8f),
                           box("person", 0.21f, 0.10f, 0.05f, 0.13f, 0.8f)};
  g_autoptr(GArray) f2 = update(t4, next, 2, 2 * S);
  g_assert_cmpuint(change(f2, 1)->id, ==, change(f1, 1)->id);
  g_assert_cmpint(change(f2, 0)->change, ==, VIGIL_TRACK_SEEN);
  g_assert_cmpuint(change(f2, 0)->id, ==, change(f1, 0)->id);
}

/* Clearing loses every object, oldest first, and later detections start
 * new objects. */
static void test_clear(void)
{
  g_autoptr(VigilTracker) t = vigil_tracker_new(VIGIL_TRACK_IOU, VIGIL_TRACK_MISSES);
  VigilDetection two[] = {box("person", 0.0f, 0.0f, 0.2f, 0.2f, 0.8f),
                          box("car", 0.5f, 0.5f, 0.3f, 0.3f, 0.8f)};
  g_autoptr(GArray) c1 = update(t, two, 2, 1 * S);
  g_autoptr(GArray) lost = vigil_tracker_clear(t);
  g_assert_cmpuint(lost->len, ==, 2);
  g_assert_cmpint(change(lost, 0)->change, ==, VIGIL_TRACK_LOST);
  g_assert_cmpuint(change(lost, 0)->id, ==, change(c1, 0)->id);
  g_assert_cmpuint(change(lost, 1)->id, ==, change(c1, 1)->id);
  g_assert_cmpuint(vigil_tracker_get_count(t), ==, 0);
  g_autoptr(GArray) c2 = update(t, two, 1, 2 * S);
  g_assert_cmpint(change(c2, 0)->change, ==, VIGIL_TRACK_NEW);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tracker/same-object", test_same_object_across_frames);
  g_test_add_func("/tracker/new-object", test_new_object);
  g_test_add_func("/tracker/overlap-threshold", test_overlap_threshold);
  g_test_add_func("/tracker/lost-object", test_lost_object);
  g_test_add_func("/tracker/class-change", test_class_change);
  g_test_add_func("/tracker/one-match-per-object", test_one_match_per_object);
  g_test_add_func("/tracker/clear", test_clear);
  g_test_add_func("/tracker/step", test_step);
  return g_test_run();
}
