/* VigilRecorder: one camera's recording state machine, on the main context.
 *
 * It subscribes to the camera's VigilStream; while nothing records it only
 * keeps the pre-roll ring in RAM. A recording runs while the mode is
 * "continuous", while a manual recording is on, or (mode "events") until
 * post_roll_s after the last trigger; it then begins with the pre-roll.
 * Recordings longer than the maximum (default 15 min) are split at a
 * keyframe into consecutive recordings with no gap. Setting the mode to
 * "off" ends a running recording at once.
 *
 * The chunks go to a sink: normally a VigilSegmentWriter whose reports the
 * recorder turns into index rows; tests give their own sink. */
#pragma once

#include <glib.h>

#include "config/config.h"
#include "live/stream.h"
#include "record/segment.h"
#include "store/store.h"

G_BEGIN_DECLS

#define VIGIL_RECORDER_MAX_US (15 * 60 * G_USEC_PER_SEC)
/* An event or manual recording running this long without a break raises the
 * "recording-too-long" alarm (VIGIL_RECORD_TOO_LONG_S overrides, for tests). */
#define VIGIL_RECORDER_TOO_LONG_US ((gint64)60 * 60 * G_USEC_PER_SEC)
/* Past this many bytes waiting for the disk, chunks are dropped up to the
 * next keyframe rather than growing memory without bound. */
#define VIGIL_RECORDER_MAX_QUEUED (64u * 1024 * 1024)

typedef struct _VigilRecorder VigilRecorder;

/* Where the recorder's chunks go (tests). */
typedef struct {
  void (*begin)(VigilRecInfo *rec, gpointer data);
  void (*write)(VigilChunk *chunk, gpointer data);
  void (*end)(gpointer data); /* ends the sub stream's part too */
  /* record_stream "both" (NULL: the sink takes no sub stream): a sub stream
   * chunk for the running recording, and a gap in the sub stream (it stopped
   * or was replaced). */
  void (*write_sub)(VigilChunk *chunk, gpointer data);
  void (*sub_gap)(gpointer data);
} VigilRecorderSink;

/* Monotonic microseconds; injectable for tests. */
typedef gint64 (*VigilClockFunc)(gpointer data);

/* Alarms raised by recorders ("disk-low"), for the events module to come.
 * @active says whether the condition starts or ends. Main thread. */
typedef void (*VigilRecordAlarmFunc)(const char *camera, const char *alarm, gboolean active,
                                     const char *message, gpointer data);
void vigil_recorder_set_alarm_func(VigilRecordAlarmFunc func, gpointer data);

/* A recorder writing under @recordings_dir and indexing in @store. */
VigilRecorder *vigil_recorder_new(const char *camera_id, const char *recordings_dir,
                                  VigilStore *store);
/* A recorder feeding @sink (nothing indexed). */
VigilRecorder *vigil_recorder_new_with_sink(const char *camera_id, const VigilRecorderSink *sink,
                                            gpointer sink_data);
/* Ends a running recording (its files are complete and indexed on return). */
void vigil_recorder_free(VigilRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRecorder, vigil_recorder_free)

void vigil_recorder_set_clock(VigilRecorder *recorder, VigilClockFunc func, gpointer data);
void vigil_recorder_set_max_length(VigilRecorder *recorder, gint64 max_us);

/* Subscribes to @stream (main context); NULL unsubscribes. Attaching the
 * stream already attached changes nothing. Attaching another stream while a
 * recording runs (record_stream "sub": the sub stream came or went) ends the
 * recording and goes on in a new one with the same reason from the new
 * stream's GOP in progress (the subscription delivers it; the two recordings
 * may overlap by up to that GOP, never leave a gap), so that a recording never
 * mixes two streams; the pre-roll held of the old stream is dropped. */
void vigil_recorder_attach(VigilRecorder *recorder, VigilStream *stream);
/* record_stream "both": the sub stream to store beside the main one in each
 * recording (DATA/recordings/<camera>/<day>/<stamp>/sub/), NULL for none.
 * Main context.
 *
 * The recorder keeps the sub stream's pre-roll as the main one's (same
 * pre_roll_s). A recording's sub stream begins once its main stream has its
 * first keyframe, at the latest sub keyframe at or before that one's time
 * (so a little earlier, never later when the ring holds it), takes every sub
 * chunk until the recording ends, and at a split goes on in the next
 * recording from the sub GOP in progress. Attached or replaced during a
 * recording, the sub stream goes on in the same sub/ folder after a gap.
 * Nothing the sub stream does (absent, failing, writes failing) changes the
 * main recording: without sub chunks there is no sub/ folder. */
void vigil_recorder_attach_sub(VigilRecorder *recorder, VigilStream *sub);
/* Takes the record mode, pre_roll_s and post_roll_s of @cfg. */
void vigil_recorder_set_config(VigilRecorder *recorder, const VigilCameraConfig *cfg);
void vigil_recorder_set_mode(VigilRecorder *recorder, VigilRecordMode mode, int pre_roll_s,
                             int post_roll_s);

/* Starts or extends a recording for @reason ("manual", "motion",
 * "object:person", "barcode"); ignored in mode "off". */
void vigil_recorder_trigger(VigilRecorder *recorder, const char *reason);
/* Manual recording on/off. Stopping fails with VIGIL_ERROR_CONFLICT in mode
 * "continuous" (it records anyway). */
gboolean vigil_recorder_manual(VigilRecorder *recorder, gboolean start, GError **error);

/* Feeds a chunk as the stream would (tests). */
void vigil_recorder_push(VigilRecorder *recorder, VigilChunk *chunk);
/* Feeds a chunk as the sub stream would (tests). */
void vigil_recorder_push_sub(VigilRecorder *recorder, VigilChunk *chunk);
/* Re-evaluates timers (post-roll); also runs once a second by itself. */
void vigil_recorder_update(VigilRecorder *recorder);

/* TRUE while a recording runs and reaches the disk (FALSE while the disk is
 * full). */
gboolean vigil_recorder_is_recording(VigilRecorder *recorder);
/* TRUE while a recording runs, whether or not the disk takes it. */
gboolean vigil_recorder_is_active(VigilRecorder *recorder);
/* TRUE while writing fails (disk full): the disk-low condition. */
gboolean vigil_recorder_is_disk_low(VigilRecorder *recorder);
/* The reason of the running recording, NULL if none. */
const char *vigil_recorder_get_reason(VigilRecorder *recorder);
/* Seconds of pre-roll held in RAM now. */
double vigil_recorder_get_preroll_s(VigilRecorder *recorder);
/* Ends the running recording at the next keyframe and goes on in a new one
 * with the same reason, as a split at the maximum length does (retention
 * uses it to free the older part of an endless recording). No-op when not
 * recording. */
void vigil_recorder_split(VigilRecorder *recorder);
/* Waits until the writer has written everything queued (tests). */
void vigil_recorder_flush(VigilRecorder *recorder);

G_END_DECLS
