/* VigilNotify: webhook notifications (settings "notify", docs/webhooks.md).
 * New events from the bus are filtered and cooled down on the main thread,
 * then handed to one worker thread that POSTs them (JSON or ntfy) with its
 * own libsoup session: a receiver that hangs or fails never holds up the main
 * loop, other cameras or video. The last attempts are kept for
 * GET /api/v1/notify/deliveries.
 *
 * The second half of this header is the pure part (payload.c): filter,
 * cool-down, payloads, headers and signature, unit-tested. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "camera/manager.h"
#include "core/settings.h"

G_BEGIN_DECLS

typedef struct _VigilNotify VigilNotify;

/* Starts the worker and subscribes to the event bus; sends nothing until
 * configured. @cameras must outlive it. Main thread. */
VigilNotify *vigil_notify_new(VigilCameraManager *cameras);
/* Stops the worker (cancelling a delivery under way); queued ones are lost. */
void vigil_notify_free(VigilNotify *notify);

/* Applies settings "notify" and public_url. */
void vigil_notify_configure(VigilNotify *notify, const VigilSettings *settings);

/* Queues a test delivery to webhook @name (enabled or not): a made-up event
 * of the first camera. Returns its delivery id, or 0 when no webhook is so
 * named. */
guint64 vigil_notify_test(VigilNotify *notify, const char *name);

/* {"queued", "dropped", "deliveries": [...]}, newest attempt first. */
JsonNode *vigil_notify_deliveries_to_json(VigilNotify *notify);

/* --- pure parts --- */

/* Whether @event (the API's event object) passes @webhook's "events"
 * filter. Events without a score pass min_score. */
gboolean vigil_notify_matches(const VigilWebhook *webhook, JsonObject *event);

/* Per (webhook, camera) cool-down: TRUE, and @now_us remembered in @last
 * (string → gint64 *, made by vigil_notify_cooldowns_new), when the last
 * delivery for this pair is @cooldown_s or more ago (or none). */
GHashTable *vigil_notify_cooldowns_new(void);
gboolean vigil_notify_cooldown_allows(GHashTable *last, const char *webhook, const char *camera,
                                      int cooldown_s, gint64 now_us);

/* "sha256=<hex HMAC-SHA256(@secret, @body)>". */
gchar *vigil_notify_signature(const char *secret, GBytes *body);

/* The short text of an event: "Person in Front door (87 %)", "Motion in
 * Garage", "QR code \"...\" in Garage"; @test prefixes "Test: ". */
gchar *vigil_notify_text(JsonObject *event, const char *camera_name, gboolean test);

/* One delivery as the main thread hands it to the worker: all it needs,
 * copied. */
typedef struct {
  guint64 id;
  gchar *webhook; /* its name */
  gchar *url;
  VigilWebhookFormat format;
  VigilWebhookSnapshot snapshot;
  gchar *secret;     /* NULL: none */
  gchar *auth_token; /* NULL: none */
  gboolean test;     /* "test", else "new" */
  gint64 event_id;   /* 0 for a test */
  gchar *event_json; /* the API's event object */
  gchar *camera_id;  /* NULL: a system event */
  gchar *camera_name;
  gchar *public_url;     /* NULL: unknown */
  gchar *snapshot_url;   /* snapshot "url" and the thumbnail exists */
  gchar *thumbnail_path; /* snapshot "attach" and the thumbnail exists */
} VigilNotifyJob;

void vigil_notify_job_free(VigilNotifyJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNotifyJob, vigil_notify_job_free)

/* An HTTP request to send: method, body and headers (Content-Type among
 * them). */
typedef struct {
  const char *method; /* "POST" or "PUT" */
  GBytes *body;
  GPtrArray *headers; /* gchar *: name, value, name, value ... */
} VigilNotifyRequest;

void vigil_notify_request_free(VigilNotifyRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilNotifyRequest, vigil_notify_request_free)

/* The request for @job; @jpeg: the thumbnail for snapshot "attach" (NULL:
 * sent without). */
VigilNotifyRequest *vigil_notify_build_request(const VigilNotifyJob *job, GBytes *jpeg);

/* The value of header @name in @request, or NULL. */
const char *vigil_notify_request_header(const VigilNotifyRequest *request, const char *name);

G_END_DECLS
