/* A camera's configuration: defaults, copies, its JSON form and the
 * comparisons the camera manager asks (did the source change?). Reading and
 * validating the API's camera object is config-read.c. Pure: no I/O, no
 * GStreamer. */
#include "config/config.h"

#include <string.h>

#include "config/config-private.h"
#include "config/source.h"
#include "core/json.h"
const char *vigil_record_mode_to_string(VigilRecordMode mode)
{
  g_return_val_if_fail((guint)mode < G_N_ELEMENTS(record_names), NULL);
  return record_names[mode];
}

const char *vigil_stream_choice_to_string(VigilStreamChoice choice)
{
  g_return_val_if_fail((guint)choice < G_N_ELEMENTS(stream_names), NULL);
  return stream_names[choice];
}

const char *vigil_rtsp_transport_to_string(VigilRtspTransport transport)
{
  g_return_val_if_fail((guint)transport < G_N_ELEMENTS(transport_names), NULL);
  return transport_names[transport];
}

void vigil_config_zone_free(gpointer data)
{
  VigilZone *zone = data;
  if (zone == NULL)
    return;
  g_free(zone->name);
  g_free(zone);
}

static gpointer zone_copy(gconstpointer src, gpointer user_data)
{
  const VigilZone *zone = src;
  VigilZone *copy = g_new(VigilZone, 1);
  *copy = *zone;
  copy->name = g_strdup(zone->name);
  return copy;
}

VigilCameraConfig *vigil_camera_config_new(void)
{
  VigilCameraConfig *cfg = g_new0(VigilCameraConfig, 1);
  cfg->enabled = TRUE;
  cfg->rtsp_transport = VIGIL_TRANSPORT_TCP;
  cfg->record_stream = VIGIL_STREAM_MAIN;
  cfg->barcode_stream = VIGIL_STREAM_MAIN;
  cfg->barcode_interval_s = DEFAULT_BARCODE_INTERVAL_S;
  cfg->record = VIGIL_RECORD_EVENTS;
  cfg->pre_roll_s = 5;
  cfg->post_roll_s = 30;
  cfg->retain_days = 30;
  cfg->motion.enabled = TRUE;
  cfg->motion.threshold = DEFAULT_MOTION_THRESHOLD;
  cfg->motion.zones = g_ptr_array_new_with_free_func(vigil_config_zone_free);
  cfg->detect.enabled = FALSE;
  cfg->detect.classes = g_strdupv((gchar **)default_classes);
  cfg->detect.min_score = 0.5;
  cfg->detect.interval_s = 15;
  cfg->detect.record_on = g_new0(gchar *, 1);
  cfg->barcodes = FALSE;
  return cfg;
}

/* Frees what @cfg owns, not @cfg itself. */
static void clear_secret(gchar **secret)
{
  if (*secret != NULL) {
    /* Not a guarantee (copies exist elsewhere) but no reason to leave it. */
    memset(*secret, 0, strlen(*secret));
    g_clear_pointer(secret, g_free);
  }
}

void vigil_config_clear(VigilCameraConfig *cfg)
{
  g_clear_pointer(&cfg->id, g_free);
  g_clear_pointer(&cfg->name, g_free);
  g_clear_pointer(&cfg->source, g_free);
  g_clear_pointer(&cfg->username, g_free);
  clear_secret(&cfg->password);
  g_clear_pointer(&cfg->sub_source, g_free);
  g_clear_pointer(&cfg->sub_username, g_free);
  clear_secret(&cfg->sub_password);
  g_clear_pointer(&cfg->onvif.address, g_free);
  g_clear_pointer(&cfg->onvif.profile, g_free);
  g_clear_pointer(&cfg->onvif.sub_profile, g_free);
  g_clear_pointer(&cfg->onvif.preset_on_event, g_free);
  g_clear_pointer(&cfg->motion.zones, g_ptr_array_unref);
  g_clear_pointer(&cfg->detect.classes, g_strfreev);
  g_clear_pointer(&cfg->detect.record_on, g_strfreev);
}

void vigil_camera_config_free(VigilCameraConfig *cfg)
{
  if (cfg == NULL)
    return;
  vigil_config_clear(cfg);
  g_free(cfg);
}

VigilCameraConfig *vigil_camera_config_copy(const VigilCameraConfig *cfg)
{
  g_return_val_if_fail(cfg != NULL, NULL);

  VigilCameraConfig *copy = g_new(VigilCameraConfig, 1);
  *copy = *cfg;
  copy->id = g_strdup(cfg->id);
  copy->name = g_strdup(cfg->name);
  copy->source = g_strdup(cfg->source);
  copy->username = g_strdup(cfg->username);
  copy->password = g_strdup(cfg->password);
  copy->sub_source = g_strdup(cfg->sub_source);
  copy->sub_username = g_strdup(cfg->sub_username);
  copy->sub_password = g_strdup(cfg->sub_password);
  copy->onvif.address = g_strdup(cfg->onvif.address);
  copy->onvif.profile = g_strdup(cfg->onvif.profile);
  copy->onvif.sub_profile = g_strdup(cfg->onvif.sub_profile);
  copy->onvif.preset_on_event = g_strdup(cfg->onvif.preset_on_event);
  copy->motion.zones = cfg->motion.zones != NULL
                           ? g_ptr_array_copy(cfg->motion.zones, zone_copy, NULL)
                           : g_ptr_array_new();
  g_ptr_array_set_free_func(copy->motion.zones, vigil_config_zone_free);
  copy->detect.classes = g_strdupv(cfg->detect.classes);
  copy->detect.record_on = g_strdupv(cfg->detect.record_on);
  return copy;
}
/* ---- output ------------------------------------------------------------ */

static void add_strv(JsonBuilder *b, const char *member, GStrv values)
{
  vigil_json_begin_array(b, member);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value(b, values[i]);
  json_builder_end_array(b);
}

JsonNode *vigil_camera_config_to_json(const VigilCameraConfig *cfg)
{
  g_return_val_if_fail(cfg != NULL, NULL);

  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  vigil_json_add_string_or_null(b, "id", cfg->id);
  vigil_json_add_string_or_null(b, "name", cfg->name);
  vigil_json_add_bool(b, "enabled", cfg->enabled);
  /* Inline credentials typed into the URL are never given back. */
  g_autofree gchar *source = cfg->source != NULL ? vigil_source_mask(cfg->source) : NULL;
  vigil_json_add_string_or_null(b, "source", source);
  vigil_json_add_string_or_null(b, "username", cfg->username);
  vigil_json_add_bool(b, "password_set", cfg->password != NULL);
  vigil_json_add_string_or_null(b, "rtsp_transport",
                                vigil_rtsp_transport_to_string(cfg->rtsp_transport));
  g_autofree gchar *sub_source =
      cfg->sub_source != NULL ? vigil_source_mask(cfg->sub_source) : NULL;
  vigil_json_add_string_or_null(b, "sub_source", sub_source);
  vigil_json_add_string_or_null(b, "sub_username", cfg->sub_username);
  vigil_json_add_bool(b, "sub_password_set", cfg->sub_password != NULL);
  vigil_json_add_string_or_null(b, "record", vigil_record_mode_to_string(cfg->record));
  vigil_json_add_string_or_null(b, "record_stream",
                                vigil_stream_choice_to_string(cfg->record_stream));
  vigil_json_add_int(b, "pre_roll_s", cfg->pre_roll_s);
  vigil_json_add_int(b, "post_roll_s", cfg->post_roll_s);
  vigil_json_add_int(b, "retain_days", cfg->retain_days);

  vigil_json_begin_object(b, "motion");
  vigil_json_add_bool(b, "enabled", cfg->motion.enabled);
  vigil_json_add_double(b, "threshold", cfg->motion.threshold);
  vigil_json_begin_array(b, "zones");
  for (guint i = 0; cfg->motion.zones != NULL && i < cfg->motion.zones->len; i++) {
    const VigilZone *zone = g_ptr_array_index(cfg->motion.zones, i);
    json_builder_begin_object(b);
    vigil_json_add_string_or_null(b, "name", zone->name);
    vigil_json_add_double(b, "x", zone->x);
    vigil_json_add_double(b, "y", zone->y);
    vigil_json_add_double(b, "w", zone->w);
    vigil_json_add_double(b, "h", zone->h);
    vigil_json_add_double(b, "threshold", zone->threshold);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);

  vigil_json_begin_object(b, "detect");
  vigil_json_add_bool(b, "enabled", cfg->detect.enabled);
  add_strv(b, "classes", cfg->detect.classes);
  vigil_json_add_double(b, "min_score", cfg->detect.min_score);
  vigil_json_add_int(b, "interval_s", cfg->detect.interval_s);
  add_strv(b, "record_on", cfg->detect.record_on);
  vigil_json_add_bool(b, "main_crop", cfg->detect.main_crop);
  json_builder_end_object(b);

  vigil_json_add_bool(b, "barcodes", cfg->barcodes);
  vigil_json_add_string_or_null(b, "barcode_stream",
                                vigil_stream_choice_to_string(cfg->barcode_stream));
  vigil_json_add_double(b, "barcode_interval_s", cfg->barcode_interval_s);
  if (cfg->onvif.address != NULL) {
    vigil_json_begin_object(b, "onvif");
    vigil_json_add_string(b, "address", cfg->onvif.address);
    vigil_json_add_string_or_null(b, "profile", cfg->onvif.profile);
    vigil_json_add_string_or_null(b, "sub_profile", cfg->onvif.sub_profile);
    vigil_json_add_bool(b, "motion_events", cfg->onvif.motion_events);
    if (cfg->onvif.preset_on_event) {
      vigil_json_begin_object(b, "preset_on_event");
      vigil_json_add_string(b, "preset", cfg->onvif.preset_on_event);
      vigil_json_add_int(b, "return_after_s", cfg->onvif.preset_return_s);
      json_builder_end_object(b);
    } else {
      vigil_json_add_null(b, "preset_on_event");
    }
    json_builder_end_object(b);
  } else {
    vigil_json_add_null(b, "onvif");
  }
  json_builder_end_object(b);
  return json_builder_get_root(b);
}

gboolean vigil_camera_config_source_changed(const VigilCameraConfig *a, const VigilCameraConfig *b)
{
  g_return_val_if_fail(a != NULL && b != NULL, TRUE);
  return g_strcmp0(a->source, b->source) != 0 || g_strcmp0(a->username, b->username) != 0 ||
         g_strcmp0(a->password, b->password) != 0 || a->rtsp_transport != b->rtsp_transport ||
         !a->enabled != !b->enabled;
}

const char *vigil_camera_config_sub_username(const VigilCameraConfig *cfg)
{
  return cfg->sub_username != NULL ? cfg->sub_username : cfg->username;
}

const char *vigil_camera_config_sub_password(const VigilCameraConfig *cfg)
{
  return cfg->sub_password != NULL ? cfg->sub_password : cfg->password;
}

gboolean vigil_camera_config_sub_changed(const VigilCameraConfig *a, const VigilCameraConfig *b)
{
  g_return_val_if_fail(a != NULL && b != NULL, TRUE);
  return g_strcmp0(a->sub_source, b->sub_source) != 0 ||
         g_strcmp0(vigil_camera_config_sub_username(a), vigil_camera_config_sub_username(b)) != 0 ||
         g_strcmp0(vigil_camera_config_sub_password(a), vigil_camera_config_sub_password(b)) != 0 ||
         a->rtsp_transport != b->rtsp_transport || !a->enabled != !b->enabled;
}

VigilCameraConfig *vigil_camera_config_for_sub(const VigilCameraConfig *cfg)
{
  VigilCameraConfig *sub = vigil_camera_config_copy(cfg);
  g_free(sub->source);
  sub->source = g_strdup(cfg->sub_source);
  g_free(sub->username);
  sub->username = g_strdup(vigil_camera_config_sub_username(cfg));
  clear_secret(&sub->password);
  sub->password = g_strdup(vigil_camera_config_sub_password(cfg));
  return sub;
}
