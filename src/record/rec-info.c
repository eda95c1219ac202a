/* VigilRecInfo (see rec-info.h). */
#include "record/rec-info.h"

VigilRecInfo *vigil_rec_info_new(const char *camera, const char *reason)
{
  VigilRecInfo *info = g_new0(VigilRecInfo, 1);
  info->camera = g_strdup(camera);
  info->reason = g_strdup(reason);
  info->refcount = 1;
  return info;
}

VigilRecInfo *vigil_rec_info_ref(VigilRecInfo *info)
{
  g_atomic_int_inc(&info->refcount);
  return info;
}

void vigil_rec_info_unref(VigilRecInfo *info)
{
  if (!info || !g_atomic_int_dec_and_test(&info->refcount))
    return;
  g_free(info->camera);
  g_free(info->reason);
  g_free(info->rel_path);
  if (info->sub_waiting)
    g_ptr_array_unref(info->sub_waiting);
  g_free(info);
}
