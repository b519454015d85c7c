/* kiln-content-partial.c: downloads into the content store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A partial download appends to "<hash>.part" and keeps the SHA-256 of what it wrote, so a
 * resumed download hashes the old bytes once, when it opens, and the new ones as they come.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gfiledescriptorbased.h>
#include <nettle/sha2.h>

#include "kiln-content-store-private.h"

struct _KilnContentPartial
{
  KilnContentStore  *store;
  char              *hash;
  char              *part_path;
  struct sha256_ctx  sha;        /* of the bytes in the .part so far */
  GFileOutputStream *output;     /* opened at the first write */
  guint64            offset;     /* length of the .part when opened */
  guint64            written;    /* length of the .part now */
  guint64            size;
  gboolean           has_size;
  guint64            reserved;   /* our share of store->reserved */
  gboolean           committed;
};

/* Hashes the .part an earlier attempt left; gives its length. */
static gboolean
hash_existing_part (KilnContentPartial  *partial,
                    GCancellable        *cancellable,
                    GError             **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (partial->part_path);
  g_autoptr(GFileInputStream) input = NULL;
  g_autofree guint8 *buffer = NULL;
  g_autoptr(GError) local = NULL;

  input = g_file_read (file, cancellable, &local);
  if (input == NULL)
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  buffer = g_malloc (COPY_BUFFER_SIZE);
  for (;;)
    {
      gsize n = 0;

      if (!g_input_stream_read_all (G_INPUT_STREAM (input), buffer, COPY_BUFFER_SIZE, &n,
                                    cancellable, error))
        return FALSE;
      if (n == 0)
        return TRUE;
      sha256_update (&partial->sha, n, buffer);
      partial->offset += n;
      partial->written = partial->offset;
    }
}

KilnContentPartial *
kiln_content_store_open_partial (KilnContentStore  *self,
                                 const char        *hash,
                                 GCancellable      *cancellable,
                                 GError           **error)
{
  g_autoptr(KilnContentPartial) partial = NULL;
  g_autofree char *complete = NULL;

  g_return_val_if_fail (KILN_IS_CONTENT_STORE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kiln_content_check_hash (hash, error))
    return NULL;

  complete = kiln_content_store_complete_path (self, hash);
  g_mutex_lock (&self->lock);
  if (g_file_test (complete, G_FILE_TEST_IS_REGULAR))
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("The file %s is already stored"), hash);
      return NULL;
    }
  if (!g_hash_table_add (self->open, g_strdup (hash)))
    {
      g_mutex_unlock (&self->lock);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   _("The file %s is already being downloaded"), hash);
      return NULL;
    }
  g_mutex_unlock (&self->lock);

  partial = g_new0 (KilnContentPartial, 1);
  partial->store = g_object_ref (self);
  partial->hash = g_strdup (hash);
  partial->part_path = kiln_content_store_part_path (self, hash);
  sha256_init (&partial->sha);

  if (!hash_existing_part (partial, cancellable, error))
    return NULL;
  return g_steal_pointer (&partial);
}

const char *
kiln_content_partial_get_hash (KilnContentPartial *partial)
{
  return partial->hash;
}

guint64
kiln_content_partial_get_offset (KilnContentPartial *partial)
{
  return partial->offset;
}

guint64
kiln_content_partial_get_size (KilnContentPartial *partial)
{
  return partial->has_size ? partial->size : 0;
}

gboolean
kiln_content_partial_set_size (KilnContentPartial  *partial,
                               guint64              size,
                               GError             **error)
{
  KilnContentStore *self = partial->store;
  gboolean ok;

  if (partial->has_size && partial->size != size)
    {
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE,
                   _("The file %s was announced with %" PRIu64 " bytes and then "
                     "with %" PRIu64), partial->hash, partial->size, size);
      return FALSE;
    }
  if (partial->has_size)
    return TRUE;
  if (size < partial->written)
    {
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE,
                   _("The partial download of %s is longer than the file (%" PRIu64
                     " bytes); remove it and download again"), partial->hash, size);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  ok = kiln_content_store_fits_locked (self, size - partial->written, error);
  if (ok)
    {
      partial->reserved = size - partial->written;
      self->reserved += partial->reserved;
      partial->size = size;
      partial->has_size = TRUE;
    }
  g_mutex_unlock (&self->lock);

  return ok;
}

gboolean
kiln_content_partial_write (KilnContentPartial  *partial,
                            const void          *data,
                            gsize                len,
                            GCancellable        *cancellable,
                            GError             **error)
{
  KilnContentStore *self = partial->store;
  gboolean ok;

  g_return_val_if_fail (partial->has_size, FALSE);
  g_return_val_if_fail (!partial->committed, FALSE);

  if (len > partial->size - partial->written)
    {
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE,
                   _("More bytes arrived for %s than its size of %" PRIu64),
                   partial->hash, partial->size);
      return FALSE;
    }

  /* The quota may have been lowered since the size was reserved. */
  g_mutex_lock (&self->lock);
  ok = self->used <= self->quota && len <= self->quota - self->used;
  if (ok)
    {
      self->used += len;
      self->reserved -= len;
      partial->reserved -= len;
    }
  g_mutex_unlock (&self->lock);
  if (!ok)
    {
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_QUOTA,
                   _("The disk quota for transfers is full; the partial download of %s was "
                     "kept for later"), partial->hash);
      return FALSE;
    }

  if (partial->output == NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (partial->part_path);

      partial->output = g_file_append_to (file, G_FILE_CREATE_PRIVATE, cancellable, error);
      if (partial->output == NULL)
        return FALSE;
    }

  /* On failure the .part's real length is counted again in kiln_content_partial_free(). */
  if (!g_output_stream_write_all (G_OUTPUT_STREAM (partial->output), data, len, NULL,
                                  cancellable, error))
    return FALSE;
  sha256_update (&partial->sha, len, data);
  partial->written += len;

  return TRUE;
}

static gboolean
close_output (KilnContentPartial  *partial,
              gboolean             sync,
              GError             **error)
{
  g_autoptr(GFileOutputStream) output = g_steal_pointer (&partial->output);
  int fd;

  if (output == NULL)
    return TRUE;

  fd = g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (output));
  if (sync && fdatasync (fd) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write “%s”: %s"), partial->part_path, g_strerror (saved));
      return FALSE;
    }

  return g_output_stream_close (G_OUTPUT_STREAM (output), NULL, error);
}

char *
kiln_content_partial_commit (KilnContentPartial  *partial,
                             GError             **error)
{
  KilnContentStore *self = partial->store;
  g_autofree char *final = NULL;
  g_autofree char *digest = NULL;
  guint8 raw[KILN_CONTENT_HASH_SIZE];

  g_return_val_if_fail (partial->has_size, NULL);
  g_return_val_if_fail (!partial->committed, NULL);

  if (partial->written != partial->size)
    {
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_SIZE,
                   _("The download of %s is incomplete: %" PRIu64 " of %"
                     PRIu64 " bytes"), partial->hash, partial->written, partial->size);
      return NULL;
    }

  /* An empty file has had no write to create it. */
  if (partial->output == NULL && partial->written == 0)
    {
      g_autoptr(GFile) file = g_file_new_for_path (partial->part_path);

      partial->output = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);
      if (partial->output == NULL)
        return NULL;
    }
  if (!close_output (partial, TRUE, error))
    return NULL;

  sha256_digest (&partial->sha, sizeof raw, raw);
  digest = kiln_content_hash_to_hex (raw);
  if (strcmp (digest, partial->hash) != 0)
    {
      g_mutex_lock (&self->lock);
      kiln_content_store_unlink_counted_locked (self, partial->part_path);
      g_mutex_unlock (&self->lock);
      partial->written = 0;
      g_set_error (error, KILN_CONTENT_STORE_ERROR, KILN_CONTENT_STORE_ERROR_CORRUPT,
                   _("The downloaded file does not match its SHA-256 hash %s (it hashes to "
                     "%s); the partial download was deleted"), partial->hash, digest);
      return NULL;
    }

  final = kiln_content_store_complete_path (self, partial->hash);
  if (g_rename (partial->part_path, final) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot store “%s”: %s"), final, g_strerror (saved));
      return NULL;
    }
  partial->committed = TRUE;

  return g_steal_pointer (&final);
}

void
kiln_content_partial_free (KilnContentPartial *partial)
{
  KilnContentStore *self;
  guint64 actual;

  if (partial == NULL)
    return;

  self = partial->store;
  close_output (partial, FALSE, NULL);
  actual = partial->committed ? partial->written : kiln_content_file_size (partial->part_path);

  g_mutex_lock (&self->lock);
  self->reserved -= partial->reserved;
  /* A failed write may have left more or fewer bytes than counted. */
  self->used = self->used + actual - MIN (partial->written, self->used + actual);
  g_hash_table_remove (self->open, partial->hash);
  g_mutex_unlock (&self->lock);

  g_free (partial->part_path);
  g_free (partial->hash);
  g_object_unref (partial->store);
  g_free (partial);
}
