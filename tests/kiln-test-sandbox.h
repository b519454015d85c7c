/* kiln-test-sandbox.h: what code inside a sandbox can do, checked the same way for
 * every backend
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-sandbox.h"

G_BEGIN_DECLS

/* Runs @command in @sandbox to its end: its merged output, and its exit status
 * (-1 when it was killed). */
char *kiln_test_sandbox_run            (KilnSandbox         *sandbox,
                                        const char          *writable,
                                        const char * const  *readonly,
                                        const char * const  *command,
                                        int                 *status);

/* The CPUs this process may run on. */
int   kiln_test_usable_cpu_count       (void);

/* Runs tests/data/sandbox/limits.py in @sandbox (which has "idle-priority" on and
 * @memory as its "memory-limit") and asserts what it reports: SCHED_IDLE and nice
 * 19, the data limit, no core dumps, every usable CPU (no pinning), no
 * capabilities, the sandbox's host name, none of /etc/passwd, /etc/shadow, /root,
 * /home, /var, /run nor @hidden (NULL or NULL-terminated) visible, and at most five
 * environment variables. */
void  kiln_test_sandbox_assert_limits  (KilnSandbox         *sandbox,
                                        const char          *work,
                                        guint64              memory,
                                        const char * const  *hidden);

/* Runs tests/data/sandbox/escape-attempts.py in @sandbox with @work writable and
 * @scene_dir read-only, and asserts that it could write only into @work and its
 * private $HOME: not into @markers (absent from the sandbox), beside the scene,
 * into /usr or /; that it could not connect to 127.0.0.1:@port and had no network
 * but loopback; and, with @secret, that it could not read @secret. Files written
 * into @work are left there (allowed.txt). */
void  kiln_test_sandbox_assert_escapes_fail (KilnSandbox    *sandbox,
                                        const char          *work,
                                        const char          *scene_dir,
                                        const char          *markers,
                                        guint16              port,
                                        const char          *secret);

/* A TCP listener on 127.0.0.1 that counts the connections it gets: code in a
 * sandbox must never reach it, and a control run without one must. */
typedef struct
{
  GSocketService *service;
  guint16         port;
  guint           connections;
} KilnTestListener;

void  kiln_test_listener_start         (KilnTestListener    *listener);
void  kiln_test_listener_stop          (KilnTestListener    *listener);
/* Iterates the main context for @milliseconds, so that connections made by then
 * are counted. */
void  kiln_test_listener_drain         (KilnTestListener    *listener,
                                        guint                milliseconds);

G_END_DECLS
