/* Route pattern matching (http/route.c): literals, {name} parameters, the
 * trailing slash, and what must not match. */
#include <glib.h>

#include "http/route.h"

static void test_literal(void)
{
  g_autoptr(GHashTable) p = vigil_route_match("/api/v1/cameras", "/api/v1/cameras");
  g_assert_nonnull(p);
  g_assert_cmpuint(g_hash_table_size(p), ==, 0);
  g_assert_null(vigil_route_match("/api/v1/cameras", "/api/v1/camera"));
  g_assert_null(vigil_route_match("/api/v1/cameras", "/api/v1/camerasx"));
  g_assert_null(vigil_route_match("/api/v1/cameras", "/api/v1"));
  g_assert_null(vigil_route_match("/api/v1/cameras", "/api/v1/cameras/x"));
  g_assert_null(vigil_route_match("/metrics", "/METRICS"));
}

static void test_params(void)
{
  g_autoptr(GHashTable) p = vigil_route_match("/api/v1/recordings/{id}/segments/{name}",
                                              "/api/v1/recordings/7/segments/000001.ts");
  g_assert_nonnull(p);
  g_assert_cmpuint(g_hash_table_size(p), ==, 2);
  g_assert_cmpstr(g_hash_table_lookup(p, "id"), ==, "7");
  g_assert_cmpstr(g_hash_table_lookup(p, "name"), ==, "000001.ts");

  g_autoptr(GHashTable) q = vigil_route_match("/api/v1/cameras/{id}/snapshot.jpg",
                                              "/api/v1/cameras/front-door/snapshot.jpg");
  g_assert_cmpstr(g_hash_table_lookup(q, "id"), ==, "front-door");
  g_assert_null(vigil_route_match("/api/v1/cameras/{id}/snapshot.jpg",
                                  "/api/v1/cameras/front-door/snapshot.png"));
  g_assert_null(
      vigil_route_match("/api/v1/cameras/{id}/snapshot.jpg", "/api/v1/cameras/front-door"));
}

/* A parameter is one non-empty segment: never empty, never two. */
static void test_param_bounds(void)
{
  g_assert_null(vigil_route_match("/api/v1/cameras/{id}", "/api/v1/cameras/"));
  g_assert_null(vigil_route_match("/api/v1/cameras/{id}", "/api/v1/cameras//"));
  g_assert_null(vigil_route_match("/api/v1/cameras/{id}", "/api/v1/cameras/a/b"));
  g_assert_null(vigil_route_match("/api/v1/cameras/{id}/live", "/api/v1/cameras//live"));
  g_autoptr(GHashTable) p = vigil_route_match("/api/v1/cameras/{id}", "/api/v1/cameras/..");
  g_assert_cmpstr(g_hash_table_lookup(p, "id"), ==, "..");
}

static void test_trailing_slash(void)
{
  g_autoptr(GHashTable) p = vigil_route_match("/api/v1/cameras", "/api/v1/cameras/");
  g_assert_nonnull(p);
  g_autoptr(GHashTable) q = vigil_route_match("/api/v1/walls/{name}", "/api/v1/walls/lobby/");
  g_assert_cmpstr(g_hash_table_lookup(q, "name"), ==, "lobby");
  g_assert_null(vigil_route_match("/api/v1/cameras", "/api/v1/cameras//"));
}

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/route/literal", test_literal);
  g_test_add_func("/route/params", test_params);
  g_test_add_func("/route/param-bounds", test_param_bounds);
  g_test_add_func("/route/trailing-slash", test_trailing_slash);
  return g_test_run();
}
