/* The RTSP server: the listener and the door (restream.h). A connection's
 * life, output and feed are in connection.c, its requests and session in
 * session.c; the server streams a camera's VigilStream as RTP over the
 * connection (TCP interleaved) or over UDP unicast to the client's address.
 *
 * Everything runs on the main context: GIO's non-blocking sockets, one read
 * source per connection and a write source only while its output waits.
 * Stream chunks arrive through context subscribers (live/stream.h), so no
 * lock is needed; a connection's output queue is bounded, and a client
 * whose queue would pass the bound loses its queued media and resumes at the
 * next keyframe, so a stalled client never holds up the stream or other
 * clients. */
#define G_LOG_DOMAIN "vigil-restream"

#include "restream/restream.h"

#include <gio/gio.h>
#include <string.h>

#include "restream/server-private.h"

/* --- listener --- */

static gboolean on_incoming(G_GNUC_UNUSED GSocketService *service, GSocketConnection *conn,
                            G_GNUC_UNUSED GObject *source, gpointer data)
{
  VigilRestream *r = data;
  g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address(conn, NULL);
  g_autofree gchar *address = NULL;
  if (remote && G_IS_INET_SOCKET_ADDRESS(remote))
    address =
        g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
  else
    address = g_strdup("?");
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->per_address, address));
  if (n >= MAX_PER_ADDRESS || g_list_length(r->clients) >= MAX_CLIENTS) {
    g_info("RTSP connection from %s refused: too many connections", address);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    return TRUE;
  }
  g_hash_table_insert(r->per_address, g_strdup(address), GUINT_TO_POINTER(n + 1));
  Client *c = vigil_restream_client_new(r, conn, g_steal_pointer(&address));
  r->clients = g_list_prepend(r->clients, c);
  return TRUE;
}

/* Closes connections silent for longer than the session timeout (RTSP
 * clients send RTCP reports or keep-alive requests well within it). */
static gboolean on_timer(gpointer data)
{
  VigilRestream *r = data;
  gint64 now = g_get_monotonic_time();
  GList *l = r->clients;
  while (l) {
    Client *c = l->data;
    l = l->next;
    if (now - c->last_input_us > SESSION_TIMEOUT_S * G_USEC_PER_SEC) {
      g_info("RTSP client %s timed out", c->address);
      vigil_restream_client_close(c);
    }
  }
  return G_SOURCE_CONTINUE;
}

static void stop(VigilRestream *r)
{
  while (r->clients)
    vigil_restream_client_close(r->clients->data);
  if (r->service) {
    g_socket_service_stop(r->service);
    g_socket_listener_close(G_SOCKET_LISTENER(r->service));
    g_clear_object(&r->service);
  }
  g_clear_handle_id(&r->timer, g_source_remove);
  g_clear_pointer(&r->error, g_free);
}

static void start(VigilRestream *r)
{
  g_autofree gchar *host = NULL;
  int port = 0;
  if (!vigil_rtsp_server_listen_parse(r->listen, &host, &port)) {
    r->error = g_strdup_printf("invalid listen address %s", r->listen);
    return;
  }
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(host);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(inet, port);
  r->service = g_socket_service_new();
  g_autoptr(GError) error = NULL;
  if (!g_socket_listener_add_address(G_SOCKET_LISTENER(r->service), addr, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, NULL, &error)) {
    r->error = g_strdup_printf("cannot listen on %s: %s", r->listen, error->message);
    g_warning("RTSP server: %s", r->error);
    g_clear_object(&r->service);
    return;
  }
  g_signal_connect(r->service, "incoming", G_CALLBACK(on_incoming), r);
  g_socket_service_start(r->service);
  r->timer = g_timeout_add_seconds(5, on_timer, r);
  g_info("RTSP server listening on %s", r->listen);
}

/* --- the door --- */

VigilRestream *vigil_restream_new(VigilCameraManager *cameras, VigilStore *store)
{
  VigilRestream *r = g_new0(VigilRestream, 1);
  r->cameras = cameras;
  r->store = store;
  r->per_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  r->audio_fmtp =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, vigil_restream_audio_format_free);
  return r;
}

/* Loads a changed certificate pair (for new connections). */
static void configure_tls(VigilRestream *r, const char *cert, const char *key)
{
  if (g_strcmp0(cert, r->tls_cert) == 0 && g_strcmp0(key, r->tls_key) == 0)
    return;
  g_free(r->tls_cert);
  g_free(r->tls_key);
  r->tls_cert = g_strdup(cert);
  r->tls_key = g_strdup(key);
  g_clear_object(&r->certificate);
  if (!cert || !key)
    return;
  g_autoptr(GError) error = NULL;
  r->certificate = g_tls_certificate_new_from_files(cert, key, &error);
  if (!r->certificate)
    g_warning("RTSP server: no rtsps: cannot load the TLS certificate %s and key %s: %s", cert, key,
              error->message);
}

void vigil_restream_configure(VigilRestream *r, const VigilRtspServerSettings *settings,
                              const char *tls_cert, const char *tls_key)
{
  g_return_if_fail(r && settings);
  configure_tls(r, tls_cert, tls_key);
  if (settings->enabled == r->enabled && g_strcmp0(settings->listen, r->listen) == 0 &&
      (!r->enabled || r->service))
    return;
  stop(r);
  r->enabled = settings->enabled;
  g_free(r->listen);
  r->listen = g_strdup(settings->listen);
  if (r->enabled)
    start(r);
  else
    g_info("RTSP server off");
}

const char *vigil_restream_get_state(VigilRestream *r, const char **error, guint *clients)
{
  if (error)
    *error = r->error;
  if (clients)
    *clients = g_list_length(r->clients);
  if (!r->enabled)
    return "disabled";
  return r->service ? "listening" : "error";
}

void vigil_restream_free(VigilRestream *r)
{
  if (!r)
    return;
  stop(r);
  /* Freed now rather than from their idles: the loop may not run again. */
  while (r->dying) {
    Client *c = r->dying->data;
    if (c->handshaking) {
      /* Its cancelled handshake's callback frees it, if the loop runs. */
      c->server = NULL;
      r->dying = g_list_remove(r->dying, c);
      continue;
    }
    g_source_remove(c->free_idle);
    vigil_restream_client_free_idle(c);
  }
  g_clear_object(&r->certificate);
  g_free(r->tls_cert);
  g_free(r->tls_key);
  g_hash_table_unref(r->per_address);
  g_hash_table_unref(r->audio_fmtp);
  g_free(r->listen);
  g_free(r);
}
