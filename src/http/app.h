/* VigilApp: the daemon's parts, wired together once in main.c and handed to
 * the HTTP layer. Main thread only. */
#pragma once

#include <glib.h>

#include "camera/manager.h"
#include "core/settings.h"
#include "mqtt/mqtt.h"
#include "notify/notify.h"
#include "record/retention.h"
#include "restream/restream.h"
#include "store/store.h"

G_BEGIN_DECLS

typedef struct {
  gchar *data_dir;
  VigilStore *store;
  VigilCameraManager *cameras;
  VigilSettings *settings;
  gint64 started_us;         /* monotonic */
  gchar *recordings_dir;     /* DATA/recordings */
  VigilMqtt *mqtt;           /* follows settings "mqtt" */
  VigilNotify *notify;       /* follows settings "notify" */
  VigilRestream *restream;   /* follows settings "rtsp_server" */
  VigilRetention *retention; /* kicked when the storage limits change */
} VigilApp;

G_END_DECLS
