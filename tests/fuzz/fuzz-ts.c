/* libFuzzer target: MPEG-TS. The input is read as 188-byte packets by
 * vigil_ts_packet_parse (what consumers of a camera's stream use), and is
 * also muxed as a video access unit and as AAC data, whose output must be
 * whole packets that all parse back, with PAT/PMT in front of keyframes. The
 * same bytes go through the Annex B scanner (live/annexb.c). */
#include <stdint.h>

#include "live/annexb.h"
#include "live/tsmux.h"

static void check_packets(GBytes *bytes, gboolean keyframe)
{
  gsize n = 0;
  const guint8 *p = g_bytes_get_data(bytes, &n);
  if (n % VIGIL_TS_PACKET_SIZE)
    __builtin_trap();
  for (gsize off = 0; off < n; off += VIGIL_TS_PACKET_SIZE) {
    VigilTsPacketInfo info;
    if (!vigil_ts_packet_parse(p + off, &info))
      __builtin_trap();
    if (keyframe && off == 0 && info.pid != 0)
      __builtin_trap(); /* keyframes start with the PAT */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* The Annex B scan the ingest runs on every keyframe from a camera. */
  vigil_annexb_has_parameter_sets(data, size, VIGIL_CODEC_H264);
  vigil_annexb_has_parameter_sets(data, size, VIGIL_CODEC_H265);
  vigil_annexb_is_keyframe(data, size, VIGIL_CODEC_H264);
  vigil_annexb_is_idr(data, size, VIGIL_CODEC_H264);
  vigil_annexb_is_idr(data, size, VIGIL_CODEC_H265);
  gboolean begins, slice;
  vigil_annexb_classify_piece(data, size, VIGIL_CODEC_H265, &begins, &slice);
  vigil_annexb_classify_piece(data, size, VIGIL_CODEC_H264, &begins, &slice);
  for (size_t pos = vigil_annexb_next_nal(data, size, 0); pos < size;
       pos = vigil_annexb_next_nal(data, size, pos))
    if (pos > size)
      __builtin_trap();

  /* The packet scanner on arbitrary bytes, at every alignment a scanner
   * resynchronizing on 0x47 would try. */
  for (size_t off = 0; off + VIGIL_TS_PACKET_SIZE <= size; off++) {
    if (data[off] != 0x47)
      continue;
    VigilTsPacketInfo info;
    if (vigil_ts_packet_parse(data + off, &info) && info.pid > 0x1fff)
      __builtin_trap();
  }
  if (size > 1 << 20)
    return 0;
  VigilCodec codec = size && (data[0] & 1) ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264;
  gboolean keyframe = size > 1 && (data[1] & 1);
  VigilTsMux *mux = vigil_ts_mux_new(codec, TRUE);
  GBytes *video = vigil_ts_mux_video(mux, data, size, 90000, 90000, keyframe);
  check_packets(video, keyframe);
  g_bytes_unref(video);
  GBytes *audio = vigil_ts_mux_audio(mux, data, size, 90000);
  if (audio) {
    check_packets(audio, FALSE);
    g_bytes_unref(audio);
  }
  vigil_ts_mux_free(mux);
  return 0;
}
