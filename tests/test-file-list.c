/* test-file-list.c: file names listed in a sentence
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>

#include "kiln-file-list.h"

static void
check_list (guint       n_names,
            guint       limit,
            const char *expected)
{
  static const char * const names[] = {
    "a.png", "b.png", "c.png", "d.exr", "e.blend", "f.png",
  };
  g_autofree char *list = NULL;

  g_assert_cmpuint (n_names, <=, G_N_ELEMENTS (names));
  list = kiln_file_list_format (names, n_names, limit);
  g_assert_cmpstr (list, ==, expected);
}

static void
test_file_list_whole (void)
{
  check_list (1, 3, "a.png");
  check_list (2, 3, "a.png and b.png");
  check_list (3, 3, "a.png, b.png and c.png");
  check_list (1, 1, "a.png");
}

static void
test_file_list_more (void)
{
  /* What is left out is counted, in the plural form that fits the count. */
  check_list (4, 3, "a.png, b.png, c.png and 1 more file");
  check_list (6, 3, "a.png, b.png, c.png and 3 more files");
  check_list (2, 1, "a.png and 1 more file");
  check_list (6, 5, "a.png, b.png, c.png, d.exr, e.blend and 1 more file");
}

int
main (int   argc,
      char *argv[])
{
  /* The English messages, whatever the language of the person running the tests. */
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/file-list/whole", test_file_list_whole);
  g_test_add_func ("/kiln/file-list/more", test_file_list_more);

  return g_test_run ();
}
