/* ONVIF events: one camera's PullPoint subscription (ONVIF Core, "Event
 * handling", real-time pull-point notification interface), on libsoup's
 * async API and the main loop. The probe (onvif.c) gives the events
 * service address and the clock offset; then CreatePullPointSubscription,
 * PullMessages in a loop (each a long poll), Renew before the termination
 * time, and Unsubscribe when the camera stops. Any failure drops the
 * subscription and starts over after a backoff (1 s ... 60 s). One request at
 * a time. The answers go through soap.c's parsers. */
#define G_LOG_DOMAIN "vigil-onvif"

#include <libsoup/soup.h>
#include <string.h>

#include "core/error.h"
#include "onvif/onvif.h"

#define READ_CHUNK    65536
#define BACKOFF_MAX_S 60
/* Renew this long before the subscription would end. */
#define RENEW_MARGIN_S (VIGIL_ONVIF_EVENTS_TERMINATION_S / 2)

typedef enum {
  STEP_PROBE,
  STEP_CREATE,
  STEP_PULL,
  STEP_RENEW,
} Step;

struct _VigilOnvifEvents {
  char *device_url, *username, *password;
  VigilOnvifEventFunc func;
  VigilOnvifEventsStatusFunc status_func;
  gpointer data;
  SoupSession *session;
  GCancellable *cancel; /* the request in flight */
  char *events_address, *subscription;
  gint64 clock_offset_s;
  gint64 renew_at_us; /* monotonic */
  Step step;
  SoupMessage *msg;
  GInputStream *body;
  GByteArray *answer;
  gboolean http_auth_tried;
  guint retry_source;
  guint backoff_s;
  char *status;
  gboolean subscribed;
};

static void set_status(VigilOnvifEvents *self, const char *status, gboolean subscribed)
{
  gboolean changed = g_strcmp0(status, self->status) != 0 || subscribed != self->subscribed;
  if (!changed)
    return;
  g_free(self->status);
  self->status = g_strdup(status);
  self->subscribed = subscribed;
  if (subscribed || g_str_equal(status, "subscribing"))
    g_info("ONVIF events %s: %s", self->device_url, status);
  else
    g_warning("ONVIF events %s: %s", self->device_url, status);
  if (self->status_func)
    self->status_func(status, subscribed, self->data);
}

const char *vigil_onvif_events_get_status(VigilOnvifEvents *self)
{
  return self->status;
}

static void start(VigilOnvifEvents *self);
static void send_call(VigilOnvifEvents *self, VigilOnvifEventsCall call);

static gboolean on_retry(gpointer user_data)
{
  VigilOnvifEvents *self = user_data;
  self->retry_source = 0;
  start(self);
  return G_SOURCE_REMOVE;
}

/* The subscription is gone: say why and try again later. */
static void fail(VigilOnvifEvents *self, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void fail(VigilOnvifEvents *self, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_clear_pointer(&self->subscription, g_free);
  set_status(self, message, FALSE);
  self->backoff_s = self->backoff_s ? MIN(self->backoff_s * 2, BACKOFF_MAX_S) : 1;
  g_clear_handle_id(&self->retry_source, g_source_remove);
  self->retry_source = g_timeout_add_seconds(self->backoff_s, on_retry, self);
}

static void fail_auth(VigilOnvifEvents *self)
{
  gint64 off = self->clock_offset_s;
  if (ABS(off) > VIGIL_ONVIF_SKEW_S)
    fail(self,
         "the camera refused the login, and its clock is %" G_GINT64_FORMAT
         " s %s: check the credentials and set the camera's clock",
         ABS(off), off > 0 ? "ahead" : "behind");
  else
    fail(self, "wrong username or password: the camera refused the login");
}

static void pull_next(VigilOnvifEvents *self)
{
  if (g_get_monotonic_time() >= self->renew_at_us)
    send_call(self, VIGIL_ONVIF_EVENTS_RENEW);
  else
    send_call(self, VIGIL_ONVIF_EVENTS_PULL);
}

static void handle_answer(VigilOnvifEvents *self)
{
  guint status = soup_message_get_status(self->msg);
  const char *xml = (const char *)self->answer->data;
  gsize len = self->answer->len;
  gboolean not_authorized = status == SOUP_STATUS_UNAUTHORIZED;
  g_autoptr(GError) error = NULL;
  switch (self->step) {
  case STEP_CREATE: {
    g_autofree char *address =
        not_authorized ? NULL
                       : vigil_onvif_parse_create_pull_point(xml, len, &not_authorized, &error);
    if (!address)
      break;
    g_free(self->subscription);
    self->subscription = g_steal_pointer(&address);
    self->renew_at_us = g_get_monotonic_time() + (gint64)RENEW_MARGIN_S * G_USEC_PER_SEC;
    self->backoff_s = 0;
    set_status(self, "subscribed", TRUE);
    send_call(self, VIGIL_ONVIF_EVENTS_PULL);
    return;
  }
  case STEP_PULL: {
    g_autoptr(GPtrArray) notes =
        not_authorized ? NULL : vigil_onvif_parse_pull_messages(xml, len, &not_authorized, &error);
    if (!notes)
      break;
    for (guint i = 0; i < notes->len && self->func; i++) {
      const VigilOnvifNotification *n = g_ptr_array_index(notes, i);
      g_debug("ONVIF events %s: %s %s%s%s", self->device_url, n->topic,
              n->operation ? n->operation : "", n->has_state ? " " : "",
              n->has_state ? (n->state ? "true" : "false") : "");
      self->func(n, self->data);
    }
    pull_next(self);
    return;
  }
  case STEP_RENEW:
    if (not_authorized ||
        !vigil_onvif_parse_events_ack(xml, len, VIGIL_ONVIF_EVENTS_RENEW, &not_authorized, &error))
      break;
    self->renew_at_us = g_get_monotonic_time() + (gint64)RENEW_MARGIN_S * G_USEC_PER_SEC;
    send_call(self, VIGIL_ONVIF_EVENTS_PULL);
    return;
  case STEP_PROBE:
    break;
  }
  if (not_authorized)
    fail_auth(self);
  else
    fail(self, "%s failed: %s",
         self->step == STEP_CREATE ? "CreatePullPointSubscription"
         : self->step == STEP_PULL ? "PullMessages"
                                   : "Renew",
         error ? error->message : "no answer");
}

static void on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  VigilOnvifEvents *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (!bytes) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail(self, "the camera stopped answering (%s)", error->message);
    return;
  }
  gsize n = g_bytes_get_size(bytes);
  if (n == 0) {
    g_clear_object(&self->body);
    handle_answer(self);
    return;
  }
  if (self->answer->len + n > VIGIL_ONVIF_MAX_ANSWER) {
    fail(self, "the camera's answer is over %d bytes", VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  g_byte_array_append(self->answer, g_bytes_get_data(bytes, NULL), (guint)n);
  g_input_stream_read_bytes_async(self->body, READ_CHUNK, G_PRIORITY_DEFAULT, self->cancel, on_read,
                                  self);
}

static void on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  VigilOnvifEvents *self = user_data;
  g_autoptr(GError) error = NULL;
  GInputStream *body = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (!body) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail(self, "cannot reach the camera's events service: %s", error->message);
    return;
  }
  self->body = body;
  goffset length =
      soup_message_headers_get_content_length(soup_message_get_response_headers(self->msg));
  if (length > VIGIL_ONVIF_MAX_ANSWER) {
    fail(self, "the camera's answer is over %d bytes", VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  if (self->answer)
    g_byte_array_unref(self->answer);
  self->answer = g_byte_array_new();
  g_input_stream_read_bytes_async(self->body, READ_CHUNK, G_PRIORITY_DEFAULT, self->cancel, on_read,
                                  self);
}

static gboolean on_http_authenticate(SoupMessage *msg, SoupAuth *auth, gboolean retrying,
                                     gpointer user_data)
{
  VigilOnvifEvents *self = user_data;
  if (retrying || self->http_auth_tried || !self->username)
    return FALSE;
  self->http_auth_tried = TRUE;
  soup_auth_authenticate(auth, self->username, self->password);
  return TRUE;
}

static SoupMessage *new_message(VigilOnvifEvents *self, VigilOnvifEventsCall call, const char *to)
{
  g_autofree char *request = vigil_onvif_build_events_request(call, to, self->username,
                                                              self->password, self->clock_offset_s);
  SoupMessage *msg = soup_message_new("POST", to);
  if (!msg)
    return NULL;
  g_autofree char *type = g_strdup_printf("application/soap+xml; charset=utf-8; action=\"%s\"",
                                          vigil_onvif_events_action(call));
  gsize len = strlen(request);
  soup_message_set_request_body_from_bytes(msg, type,
                                           g_bytes_new_take(g_steal_pointer(&request), len));
  return msg;
}

static void send_call(VigilOnvifEvents *self, VigilOnvifEventsCall call)
{
  const char *to = call == VIGIL_ONVIF_EVENTS_CREATE ? self->events_address : self->subscription;
  self->step = call == VIGIL_ONVIF_EVENTS_CREATE  ? STEP_CREATE
               : call == VIGIL_ONVIF_EVENTS_RENEW ? STEP_RENEW
                                                  : STEP_PULL;
  g_clear_object(&self->msg);
  g_clear_object(&self->body);
  self->msg = new_message(self, call, to);
  if (!self->msg) {
    fail(self, "the camera gave an unusable events address");
    return;
  }
  self->http_auth_tried = FALSE;
  g_signal_connect(self->msg, "authenticate", G_CALLBACK(on_http_authenticate), self);
  soup_session_send_async(self->session, self->msg, G_PRIORITY_DEFAULT, self->cancel, on_sent,
                          self);
}

static void on_probed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(VigilOnvifDevice) d = vigil_onvif_probe_finish(result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      (error && g_str_equal(error->message, "cancelled")))
    return; /* freed meanwhile: user_data is gone */
  VigilOnvifEvents *self = user_data;
  if (!d) {
    fail(self, "%s", error->message);
    return;
  }
  if (!d->events_address) {
    /* Not a passing failure: try again rarely (the device may be updated). */
    self->backoff_s = BACKOFF_MAX_S / 2;
    fail(self, "the device has no events service: it cannot send its motion over ONVIF");
    return;
  }
  g_free(self->events_address);
  self->events_address = g_strdup(d->events_address);
  self->clock_offset_s = d->clock_offset_s;
  send_call(self, VIGIL_ONVIF_EVENTS_CREATE);
}

static void start(VigilOnvifEvents *self)
{
  set_status(self, "subscribing", FALSE);
  vigil_onvif_probe_async(self->device_url, self->username, self->password, self->cancel, on_probed,
                          self);
}

VigilOnvifEvents *vigil_onvif_events_new(const char *device_url, const char *username,
                                         const char *password, VigilOnvifEventFunc func,
                                         VigilOnvifEventsStatusFunc status_func, gpointer user_data)
{
  VigilOnvifEvents *self = g_new0(VigilOnvifEvents, 1);
  self->device_url = g_strdup(device_url);
  self->username = g_strdup(username && *username ? username : NULL);
  self->password = g_strdup(password ? password : "");
  self->func = func;
  self->status_func = status_func;
  self->data = user_data;
  /* PullMessages waits up to VIGIL_ONVIF_EVENTS_PULL_S for news: the read
   * timeout must outlast it. */
  self->session =
      soup_session_new_with_options("timeout", VIGIL_ONVIF_EVENTS_PULL_S + VIGIL_ONVIF_TIMEOUT_S,
                                    "idle-timeout", 60, "user-agent", "vigil", NULL);
  self->cancel = g_cancellable_new();
  start(self);
  return self;
}

typedef struct {
  SoupSession *session;
  char *url;
} Unsubscribe;

static void on_unsubscribed(GObject *source, GAsyncResult *result, gpointer user_data)
{
  Unsubscribe *u = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer =
      soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
  if (!answer ||
      !vigil_onvif_parse_events_ack(g_bytes_get_data(answer, NULL), g_bytes_get_size(answer),
                                    VIGIL_ONVIF_EVENTS_UNSUBSCRIBE, NULL, &error))
    g_debug("ONVIF events: Unsubscribe from %s: %s", u->url, error ? error->message : "no answer");
  else
    g_debug("ONVIF events: unsubscribed from %s", u->url);
  g_object_unref(u->session);
  g_free(u->url);
  g_free(u);
}

void vigil_onvif_events_free(VigilOnvifEvents *self)
{
  if (!self)
    return;
  g_cancellable_cancel(self->cancel);
  g_clear_handle_id(&self->retry_source, g_source_remove);
  if (self->subscription) {
    /* The request outlives us; its answer (small) is only logged. */
    SoupMessage *msg = new_message(self, VIGIL_ONVIF_EVENTS_UNSUBSCRIBE, self->subscription);
    if (msg) {
      Unsubscribe *u = g_new0(Unsubscribe, 1);
      u->session = g_object_ref(self->session);
      u->url = g_strdup(self->subscription);
      soup_session_send_and_read_async(self->session, msg, G_PRIORITY_DEFAULT, NULL,
                                       on_unsubscribed, u);
      g_object_unref(msg);
    }
  }
  g_clear_object(&self->msg);
  g_clear_object(&self->body);
  if (self->answer)
    g_byte_array_unref(self->answer);
  g_clear_object(&self->cancel);
  g_clear_object(&self->session);
  g_free(self->device_url);
  g_free(self->username);
  if (self->password)
    memset(self->password, 0, strlen(self->password));
  g_free(self->password);
  g_free(self->events_address);
  g_free(self->subscription);
  g_free(self->status);
  g_free(self);
}
