/* kiln-content-store-private.h: what the store and its partial downloads share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-content-store.h"

G_BEGIN_DECLS

/* What one read or write of a local file moves. */
#define COPY_BUFFER_SIZE   (256 * 1024)
#define PART_SUFFIX        ".part"

struct _KilnContentStore
{
  GObject     parent_instance;

  char       *path;

  /* Guards the counters and the set below: partials write from threads. */
  GMutex      lock;
  guint64     quota;
  guint64     used;       /* bytes of complete and partial files */
  guint64     reserved;   /* bytes promised to additions and downloads not yet written */
  GHashTable *open;       /* hashes with a KilnContentPartial open */
};

gboolean kiln_content_check_hash                   (const char        *hash,
                                                    GError           **error);
/* Whether @need more bytes fit in the quota; must hold the lock. */
gboolean kiln_content_store_fits_locked            (KilnContentStore  *self,
                                                    guint64            need,
                                                    GError           **error);
char    *kiln_content_store_complete_path          (KilnContentStore  *self,
                                                    const char        *hash);
char    *kiln_content_store_part_path              (KilnContentStore  *self,
                                                    const char        *hash);
/* 0 for a missing file. */
guint64  kiln_content_file_size                    (const char        *path);
/* Deletes @path and stops counting its bytes; must hold the lock. */
void     kiln_content_store_unlink_counted_locked  (KilnContentStore  *self,
                                                    const char        *path);

G_END_DECLS
