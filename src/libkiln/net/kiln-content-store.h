/* kiln-content-store.h: a folder of files named by their SHA-256, with a disk quota
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Complete files are named by the lowercase hex SHA-256 of their content. A download in
 * progress is "<hash>.part" and only becomes "<hash>" (by an atomic rename) once its whole
 * content has been checked against the hash. Complete and partial files together never take
 * more than the quota.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-types.h"

G_BEGIN_DECLS

/* A SHA-256 in hex: 64 characters, plus the terminator. */
#define KILN_CONTENT_HASH_LEN   64
#define KILN_CONTENT_HASH_SIZE  32

#define KILN_CONTENT_STORE_ERROR (kiln_content_store_error_quark ())

typedef enum
{
  KILN_CONTENT_STORE_ERROR_INVALID_HASH,  /* not 64 lowercase hex characters */
  KILN_CONTENT_STORE_ERROR_QUOTA,         /* the file would not fit in the quota */
  KILN_CONTENT_STORE_ERROR_CORRUPT,       /* the content does not match its hash */
  KILN_CONTENT_STORE_ERROR_SIZE,          /* more or fewer bytes than the file's size */
} KilnContentStoreError;

GQuark   kiln_content_store_error_quark  (void);

/* Whether @hash is 64 lowercase hex characters. */
gboolean kiln_content_hash_is_valid      (const char   *hash);
/* 32 raw bytes ↔ 64 hex characters. */
char    *kiln_content_hash_to_hex        (const guint8  digest[KILN_CONTENT_HASH_SIZE]);
gboolean kiln_content_hash_from_hex      (const char   *hash,
                                          guint8        digest[KILN_CONTENT_HASH_SIZE]);

#define KILN_TYPE_CONTENT_STORE (kiln_content_store_get_type ())

G_DECLARE_FINAL_TYPE (KilnContentStore, kiln_content_store, KILN, CONTENT_STORE, GObject)

/* Opens (creating it if needed) the store in @path, counting what it already holds against
 * @quota bytes. Leftovers of interrupted additions are deleted; partial downloads are kept. */
KilnContentStore *kiln_content_store_new             (const char        *path,
                                                      guint64            quota,
                                                      GError           **error);

const char       *kiln_content_store_get_path        (KilnContentStore  *self);
guint64           kiln_content_store_get_quota       (KilnContentStore  *self);
/* Lowering the quota deletes nothing; it only refuses what would go over it. */
void              kiln_content_store_set_quota       (KilnContentStore  *self,
                                                      guint64            quota);
/* Bytes of complete and partial files. */
guint64           kiln_content_store_get_used        (KilnContentStore  *self);

/* Copies @file into the store while hashing it, in a thread, never holding more than a
 * buffer of it in memory. Gives the hex hash. Fails with KILN_CONTENT_STORE_ERROR_QUOTA,
 * before writing anything, when the file does not fit. */
void              kiln_content_store_add_file_async  (KilnContentStore  *self,
                                                      GFile             *file,
                                                      GCancellable      *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer           user_data);
char             *kiln_content_store_add_file_finish (KilnContentStore  *self,
                                                      GAsyncResult      *result,
                                                      GError           **error);

/* The path of the complete file with @hash, or NULL. */
char             *kiln_content_store_lookup          (KilnContentStore  *self,
                                                      const char        *hash);
/* Bytes of @hash's partial download (0 when there is none). */
guint64           kiln_content_store_get_partial_size (KilnContentStore *self,
                                                      const char        *hash);
/* Deletes the complete file and the partial download of @hash. Removing what is not there
 * is not an error; a download in progress is (G_IO_ERROR_BUSY). */
gboolean          kiln_content_store_remove          (KilnContentStore  *self,
                                                      const char        *hash,
                                                      GError           **error);

/* A download into the store. The functions that do I/O block: call them from a thread,
 * one at a time for a given partial. */
typedef struct _KilnContentPartial KilnContentPartial;

/* Starts or resumes the download of @hash: hashes what an earlier attempt left in its .part
 * (G_IO_ERROR_EXISTS when the file is already complete, G_IO_ERROR_BUSY when another
 * download of it is open). Blocks. */
KilnContentPartial *kiln_content_store_open_partial  (KilnContentStore   *self,
                                                      const char         *hash,
                                                      GCancellable       *cancellable,
                                                      GError            **error);
const char       *kiln_content_partial_get_hash      (KilnContentPartial *partial);
/* Bytes already in the .part: where the download resumes. */
guint64           kiln_content_partial_get_offset    (KilnContentPartial *partial);
/* The file's full size, 0 until set. */
guint64           kiln_content_partial_get_size      (KilnContentPartial *partial);
/* Fixes the full size and reserves the missing bytes in the quota, or fails with
 * KILN_CONTENT_STORE_ERROR_QUOTA (writing nothing) or, when the .part is already longer,
 * KILN_CONTENT_STORE_ERROR_SIZE. Does no I/O. */
gboolean          kiln_content_partial_set_size      (KilnContentPartial *partial,
                                                      guint64             size,
                                                      GError            **error);
/* Appends to the .part and to the running hash. More bytes than the size fail with
 * KILN_CONTENT_STORE_ERROR_SIZE; a quota lowered since set_size() with
 * KILN_CONTENT_STORE_ERROR_QUOTA. Blocks. */
gboolean          kiln_content_partial_write         (KilnContentPartial *partial,
                                                      const void         *data,
                                                      gsize               len,
                                                      GCancellable       *cancellable,
                                                      GError            **error);
/* Once all bytes are written: checks the hash and renames the .part to the hash, giving
 * the path. A mismatch deletes the .part (KILN_CONTENT_STORE_ERROR_CORRUPT). Blocks. */
char             *kiln_content_partial_commit        (KilnContentPartial *partial,
                                                      GError            **error);
/* Closes the download; an uncommitted .part stays for a later resume. */
void              kiln_content_partial_free          (KilnContentPartial *partial);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnContentPartial, kiln_content_partial_free)

G_END_DECLS
