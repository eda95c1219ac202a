/* HTTP Basic authentication against the users table, with an in-memory
 * cache so that scripts polling the API do not pay an Argon2id hash per
 * request. Main thread. */
#pragma once

#include <gio/gio.h>

#include "store/store.h"

G_BEGIN_DECLS

/* A successful check stays in the cache while it is used at least this
 * often, and while the user's stored password hash stays the same. */
#define VIGIL_AUTH_CACHE_US (5 * 60 * G_USEC_PER_SEC)

/* Checks an "Authorization" header value ("Basic base64(user:password)").
 * On success returns the user (free with vigil_user_free); NULL otherwise. */
VigilUser *vigil_auth_basic(VigilStore *store, const char *authorization);

/* TRUE when vigil_auth_basic(@authorization) answers without hashing: the
 * credentials are cached, or the header is not well-formed Basic. */
gboolean vigil_auth_basic_is_cached(VigilStore *store, const char *authorization);

/* vigil_auth_basic with the Argon2id check on the password thread
 * (vigil_password_verify_async); requests with the same credentials share
 * one check, which counts for the login rate limit of its name and @address
 * while it runs (vigil_login_check_started). vigil_auth_basic_finish gives the user, NULL for wrong
 * credentials, or NULL with @error when the check could not run (too many
 * waiting). */
void vigil_auth_basic_async(VigilStore *store, const char *authorization, const char *address,
                            GAsyncReadyCallback callback, gpointer user_data);
VigilUser *vigil_auth_basic_finish(GAsyncResult *result, GError **error);

/* The user name of a well-formed "Basic ..." header value (for rate
 * limiting by name before checking), NULL otherwise. */
gchar *vigil_auth_basic_name(const char *authorization);

/* Forgets every cached success (after a password or user change). */
void vigil_auth_basic_forget(void);

G_END_DECLS
