/* Retention: deletes the oldest recordings by age (per camera retain_days)
 * and by disk quota (settings storage.max_bytes and min_free_percent),
 * sparing recordings marked keep and those still being written. The
 * selection is a pure function (unit-tested); the job runs it periodically
 * on the main loop and deletes in small batches, file before row.
 *
 * Retention knows the store and the recordings directory; each camera's
 * retain_days comes from its configuration in the store. What else it needs
 * (the storage settings, a camera's recorder, event thumbnails) it reaches
 * through VigilRetentionFuncs, which main.c fills in. Main thread only. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

/* At most this many recordings are deleted per pass. */
#define VIGIL_RETENTION_BATCH      20
#define VIGIL_RETENTION_INTERVAL_S 10

typedef struct {
  gint64 id;
  gint64 end_us;
  gint64 size_bytes;
  int retain_days; /* <= 0: no age limit */
  gboolean keep;
  gboolean open;
} VigilRetentionItem;

typedef struct {
  gint64 now_us;           /* wall clock */
  gint64 max_bytes;        /* < 0: no quota */
  double min_free_percent; /* of fs_total; <= 0: none */
  guint64 fs_total, fs_free;
  guint batch; /* 0 = no limit */
} VigilRetentionLimits;

/* @items oldest first. Returns the ids to delete (gint64), oldest first:
 * first every recording past its camera's retain_days, then, oldest first,
 * as many more as it takes to bring the recordings' total under max_bytes
 * and the filesystem's free space up to min_free_percent. Never a keep or
 * open recording; at most @batch.
 *
 * If the closed recordings cannot free enough, @split_out (may be NULL)
 * receives, oldest first, the open recordings that would be needed too: the
 * caller splits them (vigil_recorder_split) so that their finished part can
 * go in the next pass. Otherwise one endless continuous recording would keep
 * the disk over its quota. */
GArray *vigil_retention_select(const VigilRetentionItem *items, guint n_items,
                               const VigilRetentionLimits *limits, GArray *split_out);

/* Wall-clock steps. Deleting by age trusts the wall clock, and a clock
 * stepped forward by mistake (a wrong NTP answer, a typo in `date -s`)
 * would make a month of footage "old" at once. So each pass compares how
 * far the wall clock moved with how far the monotonic clock did: after a
 * forward step of more than VIGIL_CLOCK_STEP_US, deleting by age (recordings
 * and event thumbnails) waits VIGIL_CLOCK_STEP_PAUSE_US of real time, with
 * a warning, so that a wrong clock can be set right before it costs
 * footage. The quota and the free-space floor still apply meanwhile, so the
 * disk never fills. A step back needs nothing: footage looks younger and is
 * kept longer. The guard lives in the process: a restart takes the clock as
 * it is. */
#define VIGIL_CLOCK_STEP_US       (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)
#define VIGIL_CLOCK_STEP_PAUSE_US (G_GINT64_CONSTANT(24 * 3600) * G_USEC_PER_SEC)

typedef struct {
  gint64 wall_us, mono_us; /* the clocks at the last update; mono_us 0: none yet */
  gint64 paused_until_us;  /* monotonic; deleting by age waits until then */
} VigilClockGuard;

/* Takes the clocks now. Returns the forward step since the last update
 * (how much further the wall clock went than the monotonic clock) when it
 * is over VIGIL_CLOCK_STEP_US, and then pauses; 0 otherwise. */
gint64 vigil_clock_guard_update(VigilClockGuard *guard, gint64 wall_us, gint64 mono_us);
/* TRUE while deleting by age waits after a forward step. */
gboolean vigil_clock_guard_paused(const VigilClockGuard *guard, gint64 mono_us);

typedef struct _VigilRetention VigilRetention;

/* Called on the main thread during a pass; any may be NULL. */
typedef struct {
  /* The storage settings now: storage.max_bytes (< 0: no quota) and
   * min_free_percent (<= 0: none). NULL: no limit but age. */
  void (*get_limits)(gint64 *max_bytes, double *min_free_percent, gpointer data);
  /* The camera's recorder should split the recording it is writing
   * (vigil_recorder_split) so that its older part can go. */
  void (*split)(const char *camera, gpointer data);
  /* The end of a pass: @retain_days maps each configured camera's id to its
   * retain_days (GINT_TO_POINTER); other data kept per camera and day (event
   * thumbnails) expires the same way. */
  void (*expire)(GHashTable *retain_days, gint64 now_us, gpointer data);
} VigilRetentionFuncs;

/* A job deleting from @store and @recordings_dir every
 * VIGIL_RETENTION_INTERVAL_S. @funcs is copied; @data goes to each. */
VigilRetention *vigil_retention_new(VigilStore *store, const char *recordings_dir,
                                    const VigilRetentionFuncs *funcs, gpointer data);
void vigil_retention_free(VigilRetention *retention);
/* One pass now; returns how many recordings it deleted. */
guint vigil_retention_run(VigilRetention *retention);
/* Asks for a pass soon (the disk is full, the limits changed). */
void vigil_retention_kick(VigilRetention *retention);

/* Deletes one recording: its files, then its rows. Errors: NOT_FOUND,
 * STORAGE. */
gboolean vigil_recording_delete(VigilStore *store, const char *recordings_dir, gint64 id,
                                GError **error);

G_END_DECLS
