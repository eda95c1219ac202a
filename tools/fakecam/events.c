/* The fake ONVIF events service: CreatePullPointSubscription, PullMessages
 * (a long poll), Renew and Unsubscribe (ONVIF Core 9.1 and its examples;
 * WS-BaseNotification for Renew and Unsubscribe). Each subscription has a
 * queue: "Initialized" with the current motion state when it is made, then
 * "Changed" on every change of the schedule (--onvif-motion-schedule), and a
 * RuleEngine/LineDetector/Crossed whenever motion starts. Subscriptions are
 * told apart by their address's query (?id=N), and end at their termination
 * time. Every call is logged on stderr (tests look for Unsubscribe). */
#define G_LOG_DOMAIN "vigil-fakecam"

#include "events.h"
#include "onvif.h"

#include <string.h>

typedef struct {
  guint id;
  gint64 termination_us; /* real time */
  GPtrArray *queue;      /* gchar*: NotificationMessage elements */
  SoupServerMessage *waiting;
  gulong finished_handler;
  gint64 deadline_us; /* monotonic, of the waiting PullMessages */
} Subscription;

static GHashTable *subscriptions; /* id -> Subscription */
static guint next_id = 1;
static int on_s, off_s;
static gint64 start_us;
static gboolean motion;
static SoupServer *srv;

static void subscription_free(Subscription *s)
{
  g_ptr_array_unref(s->queue);
  if (s->waiting) {
    g_signal_handler_disconnect(s->waiting, s->finished_handler);
    soup_server_message_set_status(s->waiting, SOUP_STATUS_NOT_FOUND, NULL);
    soup_server_message_unpause(s->waiting);
  }
  g_free(s);
}

static gboolean scheduled_motion(void)
{
  if (on_s <= 0)
    return FALSE;
  gint64 t = (g_get_monotonic_time() - start_us) / G_USEC_PER_SEC;
  return t % (on_s + off_s) < on_s;
}

static char *utc_now(void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  return g_date_time_format(now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

static char *motion_message(const char *operation, gboolean state)
{
  g_autofree char *utc = utc_now();
  return g_strdup_printf("<wsnt:NotificationMessage><wsnt:Topic "
                         "Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">"
                         "tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic><wsnt:Message>"
                         "<tt:Message UtcTime=\"%s\" PropertyOperation=\"%s\"><tt:Source>"
                         "<tt:SimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"vsc\"/>"
                         "<tt:SimpleItem Name=\"VideoAnalyticsConfigurationToken\" Value=\"vac\"/>"
                         "<tt:SimpleItem Name=\"Rule\" Value=\"MyMotionDetectorRule\"/></tt:Source>"
                         "<tt:Data><tt:SimpleItem Name=\"IsMotion\" Value=\"%s\"/></tt:Data>"
                         "</tt:Message></wsnt:Message></wsnt:NotificationMessage>",
                         utc, operation, state ? "true" : "false");
}

static char *crossed_message(void)
{
  g_autofree char *utc = utc_now();
  return g_strdup_printf("<wsnt:NotificationMessage><wsnt:Topic "
                         "Dialect=\"http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet\">"
                         "tns1:RuleEngine/LineDetector/Crossed</wsnt:Topic><wsnt:Message>"
                         "<tt:Message UtcTime=\"%s\"><tt:Source>"
                         "<tt:SimpleItem Name=\"VideoSourceConfigurationToken\" Value=\"vsc\"/>"
                         "<tt:SimpleItem Name=\"VideoAnalyticsConfigurationToken\" Value=\"vac\"/>"
                         "<tt:SimpleItem Name=\"Rule\" Value=\"MyLineDetectorRule\"/></tt:Source>"
                         "<tt:Data><tt:SimpleItem Name=\"ObjectId\" Value=\"1\"/></tt:Data>"
                         "</tt:Message></wsnt:Message></wsnt:NotificationMessage>",
                         utc);
}

#define ENVELOPE_START                                                                             \
  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                                   \
  "<env:Envelope xmlns:env=\"http://www.w3.org/2003/05/soap-envelope\" "                           \
  "xmlns:wsa=\"http://www.w3.org/2005/08/addressing\" "                                            \
  "xmlns:wsnt=\"http://docs.oasis-open.org/wsn/b-2\" "                                             \
  "xmlns:tev=\"http://www.onvif.org/ver10/events/wsdl\" "                                          \
  "xmlns:tns1=\"http://www.onvif.org/ver10/topics\" "                                              \
  "xmlns:tt=\"http://www.onvif.org/ver10/schema\"><env:Header><wsa:Action>%s</wsa:Action>"         \
  "</env:Header><env:Body>"
#define ENVELOPE_END "</env:Body></env:Envelope>\n"

static void reply(SoupServerMessage *msg, guint status, const char *action, const char *body)
{
  g_autofree char *start = g_strdup_printf(ENVELOPE_START, action);
  g_autofree char *text = g_strconcat(start, body, ENVELOPE_END, NULL);
  soup_server_message_set_status(msg, status, NULL);
  soup_server_message_set_response(msg, "application/soap+xml; charset=utf-8", SOUP_MEMORY_COPY,
                                   text, strlen(text));
}

static char *times(gint64 termination_us)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autoptr(GDateTime) end = g_date_time_new_from_unix_utc(termination_us / G_USEC_PER_SEC);
  g_autofree char *n = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *e = g_date_time_format(end, "%Y-%m-%dT%H:%M:%SZ");
  return g_strdup_printf("<wsnt:CurrentTime>%s</wsnt:CurrentTime>"
                         "<wsnt:TerminationTime>%s</wsnt:TerminationTime>",
                         n, e);
}

static void answer_pull(Subscription *s, SoupServerMessage *msg)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc();
  g_autoptr(GDateTime) end = g_date_time_new_from_unix_utc(s->termination_us / G_USEC_PER_SEC);
  g_autofree char *n = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *e = g_date_time_format(end, "%Y-%m-%dT%H:%M:%SZ");
  GString *body = g_string_new(NULL);
  g_string_append_printf(body,
                         "<tev:PullMessagesResponse><tev:CurrentTime>%s</tev:CurrentTime>"
                         "<tev:TerminationTime>%s</tev:TerminationTime>",
                         n, e);
  for (guint i = 0; i < s->queue->len; i++)
    g_string_append(body, g_ptr_array_index(s->queue, i));
  g_string_append(body, "</tev:PullMessagesResponse>");
  g_ptr_array_set_size(s->queue, 0);
  reply(msg, SOUP_STATUS_OK,
        "http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesResponse",
        body->str);
  g_string_free(body, TRUE);
}

static void on_waiter_gone(SoupServerMessage *msg, gpointer user_data)
{
  Subscription *s = user_data;
  if (s->waiting == msg) {
    g_signal_handler_disconnect(msg, s->finished_handler);
    s->waiting = NULL;
  }
}

static gboolean on_tick(gpointer user_data)
{
  gboolean now = scheduled_motion();
  gboolean changed = now != motion;
  motion = now;
  if (changed)
    g_printerr("vigil-fakecam: onvif events: motion %s\n", now ? "on" : "off");
  gint64 real = g_get_real_time(), mono = g_get_monotonic_time();
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, subscriptions);
  while (g_hash_table_iter_next(&iter, NULL, &value)) {
    Subscription *s = value;
    if (real > s->termination_us) {
      g_printerr("vigil-fakecam: onvif events: subscription %u terminated\n", s->id);
      g_hash_table_iter_remove(&iter);
      continue;
    }
    if (changed) {
      g_ptr_array_add(s->queue, motion_message("Changed", now));
      if (now)
        g_ptr_array_add(s->queue, crossed_message());
    }
    if (s->waiting && (s->queue->len > 0 || mono >= s->deadline_us)) {
      g_signal_handler_disconnect(s->waiting, s->finished_handler);
      SoupServerMessage *msg = g_steal_pointer(&s->waiting);
      answer_pull(s, msg);
      soup_server_message_unpause(msg);
    }
  }
  return G_SOURCE_CONTINUE;
}

void vigil_fake_events_init(int on, int off)
{
  on_s = on;
  off_s = off;
  start_us = g_get_monotonic_time();
  motion = scheduled_motion();
  subscriptions =
      g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)subscription_free);
  g_timeout_add(100, on_tick, NULL);
}

/* "PT60S", "PT1M", "PT1H": seconds; anything else @fallback. */
static gint64 duration_s(const char *text, gint64 fallback)
{
  if (!text || !g_str_has_prefix(text, "PT"))
    return fallback;
  char *end;
  gint64 v = g_ascii_strtoll(text + 2, &end, 10);
  if (end == text + 2 || v < 0)
    return fallback;
  return *end == 'S' ? v : *end == 'M' ? v * 60 : *end == 'H' ? v * 3600 : fallback;
}

static void fault(SoupServerMessage *msg, const char *subcode, const char *reason)
{
  g_autofree char *body = g_markup_printf_escaped(
      "<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>%s"
      "</env:Value></env:Subcode></env:Code><env:Reason><env:Text xml:lang=\"en\">%s</env:Text>"
      "</env:Reason></env:Fault>",
      subcode, reason);
  reply(msg, SOUP_STATUS_BAD_REQUEST, "http://www.w3.org/2005/08/addressing/soap/fault", body);
}

void vigil_fake_events_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                               const char *op, const char *xml, const char *base)
{
  srv = server;
  g_printerr("vigil-fakecam: onvif events: %s %s\n", op, path);
  if (g_str_equal(path, "/onvif/events_service")) {
    if (!g_str_equal(op, "CreatePullPointSubscription")) {
      fault(msg, "ter:ActionNotSupported", "Optional Action Not Implemented");
      return;
    }
    g_autofree char *initial = vigil_fake_onvif_element_text(xml, "InitialTerminationTime");
    Subscription *s = g_new0(Subscription, 1);
    s->id = next_id++;
    s->termination_us = g_get_real_time() + duration_s(initial, 60) * G_USEC_PER_SEC;
    s->queue = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(s->queue, motion_message("Initialized", motion));
    g_hash_table_insert(subscriptions, GUINT_TO_POINTER(s->id), s);
    g_autofree char *t = times(s->termination_us);
    g_autofree char *body = g_markup_printf_escaped(
        "<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>"
        "<wsa:Address>%s/subscription?id=%u</wsa:Address></tev:SubscriptionReference>",
        base, s->id);
    g_autofree char *full =
        g_strconcat(body, t, "</tev:CreatePullPointSubscriptionResponse>", NULL);
    reply(msg, SOUP_STATUS_OK,
          "http://www.onvif.org/ver10/events/wsdl/EventPortType/"
          "CreatePullPointSubscriptionResponse",
          full);
    return;
  }
  GHashTable *query = soup_server_message_get_uri(msg)
                          ? soup_form_decode(g_uri_get_query(soup_server_message_get_uri(msg))
                                                 ? g_uri_get_query(soup_server_message_get_uri(msg))
                                                 : "")
                          : NULL;
  const char *id_text = query ? g_hash_table_lookup(query, "id") : NULL;
  guint64 id = 0;
  Subscription *s = NULL;
  if (id_text && g_ascii_string_to_unsigned(id_text, 10, 1, G_MAXUINT, &id, NULL))
    s = g_hash_table_lookup(subscriptions, GUINT_TO_POINTER((guint)id));
  if (query)
    g_hash_table_unref(query);
  if (!s) {
    fault(msg, "wsrf-rw:ResourceUnknownFault", "No such subscription");
    return;
  }
  if (g_str_equal(op, "PullMessages")) {
    if (s->waiting) {
      fault(msg, "ter:MaxPullPoints", "A PullMessages is already waiting");
      return;
    }
    if (s->queue->len > 0) {
      answer_pull(s, msg);
      return;
    }
    g_autofree char *timeout = vigil_fake_onvif_element_text(xml, "Timeout");
    s->deadline_us = g_get_monotonic_time() + MIN(duration_s(timeout, 5), 60) * G_USEC_PER_SEC;
    s->waiting = msg;
    /* The client may go away while it waits. */
    s->finished_handler = g_signal_connect(msg, "finished", G_CALLBACK(on_waiter_gone), s);
    soup_server_message_pause(msg);
  } else if (g_str_equal(op, "Renew")) {
    g_autofree char *t_text = vigil_fake_onvif_element_text(xml, "TerminationTime");
    s->termination_us = g_get_real_time() + duration_s(t_text, 60) * G_USEC_PER_SEC;
    g_autofree char *t = times(s->termination_us);
    g_autofree char *body = g_strconcat("<wsnt:RenewResponse>", t, "</wsnt:RenewResponse>", NULL);
    reply(msg, SOUP_STATUS_OK,
          "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewResponse", body);
  } else if (g_str_equal(op, "Unsubscribe")) {
    g_hash_table_remove(subscriptions, GUINT_TO_POINTER(s->id));
    reply(msg, SOUP_STATUS_OK,
          "http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeResponse",
          "<wsnt:UnsubscribeResponse/>");
  } else {
    fault(msg, "ter:ActionNotSupported", "Optional Action Not Implemented");
  }
}
