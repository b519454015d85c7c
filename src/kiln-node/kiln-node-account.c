/* kiln-node-account.c: the account's keystore file on disk, for every command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kiln-node-account.h"

char *
kiln_node_display_path (const char *path)
{
  g_autofree char *absolute = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  absolute = g_canonicalize_filename (path, NULL);

  return g_filename_display_name (absolute);
}

gboolean
kiln_node_account_check_absent (const char  *path,
                                const char  *hint,
                                GError     **error)
{
  g_autofree char *display = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (hint != NULL, FALSE);

  if (!g_file_test (path, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    return TRUE;

  display = kiln_node_display_path (path);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               _("“%s” already exists; %s"), display, hint);

  return FALSE;
}

char *
kiln_node_account_read (const char  *path,
                        gsize       *length,
                        GError     **error)
{
  g_autofree char *display = NULL;
  g_autofree char *document = NULL;
  gsize total = 0;
  int saved_errno = 0;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (length != NULL, NULL);

  display = kiln_node_display_path (path);

  do
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      saved_errno = errno;

      if (saved_errno == ENOENT)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("there is no keystore at “%s”: make one with “kiln-node identity "
                       "create” or “kiln-node identity import”"), display);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     _("cannot read the keystore “%s”: %s"), display, g_strerror (saved_errno));
      return NULL;
    }

  /* One byte more than allowed, to tell a full document from a too large one. */
  document = g_malloc (KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 2);
  while (total < KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1)
    {
      ssize_t n = read (fd, document + total, KILN_KEYSTORE_MAX_DOCUMENT_SIZE + 1 - total);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          break;
        }
      if (n == 0)
        break;
      total += n;
    }
  close (fd);

  if (saved_errno != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot read the keystore “%s”: %s"), display, g_strerror (saved_errno));
      return NULL;
    }

  if (total > KILN_KEYSTORE_MAX_DOCUMENT_SIZE)
    {
      g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_KEYSTORE_FORMAT,
                   _("“%s” is not a keystore: it is larger than %d bytes"),
                   display, KILN_KEYSTORE_MAX_DOCUMENT_SIZE);
      return NULL;
    }

  document[total] = '\0';
  *length = total;

  return g_steal_pointer (&document);
}

KilnKey *
kiln_node_account_decrypt (const char  *path,
                           const char  *document,
                           gsize        length,
                           const char  *password,
                           GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *display = NULL;
  KilnKey *key;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (document != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  key = kiln_keystore_decrypt (document, length, password, &local_error);
  if (key != NULL)
    return key;

  display = kiln_node_display_path (path);

  if (g_error_matches (local_error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD))
    g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_WRONG_PASSWORD,
                 _("wrong password for the keystore “%s” (or the file is damaged)"), display);
  else
    g_set_error (error, local_error->domain, local_error->code,
                 _("cannot open the keystore “%s”: %s"), display, local_error->message);

  return NULL;
}

KilnKey *
kiln_node_account_unlock (KilnNodeContext  *ctx,
                          KilnNodeSecret  **out_password,
                          GError          **error)
{
  g_autoptr(KilnNodeSecret) password = NULL;
  g_autofree char *document = NULL;
  g_autofree char *path = NULL;
  gsize length = 0;
  KilnKey *key;

  g_return_val_if_fail (ctx != NULL, NULL);

  path = kiln_node_context_get_keystore (ctx);

  /* Read first: a missing keystore is reported before any password is asked for. */
  document = kiln_node_account_read (path, &length, error);
  if (document == NULL)
    return NULL;

  password = kiln_node_password_get (ctx->password_file, "--password-file",
                                     KILN_NODE_PASSWORD_UNLOCK, error);
  if (password == NULL)
    return NULL;

  key = kiln_node_account_decrypt (path, document, length, password, error);
  if (key != NULL && out_password != NULL)
    *out_password = g_steal_pointer (&password);

  return key;
}

static gboolean
write_all (int          fd,
           const char  *data,
           gsize        length,
           int         *out_errno)
{
  while (length > 0)
    {
      ssize_t n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *out_errno = errno;
          return FALSE;
        }
      data += n;
      length -= n;
    }

  return TRUE;
}

static gboolean
move_into_place (const char *from,
                 const char *to,
                 gboolean    replace,
                 int        *out_errno)
{
  if (replace)
    {
      if (rename (from, to) == 0)
        return TRUE;
      *out_errno = errno;
      return FALSE;
    }

  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return TRUE;

  if (errno != EINVAL && errno != ENOSYS)
    {
      *out_errno = errno;
      return FALSE;
    }

  /* Filesystems without RENAME_NOREPLACE: a hard link also fails when @to exists. */
  if (link (from, to) != 0)
    {
      *out_errno = errno;
      return FALSE;
    }
  unlink (from);

  return TRUE;
}

static void
sync_directory (const char *dir)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return;

  /* Makes the new name durable; failing here loses nothing already written. */
  fsync (fd);
  close (fd);
}

/* Writes a new file next to @path, then renames it over @path: readers see the old file or the
 * whole new one, never a part. */
static gboolean
write_private_file (const char  *path,
                    const char  *contents,
                    gsize        length,
                    gboolean     replace,
                    GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *temp_name = g_strdup_printf (".%s.XXXXXX", base);
  g_autofree char *temp_path = g_build_filename (dir, temp_name, NULL);
  g_autofree char *display = kiln_node_display_path (path);
  gboolean ok;
  int saved_errno = 0;
  int fd;

  fd = g_mkstemp_full (temp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot write “%s”: %s"), display, g_strerror (saved_errno));
      return FALSE;
    }

  ok = write_all (fd, contents, length, &saved_errno);
  if (ok && fsync (fd) != 0)
    {
      saved_errno = errno;
      ok = FALSE;
    }
  if (close (fd) != 0 && ok)
    {
      saved_errno = errno;
      ok = FALSE;
    }
  if (ok)
    ok = move_into_place (temp_path, path, replace, &saved_errno);

  if (!ok)
    {
      g_unlink (temp_path);

      if (saved_errno == EEXIST)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                     _("“%s” already exists; nothing was written"), display);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     _("cannot write “%s”: %s"), display, g_strerror (saved_errno));
      return FALSE;
    }

  sync_directory (dir);

  return TRUE;
}

gboolean
kiln_node_account_save (const char  *path,
                        KilnKey     *key,
                        const char  *password,
                        guint64      scrypt_n,
                        gboolean     replace,
                        GError     **error)
{
  g_autofree char *document = NULL;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (password != NULL, FALSE);

  document = kiln_keystore_encrypt (key, password, scrypt_n, error);
  if (document == NULL)
    return FALSE;

  return write_private_file (path, document, strlen (document), replace, error);
}
