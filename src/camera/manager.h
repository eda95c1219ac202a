/* VigilCameraManager: the set of cameras at run time, kept in step with the
 * store. Every change (create, patch, delete) is written to the store first and
 * then applied to the running camera at once, without restart. Main thread. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "camera/camera.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct _VigilCameraManager VigilCameraManager;

VigilCameraManager *vigil_camera_manager_new(VigilStore *store);
void vigil_camera_manager_free(VigilCameraManager *manager);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilCameraManager, vigil_camera_manager_free)

/* Cameras created from now on record under @dir (DATA/recordings). Call
 * before load; without it cameras get no recorder (tests). */
void vigil_camera_manager_set_recordings_dir(VigilCameraManager *manager, const char *dir);

/* Starts every camera the store holds. */
gboolean vigil_camera_manager_load(VigilCameraManager *manager, GError **error);

/* The cameras in creation order (borrowed pointers). */
GPtrArray *vigil_camera_manager_list(VigilCameraManager *manager);
guint vigil_camera_manager_count(VigilCameraManager *manager);
VigilCamera *vigil_camera_manager_lookup(VigilCameraManager *manager, const char *id);

/* From an API body. Errors: VIGIL_ERROR_INVALID, _CONFLICT, _STORAGE. */
VigilCamera *vigil_camera_manager_create(VigilCameraManager *manager, JsonNode *body,
                                         GError **error);
/* Errors: VIGIL_ERROR_NOT_FOUND, _INVALID, _STORAGE. */
VigilCamera *vigil_camera_manager_patch(VigilCameraManager *manager, const char *id, JsonNode *body,
                                        GError **error);
gboolean vigil_camera_manager_delete(VigilCameraManager *manager, const char *id, GError **error);

G_END_DECLS
