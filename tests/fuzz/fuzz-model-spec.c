/* libFuzzer target: a detection model's NAME.onnx.ini, as the detector reads
 * it next to the model (vigil_model_spec_parse, the text half of
 * vigil_model_spec_load). Invariants: an accepted spec is one the detector
 * can use (centernet, input 8-4096 pixels, stride >= 1, both output names,
 * fit 0 or a multiple of the stride); written back as a key file it reads
 * back the same; the input fitted to a picture stays inside the spec's and
 * is made of whole fit steps; and a small input letterboxes a picture
 * inside its bounds (ASan watches the writes). */
#include <math.h>
#include <stdint.h>

#include "detect/prepost.h"

static gboolean same_float(float a, float b)
{
  return a == b || (isnan(a) && isnan(b));
}

static gboolean same_spec(const VigilModelSpec *a, const VigilModelSpec *b)
{
  for (int i = 0; i < 3; i++)
    if (!same_float(a->mean[i], b->mean[i]) || !same_float(a->scale[i], b->scale[i]))
      return FALSE;
  return g_str_equal(a->decoder, b->decoder) && a->input_width == b->input_width &&
         a->input_height == b->input_height && a->bgr == b->bgr && a->stride == b->stride &&
         a->fit == b->fit && g_str_equal(a->heatmap_name, b->heatmap_name) &&
         g_str_equal(a->boxes_name, b->boxes_name) && same_float(a->min_score, b->min_score);
}

static gchar *spec_to_text(const VigilModelSpec *s)
{
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_string(kf, "model", "decoder", s->decoder);
  g_key_file_set_integer(kf, "model", "input_width", s->input_width);
  g_key_file_set_integer(kf, "model", "input_height", s->input_height);
  g_key_file_set_string(kf, "model", "channels", s->bgr ? "bgr" : "rgb");
  double mean[3] = {s->mean[0], s->mean[1], s->mean[2]};
  double scale[3] = {s->scale[0], s->scale[1], s->scale[2]};
  g_key_file_set_double_list(kf, "model", "mean", mean, 3);
  g_key_file_set_double_list(kf, "model", "scale", scale, 3);
  g_key_file_set_integer(kf, "model", "stride", s->stride);
  g_key_file_set_integer(kf, "model", "fit", s->fit);
  g_key_file_set_string(kf, "model", "heatmap", s->heatmap_name);
  g_key_file_set_string(kf, "model", "boxes", s->boxes_name);
  g_key_file_set_double(kf, "model", "min_score", s->min_score);
  return g_key_file_to_data(kf, NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilModelSpec) spec =
      vigil_model_spec_parse((const char *)data, size, "fuzz.onnx.ini", &error);
  if (!spec) {
    if (!error)
      __builtin_trap();
    return 0;
  }
  if (error || g_strcmp0(spec->decoder, "centernet") != 0 || spec->input_width < 8 ||
      spec->input_width > 4096 || spec->input_height < 8 || spec->input_height > 4096 ||
      spec->stride < 1 || !spec->heatmap_name || !spec->boxes_name || spec->fit < 0 ||
      (spec->fit && spec->fit % spec->stride))
    __builtin_trap();

  g_autofree gchar *text = spec_to_text(spec);
  g_autoptr(VigilModelSpec) again = vigil_model_spec_parse(text, -1, "again.onnx.ini", NULL);
  if (!again || !same_spec(spec, again))
    __builtin_trap();

  static const int sizes[][2] = {{5, 3}, {1920, 1080}, {1, 4096}, {4096, 1}};
  for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
    int w, h;
    vigil_model_input_for(spec, sizes[i][0], sizes[i][1], &w, &h);
    if (w < 1 || h < 1 || w > spec->input_width || h > spec->input_height ||
        (spec->fit &&
         ((w % spec->fit && w != spec->input_width) || (h % spec->fit && h != spec->input_height))))
      __builtin_trap();
  }

  int w, h;
  vigil_model_input_for(spec, 5, 3, &w, &h);
  if (w <= 64 && h <= 64) {
    static const guint8 rgb[3 * 5 * 3] = {0, 50, 100, 150, 200, 250};
    VigilRgbImage image = {.width = 5, .height = 3, .rgb = rgb};
    g_autofree float *out = g_new(float, 3 * (gsize)w * h);
    VigilLetterbox lb;
    vigil_letterbox(&image, spec, w, h, out, &lb);
    if (lb.pad_x < 0 || lb.pad_y < 0 || lb.pad_x >= w || lb.pad_y >= h || !(lb.scale > 0))
      __builtin_trap();
  }
  return 0;
}
