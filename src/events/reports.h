/* The analyzers' reports (analysis/analyzer.h) as events on the bus: main.c
 * hands vigil_events_analyzer_reports() to vigil_analyzer_set_report_funcs.
 * Main thread, like the bus. */
#pragma once

#include "analysis/analyzer.h"

G_BEGIN_DECLS

/* Static; the functions take no user data. */
const VigilAnalyzerReportFuncs *vigil_events_analyzer_reports(void);

G_END_DECLS
