/* Analyzer reports into the event bus (see reports.h). */
#define G_LOG_DOMAIN "vigil-events"

#include "events/reports.h"

#include <math.h>

#include "events/events.h"

static gint64 event_begin(const char *camera, const char *type, gint64 start_us, double score,
                          const char *label, const VigilDetection *box, gpointer data)
{
  if (box)
    return vigil_events_begin_box(camera, type, start_us, score, label, box->x, box->y, box->w,
                                  box->h);
  return vigil_events_begin(camera, type, start_us, score, label, NULL);
}

static void event_score(gint64 id, double score, gpointer data)
{
  vigil_events_update_score(id, score);
}

static void event_end(gint64 id, gint64 end_us, gpointer data)
{
  vigil_events_end(id, end_us);
}

static gint64 event_add(const char *camera, const char *type, gint64 time_us, const char *label,
                        const char *data_json, gpointer data)
{
  return vigil_events_add(camera, type, time_us, NAN, label, data_json);
}

static void event_thumbnail(gint64 id, GBytes *jpeg, gpointer data)
{
  vigil_events_set_thumbnail(id, jpeg);
}

static void alarm_change(const char *camera, const char *label, gboolean raised, gpointer data)
{
  if (raised)
    vigil_alarm_raise(camera, label, NULL);
  else
    vigil_alarm_clear(camera, label);
}

const VigilAnalyzerReportFuncs *vigil_events_analyzer_reports(void)
{
  static const VigilAnalyzerReportFuncs reports = {
      .event_begin = event_begin,
      .event_score = event_score,
      .event_end = event_end,
      .event_add = event_add,
      .event_thumbnail = event_thumbnail,
      .alarm = alarm_change,
  };
  return &reports;
}
