/* The event bus: every event (motion, object, barcode, alarm) goes through
 * here on its way to the store (SQLite) and to live listeners (the SSE stream
 * of GET /api/v1/events/stream). Camera state changes pass through here too,
 * for the same listeners. Main thread only; one bus per process, set up by
 * main.c with vigil_events_init() before the cameras start.
 *
 * Listeners get (name, json): name is "event" (a new or updated event, the
 * API's event object) or "camera" ({"camera", "state", "error"}). */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "store/store.h"

G_BEGIN_DECLS

/* @store may be NULL (tests): events are then numbered in memory only. */
void vigil_events_init(VigilStore *store);
void vigil_events_shutdown(void);

/* Opens an event (end unset) and returns its id (0 on a storage error, which
 * is logged). @score: NAN for none; @data_json may be NULL. */
gint64 vigil_events_begin(const char *camera, const char *type, gint64 start_us, double score,
                          const char *label, const char *data_json);
/* The same with a box (fractions of the picture): object events. */
gint64 vigil_events_begin_box(const char *camera, const char *type, gint64 start_us, double score,
                              const char *label, double x, double y, double w, double h);
/* Raises the score of an open event (no-op when lower). Not published. */
void vigil_events_update_score(gint64 id, double score);
/* Ends an open event at @end_us and publishes it again. */
void vigil_events_end(gint64 id, gint64 end_us);
/* An event with start = end (barcode). Returns its id. */
gint64 vigil_events_add(const char *camera, const char *type, gint64 time_us, double score,
                        const char *label, const char *data_json);
/* Stores an event's thumbnail (JPEG); without a store it is dropped. */
void vigil_events_set_thumbnail(gint64 id, GBytes *jpeg);
/* Publishes event @id again as it stands (its thumbnail was just written). */
void vigil_events_republish(gint64 id);
/* Links an event to the recording it started. */
void vigil_events_set_recording(gint64 id, gint64 recording_id);

/* Alarms: raised once per (camera, label) until cleared; raising again while
 * raised does nothing. @camera NULL for system alarms. This is what the
 * recorder calls for "disk-low" and "recording-too-long". Returns the id. */
gint64 vigil_alarm_raise(const char *camera, const char *label, const char *data_json);
void vigil_alarm_clear(const char *camera, const char *label);
gboolean vigil_alarm_is_raised(const char *camera, const char *label);

/* Publishes a camera state change to listeners (not stored). */
void vigil_events_publish_camera_state(const char *camera, const char *state, const char *error);

/* @camera is the camera the event or state is about (NULL for system alarms),
 * so listeners can filter by the user's rights without parsing @json. */
typedef void (*VigilEventsFunc)(const char *name, const char *camera, const char *json,
                                gpointer user_data);
guint vigil_events_subscribe(VigilEventsFunc func, gpointer user_data);
void vigil_events_unsubscribe(guint id);

/* Counts since start, for /metrics (vigil_events_total{type="..."}). */
typedef struct {
  guint64 motion, object, barcode, alarm;
  guint64 listeners; /* current SSE listeners */
} VigilEventCounters;
void vigil_events_get_counters(VigilEventCounters *counters);

/* The API's event object ("thumbnail": its URL when the file exists, else
 * null: events/thumbnail.h). */
JsonNode *vigil_event_to_json(const VigilEvent *event);

G_END_DECLS
