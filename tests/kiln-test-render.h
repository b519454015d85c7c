/* kiln-test-render.h: Blender, the sandbox and generated scenes for the render tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-blender.h"
#include "kiln-render-run.h"
#include "kiln-sandbox.h"

G_BEGIN_DECLS

typedef struct
{
  char        *root;      /* a fresh folder under /tmp, removed by tear-down */
  char        *scenes;    /* root/scenes: what tests/data/render/make-scenes.py made */
  KilnBlender *blender;
  KilnSandbox *sandbox;   /* 2 GiB, 120 s, normal priority */
} KilnTestRender;

/* Finds Blender and Bubblewrap (fails the program with a hint when either is
 * missing) and has Blender build the scenes. */
void          kiln_test_render_set_up     (KilnTestRender *render);
void          kiln_test_render_tear_down  (KilnTestRender *render);

/* root/NAME-XXXXXX, new and empty. */
char         *kiln_test_render_new_dir    (KilnTestRender *render,
                                           const char     *name);
/* scenes/NAME */
char         *kiln_test_render_scene      (KilnTestRender *render,
                                           const char     *name);

/* Iterates the main context until *@result is set by kiln_test_store_result(). */
void          kiln_test_wait_result       (GAsyncResult  **result);
/* A GAsyncReadyCallback storing a reference to the result into user_data (a
 * GAsyncResult **). */
void          kiln_test_store_result      (GObject        *object,
                                           GAsyncResult   *result,
                                           gpointer        user_data);

/* Renders @spec in @render's sandbox with KilnRenderRun; returns its images. */
GStrv         kiln_test_render_spec       (KilnTestRender       *render,
                                           const KilnRenderSpec *spec);

/* Processes whose command line mentions @needle, waited for (up to 5 s) to be gone. */
void          kiln_test_assert_no_processes (const char *needle);

G_END_DECLS
