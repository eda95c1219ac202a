/* The event bus (see events.h): store, open events and alarms, listeners. */
#define G_LOG_DOMAIN "vigil-events"

#include "events/events.h"

#include <math.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "events/thumbnail.h"

typedef struct {
  guint id;
  VigilEventsFunc func;
  gpointer user_data;
} Listener;

typedef struct {
  VigilStore *store;  /* borrowed */
  GHashTable *open;   /* id -> VigilEvent*, events not ended yet */
  GHashTable *alarms; /* "camera\nlabel" -> id */
  GArray *listeners;  /* Listener */
  guint next_listener;
  gint64 next_memory_id; /* without a store */
  VigilEventCounters counters;
} Bus;

static Bus *bus;

void vigil_events_init(VigilStore *store)
{
  g_return_if_fail(bus == NULL);
  bus = g_new0(Bus, 1);
  bus->store = store;
  bus->open =
      g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)vigil_event_free);
  bus->alarms = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  bus->listeners = g_array_new(FALSE, FALSE, sizeof(Listener));
  bus->next_memory_id = 1;
  if (store) {
    g_autoptr(GError) error = NULL;
    if (!vigil_store_close_open_events(store, g_get_real_time(), &error))
      g_warning("%s", error->message);
  }
}

void vigil_events_shutdown(void)
{
  if (!bus)
    return;
  /* Whatever is still open ends now, so the index never shows an event
   * running forever. */
  gint64 now = g_get_real_time();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, bus->open);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    VigilEvent *e = value;
    e->end_us = MAX(now, e->start_us);
    if (bus->store)
      vigil_store_update_event(bus->store, e, NULL);
  }
  g_hash_table_unref(bus->open);
  g_hash_table_unref(bus->alarms);
  g_array_unref(bus->listeners);
  g_clear_pointer(&bus, g_free);
}

JsonNode *vigil_event_to_json(const VigilEvent *e)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_int(b, "id", e->id);
  vigil_json_add_string_or_null(b, "camera", e->camera);
  vigil_json_add_string(b, "type", e->type);
  g_autofree gchar *start = vigil_time_format(e->start_us);
  vigil_json_add_string(b, "start", start);
  g_autofree gchar *end = e->end_us ? vigil_time_format(e->end_us) : NULL;
  vigil_json_add_string_or_null(b, "end", end);
  if (e->has_score)
    vigil_json_add_double(b, "score", round(e->score * 1000.0) / 1000.0);
  else
    vigil_json_add_null(b, "score");
  vigil_json_add_string_or_null(b, "label", e->label);
  if (e->has_box) {
    vigil_json_begin_object(b, "box");
    vigil_json_add_double(b, "x", e->box_x);
    vigil_json_add_double(b, "y", e->box_y);
    vigil_json_add_double(b, "w", e->box_w);
    vigil_json_add_double(b, "h", e->box_h);
    json_builder_end_object(b);
  } else {
    vigil_json_add_null(b, "box");
  }
  JsonNode *data = e->data ? json_from_string(e->data, NULL) : NULL;
  if (data)
    vigil_json_add_node(b, "data", data);
  else
    vigil_json_add_null(b, "data");
  g_autofree gchar *thumbnail = vigil_event_thumbnail_url(e);
  vigil_json_add_string_or_null(b, "thumbnail", thumbnail);
  if (e->recording)
    vigil_json_add_int(b, "recording", e->recording);
  else
    vigil_json_add_null(b, "recording");
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

static void publish(const char *name, const char *camera, JsonNode *node)
{
  if (!bus->listeners->len)
    return;
  g_autofree gchar *json = vigil_json_to_string(node);
  /* A listener may unsubscribe from its callback: walk a copy. */
  g_autoptr(GArray) copy = g_array_copy(bus->listeners);
  for (guint i = 0; i < copy->len; i++) {
    Listener *l = &g_array_index(copy, Listener, i);
    gboolean still = FALSE;
    for (guint j = 0; j < bus->listeners->len; j++)
      still = still || g_array_index(bus->listeners, Listener, j).id == l->id;
    if (still)
      l->func(name, camera, json, l->user_data);
  }
}

static void publish_event(const VigilEvent *e)
{
  if (!bus->listeners->len)
    return;
  /* Listeners see the same "recording" the events API answers: the link is
   * by time (store.h), so it is looked up, not kept in the event. */
  VigilEvent linked = *e;
  if (bus->store && !linked.recording)
    linked.recording =
        vigil_store_find_event_recording(bus->store, e->camera, e->start_us, e->end_us);
  g_autoptr(JsonNode) node = vigil_event_to_json(&linked);
  publish("event", e->camera, node);
}

static void count(const char *type)
{
  if (g_str_equal(type, "motion"))
    bus->counters.motion++;
  else if (g_str_equal(type, "object"))
    bus->counters.object++;
  else if (g_str_equal(type, "barcode"))
    bus->counters.barcode++;
  else if (g_str_equal(type, "alarm"))
    bus->counters.alarm++;
}

static VigilEvent *insert(const char *camera, const char *type, gint64 start_us, gint64 end_us,
                          double score, const char *label, const char *data_json)
{
  g_return_val_if_fail(bus != NULL, NULL);
  VigilEvent *e = g_new0(VigilEvent, 1);
  e->camera = g_strdup(camera);
  e->type = g_strdup(type);
  e->start_us = start_us;
  e->end_us = end_us;
  e->has_score = !isnan(score);
  e->score = e->has_score ? score : 0.0;
  e->label = g_strdup(label);
  e->data = g_strdup(data_json);
  if (bus->store) {
    g_autoptr(GError) error = NULL;
    if (!vigil_store_insert_event(bus->store, e, &error)) {
      g_warning("camera %s: %s event lost: %s", camera ? camera : "-", type, error->message);
      vigil_event_free(e);
      return NULL;
    }
  } else {
    e->id = bus->next_memory_id++;
  }
  count(type);
  g_info("camera %s: %s event %" G_GINT64_FORMAT "%s%s", camera ? camera : "-", type, e->id,
         label ? " " : "", label ? label : "");
  publish_event(e);
  return e;
}

gint64 vigil_events_begin(const char *camera, const char *type, gint64 start_us, double score,
                          const char *label, const char *data_json)
{
  VigilEvent *e = insert(camera, type, start_us, 0, score, label, data_json);
  if (!e)
    return 0;
  g_hash_table_insert(bus->open, &e->id, e);
  return e->id;
}

gint64 vigil_events_begin_box(const char *camera, const char *type, gint64 start_us, double score,
                              const char *label, double x, double y, double w, double h)
{
  g_return_val_if_fail(bus != NULL, 0);
  /* insert() stores and publishes; the box must be set before it does. */
  VigilEvent *e = g_new0(VigilEvent, 1);
  e->camera = g_strdup(camera);
  e->type = g_strdup(type);
  e->start_us = start_us;
  e->has_score = !isnan(score);
  e->score = e->has_score ? score : 0.0;
  e->label = g_strdup(label);
  e->has_box = TRUE;
  e->box_x = x;
  e->box_y = y;
  e->box_w = w;
  e->box_h = h;
  if (bus->store) {
    g_autoptr(GError) error = NULL;
    if (!vigil_store_insert_event(bus->store, e, &error)) {
      g_warning("camera %s: %s event lost: %s", camera ? camera : "-", type, error->message);
      vigil_event_free(e);
      return 0;
    }
  } else {
    e->id = bus->next_memory_id++;
  }
  count(type);
  g_info("camera %s: %s event %" G_GINT64_FORMAT " %s %.2f", camera ? camera : "-", type, e->id,
         label ? label : "", score);
  publish_event(e);
  g_hash_table_insert(bus->open, &e->id, e);
  return e->id;
}

void vigil_events_update_score(gint64 id, double score)
{
  VigilEvent *e = bus ? g_hash_table_lookup(bus->open, &id) : NULL;
  if (e && (!e->has_score || score > e->score)) {
    e->has_score = TRUE;
    e->score = score;
  }
}

void vigil_events_end(gint64 id, gint64 end_us)
{
  VigilEvent *e = bus ? g_hash_table_lookup(bus->open, &id) : NULL;
  if (!e)
    return;
  e->end_us = MAX(end_us, e->start_us);
  if (bus->store) {
    g_autoptr(GError) error = NULL;
    if (!vigil_store_update_event(bus->store, e, &error))
      g_warning("event %" G_GINT64_FORMAT ": %s", id, error->message);
  }
  publish_event(e);
  g_hash_table_remove(bus->open, &id);
}

gint64 vigil_events_add(const char *camera, const char *type, gint64 time_us, double score,
                        const char *label, const char *data_json)
{
  VigilEvent *e = insert(camera, type, time_us, time_us, score, label, data_json);
  gint64 id = e ? e->id : 0;
  vigil_event_free(e);
  return id;
}

void vigil_events_set_thumbnail(gint64 id, GBytes *jpeg)
{
  if (!bus || id <= 0)
    return;
  /* The thumbnail's file is named by the event's camera and start day. */
  VigilEvent *open = g_hash_table_lookup(bus->open, &id);
  g_autoptr(VigilEvent) stored = NULL;
  if (!open && bus->store)
    stored = vigil_store_get_event(bus->store, id, NULL);
  VigilEvent *e = open ? open : stored;
  if (e && e->camera)
    vigil_event_thumbnail_save(e->camera, e->id, e->start_us, jpeg);
}

void vigil_events_republish(gint64 id)
{
  if (!bus)
    return;
  VigilEvent *open = g_hash_table_lookup(bus->open, &id);
  if (open) {
    publish_event(open);
    return;
  }
  if (!bus->store)
    return;
  g_autoptr(VigilEvent) stored = vigil_store_get_event(bus->store, id, NULL);
  if (stored)
    publish_event(stored);
}

void vigil_events_set_recording(gint64 id, gint64 recording_id)
{
  VigilEvent *e = bus ? g_hash_table_lookup(bus->open, &id) : NULL;
  if (e) {
    e->recording = recording_id;
    if (bus->store)
      vigil_store_update_event(bus->store, e, NULL);
    return;
  }
  g_debug("event %" G_GINT64_FORMAT " already ended; recording link not saved", id);
}

static gchar *alarm_key(const char *camera, const char *label)
{
  return g_strdup_printf("%s\n%s", camera ? camera : "", label);
}

gint64 vigil_alarm_raise(const char *camera, const char *label, const char *data_json)
{
  g_return_val_if_fail(bus != NULL && label != NULL, 0);
  g_autofree gchar *key = alarm_key(camera, label);
  gint64 *known = g_hash_table_lookup(bus->alarms, key);
  if (known)
    return *known;
  gint64 id = vigil_events_begin(camera, "alarm", g_get_real_time(), NAN, label, data_json);
  if (id)
    g_hash_table_insert(bus->alarms, g_steal_pointer(&key), g_memdup2(&id, sizeof(id)));
  return id;
}

void vigil_alarm_clear(const char *camera, const char *label)
{
  if (!bus)
    return;
  g_autofree gchar *key = alarm_key(camera, label);
  gint64 *known = g_hash_table_lookup(bus->alarms, key);
  if (!known)
    return;
  vigil_events_end(*known, g_get_real_time());
  g_hash_table_remove(bus->alarms, key);
}

gboolean vigil_alarm_is_raised(const char *camera, const char *label)
{
  g_autofree gchar *key = alarm_key(camera, label);
  return bus && g_hash_table_contains(bus->alarms, key);
}

void vigil_events_publish_camera_state(const char *camera, const char *state, const char *error)
{
  if (!bus)
    return;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string(b, "camera", camera);
  vigil_json_add_string(b, "state", state);
  vigil_json_add_string_or_null(b, "error", error);
  json_builder_end_object(b);
  g_autoptr(JsonNode) node = json_builder_get_root(b);
  publish("camera", camera, node);
}

guint vigil_events_subscribe(VigilEventsFunc func, gpointer user_data)
{
  g_return_val_if_fail(bus != NULL, 0);
  Listener l = {.id = ++bus->next_listener, .func = func, .user_data = user_data};
  g_array_append_val(bus->listeners, l);
  return l.id;
}

void vigil_events_unsubscribe(guint id)
{
  if (!bus)
    return;
  for (guint i = 0; i < bus->listeners->len; i++) {
    if (g_array_index(bus->listeners, Listener, i).id == id) {
      g_array_remove_index(bus->listeners, i);
      return;
    }
  }
}

void vigil_events_get_counters(VigilEventCounters *counters)
{
  if (!bus) {
    memset(counters, 0, sizeof(*counters));
    return;
  }
  *counters = bus->counters;
  counters->listeners = bus->listeners->len;
}
