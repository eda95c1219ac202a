/* Object tracking across detections (see tracker.h): greedy matching by
 * label and box overlap, in the order of the detections. */
#include "analysis/tracker.h"

#include <math.h>

typedef struct {
  guint64 id;
  VigilDetection det;
  gint64 last_seen_us;
  int misses;
} Track;

struct _VigilTracker {
  double min_iou;
  int max_misses;
  double max_step; /* 0: overlaps only */
  guint64 next_id;
  GArray *tracks; /* Track, oldest first */
};

VigilTracker *vigil_tracker_new(double min_iou, int max_misses)
{
  VigilTracker *self = g_new0(VigilTracker, 1);
  self->min_iou = min_iou;
  self->max_misses = MAX(max_misses, 1);
  self->next_id = 1;
  self->tracks = g_array_new(FALSE, FALSE, sizeof(Track));
  return self;
}

void vigil_tracker_free(VigilTracker *self)
{
  if (!self)
    return;
  g_array_unref(self->tracks);
  g_free(self);
}

static void add_change(GArray *out, VigilTrackChange change, const Track *t)
{
  VigilTrackEvent e = {
      .change = change, .id = t->id, .det = t->det, .last_seen_us = t->last_seen_us};
  g_array_append_val(out, e);
}

/* The index of the object among the first @n_old that @d continues, or -1:
 * same label, not yet matched, the best overlap of at least min_iou. */
static int best_overlap(VigilTracker *self, guint n_old, const gboolean *seen,
                        const VigilDetection *d)
{
  int best = -1;
  double best_iou = self->min_iou;
  for (guint j = 0; j < n_old; j++) {
    const Track *t = &g_array_index(self->tracks, Track, j);
    double iou = vigil_box_iou(&t->det, d);
    if (!seen[j] && g_strcmp0(t->det.label, d->label) == 0 && iou >= best_iou) {
      best = (int)j;
      best_iou = iou;
    }
  }
  return best;
}

/* How far @d's centre is from @t's, in units of @t's larger side (a person
 * walking sideways moves in heights, not in their narrow widths), or
 * G_MAXDOUBLE when their sizes differ more than VIGIL_TRACK_SIZE_RATIO in
 * either direction. */
static double step_between(const VigilDetection *t, const VigilDetection *d)
{
  if (t->w <= 0 || t->h <= 0 || d->w <= 0 || d->h <= 0)
    return G_MAXDOUBLE;
  double rw = d->w / t->w, rh = d->h / t->h;
  if (MAX(rw, 1 / rw) > VIGIL_TRACK_SIZE_RATIO || MAX(rh, 1 / rh) > VIGIL_TRACK_SIZE_RATIO)
    return G_MAXDOUBLE;
  double side = MAX(t->w, t->h);
  double dx = fabs((d->x + d->w / 2) - (t->x + t->w / 2));
  double dy = fabs((d->y + d->h / 2) - (t->y + t->h / 2));
  return MAX(dx, dy) / side;
}

/* For a detection that overlaps no object: the nearest object of its label
 * and about its size not matched yet, at most max_step of its larger side away
 * (something small that moves fast between two detections), or -1. */
static int nearest_step(VigilTracker *self, guint n_old, const gboolean *seen,
                        const VigilDetection *d)
{
  int best = -1;
  double best_step = self->max_step;
  if (best_step <= 0)
    return -1;
  for (guint j = 0; j < n_old; j++) {
    const Track *t = &g_array_index(self->tracks, Track, j);
    if (seen[j] || g_strcmp0(t->det.label, d->label) != 0)
      continue;
    double step = step_between(&t->det, d);
    if (step <= best_step) {
      best = (int)j;
      best_step = step;
    }
  }
  return best;
}

GArray *vigil_tracker_update(VigilTracker *self, const VigilDetection *dets, guint n,
                             gint64 time_us)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(VigilTrackEvent));
  guint n_old = self->tracks->len;
  g_autofree gboolean *seen = g_new0(gboolean, n_old + 1);
  /* Overlaps first, for every detection; then the nearest step for those
   * left, so that a step never takes an object another detection overlaps. */
  g_autofree int *match = g_new(int, n + 1);
  for (guint i = 0; i < n; i++) {
    match[i] = best_overlap(self, n_old, seen, &dets[i]);
    if (match[i] >= 0)
      seen[match[i]] = TRUE;
  }
  for (guint i = 0; i < n; i++) {
    if (match[i] < 0) {
      match[i] = nearest_step(self, n_old, seen, &dets[i]);
      if (match[i] >= 0)
        seen[match[i]] = TRUE;
    }
  }
  for (guint i = 0; i < n; i++) {
    int j = match[i];
    if (j >= 0) {
      Track *t = &g_array_index(self->tracks, Track, j);
      t->det = dets[i];
      t->misses = 0;
      t->last_seen_us = time_us;
      add_change(out, VIGIL_TRACK_SEEN, t);
    } else {
      Track t = {.id = self->next_id++, .det = dets[i], .last_seen_us = time_us};
      g_array_append_val(self->tracks, t);
      add_change(out, VIGIL_TRACK_NEW, &t);
    }
  }
  for (guint j = n_old; j-- > 0;) {
    Track *t = &g_array_index(self->tracks, Track, j);
    if (!seen[j] && ++t->misses >= self->max_misses) {
      add_change(out, VIGIL_TRACK_LOST, t);
      g_array_remove_index(self->tracks, j);
    }
  }
  return out;
}

void vigil_tracker_set_max_step(VigilTracker *self, double max_step)
{
  self->max_step = max_step;
}

GArray *vigil_tracker_clear(VigilTracker *self)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(VigilTrackEvent));
  for (guint j = 0; j < self->tracks->len; j++)
    add_change(out, VIGIL_TRACK_LOST, &g_array_index(self->tracks, Track, j));
  g_array_set_size(self->tracks, 0);
  return out;
}

guint vigil_tracker_get_count(VigilTracker *self)
{
  return self->tracks->len;
}
