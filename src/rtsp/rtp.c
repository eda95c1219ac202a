/* RTP and RTCP (rtsp.h): reads packet headers and sender reports, and turns
 * H.264, H.265 and AAC payloads back into access units and frames. Every
 * byte comes from the camera: each length is checked before it is used. */
#define G_LOG_DOMAIN "vigil-rtsp"

#include <string.h>

#include "rtsp/rtsp.h"

#define MAX_AU (32 * 1024 * 1024)
/* A packet at most this far behind the expected sequence number is late or
 * repeated (already counted as lost) and dropped; further back, the sender
 * has restarted its numbering. */
#define MAX_LATE 64
/* After an access unit this large the buffer is given back, not kept for
 * the next ones (a keyframe is rarely over a few hundred KiB). */
#define KEEP_CAPACITY (4 * 1024 * 1024)
/* "lost" when the number of lost packets is unknown (a new source) */
#define LOST_UNKNOWN G_MAXUINT

static const guint8 start_code[4] = {0, 0, 0, 1};

struct _VigilRtpDepay {
  VigilRtpPayload payload;
  /* video: the access unit being gathered; AAC: a fragmented frame */
  GByteArray *buf;
  gboolean shrink; /* buf grew past KEEP_CAPACITY */

  gboolean have_sequence;
  guint16 next_sequence;
  guint32 ssrc;
  gboolean marker_seen; /* the sender marks the ends of access units */
  /* The sender set a marker before the end of an access unit (on every
   * slice, as some cameras do): from then on only timestamps end one. */
  gboolean marker_untrusted;
  gboolean emitted; /* an access unit of emitted_timestamp went out */
  guint32 emitted_timestamp;

  /* video */
  gboolean gathering; /* buf holds (or held) NAL units of timestamp */
  guint32 timestamp;
  gboolean damaged;
  gboolean too_large; /* over MAX_AU: its data is dropped */
  gboolean in_fu;     /* a fragmented NAL unit starts at buf[fu_start] */
  gsize fu_start;
  guint8 fu_type;

  /* AAC: the AU-header layout (RFC 3640 3.2.1) and frame duration */
  guint size_length, index_length, index_delta_length;
  guint cts_delta_length, dts_delta_length, stream_state_length;
  gboolean random_access;
  guint aux_size_length;
  guint frame_duration;
  gboolean in_fragment;
  guint32 fragment_timestamp;
  guint32 fragment_size;
};

gboolean vigil_rtp_parse(const guint8 *data, gsize size, VigilRtpPacket *out)
{
  g_return_val_if_fail(out != NULL, FALSE);
  if (!data || size < 12 || (data[0] >> 6) != 2)
    return FALSE;
  /* payload types 72-76 are reserved so that RTCP (SR 200 ... APP 204 with
   * the marker bit) is never taken for RTP */
  guint8 payload_type = data[1] & 0x7F;
  if (payload_type >= 72 && payload_type <= 76)
    return FALSE;
  gsize offset = 12 + 4 * (gsize)(data[0] & 0x0F);
  if (offset > size)
    return FALSE;
  if (data[0] & 0x10) {
    if (size - offset < 4)
      return FALSE;
    gsize extension = 4 * (gsize)(data[offset + 2] << 8 | data[offset + 3]);
    offset += 4;
    if (size - offset < extension)
      return FALSE;
    offset += extension;
  }
  gsize end = size;
  if (data[0] & 0x20) {
    /* the last byte counts the padding, itself included */
    guint8 padding = data[size - 1];
    if (padding == 0 || padding > size - offset)
      return FALSE;
    end -= padding;
  }
  out->payload_type = payload_type;
  out->marker = (data[1] & 0x80) != 0;
  out->sequence = (guint16)(data[2] << 8 | data[3]);
  out->timestamp =
      (guint32)data[4] << 24 | (guint32)data[5] << 16 | (guint32)data[6] << 8 | data[7];
  out->ssrc = (guint32)data[8] << 24 | (guint32)data[9] << 16 | (guint32)data[10] << 8 | data[11];
  out->payload = data + offset;
  out->payload_size = end - offset;
  return TRUE;
}

static guint32 read32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

gboolean vigil_rtcp_sender_report(const guint8 *data, gsize size, guint32 *ssrc, guint64 *ntp,
                                  guint32 *rtp_time)
{
  if (!data)
    return FALSE;
  gsize pos = 0;
  while (size - pos >= 4) {
    const guint8 *h = data + pos;
    if ((h[0] >> 6) != 2)
      return FALSE;
    gsize length = 4 * ((gsize)(h[2] << 8 | h[3]) + 1);
    if (length > size - pos)
      return FALSE;
    /* SR: header, SSRC, NTP (8), RTP timestamp, counts; 28 bytes at least */
    if (h[1] == 200 && length >= 28) {
      if (ssrc)
        *ssrc = read32(h + 4);
      if (ntp)
        *ntp = (guint64)read32(h + 8) << 32 | read32(h + 12);
      if (rtp_time)
        *rtp_time = read32(h + 16);
      return TRUE;
    }
    pos += length;
  }
  return FALSE;
}

static guint fmtp_uint(const VigilSdpMedia *media, const char *name, guint fallback, guint min,
                       guint max)
{
  const char *value = media ? vigil_sdp_media_fmtp(media, name) : NULL;
  guint64 n;
  if (!value || !g_ascii_string_to_unsigned(value, 10, min, max, &n, NULL))
    return fallback;
  return (guint)n;
}

VigilRtpDepay *vigil_rtp_depay_new(VigilRtpPayload payload, const VigilSdpMedia *media)
{
  g_return_val_if_fail(
      payload == VIGIL_RTP_H264 || payload == VIGIL_RTP_H265 || payload == VIGIL_RTP_AAC, NULL);
  VigilRtpDepay *depay = g_new0(VigilRtpDepay, 1);
  depay->payload = payload;
  depay->buf = g_byte_array_new();
  if (payload == VIGIL_RTP_AAC) {
    /* RFC 3640 3.3.5-6: AAC-lbr has smaller headers; both modes must say
     * so in fmtp, but a camera that forgets gets the usual values */
    const char *mode = media ? vigil_sdp_media_fmtp(media, "mode") : NULL;
    gboolean lbr = mode && g_ascii_strcasecmp(mode, "AAC-lbr") == 0;
    depay->size_length = fmtp_uint(media, "sizelength", lbr ? 6 : 13, 1, 32);
    depay->index_length = fmtp_uint(media, "indexlength", lbr ? 2 : 3, 0, 32);
    depay->index_delta_length = fmtp_uint(media, "indexdeltalength", lbr ? 2 : 3, 0, 32);
    depay->cts_delta_length = fmtp_uint(media, "ctsdeltalength", 0, 0, 32);
    depay->dts_delta_length = fmtp_uint(media, "dtsdeltalength", 0, 0, 32);
    depay->random_access = fmtp_uint(media, "randomaccessindication", 0, 0, 1);
    depay->stream_state_length = fmtp_uint(media, "streamstateindication", 0, 0, 32);
    depay->aux_size_length = fmtp_uint(media, "auxiliarydatasizelength", 0, 0, 32);
    depay->frame_duration = fmtp_uint(media, "constantduration", 1024, 1, 65535);
  }
  return depay;
}

void vigil_rtp_depay_free(VigilRtpDepay *depay)
{
  if (!depay)
    return;
  g_byte_array_unref(depay->buf);
  g_free(depay);
}

/* Whether @packet continues the stream: FALSE for a late or repeated one (to
 * drop). *@lost is how many packets went missing before it (a jump far
 * back, the sender restarting its numbering, counts as a large loss),
 * LOST_UNKNOWN when another source took over. */
static gboolean check_sequence(VigilRtpDepay *depay, const VigilRtpPacket *packet, guint *lost)
{
  *lost = 0;
  if (depay->have_sequence && packet->ssrc != depay->ssrc) {
    *lost = LOST_UNKNOWN;
  } else if (depay->have_sequence) {
    guint16 ahead = (guint16)(packet->sequence - depay->next_sequence);
    if (ahead >= 0x10000 - MAX_LATE)
      return FALSE;
    *lost = ahead;
  }
  depay->have_sequence = TRUE;
  depay->ssrc = packet->ssrc;
  depay->next_sequence = (guint16)(packet->sequence + 1);
  return TRUE;
}

static void reset_buffer(VigilRtpDepay *depay)
{
  if (depay->shrink) {
    g_byte_array_unref(depay->buf);
    depay->buf = g_byte_array_new();
    depay->shrink = FALSE;
  } else {
    g_byte_array_set_size(depay->buf, 0);
  }
}

/* ------------------------------------------------------------------------
 * Video: H.264 and H.265
 * ------------------------------------------------------------------------ */

/* Appends to the access unit (a start code when @start_code_too, then
 * @head and @body). FALSE when that would pass MAX_AU: the access unit's
 * data is dropped and the rest of it ignored. */
static gboolean put(VigilRtpDepay *depay, gboolean start_code_too, const guint8 *head,
                    gsize head_size, const guint8 *body, gsize body_size)
{
  if (depay->too_large)
    return FALSE;
  gsize add = (start_code_too ? sizeof start_code : 0) + head_size + body_size;
  if (add > MAX_AU - depay->buf->len) {
    depay->too_large = TRUE;
    depay->in_fu = FALSE;
    g_byte_array_set_size(depay->buf, 0);
    return FALSE;
  }
  if (start_code_too)
    g_byte_array_append(depay->buf, start_code, sizeof start_code);
  if (head_size)
    g_byte_array_append(depay->buf, head, (guint)head_size);
  if (body_size)
    g_byte_array_append(depay->buf, body, (guint)body_size);
  if (depay->buf->len > KEEP_CAPACITY)
    depay->shrink = TRUE;
  return TRUE;
}

/* Drops the fragmented NAL unit being assembled: it cannot be whole. */
static void drop_fu(VigilRtpDepay *depay)
{
  if (!depay->in_fu)
    return;
  g_byte_array_set_size(depay->buf, (guint)depay->fu_start);
  depay->in_fu = FALSE;
  depay->damaged = TRUE;
}

/* STAP-A (H.264) and AP (H.265): NAL units each after a 16-bit size. */
static void put_aggregate(VigilRtpDepay *depay, const guint8 *data, gsize size, gsize min_nal)
{
  gsize pos = 0;
  while (size - pos >= 2) {
    gsize nal_size = (gsize)(data[pos] << 8 | data[pos + 1]);
    pos += 2;
    if (nal_size < min_nal || nal_size > size - pos) {
      depay->damaged = TRUE;
      return;
    }
    put(depay, TRUE, data + pos, nal_size, NULL, 0);
    pos += nal_size;
  }
}

/* FU-A (H.264) and FU (H.265): @head is the rebuilt NAL unit header. */
static void put_fragment(VigilRtpDepay *depay, guint8 fu_header, guint8 type, const guint8 *head,
                         gsize head_size, const guint8 *body, gsize body_size)
{
  gboolean start = (fu_header & 0x80) != 0, end = (fu_header & 0x40) != 0;
  if (start) {
    drop_fu(depay);
    depay->fu_start = depay->buf->len;
    depay->fu_type = type;
    depay->in_fu = put(depay, TRUE, head, head_size, body, body_size);
  } else if (!depay->in_fu || type != depay->fu_type) {
    /* a continuation without its start */
    drop_fu(depay);
    depay->damaged = TRUE;
    return;
  } else {
    depay->in_fu = put(depay, FALSE, NULL, 0, body, body_size);
  }
  if (end)
    depay->in_fu = FALSE;
}

static void depay_h264(VigilRtpDepay *depay, const guint8 *data, gsize size)
{
  if (size < 1)
    return;
  guint8 type = data[0] & 0x1F;
  /* fragments of one NAL unit are sent back to back */
  if (type != 28)
    drop_fu(depay);
  if (type >= 1 && type <= 23) {
    put(depay, TRUE, data, size, NULL, 0);
  } else if (type == 24) {
    put_aggregate(depay, data + 1, size - 1, 1);
  } else if (type == 28) {
    if (size < 2) {
      drop_fu(depay);
      depay->damaged = TRUE;
      return;
    }
    guint8 head = (guint8)((data[0] & 0xE0) | (data[1] & 0x1F));
    put_fragment(depay, data[1], data[1] & 0x1F, &head, 1, data + 2, size - 2);
  } else if (type >= 25 && type <= 29) {
    /* STAP-B, MTAP16, MTAP24, FU-B: interleaved mode, which we never ask for */
    depay->damaged = TRUE;
  }
  /* 0, 30, 31 are undefined: ignored (RFC 6184 5.2) */
}

static void depay_h265(VigilRtpDepay *depay, const guint8 *data, gsize size)
{
  if (size < 2)
    return;
  guint8 type = (data[0] >> 1) & 0x3F;
  if (type != 49)
    drop_fu(depay);
  if (type < 48) {
    put(depay, TRUE, data, size, NULL, 0);
  } else if (type == 48) {
    put_aggregate(depay, data + 2, size - 2, 2);
  } else if (type == 49) {
    if (size < 3) {
      drop_fu(depay);
      depay->damaged = TRUE;
      return;
    }
    guint8 fu_type = data[2] & 0x3F;
    guint8 head[2] = {(guint8)((data[0] & 0x81) | (fu_type << 1)), data[1]};
    put_fragment(depay, data[2], fu_type, head, sizeof head, data + 3, size - 3);
  } else if (type == 50) {
    /* PACI: never sent unless asked for; its NAL unit is lost */
    depay->damaged = TRUE;
  }
  /* 51-63 are unspecified: ignored (RFC 7798 4.4) */
}

static void emit_video(VigilRtpDepay *depay, VigilRtpUnitFunc func, gpointer user_data)
{
  if (!depay->gathering)
    return;
  drop_fu(depay);
  if (depay->too_large)
    depay->damaged = TRUE;
  /* An access unit that lost everything is still handed on (empty,
   * damaged): the caller has to learn that a picture is missing. */
  if (depay->buf->len > 0 || depay->damaged)
    func(depay->buf->len ? depay->buf->data : start_code, depay->buf->len, depay->timestamp,
         depay->damaged, user_data);
  depay->emitted = TRUE;
  depay->emitted_timestamp = depay->timestamp;
  depay->gathering = FALSE;
  depay->damaged = FALSE;
  depay->too_large = FALSE;
  reset_buffer(depay);
}

static void push_video(VigilRtpDepay *depay, const VigilRtpPacket *packet, guint lost,
                       VigilRtpUnitFunc func, gpointer user_data)
{
  gboolean damaged = lost != 0;
  if (!depay->gathering && depay->emitted && packet->timestamp == depay->emitted_timestamp) {
    /* More of a picture that a marker already ended: the sender marks
     * slices, not access units. The rest of this picture cannot join the
     * part handed on; later ones wait for a new timestamp. */
    if (!depay->marker_untrusted)
      g_debug("the sender sets RTP markers inside pictures: ending them by timestamp");
    depay->marker_untrusted = TRUE;
    return;
  }
  if (depay->gathering && packet->timestamp != depay->timestamp) {
    /* a new timestamp ends the access unit whose marker did not come */
    if (lost)
      depay->damaged = TRUE;
    emit_video(depay, func, user_data);
    /* with one packet lost between them, the lost one was that marker:
     * the new access unit is whole */
    if (lost == 1 && depay->marker_seen)
      damaged = FALSE;
  } else if (depay->gathering && lost) {
    drop_fu(depay);
    depay->damaged = TRUE;
  }
  if (!depay->gathering) {
    depay->gathering = TRUE;
    depay->timestamp = packet->timestamp;
    depay->damaged = damaged;
  }
  if (depay->payload == VIGIL_RTP_H264)
    depay_h264(depay, packet->payload, packet->payload_size);
  else
    depay_h265(depay, packet->payload, packet->payload_size);
  if (packet->marker && !depay->marker_untrusted) {
    depay->marker_seen = TRUE;
    emit_video(depay, func, user_data);
  }
}

/* ------------------------------------------------------------------------
 * AAC: RFC 3640 mpeg4-generic
 * ------------------------------------------------------------------------ */

typedef struct {
  const guint8 *data;
  gsize bits, pos;
} BitReader;

static gboolean read_bits(BitReader *r, guint count, guint32 *out)
{
  if (count > 32 || r->bits - r->pos < count)
    return FALSE;
  guint32 value = 0;
  for (guint i = 0; i < count; i++, r->pos++)
    value = value << 1 | ((r->data[r->pos >> 3] >> (7 - (r->pos & 7))) & 1);
  *out = value;
  return TRUE;
}

/* One AU-header (RFC 3640 3.2.1.1): its AU-size, the rest skipped. The
 * index fields are ignored: cameras do not interleave. */
static gboolean read_au_header(const VigilRtpDepay *depay, BitReader *r, gboolean first,
                               guint32 *au_size)
{
  guint32 value;
  if (!read_bits(r, depay->size_length, au_size) ||
      !read_bits(r, first ? depay->index_length : depay->index_delta_length, &value))
    return FALSE;
  if (depay->cts_delta_length) {
    if (!read_bits(r, 1, &value) || (value && !read_bits(r, depay->cts_delta_length, &value)))
      return FALSE;
  }
  if (depay->dts_delta_length) {
    if (!read_bits(r, 1, &value) || (value && !read_bits(r, depay->dts_delta_length, &value)))
      return FALSE;
  }
  if (depay->random_access && !read_bits(r, 1, &value))
    return FALSE;
  return read_bits(r, depay->stream_state_length, &value);
}

static void drop_aac_fragment(VigilRtpDepay *depay)
{
  if (!depay->in_fragment)
    return;
  depay->in_fragment = FALSE;
  reset_buffer(depay);
}

/* One frame larger than a packet comes in pieces, each with the same
 * timestamp and the whole frame's AU-size; the last has the marker. */
static void push_aac_fragment(VigilRtpDepay *depay, const VigilRtpPacket *packet, guint32 au_size,
                              const guint8 *data, gsize size, VigilRtpUnitFunc func,
                              gpointer user_data)
{
  if (depay->in_fragment &&
      (packet->timestamp != depay->fragment_timestamp || au_size != depay->fragment_size))
    drop_aac_fragment(depay);
  if (au_size > MAX_AU)
    return;
  if (!depay->in_fragment) {
    depay->in_fragment = TRUE;
    depay->fragment_timestamp = packet->timestamp;
    depay->fragment_size = au_size;
  }
  if (size > depay->fragment_size - depay->buf->len) {
    drop_aac_fragment(depay);
    return;
  }
  if (size)
    g_byte_array_append(depay->buf, data, (guint)size);
  if (depay->buf->len > KEEP_CAPACITY)
    depay->shrink = TRUE;
  if (depay->buf->len == depay->fragment_size) {
    func(depay->buf->data, depay->buf->len, depay->fragment_timestamp, FALSE, user_data);
    drop_aac_fragment(depay);
  } else if (packet->marker) {
    /* the last piece, but the first ones were lost */
    drop_aac_fragment(depay);
  }
}

/* FALSE for a packet that does not add up: it is dropped whole, and as a
 * lost one would, ends a fragmented frame. */
static gboolean push_aac_packet(VigilRtpDepay *depay, const VigilRtpPacket *packet,
                                VigilRtpUnitFunc func, gpointer user_data)
{
  const guint8 *data = packet->payload;
  gsize size = packet->payload_size;
  if (size < 2)
    return FALSE;
  gsize header_bits = (gsize)(data[0] << 8 | data[1]);
  gsize pos = 2 + (header_bits + 7) / 8;
  if (pos > size)
    return FALSE;
  if (depay->aux_size_length) {
    /* RFC 3640 3.2.2: an auxiliary section of its own bit length, skipped */
    BitReader aux = {data + pos, 8 * (size - pos), 0};
    guint32 aux_bits;
    if (!read_bits(&aux, depay->aux_size_length, &aux_bits))
      return FALSE;
    gsize aux_size = ((gsize)depay->aux_size_length + aux_bits + 7) / 8;
    if (aux_size > size - pos)
      return FALSE;
    pos += aux_size;
  }

  /* every header and size checked before any frame is handed on */
  BitReader headers = {data + 2, header_bits, 0};
  guint count = 0;
  guint64 total = 0;
  guint32 au_size, first_size = 0;
  while (headers.pos < headers.bits) {
    if (!read_au_header(depay, &headers, count == 0, &au_size))
      return FALSE;
    if (count == 0)
      first_size = au_size;
    total += au_size;
    count++;
  }
  gsize available = size - pos;
  if (count == 1 && first_size > available) {
    push_aac_fragment(depay, packet, first_size, data + pos, available, func, user_data);
    return TRUE;
  }
  drop_aac_fragment(depay);
  if (count == 0 || total > available)
    return FALSE;
  headers.pos = 0;
  for (guint i = 0; i < count; i++) {
    read_au_header(depay, &headers, i == 0, &au_size);
    if (au_size)
      func(data + pos, au_size, packet->timestamp + depay->frame_duration * i, FALSE, user_data);
    pos += au_size;
  }
  return TRUE;
}

static void push_aac(VigilRtpDepay *depay, const VigilRtpPacket *packet, guint lost,
                     VigilRtpUnitFunc func, gpointer user_data)
{
  if (lost)
    drop_aac_fragment(depay);
  if (!push_aac_packet(depay, packet, func, user_data))
    drop_aac_fragment(depay);
}

void vigil_rtp_depay_push(VigilRtpDepay *depay, const VigilRtpPacket *packet, VigilRtpUnitFunc func,
                          gpointer user_data)
{
  g_return_if_fail(depay != NULL && packet != NULL && func != NULL);
  g_return_if_fail(packet->payload != NULL || packet->payload_size == 0);
  guint lost;
  if (!check_sequence(depay, packet, &lost))
    return;
  if (depay->payload == VIGIL_RTP_AAC)
    push_aac(depay, packet, lost, func, user_data);
  else
    push_video(depay, packet, lost, func, user_data);
}

void vigil_rtp_depay_flush(VigilRtpDepay *depay, VigilRtpUnitFunc func, gpointer user_data)
{
  g_return_if_fail(depay != NULL && func != NULL);
  if (depay->payload == VIGIL_RTP_AAC)
    drop_aac_fragment(depay);
  else
    emit_video(depay, func, user_data);
  depay->emitted = FALSE; /* whatever comes next starts afresh */
}
