/* A WS-Discovery 2005/04 target for tests: joins 239.255.255.250:3702 with
 * SO_REUSEADDR and SO_REUSEPORT (several fakecams and a test's own sockets
 * share the port) and answers each Probe whose Types it has (or that names
 * none) with a unicast ProbeMatches shaped after the ONVIF Core
 * specification's example. Probes are read with plain string search (a test
 * fixture, not a parser vigil relies on); answers escape what they echo. */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "wsd.h"
#include "onvif.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define WSD_GROUP "239.255.255.250"
#define WSD_PORT  3702

static VigilFakeWsd cfg;
static char *endpoint; /* urn:uuid:…, the same for the process's life */
static GSocket *wsd_socket;

/* A target matches when it has every type the Probe lists (by local name:
 * this fake is an NVT and a device, nothing else). */
static gboolean types_match(const char *types)
{
  g_auto(GStrv) names = g_strsplit_set(types ? types : "", " \t\r\n", -1);
  for (char **n = names; *n; n++) {
    if (!**n)
      continue;
    const char *colon = strrchr(*n, ':');
    const char *local = colon ? colon + 1 : *n;
    if (strcmp(local, "NetworkVideoTransmitter") && strcmp(local, "Device"))
      return FALSE;
  }
  return TRUE;
}

static char *probe_matches(const char *relates_to)
{
  g_autofree char *message_id = g_uuid_string_random();
  g_autofree char *name_scope = g_uri_escape_string(cfg.name, NULL, FALSE);
  g_autofree char *hardware_scope = g_uri_escape_string(cfg.hardware, NULL, FALSE);
  return g_markup_printf_escaped(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<SOAP-ENV:Envelope xmlns:SOAP-ENV=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
      "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
      "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\" "
      "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\">"
      "<SOAP-ENV:Header>"
      "<wsa:MessageID>urn:uuid:%s</wsa:MessageID>"
      "<wsa:RelatesTo>%s</wsa:RelatesTo>"
      "<wsa:To SOAP-ENV:mustUnderstand=\"true\">"
      "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
      "<wsa:Action SOAP-ENV:mustUnderstand=\"true\">"
      "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>"
      "<d:AppSequence SOAP-ENV:mustUnderstand=\"true\" MessageNumber=\"1\" InstanceId=\"1\"/>"
      "</SOAP-ENV:Header>"
      "<SOAP-ENV:Body><d:ProbeMatches><d:ProbeMatch>"
      "<wsa:EndpointReference><wsa:Address>%s</wsa:Address></wsa:EndpointReference>"
      "<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>"
      "<d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming "
      "onvif://www.onvif.org/hardware/%s onvif://www.onvif.org/name/%s "
      "onvif://www.onvif.org/location/</d:Scopes>"
      "<d:XAddrs>%s</d:XAddrs>"
      "<d:MetadataVersion>1</d:MetadataVersion>"
      "</d:ProbeMatch></d:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>\n",
      message_id, relates_to, endpoint, hardware_scope, name_scope, cfg.device_url);
}

static gboolean on_datagram(GSocket *socket, GIOCondition condition, gpointer user_data)
{
  char buf[65536];
  GSocketAddress *from = NULL;
  gssize len = g_socket_receive_from(socket, &from, buf, sizeof buf - 1, NULL, NULL);
  g_autoptr(GSocketAddress) sender = from;
  if (len <= 0)
    return G_SOURCE_CONTINUE;
  buf[len] = '\0';
  g_autofree char *action = vigil_fake_onvif_element_text(buf, "Action");
  g_autofree char *message_id = vigil_fake_onvif_element_text(buf, "MessageID");
  g_autofree char *types = vigil_fake_onvif_element_text(buf, "Types");
  if (!action || !g_str_has_suffix(action, "/discovery/Probe") || !message_id || !*message_id ||
      !types_match(types)) {
    g_debug("WS-Discovery: datagram ignored");
    return G_SOURCE_CONTINUE;
  }
  g_autofree char *answer = probe_matches(message_id);
  g_autoptr(GError) error = NULL;
  if (g_socket_send_to(socket, sender, answer, strlen(answer), NULL, &error) < 0)
    g_message("WS-Discovery: cannot answer: %s", error->message);
  return G_SOURCE_CONTINUE;
}

gboolean vigil_fake_wsd_start(const VigilFakeWsd *config, GError **error)
{
  /* Kept for the process's life. */
  cfg.interface = g_strdup(config->interface);
  cfg.device_url = g_strdup(config->device_url);
  cfg.name = g_strdup(config->name);
  cfg.hardware = g_strdup(config->hardware);
  struct in_addr iface;
  if (inet_pton(AF_INET, cfg.interface, &iface) != 1) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "'%s' is no IPv4 interface address",
                cfg.interface);
    return FALSE;
  }
  g_autofree char *uuid = g_uuid_string_random();
  endpoint = g_strconcat("urn:uuid:", uuid, NULL);
  wsd_socket =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (!wsd_socket)
    return FALSE;
  g_socket_set_blocking(wsd_socket, FALSE);
  int fd = g_socket_get_fd(wsd_socket), on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  /* The wildcard address: a socket bound to the group could not send the
   * unicast answers. */
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(WSD_PORT)};
  if (bind(fd, (struct sockaddr *)&any, sizeof any) < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "bind to port %d: %s", WSD_PORT,
                g_strerror(errno));
    return FALSE;
  }
  struct ip_mreq mreq = {.imr_interface = iface};
  inet_pton(AF_INET, WSD_GROUP, &mreq.imr_multiaddr);
  if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) {
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "join %s on %s: %s", WSD_GROUP,
                cfg.interface, g_strerror(errno));
    return FALSE;
  }
  GSource *source = g_socket_create_source(wsd_socket, G_IO_IN, NULL);
  g_source_set_callback(source, G_SOURCE_FUNC(on_datagram), NULL, NULL);
  g_source_attach(source, NULL);
  g_source_unref(source);
  return TRUE;
}
