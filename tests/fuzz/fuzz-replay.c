/* fuzz-replay.c: runs a fuzz target over every file of its corpus, as a test
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   fuzz-NAME-replay CORPUS-DIR [GTEST-OPTION]...
 *
 * One test case per file, /kiln/fuzz/CORPUS/FILE, so that a regression names its input. Built
 * with a plain compiler, this is how `make check` keeps every interesting or once-crashing
 * input passing; libFuzzer builds of the same target find new ones (see README.md).
 */
#include <glib.h>

#include "fuzz-target.h"

static void
replay_file (gconstpointer data)
{
  const char *path = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  /* A copy of exactly @len bytes, so that reads past the end are caught by sanitizers. */
  {
    g_autofree guint8 *exact = g_memdup2 (contents, len);

    g_assert_cmpint (LLVMFuzzerTestOneInput (exact, len), ==, 0);
  }
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *corpus = NULL;
  const char *name;

  g_test_init (&argc, &argv, NULL);
  LLVMFuzzerInitialize (&argc, &argv);

  if (argc != 2)
    {
      g_printerr ("Usage: %s CORPUS-DIR [GTEST-OPTION]...\n", g_get_prgname ());
      return 2;
    }

  dir = g_dir_open (argv[1], 0, &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  corpus = g_path_get_basename (argv[1]);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  if (names->len == 0)
    {
      g_printerr ("The corpus %s is empty\n", argv[1]);
      return 1;
    }

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);
      g_autofree char *test_path = g_strdup_printf ("/kiln/fuzz/%s/%s", corpus, file);

      g_test_add_data_func_full (test_path, g_build_filename (argv[1], file, NULL),
                                 replay_file, g_free);
    }

  return g_test_run ();
}
