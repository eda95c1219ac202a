/* The systemd notification protocol (sd_notify(3)) without libsystemd: one
 * datagram per message to the AF_UNIX socket named by $NOTIFY_SOCKET (a path,
 * or an abstract name written with a leading '@'). Everything is a no-op when
 * the variable is unset, i.e. when vigil does not run under Type=notify.
 * Main thread (the watchdog timer runs on the default main context). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sends @state ("READY=1", "STATUS=…", "WATCHDOG=1", "STOPPING=1", several
 * separated by '\n'). TRUE when it was sent; FALSE when $NOTIFY_SOCKET is
 * unset or unusable, or sending failed (logged at debug level only: the
 * daemon runs on either way). */
gboolean vigil_sd_notify(const char *state);
/* printf-style vigil_sd_notify(). */
gboolean vigil_sd_notifyf(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* $WATCHDOG_USEC when it is set, valid and meant for this process
 * ($WATCHDOG_PID unset or equal to getpid()), else 0. */
guint64 vigil_sd_watchdog_usec(void);

/* When vigil_sd_watchdog_usec() is not 0: sends WATCHDOG=1 now and then every
 * half of it from a main-loop timer, and returns that timer's source id.
 * Otherwise 0. Remove the source with g_source_remove(). */
guint vigil_sd_watchdog_start(void);

G_END_DECLS
