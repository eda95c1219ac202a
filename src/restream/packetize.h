/* Pure byte handling for the RTSP server: our own TS chunks back to access
 * units, access units to RTP packets (RFC 6184 H.264, RFC 7798 H.265) framed
 * for TCP interleaving (RFC 2326 10.12), and the SDP fmtp line from a
 * keyframe's parameter sets. No I/O, safe on any input. */
#pragma once

#include <glib.h>

#include "core/media.h"

G_BEGIN_DECLS

/* RTP payload bytes per packet: fits a 1500-byte Ethernet MTU with IP, UDP
 * or TCP and RTP headers, so the same packets could go over UDP. */
#define VIGIL_RESTREAM_RTP_PAYLOAD        1400
#define VIGIL_RESTREAM_PAYLOAD_TYPE       96
#define VIGIL_RESTREAM_AUDIO_PAYLOAD_TYPE 97

/* The elementary stream bytes of the video PID (live/tsmux.h
 * VIGIL_TS_PID_VIDEO) in one chunk of TS packets: the PES payloads
 * concatenated, PES headers removed. Annex B for our muxer's output. NULL when
 * the chunk holds no video payload or is not whole 188-byte packets. */
GBytes *vigil_restream_ts_video(const guint8 *data, gsize size);

/* The same for the audio PID (VIGIL_TS_PID_AUDIO): ADTS AAC frames. */
GBytes *vigil_restream_ts_audio(const guint8 *data, gsize size);

/* The "a=fmtp:97 ..." value for AAC-hbr (RFC 3640) with the
 * AudioSpecificConfig made from the first ADTS header of @adts, and its
 * sample *@rate and *@channels. NULL when @adts does not start with an ADTS
 * frame. */
gchar *vigil_restream_aac_fmtp(const guint8 *adts, gsize size, guint *rate, guint *channels);

/* Appends one RTP packet (RFC 3640 AAC-hbr: AU-headers-length, one 16-bit
 * AU header, the raw frame) per ADTS frame of @adts, framed for
 * interleaving like vigil_restream_packetize, ADTS headers stripped. The
 * first frame has RTP time @timestamp, each next one 1024 samples later;
 * the marker bit on each (every packet ends an access unit). Stops at the
 * first byte that is not a whole ADTS frame. Returns the number of
 * packets. */
guint vigil_restream_packetize_aac(GByteArray *out, const guint8 *adts, gsize size, guint8 channel,
                                   guint32 timestamp, guint32 ssrc, guint16 *seq);

/* Appends the RTP packets of access unit @au (Annex B) to @out, each
 * preceded by the 4-byte interleaved header ('$', @channel, length). Single
 * NAL unit packets for small NAL units, FU-A (H.264) or FU (H.265) for larger
 * ones; the marker bit on the access unit's last packet. *@seq is the next
 * sequence number and advances. Returns the number of packets. */
guint vigil_restream_packetize(GByteArray *out, VigilCodec codec, const guint8 *au, gsize size,
                               guint8 channel, guint32 timestamp, guint32 ssrc, guint16 *seq);

/* Appends an RTCP compound packet (sender report + SDES CNAME "vigil"),
 * framed for interleaving on @channel like the RTP above: the wall-clock
 * time @wallclock_us (g_get_real_time) as NTP time that matches RTP time
 * @rtp_time, and the sender's packet and payload octet counts so far. */
void vigil_restream_sender_report(GByteArray *out, guint8 channel, guint32 ssrc,
                                  gint64 wallclock_us, guint32 rtp_time, guint32 packets,
                                  guint32 octets);

/* The "a=fmtp:96 ..." value (without "a=fmtp:96 ") for a keyframe access unit:
 * H.264 packetization-mode, profile-level-id and sprop-parameter-sets; H.265
 * sprop-vps/sps/pps. NULL when the access unit has no SPS (or no VPS/PPS). */
gchar *vigil_restream_fmtp(const guint8 *au, gsize size, VigilCodec codec);

G_END_DECLS
