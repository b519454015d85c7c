/* kiln-file-list.c: a few file names in a sentence, in words translators can shape
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-file-list.h"

char *
kiln_file_list_format (const char * const *names,
                       guint               n_names,
                       guint               limit)
{
  g_autofree char *list = NULL;
  guint listed = MIN (n_names, limit);

  g_return_val_if_fail (names != NULL, NULL);
  g_return_val_if_fail (n_names > 0, NULL);
  g_return_val_if_fail (limit > 0, NULL);

  list = g_strdup (names[0]);
  for (guint i = 1; i < listed; i++)
    {
      char *longer;

      if (i + 1 == n_names)
        /* TRANSLATORS: ends a list of file names (the first %s) with the last name (the
         * second %s): "a.png, b.png and c.png" */
        longer = g_strdup_printf (C_("list of files", "%s and %s"), list, names[i]);
      else
        /* TRANSLATORS: adds one more file name (the second %s) to a list of file names (the
         * first %s); use the separator, or the order, your language lists things with */
        longer = g_strdup_printf (C_("list of files", "%s, %s"), list, names[i]);
      g_free (list);
      list = longer;
    }

  if (n_names > listed)
    {
      guint more = n_names - listed;

      /* TRANSLATORS: %s is a list of file names, %u how many files the list leaves out */
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s and %u more file",
                                           "%s and %u more files", more),
                              list, more);
    }

  return g_steal_pointer (&list);
}
