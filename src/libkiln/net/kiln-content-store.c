/* kiln-content-store.c: a folder of files named by their SHA-256, with a disk quota
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hashing uses nettle's SHA-256, which takes the CPU's SHA extensions where there are any:
 * 1.5 GiB/s here against 360 MiB/s for GChecksum, the bound on a transfer's speed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gfiledescriptorbased.h>
#include <gio/gunixoutputstream.h>
#include <nettle/sha2.h>

#include "kiln-content-store-private.h"

/* What one read or write of a local file moves. */
#define ADDING_PREFIX      ".add-"

enum {
  PROP_0,
  PROP_PATH,
  PROP_QUOTA,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KilnContentStore, kiln_content_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (kiln-content-store-error-quark, kiln_content_store_error)

/* Hashes */

gboolean
kiln_content_hash_is_valid (const char *hash)
{
  if (hash == NULL)
    return FALSE;

  for (guint i = 0; i < KILN_CONTENT_HASH_LEN; i++)
    if (!g_ascii_isxdigit (hash[i]) || g_ascii_isupper (hash[i]))
      return FALSE;

  return hash[KILN_CONTENT_HASH_LEN] == '\0';
}

char *
kiln_content_hash_to_hex (const guint8 digest[KILN_CONTENT_HASH_SIZE])
{
  char *hex = g_malloc (KILN_CONTENT_HASH_LEN + 1);

  for (guint i = 0; i < KILN_CONTENT_HASH_SIZE; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);

  return hex;
}

gboolean
kiln_content_hash_from_hex (const char *hash,
                            guint8      digest[KILN_CONTENT_HASH_SIZE])
{
  if (!kiln_content_hash_is_valid (hash))
    return FALSE;

  for (guint i = 0; i < KILN_CONTENT_HASH_SIZE; i++)
    digest[i] = g_ascii_xdigit_value (hash[2 * i]) << 4 | g_ascii_xdigit_value (hash[2 * i + 1]);

  return TRUE;
}

gboolean
kiln_content_check_hash (const char  *hash,
                         GError     **error)
{
  if (kiln_content_hash_is_valid (hash))
    return TRUE;

  g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_INVALID_HASH,
               _("“%s” is not a SHA-256 hash (64 lowercase hexadecimal characters)"),
               hash != NULL ? hash : "");
  return FALSE;
}

static char *
format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* Must hold the lock. */
gboolean
kiln_content_store_fits_locked (KilnContentStore  *self,
                                guint64            need,
                                GError           **error)
{
  guint64 taken = self->used + self->reserved;
  g_autofree char *need_text = NULL;
  g_autofree char *free_text = NULL;

  if (taken <= self->quota && need <= self->quota - taken)
    return TRUE;

  need_text = format_size (need);
  free_text = format_size (taken < self->quota ? self->quota - taken : 0);
  g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA,
               _("A file of %s does not fit in the disk quota for transfers (%s free); "
                 "raise the quota or remove files"),
               need_text, free_text);
  return FALSE;
}

/* GObject */

static void
kiln_content_store_finalize (GObject *object)
{
  KilnContentStore *self = KILN_CONTENT_STORE (object);

  g_free (self->path);
  g_hash_table_unref (self->open);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (kiln_content_store_parent_class)->finalize (object);
}

static void
kiln_content_store_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  KilnContentStore *self = KILN_CONTENT_STORE (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_QUOTA:
      g_value_set_uint64 (value, kiln_content_store_get_quota (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_content_store_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  KilnContentStore *self = KILN_CONTENT_STORE (object);

  switch (prop_id)
    {
    case PROP_QUOTA:
      kiln_content_store_set_quota (self, g_value_get_uint64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_content_store_class_init (KilnContentStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_content_store_finalize;
  object_class->get_property = kiln_content_store_get_property;
  object_class->set_property = kiln_content_store_set_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_QUOTA] =
    g_param_spec_uint64 ("quota", NULL, NULL,
                         0, G_MAXUINT64, 0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_content_store_init (KilnContentStore *self)
{
  g_mutex_init (&self->lock);
  self->open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static gboolean
is_part_name (const char *name)
{
  g_autofree char *hash = NULL;

  if (!g_str_has_suffix (name, PART_SUFFIX))
    return FALSE;
  hash = g_strndup (name, strlen (name) - strlen (PART_SUFFIX));

  return kiln_content_hash_is_valid (hash);
}

static gboolean
scan (KilnContentStore  *self,
      GError           **error)
{
  g_autoptr(GDir) dir = g_dir_open (self->path, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (self->path, name, NULL);
      GStatBuf st;

      if (g_str_has_prefix (name, ADDING_PREFIX))
        g_unlink (file);
      else if ((kiln_content_hash_is_valid (name) || is_part_name (name))
               && g_stat (file, &st) == 0)
        self->used += st.st_size;
    }

  return TRUE;
}

KilnContentStore *
kiln_content_store_new (const char  *path,
                        guint64      quota,
                        GError     **error)
{
  g_autoptr(KilnContentStore) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the folder for transferred files “%s”: %s"),
                   path, g_strerror (saved));
      return NULL;
    }

  self = g_object_new (KILN_TYPE_CONTENT_STORE, NULL);
  self->path = g_strdup (path);
  self->quota = quota;
  if (!scan (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
kiln_content_store_get_path (KilnContentStore *self)
{
  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), NULL);

  return self->path;
}

guint64
kiln_content_store_get_quota (KilnContentStore *self)
{
  guint64 quota;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), 0);

  g_mutex_lock (&self->lock);
  quota = self->quota;
  g_mutex_unlock (&self->lock);

  return quota;
}

void
kiln_content_store_set_quota (KilnContentStore *self,
                              guint64           quota)
{
  gboolean changed;

  g_return_if_fail (KILN_IS_CONTENT_STORE (self));

  g_mutex_lock (&self->lock);
  changed = self->quota != quota;
  self->quota = quota;
  g_mutex_unlock (&self->lock);

  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_QUOTA]);
}

guint64
kiln_content_store_get_used (KilnContentStore *self)
{
  guint64 used;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), 0);

  g_mutex_lock (&self->lock);
  used = self->used;
  g_mutex_unlock (&self->lock);

  return used;
}

char *
kiln_content_store_complete_path (KilnContentStore *self,
                                  const char       *hash)
{
  return g_build_filename (self->path, hash, NULL);
}

char *
kiln_content_store_part_path (KilnContentStore *self,
                              const char       *hash)
{
  g_autofree char *name = g_strconcat (hash, PART_SUFFIX, NULL);

  return g_build_filename (self->path, name, NULL);
}

guint64
kiln_content_file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
}

char *
kiln_content_store_lookup (KilnContentStore *self,
                           const char       *hash)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), NULL);

  if (!kiln_content_hash_is_valid (hash))
    return NULL;
  path = kiln_content_store_complete_path (self, hash);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer (&path) : NULL;
}

guint64
kiln_content_store_get_partial_size (KilnContentStore *self,
                                     const char       *hash)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), 0);

  if (!kiln_content_hash_is_valid (hash))
    return 0;
  path = kiln_content_store_part_path (self, hash);

  return kiln_content_file_size (path);
}

void
kiln_content_store_unlink_counted_locked (KilnContentStore *self,
                                          const char       *path)
{
  guint64 size = kiln_content_file_size (path);

  if (g_unlink (path) == 0)
    self->used -= MIN (size, self->used);
}

gboolean
kiln_content_store_remove (KilnContentStore  *self,
                           const char        *hash,
                           GError           **error)
{
  g_autofree char *complete = NULL;
  g_autofree char *part = NULL;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), FALSE);

  if (!kiln_content_check_hash (hash, error))
    return FALSE;
  complete = kiln_content_store_complete_path (self, hash);
  part = kiln_content_store_part_path (self, hash);

  g_mutex_lock (&self->lock);
  if (g_hash_table_contains (self->open, hash))
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("The file %s is being downloaded; cancel the download first"), hash);
      return FALSE;
    }
  kiln_content_store_unlink_counted_locked (self, complete);
  kiln_content_store_unlink_counted_locked (self, part);
  g_mutex_unlock (&self->lock);

  return TRUE;
}

/* Adding local files */

static char *
add_file (KilnContentStore  *self,
          GFile             *file,
          GCancellable      *cancellable,
          GError           **error)
{
  g_autoptr(GFileInputStream) input = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GOutputStream) output = NULL;
  struct sha256_ctx sha;
  guint8 digest[KILN_CONTENT_HASH_SIZE];
  g_autofree char *tmp_path = g_build_filename (self->path, ADDING_PREFIX "XXXXXX", NULL);
  g_autofree guint8 *buffer = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *final = NULL;
  g_autoptr(GError) local = NULL;
  guint64 size, copied = 0;
  gboolean ok = FALSE;
  int fd = -1;

  input = g_file_read (file, cancellable, error);
  if (input == NULL)
    return NULL;
  info = g_file_input_stream_query_info (input, G_FILE_ATTRIBUTE_STANDARD_SIZE, cancellable,
                                         error);
  if (info == NULL)
    return NULL;
  size = g_file_info_get_size (info);

  g_mutex_lock (&self->lock);
  ok = kiln_content_store_fits_locked (self, size, error);
  if (ok)
    self->reserved += size;
  g_mutex_unlock (&self->lock);
  if (!ok)
    return NULL;

  fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (&local, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create a file in “%s”: %s"), self->path, g_strerror (saved));
      goto out;
    }
  output = g_unix_output_stream_new (fd, TRUE);
  buffer = g_malloc (COPY_BUFFER_SIZE);
  sha256_init (&sha);

  for (;;)
    {
      gsize n = 0;

      if (!g_input_stream_read_all (G_INPUT_STREAM (input), buffer, COPY_BUFFER_SIZE, &n,
                                    cancellable, &local))
        goto out;
      if (n == 0)
        break;
      copied += n;
      if (copied > size)
        break;
      sha256_update (&sha, n, buffer);
      if (!g_output_stream_write_all (output, buffer, n, NULL, cancellable, &local))
        goto out;
    }

  if (copied != size)
    {
      g_autofree char *name = g_file_get_parse_name (file);

      g_set_error (&local, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE,
                   _("“%s” changed while it was being added; try again"), name);
      goto out;
    }
  if (fdatasync (fd) != 0 || !g_output_stream_close (output, cancellable, &local))
    {
      if (local == NULL)
        g_set_error (&local, G_IO_ERROR, g_io_error_from_errno (errno),
                     _("Cannot write to “%s”: %s"), self->path, g_strerror (errno));
      goto out;
    }

  sha256_digest (&sha, sizeof digest, digest);
  hash = kiln_content_hash_to_hex (digest);
  final = kiln_content_store_complete_path (self, hash);

out:
  g_mutex_lock (&self->lock);
  self->reserved -= size;
  if (final != NULL && g_file_test (final, G_FILE_TEST_IS_REGULAR))
    g_unlink (tmp_path);              /* the same content is already there */
  else if (final != NULL && g_rename (tmp_path, final) == 0)
    self->used += size;
  else
    {
      if (fd >= 0)
        g_unlink (tmp_path);
      if (local == NULL && final != NULL)
        g_set_error (&local, G_IO_ERROR, g_io_error_from_errno (errno),
                     _("Cannot store “%s”: %s"), final, g_strerror (errno));
      g_clear_pointer (&hash, g_free);
    }
  g_mutex_unlock (&self->lock);

  if (local != NULL)
    g_propagate_error (error, g_steal_pointer (&local));

  return g_steal_pointer (&hash);
}

static void
add_file_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  char *hash = add_file (source_object, task_data, cancellable, &error);

  if (hash == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, hash, g_free);
}

void
kiln_content_store_add_file_async (KilnContentStore    *self,
                                   GFile               *file,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KILN_IS_CONTENT_STORE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_content_store_add_file_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, add_file_thread);
}

char *
kiln_content_store_add_file_finish (KilnContentStore  *self,
                                    GAsyncResult      *result,
                                    GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kiln_content_store_add_file_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
