/* vigil-fakecam's ONVIF events service (tools/fakecam/events.c): PullPoint
 * subscriptions whose notifications follow a motion schedule. */
#pragma once

#include <libsoup/soup.h>

/* Motion on for @on_s seconds, then off for @off_s, over and over from the
 * start (@on_s 0: never any motion). */
void vigil_fake_events_init(int on_s, int off_s);

/* A request to the events service (@path "/onvif/events_service") or to a
 * subscription ("/onvif/subscription"), already authorised; @op is the
 * Body's operation, @base "http://ADDR:PORT/onvif". Answers or pauses @msg. */
void vigil_fake_events_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                               const char *op, const char *xml, const char *base);
