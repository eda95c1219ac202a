/* A lean MPEG-TS muxer: one H.264/H.265 access unit (or one group of ADTS AAC
 * frames) in, one GBytes of whole 188-byte packets out, built in a single
 * allocation. This runs once per frame per camera, so it avoids per-packet
 * work beyond header writes and one memcpy of the payload.
 *
 * Timing: the PCR is the input DTS, and PTS/DTS are written VIGIL_TS_DELAY
 * (700 ms) later than the input values. That keeps PCR < DTS as players
 * require, never needs a negative PCR for a stream whose DTS starts at 0, and
 * gives decoders a comfortable buffering margin. Every video access unit's
 * first packet carries a PCR (cheap, and players that tune in anywhere lock on
 * quickly). All timestamps are masked to 33 bits when written, so wrap-around
 * is the natural MPEG-TS one. */
#define G_LOG_DOMAIN "vigil-live"

#include "live/tsmux.h"

#include <string.h>

#define TS_SYNC             0x47
#define TS_PAYLOAD          184 /* 188 minus the 4-byte header */
#define TS_PID_PAT          0x0000
#define TS_33BIT            0x1FFFFFFFFLL
#define TS_PROGRAM          1
#define TS_STREAM_ID_VIDEO  0xE0
#define TS_STREAM_ID_AUDIO  0xC0
#define TS_STREAM_TYPE_H264 0x1B
#define TS_STREAM_TYPE_H265 0x24
#define TS_STREAM_TYPE_ADTS 0x0F
/* An adaptation field with flags and a PCR: length byte, flags byte, 6 bytes. */
#define TS_AF_PCR_SIZE 8
/* PES_packet_length counts everything after itself; the header bytes that
 * follow it (flags, flags, header_data_length) plus optional fields. */
#define PES_MAX_LENGTH 0xFFFF

struct _VigilTsMux {
  VigilCodec codec;
  gboolean with_audio;
  guint8 cc_pat, cc_pmt, cc_video, cc_audio;
  /* Ready-made PAT and PMT packets; only their continuity counter changes. */
  guint8 pat[VIGIL_TS_PACKET_SIZE];
  guint8 pmt[VIGIL_TS_PACKET_SIZE];
};

/* Each new muxer gets the next PAT/PMT version_number, so a consumer that
 * sees the output of a re-created muxer (camera reconnected, maybe with a
 * different codec) treats its tables as new rather than as repeats. */
static gint vigil_ts_version_counter;

/* CRC-32/MPEG-2: polynomial 0x04C11DB7, MSB first, init all ones, no final
 * xor. Only computed for PAT/PMT at creation, so a bitwise loop is enough. */
static guint32 vigil_ts_crc32(const guint8 *data, gsize size)
{
  guint32 crc = 0xFFFFFFFFu;
  for (gsize i = 0; i < size; i++) {
    crc ^= (guint32)data[i] << 24;
    for (int bit = 0; bit < 8; bit++)
      crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : crc << 1;
  }
  return crc;
}

/* Writes a PSI packet around @section (table_id up to the byte before the
 * CRC); appends the CRC and fills the rest with 0xFF. */
static void vigil_ts_build_psi(guint8 packet[VIGIL_TS_PACKET_SIZE], guint16 pid,
                               const guint8 *section, gsize size)
{
  memset(packet, 0xFF, VIGIL_TS_PACKET_SIZE);
  packet[0] = TS_SYNC;
  packet[1] = 0x40 | (pid >> 8); /* payload_unit_start */
  packet[2] = pid & 0xFF;
  packet[3] = 0x10; /* payload only, CC patched on output */
  packet[4] = 0x00; /* pointer_field */
  memcpy(packet + 5, section, size);
  guint32 crc = vigil_ts_crc32(section, size);
  packet[5 + size] = crc >> 24;
  packet[6 + size] = crc >> 16;
  packet[7 + size] = crc >> 8;
  packet[8 + size] = crc;
}

VigilTsMux *vigil_ts_mux_new(VigilCodec video, gboolean with_audio)
{
  g_return_val_if_fail(video == VIGIL_CODEC_H264 || video == VIGIL_CODEC_H265, NULL);

  VigilTsMux *mux = g_new0(VigilTsMux, 1);
  mux->codec = video;
  mux->with_audio = with_audio;
  guint8 version = (guint8)(g_atomic_int_add(&vigil_ts_version_counter, 1) & 0x1F);
  guint8 version_byte = 0xC1 | (guint8)(version << 1); /* reserved, version, current */

  /* section_length counts from after itself to the end of the CRC. */
  /* clang-format off */
  const guint8 pat[] = {
    0x00,                                   /* table_id: program_association */
    0xB0, 13,                               /* syntax 1, section_length */
    0x00, 0x01,                             /* transport_stream_id */
    version_byte, 0x00, 0x00,               /* version, section 0 of 0 */
    0x00, TS_PROGRAM,                       /* program_number */
    0xE0 | (VIGIL_TS_PID_PMT >> 8), VIGIL_TS_PID_PMT & 0xFF,
  };
  vigil_ts_build_psi(mux->pat, TS_PID_PAT, pat, sizeof pat);

  guint8 video_type = video == VIGIL_CODEC_H265 ? TS_STREAM_TYPE_H265 : TS_STREAM_TYPE_H264;
  guint8 pmt[] = {
    0x02,                                   /* table_id: program_map */
    0xB0, 0,                                /* section_length set below */
    0x00, TS_PROGRAM,
    version_byte, 0x00, 0x00,
    0xE0 | (VIGIL_TS_PID_VIDEO >> 8), VIGIL_TS_PID_VIDEO & 0xFF, /* PCR_PID */
    0xF0, 0x00,                             /* program_info_length 0 */
    video_type, 0xE0 | (VIGIL_TS_PID_VIDEO >> 8), VIGIL_TS_PID_VIDEO & 0xFF, 0xF0, 0x00,
    TS_STREAM_TYPE_ADTS, 0xE0 | (VIGIL_TS_PID_AUDIO >> 8), VIGIL_TS_PID_AUDIO & 0xFF, 0xF0,
    0x00,
  };
  /* clang-format on */
  gsize pmt_size = with_audio ? sizeof pmt : sizeof pmt - 5;
  pmt[2] = (guint8)(pmt_size - 3 + 4);
  vigil_ts_build_psi(mux->pmt, VIGIL_TS_PID_PMT, pmt, pmt_size);
  return mux;
}

void vigil_ts_mux_free(VigilTsMux *mux)
{
  g_free(mux);
}

/* The PES payload comes from up to three places (header, optional AUD, the
 * caller's data); a tiny gather cursor copies across them without building a
 * contiguous PES first. */
typedef struct {
  const guint8 *part[3];
  gsize len[3];
  int index;
  gsize offset;
} VigilTsGather;

static void vigil_ts_gather_copy(VigilTsGather *g, guint8 *out, gsize n)
{
  while (n > 0) {
    gsize avail = g->len[g->index] - g->offset;
    if (avail == 0) {
      g->index++;
      g->offset = 0;
      continue;
    }
    gsize take = MIN(avail, n);
    memcpy(out, g->part[g->index] + g->offset, take);
    out += take;
    n -= take;
    g->offset += take;
  }
}

static void vigil_ts_write_timestamp(guint8 *p, guint8 prefix, gint64 ts)
{
  guint64 v = (guint64)ts & TS_33BIT;
  p[0] = (guint8)((prefix << 4) | ((v >> 29) & 0x0E) | 1);
  p[1] = (guint8)(v >> 22);
  p[2] = (guint8)(((v >> 14) & 0xFE) | 1);
  p[3] = (guint8)(v >> 7);
  p[4] = (guint8)(((v << 1) & 0xFE) | 1);
}

/* Writes one 188-byte packet carrying @payload_len bytes from @g. When
 * @with_pcr, the adaptation field holds the PCR (and RAI when @rai); any
 * room the payload leaves is filled with adaptation-field stuffing. */
static void vigil_ts_write_packet(guint8 *p, guint16 pid, gboolean start, guint8 *cc,
                                  gboolean with_pcr, gboolean rai, gint64 pcr, VigilTsGather *g,
                                  gsize payload_len)
{
  gsize af_total = TS_PAYLOAD - payload_len; /* includes the length byte */
  p[0] = TS_SYNC;
  p[1] = (guint8)((start ? 0x40 : 0x00) | (pid >> 8));
  p[2] = pid & 0xFF;
  p[3] = (guint8)((af_total > 0 ? 0x30 : 0x10) | *cc);
  *cc = (*cc + 1) & 0x0F;

  guint8 *q = p + 4;
  if (af_total > 0) {
    q[0] = (guint8)(af_total - 1);
    if (af_total > 1) {
      gsize used = 2;
      q[1] = (guint8)((rai ? 0x40 : 0x00) | (with_pcr ? 0x10 : 0x00));
      if (with_pcr) {
        guint64 base = (guint64)pcr & TS_33BIT;
        q[2] = (guint8)(base >> 25);
        q[3] = (guint8)(base >> 17);
        q[4] = (guint8)(base >> 9);
        q[5] = (guint8)(base >> 1);
        q[6] = (guint8)(((base & 1) << 7) | 0x7E); /* 6 reserved bits, ext high bit 0 */
        q[7] = 0x00;                               /* PCR extension */
        used += 6;
      }
      memset(q + used, 0xFF, af_total - used);
    }
    q += af_total;
  }
  vigil_ts_gather_copy(g, q, payload_len);
}

/* Splits one PES (in @g, @pes_size bytes) into packets at @out, which has room
 * for exactly the packet count vigil_ts_pes_packets() gave. */
static guint8 *vigil_ts_write_pes(guint8 *out, guint16 pid, guint8 *cc, gboolean with_pcr,
                                  gboolean rai, gint64 pcr, VigilTsGather *g, gsize pes_size)
{
  gsize first_cap = with_pcr ? TS_PAYLOAD - TS_AF_PCR_SIZE : TS_PAYLOAD;
  gsize take = MIN(pes_size, first_cap);
  vigil_ts_write_packet(out, pid, TRUE, cc, with_pcr, rai, pcr, g, take);
  out += VIGIL_TS_PACKET_SIZE;
  gsize left = pes_size - take;
  while (left > 0) {
    take = MIN(left, (gsize)TS_PAYLOAD);
    vigil_ts_write_packet(out, pid, FALSE, cc, FALSE, FALSE, 0, g, take);
    out += VIGIL_TS_PACKET_SIZE;
    left -= take;
  }
  return out;
}

static gsize vigil_ts_pes_packets(gsize pes_size, gboolean with_pcr)
{
  gsize first_cap = with_pcr ? TS_PAYLOAD - TS_AF_PCR_SIZE : TS_PAYLOAD;
  if (pes_size <= first_cap)
    return 1;
  return 1 + (pes_size - first_cap + TS_PAYLOAD - 1) / TS_PAYLOAD;
}

/* TRUE when the Annex B data starts (after its start code) with an access
 * unit delimiter NAL. */
static gboolean vigil_ts_starts_with_aud(VigilCodec codec, const guint8 *data, gsize size)
{
  gsize i = 0;
  while (i < size && i < 4 && data[i] == 0x00)
    i++;
  if (i < 2 || i >= size || data[i] != 0x01 || i + 1 >= size)
    return FALSE;
  guint8 nal = data[i + 1];
  if (codec == VIGIL_CODEC_H265)
    return ((nal >> 1) & 0x3F) == 35;
  return (nal & 0x1F) == 9;
}

static const guint8 vigil_ts_aud_h264[] = {0x00, 0x00, 0x00, 0x01, 0x09, 0xF0};
static const guint8 vigil_ts_aud_h265[] = {0x00, 0x00, 0x00, 0x01, 0x46, 0x01, 0x50};

GBytes *vigil_ts_mux_video(VigilTsMux *mux, const guint8 *data, gsize size, gint64 pts, gint64 dts,
                           gboolean keyframe)
{
  g_return_val_if_fail(mux != NULL, NULL);
  g_return_val_if_fail(data != NULL || size == 0, NULL);

  const guint8 *aud = NULL;
  gsize aud_size = 0;
  if (!vigil_ts_starts_with_aud(mux->codec, data, size)) {
    aud = mux->codec == VIGIL_CODEC_H265 ? vigil_ts_aud_h265 : vigil_ts_aud_h264;
    aud_size = mux->codec == VIGIL_CODEC_H265 ? sizeof vigil_ts_aud_h265 : sizeof vigil_ts_aud_h264;
  }

  gint64 out_pts = pts + VIGIL_TS_DELAY;
  gint64 out_dts = dts + VIGIL_TS_DELAY;
  gboolean with_dts = ((out_pts ^ out_dts) & TS_33BIT) != 0;
  guint8 header[19];
  gsize header_size = with_dts ? 19 : 14;
  gsize es_size = aud_size + size;
  gsize pes_length = header_size - 6 + es_size;
  header[0] = 0x00;
  header[1] = 0x00;
  header[2] = 0x01;
  header[3] = TS_STREAM_ID_VIDEO;
  /* A video PES may leave its length 0 ("unbounded"); giving the real length
   * when it fits lets demuxers emit the frame without waiting for the next. */
  if (pes_length > PES_MAX_LENGTH)
    pes_length = 0;
  header[4] = (guint8)(pes_length >> 8);
  header[5] = (guint8)pes_length;
  header[6] = 0x84; /* '10', data_alignment_indicator */
  header[7] = with_dts ? 0xC0 : 0x80;
  header[8] = with_dts ? 10 : 5;
  vigil_ts_write_timestamp(header + 9, with_dts ? 0x3 : 0x2, out_pts);
  if (with_dts)
    vigil_ts_write_timestamp(header + 14, 0x1, out_dts);

  gsize pes_size = header_size + es_size;
  gsize n = vigil_ts_pes_packets(pes_size, TRUE) + (keyframe ? 2 : 0);
  guint8 *buf = g_malloc(n * VIGIL_TS_PACKET_SIZE);
  guint8 *out = buf;
  if (keyframe) {
    memcpy(out, mux->pat, VIGIL_TS_PACKET_SIZE);
    out[3] = (guint8)(0x10 | mux->cc_pat);
    mux->cc_pat = (mux->cc_pat + 1) & 0x0F;
    out += VIGIL_TS_PACKET_SIZE;
    memcpy(out, mux->pmt, VIGIL_TS_PACKET_SIZE);
    out[3] = (guint8)(0x10 | mux->cc_pmt);
    mux->cc_pmt = (mux->cc_pmt + 1) & 0x0F;
    out += VIGIL_TS_PACKET_SIZE;
  }
  VigilTsGather g = {{header, aud, data}, {header_size, aud_size, size}, 0, 0};
  out = vigil_ts_write_pes(out, VIGIL_TS_PID_VIDEO, &mux->cc_video, TRUE, keyframe, dts, &g,
                           pes_size);
  g_assert((gsize)(out - buf) == n * VIGIL_TS_PACKET_SIZE);
  return g_bytes_new_take(buf, n * VIGIL_TS_PACKET_SIZE);
}

/* ADTS: 0xFFF sync, frame_length in 13 bits of bytes 3..5, sampling index
 * in byte 2. Returns 0 when @data does not start with a plausible header. */
static gsize vigil_ts_adts_frame_length(const guint8 *data, gsize size, guint *rate)
{
  static const guint rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                22050, 16000, 12000, 11025, 8000,  7350};
  if (size < 7 || data[0] != 0xFF || (data[1] & 0xF6) != 0xF0)
    return 0;
  guint index = (data[2] >> 2) & 0x0F;
  if (index >= G_N_ELEMENTS(rates))
    return 0;
  *rate = rates[index];
  gsize len = ((gsize)(data[3] & 0x03) << 11) | ((gsize)data[4] << 3) | (data[5] >> 5);
  return len >= 7 ? len : 0;
}

#define AUDIO_HEADER_SIZE 14
#define AUDIO_MAX_PAYLOAD (PES_MAX_LENGTH - (AUDIO_HEADER_SIZE - 6))

/* An audio PES must state its length, which is 16 bits. Almost always one PES
 * holds the whole call; larger input is cut at ADTS frame boundaries (input
 * that does not parse as ADTS is cut anywhere). Returns the length of the
 * piece at @offset and counts the AAC frames in it into @frames. */
static gsize vigil_ts_audio_piece(const guint8 *data, gsize size, gsize offset, guint64 *frames,
                                  guint *rate)
{
  gsize len = 0;
  while (offset + len < size) {
    guint frame_rate = 0;
    gsize frame = vigil_ts_adts_frame_length(data + offset + len, size - offset - len, &frame_rate);
    if (frame == 0 || len + frame > AUDIO_MAX_PAYLOAD)
      break;
    len += MIN(frame, size - offset - len);
    if (*rate == 0)
      *rate = frame_rate;
    (*frames)++;
  }
  if (len == 0)
    len = MIN(size - offset, (gsize)AUDIO_MAX_PAYLOAD);
  return len;
}

GBytes *vigil_ts_mux_audio(VigilTsMux *mux, const guint8 *data, gsize size, gint64 pts)
{
  g_return_val_if_fail(mux != NULL, NULL);
  g_return_val_if_fail(data != NULL || size == 0, NULL);
  if (!mux->with_audio)
    return NULL;
  if (size == 0)
    return g_bytes_new(NULL, 0);

  /* First pass: count packets, so the output is one allocation. */
  gsize n = 0;
  gsize offset = 0;
  guint64 frames = 0;
  guint rate = 0;
  do {
    gsize len = vigil_ts_audio_piece(data, size, offset, &frames, &rate);
    n += vigil_ts_pes_packets(AUDIO_HEADER_SIZE + len, FALSE);
    offset += len;
  } while (offset < size);

  guint8 *buf = g_malloc(n * VIGIL_TS_PACKET_SIZE);
  guint8 *out = buf;
  offset = 0;
  frames = 0;
  rate = 0;
  do {
    /* Each piece is stamped with the time of its first frame. */
    gint64 piece_pts = pts + (rate ? (gint64)(frames * 1024 * 90000 / rate) : 0);
    gsize len = vigil_ts_audio_piece(data, size, offset, &frames, &rate);
    guint8 header[AUDIO_HEADER_SIZE] = {0x00, 0x00, 0x01, TS_STREAM_ID_AUDIO};
    gsize pes_length = AUDIO_HEADER_SIZE - 6 + len;
    header[4] = (guint8)(pes_length >> 8);
    header[5] = (guint8)pes_length;
    header[6] = 0x84; /* '10', data_alignment_indicator */
    header[7] = 0x80; /* PTS only */
    header[8] = 5;
    vigil_ts_write_timestamp(header + 9, 0x2, piece_pts + VIGIL_TS_DELAY);
    VigilTsGather g = {{header, data + offset, NULL}, {AUDIO_HEADER_SIZE, len, 0}, 0, 0};
    out = vigil_ts_write_pes(out, VIGIL_TS_PID_AUDIO, &mux->cc_audio, FALSE, FALSE, 0, &g,
                             AUDIO_HEADER_SIZE + len);
    offset += len;
  } while (offset < size);
  g_assert((gsize)(out - buf) == n * VIGIL_TS_PACKET_SIZE);
  return g_bytes_new_take(buf, n * VIGIL_TS_PACKET_SIZE);
}

gboolean vigil_ts_packet_parse(const guint8 packet[VIGIL_TS_PACKET_SIZE], VigilTsPacketInfo *info)
{
  g_return_val_if_fail(packet != NULL && info != NULL, FALSE);
  if (packet[0] != TS_SYNC)
    return FALSE;
  guint8 afc = (packet[3] >> 4) & 0x03;
  gboolean rai = FALSE;
  if (afc & 0x02) {
    guint8 af_len = packet[4];
    /* Adaptation field only: it fills the packet. With payload: it leaves
     * at least one payload byte. */
    if ((afc == 0x02 && af_len != 183) || (afc == 0x03 && af_len > 182))
      return FALSE;
    rai = af_len > 0 && (packet[5] & 0x40) != 0;
  }
  info->pid = (guint16)(((packet[1] & 0x1F) << 8) | packet[2]);
  info->payload_unit_start = (packet[1] & 0x40) != 0;
  info->random_access = rai;
  info->continuity = packet[3] & 0x0F;
  return TRUE;
}

/* The payload of a packet that vigil_ts_packet_parse() accepted; NULL when
 * it has none. */
static const guint8 *packet_payload(const guint8 *packet, gsize *size)
{
  guint8 afc = (packet[3] >> 4) & 0x03;
  gsize start = 4;
  if (afc & 0x02)
    start += 1 + (gsize)packet[4];
  if (!(afc & 0x01) || start >= VIGIL_TS_PACKET_SIZE)
    return NULL;
  *size = VIGIL_TS_PACKET_SIZE - start;
  return packet + start;
}

/* The codec of VIGIL_TS_PID_VIDEO in a PMT section that starts in @payload. */
static VigilCodec pmt_video_codec(const guint8 *payload, gsize size)
{
  gsize pos = 1 + (gsize)payload[0]; /* pointer_field */
  if (pos + 12 > size || payload[pos] != 0x02)
    return VIGIL_CODEC_NONE;
  gsize section_length = ((gsize)(payload[pos + 1] & 0x0F) << 8) | payload[pos + 2];
  gsize end = MIN(size, pos + 3 + section_length);
  end = end >= 4 ? end - 4 : 0; /* the CRC */
  gsize es = pos + 12 + (((gsize)(payload[pos + 10] & 0x0F) << 8) | payload[pos + 11]);
  while (es + 5 <= end) {
    guint16 pid = (guint16)(((payload[es + 1] & 0x1F) << 8) | payload[es + 2]);
    if (pid == VIGIL_TS_PID_VIDEO) {
      if (payload[es] == TS_STREAM_TYPE_H264)
        return VIGIL_CODEC_H264;
      return payload[es] == TS_STREAM_TYPE_H265 ? VIGIL_CODEC_H265 : VIGIL_CODEC_NONE;
    }
    es += 5 + (((gsize)(payload[es + 3] & 0x0F) << 8) | payload[es + 4]);
  }
  return VIGIL_CODEC_NONE;
}

GBytes *vigil_ts_read_video_unit(const guint8 *ts, gsize size, VigilCodec *codec)
{
  g_return_val_if_fail((ts != NULL || size == 0) && codec != NULL, NULL);
  *codec = VIGIL_CODEC_NONE;
  g_autoptr(GByteArray) unit = NULL;
  for (gsize offset = 0; offset + VIGIL_TS_PACKET_SIZE <= size; offset += VIGIL_TS_PACKET_SIZE) {
    const guint8 *packet = ts + offset;
    VigilTsPacketInfo info;
    gsize n = 0;
    const guint8 *payload;
    if (!vigil_ts_packet_parse(packet, &info) || !(payload = packet_payload(packet, &n)))
      continue;
    if (info.pid == VIGIL_TS_PID_PMT && info.payload_unit_start) {
      *codec = pmt_video_codec(payload, n);
    } else if (info.pid == VIGIL_TS_PID_VIDEO && info.payload_unit_start) {
      if (unit)
        break; /* the next access unit */
      /* PES: 00 00 01, stream_id, length (2), flags (2), header_data_length. */
      if (n < 9 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1 || 9u + payload[8] > n)
        return NULL;
      unit = g_byte_array_new();
      g_byte_array_append(unit, payload + 9 + payload[8], (guint)(n - 9 - payload[8]));
    } else if (info.pid == VIGIL_TS_PID_VIDEO && unit) {
      g_byte_array_append(unit, payload, (guint)n);
    }
  }
  if (!unit || unit->len == 0 || *codec == VIGIL_CODEC_NONE)
    return NULL;
  return g_byte_array_free_to_bytes(g_steal_pointer(&unit));
}
