/* ONVIF client: from a device service address and credentials to the
 * camera's identity and streams (docs/onvif.md). SOAP 1.2 over libsoup 3,
 * built and parsed with libxml2; WS-Security UsernameToken (PasswordDigest)
 * with the device's clock offset corrected. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Answers larger than this are refused. */
#define VIGIL_ONVIF_MAX_ANSWER (1024 * 1024)
/* Per request (connect and each read). */
#define VIGIL_ONVIF_TIMEOUT_S 5
/* With an offset beyond this, a failed login is blamed on the clock too. */
#define VIGIL_ONVIF_SKEW_S 5

typedef struct {
  char *token, *name, *codec; /* codec: "h264" or "h265" (others are left out) */
  int width, height;
  char *uri; /* RTSP, NULL until GetStreamUri answered */
} VigilOnvifProfile;

typedef struct {
  char *manufacturer, *model, *firmware;
  char *media_address, *ptz_address; /* NULL when the device has none */
  char *events_address;              /* the events service; NULL when none */
  char *media2_address;              /* the Media2 (ver20) service; NULL when none */
  gboolean media2;                   /* @profiles came from Media2 */
  GPtrArray *profiles;               /* of VigilOnvifProfile */
  gint64 clock_offset_s;             /* device clock minus ours */
} VigilOnvifDevice;

void vigil_onvif_device_free(VigilOnvifDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilOnvifDevice, vigil_onvif_device_free)

/* base64(SHA1(nonce + created + password)), as WS-Security asks. */
char *vigil_onvif_password_digest(const guint8 *nonce, gsize nonce_len, const char *created,
                                  const char *password);

/* "http://HOST[:PORT]/onvif/device_service" from HOST[:PORT], or the URL
 * itself when it is an http(s) URL with a host; NULL and a worded error else. */
char *vigil_onvif_device_url(const char *address, GError **error);

/* The SOAP envelope of a request; @username NULL for none. The body is
 * fixed per call (never user data) but for @profile_token, of GetStreamUri,
 * which is put in escaped. The *2 calls are the Media2 (ver20) service's. */
typedef enum {
  VIGIL_ONVIF_GET_SYSTEM_DATE_AND_TIME,
  VIGIL_ONVIF_GET_DEVICE_INFORMATION,
  VIGIL_ONVIF_GET_CAPABILITIES,
  VIGIL_ONVIF_GET_PROFILES,
  VIGIL_ONVIF_GET_STREAM_URI,
  VIGIL_ONVIF_GET_SERVICES,
  VIGIL_ONVIF_GET_PROFILES2,
  VIGIL_ONVIF_GET_STREAM_URI2,
} VigilOnvifCall;

/* "GetProfiles", ...: the operation of @call. */
const char *vigil_onvif_call_name(VigilOnvifCall call);
/* The WSDL namespace of @call's service, as in its SOAP action. */
const char *vigil_onvif_call_namespace(VigilOnvifCall call);

char *vigil_onvif_build_request(VigilOnvifCall call, const char *profile_token,
                                const char *username, const char *password, gint64 clock_offset_s);

/* Answer parsers (soap.c). Each refuses answers over VIGIL_ONVIF_MAX_ANSWER,
 * answers that are no SOAP envelope, and SOAP faults: a fault sets
 * *not_authorized (when given) when its subcode is NotAuthorized (or a
 * sender fault about authentication) and puts the reason in the error. */
gboolean vigil_onvif_parse_system_time(const char *xml, gsize len, gint64 *unix_time,
                                       gboolean *not_authorized, GError **error);
gboolean vigil_onvif_parse_device_information(const char *xml, gsize len, VigilOnvifDevice *device,
                                              gboolean *not_authorized, GError **error);
gboolean vigil_onvif_parse_capabilities(const char *xml, gsize len, VigilOnvifDevice *device,
                                        gboolean *not_authorized, GError **error);
gboolean vigil_onvif_parse_profiles(const char *xml, gsize len, VigilOnvifDevice *device,
                                    gboolean *not_authorized, GError **error);
char *vigil_onvif_parse_stream_uri(const char *xml, gsize len, gboolean *not_authorized,
                                   GError **error);
/* GetServicesResponse: the Media2 service's address (media2_address, NULL
 * when the device lists none), and the Media, PTZ and events addresses
 * where GetCapabilities gave none (http(s) only, as there). */
gboolean vigil_onvif_parse_services(const char *xml, gsize len, VigilOnvifDevice *device,
                                    gboolean *not_authorized, GError **error);
/* The Media2 answers: profiles with their VideoEncoder configuration (the
 * same filter as vigil_onvif_parse_profiles) and tr2:Uri. */
gboolean vigil_onvif_parse_profiles2(const char *xml, gsize len, VigilOnvifDevice *device,
                                     gboolean *not_authorized, GError **error);
char *vigil_onvif_parse_stream_uri2(const char *xml, gsize len, gboolean *not_authorized,
                                    GError **error);

/* The whole probe, asynchronously on the thread-default main context:
 * GetSystemDateAndTime, GetDeviceInformation, GetCapabilities, GetServices,
 * then GetProfiles and GetStreamUri per profile from the Media2 service when
 * the device has one (H.265 streams are only described there), else (or
 * when Media2 fails or lists no usable profile) from the Media service. Errors are VIGIL_ERROR_INVALID with words
 * for users (unreachable, not ONVIF, wrong credentials, clock skew, no media
 * service); the password never appears in them nor in the log. */
void vigil_onvif_probe_async(const char *device_url, const char *username, const char *password,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
VigilOnvifDevice *vigil_onvif_probe_finish(GAsyncResult *result, GError **error);

/* ---- WS-Discovery (discovery.c) ---- */

/* How long vigil listens for answers to its Probe. */
#define VIGIL_ONVIF_DISCOVERY_MS 3000
/* The WS-Discovery port, on the multicast group 239.255.255.250. */
#define VIGIL_ONVIF_WSD_PORT 3702
/* A UDP datagram's payload is at most this. */
#define VIGIL_ONVIF_MAX_DATAGRAM 65535

typedef struct {
  char *endpoint;             /* its EndpointReference address, the same on every answer */
  char *address;              /* its device service: the first http(s) XAddr, IPv4 first */
  char *manufacturer, *model; /* from its scopes; NULL when it names none */
} VigilOnvifDiscovered;

void vigil_onvif_discovered_free(VigilOnvifDiscovered *discovered);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilOnvifDiscovered, vigil_onvif_discovered_free)

/* A fresh "urn:uuid:…" for a Probe's MessageID. */
char *vigil_onvif_new_message_id(void);

/* A WS-Discovery 2005/04 Probe (SOAP 1.2) for dn:NetworkVideoTransmitter,
 * @message_id put in escaped. */
char *vigil_onvif_build_probe(const char *message_id);

/* The devices of one ProbeMatches datagram answering @message_id: an array
 * (of VigilOnvifDiscovered, maybe empty) that keeps only matches whose Types
 * hold NetworkVideoTransmitter (by namespace) and that give an http(s)
 * XAddr. NULL and an error for datagrams over VIGIL_ONVIF_MAX_DATAGRAM, that
 * are no SOAP envelope, no ProbeMatches, or relate to another message. */
GPtrArray *vigil_onvif_parse_probe_matches(const char *xml, gsize len, const char *message_id,
                                           GError **error);

/* Multicasts a Probe on every up IPv4 interface that can multicast (and on
 * loopback when @loopback), twice, and collects the answers for
 * @duration_ms on the thread-default main context, de-duplicated by
 * endpoint reference. The result is a GPtrArray of VigilOnvifDiscovered in
 * the order they answered (maybe empty: no interface, nobody answered). */
void vigil_onvif_discover_async(guint duration_ms, gboolean loopback, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *vigil_onvif_discover_finish(GAsyncResult *result, GError **error);
/* ---- PTZ (ptz.c; docs/onvif.md) ---- */

/* Preset tokens longer than this are refused; at most this many presets. */
#define VIGIL_ONVIF_MAX_TOKEN   64
#define VIGIL_ONVIF_MAX_PRESETS 256

typedef enum {
  VIGIL_PTZ_MOVE,          /* ContinuousMove with pan, tilt, zoom speeds */
  VIGIL_PTZ_STOP,          /* Stop (pan/tilt and zoom) */
  VIGIL_PTZ_GOTO_PRESET,   /* GotoPreset @preset */
  VIGIL_PTZ_SET_PRESET,    /* SetPreset @name (NULL: the camera names it) */
  VIGIL_PTZ_REMOVE_PRESET, /* RemovePreset @preset */
  VIGIL_PTZ_GET_PRESETS,   /* GetPresets */
  VIGIL_PTZ_HOME,          /* GotoHomePosition */
  VIGIL_PTZ_RELATIVE,      /* RelativeMove by pan, tilt, zoom translations */
} VigilPtzAction;

typedef struct {
  VigilPtzAction action;
  double pan, tilt, zoom; /* VIGIL_PTZ_MOVE: speeds in -1..1; VIGIL_PTZ_RELATIVE:
                           * translations in the generic space, -1..1 */
  const char *preset;     /* token: goto and remove */
  const char *name;       /* set */
} VigilPtzCommand;

typedef struct {
  char *token, *name;
} VigilPtzPreset;

void vigil_ptz_preset_free(VigilPtzPreset *preset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilPtzPreset, vigil_ptz_preset_free)

/* "ContinuousMove", "Stop", ... : the PTZ service operation of @action. */
const char *vigil_onvif_ptz_operation(VigilPtzAction action);

/* The SOAP envelope of a PTZ service request for media profile
 * @profile_token; every user or device string is escaped by libxml2. */
char *vigil_onvif_build_ptz_request(const VigilPtzCommand *cmd, const char *profile_token,
                                    const char *username, const char *password,
                                    gint64 clock_offset_s);

/* PTZ answer parsers, as the ones above; PTZ faults (no such preset, too
 * many presets, ...) come out worded. A RelativeMove refused as
 * ActionNotSupported or NotSupported is VIGIL_ERROR_CONFLICT, "the camera
 * cannot move by a relative amount". */
gboolean vigil_onvif_parse_ptz_ack(const char *xml, gsize len, VigilPtzAction action,
                                   gboolean *not_authorized, GError **error);
/* SetPresetResponse: the new preset's token. */
char *vigil_onvif_parse_set_preset(const char *xml, gsize len, gboolean *not_authorized,
                                   GError **error);
/* GetPresetsResponse: VigilPtzPreset* (name defaults to the token). */
GPtrArray *vigil_onvif_parse_presets(const char *xml, gsize len, gboolean *not_authorized,
                                     GError **error);

/* Runs @cmd on the PTZ service of the device at @device_url, on the
 * thread-default main context. The device's PTZ address, profile token
 * (@profile when the device has it, else its largest profile's) and clock
 * offset are probed once and cached per device URL and user; a cached entry
 * that fails with a transport or login error is probed again once.
 * Errors: VIGIL_ERROR_CONFLICT when the device has no PTZ service or
 * cannot do a relative move (the message says which);
 * VIGIL_ERROR_FAILED with words for anything the device or the network did
 * wrong. The password never appears in them nor in the log. */
void vigil_ptz_async(const char *device_url, const char *username, const char *password,
                     const char *profile, const VigilPtzCommand *cmd, GCancellable *cancellable,
                     GAsyncReadyCallback callback, gpointer user_data);
/* TRUE on success; then *preset_token (SetPreset) or *presets (GetPresets),
 * when given, are filled in. */
gboolean vigil_ptz_finish(GAsyncResult *result, char **preset_token, GPtrArray **presets,
                          GError **error);

/* The API's JSON command ({"action": "move"|"stop"|"goto_preset"|
 * "set_preset"|"remove_preset"|"home"|"relative", ...}, docs/api.md#ptz) as @cmd, whose
 * strings point into @body; FALSE and VIGIL_ERROR_INVALID naming the field
 * else. */
gboolean vigil_ptz_command_from_json(JsonNode *body, VigilPtzCommand *cmd, GError **error);

/* Forgets what the cache holds for @device_url (NULL: every device); the
 * next call probes again. The HTTP layer calls it when a camera with this
 * device is changed. */
void vigil_ptz_forget(const char *device_url);

/* ---- Events: PullPoint subscriptions (events.c; docs/onvif.md) ---- */

/* CreatePullPointSubscription's and Renew's termination time, PullMessages'
 * long-poll timeout and message limit. */
#define VIGIL_ONVIF_EVENTS_TERMINATION_S 60
#define VIGIL_ONVIF_EVENTS_PULL_S        5
#define VIGIL_ONVIF_EVENTS_LIMIT         32
/* At most this many notifications are kept of one answer. */
#define VIGIL_ONVIF_EVENTS_MAX_MESSAGES 256

typedef enum {
  VIGIL_ONVIF_EVENTS_CREATE,      /* tev:CreatePullPointSubscription (events service) */
  VIGIL_ONVIF_EVENTS_PULL,        /* tev:PullMessages (subscription manager) */
  VIGIL_ONVIF_EVENTS_RENEW,       /* wsnt:Renew (subscription manager) */
  VIGIL_ONVIF_EVENTS_UNSUBSCRIBE, /* wsnt:Unsubscribe (subscription manager) */
} VigilOnvifEventsCall;

/* What a notification is about, from its topic. */
typedef enum {
  VIGIL_ONVIF_TOPIC_OTHER,
  VIGIL_ONVIF_TOPIC_MOTION, /* RuleEngine/CellMotionDetector/Motion, VideoSource/MotionAlarm */
  VIGIL_ONVIF_TOPIC_LINE,   /* RuleEngine/LineDetector/Crossed (instant) */
  VIGIL_ONVIF_TOPIC_FIELD,  /* RuleEngine/FieldDetector/ObjectsInside */
  VIGIL_ONVIF_TOPIC_PERSON, /* people / human / person detection topics */
  VIGIL_ONVIF_TOPIC_VEHICLE,
} VigilOnvifTopicKind;

typedef struct {
  char *topic;     /* the topic as the device wrote it ("tns1:RuleEngine/...") */
  char *operation; /* PropertyOperation: "Initialized", "Changed", "Deleted"; NULL */
  gint64 utc_us;   /* the message's UtcTime by the device's clock; 0 when none */
  VigilOnvifTopicKind kind;
  gboolean has_state, state; /* the Data's boolean item (IsMotion, State, ...) */
  char *rule;                /* the Source's "Rule" item, or its first item's value; NULL */
} VigilOnvifNotification;

void vigil_onvif_notification_free(VigilOnvifNotification *n);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilOnvifNotification, vigil_onvif_notification_free)

/* The kind of a topic text, its prefix resolved to the ONVIF topic
 * namespace by @ns_href (NULL: any prefix is taken as ONVIF's). */
VigilOnvifTopicKind vigil_onvif_topic_kind(const char *topic, const char *ns_href);

/* The SOAP envelope of an events call, with WS-Addressing Action, MessageID
 * and To (@to: the service or subscription manager address, escaped) and
 * WS-Security when @username is set. */
char *vigil_onvif_build_events_request(VigilOnvifEventsCall call, const char *to,
                                       const char *username, const char *password,
                                       gint64 clock_offset_s);
/* The SOAP 1.2 action URI of @call. */
const char *vigil_onvif_events_action(VigilOnvifEventsCall call);

/* CreatePullPointSubscriptionResponse: the subscription manager's address
 * (http(s)), NULL and an error else. */
char *vigil_onvif_parse_create_pull_point(const char *xml, gsize len, gboolean *not_authorized,
                                          GError **error);
/* PullMessagesResponse: VigilOnvifNotification* (maybe empty), at most
 * VIGIL_ONVIF_EVENTS_MAX_MESSAGES. */
GPtrArray *vigil_onvif_parse_pull_messages(const char *xml, gsize len, gboolean *not_authorized,
                                           GError **error);
/* RenewResponse or UnsubscribeResponse. */
gboolean vigil_onvif_parse_events_ack(const char *xml, gsize len, VigilOnvifEventsCall call,
                                      gboolean *not_authorized, GError **error);

/* One camera's subscription: probes the device, subscribes, pulls, renews,
 * re-subscribes with backoff after failures, all on the thread-default main
 * context; freeing it unsubscribes (the request goes on in the background). */
typedef struct _VigilOnvifEvents VigilOnvifEvents;
typedef void (*VigilOnvifEventFunc)(const VigilOnvifNotification *n, gpointer user_data);
/* @status: "subscribing", "subscribed" or an error in words; @subscribed
 * FALSE means notifications stopped (what was on should be ended). */
typedef void (*VigilOnvifEventsStatusFunc)(const char *status, gboolean subscribed,
                                           gpointer user_data);

VigilOnvifEvents *vigil_onvif_events_new(const char *device_url, const char *username,
                                         const char *password, VigilOnvifEventFunc func,
                                         VigilOnvifEventsStatusFunc status_func,
                                         gpointer user_data);
void vigil_onvif_events_free(VigilOnvifEvents *events);
const char *vigil_onvif_events_get_status(VigilOnvifEvents *events);

G_END_DECLS
