/* Webhook notifications: on the main thread, new events from the bus pass
 * each webhook's filter and cool-down and wait (briefly) for their thumbnail;
 * one worker thread, with its own libsoup session, sends them with retries
 * and keeps the log of attempts (docs/webhooks.md). */
#define G_LOG_DOMAIN "vigil-notify"

#include "notify/notify.h"

#include <libsoup/soup.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "events/events.h"
#include "events/thumbnail.h"
#include "vigil-config.h"

#define QUEUE_MAX         64
#define LOG_MAX           100
#define SEEN_MAX          1024 /* event ids remembered, so that a republish is not new */
#define THUMBNAIL_WAIT_MS 1500
#define TIMEOUT_S         10
#define RETRIES           3
#define MAX_THUMBNAIL     (8 * 1024 * 1024)
#define MAX_ANSWER        65536 /* bytes of a receiver's answer read */

/* One attempt, as GET /api/v1/notify/deliveries shows it. */
typedef struct {
  guint64 id;
  gchar *webhook;
  gint64 event_id; /* 0: null */
  gboolean test;
  gint64 time_us; /* wall clock */
  int attempt;
  guint status; /* 0: no answer */
  gchar *error;
  gint64 duration_ms;
} Attempt;

static void attempt_free(Attempt *a)
{
  g_free(a->webhook);
  g_free(a->error);
  g_free(a);
}

/* An event waiting for its thumbnail, for the webhooks that want it. */
typedef struct {
  VigilNotify *notify;
  gint64 event_id;
  gchar *camera;
  gchar *json;         /* as last published */
  GPtrArray *webhooks; /* VigilWebhook copies */
  guint timeout_id;
} Waiting;

struct _VigilNotify {
  VigilCameraManager *cameras;
  GPtrArray *webhooks; /* as configured */
  gchar *public_url;
  guint bus_id;
  GHashTable *seen; /* event id (gint64 *) set */
  GQueue seen_order;
  GHashTable *cooldowns;
  GHashTable *waiting; /* event id → Waiting */
  guint64 next_id;

  /* Shared with the worker, under lock. */
  GMutex lock;
  GCond cond;
  GQueue queue;  /* VigilNotifyJob, oldest first */
  gboolean busy; /* the worker holds a job */
  gboolean stopping;
  guint64 dropped;
  GQueue log; /* Attempt, newest first */
  GCancellable *cancel;
  GThread *thread;
};

/* --- the worker --- */

/* The host of @url: the only part of it that goes into logs and errors
 * (the path or query may hold a token). */
static gchar *url_host(const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  return g_strdup(uri && g_uri_get_host(uri) ? g_uri_get_host(uri) : "?");
}

static void record(VigilNotify *n, const VigilNotifyJob *job, int attempt, gint64 time_us,
                   gint64 duration_us, guint status, const char *error)
{
  Attempt *a = g_new0(Attempt, 1);
  a->id = job->id;
  a->webhook = g_strdup(job->webhook);
  a->event_id = job->event_id;
  a->test = job->test;
  a->time_us = time_us;
  a->attempt = attempt;
  a->status = status;
  a->error = g_strdup(error);
  a->duration_ms = duration_us / 1000;
  g_mutex_lock(&n->lock);
  g_queue_push_head(&n->log, a);
  while (n->log.length > LOG_MAX)
    attempt_free(g_queue_pop_tail(&n->log));
  g_mutex_unlock(&n->lock);
}

/* Printable ASCII of a reason phrase, at most 64 bytes. */
static gchar *clean_reason(const char *reason)
{
  GString *s = g_string_new(NULL);
  for (const char *p = reason; p && *p && s->len < 64; p++)
    g_string_append_c(s, (guchar)*p >= 0x20 && (guchar)*p < 0x7f ? *p : '?');
  return g_string_free(s, FALSE);
}

/* One attempt: the HTTP status (0: none) and *@error worded (NULL: done).
 * Returns whether it is worth another attempt. */
static gboolean send_once(VigilNotify *n, SoupSession *session, const VigilNotifyJob *job,
                          const VigilNotifyRequest *request, guint *status, gchar **error)
{
  g_autofree gchar *host = url_host(job->url);
  g_autoptr(SoupMessage) msg = soup_message_new(request->method, job->url);
  if (!msg) {
    *error = g_strdup("the webhook's address cannot be used");
    return FALSE;
  }
  /* A redirect would turn the POST into a GET: the receiver's address is
   * what the admin set. */
  soup_message_add_flags(msg, SOUP_MESSAGE_NO_REDIRECT);
  SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
  const char *content_type = vigil_notify_request_header(request, "Content-Type");
  for (guint i = 0; i + 1 < request->headers->len; i += 2) {
    const char *name = g_ptr_array_index(request->headers, i);
    if (g_ascii_strcasecmp(name, "Content-Type") != 0)
      soup_message_headers_replace(headers, name, g_ptr_array_index(request->headers, i + 1));
  }
  soup_message_set_request_body_from_bytes(msg, content_type, request->body);
  g_autoptr(GError) io_error = NULL;
  g_autoptr(GInputStream) in = soup_session_send(session, msg, n->cancel, &io_error);
  if (!in) {
    if (g_error_matches(io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      *error = g_strdup("cancelled: vigil is stopping");
      return FALSE;
    }
    if (g_error_matches(io_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
      *error = g_strdup_printf("no answer from %s within %d s", host, TIMEOUT_S);
    else
      *error = g_strdup_printf("cannot reach %s: %s", host, io_error->message);
    return TRUE;
  }
  /* Only the status counts; a short answer is read to its end so that the
   * connection can serve the next delivery. */
  g_bytes_unref(g_input_stream_read_bytes(in, MAX_ANSWER, n->cancel, NULL));
  g_input_stream_close(in, NULL, NULL);
  *status = soup_message_get_status(msg);
  if (*status >= 200 && *status < 300)
    return FALSE;
  g_autofree gchar *reason = clean_reason(soup_message_get_reason_phrase(msg));
  if (*status >= 300 && *status < 400)
    *error =
        g_strdup_printf("%s answered %u %s (redirects are not followed)", host, *status, reason);
  else
    *error = g_strdup_printf("%s answered %u %s", host, *status, reason);
  return *status >= 500 || *status == 429;
}

/* Sleeps @seconds unless vigil stops; returns FALSE when it does. */
static gboolean backoff(VigilNotify *n, int seconds)
{
  gint64 until = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
  g_mutex_lock(&n->lock);
  while (!n->stopping && g_cond_wait_until(&n->cond, &n->lock, until))
    ;
  gboolean go_on = !n->stopping;
  g_mutex_unlock(&n->lock);
  return go_on;
}

static GBytes *read_thumbnail(const char *path)
{
  g_autofree gchar *data = NULL;
  gsize len = 0;
  if (!path || !g_file_get_contents(path, &data, &len, NULL) || len > MAX_THUMBNAIL)
    return NULL;
  return g_bytes_new_take(g_steal_pointer(&data), len);
}

static void deliver(VigilNotify *n, SoupSession *session, const VigilNotifyJob *job)
{
  g_autoptr(GBytes) jpeg =
      job->snapshot == VIGIL_WEBHOOK_SNAPSHOT_ATTACH ? read_thumbnail(job->thumbnail_path) : NULL;
  g_autoptr(VigilNotifyRequest) request = vigil_notify_build_request(job, jpeg);
  g_autofree gchar *host = url_host(job->url);
  for (int attempt = 1; attempt <= 1 + RETRIES; attempt++) {
    if (attempt > 1 && !backoff(n, 1 << (attempt - 2)))
      return;
    gint64 time_us = g_get_real_time();
    gint64 started = g_get_monotonic_time();
    guint status = 0;
    g_autofree gchar *error = NULL;
    gboolean again = send_once(n, session, job, request, &status, &error);
    record(n, job, attempt, time_us, g_get_monotonic_time() - started, status, error);
    if (!error) {
      g_debug("webhook %s: delivery %" G_GUINT64_FORMAT " to %s: %u", job->webhook, job->id, host,
              status);
      return;
    }
    gboolean last = !again || attempt == 1 + RETRIES;
    /* error names the host only, never the path, query or secrets. */
    g_info("webhook %s: delivery %" G_GUINT64_FORMAT " attempt %d: %s%s", job->webhook, job->id,
           attempt, error, last ? " (given up)" : "");
    if (last)
      return;
  }
}

static gpointer worker(gpointer data)
{
  VigilNotify *n = data;
  /* The session belongs to this thread (its own main context). */
  g_autoptr(GMainContext) context = g_main_context_new();
  g_main_context_push_thread_default(context);
  g_autoptr(SoupSession) session = soup_session_new_with_options(
      "timeout", TIMEOUT_S, "idle-timeout", 60, "user-agent", "vigil/" VIGIL_VERSION, NULL);
  for (;;) {
    g_mutex_lock(&n->lock);
    while (!n->stopping && g_queue_is_empty(&n->queue))
      g_cond_wait(&n->cond, &n->lock);
    if (n->stopping) {
      g_mutex_unlock(&n->lock);
      break;
    }
    g_autoptr(VigilNotifyJob) job = g_queue_pop_head(&n->queue);
    n->busy = TRUE;
    g_mutex_unlock(&n->lock);
    deliver(n, session, job);
    g_mutex_lock(&n->lock);
    n->busy = FALSE;
    g_mutex_unlock(&n->lock);
  }
  g_clear_object(&session);
  g_main_context_pop_thread_default(context);
  return NULL;
}

/* --- the main thread --- */

static void enqueue(VigilNotify *n, VigilNotifyJob *job)
{
  g_mutex_lock(&n->lock);
  g_queue_push_tail(&n->queue, job);
  guint64 dropped = 0;
  while (n->queue.length > QUEUE_MAX) {
    vigil_notify_job_free(g_queue_pop_head(&n->queue));
    dropped = ++n->dropped;
  }
  g_cond_broadcast(&n->cond);
  g_mutex_unlock(&n->lock);
  if (dropped)
    g_warning("webhook queue full: the oldest delivery was dropped (%" G_GUINT64_FORMAT " so far)",
              dropped);
}

static gchar *camera_name(VigilNotify *n, const char *camera)
{
  VigilCamera *cam = camera ? vigil_camera_manager_lookup(n->cameras, camera) : NULL;
  return cam ? g_strdup(vigil_camera_get_config(cam)->name) : g_strdup(camera);
}

/* The event's start, for the thumbnail's path. */
static gint64 event_start_us(JsonObject *event)
{
  const char *start = json_object_get_string_member_with_default(event, "start", NULL);
  gint64 start_us = 0;
  return start && vigil_time_parse(start, &start_us) ? start_us : 0;
}

static VigilNotifyJob *make_job(VigilNotify *n, const VigilWebhook *w, const char *camera,
                                const char *json, gboolean test)
{
  VigilNotifyJob *job = g_new0(VigilNotifyJob, 1);
  job->id = ++n->next_id;
  job->webhook = g_strdup(w->name);
  job->url = g_strdup(w->url);
  job->format = w->format;
  job->snapshot = w->snapshot;
  job->secret = g_strdup(w->secret);
  job->auth_token = g_strdup(w->auth_token);
  job->test = test;
  job->event_json = g_strdup(json);
  job->camera_id = g_strdup(camera);
  job->camera_name = camera_name(n, camera);
  job->public_url = g_strdup(n->public_url);
  g_autoptr(JsonNode) node = json_from_string(json, NULL);
  JsonObject *event = node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
  if (!event || test)
    return job;
  job->event_id = json_object_get_int_member_with_default(event, "id", 0);
  JsonNode *thumbnail = json_object_get_member(event, "thumbnail");
  if (!thumbnail || JSON_NODE_HOLDS_NULL(thumbnail))
    return job;
  if (w->snapshot == VIGIL_WEBHOOK_SNAPSHOT_URL && n->public_url)
    job->snapshot_url = g_strdup_printf("%s/api/v1/events/%" G_GINT64_FORMAT "/thumbnail.jpg",
                                        n->public_url, job->event_id);
  if (w->snapshot == VIGIL_WEBHOOK_SNAPSHOT_ATTACH)
    job->thumbnail_path = vigil_event_thumbnail_path(camera, job->event_id, event_start_us(event));
  return job;
}

static void waiting_free(Waiting *wait)
{
  if (wait->timeout_id)
    g_source_remove(wait->timeout_id);
  g_free(wait->camera);
  g_free(wait->json);
  g_ptr_array_unref(wait->webhooks);
  g_free(wait);
}

/* Sends what waited for event @wait's thumbnail, with it or without. */
static void waiting_send(VigilNotify *n, Waiting *wait)
{
  for (guint i = 0; i < wait->webhooks->len; i++)
    enqueue(n, make_job(n, g_ptr_array_index(wait->webhooks, i), wait->camera, wait->json, FALSE));
  g_hash_table_remove(n->waiting, &wait->event_id);
}

static gboolean on_waited(gpointer data)
{
  Waiting *wait = data;
  wait->timeout_id = 0;
  waiting_send(wait->notify, wait);
  return G_SOURCE_REMOVE;
}

static gboolean seen(VigilNotify *n, gint64 id)
{
  if (g_hash_table_contains(n->seen, &id))
    return TRUE;
  gint64 *key = g_memdup2(&id, sizeof id);
  g_hash_table_add(n->seen, key);
  g_queue_push_tail(&n->seen_order, key);
  if (n->seen_order.length > SEEN_MAX)
    g_hash_table_remove(n->seen, g_queue_pop_head(&n->seen_order));
  return FALSE;
}

static void on_bus(const char *name, const char *camera, const char *json, gpointer data)
{
  VigilNotify *n = data;
  if (!g_str_equal(name, "event"))
    return;
  g_autoptr(JsonNode) node = json_from_string(json, NULL);
  if (!node || !JSON_NODE_HOLDS_OBJECT(node))
    return;
  JsonObject *event = json_node_get_object(node);
  gint64 id = json_object_get_int_member_with_default(event, "id", 0);
  if (id <= 0)
    return;
  JsonNode *thumbnail = json_object_get_member(event, "thumbnail");
  gboolean has_thumbnail = thumbnail && !JSON_NODE_HOLDS_NULL(thumbnail);
  Waiting *wait = g_hash_table_lookup(n->waiting, &id);
  if (wait) {
    g_free(wait->json);
    wait->json = g_strdup(json);
    if (has_thumbnail)
      waiting_send(n, wait);
    return;
  }
  /* New: first seen, and not already ended (an event that began before
   * vigil_notify_new and ends now is not news). Barcodes end as they start. */
  const char *start = json_object_get_string_member_with_default(event, "start", NULL);
  const char *end = json_object_get_string_member_with_default(event, "end", NULL);
  if (seen(n, id) || (end && g_strcmp0(start, end) != 0))
    return;
  gint64 now = g_get_monotonic_time();
  for (guint i = 0; i < n->webhooks->len; i++) {
    const VigilWebhook *w = g_ptr_array_index(n->webhooks, i);
    if (!w->enabled || !vigil_notify_matches(w, event) ||
        !vigil_notify_cooldown_allows(n->cooldowns, w->name, camera, w->cooldown_s, now))
      continue;
    if (w->snapshot == VIGIL_WEBHOOK_SNAPSHOT_NONE || has_thumbnail || !camera) {
      enqueue(n, make_job(n, w, camera, json, FALSE));
      continue;
    }
    if (!wait) {
      wait = g_new0(Waiting, 1);
      wait->notify = n;
      wait->event_id = id;
      wait->camera = g_strdup(camera);
      wait->json = g_strdup(json);
      wait->webhooks = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_webhook_free);
      wait->timeout_id = g_timeout_add(THUMBNAIL_WAIT_MS, on_waited, wait);
      g_hash_table_insert(n->waiting, &wait->event_id, wait);
    }
    g_ptr_array_add(wait->webhooks, vigil_webhook_copy(w));
  }
}

VigilNotify *vigil_notify_new(VigilCameraManager *cameras)
{
  VigilNotify *n = g_new0(VigilNotify, 1);
  n->cameras = cameras;
  n->webhooks = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_webhook_free);
  n->seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  g_queue_init(&n->seen_order);
  n->cooldowns = vigil_notify_cooldowns_new();
  n->waiting =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)waiting_free);
  g_mutex_init(&n->lock);
  g_cond_init(&n->cond);
  g_queue_init(&n->queue);
  g_queue_init(&n->log);
  n->cancel = g_cancellable_new();
  n->thread = g_thread_new("vigil-notify", worker, n);
  n->bus_id = vigil_events_subscribe(on_bus, n);
  return n;
}

void vigil_notify_free(VigilNotify *n)
{
  if (!n)
    return;
  vigil_events_unsubscribe(n->bus_id);
  g_mutex_lock(&n->lock);
  n->stopping = TRUE;
  g_cond_broadcast(&n->cond);
  g_mutex_unlock(&n->lock);
  g_cancellable_cancel(n->cancel);
  g_thread_join(n->thread);
  g_queue_clear_full(&n->queue, (GDestroyNotify)vigil_notify_job_free);
  g_queue_clear_full(&n->log, (GDestroyNotify)attempt_free);
  g_hash_table_destroy(n->waiting);
  g_hash_table_destroy(n->cooldowns);
  g_queue_clear(&n->seen_order);
  g_hash_table_destroy(n->seen);
  g_object_unref(n->cancel);
  g_mutex_clear(&n->lock);
  g_cond_clear(&n->cond);
  g_ptr_array_unref(n->webhooks);
  g_free(n->public_url);
  g_free(n);
}

void vigil_notify_configure(VigilNotify *n, const VigilSettings *settings)
{
  g_ptr_array_set_size(n->webhooks, 0);
  for (guint i = 0; i < settings->notify->len; i++)
    g_ptr_array_add(n->webhooks, vigil_webhook_copy(g_ptr_array_index(settings->notify, i)));
  g_free(n->public_url);
  n->public_url = g_strdup(settings->public_url);
}

/* A made-up event of the first camera (or of none). */
static gchar *test_event(const char *camera)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_int(b, "id", 0);
  vigil_json_add_string_or_null(b, "camera", camera);
  vigil_json_add_string(b, "type", "motion");
  g_autofree gchar *now = vigil_time_format(g_get_real_time());
  vigil_json_add_string(b, "start", now);
  vigil_json_add_null(b, "end");
  vigil_json_add_null(b, "score");
  vigil_json_add_null(b, "label");
  vigil_json_add_null(b, "box");
  vigil_json_add_null(b, "data");
  vigil_json_add_null(b, "thumbnail");
  vigil_json_add_null(b, "recording");
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  return vigil_json_to_string(node);
}

guint64 vigil_notify_test(VigilNotify *n, const char *name)
{
  for (guint i = 0; i < n->webhooks->len; i++) {
    const VigilWebhook *w = g_ptr_array_index(n->webhooks, i);
    if (!g_str_equal(w->name, name))
      continue;
    GPtrArray *cameras = vigil_camera_manager_list(n->cameras);
    const char *camera = cameras->len ? vigil_camera_get_id(g_ptr_array_index(cameras, 0)) : NULL;
    g_autofree gchar *json = test_event(camera);
    VigilNotifyJob *job = make_job(n, w, camera, json, TRUE);
    guint64 id = job->id;
    enqueue(n, job);
    return id;
  }
  return 0;
}

JsonNode *vigil_notify_deliveries_to_json(VigilNotify *n)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  g_mutex_lock(&n->lock);
  vigil_json_add_int(b, "queued", n->queue.length + (n->busy ? 1 : 0));
  vigil_json_add_int(b, "dropped", (gint64)n->dropped);
  vigil_json_begin_array(b, "deliveries");
  for (GList *l = n->log.head; l; l = l->next) {
    const Attempt *a = l->data;
    json_builder_begin_object(b);
    vigil_json_add_int(b, "id", (gint64)a->id);
    vigil_json_add_string(b, "webhook", a->webhook);
    if (a->event_id)
      vigil_json_add_int(b, "event", a->event_id);
    else
      vigil_json_add_null(b, "event");
    vigil_json_add_string(b, "type", a->test ? "test" : "new");
    g_autofree gchar *time = vigil_time_format(a->time_us);
    vigil_json_add_string(b, "time", time);
    vigil_json_add_int(b, "attempt", a->attempt);
    if (a->status)
      vigil_json_add_int(b, "status", a->status);
    else
      vigil_json_add_null(b, "status");
    vigil_json_add_string_or_null(b, "error", a->error);
    vigil_json_add_int(b, "duration_ms", a->duration_ms);
    json_builder_end_object(b);
  }
  g_mutex_unlock(&n->lock);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return json_builder_get_root(b);
}
