/* WS-Discovery (2005/04, as ONVIF Core uses it): a Probe for
 * NetworkVideoTransmitters multicast on every IPv4 interface, and the
 * ProbeMatches that come back within a few seconds, read into device
 * addresses, manufacturers and models (docs/onvif.md#discovery). The Probe
 * is built and the answers are read with libxml2; the sockets run on the
 * thread-default main context and never block. */
#define G_LOG_DOMAIN "vigil-onvif"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "onvif/onvif.h"
#include "onvif/xml.h"

#define NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define NS_WSA  "http://schemas.xmlsoap.org/ws/2004/08/addressing"
/* Some devices answer with the W3C recommendation's namespace. */
#define NS_WSA_W3C    "http://www.w3.org/2005/08/addressing"
#define NS_WSD        "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#define NS_DN         "http://www.onvif.org/ver10/network/wsdl"
#define WSD_TO        "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
#define WSD_PROBE     NS_WSD "/Probe"
#define WSA_ANONYMOUS NS_WSA "/role/anonymous"
#define ONVIF_SCOPE   "onvif://www.onvif.org/"

#define WSD_GROUP "239.255.255.250"
/* More interfaces, devices or answers than this are not a LAN. */
#define MAX_INTERFACES 32
#define MAX_DEVICES    256
/* WS-Discovery repeats a multicast message once (MULTICAST_UDP_REPEAT). */
#define REPEAT_AFTER_MS 250

void vigil_onvif_discovered_free(VigilOnvifDiscovered *d)
{
  if (!d)
    return;
  g_free(d->endpoint);
  g_free(d->address);
  g_free(d->manufacturer);
  g_free(d->model);
  g_free(d);
}

char *vigil_onvif_new_message_id(void)
{
  g_autofree char *uuid = g_uuid_string_random();
  return g_strconcat("urn:uuid:", uuid, NULL);
}

char *vigil_onvif_build_probe(const char *message_id)
{
  g_return_val_if_fail(message_id != NULL, NULL);
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  xmlNodePtr env = xmlNewNode(NULL, BAD_CAST "Envelope");
  xmlNsPtr s = xmlNewNs(env, BAD_CAST NS_SOAP, BAD_CAST "s");
  xmlNsPtr a = xmlNewNs(env, BAD_CAST NS_WSA, BAD_CAST "a");
  xmlNsPtr d = xmlNewNs(env, BAD_CAST NS_WSD, BAD_CAST "d");
  /* The prefix the Types QName below uses. */
  xmlNewNs(env, BAD_CAST NS_DN, BAD_CAST "dn");
  xmlSetNs(env, s);
  xmlDocSetRootElement(doc, env);
  xmlNodePtr header = xmlNewChild(env, s, BAD_CAST "Header", NULL);
  xmlNodePtr action = xmlNewTextChild(header, a, BAD_CAST "Action", BAD_CAST WSD_PROBE);
  xmlNewNsProp(action, s, BAD_CAST "mustUnderstand", BAD_CAST "1");
  xmlNewTextChild(header, a, BAD_CAST "MessageID", BAD_CAST message_id);
  xmlNodePtr reply_to = xmlNewChild(header, a, BAD_CAST "ReplyTo", NULL);
  xmlNewTextChild(reply_to, a, BAD_CAST "Address", BAD_CAST WSA_ANONYMOUS);
  xmlNodePtr to = xmlNewTextChild(header, a, BAD_CAST "To", BAD_CAST WSD_TO);
  xmlNewNsProp(to, s, BAD_CAST "mustUnderstand", BAD_CAST "1");
  xmlNodePtr body = xmlNewChild(env, s, BAD_CAST "Body", NULL);
  xmlNodePtr probe = xmlNewChild(body, d, BAD_CAST "Probe", NULL);
  /* Only NetworkVideoTransmitter: a Probe with several types matches only
   * devices that have all of them, and older cameras lack tds:Device. */
  xmlNewTextChild(probe, d, BAD_CAST "Types", BAD_CAST "dn:NetworkVideoTransmitter");
  return vigil_onvif_xml_dump(doc);
}

/* ---- ProbeMatches ---- */

/* WS-Addressing elements, in either of the namespaces devices use. */
static xmlNodePtr wsa_child(xmlNodePtr parent, const char *name)
{
  xmlNodePtr n = vigil_onvif_xml_child(parent, NS_WSA, name);
  return n ? n : vigil_onvif_xml_child(parent, NS_WSA_W3C, name);
}

/* Whether the Types QName list holds dn:NetworkVideoTransmitter, with each
 * prefix resolved where it is used (the prefix itself means nothing). */
static gboolean types_have_nvt(xmlDocPtr doc, xmlNodePtr types)
{
  g_autofree char *text = vigil_onvif_xml_text(types);
  if (!text)
    return FALSE;
  g_auto(GStrv) names = g_strsplit_set(text, " \t\r\n", -1);
  for (char **name = names; *name; name++) {
    char *colon = strchr(*name, ':');
    const char *local = colon ? colon + 1 : *name;
    if (strcmp(local, "NetworkVideoTransmitter"))
      continue;
    g_autofree char *prefix = colon ? g_strndup(*name, colon - *name) : NULL;
    xmlNsPtr ns = xmlSearchNs(doc, types, BAD_CAST prefix);
    if (ns && xmlStrEqual(ns->href, BAD_CAST NS_DN))
      return TRUE;
  }
  return FALSE;
}

/* The first http(s) XAddr with a host and no credentials, IPv4 first. */
static char *pick_xaddr(const char *xaddrs)
{
  g_auto(GStrv) list = g_strsplit_set(xaddrs, " \t\r\n", -1);
  char *fallback = NULL;
  for (char **x = list; *x; x++) {
    g_autoptr(GUri) uri = **x ? g_uri_parse(*x, G_URI_FLAGS_NONE, NULL) : NULL;
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    if (!uri || !host || !*host || g_uri_get_userinfo(uri) ||
        (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https")))
      continue;
    struct in_addr in;
    if (inet_pton(AF_INET, host, &in) == 1) {
      g_free(fallback);
      return g_uri_to_string(uri);
    }
    if (!fallback)
      fallback = g_uri_to_string(uri);
  }
  return fallback;
}

/* A percent-decoded scope value; NULL when empty, badly escaped or not UTF-8. */
static char *scope_value(const char *escaped)
{
  char *s = g_uri_unescape_string(escaped, NULL);
  if (s && (!*s || !g_utf8_validate(s, -1, NULL)))
    g_clear_pointer(&s, g_free);
  return s;
}

/* ONVIF Core 7.3.2.2: onvif://www.onvif.org/hardware/MODEL and
 * onvif://www.onvif.org/name/NAME. The name is what most devices put their
 * maker in; an mfr/ or manufacturer/ scope, which some devices add, wins. */
static void read_scopes(const char *scopes, VigilOnvifDiscovered *d)
{
  g_auto(GStrv) list = g_strsplit_set(scopes, " \t\r\n", -1);
  g_autofree char *name = NULL, *mfr = NULL;
  for (char **scope = list; *scope; scope++) {
    if (g_ascii_strncasecmp(*scope, ONVIF_SCOPE, strlen(ONVIF_SCOPE)))
      continue;
    const char *rest = *scope + strlen(ONVIF_SCOPE);
    char **slot = g_str_has_prefix(rest, "hardware/")       ? &d->model
                  : g_str_has_prefix(rest, "name/")         ? &name
                  : g_str_has_prefix(rest, "mfr/")          ? &mfr
                  : g_str_has_prefix(rest, "manufacturer/") ? &mfr
                                                            : NULL;
    if (slot && !*slot)
      *slot = scope_value(strchr(rest, '/') + 1);
  }
  d->manufacturer = mfr ? g_steal_pointer(&mfr) : g_steal_pointer(&name);
}

GPtrArray *vigil_onvif_parse_probe_matches(const char *xml, gsize len, const char *message_id,
                                           GError **error)
{
  g_return_val_if_fail(message_id != NULL, NULL);
  if (len > VIGIL_ONVIF_MAX_DATAGRAM || len > G_MAXINT || !xml || !len) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the answer is empty or over %d bytes",
                VIGIL_ONVIF_MAX_DATAGRAM);
    return NULL;
  }
  /* No network, no entity substitution (XML_PARSE_NOENT is left out). */
  xmlDocPtr doc = xmlReadMemory(xml, (int)len, "answer.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlNodePtr env = doc ? xmlDocGetRootElement(doc) : NULL;
  xmlNodePtr header = vigil_onvif_xml_is_element(env, NS_SOAP, "Envelope")
                          ? vigil_onvif_xml_child(env, NS_SOAP, "Header")
                          : NULL;
  xmlNodePtr body = header ? vigil_onvif_xml_child(env, NS_SOAP, "Body") : NULL;
  xmlNodePtr matches = vigil_onvif_xml_child(body, NS_WSD, "ProbeMatches");
  g_autofree char *relates_to = vigil_onvif_xml_text(wsa_child(header, "RelatesTo"));
  GPtrArray *found = NULL;
  if (!body) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer is not a SOAP 1.2 envelope with a header");
  } else if (!matches) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer holds no ProbeMatches");
  } else if (!relates_to || strcmp(relates_to, message_id)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer relates to another message");
  } else {
    found = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_onvif_discovered_free);
    for (xmlNodePtr m = matches->children; m && found->len < MAX_DEVICES; m = m->next) {
      if (!vigil_onvif_xml_is_element(m, NS_WSD, "ProbeMatch") ||
          !types_have_nvt(doc, vigil_onvif_xml_child(m, NS_WSD, "Types")))
        continue;
      g_autofree char *xaddrs = vigil_onvif_xml_text(vigil_onvif_xml_child(m, NS_WSD, "XAddrs"));
      g_autofree char *address = xaddrs ? pick_xaddr(xaddrs) : NULL;
      if (!address)
        continue;
      VigilOnvifDiscovered *d = g_new0(VigilOnvifDiscovered, 1);
      d->address = g_steal_pointer(&address);
      d->endpoint = vigil_onvif_xml_text(wsa_child(wsa_child(m, "EndpointReference"), "Address"));
      if (!d->endpoint)
        d->endpoint = g_strdup(d->address);
      g_autofree char *scopes = vigil_onvif_xml_text(vigil_onvif_xml_child(m, NS_WSD, "Scopes"));
      if (scopes)
        read_scopes(scopes, d);
      g_ptr_array_add(found, d);
    }
  }
  xmlFreeDoc(doc);
  return found;
}

/* ---- the multicast exchange ---- */

typedef struct {
  GTask *task; /* strong ref until the end */
  char *message_id, *probe;
  GPtrArray *sockets; /* of GSocket */
  GPtrArray *sources; /* of GSource, one per socket, attached */
  GHashTable *seen;   /* endpoint reference addresses */
  GPtrArray *found;   /* of VigilOnvifDiscovered */
  guint timer, repeat;
  gulong cancel_id;
  GCancellable *cancellable;
} Discovery;

static void discovery_free(Discovery *d)
{
  for (guint i = 0; d->sources && i < d->sources->len; i++)
    g_source_destroy(g_ptr_array_index(d->sources, i));
  g_clear_pointer(&d->sources, g_ptr_array_unref);
  g_clear_pointer(&d->sockets, g_ptr_array_unref);
  g_clear_handle_id(&d->timer, g_source_remove);
  g_clear_handle_id(&d->repeat, g_source_remove);
  if (d->cancellable && d->cancel_id)
    g_cancellable_disconnect(d->cancellable, d->cancel_id);
  g_clear_object(&d->cancellable);
  g_clear_pointer(&d->seen, g_hash_table_unref);
  g_clear_pointer(&d->found, g_ptr_array_unref);
  g_free(d->message_id);
  g_free(d->probe);
  g_free(d);
}

/* Ends the run: the task gets the devices found (or @error), @d is freed. */
static void discovery_end(Discovery *d, GError *error)
{
  GTask *task = g_steal_pointer(&d->task);
  GPtrArray *found = g_steal_pointer(&d->found);
  discovery_free(d);
  if (error) {
    g_ptr_array_unref(found);
    g_task_return_error(task, error);
  } else {
    g_task_return_pointer(task, found, (GDestroyNotify)g_ptr_array_unref);
  }
  g_object_unref(task);
}

static void send_probes(Discovery *d)
{
  g_autoptr(GInetAddress) group = g_inet_address_new_from_string(WSD_GROUP);
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new(group, VIGIL_ONVIF_WSD_PORT);
  for (guint i = 0; i < d->sockets->len; i++) {
    g_autoptr(GError) error = NULL;
    if (g_socket_send_to(g_ptr_array_index(d->sockets, i), to, d->probe, strlen(d->probe), NULL,
                         &error) < 0)
      g_debug("WS-Discovery probe not sent: %s", error->message);
  }
}

static gboolean on_repeat(gpointer user_data)
{
  Discovery *d = user_data;
  d->repeat = 0;
  send_probes(d);
  return G_SOURCE_REMOVE;
}

static gboolean on_timer(gpointer user_data)
{
  Discovery *d = user_data;
  d->timer = 0;
  g_debug("WS-Discovery found %u devices", d->found->len);
  discovery_end(d, NULL);
  return G_SOURCE_REMOVE;
}

static gboolean on_cancelled_idle(gpointer user_data)
{
  Discovery *d = user_data;
  d->timer = 0;
  discovery_end(d, g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled"));
  return G_SOURCE_REMOVE;
}

static void on_cancelled(GCancellable *cancellable, gpointer user_data)
{
  Discovery *d = user_data;
  /* Not from inside the signal: ending disconnects this handler. */
  g_clear_handle_id(&d->timer, g_source_remove);
  d->timer = g_idle_add(on_cancelled_idle, d);
}

static gboolean on_readable(GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Discovery *d = user_data;
  /* A datagram is at most 64 KiB; one more byte tells a truncated one. */
  g_autofree char *buf = g_malloc(VIGIL_ONVIF_MAX_DATAGRAM + 1);
  for (int n = 0; n < 64; n++) {
    g_autoptr(GError) error = NULL;
    gssize len = g_socket_receive(socket, buf, VIGIL_ONVIF_MAX_DATAGRAM + 1, NULL, &error);
    if (len < 0)
      break; /* would block, or an ICMP error from an earlier send */
    g_autoptr(GPtrArray) matches =
        vigil_onvif_parse_probe_matches(buf, (gsize)len, d->message_id, &error);
    if (!matches) {
      g_debug("WS-Discovery answer ignored: %s", error->message);
      continue;
    }
    for (guint i = 0; i < matches->len && d->found->len < MAX_DEVICES; i++) {
      VigilOnvifDiscovered *m = g_ptr_array_index(matches, i);
      if (g_hash_table_contains(d->seen, m->endpoint))
        continue;
      g_hash_table_add(d->seen, g_strdup(m->endpoint));
      g_ptr_array_add(d->found, g_ptr_array_steal_index(matches, i--));
    }
  }
  return G_SOURCE_CONTINUE;
}

/* One socket per up IPv4 interface that can multicast (loopback only when
 * asked), bound to the interface's first address so that the unicast
 * answers come back to it. */
static void open_sockets(Discovery *d, gboolean loopback)
{
  struct ifaddrs *ifs = NULL;
  if (getifaddrs(&ifs) < 0) {
    g_warning("WS-Discovery: cannot list the network interfaces: %s", g_strerror(errno));
    return;
  }
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  for (struct ifaddrs *ifa = ifs; ifa && d->sockets->len < MAX_INTERFACES; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || !(ifa->ifa_flags & IFF_UP))
      continue;
    gboolean is_lo = (ifa->ifa_flags & IFF_LOOPBACK) != 0;
    /* Linux's lo carries multicast without the MULTICAST flag. */
    if (is_lo ? !loopback : !(ifa->ifa_flags & IFF_MULTICAST))
      continue;
    if (g_hash_table_contains(names, ifa->ifa_name))
      continue;
    g_hash_table_add(names, ifa->ifa_name);
    struct in_addr in = ((struct sockaddr_in *)ifa->ifa_addr)->sin_addr;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocket) socket =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
    g_autoptr(GInetAddress) local =
        g_inet_address_new_from_bytes((guint8 *)&in, G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) bind_to = g_inet_socket_address_new(local, 0);
    if (!socket || !g_socket_bind(socket, bind_to, FALSE, &error)) {
      g_debug("WS-Discovery: no socket on %s: %s", ifa->ifa_name, error->message);
      continue;
    }
    if (setsockopt(g_socket_get_fd(socket), IPPROTO_IP, IP_MULTICAST_IF, &in, sizeof in) < 0) {
      g_debug("WS-Discovery: cannot multicast on %s: %s", ifa->ifa_name, g_strerror(errno));
      continue;
    }
    /* TTL 1: WS-Discovery stays on the link. Loopback on, for devices
     * (and test fakes) on this host. */
    g_socket_set_blocking(socket, FALSE);
    g_socket_set_multicast_ttl(socket, 1);
    g_socket_set_multicast_loopback(socket, TRUE);
    g_debug("WS-Discovery probes on %s", ifa->ifa_name);
    GSource *source = g_socket_create_source(socket, G_IO_IN, NULL);
    g_source_set_callback(source, G_SOURCE_FUNC(on_readable), d, NULL);
    g_source_attach(source, g_main_context_get_thread_default());
    g_ptr_array_add(d->sources, source);
    g_ptr_array_add(d->sockets, g_steal_pointer(&socket));
  }
  freeifaddrs(ifs);
}

void vigil_onvif_discover_async(guint duration_ms, gboolean loopback, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  Discovery *d = g_new0(Discovery, 1);
  d->task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(d->task, vigil_onvif_discover_async);
  d->message_id = vigil_onvif_new_message_id();
  d->probe = vigil_onvif_build_probe(d->message_id);
  d->sockets = g_ptr_array_new_with_free_func(g_object_unref);
  d->sources = g_ptr_array_new_with_free_func((GDestroyNotify)g_source_unref);
  d->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  d->found = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_onvif_discovered_free);
  open_sockets(d, loopback);
  send_probes(d);
  d->repeat = g_timeout_add(REPEAT_AFTER_MS, on_repeat, d);
  d->timer = g_timeout_add(duration_ms, on_timer, d);
  if (cancellable) {
    d->cancellable = g_object_ref(cancellable);
    d->cancel_id = g_cancellable_connect(cancellable, G_CALLBACK(on_cancelled), d, NULL);
  }
}

GPtrArray *vigil_onvif_discover_finish(GAsyncResult *result, GError **error)
{
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
