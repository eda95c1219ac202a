/* Letterbox, normalisation, CenterNet decoding and NMS (see prepost.h). */
#define G_LOG_DOMAIN "vigil-detect"

#include "detect/prepost.h"

#include <math.h>
#include <string.h>

#include "core/error.h"

void vigil_model_spec_free(VigilModelSpec *spec)
{
  if (!spec)
    return;
  g_free(spec->decoder);
  g_free(spec->heatmap_name);
  g_free(spec->boxes_name);
  g_free(spec);
}

gboolean vigil_model_spec_set_input_size(VigilModelSpec *spec, int size, GError **error)
{
  /* Anything else would leave input pixels without an output cell, and the
   * boxes off by the remainder. */
  if (size < 8 || size > 4096 || size % spec->stride != 0) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "model input size %d: must be 8-4096 pixels and a multiple of the model's "
                "stride (%d)",
                size, spec->stride);
    return FALSE;
  }
  spec->input_width = spec->input_height = size;
  return TRUE;
}

static gboolean read_triple(GKeyFile *kf, const char *key, float *out, float dflt, GError **error)
{
  if (!g_key_file_has_key(kf, "model", key, NULL)) {
    out[0] = out[1] = out[2] = dflt;
    return TRUE;
  }
  gsize n = 0;
  GError *local = NULL;
  g_autofree double *v = g_key_file_get_double_list(kf, "model", key, &n, &local);
  if (local) {
    g_propagate_error(error, local);
    return FALSE;
  }
  /* An empty list ("mean=") is NULL without an error: caught here. */
  if (!v || n != 3) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "model: %s needs 3 values", key);
    return FALSE;
  }
  for (int i = 0; i < 3; i++)
    out[i] = (float)v[i];
  return TRUE;
}

static VigilModelSpec *spec_from_key_file(GKeyFile *kf, const char *path, GError **error)
{
  g_autoptr(VigilModelSpec) s = g_new0(VigilModelSpec, 1);
  s->decoder = g_key_file_get_string(kf, "model", "decoder", NULL);
  s->input_width = g_key_file_get_integer(kf, "model", "input_width", NULL);
  s->input_height = g_key_file_get_integer(kf, "model", "input_height", NULL);
  g_autofree gchar *channels = g_key_file_get_string(kf, "model", "channels", NULL);
  s->bgr = channels && g_ascii_strcasecmp(channels, "bgr") == 0;
  s->stride = g_key_file_get_integer(kf, "model", "stride", NULL);
  s->fit = g_key_file_has_key(kf, "model", "fit", NULL)
               ? g_key_file_get_integer(kf, "model", "fit", NULL)
               : 32;
  s->heatmap_name = g_key_file_get_string(kf, "model", "heatmap", NULL);
  s->boxes_name = g_key_file_get_string(kf, "model", "boxes", NULL);
  s->min_score = g_key_file_has_key(kf, "model", "min_score", NULL)
                     ? (float)g_key_file_get_double(kf, "model", "min_score", NULL)
                     : 0.3f;
  if (!read_triple(kf, "mean", s->mean, 0, error) || !read_triple(kf, "scale", s->scale, 1, error))
    return NULL;
  if (g_strcmp0(s->decoder, "centernet") != 0 || s->input_width < 8 || s->input_width > 4096 ||
      s->input_height < 8 || s->input_height > 4096 || s->stride < 1 || !s->heatmap_name ||
      !s->boxes_name || s->fit < 0 || s->fit > 4096 || (s->fit && s->fit % s->stride)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "%s: needs decoder=centernet, input_width/height (8-4096), stride, heatmap, "
                "boxes, and fit 0 or a multiple of the stride",
                path);
    return NULL;
  }
  return g_steal_pointer(&s);
}

VigilModelSpec *vigil_model_spec_load(const char *path, GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, error))
    return NULL;
  return spec_from_key_file(kf, path, error);
}

VigilModelSpec *vigil_model_spec_parse(const char *text, gsize length, const char *path,
                                       GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  if (!g_key_file_load_from_data(kf, text, length, G_KEY_FILE_NONE, error))
    return NULL;
  return spec_from_key_file(kf, path, error);
}

void vigil_model_input_for(const VigilModelSpec *spec, int width, int height, int *input_width,
                           int *input_height)
{
  *input_width = spec->input_width;
  *input_height = spec->input_height;
  if (spec->fit <= 0 || width <= 0 || height <= 0)
    return;
  double scale = MIN((double)spec->input_width / width, (double)spec->input_height / height);
  int n = spec->fit;
  int w = ((int)ceil(width * scale - 1e-6) + n - 1) / n * n;
  int h = ((int)ceil(height * scale - 1e-6) + n - 1) / n * n;
  *input_width = CLAMP(w, n, spec->input_width);
  *input_height = CLAMP(h, n, spec->input_height);
}

void vigil_letterbox(const VigilRgbImage *image, const VigilModelSpec *spec, int input_width,
                     int input_height, float *out, VigilLetterbox *lb)
{
  const int W = input_width, H = input_height;
  const int sw = image->width, sh = image->height;
  double scale = MIN((double)W / sw, (double)H / sh);
  int nw = CLAMP((int)lround(sw * scale), 1, W);
  int nh = CLAMP((int)lround(sh * scale), 1, H);
  int px = (W - nw) / 2, py = (H - nh) / 2;
  *lb =
      (VigilLetterbox){.scale = scale, .pad_x = px, .pad_y = py, .src_width = sw, .src_height = sh};

  /* Channel c of the output takes RGB channel src_ch[c]. */
  int src_ch[3] = {0, 1, 2};
  if (spec->bgr) {
    src_ch[0] = 2;
    src_ch[2] = 0;
  }
  const gsize plane = (gsize)W * H;
  for (int c = 0; c < 3; c++) {
    float border = (0.0f - spec->mean[c]) * spec->scale[c];
    float *p = out + c * plane;
    for (gsize i = 0; i < plane; i++)
      p[i] = border;
  }
  const gsize stride = (gsize)sw * 3;
  for (int y = 0; y < nh; y++) {
    /* Pixel centres map to pixel centres; same size is an exact copy. */
    double fy = (y + 0.5) / scale - 0.5;
    fy = CLAMP(fy, 0.0, sh - 1.0);
    int y0 = (int)fy, y1 = MIN(y0 + 1, sh - 1);
    float wy = (float)(fy - y0);
    const guint8 *r0 = image->rgb + y0 * stride, *r1 = image->rgb + y1 * stride;
    for (int x = 0; x < nw; x++) {
      double fx = (x + 0.5) / scale - 0.5;
      fx = CLAMP(fx, 0.0, sw - 1.0);
      int x0 = (int)fx, x1 = MIN(x0 + 1, sw - 1);
      float wx = (float)(fx - x0);
      gsize o = (gsize)(y + py) * W + (x + px);
      for (int c = 0; c < 3; c++) {
        int k = src_ch[c];
        float top = r0[x0 * 3 + k] + (r0[x1 * 3 + k] - r0[x0 * 3 + k]) * wx;
        float bot = r1[x0 * 3 + k] + (r1[x1 * 3 + k] - r1[x0 * 3 + k]) * wx;
        float v = top + (bot - top) * wy;
        out[c * plane + o] = (v - spec->mean[c]) * spec->scale[c];
      }
    }
  }
}

/* Input pixels → fraction of the original picture, clipped. */
static float unbox(double v, int pad, double scale, int size)
{
  double f = (v - pad) / scale / size;
  return (float)CLAMP(f, 0.0, 1.0);
}

void vigil_centernet_decode(const float *heatmap, const float *edges, int classes, int gh, int gw,
                            int stride, float min_score, const VigilLetterbox *lb, GArray *out)
{
  const gsize plane = (gsize)gh * gw;
  for (int c = 0; c < classes; c++) {
    const float *h = heatmap + c * plane;
    for (int y = 0; y < gh; y++) {
      for (int x = 0; x < gw; x++) {
        float s = h[y * gw + x];
        if (!(s >= min_score))
          continue;
        /* A peak: no neighbour higher (ties keep the first in scan order). */
        gboolean peak = TRUE;
        for (int dy = -1; dy <= 1 && peak; dy++) {
          for (int dx = -1; dx <= 1; dx++) {
            int yy = y + dy, xx = x + dx;
            if ((dy == 0 && dx == 0) || yy < 0 || yy >= gh || xx < 0 || xx >= gw)
              continue;
            float n = h[yy * gw + xx];
            if (n > s || (n == s && (dy < 0 || (dy == 0 && dx < 0)))) {
              peak = FALSE;
              break;
            }
          }
        }
        if (!peak)
          continue;
        gsize i = (gsize)y * gw + x;
        double cx = (double)x * stride, cy = (double)y * stride;
        double x1 = cx - edges[0 * plane + i], y1 = cy - edges[1 * plane + i];
        double x2 = cx + edges[2 * plane + i], y2 = cy + edges[3 * plane + i];
        float fx1 = unbox(x1, lb->pad_x, lb->scale, lb->src_width);
        float fy1 = unbox(y1, lb->pad_y, lb->scale, lb->src_height);
        float fx2 = unbox(x2, lb->pad_x, lb->scale, lb->src_width);
        float fy2 = unbox(y2, lb->pad_y, lb->scale, lb->src_height);
        if (fx2 <= fx1 || fy2 <= fy1)
          continue; /* degenerate, or wholly in the letterbox border */
        VigilDetection d = {.class_id = c,
                            .label = vigil_coco_label(c),
                            .score = s,
                            .x = fx1,
                            .y = fy1,
                            .w = fx2 - fx1,
                            .h = fy2 - fy1};
        g_array_append_val(out, d);
      }
    }
  }
}

double vigil_box_iou(const VigilDetection *a, const VigilDetection *b)
{
  double ix = MIN(a->x + a->w, b->x + b->w) - MAX(a->x, b->x);
  double iy = MIN(a->y + a->h, b->y + b->h) - MAX(a->y, b->y);
  if (ix <= 0 || iy <= 0)
    return 0;
  double inter = ix * iy;
  double uni = (double)a->w * a->h + (double)b->w * b->h - inter;
  return uni > 0 ? inter / uni : 0;
}

static gint by_score(gconstpointer a, gconstpointer b)
{
  const VigilDetection *x = a, *y = b;
  return (x->score < y->score) - (x->score > y->score);
}

void vigil_nms(GArray *dets, double iou)
{
  g_array_sort(dets, by_score);
  guint kept = 0;
  for (guint i = 0; i < dets->len; i++) {
    VigilDetection *d = &g_array_index(dets, VigilDetection, i);
    gboolean keep = TRUE;
    for (guint j = 0; j < kept && keep; j++) {
      VigilDetection *k = &g_array_index(dets, VigilDetection, j);
      if (k->class_id == d->class_id && g_strcmp0(k->label, d->label) == 0 &&
          vigil_box_iou(k, d) > iou)
        keep = FALSE;
    }
    if (keep)
      g_array_index(dets, VigilDetection, kept++) = *d;
  }
  g_array_set_size(dets, kept);
}
