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
  const guint8 with[] = {0,    0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1,    0x67,
                         0x42, 0, 0, 1, 0x68, 0xCE, 0, 0, 1, 0x65, 0x88};
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

  g_assert_true(vigil_annexb_is_keyframe(with, sizeof with, VIGIL_CODEC_H264));
  g_assert_true(vigil_annexb_is_keyframe(without, sizeof without, VIGIL_CODEC_H264));
  const guint8 p_slice[] = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x41, 0x9A};
  g_assert_false(vigil_annexb_is_keyframe(p_slice, sizeof p_slice, VIGIL_CODEC_H264));
  /* a fragment that continues a slice, with no start code: not a keyframe */
  const guint8 fragment[] = {0x88, 0x84, 0x21};
  g_assert_false(vigil_annexb_is_keyframe(fragment, sizeof fragment, VIGIL_CODEC_H264));

  g_assert_true(vigil_annexb_is_idr(with, sizeof with, VIGIL_CODEC_H264));
  g_assert_false(vigil_annexb_is_idr(p_slice, sizeof p_slice, VIGIL_CODEC_H264));
  /* an I slice that is not an IDR (type 1, as in an open GOP): no */
  const guint8 non_idr_i[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x41, 0x88};
  g_assert_false(vigil_annexb_is_idr(non_idr_i, sizeof non_idr_i, VIGIL_CODEC_H264));
  g_assert_false(vigil_annexb_is_idr(NULL, 0, VIGIL_CODEC_H264));
}

static void test_h265(void)
{
  /* VPS (32), SPS (33), PPS (34), IDR_W_RADL (19): type is bits 1-6 of byte 0 */
  const guint8 with[] = {0, 0, 0, 1,    0x40, 0x01, 0, 0, 0, 1,    0x42, 0x01, 0,
                         0, 0, 1, 0x44, 0x01, 0,    0, 0, 1, 0x26, 0x01, 0xAF};
  g_assert_true(vigil_annexb_has_parameter_sets(with, sizeof with, VIGIL_CODEC_H265));
  const guint8 without[] = {0, 0, 0, 1, 0x4E, 0x01, 0x05, 0, 0, 0, 1, 0x26, 0x01, 0xAF};
  g_assert_false(vigil_annexb_has_parameter_sets(without, sizeof without, VIGIL_CODEC_H265));
  /* the H.264 reading of the same bytes would differ: 0x67 is a TRAIL_R slice in H.265 */
  const guint8 h264_sps[] = {0, 0, 1, 0x67, 0x42};
  g_assert_false(vigil_annexb_has_parameter_sets(h264_sps, sizeof h264_sps, VIGIL_CODEC_H265));

  g_assert_true(vigil_annexb_is_keyframe(with, sizeof with, VIGIL_CODEC_H265));
  g_assert_true(vigil_annexb_is_keyframe(without, sizeof without, VIGIL_CODEC_H265));
  /* TRAIL_R (1): not a keyframe; CRA (21): one */
  const guint8 trail[] = {0, 0, 1, 0x02, 0x01, 0xD0};
  const guint8 cra[] = {0, 0, 1, 0x2A, 0x01, 0xAF};
  g_assert_false(vigil_annexb_is_keyframe(trail, sizeof trail, VIGIL_CODEC_H265));
  g_assert_true(vigil_annexb_is_keyframe(cra, sizeof cra, VIGIL_CODEC_H265));

  /* IDR_W_RADL (19) and IDR_N_LP (20) are IDRs; CRA (21) is not */
  const guint8 idr_n_lp[] = {0, 0, 1, 0x28, 0x01, 0xAF};
  g_assert_true(vigil_annexb_is_idr(with, sizeof with, VIGIL_CODEC_H265));
  g_assert_true(vigil_annexb_is_idr(idr_n_lp, sizeof idr_n_lp, VIGIL_CODEC_H265));
  g_assert_false(vigil_annexb_is_idr(cra, sizeof cra, VIGIL_CODEC_H265));
  g_assert_false(vigil_annexb_is_idr(trail, sizeof trail, VIGIL_CODEC_H265));
}

/* Headers no encoder writes, and random bytes as a broken camera sends. */
static void assert_bytes(GByteArray *out, const guint8 *want, gsize want_size)
{
  g_assert_cmpmem(out->data, out->len, want, want_size);
}

static void test_parameter_sets(void)
{
  g_autoptr(GByteArray) out = g_byte_array_new();
  /* AUD, SPS (then a 4-byte start code), PPS, IDR slice */
  const guint8 h264[] = {0, 0, 0, 1,    0x09, 0xF0, 0,    0, 0, 1, 0x67, 0x42, 0,
                         0, 0, 1, 0x68, 0xCE, 0x3C, 0x80, 0, 0, 1, 0x65, 0x88};
  const guint8 h264_ps[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80};
  g_assert_cmpuint(vigil_annexb_parameter_sets(h264, sizeof h264, VIGIL_CODEC_H264, out), ==, 20);
  assert_bytes(out, h264_ps, sizeof h264_ps);
  /* appends: the caller empties */
  g_assert_cmpuint(vigil_annexb_parameter_sets(h264, sizeof h264, VIGIL_CODEC_H264, out), ==, 20);
  g_assert_cmpuint(out->len, ==, 2 * sizeof h264_ps);

  /* an SPS after the first slice is not the picture's; a slice with a
   * 4-byte start code starts at its first zero */
  g_byte_array_set_size(out, 0);
  const guint8 late[] = {0, 0, 0, 1, 0x06, 0x05, 0, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x67, 0x42};
  g_assert_cmpuint(vigil_annexb_parameter_sets(late, sizeof late, VIGIL_CODEC_H264, out), ==, 6);
  g_assert_cmpuint(out->len, ==, 0);

  /* no slice at all: everything scanned, the size returned; nothing, or a
   * start code with nothing after it */
  const guint8 ps_only[] = {0, 0, 1, 0x67, 0x42, 0x00, 0x00};
  g_assert_cmpuint(vigil_annexb_parameter_sets(ps_only, sizeof ps_only, VIGIL_CODEC_H264, out), ==,
                   sizeof ps_only);
  const guint8 ps_only_want[] = {0, 0, 0, 1, 0x67, 0x42}; /* trailing zeros left out */
  assert_bytes(out, ps_only_want, sizeof ps_only_want);
  g_byte_array_set_size(out, 0);
  g_assert_cmpuint(vigil_annexb_parameter_sets(NULL, 0, VIGIL_CODEC_H264, out), ==, 0);
  const guint8 cut[] = {0x65, 0, 0, 1};
  g_assert_cmpuint(vigil_annexb_parameter_sets(cut, sizeof cut, VIGIL_CODEC_H264, out), ==,
                   sizeof cut);
  g_assert_cmpuint(out->len, ==, 0);

  /* H.265: VPS, SPS, PPS kept, the prefix SEI not; then an IDR_W_RADL slice */
  const guint8 h265[] = {0,    0,    0,    1,    0x40, 0x01, 0x0C, 0,    0,    0,    1,   0x42,
                         0x01, 0x01, 0,    0,    0,    1,    0x44, 0x01, 0xC1, 0,    0,   0,
                         1,    0x4E, 0x01, 0x05, 0,    0,    0,    1,    0x26, 0x01, 0xAF};
  const guint8 h265_ps[] = {0,    0,    0,    1, 0x40, 0x01, 0x0C, 0,    0,    0,   1,
                            0x42, 0x01, 0x01, 0, 0,    0,    1,    0x44, 0x01, 0xC1};
  g_assert_cmpuint(vigil_annexb_parameter_sets(h265, sizeof h265, VIGIL_CODEC_H265, out), ==, 28);
  assert_bytes(out, h265_ps, sizeof h265_ps);
}

static void test_valid(void)
{
  const guint8 h264[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xCE, 0, 0, 1, 0x65, 0x88};
  g_assert_true(vigil_annexb_is_valid(h264, sizeof h264, VIGIL_CODEC_H264));
  const guint8 forbidden[] = {0, 0, 1, 0x41, 0x9A, 0, 0, 1, 0xC1, 0x9A};
  g_assert_false(vigil_annexb_is_valid(forbidden, sizeof forbidden, VIGIL_CODEC_H264));
  const guint8 type0[] = {0, 0, 1, 0x00, 0x9A};
  g_assert_false(vigil_annexb_is_valid(type0, sizeof type0, VIGIL_CODEC_H264));
  const guint8 fu_a[] = {0, 0, 1, 0x7C, 0x85}; /* RTP's FU-A (28) left unpacked */
  g_assert_false(vigil_annexb_is_valid(fu_a, sizeof fu_a, VIGIL_CODEC_H264));
  const guint8 none[] = {0x65, 0x88, 0x84};
  g_assert_false(vigil_annexb_is_valid(none, sizeof none, VIGIL_CODEC_H264));
  g_assert_false(vigil_annexb_is_valid(NULL, 0, VIGIL_CODEC_H264));

  const guint8 h265[] = {0, 0, 0, 1,    0x40, 0x01, 0, 0, 0, 1,    0x42, 0x01, 0,
                         0, 0, 1, 0x44, 0x01, 0,    0, 0, 1, 0x26, 0x01, 0xAF};
  g_assert_true(vigil_annexb_is_valid(h265, sizeof h265, VIGIL_CODEC_H265));
  const guint8 fu[] = {0, 0, 1, 0x62, 0x01, 0x93}; /* RTP's FU (49) */
  g_assert_false(vigil_annexb_is_valid(fu, sizeof fu, VIGIL_CODEC_H265));
  const guint8 tid0[] = {0, 0, 1, 0x26, 0x00, 0xAF}; /* nuh_temporal_id_plus1 0 */
  g_assert_false(vigil_annexb_is_valid(tid0, sizeof tid0, VIGIL_CODEC_H265));
  const guint8 cut[] = {0, 0, 1, 0x26};
  g_assert_false(vigil_annexb_is_valid(cut, sizeof cut, VIGIL_CODEC_H265));

  /* Random payloads after a start code, as the RTP depacketiser makes
   * them: most fail (the feed's window needs 10 in 50). */
  GRand *rand = g_rand_new_with_seed(7);
  guint invalid = 0;
  for (int i = 0; i < 1000; i++) {
    guint8 unit[64] = {0, 0, 0, 1};
    for (gsize k = 4; k < sizeof unit; k++)
      unit[k] = (guint8)g_rand_int_range(rand, 0, 256);
    invalid += !vigil_annexb_is_valid(unit, sizeof unit, VIGIL_CODEC_H264);
  }
  g_rand_free(rand);
  g_assert_cmpuint(invalid, >, 500);
}

static void test_pieces(void)
{
  gboolean begins, slice;
  /* H.264: an SPS starts an access unit but is no slice */
  const guint8 sps[] = {0, 0, 0, 1, 0x67, 0x42};
  vigil_annexb_classify_piece(sps, sizeof sps, VIGIL_CODEC_H264, &begins, &slice);
  g_assert_true(begins && !slice);
  /* first slice of a picture (first_mb_in_slice 0: bit 1) */
  const guint8 idr[] = {0, 0, 0, 1, 0x65, 0x88, 0x84};
  vigil_annexb_classify_piece(idr, sizeof idr, VIGIL_CODEC_H264, &begins, &slice);
  g_assert_true(begins && slice);
  /* a second slice of the same picture (first_mb_in_slice > 0: bit 0) */
  const guint8 second[] = {0, 0, 1, 0x41, 0x4A, 0x00};
  vigil_annexb_classify_piece(second, sizeof second, VIGIL_CODEC_H264, &begins, &slice);
  g_assert_true(!begins && slice);
  /* a fragment continuing a NAL unit: neither */
  const guint8 more[] = {0x9A, 0x00, 0x00, 0x01};
  vigil_annexb_classify_piece(more, sizeof more, VIGIL_CODEC_H264, &begins, &slice);
  g_assert_true(!begins && !slice);
  /* STAP-A style: SPS, PPS, IDR in one piece: begins (the SPS), has a slice */
  const guint8 stap[] = {0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1, 0x65, 0x88};
  vigil_annexb_classify_piece(stap, sizeof stap, VIGIL_CODEC_H264, &begins, &slice);
  g_assert_true(begins && slice);
  /* H.265: VPS begins; IDR_W_RADL with first_slice_segment_in_pic_flag set;
   * a later segment of the same picture; a suffix SEI (40) does not begin */
  const guint8 vps[] = {0, 0, 0, 1, 0x40, 0x01, 0x0C};
  vigil_annexb_classify_piece(vps, sizeof vps, VIGIL_CODEC_H265, &begins, &slice);
  g_assert_true(begins && !slice);
  const guint8 h265_idr[] = {0, 0, 0, 1, 0x26, 0x01, 0xAF};
  vigil_annexb_classify_piece(h265_idr, sizeof h265_idr, VIGIL_CODEC_H265, &begins, &slice);
  g_assert_true(begins && slice);
  const guint8 segment[] = {0, 0, 0, 1, 0x02, 0x01, 0x40};
  vigil_annexb_classify_piece(segment, sizeof segment, VIGIL_CODEC_H265, &begins, &slice);
  g_assert_true(!begins && slice);
  const guint8 suffix[] = {0, 0, 0, 1, 0x50, 0x01, 0x05};
  vigil_annexb_classify_piece(suffix, sizeof suffix, VIGIL_CODEC_H265, &begins, &slice);
  g_assert_true(!begins && !slice);
  vigil_annexb_classify_piece(NULL, 0, VIGIL_CODEC_H265, &begins, &slice);
  g_assert_true(!begins && !slice);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/annexb/next-nal", test_next_nal);
  g_test_add_func("/annexb/h264", test_h264);
  g_test_add_func("/annexb/h265", test_h265);
  g_test_add_func("/annexb/pieces", test_pieces);
  g_test_add_func("/annexb/valid", test_valid);
  g_test_add_func("/annexb/parameter-sets", test_parameter_sets);
  return g_test_run();
}
