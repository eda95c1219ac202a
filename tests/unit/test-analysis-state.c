/* Unit tests of the analysis event logic (analysis/state.c): motion start and
 * end debounce, zones, barcode de-duplication, alarm raise and clear. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "analysis/state.h"

#define S ((int64_t)1000000)

typedef struct {
  GString *log;
} Fixture;

static void record(const VigilAction *a, void *user_data)
{
  GString *log = user_data;
  switch (a->kind) {
  case VIGIL_ACTION_MOTION_START:
    g_string_append_printf(log, "start%d@%d ", a->region, (int)(a->time_us / S));
    break;
  case VIGIL_ACTION_MOTION_ON:
    g_string_append_printf(log, "on%d ", a->region);
    break;
  case VIGIL_ACTION_MOTION_END:
    g_string_append_printf(log, "end%d@%d(%.1f) ", a->region, (int)(a->time_us / S), a->score);
    break;
  case VIGIL_ACTION_BARCODE:
    g_string_append_printf(log, "code:%s:%s ", a->format, a->text);
    break;
  case VIGIL_ACTION_ALARM_RAISE:
    g_string_append_printf(log, "raise:%s@%d ", a->label, (int)(a->time_us / S));
    break;
  case VIGIL_ACTION_ALARM_CLEAR:
    g_string_append_printf(log, "clear:%s@%d ", a->label, (int)(a->time_us / S));
    break;
  }
}

static void frame(VigilAnalysisState *st, int t, double level)
{
  double levels[1] = {level};
  double thresholds[1] = {0.08};
  VigilObservation obs = {.time_us = t * S,
                          .has_levels = TRUE,
                          .levels = levels,
                          .thresholds = thresholds,
                          .mean_luma = 0.5};
  vigil_analysis_state_keyframe(st, &obs);
}

static void test_motion_debounce(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  frame(st, 1, 0.01);
  frame(st, 2, 0.5);  /* start */
  frame(st, 3, 0.9);  /* continues, peak 0.9 */
  frame(st, 4, 0.01); /* quiet 1 */
  frame(st, 5, 0.3);  /* back: same event */
  frame(st, 6, 0.0);
  frame(st, 7, 0.0);
  frame(st, 8, 0.0); /* third quiet keyframe: end */
  frame(st, 9, 0.0);
  g_assert_cmpstr(log->str, ==, "start0@2 on0 on0 end0@8(0.9) ");
  g_string_truncate(log, 0);
  /* A level exactly at the threshold is not motion. */
  frame(st, 10, 0.08);
  g_assert_cmpstr(log->str, ==, "");
  frame(st, 11, 0.2);
  /* The camera dropping ends motion at once. */
  vigil_analysis_state_online(st, false, 12 * S, 12 * S);
  g_assert_cmpstr(log->str, ==, "start0@11 end0@12(0.2) ");
  g_string_truncate(log, 0);
  /* Motion detection switched off ends it too; switched on again, motion
   * still there is a new event. */
  vigil_analysis_state_online(st, true, 13 * S, 13 * S);
  frame(st, 13, 0.4);
  vigil_analysis_state_end_motion(st, 14 * S);
  frame(st, 20, 0.4);
  g_assert_cmpstr(log->str, ==, "start0@13 end0@14(0.4) start0@20 ");
  vigil_analysis_state_free(st);
}

static void test_zones(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  double thresholds[3] = {0.08, 0.5, 0.05};
  double levels[3] = {0.9, 0.3, 0.06};
  VigilObservation obs = {.time_us = S,
                          .has_levels = TRUE,
                          .levels = levels,
                          .n_zones = 2,
                          .thresholds = thresholds,
                          .mean_luma = 0.5};
  vigil_analysis_state_keyframe(st, &obs);
  /* With zones only zones count; zone 0 (region 1) is under its own 0.5. */
  g_assert_cmpstr(log->str, ==, "start2@1 ");
  g_string_truncate(log, 0);
  /* Zones edited (now none): the open zone event ends, the frame counts. */
  obs.n_zones = 0;
  obs.time_us = 2 * S;
  vigil_analysis_state_keyframe(st, &obs);
  g_assert_cmpstr(log->str, ==, "end2@2(0.1) start0@2 ");
  vigil_analysis_state_free(st);
}

static void codes(VigilAnalysisState *st, int t, const char *const *texts)
{
  VigilCode c[8];
  int n = 0;
  for (; texts && texts[n]; n++)
    c[n] = (VigilCode){"QR-Code", texts[n]};
  VigilObservation obs = {.time_us = t * S,
                          .has_levels = FALSE,
                          .mean_luma = 0.5,
                          .barcodes = TRUE,
                          .codes = c,
                          .n_codes = n};
  vigil_analysis_state_keyframe(st, &obs);
}

static void test_barcodes(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  const char *a[] = {"A", NULL}, *ab[] = {"A", "B", NULL};
  codes(st, 1, a);
  codes(st, 2, a);
  codes(st, 3, ab);
  codes(st, 4, NULL); /* a missed scan or two does not make it new */
  codes(st, 5, NULL);
  codes(st, 6, ab);
  g_assert_cmpstr(log->str, ==, "code:QR-Code:A code:QR-Code:B ");
  g_string_truncate(log, 0);
  for (int t = 7; t < 12; t++)
    codes(st, t, NULL); /* out of view long enough: forgotten */
  codes(st, 12, a);
  g_assert_cmpstr(log->str, ==, "code:QR-Code:A ");
  vigil_analysis_state_free(st);
}

/* Two streams (docs/streams.md): the sub stream's frames feed motion and
 * alarms and skip the codes; the main stream's frames, read only for codes
 * now and then, touch nothing else. */
static void test_codes_from_other_stream(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  VigilCode a = {"QR-Code", "A"};
  double levels[1] = {0.5}, thresholds[1] = {0.08};
  for (int t = 1; t <= 20; t++) {
    /* Sub stream: every second, moving, very dark, codes not scanned. */
    VigilObservation sub = {.time_us = t * S,
                            .has_levels = TRUE,
                            .levels = levels,
                            .thresholds = thresholds,
                            .mean_luma = 0.01,
                            .barcodes = TRUE,
                            .codes_skipped = TRUE};
    vigil_analysis_state_keyframe(st, &sub);
    if (t % 4 == 0) {
      /* Main stream: every 4 s, bright, no levels: only its code counts. */
      VigilObservation main_obs = {.time_us = t * S,
                                   .mean_luma = 0.9,
                                   .barcodes = TRUE,
                                   .codes = &a,
                                   .n_codes = 1,
                                   .codes_only = TRUE};
      vigil_analysis_state_keyframe(st, &main_obs);
    }
  }
  /* One code event however many skipped frames came between the scans; the
   * dark alarm stands (the bright main frames did not clear it); motion went
   * on (the code-only frames have no levels and did not end it). */
  g_auto(GStrv) words = g_strsplit(log->str, "on0 ", -1);
  g_autofree gchar *without_on = g_strjoinv("", words);
  g_assert_cmpstr(without_on, ==, "start0@1 raise:camera-dark@2 code:QR-Code:A ");
  g_assert_true(vigil_analysis_state_alarm_active(st, "camera-dark"));
  vigil_analysis_state_free(st);
}

/* A keyframe whose wall clock reads @wall seconds and monotonic clock @mono. */
static void luma_at(VigilAnalysisState *st, int64_t wall, int64_t mono, double mean, bool identical)
{
  double levels[1] = {0.0}, thresholds[1] = {0.08};
  VigilObservation obs = {.time_us = wall * S,
                          .mono_us = mono * S,
                          .has_levels = TRUE,
                          .levels = levels,
                          .thresholds = thresholds,
                          .mean_luma = mean,
                          .identical = identical};
  vigil_analysis_state_keyframe(st, &obs);
}

static void luma(VigilAnalysisState *st, int t, double mean, bool identical)
{
  luma_at(st, t, t, mean, identical);
}

static void test_dark(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  luma(st, 1, 0.05, false);
  g_assert_cmpstr(log->str, ==, ""); /* one dark frame is not enough */
  luma(st, 2, 0.05, false);
  luma(st, 3, 0.05, false);
  luma(st, 4, 0.5, false);
  luma(st, 5, 0.05, false);
  luma(st, 6, 0.5, false);
  luma(st, 7, 0.5, false);
  luma(st, 8, 0.5, false);
  g_assert_cmpstr(log->str, ==, "raise:camera-dark@2 clear:camera-dark@7 ");
  g_assert_false(vigil_analysis_state_alarm_active(st, "camera-dark"));
  vigil_analysis_state_free(st);
}

static void test_frozen(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  vigil_analysis_state_set_timeouts(st, 10 * S, 30 * S);
  for (int t = 1; t <= 10; t++)
    luma(st, t, 0.5, true);
  g_assert_cmpstr(log->str, ==, "");
  luma(st, 11, 0.5, true);
  luma(st, 12, 0.5, true);
  g_assert_cmpstr(log->str, ==, "raise:frozen-image@11 ");
  luma(st, 13, 0.5, false);
  g_assert_cmpstr(log->str, ==, "raise:frozen-image@11 clear:frozen-image@13 ");
  vigil_analysis_state_free(st);
}

static void test_offline(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  vigil_analysis_state_tick(st, 100 * S, 100 * S); /* never connected yet: nothing */
  vigil_analysis_state_online(st, true, 100 * S, 100 * S);
  vigil_analysis_state_online(st, false, 110 * S, 110 * S);
  vigil_analysis_state_tick(st, 130 * S, 130 * S);
  vigil_analysis_state_online(st, false, 135 * S,
                              135 * S); /* a failed retry: clock keeps running */
  g_assert_cmpstr(log->str, ==, "");
  vigil_analysis_state_tick(st, 140 * S, 140 * S);
  vigil_analysis_state_tick(st, 141 * S, 141 * S);
  g_assert_cmpstr(log->str, ==, "raise:camera-offline@140 ");
  vigil_analysis_state_online(st, true, 150 * S, 150 * S);
  g_assert_cmpstr(log->str, ==, "raise:camera-offline@140 clear:camera-offline@150 ");
  /* Short outages raise nothing. */
  g_string_truncate(log, 0);
  vigil_analysis_state_online(st, false, 200 * S, 200 * S);
  vigil_analysis_state_tick(st, 220 * S, 220 * S);
  vigil_analysis_state_online(st, true, 221 * S, 221 * S);
  vigil_analysis_state_tick(st, 260 * S, 260 * S);
  g_assert_cmpstr(log->str, ==, "");
  /* A camera that never connects gets the alarm too. */
  VigilAnalysisState *never = vigil_analysis_state_new(record, log);
  vigil_analysis_state_online(never, false, 0, 0);
  vigil_analysis_state_tick(never, 31 * S, 31 * S);
  g_assert_cmpstr(log->str, ==, "raise:camera-offline@31 ");
  /* finish clears what is raised. */
  vigil_analysis_state_finish(never, 40 * S);
  g_assert_cmpstr(log->str, ==, "raise:camera-offline@31 clear:camera-offline@40 ");
  vigil_analysis_state_free(never);
  vigil_analysis_state_free(st);
}

/* Steps of the wall clock (NTP, date -s) change the times reported, not how
 * long an alarm waits: that is measured on the monotonic clock. */
static void test_alarms_across_wall_clock_steps(void)
{
  g_autoptr(GString) log = g_string_new("");
  VigilAnalysisState *st = vigil_analysis_state_new(record, log);
  vigil_analysis_state_set_timeouts(st, 10 * S, 30 * S);
  /* Frozen from mono 1; the wall clock steps back an hour at mono 5. */
  for (int m = 1; m <= 4; m++)
    luma_at(st, 10000 + m, m, 0.5, true);
  for (int m = 5; m <= 10; m++)
    luma_at(st, 10000 - 3600 + m, m, 0.5, true);
  g_assert_cmpstr(log->str, ==, "");
  luma_at(st, 10000 - 3600 + 11, 11, 0.5, true); /* 10 s frozen: not an hour later */
  g_assert_cmpstr(log->str, ==, "raise:frozen-image@6411 ");
  luma_at(st, 6412, 12, 0.5, false);
  g_string_truncate(log, 0);
  /* Frozen again; a step forward of a day raises nothing early. */
  luma_at(st, 6413, 13, 0.5, true);
  luma_at(st, 6414 + 86400, 14, 0.5, true);
  luma_at(st, 6415 + 86400, 15, 0.5, true);
  g_assert_cmpstr(log->str, ==, "");
  luma_at(st, 6424 + 86400, 24, 0.5, false);
  /* Offline: a step back does not delay the alarm, a step forward does not
   * raise it at once. */
  vigil_analysis_state_online(st, true, 100000 * S, 100 * S);
  vigil_analysis_state_online(st, false, 100010 * S, 110 * S);
  vigil_analysis_state_tick(st, (100011 + 86400) * S, 111 * S);
  g_assert_cmpstr(log->str, ==, "");
  vigil_analysis_state_tick(st, (100039 - 7200) * S, 139 * S);
  g_assert_cmpstr(log->str, ==, "");
  vigil_analysis_state_tick(st, (100040 - 7200) * S, 140 * S);
  g_assert_cmpstr(log->str, ==, "raise:camera-offline@92840 ");
  vigil_analysis_state_free(st);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/analysis-state/motion-debounce", test_motion_debounce);
  g_test_add_func("/analysis-state/zones", test_zones);
  g_test_add_func("/analysis-state/barcodes", test_barcodes);
  g_test_add_func("/analysis-state/codes-from-other-stream", test_codes_from_other_stream);
  g_test_add_func("/analysis-state/dark", test_dark);
  g_test_add_func("/analysis-state/frozen", test_frozen);
  g_test_add_func("/analysis-state/offline", test_offline);
  g_test_add_func("/analysis-state/alarms-across-wall-clock-steps",
                  test_alarms_across_wall_clock_steps);
  return g_test_run();
}
