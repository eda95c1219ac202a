/* The ONVIF probe: one call after another on libsoup's async API, each answer
 * read with a size limit and handed to soap.c's parsers. */
#define G_LOG_DOMAIN "vigil-onvif"

#include <libsoup/soup.h>
#include <string.h>

#include "core/error.h"
#include "onvif/onvif.h"

#define READ_CHUNK 65536

typedef struct {
  SoupSession *session;
  char *device_url, *username, *password;
  VigilOnvifDevice *device;
  VigilOnvifCall call;
  guint profile;          /* GetStreamUri: the profile asked for */
  gboolean media2_failed; /* Media2 did not give the streams: Media's are asked */
  SoupMessage *msg;
  GInputStream *body;
  GByteArray *answer;
  gboolean http_auth_tried;
} Probe;

static void probe_free(Probe *p)
{
  g_clear_object(&p->session);
  g_free(p->device_url);
  g_free(p->username);
  if (p->password)
    memset(p->password, 0, strlen(p->password));
  g_free(p->password);
  vigil_onvif_device_free(p->device);
  g_clear_object(&p->msg);
  g_clear_object(&p->body);
  if (p->answer)
    g_byte_array_unref(p->answer);
  g_free(p);
}

static void send_call(GTask *task);

static void fail(GTask *task, const char *format, ...) G_GNUC_PRINTF(2, 3);
static void fail(GTask *task, const char *format, ...)
{
  va_list args;
  va_start(args, format);
  g_autofree char *message = g_strdup_vprintf(format, args);
  va_end(args);
  g_task_return_new_error(task, VIGIL_ERROR, VIGIL_ERROR_INVALID, "%s", message);
  g_object_unref(task);
}

static void fail_auth(GTask *task)
{
  Probe *p = g_task_get_task_data(task);
  gint64 off = p->device->clock_offset_s;
  if (ABS(off) > VIGIL_ONVIF_SKEW_S)
    fail(task,
         "the camera refused the login, and its clock is %" G_GINT64_FORMAT
         " s %s: check the credentials and set the camera's clock (or enable NTP on it)",
         ABS(off), off > 0 ? "ahead" : "behind");
  else
    fail(task, "wrong username or password: the camera refused the login");
}

static gboolean on_http_authenticate(SoupMessage *msg, SoupAuth *auth, gboolean retrying,
                                     gpointer user_data)
{
  Probe *p = user_data;
  /* HTTP Digest too, for devices that want it on top of (or instead of)
   * WS-Security; once only: a second ask means wrong credentials. */
  if (retrying || p->http_auth_tried || !p->username)
    return FALSE;
  p->http_auth_tried = TRUE;
  soup_auth_authenticate(auth, p->username, p->password ? p->password : "");
  return TRUE;
}

/* The next call for the streams: Media2's profiles when the device has
 * that service (and it has not failed), else the Media service's. FALSE
 * after failing @task when the device has neither. */
static gboolean next_media_call(GTask *task)
{
  Probe *p = g_task_get_task_data(task);
  VigilOnvifDevice *d = p->device;
  if (d->media2_address && !p->media2_failed) {
    p->call = VIGIL_ONVIF_GET_PROFILES2;
  } else if (d->media_address) {
    p->call = VIGIL_ONVIF_GET_PROFILES;
  } else {
    fail(task, "the device has no media service: it cannot tell its streams over ONVIF");
    return FALSE;
  }
  return TRUE;
}

/* Media2 failed for @reason: ask the Media service instead, when there is
 * one. FALSE after failing @task with @reason when there is not. */
static gboolean media2_fallback(GTask *task, const char *reason)
{
  Probe *p = g_task_get_task_data(task);
  if (!p->device->media_address) {
    fail(task, "%s", reason);
    return FALSE;
  }
  g_message("ONVIF device %s: Media2 did not give the streams (%s); asking the Media service",
            p->device_url, reason);
  p->media2_failed = TRUE;
  p->call = VIGIL_ONVIF_GET_PROFILES;
  return TRUE;
}

/* Keeps @uri as the current profile's; TRUE when that was the last one and
 * @task has returned the device. */
static gboolean stream_uri_answered(GTask *task, char *uri)
{
  Probe *p = g_task_get_task_data(task);
  VigilOnvifProfile *prof = g_ptr_array_index(p->device->profiles, p->profile);
  prof->uri = uri;
  if (++p->profile < p->device->profiles->len)
    return FALSE;
  g_task_return_pointer(task, g_steal_pointer(&p->device), (GDestroyNotify)vigil_onvif_device_free);
  g_object_unref(task);
  return TRUE;
}

static void handle_answer(GTask *task)
{
  Probe *p = g_task_get_task_data(task);
  VigilOnvifDevice *d = p->device;
  guint status = soup_message_get_status(p->msg);
  const char *xml = (const char *)p->answer->data;
  gsize len = p->answer->len;
  gboolean not_authorized = FALSE;
  g_autoptr(GError) error = NULL;

  if (status == SOUP_STATUS_UNAUTHORIZED && p->call != VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME &&
      p->call != VIGIL_ONVIF_GET_SERVICES) {
    fail_auth(task);
    return;
  }
  switch (p->call) {
  case VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME: {
    gint64 device_time;
    if (vigil_onvif_parse_system_time(xml, len, &device_time, &not_authorized, &error)) {
      d->clock_offset_s = device_time - g_get_real_time() / G_USEC_PER_SEC;
    } else if (!not_authorized && status != SOUP_STATUS_UNAUTHORIZED) {
      /* Anything but a SOAP answer: not an ONVIF device service. */
      g_autofree char *words = g_strdup(error->message);
      if (strstr(words, "not a SOAP") || !SOUP_STATUS_IS_SUCCESSFUL(status))
        fail(task, "no ONVIF device service at %s (HTTP %u: %s)", p->device_url, status, words);
      else
        fail(task, "the device's GetSystemDateAndTime failed: %s", words);
      return;
    }
    /* Some devices want a login even for the time: go on without an offset. */
    p->call = VIGIL_ONVIF_GET_DEVICE_INFORMATION;
    break;
  }
  case VIGIL_ONVIF_GET_DEVICE_INFORMATION:
    if (!vigil_onvif_parse_device_information(xml, len, d, &not_authorized, &error))
      goto failed;
    p->call = VIGIL_ONVIF_GET_CAPABILITIES;
    break;
  case VIGIL_ONVIF_GET_CAPABILITIES:
    if (!vigil_onvif_parse_capabilities(xml, len, d, &not_authorized, &error))
      goto failed;
    p->call = VIGIL_ONVIF_GET_SERVICES;
    break;
  case VIGIL_ONVIF_GET_SERVICES:
    /* Mandatory since ONVIF 2.0, but older devices fault: they have no
     * Media2 either, and GetCapabilities gave the rest. */
    if (!vigil_onvif_parse_services(xml, len, d, NULL, &error))
      g_clear_pointer(&d->media2_address, g_free);
    if (!next_media_call(task))
      return;
    break;
  case VIGIL_ONVIF_GET_PROFILES2:
  case VIGIL_ONVIF_GET_STREAM_URI2: {
    char *uri = NULL;
    gboolean ok;
    if (p->call == VIGIL_ONVIF_GET_PROFILES2)
      ok = vigil_onvif_parse_profiles2(xml, len, d, &not_authorized, &error);
    else
      ok = (uri = vigil_onvif_parse_stream_uri2(xml, len, &not_authorized, &error)) != NULL;
    if (!ok && not_authorized) {
      fail_auth(task);
      return;
    }
    if (ok && p->call == VIGIL_ONVIF_GET_PROFILES2 && d->profiles->len == 0) {
      ok = FALSE;
      g_set_error_literal(&error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                          "the device's media service lists no H.264 or H.265 video profile");
    }
    if (!ok) {
      g_autofree char *reason =
          g_strdup_printf("Media2 %s: %s", vigil_onvif_call_name(p->call), error->message);
      if (!media2_fallback(task, reason))
        return;
      break;
    }
    d->media2 = TRUE;
    if (p->call == VIGIL_ONVIF_GET_PROFILES2) {
      p->call = VIGIL_ONVIF_GET_STREAM_URI2;
      p->profile = 0;
      break;
    }
    if (stream_uri_answered(task, uri))
      return;
    break;
  }
  case VIGIL_ONVIF_GET_PROFILES:
    d->media2 = FALSE;
    if (!vigil_onvif_parse_profiles(xml, len, d, &not_authorized, &error))
      goto failed;
    if (d->profiles->len == 0) {
      fail(task, "the device's media service lists no H.264 or H.265 video profile");
      return;
    }
    p->call = VIGIL_ONVIF_GET_STREAM_URI;
    p->profile = 0;
    break;
  case VIGIL_ONVIF_GET_STREAM_URI: {
    char *uri = vigil_onvif_parse_stream_uri(xml, len, &not_authorized, &error);
    if (!uri)
      goto failed;
    if (stream_uri_answered(task, uri))
      return;
    break;
  }
  }
  send_call(task);
  return;

failed:
  if (not_authorized)
    fail_auth(task);
  else
    fail(task, "%s: %s", vigil_onvif_call_name(p->call), error->message);
}

static void on_read(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Probe *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes =
      g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
  if (!bytes) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      fail(task, "cancelled");
    else
      fail(task, "the device stopped answering (%s)", error->message);
    return;
  }
  gsize n = g_bytes_get_size(bytes);
  if (n == 0) {
    g_clear_object(&p->body);
    handle_answer(task);
    return;
  }
  if (p->answer->len + n > VIGIL_ONVIF_MAX_ANSWER) {
    fail(task, "the device's answer to %s is over %d bytes", vigil_onvif_call_name(p->call),
         VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  g_byte_array_append(p->answer, g_bytes_get_data(bytes, NULL), (guint)n);
  g_input_stream_read_bytes_async(p->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                  g_task_get_cancellable(task), on_read, task);
}

static void on_sent(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Probe *p = g_task_get_task_data(task);
  g_autoptr(GError) error = NULL;
  p->body = soup_session_send_finish(SOUP_SESSION(source), result, &error);
  if (!p->body) {
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      fail(task, "cancelled");
    } else if (p->call == VIGIL_ONVIF_GET_PROFILES2 || p->call == VIGIL_ONVIF_GET_STREAM_URI2) {
      /* A Media2 address that cannot be reached (a wrong IP, NAT). */
      g_autofree char *reason =
          g_strdup_printf("cannot reach the device's Media2 service: %s", error->message);
      if (media2_fallback(task, reason))
        send_call(task);
    } else {
      fail(task, "cannot reach the device at %s: %s", p->device_url, error->message);
    }
    return;
  }
  goffset length =
      soup_message_headers_get_content_length(soup_message_get_response_headers(p->msg));
  if (length > VIGIL_ONVIF_MAX_ANSWER) {
    fail(task, "the device's answer to %s is over %d bytes", vigil_onvif_call_name(p->call),
         VIGIL_ONVIF_MAX_ANSWER);
    return;
  }
  if (p->answer)
    g_byte_array_unref(p->answer);
  p->answer = g_byte_array_new();
  g_input_stream_read_bytes_async(p->body, READ_CHUNK, G_PRIORITY_DEFAULT,
                                  g_task_get_cancellable(task), on_read, task);
}

static void send_call(GTask *task)
{
  Probe *p = g_task_get_task_data(task);
  VigilOnvifDevice *d = p->device;
  gboolean media = p->call == VIGIL_ONVIF_GET_PROFILES || p->call == VIGIL_ONVIF_GET_STREAM_URI;
  gboolean media2 = p->call == VIGIL_ONVIF_GET_PROFILES2 || p->call == VIGIL_ONVIF_GET_STREAM_URI2;
  const char *url = media ? d->media_address : media2 ? d->media2_address : p->device_url;
  const char *token = NULL;
  if (p->call == VIGIL_ONVIF_GET_STREAM_URI || p->call == VIGIL_ONVIF_GET_STREAM_URI2)
    token = ((VigilOnvifProfile *)g_ptr_array_index(d->profiles, p->profile))->token;
  gboolean auth = p->call != VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME && p->username && *p->username;
  g_autofree char *request = vigil_onvif_build_request(p->call, token, auth ? p->username : NULL,
                                                       p->password, d->clock_offset_s);
  g_clear_object(&p->msg);
  g_clear_object(&p->body);
  p->msg = soup_message_new("POST", url);
  if (!p->msg) {
    fail(task, "the device gave an unusable service address");
    return;
  }
  p->http_auth_tried = FALSE;
  g_signal_connect(p->msg, "authenticate", G_CALLBACK(on_http_authenticate), p);
  g_autofree char *type =
      g_strdup_printf("application/soap+xml; charset=utf-8; action=\"%s/%s\"",
                      vigil_onvif_call_namespace(p->call), vigil_onvif_call_name(p->call));
  gsize len = strlen(request);
  soup_message_set_request_body_from_bytes(p->msg, type,
                                           g_bytes_new_take(g_steal_pointer(&request), len));
  soup_session_send_async(p->session, p->msg, G_PRIORITY_DEFAULT, g_task_get_cancellable(task),
                          on_sent, task);
}

void vigil_onvif_probe_async(const char *device_url, const char *username, const char *password,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, vigil_onvif_probe_async);
  Probe *p = g_new0(Probe, 1);
  p->session = soup_session_new_with_options("timeout", VIGIL_ONVIF_TIMEOUT_S, "idle-timeout",
                                             VIGIL_ONVIF_TIMEOUT_S, "user-agent", "vigil", NULL);
  p->device_url = g_strdup(device_url);
  p->username = g_strdup(username && *username ? username : NULL);
  p->password = g_strdup(password ? password : "");
  p->device = g_new0(VigilOnvifDevice, 1);
  p->call = VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME;
  g_task_set_task_data(task, p, (GDestroyNotify)probe_free);
  send_call(task);
}

VigilOnvifDevice *vigil_onvif_probe_finish(GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer(G_TASK(result), error);
}
