/* Event thumbnails: a small JPEG of the camera's picture when an event
 * starts (made by the analyzer, analysis/snapshot.h), kept at
 *   DATA/thumbnails/<camera>/<YYYY-MM-DD>/<event id>.jpg   (start day, UTC)
 * and served by GET /api/v1/events/{id}/thumbnail.jpg. Writing runs on a
 * worker thread, never on the main loop; when the file is written
 * the event is published again (SSE) with its "thumbnail" URL. Thumbnails
 * expire with the camera's retain_days (whole day folders, from retention).
 * Main thread. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

/* Where thumbnails live (DATA); until called, nothing is captured. */
void vigil_event_thumbnails_init(const char *data_dir);

/* The file of @event's thumbnail (it may not exist); NULL for events
 * without a camera or before init. */
gchar *vigil_event_thumbnail_path(const char *camera, gint64 event_id, gint64 start_us);
/* The API URL when the file exists, else NULL. */
gchar *vigil_event_thumbnail_url(const VigilEvent *event);

/* Saves @jpeg (on a worker thread) as the thumbnail of event @event_id of
 * @camera that started at @start_us. */
void vigil_event_thumbnail_save(const char *camera, gint64 event_id, gint64 start_us, GBytes *jpeg);

/* Deletes the day folders older than each camera's retain_days (@retain_days:
 * camera id -> GINT_TO_POINTER(days); 30 for cameras not in it), on a worker
 * thread. main.c calls it at the end of each retention pass. */
void vigil_event_thumbnails_expire(GHashTable *retain_days, gint64 now_us);

/* Waits for the thumbnails being written (tests, shutdown). */
void vigil_event_thumbnails_flush(void);

G_END_DECLS
