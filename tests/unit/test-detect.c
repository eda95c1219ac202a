/* Unit tests of object detection's pre- and post-processing (detect/prepost.c),
 * the class filter, the backend pool (with a test double), and the whole ONNX
 * path (OpenCV DNN) on a tiny generated model whose outputs are planted
 * (tools/model/make-test-model.py; its directory comes in VIGIL_TEST_MODELS). */
#include <gio/gio.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "detect/detect.h"
#include "detect/figures.h"
#include "detect/prepost.h"

#define EPS 1e-4

static VigilDetection det(const char *label, float score, float x, float y, float w, float h)
{
  return (VigilDetection){.class_id = vigil_coco_class(label),
                          .label = label,
                          .score = score,
                          .x = x,
                          .y = y,
                          .w = w,
                          .h = h};
}

static void test_labels(void)
{
  g_assert_cmpstr(vigil_coco_label(0), ==, "person");
  g_assert_cmpstr(vigil_coco_label(16), ==, "dog");
  g_assert_cmpstr(vigil_coco_label(79), ==, "toothbrush");
  g_assert_null(vigil_coco_label(80));
  g_assert_null(vigil_coco_label(-1));
  g_assert_cmpint(vigil_coco_class("cat"), ==, 15);
  g_assert_cmpint(vigil_coco_class("unicorn"), ==, -1);
}

static void test_letterbox(void)
{
  /* 8x4 picture into 4x4: scale 0.5, 4x2 placed at y 1. */
  guint8 rgb[8 * 4 * 3];
  for (int i = 0; i < 8 * 4; i++) {
    rgb[i * 3] = 100;
    rgb[i * 3 + 1] = 50;
    rgb[i * 3 + 2] = 0;
  }
  VigilRgbImage img = {rgb, 8, 4};
  VigilModelSpec spec = {
      .input_width = 4, .input_height = 4, .mean = {10, 20, 30}, .scale = {0.5f, 1, 2}};
  float out[3 * 16];
  VigilLetterbox lb;
  vigil_letterbox(&img, &spec, 4, 4, out, &lb);
  g_assert_cmpfloat_with_epsilon(lb.scale, 0.5, EPS);
  g_assert_cmpint(lb.pad_x, ==, 0);
  g_assert_cmpint(lb.pad_y, ==, 1);
  /* Row 0 and 3 are border: (0 - mean) * scale. */
  g_assert_cmpfloat_with_epsilon(out[0], -5, EPS);
  g_assert_cmpfloat_with_epsilon(out[16 + 3 * 4 + 2], -20, EPS);
  g_assert_cmpfloat_with_epsilon(out[32 + 0], -60, EPS);
  /* Rows 1-2: the picture, normalised per channel. */
  g_assert_cmpfloat_with_epsilon(out[1 * 4 + 1], 45, EPS);
  g_assert_cmpfloat_with_epsilon(out[16 + 2 * 4 + 3], 30, EPS);
  g_assert_cmpfloat_with_epsilon(out[32 + 1 * 4], -60, EPS);

  /* BGR models get the channels swapped. */
  spec.bgr = TRUE;
  vigil_letterbox(&img, &spec, 4, 4, out, &lb);
  g_assert_cmpfloat_with_epsilon(out[1 * 4 + 1], -5, EPS);       /* B=0 -> (0-10)*0.5 */
  g_assert_cmpfloat_with_epsilon(out[32 + 1 * 4 + 1], 140, EPS); /* R=100 -> (100-30)*2 */

  /* Same size: an exact copy, no border. */
  guint8 px[4 * 4 * 3];
  for (int i = 0; i < (int)sizeof(px); i++)
    px[i] = (guint8)(i * 5);
  VigilRgbImage same = {px, 4, 4};
  VigilModelSpec plain = {.input_width = 4, .input_height = 4, .scale = {1, 1, 1}};
  vigil_letterbox(&same, &plain, 4, 4, out, &lb);
  for (int i = 0; i < 16; i++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon(out[c * 16 + i], px[i * 3 + c], EPS);
}

static void test_centernet_decode(void)
{
  /* 2 classes, 4x4 grid, stride 4: a peak 0.9 at (1,1) of class 0 with a
   * neighbour 0.8 (not a peak), a lone 0.5 at (3,3) of class 1, 0.2 below
   * the floor at (3,0). */
  float heat[2 * 16] = {0};
  heat[1 * 4 + 1] = 0.9f;
  heat[1 * 4 + 2] = 0.8f;
  heat[0 * 4 + 3] = 0.2f;
  heat[16 + 3 * 4 + 3] = 0.5f;
  float edges[4 * 16];
  for (int i = 0; i < 16; i++) {
    edges[0 * 16 + i] = 2; /* left */
    edges[1 * 16 + i] = 3; /* top */
    edges[2 * 16 + i] = 4; /* right */
    edges[3 * 16 + i] = 1; /* bottom */
  }
  /* The 16x16 input held a 32x16 picture scaled by 0.5 at y 4. */
  VigilLetterbox lb = {.scale = 0.5, .pad_x = 0, .pad_y = 4, .src_width = 32, .src_height = 16};
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(VigilDetection));
  vigil_centernet_decode(heat, edges, 2, 4, 4, 4, 0.3f, &lb, out);
  g_assert_cmpuint(out->len, ==, 2);
  VigilDetection *a = &g_array_index(out, VigilDetection, 0);
  g_assert_cmpint(a->class_id, ==, 0);
  g_assert_cmpstr(a->label, ==, "person");
  g_assert_cmpfloat_with_epsilon(a->score, 0.9, EPS);
  /* centre (4,4): x 2..8, y 1..5 → /0.5: x 4..16 of 32, y (1-4)→0 .. (5-4)*2=2 of 16 */
  g_assert_cmpfloat_with_epsilon(a->x, 4.0 / 32, EPS);
  g_assert_cmpfloat_with_epsilon(a->w, 12.0 / 32, EPS);
  g_assert_cmpfloat_with_epsilon(a->y, 0, EPS);
  g_assert_cmpfloat_with_epsilon(a->h, 2.0 / 16, EPS);
  VigilDetection *b = &g_array_index(out, VigilDetection, 1);
  g_assert_cmpstr(b->label, ==, "bicycle");
  /* centre (12,12): x 10..16, y 9..13 → x 20..32, y 10..18 clipped to 16 */
  g_assert_cmpfloat_with_epsilon(b->x, 20.0 / 32, EPS);
  g_assert_cmpfloat_with_epsilon(b->w, 12.0 / 32, EPS);
  g_assert_cmpfloat_with_epsilon(b->y, 10.0 / 16, EPS);
  g_assert_cmpfloat_with_epsilon(b->h, 6.0 / 16, EPS);

  /* Equal neighbours: exactly one of them is a peak. */
  float flat[16] = {0};
  flat[5] = flat[6] = 0.7f;
  g_array_set_size(out, 0);
  vigil_centernet_decode(flat, edges, 1, 4, 4, 4, 0.3f, &lb, out);
  g_assert_cmpuint(out->len, ==, 1);
}

static void test_nms(void)
{
  g_autoptr(GArray) d = g_array_new(FALSE, FALSE, sizeof(VigilDetection));
  VigilDetection v[] = {
      det("person", 0.6f, 0.10f, 0.10f, 0.30f, 0.50f), /* overlaps the 0.9 one: dropped */
      det("person", 0.9f, 0.12f, 0.10f, 0.30f, 0.50f),
      det("dog", 0.5f, 0.12f, 0.10f, 0.30f, 0.50f),    /* other class: kept */
      det("person", 0.7f, 0.60f, 0.10f, 0.30f, 0.50f), /* elsewhere: kept */
      det("person", 0.4f, 0.25f, 0.35f, 0.30f, 0.50f), /* small overlap (IoU < 0.5): kept */
  };
  g_array_append_vals(d, v, G_N_ELEMENTS(v));
  g_assert_cmpfloat(vigil_box_iou(&v[0], &v[1]), >, 0.8);
  g_assert_cmpfloat(vigil_box_iou(&v[1], &v[3]), ==, 0);
  vigil_nms(d, 0.5);
  g_assert_cmpuint(d->len, ==, 4);
  g_assert_cmpfloat_with_epsilon(g_array_index(d, VigilDetection, 0).score, 0.9, EPS);
  g_assert_cmpfloat_with_epsilon(g_array_index(d, VigilDetection, 1).score, 0.7, EPS);
  g_assert_cmpstr(g_array_index(d, VigilDetection, 2).label, ==, "dog");
  g_assert_cmpfloat_with_epsilon(g_array_index(d, VigilDetection, 3).score, 0.4, EPS);
}

static void test_filter(void)
{
  g_autoptr(GArray) d = g_array_new(FALSE, FALSE, sizeof(VigilDetection));
  VigilDetection v[] = {det("person", 0.9f, 0, 0, 1, 1), det("car", 0.9f, 0, 0, 1, 1),
                        det("dog", 0.4f, 0, 0, 1, 1), det("cat", 0.5f, 0, 0, 1, 1)};
  g_array_append_vals(d, v, G_N_ELEMENTS(v));
  const char *classes[] = {"person", "dog", "cat", NULL};
  vigil_detections_filter(d, classes, 0.5);
  g_assert_cmpuint(d->len, ==, 2);
  g_assert_cmpstr(g_array_index(d, VigilDetection, 0).label, ==, "person");
  g_assert_cmpstr(g_array_index(d, VigilDetection, 1).label, ==, "cat");
  /* No class list: every class, only the score counts. */
  g_array_set_size(d, 0);
  g_array_append_vals(d, v, G_N_ELEMENTS(v));
  vigil_detections_filter(d, NULL, 0.45);
  g_assert_cmpuint(d->len, ==, 3);
}

/* A 64x32 picture: R=10 G=20 B=30 (normalised 0 by the tiny model), with a
 * red block at x 16..24, y 16..24 and a green one at x 40..48, y 0..8. */
static guint8 *planted_picture(void)
{
  guint8 *rgb = g_malloc(64 * 32 * 3);
  for (int y = 0; y < 32; y++) {
    for (int x = 0; x < 64; x++) {
      guint8 *p = rgb + (y * 64 + x) * 3;
      p[0] = 10;
      p[1] = 20;
      p[2] = 30;
      if (x >= 16 && x < 24 && y >= 16 && y < 24)
        p[0] = 210; /* (210-10)*0.5 = 100 → person score 1.0 */
      if (x >= 40 && x < 48 && y < 8)
        p[1] = 120; /* (120-20)*0.5 = 50 → dog score 0.5 */
    }
  }
  return rgb;
}

/* The planted model at @size (0: its own 32x32), or NULL (the test skipped)
 * outside meson. */
static VigilDetector *open_tiny(int size, const char **dir)
{
  *dir = g_getenv("VIGIL_TEST_MODELS");
  if (!*dir) {
    g_test_skip("VIGIL_TEST_MODELS not set (run through meson test)");
    return NULL;
  }
  g_autoptr(GError) error = NULL;
  VigilDetector *d = vigil_detector_open_sized("tiny", *dir, size, &error);
  g_assert_no_error(error);
  return d;
}

static void test_planted_model(void)
{
  const char *dir;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilDetector) d = open_tiny(0, &dir);
  if (!d)
    return;
  g_assert_cmpstr(vigil_detector_backend(d), ==, "dnn");
  int w, h;
  vigil_detector_input_size(d, &w, &h);
  g_assert_cmpint(w, ==, 32);
  g_assert_cmpint(h, ==, 32);

  g_autofree guint8 *rgb = planted_picture();
  VigilRgbImage img = {rgb, 64, 32};
  g_autoptr(GArray) out = vigil_detector_detect(d, &img, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(out->len, ==, 2);
  /* Person: letterbox scale 0.5, pad y 8; the block lands on input x 8..12,
   * y 16..20 = cell (2,4), centre (8,16); edges 3,5,7,5 → input box
   * x 5..15, y 11..21 → picture x 10..30 of 64, y 6..26 of 32. */
  VigilDetection *p = &g_array_index(out, VigilDetection, 0);
  g_assert_cmpstr(p->label, ==, "person");
  g_assert_cmpfloat_with_epsilon(p->score, 1.0, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->x, 10.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->y, 6.0 / 32, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->w, 20.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->h, 20.0 / 32, 1e-3);
  /* Dog: input x 20..24, y 8..12 = cell (5,2), centre (20,8) → input box
   * x 17..27, y 3..13 → picture x 34..54, y 0 (clipped) .. 10. */
  VigilDetection *g = &g_array_index(out, VigilDetection, 1);
  g_assert_cmpstr(g->label, ==, "dog");
  g_assert_cmpfloat_with_epsilon(g->score, 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->x, 34.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->y, 0, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->w, 20.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->h, 10.0 / 32, 1e-3);

  /* The camera's filter: persons at 0.6 and above. */
  const char *classes[] = {"person", NULL};
  vigil_detections_filter(out, classes, 0.6);
  g_assert_cmpuint(out->len, ==, 1);

  /* A plain picture: nothing. */
  memset(rgb, 0, 64 * 32 * 3);
  g_autoptr(GArray) none = vigil_detector_detect(d, &img, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(none->len, ==, 0);
}

/* The same model run at 64x64 instead of its native 32x32: a finer output
 * grid, the picture letterboxed into the larger input, and again boxes that
 * are known exactly. (The input is fitted to the 2:1 picture, fit=32 by
 * default: 64x32, no padding; the block-mean model is translation
 * equivariant, so the boxes in the picture are those worked out below for
 * the 64x64 square with its 16-pixel pad.) */
static void test_planted_model_sized(void)
{
  const char *dir;
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilDetector) d = open_tiny(64, &dir);
  if (!d)
    return;
  int w, h;
  vigil_detector_input_size(d, &w, &h);
  g_assert_cmpint(w, ==, 64);
  g_assert_cmpint(h, ==, 64);

  g_autofree guint8 *rgb = planted_picture();
  VigilRgbImage img = {rgb, 64, 32};
  g_autoptr(GArray) out = vigil_detector_detect(d, &img, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(out->len, ==, 2);
  /* Person: letterbox scale 1, pad y 16; the block lands on input x 16..24,
   * y 32..40 = cells (4..5, 8..9), the first of the tied peaks (4,8), centre
   * (16,32); edges 3,5,7,5 → input box x 13..23, y 27..37 → picture x 13..23
   * of 64, y 11..21 of 32. At 32x32 it was x 10..30, y 6..26: the edges are
   * input pixels, the input now has twice the resolution. */
  VigilDetection *p = &g_array_index(out, VigilDetection, 0);
  g_assert_cmpstr(p->label, ==, "person");
  g_assert_cmpfloat_with_epsilon(p->score, 1.0, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->x, 13.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->y, 11.0 / 32, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->w, 10.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(p->h, 10.0 / 32, 1e-3);
  /* Dog: input x 40..48, y 16..24 = cells (10..11, 4..5), centre (40,16) →
   * input box x 37..47, y 11..21 → picture x 37..47, y 0 (clipped) .. 5. */
  VigilDetection *g = &g_array_index(out, VigilDetection, 1);
  g_assert_cmpstr(g->label, ==, "dog");
  g_assert_cmpfloat_with_epsilon(g->score, 0.5, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->x, 37.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->y, 0, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->w, 10.0 / 64, 1e-3);
  g_assert_cmpfloat_with_epsilon(g->h, 5.0 / 32, 1e-3);

  /* A size the stride does not divide: refused when opening. */
  g_autoptr(VigilDetector) odd = vigil_detector_open_sized("tiny", dir, 30, &error);
  g_assert_null(odd);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_assert_nonnull(strstr(error->message, "multiple of the model's stride (4)"));
}

/* The .ini's size is the native one; an override replaces both sides. */
static void test_spec_input_size(void)
{
  static const char ini[] = "[model]\ndecoder=centernet\ninput_width=512\ninput_height=384\n"
                            "stride=4\nheatmap=heatmap\nboxes=wh\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilModelSpec) spec = vigil_model_spec_parse(ini, -1, "x.onnx.ini", &error);
  g_assert_no_error(error);
  g_assert_cmpint(spec->input_width, ==, 512);
  g_assert_cmpint(spec->input_height, ==, 384);
  g_assert_true(vigil_model_spec_set_input_size(spec, 320, &error));
  g_assert_no_error(error);
  g_assert_cmpint(spec->input_width, ==, 320);
  g_assert_cmpint(spec->input_height, ==, 320);
  static const int bad[] = {322, 4, 0, -320, 8192};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(vigil_model_spec_set_input_size(spec, bad[i], &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_cmpint(spec->input_width, ==, 320);
    g_assert_cmpint(spec->input_height, ==, 320);
  }
}

/* The input fitted to the picture (fit=32 by default): 16:9 at 384 runs at
 * 384x224, 4:3 at 384x288, portrait the other way, a square as the square;
 * rounded up to multiples of 32, never beyond the spec's size; fit=0 keeps
 * the whole input; a fit the stride does not divide is refused. */
static void test_input_fitted(void)
{
  static const char ini[] = "[model]\ndecoder=centernet\ninput_width=512\ninput_height=512\n"
                            "stride=4\nheatmap=heatmap\nboxes=wh\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilModelSpec) spec = vigil_model_spec_parse(ini, -1, "x.onnx.ini", &error);
  g_assert_no_error(error);
  g_assert_cmpint(spec->fit, ==, 32);
  g_assert_true(vigil_model_spec_set_input_size(spec, 384, &error));
  static const struct {
    int w, h, iw, ih;
  } cases[] = {{640, 360, 384, 224}, {1920, 1080, 384, 224}, {640, 480, 384, 288},
               {360, 640, 224, 384}, {500, 500, 384, 384},   {384, 10, 384, 32},
               {100, 50, 384, 192}};
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    int iw, ih;
    vigil_model_input_for(spec, cases[i].w, cases[i].h, &iw, &ih);
    g_assert_cmpint(iw, ==, cases[i].iw);
    g_assert_cmpint(ih, ==, cases[i].ih);
  }
  spec->fit = 0;
  int iw, ih;
  vigil_model_input_for(spec, 640, 360, &iw, &ih);
  g_assert_cmpint(iw, ==, 384);
  g_assert_cmpint(ih, ==, 384);
  static const char odd[] = "[model]\ndecoder=centernet\ninput_width=512\ninput_height=512\n"
                            "stride=4\nfit=30\nheatmap=heatmap\nboxes=wh\n";
  g_autoptr(VigilModelSpec) bad = vigil_model_spec_parse(odd, -1, "x.onnx.ini", &error);
  g_assert_null(bad);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
}

/* The scheduling figures on a made-up clock: totals since start, the last
 * minute's rate, means and 95th percentile. */
static void test_figures(void)
{
  const gint64 S = G_USEC_PER_SEC, MS = 1000;
  const gint64 t0 = 1000 * S;
  g_autoptr(VigilDetectFigures) f = vigil_detect_figures_new(t0);
  VigilDetectSummary sum;
  vigil_detect_figures_summary(f, t0 + 10 * S, &sum);
  g_assert_cmpuint(sum.inferences, ==, 0);
  g_assert_cmpuint(sum.window_inferences, ==, 0);
  g_assert_cmpfloat(sum.per_second, ==, 0);
  g_assert_cmpfloat(sum.wait_ms_p95, ==, 0);

  /* 20 s in: 20 inferences, waits 1..20 ms, each 60 ms long. */
  for (int i = 1; i <= 20; i++)
    vigil_detect_figures_record(f, t0 + i * S, i * MS, 60 * MS);
  vigil_detect_figures_summary(f, t0 + 20 * S, &sum);
  g_assert_cmpuint(sum.inferences, ==, 20);
  g_assert_cmpuint(sum.window_inferences, ==, 20);
  /* Less than a minute since start: the rate over the 20 s there were. */
  g_assert_cmpfloat_with_epsilon(sum.per_second, 1.0, EPS);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_mean, 10.5, EPS);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_p95, 19, EPS); /* rank ceil(0.95 * 20) = 19 */
  g_assert_cmpfloat_with_epsilon(sum.inference_ms_mean, 60, EPS);
  g_assert_cmpfloat_with_epsilon(sum.wait_s_total, 0.210, EPS);
  g_assert_cmpfloat_with_epsilon(sum.inference_s_total, 1.2, EPS);

  /* 70 s in: the first 10 fell out of the window, the totals keep them. */
  vigil_detect_figures_summary(f, t0 + 70 * S, &sum);
  g_assert_cmpuint(sum.inferences, ==, 20);
  g_assert_cmpuint(sum.window_inferences, ==, 10);
  g_assert_cmpfloat_with_epsilon(sum.per_second, 10.0 / 60, EPS);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_mean, 15.5, EPS);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_p95, 20, EPS);

  /* A single slow one among many quick ones shows in the 95th percentile
   * only when more than 5 % are slow. */
  g_autoptr(VigilDetectFigures) g = vigil_detect_figures_new(t0);
  for (int i = 0; i < 100; i++)
    vigil_detect_figures_record(g, t0 + 61 * S + i * MS, i < 96 ? 2 * MS : 900 * MS, 50 * MS);
  vigil_detect_figures_summary(g, t0 + 62 * S, &sum);
  g_assert_cmpuint(sum.window_inferences, ==, 100);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_p95, 2, EPS);
  g_assert_cmpfloat_with_epsilon(sum.per_second, 100.0 / 60, EPS);
  vigil_detect_figures_record(g, t0 + 62 * S, 900 * MS, 50 * MS);
  vigil_detect_figures_record(g, t0 + 62 * S, 900 * MS, 50 * MS);
  vigil_detect_figures_summary(g, t0 + 62 * S, &sum);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_p95, 900, EPS);

  /* The window holds the newest VIGIL_DETECT_WINDOW_SAMPLES. */
  for (int i = 0; i < VIGIL_DETECT_WINDOW_SAMPLES + 10; i++)
    vigil_detect_figures_record(g, t0 + 63 * S, 1 * MS, 50 * MS);
  vigil_detect_figures_summary(g, t0 + 63 * S, &sum);
  g_assert_cmpuint(sum.window_inferences, ==, VIGIL_DETECT_WINDOW_SAMPLES);
  g_assert_cmpuint(sum.inferences, ==, 102 + VIGIL_DETECT_WINDOW_SAMPLES + 10);
  g_assert_cmpfloat_with_epsilon(sum.wait_ms_p95, 1, EPS);
}

static void test_missing_model(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilDetector) d = vigil_detector_open("no-such-model", "/nonexistent", &error);
  g_assert_null(d);
  g_assert_nonnull(error);
  g_assert_nonnull(strstr(error->message, "no-such-model.onnx"));
}

/* The daemon has no test detector: "fake" is just a missing ONNX model. */
static void test_no_fake_in_daemon(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilDetector) d = vigil_detector_open("fake", "/nonexistent", &error);
  g_assert_null(d);
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND);
  g_assert_nonnull(strstr(error->message, "fake.onnx"));
}

/* A test double behind the vtable: one "person" box per picture, and a count
 * of the instances open at once, to check the pool of VigilDetector. */
static gint double_open_now, double_open_max, double_opened;

static gpointer double_open(const char *path, int input_size, GError **error)
{
  g_assert_cmpstr(path, ==, "double.model");
  g_assert_cmpint(input_size, ==, 96); /* every instance, not just the first */
  g_atomic_int_inc(&double_opened);
  gint now = g_atomic_int_add(&double_open_now, 1) + 1;
  gint max;
  while (now > (max = g_atomic_int_get(&double_open_max)) &&
         !g_atomic_int_compare_and_exchange(&double_open_max, max, now))
    ;
  return g_new0(int, 1);
}

static void double_close(gpointer inst)
{
  g_atomic_int_add(&double_open_now, -1);
  g_free(inst);
}

static void double_input_size(gpointer inst, int *w, int *h)
{
  *w = 320;
  *h = 240;
}

static gboolean double_detect(gpointer inst, const VigilRgbImage *img, GArray *out, GError **error)
{
  int *busy = inst;
  g_assert_cmpint(++*busy, ==, 1); /* never two callers on one instance */
  g_usleep(2000);
  VigilDetection d = {.class_id = 0,
                      .label = "person",
                      .score = img->rgb[0] / 255.0f,
                      .x = 0.25f,
                      .y = 0.25f,
                      .w = 0.5f,
                      .h = 0.5f};
  g_array_append_val(out, d);
  --*busy;
  return TRUE;
}

static const VigilDetectorBackend double_backend = {
    .name = "double",
    .open = double_open,
    .input_size = double_input_size,
    .detect = double_detect,
    .close = double_close,
};

static gpointer detect_thread(gpointer data)
{
  guint8 rgb[4 * 4 * 3];
  memset(rgb, 51, sizeof rgb);
  VigilRgbImage img = {rgb, 4, 4};
  for (int i = 0; i < 20; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GArray) out = vigil_detector_detect(data, &img, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(out->len, ==, 1);
    g_assert_cmpfloat_with_epsilon(g_array_index(out, VigilDetection, 0).score, 0.2, EPS);
  }
  return NULL;
}

static void test_backend_pool(void)
{
  g_autoptr(GError) error = NULL;
  VigilDetector *d = vigil_detector_open_backend(&double_backend, "double.model", 96, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(vigil_detector_backend(d), ==, "double");
  int w, h;
  vigil_detector_input_size(d, &w, &h);
  g_assert_cmpint(w, ==, 320);
  g_assert_cmpint(h, ==, 240);
  GThread *threads[6];
  for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
    threads[i] = g_thread_new("detect", detect_thread, d);
  for (guint i = 0; i < G_N_ELEMENTS(threads); i++)
    g_thread_join(threads[i]);
  g_assert_cmpint(double_open_max, <=, MAX(1, (gint)g_get_num_processors()));
  g_assert_cmpint(double_opened, ==, double_open_now);
  vigil_detector_unref(d);
  g_assert_cmpint(double_open_now, ==, 0);
}

static void test_hog_blank(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilDetector) d = vigil_detector_open("hog", NULL, &error);
  g_assert_no_error(error);
  g_autofree guint8 *rgb = g_malloc0(320 * 240 * 3);
  VigilRgbImage img = {rgb, 320, 240};
  g_autoptr(GArray) out = vigil_detector_detect(d, &img, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(out->len, ==, 0);
}

/* Real pedestrians: a frame of OpenCV's vtest.avi (Debian's opencv-doc), the
 * part with three walkers scaled 2x so they are the ~150 px the 64x128 window
 * wants. Each of them is found, and nothing else. */
#define VTEST "/usr/share/doc/opencv-doc/examples/data/vtest.avi"

static void test_hog_pedestrians(void)
{
  if (!g_file_test(VTEST, G_FILE_TEST_EXISTS)) {
    /* CI installs opencv-doc (scripts/deps.sh): there a missing file fails. */
    if (g_getenv("VIGIL_CI"))
      g_test_fail_printf(VTEST " missing (Debian package opencv-doc)");
    else
      g_test_skip(VTEST " missing (Debian package opencv-doc)");
    return;
  }
  const int W = 768, H = 576;
  const char *argv[] = {"ffmpeg",
                        "-v",
                        "error",
                        "-ss",
                        "1",
                        "-i",
                        VTEST,
                        "-frames:v",
                        "1",
                        "-vf",
                        "crop=384:288:256:130,scale=768:576",
                        "-f",
                        "rawvideo",
                        "-pix_fmt",
                        "rgb24",
                        "-",
                        NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) ffmpeg = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error(error);
  g_autoptr(GBytes) frame = NULL;
  g_subprocess_communicate(ffmpeg, NULL, NULL, &frame, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(g_subprocess_get_successful(ffmpeg));
  g_assert_cmpuint(g_bytes_get_size(frame), ==, (gsize)W * H * 3);
  g_autoptr(VigilDetector) d = vigil_detector_open("hog", NULL, &error);
  g_assert_no_error(error);
  VigilRgbImage img = {g_bytes_get_data(frame, NULL), W, H};
  g_autoptr(GArray) found = vigil_detector_detect(d, &img, &error);
  g_assert_no_error(error);
  vigil_detections_filter(found, NULL, 0.3);
  /* Where the three walkers stand (fractions of the picture). */
  const double people[][2] = {{0.21, 0.40}, {0.60, 0.26}, {0.81, 0.52}};
  gboolean seen[G_N_ELEMENTS(people)] = {FALSE};
  for (guint i = 0; i < found->len; i++) {
    VigilDetection *p = &g_array_index(found, VigilDetection, i);
    g_test_message("hog: %.2f at %.2f,%.2f %.2fx%.2f", p->score, p->x, p->y, p->w, p->h);
    g_assert_cmpstr(p->label, ==, "person");
    gboolean on_someone = FALSE;
    for (guint k = 0; k < G_N_ELEMENTS(people); k++) {
      if (people[k][0] > p->x && people[k][0] < p->x + p->w && people[k][1] > p->y &&
          people[k][1] < p->y + p->h) {
        seen[k] = on_someone = TRUE;
      }
    }
    g_assert_true(on_someone);
  }
  for (guint k = 0; k < G_N_ELEMENTS(people); k++)
    g_assert_true(seen[k]);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/detect/labels", test_labels);
  g_test_add_func("/detect/letterbox", test_letterbox);
  g_test_add_func("/detect/centernet-decode", test_centernet_decode);
  g_test_add_func("/detect/nms", test_nms);
  g_test_add_func("/detect/filter", test_filter);
  g_test_add_func("/detect/planted-model", test_planted_model);
  g_test_add_func("/detect/planted-model-sized", test_planted_model_sized);
  g_test_add_func("/detect/input-fitted", test_input_fitted);
  g_test_add_func("/detect/spec-input-size", test_spec_input_size);
  g_test_add_func("/detect/figures", test_figures);
  g_test_add_func("/detect/missing-model", test_missing_model);
  g_test_add_func("/detect/no-fake-in-daemon", test_no_fake_in_daemon);
  g_test_add_func("/detect/backend-pool", test_backend_pool);
  g_test_add_func("/detect/hog-blank", test_hog_blank);
  g_test_add_func("/detect/hog-pedestrians", test_hog_pedestrians);
  return g_test_run();
}
