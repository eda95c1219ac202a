/* HTTP Basic authentication against the users table, with a short-lived
 * in-memory cache so that scripts polling the API do not pay an Argon2id hash
 * per request. Main thread. */
#pragma once

#include <glib.h>

#include "store/store.h"

G_BEGIN_DECLS

/* A successful check stays valid in the cache this long. */
#define VIGIL_AUTH_CACHE_US (5 * 60 * G_USEC_PER_SEC)

/* Checks an "Authorization" header value ("Basic base64(user:password)").
 * On success returns the user (free with vigil_user_free); NULL otherwise. */
VigilUser *vigil_auth_basic(VigilStore *store, const char *authorization);

/* The user name of a well-formed "Basic ..." header value (for rate
 * limiting by name before checking), NULL otherwise. */
gchar *vigil_auth_basic_name(const char *authorization);

/* Forgets every cached success (after a password or user change). */
void vigil_auth_basic_forget(void);

G_END_DECLS
