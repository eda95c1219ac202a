/* SOAP envelopes for the ONVIF calls vigil makes, and parsers of their
 * answers: libxml2 builds the requests (so user data is always escaped) and
 * reads the answers with a namespace-aware tree walk. Pure functions; the
 * unit tests and fuzz-onvif drive them. */
#define G_LOG_DOMAIN "vigil-onvif"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "core/error.h"
#include "onvif/onvif.h"
#include "onvif/xml.h"

#define NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define NS_WSSE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define NS_WSU  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define NS_TDS  "http://www.onvif.org/ver10/device/wsdl"
#define NS_TRT  "http://www.onvif.org/ver10/media/wsdl"
#define NS_TR2  "http://www.onvif.org/ver20/media/wsdl"
#define NS_TT   "http://www.onvif.org/ver10/schema"
#define NS_TPTZ "http://www.onvif.org/ver20/ptz/wsdl"
#define WSSE_DIGEST                                                                                \
  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#"            \
  "PasswordDigest"
#define WSSE_BASE64                                                                                \
  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#"             \
  "Base64Binary"

static void profile_free(VigilOnvifProfile *p)
{
  g_free(p->token);
  g_free(p->name);
  g_free(p->codec);
  g_free(p->uri);
  g_free(p);
}

void vigil_onvif_device_free(VigilOnvifDevice *device)
{
  if (!device)
    return;
  g_free(device->manufacturer);
  g_free(device->model);
  g_free(device->firmware);
  g_free(device->media_address);
  g_free(device->ptz_address);
  g_free(device->events_address);
  g_free(device->media2_address);
  g_clear_pointer(&device->profiles, g_ptr_array_unref);
  g_free(device);
}

char *vigil_onvif_password_digest(const guint8 *nonce, gsize nonce_len, const char *created,
                                  const char *password)
{
  g_autoptr(GChecksum) sha1 = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(sha1, nonce, nonce_len);
  g_checksum_update(sha1, (const guchar *)created, strlen(created));
  g_checksum_update(sha1, (const guchar *)password, strlen(password));
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  g_checksum_get_digest(sha1, digest, &digest_len);
  return g_base64_encode(digest, digest_len);
}

char *vigil_onvif_device_url(const char *address, GError **error)
{
  if (!address || !*address) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "\"address\" is empty");
    return NULL;
  }
  if (strstr(address, "://")) {
    g_autoptr(GUri) uri = g_uri_parse(address, G_URI_FLAGS_NONE, NULL);
    const char *scheme = uri ? g_uri_get_scheme(uri) : NULL;
    if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) ||
        (g_ascii_strcasecmp(scheme, "http") && g_ascii_strcasecmp(scheme, "https"))) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                          "\"address\" must be an http:// or https:// URL or HOST[:PORT]");
      return NULL;
    }
    if (g_uri_get_userinfo(uri)) {
      g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                          "give the credentials in \"username\" and \"password\", not in the "
                          "address");
      return NULL;
    }
    return g_uri_to_string(uri);
  }
  g_autofree char *url = g_strdup_printf("http://%s/onvif/device_service", address);
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  if (!uri || !g_uri_get_host(uri) || !*g_uri_get_host(uri) || g_uri_get_userinfo(uri) ||
      strcmp(g_uri_get_path(uri), "/onvif/device_service") || g_uri_get_query(uri)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "\"address\" must be an http:// or https:// URL or HOST[:PORT]");
    return NULL;
  }
  return g_uri_to_string(uri);
}

/* A SOAP 1.2 envelope, with a WS-Security UsernameToken header when
 * @username is set; returns the document and its Body in @body. */
static xmlDocPtr new_envelope(const char *username, const char *password, gint64 clock_offset_s,
                              xmlNodePtr *body)
{
  xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
  xmlNodePtr env = xmlNewNode(NULL, BAD_CAST "Envelope");
  xmlNsPtr s = xmlNewNs(env, BAD_CAST NS_SOAP, BAD_CAST "s");
  xmlSetNs(env, s);
  xmlDocSetRootElement(doc, env);
  if (username) {
    xmlNodePtr header = xmlNewChild(env, s, BAD_CAST "Header", NULL);
    xmlNodePtr sec = xmlNewChild(header, NULL, BAD_CAST "Security", NULL);
    xmlNsPtr wsse = xmlNewNs(sec, BAD_CAST NS_WSSE, BAD_CAST "wsse");
    xmlNsPtr wsu = xmlNewNs(sec, BAD_CAST NS_WSU, BAD_CAST "wsu");
    xmlSetNs(sec, wsse);
    xmlNewNsProp(sec, s, BAD_CAST "mustUnderstand", BAD_CAST "1");
    xmlNodePtr token = xmlNewChild(sec, wsse, BAD_CAST "UsernameToken", NULL);
    xmlNewTextChild(token, wsse, BAD_CAST "Username", BAD_CAST username);
    guint8 nonce[16];
    for (gsize i = 0; i < sizeof nonce; i += 4) {
      guint32 r = g_random_int();
      memcpy(nonce + i, &r, 4);
    }
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();
    g_autoptr(GDateTime) device_now = g_date_time_add_seconds(now, (gdouble)clock_offset_s);
    g_autofree char *created = g_date_time_format(device_now, "%Y-%m-%dT%H:%M:%SZ");
    g_autofree char *digest =
        vigil_onvif_password_digest(nonce, sizeof nonce, created, password ? password : "");
    g_autofree char *nonce64 = g_base64_encode(nonce, sizeof nonce);
    xmlNodePtr pw = xmlNewTextChild(token, wsse, BAD_CAST "Password", BAD_CAST digest);
    xmlNewProp(pw, BAD_CAST "Type", BAD_CAST WSSE_DIGEST);
    xmlNodePtr n = xmlNewTextChild(token, wsse, BAD_CAST "Nonce", BAD_CAST nonce64);
    xmlNewProp(n, BAD_CAST "EncodingType", BAD_CAST WSSE_BASE64);
    xmlNewTextChild(token, wsu, BAD_CAST "Created", BAD_CAST created);
  }
  *body = xmlNewChild(env, s, BAD_CAST "Body", NULL);
  return doc;
}

static const struct {
  const char *name, *ns, *prefix;
} calls[] = {
    [VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME] = {"GetSystemDateAndTime", NS_TDS, "tds"},
    [VIGIL_ONVIF_GET_DEVICE_INFORMATION] = {"GetDeviceInformation", NS_TDS, "tds"},
    [VIGIL_ONVIF_GET_CAPABILITIES] = {"GetCapabilities", NS_TDS, "tds"},
    [VIGIL_ONVIF_GET_PROFILES] = {"GetProfiles", NS_TRT, "trt"},
    [VIGIL_ONVIF_GET_STREAM_URI] = {"GetStreamUri", NS_TRT, "trt"},
    [VIGIL_ONVIF_GET_SERVICES] = {"GetServices", NS_TDS, "tds"},
    [VIGIL_ONVIF_GET_PROFILES2] = {"GetProfiles", NS_TR2, "tr2"},
    [VIGIL_ONVIF_GET_STREAM_URI2] = {"GetStreamUri", NS_TR2, "tr2"},
};

const char *vigil_onvif_call_name(VigilOnvifCall call)
{
  g_return_val_if_fail((guint)call < G_N_ELEMENTS(calls), NULL);
  return calls[call].name;
}

const char *vigil_onvif_call_namespace(VigilOnvifCall call)
{
  g_return_val_if_fail((guint)call < G_N_ELEMENTS(calls), NULL);
  return calls[call].ns;
}

char *vigil_onvif_build_request(VigilOnvifCall call, const char *profile_token,
                                const char *username, const char *password, gint64 clock_offset_s)
{
  g_return_val_if_fail((guint)call < G_N_ELEMENTS(calls), NULL);
  xmlNodePtr body;
  xmlDocPtr doc = new_envelope(username, password, clock_offset_s, &body);
  xmlNodePtr op = xmlNewChild(body, NULL, BAD_CAST calls[call].name, NULL);
  xmlNsPtr ns = xmlNewNs(op, BAD_CAST calls[call].ns, BAD_CAST calls[call].prefix);
  xmlSetNs(op, ns);
  const char *token = profile_token ? profile_token : "";
  switch (call) {
  case VIGIL_ONVIF_GET_CAPABILITIES:
    xmlNewTextChild(op, ns, BAD_CAST "Category", BAD_CAST "All");
    break;
  case VIGIL_ONVIF_GET_SERVICES:
    xmlNewTextChild(op, ns, BAD_CAST "IncludeCapability", BAD_CAST "false");
    break;
  case VIGIL_ONVIF_GET_STREAM_URI: {
    xmlNsPtr tt = xmlNewNs(op, BAD_CAST NS_TT, BAD_CAST "tt");
    xmlNodePtr setup = xmlNewChild(op, ns, BAD_CAST "StreamSetup", NULL);
    xmlNewTextChild(setup, tt, BAD_CAST "Stream", BAD_CAST "RTP-Unicast");
    xmlNodePtr transport = xmlNewChild(setup, tt, BAD_CAST "Transport", NULL);
    xmlNewTextChild(transport, tt, BAD_CAST "Protocol", BAD_CAST "RTSP");
    xmlNewTextChild(op, ns, BAD_CAST "ProfileToken", BAD_CAST token);
    break;
  }
  case VIGIL_ONVIF_GET_PROFILES2:
    /* "All" configurations: the video encoder's is the one read. */
    xmlNewTextChild(op, ns, BAD_CAST "Type", BAD_CAST "All");
    break;
  case VIGIL_ONVIF_GET_STREAM_URI2:
    /* tr2:TransportProtocol "RTSP": RTP over RTSP (TCP) (the URI is the
     * same for every transport; vigil's RTSP client picks its own). */
    xmlNewTextChild(op, ns, BAD_CAST "Protocol", BAD_CAST "RTSP");
    xmlNewTextChild(op, ns, BAD_CAST "ProfileToken", BAD_CAST token);
    break;
  default:
    break;
  }
  return vigil_onvif_xml_dump(doc);
}

const char *vigil_onvif_ptz_operation(VigilPtzAction action)
{
  static const char *const names[] = {
      [VIGIL_PTZ_MOVE] = "ContinuousMove",        [VIGIL_PTZ_STOP] = "Stop",
      [VIGIL_PTZ_GOTO_PRESET] = "GotoPreset",     [VIGIL_PTZ_SET_PRESET] = "SetPreset",
      [VIGIL_PTZ_REMOVE_PRESET] = "RemovePreset", [VIGIL_PTZ_GET_PRESETS] = "GetPresets",
      [VIGIL_PTZ_HOME] = "GotoHomePosition",      [VIGIL_PTZ_RELATIVE] = "RelativeMove",
  };
  g_return_val_if_fail((guint)action < G_N_ELEMENTS(names), NULL);
  return names[action];
}

#define PANTILT_TRANSLATION_SPACE                                                                  \
  "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace"
#define ZOOM_TRANSLATION_SPACE "http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace"

/* A speed or translation as xs:float text, whatever the locale. */
static void set_speed(xmlNodePtr node, const char *attr, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(buf, sizeof buf, "%.3f", CLAMP(v, -1.0, 1.0));
  xmlNewProp(node, BAD_CAST attr, BAD_CAST buf);
}

char *vigil_onvif_build_ptz_request(const VigilPtzCommand *cmd, const char *profile_token,
                                    const char *username, const char *password,
                                    gint64 clock_offset_s)
{
  g_return_val_if_fail(cmd != NULL && profile_token != NULL, NULL);
  xmlNodePtr body;
  xmlDocPtr doc = new_envelope(username, password, clock_offset_s, &body);
  xmlNodePtr op = xmlNewChild(body, NULL, BAD_CAST vigil_onvif_ptz_operation(cmd->action), NULL);
  xmlNsPtr ns = xmlNewNs(op, BAD_CAST NS_TPTZ, BAD_CAST "tptz");
  xmlSetNs(op, ns);
  /* xmlNewTextChild escapes: tokens and names are the user's or the device's. */
  xmlNewTextChild(op, ns, BAD_CAST "ProfileToken", BAD_CAST profile_token);
  switch (cmd->action) {
  case VIGIL_PTZ_MOVE: {
    xmlNsPtr tt = xmlNewNs(op, BAD_CAST NS_TT, BAD_CAST "tt");
    xmlNodePtr velocity = xmlNewChild(op, ns, BAD_CAST "Velocity", NULL);
    /* Only the axes that move: cameras without zoom refuse a Zoom speed. */
    if (cmd->pan != 0 || cmd->tilt != 0 || cmd->zoom == 0) {
      xmlNodePtr pt = xmlNewChild(velocity, tt, BAD_CAST "PanTilt", NULL);
      set_speed(pt, "x", cmd->pan);
      set_speed(pt, "y", cmd->tilt);
    }
    if (cmd->zoom != 0)
      set_speed(xmlNewChild(velocity, tt, BAD_CAST "Zoom", NULL), "x", cmd->zoom);
    break;
  }
  case VIGIL_PTZ_RELATIVE: {
    xmlNsPtr tt = xmlNewNs(op, BAD_CAST NS_TT, BAD_CAST "tt");
    xmlNodePtr translation = xmlNewChild(op, ns, BAD_CAST "Translation", NULL);
    /* As for ContinuousMove: only the axes that move. */
    if (cmd->pan != 0 || cmd->tilt != 0 || cmd->zoom == 0) {
      xmlNodePtr pt = xmlNewChild(translation, tt, BAD_CAST "PanTilt", NULL);
      set_speed(pt, "x", cmd->pan);
      set_speed(pt, "y", cmd->tilt);
      xmlNewProp(pt, BAD_CAST "space", BAD_CAST PANTILT_TRANSLATION_SPACE);
    }
    if (cmd->zoom != 0) {
      xmlNodePtr z = xmlNewChild(translation, tt, BAD_CAST "Zoom", NULL);
      set_speed(z, "x", cmd->zoom);
      xmlNewProp(z, BAD_CAST "space", BAD_CAST ZOOM_TRANSLATION_SPACE);
    }
    break;
  }
  case VIGIL_PTZ_STOP:
    xmlNewTextChild(op, ns, BAD_CAST "PanTilt", BAD_CAST "true");
    xmlNewTextChild(op, ns, BAD_CAST "Zoom", BAD_CAST "true");
    break;
  case VIGIL_PTZ_GOTO_PRESET:
  case VIGIL_PTZ_REMOVE_PRESET:
    xmlNewTextChild(op, ns, BAD_CAST "PresetToken", BAD_CAST(cmd->preset ? cmd->preset : ""));
    break;
  case VIGIL_PTZ_SET_PRESET:
    if (cmd->name)
      xmlNewTextChild(op, ns, BAD_CAST "PresetName", BAD_CAST cmd->name);
    break;
  case VIGIL_PTZ_GET_PRESETS:
  case VIGIL_PTZ_HOME:
    break;
  }
  return vigil_onvif_xml_dump(doc);
}

/* ---- answers ---- */

static char *child_text(xmlNodePtr parent, const char *ns, const char *name)
{
  return vigil_onvif_xml_text(vigil_onvif_xml_child(parent, ns, name));
}

static gboolean child_int(xmlNodePtr parent, const char *ns, const char *name, gint64 min,
                          gint64 max, int *out)
{
  g_autofree char *s = child_text(parent, ns, name);
  gint64 v;
  if (!s || !g_ascii_string_to_signed(s, 10, min, max, &v, NULL))
    return FALSE;
  *out = (int)v;
  return TRUE;
}

/* The SOAP Body's first element, or NULL with an error (a fault included). */
static xmlNodePtr open_answer_full(xmlDocPtr *doc, const char *xml, gsize len, const char *response,
                                   gboolean *not_authorized, char **subcode, GError **error)
{
  if (not_authorized)
    *not_authorized = FALSE;
  if (subcode)
    *subcode = NULL;
  *doc = NULL;
  if (len > VIGIL_ONVIF_MAX_ANSWER) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the answer is over %d bytes",
                VIGIL_ONVIF_MAX_ANSWER);
    return NULL;
  }
  if (len > G_MAXINT || !xml)
    len = 0;
  *doc = len ? xmlReadMemory(xml, (int)len, "answer.xml", NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
             : NULL;
  xmlNodePtr env = *doc ? xmlDocGetRootElement(*doc) : NULL;
  xmlNodePtr body = vigil_onvif_xml_is_element(env, NS_SOAP, "Envelope")
                        ? vigil_onvif_xml_child(env, NS_SOAP, "Body")
                        : NULL;
  if (!body) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer is not a SOAP 1.2 envelope");
    return NULL;
  }
  xmlNodePtr fault = vigil_onvif_xml_child(body, NS_SOAP, "Fault");
  if (fault) {
    xmlNodePtr code = vigil_onvif_xml_child(fault, NS_SOAP, "Code");
    g_autofree char *value = child_text(code, NS_SOAP, "Value");
    gboolean auth = FALSE;
    /* Subcodes nest: ter:NotAuthorized may sit at any depth. */
    for (xmlNodePtr sub = vigil_onvif_xml_child(code, NS_SOAP, "Subcode"); sub;
         sub = vigil_onvif_xml_child(sub, NS_SOAP, "Subcode")) {
      g_autofree char *v = child_text(sub, NS_SOAP, "Value");
      const char *local = v ? strrchr(v, ':') : NULL;
      local = local ? local + 1 : v;
      if (local &&
          (g_str_equal(local, "NotAuthorized") || g_str_equal(local, "FailedAuthentication")))
        auth = TRUE;
      if (local && subcode) {
        g_free(*subcode);
        *subcode = g_strdup(local); /* the innermost one wins */
      }
    }
    g_autofree char *reason =
        child_text(vigil_onvif_xml_child(fault, NS_SOAP, "Reason"), NS_SOAP, "Text");
    if (not_authorized)
      *not_authorized = auth;
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                "the device answered a SOAP fault (%s%s%s)", value ? value : "no code",
                reason ? ": " : "", reason ? reason : "");
    return NULL;
  }
  xmlNodePtr answer = NULL;
  for (xmlNodePtr n = body->children; n && !answer; n = n->next)
    if (n->type == XML_ELEMENT_NODE)
      answer = n;
  if (!answer || !xmlStrEqual(answer->name, BAD_CAST response)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the answer holds no %s", response);
    return NULL;
  }
  return answer;
}

static xmlNodePtr open_answer(xmlDocPtr *doc, const char *xml, gsize len, const char *response,
                              gboolean *not_authorized, GError **error)
{
  return open_answer_full(doc, xml, len, response, not_authorized, NULL, error);
}

gboolean vigil_onvif_parse_system_time(const char *xml, gsize len, gint64 *unix_time,
                                       gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetSystemDateAndTimeResponse", not_authorized, error);
  gboolean ok = FALSE;
  xmlNodePtr utc = vigil_onvif_xml_child(vigil_onvif_xml_child(r, NS_TDS, "SystemDateAndTime"),
                                         NS_TT, "UTCDateTime");
  xmlNodePtr date = vigil_onvif_xml_child(utc, NS_TT, "Date"),
             time = vigil_onvif_xml_child(utc, NS_TT, "Time");
  int y, mo, d, h, mi, s;
  if (r && child_int(date, NS_TT, "Year", 1970, 9999, &y) &&
      child_int(date, NS_TT, "Month", 1, 12, &mo) && child_int(date, NS_TT, "Day", 1, 31, &d) &&
      child_int(time, NS_TT, "Hour", 0, 23, &h) && child_int(time, NS_TT, "Minute", 0, 59, &mi) &&
      child_int(time, NS_TT, "Second", 0, 60, &s)) {
    g_autoptr(GDateTime) dt = g_date_time_new_utc(y, mo, d, h, mi, MIN(s, 59));
    if (dt) {
      *unix_time = g_date_time_to_unix(dt);
      ok = TRUE;
    }
  }
  if (r && !ok)
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the device gave no UTC time");
  xmlFreeDoc(doc);
  return ok;
}

gboolean vigil_onvif_parse_device_information(const char *xml, gsize len, VigilOnvifDevice *device,
                                              gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetDeviceInformationResponse", not_authorized, error);
  if (r) {
    g_free(device->manufacturer);
    g_free(device->model);
    g_free(device->firmware);
    device->manufacturer = child_text(r, NS_TDS, "Manufacturer");
    device->model = child_text(r, NS_TDS, "Model");
    device->firmware = child_text(r, NS_TDS, "FirmwareVersion");
  }
  xmlFreeDoc(doc);
  return r != NULL;
}

/* Only http(s) service addresses are followed: @service's XAddr child in
 * namespace @ns. */
static char *service_address(xmlNodePtr service, const char *ns)
{
  g_autofree char *addr = child_text(service, ns, "XAddr");
  if (!addr || (!g_str_has_prefix(addr, "http://") && !g_str_has_prefix(addr, "https://")) ||
      !g_uri_is_valid(addr, G_URI_FLAGS_NONE, NULL))
    return NULL;
  return g_steal_pointer(&addr);
}

gboolean vigil_onvif_parse_capabilities(const char *xml, gsize len, VigilOnvifDevice *device,
                                        gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetCapabilitiesResponse", not_authorized, error);
  if (r) {
    xmlNodePtr caps = vigil_onvif_xml_child(r, NS_TDS, "Capabilities");
    g_free(device->media_address);
    g_free(device->ptz_address);
    g_free(device->events_address);
    device->media_address = service_address(vigil_onvif_xml_child(caps, NS_TT, "Media"), NS_TT);
    device->ptz_address = service_address(vigil_onvif_xml_child(caps, NS_TT, "PTZ"), NS_TT);
    device->events_address = service_address(vigil_onvif_xml_child(caps, NS_TT, "Events"), NS_TT);
  }
  xmlFreeDoc(doc);
  return r != NULL;
}

/* Adds the profile @token named @name to @device when @enc, its video
 * encoder configuration (ver10's VideoEncoderConfiguration or Media2's
 * VideoEncoder, both with tt: children), encodes H.264 or H.265 at a size. */
static void add_profile(VigilOnvifDevice *device, const xmlChar *token, char *name, xmlNodePtr enc)
{
  g_autofree char *owned_name = name;
  xmlNodePtr res = vigil_onvif_xml_child(enc, NS_TT, "Resolution");
  VigilOnvifProfile p = {0};
  g_autofree char *codec = child_text(enc, NS_TT, "Encoding");
  /* vigil ingests H.264 and H.265 only: JPEG and MPEG-4 profiles are left out. */
  gboolean usable =
      codec && (!g_ascii_strcasecmp(codec, "H264") || !g_ascii_strcasecmp(codec, "H265") ||
                !g_ascii_strcasecmp(codec, "HEVC"));
  if (!token || !*token || !g_utf8_validate((const char *)token, -1, NULL) || !usable ||
      !child_int(res, NS_TT, "Width", 1, 65535, &p.width) ||
      !child_int(res, NS_TT, "Height", 1, 65535, &p.height))
    return;
  VigilOnvifProfile *kept = g_new0(VigilOnvifProfile, 1);
  *kept = p;
  kept->token = g_strdup((const char *)token);
  kept->name = owned_name && g_utf8_validate(owned_name, -1, NULL) ? g_steal_pointer(&owned_name)
                                                                   : g_strdup(kept->token);
  kept->codec = g_ascii_strdown(codec, -1);
  if (g_str_equal(kept->codec, "hevc")) {
    g_free(kept->codec);
    kept->codec = g_strdup("h265");
  }
  g_ptr_array_add(device->profiles, kept);
}

/* The profiles of a GetProfilesResponse of the Media (@media2 FALSE) or
 * Media2 service; at most 64 are read. */
static gboolean parse_profiles(const char *xml, gsize len, gboolean media2,
                               VigilOnvifDevice *device, gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetProfilesResponse", not_authorized, error);
  const char *ns = media2 ? NS_TR2 : NS_TRT;
  if (r && (!r->ns || !xmlStrEqual(r->ns->href, BAD_CAST ns))) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer holds no GetProfilesResponse");
    r = NULL;
  }
  if (r) {
    g_clear_pointer(&device->profiles, g_ptr_array_unref);
    device->profiles = g_ptr_array_new_with_free_func((GDestroyNotify)profile_free);
    for (xmlNodePtr n = r->children; n && device->profiles->len < 64; n = n->next) {
      if (!vigil_onvif_xml_is_element(n, ns, "Profiles"))
        continue;
      xmlChar *token = xmlGetProp(n, BAD_CAST "token");
      xmlNodePtr enc;
      char *name;
      if (media2) {
        /* MediaProfile: tr2:Name (tt:Name from some devices), and the
         * configurations in tr2:Configurations. */
        name = child_text(n, NS_TR2, "Name");
        if (!name)
          name = child_text(n, NS_TT, "Name");
        enc = vigil_onvif_xml_child(vigil_onvif_xml_child(n, NS_TR2, "Configurations"), NS_TR2,
                                    "VideoEncoder");
      } else {
        name = child_text(n, NS_TT, "Name");
        enc = vigil_onvif_xml_child(n, NS_TT, "VideoEncoderConfiguration");
      }
      add_profile(device, token, name, enc);
      xmlFree(token);
    }
  }
  xmlFreeDoc(doc);
  return r != NULL;
}

gboolean vigil_onvif_parse_profiles(const char *xml, gsize len, VigilOnvifDevice *device,
                                    gboolean *not_authorized, GError **error)
{
  return parse_profiles(xml, len, FALSE, device, not_authorized, error);
}

gboolean vigil_onvif_parse_profiles2(const char *xml, gsize len, VigilOnvifDevice *device,
                                     gboolean *not_authorized, GError **error)
{
  return parse_profiles(xml, len, TRUE, device, not_authorized, error);
}

/* @uri when it is a valid rtsp:// or rtsps:// URI, else NULL and an error. */
static char *rtsp_uri_or_error(char *uri, GError **error)
{
  if (!uri || (!g_str_has_prefix(uri, "rtsp://") && !g_str_has_prefix(uri, "rtsps://")) ||
      !g_uri_is_valid(uri, G_URI_FLAGS_NONE, NULL)) {
    g_free(uri);
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the device gave no rtsp:// stream URI");
    return NULL;
  }
  return uri;
}

char *vigil_onvif_parse_stream_uri(const char *xml, gsize len, gboolean *not_authorized,
                                   GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetStreamUriResponse", not_authorized, error);
  char *uri = r ? child_text(vigil_onvif_xml_child(r, NS_TRT, "MediaUri"), NS_TT, "Uri") : NULL;
  xmlFreeDoc(doc);
  return r ? rtsp_uri_or_error(uri, error) : NULL;
}

char *vigil_onvif_parse_stream_uri2(const char *xml, gsize len, gboolean *not_authorized,
                                    GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetStreamUriResponse", not_authorized, error);
  char *uri = r ? child_text(r, NS_TR2, "Uri") : NULL;
  xmlFreeDoc(doc);
  return r ? rtsp_uri_or_error(uri, error) : NULL;
}

gboolean vigil_onvif_parse_services(const char *xml, gsize len, VigilOnvifDevice *device,
                                    gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "GetServicesResponse", not_authorized, error);
  if (r) {
    g_clear_pointer(&device->media2_address, g_free);
    /* The Media2 address; and the Media, PTZ and events ones that
     * GetCapabilities left out (some Profile T devices list them here only). */
    static const struct {
      const char *ns;
      gsize offset;
    } wanted[] = {
        {NS_TR2, G_STRUCT_OFFSET(VigilOnvifDevice, media2_address)},
        {NS_TRT, G_STRUCT_OFFSET(VigilOnvifDevice, media_address)},
        {NS_TPTZ, G_STRUCT_OFFSET(VigilOnvifDevice, ptz_address)},
        {"http://www.onvif.org/ver10/events/wsdl",
         G_STRUCT_OFFSET(VigilOnvifDevice, events_address)},
    };
    for (xmlNodePtr n = r->children; n; n = n->next) {
      if (!vigil_onvif_xml_is_element(n, NS_TDS, "Service"))
        continue;
      g_autofree char *ns = child_text(n, NS_TDS, "Namespace");
      for (gsize i = 0; ns && i < G_N_ELEMENTS(wanted); i++) {
        char **slot = G_STRUCT_MEMBER_P(device, wanted[i].offset);
        if (!*slot && g_str_equal(ns, wanted[i].ns))
          *slot = service_address(n, NS_TDS);
      }
    }
  }
  xmlFreeDoc(doc);
  return r != NULL;
}

/* ---- PTZ answers ---- */

/* Words for the PTZ faults of the ONVIF PTZ specification (section 5.x's
 * "Faults" tables), by subcode. */
static const char *ptz_fault_words(const char *subcode)
{
  static const struct {
    const char *subcode, *words;
  } table[] = {
      {"NoToken", "the camera has no such preset"},
      {"NoProfile", "the camera has no such media profile"},
      {"NoPTZProfile", "the media profile has no PTZ configuration"},
      {"NoPTZConfiguration", "the media profile has no PTZ configuration"},
      {"TooManyPresets", "the camera cannot hold more presets"},
      {"PresetExist", "a preset with that name exists already"},
      {"InvalidPresetName", "the camera refused the preset name"},
      {"InvalidVelocity", "the camera refused the speed"},
      {"InvalidSpeed", "the camera refused the speed"},
      {"NoHomePosition", "the camera has no home position"},
      {"CannotOverwriteHome", "the camera's home position cannot be overwritten"},
      {"MovingPTZ", "the camera is moving: stop it first"},
      {"ActionNotSupported", "the camera does not support this PTZ action"},
  };
  for (gsize i = 0; subcode && i < G_N_ELEMENTS(table); i++)
    if (g_str_equal(subcode, table[i].subcode))
      return table[i].words;
  return NULL;
}

static xmlNodePtr open_ptz_answer(xmlDocPtr *doc, const char *xml, gsize len, VigilPtzAction action,
                                  gboolean *not_authorized, GError **error)
{
  g_autofree char *response = g_strconcat(vigil_onvif_ptz_operation(action), "Response", NULL);
  g_autofree char *subcode = NULL;
  g_autoptr(GError) local = NULL;
  xmlNodePtr r = open_answer_full(doc, xml, len, response, not_authorized, &subcode, &local);
  if (r && (!r->ns || !xmlStrEqual(r->ns->href, BAD_CAST NS_TPTZ))) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the answer holds no %s", response);
    return NULL;
  }
  if (!r) {
    const char *words = ptz_fault_words(subcode);
    if (action == VIGIL_PTZ_RELATIVE && subcode &&
        (g_str_equal(subcode, "ActionNotSupported") || g_str_equal(subcode, "NotSupported")))
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT,
                  "the camera cannot move by a relative amount (%s)", local->message);
    else if (words)
      g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "%s (%s)", words, local->message);
    else
      g_propagate_error(error, g_steal_pointer(&local));
  }
  return r;
}

gboolean vigil_onvif_parse_ptz_ack(const char *xml, gsize len, VigilPtzAction action,
                                   gboolean *not_authorized, GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_ptz_answer(&doc, xml, len, action, not_authorized, error);
  xmlFreeDoc(doc);
  return r != NULL;
}

char *vigil_onvif_parse_set_preset(const char *xml, gsize len, gboolean *not_authorized,
                                   GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_ptz_answer(&doc, xml, len, VIGIL_PTZ_SET_PRESET, not_authorized, error);
  g_autofree char *token = r ? child_text(r, NS_TPTZ, "PresetToken") : NULL;
  xmlFreeDoc(doc);
  if (r && (!token || strlen(token) > VIGIL_ONVIF_MAX_TOKEN)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the device gave no usable preset token");
    return NULL;
  }
  return g_steal_pointer(&token);
}

void vigil_ptz_preset_free(VigilPtzPreset *preset)
{
  if (!preset)
    return;
  g_free(preset->token);
  g_free(preset->name);
  g_free(preset);
}

GPtrArray *vigil_onvif_parse_presets(const char *xml, gsize len, gboolean *not_authorized,
                                     GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_ptz_answer(&doc, xml, len, VIGIL_PTZ_GET_PRESETS, not_authorized, error);
  GPtrArray *presets = NULL;
  if (r) {
    presets = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_ptz_preset_free);
    for (xmlNodePtr n = r->children; n && presets->len < VIGIL_ONVIF_MAX_PRESETS; n = n->next) {
      if (!vigil_onvif_xml_is_element(n, NS_TPTZ, "Preset"))
        continue;
      xmlChar *token = xmlGetProp(n, BAD_CAST "token");
      if (token && *token && xmlStrlen(token) <= VIGIL_ONVIF_MAX_TOKEN &&
          g_utf8_validate((const char *)token, -1, NULL)) {
        VigilPtzPreset *p = g_new0(VigilPtzPreset, 1);
        p->token = g_strdup((const char *)token);
        p->name = child_text(n, NS_TT, "Name");
        if (!p->name)
          p->name = g_strdup(p->token);
        g_ptr_array_add(presets, p);
      }
      xmlFree(token);
    }
  }
  xmlFreeDoc(doc);
  return presets;
}

/* ---- Events (PullPoint) ---- */

#define NS_TEV  "http://www.onvif.org/ver10/events/wsdl"
#define NS_WSNT "http://docs.oasis-open.org/wsn/b-2"
#define NS_WSA  "http://www.w3.org/2005/08/addressing"
#define NS_TNS1 "http://www.onvif.org/ver10/topics"

const char *vigil_onvif_events_action(VigilOnvifEventsCall call)
{
  static const char *const actions[] = {
      [VIGIL_ONVIF_EVENTS_CREATE] =
          "http://www.onvif.org/ver10/events/wsdl/EventPortType/CreatePullPointSubscriptionRequest",
      [VIGIL_ONVIF_EVENTS_PULL] =
          "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest",
      [VIGIL_ONVIF_EVENTS_RENEW] = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/"
                                   "RenewRequest",
      [VIGIL_ONVIF_EVENTS_UNSUBSCRIBE] = "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/"
                                         "UnsubscribeRequest",
  };
  g_return_val_if_fail((guint)call < G_N_ELEMENTS(actions), NULL);
  return actions[call];
}

/* The Body's operation element @name in namespace @href (declared on it as
 * @prefix); the namespace in *@ns when asked for. */
static xmlNodePtr new_operation(xmlNodePtr body, const char *name, const char *href,
                                const char *prefix, xmlNsPtr *ns)
{
  xmlNodePtr op = xmlNewChild(body, NULL, BAD_CAST name, NULL);
  xmlNsPtr op_ns = xmlNewNs(op, BAD_CAST href, BAD_CAST prefix);
  xmlSetNs(op, op_ns);
  if (ns)
    *ns = op_ns;
  return op;
}

char *vigil_onvif_build_events_request(VigilOnvifEventsCall call, const char *to,
                                       const char *username, const char *password,
                                       gint64 clock_offset_s)
{
  g_return_val_if_fail(to != NULL, NULL);
  xmlNodePtr body;
  xmlDocPtr doc = new_envelope(username, password, clock_offset_s, &body);
  xmlNodePtr env = xmlDocGetRootElement(doc);
  xmlNodePtr header = vigil_onvif_xml_child(env, NS_SOAP, "Header");
  if (!header) {
    header = xmlNewDocNode(doc, env->ns, BAD_CAST "Header", NULL);
    xmlAddPrevSibling(body, header);
  }
  /* WS-Addressing: subscription managers are often one endpoint for all
   * subscriptions and tell them apart by To. */
  xmlNsPtr wsa = xmlNewNs(env, BAD_CAST NS_WSA, BAD_CAST "wsa");
  xmlNewTextChild(header, wsa, BAD_CAST "Action", BAD_CAST vigil_onvif_events_action(call));
  g_autofree char *id = vigil_onvif_new_message_id();
  xmlNewTextChild(header, wsa, BAD_CAST "MessageID", BAD_CAST id);
  xmlNodePtr reply_to = xmlNewChild(header, wsa, BAD_CAST "ReplyTo", NULL);
  xmlNewTextChild(reply_to, wsa, BAD_CAST "Address",
                  BAD_CAST "http://www.w3.org/2005/08/addressing/anonymous");
  xmlNodePtr to_node = xmlNewTextChild(header, wsa, BAD_CAST "To", BAD_CAST to);
  xmlNewNsProp(to_node, env->ns, BAD_CAST "mustUnderstand", BAD_CAST "1");

  g_autofree char *termination = g_strdup_printf("PT%dS", VIGIL_ONVIF_EVENTS_TERMINATION_S);
  switch (call) {
  case VIGIL_ONVIF_EVENTS_CREATE: {
    xmlNsPtr tev;
    xmlNodePtr op = new_operation(body, "CreatePullPointSubscription", NS_TEV, "tev", &tev);
    xmlNewTextChild(op, tev, BAD_CAST "InitialTerminationTime", BAD_CAST termination);
    break;
  }
  case VIGIL_ONVIF_EVENTS_PULL: {
    xmlNsPtr tev;
    xmlNodePtr op = new_operation(body, "PullMessages", NS_TEV, "tev", &tev);
    g_autofree char *timeout = g_strdup_printf("PT%dS", VIGIL_ONVIF_EVENTS_PULL_S);
    g_autofree char *limit = g_strdup_printf("%d", VIGIL_ONVIF_EVENTS_LIMIT);
    xmlNewTextChild(op, tev, BAD_CAST "Timeout", BAD_CAST timeout);
    xmlNewTextChild(op, tev, BAD_CAST "MessageLimit", BAD_CAST limit);
    break;
  }
  case VIGIL_ONVIF_EVENTS_RENEW: {
    xmlNsPtr wsnt;
    xmlNodePtr op = new_operation(body, "Renew", NS_WSNT, "wsnt", &wsnt);
    xmlNewTextChild(op, wsnt, BAD_CAST "TerminationTime", BAD_CAST termination);
    break;
  }
  case VIGIL_ONVIF_EVENTS_UNSUBSCRIBE: {
    new_operation(body, "Unsubscribe", NS_WSNT, "wsnt", NULL);
    break;
  }
  }
  return vigil_onvif_xml_dump(doc);
}

char *vigil_onvif_parse_create_pull_point(const char *xml, gsize len, gboolean *not_authorized,
                                          GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r =
      open_answer(&doc, xml, len, "CreatePullPointSubscriptionResponse", not_authorized, error);
  char *address = NULL;
  if (r && r->ns && xmlStrEqual(r->ns->href, BAD_CAST NS_TEV)) {
    xmlNodePtr ref = vigil_onvif_xml_child(r, NS_TEV, "SubscriptionReference");
    g_autofree char *a = child_text(ref, NS_WSA, "Address");
    if (a && (g_str_has_prefix(a, "http://") || g_str_has_prefix(a, "https://")) &&
        strlen(a) <= 2048 && g_uri_is_valid(a, G_URI_FLAGS_NONE, NULL))
      address = g_steal_pointer(&a);
  }
  if (r && !address)
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the device gave no http(s) subscription address");
  xmlFreeDoc(doc);
  return address;
}

gboolean vigil_onvif_parse_events_ack(const char *xml, gsize len, VigilOnvifEventsCall call,
                                      gboolean *not_authorized, GError **error)
{
  const char *name = call == VIGIL_ONVIF_EVENTS_RENEW ? "RenewResponse" : "UnsubscribeResponse";
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, name, not_authorized, error);
  gboolean ok = r != NULL;
  if (r && (!r->ns || !xmlStrEqual(r->ns->href, BAD_CAST NS_WSNT))) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "the answer holds no %s", name);
    ok = FALSE;
  }
  xmlFreeDoc(doc);
  return ok;
}

void vigil_onvif_notification_free(VigilOnvifNotification *n)
{
  if (!n)
    return;
  g_free(n->topic);
  g_free(n->operation);
  g_free(n->rule);
  g_free(n);
}

/* Whether @s holds @word, ASCII case aside. */
static gboolean has_word(const char *s, const char *word)
{
  g_autofree char *low = g_ascii_strdown(s, -1);
  return strstr(low, word) != NULL;
}

VigilOnvifTopicKind vigil_onvif_topic_kind(const char *topic, const char *ns_href)
{
  if (!topic)
    return VIGIL_ONVIF_TOPIC_OTHER;
  const char *colon = strchr(topic, ':');
  const char *path = colon ? colon + 1 : topic;
  gboolean onvif = !ns_href || g_str_equal(ns_href, NS_TNS1);
  if (onvif && (g_str_equal(path, "RuleEngine/CellMotionDetector/Motion") ||
                g_str_equal(path, "VideoSource/MotionAlarm")))
    return VIGIL_ONVIF_TOPIC_MOTION;
  if (onvif && g_str_equal(path, "RuleEngine/LineDetector/Crossed"))
    return VIGIL_ONVIF_TOPIC_LINE;
  if (onvif && g_str_equal(path, "RuleEngine/FieldDetector/ObjectsInside"))
    return VIGIL_ONVIF_TOPIC_FIELD;
  /* People and vehicle detection have no standard topic: vendors name them
   * (RuleEngine/PeopleDetector/People, .../MyRuleDetector/PeopleDetect,
   * ObjectDetection/Human, .../VehicleDetect, ...). */
  if (has_word(path, "people") || has_word(path, "person") || has_word(path, "human"))
    return VIGIL_ONVIF_TOPIC_PERSON;
  if (has_word(path, "vehicle"))
    return VIGIL_ONVIF_TOPIC_VEHICLE;
  return VIGIL_ONVIF_TOPIC_OTHER;
}

/* The value attribute of a SimpleItem, when UTF-8 and short. */
static char *item_value(xmlNodePtr item, char **name)
{
  xmlChar *n = xmlGetProp(item, BAD_CAST "Name");
  xmlChar *v = xmlGetProp(item, BAD_CAST "Value");
  char *value = NULL;
  if (n && v && xmlStrlen(n) <= 256 && xmlStrlen(v) <= 256 &&
      g_utf8_validate((const char *)n, -1, NULL) && g_utf8_validate((const char *)v, -1, NULL)) {
    value = g_strdup((const char *)v);
    *name = g_strdup((const char *)n);
  }
  xmlFree(n);
  xmlFree(v);
  return value;
}

static VigilOnvifNotification *parse_notification(xmlNodePtr nm)
{
  xmlNodePtr topic = vigil_onvif_xml_child(nm, NS_WSNT, "Topic");
  g_autofree char *topic_text = vigil_onvif_xml_text(topic);
  xmlNodePtr msg =
      vigil_onvif_xml_child(vigil_onvif_xml_child(nm, NS_WSNT, "Message"), NS_TT, "Message");
  if (!topic_text || strlen(topic_text) > 512 || !msg)
    return NULL;
  VigilOnvifNotification *n = g_new0(VigilOnvifNotification, 1);
  /* The topic's prefix, resolved where it is used. */
  const char *colon = strchr(topic_text, ':');
  const char *href = NULL;
  if (colon) {
    g_autofree char *prefix = g_strndup(topic_text, colon - topic_text);
    xmlNsPtr ns = xmlSearchNs(topic->doc, topic, BAD_CAST prefix);
    href = ns ? (const char *)ns->href : "";
  }
  n->kind = vigil_onvif_topic_kind(topic_text, href);
  n->topic = g_steal_pointer(&topic_text);
  xmlChar *op = xmlGetProp(msg, BAD_CAST "PropertyOperation");
  if (op && xmlStrlen(op) <= 32 && g_utf8_validate((const char *)op, -1, NULL))
    n->operation = g_strdup((const char *)op);
  xmlFree(op);
  xmlChar *utc = xmlGetProp(msg, BAD_CAST "UtcTime");
  if (utc && xmlStrlen(utc) <= 64) {
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601((const char *)utc, NULL);
    if (dt)
      n->utc_us = g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
  }
  xmlFree(utc);
  for (xmlNodePtr it = vigil_onvif_xml_child(msg, NS_TT, "Source")
                           ? vigil_onvif_xml_child(msg, NS_TT, "Source")->children
                           : NULL;
       it; it = it->next) {
    if (!vigil_onvif_xml_is_element(it, NS_TT, "SimpleItem"))
      continue;
    g_autofree char *name = NULL;
    g_autofree char *value = item_value(it, &name);
    if (value && (!n->rule || g_str_equal(name, "Rule"))) {
      g_free(n->rule);
      n->rule = g_steal_pointer(&value);
    }
  }
  for (xmlNodePtr it = vigil_onvif_xml_child(msg, NS_TT, "Data")
                           ? vigil_onvif_xml_child(msg, NS_TT, "Data")->children
                           : NULL;
       it && !n->has_state; it = it->next) {
    if (!vigil_onvif_xml_is_element(it, NS_TT, "SimpleItem"))
      continue;
    g_autofree char *name = NULL;
    g_autofree char *value = item_value(it, &name);
    if (value && (g_str_equal(value, "true") || g_str_equal(value, "1"))) {
      n->has_state = TRUE;
      n->state = TRUE;
    } else if (value && (g_str_equal(value, "false") || g_str_equal(value, "0"))) {
      n->has_state = TRUE;
      n->state = FALSE;
    }
  }
  return n;
}

GPtrArray *vigil_onvif_parse_pull_messages(const char *xml, gsize len, gboolean *not_authorized,
                                           GError **error)
{
  xmlDocPtr doc;
  xmlNodePtr r = open_answer(&doc, xml, len, "PullMessagesResponse", not_authorized, error);
  GPtrArray *out = NULL;
  if (r && (!r->ns || !xmlStrEqual(r->ns->href, BAD_CAST NS_TEV))) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                        "the answer holds no PullMessagesResponse");
  } else if (r) {
    out = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_onvif_notification_free);
    for (xmlNodePtr n = r->children; n && out->len < VIGIL_ONVIF_EVENTS_MAX_MESSAGES; n = n->next) {
      if (!vigil_onvif_xml_is_element(n, NS_WSNT, "NotificationMessage"))
        continue;
      VigilOnvifNotification *note = parse_notification(n);
      if (note)
        g_ptr_array_add(out, note);
    }
  }
  xmlFreeDoc(doc);
  return out;
}
