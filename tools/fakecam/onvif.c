/* A fake ONVIF device service for tests: libsoup serves SOAP 1.2 answers
 * shaped after the ONVIF Core, Media, Media2 and PTZ specification examples (the
 * PTZ service with --ptz, moving ptz.h's state). Requests are
 * read with plain string search (this is a test fixture, not a parser vigil
 * relies on); answers escape everything they carry. */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "onvif.h"
#include "events.h"
#include "ptz.h"

#include <libsoup/soup.h>
#include <math.h>
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
  "xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\" "                                           \
  "xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\" "                                            \
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

/* @text with XML's five predefined entities decoded (what libxml2 escapes). */
static char *unescape(char *text)
{
  static const char *const entities[][2] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}, {"&amp;", "&"}};
  GString *out = g_string_new(NULL);
  for (const char *p = text; *p;) {
    gsize i = 0;
    while (i < G_N_ELEMENTS(entities) && !g_str_has_prefix(p, entities[i][0]))
      i++;
    if (i < G_N_ELEMENTS(entities)) {
      g_string_append(out, entities[i][1]);
      p += strlen(entities[i][0]);
    } else {
      g_string_append_c(out, *p++);
    }
  }
  g_free(text);
  return g_string_free(out, FALSE);
}

/* The text of the first element whose local name is @name, or NULL. */
char *vigil_fake_onvif_element_text(const char *xml, const char *name)
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
    return unescape(g_strstrip(g_strndup(gt + 1, lt - gt - 1)));
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
  g_autofree char *user = vigil_fake_onvif_element_text(xml, "Username");
  g_autofree char *digest = vigil_fake_onvif_element_text(xml, "Password");
  g_autofree char *nonce64 = vigil_fake_onvif_element_text(xml, "Nonce");
  g_autofree char *created = vigil_fake_onvif_element_text(xml, "Created");
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
      "<tt:Quality>5</tt:Quality></tt:VideoEncoderConfiguration>%s</trt:Profiles>",
      token, name, width, height, token, name, cfg.codec, width, height,
      cfg.ptz ? "<tt:PTZConfiguration token=\"ptz\"><tt:Name>ptz</tt:Name>"
                "<tt:UseCount>2</tt:UseCount><tt:NodeToken>ptz_node</tt:NodeToken>"
                "</tt:PTZConfiguration>"
              : "");
}

/* A Media2 MediaProfile (ONVIF Media2 Service Specification, 5.2.1):
 * tr2:Name and the configurations in tr2:Configurations, the encoder's a
 * VideoEncoder2Configuration. */
static char *profile2_xml(const char *token, const char *name, int width, int height)
{
  return g_markup_printf_escaped(
      "<tr2:Profiles token=\"%s\" fixed=\"true\"><tr2:Name>%s</tr2:Name><tr2:Configurations>"
      "<tr2:VideoSource token=\"vsc\"><tt:Name>video</tt:Name><tt:UseCount>2</tt:UseCount>"
      "<tt:SourceToken>vs</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"%d\" "
      "height=\"%d\"/></tr2:VideoSource>"
      "<tr2:VideoEncoder token=\"vec_%s\" Profile=\"Main\"><tt:Name>%s</tt:Name>"
      "<tt:UseCount>1</tt:UseCount><tt:Encoding>%s</tt:Encoding>"
      "<tt:Resolution><tt:Width>%d</tt:Width><tt:Height>%d</tt:Height></tt:Resolution>"
      "<tt:Quality>5</tt:Quality></tr2:VideoEncoder>%s</tr2:Configurations></tr2:Profiles>",
      token, name, width, height, token, name, cfg.codec, width, height,
      cfg.ptz ? "<tr2:PTZ token=\"ptz\"><tt:Name>ptz</tt:Name><tt:UseCount>2</tt:UseCount>"
                "<tt:NodeToken>ptz_node</tt:NodeToken></tr2:PTZ>"
              : "");
}

/* The RTSP URI of profile @token, or NULL. */
static const char *profile_uri(const char *token)
{
  return !token                                     ? NULL
         : g_str_equal(token, "main")               ? cfg.main_uri
         : cfg.sub_uri && g_str_equal(token, "sub") ? cfg.sub_uri
                                                    : NULL;
}

/* The value of attribute @attr of the first element whose local name is
 * @name, as a number; @fallback when absent. */
static double element_attr(const char *xml, const char *name, const char *attr, double fallback)
{
  for (const char *p = strstr(xml, name); p; p = strstr(p + 1, name)) {
    if (p == xml || (p[-1] != '<' && p[-1] != ':') || p[strlen(name)] != ' ')
      continue;
    const char *gt = strchr(p, '>');
    g_autofree char *needle = g_strdup_printf(" %s=\"", attr);
    const char *a = strstr(p, needle);
    if (!gt || !a || a > gt)
      return fallback;
    return g_ascii_strtod(a + strlen(needle), NULL);
  }
  return fallback;
}

static void ptz_fault(SoupServerMessage *msg, VigilFakePtzResult r)
{
  if (r == VIGIL_FAKE_PTZ_NO_TOKEN)
    fault(msg, "env:Sender", "ter:NoToken", "The requested preset token does not exist");
  else if (r == VIGIL_FAKE_PTZ_TOO_MANY)
    fault(msg, "env:Receiver", "ter:TooManyPresets", "Maximum number of presets reached");
  else
    fault(msg, "env:Sender", "ter:PresetExist", "The requested name already exists");
}

/* The PTZ service (ONVIF PTZ Service Specification, 5.3 and 5.4). */
static void ptz_request(SoupServerMessage *msg, const char *op, const char *xml)
{
  g_printerr("vigil-fakecam: onvif ptz: %s\n", op);
  g_autofree char *profile = vigil_fake_onvif_element_text(xml, "ProfileToken");
  if (!profile || (!g_str_equal(profile, "main") && !g_str_equal(profile, "sub"))) {
    fault(msg, "env:Sender", "ter:NoProfile", "The requested profile token does not exist");
    return;
  }
  g_autofree char *body = NULL;
  VigilFakePtzResult r = VIGIL_FAKE_PTZ_OK;
  if (g_str_equal(op, "ContinuousMove")) {
    double pan = element_attr(xml, "PanTilt", "x", 0), tilt = element_attr(xml, "PanTilt", "y", 0);
    double zoom = element_attr(xml, "Zoom", "x", 0);
    if (fabs(pan) > 1 || fabs(tilt) > 1 || fabs(zoom) > 1) {
      fault(msg, "env:Sender", "ter:InvalidVelocity", "The requested speed is out of bounds");
      return;
    }
    vigil_fake_ptz_move(pan, tilt, zoom);
    body = g_strdup("<tptz:ContinuousMoveResponse/>");
  } else if (g_str_equal(op, "RelativeMove") && !cfg.ptz_no_relative) {
    /* Translation in the generic spaces: the only PanTilt and Zoom sent. */
    double pan = element_attr(xml, "PanTilt", "x", 0), tilt = element_attr(xml, "PanTilt", "y", 0);
    double zoom = element_attr(xml, "Zoom", "x", 0);
    if (fabs(pan) > 1 || fabs(tilt) > 1 || fabs(zoom) > 1) {
      fault(msg, "env:Sender", "ter:InvalidTranslation",
            "The requested translation is out of bounds");
      return;
    }
    vigil_fake_ptz_relative(pan, tilt, zoom);
    body = g_strdup("<tptz:RelativeMoveResponse/>");
  } else if (g_str_equal(op, "Stop")) {
    g_autofree char *pt = vigil_fake_onvif_element_text(xml, "PanTilt");
    g_autofree char *zoom = vigil_fake_onvif_element_text(xml, "Zoom");
    vigil_fake_ptz_stop(!pt || g_str_equal(pt, "true"), !zoom || g_str_equal(zoom, "true"));
    body = g_strdup("<tptz:StopResponse/>");
  } else if (g_str_equal(op, "GotoHomePosition")) {
    vigil_fake_ptz_home();
    body = g_strdup("<tptz:GotoHomePositionResponse/>");
  } else if (g_str_equal(op, "GotoPreset") || g_str_equal(op, "RemovePreset")) {
    g_autofree char *token = vigil_fake_onvif_element_text(xml, "PresetToken");
    gboolean go = g_str_equal(op, "GotoPreset");
    r = !token ? VIGIL_FAKE_PTZ_NO_TOKEN
        : go   ? vigil_fake_ptz_goto_preset(token)
               : vigil_fake_ptz_remove_preset(token);
    body = g_strdup_printf("<tptz:%sResponse/>", op);
  } else if (g_str_equal(op, "SetPreset")) {
    g_autofree char *name = vigil_fake_onvif_element_text(xml, "PresetName");
    g_autofree char *token = NULL;
    r = vigil_fake_ptz_set_preset(name && *name ? name : NULL, &token);
    if (r == VIGIL_FAKE_PTZ_OK)
      body =
          g_markup_printf_escaped("<tptz:SetPresetResponse><tptz:PresetToken>%s</tptz:PresetToken>"
                                  "</tptz:SetPresetResponse>",
                                  token);
  } else if (g_str_equal(op, "GetPresets")) {
    g_autoptr(GPtrArray) presets = vigil_fake_ptz_presets();
    GString *out = g_string_new("<tptz:GetPresetsResponse>");
    for (guint i = 0; i < presets->len; i++) {
      const VigilFakePtzPreset *p = g_ptr_array_index(presets, i);
      char pan[G_ASCII_DTOSTR_BUF_SIZE], tilt[G_ASCII_DTOSTR_BUF_SIZE],
          zoom[G_ASCII_DTOSTR_BUF_SIZE];
      g_ascii_formatd(pan, sizeof pan, "%.4f", p->position.pan);
      g_ascii_formatd(tilt, sizeof tilt, "%.4f", p->position.tilt);
      g_ascii_formatd(zoom, sizeof zoom, "%.4f", p->position.zoom);
      g_autofree char *one = g_markup_printf_escaped(
          "<tptz:Preset token=\"%s\"><tt:Name>%s</tt:Name><tt:PTZPosition>"
          "<tt:PanTilt x=\"%s\" y=\"%s\" "
          "space=\"http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace\"/>"
          "<tt:Zoom x=\"%s\" "
          "space=\"http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace\"/>"
          "</tt:PTZPosition></tptz:Preset>",
          p->token, p->name, pan, tilt, zoom);
      g_string_append(out, one);
    }
    g_string_append(out, "</tptz:GetPresetsResponse>");
    body = g_string_free(out, FALSE);
  } else {
    fault(msg, "env:Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented");
    return;
  }
  if (r != VIGIL_FAKE_PTZ_OK) {
    ptz_fault(msg, r);
    return;
  }
  reply(msg, SOUP_STATUS_OK, body);
}

static void on_request(SoupServer *srv_, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user_data)
{
  SoupServer *srv = srv_;
  gboolean media = (cfg.media & 1) && g_str_equal(path, "/onvif/media_service");
  gboolean media2 = (cfg.media & 6) && g_str_equal(path, "/onvif/media2_service");
  gboolean ptz = cfg.ptz && g_str_equal(path, "/onvif/ptz_service");
  gboolean events = cfg.events && (g_str_equal(path, "/onvif/events_service") ||
                                   g_str_equal(path, "/onvif/subscription"));
  gboolean device = g_str_equal(path, "/onvif/device_service");
  if (!media && !media2 && !ptz && !events && !device) {
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
  if (device && g_str_equal(op, "GetSystemDateAndTime")) {
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
  if (ptz) {
    ptz_request(msg, op, xml);
    return;
  }
  if (events) {
    vigil_fake_events_request(srv, msg, path, op, xml, base);
    return;
  }
  g_autofree char *body = NULL;
  if (device && g_str_equal(op, "GetDeviceInformation")) {
    body = g_strdup("<tds:GetDeviceInformationResponse><tds:Manufacturer>vigil</tds:Manufacturer>"
                    "<tds:Model>fakecam</tds:Model><tds:FirmwareVersion>" VIGIL_VERSION
                    "</tds:FirmwareVersion><tds:SerialNumber>0001</tds:SerialNumber>"
                    "<tds:HardwareId>fake</tds:HardwareId></tds:GetDeviceInformationResponse>");
  } else if (device && g_str_equal(op, "GetCapabilities")) {
    g_autofree char *ptz_caps =
        cfg.ptz
            ? g_markup_printf_escaped("<tt:PTZ><tt:XAddr>%s/ptz_service</tt:XAddr></tt:PTZ>", base)
            : g_strdup("");
    /* ONVIF Core's GetCapabilities example: Events between Device and Media. */
    g_autofree char *events_caps =
        cfg.events ? g_markup_printf_escaped(
                         "<tt:Events><tt:XAddr>%s/events_service</tt:XAddr>"
                         "<tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>"
                         "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
                         "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
                         "</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>",
                         base)
                   : g_strdup("");
    g_autofree char *device_caps =
        g_markup_printf_escaped("<tds:GetCapabilitiesResponse><tds:Capabilities>"
                                "<tt:Device><tt:XAddr>%s/device_service</tt:XAddr></tt:Device>",
                                base);
    /* GetCapabilities predates Media2: a Media2-only device lists no Media. */
    g_autofree char *media_caps =
        (cfg.media & 1)
            ? g_markup_printf_escaped(
                  "<tt:Media><tt:XAddr>%s/media_service</tt:XAddr><tt:StreamingCapabilities>"
                  "<tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
                  "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>",
                  base)
            : g_strdup("");
    body = g_strconcat(device_caps, events_caps, media_caps, ptz_caps,
                       "</tds:Capabilities></tds:GetCapabilitiesResponse>", NULL);
  } else if (device && g_str_equal(op, "GetServices")) {
    /* ONVIF Core 8.1.2.1, mandatory since 2.0: clients such as the npm onvif
     * package ask it first and fall back to GetCapabilities only on a fault.
     * IncludeCapability is not honoured (no Capabilities elements). */
    static const struct {
      const char *ns, *path;
      int major, minor;
    } services[] = {
        {"http://www.onvif.org/ver10/device/wsdl", "device_service", 2, 60},
        {"http://www.onvif.org/ver10/media/wsdl", "media_service", 2, 60},
        {"http://www.onvif.org/ver20/media/wsdl", "media2_service", 2, 60},
        {"http://www.onvif.org/ver10/events/wsdl", "events_service", 2, 60},
        {"http://www.onvif.org/ver20/ptz/wsdl", "ptz_service", 2, 60},
    };
    GString *list = g_string_new("<tds:GetServicesResponse>");
    for (guint i = 0; i < G_N_ELEMENTS(services); i++) {
      if ((g_str_has_suffix(services[i].ns, "/events/wsdl") && !cfg.events) ||
          (g_str_has_suffix(services[i].ns, "/ptz/wsdl") && !cfg.ptz) ||
          (g_str_has_suffix(services[i].ns, "ver10/media/wsdl") && !(cfg.media & 1)) ||
          (g_str_has_suffix(services[i].ns, "ver20/media/wsdl") && !(cfg.media & 6)))
        continue;
      g_autofree char *one = g_markup_printf_escaped(
          "<tds:Service><tds:Namespace>%s</tds:Namespace><tds:XAddr>%s/%s</tds:XAddr>"
          "<tds:Version><tt:Major>%d</tt:Major><tt:Minor>%d</tt:Minor></tds:Version>"
          "</tds:Service>",
          services[i].ns, base, services[i].path, services[i].major, services[i].minor);
      g_string_append(list, one);
    }
    g_string_append(list, "</tds:GetServicesResponse>");
    body = g_string_free(list, FALSE);
  } else if (media && g_str_equal(op, "GetProfiles")) {
    g_autofree char *main_xml = profile_xml("main", "Main stream", cfg.width, cfg.height);
    g_autofree char *sub_xml = cfg.sub_uri
                                   ? profile_xml("sub", "Sub stream", cfg.sub_width, cfg.sub_height)
                                   : g_strdup("");
    body = g_strconcat("<trt:GetProfilesResponse>", main_xml, sub_xml, "</trt:GetProfilesResponse>",
                       NULL);
  } else if (media && g_str_equal(op, "GetVideoSources")) {
    /* Mandatory in Profile S; the one source "vs" the profiles' video
     * source configuration names (ONVIF Media Service Specification, 5.3.1).
     * Clients such as the npm onvif package match profiles to it. */
    body = g_markup_printf_escaped(
        "<trt:GetVideoSourcesResponse><trt:VideoSources token=\"vs\">"
        "<tt:Framerate>%d</tt:Framerate><tt:Resolution><tt:Width>%d</tt:Width>"
        "<tt:Height>%d</tt:Height></tt:Resolution></trt:VideoSources>"
        "</trt:GetVideoSourcesResponse>",
        cfg.fps, cfg.width, cfg.height);
  } else if (media && g_str_equal(op, "GetStreamUri")) {
    g_autofree char *token = vigil_fake_onvif_element_text(xml, "ProfileToken");
    const char *uri = profile_uri(token);
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
  } else if (media2 && (cfg.media & 4)) {
    /* A Media2 listed but not working, as on some devices. */
    fault(msg, "env:Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented");
    return;
  } else if (media2 && g_str_equal(op, "GetProfiles")) {
    /* Media2 GetProfiles: the Type filter is not honoured (every profile
     * comes with its video source, encoder and PTZ configurations). */
    g_autofree char *main_xml = profile2_xml("main", "Main stream", cfg.width, cfg.height);
    g_autofree char *sub_xml =
        cfg.sub_uri ? profile2_xml("sub", "Sub stream", cfg.sub_width, cfg.sub_height)
                    : g_strdup("");
    body = g_strconcat("<tr2:GetProfilesResponse>", main_xml, sub_xml, "</tr2:GetProfilesResponse>",
                       NULL);
  } else if (media2 && g_str_equal(op, "GetStreamUri")) {
    g_autofree char *protocol = vigil_fake_onvif_element_text(xml, "Protocol");
    g_autofree char *token = vigil_fake_onvif_element_text(xml, "ProfileToken");
    const char *uri = profile_uri(token);
    /* tr2:TransportProtocol: RtspUnicast, RtspMulticast, RTSP, RtspOverHttp. */
    if (!protocol || (!g_str_equal(protocol, "RTSP") && !g_str_equal(protocol, "RtspUnicast"))) {
      fault(msg, "env:Sender", "ter:InvalidArgVal", "Unsupported transport protocol");
      return;
    }
    if (!uri) {
      fault(msg, "env:Sender", "ter:InvalidArgVal", "No such profile");
      return;
    }
    body = g_markup_printf_escaped(
        "<tr2:GetStreamUriResponse><tr2:Uri>%s</tr2:Uri></tr2:GetStreamUriResponse>", uri);
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
  if (cfg.events)
    vigil_fake_events_init(cfg.motion_on_s, cfg.motion_off_s);
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
