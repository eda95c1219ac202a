/* Unit tests for live/annexb.c: finding NAL units and parameter sets. */
#include <glib.h>

#include "live/annexb.h"

static void test_next_nal(void)
{
  const guint8 data[] = {0, 0, 0, 1, 0x67, 0xAA, 0, 0, 1, 0x68, 0xBB, 0, 0, 2, 0, 0};
  g_assert_cmpuint(vigil_annexb_next_nal(data, sizeof data, 0), ==, 4);
  g_assert_cmpuint(vigil_annexb_next_nal(data, sizeof data, 4), ==, 9);
  /* 00 00 02 is no start code, and 00 00 at the very end neither */
  g_assert_cmpuint(vigil_annexb_next_nal(data, sizeof data, 9), ==, sizeof data);
  g_assert_cmpuint(vigil_annexb_next_nal(data, 0, 0), ==, 0);
  g_assert_cmpuint(vigil_annexb_next_nal(data, 3, 0), ==, 3);
}

static void test_h264(void)
{
  /* AUD, SPS, PPS, IDR slice */
  const guint8 with[] = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68,
                         0xCE, 0, 0, 1, 0x65, 0x88};
  g_assert_true(vigil_annexb_has_parameter_sets(with, sizeof with, VIGIL_CODEC_H264));
  /* SEI then IDR: none */
  const guint8 without[] = {0, 0, 0, 1, 0x06, 0x05, 0x01, 0, 0, 1, 0x65, 0x88};
  g_assert_false(vigil_annexb_has_parameter_sets(without, sizeof without, VIGIL_CODEC_H264));
  /* an SPS after the first slice does not count: a decoder needs it before */
  const guint8 late[] = {0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x67, 0x42};
  g_assert_false(vigil_annexb_has_parameter_sets(late, sizeof late, VIGIL_CODEC_H264));
  /* a start code with nothing after it */
  const guint8 cut[] = {0x65, 0, 0, 1};
  g_assert_false(vigil_annexb_has_parameter_sets(cut, sizeof cut, VIGIL_CODEC_H264));
  g_assert_false(vigil_annexb_has_parameter_sets(NULL, 0, VIGIL_CODEC_H264));
}

static void test_h265(void)
{
  /* VPS (32), SPS (33), PPS (34), IDR_W_RADL (19): type is bits 1-6 of byte 0 */
  const guint8 with[] = {0, 0, 0, 1, 0x40, 0x01, 0, 0, 0, 1, 0x42, 0x01, 0, 0, 0, 1,
                         0x44, 0x01, 0, 0, 0, 1, 0x26, 0x01, 0xAF};
  g_assert_true(vigil_annexb_has_parameter_sets(with, sizeof with, VIGIL_CODEC_H265));
  const guint8 without[] = {0, 0, 0, 1, 0x4E, 0x01, 0x05, 0, 0, 0, 1, 0x26, 0x01, 0xAF};
  g_assert_false(vigil_annexb_has_parameter_sets(without, sizeof without, VIGIL_CODEC_H265));
  /* the H.264 reading of the same bytes would differ: 0x67 is a TRAIL_R slice in H.265 */
  const guint8 h264_sps[] = {0, 0, 1, 0x67, 0x42};
  g_assert_false(vigil_annexb_has_parameter_sets(h264_sps, sizeof h264_sps, VIGIL_CODEC_H265));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/annexb/next-nal", test_next_nal);
  g_test_add_func("/annexb/h264", test_h264);
  g_test_add_func("/annexb/h265", test_h265);
  return g_test_run();
}
