/* libFuzzer target: what a camera sends as RTP and RTCP (rtsp/rtp.c).
 * Input: 4 bytes choosing the AAC AU-header layout (sizelength,
 * indexlength, indexdeltalength, and bits for the optional fields), then
 * packets, each after a 16-bit big-endian length. Every packet is parsed as
 * RTP and RTCP; the RTP ones go to an H.264, an H.265 and an AAC
 * depacketiser. Invariants: no crash or overread (ASan, and every byte of
 * every unit is read); a payload lies inside its packet; units stay under
 * 32 MiB; video units are empty and damaged or start with 00 00 00 01;
 * audio units are never empty nor damaged. */
#include <stdint.h>
#include <string.h>

#include "rtsp/rtsp.h"

typedef struct {
  gboolean video;
  guint64 units, sum;
} Check;

static void on_unit(const guint8 *data, gsize size, guint32 timestamp, gboolean damaged,
                    gpointer user_data)
{
  Check *check = user_data;
  (void)timestamp;
  if (!data || size > 32 * 1024 * 1024)
    __builtin_trap();
  for (gsize i = 0; i < size; i++)
    check->sum += data[i];
  if (check->video) {
    if (size == 0 ? !damaged : size < 5 || memcmp(data, "\0\0\0\1", 4) != 0)
      __builtin_trap();
  } else if (size == 0 || damaged) {
    __builtin_trap();
  }
  check->units++;
}

static void set_fmtp(VigilSdpMedia *media, const char *name, guint value)
{
  g_hash_table_insert(media->fmtp, g_strdup(name), g_strdup_printf("%u", value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 4)
    return 0;
  /* values past the allowed ranges are in reach too: they fall back */
  VigilSdpMedia media = {.fmtp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
  set_fmtp(&media, "sizelength", data[0] % 40);
  set_fmtp(&media, "indexlength", data[1] % 40);
  set_fmtp(&media, "indexdeltalength", data[2] % 40);
  if (data[3] & 0x01)
    set_fmtp(&media, "ctsdeltalength", (data[3] >> 4) + 1);
  if (data[3] & 0x02)
    set_fmtp(&media, "dtsdeltalength", (data[3] >> 4) + 2);
  if (data[3] & 0x04)
    set_fmtp(&media, "randomaccessindication", 1);
  if (data[3] & 0x08)
    set_fmtp(&media, "auxiliarydatasizelength", (data[3] >> 4) + 1);
  VigilRtpDepay *h264 = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  VigilRtpDepay *h265 = vigil_rtp_depay_new(VIGIL_RTP_H265, NULL);
  VigilRtpDepay *aac = vigil_rtp_depay_new(VIGIL_RTP_AAC, &media);
  g_hash_table_unref(media.fmtp);
  Check video = {.video = TRUE}, audio = {.video = FALSE};

  gsize pos = 4;
  while (size - pos >= 2) {
    gsize len = (gsize)(data[pos] << 8 | data[pos + 1]);
    pos += 2;
    if (len > size - pos)
      len = size - pos;
    /* a copy of its exact size: ASan sees any read past the packet */
    guint8 *packet = g_memdup2(data + pos, len);
    pos += len;

    guint32 ssrc, rtp_time;
    guint64 ntp;
    vigil_rtcp_sender_report(packet, len, &ssrc, &ntp, &rtp_time);
    VigilRtpPacket rtp;
    if (vigil_rtp_parse(packet, len, &rtp)) {
      if (rtp.payload < packet || rtp.payload + rtp.payload_size > packet + len)
        __builtin_trap();
      vigil_rtp_depay_push(h264, &rtp, on_unit, &video);
      vigil_rtp_depay_push(h265, &rtp, on_unit, &video);
      vigil_rtp_depay_push(aac, &rtp, on_unit, &audio);
    }
    g_free(packet);
  }
  vigil_rtp_depay_flush(h264, on_unit, &video);
  vigil_rtp_depay_flush(h265, on_unit, &video);
  vigil_rtp_depay_flush(aac, on_unit, &audio);
  vigil_rtp_depay_free(h264);
  vigil_rtp_depay_free(h265);
  vigil_rtp_depay_free(aac);
  return 0;
}
