/* kiln-transfer-private.h: what the fetching and serving halves of KilnTransfer share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-transfer.h"

G_BEGIN_DECLS

struct _KilnTransfer
{
  GObject           parent_instance;

  KilnContentStore *store;
  GHashTable       *links;           /* KilnLink → KilnTransferLink */
  guint64           bytes_served;
  guint64           bytes_fetched;
};

/* What a KilnTransfer keeps for one link, from the first use until the link closes. */
typedef struct
{
  KilnTransfer *transfer;            /* not a reference: it owns us */
  KilnLink     *link;
  gulong        message_id;
  gulong        closed_id;
  gboolean      serving;
  GHashTable   *uploads;             /* id → upload (kiln-transfer-serve.c) */
  GHashTable   *fetches;             /* id → GTask of kiln_transfer_fetch_async() */
  guint32       next_id;
} KilnTransferLink;

/* kiln-transfer.c */
void     kiln_transfer_put_u32           (guint8           *p,
                                          guint32           v);
guint32  kiln_transfer_get_u32           (const guint8     *p);
void     kiln_transfer_put_u64           (guint8           *p,
                                          guint64           v);
guint64  kiln_transfer_get_u64           (const guint8     *p);
/* ERROR and STOP payloads. */
GBytes  *kiln_transfer_encode_reason     (guint32           id,
                                          KilnTransferReason reason,
                                          const char       *text);
/* Sends without waiting; a failure means the link is going, which its ::closed reports. */
void     kiln_transfer_link_send         (KilnTransferLink *tl,
                                          guint8            type,
                                          GBytes           *payload);
/* The state of @link, made on first use. */
KilnTransferLink *kiln_transfer_link_get (KilnTransfer     *self,
                                          KilnLink         *link);
/* Closes the link over a malformed message. @tl may be gone when this returns. */
void     kiln_transfer_link_violation    (KilnTransferLink *tl,
                                          const char       *what);

/* kiln-transfer-fetch.c */
/* HEADER, DATA, END and ERROR. */
void     kiln_transfer_fetch_message     (KilnTransferLink *tl,
                                          guint             type,
                                          GBytes           *payload);
/* Fails a fetch of a link that closed, with @error (taken); its .part stays. */
void     kiln_transfer_fetch_link_lost   (GTask            *task,
                                          GError           *error);

/* kiln-transfer-serve.c */
GHashTable *kiln_transfer_uploads_new    (void);
void     kiln_transfer_serve_request     (KilnTransferLink *tl,
                                          GBytes           *payload);
void     kiln_transfer_serve_ack         (KilnTransferLink *tl,
                                          GBytes           *payload);
void     kiln_transfer_serve_stop        (KilnTransferLink *tl,
                                          GBytes           *payload);

G_END_DECLS
