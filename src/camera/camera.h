/* VigilCamera: one configured camera at run time: its configuration, its
 * VigilStreams (main, and sub when it has a sub_source: docs/streams.md), and
 * the supervisor that keeps an ingest running for each, notices errors, EOS
 * and silence, and reconnects with capped backoff, each stream on its own.
 * The camera's state is the main stream's. Lives on the main context. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "config/config.h"
#include "live/stream.h"
#include "onvif/onvif.h"

G_BEGIN_DECLS

typedef enum {
  VIGIL_CAMERA_DISABLED,
  VIGIL_CAMERA_CONNECTING,
  VIGIL_CAMERA_STREAMING,
  VIGIL_CAMERA_OFFLINE,
  VIGIL_CAMERA_ERROR,
} VigilCameraState;

const char *vigil_camera_state_to_string(VigilCameraState state);

/* A stream with no data for this long counts as dropped (SPEC). */
#define VIGIL_CAMERA_SILENCE_US (10 * G_USEC_PER_SEC)
/* Reconnect delays: 1 s, 2 s, 4 s ... at most 30 s for a camera that answered
 * with a problem (credentials, path: retrying fast would not fix it and can
 * lock the account), at most 4 s for one that is away or quiet, so that it
 * streams again within a few seconds of coming back (bench/soak). */
#define VIGIL_CAMERA_BACKOFF_FIRST_MS       1000
#define VIGIL_CAMERA_BACKOFF_MAX_MS         30000
#define VIGIL_CAMERA_BACKOFF_OFFLINE_MAX_MS 4000

typedef struct _VigilCamera VigilCamera;

/* Notified on the main context when a camera's state changes. */
typedef void (*VigilCameraStateFunc)(VigilCamera *camera, VigilCameraState state,
                                     gpointer user_data);

/* Takes a copy of @cfg and starts it (unless disabled). */
VigilCamera *vigil_camera_new(const VigilCameraConfig *cfg);
void vigil_camera_free(VigilCamera *camera);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCamera, vigil_camera_free)

void vigil_camera_set_state_func(VigilCamera *camera, VigilCameraStateFunc func,
                                 gpointer user_data);

const char *vigil_camera_get_id(VigilCamera *camera);
const VigilCameraConfig *vigil_camera_get_config(VigilCamera *camera);
/* The main stream (always there). */
VigilStream *vigil_camera_get_stream(VigilCamera *camera);
/* The sub stream; NULL when the camera has no sub_source. */
VigilStream *vigil_camera_get_sub_stream(VigilCamera *camera);
/* What a viewer asking for @which gets: the sub stream when there is one
 * and it streams, else the main stream (docs/streams.md). */
VigilStream *vigil_camera_pick_stream(VigilCamera *camera, VigilStreamChoice which);
/* The main stream's state: the camera's. */
VigilCameraState vigil_camera_get_state(VigilCamera *camera);
/* The sub stream's state; VIGIL_CAMERA_DISABLED when there is no sub stream. */
VigilCameraState vigil_camera_get_sub_state(VigilCamera *camera);

/* Applies a new configuration; an ingest restarts at once only when its
 * stream's source-related fields changed. */
void vigil_camera_update(VigilCamera *camera, const VigilCameraConfig *cfg);

/* Recording (record/recorder.h): the camera owns @recorder (may be NULL),
 * attaches it to its stream and passes it every configuration change. */
typedef struct _VigilRecorder VigilRecorder;
void vigil_camera_set_recorder(VigilCamera *camera, VigilRecorder *recorder);
VigilRecorder *vigil_camera_get_recorder(VigilCamera *camera); /* NULL if none */
/* Recording trigger: called on the main context when analysis wants a
 * recording to start or go on (@reason "motion" or "barcode"; only in
 * record mode "events"). The recorder connects here. */
typedef void (*VigilTriggerFunc)(VigilCamera *camera, const char *reason, gpointer user_data);
void vigil_camera_set_trigger_func(VigilCamera *camera, VigilTriggerFunc func, gpointer user_data);

/* The camera's keyframe analysis (motion, barcodes, alarms, snapshots). */
struct _VigilAnalyzer *vigil_camera_get_analyzer(VigilCamera *camera);

/* PTZ through the camera's ONVIF device (onvif/ptz.c; finish with
 * vigil_ptz_finish()): the API, MQTT and preset_on_event all come here.
 * Keyframe motion pauses while the camera moves: from a move until its
 * stop's answer and VIGIL_CAMERA_PTZ_SETTLE_US after it, and from a preset,
 * home or relative call until VIGIL_CAMERA_PTZ_TRAVEL_US after its answer. The
 * camera needs "onvif" (else the callback gets VIGIL_ERROR_CONFLICT). */
#define VIGIL_CAMERA_PTZ_SETTLE_US (2 * G_USEC_PER_SEC)
#define VIGIL_CAMERA_PTZ_TRAVEL_US (5 * G_USEC_PER_SEC)
void vigil_camera_ptz(VigilCamera *camera, const VigilPtzCommand *cmd, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data);

/* The "status" object of the API. */
JsonNode *vigil_camera_status_to_json(VigilCamera *camera);

G_END_DECLS

G_BEGIN_DECLS
/* The whole API camera object: configuration plus "status". */
JsonNode *vigil_camera_to_json(VigilCamera *camera);
G_END_DECLS
