/* A lean MPEG-TS muxer for one camera: one video elementary stream (H.264 or
 * H.265, Annex B byte-stream, one access unit per call) and optionally one AAC
 * stream (ADTS frames). Pure byte handling, no GStreamer, no I/O.
 *
 * Every output is a whole number of 188-byte packets. Each keyframe access unit
 * is preceded by PAT and PMT, and its first packet carries the
 * random_access_indicator and a PCR, so any keyframe output is a valid place to
 * start playback or a new file. */
#pragma once

#include <glib.h>

#include "core/media.h"

G_BEGIN_DECLS

#define VIGIL_TS_PACKET_SIZE 188
#define VIGIL_TS_PID_PMT     0x1000
#define VIGIL_TS_PID_VIDEO   0x100
#define VIGIL_TS_PID_AUDIO   0x101

/* PTS and DTS are written this much (90 kHz units, 700 ms) later than the
 * values passed in, and the PCR equals the input DTS: PCR stays below DTS as
 * decoders require and never goes negative for input that starts at 0.
 * Consumers that turn TS timestamps back into stream time subtract it. */
#define VIGIL_TS_DELAY 63000

typedef struct _VigilTsMux VigilTsMux;

VigilTsMux *vigil_ts_mux_new(VigilCodec video, gboolean with_audio);
void vigil_ts_mux_free(VigilTsMux *mux);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilTsMux, vigil_ts_mux_free)

/* Muxes one video access unit. @pts and @dts are in 90 kHz units and must not
 * go backwards between calls (the caller keeps them monotonic); @dts may equal
 * @pts. Returns the TS packets (PAT+PMT first when @keyframe). An access unit
 * delimiter is put in front unless @data already starts with one. The first
 * packet carries a PCR (= @dts); PES_packet_length is the real length when it
 * fits 16 bits, else 0. Each muxer's PAT/PMT use a new version_number, so
 * output of a re-created muxer is recognised as new tables. */
GBytes *vigil_ts_mux_video(VigilTsMux *mux, const guint8 *data, gsize size, gint64 pts, gint64 dts,
                           gboolean keyframe);

/* Muxes one or more ADTS AAC frames with presentation time @pts (90 kHz).
 * NULL when the muxer was created without audio; empty bytes for @size 0.
 * Input over ~64 KiB is split into several PES at ADTS frame boundaries. */
GBytes *vigil_ts_mux_audio(VigilTsMux *mux, const guint8 *data, gsize size, gint64 pts);

/* Header facts of one 188-byte packet, for consumers that scan a stream. */
typedef struct {
  guint16 pid;
  gboolean payload_unit_start;
  gboolean random_access; /* adaptation field random_access_indicator */
  guint8 continuity;
} VigilTsPacketInfo;

/* FALSE when @packet does not start with the 0x47 sync byte or its adaptation
 * field length is impossible. */
gboolean vigil_ts_packet_parse(const guint8 packet[VIGIL_TS_PACKET_SIZE], VigilTsPacketInfo *info);

/* The first video access unit in @ts, TS packets as vigil_ts_mux_video()
 * writes them (a keyframe chunk: PAT, PMT, one PES): the PES payload
 * (Annex B) and, from the PMT before it, its codec. NULL when @ts holds no
 * PMT naming H.264 or H.265 for VIGIL_TS_PID_VIDEO, or no video PES. */
GBytes *vigil_ts_read_video_unit(const guint8 *ts, gsize size, VigilCodec *codec);

G_END_DECLS
