/* A camera's configuration: the fields of the API's camera object (without
 * "status"), their defaults, validation and JSON form. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_RECORD_OFF,
  VIGIL_RECORD_EVENTS,
  VIGIL_RECORD_CONTINUOUS,
} VigilRecordMode;

typedef enum {
  VIGIL_TRANSPORT_TCP,
  VIGIL_TRANSPORT_UDP,
  VIGIL_TRANSPORT_AUTO,
} VigilRtspTransport;

/* Which of a camera's streams (docs/streams.md). */
typedef enum {
  VIGIL_STREAM_MAIN,
  VIGIL_STREAM_SUB,
  VIGIL_STREAM_BOTH, /* record_stream only */
} VigilStreamChoice;

typedef struct {
  gchar *name;
  double x, y, w, h; /* fractions of the frame, 0-1, x+w <= 1, y+h <= 1 */
  double threshold;
} VigilZone;

typedef struct {
  gchar *id; /* slug, immutable */
  gchar *name;
  gboolean enabled;
  gchar *source;
  gchar *username; /* NULL when unset */
  gchar *password; /* NULL when unset; write-only in the API */
  VigilRtspTransport rtsp_transport;
  /* The camera's small second stream (docs/streams.md); NULL when none.
   * sub_username/sub_password NULL: the main stream's are used. */
  gchar *sub_source;
  gchar *sub_username;
  gchar *sub_password;              /* write-only in the API */
  VigilStreamChoice record_stream;  /* main, sub or both */
  VigilStreamChoice barcode_stream; /* main or sub */
  double barcode_interval_s;
  VigilRecordMode record;
  int pre_roll_s;
  int post_roll_s;
  int retain_days;
  struct {
    gboolean enabled;
    double threshold;
    GPtrArray *zones; /* VigilZone*, owned */
  } motion;
  struct {
    gboolean enabled;
    GStrv classes;
    double min_score;
    int interval_s;
    GStrv record_on;
    /* Detect on a crop of the main stream's keyframe around the motion seen
     * on the sub stream (docs/detect.md). */
    gboolean main_crop;
  } detect;
  gboolean barcodes;
  /* The camera's ONVIF device (docs/onvif.md), for PTZ; address NULL: none.
   * Its credentials are the camera's username and password. */
  struct {
    gchar *address;               /* device service URL (http/ normalises it) */
    gchar *profile, *sub_profile; /* media profile tokens; NULL: not given */
    gboolean motion_events;       /* the device's motion (events service) makes motion events */
    gchar *preset_on_event;       /* a preset token to go to on motion/object events; NULL */
    int preset_return_s;          /* home again this long after the last event; 0: stay */
  } onvif;
} VigilCameraConfig;

/* Defaults: enabled, tcp, no sub stream, record_stream and barcode_stream
 * "main", barcode_interval_s 2, record "events", pre_roll 5, post_roll 30,
 * retain 30 days, motion on at 0.08 with no zones, detect off with classes
 * person/dog/cat, min_score 0.5, interval 15, record_on empty, barcodes off. */
VigilCameraConfig *vigil_camera_config_new(void);
VigilCameraConfig *vigil_camera_config_copy(const VigilCameraConfig *cfg);
void vigil_camera_config_free(VigilCameraConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCameraConfig, vigil_camera_config_free)

/* Applies the members of @node (must be a JSON object) onto @cfg. With
 * @creating, "id" may be given (else it is derived from "name") and "name" and
 * "source" are required; otherwise (PATCH) "id" may only repeat the current id.
 * Unknown members, wrong types, out-of-range numbers, bad slugs and bad source
 * URLs fail with VIGIL_ERROR_INVALID naming the field; @cfg is then left
 * unchanged. "status", "password_set" and "sub_password_set" are rejected
 * as read-only. A null "sub_source", "sub_username" or "sub_password" clears
 * it.
 * A null "username"/"password" clears it. "onvif" is null (none) or an object
 * with "address" (required; checked as text here, normalised by the HTTP
 * layer), "profile", "sub_profile" and "motion_events"; it replaces the old
 * one as a whole. */
gboolean vigil_camera_config_apply_json(VigilCameraConfig *cfg, JsonNode *node, gboolean creating,
                                        GError **error);

/* The API's camera object without "status": "password_set" instead of the
 * password. */
JsonNode *vigil_camera_config_to_json(const VigilCameraConfig *cfg);

/* TRUE when @a and @b differ in anything that needs the ingest pipeline
 * rebuilt (source, credentials, transport, enabled). */
gboolean vigil_camera_config_source_changed(const VigilCameraConfig *a, const VigilCameraConfig *b);

/* The same for the sub stream: its URL or credentials (or the main ones it
 * borrows), the transport, or enabled changed. */
gboolean vigil_camera_config_sub_changed(const VigilCameraConfig *a, const VigilCameraConfig *b);

/* The credentials the sub stream uses: its own, else the main stream's. */
const char *vigil_camera_config_sub_username(const VigilCameraConfig *cfg);
const char *vigil_camera_config_sub_password(const VigilCameraConfig *cfg);

/* A copy of @cfg whose source, username and password are the sub stream's
 * (source NULL when it has none): what the sub stream's ingest opens. */
VigilCameraConfig *vigil_camera_config_for_sub(const VigilCameraConfig *cfg);

const char *vigil_record_mode_to_string(VigilRecordMode mode);
const char *vigil_stream_choice_to_string(VigilStreamChoice choice);
const char *vigil_rtsp_transport_to_string(VigilRtspTransport transport);

G_END_DECLS
