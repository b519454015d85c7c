/* kiln-sandbox-private.h: shared by kiln-sandbox.c, kiln-sandbox-flatpak.c and the
 * Blender discovery that must agree with them on where Blender runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-sandbox.h"

G_BEGIN_DECLS

/* The talk permission that lets Kiln's Flatpak start the computer's programs. */
#define KILN_SANDBOX_HOST_BUS_NAME "org.freedesktop.Flatpak"

typedef enum
{
  KILN_MOUNT_TMPFS,
  KILN_MOUNT_READ_ONLY,
  KILN_MOUNT_WRITABLE,
} KilnMountKind;

typedef struct
{
  char          *path;     /* where it is in the sandbox: the path Kiln knows it by */
  char          *source;   /* where the computer running bwrap has it (usually path) */
  KilnMountKind  kind;
  guint          depth;
} KilnMount;

void        kiln_mount_free                      (KilnMount           *mount);

/* Inside Flatpak: /.flatpak-info exists. Read once. */
gboolean    kiln_sandbox_in_flatpak              (void);
/* Kiln's application ID inside Flatpak ([Application] name of /.flatpak-info),
 * else NULL. */
const char *kiln_sandbox_get_flatpak_app_id      (void);
/* Inside Flatpak: the Blender bundled in /app (/app/bin/blender or
 * /app/blender/blender), else NULL. */
const char *kiln_sandbox_get_bundled_blender     (void);
/* Inside Flatpak with no Blender in /app: Blender and bwrap are the computer's,
 * started with flatpak-spawn --host (KILN_SANDBOX_BACKEND_FLATPAK_HOST). */
gboolean    kiln_sandbox_uses_host               (void);

/* `flatpak-spawn --host --watch-bus --directory=/` + @command: a trusted program
 * (Blender's own probe and benchmark) run on the computer, ended when
 * flatpak-spawn is. KILN_SANDBOX_ERROR_UNAVAILABLE when flatpak-spawn is missing. */
GStrv       kiln_sandbox_host_argv               (const char * const  *command,
                                                  GError             **error);
/* Whether Kiln may start programs on the computer (org.freedesktop.Flatpak
 * answers on the session bus); the error says how to allow it. Blocking. */
gboolean    kiln_sandbox_check_host_permission   (GCancellable        *cancellable,
                                                  GError             **error);

/* Where the computer outside the Flatpak has @path (a real path inside it), or
 * NULL with KILN_SANDBOX_ERROR_INVALID when it is not shared with the computer. */
char       *kiln_sandbox_host_path               (const char          *path,
                                                  GError             **error);

/* The argv for each Flatpak backend, from the sorted mounts. @bwrap_args is what
 * follows the launcher in the bubblewrap command line, without the /lib*, /bin
 * and /sbin links (the wrapper adds those as the computer has them). */
GStrv       kiln_sandbox_build_flatpak_argv      (const char          *launcher,
                                                  GPtrArray           *mounts,
                                                  guint64              memory_limit,
                                                  gboolean             idle_priority,
                                                  const char * const  *command);
GStrv       kiln_sandbox_build_host_argv         (const char          *launcher,
                                                  const char          *work_dir,
                                                  guint64              memory_limit,
                                                  gboolean             idle_priority,
                                                  const char * const  *bwrap_args);

G_END_DECLS
