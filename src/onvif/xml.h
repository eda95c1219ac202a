/* The libxml2 tree walk the ONVIF parsers share (soap.c, discovery.c):
 * elements matched by namespace URI and local name, never by prefix.
 * Private to src/onvif/. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

/* Whether @n is the element @name in namespace @ns. */
gboolean vigil_onvif_xml_is_element(xmlNodePtr n, const char *ns, const char *name);
/* @parent's first child element @name in @ns; NULL when none (or no parent). */
xmlNodePtr vigil_onvif_xml_child(xmlNodePtr parent, const char *ns, const char *name);
/* An element's text, trimmed, UTF-8; NULL when absent, empty or not UTF-8. */
char *vigil_onvif_xml_text(xmlNodePtr n);
