/* test-scene-info.c: reading a scene's settings with the real Blender in the sandbox
 *
 * The scenes come from tests/data/render/make-scenes.py; broken ones (truncated,
 * not a scene at all, a library that never finishes loading) are made here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "kiln-scene-info.h"
#include "kiln-test-render.h"

static KilnTestRender env;

static KilnSceneInfo *
inspect_with (KilnSandbox   *sandbox,
              const char    *path,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_scene_inspect_async (env.blender, sandbox, path, cancellable, kiln_test_store_result,
                            &result);
  kiln_test_wait_result (&result);
  return kiln_scene_inspect_finish (result, error);
}

static KilnSceneInfo *
inspect (const char  *name,
         GError     **error)
{
  g_autofree char *path = kiln_test_render_scene (&env, name);

  return inspect_with (NULL, path, NULL, error);
}

static void
assert_anim_settings (KilnSceneInfo *info)
{
  guint width = 0, height = 0;
  KilnImageFormat format = KILN_IMAGE_FORMAT_OPEN_EXR;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (kiln_scene_info_get_frame_start (info), ==, 1);
  g_assert_cmpint (kiln_scene_info_get_frame_end (info), ==, 4);
  g_assert_cmpint (kiln_scene_info_get_frame_step (info), ==, 1);
  g_assert_cmpfloat_with_epsilon (kiln_scene_info_get_fps (info), 24.0, 1e-9);
  g_assert_cmpuint (kiln_scene_info_get_resolution_x (info), ==, 160);
  g_assert_cmpuint (kiln_scene_info_get_resolution_y (info), ==, 120);
  g_assert_cmpuint (kiln_scene_info_get_resolution_percentage (info), ==, 100);
  kiln_scene_info_get_output_size (info, &width, &height);
  g_assert_cmpuint (width, ==, 160);
  g_assert_cmpuint (height, ==, 120);
  g_assert_cmpstr (kiln_scene_info_get_engine (info), ==, "CYCLES");
  g_assert_cmpuint (kiln_scene_info_get_samples (info), ==, 8);
  g_assert_true (kiln_scene_info_get_uses_denoising (info));
  g_assert_false (kiln_scene_info_get_uses_compositing (info));
  g_assert_cmpstr (kiln_scene_info_get_file_format (info), ==, "PNG");
  g_assert_true (kiln_scene_info_get_image_format (info, &format));
  g_assert_cmpint (format, ==, KILN_IMAGE_FORMAT_PNG);
  g_assert_true (kiln_scene_info_get_has_camera (info));
  g_assert_cmpstr (kiln_scene_info_get_scene_name (info), ==, "Scene");
  /* Saved by this Blender: the same major and minor version. */
  {
    guint major = 0, minor = 0;
    g_autofree char *prefix = NULL;

    kiln_blender_get_version_numbers (env.blender, &major, &minor, NULL);
    prefix = g_strdup_printf ("%u.%u.", major, minor);
    g_test_message ("saved with %s", kiln_scene_info_get_file_version (info));
    g_assert_true (g_str_has_prefix (kiln_scene_info_get_file_version (info), prefix));
  }
  g_assert_cmpuint (kiln_scene_info_get_files (info)->len, ==, 0);
  g_assert_true (kiln_scene_info_check (info, &error));
  g_assert_no_error (error);
}

static void
test_inspect_normal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = inspect ("anim.blend", &error);
  g_autofree char *path = kiln_test_render_scene (&env, "anim.blend");

  g_assert_no_error (error);
  g_assert_cmpstr (kiln_scene_info_get_path (info), ==, path);
  assert_anim_settings (info);
  /* No temporary folders or processes stay behind. */
  kiln_test_assert_no_processes (path);
  g_assert_finalize_object (g_steal_pointer (&info));
}

/* Blender 3 writes compressed scenes as zstd: the header check must let them in. */
static void
test_inspect_compressed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = inspect ("compressed.blend", &error);

  g_assert_no_error (error);
  assert_anim_settings (info);
}

static char *
write_file (const char *name,
            const void *contents,
            gssize      len)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (env.root, name, NULL);

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
test_inspect_truncated (void)
{
  g_autofree char *source = kiln_test_render_scene (&env, "anim.blend");
  g_autofree char *contents = NULL;
  g_autofree char *half = NULL;
  g_autofree char *tail = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;
  gsize len;

  g_file_get_contents (source, &contents, &len, &error);
  g_assert_no_error (error);

  half = write_file ("half.blend", contents, (gssize) len / 2);
  info = inspect_with (NULL, half, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNREADABLE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "“half.blend”"));
  g_assert_nonnull (strstr (error->message, "damaged or incomplete"));
  g_clear_error (&error);

  /* Only the last kilobytes missing (the end marker and the DNA block). */
  tail = write_file ("tail.blend", contents, (gssize) len - 2000);
  info = inspect_with (NULL, tail, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNREADABLE);
}

static void
assert_not_blend (const char *path,
                  const char *reason)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;
  gint64 start = g_get_monotonic_time ();

  info = inspect_with (NULL, path, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NOT_BLEND);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, reason));
  /* Refused from the first bytes, without starting Blender. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);
}

static void
test_inspect_not_blend (void)
{
  static const guint8 gzipped_text[] = {   /* "hello\n", gzip */
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
    0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00
  };
  g_autofree char *text = write_file ("notes.blend", "These are my notes.\n", -1);
  g_autofree char *empty = write_file ("empty.blend", "", 0);
  g_autofree char *gzip = write_file ("text.blend", gzipped_text, sizeof gzipped_text);
  g_autofree char *almost = write_file ("almost.blend", "BLENDER-x304", -1);
  g_autofree char *missing = g_build_filename (env.root, "nowhere.blend", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;

  assert_not_blend (text, "“notes.blend” is not a Blender scene");
  assert_not_blend (empty, "empty");
  assert_not_blend (gzip, "compressed file");
  assert_not_blend (almost, "does not start like one");
  assert_not_blend (env.scenes, "folder");

  info = inspect_with (NULL, missing, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static KilnSceneFile *
find_file (KilnSceneInfo *info,
           const char    *suffix)
{
  GPtrArray *files = kiln_scene_info_get_files (info);

  for (guint i = 0; i < files->len; i++)
    {
      KilnSceneFile *file = g_ptr_array_index (files, i);

      if (g_str_has_suffix (file->path, suffix))
        return file;
    }
  return NULL;
}

static void
test_inspect_missing_files (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = inspect ("missing/missing.blend", &error);
  g_autofree char *present_path = kiln_test_render_scene (&env, "missing/textures/present.png");
  KilnSceneFile *present, *absent, *library;

  g_assert_no_error (error);
  present = find_file (info, "/missing/textures/present.png");
  absent = find_file (info, "/missing/textures/absent.png");
  library = find_file (info, "/missing/libs/gone.blend");
  g_assert_nonnull (present);
  g_assert_nonnull (absent);
  g_assert_nonnull (library);
  g_assert_cmpstr (present->path, ==, present_path);
  g_assert_cmpint (present->kind, ==, KILN_SCENE_FILE_IMAGE);
  g_assert_false (present->missing);
  g_assert_cmpint (absent->kind, ==, KILN_SCENE_FILE_IMAGE);
  g_assert_true (absent->missing);
  g_assert_cmpint (library->kind, ==, KILN_SCENE_FILE_LIBRARY);
  g_assert_true (library->missing);
  g_assert_cmpuint (kiln_scene_info_get_n_missing_files (info), ==, 2);

  g_assert_false (kiln_scene_info_check (info, &error));
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_MISSING_FILES);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "absent.png"));
  g_assert_nonnull (strstr (error->message, "gone.blend"));
  g_assert_null (strstr (error->message, "present.png"));
  /* Two files: the plural sentence, the two names joined as a list. */
  g_assert_nonnull (strstr (error->message, "uses files that are not on this computer: "));
  g_assert_nonnull (strstr (error->message, "Put them back"));
  g_assert_nonnull (strstr (error->message, " and "));
}

static void
test_inspect_eevee (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = inspect ("eevee/eevee.blend", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (kiln_scene_info_get_engine (info), ==, "BLENDER_EEVEE");
  g_assert_cmpuint (kiln_scene_info_get_samples (info), >, 0);
  g_assert_false (kiln_scene_info_check (info, &error));
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNSUPPORTED_ENGINE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "EEVEE"));
  g_assert_nonnull (strstr (error->message, "Cycles"));
}

static void
test_inspect_no_camera (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = inspect ("nocamera.blend", &error);

  g_assert_no_error (error);
  g_assert_false (kiln_scene_info_get_has_camera (info));
  g_assert_false (kiln_scene_info_check (info, &error));
  g_assert_error (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NO_CAMERA);
}

/* hang.blend links //lib.blend: a named pipe nobody writes to blocks the load. */
static char *
make_hanging_scene (void)
{
  g_autofree char *library = kiln_test_render_scene (&env, "hang/lib.blend");

  g_unlink (library);
  g_assert_cmpint (mkfifo (library, 0600), ==, 0);
  return kiln_test_render_scene (&env, "hang/hang.blend");
}

static void
test_inspect_time_limit (void)
{
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autofree char *scene = make_hanging_scene ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;
  gint64 start = g_get_monotonic_time ();

  kiln_sandbox_set_time_limit (sandbox, 2);
  info = inspect_with (sandbox, scene, NULL, &error);
  g_assert_null (info);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "2 seconds"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
  kiln_test_assert_no_processes (scene);
}

static gboolean
cancel_soon (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_inspect_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *scene = make_hanging_scene ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnSceneInfo) info = NULL;
  gint64 start = g_get_monotonic_time ();

  g_timeout_add (1500, cancel_soon, cancellable);
  info = inspect_with (NULL, scene, cancellable, &error);
  g_assert_null (info);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
  kiln_test_assert_no_processes (scene);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  kiln_test_render_set_up (&env);

  g_test_add_func ("/kiln/scene-info/inspect/normal", test_inspect_normal);
  g_test_add_func ("/kiln/scene-info/inspect/compressed", test_inspect_compressed);
  g_test_add_func ("/kiln/scene-info/inspect/truncated", test_inspect_truncated);
  g_test_add_func ("/kiln/scene-info/inspect/not-blend", test_inspect_not_blend);
  g_test_add_func ("/kiln/scene-info/inspect/missing-files", test_inspect_missing_files);
  g_test_add_func ("/kiln/scene-info/inspect/eevee", test_inspect_eevee);
  g_test_add_func ("/kiln/scene-info/inspect/no-camera", test_inspect_no_camera);
  g_test_add_func ("/kiln/scene-info/inspect/time-limit", test_inspect_time_limit);
  g_test_add_func ("/kiln/scene-info/inspect/cancel", test_inspect_cancel);

  status = g_test_run ();
  kiln_test_render_tear_down (&env);
  return status;
}
