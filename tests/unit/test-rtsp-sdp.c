/* Unit tests for rtsp/sdp.c: SDPs as real cameras and servers send them,
 * parameter sets, AAC config and control URL resolution. */
#include <string.h>

#include "core/error.h"
#include "rtsp/rtsp.h"

static VigilSdp *parse_ok(const char *text)
{
  g_autoptr(GError) error = NULL;
  VigilSdp *sdp = vigil_sdp_parse(text, strlen(text), &error);
  g_assert_no_error(error);
  g_assert_nonnull(sdp);
  return sdp;
}

static VigilSdpMedia *media_at(VigilSdp *sdp, guint i)
{
  g_assert_cmpuint(i, <, sdp->media->len);
  return g_ptr_array_index(sdp->media, i);
}

static void assert_bytes(GBytes *bytes, const guint8 *want, gsize size)
{
  g_assert_nonnull(bytes);
  gsize got_size;
  const guint8 *got = g_bytes_get_data(bytes, &got_size);
  g_assert_cmpmem(got, got_size, want, size);
}

/* A Hikvision camera: CRLF, absolute controls with a query, session-level
 * control before the first m=, blanks after ';', G.711 audio, vendor lines. */
static const char hikvision[] =
    "v=0\r\n"
    "o=- 1109162014219182 1109162014219192 IN IP4 192.168.1.64\r\n"
    "s=Media Presentation\r\n"
    "e=NONE\r\n"
    "b=AS:5050\r\n"
    "t=0 0\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:5000\r\n"
    "a=recvonly\r\n"
    "a=x-dimensions:1920,1080\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 profile-level-id=420029; packetization-mode=1; "
    "sprop-parameter-sets=Z00AKZpkA8ARPyzUBAQFAAADA+gAAOpgBA==,aO48gA==\r\n"
    "m=audio 0 RTP/AVP 0\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:50\r\n"
    "a=recvonly\r\n"
    "a=control:rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=2?transportmode=unicast\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=Media_header:MEDIAINFO=494D4B48010100000400010010710110401F000000FA0000000000;\r\n"
    "a=appversion:1.0\r\n";

static void test_hikvision(void)
{
  g_autoptr(VigilSdp) sdp = parse_ok(hikvision);
  g_assert_cmpstr(sdp->control, ==,
                  "rtsp://192.168.1.64:554/Streaming/Channels/101/?transportmode=unicast");
  g_assert_cmpuint(sdp->media->len, ==, 2);

  VigilSdpMedia *video = media_at(sdp, 0);
  g_assert_cmpstr(video->media, ==, "video");
  g_assert_cmpint(video->payload_type, ==, 96);
  g_assert_cmpstr(video->encoding, ==, "H264");
  g_assert_cmpint(video->clock_rate, ==, 90000);
  g_assert_cmpint(video->channels, ==, 1);
  g_assert_cmpstr(video->control, ==,
                  "rtsp://192.168.1.64:554/Streaming/Channels/101/trackID=1?transportmode=unicast");
  g_assert_cmpstr(vigil_sdp_media_fmtp(video, "packetization-mode"), ==, "1");
  g_assert_cmpstr(vigil_sdp_media_fmtp(video, "profile-level-id"), ==, "420029");
  g_assert_null(vigil_sdp_media_fmtp(video, "sprop-vps"));
  static const guint8 sets[] = {0,    0,    0,    1,    0x67, 0x4D, 0x00, 0x29, 0x9A, 0x64,
                                0x03, 0xC0, 0x11, 0x3F, 0x2C, 0xD4, 0x04, 0x04, 0x05, 0x00,
                                0x00, 0x03, 0x03, 0xE8, 0x00, 0x00, 0xEA, 0x60, 0x04, 0,
                                0,    0,    1,    0x68, 0xEE, 0x3C, 0x80};
  g_autoptr(GBytes) ps = vigil_sdp_media_parameter_sets(video);
  assert_bytes(ps, sets, sizeof sets);
  g_assert_null(vigil_sdp_media_aac_config(video));

  VigilSdpMedia *audio = media_at(sdp, 1);
  g_assert_cmpstr(audio->media, ==, "audio");
  g_assert_cmpint(audio->payload_type, ==, 0);
  g_assert_cmpstr(audio->encoding, ==, "PCMU");
  g_assert_cmpint(audio->clock_rate, ==, 8000);
  g_assert_null(vigil_sdp_media_parameter_sets(audio));

  /* an absolute control stays as it is, whatever the base */
  g_autofree gchar *url =
      vigil_rtsp_resolve_control("rtsp://192.168.1.64/Streaming/Channels/101", video->control);
  g_assert_cmpstr(url, ==, video->control);
}

/* A Dahua camera: LF only, "a=control:*" at session level, relative
 * controls, AAC with config and a base URL with a query. */
static const char dahua[] =
    "v=0\n"
    "o=- 2254484327 2254484327 IN IP4 0.0.0.0\n"
    "s=Media Server\n"
    "c=IN IP4 0.0.0.0\n"
    "t=0 0\n"
    "a=control:*\n"
    "a=packetization-supported:DH\n"
    "a=rtppayload-supported:DH\n"
    "a=range:npt=now-\n"
    "m=video 0 RTP/AVP 96\n"
    "a=control:trackID=0\n"
    "a=framerate:25.000000\n"
    "a=rtpmap:96 H264/90000\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=4D002A;"
    "sprop-parameter-sets=Z00AKp2oHgCJ+WbgICAoAAADAAgAAAMBlCA=,aO48gA==\n"
    "a=recvonly\n"
    "m=audio 0 RTP/AVP 97\n"
    "a=control:trackID=1\n"
    "a=rtpmap:97 MPEG4-GENERIC/16000/1\n"
    "a=fmtp:97 streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;sizelength=13;"
    "indexlength=3;indexdeltalength=3\n"
    "a=recvonly\n";

static void test_dahua(void)
{
  g_autoptr(VigilSdp) sdp = parse_ok(dahua);
  g_assert_cmpstr(sdp->control, ==, "*");
  g_assert_cmpuint(sdp->media->len, ==, 2);
  VigilSdpMedia *video = media_at(sdp, 0), *audio = media_at(sdp, 1);
  g_assert_cmpstr(video->control, ==, "trackID=0");
  g_assert_cmpstr(vigil_sdp_media_fmtp(video, "profile-level-id"), ==, "4D002A");
  static const guint8 sets[] = {0,    0,    0,    1,    0x67, 0x4D, 0x00, 0x2A, 0x9D, 0xA8,
                                0x1E, 0x00, 0x89, 0xF9, 0x66, 0xE0, 0x20, 0x20, 0x28, 0x00,
                                0x00, 0x03, 0x00, 0x08, 0x00, 0x00, 0x03, 0x01, 0x94, 0x20,
                                0,    0,    0,    1,    0x68, 0xEE, 0x3C, 0x80};
  g_autoptr(GBytes) ps = vigil_sdp_media_parameter_sets(video);
  assert_bytes(ps, sets, sizeof sets);

  g_assert_cmpstr(audio->encoding, ==, "MPEG4-GENERIC");
  g_assert_cmpint(audio->payload_type, ==, 97);
  g_assert_cmpint(audio->clock_rate, ==, 16000);
  g_assert_cmpint(audio->channels, ==, 1);
  g_assert_cmpstr(vigil_sdp_media_fmtp(audio, "mode"), ==, "AAC-hbr");
  g_assert_cmpstr(vigil_sdp_media_fmtp(audio, "sizelength"), ==, "13");
  static const guint8 config[] = {0x14, 0x08};
  g_autoptr(GBytes) asc = vigil_sdp_media_aac_config(audio);
  assert_bytes(asc, config, sizeof config);

  /* the query stays, the track is appended after it: what Dahua expects */
  const char *base = "rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0";
  g_autofree gchar *v = vigil_rtsp_resolve_control(base, video->control);
  g_autofree gchar *a = vigil_rtsp_resolve_control(base, audio->control);
  g_autofree gchar *s = vigil_rtsp_resolve_control(base, sdp->control);
  g_assert_cmpstr(v, ==, "rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0/trackID=0");
  g_assert_cmpstr(a, ==, "rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0/trackID=1");
  g_assert_cmpstr(s, ==, base);
  /* its Content-Base ends with '/': no second one */
  g_autofree gchar *slashed = vigil_rtsp_resolve_control(
      "rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0/", video->control);
  g_assert_cmpstr(slashed, ==,
                  "rtsp://192.168.1.108:554/cam/realmonitor?channel=1&subtype=0/trackID=0");
}

/* gst-rtsp-server (vigil-fakecam): stream=N controls, stereo AAC. */
static const char gst[] =
    "v=0\r\n"
    "o=- 1188340656180883 1 IN IP4 127.0.0.1\r\n"
    "s=Session streamed with GStreamer\r\n"
    "i=rtsp-server\r\n"
    "t=0 0\r\n"
    "a=tool:GStreamer\r\n"
    "a=type:broadcast\r\n"
    "a=control:*\r\n"
    "a=range:npt=0-\r\n"
    "m=video 0 RTP/AVP 96\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:2000\r\n"
    "a=rtpmap:96 H264/90000\r\n"
    "a=framerate:30\r\n"
    "a=fmtp:96 packetization-mode=1;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAA8jxYuS,aMuMsg==;"
    "profile-level-id=42c01e;level-asymmetry-allowed=1\r\n"
    "a=ts-refclk:local\r\n"
    "a=mediaclk:sender\r\n"
    "a=control:stream=0\r\n"
    "m=audio 0 RTP/AVP 97\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "b=AS:128\r\n"
    "a=rtpmap:97 MPEG4-GENERIC/48000/2\r\n"
    "a=fmtp:97 streamtype=5;profile-level-id=2;mode=AAC-hbr;config=1190;sizelength=13;"
    "indexlength=3;indexdeltalength=3\r\n"
    "a=control:stream=1\r\n";

static void test_gst_rtsp_server(void)
{
  g_autoptr(VigilSdp) sdp = parse_ok(gst);
  g_assert_cmpstr(sdp->control, ==, "*");
  VigilSdpMedia *video = media_at(sdp, 0), *audio = media_at(sdp, 1);
  g_assert_cmpstr(video->control, ==, "stream=0");
  g_assert_cmpstr(vigil_sdp_media_fmtp(video, "level-asymmetry-allowed"), ==, "1");
  static const guint8 sets[] = {0,    0,    0,    1,    0x67, 0x42, 0xC0, 0x1E, 0xD9, 0x03, 0xC5,
                                0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0F, 0x23,
                                0xC5, 0x8B, 0x92, 0,    0,    0,    1,    0x68, 0xCB, 0x8C, 0xB2};
  g_autoptr(GBytes) ps = vigil_sdp_media_parameter_sets(video);
  assert_bytes(ps, sets, sizeof sets);
  g_assert_cmpint(audio->clock_rate, ==, 48000);
  g_assert_cmpint(audio->channels, ==, 2);
  static const guint8 config[] = {0x11, 0x90};
  g_autoptr(GBytes) asc = vigil_sdp_media_aac_config(audio);
  assert_bytes(asc, config, sizeof config);
  g_autofree gchar *url = vigil_rtsp_resolve_control("rtsp://127.0.0.1:8554/cam/", audio->control);
  g_assert_cmpstr(url, ==, "rtsp://127.0.0.1:8554/cam/stream=1");
}

/* H.265: the three parameter-set lists come out VPS, SPS, PPS whatever the
 * fmtp order; lower-case encoding names are upper-cased. */
static void test_h265(void)
{
  static const char text[] =
      "v=0\r\n"
      "s=H.265 Video\r\n"
      "t=0 0\r\n"
      "m=video 0 RTP/AVP 98\r\n"
      "a=rtpmap:98 h265/90000\r\n"
      "a=fmtp:98 profile-id=1; sprop-sps=QgEBAWAAAAMAsAAAAwAAAwB4oAPAgBDlja5JMvTcBAQEAg==; "
      "sprop-pps=RAHA8vA8kAA=; sprop-vps=QAEMAf//AWAAAAMAsAAAAwAAAwB4FwJA\r\n"
      "a=control:trackID=1\r\n";
  g_autoptr(VigilSdp) sdp = parse_ok(text);
  g_assert_null(sdp->control);
  VigilSdpMedia *video = media_at(sdp, 0);
  g_assert_cmpstr(video->encoding, ==, "H265");
  static const guint8 sets[] = {
      0,    0,    0,    1,    0x40, 0x01, 0x0C, 0x01, 0xFF, 0xFF, 0x01, 0x60, 0x00,
      0x00, 0x03, 0x00, 0xB0, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0x17,
      0x02, 0x40, 0,    0,    0,    1,    0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00,
      0x03, 0x00, 0xB0, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x78, 0xA0, 0x03,
      0xC0, 0x80, 0x10, 0xE5, 0x8D, 0xAE, 0x49, 0x32, 0xF4, 0xDC, 0x04, 0x04, 0x04,
      0x02, 0,    0,    0,    1,    0x44, 0x01, 0xC0, 0xF2, 0xF0, 0x3C, 0x90, 0x00};
  g_autoptr(GBytes) ps = vigil_sdp_media_parameter_sets(video);
  assert_bytes(ps, sets, sizeof sets);
}

static GBytes *sets_of(const char *fmtp_line)
{
  g_autofree gchar *text = g_strdup_printf(
      "v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000\na=fmtp:96 %s\n", fmtp_line);
  g_autoptr(VigilSdp) sdp = parse_ok(text);
  return vigil_sdp_media_parameter_sets(media_at(sdp, 0));
}

static void test_parameter_sets(void)
{
  static const guint8 sps_pps[] = {0,    0,    0,    1,    0x67, 0x42, 0x00, 0x29, 0xE2, 0x90,
                                   0x14, 0x07, 0xB6, 0x02, 0xDC, 0x04, 0x04, 0x06, 0x90, 0x78,
                                   0x91, 0x15, 0,    0,    0,    1,    0x68, 0xCE, 0x3C, 0x80};
  /* the brief's camera: blanks after ';' */
  g_autoptr(GBytes) a =
      sets_of("packetization-mode=1; sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,"
              "aM48gA==;profile-level-id=420029");
  assert_bytes(a, sps_pps, sizeof sps_pps);
  /* no padding, blanks around the words, a trailing comma */
  g_autoptr(GBytes) b =
      sets_of("sprop-parameter-sets= Z0IAKeKQFAe2AtwEBAaQeJEV , aM48gA   ,  ;packetization-mode=1");
  assert_bytes(b, sps_pps, sizeof sps_pps);
  /* trailing blanks at the end of the line */
  g_autoptr(GBytes) c = sets_of("sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==   ");
  assert_bytes(c, sps_pps, sizeof sps_pps);
  /* the parameter name in another case */
  g_autoptr(GBytes) d = sets_of("Sprop-Parameter-Sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM48gA==");
  assert_bytes(d, sps_pps, sizeof sps_pps);

  /* not base64: none at all rather than half */
  g_autoptr(GBytes) bad_char = sets_of("sprop-parameter-sets=Z0IAKeKQFAe2AtwEBAaQeJEV,aM4*gA==");
  g_assert_null(bad_char);
  g_autoptr(GBytes) bad_length = sets_of("sprop-parameter-sets=Z0IAK");
  g_assert_null(bad_length);
  g_autoptr(GBytes) bad_pad = sets_of("sprop-parameter-sets=aM48g===");
  g_assert_null(bad_pad);
  g_autoptr(GBytes) empty = sets_of("sprop-parameter-sets=");
  g_assert_null(empty);
  g_autoptr(GBytes) none = sets_of("packetization-mode=1");
  g_assert_null(none);
}

static void test_aac_config(void)
{
  const char *text = "v=0\nm=audio 0 RTP/AVP 97\na=rtpmap:97 mpeg4-generic/44100/2\n"
                     "a=fmtp:97 streamtype=5; config=1210 ;mode=AAC-hbr\n"
                     "m=audio 0 RTP/AVP 98\na=rtpmap:98 MPEG4-GENERIC/8000\n"
                     "a=fmtp:98 config=14X8\n"
                     "m=audio 0 RTP/AVP 99\na=rtpmap:99 MPEG4-GENERIC/8000\n"
                     "a=fmtp:99 config=140\n"
                     "m=audio 0 RTP/AVP 100\na=rtpmap:100 MP4A-LATM/8000\n"
                     "a=fmtp:100 config=40002A10\n";
  g_autoptr(VigilSdp) sdp = parse_ok(text);
  static const guint8 config[] = {0x12, 0x10};
  g_autoptr(GBytes) ok = vigil_sdp_media_aac_config(media_at(sdp, 0));
  assert_bytes(ok, config, sizeof config);
  g_assert_cmpint(media_at(sdp, 0)->channels, ==, 2);
  g_assert_null(vigil_sdp_media_aac_config(media_at(sdp, 1))); /* not hex */
  g_assert_null(vigil_sdp_media_aac_config(media_at(sdp, 2))); /* odd length */
  g_assert_null(vigil_sdp_media_aac_config(media_at(sdp, 3))); /* LATM's is another thing */
}

static void test_static_payloads(void)
{
  const char *text = "v=0\nm=audio 0 RTP/AVP 8\nm=video 0 RTP/AVP 26\nm=audio 0 RTP/AVP 14\n"
                     "m=audio 0 RTP/AVP 0 8\na=rtpmap:8 PCMA/8000\n"
                     "m=audio 0 RTP/AVP 3\n"
                     "m=application 0 RTP/AVP 107\na=rtpmap:107 vnd.onvif.metadata/90000\n";
  g_autoptr(VigilSdp) sdp = parse_ok(text);
  g_assert_cmpuint(sdp->media->len, ==, 6);
  g_assert_cmpstr(media_at(sdp, 0)->encoding, ==, "PCMA");
  g_assert_cmpint(media_at(sdp, 0)->clock_rate, ==, 8000);
  g_assert_cmpstr(media_at(sdp, 1)->encoding, ==, "JPEG");
  g_assert_cmpint(media_at(sdp, 1)->clock_rate, ==, 90000);
  g_assert_cmpstr(media_at(sdp, 2)->encoding, ==, "MPA");
  g_assert_cmpint(media_at(sdp, 2)->clock_rate, ==, 90000);
  /* the first format decides; an rtpmap of another one does not apply */
  g_assert_cmpint(media_at(sdp, 3)->payload_type, ==, 0);
  g_assert_cmpstr(media_at(sdp, 3)->encoding, ==, "PCMU");
  /* a static type outside the table: unknown */
  g_assert_null(media_at(sdp, 4)->encoding);
  g_assert_cmpint(media_at(sdp, 4)->clock_rate, ==, 0);
  g_assert_cmpstr(media_at(sdp, 5)->media, ==, "application");
  g_assert_cmpstr(media_at(sdp, 5)->encoding, ==, "VND.ONVIF.METADATA");
}

static void test_broken(void)
{
  g_autoptr(GError) error = NULL;
  /* no m= line */
  const char *no_media = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\na=control:*\r\n";
  g_assert_null(vigil_sdp_parse(no_media, strlen(no_media), &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);
  /* not SDP at all */
  const char *html = "<html><body>m=video 0 RTP/AVP 96</body></html>";
  g_assert_null(vigil_sdp_parse(html, strlen(html), &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);
  g_assert_null(vigil_sdp_parse("", 0, &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);
  /* only a malformed m= line: no media */
  const char *bad_m = "v=0\nm=video\na=control:trackID=1\n";
  g_assert_null(vigil_sdp_parse(bad_m, strlen(bad_m), &error));
  g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  g_clear_error(&error);

  /* a malformed m= keeps its attributes away from the track before it;
   * absurd lines are skipped */
  GString *text = g_string_new("v=0\nm=video 0 RTP/AVP 96\na=control:trackID=1\n"
                               "a=rtpmap:96 H264/90000/abc\n"
                               "a=rtpmap:96 /90000\n"
                               "a=fmtp:9 x=1\na=fmtp:960 y=1\na=fmtp:96\n"
                               "m=audio\na=control:trackID=9\na=rtpmap:96 PCMU/8000\n"
                               "m=audio 0 RTP/AVP xx\na=rtpmap:96 PCMU/8000\n"
                               "a=control:trackID=2\na=");
  for (int i = 0; i < 20000; i++)
    g_string_append_c(text, 'x');
  g_string_append(text, "\n");
  g_autoptr(VigilSdp) sdp = vigil_sdp_parse(text->str, text->len, &error);
  g_string_free(text, TRUE);
  g_assert_no_error(error);
  g_assert_cmpuint(sdp->media->len, ==, 2);
  g_assert_null(sdp->control);
  VigilSdpMedia *video = media_at(sdp, 0), *other = media_at(sdp, 1);
  g_assert_cmpstr(video->control, ==, "trackID=1");
  g_assert_cmpstr(video->encoding, ==, "H264");
  g_assert_cmpint(video->clock_rate, ==, 90000);
  g_assert_cmpint(video->channels, ==, 1);
  g_assert_null(vigil_sdp_media_fmtp(video, "x"));
  g_assert_null(vigil_sdp_media_fmtp(video, "y"));
  g_assert_cmpint(other->payload_type, ==, -1);
  g_assert_null(other->encoding);
  g_assert_cmpstr(other->control, ==, "trackID=2");
}

/* @size bounds the text: nothing after it is read, a NUL is not needed */
static void test_size_bounds(void)
{
  const char *cut = strstr(dahua, "a=rtpmap:97");
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSdp) sdp = vigil_sdp_parse(dahua, (gsize)(cut - dahua), &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sdp->media->len, ==, 2);
  g_assert_null(media_at(sdp, 1)->encoding);
  g_assert_cmpint(media_at(sdp, 1)->clock_rate, ==, 0);
  /* cut inside the last line: "a=control:track" */
  const char *control = strstr(dahua, "a=control:trackID=1");
  g_autoptr(VigilSdp) short_sdp = vigil_sdp_parse(dahua, (gsize)(control - dahua) + 15, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(media_at(short_sdp, 1)->control, ==, "track");
  /* a copy with no NUL after it */
  gsize size = strlen(gst);
  guint8 *copy = g_memdup2(gst, size);
  g_autoptr(VigilSdp) copied = vigil_sdp_parse((const char *)copy, size, &error);
  g_free(copy);
  g_assert_no_error(error);
  g_assert_cmpstr(media_at(copied, 1)->control, ==, "stream=1");
}

static void test_media_limit(void)
{
  GString *text = g_string_new("v=0\n");
  for (int i = 0; i < 100; i++)
    g_string_append_printf(text, "m=video 0 RTP/AVP 96\na=control:trackID=%d\n", i);
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilSdp) sdp = vigil_sdp_parse(text->str, text->len, &error);
  g_string_free(text, TRUE);
  g_assert_no_error(error);
  g_assert_cmpuint(sdp->media->len, ==, 64);
  g_assert_null(sdp->control); /* the 65th track's control is no session's */
  g_assert_cmpstr(media_at(sdp, 63)->control, ==, "trackID=63");
}

static void test_resolve_control(void)
{
  static const struct {
    const char *base, *control, *want;
  } cases[] = {
      {"rtsp://h/live", "trackID=1", "rtsp://h/live/trackID=1"},
      {"rtsp://h/live/", "trackID=1", "rtsp://h/live/trackID=1"},
      {"rtsp://h/live", "/trackID=1", "rtsp://h/live/trackID=1"},
      {"rtsp://h/live/", "/trackID=1", "rtsp://h/live/trackID=1"},
      {"rtsp://h/live", "*", "rtsp://h/live"},
      {"rtsp://h/live", NULL, "rtsp://h/live"},
      {"rtsp://h/live", "", "rtsp://h/live"},
      {"rtsp://h/live", "rtsp://other/track1", "rtsp://other/track1"},
      {"rtsp://h/live", "RTSP://Other/track1", "RTSP://Other/track1"},
      {"rtsp://h/live", "rtsps://other/track1", "rtsps://other/track1"},
      {"rtsps://h/live", "RtspS://x/y", "RtspS://x/y"},
      /* not an rtsp URL: relative */
      {"rtsp://h/live", "rtspx://x", "rtsp://h/live/rtspx://x"},
      {"rtsp://h/cam/realmonitor?channel=1&subtype=0", "trackID=0",
       "rtsp://h/cam/realmonitor?channel=1&subtype=0/trackID=0"},
      {"", "trackID=1", "/trackID=1"},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree gchar *got = vigil_rtsp_resolve_control(cases[i].base, cases[i].control);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdp/hikvision", test_hikvision);
  g_test_add_func("/sdp/dahua", test_dahua);
  g_test_add_func("/sdp/gst-rtsp-server", test_gst_rtsp_server);
  g_test_add_func("/sdp/h265", test_h265);
  g_test_add_func("/sdp/parameter-sets", test_parameter_sets);
  g_test_add_func("/sdp/aac-config", test_aac_config);
  g_test_add_func("/sdp/static-payloads", test_static_payloads);
  g_test_add_func("/sdp/broken", test_broken);
  g_test_add_func("/sdp/size-bounds", test_size_bounds);
  g_test_add_func("/sdp/media-limit", test_media_limit);
  g_test_add_func("/sdp/resolve-control", test_resolve_control);
  return g_test_run();
}
