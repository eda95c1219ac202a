/* Unit tests for rtsp/rtp.c: RTP headers, RTCP sender reports, and the H.264,
 * H.265 and AAC depacketisers down to the exact bytes they hand on. */
#include <string.h>

#include "rtsp/rtsp.h"

/* ------------------------------------------------------------------------
 * RTP and RTCP headers
 * ------------------------------------------------------------------------ */

static void test_parse_plain(void)
{
  const guint8 data[] = {0x80, 0xE0, 0x12, 0x34, 0xDE, 0xAD, 0xBE,
                         0xEF, 0x01, 0x02, 0x03, 0x04, 0x65, 0x88};
  VigilRtpPacket p;
  g_assert_true(vigil_rtp_parse(data, sizeof data, &p));
  g_assert_cmpuint(p.payload_type, ==, 96);
  g_assert_true(p.marker);
  g_assert_cmpuint(p.sequence, ==, 0x1234);
  g_assert_cmpuint(p.timestamp, ==, 0xDEADBEEF);
  g_assert_cmpuint(p.ssrc, ==, 0x01020304);
  g_assert_true(p.payload == data + 12);
  g_assert_cmpuint(p.payload_size, ==, 2);
  /* a header with nothing after it is a packet with an empty payload */
  g_assert_true(vigil_rtp_parse(data, 12, &p));
  g_assert_cmpuint(p.payload_size, ==, 0);
}

static void test_parse_csrc_extension_padding(void)
{
  /* 2 CSRCs, an extension of 1 word, 3 bytes of padding */
  const guint8 data[] = {0xB2, 0x60, 0x00, 0x01, 0,    0,    0,    9,    0, 0, 0, 7, /* header */
                         0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,             /* CSRCs */
                         0xBE, 0xDE, 0x00, 0x01, 0x10, 0xAA, 0x00, 0x00,             /* extension */
                         0x41, 0x9A, 0x01,                                           /* payload */
                         0x00, 0x00, 0x03};                                          /* padding */
  VigilRtpPacket p;
  g_assert_true(vigil_rtp_parse(data, sizeof data, &p));
  g_assert_false(p.marker);
  g_assert_cmpuint(p.timestamp, ==, 9);
  g_assert_cmpuint(p.ssrc, ==, 7);
  g_assert_cmpmem(p.payload, p.payload_size, data + 28, 3);

  /* every cut of it is either still a packet or rejected, never an overread */
  for (gsize size = 0; size < sizeof data; size++) {
    guint8 *copy = g_memdup2(data, size);
    gboolean ok = vigil_rtp_parse(copy, size, &p);
    if (ok)
      g_assert_cmpuint((gsize)(p.payload - copy) + p.payload_size, <=, size);
    g_free(copy);
  }
  /* cut inside the CSRCs, the extension header, the extension */
  g_assert_false(vigil_rtp_parse(data, 19, &p));
  g_assert_false(vigil_rtp_parse(data, 22, &p));
  g_assert_false(vigil_rtp_parse(data, 27, &p));

  /* padding that eats the whole payload: empty; beyond it: rejected */
  guint8 pad[] = {0xA0, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x41, 0x00, 0x03};
  g_assert_true(vigil_rtp_parse(pad, sizeof pad, &p));
  g_assert_cmpuint(p.payload_size, ==, 0);
  pad[14] = 4;
  g_assert_false(vigil_rtp_parse(pad, sizeof pad, &p));
  pad[14] = 0; /* a padding count must count itself */
  g_assert_false(vigil_rtp_parse(pad, sizeof pad, &p));
  /* padding bit on a bare header: the "count" is in the header */
  g_assert_false(vigil_rtp_parse(pad, 12, &p));
}

static void test_parse_rejects(void)
{
  VigilRtpPacket p;
  const guint8 short_packet[] = {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  g_assert_false(vigil_rtp_parse(short_packet, sizeof short_packet, &p));
  g_assert_false(vigil_rtp_parse(NULL, 0, &p));
  const guint8 version1[] = {0x40, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x65};
  g_assert_false(vigil_rtp_parse(version1, sizeof version1, &p));
  /* 15 CSRCs announced, none there */
  const guint8 csrc[] = {0x8F, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x65, 0, 0, 0};
  g_assert_false(vigil_rtp_parse(csrc, sizeof csrc, &p));
  /* an extension longer than the packet */
  const guint8 ext[] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xBE, 0xDE, 0xFF, 0xFF, 0x65};
  g_assert_false(vigil_rtp_parse(ext, sizeof ext, &p));
  /* an RTCP sender report is not RTP */
  const guint8 sr[] = {0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  g_assert_false(vigil_rtp_parse(sr, sizeof sr, &p));
}

static void test_rtcp_sender_report(void)
{
  const guint8 compound[] = {
      /* RR: one report block (32 bytes) */
      0x81, 201, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, /* header, sender SSRC */
      0xAA, 0xAA, 0xAA, 0xAA, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
      /* SR, no report blocks (28 bytes) */
      0x80, 200, 0x00, 0x06, 0x12, 0x34, 0x56, 0x78,  /* header, SSRC */
      0xE8, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, /* NTP */
      0x00, 0x01, 0x5F, 0x90,                         /* RTP time 90000 */
      0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, /* counts */
      /* SDES: one chunk with a CNAME "cam" (16 bytes) */
      0x81, 202, 0x00, 0x03, 0x12, 0x34, 0x56, 0x78, 0x01, 0x03, 'c', 'a', 'm', 0x00, 0x00, 0x00};
  guint32 ssrc = 0, rtp_time = 0;
  guint64 ntp = 0;
  g_assert_true(vigil_rtcp_sender_report(compound, sizeof compound, &ssrc, &ntp, &rtp_time));
  g_assert_cmpuint(ssrc, ==, 0x12345678);
  g_assert_cmphex(ntp, ==, G_GUINT64_CONSTANT(0xE800000180000000));
  g_assert_cmpuint(rtp_time, ==, 90000);

  /* the RR alone, or the compound cut inside the SR: none */
  g_assert_false(vigil_rtcp_sender_report(compound, 32, &ssrc, &ntp, &rtp_time));
  g_assert_false(vigil_rtcp_sender_report(compound, 32 + 27, &ssrc, &ntp, &rtp_time));
  g_assert_false(vigil_rtcp_sender_report(compound, 2, &ssrc, &ntp, &rtp_time));
  g_assert_false(vigil_rtcp_sender_report(NULL, 0, &ssrc, &ntp, &rtp_time));
  /* an SR too short for its fields is skipped, not read past */
  const guint8 short_sr[] = {0x80, 200, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 2};
  g_assert_false(vigil_rtcp_sender_report(short_sr, sizeof short_sr, &ssrc, &ntp, &rtp_time));
  /* not version 2 */
  guint8 v1[sizeof compound];
  memcpy(v1, compound, sizeof compound);
  v1[0] = 0x41;
  g_assert_false(vigil_rtcp_sender_report(v1, sizeof v1, &ssrc, &ntp, &rtp_time));
}

/* ------------------------------------------------------------------------
 * Depacketisers
 * ------------------------------------------------------------------------ */

typedef struct {
  GPtrArray *data; /* of GBytes */
  GArray *timestamps;
  GArray *damaged;
} Sink;

static void sink_init(Sink *sink)
{
  sink->data = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
  sink->timestamps = g_array_new(FALSE, FALSE, sizeof(guint32));
  sink->damaged = g_array_new(FALSE, FALSE, sizeof(gboolean));
}

static void sink_clear(Sink *sink)
{
  g_ptr_array_unref(sink->data);
  g_array_unref(sink->timestamps);
  g_array_unref(sink->damaged);
}

static void sink_unit(const guint8 *data, gsize size, guint32 timestamp, gboolean damaged,
                      gpointer user_data)
{
  Sink *sink = user_data;
  g_assert_nonnull(data);
  g_ptr_array_add(sink->data, g_bytes_new(data, size));
  g_array_append_val(sink->timestamps, timestamp);
  g_array_append_val(sink->damaged, damaged);
}

static void assert_unit(Sink *sink, guint i, const guint8 *want, gsize size, guint32 timestamp,
                        gboolean damaged)
{
  g_assert_cmpuint(i, <, sink->data->len);
  gsize got_size;
  const guint8 *got = g_bytes_get_data(g_ptr_array_index(sink->data, i), &got_size);
  g_assert_cmpmem(got, got_size, want, size);
  g_assert_cmpuint(g_array_index(sink->timestamps, guint32, i), ==, timestamp);
  g_assert_cmpint(g_array_index(sink->damaged, gboolean, i), ==, damaged);
}

static void push(VigilRtpDepay *depay, Sink *sink, guint16 sequence, guint32 timestamp,
                 gboolean marker, const guint8 *payload, gsize size)
{
  VigilRtpPacket p = {.payload_type = 96,
                      .marker = marker,
                      .sequence = sequence,
                      .timestamp = timestamp,
                      .ssrc = 0x1234,
                      .payload = payload,
                      .payload_size = size};
  vigil_rtp_depay_push(depay, &p, sink_unit, sink);
}

#define PUSH(seq, ts, marker, ...)                                                                 \
  do {                                                                                             \
    const guint8 payload_[] = {__VA_ARGS__};                                                       \
    push(depay, &sink, seq, ts, marker, payload_, sizeof payload_);                                \
  } while (0)

/* an access unit that lost all its NAL units */
#define ASSERT_EMPTY(i, ts) assert_unit(&sink, i, NULL, 0, ts, TRUE)

#define ASSERT_UNIT(i, ts, damaged, ...)                                                           \
  do {                                                                                             \
    const guint8 want_[] = {__VA_ARGS__};                                                          \
    assert_unit(&sink, i, want_, sizeof want_, ts, damaged);                                       \
  } while (0)

static void test_h264_single(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  PUSH(100, 3000, FALSE, 0x67, 0x42, 0x00, 0x1E);
  PUSH(101, 3000, FALSE, 0x68, 0xCE);
  g_assert_cmpuint(sink.data->len, ==, 0);
  PUSH(102, 3000, TRUE, 0x65, 0x88, 0x84);
  g_assert_cmpuint(sink.data->len, ==, 1);
  ASSERT_UNIT(0, 3000, FALSE, 0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1E, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0,
              1, 0x65, 0x88, 0x84);
  /* undefined types (0, 30, 31) and empty payloads are ignored */
  PUSH(103, 6000, FALSE, 0x00, 0x11);
  PUSH(104, 6000, FALSE, 0x1E, 0x11);
  push(depay, &sink, 105, 6000, FALSE, NULL, 0);
  PUSH(106, 6000, TRUE, 0x41, 0x9A);
  ASSERT_UNIT(1, 6000, FALSE, 0, 0, 0, 1, 0x41, 0x9A);
  /* nothing gathered: flush hands on nothing */
  vigil_rtp_depay_flush(depay, sink_unit, &sink);
  g_assert_cmpuint(sink.data->len, ==, 2);
  sink_clear(&sink);
}

static void test_h264_stap_a(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* SPS and PPS in one STAP-A (NRI 3), then the slice */
  PUSH(1, 90000, FALSE, 0x78, 0x00, 0x03, 0x67, 0x42, 0x00, 0x00, 0x02, 0x68, 0xCE);
  PUSH(2, 90000, TRUE, 0x65, 0xB8);
  ASSERT_UNIT(0, 90000, FALSE, 0, 0, 0, 1, 0x67, 0x42, 0x00, 0, 0, 0, 1, 0x68, 0xCE, 0, 0, 0, 1,
              0x65, 0xB8);
  /* a size past the end: the whole units before it stay, damaged */
  PUSH(3, 93000, TRUE, 0x78, 0x00, 0x01, 0x09, 0x00, 0x05, 0x41, 0x9A);
  ASSERT_UNIT(1, 93000, TRUE, 0, 0, 0, 1, 0x09);
  /* a zero size is no NAL unit */
  PUSH(4, 96000, TRUE, 0x78, 0x00, 0x00, 0x00, 0x01, 0x09);
  ASSERT_EMPTY(2, 96000);
  sink_clear(&sink);
}

static void test_h264_fu_a(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* IDR 0x65 in three pieces: indicator 0x7C (NRI 3, type 28) */
  PUSH(7, 1000, FALSE, 0x7C, 0x85, 0xAA, 0xBB);
  PUSH(8, 1000, FALSE, 0x7C, 0x05, 0xCC, 0xDD);
  PUSH(9, 1000, TRUE, 0x7C, 0x45, 0xEE, 0xFF);
  ASSERT_UNIT(0, 1000, FALSE, 0, 0, 0, 1, 0x65, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF);
  /* the NRI comes from the indicator, the type from the FU header; a
   * single NAL unit before it in the same access unit */
  PUSH(10, 4000, FALSE, 0x06, 0x05, 0x01);
  PUSH(11, 4000, FALSE, 0x5C, 0x81, 0x01);
  PUSH(12, 4000, TRUE, 0x5C, 0x41, 0x02);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x06, 0x05, 0x01, 0, 0, 0, 1, 0x41, 0x01, 0x02);
  sink_clear(&sink);
}

static void test_h264_timestamp_boundary(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* a camera that never sets the marker */
  PUSH(1, 1000, FALSE, 0x41, 0x01);
  PUSH(2, 1000, FALSE, 0x41, 0x02);
  g_assert_cmpuint(sink.data->len, ==, 0);
  PUSH(3, 4000, FALSE, 0x41, 0x03);
  g_assert_cmpuint(sink.data->len, ==, 1);
  ASSERT_UNIT(0, 1000, FALSE, 0, 0, 0, 1, 0x41, 0x01, 0, 0, 0, 1, 0x41, 0x02);
  vigil_rtp_depay_flush(depay, sink_unit, &sink);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x03);
  /* a flushed access unit is gone: the next packet starts afresh */
  PUSH(4, 4000, TRUE, 0x41, 0x04);
  ASSERT_UNIT(2, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x04);
  /* an FU cut off by a new timestamp: that access unit is damaged */
  PUSH(5, 7000, FALSE, 0x41, 0x05);
  PUSH(6, 7000, FALSE, 0x7C, 0x85, 0xAA);
  PUSH(7, 10000, TRUE, 0x41, 0x06);
  ASSERT_UNIT(3, 7000, TRUE, 0, 0, 0, 1, 0x41, 0x05);
  ASSERT_UNIT(4, 10000, FALSE, 0, 0, 0, 1, 0x41, 0x06);
  g_assert_cmpuint(sink.data->len, ==, 5);
  /* a NAL unit between an FU's pieces: the FU cannot be whole */
  PUSH(8, 13000, FALSE, 0x7C, 0x85, 0xAA);
  PUSH(9, 13000, FALSE, 0x41, 0x07);
  PUSH(10, 13000, TRUE, 0x7C, 0x45, 0xBB);
  ASSERT_UNIT(5, 13000, TRUE, 0, 0, 0, 1, 0x41, 0x07);
  sink_clear(&sink);
}

static void test_h264_marker_on_every_slice(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* a camera that sets the marker on each of a picture's two slices */
  PUSH(1, 1000, TRUE, 0x65, 0x88);
  ASSERT_UNIT(0, 1000, FALSE, 0, 0, 0, 1, 0x65, 0x88);
  PUSH(2, 1000, TRUE, 0x65, 0x01); /* the rest of a picture already out: dropped */
  g_assert_cmpuint(sink.data->len, ==, 1);
  /* from here on, pictures end when the timestamp changes */
  PUSH(3, 4000, TRUE, 0x41, 0x9A);
  PUSH(4, 4000, TRUE, 0x41, 0x02);
  g_assert_cmpuint(sink.data->len, ==, 1);
  PUSH(5, 7000, TRUE, 0x41, 0x9A);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x9A, 0, 0, 0, 1, 0x41, 0x02);
  g_assert_cmpuint(sink.data->len, ==, 2);
  sink_clear(&sink);
}

static void test_h264_loss(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* the middle of an FU lost: the NAL unit goes, the SEI before it stays */
  PUSH(1, 1000, FALSE, 0x06, 0x05);
  PUSH(2, 1000, FALSE, 0x7C, 0x85, 0xAA);
  /* 3 lost */
  PUSH(4, 1000, TRUE, 0x7C, 0x45, 0xCC);
  ASSERT_UNIT(0, 1000, TRUE, 0, 0, 0, 1, 0x06, 0x05);
  /* the next access unit is whole again */
  PUSH(5, 4000, TRUE, 0x41, 0x9A);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x9A);

  /* an FU continuation with no start (its start lost after a marker):
   * dropped; the access unit keeps its other NAL units, damaged */
  PUSH(7, 7000, FALSE, 0x7C, 0x05, 0xBB);
  PUSH(8, 7000, TRUE, 0x41, 0x01);
  ASSERT_UNIT(2, 7000, TRUE, 0, 0, 0, 1, 0x41, 0x01);
  /* a continuation of another type than the FU begun */
  PUSH(9, 10000, FALSE, 0x7C, 0x85, 0xAA);
  PUSH(10, 10000, TRUE, 0x7C, 0x41, 0xBB);
  ASSERT_EMPTY(3, 10000);

  /* a lost marker packet (one packet): the old access unit is damaged,
   * the new one whole */
  PUSH(11, 13000, FALSE, 0x41, 0x11);
  /* 12 lost: it carried 13000's marker */
  PUSH(13, 16000, TRUE, 0x41, 0x22);
  ASSERT_UNIT(4, 13000, TRUE, 0, 0, 0, 1, 0x41, 0x11);
  ASSERT_UNIT(5, 16000, FALSE, 0, 0, 0, 1, 0x41, 0x22);
  /* two lost there: the new one may have lost its start too */
  PUSH(14, 19000, FALSE, 0x41, 0x33);
  PUSH(17, 22000, TRUE, 0x41, 0x44);
  ASSERT_UNIT(6, 19000, TRUE, 0, 0, 0, 1, 0x41, 0x33);
  ASSERT_UNIT(7, 22000, TRUE, 0, 0, 0, 1, 0x41, 0x44);

  /* a late or repeated packet is dropped, not counted as a gap */
  PUSH(16, 22000, TRUE, 0x41, 0x55);
  PUSH(17, 22000, TRUE, 0x41, 0x55);
  PUSH(18, 25000, TRUE, 0x41, 0x66);
  ASSERT_UNIT(8, 25000, FALSE, 0, 0, 0, 1, 0x41, 0x66);

  /* interleaved-mode packets (STAP-B, MTAPs, FU-B) are dropped, damaged */
  PUSH(19, 28000, TRUE, 0x19, 0x00, 0x00, 0x00, 0x02, 0x41, 0x01);
  ASSERT_EMPTY(9, 28000);
  PUSH(20, 31000, FALSE, 0x1D, 0x85, 0x01);
  PUSH(21, 31000, TRUE, 0x41, 0x01);
  ASSERT_UNIT(10, 31000, TRUE, 0, 0, 0, 1, 0x41, 0x01);
  PUSH(22, 34000, TRUE, 0x41, 0x02);
  ASSERT_UNIT(11, 34000, FALSE, 0, 0, 0, 1, 0x41, 0x02);
  g_assert_cmpuint(sink.data->len, ==, 12);
  sink_clear(&sink);
}

static void test_h264_sequence(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* sequence numbers wrap without a gap */
  PUSH(0xFFFE, 1000, TRUE, 0x41, 0x01);
  PUSH(0xFFFF, 4000, FALSE, 0x41, 0x02);
  PUSH(0x0000, 4000, TRUE, 0x41, 0x03);
  PUSH(0x0001, 7000, TRUE, 0x41, 0x04);
  ASSERT_UNIT(0, 1000, FALSE, 0, 0, 0, 1, 0x41, 0x01);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x02, 0, 0, 0, 1, 0x41, 0x03);
  ASSERT_UNIT(2, 7000, FALSE, 0, 0, 0, 1, 0x41, 0x04);
  /* a gap across the wrap is a gap */
  PUSH(0x0003, 10000, TRUE, 0x41, 0x05);
  ASSERT_UNIT(3, 10000, TRUE, 0, 0, 0, 1, 0x41, 0x05);
  /* far behind: the sender restarted its numbering (a loss of unknown size) */
  PUSH(0x9000, 13000, TRUE, 0x41, 0x06);
  ASSERT_UNIT(4, 13000, TRUE, 0, 0, 0, 1, 0x41, 0x06);
  PUSH(0x9001, 16000, TRUE, 0x41, 0x07);
  ASSERT_UNIT(5, 16000, FALSE, 0, 0, 0, 1, 0x41, 0x07);
  /* another source: the same */
  VigilRtpPacket p = {.sequence = 0x9002, .timestamp = 19000, .ssrc = 99, .marker = TRUE};
  const guint8 slice[] = {0x41, 0x08};
  p.payload = slice;
  p.payload_size = sizeof slice;
  vigil_rtp_depay_push(depay, &p, sink_unit, &sink);
  ASSERT_UNIT(6, 19000, TRUE, 0, 0, 0, 1, 0x41, 0x08);
  g_assert_cmpuint(sink.data->len, ==, 7);
  sink_clear(&sink);
}

static void test_h264_flush_partial(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  PUSH(1, 1000, FALSE, 0x67, 0x42);
  PUSH(2, 1000, FALSE, 0x7C, 0x85, 0xAA);
  vigil_rtp_depay_flush(depay, sink_unit, &sink);
  ASSERT_UNIT(0, 1000, TRUE, 0, 0, 0, 1, 0x67, 0x42);
  sink_clear(&sink);
}

static void test_h264_too_large(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H264, NULL);
  Sink sink;
  sink_init(&sink);
  /* 600 slices of 60000 bytes in one access unit: over 32 MiB */
  g_autofree guint8 *slice = g_malloc0(60000);
  slice[0] = 0x41;
  for (guint i = 0; i < 600; i++)
    push(depay, &sink, (guint16)i, 1000, i == 599, slice, 60000);
  g_assert_cmpuint(sink.data->len, ==, 1);
  ASSERT_EMPTY(0, 1000);
  /* the next one is whole */
  PUSH(600, 4000, TRUE, 0x41, 0x01);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x41, 0x01);
  /* 500 of them (30 MB) are not too many */
  for (guint i = 0; i < 500; i++)
    push(depay, &sink, (guint16)(601 + i), 7000, i == 499, slice, 60000);
  g_assert_cmpuint(sink.data->len, ==, 3);
  g_assert_cmpuint(g_bytes_get_size(g_ptr_array_index(sink.data, 2)), ==, 500 * 60004);
  g_assert_false(g_array_index(sink.damaged, gboolean, 2));
  sink_clear(&sink);
}

static void test_h265(void)
{
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_H265, NULL);
  Sink sink;
  sink_init(&sink);
  /* AP (type 48: 0x60 0x01) with VPS, SPS, PPS */
  PUSH(1, 1000, FALSE, 0x60, 0x01, 0x00, 0x03, 0x40, 0x01, 0x0C, 0x00, 0x03, 0x42, 0x01, 0x01, 0x00,
       0x02, 0x44, 0x01);
  /* FU (type 49: 0x62 0x01) of an IDR_W_RADL (19: 0x26 0x01) */
  PUSH(2, 1000, FALSE, 0x62, 0x01, 0x93, 0xAF, 0x01);
  PUSH(3, 1000, FALSE, 0x62, 0x01, 0x13, 0x02);
  PUSH(4, 1000, TRUE, 0x62, 0x01, 0x53, 0x03, 0x04);
  ASSERT_UNIT(0, 1000, FALSE, 0, 0, 0, 1, 0x40, 0x01, 0x0C, 0, 0, 0, 1, 0x42, 0x01, 0x01, 0, 0, 0,
              1, 0x44, 0x01, 0, 0, 0, 1, 0x26, 0x01, 0xAF, 0x01, 0x02, 0x03, 0x04);
  /* a single NAL unit (TRAIL_R: 0x02 0x01); the layer id bit of byte 0
   * survives an FU (0x63: layer bit set) */
  PUSH(5, 4000, FALSE, 0x02, 0x01, 0xD0);
  PUSH(6, 4000, FALSE, 0x63, 0x01, 0x81, 0x11);
  PUSH(7, 4000, TRUE, 0x63, 0x01, 0x41, 0x22);
  ASSERT_UNIT(1, 4000, FALSE, 0, 0, 0, 1, 0x02, 0x01, 0xD0, 0, 0, 0, 1, 0x03, 0x01, 0x11, 0x22);
  /* loss inside an FU */
  PUSH(8, 7000, FALSE, 0x62, 0x01, 0x93, 0xAF);
  PUSH(10, 7000, TRUE, 0x62, 0x01, 0x53, 0x03);
  ASSERT_EMPTY(2, 7000);
  /* an AP unit shorter than a NAL header: damaged, what came before stays */
  PUSH(11, 10000, TRUE, 0x60, 0x01, 0x00, 0x02, 0x40, 0x01, 0x00, 0x01, 0x42);
  ASSERT_UNIT(3, 10000, TRUE, 0, 0, 0, 1, 0x40, 0x01);
  /* PACI (type 50: 0x64 0x01) is dropped, damaged */
  PUSH(12, 13000, FALSE, 0x64, 0x01, 0x00, 0x00, 0x02, 0x01);
  PUSH(13, 13000, TRUE, 0x02, 0x01, 0xD1);
  ASSERT_UNIT(4, 13000, TRUE, 0, 0, 0, 1, 0x02, 0x01, 0xD1);
  /* a one-byte payload is no packet */
  PUSH(14, 16000, TRUE, 0x02);
  g_assert_cmpuint(sink.data->len, ==, 5);
  sink_clear(&sink);
}

static VigilSdpMedia *aac_media(const char *fmtp)
{
  VigilSdpMedia *media = g_new0(VigilSdpMedia, 1);
  media->fmtp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) params = g_strsplit(fmtp, ";", 0);
  for (guint i = 0; params[i]; i++) {
    g_auto(GStrv) kv = g_strsplit(params[i], "=", 2);
    if (kv[0] && kv[1])
      g_hash_table_insert(media->fmtp, g_strdup(kv[0]), g_strdup(kv[1]));
  }
  return media;
}

static void aac_media_free(VigilSdpMedia *media)
{
  g_hash_table_unref(media->fmtp);
  g_free(media);
}

static void test_aac(void)
{
  VigilSdpMedia *media = aac_media("streamtype=5;profile-level-id=15;mode=AAC-hbr;config=1408;"
                                   "sizelength=13;indexlength=3;indexdeltalength=3");
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_AAC, media);
  aac_media_free(media);
  Sink sink;
  sink_init(&sink);
  /* one AU of 4 bytes: headers 16 bits, size 4 << 3 */
  PUSH(1, 16000, TRUE, 0x00, 0x10, 0x00, 0x20, 0xDE, 0xAD, 0xBE, 0xEF);
  ASSERT_UNIT(0, 16000, FALSE, 0xDE, 0xAD, 0xBE, 0xEF);
  /* three AUs of 2, 3 and 1 bytes */
  PUSH(2, 20000, TRUE, 0x00, 0x30, 0x00, 0x10, 0x00, 0x18, 0x00, 0x08, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE,
       0xFF);
  ASSERT_UNIT(1, 20000, FALSE, 0xAA, 0xBB);
  ASSERT_UNIT(2, 21024, FALSE, 0xCC, 0xDD, 0xEE);
  ASSERT_UNIT(3, 22048, FALSE, 0xFF);
  /* one AU of 6 bytes in two pieces */
  PUSH(3, 24000, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22, 0x33);
  g_assert_cmpuint(sink.data->len, ==, 4);
  PUSH(4, 24000, TRUE, 0x00, 0x10, 0x00, 0x30, 0x44, 0x55, 0x66);
  ASSERT_UNIT(4, 24000, FALSE, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66);
  /* in three pieces, the middle one lost: nothing */
  PUSH(5, 25024, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22);
  PUSH(7, 25024, TRUE, 0x00, 0x10, 0x00, 0x30, 0x55, 0x66);
  /* the first piece lost: the rest does not add up, nothing */
  PUSH(9, 26048, FALSE, 0x00, 0x10, 0x00, 0x30, 0x33, 0x44);
  PUSH(10, 26048, TRUE, 0x00, 0x10, 0x00, 0x30, 0x55, 0x66);
  /* pieces adding up to more than the AU: nothing */
  PUSH(11, 27072, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22, 0x33, 0x44);
  PUSH(12, 27072, TRUE, 0x00, 0x10, 0x00, 0x30, 0x55, 0x66, 0x77);
  /* what is left of a frame at its marker is not joined to the next
   * pieces, even under the same timestamp and size */
  PUSH(13, 27072, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22);
  PUSH(14, 27072, TRUE, 0x00, 0x10, 0x00, 0x30, 0x33, 0x44);
  PUSH(15, 27072, TRUE, 0x00, 0x10, 0x00, 0x30, 0x55, 0x66);
  /* nor across a gap */
  PUSH(16, 28096, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22);
  PUSH(18, 28096, TRUE, 0x00, 0x10, 0x00, 0x30, 0x33, 0x44, 0x55, 0x66);
  /* nor across a packet dropped as broken (headers past its end) */
  PUSH(19, 28096, FALSE, 0x00, 0x10, 0x00, 0x30, 0x11, 0x22);
  PUSH(20, 28096, FALSE, 0x00, 0xFF, 0x00);
  PUSH(21, 28096, TRUE, 0x00, 0x10, 0x00, 0x30, 0x33, 0x44, 0x55, 0x66);
  g_assert_cmpuint(sink.data->len, ==, 5);

  /* inconsistent packets are dropped whole: sizes past the data */
  PUSH(22, 28096, TRUE, 0x00, 0x20, 0x00, 0x10, 0x00, 0x18, 0xAA, 0xBB, 0xCC);
  /* headers longer than the packet */
  PUSH(23, 29120, TRUE, 0x00, 0xFF, 0x00, 0x10, 0xAA, 0xBB);
  /* a header length that is no whole number of headers */
  PUSH(24, 30144, TRUE, 0x00, 0x11, 0x00, 0x10, 0x00, 0xAA, 0xBB);
  /* no headers at all, and a payload too short for the length */
  PUSH(25, 31168, TRUE, 0x00, 0x00, 0xAA);
  PUSH(26, 32192, TRUE, 0x00);
  g_assert_cmpuint(sink.data->len, ==, 5);
  /* and a good one after them */
  PUSH(27, 33216, TRUE, 0x00, 0x10, 0x00, 0x08, 0x42);
  ASSERT_UNIT(5, 33216, FALSE, 0x42);
  /* flush has no video to hand on */
  vigil_rtp_depay_flush(depay, sink_unit, &sink);
  g_assert_cmpuint(sink.data->len, ==, 6);
  sink_clear(&sink);
}

static void test_aac_lbr(void)
{
  /* AAC-lbr: 6-bit sizes and 2-bit indices, one byte per header */
  VigilSdpMedia *media = aac_media("mode=AAC-lbr;sizelength=6;indexlength=2;indexdeltalength=2");
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_AAC, media);
  aac_media_free(media);
  Sink sink;
  sink_init(&sink);
  PUSH(1, 0xFFFFFC00, TRUE, 0x00, 0x10, 0x08, 0x04, 0x01, 0x02, 0x03);
  ASSERT_UNIT(0, 0xFFFFFC00, FALSE, 0x01, 0x02);
  ASSERT_UNIT(1, 0, FALSE, 0x03); /* the timestamp wraps */
  sink_clear(&sink);

  /* AAC-lbr named but its lengths not given: the mode's usual values */
  VigilSdpMedia *bare = aac_media("mode=AAC-lbr");
  g_autoptr(VigilRtpDepay) lbr = vigil_rtp_depay_new(VIGIL_RTP_AAC, bare);
  aac_media_free(bare);
  sink_init(&sink);
  VigilRtpPacket p = {.sequence = 1, .timestamp = 5, .marker = TRUE};
  const guint8 payload[] = {0x00, 0x08, 0x04, 0x01};
  p.payload = payload;
  p.payload_size = sizeof payload;
  vigil_rtp_depay_push(lbr, &p, sink_unit, &sink);
  assert_unit(&sink, 0, payload + 3, 1, 5, FALSE);
  sink_clear(&sink);
}

static void test_aac_header_fields(void)
{
  /* no media: 13/3/3 */
  g_autoptr(VigilRtpDepay) depay = vigil_rtp_depay_new(VIGIL_RTP_AAC, NULL);
  Sink sink;
  sink_init(&sink);
  PUSH(1, 100, TRUE, 0x00, 0x10, 0x00, 0x10, 0x0A, 0x0B);
  ASSERT_UNIT(0, 100, FALSE, 0x0A, 0x0B);
  sink_clear(&sink);

  /* CTS and DTS deltas and the random-access flag: the header grows by
   * what its flags say; 48 kHz frames of 960 samples */
  VigilSdpMedia *media =
      aac_media("sizelength=13;indexlength=3;indexdeltalength=3;ctsdeltalength=4;"
                "dtsdeltalength=4;randomaccessindication=1;constantduration=960");
  g_autoptr(VigilRtpDepay) full = vigil_rtp_depay_new(VIGIL_RTP_AAC, media);
  aac_media_free(media);
  sink_init(&sink);
  /* header 1: size 1, index 0, CTS-flag 0, DTS-flag 1 + 4 bits, RAP 1 = 23 bits
   * header 2: size 2, delta 0, CTS-flag 1 + 4 bits, DTS-flag 0, RAP 0 = 23 bits
   * 46 bits: 0000000000001 000 0 1 0000 1 | 0000000000010 000 1 0000 0 0 */
  const guint8 payload[] = {0x00, 0x2E, 0x00, 0x08, 0x42, 0x00, 0x21, 0x00, 0x91, 0x92, 0x93};
  VigilRtpPacket p = {.sequence = 1, .timestamp = 1000, .marker = TRUE};
  p.payload = payload;
  p.payload_size = sizeof payload;
  vigil_rtp_depay_push(full, &p, sink_unit, &sink);
  g_assert_cmpuint(sink.data->len, ==, 2);
  assert_unit(&sink, 0, payload + 8, 1, 1000, FALSE);
  assert_unit(&sink, 1, payload + 9, 2, 1960, FALSE);
  sink_clear(&sink);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtp/parse/plain", test_parse_plain);
  g_test_add_func("/rtp/parse/csrc-extension-padding", test_parse_csrc_extension_padding);
  g_test_add_func("/rtp/parse/rejects", test_parse_rejects);
  g_test_add_func("/rtp/rtcp/sender-report", test_rtcp_sender_report);
  g_test_add_func("/rtp/h264/single", test_h264_single);
  g_test_add_func("/rtp/h264/stap-a", test_h264_stap_a);
  g_test_add_func("/rtp/h264/fu-a", test_h264_fu_a);
  g_test_add_func("/rtp/h264/timestamp-boundary", test_h264_timestamp_boundary);
  g_test_add_func("/rtp/h264/marker-on-every-slice", test_h264_marker_on_every_slice);
  g_test_add_func("/rtp/h264/loss", test_h264_loss);
  g_test_add_func("/rtp/h264/sequence", test_h264_sequence);
  g_test_add_func("/rtp/h264/flush-partial", test_h264_flush_partial);
  g_test_add_func("/rtp/h264/too-large", test_h264_too_large);
  g_test_add_func("/rtp/h265", test_h265);
  g_test_add_func("/rtp/aac", test_aac);
  g_test_add_func("/rtp/aac/lbr", test_aac_lbr);
  g_test_add_func("/rtp/aac/header-fields", test_aac_header_fields);
  return g_test_run();
}
