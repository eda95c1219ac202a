/* onvif/discovery.c: the WS-Discovery Probe (namespaces, MessageID escaped)
 * and the ProbeMatches parser: RelatesTo checked, Types by namespace, XAddrs
 * picked, scopes decoded, anything else refused or skipped; the async run
 * ends on time or at once when cancelled (what answers it is the
 * integration test's business: test_onvif_discover.py). */
#include <libxml/parser.h>
#include <string.h>

#include "core/error.h"
#include "onvif/onvif.h"

#define ID "urn:uuid:5c1b2a1e-0000-4000-8000-000000000001"

/* A ProbeMatches envelope relating to @relates with @matches in its body. */
static char *envelope(const char *relates, const char *matches)
{
  return g_strdup_printf(
      "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
      "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\" "
      "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"><s:Header>"
      "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>"
      "%s%s%s</s:Header><s:Body><d:ProbeMatches>%s</d:ProbeMatches></s:Body></s:Envelope>",
      relates ? "<a:RelatesTo>" : "", relates ? relates : "", relates ? "</a:RelatesTo>" : "",
      matches);
}

/* @types may start with attributes for the Types element: 'xmlns:x="…">x:T'. */
static char *match(const char *epr, const char *types, const char *scopes, const char *xaddrs)
{
  const char *sep = types[0] == ' ' ? "" : ">";
  return g_strdup_printf("<d:ProbeMatch><a:EndpointReference><a:Address>%s</a:Address>"
                         "</a:EndpointReference><d:Types%s%s</d:Types><d:Scopes>%s</d:Scopes>"
                         "<d:XAddrs>%s</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
                         "</d:ProbeMatch>",
                         epr, sep, types, scopes, xaddrs);
}

static GPtrArray *parse(const char *xml, GError **error)
{
  return vigil_onvif_parse_probe_matches(xml, strlen(xml), ID, error);
}

static void test_build_probe(void)
{
  g_autofree char *id = vigil_onvif_new_message_id();
  g_assert_true(g_str_has_prefix(id, "urn:uuid:"));
  g_assert_cmpuint(strlen(id), ==, 9 + 36);
  g_autofree char *other = vigil_onvif_new_message_id();
  g_assert_cmpstr(id, !=, other);

  g_autofree char *xml = vigil_onvif_build_probe("urn:uuid:a<b&c");
  g_assert_nonnull(strstr(xml, ">urn:uuid:a&lt;b&amp;c</a:MessageID>"));
  g_assert_nonnull(strstr(xml, "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\""));
  g_assert_nonnull(strstr(xml, "xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\""));
  g_assert_nonnull(
      strstr(xml, ">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>"));
  g_assert_nonnull(strstr(xml, ">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"));
  g_assert_nonnull(strstr(xml, "<d:Types>dn:NetworkVideoTransmitter</d:Types>"));
  /* Well-formed, and the Probe is in the 2005/04 namespace. */
  xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), NULL, NULL, XML_PARSE_NONET);
  g_assert_nonnull(doc);
  xmlNodePtr body = xmlDocGetRootElement(doc)->children->next;
  g_assert_cmpstr((const char *)body->name, ==, "Body");
  g_assert_cmpstr((const char *)body->children->ns->href, ==,
                  "http://schemas.xmlsoap.org/ws/2005/04/discovery");
  xmlFreeDoc(doc);
}

static void test_parse_matches(void)
{
  g_autofree char *cam =
      match("urn:uuid:cam-1", "dn:NetworkVideoTransmitter tds:Device",
            "onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/name/Acme%20Corp "
            "onvif://www.onvif.org/hardware/X%2F100%C3%A9 onvif://www.onvif.org/location/Hall",
            "http://[fe80::1]/onvif/device_service ftp://10.0.0.9/x http://u:p@10.0.0.8/x "
            "http://10.0.0.7/onvif/device_service");
  /* Types by namespace: the printer's "dn" prefix means something else. */
  g_autofree char *printer =
      match("urn:uuid:printer",
            " xmlns:dn=\"http://schemas.microsoft.com/print\">dn:NetworkVideoTransmitter",
            "onvif://www.onvif.org/name/P", "http://10.0.0.6/");
  g_autofree char *no_xaddr =
      match("urn:uuid:none", "dn:NetworkVideoTransmitter", "", "file:///etc/passwd");
  /* Another prefix, a default namespace; only IPv6; an mfr scope wins over
   * the name; a bad escape gives no model. */
  g_autofree char *v6 = match(
      "urn:uuid:v6", " xmlns=\"http://www.onvif.org/ver10/network/wsdl\">NetworkVideoTransmitter",
      "ONVIF://www.onvif.org/name/N onvif://www.onvif.org/mfr/Maker "
      "onvif://www.onvif.org/hardware/%zz",
      "https://[fd00::5]:8443/onvif/device_service");
  g_autofree char *matches = g_strconcat(cam, printer, no_xaddr, v6, NULL);
  g_autofree char *xml = envelope(" " ID " ", matches);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = parse(xml, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(found->len, ==, 2);
  VigilOnvifDiscovered *d = g_ptr_array_index(found, 0);
  g_assert_cmpstr(d->endpoint, ==, "urn:uuid:cam-1");
  g_assert_cmpstr(d->address, ==, "http://10.0.0.7/onvif/device_service");
  g_assert_cmpstr(d->manufacturer, ==, "Acme Corp");
  g_assert_cmpstr(d->model, ==, "X/100é");
  d = g_ptr_array_index(found, 1);
  g_assert_cmpstr(d->address, ==, "https://[fd00::5]:8443/onvif/device_service");
  g_assert_cmpstr(d->manufacturer, ==, "Maker");
  g_assert_null(d->model);

  /* No EndpointReference: the address is the key. */
  g_autofree char *bare =
      g_strdup("<d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types>"
               "<d:XAddrs>http://10.0.0.3/onvif/device_service</d:XAddrs></d:ProbeMatch>");
  g_autofree char *bare_xml = envelope(ID, bare);
  g_autoptr(GPtrArray) bare_found = parse(bare_xml, &error);
  g_assert_cmpuint(bare_found->len, ==, 1);
  d = g_ptr_array_index(bare_found, 0);
  g_assert_cmpstr(d->endpoint, ==, "http://10.0.0.3/onvif/device_service");
  g_assert_null(d->manufacturer);
}

static void test_parse_refused(void)
{
  g_autofree char *cam = match("urn:uuid:cam", "dn:NetworkVideoTransmitter", "",
                               "http://10.0.0.7/onvif/device_service");
  g_autofree char *other = envelope("urn:uuid:someone-else", cam);
  g_autofree char *none = envelope(NULL, cam);
  g_autofree char *hello =
      g_strdup("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
               "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
               "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\"><s:Header>"
               "<a:RelatesTo>" ID "</a:RelatesTo></s:Header><s:Body><d:Hello/></s:Body>"
               "</s:Envelope>");
  /* Another envelope namespace (SOAP 1.1's, or a typo) is no ONVIF answer. */
  g_autofree char *wrong_ns = NULL;
  {
    g_autofree char *ok = envelope(ID, cam);
    g_auto(GStrv) parts = g_strsplit(ok, "2003/05/soap-envelope", 2);
    wrong_ns = g_strjoinv("2003/05/soap-envelopX", parts);
  }
  const char *cases[] = {other, none, hello, wrong_ns, "garbage", "<a/>", "\xff\xfe<"};
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) found = parse(cases[i], &error);
    g_assert_null(found);
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *ok = envelope(ID, cam);
  g_assert_null(vigil_onvif_parse_probe_matches(ok, VIGIL_ONVIF_MAX_DATAGRAM + 1, ID, &error));
  g_assert_nonnull(strstr(error->message, "over"));
  g_clear_error(&error);
  g_assert_null(vigil_onvif_parse_probe_matches(ok, 0, ID, &error));
  g_clear_error(&error);
  g_autoptr(GPtrArray) found = vigil_onvif_parse_probe_matches(ok, strlen(ok), ID, &error);
  g_assert_cmpuint(found->len, ==, 1);
}

/* External entities are neither fetched nor read. */
static void test_parse_no_entities(void)
{
  g_autofree char *cam =
      match("urn:uuid:cam", "dn:NetworkVideoTransmitter", "onvif://www.onvif.org/name/&x;",
            "http://10.0.0.7/onvif/device_service");
  g_autofree char *body = envelope(ID, cam);
  g_autofree char *xml = g_strconcat(
      "<?xml version=\"1.0\"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>",
      strstr(body, "?>") + 2, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = parse(xml, &error);
  for (guint i = 0; found && i < found->len; i++) {
    VigilOnvifDiscovered *d = g_ptr_array_index(found, i);
    g_assert_true(!d->manufacturer || !strstr(d->manufacturer, "root"));
  }
}

static void on_discover_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref(result);
}

static void cancel_it(gpointer cancellable)
{
  g_cancellable_cancel(cancellable);
}

static void quit_it(gpointer loop)
{
  g_main_loop_quit(loop);
}

/* A cancelled discovery ends at once with G_IO_ERROR_CANCELLED, long before
 * its time is up, and leaves no source behind (ASan and the main loop). */
static void test_discover_cancel(void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new();
  g_autoptr(GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time();
  vigil_onvif_discover_async(10000, TRUE, cancellable, on_discover_done, &result);
  g_timeout_add_once(100, cancel_it, cancellable);
  while (!result)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_onvif_discover_finish(result, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Nothing of the run fires later. */
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_timeout_add_once(400, quit_it, loop);
  g_main_loop_run(loop);
}

/* Uncancelled, it ends when its time is up with a list (maybe empty). */
static void test_discover_ends(void)
{
  g_autoptr(GAsyncResult) result = NULL;
  gint64 start = g_get_monotonic_time();
  vigil_onvif_discover_async(300, FALSE, NULL, on_discover_done, &result);
  while (!result)
    g_main_context_iteration(NULL, TRUE);
  g_assert_cmpint(g_get_monotonic_time() - start, >=, 300 * 1000);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = vigil_onvif_discover_finish(result, &error);
  g_assert_no_error(error);
  g_assert_nonnull(found);
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/onvif-discovery/build-probe", test_build_probe);
  g_test_add_func("/onvif-discovery/parse-matches", test_parse_matches);
  g_test_add_func("/onvif-discovery/parse-refused", test_parse_refused);
  g_test_add_func("/onvif-discovery/parse-no-entities", test_parse_no_entities);
  g_test_add_func("/onvif-discovery/discover-cancel", test_discover_cancel);
  g_test_add_func("/onvif-discovery/discover-ends", test_discover_ends);
  return g_test_run();
}
