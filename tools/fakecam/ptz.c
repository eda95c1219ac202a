/* vigil-fakecam's PTZ state (ptz.h): one mutex around a position that moves
 * with the speeds last given, evaluated lazily from the time they were. */
#include "ptz.h"

static GMutex lock;
static VigilFakePtzPosition at;    /* position at @since */
static VigilFakePtzPosition speed; /* units per VIGIL_FAKE_PTZ_SECONDS_PER_UNIT */
static gint64 since;               /* monotonic µs */
static GPtrArray *presets;         /* VigilFakePtzPreset* */
static guint next_token = 1;

static void preset_free(VigilFakePtzPreset *p)
{
  g_free(p->token);
  g_free(p->name);
  g_free(p);
}

/* Brings @at up to now; call with the lock held. */
static void advance(void)
{
  gint64 now = g_get_monotonic_time();
  double dt = since ? (now - since) / (double)G_USEC_PER_SEC / VIGIL_FAKE_PTZ_SECONDS_PER_UNIT : 0;
  at.pan = CLAMP(at.pan + speed.pan * dt, -1.0, 1.0);
  at.tilt = CLAMP(at.tilt + speed.tilt * dt, -1.0, 1.0);
  at.zoom = CLAMP(at.zoom + speed.zoom * dt, 0.0, 1.0);
  since = now;
}

void vigil_fake_ptz_move(double pan, double tilt, double zoom)
{
  g_mutex_lock(&lock);
  advance();
  speed.pan = CLAMP(pan, -1.0, 1.0);
  speed.tilt = CLAMP(tilt, -1.0, 1.0);
  speed.zoom = CLAMP(zoom, -1.0, 1.0);
  g_mutex_unlock(&lock);
}

void vigil_fake_ptz_stop(gboolean pan_tilt, gboolean zoom)
{
  g_mutex_lock(&lock);
  advance();
  if (pan_tilt)
    speed.pan = speed.tilt = 0;
  if (zoom)
    speed.zoom = 0;
  g_mutex_unlock(&lock);
}

VigilFakePtzPosition vigil_fake_ptz_position(void)
{
  g_mutex_lock(&lock);
  advance();
  VigilFakePtzPosition p = at;
  g_mutex_unlock(&lock);
  return p;
}

void vigil_fake_ptz_home(void)
{
  g_mutex_lock(&lock);
  advance();
  at = (VigilFakePtzPosition){0, 0, 0};
  speed = (VigilFakePtzPosition){0, 0, 0};
  g_mutex_unlock(&lock);
}

void vigil_fake_ptz_relative(double pan, double tilt, double zoom)
{
  g_mutex_lock(&lock);
  advance();
  at.pan = CLAMP(at.pan + pan, -1.0, 1.0);
  at.tilt = CLAMP(at.tilt + tilt, -1.0, 1.0);
  at.zoom = CLAMP(at.zoom + zoom, 0.0, 1.0);
  speed = (VigilFakePtzPosition){0, 0, 0};
  g_mutex_unlock(&lock);
}

static VigilFakePtzPreset *find(const char *token)
{
  for (guint i = 0; presets && i < presets->len; i++) {
    VigilFakePtzPreset *p = g_ptr_array_index(presets, i);
    if (g_str_equal(p->token, token))
      return p;
  }
  return NULL;
}

VigilFakePtzResult vigil_fake_ptz_set_preset(const char *name, char **token)
{
  g_mutex_lock(&lock);
  if (!presets)
    presets = g_ptr_array_new_with_free_func((GDestroyNotify)preset_free);
  VigilFakePtzResult r = VIGIL_FAKE_PTZ_OK;
  for (guint i = 0; name && i < presets->len; i++)
    if (g_str_equal(((VigilFakePtzPreset *)g_ptr_array_index(presets, i))->name, name))
      r = VIGIL_FAKE_PTZ_NAME_EXISTS;
  if (r == VIGIL_FAKE_PTZ_OK && presets->len >= VIGIL_FAKE_PTZ_MAX_PRESETS)
    r = VIGIL_FAKE_PTZ_TOO_MANY;
  if (r == VIGIL_FAKE_PTZ_OK) {
    advance();
    VigilFakePtzPreset *p = g_new0(VigilFakePtzPreset, 1);
    p->token = g_strdup_printf("%u", next_token++);
    p->name = g_strdup(name ? name : p->token);
    p->position = at;
    g_ptr_array_add(presets, p);
    *token = g_strdup(p->token);
  }
  g_mutex_unlock(&lock);
  return r;
}

VigilFakePtzResult vigil_fake_ptz_goto_preset(const char *token)
{
  g_mutex_lock(&lock);
  VigilFakePtzPreset *p = find(token);
  if (p) {
    advance();
    at = p->position;
    speed = (VigilFakePtzPosition){0, 0, 0};
  }
  g_mutex_unlock(&lock);
  return p ? VIGIL_FAKE_PTZ_OK : VIGIL_FAKE_PTZ_NO_TOKEN;
}

VigilFakePtzResult vigil_fake_ptz_remove_preset(const char *token)
{
  g_mutex_lock(&lock);
  VigilFakePtzPreset *p = find(token);
  if (p)
    g_ptr_array_remove(presets, p);
  g_mutex_unlock(&lock);
  return p ? VIGIL_FAKE_PTZ_OK : VIGIL_FAKE_PTZ_NO_TOKEN;
}

GPtrArray *vigil_fake_ptz_presets(void)
{
  GPtrArray *copy = g_ptr_array_new_with_free_func((GDestroyNotify)preset_free);
  g_mutex_lock(&lock);
  for (guint i = 0; presets && i < presets->len; i++) {
    const VigilFakePtzPreset *p = g_ptr_array_index(presets, i);
    VigilFakePtzPreset *c = g_new0(VigilFakePtzPreset, 1);
    c->token = g_strdup(p->token);
    c->name = g_strdup(p->name);
    c->position = p->position;
    g_ptr_array_add(copy, c);
  }
  g_mutex_unlock(&lock);
  return copy;
}
