/* vigil's one error domain: every runtime failure a user can cause or see
 * carries one of these codes, which the HTTP layer maps to a status code. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VIGIL_ERROR (vigil_error_quark())
GQuark vigil_error_quark(void);

typedef enum {
  VIGIL_ERROR_INVALID,   /* bad input: 400 */
  VIGIL_ERROR_NOT_FOUND, /* 404 */
  VIGIL_ERROR_CONFLICT,  /* duplicate id or name: 409 */
  VIGIL_ERROR_TOO_LARGE, /* body over the limit: 413 */
  VIGIL_ERROR_FORBIDDEN, /* 403 */
  VIGIL_ERROR_STORAGE,   /* database or disk trouble: 500 */
  VIGIL_ERROR_FAILED,    /* anything else: 500 */
  VIGIL_ERROR_BUSY,      /* too much already waiting: 503, try again */
} VigilErrorCode;

G_END_DECLS
