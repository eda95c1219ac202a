/* The resource handlers, one group per api-*.c file, as the route table in
 * routes.c calls them: each replies to one method on one path, after the
 * router has authenticated the request and checked its access. */
#pragma once

#include "http/http.h"

G_BEGIN_DECLS

typedef void (*VigilHandler)(VigilRequest *req);

/* api-system.c */
void vigil_api_health(VigilRequest *req);
void vigil_api_system(VigilRequest *req);
void vigil_api_settings_get(VigilRequest *req);
void vigil_api_settings_patch(VigilRequest *req);

/* api-notify.c: GET /api/v1/notify/deliveries, POST /api/v1/notify/test. */
void vigil_api_notify_deliveries(VigilRequest *req);
void vigil_api_notify_test(VigilRequest *req);

/* api-cameras.c */
void vigil_api_cameras_list(VigilRequest *req);
void vigil_api_cameras_create(VigilRequest *req);
void vigil_api_camera_get(VigilRequest *req);
void vigil_api_camera_patch(VigilRequest *req);
void vigil_api_camera_delete(VigilRequest *req);
/* POST /api/v1/cameras/probe: test a source before saving it (api-probe.c). */
void vigil_api_camera_probe(VigilRequest *req);
/* POST /api/v1/onvif/probe: an ONVIF device's identity and streams (api-onvif.c). */
void vigil_api_onvif_probe(VigilRequest *req);
/* POST /api/v1/onvif/discover: the ONVIF devices WS-Discovery finds (api-onvif.c). */
void vigil_api_onvif_discover(VigilRequest *req);
/* POST /api/v1/cameras/{id}/ptz and GET .../ptz/presets (api-ptz.c). */
void vigil_api_camera_ptz(VigilRequest *req);
void vigil_api_camera_ptz_presets(VigilRequest *req);

/* Live views of req->camera. Each takes ?stream=main|sub (docs/streams.md):
 * the sub stream, or the main one when the camera has none. */
/* GET /cameras/{id}/live.ts (api-live.c). */
void vigil_api_live_ts(VigilRequest *req);
/* WS /cameras/{id}/live (api-live-ws.c). */
void vigil_api_live_ws(VigilRequest *req);
/* Live HLS (api-live-hls.c): the playlist's segment URLs carry the stream. */
void vigil_api_live_hls_playlist(VigilRequest *req);
void vigil_api_live_hls_segment(VigilRequest *req);
/* ?stream=main|sub (absent: main) in @out; FALSE after a 400 for any other
 * value (api-live.c). */
gboolean vigil_request_stream_choice(VigilRequest *req, VigilStreamChoice *out);
/* The stream ?stream= asks for; NULL after a 400 (api-live.c). */
VigilStream *vigil_request_live_stream(VigilRequest *req);

/* api-snapshot.c */
void vigil_api_snapshot(VigilRequest *req);

/* api-recordings.c */
void vigil_api_camera_recording(VigilRequest *req);
void vigil_api_camera_export(VigilRequest *req);
void vigil_api_recordings_list(VigilRequest *req);
void vigil_api_recording_get(VigilRequest *req);
void vigil_api_recording_patch(VigilRequest *req);
void vigil_api_recording_delete(VigilRequest *req);
void vigil_api_recording_playlist(VigilRequest *req);
void vigil_api_recording_segment(VigilRequest *req);
void vigil_api_recording_thumbnail(VigilRequest *req);
void vigil_api_recording_export(VigilRequest *req);

/* api-events.c */
void vigil_api_events_list(VigilRequest *req);
void vigil_api_events_stream(VigilRequest *req);
void vigil_api_event_thumbnail(VigilRequest *req);

/* api-users.c */
void vigil_api_users_list(VigilRequest *req);
void vigil_api_users_create(VigilRequest *req);
void vigil_api_user_get(VigilRequest *req);
/* An admin's change, or a user's change of their own password. */
void vigil_api_user_patch(VigilRequest *req);
void vigil_api_user_delete(VigilRequest *req);

/* api-session.c: log in (open), who am I, log out; the user's API tokens. */
void vigil_api_session_login(VigilRequest *req);
void vigil_api_session_get(VigilRequest *req);
void vigil_api_session_delete(VigilRequest *req);
void vigil_api_tokens_list(VigilRequest *req);
void vigil_api_tokens_create(VigilRequest *req);
void vigil_api_token_delete(VigilRequest *req);

/* api-walls.c */
void vigil_api_walls_list(VigilRequest *req);
void vigil_api_walls_create(VigilRequest *req);
void vigil_api_wall_get(VigilRequest *req);
void vigil_api_wall_put(VigilRequest *req);
void vigil_api_wall_delete(VigilRequest *req);

/* GET /metrics, Prometheus text (api-metrics.c). */
void vigil_api_metrics(VigilRequest *req);

G_END_DECLS
