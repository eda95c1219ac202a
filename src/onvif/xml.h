/* What soap.c and discovery.c share over libxml2: the tree walk of the
 * answers (elements matched by namespace URI and local name, never by
 * prefix) and the serialisation of the requests. Private to src/onvif/. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* Whether @n is the element @name in namespace @ns. */
gboolean vigil_onvif_xml_is_element(xmlNodePtr n, const char *ns, const char *name);
/* @parent's first child element @name in @ns; NULL when none (or no parent). */
xmlNodePtr vigil_onvif_xml_child(xmlNodePtr parent, const char *ns, const char *name);
/* An element's text, trimmed, UTF-8; NULL when absent, empty or not UTF-8. */
char *vigil_onvif_xml_text(xmlNodePtr n);
/* @doc serialised as UTF-8 text; @doc is freed. */
char *vigil_onvif_xml_dump(xmlDocPtr doc);
