/* VigilStore: the one module that talks to SQLite (DATA/vigil.db). Everything
 * vigil keeps goes through here, so another backend could replace it.
 *
 * WAL mode, synchronous=NORMAL, foreign keys on. The schema version lives in
 * PRAGMA user_version; migrations run in order at open, each in a transaction.
 * All calls are made from the main thread. */
#pragma once

#include <glib.h>

#include "config/config.h"

G_BEGIN_DECLS

typedef struct _VigilStore VigilStore;

/* Opens (creating if needed, file mode 0600) and migrates to the latest schema.
 * A database newer than this build fails with a clear error. */
VigilStore *vigil_store_open(const char *path, GError **error);
void vigil_store_close(VigilStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilStore, vigil_store_close)

/* The schema version this build migrates to, and the one the file has. */
int vigil_store_latest_version(void);
int vigil_store_version(VigilStore *store);

/* Bytes SQLite has allocated, for every open database (its page caches
 * first): part of the heap /metrics reports. */
gint64 vigil_store_memory_used(void);

/* Global settings: one JSON document per key ("storage", "detect", ...).
 * get returns NULL when the key was never set (or on a database error, which
 * is logged). set refuses text that does not parse as JSON with
 * VIGIL_ERROR_INVALID, so get always returns JSON. */
gchar *vigil_store_get_setting(VigilStore *store, const char *key);
gboolean vigil_store_set_setting(VigilStore *store, const char *key, const char *json,
                                 GError **error);

/* Cameras, in creation order. insert: VIGIL_ERROR_CONFLICT on a duplicate id.
 * update/delete: VIGIL_ERROR_NOT_FOUND on an unknown id. The password is
 * stored (the daemon needs it to connect) but kept out of the JSON column.
 * list skips a row whose stored configuration no longer loads, with a warning
 * naming the camera, so one damaged row cannot hide the others. delete also
 * removes the per-user rights on that camera id. */
GPtrArray *vigil_store_list_cameras(VigilStore *store, GError **error); /* VigilCameraConfig* */
gboolean vigil_store_insert_camera(VigilStore *store, const VigilCameraConfig *cfg, GError **error);
gboolean vigil_store_update_camera(VigilStore *store, const VigilCameraConfig *cfg, GError **error);
gboolean vigil_store_delete_camera(VigilStore *store, const char *id, GError **error);

typedef struct {
  gchar *name;
  gchar *role;          /* "admin", "operator", "viewer" */
  gchar *password_hash; /* Argon2id encoded string */
  gint64 created_us;
} VigilUser;

void vigil_user_free(VigilUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilUser, vigil_user_free)

/* -1 on a database error (logged), never 0 by mistake. */
int vigil_store_count_users(VigilStore *store);
/* VIGIL_ERROR_CONFLICT on a duplicate name, VIGIL_ERROR_INVALID on a role
 * other than admin/operator/viewer. */
gboolean vigil_store_insert_user(VigilStore *store, const char *name, const char *role,
                                 const char *password_hash, GError **error);
VigilUser *vigil_store_get_user(VigilStore *store, const char *name); /* NULL if none */

/* --- users, continued (auth) --- */

/* Every user, by name. NULL with @error on a database error. */
GPtrArray *vigil_store_list_users(VigilStore *store, GError **error); /* VigilUser* */
/* Changes the role and/or password hash (NULL leaves it). Refuses to demote
 * the last admin (VIGIL_ERROR_CONFLICT). VIGIL_ERROR_NOT_FOUND for an unknown
 * user. A new password hash also ends the user's sessions and API tokens. */
gboolean vigil_store_update_user(VigilStore *store, const char *name, const char *role,
                                 const char *password_hash, GError **error);
/* Deletes a user with their rights, sessions and tokens. Refuses to delete
 * the last admin (VIGIL_ERROR_CONFLICT); VIGIL_ERROR_NOT_FOUND if none. */
gboolean vigil_store_delete_user(VigilStore *store, const char *name, GError **error);

/* Per-camera rights: camera key (id or "*") -> rights string ("view,playback").
 * get returns a new table (empty when none; NULL on a database error, logged). */
GHashTable *vigil_store_get_user_cameras(VigilStore *store, const char *user);
/* Replaces all rows of @user with @cameras (key -> rights string; empty
 * strings are skipped). */
gboolean vigil_store_set_user_cameras(VigilStore *store, const char *user, GHashTable *cameras,
                                      GError **error);

/* Sessions, keyed by a hash of the token (never the token). lookup returns
 * the user name when a session exists that was used after @idle_after_us and
 * created after @created_after_us, else NULL; it then updates last_used when
 * it is older than @touch_before_us. */
gboolean vigil_store_insert_session(VigilStore *store, const char *token_hash, const char *user,
                                    gint64 now_us, GError **error);
gchar *vigil_store_lookup_session(VigilStore *store, const char *token_hash, gint64 idle_after_us,
                                  gint64 created_after_us, gint64 touch_before_us, gint64 now_us);
void vigil_store_delete_session(VigilStore *store, const char *token_hash);
/* Removes sessions used before @idle_before_us or created before
 * @created_before_us. */
void vigil_store_purge_sessions(VigilStore *store, gint64 idle_before_us, gint64 created_before_us);
void vigil_store_delete_user_sessions(VigilStore *store, const char *user);

/* API tokens: stored as a hash; the token itself is shown once at creation. */
typedef struct {
  gint64 id;
  gchar *user;
  gchar *name; /* may be NULL */
  gint64 created_us;
  gint64 last_used_us; /* 0 = never */
} VigilApiToken;

void vigil_api_token_free(VigilApiToken *token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilApiToken, vigil_api_token_free)

/* Returns the new token's id, or -1 with @error. */
gint64 vigil_store_insert_token(VigilStore *store, const char *user, const char *token_hash,
                                const char *name, gint64 now_us, GError **error);
GPtrArray *vigil_store_list_tokens(VigilStore *store, const char *user,
                                   GError **error); /* VigilApiToken* */
/* The owner of the token with this hash (updating last_used), or NULL. */
gchar *vigil_store_lookup_token(VigilStore *store, const char *token_hash, gint64 now_us);
/* VIGIL_ERROR_NOT_FOUND when @user has no token @id. */
gboolean vigil_store_delete_token(VigilStore *store, const char *user, gint64 id, GError **error);
/* Events (motion, object, barcode, alarm). Times in microseconds since the
 * epoch; end_us 0 while the event is open. camera is NULL for system-wide
 * alarms (disk-low). data is JSON text or NULL. recording 0 = none. */
typedef struct {
  gint64 id;
  gchar *camera;
  gchar *type; /* "motion", "object", "barcode", "alarm" */
  gint64 start_us;
  gint64 end_us;
  gboolean has_score;
  double score;
  gchar *label;
  gboolean has_box;
  double box_x, box_y, box_w, box_h;
  gchar *data;
  gint64 recording;
} VigilEvent;

VigilEvent *vigil_event_copy(const VigilEvent *event);
void vigil_event_free(VigilEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilEvent, vigil_event_free)

/* Inserts @event and sets its id. */
gboolean vigil_store_insert_event(VigilStore *store, VigilEvent *event, GError **error);
/* Rewrites end, score, data and recording of the event with @event->id. */
gboolean vigil_store_update_event(VigilStore *store, const VigilEvent *event, GError **error);
/* Newest first (by start). @camera, @type may be NULL; @among (NULL = no such
 * filter) keeps the events of those cameras and the camera-less ones (system
 * alarms); @from_us/@to_us 0 for no bound (an event is in range when it
 * overlaps [from, to]; an open event lasts until now). */
GPtrArray *vigil_store_list_events(VigilStore *store, const char *camera, const char *const *among,
                                   const char *type, gint64 from_us, gint64 to_us, guint limit,
                                   GError **error); /* VigilEvent* */
/* One event (with its recording link, as in the list); VIGIL_ERROR_NOT_FOUND
 * when there is none. */
VigilEvent *vigil_store_get_event(VigilStore *store, gint64 id, GError **error);
/* Ends the events left open by a previous run (crash, kill) at @end_us. */
gboolean vigil_store_close_open_events(VigilStore *store, gint64 end_us, GError **error);

/* Events and recordings are linked by time, at query time (see
 * docs/recording.md): an event belongs to a recording of its camera when
 * their [start, end] intervals overlap (an open event, and an open recording,
 * last until now). vigil_store_list_events fills VigilEvent.recording so: the
 * explicitly stored link if that recording still exists, else the recording
 * holding the event's start, else the earliest one overlapping it. */
/* That recording for an event of @camera over [@start_us, @end_us] (end 0 =
 * open), or 0 for none (also when @camera is NULL or on error). */
gint64 vigil_store_find_event_recording(VigilStore *store, const char *camera, gint64 start_us,
                                        gint64 end_us);
/* Ids of the events of @camera overlapping the recording [@start_us, @end_us]
 * (@open: still being written, so it lasts until now), oldest first, at most
 * @limit. gint64 array; NULL on error. */
GArray *vigil_store_list_recording_events(VigilStore *store, const char *camera, gint64 start_us,
                                          gint64 end_us, gboolean open, guint limit,
                                          GError **error);

G_END_DECLS
