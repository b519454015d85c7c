/* kiln-render-private.h: running Kiln's own scripts in Blender, inside the sandbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-blender.h"
#include "kiln-sandbox.h"

G_BEGIN_DECLS

/* What a script run left behind. */
typedef struct
{
  char     *output;        /* everything Blender printed (stdout and stderr merged) */
  gboolean  exited;        /* exited normally (else killed by a signal) */
  int       exit_status;
} KilnBlenderScriptResult;

void kiln_blender_script_result_free (KilnBlenderScriptResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnBlenderScriptResult, kiln_blender_script_result_free)

/* Runs, inside @sandbox:
 *   blender --background --factory-startup --disable-autoexec -noaudio --threads N
 *           --python-exit-code 3 SCENE --python SCRIPT -- PARAMS
 * SCRIPT (@script's text) is written read-only into @work_dir, the only writable
 * folder; @blend_file's folder is visible read-only. It is killed, with the whole
 * sandbox, when @time_limit seconds pass (G_IO_ERROR_TIMED_OUT) or @cancellable is
 * cancelled (G_IO_ERROR_CANCELLED). Otherwise it completes with what Blender printed
 * and how it exited, whatever the exit status. Call from the main thread. */
void                     kiln_blender_script_run_async  (KilnSandbox         *sandbox,
                                                         KilnBlender         *blender,
                                                         const char          *work_dir,
                                                         const char          *blend_file,
                                                         const char          *script,
                                                         const char          *params,
                                                         guint                threads,
                                                         guint                time_limit,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
KilnBlenderScriptResult *kiln_blender_script_run_finish (GAsyncResult        *result,
                                                         GError             **error);

/* The last line Blender printed that says what went wrong ("Error: …"), or NULL. */
char       *kiln_blender_script_find_error (const char *output);

/* Deletes @path and everything below it (it holds only Kiln's own files). */
void        kiln_render_remove_tree        (const char *path);

/* @path with every symlink on the way resolved (the sandbox mounts real paths: a symlink
 * would not exist inside); G_IO_ERROR for a path that cannot be resolved. */
char       *kiln_render_real_path          (const char  *path,
                                            GError     **error);

G_END_DECLS

#include "kiln-scene-info.h"

G_BEGIN_DECLS

/* From the JSON object the inspection script prints; files are not yet checked. */
KilnSceneInfo *kiln_scene_info_new_from_json (const char  *blend_file,
                                              JsonObject  *object,
                                              GError     **error);
/* Marks the files that do not exist on this computer. Blocking (stat per file). */
void           kiln_scene_info_check_files   (KilnSceneInfo *self);

G_END_DECLS
