/* main.c: the Kiln desktop app
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kiln-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KilnApplication) app = NULL;
  /* Set to BUILDDIR/po, it runs the app from a build tree with that tree's translations. */
  const char *localedir = g_getenv ("KILN_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = kiln_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
