/* The seed's motion algorithm (see motion.h), in integer arithmetic where it
 * can be, so the same frames give the same bits on every run. */
#include "analysis/motion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct VigilMotion {
  uint8_t *previous;
  uint8_t *scratch;
  int width, height;
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

/* Level of one region of the eroded difference @d. */
static double region_level(const uint8_t *d, int width, int x0, int y0, int x1, int y1)
{
  uint64_t sum = 0;
  for (int y = y0; y < y1; y++) {
    const uint8_t *row = d + (size_t)y * width;
    for (int x = x0; x < x1; x++)
      sum += row[x];
  }
  uint64_t n = (uint64_t)(x1 - x0) * (uint64_t)(y1 - y0);
  /* m = mean * 1.5 + 4, kept exact as a fraction: 2*n*m = 3*sum + 8*n. */
  uint64_t m2n = 3 * sum + 8 * n;
  uint64_t above = 0; /* pixels over the threshold */
  double acc = 0.0;
  for (int y = y0; y < y1; y++) {
    const uint8_t *row = d + (size_t)y * width;
    for (int x = x0; x < x1; x++) {
      uint64_t v2n = (uint64_t)row[x] * 2 * n;
      if (v2n > m2n) {
        /* (v - m) in exact units of 1/(2n); squared in double, summed in order. */
        double e = (double)(v2n - m2n);
        acc += e * e;
        above++;
      }
    }
  }
  if (!above)
    return 0.0;
  double rms = sqrt(acc / (double)n) / (2.0 * (double)n);
  return rms / VIGIL_MOTION_SCALE;
}

void vigil_motion_levels(const uint8_t *previous, const uint8_t *frame, int width, int height,
                         const VigilMotionRect *zones, int n_zones, uint8_t *scratch,
                         double *levels)
{
  size_t size = (size_t)width * height;
  uint8_t *diff = scratch;
  for (size_t i = 0; i < size; i++) {
    int v = (int)frame[i] - (int)previous[i];
    diff[i] = (uint8_t)(v < 0 ? -v : v);
  }

  /* Erode with a 3x3 minimum, separably (rows then columns) in place: a row
   * buffer holds the horizontal minimum of the row above. Border pixels take
   * the minimum of the neighbours that exist. */
  uint8_t *hmin = malloc((size_t)width * 3);
  uint8_t *rows[3] = {hmin, hmin + width, hmin + 2 * (size_t)width};
  for (int y = 0; y < height; y++) {
    const uint8_t *src = diff + (size_t)y * width;
    uint8_t *dst = rows[y % 3];
    for (int x = 0; x < width; x++) {
      uint8_t m = src[x];
      if (x > 0 && src[x - 1] < m)
        m = src[x - 1];
      if (x + 1 < width && src[x + 1] < m)
        m = src[x + 1];
      dst[x] = m;
    }
    /* Row y-1 can now be finished: it needs rows y-2, y-1, y. */
    if (y >= 1) {
      int yy = y - 1;
      uint8_t *out = diff + (size_t)yy * width;
      const uint8_t *a = yy >= 1 ? rows[(yy - 1) % 3] : NULL;
      const uint8_t *b = rows[yy % 3];
      const uint8_t *c = rows[y % 3];
      for (int x = 0; x < width; x++) {
        uint8_t m = b[x];
        if (a && a[x] < m)
          m = a[x];
        if (c[x] < m)
          m = c[x];
        out[x] = m;
      }
    }
  }
  {
    int yy = height - 1;
    uint8_t *out = diff + (size_t)yy * width;
    const uint8_t *a = yy >= 1 ? rows[(yy - 1) % 3] : NULL;
    const uint8_t *b = rows[yy % 3];
    for (int x = 0; x < width; x++) {
      uint8_t m = b[x];
      if (a && a[x] < m)
        m = a[x];
      out[x] = m;
    }
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
