/* test-cli.c: kiln-node's identity commands, run as a program, the way people and scripts do
 *
 * Every command runs in a fresh temporary folder with its standard input on a pipe (never a
 * terminal) and $XDG_DATA_HOME inside that folder. The output of every run is checked for the
 * secret keys this test knows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* The official Web3 Secret Storage test vectors (N = 262144 or c = 262144: slow to open):
 * the same key, neither records its address. */
#define VECTOR_FILE      "web3-scrypt.json"
#define VECTOR_PBKDF2    "web3-pbkdf2.json"
#define VECTOR_PASSWORD  "testpassword"
#define VECTOR_SECRET    "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"
#define VECTOR_ADDRESS   "0x008AeEda4D805471dF9b2A5B0f38A0C3bCBA786b"

/* A key imported as hex, and its address. */
#define HEX_SECRET       "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
#define HEX_ADDRESS      "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23"

#define PASSWORD         "correct horse battery staple"

static const char *const known_secrets[] = { VECTOR_SECRET, HEX_SECRET };

typedef struct
{
  char *dir;            /* a fresh temporary folder */
  char *password_file;  /* PASSWORD and a newline */
} Fixture;

typedef struct
{
  int   status;
  char *out;
  char *err;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static char *
path_in (Fixture    *fixture,
         const char *name)
{
  return g_build_filename (fixture->dir, name, NULL);
}

static char *
write_file (Fixture    *fixture,
            const char *name,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = path_in (fixture, name);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  return path;
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  return contents;
}

static char *
vector_path (const char *name)
{
  char *path = g_test_build_filename (G_TEST_DIST, "data", "keystore", name, NULL);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  return path;
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFile *child = NULL;

      while (g_file_enumerator_iterate (children, NULL, &child, NULL, NULL) && child != NULL)
        remove_tree (child);
    }

  g_file_delete (file, NULL, NULL);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-cli-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->password_file = write_file (fixture, "password", PASSWORD "\n");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GFile) dir = g_file_new_for_path (fixture->dir);

  remove_tree (dir);
  g_clear_pointer (&fixture->dir, g_free);
  g_clear_pointer (&fixture->password_file, g_free);
}

static void
check_no_secret (const char *text)
{
  g_autofree char *lower = g_ascii_strdown (text, -1);

  for (guint i = 0; i < G_N_ELEMENTS (known_secrets); i++)
    g_assert_null (strstr (lower, known_secrets[i]));
}

/* Runs kiln-node with the NULL-terminated arguments and @input (or nothing) on stdin. */
static void
run_valist (Result     *result,
            Fixture    *fixture,
            const char *input,
            const char *first,
            va_list     args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *xdg_data_home = path_in (fixture, "xdg");
  g_autofree char *command_line = NULL;
  const char *kiln_node = g_getenv ("KILN_NODE");

  g_assert_nonnull (kiln_node);

  g_ptr_array_add (argv, (gpointer) kiln_node);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  command_line = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("running %s", command_line);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The default data folder must never be the real one. */
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", xdg_data_home, TRUE);
  /* Untranslated messages, and UTF-8 quotes whatever the test's own locale. */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  g_subprocess_communicate_utf8 (process, input, NULL, &result->out, &result->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);

  check_no_secret (result->out);
  check_no_secret (result->err);

  g_test_message ("exit status %d, stdout: %s, stderr: %s",
                  result->status, result->out, result->err);
}

static void G_GNUC_NULL_TERMINATED
run (Result     *result,
     Fixture    *fixture,
     const char *first,
     ...)
{
  va_list args;

  va_start (args, first);
  run_valist (result, fixture, NULL, first, args);
  va_end (args);
}

static void G_GNUC_NULL_TERMINATED
run_with_input (Result     *result,
                Fixture    *fixture,
                const char *input,
                const char *first,
                ...)
{
  va_list args;

  va_start (args, first);
  run_valist (result, fixture, input, first, args);
  va_end (args);
}

static guint
count_lines (const char *text)
{
  guint n = 0;

  for (const char *p = text; *p != '\0'; p++)
    n += *p == '\n';

  return n;
}

static void
assert_success (Result *result)
{
  g_assert_cmpstr (result->err, ==, "");
  g_assert_cmpint (result->status, ==, 0);
}

/* Fails with @status, prints nothing on stdout and one line on stderr. */
static void
assert_failure (Result     *result,
                int         status,
                const char *reason)
{
  g_assert_cmpint (result->status, ==, status);
  g_assert_cmpstr (result->out, ==, "");
  g_assert_true (g_str_has_prefix (result->err, "kiln-node: "));
  g_assert_true (g_str_has_suffix (result->err, "\n"));
  g_assert_cmpuint (count_lines (result->err), ==, 1);
  if (reason != NULL)
    g_assert_nonnull (strstr (result->err, reason));
}

/* Succeeds and prints one EIP-55 address; returns it. */
static char *
assert_address (Result *result)
{
  assert_success (result);
  g_assert_true (g_regex_match_simple ("^0x[0-9a-fA-F]{40}\n$", result->out, 0, 0));

  return g_strndup (result->out, 42);
}

static void
assert_printed_address (Result     *result,
                        const char *address)
{
  g_autofree char *printed = assert_address (result);

  g_assert_cmpstr (printed, ==, address);
}

/* Succeeds and prints one line of JSON: {"address": @address, "keystore": @keystore}. */
static void
assert_account_json (Result     *result,
                     const char *address,
                     const char *keystore)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  JsonNode *root;

  assert_success (result);
  g_assert_cmpuint (count_lines (result->out), ==, 1);

  json_parser_load_from_data (parser, result->out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);

  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (object, "address"), ==, address);
  g_assert_cmpstr (json_object_get_string_member (object, "keystore"), ==, keystore);
}

static void
assert_mode (const char *path,
             int         mode)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, mode);
}

/* A new light account in @data_dir; returns its address. */
static char *
create_account (Fixture    *fixture,
                const char *data_dir)
{
  g_auto(Result) result = { 0 };

  run (&result, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);

  return assert_address (&result);
}

static void
test_create_show (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *address = create_account (fixture, data_dir);
  g_auto(Result) text = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) checked = { 0 };

  assert_mode (data_dir, 0700);
  assert_mode (keystore, 0600);

  run (&text, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&text, address);

  run (&json, fixture, "identity", "show", "--data-dir", data_dir, "--json", NULL);
  assert_account_json (&json, address, keystore);

  /* With the password, show opens the keystore too. */
  run (&checked, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);
  assert_printed_address (&checked, address);
}

static void
test_create_json (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *address = NULL;
  g_auto(Result) created = { 0 };
  g_auto(Result) shown = { 0 };
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;

  run (&created, fixture, "identity", "create", "--light", "--json", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);
  assert_success (&created);
  json_parser_load_from_data (parser, created.out, -1, &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  address = g_strdup (json_object_get_string_member (object, "address"));
  assert_account_json (&created, address, keystore);

  run (&shown, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&shown, address);
}

static void
test_create_refuses_overwrite (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *address = create_account (fixture, data_dir);
  g_autofree char *before = read_file (keystore);
  g_autofree char *after = NULL;
  g_auto(Result) again = { 0 };
  g_auto(Result) again_json = { 0 };
  g_auto(Result) shown = { 0 };

  run (&again, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);
  assert_failure (&again, 1, "already exists");

  run (&again_json, fixture, "identity", "create", "--light", "--json", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);
  assert_failure (&again_json, 1, "already exists");

  after = read_file (keystore);
  g_assert_cmpstr (before, ==, after);

  run (&shown, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&shown, address);
}

static void
test_create_keystore_option (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *data_keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *keystore = path_in (fixture, "account.json");
  g_autofree char *backup = path_in (fixture, "backup.json");
  g_autofree char *address = NULL;
  g_auto(Result) created = { 0 };
  g_auto(Result) shown = { 0 };
  g_auto(Result) shown_json = { 0 };
  g_auto(Result) exported = { 0 };
  g_auto(Result) missing = { 0 };

  run (&created, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--keystore", keystore, "--password-file", fixture->password_file, NULL);
  address = assert_address (&created);

  assert_mode (keystore, 0600);
  g_assert_false (g_file_test (data_keystore, G_FILE_TEST_EXISTS));

  run (&shown, fixture, "identity", "show", "--keystore", keystore,
       "--password-file", fixture->password_file, NULL);
  assert_printed_address (&shown, address);

  run (&shown_json, fixture, "identity", "show", "--keystore", keystore, "--json", NULL);
  assert_account_json (&shown_json, address, keystore);

  run (&exported, fixture, "identity", "export", "--keystore", keystore, "--data-dir", data_dir,
       "--password-file", fixture->password_file, "--out", backup, "--light", NULL);
  assert_printed_address (&exported, address);

  /* The data folder has no keystore of its own. */
  run (&missing, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_failure (&missing, 1, "no keystore");
}

static void
test_create_default_data_dir (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autofree char *keystore = NULL;
  g_autofree char *address = NULL;
  g_auto(Result) created = { 0 };
  g_auto(Result) shown = { 0 };

  run (&created, fixture, "identity", "create", "--light",
       "--password-file", fixture->password_file, NULL);
  address = assert_address (&created);

  /* $XDG_DATA_HOME/kiln, with XDG_DATA_HOME set by run_valist(). */
  keystore = g_build_filename (fixture->dir, "xdg", "kiln", "keystore.json", NULL);
  assert_mode (keystore, 0600);

  run (&shown, fixture, "identity", "show", "--json", NULL);
  assert_account_json (&shown, address, keystore);
}

static void
test_create_needs_password (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *empty = write_file (fixture, "empty", "");
  g_autofree char *newline = write_file (fixture, "newline", "\n");
  g_autofree char *missing = path_in (fixture, "no-such-file");
  g_auto(Result) no_option = { 0 };
  g_auto(Result) empty_file = { 0 };
  g_auto(Result) newline_file = { 0 };
  g_auto(Result) missing_file = { 0 };

  /* Standard input is a pipe, not a terminal: nothing to prompt on. */
  run (&no_option, fixture, "identity", "create", "--light", "--data-dir", data_dir, NULL);
  assert_failure (&no_option, 2, "a password is needed: pass --password-file FILE");

  run (&empty_file, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", empty, NULL);
  assert_failure (&empty_file, 1, "empty");

  run (&newline_file, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", newline, NULL);
  assert_failure (&newline_file, 1, "empty");

  run (&missing_file, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", missing, NULL);
  assert_failure (&missing_file, 1, "no-such-file");

  g_assert_false (g_file_test (data_dir, G_FILE_TEST_EXISTS));
}

static void
test_password_newline (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *bare = write_file (fixture, "bare", "secret");
  g_autofree char *lf = write_file (fixture, "lf", "secret\n");
  g_autofree char *crlf = write_file (fixture, "crlf", "secret\r\n");
  g_autofree char *two_lf = write_file (fixture, "two-lf", "secret\n\n");
  g_autofree char *address = NULL;
  g_auto(Result) created = { 0 };
  g_auto(Result) with_bare = { 0 };
  g_auto(Result) with_crlf = { 0 };
  g_auto(Result) with_two_lf = { 0 };

  run (&created, fixture, "identity", "create", "--light", "--data-dir", data_dir,
       "--password-file", lf, NULL);
  address = assert_address (&created);

  /* One final newline is not part of the password… */
  run (&with_bare, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", bare, NULL);
  assert_printed_address (&with_bare, address);

  run (&with_crlf, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", crlf, NULL);
  assert_printed_address (&with_crlf, address);

  /* …but only one. */
  run (&with_two_lf, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", two_lf, NULL);
  assert_failure (&with_two_lf, 1, "wrong password");
}

static void
test_import_vector (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *vector = vector_path (VECTOR_FILE);
  g_autofree char *vector_before = read_file (vector);
  g_autofree char *vector_after = NULL;
  g_autofree char *password = write_file (fixture, "vector-password", VECTOR_PASSWORD "\n");
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *exported = path_in (fixture, "exported.json");
  g_auto(Result) imported = { 0 };
  g_auto(Result) shown = { 0 };
  g_auto(Result) exported_result = { 0 };

  run (&imported, fixture, "identity", "import", "--keystore", vector,
       "--password-file", password, "--data-dir", data_dir, NULL);
  assert_printed_address (&imported, VECTOR_ADDRESS);
  assert_mode (keystore, 0600);

  /* The stored keystore records the address: no password is needed to show it. */
  run (&shown, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&shown, VECTOR_ADDRESS);

  /* The imported file is left as it was. */
  vector_after = read_file (vector);
  g_assert_cmpstr (vector_before, ==, vector_after);

  run (&exported_result, fixture, "identity", "export", "--data-dir", data_dir,
       "--password-file", password, "--out", exported, "--light", "--json", NULL);
  assert_account_json (&exported_result, VECTOR_ADDRESS, exported);
}

static void
test_import_wrong_password (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *source_dir = path_in (fixture, "source");
  g_autofree char *source = g_build_filename (source_dir, "keystore.json", NULL);
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *wrong = write_file (fixture, "wrong", "not the password\n");
  g_autofree char *address = create_account (fixture, source_dir);
  g_auto(Result) imported = { 0 };
  g_auto(Result) imported_json = { 0 };

  run (&imported, fixture, "identity", "import", "--keystore", source,
       "--password-file", wrong, "--data-dir", data_dir, "--light", NULL);
  assert_failure (&imported, 1, "wrong password");

  run (&imported_json, fixture, "identity", "import", "--keystore", source, "--json",
       "--password-file", wrong, "--data-dir", data_dir, "--light", NULL);
  assert_failure (&imported_json, 1, "wrong password");

  g_assert_false (g_file_test (keystore, G_FILE_TEST_EXISTS));
}

static void
test_import_hex_file (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *hex_file = write_file (fixture, "key.txt", "0x" HEX_SECRET "\n");
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_auto(Result) imported = { 0 };
  g_auto(Result) shown = { 0 };

  run (&imported, fixture, "identity", "import", "--hex-file", hex_file,
       "--password-file", fixture->password_file, "--data-dir", data_dir, "--light", NULL);
  assert_printed_address (&imported, HEX_ADDRESS);
  assert_mode (keystore, 0600);

  run (&shown, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", fixture->password_file, "--json", NULL);
  assert_account_json (&shown, HEX_ADDRESS, keystore);
}

static void
test_import_hex_stdin (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_auto(Result) imported = { 0 };
  g_auto(Result) shown = { 0 };

  run_with_input (&imported, fixture, HEX_SECRET "\n", "identity", "import", "--hex-stdin",
                  "--password-file", fixture->password_file, "--data-dir", data_dir,
                  "--light", "--json", NULL);
  assert_account_json (&imported, HEX_ADDRESS, keystore);

  run (&shown, fixture, "identity", "show", "--data-dir", data_dir,
       "--password-file", fixture->password_file, NULL);
  assert_printed_address (&shown, HEX_ADDRESS);
}

static void
test_import_bad_hex (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *long_hex = write_file (fixture, "long.txt", HEX_SECRET "00\n");
  g_autofree char *zero = write_file (fixture, "zero.txt",
                                     "00000000000000000000000000000000"
                                     "00000000000000000000000000000000");
  g_auto(Result) too_long = { 0 };
  g_auto(Result) not_hex = { 0 };
  g_auto(Result) zero_key = { 0 };
  g_auto(Result) no_password = { 0 };

  /* The message must not quote the text (check_no_secret() would see HEX_SECRET). */
  run (&too_long, fixture, "identity", "import", "--hex-file", long_hex,
       "--password-file", fixture->password_file, "--data-dir", data_dir, "--light", NULL);
  assert_failure (&too_long, 1, "does not hold a private key");

  run_with_input (&not_hex, fixture, HEX_SECRET "zz", "identity", "import", "--hex-stdin",
                  "--password-file", fixture->password_file, "--data-dir", data_dir,
                  "--light", NULL);
  assert_failure (&not_hex, 1, "does not hold a private key");

  run (&zero_key, fixture, "identity", "import", "--hex-file", zero,
       "--password-file", fixture->password_file, "--data-dir", data_dir, "--light", NULL);
  assert_failure (&zero_key, 1, "does not hold a private key");

  /* With the key on stdin, the password cannot come from there. */
  run_with_input (&no_password, fixture, HEX_SECRET, "identity", "import", "--hex-stdin",
                  "--data-dir", data_dir, "--light", NULL);
  assert_failure (&no_password, 2, "a password is needed");

  g_assert_false (g_file_test (keystore, G_FILE_TEST_EXISTS));
}

static void
test_import_force (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *keystore = g_build_filename (data_dir, "keystore.json", NULL);
  g_autofree char *hex_file = write_file (fixture, "key.txt", HEX_SECRET);
  g_autofree char *address = create_account (fixture, data_dir);
  g_autofree char *before = read_file (keystore);
  g_autofree char *after = NULL;
  g_auto(Result) refused = { 0 };
  g_auto(Result) shown = { 0 };
  g_auto(Result) forced = { 0 };
  g_auto(Result) shown_again = { 0 };

  run (&refused, fixture, "identity", "import", "--hex-file", hex_file,
       "--password-file", fixture->password_file, "--data-dir", data_dir, "--light", NULL);
  assert_failure (&refused, 1, "--force");

  after = read_file (keystore);
  g_assert_cmpstr (before, ==, after);
  run (&shown, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&shown, address);

  run (&forced, fixture, "identity", "import", "--hex-file", hex_file, "--force",
       "--password-file", fixture->password_file, "--data-dir", data_dir, "--light", NULL);
  assert_printed_address (&forced, HEX_ADDRESS);
  assert_mode (keystore, 0600);

  run (&shown_again, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_printed_address (&shown_again, HEX_ADDRESS);
}

static void
test_import_usage (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *hex_file = write_file (fixture, "key.txt", HEX_SECRET);
  g_auto(Result) no_source = { 0 };
  g_auto(Result) two_sources = { 0 };

  run (&no_source, fixture, "identity", "import",
       "--password-file", fixture->password_file, "--data-dir", data_dir, NULL);
  assert_failure (&no_source, 2, "--hex-file");

  run (&two_sources, fixture, "identity", "import", "--hex-file", hex_file, "--hex-stdin",
       "--password-file", fixture->password_file, "--data-dir", data_dir, NULL);
  assert_failure (&two_sources, 2, "--hex-stdin");
}

static void
test_export_import (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *first_dir = path_in (fixture, "first");
  g_autofree char *second_dir = path_in (fixture, "second");
  g_autofree char *exported = path_in (fixture, "backup.json");
  g_autofree char *address = create_account (fixture, first_dir);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_auto(Result) export_result = { 0 };
  g_auto(Result) import_result = { 0 };
  g_auto(Result) again = { 0 };
  g_auto(Result) forced = { 0 };
  g_auto(Result) no_out = { 0 };

  run (&export_result, fixture, "identity", "export", "--data-dir", first_dir,
       "--password-file", fixture->password_file, "--out", exported, "--light", NULL);
  assert_printed_address (&export_result, address);
  assert_mode (exported, 0600);

  run (&import_result, fixture, "identity", "import", "--keystore", exported,
       "--password-file", fixture->password_file, "--data-dir", second_dir, "--light", NULL);
  assert_printed_address (&import_result, address);

  /* An existing file is replaced only with --force. */
  before = read_file (exported);
  run (&again, fixture, "identity", "export", "--data-dir", first_dir,
       "--password-file", fixture->password_file, "--out", exported, "--light", NULL);
  assert_failure (&again, 1, "--force");
  after = read_file (exported);
  g_assert_cmpstr (before, ==, after);

  run (&forced, fixture, "identity", "export", "--data-dir", first_dir, "--force",
       "--password-file", fixture->password_file, "--out", exported, "--light", NULL);
  assert_printed_address (&forced, address);
  assert_mode (exported, 0600);

  run (&no_out, fixture, "identity", "export", "--data-dir", first_dir,
       "--password-file", fixture->password_file, NULL);
  assert_failure (&no_out, 2, "--out FILE");
}

static void
test_export_new_password (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *other_dir = path_in (fixture, "other");
  g_autofree char *exported = path_in (fixture, "backup.json");
  g_autofree char *new_password = write_file (fixture, "new-password", "another one\n");
  g_autofree char *address = create_account (fixture, data_dir);
  g_auto(Result) export_result = { 0 };
  g_auto(Result) old_show = { 0 };
  g_auto(Result) old_import = { 0 };
  g_auto(Result) new_show = { 0 };
  g_auto(Result) new_import = { 0 };

  run (&export_result, fixture, "identity", "export", "--data-dir", data_dir,
       "--password-file", fixture->password_file, "--new-password-file", new_password,
       "--out", exported, "--light", NULL);
  assert_printed_address (&export_result, address);
  assert_mode (exported, 0600);

  run (&old_show, fixture, "identity", "show", "--keystore", exported,
       "--password-file", fixture->password_file, NULL);
  assert_failure (&old_show, 1, "wrong password");

  run (&old_import, fixture, "identity", "import", "--keystore", exported,
       "--password-file", fixture->password_file, "--data-dir", other_dir, "--light", NULL);
  assert_failure (&old_import, 1, "wrong password");

  run (&new_show, fixture, "identity", "show", "--keystore", exported,
       "--password-file", new_password, NULL);
  assert_printed_address (&new_show, address);

  run (&new_import, fixture, "identity", "import", "--keystore", exported,
       "--password-file", new_password, "--data-dir", other_dir, "--light", NULL);
  assert_printed_address (&new_import, address);
}

static void
test_show_missing (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *data_dir = path_in (fixture, "node");
  g_autofree char *not_keystore = write_file (fixture, "not-a-keystore.json", "{\"x\": 1}");
  g_autofree char *unused = path_in (fixture, "unused.json");
  g_auto(Result) missing = { 0 };
  g_auto(Result) missing_json = { 0 };
  g_auto(Result) broken = { 0 };
  g_auto(Result) export_missing = { 0 };

  run (&missing, fixture, "identity", "show", "--data-dir", data_dir, NULL);
  assert_failure (&missing, 1, "identity create");

  /* --json changes nothing for errors: stderr, one line. */
  run (&missing_json, fixture, "identity", "show", "--data-dir", data_dir, "--json", NULL);
  assert_failure (&missing_json, 1, "identity create");

  run (&broken, fixture, "identity", "show", "--keystore", not_keystore, NULL);
  assert_failure (&broken, 1, "not-a-keystore.json");

  run (&export_missing, fixture, "identity", "export", "--data-dir", data_dir,
       "--password-file", fixture->password_file, "--out", unused, NULL);
  assert_failure (&export_missing, 1, "identity create");
}

static void
test_show_no_address (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *vector = vector_path (VECTOR_PBKDF2);
  g_autofree char *password = write_file (fixture, "vector-password", VECTOR_PASSWORD);
  g_auto(Result) without_password = { 0 };
  g_auto(Result) with_password = { 0 };

  run (&without_password, fixture, "identity", "show", "--keystore", vector, NULL);
  assert_failure (&without_password, 1, "does not record its address");

  run (&with_password, fixture, "identity", "show", "--keystore", vector,
       "--password-file", password, "--json", NULL);
  assert_account_json (&with_password, VECTOR_ADDRESS, vector);
}

static void
assert_help (Fixture           *fixture,
             const char *const *args,
             const char *const *mentions)
{
  g_auto(Result) result = { 0 };

  /* At most two arguments before --help. */
  if (args[0] == NULL)
    run (&result, fixture, "--help", NULL);
  else if (args[1] == NULL)
    run (&result, fixture, args[0], "--help", NULL);
  else
    run (&result, fixture, args[0], args[1], "--help", NULL);

  assert_success (&result);
  g_assert_true (g_str_has_prefix (result.out, "Usage:"));
  for (guint i = 0; mentions[i] != NULL; i++)
    {
      if (strstr (result.out, mentions[i]) == NULL)
        g_error ("“kiln-node %s %s --help” does not mention “%s”",
               args[0] ? args[0] : "", args[0] && args[1] ? args[1] : "", mentions[i]);
    }
}

static void
test_help (Fixture       *fixture,
           gconstpointer  data)
{
  const char *const shared[] = { "--data-dir", "--keystore", "--password-file", "--json", NULL };
  const char *const top_args[] = { NULL };
  const char *const top[] = { "identity", "--version", NULL };
  const char *const identity_args[] = { "identity", NULL };
  const char *const identity[] = { "create", "show", "import", "export", "--version", NULL };
  const char *const create_args[] = { "identity", "create", NULL };
  const char *const create[] = { "--light", NULL };
  const char *const show_args[] = { "identity", "show", NULL };
  const char *const show[] = { NULL };
  const char *const import_args[] = { "identity", "import", NULL };
  const char *const import[] = { "--hex-file", "--hex-stdin", "--force", "--light", NULL };
  const char *const export_args[] = { "identity", "export", NULL };
  const char *const export[] = { "--out", "--new-password-file", "--force", "raw hex", NULL };

  assert_help (fixture, top_args, top);
  assert_help (fixture, identity_args, identity);

  assert_help (fixture, create_args, create);
  assert_help (fixture, create_args, shared);
  assert_help (fixture, show_args, show);
  assert_help (fixture, show_args, shared);
  assert_help (fixture, import_args, import);
  assert_help (fixture, import_args, shared);
  assert_help (fixture, export_args, export);
  assert_help (fixture, export_args, shared);
}

static void
test_version (Fixture       *fixture,
              gconstpointer  data)
{
  g_auto(Result) top = { 0 };
  g_auto(Result) identity = { 0 };

  run (&top, fixture, "--version", NULL);
  assert_success (&top);
  g_assert_cmpstr (top.out, ==, "kiln-node " PACKAGE_VERSION "\n");

  run (&identity, fixture, "identity", "--version", NULL);
  assert_success (&identity);
  g_assert_cmpstr (identity.out, ==, "kiln-node " PACKAGE_VERSION "\n");
}

static void
test_usage_errors (Fixture       *fixture,
                   gconstpointer  data)
{
  struct {
    const char *args[4];
    const char *reason;
  } cases[] = {
    { { NULL }, "a command is needed" },
    { { "frobnicate", NULL }, "unknown command “frobnicate”" },
    { { "--frobnicate", NULL }, "--frobnicate" },
    { { "identity", NULL }, "a command is needed" },
    { { "identity", "frobnicate", NULL }, "unknown command “frobnicate”" },
    { { "identity", "--frobnicate", NULL }, "--frobnicate" },
    { { "identity", "show", "--frobnicate", NULL }, "--frobnicate" },
    { { "identity", "show", "extra", NULL }, "unexpected argument “extra”" },
    { { "identity", "create", "--data-dir", NULL }, "--data-dir" },
    { { "identity", "show", "--data-dir=", NULL }, "--data-dir" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *const *args = cases[i].args;
      g_auto(Result) result = { 0 };

      /* The arguments end at the first NULL. */
      run (&result, fixture, args[0], args[1], args[2], NULL);
      assert_failure (&result, 2, cases[i].reason);
    }
}

static void
add_test (const char *path,
          void      (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  add_test ("/kiln/cli/create/show", test_create_show);
  add_test ("/kiln/cli/create/json", test_create_json);
  add_test ("/kiln/cli/create/refuses-overwrite", test_create_refuses_overwrite);
  add_test ("/kiln/cli/create/keystore-option", test_create_keystore_option);
  add_test ("/kiln/cli/create/default-data-dir", test_create_default_data_dir);
  add_test ("/kiln/cli/create/needs-password", test_create_needs_password);
  add_test ("/kiln/cli/password-file/newline", test_password_newline);
  add_test ("/kiln/cli/import/vector", test_import_vector);
  add_test ("/kiln/cli/import/wrong-password", test_import_wrong_password);
  add_test ("/kiln/cli/import/hex-file", test_import_hex_file);
  add_test ("/kiln/cli/import/hex-stdin", test_import_hex_stdin);
  add_test ("/kiln/cli/import/bad-hex", test_import_bad_hex);
  add_test ("/kiln/cli/import/force", test_import_force);
  add_test ("/kiln/cli/import/usage", test_import_usage);
  add_test ("/kiln/cli/export/import", test_export_import);
  add_test ("/kiln/cli/export/new-password", test_export_new_password);
  add_test ("/kiln/cli/show/missing", test_show_missing);
  add_test ("/kiln/cli/show/no-address", test_show_no_address);
  add_test ("/kiln/cli/help", test_help);
  add_test ("/kiln/cli/version", test_version);
  add_test ("/kiln/cli/usage-errors", test_usage_errors);

  return g_test_run ();
}
