/* The GQuark behind VIGIL_ERROR, vigil's single error domain. */
#include "core/error.h"

/* clang-format off */
G_DEFINE_QUARK(vigil-error-quark, vigil_error)
/* clang-format on */
