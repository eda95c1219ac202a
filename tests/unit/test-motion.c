/* Unit tests of the motion level (analysis/motion.c) on synthetic frames at
 * the analysis size: what must stay under the default threshold 0.08 (sensor
 * noise, lighting changes, tiny objects) and what must go over it (a person
 * walking through, also in poor light). The levels are printed (g_test_message)
 * as the calibration table in docs/analysis.md. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/motion.h"

#define W         640
#define H         360
#define THRESHOLD 0.08

/* Deterministic noise: xorshift, approximately Gaussian by summing 4 uniforms. */
static guint32 rng_state;
static guint32 rng(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}
static double gauss(void)
{
  double s = 0;
  for (int i = 0; i < 4; i++)
    s += (rng() & 0xffff) / 65535.0;
  return (s - 2.0) * sqrt(3.0); /* variance 1 */
}

static guint8 clamp8(double v)
{
  return v < 0 ? 0 : v > 255 ? 255 : (guint8)lround(v);
}

/* A textured scene: gradients and a few edges, like a room. */
static void scene(guint8 *f, double brightness, double noise_sigma)
{
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double v = 60 + 0.15 * x + 0.1 * y + ((x / 40 + y / 30) % 2 ? 25 : 0);
      f[y * W + x] = clamp8(v * brightness + (noise_sigma > 0 ? noise_sigma * gauss() : 0));
    }
}

static void block(guint8 *f, int x0, int y0, int w, int h, int luma)
{
  for (int y = MAX(y0, 0); y < MIN(y0 + h, H); y++)
    for (int x = MAX(x0, 0); x < MIN(x0 + w, W); x++)
      f[y * W + x] = (guint8)luma;
}

/* Something @contrast levels brighter than what is behind it (darker when
 * negative). */
static void person(guint8 *f, int x0, int y0, int w, int h, int contrast)
{
  for (int y = MAX(y0, 0); y < MIN(y0 + h, H); y++)
    for (int x = MAX(x0, 0); x < MIN(x0 + w, W); x++)
      f[y * W + x] = clamp8(f[y * W + x] + contrast);
}

static double level2(const guint8 *a, const guint8 *b)
{
  guint8 *scratch = g_malloc(W * H);
  double levels[1];
  vigil_motion_levels(a, b, W, H, NULL, 0, scratch, levels);
  g_free(scratch);
  return levels[0];
}

static void test_noise(void)
{
  double sigmas[] = {2.0, 4.0, 8.0};
  for (guint i = 0; i < G_N_ELEMENTS(sigmas); i++) {
    g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
    rng_state = 12345;
    scene(a, 1.0, sigmas[i]);
    scene(b, 1.0, sigmas[i]);
    double l = level2(a, b);
    g_test_message("sensor noise sigma %.0f: level %.4f", sigmas[i], l);
    g_assert_cmpfloat(l, <, THRESHOLD);
  }
}

static void test_lighting(void)
{
  /* A cloud, a light switched on in the next room, auto exposure: the whole
   * frame gets brighter or darker at once, plus sensor noise. */
  double factors[] = {1.05, 1.2, 0.7, 1.5};
  for (guint i = 0; i < G_N_ELEMENTS(factors); i++) {
    g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
    rng_state = 777;
    scene(a, 1.0, 3.0);
    scene(b, factors[i], 3.0);
    double l = level2(a, b);
    g_test_message("uniform brightness x%.2f: level %.4f", factors[i], l);
    g_assert_cmpfloat(l, <, THRESHOLD);
  }
  /* An offset too (+25 luma everywhere). */
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  rng_state = 99;
  scene(a, 1.0, 3.0);
  for (int i = 0; i < W * H; i++)
    b[i] = clamp8(a[i] + 25 + 3.0 * gauss());
  double l = level2(a, b);
  g_test_message("uniform brightness +25: level %.4f", l);
  g_assert_cmpfloat(l, <, THRESHOLD);
}

/* A person 60x160 px (4 % of a 640x360 frame) who moved 80 px between two
 * keyframes, at several contrasts against the background. */
static void test_person(void)
{
  int contrasts[] = {100, 60, 30, -30};
  for (guint i = 0; i < G_N_ELEMENTS(contrasts); i++) {
    g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
    rng_state = 4242;
    scene(a, 1.0, 3.0);
    scene(b, 1.0, 3.0);
    person(a, 200, 150, 60, 160, contrasts[i]);
    person(b, 280, 150, 60, 160, contrasts[i]);
    double l = level2(a, b);
    g_test_message("person 60x160 moving 80 px, contrast %d: level %.4f", contrasts[i], l);
    g_assert_cmpfloat(l, >, THRESHOLD);
  }
  /* A person far away: 20x50 px. */
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  rng_state = 4243;
  scene(a, 1.0, 3.0);
  scene(b, 1.0, 3.0);
  person(a, 400, 100, 20, 50, 80);
  person(b, 430, 100, 20, 50, 80);
  double l = level2(a, b);
  g_test_message("distant person 20x50 moving 30 px, contrast 80: level %.4f", l);
  g_assert_cmpfloat(l, >, THRESHOLD);
}

static void test_tiny(void)
{
  /* A moth or a leaf: 8x8 px, high contrast, moved well away. */
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  rng_state = 5;
  scene(a, 1.0, 3.0);
  scene(b, 1.0, 3.0);
  person(a, 100, 100, 8, 8, 100);
  person(b, 140, 110, 8, 8, 100);
  double l = level2(a, b);
  g_test_message("tiny object 8x8 moving, contrast 100: level %.4f", l);
  g_assert_cmpfloat(l, <, THRESHOLD);
  g_assert_cmpfloat(l, >, 0.0);

  /* Isolated single pixels changing (hot pixels, compression sparkle) are
   * removed by the erosion entirely. */
  memcpy(b, a, W * H);
  for (int i = 0; i < 500; i++)
    b[(rng() % H) * W + rng() % W] ^= 0x80;
  l = level2(a, b);
  g_test_message("500 isolated changed pixels: level %.4f", l);
  g_assert_cmpfloat(l, ==, 0.0);
}

static void test_zones(void)
{
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  rng_state = 31;
  scene(a, 1.0, 3.0);
  scene(b, 1.0, 3.0);
  /* Motion in the left half only. */
  person(a, 40, 100, 60, 160, 80);
  person(b, 120, 100, 60, 160, 80);
  VigilMotionRect zones[] = {
      {0.0, 0.0, 0.5, 1.0},    /* left: sees it */
      {0.5, 0.0, 0.5, 1.0},    /* right: does not */
      {0.05, 0.25, 0.25, 0.5}, /* tight around the path: mostly changed */
  };
  double levels[4];
  guint8 *scratch = g_malloc(W * H);
  vigil_motion_levels(a, b, W, H, zones, 3, scratch, levels);
  g_free(scratch);
  g_test_message("zones: whole %.4f left %.4f right %.4f tight %.4f", levels[0], levels[1],
                 levels[2], levels[3]);
  g_assert_cmpfloat(levels[1], >, THRESHOLD);
  g_assert_cmpfloat(levels[2], <, 0.01);
  /* The seed's threshold follows the region's mean: a zone the change
   * covers for the most part reads like a lighting change (motion.h). */
  g_assert_cmpfloat(levels[3], <, levels[1]);
  g_assert_cmpfloat(levels[1], >, levels[0]); /* same change, smaller region */

  /* And motion only on the right: the left zone stays quiet. */
  scene(a, 1.0, 3.0);
  scene(b, 1.0, 3.0);
  person(a, 400, 100, 60, 160, 80);
  person(b, 480, 100, 60, 160, 80);
  scratch = g_malloc(W * H);
  vigil_motion_levels(a, b, W, H, zones, 2, scratch, levels);
  g_free(scratch);
  g_assert_cmpfloat(levels[1], <, 0.01);
  g_assert_cmpfloat(levels[2], >, THRESHOLD);
}

static void test_deterministic(void)
{
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  rng_state = 2024;
  scene(a, 1.0, 5.0);
  scene(b, 1.1, 5.0);
  block(b, 300, 50, 90, 200, 20);
  VigilMotionRect zones[] = {{0.3, 0.1, 0.4, 0.8}};
  double first[2], again[2];
  VigilMotion *m = vigil_motion_new();
  bool identical = true;
  g_assert_false(vigil_motion_process(m, a, W, H, zones, 1, first, &identical));
  g_assert_true(vigil_motion_process(m, b, W, H, zones, 1, first, &identical));
  g_assert_false(identical);
  vigil_motion_reset(m);
  g_assert_false(vigil_motion_process(m, a, W, H, zones, 1, again, NULL));
  g_assert_true(vigil_motion_process(m, b, W, H, zones, 1, again, NULL));
  g_assert_cmpmem(first, sizeof(first), again, sizeof(again));
  /* Same frame again: identical, level exactly 0. */
  g_assert_true(vigil_motion_process(m, b, W, H, zones, 1, again, &identical));
  g_assert_true(identical);
  g_assert_cmpfloat(again[0], ==, 0.0);
  /* A new size starts over. */
  g_assert_false(vigil_motion_process(m, b, W / 2, H, zones, 1, again, NULL));
  vigil_motion_free(m);
}

static void test_erosion(void)
{
  /* A 2-pixel-wide line disappears (3x3 minimum), a 3-pixel one survives. */
  g_autofree guint8 *a = g_malloc0(W * H), *b = g_malloc0(W * H);
  block(b, 0, 100, W, 2, 200);
  g_assert_cmpfloat(level2(a, b), ==, 0.0);
  block(b, 0, 200, W, 3, 200);
  g_assert_cmpfloat(level2(a, b), >, 0.0);
}

/* The eroded difference that vigil_motion_levels leaves in its scratch
 * buffer equals a plain 3x3 minimum of |a - b| (borders: the neighbours that
 * exist) at every size, the vectorised middle and the scalar edges alike. */
static void test_erosion_reference(void)
{
  static const int sizes[][2] = {{1, 1},  {1, 5},  {5, 1},  {2, 2},  {15, 3},  {16, 4},
                                 {17, 5}, {18, 7}, {33, 2}, {47, 9}, {64, 16}, {100, 37}};
  GRand *rng = g_rand_new_with_seed(7);
  for (guint s = 0; s < G_N_ELEMENTS(sizes); s++) {
    int w = sizes[s][0], h = sizes[s][1];
    g_autofree guint8 *a = g_malloc(w * h), *b = g_malloc(w * h), *scratch = g_malloc(w * h);
    g_autofree guint8 *want = g_malloc(w * h);
    for (int i = 0; i < w * h; i++) {
      a[i] = (guint8)g_rand_int_range(rng, 0, 256);
      /* Mostly small differences, some large, some equal. */
      int d = g_rand_int_range(rng, 0, 4) == 0 ? g_rand_int_range(rng, -255, 256)
                                               : g_rand_int_range(rng, -3, 4);
      b[i] = (guint8)CLAMP(a[i] + d, 0, 255);
    }
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int m = 255;
        for (int yy = MAX(y - 1, 0); yy <= MIN(y + 1, h - 1); yy++)
          for (int xx = MAX(x - 1, 0); xx <= MIN(x + 1, w - 1); xx++)
            m = MIN(m, abs((int)a[yy * w + xx] - (int)b[yy * w + xx]));
        want[y * w + x] = (guint8)m;
      }
    }
    double levels[1];
    vigil_motion_levels(a, b, w, h, NULL, 0, scratch, levels);
    g_test_message("%dx%d", w, h);
    g_assert_cmpmem(scratch, w * h, want, w * h);
  }
  g_rand_free(rng);
}

/* The box around the change: a distant person who moved covers both places
 * (within a cell), noise alone gives no box, and a frame compared with
 * nothing gives none either. */
static void test_box(void)
{
  VigilMotion *m = vigil_motion_new();
  g_autofree guint8 *a = g_malloc(W * H), *b = g_malloc(W * H);
  double levels[1];
  VigilMotionRect box = {-1, -1, -1, -1};
  rng_state = 4243;
  scene(a, 1.0, 3.0);
  scene(b, 1.0, 3.0);
  g_assert_true(!vigil_motion_process(m, a, W, H, NULL, 0, levels, NULL));
  g_assert_true(!vigil_motion_box(m, &box));
  g_assert_true(vigil_motion_process(m, b, W, H, NULL, 0, levels, NULL));
  g_assert_true(!vigil_motion_box(m, &box)); /* sensor noise only */
  g_assert_cmpfloat(box.x, ==, -1);

  memcpy(a, b, W * H);
  person(a, 400, 100, 20, 50, 80); /* where he was: x 400-419, y 100-149 */
  person(b, 430, 100, 20, 50, 80); /* where he is: x 430-449 */
  vigil_motion_reset(m);
  vigil_motion_process(m, a, W, H, NULL, 0, levels, NULL);
  g_assert_true(vigil_motion_process(m, b, W, H, NULL, 0, levels, NULL));
  g_assert_true(vigil_motion_box(m, &box));
  double x0 = box.x * W, y0 = box.y * H, x1 = (box.x + box.w) * W, y1 = (box.y + box.h) * H;
  g_test_message("distant person moving 30 px: box x %.0f-%.0f y %.0f-%.0f", x0, x1, y0, y1);
  /* Each edge within one 16 px cell of the truth (x 400-450, y 100-150). */
  g_assert_cmpfloat(fabs(x0 - 400), <, 16);
  g_assert_cmpfloat(fabs(x1 - 450), <, 16);
  g_assert_cmpfloat(fabs(y0 - 100), <, 16);
  g_assert_cmpfloat(fabs(y1 - 150), <, 16);

  /* A single changed pixel (erosion removes it) and a lone hot cell-corner
   * far away do not stretch it: only cells an eighth hot count. */
  memcpy(a, b, W * H);
  block(b, 100, 300, 1, 1, 255);
  block(b, 0, 0, 3, 3, 255);
  vigil_motion_reset(m);
  vigil_motion_process(m, a, W, H, NULL, 0, levels, NULL);
  vigil_motion_process(m, b, W, H, NULL, 0, levels, NULL);
  g_assert_true(!vigil_motion_box(m, &box));
  vigil_motion_free(m);
}

static void test_mean_luma(void)
{
  g_autofree guint8 *a = g_malloc(W * H);
  memset(a, 24, W * H); /* 24/255 = 0.094: dark */
  g_assert_cmpfloat(vigil_motion_mean_luma(a, W, H), <, 0.095);
  memset(a, 25, W * H);
  g_assert_cmpfloat(vigil_motion_mean_luma(a, W, H), >, 0.095);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/motion/noise", test_noise);
  g_test_add_func("/motion/lighting", test_lighting);
  g_test_add_func("/motion/person", test_person);
  g_test_add_func("/motion/tiny", test_tiny);
  g_test_add_func("/motion/zones", test_zones);
  g_test_add_func("/motion/deterministic", test_deterministic);
  g_test_add_func("/motion/erosion", test_erosion);
  g_test_add_func("/motion/erosion-reference", test_erosion_reference);
  g_test_add_func("/motion/box", test_box);
  g_test_add_func("/motion/mean-luma", test_mean_luma);
  return g_test_run();
}
