/* A fake ONVIF device service for tests: libsoup serves SOAP 1.2 answers
 * shaped after the ONVIF Core and Media specification examples. Requests are
 * read with plain string search (this is a test fixture, not a parser vigil
 * relies on); answers escape everything they carry. */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "onvif.h"

#include <libsoup/soup.h>
#include <string.h>

#include "vigil-config.h"

static VigilFakeOnvif cfg;
static SoupServer *server;

#define ENVELOPE_START                                                                             \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                   \
  "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "                           \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                \
  "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "                                          \
  "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "                                           \
  "xmlns:ter=\"http://www.onvif.org/ver10/error\"><env:Body>"
#define ENVELOPE_END "</env:Body></env:Envelope>\n"

static void reply(SoupServerMessage *msg, guint status, const char *body)
{
  g_autofree char *text = g_strconcat(ENVELOPE_START, body, ENVELOPE_END, NULL);
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/soap+xml; charset=utf-8", SOUP_MEMORY_COPY,
                                   text, strlen(text));
}

static void fault(SoupServerMessage *msg, const char *code, const char *subcode, const char *reason)
{
  g_autofree char *body = g_markup_printf_escaped(
      "<env:Fault><env:Code><env:Value>%s</env:Value><env:Subcode><env:Value>%s</env:Value>"
      "</env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">%s</env:Text></env:Reason>"
      "</env:Fault>",
      code, subcode, reason);
  reply(msg, SOUP_STATUS_BAD_REQUEST, body);
}

/* The text of the first element whose local name is @name, or NULL. */
static char *element_text(const char *xml, const char *name)
{
  for (const char *p = strstr(xml, name); p; p = strstr(p + 1, name)) {
    if (p == xml || (p[-1] != '<' && p[-1] != ':'))
      continue;
    const char *after = p + strlen(name);
    if (*after != '>' && *after != ' ' && *after != '/')
      continue;
    const char *gt = strchr(after, '>');
    if (!gt || gt[-1] == '/')
      return g_strdup("");
    const char *lt = strchr(gt + 1, '<');
    if (!lt)
      return NULL;
    return g_strstrip(g_strndup(gt + 1, lt - gt - 1));
  }
  return NULL;
}

/* The local name of the Body's first element. */
static char *operation(const char *xml)
{
  const char *body = strstr(xml, "Body");
  body = body ? strchr(body, '>') : NULL;
  const char *lt = body ? strchr(body, '<') : NULL;
  if (!lt || lt[1] == '/')
    return NULL;
  const char *start = lt + 1, *end = start + strcspn(start, " />");
  const char *colon = memchr(start, ':', end - start);
  if (colon)
    start = colon + 1;
  return g_strndup(start, end - start);
}

static gboolean authorized(const char *xml)
{
  if (!cfg.user)
    return TRUE;
  g_autofree char *user = element_text(xml, "Username");
  g_autofree char *digest = element_text(xml, "Password");
  g_autofree char *nonce64 = element_text(xml, "Nonce");
  g_autofree char *created = element_text(xml, "Created");
  if (!user || !digest || !nonce64 || !created || strcmp(user, cfg.user))
    return FALSE;
  g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(created, NULL);
  gint64 device_now = g_get_real_time() / G_USEC_PER_SEC + cfg.clock_offset_s;
  /* A device refuses tokens not created about now by its own clock. */
  if (!when || ABS(g_date_time_to_unix(when) - device_now) > 5)
    return FALSE;
  gsize nonce_len;
  g_autofree guchar *nonce = g_base64_decode(nonce64, &nonce_len);
  g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(sha1, nonce, nonce_len);
  g_checksum_update(sha1, (const guchar *)created, strlen(created));
  g_checksum_update(sha1, (const guchar *)cfg.password, strlen(cfg.password));
  guint8 raw[20];
  gsize raw_len = sizeof raw;
  g_checksum_get_digest(sha1, raw, &raw_len);
  g_autofree char *expected = g_base64_encode(raw, raw_len);
  return g_str_equal(expected, digest);
}

static char *profile_xml(const char *token, const char *name, int width, int height)
{
  return g_markup_printf_escaped(
      "<trt:Profiles token=\"%s\" fixed=\"true\"><tt:Name>%s</tt:Name>"
      "<tt:VideoSourceConfiguration token=\"vsc\"><tt:Name>video</tt:Name>"
      "<tt:UseCount>2</tt:UseCount><tt:SourceToken>vs</tt:SourceToken>"
      "<tt:Bounds x=\"0\" y=\"0\" width=\"%d\" height=\"%d\"/></tt:VideoSourceConfiguration>"
      "<tt:VideoEncoderConfiguration token=\"vec_%s\"><tt:Name>%s</tt:Name>"
      "<tt:UseCount>1</tt:UseCount><tt:Encoding>%s</tt:Encoding>"
      "<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height></tt:Resolution>"
      "<tt:Quality>5</tt:Quality></tt:VideoEncoderConfiguration></trt:Profiles>",
      token, name, width, height, token, name, cfg.codec, width, height);
}

static void on_request(SoupServer *srv, SoupServerMessage *msg, const char *path, GHashTable *query,
                       gpointer user_data)
{
  gboolean media = g_str_equal(path, "/onvif/media_service");
  if (!media && !g_str_equal(path, "/onvif/device_service")) {
    soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (!g_str_equal(soup_server_message_get_method(msg), "POST")) {
    soup_server_message_set_status(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    return;
  }
  SoupMessageBody *req = soup_server_message_get_request_body(msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten(req);
  g_autofree char *xml = g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  g_autofree char *op = operation(xml);
  if (!op) {
    fault(msg, "env:Sender", "ter:WellFormed", "No operation in the Body");
    return;
  }
  if (!media && g_str_equal(op, "GetSystemDateAndTime")) {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GDateTime) t = g_date_time_add_seconds(now, (gdouble)cfg.clock_offset_s);
    g_autofree char *body = g_strdup_printf(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
        "<tt:Time><tt:Hour>%d</tt:Hour><tt:Minute>%d</tt:Minute><tt:Second>%d</tt:Second></tt:Time>"
        "<tt:Date><tt:Year>%d</tt:Year><tt:Month>%d</tt:Month><tt:Day>%d</tt:Day></tt:Date>"
        "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
        g_date_time_get_hour(t), g_date_time_get_minute(t), g_date_time_get_second(t),
        g_date_time_get_year(t), g_date_time_get_month(t), g_date_time_get_day_of_month(t));
    reply(msg, SOUP_STATUS_OK, body);
    return;
  }
  if (!authorized(xml)) {
    fault(msg, "env:Sender", "ter:NotAuthorized", "Sender not Authorized");
    return;
  }
  g_autofree char *base =
      g_strdup_printf("http://%s%s%s:%u/onvif", strchr(cfg.address, ':') ? "[" : "", cfg.address,
                      strchr(cfg.address, ':') ? "]" : "", (guint)cfg.port);
  g_autofree char *body = NULL;
  if (!media && g_str_equal(op, "GetDeviceInformation")) {
    body = g_strdup("<tds:GetDeviceInformationResponse><tds:Manufacturer>vigil</tds:Manufacturer>"
                    "<tds:Model>fakecam</tds:Model><tds:FirmwareVersion>" VIGIL_VERSION
                    "</tds:FirmwareVersion><tds:SerialNumber>0001</tds:SerialNumber>"
                    "<tds:HardwareId>fake</tds:HardwareId></tds:GetDeviceInformationResponse>");
  } else if (!media && g_str_equal(op, "GetCapabilities")) {
    body = g_markup_printf_escaped(
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        "<tt:Device><tt:XAddr>%s/device_service</tt:XAddr></tt:Device>"
        "<tt:Media><tt:XAddr>%s/media_service</tt:XAddr><tt:StreamingCapabilities>"
        "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>",
        base, base);
  } else if (media && g_str_equal(op, "GetProfiles")) {
    g_autofree char *main_xml = profile_xml("main", "Main stream", cfg.width, cfg.height);
    g_autofree char *sub_xml = cfg.sub_uri
                                   ? profile_xml("sub", "Sub stream", cfg.sub_width, cfg.sub_height)
                                   : g_strdup("");
    body = g_strconcat("<trt:GetProfilesResponse>", main_xml, sub_xml, "</trt:GetProfilesResponse>",
                       NULL);
  } else if (media && g_str_equal(op, "GetStreamUri")) {
    g_autofree char *token = element_text(xml, "ProfileToken");
    const char *uri = !token                                     ? NULL
                      : g_str_equal(token, "main")               ? cfg.main_uri
                      : cfg.sub_uri && g_str_equal(token, "sub") ? cfg.sub_uri
                                                                 : NULL;
    if (!uri) {
      fault(msg, "env:Sender", "ter:InvalidArgVal", "No such profile");
      return;
    }
    body = g_markup_printf_escaped(
        "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>%s</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>"
        "</trt:MediaUri></trt:GetStreamUriResponse>",
        uri);
  } else {
    fault(msg, "env:Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented");
    return;
  }
  reply(msg, SOUP_STATUS_OK, body);
}

guint vigil_fake_onvif_start(const VigilFakeOnvif *config, GError **error)
{
  /* Kept for the life of the process. */
  cfg = *config;
  cfg.address = g_strdup(config->address);
  cfg.user = g_strdup(config->user);
  cfg.password = g_strdup(config->password);
  cfg.codec = g_strdup(config->codec);
  cfg.main_uri = g_strdup(config->main_uri);
  cfg.sub_uri = g_strdup(config->sub_uri);
  server = soup_server_new("server-header", "vigil-fakecam", NULL);
  soup_server_add_handler(server, "/onvif", on_request, NULL, NULL);
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(cfg.address);
  if (!inet) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--onvif needs an IP --address");
    return 0;
  }
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(inet, (guint16)cfg.port);
  if (!soup_server_listen(server, addr, 0, error))
    return 0;
  GSList *uris = soup_server_get_uris(server);
  guint port = uris ? g_uri_get_port(uris->data) : 0;
  g_slist_free_full(uris, (GDestroyNotify)g_uri_unref);
  cfg.port = (int)port;
  return port;
}
