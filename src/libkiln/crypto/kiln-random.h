/* kiln-random.h: bytes from the operating system's CSPRNG (getrandom)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean kiln_random_bytes (guint8  *buffer,
                            gsize    len,
                            GError **error);

G_END_DECLS
