/* onvif/soap.c: the WS-Security digest (the ONVIF Application Programmer's
 * Guide's vector), device URLs, request building (user data escaped) and the
 * answer parsers, faults included. */
#include <string.h>

#include "core/error.h"
#include "onvif/onvif.h"

#define ENV_START                                                                                  \
  "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" "                               \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                \
  "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "                                          \
  "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\"><e:Body>"
#define ENV_END "</e:Body></e:Envelope>"

static void test_digest(void)
{
  gsize len;
  g_autofree guchar *nonce = g_base64_decode("LKqI6G/AikKCQrN0zqZFlg==", &len);
  g_autofree char *digest =
      vigil_onvif_password_digest(nonce, len, "2010-09-16T07:50:45Z", "userpassword");
  g_assert_cmpstr(digest, ==, "tuOSpGlFlIXsozq4HFNeeGeFLEI=");
}

static void test_device_url(void)
{
  struct {
    const char *in, *out;
  } cases[] = {
      {"192.168.1.10", "http://192.168.1.10/onvif/device_service"},
      {"cam.local:8080", "http://cam.local:8080/onvif/device_service"},
      {"[::1]:80", "http://[::1]:80/onvif/device_service"},
      {"https://cam/onvif/dev", "https://cam/onvif/dev"},
      {"", NULL},
      {"ftp://cam/x", NULL},
      {"rtsp://cam/x", NULL},
      {"http:///x", NULL},
      {"user:pw@cam", NULL},
      {"http://u:p@cam/x", NULL},
      {"cam/other", NULL},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *url = vigil_onvif_device_url(cases[i].in, &error);
    g_assert_cmpstr(url, ==, cases[i].out);
    if (!url)
      g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
  }
}

static void test_build_escapes(void)
{
  g_autofree char *xml =
      vigil_onvif_build_request(VIGIL_ONVIF_GET_STREAM_URI, "a<b&\"c", "us<er", "pw", 180);
  g_assert_nonnull(strstr(xml, "a&lt;b&amp;\"c</trt:ProfileToken>"));
  g_assert_nonnull(strstr(xml, "<wsse:Username>us&lt;er</wsse:Username>"));
  g_assert_nonnull(strstr(xml, "PasswordDigest"));
  g_assert_null(strstr(xml, ">pw<"));
  g_autofree char *plain =
      vigil_onvif_build_request(VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME, NULL, NULL, NULL, 0);
  g_assert_null(strstr(plain, "Security"));
  g_assert_nonnull(strstr(plain, "GetSystemDateAndTime"));
}

static void test_parse_time(void)
{
  const char *xml = ENV_START
      "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime>"
      "<tt:Time><tt:Hour>7</tt:Hour><tt:Minute>50</tt:Minute><tt:Second>45</tt:Second></tt:Time>"
      "<tt:Date><tt:Year>2010</tt:Year><tt:Month>9</tt:Month><tt:Day>16</tt:Day></tt:Date>"
      "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>" ENV_END;
  gint64 t = 0;
  g_assert_true(vigil_onvif_parse_system_time(xml, strlen(xml), &t, NULL, NULL));
  g_assert_cmpint(t, ==, 1284623445);
}

static void test_parse_fault(void)
{
  const char *xml =
      ENV_START "<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value "
                "xmlns:ter=\"http://www.onvif.org/ver10/error\">ter:NotAuthorized</e:Value>"
                "</e:Subcode></e:Code><e:Reason><e:Text>Sender not Authorized</e:Text>"
                "</e:Reason></e:Fault>" ENV_END;
  g_autoptr(VigilOnvifDevice) d = g_new0(VigilOnvifDevice, 1);
  g_autoptr(GError) error = NULL;
  gboolean not_authorized = FALSE;
  g_assert_false(
      vigil_onvif_parse_device_information(xml, strlen(xml), d, &not_authorized, &error));
  g_assert_true(not_authorized);
  g_assert_nonnull(strstr(error->message, "Sender not Authorized"));
  g_clear_error(&error);
  g_assert_false(vigil_onvif_parse_device_information("<html/>", 7, d, &not_authorized, &error));
  g_assert_false(not_authorized);
  g_assert_nonnull(strstr(error->message, "not a SOAP"));
}

static void test_parse_device(void)
{
  const char *info =
      ENV_START "<tds:GetDeviceInformationResponse><tds:Manufacturer> Acme </tds:Manufacturer>"
                "<tds:Model>X1</tds:Model><tds:FirmwareVersion>1.2</tds:FirmwareVersion>"
                "</tds:GetDeviceInformationResponse>" ENV_END;
  const char *caps = ENV_START "<tds:GetCapabilitiesResponse><tds:Capabilities>"
                               "<tt:Media><tt:XAddr>http://cam/onvif/media</tt:XAddr></tt:Media>"
                               "<tt:PTZ><tt:XAddr>file:///etc/passwd</tt:XAddr></tt:PTZ>"
                               "</tds:Capabilities></tds:GetCapabilitiesResponse>" ENV_END;
  const char *profiles = ENV_START
      "<trt:GetProfilesResponse>"
      "<trt:Profiles token=\"p1\"><tt:Name>Main</tt:Name><tt:VideoEncoderConfiguration>"
      "<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width>"
      "<tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>"
      "<trt:Profiles token=\"audio-only\"><tt:Name>A</tt:Name></trt:Profiles>"
      "<trt:Profiles token=\"mjpeg\"><tt:VideoEncoderConfiguration>"
      "<tt:Encoding>JPEG</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width>"
      "<tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>"
      "<trt:Profiles token=\"p2\"><tt:VideoEncoderConfiguration>"
      "<tt:Encoding>H265</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width>"
      "<tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>"
      "</trt:GetProfilesResponse>" ENV_END;
  const char *uri = ENV_START "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>"
                              "rtsp://cam:554/s1?a=1&amp;b=2</tt:Uri></trt:MediaUri>"
                              "</trt:GetStreamUriResponse>" ENV_END;
  g_autoptr(VigilOnvifDevice) d = g_new0(VigilOnvifDevice, 1);
  g_assert_true(vigil_onvif_parse_device_information(info, strlen(info), d, NULL, NULL));
  g_assert_cmpstr(d->manufacturer, ==, "Acme");
  g_assert_cmpstr(d->model, ==, "X1");
  g_assert_cmpstr(d->firmware, ==, "1.2");
  g_assert_true(vigil_onvif_parse_capabilities(caps, strlen(caps), d, NULL, NULL));
  g_assert_cmpstr(d->media_address, ==, "http://cam/onvif/media");
  g_assert_null(d->ptz_address);
  g_assert_true(vigil_onvif_parse_profiles(profiles, strlen(profiles), d, NULL, NULL));
  g_assert_cmpuint(d->profiles->len, ==, 2);
  VigilOnvifProfile *p = g_ptr_array_index(d->profiles, 1);
  g_assert_cmpstr(p->token, ==, "p2");
  g_assert_cmpstr(p->name, ==, "p2");
  g_assert_cmpstr(p->codec, ==, "h265");
  g_assert_cmpint(p->width, ==, 640);
  g_autofree char *u = vigil_onvif_parse_stream_uri(uri, strlen(uri), NULL, NULL);
  g_assert_cmpstr(u, ==, "rtsp://cam:554/s1?a=1&b=2");
  g_autoptr(GError) error = NULL;
  g_assert_false(vigil_onvif_parse_profiles(uri, VIGIL_ONVIF_MAX_ANSWER + 1, d, NULL, &error));
  g_assert_nonnull(strstr(error->message, "over"));
}

#define MEDIA2_ENV_START                                                                           \
  "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" "                               \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                \
  "xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\" "                                          \
  "xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\" "                                           \
  "xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\"><e:Body>"

/* Media2: GetServices finds the ver20 media service (http only) and fills
 * the addresses GetCapabilities left empty, profiles
 * come from tr2:Configurations/tr2:VideoEncoder (H.265 included, tr2:Name or
 * tt:Name), the URI from tr2:Uri; a ver10 answer is not a Media2 one. */
static void test_media2(void)
{
  const char *services = MEDIA2_ENV_START
      "<tds:GetServicesResponse>"
      "<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace>"
      "<tds:XAddr>http://cam/onvif/device_service</tds:XAddr></tds:Service>"
      "<tds:Service><tds:Namespace>http://www.onvif.org/ver20/media/wsdl</tds:Namespace>"
      "<tds:XAddr>ftp://cam/media2</tds:XAddr></tds:Service>"
      "<tds:Service><tds:Namespace>http://www.onvif.org/ver20/media/wsdl</tds:Namespace>"
      "<tds:XAddr>http://cam/onvif/media2_service</tds:XAddr></tds:Service>"
      "<tds:Service><tds:Namespace>http://www.onvif.org/ver20/ptz/wsdl</tds:Namespace>"
      "<tds:XAddr>http://cam/onvif/ptz</tds:XAddr></tds:Service>"
      "<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace>"
      "<tds:XAddr>http://cam/onvif/other_media</tds:XAddr></tds:Service>"
      "</tds:GetServicesResponse>" ENV_END;
  const char *profiles = MEDIA2_ENV_START
      "<tr2:GetProfilesResponse>"
      "<tr2:Profiles token=\"main\" fixed=\"true\"><tr2:Name>Main</tr2:Name><tr2:Configurations>"
      "<tr2:VideoSource token=\"vs\"><tt:SourceToken>vs</tt:SourceToken></tr2:VideoSource>"
      "<tr2:VideoEncoder token=\"e1\" GovLength=\"30\"><tt:Encoding>H265</tt:Encoding>"
      "<tt:Resolution><tt:Width>3840</tt:Width><tt:Height>2160</tt:Height></tt:Resolution>"
      "<tt:Quality>5</tt:Quality></tr2:VideoEncoder></tr2:Configurations></tr2:Profiles>"
      "<tr2:Profiles token=\"jpeg\"><tr2:Name>J</tr2:Name><tr2:Configurations><tr2:VideoEncoder>"
      "<tt:Encoding>JPEG</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width>"
      "<tt:Height>360</tt:Height></tt:Resolution></tr2:VideoEncoder></tr2:Configurations>"
      "</tr2:Profiles>"
      "<tr2:Profiles token=\"no-encoder\"><tr2:Name>N</tr2:Name></tr2:Profiles>"
      "<tr2:Profiles token=\"sub\"><tt:Name>Sub</tt:Name><tr2:Configurations><tr2:VideoEncoder>"
      "<tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width>"
      "<tt:Height>360</tt:Height></tt:Resolution></tr2:VideoEncoder></tr2:Configurations>"
      "</tr2:Profiles>"
      "</tr2:GetProfilesResponse>" ENV_END;
  const char *ver10_profiles = MEDIA2_ENV_START "<trt:GetProfilesResponse/>" ENV_END;
  const char *uri = MEDIA2_ENV_START "<tr2:GetStreamUriResponse><tr2:Uri>rtsp://cam/h265?a=1&amp;b"
                                     "</tr2:Uri></tr2:GetStreamUriResponse>" ENV_END;
  const char *ver10_uri = MEDIA2_ENV_START
      "<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://cam/x</tt:Uri></trt:MediaUri>"
      "</trt:GetStreamUriResponse>" ENV_END;

  g_autoptr(VigilOnvifDevice) d = g_new0(VigilOnvifDevice, 1);
  d->media_address = g_strdup("http://cam/onvif/media"); /* from GetCapabilities: kept */
  g_assert_true(vigil_onvif_parse_services(services, strlen(services), d, NULL, NULL));
  g_assert_cmpstr(d->media2_address, ==, "http://cam/onvif/media2_service");
  g_assert_cmpstr(d->media_address, ==, "http://cam/onvif/media");
  g_assert_cmpstr(d->ptz_address, ==, "http://cam/onvif/ptz"); /* GetCapabilities had none */
  g_assert_null(d->events_address);
  g_assert_true(vigil_onvif_parse_profiles2(profiles, strlen(profiles), d, NULL, NULL));
  g_assert_cmpuint(d->profiles->len, ==, 2);
  const VigilOnvifProfile *main = g_ptr_array_index(d->profiles, 0);
  g_assert_cmpstr(main->token, ==, "main");
  g_assert_cmpstr(main->name, ==, "Main");
  g_assert_cmpstr(main->codec, ==, "h265");
  g_assert_cmpint(main->width, ==, 3840);
  g_assert_cmpint(main->height, ==, 2160);
  const VigilOnvifProfile *sub = g_ptr_array_index(d->profiles, 1);
  g_assert_cmpstr(sub->token, ==, "sub");
  g_assert_cmpstr(sub->name, ==, "Sub");
  g_assert_cmpstr(sub->codec, ==, "h264");
  g_autofree char *u = vigil_onvif_parse_stream_uri2(uri, strlen(uri), NULL, NULL);
  g_assert_cmpstr(u, ==, "rtsp://cam/h265?a=1&b");

  g_autoptr(GError) error = NULL;
  g_assert_false(
      vigil_onvif_parse_profiles2(ver10_profiles, strlen(ver10_profiles), d, NULL, &error));
  g_assert_nonnull(strstr(error->message, "GetProfilesResponse"));
  g_clear_error(&error);
  g_assert_null(vigil_onvif_parse_stream_uri2(ver10_uri, strlen(ver10_uri), NULL, &error));
  g_assert_nonnull(strstr(error->message, "rtsp://"));
  g_clear_error(&error);
  g_assert_false(vigil_onvif_parse_profiles(profiles, strlen(profiles), d, NULL, &error));

  /* The requests: the ver20 namespace, Type All, Protocol RTSP, the token escaped. */
  g_autofree char *get = vigil_onvif_build_request(VIGIL_ONVIF_GET_PROFILES2, NULL, NULL, NULL, 0);
  g_assert_nonnull(strstr(get, "xmlns:tr2=\"http://www.onvif.org/ver20/media/wsdl\""));
  g_assert_nonnull(strstr(get, "<tr2:Type>All</tr2:Type>"));
  g_autofree char *stream =
      vigil_onvif_build_request(VIGIL_ONVIF_GET_STREAM_URI2, "a&b", NULL, NULL, 0);
  g_assert_nonnull(strstr(stream, "<tr2:Protocol>RTSP</tr2:Protocol>"));
  g_assert_nonnull(strstr(stream, "<tr2:ProfileToken>a&amp;b</tr2:ProfileToken>"));
  g_autofree char *svc = vigil_onvif_build_request(VIGIL_ONVIF_GET_SERVICES, NULL, NULL, NULL, 0);
  g_assert_nonnull(strstr(svc, "<tds:IncludeCapability>false</tds:IncludeCapability>"));
  g_assert_cmpstr(vigil_onvif_call_namespace(VIGIL_ONVIF_GET_STREAM_URI2), ==,
                  "http://www.onvif.org/ver20/media/wsdl");
  g_assert_cmpstr(vigil_onvif_call_name(VIGIL_ONVIF_GET_STREAM_URI2), ==, "GetStreamUri");
}

#define PTZ_ENV_START                                                                              \
  "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" "                               \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                \
  "xmlns:tptz=\"http://www.onvif.org/ver20/ptz/wsdl\"><e:Body>"

static void test_ptz_build(void)
{
  VigilPtzCommand move = {.action = VIGIL_PTZ_MOVE, .pan = 0.5, .tilt = -1.5, .zoom = 0};
  g_autofree char *xml = vigil_onvif_build_ptz_request(&move, "pro<f", "admin", "pw", 0);
  g_assert_nonnull(strstr(xml, "<tptz:ContinuousMove"));
  g_assert_nonnull(strstr(xml, "http://www.onvif.org/ver20/ptz/wsdl"));
  g_assert_nonnull(strstr(xml, "<tptz:ProfileToken>pro&lt;f</tptz:ProfileToken>"));
  /* Clamped, locale-independent, and no Zoom element for a zoom of 0. */
  g_assert_nonnull(strstr(xml, "<tt:PanTilt x=\"0.500\" y=\"-1.000\"/>"));
  g_assert_null(strstr(xml, "Zoom"));
  g_assert_nonnull(strstr(xml, "PasswordDigest"));
  g_assert_null(strstr(xml, ">pw<"));

  VigilPtzCommand zoom = {.action = VIGIL_PTZ_MOVE, .zoom = -0.25};
  g_autofree char *zxml = vigil_onvif_build_ptz_request(&zoom, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(zxml, "<tt:Zoom x=\"-0.250\"/>"));
  g_assert_null(strstr(zxml, "PanTilt"));
  g_assert_null(strstr(zxml, "Security"));

  VigilPtzCommand set = {.action = VIGIL_PTZ_SET_PRESET, .name = "door & \"gate\" <1>"};
  g_autofree char *sxml = vigil_onvif_build_ptz_request(&set, "p", NULL, NULL, 0);
  g_assert_nonnull(
      strstr(sxml, "<tptz:PresetName>door &amp; \"gate\" &lt;1&gt;</tptz:PresetName>"));

  VigilPtzCommand go = {.action = VIGIL_PTZ_GOTO_PRESET, .preset = "t</tptz:PresetToken>"};
  g_autofree char *gxml = vigil_onvif_build_ptz_request(&go, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(gxml, "<tptz:GotoPreset"));
  g_assert_nonnull(strstr(gxml, "<tptz:PresetToken>t&lt;/tptz:PresetToken&gt;</tptz:PresetToken>"));

  VigilPtzCommand stop = {.action = VIGIL_PTZ_STOP};
  g_autofree char *stxml = vigil_onvif_build_ptz_request(&stop, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(stxml, "<tptz:PanTilt>true</tptz:PanTilt>"));
  g_assert_nonnull(strstr(stxml, "<tptz:Zoom>true</tptz:Zoom>"));

  VigilPtzCommand home = {.action = VIGIL_PTZ_HOME};
  g_autofree char *hxml = vigil_onvif_build_ptz_request(&home, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(hxml, "<tptz:GotoHomePosition"));

  /* RelativeMove: translations in the generic spaces, clamped, only the
   * axes that move. */
  VigilPtzCommand rel = {.action = VIGIL_PTZ_RELATIVE, .pan = 0.25, .tilt = -2};
  g_autofree char *rxml = vigil_onvif_build_ptz_request(&rel, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(rxml, "<tptz:RelativeMove"));
  g_assert_nonnull(strstr(rxml, "<tptz:Translation><tt:PanTilt x=\"0.250\" y=\"-1.000\" "
                                "space=\"http://www.onvif.org/ver10/tptz/PanTiltSpaces/"
                                "TranslationGenericSpace\"/></tptz:Translation>"));
  g_assert_null(strstr(rxml, "Zoom"));
  VigilPtzCommand rzoom = {.action = VIGIL_PTZ_RELATIVE, .zoom = 0.5};
  g_autofree char *rzxml = vigil_onvif_build_ptz_request(&rzoom, "p", NULL, NULL, 0);
  g_assert_nonnull(strstr(rzxml, "<tt:Zoom x=\"0.500\" space=\"http://www.onvif.org/ver10/tptz/"
                                 "ZoomSpaces/TranslationGenericSpace\"/>"));
  g_assert_null(strstr(rzxml, "PanTilt"));
}

static void test_ptz_relative(void)
{
  const char *ack = PTZ_ENV_START "<tptz:RelativeMoveResponse/>" ENV_END;
  g_assert_true(vigil_onvif_parse_ptz_ack(ack, strlen(ack), VIGIL_PTZ_RELATIVE, NULL, NULL));
  g_autoptr(GError) error = NULL;
  /* A device without relative moves: a conflict, in words. */
  static const char *const subcodes[] = {"ter:ActionNotSupported", "ter:NotSupported"};
  for (gsize i = 0; i < G_N_ELEMENTS(subcodes); i++) {
    g_autofree char *fault = g_strdup_printf(
        ENV_START "<e:Fault><e:Code><e:Value>e:Receiver</e:Value><e:Subcode><e:Value>%s"
                  "</e:Value></e:Subcode></e:Code><e:Reason><e:Text>No</e:Text></e:Reason>"
                  "</e:Fault>" ENV_END,
        subcodes[i]);
    g_assert_false(
        vigil_onvif_parse_ptz_ack(fault, strlen(fault), VIGIL_PTZ_RELATIVE, NULL, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT);
    g_assert_nonnull(strstr(error->message, "the camera cannot move by a relative amount"));
    g_clear_error(&error);
  }
  /* The JSON command. */
  static const char *const good[] = {"{\"action\": \"relative\", \"pan\": 0.3, \"tilt\": -1}",
                                     "{\"action\": \"relative\", \"zoom\": 1}"};
  for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autoptr(JsonNode) json = json_from_string(good[i], NULL);
    VigilPtzCommand c;
    g_assert_true(vigil_ptz_command_from_json(json, &c, NULL));
    g_assert_cmpint(c.action, ==, VIGIL_PTZ_RELATIVE);
  }
  static const char *const bad[] = {
      "{\"action\": \"relative\"}", "{\"action\": \"relative\", \"pan\": 0, \"tilt\": 0}",
      "{\"action\": \"relative\", \"pan\": 1.5}", "{\"action\": \"relative\", \"tilt\": \"1\"}",
      "{\"action\": \"relative\", \"pan\": 0.1, \"preset\": \"1\"}"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(JsonNode) json = json_from_string(bad[i], NULL);
    VigilPtzCommand c;
    g_assert_false(vigil_ptz_command_from_json(json, &c, &error));
    g_assert_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID);
    g_clear_error(&error);
  }
}

static void test_ptz_parse(void)
{
  const char *ack = PTZ_ENV_START "<tptz:ContinuousMoveResponse/>" ENV_END;
  g_assert_true(vigil_onvif_parse_ptz_ack(ack, strlen(ack), VIGIL_PTZ_MOVE, NULL, NULL));
  g_autoptr(GError) error = NULL;
  /* The answer to another call is no answer. */
  g_assert_false(vigil_onvif_parse_ptz_ack(ack, strlen(ack), VIGIL_PTZ_STOP, NULL, &error));
  g_clear_error(&error);
  /* Right name, wrong namespace. */
  const char *foreign = ENV_START "<tds:StopResponse/>" ENV_END;
  g_assert_false(vigil_onvif_parse_ptz_ack(foreign, strlen(foreign), VIGIL_PTZ_STOP, NULL, &error));
  g_clear_error(&error);

  const char *set = PTZ_ENV_START "<tptz:SetPresetResponse><tptz:PresetToken> 7 "
                                  "</tptz:PresetToken></tptz:SetPresetResponse>" ENV_END;
  g_autofree char *token = vigil_onvif_parse_set_preset(set, strlen(set), NULL, NULL);
  g_assert_cmpstr(token, ==, "7");
  const char *set_empty = PTZ_ENV_START "<tptz:SetPresetResponse/>" ENV_END;
  g_assert_null(vigil_onvif_parse_set_preset(set_empty, strlen(set_empty), NULL, &error));
  g_assert_nonnull(strstr(error->message, "preset token"));
  g_clear_error(&error);

  const char *list =
      PTZ_ENV_START "<tptz:GetPresetsResponse>"
                    "<tptz:Preset token=\"1\"><tt:Name>Door</tt:Name></tptz:Preset>"
                    "<tptz:Preset token=\"\"><tt:Name>no token</tt:Name></tptz:Preset>"
                    "<tptz:Preset token=\"2\"/>"
                    "<tt:Preset token=\"3\"><tt:Name>wrong ns</tt:Name></tt:Preset>"
                    "</tptz:GetPresetsResponse>" ENV_END;
  g_autoptr(GPtrArray) presets = vigil_onvif_parse_presets(list, strlen(list), NULL, NULL);
  g_assert_cmpuint(presets->len, ==, 2);
  VigilPtzPreset *p = g_ptr_array_index(presets, 0);
  g_assert_cmpstr(p->token, ==, "1");
  g_assert_cmpstr(p->name, ==, "Door");
  p = g_ptr_array_index(presets, 1);
  g_assert_cmpstr(p->token, ==, "2");
  g_assert_cmpstr(p->name, ==, "2");

  /* PTZ faults come out in words. */
  const char *fault =
      ENV_START "<e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>ter:InvalidArgVal"
                "</e:Value><e:Subcode><e:Value>ter:NoToken</e:Value></e:Subcode></e:Subcode>"
                "</e:Code><e:Reason><e:Text>No such preset</e:Text></e:Reason></e:Fault>" ENV_END;
  gboolean not_authorized = TRUE;
  g_assert_false(vigil_onvif_parse_ptz_ack(fault, strlen(fault), VIGIL_PTZ_GOTO_PRESET,
                                           &not_authorized, &error));
  g_assert_false(not_authorized);
  g_assert_nonnull(strstr(error->message, "the camera has no such preset"));
  g_clear_error(&error);
  g_assert_null(vigil_onvif_parse_presets("<x/>", 4, NULL, &error));
  g_assert_nonnull(strstr(error->message, "not a SOAP"));
}

#define EV_ENV_START                                                                               \
  "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\" "                               \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\" "                                                \
  "xmlns:a=\"http://www.w3.org/2005/08/addressing\" "                                              \
  "xmlns:n=\"http://docs.oasis-open.org/wsn/b-2\" "                                                \
  "xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" "                                          \
  "xmlns:t1=\"http://www.onvif.org/ver10/topics\" xmlns:other=\"urn:vendor\"><e:Body>"

static void test_events_build(void)
{
  /* The subscription address is the device's: escaped, never pasted. */
  const char *to = "http://cam/sub?id=1&x=<b>";
  g_autofree char *pull =
      vigil_onvif_build_events_request(VIGIL_ONVIF_EVENTS_PULL, to, "u<s>", "pw", 0);
  g_assert_nonnull(strstr(pull, "http://cam/sub?id=1&amp;x=&lt;b&gt;</wsa:To>"));
  g_assert_nonnull(strstr(pull, "<wsa:Action>http://www.onvif.org/ver10/events/wsdl/"
                                "PullPointSubscription/PullMessagesRequest</wsa:Action>"));
  g_assert_nonnull(strstr(pull, "<tev:Timeout>PT5S</tev:Timeout>"));
  g_assert_nonnull(strstr(pull, "<tev:MessageLimit>32</tev:MessageLimit>"));
  g_assert_nonnull(strstr(pull, "u&lt;s&gt;"));
  g_assert_null(strstr(pull, ">pw<"));
  g_autofree char *create =
      vigil_onvif_build_events_request(VIGIL_ONVIF_EVENTS_CREATE, "http://cam/ev", NULL, NULL, 0);
  g_assert_nonnull(
      strstr(create, "<tev:InitialTerminationTime>PT60S</tev:InitialTerminationTime>"));
  g_assert_null(strstr(create, "Security"));
  g_autofree char *renew =
      vigil_onvif_build_events_request(VIGIL_ONVIF_EVENTS_RENEW, "http://cam/s", NULL, NULL, 0);
  g_assert_nonnull(strstr(renew, "<wsnt:TerminationTime>PT60S</wsnt:TerminationTime>"));
  g_autofree char *unsub = vigil_onvif_build_events_request(VIGIL_ONVIF_EVENTS_UNSUBSCRIBE,
                                                            "http://cam/s", NULL, NULL, 0);
  g_assert_nonnull(
      strstr(unsub, "<wsnt:Unsubscribe xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\"/>"));
}

static void test_events_parse(void)
{
  const char *created =
      EV_ENV_START "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
                   "<a:Address>http://cam/onvif/sub?id=7</a:Address></tev:SubscriptionReference>"
                   "</tev:CreatePullPointSubscriptionResponse>" ENV_END;
  g_autofree char *address =
      vigil_onvif_parse_create_pull_point(created, strlen(created), NULL, NULL);
  g_assert_cmpstr(address, ==, "http://cam/onvif/sub?id=7");
  const char *bad = EV_ENV_START "<tev:CreatePullPointSubscriptionResponse>"
                                 "<tev:SubscriptionReference><a:Address>file:///x</a:Address>"
                                 "</tev:SubscriptionReference>"
                                 "</tev:CreatePullPointSubscriptionResponse>" ENV_END;
  g_autoptr(GError) error = NULL;
  g_assert_null(vigil_onvif_parse_create_pull_point(bad, strlen(bad), NULL, &error));

#define NOTE(topic, op, data)                                                                      \
  "<n:NotificationMessage><n:Topic>" topic "</n:Topic><n:Message><tt:Message "                     \
  "UtcTime=\"2008-10-10T12:24:57.321Z\"" op "><tt:Source>"                                         \
  "<tt:SimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"1\"/>"                            \
  "<tt:SimpleItem Name=\"Rule\" Value=\"R1\"/></tt:Source><tt:Data>" data                          \
  "</tt:Data></tt:Message></n:Message></n:NotificationMessage>"
  const char *pulled = EV_ENV_START
      "<tev:PullMessagesResponse>" NOTE("t1:RuleEngine/CellMotionDetector/Motion",
                                        " PropertyOperation=\"Initialized\"",
                                        "<tt:SimpleItem Name=\"IsMotion\" Value=\"true\"/>")
          NOTE("t1:VideoSource/MotionAlarm", " PropertyOperation=\"Changed\"",
               "<tt:SimpleItem Name=\"State\" Value=\"false\"/>")
              NOTE("t1:RuleEngine/LineDetector/Crossed", "",
                   "<tt:SimpleItem Name=\"ObjectId\" Value=\"3\"/>")
                  NOTE("other:RuleEngine/CellMotionDetector/Motion", "",
                       "<tt:SimpleItem Name=\"IsMotion\" Value=\"true\"/>")
                      NOTE("t1:RuleEngine/MyRuleDetector/PeopleDetect", "",
                           "<tt:SimpleItem Name=\"IsPeople\" Value=\"true\"/>")
                          NOTE("t1:RuleEngine/FieldDetector/ObjectsInside", "",
                               "<tt:SimpleItem Name=\"IsInside\" Value=\"1\"/>") "</"
                                                                                 "tev:"
                                                                                 "PullMessagesRespo"
                                                                                 "nse>" ENV_END;
  g_autoptr(GPtrArray) notes = vigil_onvif_parse_pull_messages(pulled, strlen(pulled), NULL, NULL);
  g_assert_nonnull(notes);
  g_assert_cmpuint(notes->len, ==, 6);
  VigilOnvifNotification *n = g_ptr_array_index(notes, 0);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_MOTION);
  g_assert_cmpstr(n->operation, ==, "Initialized");
  g_assert_true(n->has_state && n->state);
  g_assert_cmpstr(n->rule, ==, "R1");
  g_assert_cmpint(n->utc_us, ==, G_GINT64_CONSTANT(1223641497321000));
  n = g_ptr_array_index(notes, 1);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_MOTION);
  g_assert_true(n->has_state && !n->state);
  n = g_ptr_array_index(notes, 2);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_LINE);
  g_assert_false(n->has_state);
  /* The prefix is resolved: another namespace's "Motion" is not ONVIF's. */
  n = g_ptr_array_index(notes, 3);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_OTHER);
  n = g_ptr_array_index(notes, 4);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_PERSON);
  g_assert_true(n->has_state && n->state);
  n = g_ptr_array_index(notes, 5);
  g_assert_cmpint(n->kind, ==, VIGIL_ONVIF_TOPIC_FIELD);
  g_assert_true(n->state);

  const char *renewed = EV_ENV_START "<n:RenewResponse/>" ENV_END;
  g_assert_true(
      vigil_onvif_parse_events_ack(renewed, strlen(renewed), VIGIL_ONVIF_EVENTS_RENEW, NULL, NULL));
  g_clear_error(&error);
  g_assert_false(vigil_onvif_parse_events_ack(renewed, strlen(renewed),
                                              VIGIL_ONVIF_EVENTS_UNSUBSCRIBE, NULL, &error));
  const char *caps = ENV_START "<tds:GetCapabilitiesResponse><tds:Capabilities>"
                               "<tt:Events><tt:XAddr>http://cam/onvif/events</tt:XAddr></tt:Events>"
                               "</tds:Capabilities></tds:GetCapabilitiesResponse>" ENV_END;
  g_autoptr(VigilOnvifDevice) d = g_new0(VigilOnvifDevice, 1);
  g_assert_true(vigil_onvif_parse_capabilities(caps, strlen(caps), d, NULL, NULL));
  g_assert_cmpstr(d->events_address, ==, "http://cam/onvif/events");
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/onvif/digest", test_digest);
  g_test_add_func("/onvif/device-url", test_device_url);
  g_test_add_func("/onvif/build-escapes", test_build_escapes);
  g_test_add_func("/onvif/parse-time", test_parse_time);
  g_test_add_func("/onvif/parse-fault", test_parse_fault);
  g_test_add_func("/onvif/parse-device", test_parse_device);
  g_test_add_func("/onvif/media2", test_media2);
  g_test_add_func("/onvif/ptz-build", test_ptz_build);
  g_test_add_func("/onvif/ptz-parse", test_ptz_parse);
  g_test_add_func("/onvif/ptz-relative", test_ptz_relative);
  g_test_add_func("/onvif/events-build", test_events_build);
  g_test_add_func("/onvif/events-parse", test_events_parse);
  return g_test_run();
}
