/* Camera manager: the running cameras, always in step with the store. */
#define G_LOG_DOMAIN "vigil-camera"

#include "camera/manager.h"

#include "core/error.h"
#include "record/recorder.h"

struct _VigilCameraManager {
  VigilStore *store;     /* borrowed */
  GPtrArray *cameras;    /* VigilCamera*, owned, creation order */
  gchar *recordings_dir; /* NULL: cameras get no recorder */
};

static VigilCamera *new_camera(VigilCameraManager *self, const VigilCameraConfig *cfg)
{
  VigilCamera *camera = vigil_camera_new(cfg);
  if (self->recordings_dir)
    vigil_camera_set_recorder(camera,
                              vigil_recorder_new(cfg->id, self->recordings_dir, self->store));
  return camera;
}

void vigil_camera_manager_set_recordings_dir(VigilCameraManager *self, const char *dir)
{
  g_free(self->recordings_dir);
  self->recordings_dir = g_strdup(dir);
}

VigilCameraManager *vigil_camera_manager_new(VigilStore *store)
{
  VigilCameraManager *self = g_new0(VigilCameraManager, 1);
  self->store = store;
  self->cameras = g_ptr_array_new_with_free_func((GDestroyNotify)vigil_camera_free);
  return self;
}

void vigil_camera_manager_free(VigilCameraManager *self)
{
  if (!self)
    return;
  g_ptr_array_unref(self->cameras);
  g_free(self->recordings_dir);
  g_free(self);
}

gboolean vigil_camera_manager_load(VigilCameraManager *self, GError **error)
{
  g_autoptr(GPtrArray) configs = vigil_store_list_cameras(self->store, error);
  if (!configs)
    return FALSE;
  for (guint i = 0; i < configs->len; i++)
    g_ptr_array_add(self->cameras, new_camera(self, g_ptr_array_index(configs, i)));
  g_info("%u camera(s) loaded", configs->len);
  return TRUE;
}

GPtrArray *vigil_camera_manager_list(VigilCameraManager *self)
{
  return self->cameras;
}

guint vigil_camera_manager_count(VigilCameraManager *self)
{
  return self->cameras->len;
}

static gboolean find(VigilCameraManager *self, const char *id, guint *index)
{
  for (guint i = 0; i < self->cameras->len; i++) {
    if (g_str_equal(vigil_camera_get_id(g_ptr_array_index(self->cameras, i)), id)) {
      *index = i;
      return TRUE;
    }
  }
  return FALSE;
}

VigilCamera *vigil_camera_manager_lookup(VigilCameraManager *self, const char *id)
{
  guint i;
  return find(self, id, &i) ? g_ptr_array_index(self->cameras, i) : NULL;
}

VigilCamera *vigil_camera_manager_create(VigilCameraManager *self, JsonNode *body, GError **error)
{
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_new();
  if (!vigil_camera_config_apply_json(cfg, body, TRUE, error))
    return NULL;
  if (vigil_camera_manager_lookup(self, cfg->id)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_CONFLICT, "a camera with id \"%s\" exists",
                cfg->id);
    return NULL;
  }
  if (!vigil_store_insert_camera(self->store, cfg, error))
    return NULL;
  VigilCamera *camera = new_camera(self, cfg);
  g_ptr_array_add(self->cameras, camera);
  g_info("camera %s created", cfg->id);
  return camera;
}

VigilCamera *vigil_camera_manager_patch(VigilCameraManager *self, const char *id, JsonNode *body,
                                        GError **error)
{
  VigilCamera *camera = vigil_camera_manager_lookup(self, id);
  if (!camera) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no camera \"%s\"", id);
    return NULL;
  }
  g_autoptr(VigilCameraConfig) cfg = vigil_camera_config_copy(vigil_camera_get_config(camera));
  if (!vigil_camera_config_apply_json(cfg, body, FALSE, error))
    return NULL;
  if (!vigil_store_update_camera(self->store, cfg, error))
    return NULL;
  vigil_camera_update(camera, cfg);
  g_info("camera %s updated", id);
  return camera;
}

gboolean vigil_camera_manager_delete(VigilCameraManager *self, const char *id, GError **error)
{
  guint index;
  if (!find(self, id, &index)) {
    g_set_error(error, VIGIL_ERROR, VIGIL_ERROR_NOT_FOUND, "no camera \"%s\"", id);
    return FALSE;
  }
  if (!vigil_store_delete_camera(self->store, id, error))
    return FALSE;
  g_ptr_array_remove_index(self->cameras, index);
  g_info("camera %s deleted", id);
  return TRUE;
}
