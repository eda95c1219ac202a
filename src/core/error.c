/* The GQuark behind VIGIL_ERROR, vigil's single error domain. */
#include "core/error.h"

G_DEFINE_QUARK(vigil-error-quark, vigil_error)
