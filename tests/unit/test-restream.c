/* restream's pure parts: our TS chunks back to the exact access unit, RTP
 * packetization (checked by vigil's own depacketiser, down to the bytes),
 * the SDP fmtp from parameter sets, and RTSP request parsing with its limits. */
#include <string.h>

#include "live/tsmux.h"
#include "restream/packetize.h"
#include "restream/request.h"
#include "rtsp/rtsp.h"

/* An access unit with 4-byte start codes: AUD, SPS, PPS, then a slice of
 * @slice_size bytes (H.264 or H.265 NAL headers). */
static GByteArray *make_au(VigilCodec codec, gsize slice_size, gboolean key)
{
  GByteArray *au = g_byte_array_new();
  static const guint8 sc[] = {0, 0, 0, 1};
  if (codec == VIGIL_CODEC_H265) {
    const guint8 aud[] = {0x46, 0x01, 0x50};
    const guint8 vps[] = {0x40, 0x01, 0x0c, 0x01, 0xff, 0xff};
    const guint8 sps[] = {0x42, 0x01, 0x01, 0x01, 0x60, 0x01};
    const guint8 pps[] = {0x44, 0x01, 0xc1, 0x72};
    g_byte_array_append(au, sc, 4);
    g_byte_array_append(au, aud, sizeof aud);
    if (key) {
      g_byte_array_append(au, sc, 4);
      g_byte_array_append(au, vps, sizeof vps);
      g_byte_array_append(au, sc, 4);
      g_byte_array_append(au, sps, sizeof sps);
      g_byte_array_append(au, sc, 4);
      g_byte_array_append(au, pps, sizeof pps);
    }
    g_byte_array_append(au, sc, 4);
    guint8 hdr[2] = {key ? 19 << 1 : 1 << 1, 0x01};
    g_byte_array_append(au, hdr, 2);
  } else {
    const guint8 aud[] = {0x09, 0xf0};
    const guint8 sps[] = {0x67, 0x64, 0x00, 0x1f, 0xac, 0xd9};
    const guint8 pps[] = {0x68, 0xeb, 0xe3, 0xcb};
    g_byte_array_append(au, sc, 4);
    g_byte_array_append(au, aud, sizeof aud);
    if (key) {
      g_byte_array_append(au, sc, 4);
      g_byte_array_append(au, sps, sizeof sps);
      g_byte_array_append(au, sc, 4);
      g_byte_array_append(au, pps, sizeof pps);
    }
    g_byte_array_append(au, sc, 4);
    guint8 hdr = key ? 0x65 : 0x41;
    g_byte_array_append(au, &hdr, 1);
  }
  /* A slice body without zero bytes (no emulated start codes) and not
   * ending in zero. */
  for (gsize i = 0; i < slice_size; i++) {
    guint8 b = (guint8)(i * 7 + 1) | 1;
    g_byte_array_append(au, &b, 1);
  }
  return au;
}

static void test_ts_video_round_trip(void)
{
  for (int k = 0; k < 2; k++) {
    g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, FALSE);
    g_autoptr(GByteArray) au = make_au(VIGIL_CODEC_H264, k ? 70000 : 10, k);
    g_autoptr(GBytes) ts = vigil_ts_mux_video(mux, au->data, au->len, 9000, 9000, k);
    g_autoptr(GBytes) es =
        vigil_restream_ts_video(g_bytes_get_data(ts, NULL), g_bytes_get_size(ts));
    g_assert_nonnull(es);
    g_assert_cmpmem(g_bytes_get_data(es, NULL), g_bytes_get_size(es), au->data, au->len);
  }
  /* Not whole packets, no sync byte, nothing of the video PID. */
  guint8 junk[188 * 2];
  memset(junk, 0x47, sizeof junk);
  g_assert_null(vigil_restream_ts_video(junk, 187));
  g_assert_null(vigil_restream_ts_video(junk + 1, 0));
  junk[0] = 0;
  g_assert_null(vigil_restream_ts_video(junk, 188));
}

typedef struct {
  GByteArray *out;
  guint units;
} Gathered;

static void on_unit(const guint8 *data, gsize size, G_GNUC_UNUSED guint32 timestamp,
                    gboolean damaged, gpointer user_data)
{
  Gathered *g = user_data;
  g_assert_false(damaged);
  g_byte_array_append(g->out, data, size);
  g->units++;
}

static void check_packetize(VigilCodec codec)
{
  g_autoptr(GByteArray) au = make_au(codec, 5000, TRUE);
  g_autoptr(GByteArray) out = g_byte_array_new();
  guint16 seq = 65534;
  guint n = vigil_restream_packetize(out, codec, au->data, au->len, 2, 123456, 0xabcdef01, &seq);
  /* AUD, (VPS,) SPS, PPS as single packets, the slice in 4 fragments */
  g_assert_cmpuint(n, ==, (codec == VIGIL_CODEC_H265 ? 4 : 3) + 4);
  g_assert_cmpuint(seq, ==, (guint16)(65534 + n));
  g_autoptr(VigilRtpDepay) depay =
      vigil_rtp_depay_new(codec == VIGIL_CODEC_H265 ? VIGIL_RTP_H265 : VIGIL_RTP_H264, NULL);
  Gathered g = {g_byte_array_new(), 0};
  gsize off = 0;
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint(out->len - off, >=, 4);
    g_assert_cmpuint(out->data[off], ==, '$');
    g_assert_cmpuint(out->data[off + 1], ==, 2);
    gsize len = (out->data[off + 2] << 8) | out->data[off + 3];
    g_assert_cmpuint(len, <=, 12 + VIGIL_RESTREAM_RTP_PAYLOAD);
    VigilRtpPacket p;
    g_assert_true(vigil_rtp_parse(out->data + off + 4, len, &p));
    g_assert_cmpuint(p.payload_type, ==, 96);
    g_assert_cmpuint(p.sequence, ==, (guint16)(65534 + i));
    g_assert_cmpuint(p.timestamp, ==, 123456);
    g_assert_cmpuint(p.ssrc, ==, 0xabcdef01);
    g_assert_cmpint(p.marker, ==, i == n - 1);
    vigil_rtp_depay_push(depay, &p, on_unit, &g);
    off += 4 + len;
  }
  g_assert_cmpuint(off, ==, out->len);
  g_assert_cmpuint(g.units, ==, 1);
  g_assert_cmpmem(g.out->data, g.out->len, au->data, au->len);
  g_byte_array_unref(g.out);
}

static void test_packetize_h264(void)
{
  check_packetize(VIGIL_CODEC_H264);
}

static void test_packetize_h265(void)
{
  check_packetize(VIGIL_CODEC_H265);
}

static void test_fmtp(void)
{
  g_autoptr(GByteArray) key = make_au(VIGIL_CODEC_H264, 10, TRUE);
  g_autofree gchar *f = vigil_restream_fmtp(key->data, key->len, VIGIL_CODEC_H264);
  g_assert_cmpstr(f, ==,
                  "packetization-mode=1;profile-level-id=64001F;"
                  "sprop-parameter-sets=Z2QAH6zZ,aOvjyw==");
  g_autoptr(GByteArray) delta = make_au(VIGIL_CODEC_H264, 10, FALSE);
  g_assert_null(vigil_restream_fmtp(delta->data, delta->len, VIGIL_CODEC_H264));
  g_autoptr(GByteArray) hkey = make_au(VIGIL_CODEC_H265, 10, TRUE);
  g_autofree gchar *h = vigil_restream_fmtp(hkey->data, hkey->len, VIGIL_CODEC_H265);
  g_assert_cmpstr(h, ==, "sprop-vps=QAEMAf//;sprop-sps=QgEBAWAB;sprop-pps=RAHBcg==");
  g_assert_null(vigil_restream_fmtp(NULL, 0, VIGIL_CODEC_H265));
}

static void test_sender_report(void)
{
  g_autoptr(GByteArray) out = g_byte_array_new();
  /* 2026-12-05 04:00:00.5 UTC */
  gint64 wallclock = G_GINT64_CONSTANT(1796443200500000);
  vigil_restream_sender_report(out, 3, 0x11223344, wallclock, 987654, 10, 12000);
  g_assert_cmpuint(out->len, ==, 48);
  g_assert_cmpuint(out->data[0], ==, '$');
  g_assert_cmpuint(out->data[1], ==, 3);
  g_assert_cmpuint((out->data[2] << 8) | out->data[3], ==, 44);
  guint32 ssrc = 0, rtp_time = 0;
  guint64 ntp = 0;
  g_assert_true(vigil_rtcp_sender_report(out->data + 4, 44, &ssrc, &ntp, &rtp_time));
  g_assert_cmpuint(ssrc, ==, 0x11223344);
  g_assert_cmpuint(rtp_time, ==, 987654);
  g_assert_cmpuint(ntp >> 32, ==, 1796443200u + 2208988800u);
  g_assert_cmpuint(ntp & 0xffffffff, ==, 0x80000000u);
  g_assert_cmpuint(out->data[4 + 28 + 1], ==, 202); /* SDES */
  g_assert_cmpmem(out->data + 4 + 28 + 10, 5, "vigil", 5);
}

static VigilRestreamParse parse(const char *text, VigilRestreamRequest *r, gsize *length)
{
  return vigil_restream_request_parse((const guint8 *)text, strlen(text), r, length);
}

typedef struct {
  GPtrArray *frames;
  GArray *times;
} AacGathered;

static void on_aac(const guint8 *data, gsize size, guint32 timestamp, gboolean damaged,
                   gpointer user_data)
{
  AacGathered *g = user_data;
  g_assert_false(damaged);
  g_ptr_array_add(g->frames, g_bytes_new(data, size));
  g_array_append_val(g->times, timestamp);
}

/* ADTS frames (AAC-LC, 44.1 kHz, stereo; one with a CRC) through our TS
 * muxer, back out, to RFC 3640 packets, through vigil's own depacketiser:
 * the raw frames byte for byte, 1024 samples apart, and the SDP's config. */
static void test_aac(void)
{
  const gsize raw_sizes[] = {10, 300, 1500};
  g_autoptr(GByteArray) adts = g_byte_array_new();
  g_autoptr(GPtrArray) raw = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  for (guint i = 0; i < G_N_ELEMENTS(raw_sizes); i++) {
    gboolean crc = i == 1;
    gsize header = crc ? 9 : 7, len = header + raw_sizes[i];
    guint8 h[9] = {0xff,
                   crc ? 0xf0 : 0xf1,
                   (1 << 6) | (4 << 2) | (2 >> 2), /* LC, 44100, channels 2 */
                   ((2 & 3) << 6) | (len >> 11),
                   (len >> 3) & 0xff,
                   ((len & 7) << 5) | 0x1f,
                   0xfc,
                   0x12,
                   0x34};
    g_byte_array_append(adts, h, header);
    guint8 *payload = g_malloc(raw_sizes[i]);
    for (gsize k = 0; k < raw_sizes[i]; k++)
      payload[k] = (guint8)(k * 7 + i);
    g_byte_array_append(adts, payload, raw_sizes[i]);
    g_ptr_array_add(raw, g_bytes_new_take(payload, raw_sizes[i]));
  }
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, TRUE);
  g_autoptr(GBytes) ts = vigil_ts_mux_audio(mux, adts->data, adts->len, 9000);
  g_autoptr(GBytes) es = vigil_restream_ts_audio(g_bytes_get_data(ts, NULL), g_bytes_get_size(ts));
  g_assert_nonnull(es);
  g_assert_cmpmem(g_bytes_get_data(es, NULL), g_bytes_get_size(es), adts->data, adts->len);
  g_assert_null(vigil_restream_ts_video(g_bytes_get_data(ts, NULL), g_bytes_get_size(ts)));

  guint rate = 0, channels = 0;
  g_autofree gchar *fmtp = vigil_restream_aac_fmtp(adts->data, adts->len, &rate, &channels);
  g_assert_cmpstr(fmtp, ==,
                  "streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; "
                  "indexlength=3; indexdeltalength=3; config=1210");
  g_assert_cmpuint(rate, ==, 44100);
  g_assert_cmpuint(channels, ==, 2);
  g_assert_null(vigil_restream_aac_fmtp(adts->data + 1, adts->len - 1, &rate, &channels));
  g_autofree gchar *text = g_strdup_printf("v=0\r\nm=audio 0 RTP/AVP 97\r\n"
                                           "a=rtpmap:97 MPEG4-GENERIC/44100/2\r\n"
                                           "a=fmtp:97 %s\r\n",
                                           fmtp);
  g_autoptr(VigilSdp) sdp = vigil_sdp_parse(text, strlen(text), NULL);
  g_assert_nonnull(sdp);
  const VigilSdpMedia *media = sdp->media->pdata[0];
  g_autoptr(GBytes) config = vigil_sdp_media_aac_config(media);
  const guint8 want_config[] = {0x12, 0x10};
  g_assert_cmpmem(g_bytes_get_data(config, NULL), g_bytes_get_size(config), want_config, 2);

  g_autoptr(GByteArray) out = g_byte_array_new();
  guint16 seq = 65535;
  /* A truncated last frame is left out. */
  guint n = vigil_restream_packetize_aac(out, adts->data, adts->len - 1, 2, 4000000000u, 0x01020304,
                                         &seq);
  g_assert_cmpuint(n, ==, 2);
  g_byte_array_set_size(out, 0);
  seq = 65535;
  n = vigil_restream_packetize_aac(out, adts->data, adts->len, 2, 4294966000u, 0x01020304, &seq);
  g_assert_cmpuint(n, ==, 3);
  g_assert_cmpuint(seq, ==, 2);
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_AAC, media);
  AacGathered g = {g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref),
                   g_array_new(FALSE, FALSE, sizeof(guint32))};
  gsize off = 0;
  for (guint i = 0; i < n; i++) {
    g_assert_cmpuint(out->data[off], ==, '$');
    g_assert_cmpuint(out->data[off + 1], ==, 2);
    gsize len = (out->data[off + 2] << 8) | out->data[off + 3];
    VigilRtpPacket p;
    g_assert_true(vigil_rtp_parse(out->data + off + 4, len, &p));
    g_assert_cmpuint(p.payload_type, ==, 97);
    g_assert_true(p.marker);
    g_assert_cmpuint(p.ssrc, ==, 0x01020304);
    g_assert_cmpuint(p.sequence, ==, (guint16)(65535 + i));
    vigil_rtp_depay_push(depay, &p, on_aac, &g);
    off += 4 + len;
  }
  g_assert_cmpuint(off, ==, out->len);
  g_assert_cmpuint(g.frames->len, ==, 3);
  for (guint i = 0; i < 3; i++) {
    g_assert_true(g_bytes_equal(g.frames->pdata[i], raw->pdata[i]));
    g_assert_cmpuint(g_array_index(g.times, guint32, i), ==, (guint32)(4294966000u + i * 1024));
  }
  g_ptr_array_unref(g.frames);
  g_array_unref(g.times);
}

static void test_request_parse(void)
{
  VigilRestreamRequest r;
  gsize length = 0;
  const char *ok = "DESCRIBE rtsp://h:1/cam RTSP/1.0\r\nCSeq: 3\r\nAccept:application/sdp \r\n"
                   "Content-Length: 4\r\n\r\nbodyOPTIONS";
  g_assert_cmpint(parse(ok, &r, &length), ==, VIGIL_RESTREAM_PARSE_OK);
  g_assert_cmpuint(length, ==, strlen(ok) - strlen("OPTIONS"));
  g_assert_cmpstr(r.method, ==, "DESCRIBE");
  g_assert_cmpstr(r.url, ==, "rtsp://h:1/cam");
  g_assert_cmpstr(vigil_restream_request_header(&r, "cseq"), ==, "3");
  g_assert_cmpstr(vigil_restream_request_header(&r, "Accept"), ==, "application/sdp");
  g_assert_null(vigil_restream_request_header(&r, "Session"));
  vigil_restream_request_clear(&r);

  g_assert_cmpint(parse("OPTIONS * RTSP/1.0\nCSeq: 1\n\n", &r, &length), ==,
                  VIGIL_RESTREAM_PARSE_OK);
  vigil_restream_request_clear(&r);
  g_assert_cmpint(parse("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n", &r, &length), ==,
                  VIGIL_RESTREAM_PARSE_MORE);
  g_assert_cmpint(parse("OPTIONS * RTSP/1.0\r\nContent-Length: 5\r\n\r\nab", &r, &length), ==,
                  VIGIL_RESTREAM_PARSE_MORE);
  const char *bad[] = {"GET / HTTP/1.1\r\n\r\n",
                       "OPTIONS *\r\n\r\n",
                       "options * RTSP/1.0\r\n\r\n",
                       "OPTIONS * RTSP/1.0\r\nno colon\r\n\r\n",
                       "OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
                       "OPTIONS  * RTSP/1.0\r\n\r\n",
                       "\r\n\r\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_cmpint(parse(bad[i], &r, &length), ==, VIGIL_RESTREAM_PARSE_BAD);
  const guint8 nul[] = "OPTIONS * RTSP/1.0\r\nX: a\0b\r\n\r\n";
  g_assert_cmpint(vigil_restream_request_parse(nul, sizeof nul - 1, &r, &length), ==,
                  VIGIL_RESTREAM_PARSE_BAD);
  g_assert_cmpint(parse("OPTIONS * RTSP/1.0\r\nContent-Length: 4097\r\n\r\n", &r, &length), ==,
                  VIGIL_RESTREAM_PARSE_TOO_LARGE);
  g_autofree gchar *big = g_strnfill(VIGIL_RESTREAM_MAX_REQUEST, 'a');
  g_assert_cmpint(parse(big, &r, &length), ==, VIGIL_RESTREAM_PARSE_TOO_LARGE);
}

static void test_url_and_transport(void)
{
  const char *cases[][2] = {{"rtsp://h:8554/cam", "cam"},
                            {"rtsp://u:p@h/cam_sub/", "cam_sub"},
                            {"rtsp://h/cam/trackID=0?x=1", "cam/trackID=0"},
                            {"/cam", "cam"},
                            {"rtsp://h", ""},
                            {"RTSPS://h:8554/cam/trackID=1", "cam/trackID=1"}};
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *path = vigil_restream_url_path(cases[i][0]);
    g_assert_cmpstr(path, ==, cases[i][1]);
  }
  g_assert_null(vigil_restream_url_path("cam"));
  g_assert_null(vigil_restream_url_path("http://h/cam"));
  guint8 channel = 99;
  g_assert_true(vigil_restream_transport_tcp("RTP/AVP/TCP;unicast;interleaved=2-3", &channel));
  g_assert_cmpuint(channel, ==, 2);
  g_assert_true(vigil_restream_transport_tcp("RTP/AVP;unicast;client_port=5000-5001,"
                                             "RTP/AVP/TCP;unicast",
                                             &channel));
  g_assert_cmpuint(channel, ==, 0);
  g_assert_false(vigil_restream_transport_tcp("RTP/AVP;unicast;client_port=5000-5001", &channel));
  g_assert_false(vigil_restream_transport_tcp(NULL, &channel));

  guint16 rtp = 0, rtcp = 0;
  g_assert_true(vigil_restream_transport_udp("RTP/AVP;unicast;client_port=5000-5001", &rtp, &rtcp));
  g_assert_cmpuint(rtp, ==, 5000);
  g_assert_cmpuint(rtcp, ==, 5001);
  g_assert_true(vigil_restream_transport_udp("RTP/AVP/TCP;interleaved=0-1,RTP/AVP/UDP;unicast;"
                                             "client_port=7000",
                                             &rtp, &rtcp));
  g_assert_cmpuint(rtp, ==, 7000);
  g_assert_cmpuint(rtcp, ==, 7001);
  g_assert_false(
      vigil_restream_transport_udp("RTP/AVP;multicast;client_port=5000-5001", &rtp, &rtcp));
  g_assert_false(vigil_restream_transport_udp("RTP/AVP;unicast", &rtp, &rtcp));
  g_assert_false(vigil_restream_transport_udp("RTP/AVP;unicast;client_port=0-1", &rtp, &rtcp));
  g_assert_false(vigil_restream_transport_udp("RTP/AVP;unicast;client_port=x", &rtp, &rtcp));
  g_assert_false(vigil_restream_transport_udp("RTP/AVP/TCP;interleaved=0-1", &rtp, &rtcp));
  g_assert_false(vigil_restream_transport_udp(NULL, &rtp, &rtcp));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/restream/ts-video-round-trip", test_ts_video_round_trip);
  g_test_add_func("/restream/packetize-h264", test_packetize_h264);
  g_test_add_func("/restream/packetize-h265", test_packetize_h265);
  g_test_add_func("/restream/fmtp", test_fmtp);
  g_test_add_func("/restream/sender-report", test_sender_report);
  g_test_add_func("/restream/aac", test_aac);
  g_test_add_func("/restream/request-parse", test_request_parse);
  g_test_add_func("/restream/url-and-transport", test_url_and_transport);
  return g_test_run();
}
