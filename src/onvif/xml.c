/* The libxml2 tree walk the ONVIF parsers share (xml.h). */
#include "onvif/xml.h"

gboolean vigil_onvif_xml_is_element(xmlNodePtr n, const char *ns, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name) && n->ns &&
         xmlStrEqual(n->ns->href, BAD_CAST ns);
}

xmlNodePtr vigil_onvif_xml_child(xmlNodePtr parent, const char *ns, const char *name)
{
  for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
    if (vigil_onvif_xml_is_element(n, ns, name))
      return n;
  return NULL;
}

char *vigil_onvif_xml_text(xmlNodePtr n)
{
  xmlChar *content = n ? xmlNodeGetContent(n) : NULL;
  if (!content)
    return NULL;
  char *s = g_strstrip(g_strdup((const char *)content));
  xmlFree(content);
  if (!*s || !g_utf8_validate(s, -1, NULL)) {
    g_free(s);
    return NULL;
  }
  return s;
}

char *vigil_onvif_xml_dump(xmlDocPtr doc)
{
  xmlChar *out = NULL;
  int out_len = 0;
  xmlDocDumpMemoryEnc(doc, &out, &out_len, "UTF-8");
  xmlFreeDoc(doc);
  char *result = g_strndup((const char *)out, out_len);
  xmlFree(out);
  return result;
}
