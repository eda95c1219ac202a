/* Matching a request path against a route pattern such as
 * "/api/v1/cameras/{id}/snapshot.jpg": pure string work, no server, so the
 * route table (routes.c) can be tested without one. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The {name} -> value map of the segments @path gives @pattern's
 * parameters, or NULL when @path does not match. Literal segments match
 * exactly, a "{name}" segment matches any non-empty one; one trailing slash
 * on @path is ignored ("/api/v1/cameras/" is "/api/v1/cameras"). */
GHashTable *vigil_route_match(const char *pattern, const char *path);

G_END_DECLS
