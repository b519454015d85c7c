/* kiln-sandbox.h: running untrusted work confined and within the lending limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KILN_SANDBOX_ERROR (kiln_sandbox_error_quark ())

typedef enum
{
  KILN_SANDBOX_ERROR_UNAVAILABLE,   /* neither bubblewrap nor flatpak-spawn can be used */
  KILN_SANDBOX_ERROR_INVALID,       /* paths that cannot be confined as asked */
} KilnSandboxError;

GQuark kiln_sandbox_error_quark (void);

typedef enum
{
  KILN_SANDBOX_BACKEND_NONE,
  KILN_SANDBOX_BACKEND_BUBBLEWRAP,  /* bwrap from the system */
  KILN_SANDBOX_BACKEND_FLATPAK,     /* flatpak-spawn --sandbox, inside Kiln's Flatpak */
  KILN_SANDBOX_BACKEND_FLATPAK_HOST, /* the computer's bwrap, started from inside Kiln's
                                      * Flatpak with flatpak-spawn --host */
} KilnSandboxBackend;

#define KILN_TYPE_SANDBOX_BACKEND (kiln_sandbox_backend_get_type ())
GType kiln_sandbox_backend_get_type (void) G_GNUC_CONST;

#define KILN_TYPE_SANDBOX (kiln_sandbox_get_type ())

G_DECLARE_FINAL_TYPE (KilnSandbox, kiln_sandbox, KILN, SANDBOX, GObject)

/* A sandbox profile with the lending limits. The backend is chosen once: inside
 * Flatpak (/.flatpak-info exists) flatpak-spawn, with --sandbox when Blender is
 * bundled in /app (/app/bin/blender or /app/blender/blender), else with --host and
 * the computer's own bwrap; outside Flatpak bwrap from PATH; else none. There is
 * no unconfined fallback: with no backend every spawn fails with
 * KILN_SANDBOX_ERROR_UNAVAILABLE.
 *
 * bubblewrap: every namespace unshared (no network but a private loopback, own
 * PID, IPC, UTS and user namespaces), all capabilities dropped, a new session (no
 * terminal injection), dies with its parent. Visible: /usr and the /lib*, /bin,
 * /sbin links read-only, the few /etc files a dynamically linked program needs
 * (ld.so cache and config, alternatives, fonts, localtime), CPU topology in /sys,
 * a private /proc, a minimal /dev, an empty private /tmp and an empty private
 * $HOME (tmpfs), then the caller's read-only paths and one writable folder, all
 * at their own paths; the root skeleton itself is remounted read-only. Environment
 * cleared but for PATH, HOME, TMPDIR and LANG.
 *
 * Flatpak with a bundled Blender: `flatpak-spawn --sandbox --no-network
 * --watch-bus --clear-env` with the same paths exposed through
 * --sandbox-expose-path(-ro); the memory limit is set by `ulimit -d` in a `sh -c`
 * wrapper and the priority by `nice -n 19` (rlimits and scheduling of
 * flatpak-spawn itself do not reach the portal's child). Not exercised by the
 * tests: it needs the real portal and a Flatpak with Blender in /app.
 *
 * Flatpak with the computer's Blender: `flatpak-spawn --host --watch-bus` runs a
 * `/bin/sh -c` wrapper on the computer that sets the limits (`ulimit`, `nice`,
 * `chrt --idle`) and starts the computer's bwrap with exactly the arguments
 * above (the /lib*, /bin and /sbin links as the computer has them). This needs
 * the org.freedesktop.Flatpak talk permission. The paths must be ones the
 * computer sees too: the app's own folder ~/.var/app/APP-ID and
 * $XDG_RUNTIME_DIR/app/APP-ID are at the same paths there, files lent by the
 * document portal are found under its by-app folder; anything else (the Flatpak's
 * private /tmp) fails with KILN_SANDBOX_ERROR_INVALID. kiln_sandbox_kill() ends
 * flatpak-spawn, which drops its bus connection: the session helper then
 * interrupts the computer-side bwrap, and with it goes the whole sandbox.
 *
 * Limits, applied to the sandbox's first process before it executes and inherited
 * by everything it starts: the address space for data (RLIMIT_DATA; RLIMIT_AS
 * would count the large ranges Blender's allocators reserve but never touch),
 * SCHED_IDLE and nice 19 when "idle-priority" is set, no core dumps, and SIGKILL
 * when Kiln dies. "cpu-limit" is not an affinity: it is the number of threads
 * the work is given (see kiln_sandbox_get_cpu_count()). */
KilnSandbox       *kiln_sandbox_new              (void);

KilnSandboxBackend kiln_sandbox_get_backend      (KilnSandbox         *self);

/* "cpu-limit": CPUs' worth of threads the work may run; 0 = as many as the CPUs
 * this process may use. The threads are not pinned: the scheduler puts them on
 * whichever CPUs are free. */
guint              kiln_sandbox_get_cpu_limit    (KilnSandbox         *self);
void               kiln_sandbox_set_cpu_limit    (KilnSandbox         *self,
                                                  guint                cpus);
/* The CPU count work will actually get: the limit capped to the usable CPUs. */
guint              kiln_sandbox_get_cpu_count    (KilnSandbox         *self);

/* "memory-limit": bytes of data memory; 0 = no limit. */
guint64            kiln_sandbox_get_memory_limit (KilnSandbox         *self);
void               kiln_sandbox_set_memory_limit (KilnSandbox         *self,
                                                  guint64              bytes);

/* "time-limit": wall-clock seconds a render may run; 0 = none (enforced by
 * KilnRenderRun, which kills the whole sandbox when it passes). */
guint              kiln_sandbox_get_time_limit   (KilnSandbox         *self);
void               kiln_sandbox_set_time_limit   (KilnSandbox         *self,
                                                  guint                seconds);

/* "idle-priority": SCHED_IDLE + nice 19 (default TRUE). */
gboolean           kiln_sandbox_get_idle_priority (KilnSandbox        *self);
void               kiln_sandbox_set_idle_priority (KilnSandbox        *self,
                                                   gboolean            idle);

/* The whole command line that runs @command inside the sandbox: @writable_dir is
 * the only writable place (and the working directory), @readonly_paths (NULL or
 * NULL-terminated, absolute) are visible read-only, and a read-only path may
 * sit inside the writable one (it stays read-only). Directories outside /usr
 * holding @command[0] are made visible read-only too. */
GStrv              kiln_sandbox_build_argv       (KilnSandbox         *self,
                                                  const char          *writable_dir,
                                                  const char * const  *readonly_paths,
                                                  const char * const  *command,
                                                  GError             **error);

/* Starts @command in the sandbox with the limits applied; its stdout and stderr
 * are merged into the returned subprocess's stdout pipe. The sandbox leads its
 * own process group: kiln_sandbox_kill() ends all of it. Call from a thread that
 * outlives the process (the main thread): the sandbox is killed if it exits. */
GSubprocess       *kiln_sandbox_spawn            (KilnSandbox         *self,
                                                  const char          *writable_dir,
                                                  const char * const  *readonly_paths,
                                                  const char * const  *command,
                                                  GError             **error);

/* SIGKILL to the process group of a process from kiln_sandbox_spawn(). */
void               kiln_sandbox_kill             (GSubprocess         *process);

/* A new empty folder for a sandbox's work, named after @name_template (a name
 * ending in XXXXXX): in the temporary folder, or inside Flatpak in
 * $XDG_CACHE_HOME/kiln/tmp, which the sandboxes Kiln starts from there can be
 * given (the Flatpak's own /tmp cannot). Blocking. */
char              *kiln_sandbox_make_work_dir    (const char          *name_template,
                                                  GError             **error);

G_END_DECLS
