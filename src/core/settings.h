/* Global settings (GET/PATCH /api/v1/settings): their defaults, validation and
 * JSON form. Pure: the caller persists the JSON through the store. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Settings "mqtt" (docs/mqtt.md). Strings are never NULL but password
 * (NULL: none); password is write-only: the API form shows password_set. */
typedef struct {
  gboolean enabled;
  gchar *host;
  int port;
  gboolean tls;
  gchar *ca_file;  /* TLS: the CA certificates (PEM) to trust; NULL: the system's */
  gchar *username; /* "" = anonymous */
  gchar *password;
  gchar *client_id;
  gchar *topic_prefix;
  gchar *discovery_prefix;
  gchar *user; /* vigil user whose rights commands have; NULL: the operator role */
} VigilMqttSettings;

void vigil_mqtt_settings_copy(VigilMqttSettings *dst, const VigilMqttSettings *src);
void vigil_mqtt_settings_clear(VigilMqttSettings *m);
gboolean vigil_mqtt_settings_equal(const VigilMqttSettings *a, const VigilMqttSettings *b);

/* One webhook of settings "notify" (docs/webhooks.md). secret and
 * auth_token are write-only (NULL: none): the API form shows secret_set and
 * auth_token_set, the stored form keeps them. Filter lists are
 * NULL-terminated, empty = all. */
typedef enum { VIGIL_WEBHOOK_JSON, VIGIL_WEBHOOK_NTFY } VigilWebhookFormat;
typedef enum {
  VIGIL_WEBHOOK_SNAPSHOT_NONE,
  VIGIL_WEBHOOK_SNAPSHOT_URL,
  VIGIL_WEBHOOK_SNAPSHOT_ATTACH
} VigilWebhookSnapshot;

#define VIGIL_WEBHOOKS_MAX 32

typedef struct {
  gchar *name;
  gboolean enabled;
  gchar *url;
  VigilWebhookFormat format;
  gchar **cameras, **types, **labels;
  double min_score;
  VigilWebhookSnapshot snapshot;
  gchar *secret;
  gchar *auth_token;
  int cooldown_s;
} VigilWebhook;

VigilWebhook *vigil_webhook_copy(const VigilWebhook *src);
void vigil_webhook_free(VigilWebhook *webhook);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilWebhook, vigil_webhook_free)

/* Settings "rtsp_server" (docs/restream.md): vigil serves its cameras over
 * RTSP. listen is "IP:PORT" ("[IPv6]:PORT"), never NULL. */
typedef struct {
  gboolean enabled;
  gchar *listen;
} VigilRtspServerSettings;

/* Splits a valid listen value into its address and port; FALSE when it is
 * not "IP:PORT" (IPv6 in brackets) with a port 1-65535. */
gboolean vigil_rtsp_server_listen_parse(const char *listen, gchar **address, int *port);

typedef struct {
  gint64 max_bytes;        /* storage quota; -1 = none (JSON null) */
  double min_free_percent; /* keep this much of the filesystem free */
  gchar *detect_model;     /* detection model name; NULL = none */
  int detect_input_size;   /* square model input in pixels; 0 = the model's default (null) */
  gchar *tls_cert;         /* PEM certificate (chain) path; NULL = plain HTTP */
  gchar *tls_key;          /* PEM private key path; NULL = plain HTTP */
  gchar *public_url;       /* "https://nvr.example:8443"; NULL = unknown */
  VigilMqttSettings mqtt;
  VigilRtspServerSettings rtsp_server;
  GPtrArray *notify; /* of VigilWebhook, never NULL */
} VigilSettings;

VigilSettings *vigil_settings_new(void);
VigilSettings *vigil_settings_copy(const VigilSettings *settings);
void vigil_settings_free(VigilSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilSettings, vigil_settings_free)

/* Applies a (partial) settings object; unknown or read-only members, wrong
 * types and out-of-range values fail with VIGIL_ERROR_INVALID, leaving
 * @settings unchanged. */
gboolean vigil_settings_apply_json(VigilSettings *settings, JsonNode *node, GError **error);

/* detect.input_size: a multiple of this from MIN to MAX pixels (the
 * network's coarsest stride is 32). */
#define VIGIL_DETECT_INPUT_STEP 32
#define VIGIL_DETECT_INPUT_MIN  128
#define VIGIL_DETECT_INPUT_MAX  1024

/* The detector's state at run time: the read-only fields of "detect". */
typedef struct {
  gboolean available;
  const char *error; /* why not available; NULL */
  int input_size;    /* the square input the loaded model runs at; 0: none, or hog */
} VigilDetectRuntime;

/* The API form, with @detect's read-only fields. Without @admin, "notify"
 * is left out: webhook URLs may carry tokens. */
JsonNode *vigil_settings_to_json(const VigilSettings *settings, const VigilDetectRuntime *detect,
                                 gboolean admin);

/* The stored form: what apply_json accepts back. */
gchar *vigil_settings_serialize(const VigilSettings *settings);

G_END_DECLS
