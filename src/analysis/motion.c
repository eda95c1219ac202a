/* The seed's motion algorithm (see motion.h), in integer arithmetic where it
 * can be, so the same frames give the same bits on every run. */
#include "analysis/motion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct VigilMotion {
  uint8_t *previous;
  uint8_t *scratch; /* the last comparison's eroded difference */
  int width, height;
  bool compared; /* scratch holds a difference */
};

VigilMotion *vigil_motion_new(void)
{
  return calloc(1, sizeof(VigilMotion));
}

void vigil_motion_reset(VigilMotion *self)
{
  free(self->previous);
  free(self->scratch);
  self->previous = NULL;
  self->scratch = NULL;
  self->width = self->height = 0;
  self->compared = false;
}

void vigil_motion_free(VigilMotion *self)
{
  if (!self)
    return;
  vigil_motion_reset(self);
  free(self);
}

/* Pixel bounds of a fractional rectangle, at least one pixel, inside the frame. */
static void rect_to_pixels(const VigilMotionRect *r, int width, int height, int *x0, int *y0,
                           int *x1, int *y1)
{
  *x0 = (int)floor(r->x * width);
  *y0 = (int)floor(r->y * height);
  *x1 = (int)ceil((r->x + r->w) * width);
  *y1 = (int)ceil((r->y + r->h) * height);
  *x0 = *x0 < 0 ? 0 : (*x0 >= width ? width - 1 : *x0);
  *y0 = *y0 < 0 ? 0 : (*y0 >= height ? height - 1 : *y0);
  *x1 = *x1 > width ? width : (*x1 <= *x0 ? *x0 + 1 : *x1);
  *y1 = *y1 > height ? height : (*y1 <= *y0 ? *y0 + 1 : *y1);
}

/* Level of one region of the eroded difference @d. One pass builds the
 * region's histogram; the threshold and the RMS above it then come from the
 * 256 bins (the same sums as pixel by pixel, in a fixed order, so the same
 * frames give the same bits). */
static double region_level(const uint8_t *d, int width, int x0, int y0, int x1, int y1)
{
  /* Four histograms, summed after: runs of equal values (most of a quiet
   * picture) would otherwise wait on the same counter. */
  uint32_t part[4][256];
  memset(part, 0, sizeof(part));
  for (int y = y0; y < y1; y++) {
    const uint8_t *row = d + (size_t)y * width;
    int x = x0;
    for (; x + 3 < x1; x += 4) {
      part[0][row[x]]++;
      part[1][row[x + 1]]++;
      part[2][row[x + 2]]++;
      part[3][row[x + 3]]++;
    }
    for (; x < x1; x++)
      part[0][row[x]]++;
  }
  uint32_t hist[256];
  for (int v = 0; v < 256; v++)
    hist[v] = part[0][v] + part[1][v] + part[2][v] + part[3][v];
  uint64_t n = (uint64_t)(x1 - x0) * (uint64_t)(y1 - y0);
  uint64_t sum = 0;
  for (int v = 1; v < 256; v++)
    sum += (uint64_t)v * hist[v];
  /* m = mean * 1.5 + 4, kept exact as a fraction: 2*n*m = 3*sum + 8*n. */
  uint64_t m2n = 3 * sum + 8 * n;
  double acc = 0.0;
  for (int v = 255; v > 0; v--) {
    uint64_t v2n = (uint64_t)v * 2 * n;
    if (v2n <= m2n)
      break;
    /* (v - m) in exact units of 1/(2n), squared, times the pixels at v. */
    double e = (double)(v2n - m2n);
    acc += e * e * (double)hist[v];
  }
  if (acc == 0.0)
    return 0.0;
  double rms = sqrt(acc / (double)n) / (2.0 * (double)n);
  return rms / VIGIL_MOTION_SCALE;
}

/* 16 pixels at a time with GCC's (and clang's) vector extensions: the
 * erosion is a third of the motion step, and -O2 does not vectorise it. */
typedef uint8_t v16u8 __attribute__((vector_size(16)));

static inline v16u8 load16(const uint8_t *p)
{
  v16u8 v;
  memcpy(&v, p, sizeof(v));
  return v;
}

static inline v16u8 min16(v16u8 a, v16u8 b)
{
  v16u8 lt = (v16u8)(a < b);
  return (a & lt) | (b & ~lt);
}

static inline uint8_t min3(uint8_t a, uint8_t b, uint8_t c)
{
  uint8_t m = a < b ? a : b;
  return m < c ? m : c;
}

/* Minimum of each pixel and its left and right neighbours (the one that
 * exists at the borders). */
static void row_min3(const uint8_t *src, uint8_t *dst, int width)
{
  if (width == 1) {
    dst[0] = src[0];
    return;
  }
  dst[0] = src[0] < src[1] ? src[0] : src[1];
  int x = 1;
  for (; x + 17 <= width; x += 16) {
    v16u8 m = min16(min16(load16(src + x - 1), load16(src + x)), load16(src + x + 1));
    memcpy(dst + x, &m, sizeof(m));
  }
  for (; x + 1 < width; x++)
    dst[x] = min3(src[x - 1], src[x], src[x + 1]);
  dst[width - 1] = src[width - 1] < src[width - 2] ? src[width - 1] : src[width - 2];
}

/* @out = the element-wise minimum of @a (may be NULL), @b and @c (may be NULL). */
static void col_min3(const uint8_t *a, const uint8_t *b, const uint8_t *c, uint8_t *out, int width)
{
  if (!a)
    a = b;
  if (!c)
    c = b;
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    v16u8 m = min16(min16(load16(a + x), load16(b + x)), load16(c + x));
    memcpy(out + x, &m, sizeof(m));
  }
  for (; x < width; x++)
    out[x] = min3(a[x], b[x], c[x]);
}

void vigil_motion_levels(const uint8_t *previous, const uint8_t *frame, int width, int height,
                         const VigilMotionRect *zones, int n_zones, uint8_t *scratch,
                         double *levels)
{
  size_t size = (size_t)width * height;
  uint8_t *diff = scratch;
  size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    v16u8 a = load16(frame + i), b = load16(previous + i);
    v16u8 d = (a - min16(a, b)) | (b - min16(a, b)); /* |a - b|: one side is 0 */
    memcpy(diff + i, &d, sizeof(d));
  }
  for (; i < size; i++) {
    int v = (int)frame[i] - (int)previous[i];
    diff[i] = (uint8_t)(v < 0 ? -v : v);
  }

  /* Erode with a 3x3 minimum, separably (rows then columns) in place: a row
   * buffer holds the horizontal minimum of the row above. Border pixels take
   * the minimum of the neighbours that exist. */
  uint8_t *hmin = malloc((size_t)width * 3);
  uint8_t *rows[3] = {hmin, hmin + width, hmin + 2 * (size_t)width};
  for (int y = 0; y < height; y++) {
    row_min3(diff + (size_t)y * width, rows[y % 3], width);
    /* Row y-1 can now be finished: it needs rows y-2, y-1, y. */
    if (y >= 1) {
      int yy = y - 1;
      col_min3(yy >= 1 ? rows[(yy - 1) % 3] : NULL, rows[yy % 3], rows[y % 3],
               diff + (size_t)yy * width, width);
    }
  }
  {
    int yy = height - 1;
    col_min3(yy >= 1 ? rows[(yy - 1) % 3] : NULL, rows[yy % 3], NULL, diff + (size_t)yy * width,
             width);
  }
  free(hmin);

  levels[0] = region_level(diff, width, 0, 0, width, height);
  for (int i = 0; i < n_zones; i++) {
    int x0, y0, x1, y1;
    rect_to_pixels(&zones[i], width, height, &x0, &y0, &x1, &y1);
    levels[1 + i] = region_level(diff, width, x0, y0, x1, y1);
  }
}

bool vigil_motion_process(VigilMotion *self, const uint8_t *gray, int width, int height,
                          const VigilMotionRect *zones, int n_zones, double *levels,
                          bool *identical)
{
  if (width <= 0 || height <= 0)
    return false;
  size_t size = (size_t)width * height;
  if (!self->previous || self->width != width || self->height != height) {
    vigil_motion_reset(self);
    self->previous = malloc(size);
    self->scratch = malloc(size);
    memcpy(self->previous, gray, size);
    self->width = width;
    self->height = height;
    return false;
  }
  if (identical)
    *identical = memcmp(self->previous, gray, size) == 0;
  vigil_motion_levels(self->previous, gray, width, height, zones, n_zones, self->scratch, levels);
  memcpy(self->previous, gray, size);
  self->compared = true;
  return true;
}

#define BOX_CELL 16

static int imin(int a, int b)
{
  return a < b ? a : b;
}

static int imax(int a, int b)
{
  return a > b ? a : b;
}

bool vigil_motion_box(const VigilMotion *self, VigilMotionRect *box)
{
  if (!self->compared)
    return false;
  const int W = self->width, H = self->height;
  const uint8_t *d = self->scratch;
  uint64_t sum = 0;
  for (size_t i = 0; i < (size_t)W * H; i++)
    sum += d[i];
  /* v > m = mean * 1.5 + 4  <=>  2 n v > 3 sum + 8 n (exact, as in region_level). */
  uint64_t n = (uint64_t)W * H, m2n = 3 * sum + 8 * n;
  int cols = (W + BOX_CELL - 1) / BOX_CELL, rows = (H + BOX_CELL - 1) / BOX_CELL;
  int cx0 = cols, cy0 = rows, cx1 = -1, cy1 = -1;
  for (int cy = 0; cy < rows; cy++) {
    int y0 = cy * BOX_CELL, y1 = imin(y0 + BOX_CELL, H);
    for (int cx = 0; cx < cols; cx++) {
      int x0 = cx * BOX_CELL, x1 = imin(x0 + BOX_CELL, W);
      int hot = 0;
      for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
          hot += (uint64_t)d[(size_t)y * W + x] * 2 * n > m2n;
      if (hot * 8 < (x1 - x0) * (y1 - y0))
        continue;
      cx0 = imin(cx0, cx);
      cy0 = imin(cy0, cy);
      cx1 = imax(cx1, cx);
      cy1 = imax(cy1, cy);
    }
  }
  if (cx1 < 0)
    return false;
  int x0 = cx0 * BOX_CELL, y0 = cy0 * BOX_CELL;
  int x1 = imin((cx1 + 1) * BOX_CELL, W), y1 = imin((cy1 + 1) * BOX_CELL, H);
  box->x = (double)x0 / W;
  box->y = (double)y0 / H;
  box->w = (double)(x1 - x0) / W;
  box->h = (double)(y1 - y0) / H;
  return true;
}

double vigil_motion_mean_luma(const uint8_t *gray, int width, int height)
{
  size_t size = (size_t)width * height;
  if (!size)
    return 0.0;
  uint64_t sum = 0;
  for (size_t i = 0; i < size; i++)
    sum += gray[i];
  return (double)sum / (double)size / 255.0;
}
