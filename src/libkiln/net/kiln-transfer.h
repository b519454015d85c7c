/* kiln-transfer.h: files sent and fetched by SHA-256 over links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * docs/protocol.md ("File transfer") describes the messages. A fetch streams the file into
 * the content store's .part in chunks, with flow control so neither side holds more than a
 * window of it in memory, resumes from the .part after a lost link, and makes the file
 * visible only once its SHA-256 matches.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-content-store.h"
#include "kiln-link.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* Message frame types of file transfer (0x20–0x2f are set aside for it). */
typedef enum
{
  KILN_TRANSFER_FRAME_REQUEST = 0x20,   /* fetching → serving */
  KILN_TRANSFER_FRAME_HEADER  = 0x21,   /* serving → fetching */
  KILN_TRANSFER_FRAME_DATA    = 0x22,   /* serving → fetching */
  KILN_TRANSFER_FRAME_END     = 0x23,   /* serving → fetching */
  KILN_TRANSFER_FRAME_ERROR   = 0x24,   /* serving → fetching */
  KILN_TRANSFER_FRAME_ACK     = 0x25,   /* fetching → serving */
  KILN_TRANSFER_FRAME_STOP    = 0x26,   /* fetching → serving */
} KilnTransferFrame;

/* Payload sizes: REQUEST id (4) || hash (32) || offset (8) || window (4); HEADER id || size
 * (8); END id; ACK id || bytes (4); ERROR and STOP id || reason (2) || text. */
#define KILN_TRANSFER_REQUEST_SIZE   48
#define KILN_TRANSFER_HEADER_SIZE    12
#define KILN_TRANSFER_ID_SIZE        4
#define KILN_TRANSFER_ACK_SIZE       8
#define KILN_TRANSFER_TEXT_MAX       256
/* File bytes per DATA frame sent, and unacknowledged bytes a fetch allows. */
#define KILN_TRANSFER_CHUNK_SIZE     (256 * 1024)
#define KILN_TRANSFER_WINDOW         (4 * 1024 * 1024)
/* Uploads served at once to one link. */
#define KILN_TRANSFER_MAX_UPLOADS    8

/* Reason codes of ERROR and STOP (unsigned 16-bit on the wire). */
typedef enum
{
  KILN_TRANSFER_REASON_CANCELLED   = 0,  /* STOP: the fetch was cancelled */
  KILN_TRANSFER_REASON_NOT_FOUND   = 1,  /* no file with this hash */
  KILN_TRANSFER_REASON_QUOTA       = 2,  /* STOP: the file does not fit the fetcher's quota */
  KILN_TRANSFER_REASON_BUSY        = 3,  /* too many uploads on this link */
  KILN_TRANSFER_REASON_BAD_REQUEST = 4,  /* malformed, duplicate id, offset past the end */
  KILN_TRANSFER_REASON_IO          = 5,  /* the file could not be read or written */
  KILN_TRANSFER_REASON_PROTOCOL    = 6,  /* STOP: the sender broke the protocol */
} KilnTransferReason;

#define KILN_TRANSFER_ERROR (kiln_transfer_error_quark ())

typedef enum
{
  KILN_TRANSFER_ERROR_NOT_FOUND,   /* the peer does not have the file */
  KILN_TRANSFER_ERROR_REFUSED,     /* the peer refused or gave up (its reason is in the text) */
  KILN_TRANSFER_ERROR_PROTOCOL,    /* the peer broke the transfer protocol */
} KilnTransferError;

GQuark   kiln_transfer_error_quark  (void);

/* Bytes stored so far (resumed bytes included) and the file's size (0 until known). Runs on
 * the main context of the fetch. */
typedef void (*KilnTransferProgress) (guint64  received,
                                      guint64  total,
                                      gpointer user_data);

#define KILN_TYPE_TRANSFER (kiln_transfer_get_type ())

G_DECLARE_FINAL_TYPE (KilnTransfer, kiln_transfer, KILN, TRANSFER, GObject)

KilnTransfer     *kiln_transfer_new                 (KilnContentStore     *store);
KilnContentStore *kiln_transfer_get_store           (KilnTransfer         *self);

/* Answers the fetches of @link's peer with the store's files until the link closes. */
void              kiln_transfer_serve               (KilnTransfer         *self,
                                                     KilnLink             *link);

/* Fetches the file with @hash (hex) from @link's peer into the store and gives its path.
 * @expected_size, when not 0, is checked against the quota before anything is asked, and a
 * peer announcing another size is refused. A .part left by an earlier attempt is resumed.
 * A lost link or cancellation keeps the .part; content that does not match @hash deletes it
 * (KILN_CONTENT_STORE_ERROR_CORRUPT). A file already in the store is given at once. */
void              kiln_transfer_fetch_async         (KilnTransfer         *self,
                                                     KilnLink             *link,
                                                     const char           *hash,
                                                     guint64               expected_size,
                                                     KilnTransferProgress  progress,
                                                     gpointer              progress_data,
                                                     GDestroyNotify        progress_data_free,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
char             *kiln_transfer_fetch_finish        (KilnTransfer         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* File bytes sent in DATA frames, and received in them, by this object so far. */
guint64           kiln_transfer_get_bytes_served    (KilnTransfer         *self);
guint64           kiln_transfer_get_bytes_fetched   (KilnTransfer         *self);

G_END_DECLS
