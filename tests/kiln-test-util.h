/* kiln-test-util.h: small helpers shared by the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Like g_assert_finalize_object(), for objects whose last operations finish on a later
 * main loop turn or in a worker thread (a GTask keeps its source object until the thread
 * that ran it lets go): waits up to 10 s for the other references to go, then requires
 * that dropping ours finalizes @object. */
void kiln_test_assert_finalize_soon (gpointer object);

G_END_DECLS
