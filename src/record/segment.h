/* VigilSegmentWriter: writes a camera's recordings to disk off the main
 * loop, so a slow or full disk never stalls the camera's streaming thread or
 * the main loop. The recorder (main thread) queues begin / chunk / end in
 * memory (no thread wake-up per chunk); the writer pool shared by all
 * cameras (record/writer-pool.h) takes them every tick, cuts segments at
 * keyframes, writes each batch with one writev(2), fsyncs the file when the
 * segment ends, rewrites playlist.m3u8 atomically (temp file + rename),
 * fsyncs the directory, and only then reports the segment to the main
 * context, where the index row is written. So the index never points at a
 * missing file.
 *
 * Layout: RECORDINGS/<camera>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSZ>/000001.ts ...,
 * playlist.m3u8, thumbnail.jpg (from the first keyframe: thumbnail.h), and with
 * record_stream "both" sub/000001.ts ..., sub/playlist.m3u8: the sub stream's
 * chunks of the same recording, its own segments, playlist and clock, written
 * in the same order of fsyncs by the same pool run. */
#pragma once

#include <glib.h>

#include "live/stream.h"
#include "record/rec-info.h"
#include "store/recordings.h"

G_BEGIN_DECLS

/* Segments are cut at the first keyframe this long after the segment began. */
#define VIGIL_SEGMENT_TARGET_US (2 * G_USEC_PER_SEC)
/* A new segment is not started with less free space than this: the rest is
 * for the database and the filesystem (ENOSPC handling still applies). */
#define VIGIL_SEGMENT_RESERVE_BYTES (4u * 1024 * 1024)
/* The sub stream's folder in a recording's directory. */
#define VIGIL_RECORDING_SUB_DIR "sub"
/* Queued chunks are written at the pool's next tick, or at once when this
 * many bytes wait or a keyframe ends the segment. */
#define VIGIL_SEGMENT_BATCH_BYTES (256u * 1024)

typedef enum {
  VIGIL_WRITER_SEGMENT,   /* a segment is on disk (fsynced) and in the playlist */
  VIGIL_WRITER_CLOSED,    /* a recording ended; its playlist has EXT-X-ENDLIST */
  VIGIL_WRITER_FAILED,    /* writing failed (disk full, I/O error): @message */
  VIGIL_WRITER_RECOVERED, /* a segment was written again after a failure */
} VigilWriterEvent;

/* Runs on the main context given to vigil_segment_writer_new. @segment is
 * set for VIGIL_WRITER_SEGMENT (recording field unset; sub set for a segment
 * of the sub stream), @message for FAILED. FAILED and RECOVERED are about
 * the main stream only: the sub stream's write errors are logged and leave a
 * gap in its playlist, nothing else. */
typedef void (*VigilWriterFunc)(VigilWriterEvent event, VigilRecInfo *rec,
                                const VigilSegment *segment, const char *message,
                                gpointer user_data);

typedef struct _VigilSegmentWriter VigilSegmentWriter;

VigilSegmentWriter *vigil_segment_writer_new(const char *recordings_dir, GMainContext *context,
                                             VigilWriterFunc func, gpointer user_data);
/* Ends an open recording, waits until everything queued is written and the
 * recording closed, delivers the last reports, and guarantees @func is never
 * called again. */
void vigil_segment_writer_free(VigilSegmentWriter *writer);

/* Starts @rec (a reference is taken); its first segment begins at the first
 * keyframe written. Ends any recording still open first. */
void vigil_segment_writer_begin(VigilSegmentWriter *writer, VigilRecInfo *rec);
/* Queues @chunk (a reference is taken) for the open recording. Never blocks
 * on the disk; the caller bounds what waits (get_queued). */
void vigil_segment_writer_write(VigilSegmentWriter *writer, VigilChunk *chunk);
/* record_stream "both": queues a chunk of the sub stream for the open
 * recording's sub/ folder. Its first segment begins at the first sub keyframe
 * written once the recording's directory exists (the main stream's first
 * keyframe creates it); its segments are cut, written, fsynced and reported
 * like the main stream's, with VigilSegment.sub set. */
void vigil_segment_writer_write_sub(VigilSegmentWriter *writer, VigilChunk *chunk);
/* The sub stream stopped or was replaced: its open segment ends, and the next
 * one follows a gap (EXT-X-DISCONTINUITY in its playlist). */
void vigil_segment_writer_sub_gap(VigilSegmentWriter *writer);
/* Ends the open recording, the sub stream's part included (the pool closes it
 * at once, not at a tick). A recording whose main stream wrote nothing leaves
 * no directory, sub/ included. */
void vigil_segment_writer_end(VigilSegmentWriter *writer);
/* Bytes queued and not yet written (for stats and tests). */
gsize vigil_segment_writer_get_queued(VigilSegmentWriter *writer);
/* Waits until everything queued so far is processed and written (tests). */
void vigil_segment_writer_flush(VigilSegmentWriter *writer);
/* Segments completed by every writer since the process started (both
 * streams'), for /metrics. Any thread. */
guint64 vigil_segment_writer_segments_total(void);

G_END_DECLS
