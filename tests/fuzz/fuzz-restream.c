/* libFuzzer target: what any peer sends to vigil's RTSP server, parsed as the
 * server does (vigil_restream_request_parse, the URL path, Transport), and
 * arbitrary TS chunks and access units through the demuxer and packetizer.
 * Invariants: no crash or overread (ASan); a parsed request takes at least
 * its headers and no more than there is; packets are well framed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restream/packetize.h"
#include "restream/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  VigilRestreamRequest r;
  gsize length = 0;
  VigilRestreamParse res = vigil_restream_request_parse(data, size, &r, &length);
  if (res == VIGIL_RESTREAM_PARSE_OK) {
    if (length == 0 || length > size || !r.method || !r.url)
      abort();
    g_free(vigil_restream_url_path(r.url));
    guint8 channel;
    vigil_restream_transport_tcp(vigil_restream_request_header(&r, "Transport"), &channel);
    guint16 rtp, rtcp;
    vigil_restream_transport_udp(vigil_restream_request_header(&r, "Transport"), &rtp, &rtcp);
    vigil_restream_request_clear(&r);
  }
  g_bytes_unref(vigil_restream_ts_video(data, size));
  for (int codec = VIGIL_CODEC_H264; codec <= VIGIL_CODEC_H265; codec++) {
    g_autoptr(GByteArray) out = g_byte_array_new();
    guint16 seq = 0;
    guint n = vigil_restream_packetize(out, codec, data, size, 0, 0, 0, &seq);
    gsize off = 0;
    for (guint i = 0; i < n; i++) {
      if (off + 4 > out->len || out->data[off] != '$')
        abort();
      off += 4 + ((out->data[off + 2] << 8) | out->data[off + 3]);
    }
    if (off != out->len || seq != (guint16)n)
      abort();
    g_free(vigil_restream_fmtp(data, size, codec));
  }
  g_bytes_unref(vigil_restream_ts_audio(data, size));
  guint rate, channels;
  g_free(vigil_restream_aac_fmtp(data, size, &rate, &channels));
  g_autoptr(GByteArray) out = g_byte_array_new();
  guint16 seq = 0;
  guint n = vigil_restream_packetize_aac(out, data, size, 0, 0, 0, &seq);
  gsize off = 0;
  for (guint i = 0; i < n; i++) {
    if (off + 4 > out->len || out->data[off] != '$')
      abort();
    off += 4 + ((out->data[off + 2] << 8) | out->data[off + 3]);
  }
  if (off != out->len || seq != (guint16)n)
    abort();
  return 0;
}
