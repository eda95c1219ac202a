/* The MQTT client: libmosquitto's network thread hands connects, disconnects
 * and messages to the main context; there the camera state and the event bus
 * become topics, and commands become camera changes (docs/mqtt.md). */
#define G_LOG_DOMAIN "vigil-mqtt"

#include "mqtt/mqtt.h"

#include "mqtt/messages.h"

#include <errno.h>
#include <mosquitto.h>
#include <string.h>

#include "auth/user.h"
#include "config/config.h"
#include "core/json.h"
#include "core/util.h"
#include "events/events.h"
#include "events/thumbnail.h"
#include "record/recorder.h"

#define KEEPALIVE_S     30
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 30
#define QOS             1
/* Ended events remembered, so that one published again (its thumbnail) is
 * an "update", not a "new". */
#define RECENT_ENDED 256

/* What the broker holds for one camera (retained), as last published. */
typedef struct {
  gchar *status;
  gboolean motion, recording;
  gboolean record, motion_enabled, detect; /* the switches */
  GHashTable *counts;                      /* class → GINT_TO_POINTER(objects in view) */
  gchar *discovery_key;                    /* what the discovery configs were made of */
  GHashTable *discovery;                   /* config topic → payload */
  gint64 snapshot_id;                      /* the event whose thumbnail is the snapshot */
} CameraTopics;

struct _VigilMqtt {
  gint refs; /* the owner and every message on its way to the main context */
  VigilCameraManager *cameras;
  VigilStore *store;          /* users, for the rights of commands */
  VigilMqttSettings settings; /* as applied; enabled FALSE: no client */
  gchar *public_url;          /* settings "public_url", NULL when unset */
  struct mosquitto *mosq;
  gboolean loop_started;   /* the network thread runs: it reconnects by itself */
  guint retry_id;          /* until then: the next attempt of our own */
  GCancellable *resolving; /* the broker's name being looked up */
  guint retry_s;
  guint generation; /* of mosq: messages from an older client are dropped */
  gboolean connected;
  const char *state;
  gchar *error;
  gchar *client_error; /* the last error libmosquitto logged unconnected */
  guint bus_id;
  guint tick_id;
  GHashTable *topics;      /* camera id → CameraTopics */
  GHashTable *open_events; /* event id (gint64) → OpenEvent */
  GQueue recent_ended;     /* event ids (gint64 *), at most RECENT_ENDED */
};

/* An event seen without its end yet. */
typedef struct {
  gchar *camera;
  gboolean motion;
  gchar *label; /* object events: the class; else NULL */
} OpenEvent;

static void open_event_free(OpenEvent *e)
{
  g_free(e->camera);
  g_free(e->label);
  g_free(e);
}

typedef enum { MSG_CONNECT, MSG_DISCONNECT, MSG_MESSAGE, MSG_ERROR } MsgKind;

/* One thing the network thread reports, on its way to the main context. */
typedef struct {
  VigilMqtt *mqtt;
  guint generation;
  MsgKind kind;
  int rc;
  gchar *topic;
  GBytes *payload;
} Msg;

/* The user data of one libmosquitto client. */
typedef struct {
  VigilMqtt *mqtt;
  guint generation;
} Client;

static VigilMqtt *mqtt_ref(VigilMqtt *mqtt)
{
  g_atomic_int_inc(&mqtt->refs);
  return mqtt;
}

static void mqtt_unref(VigilMqtt *mqtt)
{
  if (!g_atomic_int_dec_and_test(&mqtt->refs))
    return;
  vigil_mqtt_settings_clear(&mqtt->settings);
  g_free(mqtt->public_url);
  g_free(mqtt->error);
  g_free(mqtt->client_error);
  g_hash_table_destroy(mqtt->topics);
  g_hash_table_destroy(mqtt->open_events);
  g_queue_clear_full(&mqtt->recent_ended, g_free);
  g_free(mqtt);
}

static CameraTopics *camera_topics_new(void)
{
  CameraTopics *t = g_new0(CameraTopics, 1);
  t->counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  t->discovery = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

static void camera_topics_free(CameraTopics *t)
{
  g_free(t->status);
  g_hash_table_destroy(t->counts);
  g_free(t->discovery_key);
  g_hash_table_destroy(t->discovery);
  g_free(t);
}

static void set_state(VigilMqtt *mqtt, const char *state, const char *error)
{
  mqtt->state = state;
  g_free(mqtt->error);
  mqtt->error = g_strdup(error);
}

/* --- publishing: queued by libmosquitto, never waits for the broker --- */

static gchar *topic_for(VigilMqtt *mqtt, const char *camera, const char *what)
{
  return vigil_mqtt_topic(&mqtt->settings, camera, what);
}

static void publish_bytes(VigilMqtt *mqtt, const char *topic, const void *payload, gsize len,
                          gboolean retain)
{
  if (!mqtt->connected)
    return;
  int rc = mosquitto_publish(mqtt->mosq, NULL, topic, (int)len, payload, QOS, retain);
  if (rc != MOSQ_ERR_SUCCESS)
    g_debug("cannot publish on %s: %s", topic, mosquitto_strerror(rc));
}

static void publish(VigilMqtt *mqtt, const char *topic, const char *payload, gboolean retain)
{
  publish_bytes(mqtt, topic, payload, strlen(payload), retain);
}

static void publish_camera(VigilMqtt *mqtt, const char *camera, const char *what,
                           const char *payload)
{
  g_autofree gchar *topic = topic_for(mqtt, camera, what);
  publish(mqtt, topic, payload, TRUE);
}

static const char *on_off(gboolean on)
{
  return on ? "ON" : "OFF";
}

static gboolean camera_has_motion(VigilMqtt *mqtt, const char *camera)
{
  GHashTableIter iter;
  OpenEvent *e;
  g_hash_table_iter_init(&iter, mqtt->open_events);
  while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&e))
    if (e->motion && g_strcmp0(e->camera, camera) == 0)
      return TRUE;
  return FALSE;
}

/* The objects of class @label in @camera's view: its open object events. */
static int objects_in_view(VigilMqtt *mqtt, const char *camera, const char *label)
{
  int n = 0;
  GHashTableIter iter;
  OpenEvent *e;
  g_hash_table_iter_init(&iter, mqtt->open_events);
  while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&e))
    n += g_strcmp0(e->label, label) == 0 && g_strcmp0(e->camera, camera) == 0;
  return n;
}

/* What a camera's discovery configs are made of: when it changes (a
 * rename, other classes), they are made again. */
static gchar *discovery_key(const VigilCameraConfig *cfg)
{
  g_autofree gchar *classes =
      cfg->detect.classes ? g_strjoinv("\n", cfg->detect.classes) : g_strdup("");
  return g_strdup_printf("%s\n%s", cfg->name, classes);
}

/* Brings @camera's discovery configs on the broker up to date: new and
 * changed ones published (all of them when @all), configs it no longer has
 * (a class removed; everything when @cfg is NULL: the camera was deleted)
 * removed with empty retained messages. */
static void publish_discovery(VigilMqtt *mqtt, const char *camera, CameraTopics *was,
                              const VigilCameraConfig *cfg, gboolean all)
{
  g_autofree gchar *key = cfg ? discovery_key(cfg) : NULL;
  if (!all && cfg && g_strcmp0(key, was->discovery_key) == 0)
    return;
  g_autoptr(GHashTable) now = cfg ? vigil_mqtt_discovery(&mqtt->settings, mqtt->public_url, cfg)
                                  : g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer topic, payload;
  g_hash_table_iter_init(&iter, now);
  while (g_hash_table_iter_next(&iter, &topic, &payload))
    if (all || g_strcmp0(payload, g_hash_table_lookup(was->discovery, topic)) != 0)
      publish(mqtt, topic, payload, TRUE);
  g_hash_table_iter_init(&iter, was->discovery);
  while (g_hash_table_iter_next(&iter, &topic, NULL))
    if (!g_hash_table_contains(now, topic))
      publish(mqtt, topic, "", TRUE);
  g_hash_table_destroy(was->discovery);
  was->discovery = g_steal_pointer(&now);
  g_free(was->discovery_key);
  was->discovery_key = g_steal_pointer(&key);
  if (!cfg)
    g_info("camera %s: removed from Home Assistant", camera);
}

/* Publishes the object counts of @camera's classes that changed (all of
 * them when @all); a class no longer configured has its topic removed. */
static void publish_counts(VigilMqtt *mqtt, const char *camera, CameraTopics *was,
                           const VigilCameraConfig *cfg, gboolean all)
{
  g_autoptr(GHashTable) now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; cfg && cfg->detect.classes && cfg->detect.classes[i]; i++) {
    const char *label = cfg->detect.classes[i];
    if (!vigil_mqtt_label_ok(label))
      continue;
    int n = objects_in_view(mqtt, camera, label);
    gpointer old = NULL;
    if (all || !g_hash_table_lookup_extended(was->counts, label, NULL, &old) ||
        GPOINTER_TO_INT(old) != n) {
      g_autofree gchar *count = g_strdup_printf("%d", n);
      publish_camera(mqtt, camera, label, count);
    }
    g_hash_table_replace(now, g_strdup(label), GINT_TO_POINTER(n));
  }
  GHashTableIter iter;
  gpointer label;
  g_hash_table_iter_init(&iter, was->counts);
  while (g_hash_table_iter_next(&iter, &label, NULL))
    if (!g_hash_table_contains(now, label))
      publish_camera(mqtt, camera, label, "");
  g_hash_table_destroy(was->counts);
  was->counts = g_steal_pointer(&now);
}

/* Home Assistant came back: every camera's configs again. */
static void publish_all_discovery(VigilMqtt *mqtt)
{
  GHashTableIter iter;
  gpointer id, was;
  g_hash_table_iter_init(&iter, mqtt->topics);
  while (g_hash_table_iter_next(&iter, &id, &was)) {
    VigilCamera *camera = vigil_camera_manager_lookup(mqtt->cameras, id);
    if (camera)
      publish_discovery(mqtt, id, was, vigil_camera_get_config(camera), TRUE);
  }
}

/* Publishes what changed in @camera's state since last time (everything
 * when @all: after a connect). */
static void refresh_camera(VigilMqtt *mqtt, VigilCamera *camera, gboolean all)
{
  const char *id = vigil_camera_get_id(camera);
  const VigilCameraConfig *cfg = vigil_camera_get_config(camera);
  VigilRecorder *recorder = vigil_camera_get_recorder(camera);
  CameraTopics now = {
      .status = (gchar *)vigil_camera_state_to_string(vigil_camera_get_state(camera)),
      .motion = camera_has_motion(mqtt, id),
      .recording = recorder && vigil_recorder_is_active(recorder),
      .record = cfg->record != VIGIL_RECORD_OFF,
      .motion_enabled = cfg->motion.enabled,
      .detect = cfg->detect.enabled,
  };
  CameraTopics *was = g_hash_table_lookup(mqtt->topics, id);
  if (!was) {
    was = camera_topics_new();
    g_hash_table_insert(mqtt->topics, g_strdup(id), was);
    all = TRUE;
  }
  publish_discovery(mqtt, id, was, cfg, all);
  publish_counts(mqtt, id, was, cfg, all);
  if (all || g_strcmp0(was->status, now.status) != 0)
    publish_camera(mqtt, id, "status", now.status);
  if (all || was->motion != now.motion)
    publish_camera(mqtt, id, "motion", on_off(now.motion));
  if (all || was->recording != now.recording)
    publish_camera(mqtt, id, "recording", on_off(now.recording));
  if (all || was->record != now.record)
    publish_camera(mqtt, id, "record/state", on_off(now.record));
  if (all || was->motion_enabled != now.motion_enabled)
    publish_camera(mqtt, id, "motion/state", on_off(now.motion_enabled));
  if (all || was->detect != now.detect)
    publish_camera(mqtt, id, "detect/state", on_off(now.detect));
  g_free(was->status);
  was->status = g_strdup(now.status);
  was->motion = now.motion;
  was->recording = now.recording;
  was->record = now.record;
  was->motion_enabled = now.motion_enabled;
  was->detect = now.detect;
}

static void refresh_all(VigilMqtt *mqtt, gboolean all)
{
  if (!mqtt->connected)
    return;
  GPtrArray *cameras = vigil_camera_manager_list(mqtt->cameras);
  for (guint i = 0; i < cameras->len; i++)
    refresh_camera(mqtt, g_ptr_array_index(cameras, i), all);
  /* A deleted camera's retained topics are cleared (an empty retained
   * message deletes it on the broker). */
  GHashTableIter iter;
  gpointer key, was;
  g_hash_table_iter_init(&iter, mqtt->topics);
  while (g_hash_table_iter_next(&iter, &key, &was)) {
    if (vigil_camera_manager_lookup(mqtt->cameras, key))
      continue;
    static const char *const retained[] = {"status",       "motion",       "recording",
                                           "record/state", "motion/state", "detect/state",
                                           "snapshot"};
    for (gsize i = 0; i < G_N_ELEMENTS(retained); i++)
      publish_camera(mqtt, key, retained[i], "");
    publish_counts(mqtt, key, was, NULL, FALSE);
    publish_discovery(mqtt, key, was, NULL, FALSE);
    g_hash_table_iter_remove(&iter);
  }
}

static gboolean on_tick(gpointer data)
{
  refresh_all(data, FALSE);
  return G_SOURCE_CONTINUE;
}

/* --- the event bus --- */

static gboolean recently_ended(VigilMqtt *mqtt, gint64 id)
{
  for (GList *l = mqtt->recent_ended.head; l; l = l->next)
    if (*(gint64 *)l->data == id)
      return TRUE;
  return FALSE;
}

/* "new", "update" or "end" for an event as the bus publishes it: the first
 * sight of an event is "new" (an event with start = end, a barcode, too),
 * its end "end", anything else "update". Keeps motion state. */
static const char *event_phase(VigilMqtt *mqtt, const char *camera, JsonObject *event)
{
  gint64 id = json_object_get_int_member_with_default(event, "id", 0);
  gboolean ended = !json_object_get_null_member(event, "end");
  const char *type = json_object_get_string_member_with_default(event, "type", "");
  gboolean open = g_hash_table_contains(mqtt->open_events, &id);
  const char *phase = NULL;
  if (!ended) {
    phase = open ? "update" : "new";
    if (!open) {
      OpenEvent *e = g_new0(OpenEvent, 1);
      e->camera = g_strdup(camera);
      e->motion = g_str_equal(type, "motion");
      if (g_str_equal(type, "object"))
        e->label = g_strdup(json_object_get_string_member_with_default(event, "label", ""));
      g_hash_table_insert(mqtt->open_events, g_memdup2(&id, sizeof id), e);
    }
  } else if (open) {
    phase = "end";
    g_hash_table_remove(mqtt->open_events, &id);
  } else {
    phase = recently_ended(mqtt, id) ? "update" : "new";
  }
  if (ended && !recently_ended(mqtt, id)) {
    g_queue_push_head(&mqtt->recent_ended, g_memdup2(&id, sizeof id));
    if (mqtt->recent_ended.length > RECENT_ENDED)
      g_free(g_queue_pop_tail(&mqtt->recent_ended));
  }
  return phase;
}

/* A snapshot on its way from the thumbnail file to the broker. */
typedef struct {
  VigilMqtt *mqtt;
  guint generation;
  gchar *camera;
  gint64 event_id;
} SnapshotLoad;

static void on_snapshot_loaded(GObject *file, GAsyncResult *result, gpointer data)
{
  SnapshotLoad *load = data;
  VigilMqtt *mqtt = load->mqtt;
  g_autoptr(GError) error = NULL;
  g_autofree gchar *jpeg = NULL;
  gsize len = 0;
  if (!g_file_load_contents_finish(G_FILE(file), result, &jpeg, &len, NULL, &error)) {
    g_debug("event %" G_GINT64_FORMAT ": no thumbnail to publish: %s", load->event_id,
            error->message);
  } else if (mqtt->mosq && load->generation == mqtt->generation) {
    CameraTopics *was = g_hash_table_lookup(mqtt->topics, load->camera);
    if (was && load->event_id > was->snapshot_id) {
      was->snapshot_id = load->event_id;
      g_autofree gchar *topic = topic_for(mqtt, load->camera, "snapshot");
      publish_bytes(mqtt, topic, jpeg, len, TRUE);
    }
  }
  mqtt_unref(mqtt);
  g_free(load->camera);
  g_free(load);
}

/* An event with a thumbnail newer than @camera's snapshot: the thumbnail
 * (read off the main loop) becomes the retained <prefix>/<camera>/snapshot. */
static void maybe_publish_snapshot(VigilMqtt *mqtt, const char *camera, JsonObject *event)
{
  gint64 id = json_object_get_int_member_with_default(event, "id", 0);
  gint64 start_us = 0;
  CameraTopics *was = camera ? g_hash_table_lookup(mqtt->topics, camera) : NULL;
  if (!was || id <= was->snapshot_id || !json_object_has_member(event, "thumbnail") ||
      json_object_get_null_member(event, "thumbnail") ||
      !vigil_time_parse(json_object_get_string_member_with_default(event, "start", ""), &start_us))
    return;
  g_autofree gchar *path = vigil_event_thumbnail_path(camera, id, start_us);
  if (!path)
    return;
  SnapshotLoad *load = g_new0(SnapshotLoad, 1);
  load->mqtt = mqtt_ref(mqtt);
  load->generation = mqtt->generation;
  load->camera = g_strdup(camera);
  load->event_id = id;
  g_autoptr(GFile) file = g_file_new_for_path(path);
  g_file_load_contents_async(file, NULL, on_snapshot_loaded, load);
}

/* A new object event of one of @camera's classes, for Home Assistant's
 * event entity: {"event_type": "<class>", "id", "score"}, not retained. */
static void maybe_publish_object_event(VigilMqtt *mqtt, const char *camera, JsonObject *event)
{
  const char *label = json_object_get_string_member_with_default(event, "label", NULL);
  VigilCamera *cam = camera ? vigil_camera_manager_lookup(mqtt->cameras, camera) : NULL;
  const VigilCameraConfig *cfg = cam ? vigil_camera_get_config(cam) : NULL;
  if (!cfg || !label || !vigil_mqtt_label_ok(label) || !cfg->detect.classes ||
      !g_strv_contains((const char *const *)cfg->detect.classes, label))
    return;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "event_type", label);
  vigil_json_add_int(b, "id", json_object_get_int_member_with_default(event, "id", 0));
  JsonNode *score = json_object_get_member(event, "score");
  if (score && JSON_NODE_HOLDS_VALUE(score))
    vigil_json_add_double(b, "score", json_node_get_double(score));
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree gchar *payload = vigil_json_to_string(root);
  g_autofree gchar *topic = topic_for(mqtt, camera, "event");
  publish(mqtt, topic, payload, FALSE);
}

static void on_bus(const char *name, const char *camera, const char *json, gpointer data)
{
  VigilMqtt *mqtt = data;
  if (g_str_equal(name, "event")) {
    g_autoptr(JsonNode) node = json_from_string(json, NULL);
    if (!node || !JSON_NODE_HOLDS_OBJECT(node))
      return;
    JsonObject *event = json_node_get_object(node);
    const char *phase = event_phase(mqtt, camera, event);
    g_autofree gchar *payload = g_strdup_printf("{\"type\":\"%s\",\"event\":%s}", phase, json);
    g_autofree gchar *topic = topic_for(mqtt, NULL, "events");
    publish(mqtt, topic, payload, FALSE);
    if (mqtt->connected && g_str_equal(phase, "new") &&
        g_strcmp0(json_object_get_string_member_with_default(event, "type", ""), "object") == 0)
      maybe_publish_object_event(mqtt, camera, event);
    if (mqtt->connected)
      maybe_publish_snapshot(mqtt, camera, event);
  }
  VigilCamera *cam = camera ? vigil_camera_manager_lookup(mqtt->cameras, camera) : NULL;
  if (cam && mqtt->connected)
    refresh_camera(mqtt, cam, FALSE);
}

/* --- commands --- */

/* Whether commands may change @camera: settings mqtt.user's control right
 * on it (a user that does not exist has none), or the operator role's
 * (control of every camera) when no user is set. */
static gboolean may_control(VigilMqtt *mqtt, const char *camera)
{
  g_autoptr(VigilPermissions) perms = NULL;
  if (!mqtt->settings.user) {
    perms = vigil_permissions_new(VIGIL_ROLE_OPERATOR);
    vigil_permissions_set(perms, VIGIL_ALL_CAMERAS, vigil_role_default_rights(VIGIL_ROLE_OPERATOR));
  } else if (mqtt->store) {
    perms = vigil_permissions_load(mqtt->store, mqtt->settings.user);
  }
  return perms && vigil_permissions_has(perms, camera, VIGIL_RIGHT_CONTROL);
}

static void on_ptz_done(GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree gchar *what = user_data;
  g_autoptr(GError) error = NULL;
  if (!vigil_ptz_finish(result, NULL, NULL, &error))
    g_warning("%s failed: %s", what, error->message);
}

/* <camera>/ptz/set: a preset token or the API's JSON command. */
static gboolean on_ptz_command(VigilMqtt *mqtt, const char *topic, const void *data, gsize len)
{
  g_autofree gchar *camera = NULL, *preset = NULL;
  g_autoptr(JsonNode) json = NULL;
  gsize plen = strlen(mqtt->settings.topic_prefix);
  if (strncmp(topic, mqtt->settings.topic_prefix, plen) != 0 ||
      !g_str_has_suffix(topic, "/ptz/set"))
    return FALSE;
  if (!vigil_mqtt_parse_ptz(mqtt->settings.topic_prefix, topic, data, (int)len, &camera, &json,
                            &preset)) {
    g_info("ignored a message on %s: not a preset token or a PTZ command object", topic);
    return TRUE;
  }
  VigilPtzCommand cmd = {.action = VIGIL_PTZ_GOTO_PRESET, .preset = preset};
  g_autoptr(GError) error = NULL;
  if (json && !vigil_ptz_command_from_json(json, &cmd, &error)) {
    g_info("ignored a message on %s: %s", topic, error->message);
    return TRUE;
  }
  if (cmd.action == VIGIL_PTZ_GET_PRESETS)
    return TRUE;
  VigilCamera *cam = vigil_camera_manager_lookup(mqtt->cameras, camera);
  if (!cam) {
    g_info("command %s: no camera \"%s\"", topic, camera);
    return TRUE;
  }
  if (!may_control(mqtt, camera)) {
    g_warning("command %s refused: %s has no control right on camera %s", topic,
              mqtt->settings.user ? mqtt->settings.user : "the operator role", camera);
    return TRUE;
  }
  g_info("camera %s: PTZ %s by an MQTT command (as %s)", camera,
         vigil_onvif_ptz_operation(cmd.action),
         mqtt->settings.user ? mqtt->settings.user : "the operator role");
  /* cmd's strings point into @json or @preset: vigil_ptz_async() copies them. */
  vigil_camera_ptz(
      cam, &cmd, NULL, on_ptz_done,
      g_strdup_printf("camera %s: PTZ %s by MQTT", camera, vigil_onvif_ptz_operation(cmd.action)));
  return TRUE;
}

static void on_command(VigilMqtt *mqtt, const char *topic, GBytes *payload)
{
  gsize len = 0;
  const void *data = g_bytes_get_data(payload, &len);
  g_autofree gchar *camera = NULL, *name = NULL;
  gboolean on = FALSE;
  if (on_ptz_command(mqtt, topic, data, len))
    return;
  if (!vigil_mqtt_parse_command(mqtt->settings.topic_prefix, topic, data, (int)len, &camera, &name,
                                &on)) {
    g_info("ignored a message on %s: not ON or OFF on <camera>/{record,motion,detect}/set", topic);
    return;
  }
  VigilCamera *cam = vigil_camera_manager_lookup(mqtt->cameras, camera);
  if (!cam) {
    g_info("command %s: no camera \"%s\"", topic, camera);
    return;
  }
  if (!may_control(mqtt, camera)) {
    g_warning("command %s %s refused: %s has no control right on camera %s", topic, on_off(on),
              mqtt->settings.user ? mqtt->settings.user : "the operator role", camera);
    return;
  }
  g_autoptr(JsonNode) body = vigil_mqtt_command_body(vigil_camera_get_config(cam), name, on);
  g_autoptr(GError) error = NULL;
  cam = vigil_camera_manager_patch(mqtt->cameras, camera, body, &error);
  if (!cam) {
    g_warning("command %s %s: %s", topic, on_off(on), error->message);
    return;
  }
  g_info("camera %s: %s %s by an MQTT command (as %s)", camera, name, on ? "on" : "off",
         mqtt->settings.user ? mqtt->settings.user : "the operator role");
  refresh_camera(mqtt, cam, FALSE);
}

/* Home Assistant says "online" on <discovery_prefix>/status when it starts:
 * it may have lost what it knew, so everything is announced again. */
static void on_message(VigilMqtt *mqtt, const char *topic, GBytes *payload)
{
  g_autofree gchar *ha_status = g_strdup_printf("%s/status", mqtt->settings.discovery_prefix);
  if (!g_str_equal(topic, ha_status)) {
    on_command(mqtt, topic, payload);
    return;
  }
  gsize len = 0;
  const char *data = g_bytes_get_data(payload, &len);
  if (len == strlen("online") && memcmp(data, "online", len) == 0) {
    g_info("Home Assistant is online: sending the discovery configs again");
    publish_all_discovery(mqtt);
  }
}

/* --- the connection --- */

static void on_connected(VigilMqtt *mqtt, int rc)
{
  if (rc != 0) {
    g_autofree gchar *error =
        g_strdup_printf("the broker refused the connection: %s", mosquitto_connack_string(rc));
    if (g_strcmp0(error, mqtt->error) != 0)
      g_warning("%s", error);
    set_state(mqtt, "error", error);
    return;
  }
  g_info("connected to the broker %s:%d as %s", mqtt->settings.host, mqtt->settings.port,
         mqtt->settings.client_id);
  mqtt->connected = TRUE;
  set_state(mqtt, "connected", NULL);
  g_autofree gchar *commands = topic_for(mqtt, "+", "+/set");
  mosquitto_subscribe(mqtt->mosq, NULL, commands, QOS);
  g_autofree gchar *ha_status = g_strdup_printf("%s/status", mqtt->settings.discovery_prefix);
  mosquitto_subscribe(mqtt->mosq, NULL, ha_status, QOS);
  g_autofree gchar *available = topic_for(mqtt, NULL, "available");
  publish(mqtt, available, "online", TRUE);
  refresh_all(mqtt, TRUE);
}

static void on_disconnected(VigilMqtt *mqtt, int rc)
{
  mqtt->connected = FALSE;
  if (rc == 0)
    return;
  g_autofree gchar *error =
      g_strdup_printf("lost the connection to the broker %s:%d (%s)", mqtt->settings.host,
                      mqtt->settings.port, mosquitto_strerror(rc));
  g_warning("%s; connecting again", error);
  set_state(mqtt, "error", error);
}

/* An error libmosquitto logged while not connected (a TLS handshake that
 * failed: the broker's certificate not trusted …): it is why the
 * connection does not come, so it is the state's error. */
static void on_client_error(VigilMqtt *mqtt, const char *text)
{
  if (mqtt->connected)
    return;
  g_free(mqtt->client_error);
  mqtt->client_error = g_strdup(text);
  g_autofree gchar *error = g_strdup_printf("cannot connect to the broker %s:%d (%s)",
                                            mqtt->settings.host, mqtt->settings.port, text);
  if (g_strcmp0(error, mqtt->error) != 0)
    g_warning("%s; trying again", error);
  set_state(mqtt, "error", error);
}

static gboolean on_msg_main(gpointer data)
{
  Msg *msg = data;
  VigilMqtt *mqtt = msg->mqtt;
  if (!mqtt->mosq || msg->generation != mqtt->generation)
    return G_SOURCE_REMOVE;
  switch (msg->kind) {
  case MSG_CONNECT:
    on_connected(mqtt, msg->rc);
    break;
  case MSG_DISCONNECT:
    on_disconnected(mqtt, msg->rc);
    break;
  case MSG_MESSAGE:
    on_message(mqtt, msg->topic, msg->payload);
    break;
  case MSG_ERROR:
    on_client_error(mqtt, msg->topic);
    break;
  }
  return G_SOURCE_REMOVE;
}

static void msg_free(gpointer data)
{
  Msg *msg = data;
  mqtt_unref(msg->mqtt);
  g_free(msg->topic);
  g_clear_pointer(&msg->payload, g_bytes_unref);
  g_free(msg);
}

/* Network thread: hand over to the main context. */
static void post(Client *client, MsgKind kind, int rc, const char *topic, GBytes *payload)
{
  Msg *msg = g_new0(Msg, 1);
  msg->mqtt = mqtt_ref(client->mqtt);
  msg->generation = client->generation;
  msg->kind = kind;
  msg->rc = rc;
  msg->topic = g_strdup(topic);
  msg->payload = payload;
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, on_msg_main, msg, msg_free);
}

static void on_connect_cb(struct mosquitto *mosq, void *data, int rc)
{
  post(data, MSG_CONNECT, rc, NULL, NULL);
}

static void on_disconnect_cb(struct mosquitto *mosq, void *data, int rc)
{
  post(data, MSG_DISCONNECT, rc, NULL, NULL);
}

static void on_message_cb(struct mosquitto *mosq, void *data, const struct mosquitto_message *m)
{
  post(data, MSG_MESSAGE, 0, m->topic, g_bytes_new(m->payload, m->payloadlen));
}

static void on_log_cb(struct mosquitto *mosq, void *data, int level, const char *text)
{
  if (level == MOSQ_LOG_ERR)
    post(data, MSG_ERROR, 0, text, NULL);
}

static const char *connect_error(int rc)
{
  return rc == MOSQ_ERR_ERRNO ? g_strerror(errno) : mosquitto_strerror(rc);
}

static gboolean on_retry(gpointer data);

static void retry_later(VigilMqtt *mqtt, const char *error)
{
  if (g_strcmp0(error, mqtt->error) != 0)
    g_warning("%s; trying again", error);
  set_state(mqtt, "error", error);
  mqtt->retry_id = g_timeout_add_seconds(mqtt->retry_s, on_retry, mqtt);
  mqtt->retry_s = MIN(mqtt->retry_s * 2, RECONNECT_MAX_S);
}

/* Once the first connection is under way, libmosquitto's network thread
 * takes over and reconnects with backoff by itself; a first attempt that
 * fails at once (connection refused) is retried from here, with the same
 * backoff, as that thread would give up. @address: the broker's, resolved
 * (libmosquitto would look a name up on this thread); with TLS the name,
 * which the certificate is checked against. */
static void connect_to(VigilMqtt *mqtt, const char *address)
{
  const VigilMqttSettings *s = &mqtt->settings;
  g_clear_pointer(&mqtt->client_error, g_free);
  int rc = mosquitto_connect_async(mqtt->mosq, s->tls ? s->host : address, s->port, KEEPALIVE_S);
  if (rc == MOSQ_ERR_SUCCESS) {
    rc = mosquitto_loop_start(mqtt->mosq);
    if (rc == MOSQ_ERR_SUCCESS) {
      mqtt->loop_started = TRUE;
      return;
    }
    set_state(mqtt, "error", mosquitto_strerror(rc));
    return;
  }
  /* A TLS handshake can fail within the call (a broker on this machine
   * answers at once): libmosquitto logged why (on_client_error, run here
   * through the main context), which says more than "A TLS error
   * occurred". */
  const char *why =
      rc == MOSQ_ERR_TLS && mqtt->client_error ? mqtt->client_error : connect_error(rc);
  g_autofree gchar *error =
      g_strdup_printf("cannot connect to the broker %s:%d (%s)", s->host, s->port, why);
  retry_later(mqtt, error);
}

static void on_resolved(GObject *resolver, GAsyncResult *result, gpointer data)
{
  VigilMqtt *mqtt = data;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish(G_RESOLVER(resolver), result, &error);
  if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_clear_object(&mqtt->resolving);
    if (!addresses) {
      g_autofree gchar *message =
          g_strdup_printf("cannot find the broker %s (%s)", mqtt->settings.host, error->message);
      retry_later(mqtt, message);
    } else {
      g_autofree gchar *address = g_inet_address_to_string(addresses->data);
      connect_to(mqtt, address);
    }
  }
  g_resolver_free_addresses(addresses);
  mqtt_unref(mqtt);
}

/* Looks the broker's name up without blocking (an address is used as it
 * is), then connects. */
static void try_connect(VigilMqtt *mqtt)
{
  const char *host = mqtt->settings.host;
  if (g_hostname_is_ip_address(host)) {
    connect_to(mqtt, host);
    return;
  }
  mqtt->resolving = g_cancellable_new();
  g_autoptr(GResolver) resolver = g_resolver_get_default();
  g_resolver_lookup_by_name_async(resolver, host, mqtt->resolving, on_resolved, mqtt_ref(mqtt));
}

static gboolean on_retry(gpointer data)
{
  VigilMqtt *mqtt = data;
  mqtt->retry_id = 0;
  try_connect(mqtt);
  return G_SOURCE_REMOVE;
}

static void start_client(VigilMqtt *mqtt)
{
  const VigilMqttSettings *s = &mqtt->settings;
  Client *client = g_new0(Client, 1);
  client->mqtt = mqtt;
  client->generation = ++mqtt->generation;
  mqtt->mosq = mosquitto_new(s->client_id, TRUE, client);
  if (!mqtt->mosq) {
    g_free(client);
    set_state(mqtt, "error", "cannot create an MQTT client");
    return;
  }
  mosquitto_int_option(mqtt->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (*s->username)
    mosquitto_username_pw_set(mqtt->mosq, s->username, s->password);
  if (s->tls) {
    int rc = s->ca_file ? mosquitto_tls_set(mqtt->mosq, s->ca_file, NULL, NULL, NULL, NULL)
                        : mosquitto_tls_set(mqtt->mosq, NULL, "/etc/ssl/certs", NULL, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
      g_autofree gchar *error =
          g_strdup_printf("cannot use the CA certificates %s (%s)",
                          s->ca_file ? s->ca_file : "/etc/ssl/certs", connect_error(rc));
      g_warning("%s", error);
      set_state(mqtt, "error", error);
      return;
    }
  }
  g_autofree gchar *available = topic_for(mqtt, NULL, "available");
  mosquitto_will_set(mqtt->mosq, available, strlen("offline"), "offline", QOS, TRUE);
  mosquitto_reconnect_delay_set(mqtt->mosq, RECONNECT_MIN_S, RECONNECT_MAX_S, TRUE);
  mosquitto_connect_callback_set(mqtt->mosq, on_connect_cb);
  mosquitto_disconnect_callback_set(mqtt->mosq, on_disconnect_cb);
  mosquitto_message_callback_set(mqtt->mosq, on_message_cb);
  mosquitto_log_callback_set(mqtt->mosq, on_log_cb);
  set_state(mqtt, "connecting", NULL);
  g_info("connecting to the broker %s:%d%s", s->host, s->port, s->tls ? " (TLS)" : "");
  mqtt->retry_s = RECONNECT_MIN_S;
  try_connect(mqtt);
}

/* Says "offline" when connected, disconnects and ends the network thread. */
static void stop_client(VigilMqtt *mqtt)
{
  if (!mqtt->mosq)
    return;
  g_autofree gchar *available = topic_for(mqtt, NULL, "available");
  publish(mqtt, available, "offline", TRUE);
  mqtt->connected = FALSE;
  g_clear_handle_id(&mqtt->retry_id, g_source_remove);
  if (mqtt->resolving) {
    g_cancellable_cancel(mqtt->resolving);
    g_clear_object(&mqtt->resolving);
  }
  if (mqtt->loop_started) {
    mosquitto_disconnect(mqtt->mosq);
    mosquitto_loop_stop(mqtt->mosq, FALSE);
    mqtt->loop_started = FALSE;
  }
  Client *client = mosquitto_userdata(mqtt->mosq);
  mosquitto_destroy(mqtt->mosq);
  mqtt->mosq = NULL;
  g_free(client);
  g_hash_table_remove_all(mqtt->topics);
}

VigilMqtt *vigil_mqtt_new(VigilCameraManager *cameras, VigilStore *store)
{
  mosquitto_lib_init();
  VigilMqtt *mqtt = g_new0(VigilMqtt, 1);
  mqtt->refs = 1;
  mqtt->cameras = cameras;
  mqtt->store = store;
  mqtt->state = "disabled";
  mqtt->topics =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)camera_topics_free);
  mqtt->open_events =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)open_event_free);
  g_queue_init(&mqtt->recent_ended);
  mqtt->bus_id = vigil_events_subscribe(on_bus, mqtt);
  mqtt->tick_id = g_timeout_add_seconds(1, on_tick, mqtt);
  return mqtt;
}

void vigil_mqtt_free(VigilMqtt *mqtt)
{
  if (!mqtt)
    return;
  stop_client(mqtt);
  vigil_events_unsubscribe(mqtt->bus_id);
  g_source_remove(mqtt->tick_id);
  mqtt_unref(mqtt);
  mosquitto_lib_cleanup();
}

void vigil_mqtt_configure(VigilMqtt *mqtt, const VigilMqttSettings *settings,
                          const char *public_url)
{
  if (vigil_mqtt_settings_equal(&mqtt->settings, settings) &&
      g_strcmp0(mqtt->public_url, public_url) == 0)
    return;
  if (vigil_mqtt_settings_equal(&mqtt->settings, settings)) {
    /* Only the links in the discovery configs change. */
    g_free(mqtt->public_url);
    mqtt->public_url = g_strdup(public_url);
    refresh_all(mqtt, TRUE);
    return;
  }
  stop_client(mqtt);
  vigil_mqtt_settings_clear(&mqtt->settings);
  vigil_mqtt_settings_copy(&mqtt->settings, settings);
  g_free(mqtt->public_url);
  mqtt->public_url = g_strdup(public_url);
  if (!mqtt->settings.enabled) {
    g_info("MQTT disabled");
    set_state(mqtt, "disabled", NULL);
    return;
  }
  start_client(mqtt);
}

const char *vigil_mqtt_get_state(VigilMqtt *mqtt, const char **error)
{
  if (error)
    *error = mqtt->error;
  return mqtt->state;
}
