/* Logging: GLib structured logging to stderr, one G_LOG_DOMAIN per module
 * ("vigil-camera", "vigil-http", ...), filtered by --log-level. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  VIGIL_LOG_ERROR,
  VIGIL_LOG_WARNING,
  VIGIL_LOG_INFO,
  VIGIL_LOG_DEBUG,
} VigilLogLevel;

gboolean vigil_log_level_parse(const char *text, VigilLogLevel *level);

/* Installs the writer; messages below @level are dropped. */
void vigil_log_init(VigilLogLevel level);

G_END_DECLS
