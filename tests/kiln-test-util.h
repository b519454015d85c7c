/* kiln-test-util.h: small helpers shared by the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Like g_assert_finalize_object(), for objects whose last operations finish on a later
 * main loop turn or in a worker thread (a GTask keeps its source object until the thread
 * that ran it lets go): waits up to 10 s for the other references to go, then requires
 * that dropping ours finalizes @object. */
void                 kiln_test_assert_finalize_soon (gpointer          object);

/* g_subprocess_launcher_new() for services a test starts (buses, X servers, nodes): each
 * child gets SIGTERM when the thread that spawned it ends, so when the test process ends
 * however it ends (an assertion, a signal, a timeout) and not only at its tear-down. Spawn
 * from the main thread. */
GSubprocessLauncher *kiln_test_launcher_new         (GSubprocessFlags  flags);

G_END_DECLS
