/* Event logic of one camera's analysis (see state.h). */
#include "analysis/state.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
  bool active;
  int quiet; /* keyframes without motion since the last one with */
  double peak;
} Region;

typedef struct Seen {
  char *format;
  char *text;
  int missing; /* keyframes since last seen */
  struct Seen *next;
} Seen;

enum { ALARM_DARK, ALARM_FROZEN, ALARM_OFFLINE, N_ALARMS };
static const char *const alarm_labels[N_ALARMS] = {"camera-dark", "frozen-image", "camera-offline"};

struct VigilAnalysisState {
  VigilActionFunc func;
  void *user_data;
  int64_t frozen_us, offline_us;

  Region regions[VIGIL_STATE_MAX_REGIONS];
  int n_zones;
  Seen *seen;

  bool alarms[N_ALARMS];
  int dark_run, bright_run;
  /* Both monotonic (mono_us). */
  bool identical; /* identical_since is running */
  int64_t identical_since;
  bool online;
  bool offline_clock; /* offline_since is running */
  int64_t offline_since;
};

static void emit(VigilAnalysisState *self, VigilActionKind kind, int region, int64_t time_us,
                 double score, const char *label, const char *format, const char *text)
{
  VigilAction a = {.kind = kind,
                   .region = region,
                   .time_us = time_us,
                   .score = score,
                   .label = label,
                   .format = format,
                   .text = text};
  self->func(&a, self->user_data);
}

static void set_alarm(VigilAnalysisState *self, int which, bool on, int64_t time_us)
{
  if (self->alarms[which] == on)
    return;
  self->alarms[which] = on;
  emit(self, on ? VIGIL_ACTION_ALARM_RAISE : VIGIL_ACTION_ALARM_CLEAR, 0, time_us, 0.0,
       alarm_labels[which], NULL, NULL);
}

VigilAnalysisState *vigil_analysis_state_new(VigilActionFunc func, void *user_data)
{
  VigilAnalysisState *self = calloc(1, sizeof(VigilAnalysisState));
  self->func = func;
  self->user_data = user_data;
  self->frozen_us = VIGIL_STATE_FROZEN_US;
  self->offline_us = VIGIL_STATE_OFFLINE_US;
  return self;
}

static void forget_codes(VigilAnalysisState *self)
{
  while (self->seen) {
    Seen *next = self->seen->next;
    free(self->seen->format);
    free(self->seen->text);
    free(self->seen);
    self->seen = next;
  }
}

void vigil_analysis_state_free(VigilAnalysisState *self)
{
  if (!self)
    return;
  forget_codes(self);
  free(self);
}

void vigil_analysis_state_set_timeouts(VigilAnalysisState *self, int64_t frozen_us,
                                       int64_t offline_us)
{
  self->frozen_us = frozen_us;
  self->offline_us = offline_us;
}

static void end_motion(VigilAnalysisState *self, int64_t time_us)
{
  for (int i = 0; i < VIGIL_STATE_MAX_REGIONS; i++) {
    Region *r = &self->regions[i];
    if (r->active)
      emit(self, VIGIL_ACTION_MOTION_END, i, time_us, r->peak, NULL, NULL, NULL);
    memset(r, 0, sizeof(*r));
  }
}

static void update_motion(VigilAnalysisState *self, const VigilObservation *obs)
{
  int n_zones =
      obs->n_zones < VIGIL_STATE_MAX_REGIONS - 1 ? obs->n_zones : VIGIL_STATE_MAX_REGIONS - 1;
  if (n_zones != self->n_zones) {
    /* Zones were edited: what was open belongs to the old regions. */
    end_motion(self, obs->time_us);
    self->n_zones = n_zones;
  }
  if (!obs->has_levels)
    return;
  /* With zones, only the zones count: the user drew them to say where. */
  int first = n_zones > 0 ? 1 : 0;
  int last = n_zones > 0 ? n_zones : 0;
  for (int i = first; i <= last; i++) {
    Region *r = &self->regions[i];
    double level = obs->levels[i];
    if (level > obs->thresholds[i]) {
      r->quiet = 0;
      if (!r->active) {
        r->active = true;
        r->peak = level;
        emit(self, VIGIL_ACTION_MOTION_START, i, obs->time_us, level, NULL, NULL, NULL);
      } else {
        if (level > r->peak)
          r->peak = level;
        emit(self, VIGIL_ACTION_MOTION_ON, i, obs->time_us, level, NULL, NULL, NULL);
      }
    } else if (r->active && ++r->quiet >= VIGIL_STATE_QUIET_KEYFRAMES) {
      emit(self, VIGIL_ACTION_MOTION_END, i, obs->time_us, r->peak, NULL, NULL, NULL);
      memset(r, 0, sizeof(*r));
    }
  }
}

static void update_codes(VigilAnalysisState *self, const VigilObservation *obs)
{
  if (!obs->barcodes) {
    forget_codes(self);
    return;
  }
  if (obs->codes_skipped)
    return;
  for (Seen *s = self->seen; s; s = s->next)
    s->missing++;
  for (int i = 0; i < obs->n_codes; i++) {
    const VigilCode *c = &obs->codes[i];
    Seen *s = self->seen;
    while (s && !(strcmp(s->format, c->format) == 0 && strcmp(s->text, c->text) == 0))
      s = s->next;
    if (s) {
      s->missing = 0;
      continue;
    }
    s = calloc(1, sizeof(Seen));
    s->format = strdup(c->format);
    s->text = strdup(c->text);
    s->next = self->seen;
    self->seen = s;
    emit(self, VIGIL_ACTION_BARCODE, 0, obs->time_us, 0.0, NULL, c->format, c->text);
  }
  Seen **link = &self->seen;
  while (*link) {
    Seen *s = *link;
    if (s->missing > VIGIL_STATE_BARCODE_FORGET) {
      *link = s->next;
      free(s->format);
      free(s->text);
      free(s);
    } else {
      link = &s->next;
    }
  }
}

static void update_alarms(VigilAnalysisState *self, const VigilObservation *obs)
{
  if (obs->mean_luma < VIGIL_STATE_DARK_LUMA) {
    self->bright_run = 0;
    if (++self->dark_run >= VIGIL_STATE_DARK_KEYFRAMES)
      set_alarm(self, ALARM_DARK, true, obs->time_us);
  } else {
    self->dark_run = 0;
    if (++self->bright_run >= VIGIL_STATE_DARK_KEYFRAMES)
      set_alarm(self, ALARM_DARK, false, obs->time_us);
  }

  if (!obs->has_levels)
    return; /* nothing to compare with: neither frozen nor changing */
  if (obs->identical) {
    if (!self->identical) {
      self->identical = true;
      self->identical_since = obs->mono_us;
    }
    if (obs->mono_us - self->identical_since >= self->frozen_us)
      set_alarm(self, ALARM_FROZEN, true, obs->time_us);
  } else {
    self->identical = false;
    set_alarm(self, ALARM_FROZEN, false, obs->time_us);
  }
}

void vigil_analysis_state_keyframe(VigilAnalysisState *self, const VigilObservation *obs)
{
  if (obs->codes_only) {
    update_codes(self, obs);
    return;
  }
  update_motion(self, obs);
  update_codes(self, obs);
  update_alarms(self, obs);
}

void vigil_analysis_state_online(VigilAnalysisState *self, bool online, int64_t time_us,
                                 int64_t mono_us)
{
  if (online == self->online && (online || self->offline_clock))
    return;
  self->online = online;
  if (online) {
    self->offline_clock = false;
    set_alarm(self, ALARM_OFFLINE, false, time_us);
  } else {
    self->offline_clock = true;
    self->offline_since = mono_us;
    end_motion(self, time_us);
    /* The next frame after a reconnect is compared with nothing. */
    self->identical = false;
  }
}

void vigil_analysis_state_tick(VigilAnalysisState *self, int64_t time_us, int64_t mono_us)
{
  if (!self->online && self->offline_clock && mono_us - self->offline_since >= self->offline_us)
    set_alarm(self, ALARM_OFFLINE, true, time_us);
}

void vigil_analysis_state_end_motion(VigilAnalysisState *self, int64_t time_us)
{
  end_motion(self, time_us);
}

void vigil_analysis_state_finish(VigilAnalysisState *self, int64_t time_us)
{
  end_motion(self, time_us);
  for (int i = 0; i < N_ALARMS; i++)
    set_alarm(self, i, false, time_us);
  forget_codes(self);
}

bool vigil_analysis_state_alarm_active(VigilAnalysisState *self, const char *label)
{
  for (int i = 0; i < N_ALARMS; i++)
    if (strcmp(alarm_labels[i], label) == 0)
      return self->alarms[i];
  return false;
}
