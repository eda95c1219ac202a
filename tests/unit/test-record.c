/* Tests for src/record/: the pre-roll ring, the recorder state machine (with
 * synthetic chunks, a test sink and an injected clock), playlists, retention
 * selection, the segment writer on a temporary directory, and crash repair on
 * planted files. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "record/playlist.h"
#include "record/preroll.h"
#include "record/recorder.h"
#include "record/repair.h"
#include "record/retention.h"
#include "record/segment.h"
#include "record/writer-pool.h"
#include "store/recordings.h"

#define FPS       25
#define GOP       25 /* frames: 1 s */
#define FRAME_PTS (90000 / FPS)

/* Chunk n of a synthetic 25 fps stream with a keyframe every GOP frames. */
static VigilChunk *make_chunk(int n)
{
  gsize size = 188 * (n % GOP == 0 ? 20 : 3);
  guint8 *data = g_malloc0(size);
  for (gsize i = 0; i < size; i += 188)
    data[i] = 0x47;
  g_autoptr(GBytes) bytes = g_bytes_new_take(data, size);
  gint64 pts = 90000 + (gint64)n * FRAME_PTS;
  return vigil_chunk_new(bytes, n % GOP == 0 ? VIGIL_CHUNK_KEYFRAME : 0, pts,
                         (gint64)1700000000 * G_USEC_PER_SEC + (gint64)n * G_USEC_PER_SEC / FPS,
                         (gint64)n * G_USEC_PER_SEC / FPS);
}

/* --- pre-roll --- */

static void test_preroll_window(void)
{
  g_autoptr(VigilPreroll) p = vigil_preroll_new(3);
  for (int n = 0; n < 10 * FPS + 7; n++) {
    g_autoptr(VigilChunk) c = make_chunk(n);
    vigil_preroll_push(p, c);
    gint64 span = vigil_preroll_get_span(p);
    if (n >= 4 * FPS) {
      /* At least 3 s, at most 3 s + one GOP. */
      g_assert_cmpint(span, >=, 3 * 90000);
      g_assert_cmpint(span, <, 4 * 90000 + FRAME_PTS);
    }
  }
  g_autoptr(GPtrArray) all = vigil_preroll_take(p);
  VigilChunk *first = g_ptr_array_index(all, 0);
  g_assert_true(vigil_chunk_is_keyframe(first));
  /* Trimmed at the last keyframe (10 s): from the keyframe at 7 s, so
   * frames 175 .. 256. */
  g_assert_cmpint(first->pts, ==, 90000 + 7 * GOP * FRAME_PTS);
  g_assert_cmpuint(all->len, ==, 256 - 175 + 1);
  g_assert_cmpuint(vigil_preroll_get_length(p), ==, 0);
  g_assert_cmpuint(vigil_preroll_get_bytes(p), ==, 0);
}

static void test_preroll_starts_at_keyframe(void)
{
  g_autoptr(VigilPreroll) p = vigil_preroll_new(0);
  for (int n = 5; n < GOP; n++) {
    g_autoptr(VigilChunk) c = make_chunk(n);
    vigil_preroll_push(p, c);
  }
  g_assert_cmpuint(vigil_preroll_get_length(p), ==, 0); /* no keyframe yet */
  for (int n = GOP; n < 3 * GOP + 4; n++) {
    g_autoptr(VigilChunk) c = make_chunk(n);
    vigil_preroll_push(p, c);
  }
  /* 0 s: only the current GOP. */
  g_assert_cmpuint(vigil_preroll_get_length(p), ==, 4); /* frames 75..78 */
  g_assert_cmpuint(vigil_preroll_get_bytes(p), ==, 188 * (20 + 3 * 3));
  /* A discontinuity (reconnect) forgets what came before. */
  g_autoptr(VigilChunk) c = make_chunk(4 * GOP);
  c->flags |= VIGIL_CHUNK_DISCONT;
  vigil_preroll_push(p, c);
  g_assert_cmpuint(vigil_preroll_get_length(p), ==, 1);
}

/* --- recorder state machine --- */

typedef struct {
  GString *log; /* "B(reason) 12 E ..." */
  guint writes;
  guint recordings;
  gint64 first_pts[16]; /* of each recording */
  gint64 clock;
} Sink;

static void sink_begin(VigilRecInfo *rec, gpointer data)
{
  Sink *s = data;
  g_string_append_printf(s->log, "B(%s) ", rec->reason);
  s->first_pts[MIN(s->recordings, 15)] = -1;
  s->recordings++;
}

static void sink_write(VigilChunk *chunk, gpointer data)
{
  Sink *s = data;
  if (s->first_pts[MIN(s->recordings - 1, 15)] < 0)
    s->first_pts[MIN(s->recordings - 1, 15)] = chunk->pts;
  s->writes++;
}

static void sink_end(gpointer data)
{
  Sink *s = data;
  g_string_append_printf(s->log, "%u E ", s->writes);
  s->writes = 0;
}

static gint64 fake_clock(gpointer data)
{
  return ((Sink *)data)->clock;
}

static const VigilRecorderSink test_sink = {sink_begin, sink_write, sink_end, NULL, NULL};

/* Pushes frames [from, to), advancing the clock with them. */
static void feed(VigilRecorder *r, Sink *s, int from, int to)
{
  for (int n = from; n < to; n++) {
    s->clock = (gint64)n * G_USEC_PER_SEC / FPS;
    g_autoptr(VigilChunk) c = make_chunk(n);
    vigil_recorder_push(r, c);
  }
}

static void test_recorder_events(void)
{
  Sink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &test_sink, &s);
  vigil_recorder_set_clock(r, fake_clock, &s);
  vigil_recorder_set_mode(r, VIGIL_RECORD_EVENTS, 2, 3);
  feed(r, &s, 0, 5 * FPS + 10); /* 5.4 s, nothing records */
  g_assert_cmpstr(s.log->str, ==, "");
  g_assert_false(vigil_recorder_is_active(r));
  g_assert_cmpfloat(vigil_recorder_get_preroll_s(r), >=, 2.0);

  vigil_recorder_trigger(r, "motion");
  g_assert_true(vigil_recorder_is_active(r));
  g_assert_cmpstr(vigil_recorder_get_reason(r), ==, "motion");
  /* Pre-roll: from the keyframe at 3 s (>= 2 s before 5.36 s). */
  g_assert_cmpint(s.first_pts[0], ==, 90000 + 3 * GOP * FRAME_PTS);
  feed(r, &s, 5 * FPS + 10, 7 * FPS);
  vigil_recorder_trigger(r, "object:person"); /* extends, keeps the reason */
  feed(r, &s, 7 * FPS, 10 * FPS - 1);         /* up to 9.92 s < 6.96 + 3 */
  g_assert_true(vigil_recorder_is_active(r));
  g_assert_cmpstr(vigil_recorder_get_reason(r), ==, "motion");
  feed(r, &s, 10 * FPS - 1, 10 * FPS + 1); /* post-roll over at 9.96 s */
  g_assert_false(vigil_recorder_is_active(r));
  /* From the pre-roll's keyframe (frame 75) up to the last frame before the
   * post-roll ran out (frame 248): 174 frames. */
  g_assert_cmpstr(s.log->str, ==, "B(motion) 174 E ");

  /* Off ignores triggers. */
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 2, 3);
  vigil_recorder_trigger(r, "motion");
  g_assert_false(vigil_recorder_is_active(r));
  g_string_free(s.log, TRUE);
}

static void test_recorder_manual_and_off(void)
{
  Sink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &test_sink, &s);
  vigil_recorder_set_clock(r, fake_clock, &s);
  vigil_recorder_set_mode(r, VIGIL_RECORD_EVENTS, 0, 30);
  feed(r, &s, 0, 40);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_recorder_manual(r, TRUE, &error));
  /* 0 s pre-roll: starts at the current GOP's keyframe (frame 25). */
  g_assert_cmpint(s.first_pts[0], ==, 90000 + GOP * FRAME_PTS);
  feed(r, &s, 40, 400); /* manual runs past any post-roll */
  g_assert_true(vigil_recorder_is_recording(r));
  g_assert_true(vigil_recorder_manual(r, FALSE, &error));
  g_assert_false(vigil_recorder_is_active(r));
  g_assert_cmpstr(s.log->str, ==, "B(manual) 375 E ");

  /* Continuous: records at once; stop is refused; "off" closes at once. */
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 30);
  g_assert_true(vigil_recorder_is_active(r));
  feed(r, &s, 400, 450);
  g_assert_false(vigil_recorder_manual(r, FALSE, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 0, 30);
  g_assert_false(vigil_recorder_is_active(r));
  g_assert_cmpstr(s.log->str, ==, "B(manual) 375 E B(continuous) 50 E ");
  g_string_free(s.log, TRUE);
}

static void test_recorder_split(void)
{
  Sink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &test_sink, &s);
  vigil_recorder_set_clock(r, fake_clock, &s);
  vigil_recorder_set_max_length(r, 10 * G_USEC_PER_SEC);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 0);
  feed(r, &s, 0, 25 * FPS);
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 0, 0);
  /* 10 s, 10 s, 5 s: every chunk written once, splits at keyframes. */
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 250 E B(continuous) 250 E B(continuous) 125 E ");
  g_assert_cmpint(s.first_pts[1], ==, 90000 + 10 * FPS * FRAME_PTS);
  g_assert_cmpint(s.first_pts[2], ==, 90000 + 20 * FPS * FRAME_PTS);

  /* A split asked for (retention) happens at the next keyframe; without a
   * recording it is a no-op. */
  g_string_truncate(s.log, 0);
  vigil_recorder_split(r);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 0);
  feed(r, &s, 25 * FPS, 25 * FPS + 30); /* 1.2 s: keyframe at frame 650 */
  vigil_recorder_split(r);
  feed(r, &s, 25 * FPS + 30, 25 * FPS + 60);
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 0, 0);
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 50 E B(continuous) 10 E ");
  g_string_free(s.log, TRUE);
}

/* --- playlists --- */

static GPtrArray *some_segments(void)
{
  GPtrArray *segs = g_ptr_array_new_with_free_func(g_free);
  gint64 t = 1764078301250000; /* 2025-11-25T13:45:01.250Z */
  for (int i = 1; i <= 3; i++) {
    VigilSegment *s = g_new0(VigilSegment, 1);
    s->seq = i;
    s->start_us = t;
    s->duration_us = i == 2 ? 2500000 : 2000000;
    s->discont = i == 3;
    t += s->duration_us + (i == 2 ? 60 * G_USEC_PER_SEC : 0);
    g_ptr_array_add(segs, s);
  }
  return segs;
}

static GString *alarms;

static void on_alarm(const char *camera, const char *alarm, gboolean active, const char *message,
                     gpointer data)
{
  g_string_append_printf(alarms, "%s %s %s;", camera, alarm, active ? "on" : "off");
}

static void test_recorder_too_long(void)
{
  Sink s = {.log = g_string_new("")};
  alarms = g_string_new("");
  vigil_recorder_set_alarm_func(on_alarm, NULL);
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &test_sink, &s);
  vigil_recorder_set_clock(r, fake_clock, &s);
  vigil_recorder_set_mode(r, VIGIL_RECORD_EVENTS, 0, 30);
  feed(r, &s, 0, 40);
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_recorder_manual(r, TRUE, &error));

  s.clock += VIGIL_RECORDER_TOO_LONG_US - G_USEC_PER_SEC;
  vigil_recorder_update(r);
  g_assert_cmpstr(alarms->str, ==, "");
  s.clock += 2 * G_USEC_PER_SEC;
  vigil_recorder_update(r);
  vigil_recorder_update(r);
  g_assert_cmpstr(alarms->str, ==, "cam recording-too-long on;"); /* once */
  g_assert_true(vigil_recorder_manual(r, FALSE, &error));
  vigil_recorder_update(r);
  g_assert_cmpstr(alarms->str, ==, "cam recording-too-long on;cam recording-too-long off;");

  /* Continuous recordings are meant to be endless: no alarm. */
  g_string_truncate(alarms, 0);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 30);
  vigil_recorder_update(r);
  g_assert_true(vigil_recorder_is_active(r));
  s.clock += 3 * VIGIL_RECORDER_TOO_LONG_US;
  vigil_recorder_update(r);
  g_assert_cmpstr(alarms->str, ==, "");

  /* The recorder ends its recording into s.log: free it first. */
  g_clear_pointer(&r, vigil_recorder_free);
  vigil_recorder_set_alarm_func(NULL, NULL);
  g_string_free(alarms, TRUE);
  g_string_free(s.log, TRUE);
}

static void test_playlist(void)
{
  g_autoptr(GPtrArray) segs = some_segments();
  g_autofree gchar *open = vigil_playlist_build(segs, FALSE, "", "motion");
  g_assert_null(strstr(open, "#EXT-X-ENDLIST"));
  g_assert_nonnull(strstr(open, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_autofree gchar *text = vigil_playlist_build(segs, TRUE, "segments/", NULL);
  g_assert_cmpstr(text, ==,
                  "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:3\n#EXT-X-MEDIA-SEQUENCE:0\n"
                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                  "#EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:45:01.250Z\n#EXTINF:2.000,\n"
                  "segments/000001.ts\n"
                  "#EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:45:03.250Z\n#EXTINF:2.500,\n"
                  "segments/000002.ts\n"
                  "#EXT-X-DISCONTINUITY\n"
                  "#EXT-X-PROGRAM-DATE-TIME:2025-11-25T13:46:05.750Z\n#EXTINF:2.000,\n"
                  "segments/000003.ts\n#EXT-X-ENDLIST\n");
  gboolean closed;
  g_autofree gchar *reason = NULL;
  g_autoptr(GPtrArray) back = vigil_playlist_parse(open, &closed, &reason);
  g_assert_nonnull(back);
  g_assert_false(closed);
  g_assert_cmpstr(reason, ==, "motion");
  g_assert_cmpuint(back->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    VigilSegment *a = g_ptr_array_index(segs, i), *b = g_ptr_array_index(back, i);
    g_assert_cmpint(a->seq, ==, b->seq);
    g_assert_cmpint(a->start_us, ==, b->start_us);
    g_assert_cmpint(a->duration_us, ==, b->duration_us);
    g_assert_cmpint(a->discont, ==, b->discont);
  }
  g_assert_null(vigil_playlist_parse("not a playlist", &closed, NULL));
  g_assert_null(vigil_playlist_parse("#EXTM3U\n#EXTINF:2,\n../x.ts\n", &closed, NULL));
}

/* The writer's open playlist: built once, then segments appended; parsing
 * it gives what building it whole gives, and a torn append (a crash in the
 * middle of one) loses only the segment being appended. */
static void test_playlist_growing(void)
{
  g_autoptr(GPtrArray) segs = some_segments();
  g_autoptr(GPtrArray) first = g_ptr_array_new();
  g_ptr_array_add(first, g_ptr_array_index(segs, 0));
  int target_s = 0;
  g_autofree gchar *head = vigil_playlist_build_growing(first, "motion", &target_s);
  g_assert_cmpint(target_s, ==, 4); /* twice the 2 s segment's */
  g_assert_nonnull(strstr(head, "#EXT-X-TARGETDURATION:4\n"));
  g_assert_nonnull(strstr(head, "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
  g_assert_cmpint(vigil_playlist_target_s(2500000), ==, 3);
  g_assert_cmpint(vigil_playlist_target_s(2000000), ==, 2);

  GString *text = g_string_new(head);
  for (guint i = 1; i < segs->len; i++) {
    g_autofree gchar *entry = vigil_playlist_entry(g_ptr_array_index(segs, i), FALSE);
    g_string_append(text, entry);
  }
  g_autofree gchar *whole = vigil_playlist_build(segs, FALSE, "", "motion");
  /* The same as built whole but for the target duration. */
  g_assert_cmpstr(strstr(text->str, "#EXT-X-MEDIA-SEQUENCE"), ==,
                  strstr(whole, "#EXT-X-MEDIA-SEQUENCE"));

  gboolean closed;
  g_autofree gchar *reason = NULL;
  g_autoptr(GPtrArray) back = vigil_playlist_parse(text->str, &closed, &reason);
  g_assert_cmpuint(back->len, ==, 3);
  g_assert_false(closed);
  g_assert_cmpstr(reason, ==, "motion");
  g_assert_true(((VigilSegment *)g_ptr_array_index(back, 2))->discont);

  /* Cut inside the last entry at every byte: segments 1-2 survive, 3 only
   * when its URI line is whole. */
  gsize third = strstr(text->str, "#EXT-X-DISCONTINUITY") - text->str;
  for (gsize cut = third; cut <= text->len; cut++) {
    g_autofree gchar *torn = g_strndup(text->str, cut);
    g_autoptr(GPtrArray) got = vigil_playlist_parse(torn, &closed, NULL);
    g_assert_nonnull(got);
    g_assert_cmpuint(got->len, ==, cut == text->len ? 3 : 2);
  }
  g_string_free(text, TRUE);
}

/* --- retention --- */

static GArray *select_ids(const VigilRetentionItem *items, guint n, VigilRetentionLimits lim)
{
  return vigil_retention_select(items, n, &lim, NULL);
}

static void test_retention_split_open(void)
{
  const gint64 now = 100 * (gint64)86400 * G_USEC_PER_SEC;
  VigilRetentionItem items[] = {
      {.id = 1, .end_us = now - 60, .size_bytes = 100, .retain_days = 30},
      {.id = 2, .end_us = now, .size_bytes = 500, .retain_days = 30, .open = TRUE},
      {.id = 3, .end_us = now, .size_bytes = 500, .retain_days = 30, .open = TRUE, .keep = TRUE},
      {.id = 4, .end_us = now, .size_bytes = 500, .retain_days = 30, .open = TRUE},
  };
  VigilRetentionLimits lim = {.now_us = now, .max_bytes = 1500};
  /* 1600 used, 100 must go: the closed one suffices. */
  g_autoptr(GArray) split = g_array_new(FALSE, FALSE, sizeof(gint64));
  g_autoptr(GArray) a = vigil_retention_select(items, 4, &lim, split);
  g_assert_cmpuint(a->len, ==, 1);
  g_assert_cmpuint(split->len, ==, 0);
  /* 600 must go: 1 is not enough; the oldest open one (2) is split; 3 is
   * kept; 4 is not needed. */
  lim.max_bytes = 1000;
  g_autoptr(GArray) b = vigil_retention_select(items, 4, &lim, split);
  g_assert_cmpuint(b->len, ==, 1);
  g_assert_cmpuint(split->len, ==, 1);
  g_assert_cmpint(g_array_index(split, gint64, 0), ==, 2);
  /* A full batch stops first: no split yet (the next pass may suffice). */
  g_array_set_size(split, 0);
  lim.batch = 1;
  g_autoptr(GArray) c = vigil_retention_select(items, 4, &lim, split);
  g_assert_cmpuint(c->len, ==, 1);
  g_assert_cmpuint(split->len, ==, 0);
}

/* A wall clock stepped forward pauses deletion by age; running on, stepping
 * back or a small correction does not. */
static void test_clock_guard(void)
{
  const gint64 s = G_USEC_PER_SEC, h = 3600 * s;
  VigilClockGuard g = {0};
  gint64 wall = 1796500000 * s, mono = 1000 * s;
  g_assert_cmpint(vigil_clock_guard_update(&g, wall, mono), ==, 0); /* first: nothing to compare */
  g_assert_false(vigil_clock_guard_paused(&g, mono));
  /* Ten seconds later on both clocks, then a 30-minute correction. */
  g_assert_cmpint(vigil_clock_guard_update(&g, wall += 10 * s, mono += 10 * s), ==, 0);
  g_assert_cmpint(vigil_clock_guard_update(&g, wall += 10 * s + h / 2, mono += 10 * s), ==, 0);
  /* Back an hour: footage only looks younger. */
  g_assert_cmpint(vigil_clock_guard_update(&g, wall += 10 * s - h, mono += 10 * s), ==, 0);
  g_assert_false(vigil_clock_guard_paused(&g, mono));
  /* Forward 40 days: reported, and age deletion waits a day of real time,
   * however the wall clock moves meanwhile. */
  gint64 step = 40 * 24 * h;
  g_assert_cmpint(vigil_clock_guard_update(&g, wall += 10 * s + step, mono += 10 * s), ==, step);
  g_assert_true(vigil_clock_guard_paused(&g, mono));
  g_assert_cmpint(vigil_clock_guard_update(&g, wall -= step, mono += 10 * s), ==, 0);
  g_assert_true(vigil_clock_guard_paused(&g, mono + VIGIL_CLOCK_STEP_PAUSE_US - 11 * s));
  g_assert_false(vigil_clock_guard_paused(&g, mono + VIGIL_CLOCK_STEP_PAUSE_US));
  /* Just over the threshold counts; at it, not. */
  VigilClockGuard k = {0};
  vigil_clock_guard_update(&k, 0, s);
  g_assert_cmpint(vigil_clock_guard_update(&k, VIGIL_CLOCK_STEP_US, s), ==, 0);
  g_assert_cmpint(vigil_clock_guard_update(&k, 2 * VIGIL_CLOCK_STEP_US + 1, s), ==,
                  VIGIL_CLOCK_STEP_US + 1);
}

static void test_retention_select(void)
{
  const gint64 day = (gint64)86400 * G_USEC_PER_SEC, now = 100 * day;
  /* Oldest first. */
  VigilRetentionItem items[] = {
      {.id = 1, .end_us = now - 40 * day, .size_bytes = 100, .retain_days = 30},
      {.id = 2, .end_us = now - 35 * day, .size_bytes = 100, .retain_days = 30, .keep = TRUE},
      {.id = 3, .end_us = now - 20 * day, .size_bytes = 100, .retain_days = 7},
      {.id = 4, .end_us = now - 5 * day, .size_bytes = 100, .retain_days = 30},
      {.id = 5, .end_us = now - 1 * day, .size_bytes = 100, .retain_days = 30},
      {.id = 6, .end_us = now, .size_bytes = 100, .retain_days = 30, .open = TRUE},
  };
  VigilRetentionLimits none = {.now_us = now, .max_bytes = -1};
  g_autoptr(GArray) a = select_ids(items, 6, none);
  g_assert_cmpuint(a->len, ==, 2); /* age: 1 and 3; 2 is kept */
  g_assert_cmpint(g_array_index(a, gint64, 0), ==, 1);
  g_assert_cmpint(g_array_index(a, gint64, 1), ==, 3);

  /* Quota 350 of 600: age frees 200, one more (4) makes 300 >= 250. */
  VigilRetentionLimits quota = none;
  quota.max_bytes = 350;
  g_autoptr(GArray) b = select_ids(items, 6, quota);
  g_assert_cmpuint(b->len, ==, 3);
  g_assert_cmpint(g_array_index(b, gint64, 2), ==, 4);

  /* A quota nothing can meet: never keep or open ones. */
  quota.max_bytes = 0;
  g_autoptr(GArray) c = select_ids(items, 6, quota);
  g_assert_cmpuint(c->len, ==, 4);
  for (guint i = 0; i < c->len; i++) {
    gint64 id = g_array_index(c, gint64, i);
    g_assert_true(id != 2 && id != 6);
  }

  /* Free space: 10 % of 10000 wanted, 850 free: 150 bytes must go → 2 more
   * beyond age? Age already frees 200 → nothing more. */
  VigilRetentionLimits fs = {
      .now_us = now, .max_bytes = -1, .min_free_percent = 10, .fs_total = 10000, .fs_free = 650};
  g_autoptr(GArray) d = select_ids(items, 6, fs);
  g_assert_cmpuint(d->len, ==, 4); /* 350 needed: 1, 3 (age) + 4, 5 */
  /* Batches. */
  fs.batch = 1;
  g_autoptr(GArray) e = select_ids(items, 6, fs);
  g_assert_cmpuint(e->len, ==, 1);
  g_assert_cmpint(g_array_index(e, gint64, 0), ==, 1);
  /* Nothing to do. */
  VigilRetentionItem young[] = {{.id = 9, .end_us = now, .size_bytes = 5, .retain_days = 1}};
  g_autoptr(GArray) f = select_ids(young, 1, none);
  g_assert_cmpuint(f->len, ==, 0);
}

/* --- writer, repair (files) --- */

typedef struct {
  gchar *dir;
  gchar *root;
  VigilStore *store;
} Fixture;

static void remove_tree(const char *path)
{
  GDir *dir = g_dir_open(path, 0, NULL);
  if (dir) {
    const char *name;
    while ((name = g_dir_read_name(dir))) {
      g_autofree gchar *child = g_build_filename(path, name, NULL);
      remove_tree(child);
    }
    g_dir_close(dir);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static void fixture_setup(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("vigil-test-record-XXXXXX", &error);
  g_assert_no_error(error);
  f->root = g_build_filename(f->dir, "recordings", NULL);
  g_mkdir(f->root, 0755);
  g_autofree gchar *db = g_build_filename(f->dir, "vigil.db", NULL);
  f->store = vigil_store_open(db, &error);
  g_assert_no_error(error);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
  vigil_store_close(f->store);
  remove_tree(f->dir);
  g_free(f->dir);
  g_free(f->root);
}

static void write_file(const char *path, gsize size)
{
  g_autofree guint8 *data = g_malloc0(size ? size : 1);
  for (gsize i = 0; i + 188 <= size; i += 188)
    data[i] = 0x47;
  g_assert_true(g_file_set_contents(path, (const char *)data, size, NULL));
}

static void test_repair(Fixture *f, gconstpointer data)
{
  /* A: crashed while writing segment 3: playlist lists 1-2, no ENDLIST,
   * and the append of segment 3's lines was cut short. */
  g_autofree gchar *a = g_build_filename(f->root, "cam", "2026-11-25", "20261125T100000Z", NULL);
  g_mkdir_with_parents(a, 0755);
  g_autoptr(GPtrArray) segs = some_segments();
  g_autofree gchar *torn = vigil_playlist_entry(g_ptr_array_index(segs, 2), FALSE);
  g_ptr_array_set_size(segs, 2);
  g_autofree gchar *listed = vigil_playlist_build(segs, FALSE, "", "motion");
  g_autofree gchar *cut = g_strndup(torn, strlen(torn) - 5);
  g_autofree gchar *pl = g_strconcat(listed, cut, NULL);
  g_autofree gchar *a_pl = g_build_filename(a, "playlist.m3u8", NULL);
  g_file_set_contents(a_pl, pl, -1, NULL);
  for (int i = 1; i <= 3; i++) {
    g_autofree gchar *p = g_strdup_printf("%s/%06d.ts", a, i);
    write_file(p, i == 3 ? 188 * 7 + 5 : 188 * 100);
  }
  g_autofree gchar *tmp = g_build_filename(a, "playlist.m3u8.tmp", NULL);
  write_file(tmp, 10);
  /* Segment 1 of A was indexed before the crash, 2 was not. */
  VigilRecording row = {.camera = "cam",
                        .start_us = 1,
                        .end_us = 2,
                        .reason = "motion",
                        .path = "cam/2026-11-25/20261125T100000Z",
                        .open = TRUE};
  gint64 id_a = vigil_store_insert_recording(f->store, &row, NULL);
  VigilSegment s1 = *(VigilSegment *)g_ptr_array_index(segs, 0);
  s1.recording = id_a;
  s1.size_bytes = 188 * 100;
  g_assert_true(vigil_store_add_segment(f->store, &s1, NULL));

  /* B: crashed before its first segment was complete: no playlist. */
  g_autofree gchar *b = g_build_filename(f->root, "cam", "2026-11-25", "20261125T110000Z", NULL);
  g_mkdir_with_parents(b, 0755);
  g_autofree gchar *b1 = g_build_filename(b, "000001.ts", NULL);
  write_file(b1, 188 * 3);

  /* C: indexed, but its files are gone. */
  VigilRecording gone = {.camera = "cam",
                         .start_us = 5,
                         .end_us = 6,
                         .reason = "manual",
                         .path = "cam/2026-11-24/20261124T100000Z",
                         .open = FALSE};
  gint64 id_c = vigil_store_insert_recording(f->store, &gone, NULL);
  VigilSegment sc = {.recording = id_c, .seq = 1, .start_us = 5, .duration_us = 1, .size_bytes = 1};
  g_assert_true(vigil_store_add_segment(f->store, &sc, NULL));

  VigilRepairStats st;
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_record_repair(f->store, f->root, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(st.playlists_closed, ==, 1);
  g_assert_cmpuint(st.partial_deleted, ==, 2); /* A/000003.ts, B/000001.ts */
  g_assert_cmpuint(st.segments_added, ==, 1);  /* A/000002.ts */
  g_assert_cmpuint(st.recordings_added, ==, 0);
  g_assert_cmpuint(st.recordings_dropped, ==, 1); /* C */

  g_autofree gchar *a3 = g_build_filename(a, "000003.ts", NULL);
  g_assert_false(g_file_test(a3, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(b, G_FILE_TEST_EXISTS));
  g_autofree gchar *text = NULL;
  g_assert_true(g_file_get_contents(a_pl, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "#EXT-X-ENDLIST"));
  g_assert_nonnull(strstr(text, "# vigil-reason: motion"));

  g_autoptr(VigilRecording) ra = vigil_store_get_recording(f->store, id_a, &error);
  g_assert_nonnull(ra);
  g_assert_false(ra->open);
  g_assert_cmpint(ra->size_bytes, ==, 2 * 188 * 100);
  g_autoptr(GPtrArray) indexed = vigil_store_list_segments(f->store, id_a, NULL);
  g_assert_cmpuint(indexed->len, ==, 2);
  g_autoptr(VigilRecording) rc = vigil_store_get_recording(f->store, id_c, NULL);
  g_assert_null(rc);

  /* Unindexed recording entirely: its row comes back from the playlist. */
  g_assert_true(vigil_store_delete_recording(f->store, id_a, NULL));
  g_assert_true(vigil_record_repair(f->store, f->root, &st, NULL));
  g_assert_cmpuint(st.recordings_added, ==, 1);
  g_assert_cmpuint(st.segments_added, ==, 2);
  g_assert_cmpuint(st.playlists_closed, ==, 0);
  g_autoptr(GPtrArray) all =
      vigil_store_list_recordings(f->store, "cam", NULL, G_MININT64, G_MAXINT64, 0, FALSE, NULL);
  g_assert_cmpuint(all->len, ==, 1);
  VigilRecording *back = g_ptr_array_index(all, 0);
  g_assert_cmpstr(back->reason, ==, "motion");
  g_assert_cmpint(back->start_us, ==, ((VigilSegment *)g_ptr_array_index(segs, 0))->start_us);
  /* A second pass finds nothing to do. */
  g_assert_true(vigil_record_repair(f->store, f->root, &st, NULL));
  g_assert_cmpuint(st.segments_added + st.recordings_added + st.partial_deleted +
                       st.playlists_closed + st.rows_dropped + st.recordings_dropped,
                   ==, 0);
}

typedef struct {
  guint segments;
  guint closed;
  gint64 bytes;
} WriterLog;

static void on_writer(VigilWriterEvent event, VigilRecInfo *rec, const VigilSegment *seg,
                      const char *message, gpointer data)
{
  WriterLog *log = data;
  if (event == VIGIL_WRITER_SEGMENT) {
    log->segments++;
    log->bytes += seg->size_bytes;
    g_assert_cmpint(seg->seq, ==, log->segments);
    /* Reported only once the file and the playlist listing it are there. */
    g_autofree gchar *name = g_strdup_printf("%06d.ts", seg->seq);
    g_autofree gchar *text = NULL;
    g_assert_nonnull(rec->rel_path);
    g_assert_true(g_str_has_prefix(rec->rel_path, "cam/2023-11-14/20231114T"));
  } else if (event == VIGIL_WRITER_CLOSED) {
    log->closed++;
  }
}

static void test_writer(Fixture *f, gconstpointer data)
{
  WriterLog log = {0};
  VigilSegmentWriter *w = vigil_segment_writer_new(f->root, NULL, on_writer, &log);
  VigilRecInfo *rec = vigil_rec_info_new("cam", "continuous");
  vigil_segment_writer_begin(w, rec);
  gint64 total = 0;
  for (int n = 3; n < 9 * GOP + 3; n++) { /* starts mid-GOP: skipped to frame 25 */
    g_autoptr(VigilChunk) c = make_chunk(n);
    if (n >= GOP)
      total += g_bytes_get_size(c->data);
    vigil_segment_writer_write(w, c);
  }
  vigil_segment_writer_end(w);
  vigil_segment_writer_flush(w);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(log.segments, ==, 5); /* 2+2+2+2 s and 3 frames */
  g_assert_cmpuint(log.closed, ==, 1);
  g_assert_cmpint(log.bytes, ==, total);
  g_autofree gchar *dir = g_build_filename(f->root, rec->rel_path, NULL);
  g_autofree gchar *pl = g_build_filename(dir, "playlist.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_assert_true(g_file_get_contents(pl, &text, NULL, NULL));
  gboolean closed;
  g_autoptr(GPtrArray) segs = vigil_playlist_parse(text, &closed, NULL);
  g_assert_true(closed);
  g_assert_cmpuint(segs->len, ==, 5);
  VigilSegment *s0 = g_ptr_array_index(segs, 0);
  g_assert_cmpint(s0->duration_us, ==, 2 * G_USEC_PER_SEC);
  g_assert_cmpint(s0->start_us, ==, rec->start_us);
  VigilSegment *s3 = g_ptr_array_index(segs, 3), *s4 = g_ptr_array_index(segs, 4);
  g_assert_cmpint(s3->start_us, ==, rec->start_us + 6 * G_USEC_PER_SEC);
  g_assert_cmpint(s4->duration_us, ==, 3 * G_USEC_PER_SEC / FPS); /* 3 frames */
  vigil_segment_writer_free(w);
  vigil_rec_info_unref(rec);
}

/* --- the shared writer pool --- */

/* Chunk n of make_chunk's stream for writer @mark: the payload says which
 * writer and which chunk, so misplaced or reordered bytes show. */
static VigilChunk *make_marked_chunk(int n, guint8 mark)
{
  g_autoptr(VigilChunk) plain = make_chunk(n);
  gsize size = g_bytes_get_size(plain->data);
  guint8 *data = g_malloc(size);
  for (gsize i = 0; i < size; i++)
    data[i] = i % 188 == 0 ? 0x47 : (guint8)(mark * 31 + n * 7 + i);
  g_autoptr(GBytes) bytes = g_bytes_new_take(data, size);
  return vigil_chunk_new(bytes, plain->flags, plain->pts, plain->wallclock_us, plain->arrival_us);
}

typedef struct {
  const char *root;
  const char *camera;
  VigilRecInfo *rec;
  VigilSegmentWriter *writer;
  GByteArray *expected; /* what the recording must hold, in order */
  guint segments, closed, failed, recovered;
  gint64 bytes;
  gchar *message;
} PoolLog;

static void on_pool_writer(VigilWriterEvent event, VigilRecInfo *rec, const VigilSegment *seg,
                           const char *message, gpointer data)
{
  PoolLog *log = data;
  g_assert_true(rec == log->rec);
  switch (event) {
  case VIGIL_WRITER_SEGMENT: {
    log->segments++;
    log->bytes += seg->size_bytes;
    g_assert_cmpint(seg->seq, ==, log->segments);
    /* Reported only once the whole segment is in its file. */
    g_autofree gchar *file = g_strdup_printf("%s/%s/%06d.ts", log->root, rec->rel_path, seg->seq);
    GStatBuf st;
    g_assert_cmpint(g_stat(file, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, seg->size_bytes);
    break;
  }
  case VIGIL_WRITER_CLOSED:
    log->closed++;
    break;
  case VIGIL_WRITER_FAILED:
    log->failed++;
    g_free(log->message);
    log->message = g_strdup(message);
    break;
  case VIGIL_WRITER_RECOVERED:
    log->recovered++;
    break;
  }
}

static void pool_log_start(PoolLog *log, const char *root, const char *camera)
{
  log->root = root;
  log->camera = camera;
  log->rec = vigil_rec_info_new(camera, "continuous");
  log->expected = g_byte_array_new();
  log->writer = vigil_segment_writer_new(root, NULL, on_pool_writer, log);
  vigil_segment_writer_begin(log->writer, log->rec);
}

static void pool_log_write(PoolLog *log, int n, guint8 mark, gboolean expected)
{
  g_autoptr(VigilChunk) c = make_marked_chunk(n, mark);
  if (expected) {
    gsize size;
    const guint8 *data = g_bytes_get_data(c->data, &size);
    g_byte_array_append(log->expected, data, (guint)size);
  }
  vigil_segment_writer_write(log->writer, c);
}

static void pool_log_clear(PoolLog *log)
{
  vigil_segment_writer_free(log->writer);
  vigil_rec_info_unref(log->rec);
  g_byte_array_unref(log->expected);
  g_free(log->message);
}

/* The recording's segment files as its playlist lists them, concatenated. */
static GByteArray *read_recording(PoolLog *log, guint *discont)
{
  g_autofree gchar *dir = g_build_filename(log->root, log->rec->rel_path, NULL);
  g_autofree gchar *pl = g_build_filename(dir, "playlist.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_assert_true(g_file_get_contents(pl, &text, NULL, NULL));
  gboolean closed;
  g_autoptr(GPtrArray) segs = vigil_playlist_parse(text, &closed, NULL);
  g_assert_true(closed);
  GByteArray *all = g_byte_array_new();
  *discont = 0;
  for (guint i = 0; i < segs->len; i++) {
    VigilSegment *seg = g_ptr_array_index(segs, i);
    g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", dir, seg->seq);
    g_autofree gchar *data = NULL;
    gsize size;
    g_assert_true(g_file_get_contents(file, &data, &size, NULL));
    g_byte_array_append(all, (const guint8 *)data, (guint)size);
    *discont += seg->discont;
  }
  return all;
}

static void assert_recording(PoolLog *log, guint segments, guint discont)
{
  guint d;
  g_autoptr(GByteArray) got = read_recording(log, &d);
  g_assert_cmpuint(log->segments, ==, segments);
  g_assert_cmpuint(log->closed, ==, 1);
  g_assert_cmpuint(d, ==, discont);
  g_assert_cmpint(log->bytes, ==, log->expected->len);
  g_assert_cmpmem(got->data, got->len, log->expected->data, log->expected->len);
}

static guint count_threads(const char *name)
{
  guint n = 0;
  g_autoptr(GDir) dir = g_dir_open("/proc/self/task", 0, NULL);
  g_assert_nonnull(dir);
  const char *tid;
  while ((tid = g_dir_read_name(dir))) {
    g_autofree gchar *path = g_strdup_printf("/proc/self/task/%s/comm", tid);
    g_autofree gchar *comm = NULL;
    if (g_file_get_contents(path, &comm, NULL, NULL) && g_strcmp0(g_strstrip(comm), name) == 0)
      n++;
  }
  return n;
}

/* Runs the main context until @done or 30 s (a writer that never finishes
 * fails here rather than hanging the test). */
static void wait_for(guint *done)
{
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  while (!*done && g_get_monotonic_time() < deadline) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    if (!*done)
      g_usleep(10000);
  }
}

/* Many writers, one pool: every byte arrives, in order, in the right
 * recording, with the usual segments; the threads do not grow with the
 * writers. */
static void test_writer_pool(Fixture *f, gconstpointer data)
{
  enum { WRITERS = 6 };
  PoolLog logs[WRITERS] = {0};
  const char *cameras[WRITERS] = {"cam0", "cam1", "cam2", "cam3", "cam4", "cam5"};
  for (int w = 0; w < WRITERS; w++)
    pool_log_start(&logs[w], f->root, cameras[w]);
  /* (A new thread names itself once it runs.) */
  for (int i = 0; i < 200 && count_threads("vigil-recwrite") < VIGIL_WRITER_POOL_THREADS; i++)
    g_usleep(10000);
  g_assert_cmpuint(count_threads("vigil-recwrite"), ==, VIGIL_WRITER_POOL_THREADS);
  for (int n = 0; n < 4 * GOP + 10; n++)
    for (int w = 0; w < WRITERS; w++)
      pool_log_write(&logs[w], n, (guint8)w, TRUE);
  for (int w = 0; w < WRITERS; w++)
    vigil_segment_writer_end(logs[w].writer);
  for (int w = 0; w < WRITERS; w++)
    vigil_segment_writer_flush(logs[w].writer);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  for (int w = 0; w < WRITERS; w++) {
    assert_recording(&logs[w], 3, 0); /* 2 s, 2 s and 10 frames */
    g_assert_cmpuint(logs[w].failed, ==, 0);
    g_assert_cmpuint(vigil_segment_writer_get_queued(logs[w].writer), ==, 0);
  }
  for (int w = 0; w < WRITERS; w++)
    pool_log_clear(&logs[w]);
  /* The last writer gone, the pool's threads are too. */
  g_assert_cmpuint(count_threads("vigil-recwrite"), ==, 0);
}

/* Chunks wait in memory, not for a wake-up each: the pool's tick writes
 * them without a flush, and freeing the writer writes and closes the rest. */
static void test_writer_tick_and_close(Fixture *f, gconstpointer data)
{
  PoolLog log = {0};
  gint64 t0 = g_get_monotonic_time();
  pool_log_start(&log, f->root, "cam");
  for (int n = 0; n < 10; n++) /* one keyframe, far below the batch size */
    pool_log_write(&log, n, 1, TRUE);
  gsize queued = vigil_segment_writer_get_queued(log.writer);
  if (g_get_monotonic_time() - t0 < VIGIL_WRITER_POOL_TICK_US / 2)
    g_assert_cmpuint(queued, ==, log.expected->len); /* nothing written yet */
  else
    g_test_message("machine too slow to see the batch before the tick");
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (vigil_segment_writer_get_queued(log.writer) > 0 && g_get_monotonic_time() < deadline)
    g_usleep(10000);
  g_assert_cmpuint(vigil_segment_writer_get_queued(log.writer), ==, 0);
  g_autofree gchar *first = g_strdup_printf("%s/%s/000001.ts", f->root, log.rec->rel_path);
  GStatBuf st;
  g_assert_cmpint(g_stat(first, &st), ==, 0);
  g_assert_cmpint(st.st_size, ==, log.expected->len);
  g_assert_cmpuint(log.segments, ==, 0); /* the segment is still open */

  for (int n = 10; n < 20; n++)
    pool_log_write(&log, n, 1, TRUE);
  /* No end, no flush: free does both. */
  VigilSegmentWriter *writer = g_steal_pointer(&log.writer);
  vigil_segment_writer_free(writer);
  g_assert_cmpuint(log.closed, ==, 1);
  g_assert_cmpuint(log.segments, ==, 1);
  guint discont;
  g_autoptr(GByteArray) got = read_recording(&log, &discont);
  g_assert_cmpmem(got->data, got->len, log.expected->data, log.expected->len);
  vigil_rec_info_unref(log.rec);
  g_byte_array_unref(log.expected);
}

/* A write error on one writer (its next segment is /dev/full) is reported
 * and recovered from as before, and the other writer sharing the pool
 * loses nothing. */
static void test_writer_error_isolated(Fixture *f, gconstpointer data)
{
  if (!g_file_test("/dev/full", G_FILE_TEST_EXISTS)) {
    g_test_skip("no /dev/full");
    return;
  }
  PoolLog a = {0}, b = {0};
  pool_log_start(&a, f->root, "cam-a");
  pool_log_start(&b, f->root, "cam-b");
  for (int n = 0; n < 2 * GOP; n++) {
    pool_log_write(&a, n, 1, TRUE);
    pool_log_write(&b, n, 2, TRUE);
  }
  vigil_segment_writer_flush(b.writer);
  /* Segment 1 is open; segment 2 will be created on the full device. */
  g_autofree gchar *next = g_strdup_printf("%s/%s/000002.ts", f->root, b.rec->rel_path);
  g_assert_cmpint(symlink("/dev/full", next), ==, 0);
  for (int n = 2 * GOP; n < 4 * GOP + 10; n++) {
    pool_log_write(&a, n, 1, TRUE);
    /* B loses segment 2 up to the next keyframe, which starts it again
     * in a real file (the failed one is deleted). */
    pool_log_write(&b, n, 2, n >= 3 * GOP);
  }
  vigil_segment_writer_end(a.writer);
  vigil_segment_writer_end(b.writer);
  vigil_segment_writer_flush(a.writer);
  vigil_segment_writer_flush(b.writer);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  assert_recording(&a, 3, 0);
  g_assert_cmpuint(a.failed, ==, 0);
  g_assert_cmpuint(a.recovered, ==, 0);
  assert_recording(&b, 2, 1); /* 0-2 s, then 3-4.4 s after a gap */
  g_assert_cmpuint(b.failed, ==, 1);
  g_assert_cmpuint(b.recovered, ==, 1);
  g_assert_cmpstr(b.message, ==, "camera cam-b: cannot write a segment: the disk is full");
  g_assert_false(g_file_test(next, G_FILE_TEST_IS_SYMLINK));
  pool_log_clear(&a);
  pool_log_clear(&b);
}

typedef struct {
  gchar *path;
  GByteArray *got;
} FifoReader;

static gpointer read_fifo(gpointer data)
{
  FifoReader *r = data;
  int fd = open(r->path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  guint8 buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    g_assert_cmpint(n, >, 0);
    g_byte_array_append(r->got, buf, (guint)n);
  }
  close(fd);
  return NULL;
}

/* One writer stuck on its disk (its next segment is a FIFO nobody reads, so
 * open(2) blocks): pushing to it still returns at once, and another writer
 * records everything meanwhile. */
static void test_writer_stall_isolated(Fixture *f, gconstpointer data)
{
  PoolLog a = {0}, s = {0};
  pool_log_start(&s, f->root, "cam-s");
  for (int n = 0; n < 2 * GOP; n++)
    pool_log_write(&s, n, 3, TRUE);
  vigil_segment_writer_flush(s.writer);
  FifoReader reader = {
      .path = g_strdup_printf("%s/%s/000002.ts", f->root, s.rec->rel_path),
      .got = g_byte_array_new(),
  };
  g_assert_cmpint(mkfifo(reader.path, 0644), ==, 0);
  g_autoptr(GByteArray) stuck = g_byte_array_new(); /* what goes into the FIFO */
  gint64 t0 = g_get_monotonic_time();
  for (int n = 2 * GOP; n < 3 * GOP; n++) {
    pool_log_write(&s, n, 3, FALSE);
    g_autoptr(VigilChunk) c = make_marked_chunk(n, 3);
    g_byte_array_append(stuck, g_bytes_get_data(c->data, NULL), (guint)g_bytes_get_size(c->data));
  }
  /* Pushing only appends to memory. */
  g_assert_cmpint(g_get_monotonic_time() - t0, <, G_USEC_PER_SEC);

  pool_log_start(&a, f->root, "cam-a");
  for (int n = 0; n < 4 * GOP + 10; n++)
    pool_log_write(&a, n, 1, TRUE);
  vigil_segment_writer_end(a.writer);
  wait_for(&a.closed);
  g_assert_cmpuint(a.closed, ==, 1); /* not held up by the stuck writer */
  assert_recording(&a, 3, 0);
  /* ... while the stuck writer still holds what it was given. Its first
   * segment is reported once its thread has synced it, which on a busy disk
   * may come after cam-a is done. */
  g_assert_cmpuint(vigil_segment_writer_get_queued(s.writer), >, 0);
  wait_for(&s.segments);
  g_assert_cmpuint(s.segments, ==, 1);

  /* Unstick it: the FIFO takes the segment, but cannot be fsynced, so the
   * segment fails and is deleted, as on a disk that cannot sync. */
  GThread *thread = g_thread_new("fifo", read_fifo, &reader);
  vigil_segment_writer_end(s.writer);
  vigil_segment_writer_flush(s.writer);
  g_thread_join(thread);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpmem(reader.got->data, reader.got->len, stuck->data, stuck->len);
  assert_recording(&s, 1, 0);
  g_assert_cmpuint(s.failed, ==, 1);
  g_assert_cmpuint(vigil_segment_writer_get_queued(s.writer), ==, 0);
  g_free(reader.path);
  g_byte_array_unref(reader.got);
  pool_log_clear(&a);
  pool_log_clear(&s);
}

/* --- record_stream "both": the sub stream beside the main one --- */

#define WALL0    ((gint64)1700000000 * G_USEC_PER_SEC)
#define SUB_PTS0 ((gint64)7000000)

static gint64 wall_of(int n)
{
  return WALL0 + (gint64)n * G_USEC_PER_SEC / FPS;
}

/* Chunk n of a second 25 fps stream of the camera (the sub stream): its own
 * pts clock, a keyframe every @gop frames, smaller chunks, arriving @late_us
 * after the main stream's frame n. */
static VigilChunk *make_sub_chunk(int n, int gop, gint64 late_us)
{
  gsize size = 188 * (n % gop == 0 ? 6 : 2);
  guint8 *data = g_malloc0(size);
  for (gsize i = 0; i < size; i += 188) {
    data[i] = 0x47;
    data[i + 1] = 0x5b; /* tells sub bytes from main ones */
  }
  g_autoptr(GBytes) bytes = g_bytes_new_take(data, size);
  return vigil_chunk_new(bytes, n % gop == 0 ? VIGIL_CHUNK_KEYFRAME : 0,
                         SUB_PTS0 + (gint64)n * FRAME_PTS, wall_of(n) + late_us,
                         (gint64)n * G_USEC_PER_SEC / FPS + late_us);
}

#define MAX_RECS 16

typedef struct {
  GString *log; /* "B(reason) main/sub E ", "G " for a sub gap */
  guint recordings;
  guint main_writes, sub_writes;
  gint64 main_first_wall[MAX_RECS], sub_first_wall[MAX_RECS], sub_last_wall[MAX_RECS];
  gint64 clock;
} BothSink;

static void both_begin(VigilRecInfo *rec, gpointer data)
{
  BothSink *s = data;
  g_assert_cmpuint(s->recordings, <, MAX_RECS);
  g_string_append_printf(s->log, "B(%s) ", rec->reason);
  s->main_first_wall[s->recordings] = s->sub_first_wall[s->recordings] = -1;
  s->recordings++;
}

static void both_write(VigilChunk *chunk, gpointer data)
{
  BothSink *s = data;
  if (s->main_first_wall[s->recordings - 1] < 0)
    s->main_first_wall[s->recordings - 1] = chunk->wallclock_us;
  s->main_writes++;
}

static void both_write_sub(VigilChunk *chunk, gpointer data)
{
  BothSink *s = data;
  g_assert_cmpuint(s->recordings, >, 0);
  guint r = s->recordings - 1;
  /* Never before the main stream has begun the recording. */
  g_assert_cmpint(s->main_first_wall[r], >=, 0);
  if (s->sub_first_wall[r] < 0) {
    g_assert_true(vigil_chunk_is_keyframe(chunk));
    s->sub_first_wall[r] = chunk->wallclock_us;
  }
  s->sub_last_wall[r] = chunk->wallclock_us;
  s->sub_writes++;
}

static void both_end(gpointer data)
{
  BothSink *s = data;
  g_string_append_printf(s->log, "%u/%u E ", s->main_writes, s->sub_writes);
  s->main_writes = s->sub_writes = 0;
}

static void both_sub_gap(gpointer data)
{
  BothSink *s = data;
  g_string_append_printf(s->log, "%u/%u G ", s->main_writes, s->sub_writes);
  s->main_writes = s->sub_writes = 0;
}

static const VigilRecorderSink both_sink = {both_begin, both_write, both_end, both_write_sub,
                                            both_sub_gap};

static gint64 both_clock(gpointer data)
{
  return ((BothSink *)data)->clock;
}

/* Frames [from, to) of both streams, each sub frame right after its main
 * one, the clock advancing with them. */
static void feed_both(VigilRecorder *r, BothSink *s, int from, int to, int sub_gop)
{
  for (int n = from; n < to; n++) {
    s->clock = (gint64)n * G_USEC_PER_SEC / FPS;
    g_autoptr(VigilChunk) c = make_chunk(n);
    vigil_recorder_push(r, c);
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, sub_gop, 0);
    vigil_recorder_push_sub(r, sc);
  }
}

static void test_preroll_since(void)
{
  g_autoptr(VigilPreroll) p = vigil_preroll_new(3);
  for (int n = 0; n < 5 * FPS; n++) {
    g_autoptr(VigilChunk) c = make_sub_chunk(n, 50, 0); /* keyframes at 0, 2, 4 s */
    vigil_preroll_push(p, c);
  }
  /* Holds from the keyframe at 0 s (>= 3 s before 4.96 s). */
  g_autoptr(GPtrArray) a = vigil_preroll_get_since(p, wall_of(60));
  g_assert_cmpuint(a->len, ==, 5 * FPS - 50);
  g_assert_cmpint(((VigilChunk *)g_ptr_array_index(a, 0))->wallclock_us, ==, wall_of(50));
  g_autoptr(GPtrArray) b = vigil_preroll_get_since(p, wall_of(100)); /* a keyframe's own time */
  g_assert_cmpint(((VigilChunk *)g_ptr_array_index(b, 0))->wallclock_us, ==, wall_of(100));
  g_autoptr(GPtrArray) c = vigil_preroll_get_since(p, WALL0 - 1); /* before all: the first */
  g_assert_cmpuint(c->len, ==, 5 * FPS);
  g_assert_cmpuint(vigil_preroll_get_length(p), ==, 5 * FPS); /* the ring keeps them */
  vigil_preroll_clear(p);
  g_autoptr(GPtrArray) d = vigil_preroll_get_since(p, wall_of(60));
  g_assert_cmpuint(d->len, ==, 0);
}

/* Events with pre-roll: the sub stream's part begins at the latest sub
 * keyframe at or before the main stream's first picture, with its own
 * pre-roll ring, and ends with the recording. */
static void test_recorder_both_events(void)
{
  BothSink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &both_sink, &s);
  vigil_recorder_set_clock(r, both_clock, &s);
  vigil_recorder_set_mode(r, VIGIL_RECORD_EVENTS, 2, 3);
  feed_both(r, &s, 0, 5 * FPS + 10, 50); /* sub keyframes every 2 s */
  g_assert_cmpstr(s.log->str, ==, "");
  vigil_recorder_trigger(r, "motion");
  /* Main from its keyframe at 3 s (as in /record/recorder/events); the sub
   * ring holds 2 s to 5.36 s, and its keyframe at 2 s is the latest at or
   * before 3 s. */
  g_assert_cmpint(s.main_first_wall[0], ==, wall_of(3 * GOP));
  g_assert_cmpint(s.sub_first_wall[0], ==, wall_of(50));
  feed_both(r, &s, 5 * FPS + 10, 7 * FPS, 50);
  vigil_recorder_trigger(r, "object:person");
  feed_both(r, &s, 7 * FPS, 10 * FPS + 1, 50);
  g_assert_false(vigil_recorder_is_active(r));
  /* Main frames 75..248, sub frames 50..248 (the post-roll ran out at main
   * frame 249, before its sub frame). */
  g_assert_cmpstr(s.log->str, ==, "B(motion) 174/199 E ");
  g_assert_cmpint(s.sub_last_wall[0], ==, wall_of(248));

  /* A sub GOP longer than the pre-roll window: the ring starts earlier, the
   * alignment is the same rule. */
  g_string_truncate(s.log, 0);
  vigil_recorder_set_mode(r, VIGIL_RECORD_EVENTS, 1, 3);
  feed_both(r, &s, 10 * FPS + 1, 13 * FPS + 5, 100); /* sub keyframes at 8, 12 s */
  vigil_recorder_trigger(r, "motion");
  /* Main: latest keyframe >= 1 s before 13.16 s is 12 s; sub: its keyframe
   * at 12 s. */
  g_assert_cmpint(s.main_first_wall[1], ==, wall_of(12 * GOP));
  g_assert_cmpint(s.sub_first_wall[1], ==, wall_of(300));
  g_clear_pointer(&r, vigil_recorder_free);
  g_assert_cmpstr(s.log->str, ==, "B(motion) 30/30 E "); /* frames 300..329 */
  g_string_free(s.log, TRUE);
}

/* Splits at the maximum length: the next recording's sub stream begins with
 * the sub GOP in progress, so the sub parts overlap by less than a sub GOP
 * and never leave a gap; the main stream's chunks are split exactly as
 * without a sub stream. */
static void test_recorder_both_split(void)
{
  BothSink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &both_sink, &s);
  vigil_recorder_set_clock(r, both_clock, &s);
  vigil_recorder_set_max_length(r, 10 * G_USEC_PER_SEC);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 5, 0);
  feed_both(r, &s, 0, 25 * FPS, 75); /* sub keyframes every 3 s */
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 5, 0);
  /* Main: 0-10 s, 10-20 s, 20-25 s. Sub: 0..249, then from its keyframe at
   * 9 s (225..499), then from 18 s (450..624). */
  g_assert_cmpstr(s.log->str, ==,
                  "B(continuous) 250/250 E B(continuous) 250/275 E B(continuous) 125/175 E ");
  gint64 sub_gop_us = 3 * G_USEC_PER_SEC;
  for (guint i = 0; i < 3; i++) {
    g_assert_cmpint(s.main_first_wall[i], ==, wall_of(250 * (int)i));
    g_assert_cmpint(s.sub_first_wall[i], <=, s.main_first_wall[i]);
    g_assert_cmpint(s.sub_first_wall[i], >, s.main_first_wall[i] - sub_gop_us);
    if (i > 0) /* no gap between the sub parts */
      g_assert_cmpint(s.sub_first_wall[i], <=, s.sub_last_wall[i - 1]);
  }
  g_string_free(s.log, TRUE);
}

/* Runs the default main context until @cond holds or 5 s pass. */
static void pump_until(gboolean (*cond)(gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (!cond(data) && g_get_monotonic_time() < deadline) {
    while (g_main_context_iteration(NULL, FALSE))
      ;
    g_usleep(5000);
  }
  g_assert_true(cond(data));
}

typedef struct {
  BothSink *sink;
  guint main_writes, sub_writes;
} Expect;

static gboolean writes_reached(gpointer data)
{
  Expect *e = data;
  gboolean done = e->sink->main_writes >= e->main_writes && e->sink->sub_writes >= e->sub_writes;
  if (!done)
    g_test_message("waiting for %u/%u writes: %u/%u so far (%s)", e->main_writes, e->sub_writes,
                   e->sink->main_writes, e->sink->sub_writes, e->sink->log->str);
  return done;
}

static void push_streams(VigilStream *main_stream, VigilStream *sub_stream, int from, int to,
                         int sub_gop)
{
  for (int n = from; n < to; n++) {
    if (main_stream) {
      g_autoptr(VigilChunk) c = make_chunk(n);
      vigil_stream_push(main_stream, c);
    }
    if (sub_stream) {
      g_autoptr(VigilChunk) sc = make_sub_chunk(n, sub_gop, 0);
      vigil_stream_push(sub_stream, sc);
    }
  }
}

/* Real streams, attached and replaced while recording: a sub stream that
 * comes, is replaced and goes leaves gaps in the sub part only; attaching the
 * same stream again changes nothing; attaching another main stream (what
 * record_stream "sub" does when the sub stream comes or goes) goes on in a
 * new recording from the new stream's GOP in progress. */
static void test_recorder_both_attach(void)
{
  BothSink s = {.log = g_string_new("")};
  g_autoptr(VigilRecorder) r = vigil_recorder_new_with_sink("cam", &both_sink, &s);
  g_autoptr(VigilStream) main_a = vigil_stream_new("cam");
  g_autoptr(VigilStream) main_b = vigil_stream_new("cam");
  g_autoptr(VigilStream) sub_a = vigil_stream_new("cam");
  g_autoptr(VigilStream) sub_b = vigil_stream_new("cam");
  vigil_recorder_attach(r, main_a);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 0);
  push_streams(main_a, sub_a, 0, 30, 10); /* no sub stream attached yet */
  Expect e = {&s, 30, 0};
  pump_until(writes_reached, &e);

  vigil_recorder_attach_sub(r, sub_a);
  vigil_recorder_attach_sub(r, sub_a); /* the same: nothing happens */
  /* (Subscribing delivers sub_a's current GOP, frames 20..29.) */
  push_streams(main_a, sub_a, 30, 60, 10);
  e = (Expect){&s, 60, 40};
  pump_until(writes_reached, &e);
  g_assert_cmpint(s.sub_first_wall[0], ==, wall_of(20));

  /* Replaced: a gap, then sub_b from its GOP in progress. */
  push_streams(NULL, sub_b, 0, 65, 10);
  vigil_recorder_attach_sub(r, sub_b);
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 60/40 G ");
  push_streams(main_a, sub_b, 65, 70, 10);
  e = (Expect){&s, 5, 10}; /* main 65..69, sub_b 60..69 */
  pump_until(writes_reached, &e);

  /* Gone: a gap, and nothing more of the sub stream. */
  vigil_recorder_attach_sub(r, NULL);
  push_streams(main_a, sub_b, 70, 80, 10);
  e = (Expect){&s, 10, 0};
  pump_until(writes_reached, &e);
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 60/40 G 5/10 G ");
  /* Back (its held GOP: 50..59) for what follows. */
  vigil_recorder_attach_sub(r, sub_a);

  /* The same main stream again: nothing happens. Another one: a new
   * recording from its GOP in progress. */
  vigil_recorder_attach(r, main_a);
  push_streams(main_b, NULL, 0, 55, 10); /* main_b's current GOP: 50..54 */
  vigil_recorder_attach(r, main_b);
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 60/40 G 5/10 G 10/0 E B(continuous) ");
  push_streams(main_b, NULL, 55, 60, 10);
  push_streams(NULL, sub_a, 60, 65, 10);
  e = (Expect){&s, 10, 15}; /* main_b 50..59, sub_a 50..64 */
  pump_until(writes_reached, &e);
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 0, 0);
  g_assert_cmpstr(s.log->str, ==, "B(continuous) 60/40 G 5/10 G 10/0 E B(continuous) 10/15 E ");
  g_assert_cmpint(s.main_first_wall[1], ==, wall_of(50));
  /* Though sub_a's chunks up to 64 reached the recorder before main_b's
   * keyframe at 50 (its ring keeps a second more than the main one's). */
  g_assert_cmpint(s.sub_first_wall[1], ==, wall_of(50));
  g_clear_pointer(&r, vigil_recorder_free);
  g_string_free(s.log, TRUE);
}

/* --- record_stream "both" on disk: writer, index, repair --- */

typedef struct {
  const char *root;
  VigilRecInfo *rec;
  guint segments, sub_segments, closed, failed;
  gint64 bytes, sub_bytes;
} SubLog;

static void on_sub_writer(VigilWriterEvent event, VigilRecInfo *rec, const VigilSegment *seg,
                          const char *message, gpointer data)
{
  SubLog *log = data;
  g_assert_true(rec == log->rec);
  if (event == VIGIL_WRITER_SEGMENT) {
    /* Reported once the file is whole where the segment says. */
    g_autofree gchar *file = g_strdup_printf("%s/%s/%s%06d.ts", log->root, rec->rel_path,
                                             seg->sub ? "sub/" : "", seg->seq);
    GStatBuf st;
    g_assert_cmpint(g_stat(file, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, seg->size_bytes);
    if (seg->sub) {
      g_assert_cmpint(seg->seq, ==, ++log->sub_segments);
      log->sub_bytes += seg->size_bytes;
    } else {
      g_assert_cmpint(seg->seq, ==, ++log->segments);
      log->bytes += seg->size_bytes;
    }
  } else if (event == VIGIL_WRITER_CLOSED) {
    log->closed++;
  } else if (event == VIGIL_WRITER_FAILED) {
    log->failed++;
  }
}

/* The files a playlist lists, concatenated; its segments in @segs_out. */
static GByteArray *read_playlist_files(const char *dir, GPtrArray **segs_out)
{
  g_autofree gchar *pl = g_build_filename(dir, "playlist.m3u8", NULL);
  g_autofree gchar *text = NULL;
  g_assert_true(g_file_get_contents(pl, &text, NULL, NULL));
  gboolean closed;
  GPtrArray *segs = vigil_playlist_parse(text, &closed, NULL);
  g_assert_nonnull(segs);
  g_assert_true(closed);
  GByteArray *all = g_byte_array_new();
  for (guint i = 0; i < segs->len; i++) {
    VigilSegment *seg = g_ptr_array_index(segs, i);
    g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", dir, seg->seq);
    g_autofree gchar *data = NULL;
    gsize size;
    g_assert_true(g_file_get_contents(file, &data, &size, NULL));
    g_byte_array_append(all, (const guint8 *)data, (guint)size);
  }
  *segs_out = segs;
  return all;
}

static void append_chunk(GByteArray *to, VigilChunk *c)
{
  gsize size;
  const guint8 *data = g_bytes_get_data(c->data, &size);
  g_byte_array_append(to, data, (guint)size);
}

/* The writer with a sub stream: sub/ begins once the main stream has made
 * the directory, at a sub keyframe; its own segments, playlist and clock;
 * its write errors leave the main stream alone; a recording whose main
 * stream wrote nothing leaves nothing, sub/ included. */
static void test_writer_sub(Fixture *f, gconstpointer data)
{
  SubLog log = {.root = f->root, .rec = vigil_rec_info_new("cam", "continuous")};
  VigilSegmentWriter *w = vigil_segment_writer_new(f->root, NULL, on_sub_writer, &log);
  g_autoptr(GByteArray) main_bytes = g_byte_array_new(), sub_bytes = g_byte_array_new();
  vigil_segment_writer_begin(w, log.rec);
  for (int n = 0; n < 10; n++) { /* before any main keyframe: dropped */
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, 10, 0);
    vigil_segment_writer_write_sub(w, sc);
  }
  for (int n = 10; n < 4 * GOP + 10; n++) {
    g_autoptr(VigilChunk) c = make_chunk(n);
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, 10, 0);
    vigil_segment_writer_write(w, c);
    vigil_segment_writer_write_sub(w, sc);
    if (n >= GOP) /* main from its keyframe at 1 s */
      append_chunk(main_bytes, c);
    if (n >= 30) /* sub from its first keyframe after that */
      append_chunk(sub_bytes, sc);
  }
  vigil_segment_writer_end(w);
  vigil_segment_writer_flush(w);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(log.closed, ==, 1);
  g_assert_cmpuint(log.segments, ==, 2);     /* 1-3 s, 3-4.36 s */
  g_assert_cmpuint(log.sub_segments, ==, 2); /* 1.2-3.2 s, 3.2-4.36 s */
  g_autofree gchar *dir = g_build_filename(f->root, log.rec->rel_path, NULL);
  g_autofree gchar *sub_dir = g_build_filename(dir, "sub", NULL);
  g_autoptr(GPtrArray) segs = NULL, sub_segs = NULL;
  g_autoptr(GByteArray) got = read_playlist_files(dir, &segs);
  g_autoptr(GByteArray) sub_got = read_playlist_files(sub_dir, &sub_segs);
  g_assert_cmpmem(got->data, got->len, main_bytes->data, main_bytes->len);
  g_assert_cmpmem(sub_got->data, sub_got->len, sub_bytes->data, sub_bytes->len);
  g_assert_cmpint(log.bytes, ==, main_bytes->len);
  g_assert_cmpint(log.sub_bytes, ==, sub_bytes->len);
  /* Each stream's times from its own first picture and pts. */
  g_assert_cmpint(log.rec->start_us, ==, wall_of(GOP));
  g_assert_cmpint(((VigilSegment *)g_ptr_array_index(segs, 0))->start_us, ==, wall_of(GOP));
  VigilSegment *s1 = g_ptr_array_index(sub_segs, 0), *s2 = g_ptr_array_index(sub_segs, 1);
  g_assert_cmpint(s1->start_us, ==, wall_of(30));
  g_assert_cmpint(s1->duration_us, ==, 2 * G_USEC_PER_SEC);
  g_assert_cmpint(s2->start_us, ==, wall_of(80));
  g_autofree gchar *sub_pl = g_build_filename(sub_dir, "playlist.m3u8", NULL);
  g_autofree gchar *sub_text = NULL;
  g_assert_true(g_file_get_contents(sub_pl, &sub_text, NULL, NULL));
  g_assert_null(strstr(sub_text, "vigil-reason")); /* the main playlist has it */
  g_autofree gchar *thumb = g_build_filename(sub_dir, "thumbnail.jpg", NULL);
  g_assert_false(g_file_test(thumb, G_FILE_TEST_EXISTS));
  vigil_rec_info_unref(log.rec);

  /* Sub segment 2 lands on a full device: the sub stream loses it up to its
   * next keyframe and goes on after a gap; the main stream sees nothing. */
  log = (SubLog){.root = f->root, .rec = vigil_rec_info_new("cam", "continuous")};
  g_byte_array_set_size(main_bytes, 0);
  g_byte_array_set_size(sub_bytes, 0);
  vigil_segment_writer_begin(w, log.rec);
  for (int n = 2 * GOP; n < 6 * GOP + 10; n++) {
    if (n == 4 * GOP) {
      vigil_segment_writer_flush(w);
      g_autofree gchar *next = g_strdup_printf("%s/%s/sub/000002.ts", f->root, log.rec->rel_path);
      g_assert_cmpint(symlink("/dev/full", next), ==, 0);
    }
    g_autoptr(VigilChunk) c = make_chunk(n);
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, 10, 0);
    vigil_segment_writer_write(w, c);
    vigil_segment_writer_write_sub(w, sc);
    append_chunk(main_bytes, c);
    if (n < 4 * GOP || n >= 4 * GOP + 10)
      append_chunk(sub_bytes, sc);
  }
  vigil_segment_writer_end(w);
  vigil_segment_writer_flush(w);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(log.failed, ==, 0);
  g_assert_cmpuint(log.segments, ==, 3);
  g_assert_cmpuint(log.sub_segments, ==, 2);
  g_free(dir);
  g_free(sub_dir);
  dir = g_build_filename(f->root, log.rec->rel_path, NULL);
  sub_dir = g_build_filename(dir, "sub", NULL);
  g_autoptr(GPtrArray) segs2 = NULL, sub_segs2 = NULL;
  g_autoptr(GByteArray) got2 = read_playlist_files(dir, &segs2);
  g_autoptr(GByteArray) sub_got2 = read_playlist_files(sub_dir, &sub_segs2);
  g_assert_cmpmem(got2->data, got2->len, main_bytes->data, main_bytes->len);
  g_assert_cmpmem(sub_got2->data, sub_got2->len, sub_bytes->data, sub_bytes->len);
  g_assert_true(((VigilSegment *)g_ptr_array_index(sub_segs2, 1))->discont);
  vigil_rec_info_unref(log.rec);

  /* Only the sub stream: no directory at all. */
  log = (SubLog){.root = f->root, .rec = vigil_rec_info_new("cam", "manual")};
  vigil_segment_writer_begin(w, log.rec);
  for (int n = 0; n < 3 * GOP; n++) {
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, 10, 0);
    vigil_segment_writer_write_sub(w, sc);
  }
  vigil_segment_writer_end(w);
  vigil_segment_writer_flush(w);
  while (g_main_context_iteration(NULL, FALSE))
    ;
  g_assert_cmpuint(log.closed, ==, 1);
  g_assert_cmpuint(log.sub_segments, ==, 0);
  g_assert_null(log.rec->rel_path);
  vigil_segment_writer_free(w);
  vigil_rec_info_unref(log.rec);
}

/* Chunk n of a main stream with a keyframe every @gop frames. */
static VigilChunk *make_gop_chunk(int n, int gop)
{
  g_autoptr(VigilChunk) plain = make_chunk(n);
  return vigil_chunk_new(plain->data, n % gop == 0 ? VIGIL_CHUNK_KEYFRAME : 0, plain->pts,
                         plain->wallclock_us, plain->arrival_us);
}

static gint64 file_size(const char *path)
{
  GStatBuf st;
  return g_stat(path, &st) == 0 ? st.st_size : -1;
}

/* The recorder with its writer and the index: every recording (split at the
 * maximum) has its sub stream's rows, files and playlist; sub segments done
 * before the recording's first main one are indexed with it; size_bytes
 * counts both streams, end_us the main one; deleting a recording (retention)
 * takes sub/ along. */
static void test_recorder_both_index(Fixture *f, gconstpointer data)
{
  VigilRecorder *r = vigil_recorder_new("cam", f->root, f->store);
  vigil_recorder_set_max_length(r, 6 * G_USEC_PER_SEC);
  vigil_recorder_set_mode(r, VIGIL_RECORD_CONTINUOUS, 0, 0);
  for (int n = 0; n < 14 * FPS; n++) {
    g_autoptr(VigilChunk) c = make_gop_chunk(n, 4 * FPS); /* 4 s GOPs */
    vigil_recorder_push(r, c);
    g_autoptr(VigilChunk) sc = make_sub_chunk(n, 12, 5000); /* 0.48 s GOPs, 5 ms later */
    vigil_recorder_push_sub(r, sc);
  }
  vigil_recorder_set_mode(r, VIGIL_RECORD_OFF, 0, 0);
  vigil_recorder_free(r); /* delivers the last reports */

  g_autoptr(GPtrArray) recs =
      vigil_store_list_recordings(f->store, "cam", NULL, G_MININT64, G_MAXINT64, 0, TRUE, NULL);
  g_assert_cmpuint(recs->len, ==, 2); /* 0-8 s, 8-14 s */
  gint64 total = 0;
  for (guint i = 0; i < recs->len; i++) {
    VigilRecording *rec = g_ptr_array_index(recs, i);
    g_assert_true(rec->has_sub);
    g_assert_false(rec->open);
    g_autoptr(GPtrArray) segs = vigil_store_list_segments(f->store, rec->id, NULL);
    g_autoptr(GPtrArray) sub_segs = vigil_store_list_sub_segments(f->store, rec->id, NULL);
    g_assert_cmpuint(segs->len, ==, 2);
    g_assert_cmpuint(sub_segs->len, >=, 2);
    g_autofree gchar *dir = g_build_filename(f->root, rec->path, NULL);
    gint64 sum = 0;
    for (guint k = 0; k < segs->len; k++) {
      VigilSegment *seg = g_ptr_array_index(segs, k);
      g_autofree gchar *file = g_strdup_printf("%s/%06d.ts", dir, seg->seq);
      g_assert_cmpint(file_size(file), ==, seg->size_bytes);
      sum += seg->size_bytes;
    }
    VigilSegment *last = g_ptr_array_index(segs, segs->len - 1);
    g_assert_cmpint(rec->end_us, ==, last->start_us + last->duration_us);
    for (guint k = 0; k < sub_segs->len; k++) {
      VigilSegment *seg = g_ptr_array_index(sub_segs, k);
      g_assert_cmpint(seg->seq, ==, (int)k + 1);
      g_assert_true(seg->sub);
      g_autofree gchar *file = g_strdup_printf("%s/sub/%06d.ts", dir, seg->seq);
      g_assert_cmpint(file_size(file), ==, seg->size_bytes);
      sum += seg->size_bytes;
    }
    g_assert_cmpint(rec->size_bytes, ==, sum);
    total += sum;
    /* The sub playlist on disk lists exactly the indexed sub segments. */
    g_autofree gchar *sub_dir = g_build_filename(dir, "sub", NULL);
    g_autoptr(GPtrArray) listed = NULL;
    g_autoptr(GByteArray) ignored = read_playlist_files(sub_dir, &listed);
    g_assert_cmpuint(listed->len, ==, sub_segs->len);
    /* It starts within a sub GOP of the main stream. */
    VigilSegment *first_sub = g_ptr_array_index(sub_segs, 0);
    g_assert_cmpint(first_sub->start_us, >, rec->start_us - 12 * G_USEC_PER_SEC / FPS);
    g_assert_cmpint(first_sub->start_us, <=, rec->start_us + 5000);
  }
  VigilRecording *first = g_ptr_array_index(recs, 0), *second = g_ptr_array_index(recs, 1);
  g_assert_cmpint(first->start_us, ==, wall_of(0));
  g_assert_cmpint(second->start_us, ==, wall_of(8 * FPS));
  g_assert_cmpint(vigil_store_recordings_bytes(f->store), ==, total);

  g_autoptr(GError) error = NULL;
  g_autofree gchar *dir = g_build_filename(f->root, first->path, NULL);
  g_assert_true(vigil_recording_delete(f->store, f->root, first->id, &error));
  g_assert_no_error(error);
  g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
  g_autoptr(GPtrArray) gone = vigil_store_list_sub_segments(f->store, first->id, NULL);
  g_assert_cmpuint(gone->len, ==, 0);
  g_assert_cmpint(vigil_store_recordings_bytes(f->store), ==, second->size_bytes);
}

static gchar *plant_playlist(const char *dir, int n_segments, gboolean closed, const char *reason)
{
  g_mkdir_with_parents(dir, 0755);
  g_autoptr(GPtrArray) segs = some_segments();
  g_ptr_array_set_size(segs, n_segments);
  g_autofree gchar *pl = vigil_playlist_build(segs, closed, "", reason);
  gchar *path = g_build_filename(dir, "playlist.m3u8", NULL);
  g_assert_true(g_file_set_contents(path, pl, -1, NULL));
  for (int i = 1; i <= n_segments; i++) {
    g_autofree gchar *p = g_strdup_printf("%s/%06d.ts", dir, i);
    write_file(p, 188 * 50);
  }
  return path;
}

/* Crash repair of sub/ after kill -9: its partial segment and temporary
 * files go, its playlist is closed, its complete segments get rows and rows
 * of missing files go; a recording with nothing complete goes with its sub/;
 * a sub/ with nothing complete goes alone. */
static void test_repair_sub(Fixture *f, gconstpointer data)
{
  /* A: the main stream closed; sub/ lists 1-2, was writing 3. */
  g_autofree gchar *a = g_build_filename(f->root, "cam", "2026-11-25", "20261125T100000Z", NULL);
  g_autofree gchar *a_sub = g_build_filename(a, "sub", NULL);
  g_autofree gchar *a_pl = plant_playlist(a, 2, TRUE, "motion");
  g_autofree gchar *a_sub_pl = plant_playlist(a_sub, 2, FALSE, NULL);
  g_autofree gchar *a_sub3 = g_build_filename(a_sub, "000003.ts", NULL);
  write_file(a_sub3, 188 * 4 + 100);
  g_autofree gchar *a_tmp = g_build_filename(a_sub, "playlist.m3u8.tmp", NULL);
  write_file(a_tmp, 10);
  VigilRecording row = {.camera = "cam",
                        .start_us = 1,
                        .end_us = 2,
                        .reason = "motion",
                        .path = "cam/2026-11-25/20261125T100000Z",
                        .open = TRUE};
  gint64 id_a = vigil_store_insert_recording(f->store, &row, NULL);
  g_autoptr(GPtrArray) planted = some_segments();
  for (int i = 0; i < 2; i++) {
    VigilSegment s = *(VigilSegment *)g_ptr_array_index(planted, i);
    s.recording = id_a;
    s.size_bytes = 188 * 50;
    g_assert_true(vigil_store_add_segment(f->store, &s, NULL));
  }
  VigilSegment sub1 = *(VigilSegment *)g_ptr_array_index(planted, 0);
  sub1.recording = id_a;
  sub1.size_bytes = 188 * 50;
  sub1.sub = TRUE;
  g_assert_true(vigil_store_add_segment(f->store, &sub1, NULL));
  VigilSegment sub7 = sub1; /* a row whose file is gone */
  sub7.seq = 7;
  g_assert_true(vigil_store_add_segment(f->store, &sub7, NULL));

  /* B: the main stream had nothing complete; sub/ had. */
  g_autofree gchar *b = g_build_filename(f->root, "cam", "2026-11-25", "20261125T110000Z", NULL);
  g_autofree gchar *b_sub = g_build_filename(b, "sub", NULL);
  g_autofree gchar *b_sub_pl = plant_playlist(b_sub, 2, FALSE, NULL);
  g_autofree gchar *b1 = g_build_filename(b, "000001.ts", NULL);
  write_file(b1, 188 * 3);

  /* C: the main stream complete (not indexed); sub/ only a partial one. */
  g_autofree gchar *c = g_build_filename(f->root, "cam", "2026-11-25", "20261125T120000Z", NULL);
  g_autofree gchar *c_sub = g_build_filename(c, "sub", NULL);
  g_autofree gchar *c_pl = plant_playlist(c, 1, TRUE, "manual");
  g_mkdir_with_parents(c_sub, 0755);
  g_autofree gchar *c_sub1 = g_build_filename(c_sub, "000001.ts", NULL);
  write_file(c_sub1, 188 * 7);

  VigilRepairStats st;
  g_autoptr(GError) error = NULL;
  g_assert_true(vigil_record_repair(f->store, f->root, &st, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(st.playlists_closed, ==, 1); /* A/sub */
  g_assert_cmpuint(st.partial_deleted, ==, 3);  /* A/sub/000003, B/000001, C/sub/000001 */
  g_assert_cmpuint(st.segments_added, ==, 2);   /* A/sub/000002, C/000001 */
  g_assert_cmpuint(st.recordings_added, ==, 1); /* C */
  g_assert_cmpuint(st.rows_dropped, ==, 1);     /* A's sub 7 */
  g_assert_cmpuint(st.recordings_dropped, ==, 0);

  g_assert_false(g_file_test(a_sub3, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(a_tmp, G_FILE_TEST_EXISTS));
  g_autofree gchar *text = NULL;
  g_assert_true(g_file_get_contents(a_sub_pl, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "#EXT-X-ENDLIST"));
  g_autoptr(VigilRecording) ra = vigil_store_get_recording(f->store, id_a, NULL);
  g_assert_true(ra->has_sub);
  g_assert_cmpint(ra->size_bytes, ==, 4 * 188 * 50);
  g_autoptr(GPtrArray) a_subs = vigil_store_list_sub_segments(f->store, id_a, NULL);
  g_assert_cmpuint(a_subs->len, ==, 2);
  g_assert_false(g_file_test(b, G_FILE_TEST_EXISTS));
  g_assert_false(g_file_test(c_sub, G_FILE_TEST_EXISTS));
  g_assert_true(g_file_test(c_pl, G_FILE_TEST_EXISTS));
  g_autoptr(VigilRecording) rc =
      vigil_store_find_recording_by_path(f->store, "cam/2026-11-25/20261125T120000Z");
  g_assert_nonnull(rc);
  g_assert_false(rc->has_sub);
  g_assert_cmpstr(rc->reason, ==, "manual");

  /* A second pass finds nothing to do. */
  g_assert_true(vigil_record_repair(f->store, f->root, &st, NULL));
  g_assert_cmpuint(st.segments_added + st.recordings_added + st.partial_deleted +
                       st.playlists_closed + st.rows_dropped + st.recordings_dropped,
                   ==, 0);
  /* Deleting the recording (retention, DELETE) takes sub/ along. */
  g_assert_true(vigil_recording_delete(f->store, f->root, id_a, &error));
  g_assert_false(g_file_test(a, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  /* Repair and the writer warn about what they fix (by design); criticals
   * stay fatal. */
  g_log_set_always_fatal(G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  g_test_add_func("/record/preroll/window", test_preroll_window);
  g_test_add_func("/record/preroll/keyframe", test_preroll_starts_at_keyframe);
  g_test_add_func("/record/recorder/events", test_recorder_events);
  g_test_add_func("/record/recorder/manual-and-off", test_recorder_manual_and_off);
  g_test_add_func("/record/recorder/split", test_recorder_split);
  g_test_add_func("/record/retention/split-open", test_retention_split_open);
  g_test_add_func("/record/recorder/too-long", test_recorder_too_long);
  g_test_add_func("/record/playlist", test_playlist);
  g_test_add_func("/record/playlist/growing", test_playlist_growing);
  g_test_add_func("/record/retention/select", test_retention_select);
  g_test_add_func("/record/retention/clock-guard", test_clock_guard);
  g_test_add("/record/repair", Fixture, NULL, fixture_setup, test_repair, fixture_teardown);
  g_test_add("/record/writer", Fixture, NULL, fixture_setup, test_writer, fixture_teardown);
  g_test_add("/record/writer/pool", Fixture, NULL, fixture_setup, test_writer_pool,
             fixture_teardown);
  g_test_add("/record/writer/tick-and-close", Fixture, NULL, fixture_setup,
             test_writer_tick_and_close, fixture_teardown);
  g_test_add("/record/writer/error-isolated", Fixture, NULL, fixture_setup,
             test_writer_error_isolated, fixture_teardown);
  g_test_add("/record/writer/stall-isolated", Fixture, NULL, fixture_setup,
             test_writer_stall_isolated, fixture_teardown);
  g_test_add_func("/record/preroll/since", test_preroll_since);
  g_test_add_func("/record/recorder/both-events", test_recorder_both_events);
  g_test_add_func("/record/recorder/both-split", test_recorder_both_split);
  g_test_add_func("/record/recorder/both-attach", test_recorder_both_attach);
  g_test_add("/record/writer/sub", Fixture, NULL, fixture_setup, test_writer_sub, fixture_teardown);
  g_test_add("/record/recorder/both-index", Fixture, NULL, fixture_setup, test_recorder_both_index,
             fixture_teardown);
  g_test_add("/record/repair/sub", Fixture, NULL, fixture_setup, test_repair_sub, fixture_teardown);
  return g_test_run();
}
