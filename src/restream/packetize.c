/* TS chunk → access unit → RTP packets, and the SDP fmtp of a keyframe
 * (restream/packetize.h). */
#include "restream/packetize.h"

#include <string.h>

#include "live/annexb.h"
#include "live/tsmux.h"

static GBytes *ts_pes(const guint8 *data, gsize size, guint16 want)
{
  if (size == 0 || size % VIGIL_TS_PACKET_SIZE != 0)
    return NULL;
  g_autoptr(GByteArray) es = g_byte_array_new();
  for (gsize off = 0; off < size; off += VIGIL_TS_PACKET_SIZE) {
    const guint8 *p = data + off;
    if (p[0] != 0x47)
      return NULL;
    guint16 pid = ((p[1] & 0x1f) << 8) | p[2];
    if (pid != want)
      continue;
    gboolean pusi = (p[1] & 0x40) != 0;
    guint afc = (p[3] >> 4) & 3;
    gsize pos = 4;
    if (afc == 2 || afc == 0)
      continue; /* no payload */
    if (afc == 3)
      pos += 1 + p[4];
    if (pos >= VIGIL_TS_PACKET_SIZE)
      continue;
    if (pusi) {
      /* PES header: start code, stream id, length, two flag bytes, header
       * data length, then that many bytes. */
      if (VIGIL_TS_PACKET_SIZE - pos < 9 || p[pos] != 0 || p[pos + 1] != 0 || p[pos + 2] != 1)
        return NULL;
      pos += 9 + p[pos + 8];
      if (pos > VIGIL_TS_PACKET_SIZE)
        return NULL;
    }
    g_byte_array_append(es, p + pos, VIGIL_TS_PACKET_SIZE - pos);
  }
  if (es->len == 0)
    return NULL;
  return g_byte_array_free_to_bytes(g_steal_pointer(&es));
}

GBytes *vigil_restream_ts_video(const guint8 *data, gsize size)
{
  return ts_pes(data, size, VIGIL_TS_PID_VIDEO);
}

GBytes *vigil_restream_ts_audio(const guint8 *data, gsize size)
{
  return ts_pes(data, size, VIGIL_TS_PID_AUDIO);
}

static const guint aac_rates[13] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                    22050, 16000, 12000, 11025, 8000,  7350};

/* The ADTS frame at @p (at most @left bytes): its header and whole size, or
 * FALSE when it is not one. */
static gboolean adts_frame(const guint8 *p, gsize left, gsize *header, gsize *frame)
{
  if (left < 7 || p[0] != 0xff || (p[1] & 0xf6) != 0xf0)
    return FALSE;
  *header = (p[1] & 1) ? 7 : 9;
  *frame = ((gsize)(p[3] & 3) << 11) | ((gsize)p[4] << 3) | (p[5] >> 5);
  return *frame > *header && *frame <= left;
}

gchar *vigil_restream_aac_fmtp(const guint8 *adts, gsize size, guint *rate, guint *channels)
{
  gsize header, frame;
  if (!adts_frame(adts, size, &header, &frame))
    return NULL;
  guint object = (adts[2] >> 6) + 1;
  guint index = (adts[2] >> 2) & 0xf;
  guint chans = ((adts[2] & 1) << 2) | (adts[3] >> 6);
  if (index >= G_N_ELEMENTS(aac_rates) || chans == 0)
    return NULL;
  *rate = aac_rates[index];
  *channels = chans;
  guint config = (object << 11) | (index << 7) | (chans << 3);
  return g_strdup_printf("streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; "
                         "indexlength=3; indexdeltalength=3; config=%04x",
                         config);
}

guint vigil_restream_packetize_aac(GByteArray *out, const guint8 *adts, gsize size, guint8 channel,
                                   guint32 timestamp, guint32 ssrc, guint16 *seq)
{
  g_return_val_if_fail(out && seq, 0);
  guint count = 0;
  gsize off = 0, header, frame;
  while (adts_frame(adts + off, size - off, &header, &frame)) {
    gsize au = frame - header;
    if (au >= 1 << 13)
      break;
    gsize len = 12 + 4 + au;
    guint32 ts = timestamp + count * 1024;
    guint8 h[20] = {'$',        channel,
                    len >> 8,   len & 0xff,
                    0x80,       0x80 | VIGIL_RESTREAM_AUDIO_PAYLOAD_TYPE,
                    *seq >> 8,  *seq & 0xff,
                    ts >> 24,   ts >> 16,
                    ts >> 8,    ts,
                    ssrc >> 24, ssrc >> 16,
                    ssrc >> 8,  ssrc,
                    0,          16, /* AU-headers-length in bits: one 16-bit AU header */
                    au >> 5,    (au & 0x1f) << 3};
    (*seq)++;
    g_byte_array_append(out, h, sizeof h);
    g_byte_array_append(out, adts + off + header, au);
    count++;
    off += frame;
  }
  return count;
}

/* The NAL unit starting at header offset @start: its end, trailing zero
 * bytes (the next start code's zero_byte) left out. */
static gsize nal_end(const guint8 *au, gsize size, gsize start, gsize *next)
{
  *next = vigil_annexb_next_nal(au, size, start);
  gsize end = *next < size ? *next - 3 : size;
  while (end > start && au[end - 1] == 0)
    end--;
  return end;
}

static void put_packet(GByteArray *out, guint8 channel, gboolean marker, guint32 timestamp,
                       guint32 ssrc, guint16 *seq, const guint8 *head, gsize head_size,
                       const guint8 *payload, gsize payload_size)
{
  gsize len = 12 + head_size + payload_size;
  guint8 h[16] = {'$',
                  channel,
                  len >> 8,
                  len & 0xff,
                  0x80,
                  (marker ? 0x80 : 0) | VIGIL_RESTREAM_PAYLOAD_TYPE,
                  *seq >> 8,
                  *seq & 0xff,
                  timestamp >> 24,
                  timestamp >> 16,
                  timestamp >> 8,
                  timestamp,
                  ssrc >> 24,
                  ssrc >> 16,
                  ssrc >> 8,
                  ssrc};
  (*seq)++;
  g_byte_array_append(out, h, sizeof h);
  if (head_size)
    g_byte_array_append(out, head, head_size);
  g_byte_array_append(out, payload, payload_size);
}

guint vigil_restream_packetize(GByteArray *out, VigilCodec codec, const guint8 *au, gsize size,
                               guint8 channel, guint32 timestamp, guint32 ssrc, guint16 *seq)
{
  g_return_val_if_fail(out && seq, 0);
  gsize hdr = codec == VIGIL_CODEC_H265 ? 2 : 1; /* NAL unit header size */
  guint count = 0;
  gsize next;
  gsize start = vigil_annexb_next_nal(au, size, 0);
  while (start < size) {
    gsize end = nal_end(au, size, start, &next);
    gboolean last = next >= size;
    const guint8 *nal = au + start;
    gsize n = end - start;
    start = next;
    if (n < hdr)
      continue;
    if (n <= VIGIL_RESTREAM_RTP_PAYLOAD) {
      put_packet(out, channel, last, timestamp, ssrc, seq, NULL, 0, nal, n);
      count++;
      continue;
    }
    guint8 fu[3];
    gsize fu_size;
    if (codec == VIGIL_CODEC_H265) {
      fu[0] = (nal[0] & 0x81) | (49 << 1);
      fu[1] = nal[1];
      fu[2] = (nal[0] >> 1) & 0x3f;
      fu_size = 3;
    } else {
      fu[0] = (nal[0] & 0xe0) | 28;
      fu[1] = nal[0] & 0x1f;
      fu_size = 2;
    }
    guint8 type_bits = fu[fu_size - 1];
    gsize max = VIGIL_RESTREAM_RTP_PAYLOAD - fu_size;
    for (gsize off = hdr; off < n;) {
      gsize piece = MIN(max, n - off);
      gboolean first = off == hdr, final = off + piece == n;
      fu[fu_size - 1] = type_bits | (first ? 0x80 : 0) | (final ? 0x40 : 0);
      put_packet(out, channel, last && final, timestamp, ssrc, seq, fu, fu_size, nal + off, piece);
      count++;
      off += piece;
    }
  }
  return count;
}

static void put32(guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

void vigil_restream_sender_report(GByteArray *out, guint8 channel, guint32 ssrc,
                                  gint64 wallclock_us, guint32 rtp_time, guint32 packets,
                                  guint32 octets)
{
  /* 28 bytes of SR, 16 of SDES (CNAME "vigil", end, padding). */
  guint8 p[4 + 28 + 16] = {'$', channel, 0, 44, 0x80, 200, 0, 6};
  guint64 seconds = (guint64)(wallclock_us / G_USEC_PER_SEC) + 2208988800u; /* 1900 epoch */
  guint64 fraction = ((guint64)(wallclock_us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;
  put32(p + 8, ssrc);
  put32(p + 12, (guint32)seconds);
  put32(p + 16, (guint32)fraction);
  put32(p + 20, rtp_time);
  put32(p + 24, packets);
  put32(p + 28, octets);
  guint8 *sdes = p + 32;
  sdes[0] = 0x81;
  sdes[1] = 202;
  sdes[3] = 3;
  put32(sdes + 4, ssrc);
  memcpy(sdes + 8, "\x01\x05vigil\x00", 8);
  g_byte_array_append(out, p, sizeof p);
}

gchar *vigil_restream_fmtp(const guint8 *au, gsize size, VigilCodec codec)
{
  /* Parameter sets: H.264 SPS 7, PPS 8; H.265 VPS 32, SPS 33, PPS 34. */
  const guint8 *sets[3] = {NULL, NULL, NULL};
  gsize lens[3] = {0, 0, 0};
  gsize next;
  gsize start = vigil_annexb_next_nal(au, size, 0);
  while (start < size) {
    gsize end = nal_end(au, size, start, &next);
    int slot = -1;
    if (end > start) {
      if (codec == VIGIL_CODEC_H265) {
        guint type = (au[start] >> 1) & 0x3f;
        slot = type >= 32 && type <= 34 ? (int)type - 32 : -1;
      } else {
        guint type = au[start] & 0x1f;
        slot = type == 7 ? 1 : type == 8 ? 2 : -1;
      }
    }
    if (slot >= 0 && !sets[slot]) {
      sets[slot] = au + start;
      lens[slot] = end - start;
    }
    start = next;
  }
  g_autofree gchar *vps = sets[0] ? g_base64_encode(sets[0], lens[0]) : NULL;
  g_autofree gchar *sps = sets[1] ? g_base64_encode(sets[1], lens[1]) : NULL;
  g_autofree gchar *pps = sets[2] ? g_base64_encode(sets[2], lens[2]) : NULL;
  if (codec == VIGIL_CODEC_H265) {
    if (!vps || !sps || !pps)
      return NULL;
    return g_strdup_printf("sprop-vps=%s;sprop-sps=%s;sprop-pps=%s", vps, sps, pps);
  }
  if (!sps || !pps || lens[1] < 4)
    return NULL;
  return g_strdup_printf(
      "packetization-mode=1;profile-level-id=%02X%02X%02X;sprop-parameter-sets=%s,%s", sets[1][1],
      sets[1][2], sets[1][3], sps, pps);
}
