/* kiln-test-market.h: market messages for tests, and ways to alter them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "libkiln.h"

G_BEGIN_DECLS

#define KILN_TEST_MARKET_NOW       ((gint64) 1700000000)
#define KILN_TEST_MARKET_CHAIN_ID  1337
/* 10^18 base units: one GNT. */
#define KILN_TEST_GNT              G_GUINT64_CONSTANT (1000000000000000000)

KilnKey              *kiln_test_market_key            (void);
KilnUint256           kiln_test_u256                  (guint64               value);

/* A signed announcement made at KILN_TEST_MARKET_NOW by @requestor: Blender 3.4, CYCLES,
 * 4 cores, 2048 MiB, 512 MiB of disk, 10 subtasks of 600 s, at most 2 GNT per CPU-hour and
 * 100 GNT in all, offers for an hour, due in a day, two files. */
KilnTaskAnnouncement *kiln_test_market_announcement   (KilnKey              *requestor);

/* A signed offer for @announcement by @provider at KILN_TEST_MARKET_NOW, valid for an hour. */
KilnOffer            *kiln_test_market_offer          (KilnTaskAnnouncement *announcement,
                                                       KilnKey              *provider,
                                                       const KilnUint256    *price,
                                                       guint                 cores,
                                                       guint32               benchmark,
                                                       guint                 max_concurrent);

/* The number of fields in the body of @message (RLP [body, signature…]). */
guint                 kiln_test_market_n_fields       (GBytes               *message);
/* @message with body field @field replaced by the RLP item @item (its whole encoding); the
 * signatures are kept as they were. */
GBytes               *kiln_test_market_replace_field  (GBytes               *message,
                                                       guint                 field,
                                                       const guint8         *item,
                                                       gsize                 len);
/* @message with body field @field changed to another value of the same shape: the lowest bit
 * of a number or of the last byte of a string flipped (a number 0 becomes 1), in the first
 * item of a list. */
GBytes               *kiln_test_market_alter_field    (GBytes               *message,
                                                       guint                 field);
/* @message with signature @index (1 for the first) replaced by @signature. */
GBytes               *kiln_test_market_replace_signature (GBytes            *message,
                                                          guint              index,
                                                          const guint8      *signature);
/* A message [@body, signature] signed by @key over kiln_market_digest (@context, @body). */
GBytes               *kiln_test_market_sign_body      (GBytes               *body,
                                                       const char           *context,
                                                       KilnKey              *key);
/* The encoded body of @message. */
GBytes               *kiln_test_market_body           (GBytes               *message);

G_END_DECLS
