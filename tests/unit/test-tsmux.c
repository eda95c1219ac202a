/* Tests for the MPEG-TS muxer: packet structure, PSI tables (checked with an
 * independent CRC), continuity, PCR/RAI, PES headers and payload round trips,
 * and an end-to-end check that real encoder output muxed by us decodes in
 * ffmpeg and demuxes in GStreamer's tsdemux. */
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <string.h>
#include <unistd.h>

#include "live/tsmux.h"

#define MASK33 0x1FFFFFFFFLL

/* ---- an independent reader of what the muxer wrote ---- */

typedef struct {
  guint16 pid;
  gboolean pusi;
  guint8 cc;
  gboolean has_af, has_payload;
  const guint8 *af; /* after the length byte */
  gsize af_len;
  const guint8 *payload;
  gsize payload_len;
} Pkt;

static void pkt_read(const guint8 *p, Pkt *k)
{
  g_assert_cmphex(p[0], ==, 0x47);
  memset(k, 0, sizeof *k);
  g_assert_false(p[1] & 0x80); /* transport_error_indicator */
  k->pusi = (p[1] & 0x40) != 0;
  k->pid = (guint16)(((p[1] & 0x1F) << 8) | p[2]);
  g_assert_cmpuint(p[3] >> 6, ==, 0); /* not scrambled */
  k->has_af = (p[3] & 0x20) != 0;
  k->has_payload = (p[3] & 0x10) != 0;
  k->cc = p[3] & 0x0F;
  gsize off = 4;
  if (k->has_af) {
    k->af_len = p[4];
    k->af = p + 5;
    off = 5 + k->af_len;
    g_assert_cmpuint(off, <=, 188);
  }
  if (k->has_payload) {
    k->payload = p + off;
    k->payload_len = 188 - off;
  } else {
    g_assert_cmpuint(off, ==, 188);
  }
}

/* CRC-32/MPEG-2 as a bit-serial LFSR, written differently from the muxer's. */
static guint32 test_crc32(const guint8 *data, gsize size)
{
  guint32 reg = 0xFFFFFFFFu;
  for (gsize i = 0; i < size * 8; i++) {
    guint in = (data[i / 8] >> (7 - i % 8)) & 1;
    guint top = (reg >> 31) & 1;
    reg <<= 1;
    if (top ^ in)
      reg ^= 0x04C11DB7u;
  }
  return reg;
}

static gint64 read_ts(const guint8 *p, guint8 prefix)
{
  g_assert_cmpuint(p[0] >> 4, ==, prefix);
  g_assert_cmpuint(p[0] & 1, ==, 1);
  g_assert_cmpuint(p[2] & 1, ==, 1);
  g_assert_cmpuint(p[4] & 1, ==, 1);
  return ((gint64)(p[0] & 0x0E) << 29) | ((gint64)p[1] << 22) | ((gint64)(p[2] >> 1) << 15) |
         ((gint64)p[3] << 7) | (p[4] >> 1);
}

static gint64 read_pcr(const Pkt *k)
{
  g_assert_true(k->has_af);
  g_assert_cmpuint(k->af_len, >=, 7);
  g_assert_true(k->af[0] & 0x10);
  const guint8 *p = k->af + 1;
  gint64 base = ((gint64)p[0] << 25) | ((gint64)p[1] << 17) | ((gint64)p[2] << 9) |
                ((gint64)p[3] << 1) | (p[4] >> 7);
  gint64 ext = ((gint64)(p[4] & 1) << 8) | p[5];
  g_assert_cmpint(ext, ==, 0);
  return base;
}

typedef struct {
  guint8 stream_id;
  guint pes_length;
  gboolean aligned;
  gboolean has_pts, has_dts;
  gint64 pts, dts;
  GByteArray *payload; /* the elementary stream bytes */
} Pes;

static void pes_free(Pes *pes)
{
  g_byte_array_unref(pes->payload);
  g_free(pes);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Pes, pes_free)

/* Reassembles every PES of @pid in @data (whole packets). */
static GPtrArray *collect_pes(const guint8 *data, gsize size, guint16 pid)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
  g_assert_cmpuint(size % 188, ==, 0);
  g_autoptr(GByteArray) cur = NULL;
  for (gsize off = 0; off < size; off += 188) {
    Pkt k;
    pkt_read(data + off, &k);
    if (k.pid != pid || !k.has_payload)
      continue;
    if (k.pusi) {
      if (cur != NULL)
        g_ptr_array_add(out, g_steal_pointer(&cur));
      cur = g_byte_array_new();
    }
    g_assert_nonnull(cur);
    g_byte_array_append(cur, k.payload, (guint)k.payload_len);
  }
  if (cur != NULL)
    g_ptr_array_add(out, g_steal_pointer(&cur));

  GPtrArray *pes_list = g_ptr_array_new_with_free_func((GDestroyNotify)pes_free);
  for (guint i = 0; i < out->len; i++) {
    GByteArray *raw = g_ptr_array_index(out, i);
    const guint8 *p = raw->data;
    g_assert_cmpuint(raw->len, >=, 9);
    g_assert_cmpuint(p[0], ==, 0);
    g_assert_cmpuint(p[1], ==, 0);
    g_assert_cmpuint(p[2], ==, 1);
    Pes *pes = g_new0(Pes, 1);
    pes->stream_id = p[3];
    pes->pes_length = (guint)(p[4] << 8 | p[5]);
    g_assert_cmpuint(p[6] >> 6, ==, 2);
    pes->aligned = (p[6] & 0x04) != 0;
    guint flags = p[7] >> 6;
    g_assert_cmpuint(flags, !=, 1); /* forbidden value */
    pes->has_pts = flags & 2;
    pes->has_dts = flags == 3;
    guint hlen = p[8];
    g_assert_cmpuint(9 + hlen, <=, raw->len);
    if (pes->has_pts)
      pes->pts = read_ts(p + 9, pes->has_dts ? 3 : 2);
    if (pes->has_dts)
      pes->dts = read_ts(p + 14, 1);
    g_assert_cmpuint(hlen, ==, pes->has_dts ? 10 : pes->has_pts ? 5 : 0);
    pes->payload = g_byte_array_new();
    g_byte_array_append(pes->payload, p + 9 + hlen, raw->len - 9 - hlen);
    if (pes->pes_length != 0)
      g_assert_cmpuint(pes->pes_length, ==, raw->len - 6);
    g_ptr_array_add(pes_list, pes);
  }
  g_ptr_array_unref(out);
  return pes_list;
}

static void check_packets(GBytes *bytes)
{
  gsize size;
  const guint8 *p = g_bytes_get_data(bytes, &size);
  g_assert_cmpuint(size, >, 0);
  g_assert_cmpuint(size % 188, ==, 0);
  for (gsize off = 0; off < size; off += 188) {
    g_assert_cmphex(p[off], ==, 0x47);
    VigilTsPacketInfo info;
    g_assert_true(vigil_ts_packet_parse(p + off, &info));
    Pkt k;
    pkt_read(p + off, &k);
    g_assert_cmpuint(info.pid, ==, k.pid);
    g_assert_cmpuint(info.continuity, ==, k.cc);
    g_assert_cmpint(info.payload_unit_start, ==, k.pusi);
  }
}

/* An Annex B access unit: a start code, a NAL header byte, filler. */
static guint8 *make_au(gsize size, guint8 nal, guint seed)
{
  guint8 *au = g_malloc(size);
  for (gsize i = 0; i < size; i++)
    au[i] = (guint8)(i * 7 + seed);
  if (size >= 5) {
    au[0] = au[1] = au[2] = 0;
    au[3] = 1;
    au[4] = nal;
  }
  return au;
}

static const guint8 aud264[] = {0, 0, 0, 1, 0x09, 0xF0};
static const guint8 aud265[] = {0, 0, 0, 1, 0x46, 0x01, 0x50};

/* ---- tests ---- */

static void test_packet_counts(void)
{
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, FALSE);
  gsize sizes[] = {5,   6,   100, 150,  155,   156,   157,   158,   340,
                   341, 342, 343, 1000, 65000, 65535, 65536, 70000, 250000};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    for (int key = 0; key < 2; key++) {
      g_autofree guint8 *au = make_au(sizes[i], 0x65, i);
      g_autoptr(GBytes) out = vigil_ts_mux_video(mux, au, sizes[i], 9000 * i, 9000 * i, key);
      check_packets(out);
      gsize size;
      const guint8 *p = g_bytes_get_data(out, &size);
      /* PES = 14-byte header + 6-byte AUD + AU; the first packet has room
       * for 176 bytes (8 go to the PCR adaptation field), others 184. */
      gsize pes = 14 + 6 + sizes[i];
      gsize expect = 1 + (pes > 176 ? (pes - 176 + 183) / 184 : 0) + (key ? 2 : 0);
      g_assert_cmpuint(size / 188, ==, expect);
      g_autoptr(GPtrArray) list = collect_pes(p, size, VIGIL_TS_PID_VIDEO);
      g_assert_cmpuint(list->len, ==, 1);
      Pes *pes0 = g_ptr_array_index(list, 0);
      g_assert_cmpuint(pes0->payload->len, ==, 6 + sizes[i]);
      g_assert_cmpmem(pes0->payload->data + 6, sizes[i], au, sizes[i]);
      /* The real length when it fits in 16 bits, else 0 (allowed for video). */
      g_assert_cmpuint(pes0->pes_length, ==, pes - 6 <= 0xFFFF ? pes - 6 : 0);
    }
  }
}

static void check_pat(const guint8 *p, guint8 *version)
{
  Pkt k;
  pkt_read(p, &k);
  g_assert_cmpuint(k.pid, ==, 0);
  g_assert_true(k.pusi);
  g_assert_true(k.has_payload);
  const guint8 *s = k.payload + 1 + k.payload[0]; /* pointer_field */
  g_assert_cmphex(s[0], ==, 0x00);
  g_assert_true(s[1] & 0x80); /* section_syntax_indicator */
  guint len = ((s[1] & 0x0F) << 8) | s[2];
  g_assert_cmpuint(len, ==, 13);
  g_assert_cmpuint(test_crc32(s, 3 + len - 4), ==,
                   (guint32)s[3 + len - 4] << 24 | (guint32)s[3 + len - 3] << 16 |
                       (guint32)s[3 + len - 2] << 8 | s[3 + len - 1]);
  g_assert_cmpuint(test_crc32(s, 3 + len), ==, 0); /* CRC over the whole section */
  g_assert_true(s[5] & 1);                         /* current_next_indicator */
  *version = (s[5] >> 1) & 0x1F;
  g_assert_cmpuint(s[6], ==, 0);
  g_assert_cmpuint(s[7], ==, 0);
  g_assert_cmpuint(s[8] << 8 | s[9], ==, 1); /* program_number */
  g_assert_cmphex((s[10] & 0x1F) << 8 | s[11], ==, VIGIL_TS_PID_PMT);
  for (gsize i = 5 + k.payload[0] + 3 + len; i < 188; i++) /* stuffing after the section */
    g_assert_cmphex(p[i], ==, 0xFF);
}

static void check_pmt(const guint8 *p, guint8 video_type, gboolean audio, guint8 version)
{
  Pkt k;
  pkt_read(p, &k);
  g_assert_cmphex(k.pid, ==, VIGIL_TS_PID_PMT);
  g_assert_true(k.pusi);
  const guint8 *s = k.payload + 1 + k.payload[0];
  g_assert_cmphex(s[0], ==, 0x02);
  g_assert_true(s[1] & 0x80);
  guint len = ((s[1] & 0x0F) << 8) | s[2];
  g_assert_cmpuint(len, ==, 13 + (audio ? 10 : 5));
  g_assert_cmpuint(test_crc32(s, 3 + len), ==, 0);
  g_assert_cmpuint(s[3] << 8 | s[4], ==, 1);
  g_assert_cmpuint((s[5] >> 1) & 0x1F, ==, version);
  g_assert_true(s[5] & 1);
  g_assert_cmphex((s[8] & 0x1F) << 8 | s[9], ==, VIGIL_TS_PID_VIDEO); /* PCR_PID */
  guint info_len = (s[10] & 0x0F) << 8 | s[11];
  g_assert_cmpuint(info_len, ==, 0);
  const guint8 *es = s + 12;
  g_assert_cmphex(es[0], ==, video_type);
  g_assert_cmphex((es[1] & 0x1F) << 8 | es[2], ==, VIGIL_TS_PID_VIDEO);
  g_assert_cmpuint((es[3] & 0x0F) << 8 | es[4], ==, 0);
  if (audio) {
    g_assert_cmphex(es[5], ==, 0x0F);
    g_assert_cmphex((es[6] & 0x1F) << 8 | es[7], ==, VIGIL_TS_PID_AUDIO);
    g_assert_cmpuint((es[8] & 0x0F) << 8 | es[9], ==, 0);
  }
}

static void test_pat_pmt(void)
{
  struct {
    VigilCodec codec;
    gboolean audio;
    guint8 type;
  } cases[] = {
      {VIGIL_CODEC_H264, TRUE, 0x1B},
      {VIGIL_CODEC_H264, FALSE, 0x1B},
      {VIGIL_CODEC_H265, FALSE, 0x24},
      {VIGIL_CODEC_H265, TRUE, 0x24},
  };
  int last_version = -1;
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(cases[i].codec, cases[i].audio);
    g_autofree guint8 *au = make_au(3000, 0x65, i);
    g_autoptr(GBytes) out = vigil_ts_mux_video(mux, au, 3000, 0, 0, TRUE);
    check_packets(out);
    const guint8 *p = g_bytes_get_data(out, NULL);
    guint8 version;
    check_pat(p, &version);
    check_pmt(p + 188, cases[i].type, cases[i].audio, version);
    /* A new muxer's tables are a new version. */
    g_assert_cmpint(version, !=, last_version);
    last_version = version;

    /* Non-keyframes carry no tables; keyframes always do. */
    g_autoptr(GBytes) delta = vigil_ts_mux_video(mux, au, 3000, 3000, 3000, FALSE);
    Pkt k;
    pkt_read(g_bytes_get_data(delta, NULL), &k);
    g_assert_cmphex(k.pid, ==, VIGIL_TS_PID_VIDEO);
    g_autoptr(GBytes) key2 = vigil_ts_mux_video(mux, au, 3000, 6000, 6000, TRUE);
    guint8 version2;
    check_pat(g_bytes_get_data(key2, NULL), &version2);
    g_assert_cmpuint(version2, ==, version);
  }
}

static void test_continuity(void)
{
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, TRUE);
  int last[0x2000];
  guint counts[0x2000] = {0};
  for (int i = 0; i < 0x2000; i++)
    last[i] = -1;
  guint8 adts[200] = {0xFF, 0xF1, 0x4C, 0x80, (200 >> 3) & 0xFF, (guint8)((200 & 7) << 5) | 0x1F,
                      0xFC};
  for (int call = 0; call < 80; call++) {
    g_autoptr(GBytes) out = NULL;
    if (call % 3 == 2) {
      out = vigil_ts_mux_audio(mux, adts, sizeof adts, call * 1000);
    } else {
      gsize size = 100 + (gsize)call * 97;
      g_autofree guint8 *au = make_au(size, 0x41, call);
      out = vigil_ts_mux_video(mux, au, size, call * 1000, call * 1000, call % 2 == 0);
    }
    check_packets(out);
    gsize size;
    const guint8 *p = g_bytes_get_data(out, &size);
    for (gsize off = 0; off < size; off += 188) {
      Pkt k;
      pkt_read(p + off, &k);
      if (last[k.pid] >= 0)
        g_assert_cmpint(k.cc, ==, (last[k.pid] + 1) % 16);
      else
        g_assert_cmpint(k.cc, ==, 0);
      last[k.pid] = k.cc;
      counts[k.pid]++;
    }
  }
  /* Every PID wrapped at least once. */
  g_assert_cmpuint(counts[0], >, 16);
  g_assert_cmpuint(counts[VIGIL_TS_PID_PMT], >, 16);
  g_assert_cmpuint(counts[VIGIL_TS_PID_VIDEO], >, 16);
  g_assert_cmpuint(counts[VIGIL_TS_PID_AUDIO], >, 16);
}

static void test_rai_pcr(void)
{
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, FALSE);
  g_autofree guint8 *au = make_au(5000, 0x65, 1);
  gint64 dts = 123456, pts = 129456;
  g_autoptr(GBytes) key = vigil_ts_mux_video(mux, au, 5000, pts, dts, TRUE);
  const guint8 *p = g_bytes_get_data(key, NULL);
  Pkt k;
  pkt_read(p + 2 * 188, &k);
  g_assert_cmphex(k.pid, ==, VIGIL_TS_PID_VIDEO);
  g_assert_true(k.pusi);
  g_assert_true(k.has_af);
  g_assert_true(k.af[0] & 0x40); /* random_access_indicator */
  g_assert_cmpint(read_pcr(&k), ==, dts);
  VigilTsPacketInfo info;
  g_assert_true(vigil_ts_packet_parse(p + 2 * 188, &info));
  g_assert_true(info.random_access);
  /* No other packet claims random access. */
  gsize size = g_bytes_get_size(key);
  for (gsize off = 3 * 188; off < size; off += 188) {
    g_assert_true(vigil_ts_packet_parse(p + off, &info));
    g_assert_false(info.random_access);
  }
  /* PCR below DTS (by VIGIL_TS_DELAY). */
  g_autoptr(GPtrArray) list = collect_pes(p, size, VIGIL_TS_PID_VIDEO);
  Pes *pes = g_ptr_array_index(list, 0);
  g_assert_cmpint(pes->dts, ==, dts + VIGIL_TS_DELAY);
  g_assert_cmpint(pes->dts - read_pcr(&k), ==, 63000);

  g_autoptr(GBytes) delta = vigil_ts_mux_video(mux, au, 5000, pts + 3000, dts + 3000, FALSE);
  p = g_bytes_get_data(delta, NULL);
  pkt_read(p, &k);
  g_assert_cmphex(k.pid, ==, VIGIL_TS_PID_VIDEO);
  g_assert_false(k.af[0] & 0x40);
  g_assert_cmpint(read_pcr(&k), ==, dts + 3000);
}

static void test_pes_video(void)
{
  for (int codec = 0; codec < 2; codec++) {
    gboolean h265 = codec == 1;
    g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(h265 ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264, FALSE);
    const guint8 *aud = h265 ? aud265 : aud264;
    gsize aud_size = h265 ? sizeof aud265 : sizeof aud264;
    for (int i = 0; i < 40; i++) {
      gsize size = (gsize)g_test_rand_int_range(5, 40000);
      /* Some AUs already start with an AUD (4- or 3-byte start code). */
      gboolean has_aud = i % 4 == 1 || i % 4 == 2;
      guint8 nal = h265 ? (has_aud ? 0x46 : 0x40) : (has_aud ? 0x09 : 0x67);
      g_autofree guint8 *au = make_au(size, nal, i);
      if (i % 4 == 2) { /* 00 00 01 start code */
        au[2] = 1;
        au[3] = nal;
      }
      gint64 dts = 1000000 + i * 3000;
      gint64 pts = i % 3 == 0 ? dts : dts + 6000;
      g_autoptr(GBytes) out = vigil_ts_mux_video(mux, au, size, pts, dts, i % 10 == 0);
      check_packets(out);
      gsize out_size;
      const guint8 *p = g_bytes_get_data(out, &out_size);
      g_autoptr(GPtrArray) list = collect_pes(p, out_size, VIGIL_TS_PID_VIDEO);
      g_assert_cmpuint(list->len, ==, 1);
      Pes *pes = g_ptr_array_index(list, 0);
      g_assert_cmphex(pes->stream_id, ==, 0xE0);
      g_assert_true(pes->aligned);
      g_assert_true(pes->has_pts);
      g_assert_cmpint(pes->pts, ==, pts + VIGIL_TS_DELAY);
      g_assert_cmpint(pes->has_dts, ==, pts != dts);
      if (pes->has_dts)
        g_assert_cmpint(pes->dts, ==, dts + VIGIL_TS_DELAY);
      if (has_aud) {
        g_assert_cmpmem(pes->payload->data, pes->payload->len, au, size);
      } else {
        g_assert_cmpuint(pes->payload->len, ==, aud_size + size);
        g_assert_cmpmem(pes->payload->data, aud_size, aud, aud_size);
        g_assert_cmpmem(pes->payload->data + aud_size, size, au, size);
      }
    }
  }
}

static void test_pts_wrap(void)
{
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, FALSE);
  g_autofree guint8 *au = make_au(500, 0x41, 3);
  gint64 near = (1LL << 33) - 1000;
  gint64 cases[][2] = {{near, near}, {near + 2000, near}, {-5000, -8000}, {(5LL << 33) + 7, 7}};
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GBytes) out = vigil_ts_mux_video(mux, au, 500, cases[i][0], cases[i][1], FALSE);
    const guint8 *p = g_bytes_get_data(out, NULL);
    g_autoptr(GPtrArray) list = collect_pes(p, g_bytes_get_size(out), VIGIL_TS_PID_VIDEO);
    Pes *pes = g_ptr_array_index(list, 0);
    g_assert_cmpint(pes->pts, ==, (cases[i][0] + VIGIL_TS_DELAY) & MASK33);
    if (((cases[i][0] ^ cases[i][1]) & MASK33) != 0)
      g_assert_cmpint(pes->dts, ==, (cases[i][1] + VIGIL_TS_DELAY) & MASK33);
    else
      g_assert_false(pes->has_dts);
    Pkt k;
    pkt_read(p, &k);
    g_assert_cmpint(read_pcr(&k), ==, cases[i][1] & MASK33);
  }
  g_assert_cmpint((near + VIGIL_TS_DELAY) & MASK33, ==, 62000); /* it did wrap */
}

/* ADTS frames of @size bytes each at 48 kHz. */
static guint8 *make_adts(guint frames, gsize size)
{
  guint8 *data = g_malloc(frames * size);
  for (guint f = 0; f < frames; f++) {
    guint8 *h = data + f * size;
    for (gsize i = 7; i < size; i++)
      h[i] = (guint8)(f + i);
    h[0] = 0xFF;
    h[1] = 0xF1;
    h[2] = 0x4C; /* AAC LC, 48 kHz (index 3), channel config high bit 0 */
    h[3] = (guint8)(0x80 | ((size >> 11) & 0x03));
    h[4] = (guint8)(size >> 3);
    h[5] = (guint8)(((size & 7) << 5) | 0x1F);
    h[6] = 0xFC;
  }
  return data;
}

static void test_audio(void)
{
  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(VIGIL_CODEC_H264, TRUE);
  gsize sizes[] = {1, 2, 5, 30};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    g_autofree guint8 *data = make_adts((guint)sizes[i], 371);
    gsize len = sizes[i] * 371;
    g_autoptr(GBytes) out = vigil_ts_mux_audio(mux, data, len, 90000 + i);
    check_packets(out);
    gsize size;
    const guint8 *p = g_bytes_get_data(out, &size);
    g_autoptr(GPtrArray) list = collect_pes(p, size, VIGIL_TS_PID_AUDIO);
    g_assert_cmpuint(list->len, ==, 1);
    Pes *pes = g_ptr_array_index(list, 0);
    g_assert_cmphex(pes->stream_id, ==, 0xC0);
    g_assert_cmpuint(pes->pes_length, ==, len + 8);
    g_assert_true(pes->has_pts);
    g_assert_false(pes->has_dts);
    g_assert_cmpint(pes->pts, ==, 90000 + i + VIGIL_TS_DELAY);
    g_assert_cmpmem(pes->payload->data, pes->payload->len, data, len);
    /* Audio packets carry no PCR (the video PID is the PCR PID). */
    for (gsize off = 0; off < size; off += 188) {
      Pkt k;
      pkt_read(p + off, &k);
      g_assert_cmphex(k.pid, ==, VIGIL_TS_PID_AUDIO);
      if (k.has_af && k.af_len > 0)
        g_assert_false(k.af[0] & 0x10);
    }
  }

  /* More than a 16-bit PES length holds: several PES, cut between frames,
   * each stamped with its first frame's time. */
  guint frames = 300;
  gsize frame_size = 371;
  g_autofree guint8 *big = make_adts(frames, frame_size);
  g_autoptr(GBytes) out = vigil_ts_mux_audio(mux, big, frames * frame_size, 1000);
  check_packets(out);
  g_autoptr(GPtrArray) list =
      collect_pes(g_bytes_get_data(out, NULL), g_bytes_get_size(out), VIGIL_TS_PID_AUDIO);
  g_assert_cmpuint(list->len, ==, 2);
  Pes *a = g_ptr_array_index(list, 0), *b = g_ptr_array_index(list, 1);
  g_assert_cmpuint(a->payload->len % frame_size, ==, 0);
  g_assert_cmpuint(a->pes_length, ==, a->payload->len + 8);
  g_assert_cmpuint(b->pes_length, ==, b->payload->len + 8);
  g_assert_cmpuint(a->payload->len + b->payload->len, ==, frames * frame_size);
  g_assert_cmpmem(a->payload->data, a->payload->len, big, a->payload->len);
  g_assert_cmpmem(b->payload->data, b->payload->len, big + a->payload->len, b->payload->len);
  guint first_frames = a->payload->len / (guint)frame_size;
  g_assert_cmpint(a->pts, ==, 1000 + VIGIL_TS_DELAY);
  g_assert_cmpint(b->pts, ==, 1000 + VIGIL_TS_DELAY + (gint64)first_frames * 1024 * 90000 / 48000);

  g_autoptr(VigilTsMux) video_only = vigil_ts_mux_new(VIGIL_CODEC_H264, FALSE);
  g_assert_null(vigil_ts_mux_audio(video_only, big, frame_size, 0));
}

static void test_packet_parse(void)
{
  guint8 p[188];
  memset(p, 0xFF, sizeof p);
  p[0] = 0x47;
  p[1] = 0x41;
  p[2] = 0x00;
  p[3] = 0x3A; /* AF + payload, CC 10 */
  p[4] = 7;
  p[5] = 0x50; /* RAI + PCR */
  VigilTsPacketInfo info;
  g_assert_true(vigil_ts_packet_parse(p, &info));
  g_assert_cmphex(info.pid, ==, 0x100);
  g_assert_true(info.payload_unit_start);
  g_assert_true(info.random_access);
  g_assert_cmpuint(info.continuity, ==, 10);

  p[5] = 0x10;
  g_assert_true(vigil_ts_packet_parse(p, &info));
  g_assert_false(info.random_access);

  p[4] = 183; /* AF + payload but no room for payload */
  g_assert_false(vigil_ts_packet_parse(p, &info));
  p[3] = 0x2A; /* AF only: must be exactly 183 */
  g_assert_true(vigil_ts_packet_parse(p, &info));
  p[4] = 100;
  g_assert_false(vigil_ts_packet_parse(p, &info));
  p[3] = 0x1A;
  p[4] = 0x40; /* payload only: byte 4 is payload, RAI not read */
  p[5] = 0x40;
  g_assert_true(vigil_ts_packet_parse(p, &info));
  g_assert_false(info.random_access);
  p[0] = 0x46;
  g_assert_false(vigil_ts_packet_parse(p, &info));
}

/* vigil_ts_read_video_unit: a keyframe chunk back to its access unit and
 * codec (recording thumbnails), for both codecs, sizes from one packet to a
 * PES longer than 16 bits, with audio in the PMT, and what it refuses. */
static void test_read_video_unit(void)
{
  gsize sizes[] = {5, 150, 184, 4000, 70000, 200000};
  for (int c = 0; c < 2; c++) {
    VigilCodec codec = c ? VIGIL_CODEC_H265 : VIGIL_CODEC_H264;
    const guint8 *aud = c ? aud265 : aud264;
    gsize aud_size = c ? sizeof aud265 : sizeof aud264;
    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
      g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(codec, i % 2 == 1);
      g_autofree guint8 *au = make_au(sizes[i], c ? 0x26 : 0x65, i);
      g_autoptr(GBytes) key = vigil_ts_mux_video(mux, au, sizes[i], 9000, 9000, TRUE);
      /* The next picture's packets after it do not join the first. */
      g_autoptr(GBytes) next = vigil_ts_mux_video(mux, au, sizes[i], 12000, 12000, FALSE);
      g_autoptr(GByteArray) ts = g_byte_array_new();
      g_byte_array_append(ts, g_bytes_get_data(key, NULL), (guint)g_bytes_get_size(key));
      g_byte_array_append(ts, g_bytes_get_data(next, NULL), (guint)g_bytes_get_size(next));

      VigilCodec got = VIGIL_CODEC_NONE;
      g_autoptr(GBytes) unit = vigil_ts_read_video_unit(ts->data, ts->len, &got);
      g_assert_nonnull(unit);
      g_assert_cmpint(got, ==, codec);
      gsize size;
      const guint8 *data = g_bytes_get_data(unit, &size);
      g_assert_cmpuint(size, ==, aud_size + sizes[i]);
      g_assert_cmpmem(data, aud_size, aud, aud_size);
      g_assert_cmpmem(data + aud_size, sizes[i], au, sizes[i]);

      /* Without the PAT and PMT in front the codec is unknown: refused. */
      g_assert_null(vigil_ts_read_video_unit(ts->data + 2 * VIGIL_TS_PACKET_SIZE,
                                             ts->len - 2 * VIGIL_TS_PACKET_SIZE, &got));
      g_assert_cmpint(got, ==, VIGIL_CODEC_NONE);
      /* PAT and PMT only: no picture. */
      g_assert_null(vigil_ts_read_video_unit(ts->data, 2 * VIGIL_TS_PACKET_SIZE, &got));
      /* A broken PES start code. */
      ts->data[2 * VIGIL_TS_PACKET_SIZE + 4 + 1 + ts->data[2 * VIGIL_TS_PACKET_SIZE + 4] + 2] = 7;
      g_assert_null(vigil_ts_read_video_unit(ts->data, ts->len, &got));
    }
  }
  VigilCodec got;
  g_assert_null(vigil_ts_read_video_unit(NULL, 0, &got));
}

static void test_codec_string(void)
{
  g_assert_cmpstr(vigil_codec_to_string(VIGIL_CODEC_H264), ==, "h264");
  g_assert_cmpstr(vigil_codec_to_string(VIGIL_CODEC_H265), ==, "h265");
  g_assert_null(vigil_codec_to_string(VIGIL_CODEC_NONE));
}

/* ---- end to end with real encoders and real demuxers ---- */

typedef struct {
  GBytes *data;
  gint64 pts, dts; /* 90 kHz, relative to the first DTS */
  gboolean key;
} Unit;

static void unit_free(Unit *u)
{
  g_bytes_unref(u->data);
  g_free(u);
}

static GPtrArray *encode(const char *desc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(desc, &error);
  g_assert_no_error(error);
  g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  g_assert_nonnull(sink);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  GPtrArray *units = g_ptr_array_new_with_free_func((GDestroyNotify)unit_free);
  gint64 base = -1;
  for (;;) {
    g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 30 * GST_SECOND);
    if (sample == NULL) {
      g_assert_true(gst_app_sink_is_eos(GST_APP_SINK(sink)));
      break;
    }
    GstBuffer *buf = gst_sample_get_buffer(sample);
    GstClockTime pts = GST_BUFFER_PTS(buf);
    GstClockTime dts = GST_BUFFER_DTS_IS_VALID(buf) ? GST_BUFFER_DTS(buf) : pts;
    g_assert_true(GST_CLOCK_TIME_IS_VALID(pts));
    Unit *u = g_new0(Unit, 1);
    GstMapInfo map;
    g_assert_true(gst_buffer_map(buf, &map, GST_MAP_READ));
    u->data = g_bytes_new(map.data, map.size);
    gst_buffer_unmap(buf, &map);
    gint64 p90 = (gint64)gst_util_uint64_scale_round(pts, 90000, GST_SECOND);
    gint64 d90 = (gint64)gst_util_uint64_scale_round(dts, 90000, GST_SECOND);
    if (base < 0)
      base = d90;
    u->pts = p90 - base;
    u->dts = d90 - base;
    u->key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
    g_ptr_array_add(units, u);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return units;
}

static gboolean run(const char *const *argv, char **out, char **err)
{
  g_autoptr(GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status,
                    &error)) {
    g_test_message("spawn %s: %s", argv[0], error->message);
    return FALSE;
  }
  return g_spawn_check_wait_status(status, NULL);
}

static void on_handoff(GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  (*(guint *)data)++;
}

/* Plays @path through GStreamer's tsdemux and returns how many units reach
 * the sink; fails the test on any error. */
static guint gst_demux_count(const char *path, const char *tail)
{
  g_autofree char *desc = g_strdup_printf("filesrc location=\"%s\" ! tsdemux ! %s ! "
                                          "fakesink name=sink signal-handoffs=true sync=false",
                                          path, tail);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch(desc, &error);
  g_assert_no_error(error);
  g_autoptr(GstElement) sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  guint count = 0;
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &count);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
  g_autoptr(GstMessage) msg =
      gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull(msg);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    g_autoptr(GError) gerr = NULL;
    g_autofree char *dbg = NULL;
    gst_message_parse_error(msg, &gerr, &dbg);
    g_error("tsdemux failed: %s (%s)", gerr->message, dbg ? dbg : "");
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return count;
}

typedef struct {
  const char *video; /* encoder pipeline with appsink name=sink */
  VigilCodec codec;
  const char *ffname; /* ffprobe codec_name */
  const char *parse;  /* for tsdemux */
  gboolean audio;
} E2E;

static void test_end_to_end(gconstpointer data)
{
  const E2E *e = data;
  g_autofree char *ffmpeg = g_find_program_in_path("ffmpeg");
  g_autofree char *ffprobe = g_find_program_in_path("ffprobe");
  /* CI installs all of these (scripts/deps.sh): there a missing one fails. */
  if (ffmpeg == NULL || ffprobe == NULL) {
    if (g_getenv("VIGIL_CI"))
      g_test_fail_printf("ffmpeg/ffprobe not installed");
    else
      g_test_skip("ffmpeg/ffprobe not installed");
    return;
  }
  const char *needed[] = {strstr(e->video, "x265enc") ? "x265enc" : "x264enc", e->parse, "tsdemux",
                          e->audio ? "voaacenc" : "tsdemux"};
  for (guint i = 0; i < G_N_ELEMENTS(needed); i++) {
    g_autoptr(GstElementFactory) factory = gst_element_factory_find(needed[i]);
    if (factory == NULL) {
      if (g_getenv("VIGIL_CI"))
        g_test_fail_printf("GStreamer element %s not installed", needed[i]);
      else
        g_test_skip_printf("GStreamer element %s not installed", needed[i]);
      return;
    }
  }

  g_autoptr(GPtrArray) video = encode(e->video);
  g_assert_cmpuint(video->len, ==, 90);
  g_assert_true(((Unit *)g_ptr_array_index(video, 0))->key);
  g_autoptr(GPtrArray) audio = NULL;
  if (e->audio) {
    audio = encode("audiotestsrc num-buffers=140 samplesperbuffer=1024 ! "
                   "audio/x-raw,rate=48000,channels=1 ! voaacenc ! aacparse ! "
                   "audio/mpeg,stream-format=adts ! appsink name=sink sync=false");
    g_assert_cmpuint(audio->len, >, 100);
  }

  g_autoptr(VigilTsMux) mux = vigil_ts_mux_new(e->codec, e->audio);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("vigil-tsmux-XXXXXX.ts", &path, &error);
  g_assert_no_error(error);
  close(fd);
  g_autoptr(GByteArray) file = g_byte_array_new();
  guint vi = 0, ai = 0;
  guint keyframes = 0;
  /* Interleave by decode time, as the ingest would deliver them. */
  while (vi < video->len || (audio != NULL && ai < audio->len)) {
    Unit *v = vi < video->len ? g_ptr_array_index(video, vi) : NULL;
    Unit *a = audio != NULL && ai < audio->len ? g_ptr_array_index(audio, ai) : NULL;
    g_autoptr(GBytes) out = NULL;
    if (v != NULL && (a == NULL || v->dts <= a->dts)) {
      gsize size;
      const guint8 *d = g_bytes_get_data(v->data, &size);
      out = vigil_ts_mux_video(mux, d, size, v->pts, v->dts, v->key);
      keyframes += v->key;
      vi++;
    } else {
      gsize size;
      const guint8 *d = g_bytes_get_data(a->data, &size);
      out = vigil_ts_mux_audio(mux, d, size, a->pts);
      ai++;
    }
    check_packets(out);
    g_byte_array_append(file, g_bytes_get_data(out, NULL), (guint)g_bytes_get_size(out));
  }
  g_assert_cmpuint(keyframes, ==, 3);
  g_assert_true(g_file_set_contents(path, (const char *)file->data, file->len, &error));
  g_assert_no_error(error);

  /* ffmpeg decodes every frame without a word of complaint. */
  g_autofree char *out = NULL, *err = NULL;
  const char *decode[] = {ffmpeg, "-nostdin", "-v", "warning", "-i", path, "-f", "null", "-", NULL};
  g_assert_true(run(decode, &out, &err));
  g_test_message("ffmpeg: %s", err);
  g_assert_cmpstr(err, ==, "");

  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  const char *probe[] = {ffprobe,
                         "-v",
                         "error",
                         "-count_frames",
                         "-select_streams",
                         "v:0",
                         "-show_entries",
                         "stream=codec_name,nb_read_frames",
                         "-of",
                         "default=nw=1",
                         path,
                         NULL};
  g_assert_true(run(probe, &out, &err));
  g_assert_cmpstr(err, ==, "");
  g_autofree char *expect = g_strdup_printf("codec_name=%s\nnb_read_frames=90\n", e->ffname);
  /* (ffprobe prints the stream once per program and once in the list.) */
  g_assert_true(g_str_has_prefix(out, expect));

  if (e->audio) {
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    const char *aprobe[] = {ffprobe,
                            "-v",
                            "error",
                            "-count_frames",
                            "-select_streams",
                            "a:0",
                            "-show_entries",
                            "stream=codec_name,nb_read_frames",
                            "-of",
                            "default=nw=1",
                            path,
                            NULL};
    g_assert_true(run(aprobe, &out, &err));
    g_assert_cmpstr(err, ==, "");
    g_autofree char *aexpect = g_strdup_printf("codec_name=aac\nnb_read_frames=%u\n", audio->len);
    g_assert_true(g_str_has_prefix(out, aexpect));
  }

  /* GStreamer's tsdemux (used for MP4 export) gets all 90 access units. */
  g_assert_cmpuint(gst_demux_count(path, e->parse), ==, 90);
  g_unlink(path);
}

static const E2E e2e_h264 = {
    "videotestsrc num-buffers=90 ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc key-int-max=30 ! h264parse config-interval=-1 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false",
    VIGIL_CODEC_H264, "h264", "h264parse", FALSE};
static const E2E e2e_h264_bframes_aac = {
    "videotestsrc num-buffers=90 ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc key-int-max=30 bframes=2 ! h264parse config-interval=-1 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false",
    VIGIL_CODEC_H264, "h264", "h264parse", TRUE};
static const E2E e2e_h265 = {
    "videotestsrc num-buffers=90 ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x265enc key-int-max=30 speed-preset=ultrafast ! h265parse config-interval=-1 ! "
    "video/x-h265,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false",
    VIGIL_CODEC_H265, "hevc", "h265parse", FALSE};

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  gst_init(NULL, NULL);
  g_test_add_func("/tsmux/codec-string", test_codec_string);
  g_test_add_func("/tsmux/packet-counts", test_packet_counts);
  g_test_add_func("/tsmux/pat-pmt", test_pat_pmt);
  g_test_add_func("/tsmux/continuity", test_continuity);
  g_test_add_func("/tsmux/rai-pcr", test_rai_pcr);
  g_test_add_func("/tsmux/pes-video", test_pes_video);
  g_test_add_func("/tsmux/pts-wrap", test_pts_wrap);
  g_test_add_func("/tsmux/audio", test_audio);
  g_test_add_func("/tsmux/packet-parse", test_packet_parse);
  g_test_add_func("/tsmux/read-video-unit", test_read_video_unit);
  g_test_add_data_func("/tsmux/e2e/h264", &e2e_h264, test_end_to_end);
  g_test_add_data_func("/tsmux/e2e/h264-bframes-aac", &e2e_h264_bframes_aac, test_end_to_end);
  g_test_add_data_func("/tsmux/e2e/h265", &e2e_h265, test_end_to_end);
  return g_test_run();
}
