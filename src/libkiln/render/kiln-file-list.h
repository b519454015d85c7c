/* kiln-file-list.h: a few file names in a sentence, in words translators can shape
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The first @limit (≥ 1) of the @n_names (≥ 1) names in @names, as a list for a sentence:
 * "a.png, b.png and 3 more files", or "a.png, b.png and c.png" when all are listed. Adding a
 * name, ending the list and naming how many more there are are whole messages of their own,
 * so that each language can choose its separators, order and plural forms. */
char *kiln_file_list_format (const char * const *names,
                             guint               n_names,
                             guint               limit);

G_END_DECLS
