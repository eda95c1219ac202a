/* libFuzzer target: what an ONVIF device answers (onvif/soap.c) and what
 * comes back to a WS-Discovery Probe (onvif/discovery.c). Input: one byte
 * choosing the parser (GetSystemDateAndTime, GetDeviceInformation,
 * GetCapabilities, GetProfiles, GetStreamUri, ProbeMatches, and the PTZ
 * answers: an acknowledgement (Stop), SetPreset, GetPresets; then the events
 * answers: CreatePullPointSubscription, PullMessages, Renew; then
 * GetServices and Media2's GetProfiles and GetStreamUri), then the answer. Invariants: no crash, overread or leak (ASan); a parser fails with
 * an error and succeeds without; strings kept are UTF-8; service and device
 * addresses are http(s), stream URIs rtsp(s); profiles have a token, a codec
 * and a size in range; discovered devices have an endpoint; preset tokens
 * are bounded. */
#include <stdint.h>
#include <string.h>

#include "onvif/onvif.h"

static void check_utf8(const char *s)
{
  if (s && !g_utf8_validate(s, -1, NULL))
    __builtin_trap();
}

static void check_result(gboolean ok, GError *error)
{
  if (ok == (error != NULL))
    __builtin_trap();
}

/* Service addresses kept are http(s). */
static void check_addresses(const VigilOnvifDevice *d)
{
  const char *const addresses[] = {d->media_address, d->ptz_address, d->events_address,
                                   d->media2_address};
  for (gsize i = 0; i < G_N_ELEMENTS(addresses); i++)
    if (addresses[i] && !g_str_has_prefix(addresses[i], "http"))
      __builtin_trap();
}

/* A stream URI parser's result: an error or an rtsp(s) URI. */
static void check_stream_uri(const char *uri, GError *error)
{
  check_result(uri != NULL, error);
  if (uri && !g_str_has_prefix(uri, "rtsp://") && !g_str_has_prefix(uri, "rtsps://"))
    __builtin_trap();
}

static void check_profiles(const VigilOnvifDevice *d)
{
  for (guint i = 0; d->profiles && i < d->profiles->len; i++) {
    const VigilOnvifProfile *p = g_ptr_array_index(d->profiles, i);
    if (!p->token || !*p->token || !p->name || !p->codec || p->width < 1 || p->height < 1 ||
        p->width > 65535 || p->height > 65535)
      __builtin_trap();
    check_utf8(p->token);
    check_utf8(p->name);
    check_utf8(p->codec);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const char *xml = (const char *)data + 1;
  gsize len = size - 1;
  g_autoptr(GError) error = NULL;
  gboolean not_authorized = FALSE;
  g_autoptr(VigilOnvifDevice) d = g_new0(VigilOnvifDevice, 1);
  switch (data[0] % 15) {
  case 0: {
    gint64 t = 0;
    check_result(vigil_onvif_parse_system_time(xml, len, &t, &not_authorized, &error), error);
    break;
  }
  case 1:
    check_result(vigil_onvif_parse_device_information(xml, len, d, &not_authorized, &error), error);
    check_utf8(d->manufacturer);
    check_utf8(d->model);
    check_utf8(d->firmware);
    break;
  case 2:
    check_result(vigil_onvif_parse_capabilities(xml, len, d, &not_authorized, &error), error);
    check_addresses(d);
    break;
  case 3:
    check_result(vigil_onvif_parse_profiles(xml, len, d, &not_authorized, &error), error);
    check_profiles(d);
    break;
  case 5: {
    /* The seed's RelatesTo. */
    g_autoptr(GPtrArray) found = vigil_onvif_parse_probe_matches(
        xml, len, "urn:uuid:00000000-0000-4000-8000-000000000000", &error);
    check_result(found != NULL, error);
    for (guint i = 0; found && i < found->len; i++) {
      VigilOnvifDiscovered *f = g_ptr_array_index(found, i);
      if (!f->endpoint || !f->address ||
          (!g_str_has_prefix(f->address, "http://") && !g_str_has_prefix(f->address, "https://")))
        __builtin_trap();
      check_utf8(f->endpoint);
      check_utf8(f->address);
      check_utf8(f->manufacturer);
      check_utf8(f->model);
    }
    break;
  }
  case 6:
    check_result(vigil_onvif_parse_ptz_ack(xml, len, VIGIL_PTZ_STOP, &not_authorized, &error),
                 error);
    break;
  case 7: {
    g_autofree char *token = vigil_onvif_parse_set_preset(xml, len, &not_authorized, &error);
    check_result(token != NULL, error);
    check_utf8(token);
    if (token && (!*token || strlen(token) > VIGIL_ONVIF_MAX_TOKEN))
      __builtin_trap();
    break;
  }
  case 8: {
    g_autoptr(GPtrArray) presets = vigil_onvif_parse_presets(xml, len, &not_authorized, &error);
    check_result(presets != NULL, error);
    for (guint i = 0; presets && i < presets->len; i++) {
      VigilPtzPreset *p = g_ptr_array_index(presets, i);
      if (!p->token || !*p->token || !p->name || strlen(p->token) > VIGIL_ONVIF_MAX_TOKEN)
        __builtin_trap();
      check_utf8(p->token);
      check_utf8(p->name);
    }
    if (presets && presets->len > VIGIL_ONVIF_MAX_PRESETS)
      __builtin_trap();
    break;
  }
  case 9: {
    g_autofree char *address =
        vigil_onvif_parse_create_pull_point(xml, len, &not_authorized, &error);
    check_result(address != NULL, error);
    check_utf8(address);
    if (address && !g_str_has_prefix(address, "http://") && !g_str_has_prefix(address, "https://"))
      __builtin_trap();
    break;
  }
  case 10: {
    g_autoptr(GPtrArray) notes = vigil_onvif_parse_pull_messages(xml, len, &not_authorized, &error);
    check_result(notes != NULL, error);
    if (notes && notes->len > VIGIL_ONVIF_EVENTS_MAX_MESSAGES)
      __builtin_trap();
    for (guint i = 0; notes && i < notes->len; i++) {
      VigilOnvifNotification *n = g_ptr_array_index(notes, i);
      if (!n->topic || (!n->has_state && n->state))
        __builtin_trap();
      check_utf8(n->topic);
      check_utf8(n->operation);
      check_utf8(n->rule);
    }
    break;
  }
  case 11:
    check_result(
        vigil_onvif_parse_events_ack(xml, len, VIGIL_ONVIF_EVENTS_RENEW, &not_authorized, &error),
        error);
    break;
  case 12:
    check_result(vigil_onvif_parse_services(xml, len, d, &not_authorized, &error), error);
    check_addresses(d);
    break;
  case 13:
    check_result(vigil_onvif_parse_profiles2(xml, len, d, &not_authorized, &error), error);
    check_profiles(d);
    break;
  case 14: {
    g_autofree char *uri = vigil_onvif_parse_stream_uri2(xml, len, &not_authorized, &error);
    check_stream_uri(uri, error);
    break;
  }
  default: {
    g_autofree char *uri = vigil_onvif_parse_stream_uri(xml, len, &not_authorized, &error);
    check_stream_uri(uri, error);
    break;
  }
  }
  if (not_authorized && !error)
    __builtin_trap();
  return 0;
}
