/* Reading the API's camera object into a VigilCameraConfig: strict
 * validation of create and PATCH, member by member, with SPEC's 400 messages.
 * Pure: no I/O. apply_json works on a copy and commits only when every
 * member passed, so a rejected request never leaves a half-applied camera
 * behind. */
#include <math.h>
#include <string.h>

#include "config/config-private.h"
#include "config/source.h"
#include "core/error.h"
#include "core/json.h"
#include "core/util.h"

/* ---- validation helpers ------------------------------------------------ */

/* A member name taken from the request, made safe to echo in a message:
 * valid UTF-8, no control characters, not too long. */
static gchar *printable_name(const char *name)
{
  g_autofree gchar *valid = g_utf8_make_valid(name, -1);
  GString *out = g_string_new(NULL);
  int count = 0;
  for (const char *p = valid; *p; p = g_utf8_next_char(p), count++) {
    if (count == 48) {
      g_string_append(out, "...");
      break;
    }
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c) || c == '"' || c == '\\')
      g_string_append_c(out, '?');
    else
      g_string_append_unichar(out, c);
  }
  return g_string_free(out, FALSE);
}

static gboolean unknown_field(GError **error, const char *prefix, const char *name)
{
  g_autofree gchar *shown = printable_name(name);
  g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "unknown field \"%s%s\"", prefix, shown);
  return FALSE;
}

/* A fraction in [0, 1] (or (0, 1] with @exclusive_zero); integers allowed. */
static gboolean read_fraction(JsonNode *node, const char *field, gboolean exclusive_zero,
                              double *out, GError **error)
{
  double value;
  if (!vigil_json_get_double(node, 0, 1, &value) || (exclusive_zero && value == 0)) {
    if (exclusive_zero)
      return vigil_json_field_invalid(error, field,
                                      "must be a number greater than 0 and at most 1");
    return vigil_json_field_invalid(error, field, "must be a number between 0 and 1");
  }
  *out = value;
  return TRUE;
}

/* Human text (names, credentials): valid UTF-8, no control characters,
 * @min..@max characters. */
static gboolean check_text(const char *text, const char *field, int min, int max, GError **error)
{
  if (!g_utf8_validate(text, -1, NULL))
    return vigil_json_field_invalid(error, field, "must be valid UTF-8");
  glong chars = 0;
  for (const char *p = text; *p; p = g_utf8_next_char(p), chars++) {
    if (g_unichar_iscntrl(g_utf8_get_char(p)))
      return vigil_json_field_invalid(error, field, "must not contain control characters");
  }
  if (chars < min || chars > max) {
    if (min == 0)
      return vigil_json_field_invalid(error, field, "must be at most %d characters", max);
    return vigil_json_field_invalid(error, field, "must be %d to %d characters", min, max);
  }
  return TRUE;
}

/* detect.classes and detect.record_on: COCO-style names such as
 * "traffic light". */
static gboolean read_class_list(JsonNode *node, const char *field, GStrv *out, GError **error)
{
  static const char rule[] = "must be an array of at most 80 names of 1 to 32 "
                             "characters (a-z, 0-9, space, _ and -)";
  if (!JSON_NODE_HOLDS_ARRAY(node))
    return vigil_json_field_invalid(error, field, rule);
  JsonArray *array = json_node_get_array(node);
  guint n = json_array_get_length(array);
  if (n > CLASSES_MAX)
    return vigil_json_field_invalid(error, field, rule);

  g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
  for (guint i = 0; i < n; i++) {
    const char *text = NULL;
    vigil_json_get_string(json_array_get_element(array, i), &text);
    size_t len = text != NULL ? strlen(text) : 0;
    gboolean ok = len >= 1 && len <= CLASS_MAX_CHARS;
    for (size_t j = 0; ok && j < len; j++) {
      char c = text[j];
      ok = g_ascii_islower(c) || g_ascii_isdigit(c) || c == ' ' || c == '_' || c == '-';
    }
    if (!ok)
      return vigil_json_field_invalid(error, field, rule);
    g_strv_builder_add(builder, text);
  }
  g_strfreev(*out);
  *out = g_strv_builder_end(builder);
  return TRUE;
}

/* ---- members ----------------------------------------------------------- */

typedef struct {
  const VigilCameraConfig *orig;
  gboolean creating;
  gboolean seen_id;
  gboolean seen_name;
  gboolean seen_source;
} ApplyState;

static gboolean apply_zone(JsonNode *node, guint index, GPtrArray *zones, GError **error)
{
  g_autofree gchar *prefix = g_strdup_printf("motion.zones[%u]", index);
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_field_invalid(error, prefix, "must be an object");

  VigilZone *zone = g_new0(VigilZone, 1);
  zone->threshold = DEFAULT_MOTION_THRESHOLD;
  g_ptr_array_add(zones, zone); /* owned by @zones from here on */

  gboolean seen[5] = {FALSE}; /* name, x, y, w, h */
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    g_autofree gchar *field = g_strdup_printf("%s.%s", prefix, member);
    gboolean ok;
    if (strcmp(member, "name") == 0) {
      const char *text = NULL;
      ok = vigil_json_read_string(value, field, &text, error) &&
           check_text(text, field, 1, ZONE_NAME_MAX_CHARS, error);
      if (ok) {
        g_free(zone->name);
        zone->name = g_strdup(text);
        seen[0] = TRUE;
      }
    } else if (strcmp(member, "x") == 0) {
      ok = read_fraction(value, field, FALSE, &zone->x, error);
      seen[1] = TRUE;
    } else if (strcmp(member, "y") == 0) {
      ok = read_fraction(value, field, FALSE, &zone->y, error);
      seen[2] = TRUE;
    } else if (strcmp(member, "w") == 0) {
      ok = read_fraction(value, field, TRUE, &zone->w, error);
      seen[3] = TRUE;
    } else if (strcmp(member, "h") == 0) {
      ok = read_fraction(value, field, TRUE, &zone->h, error);
      seen[4] = TRUE;
    } else if (strcmp(member, "threshold") == 0) {
      ok = read_fraction(value, field, FALSE, &zone->threshold, error);
    } else {
      g_autofree gchar *unknown_prefix = g_strdup_printf("%s.", prefix);
      ok = unknown_field(error, unknown_prefix, member);
    }
    if (!ok)
      return FALSE;
  }

  static const char *const required[] = {"name", "x", "y", "w", "h"};
  for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
    if (!seen[i]) {
      g_autofree gchar *field = g_strdup_printf("%s.%s", prefix, required[i]);
      return vigil_json_field_invalid(error, field, "is required");
    }
  }
  if (zone->x + zone->w > 1.0 + GEOMETRY_SLACK || zone->y + zone->h > 1.0 + GEOMETRY_SLACK)
    return vigil_json_field_invalid(error, prefix,
                                    "must lie inside the frame (x + w and y + h at most 1)");
  for (guint i = 0; i + 1 < zones->len; i++) {
    const VigilZone *other = g_ptr_array_index(zones, i);
    if (strcmp(other->name, zone->name) == 0) {
      g_autofree gchar *field = g_strdup_printf("%s.name", prefix);
      return vigil_json_field_invalid(error, field, "repeats the name of another zone");
    }
  }
  return TRUE;
}

static gboolean apply_zones(VigilCameraConfig *work, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_ARRAY(node))
    return vigil_json_field_invalid(error, "motion.zones", "must be an array of at most %d zones",
                                    ZONES_MAX);
  JsonArray *array = json_node_get_array(node);
  guint n = json_array_get_length(array);
  if (n > ZONES_MAX)
    return vigil_json_field_invalid(error, "motion.zones", "must be an array of at most %d zones",
                                    ZONES_MAX);

  /* A given array replaces the old one as a whole. */
  g_autoptr(GPtrArray) zones = g_ptr_array_new_with_free_func(vigil_config_zone_free);
  for (guint i = 0; i < n; i++) {
    if (!apply_zone(json_array_get_element(array, i), i, zones, error))
      return FALSE;
  }
  g_ptr_array_unref(work->motion.zones);
  work->motion.zones = g_steal_pointer(&zones);
  return TRUE;
}

/* Nested objects are partial, like the top level: absent members keep their
 * value. */
static gboolean apply_motion(VigilCameraConfig *work, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_field_invalid(error, "motion", "must be an object");
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    gboolean ok;
    if (strcmp(member, "enabled") == 0)
      ok = vigil_json_read_bool(value, "motion.enabled", &work->motion.enabled, error);
    else if (strcmp(member, "threshold") == 0)
      ok = read_fraction(value, "motion.threshold", FALSE, &work->motion.threshold, error);
    else if (strcmp(member, "zones") == 0)
      ok = apply_zones(work, value, error);
    else
      ok = unknown_field(error, "motion.", member);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean apply_detect(VigilCameraConfig *work, JsonNode *node, GError **error)
{
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_field_invalid(error, "detect", "must be an object");
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    gboolean ok;
    if (strcmp(member, "enabled") == 0)
      ok = vigil_json_read_bool(value, "detect.enabled", &work->detect.enabled, error);
    else if (strcmp(member, "classes") == 0)
      ok = read_class_list(value, "detect.classes", &work->detect.classes, error);
    else if (strcmp(member, "min_score") == 0)
      ok = read_fraction(value, "detect.min_score", FALSE, &work->detect.min_score, error);
    else if (strcmp(member, "interval_s") == 0)
      ok =
          vigil_json_read_int(value, "detect.interval_s", 1, 3600, &work->detect.interval_s, error);
    else if (strcmp(member, "record_on") == 0)
      ok = read_class_list(value, "detect.record_on", &work->detect.record_on, error);
    else if (strcmp(member, "main_crop") == 0)
      ok = vigil_json_read_bool(value, "detect.main_crop", &work->detect.main_crop, error);
    else
      ok = unknown_field(error, "detect.", member);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

/* A text field that may be unset: null clears it, and so does "" when
 * @min_chars is 0; else @min_chars-@max_chars characters of text. */
static gboolean apply_optional_text(JsonNode *node, const char *field, int min_chars, int max_chars,
                                    gchar **slot, GError **error)
{
  if (JSON_NODE_HOLDS_NULL(node)) {
    g_clear_pointer(slot, g_free);
    return TRUE;
  }
  const char *text = NULL;
  if (!vigil_json_read_string(node, field, &text, error) ||
      !check_text(text, field, min_chars, max_chars, error))
    return FALSE;
  g_free(*slot);
  *slot = *text != '\0' ? g_strdup(text) : NULL;
  return TRUE;
}

/* username and password: null or "" clears, else 1-128 characters. */
static gboolean apply_credential(JsonNode *node, const char *field, gchar **slot, GError **error)
{
  return apply_optional_text(node, field, 0, CREDENTIAL_MAX_CHARS, slot, error);
}

/* "source" and "sub_source" (@slot, the value before this request: @orig). */
static gboolean apply_source(JsonNode *node, const char *field, const char *orig, gchar **slot,
                             GError **error)
{
  const char *text = NULL;
  if (!vigil_json_read_string(node, field, &text, error))
    return FALSE;

  /* GET masks inline credentials; a client that sends the object back
   * unchanged must not overwrite the real URL with the masked one. */
  if (orig != NULL) {
    g_autofree gchar *masked = vigil_source_mask(orig);
    if (strcmp(text, masked) == 0) {
      g_free(*slot);
      *slot = g_strdup(orig);
      return TRUE;
    }
  }

  g_autoptr(GError) local = NULL;
  if (!vigil_source_parse(text, NULL, &local)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "field \"%s\": %s", field, local->message);
    return FALSE;
  }
  g_free(*slot);
  *slot = g_strdup(text);
  return TRUE;
}

static gboolean apply_stream_choice(JsonNode *node, const char *field, guint n_choices,
                                    VigilStreamChoice *out, GError **error)
{
  int v;
  if (!vigil_json_read_enum(node, field, stream_names, n_choices, &v, error))
    return FALSE;
  *out = (VigilStreamChoice)v;
  return TRUE;
}

static gboolean apply_barcode_interval(JsonNode *node, double *out, GError **error)
{
  double value;
  if (!vigil_json_get_double(node, BARCODE_INTERVAL_MIN_S, BARCODE_INTERVAL_MAX_S, &value))
    return vigil_json_field_invalid(error, "barcode_interval_s",
                                    "must be a number between %g and %g", BARCODE_INTERVAL_MIN_S,
                                    BARCODE_INTERVAL_MAX_S);
  *out = value;
  return TRUE;
}

/* An ONVIF profile token: null clears, else 1-64 characters of text. */
static gboolean apply_onvif_token(JsonNode *node, const char *field, gchar **slot, GError **error)
{
  return apply_optional_text(node, field, 1, ONVIF_TOKEN_MAX_CHARS, slot, error);
}

/* "onvif.preset_on_event": null, or {"preset": TOKEN, "return_after_s": N}. */
static gboolean apply_preset_on_event(JsonNode *node, gchar **preset, int *return_s, GError **error)
{
  const char *field = "onvif.preset_on_event";
  g_clear_pointer(preset, g_free);
  *return_s = 0;
  if (JSON_NODE_HOLDS_NULL(node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_field_invalid(error, field, "must be null or an object with \"preset\"");
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    gboolean ok;
    if (strcmp(member, "preset") == 0)
      ok = !JSON_NODE_HOLDS_NULL(value) &&
           apply_onvif_token(value, "onvif.preset_on_event.preset", preset, error);
    else if (strcmp(member, "return_after_s") == 0)
      ok = vigil_json_read_int(value, "onvif.preset_on_event.return_after_s", 0, 86400, return_s,
                               error);
    else
      ok = unknown_field(error, "onvif.preset_on_event.", member);
    if (!ok && error && !*error)
      ok =
          vigil_json_field_invalid(error, "onvif.preset_on_event.preset", "must be a preset token");
    if (!ok) {
      g_clear_pointer(preset, g_free);
      return FALSE;
    }
  }
  if (!*preset)
    return vigil_json_field_invalid(error, "onvif.preset_on_event.preset", "is required");
  return TRUE;
}

/* "onvif": null, or a whole new object (address required). */
static gboolean apply_onvif(VigilCameraConfig *work, JsonNode *node, GError **error)
{
  if (JSON_NODE_HOLDS_NULL(node)) {
    g_clear_pointer(&work->onvif.address, g_free);
    g_clear_pointer(&work->onvif.profile, g_free);
    g_clear_pointer(&work->onvif.sub_profile, g_free);
    work->onvif.motion_events = FALSE;
    g_clear_pointer(&work->onvif.preset_on_event, g_free);
    work->onvif.preset_return_s = 0;
    return TRUE;
  }
  if (!JSON_NODE_HOLDS_OBJECT(node))
    return vigil_json_field_invalid(error, "onvif", "must be null or an object with \"address\"");
  g_autofree gchar *address = NULL, *profile = NULL, *sub_profile = NULL;
  gboolean motion_events = FALSE;
  g_autofree gchar *preset_on_event = NULL;
  int preset_return_s = 0;
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    gboolean ok;
    if (strcmp(member, "address") == 0) {
      const char *text = NULL;
      ok = vigil_json_read_string(value, "onvif.address", &text, error) &&
           check_text(text, "onvif.address", 1, ONVIF_ADDRESS_MAX_CHARS, error);
      if (ok && strpbrk(text, " \t") != NULL)
        ok = vigil_json_field_invalid(error, "onvif.address", "must not contain spaces");
      if (ok) {
        g_free(address);
        address = g_strdup(text);
      }
    } else if (strcmp(member, "profile") == 0) {
      ok = apply_onvif_token(value, "onvif.profile", &profile, error);
    } else if (strcmp(member, "sub_profile") == 0) {
      ok = apply_onvif_token(value, "onvif.sub_profile", &sub_profile, error);
    } else if (strcmp(member, "motion_events") == 0) {
      ok = vigil_json_read_bool(value, "onvif.motion_events", &motion_events, error);
    } else if (strcmp(member, "preset_on_event") == 0) {
      ok = apply_preset_on_event(value, &preset_on_event, &preset_return_s, error);
    } else {
      ok = unknown_field(error, "onvif.", member);
    }
    if (!ok)
      return FALSE;
  }
  if (address == NULL)
    return vigil_json_field_invalid(error, "onvif.address", "is required");
  g_free(work->onvif.address);
  work->onvif.address = g_steal_pointer(&address);
  g_free(work->onvif.profile);
  work->onvif.profile = g_steal_pointer(&profile);
  g_free(work->onvif.sub_profile);
  work->onvif.sub_profile = g_steal_pointer(&sub_profile);
  work->onvif.motion_events = motion_events;
  g_free(work->onvif.preset_on_event);
  work->onvif.preset_on_event = g_steal_pointer(&preset_on_event);
  work->onvif.preset_return_s = preset_return_s;
  return TRUE;
}

static gboolean apply_member(VigilCameraConfig *work, const char *member, JsonNode *value,
                             ApplyState *st, GError **error)
{
  if (strcmp(member, "id") == 0) {
    const char *text = NULL;
    if (!vigil_json_read_string(value, "id", &text, error))
      return FALSE;
    if (!st->creating) {
      if (g_strcmp0(text, st->orig->id) != 0) {
        g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "id cannot be changed");
        return FALSE;
      }
      return TRUE;
    }
    if (!vigil_slug_is_valid(text))
      return vigil_json_field_invalid(error, "id", "must be 1 to 32 characters of a-z, 0-9 and -");
    g_free(work->id);
    work->id = g_strdup(text);
    st->seen_id = TRUE;
    return TRUE;
  }
  if (strcmp(member, "name") == 0) {
    const char *text = NULL;
    if (!vigil_json_read_string(value, "name", &text, error) ||
        !check_text(text, "name", 1, NAME_MAX_CHARS, error))
      return FALSE;
    g_autofree gchar *stripped = g_strstrip(g_strdup(text));
    if (*stripped == '\0')
      return vigil_json_field_invalid(error, "name", "must not be blank");
    g_free(work->name);
    work->name = g_strdup(text);
    st->seen_name = TRUE;
    return TRUE;
  }
  if (strcmp(member, "enabled") == 0)
    return vigil_json_read_bool(value, "enabled", &work->enabled, error);
  if (strcmp(member, "source") == 0) {
    st->seen_source = TRUE;
    return apply_source(value, "source", st->orig->source, &work->source, error);
  }
  if (strcmp(member, "sub_source") == 0) {
    if (JSON_NODE_HOLDS_NULL(value)) {
      g_clear_pointer(&work->sub_source, g_free);
      return TRUE;
    }
    return apply_source(value, "sub_source", st->orig->sub_source, &work->sub_source, error);
  }
  if (strcmp(member, "sub_username") == 0)
    return apply_credential(value, "sub_username", &work->sub_username, error);
  if (strcmp(member, "sub_password") == 0)
    return apply_credential(value, "sub_password", &work->sub_password, error);
  if (strcmp(member, "record_stream") == 0)
    return apply_stream_choice(value, "record_stream", 3, &work->record_stream, error);
  if (strcmp(member, "barcode_stream") == 0)
    return apply_stream_choice(value, "barcode_stream", 2, &work->barcode_stream, error);
  if (strcmp(member, "barcode_interval_s") == 0)
    return apply_barcode_interval(value, &work->barcode_interval_s, error);
  if (strcmp(member, "username") == 0)
    return apply_credential(value, "username", &work->username, error);
  if (strcmp(member, "password") == 0)
    return apply_credential(value, "password", &work->password, error);
  if (strcmp(member, "rtsp_transport") == 0) {
    int v;
    if (!vigil_json_read_enum(value, "rtsp_transport", transport_names,
                              G_N_ELEMENTS(transport_names), &v, error))
      return FALSE;
    work->rtsp_transport = (VigilRtspTransport)v;
    return TRUE;
  }
  if (strcmp(member, "record") == 0) {
    int v;
    if (!vigil_json_read_enum(value, "record", record_names, G_N_ELEMENTS(record_names), &v, error))
      return FALSE;
    work->record = (VigilRecordMode)v;
    return TRUE;
  }
  if (strcmp(member, "pre_roll_s") == 0)
    return vigil_json_read_int(value, "pre_roll_s", 0, 60, &work->pre_roll_s, error);
  if (strcmp(member, "post_roll_s") == 0)
    return vigil_json_read_int(value, "post_roll_s", 0, 3600, &work->post_roll_s, error);
  if (strcmp(member, "retain_days") == 0)
    return vigil_json_read_int(value, "retain_days", 1, 3650, &work->retain_days, error);
  if (strcmp(member, "motion") == 0)
    return apply_motion(work, value, error);
  if (strcmp(member, "detect") == 0)
    return apply_detect(work, value, error);
  if (strcmp(member, "barcodes") == 0)
    return vigil_json_read_bool(value, "barcodes", &work->barcodes, error);
  if (strcmp(member, "onvif") == 0)
    return apply_onvif(work, value, error);
  if (strcmp(member, "status") == 0 || strcmp(member, "password_set") == 0 ||
      strcmp(member, "sub_password_set") == 0)
    return vigil_json_field_invalid(error, member, "is read-only");
  return unknown_field(error, "", member);
}

gboolean vigil_camera_config_apply_json(VigilCameraConfig *cfg, JsonNode *node, gboolean creating,
                                        GError **error)
{
  g_return_val_if_fail(cfg != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
    g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID, "a camera must be a JSON object");
    return FALSE;
  }

  g_autoptr(VigilCameraConfig) work = vigil_camera_config_copy(cfg);
  ApplyState st = {.orig = cfg, .creating = creating};

  JsonObjectIter iter;
  const char *member;
  JsonNode *value;
  json_object_iter_init(&iter, json_node_get_object(node));
  while (json_object_iter_next(&iter, &member, &value)) {
    if (!apply_member(work, member, value, &st, error))
      return FALSE;
  }

  if (creating) {
    if (!st.seen_name)
      return vigil_json_field_invalid(error, "name", "is required");
    if (!st.seen_source)
      return vigil_json_field_invalid(error, "source", "is required");
    if (!st.seen_id) {
      g_free(work->id);
      work->id = vigil_slug_from_name(work->name);
      if (work->id == NULL) {
        g_set_error_literal(error, VIGIL_ERROR, VIGIL_ERROR_INVALID,
                            "name gives no usable id; give an id");
        return FALSE;
      }
    }
  }

  /* Commit: @cfg takes over what @work owns. */
  vigil_config_clear(cfg);
  *cfg = *work;
  g_free(g_steal_pointer(&work));
  return TRUE;
}
