/* Inside core/: the parts of settings.c kept in their own files. */
#pragma once

#include "core/settings.h"

G_BEGIN_DECLS

/* A deep copy of a list of VigilWebhook (@src may be NULL: empty). */
GPtrArray *vigil_webhooks_copy(const GPtrArray *src);

/* Replaces *@list with the webhooks of @v (a JSON array); a webhook without
 * "secret" or "auth_token" keeps those of the one of the same name in
 * *@list. On failure (a worded 400), *@list is unchanged. */
gboolean vigil_settings_read_notify(GPtrArray **list, JsonNode *v, GError **error);

/* What needs other settings: snapshot "url" needs @public_url. */
gboolean vigil_settings_check_notify(const GPtrArray *list, const char *public_url, GError **error);

/* Member "notify"; @stored: with the secrets, else *_set flags. */
void vigil_settings_build_notify(JsonBuilder *b, const GPtrArray *list, gboolean stored);

G_END_DECLS
