/* test-content-store.c: files named by SHA-256, partial downloads and the quota
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-content-store.h"
#include "kiln-test-util.h"

/* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

typedef struct
{
  char             *dir;
  char             *scratch;
  KilnContentStore *store;
} Fixture;

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_assert_cmpint (g_unlink (file), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static guint
count_files (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;

  return n;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base = g_dir_make_tmp ("kiln-content-XXXXXX", &error);

  g_assert_no_error (error);
  f->scratch = base;
  base = NULL;
  f->dir = g_build_filename (f->scratch, "store", NULL);
  f->store = kiln_content_store_new (f->dir, 64 * 1024 * 1024, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kiln_test_assert_finalize_soon (f->store);
  remove_dir (f->dir);
  remove_dir (f->scratch);
  g_free (f->dir);
  g_free (f->scratch);
}

static char *
write_scratch (Fixture    *f,
               const char *name,
               gsize       size)
{
  char *path = g_build_filename (f->scratch, name, NULL);
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(GError) error = NULL;
  guint32 x = 2463534242u;

  for (gsize i = 0; i < size; i++)
    {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      data[i] = x;
    }
  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);

  return path;
}

static void
on_added (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static char *
add_file (KilnContentStore  *store,
          const char        *path,
          GError           **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;

  kiln_content_store_add_file_async (store, file, NULL, on_added, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return kiln_content_store_add_file_finish (store, result, error);
}

static char *
sha256sum (const char *path)
{
  const char *argv[] = { "sha256sum", "-b", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpuint (strlen (out), >, KILN_CONTENT_HASH_LEN);

  return g_strndup (out, KILN_CONTENT_HASH_LEN);
}

static void
test_hash_known_file (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *abc = g_build_filename (f->scratch, "abc", NULL);
  g_autofree char *big = write_scratch (f, "big", 3 * 1024 * 1024 + 7);
  g_autofree char *big_sum = sha256sum (big);
  g_autofree char *hash = NULL;
  g_autofree char *again = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_file_set_contents (abc, "abc", 3, &error);
  g_assert_no_error (error);
  hash = add_file (f->store, abc, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hash, ==, ABC_SHA256);
  g_clear_pointer (&hash, g_free);

  /* Several buffers' worth, checked against coreutils. */
  hash = add_file (f->store, big, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hash, ==, big_sum);
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 3 + 3 * 1024 * 1024 + 7);

  stored = kiln_content_store_lookup (f->store, hash);
  g_assert_nonnull (stored);
  g_assert_true (g_str_has_suffix (stored, hash));
  g_file_get_contents (stored, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 3 * 1024 * 1024 + 7);

  /* The same content again is the same file, counted once. */
  again = add_file (f->store, big, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, hash);
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 3 + 3 * 1024 * 1024 + 7);
  g_assert_cmpuint (count_files (f->dir), ==, 2);
}

static void
test_quota_refuses_before_writing (Fixture       *f,
                                   gconstpointer  data)
{
  g_autofree char *big = write_scratch (f, "big", 4096);
  g_autofree char *small = write_scratch (f, "small", 1000);
  g_autofree char *hash = NULL;
  g_autoptr(KilnContentPartial) partial = NULL;
  g_autoptr(GError) error = NULL;

  kiln_content_store_set_quota (f->store, 3000);

  hash = add_file (f->store, big, &error);
  g_assert_null (hash);
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  g_assert_nonnull (strstr (error->message, "quota"));
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->dir), ==, 0);
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 0);

  /* A download that would not fit is refused before its .part exists. */
  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kiln_content_partial_set_size (partial, 3001, &error));
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  g_clear_error (&error);
  g_clear_pointer (&partial, kiln_content_partial_free);
  g_assert_cmpuint (count_files (f->dir), ==, 0);

  /* Reserved bytes count: a download holding 2500 leaves no room for a 1000-byte file. */
  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_content_partial_set_size (partial, 2500, &error));
  hash = add_file (f->store, small, &error);
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  g_clear_error (&error);

  /* A quota lowered during a download stops it at the next write. */
  kiln_content_store_set_quota (f->store, 10);
  g_assert_false (kiln_content_partial_write (partial, "0123456789abcdef", 16, NULL, &error));
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA);
  g_clear_error (&error);
  g_clear_pointer (&partial, kiln_content_partial_free);

  /* Released reservations make room again. */
  kiln_content_store_set_quota (f->store, 3000);
  hash = add_file (f->store, small, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 1000);
}

static void
test_partial_resume (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KilnContentPartial) partial = NULL;
  g_autoptr(KilnContentPartial) busy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;

  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_content_partial_get_offset (partial), ==, 0);
  g_assert_true (kiln_content_partial_set_size (partial, 3, &error));
  g_assert_true (kiln_content_partial_write (partial, "a", 1, NULL, &error));
  g_assert_no_error (error);

  /* One download of a file at a time. */
  busy = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_null (busy);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_false (kiln_content_store_remove (f->store, ABC_SHA256, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  g_clear_error (&error);
  g_clear_pointer (&partial, kiln_content_partial_free);

  /* Closed: the .part stays and the next download goes on from it. */
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->store, ABC_SHA256), ==, 1);
  g_assert_null (kiln_content_store_lookup (f->store, ABC_SHA256));
  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_content_partial_get_offset (partial), ==, 1);
  g_assert_true (kiln_content_partial_set_size (partial, 3, &error));
  g_assert_false (kiln_content_partial_write (partial, "bcd", 3, NULL, &error));
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE);
  g_clear_error (&error);
  g_assert_null (kiln_content_partial_commit (partial, &error));
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE);
  g_clear_error (&error);
  g_assert_true (kiln_content_partial_write (partial, "bc", 2, NULL, &error));
  path = kiln_content_partial_commit (partial, &error);
  g_assert_no_error (error);
  g_clear_pointer (&partial, kiln_content_partial_free);

  g_assert_cmpstr (path, ==, kiln_content_store_lookup (f->store, ABC_SHA256));
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_cmpstr (contents, ==, "abc");
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->store, ABC_SHA256), ==, 0);
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 3);

  /* Complete files are not downloaded again. */
  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);

  g_assert_true (kiln_content_store_remove (f->store, ABC_SHA256, &error));
  g_assert_null (kiln_content_store_lookup (f->store, ABC_SHA256));
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 0);
}

static void
test_partial_corrupt (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(KilnContentPartial) partial = NULL;
  g_autoptr(GError) error = NULL;

  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_content_partial_set_size (partial, 3, &error));
  g_assert_true (kiln_content_partial_write (partial, "abd", 3, NULL, &error));
  g_assert_cmpuint (kiln_content_store_get_partial_size (f->store, ABC_SHA256), ==, 3);

  g_assert_null (kiln_content_partial_commit (partial, &error));
  g_assert_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "deleted"));
  g_assert_nonnull (strstr (error->message, ABC_SHA256));
  g_clear_pointer (&partial, kiln_content_partial_free);

  g_assert_cmpuint (count_files (f->dir), ==, 0);
  g_assert_null (kiln_content_store_lookup (f->store, ABC_SHA256));
  g_assert_cmpuint (kiln_content_store_get_used (f->store), ==, 0);
}

static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KilnContentPartial) partial = NULL;
  g_autoptr(KilnContentStore) again = NULL;
  g_autofree char *leftover = g_build_filename (f->dir, ".add-123456", NULL);
  g_autoptr(GError) error = NULL;

  partial = kiln_content_store_open_partial (f->store, ABC_SHA256, NULL, &error);
  g_assert_true (kiln_content_partial_set_size (partial, 3, &error));
  g_assert_true (kiln_content_partial_write (partial, "ab", 2, NULL, &error));
  g_clear_pointer (&partial, kiln_content_partial_free);
  g_file_set_contents (leftover, "half an addition", -1, &error);
  g_assert_no_error (error);

  /* Partial downloads count against the quota; interrupted additions are cleared away. */
  again = kiln_content_store_new (f->dir, 100, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_content_store_get_used (again), ==, 2);
  g_assert_false (g_file_test (leftover, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (kiln_content_store_get_partial_size (again, ABC_SHA256), ==, 2);
}

static void
test_invalid_hash (void)
{
  guint8 digest[KILN_CONTENT_HASH_SIZE];
  g_autofree char *hex = NULL;

  g_assert_true (kiln_content_hash_is_valid (ABC_SHA256));
  g_assert_false (kiln_content_hash_is_valid (NULL));
  g_assert_false (kiln_content_hash_is_valid (""));
  g_assert_false (kiln_content_hash_is_valid ("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  g_assert_false (kiln_content_hash_is_valid (ABC_SHA256 "0"));
  g_assert_false (kiln_content_hash_is_valid ("../../../../etc/passwd"));
  g_assert_true (kiln_content_hash_from_hex (ABC_SHA256, digest));
  g_assert_cmpuint (digest[0], ==, 0xba);
  g_assert_cmpuint (digest[31], ==, 0xad);
  hex = kiln_content_hash_to_hex (digest);
  g_assert_cmpstr (hex, ==, ABC_SHA256);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/content-store/invalid-hash", test_invalid_hash);
  g_test_add ("/kiln/content-store/hash-known-file", Fixture, NULL,
              fixture_set_up, test_hash_known_file, fixture_tear_down);
  g_test_add ("/kiln/content-store/quota", Fixture, NULL,
              fixture_set_up, test_quota_refuses_before_writing, fixture_tear_down);
  g_test_add ("/kiln/content-store/partial-resume", Fixture, NULL,
              fixture_set_up, test_partial_resume, fixture_tear_down);
  g_test_add ("/kiln/content-store/partial-corrupt", Fixture, NULL,
              fixture_set_up, test_partial_corrupt, fixture_tear_down);
  g_test_add ("/kiln/content-store/reopen", Fixture, NULL,
              fixture_set_up, test_reopen, fixture_tear_down);

  return g_test_run ();
}
