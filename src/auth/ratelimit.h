/* Login rate limiting: counts failed logins per key (a user name, a client
 * address) in a sliding window; past the limit a key is blocked until its
 * oldest counted failure leaves the window. Pure, with the clock passed in,
 * so tests control time. Main thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* SPEC: 10 failed logins within 10 minutes. */
#define VIGIL_LOGIN_MAX_FAILURES 10
#define VIGIL_LOGIN_WINDOW_US    (10 * 60 * G_USEC_PER_SEC)

typedef struct _VigilRateLimiter VigilRateLimiter;

VigilRateLimiter *vigil_rate_limiter_new(guint max_failures, gint64 window_us);
void vigil_rate_limiter_free(VigilRateLimiter *limiter);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VigilRateLimiter, vigil_rate_limiter_free)

/* 0 when @key may try now; otherwise the seconds (rounded up, >= 1) until it
 * may, for Retry-After. A NULL key is never blocked. */
gint64 vigil_rate_limiter_retry_after(VigilRateLimiter *limiter, const char *key, gint64 now_us);

/* The same, counting @pending more failures (checks still running). */
gint64 vigil_rate_limiter_retry_after_pending(VigilRateLimiter *limiter, const char *key,
                                              guint pending, gint64 now_us);

/* Counts one failure of @key at @now_us. */
void vigil_rate_limiter_fail(VigilRateLimiter *limiter, const char *key, gint64 now_us);

/* Forgets keys whose failures all left the window (bounds memory when many
 * addresses or names fail once). Called by fail() from time to time too. */
void vigil_rate_limiter_prune(VigilRateLimiter *limiter, gint64 now_us);

/* Number of keys held (for tests). */
guint vigil_rate_limiter_size(VigilRateLimiter *limiter);

/* The daemon's one login limiter (VIGIL_LOGIN_MAX_FAILURES in
 * VIGIL_LOGIN_WINDOW_US), shared by every way in (HTTP and RTSP), so that
 * guessing over one protocol counts against the other. Main thread.
 * vigil_login_failed counts a failure for @name (may be NULL) and @address;
 * vigil_login_retry_after tells whether either is blocked: the Retry-After
 * seconds, or 0. */
void vigil_login_failed(const char *name, const char *address);
gint64 vigil_login_retry_after(const char *name, const char *address);
/* A password check off the main loop counts as a failure for
 * vigil_login_retry_after from its start to its end (when its real outcome,
 * vigil_login_failed or not, is known): a burst of guesses sent at once is
 * limited like guesses sent one after another. */
void vigil_login_check_started(const char *name, const char *address);
void vigil_login_check_ended(const char *name, const char *address);

G_END_DECLS
