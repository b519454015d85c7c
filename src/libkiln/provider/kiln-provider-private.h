/* kiln-provider-private.h: process trees of sandboxed work (in kiln-idle-monitor.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @leader and every living descendant of it, from /proc; empty if @leader is gone. */
GArray  *kiln_process_tree_list      (GPid     leader);
/* CPU time in clock ticks used by @leader's tree: its processes' own and that of
 * their children already reaped. */
guint64  kiln_process_tree_cpu_ticks (GPid     leader);
/* Sends @signum to @leader's process group and to every process of its tree, again
 * until no new process turns up (a process that was forking when stopped). */
void     kiln_process_tree_signal    (GPid     leader,
                                      int      signum);

G_END_DECLS
