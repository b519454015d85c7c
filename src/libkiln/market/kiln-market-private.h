/* kiln-market-private.h: reading and writing the market's signed RLP messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-market.h"
#include "kiln-rlp.h"

G_BEGIN_DECLS

/* Every message is RLP [body, signature, …]: @body a list whose first item is the version,
 * then one or more 65-byte signatures r || s || v with v 0 or 1.
 *
 * Field readers name the message (@what, a translated noun such as "offer") and the field in
 * their errors, all KILN_MARKET_ERROR_MALFORMED unless said otherwise. */

/* Sets KILN_MARKET_ERROR_MALFORMED: "Not a valid @what: reason". Always returns FALSE. */
gboolean     kiln_market_set_malformed     (GError            **error,
                                            const char         *what,
                                            const char         *format,
                                            ...) G_GNUC_PRINTF (3, 4);

/* Decodes @bytes (at most @max_size bytes) into the envelope: returns the decoded item, whose
 * body is child 0, after checking that it has between @min_signatures and @max_signatures
 * signatures of the right shape and that the body is a list of @n_fields items starting with
 * KILN_MARKET_VERSION (KILN_MARKET_ERROR_VERSION otherwise). */
KilnRlpItem *kiln_market_decode_envelope   (GBytes             *bytes,
                                            gsize               max_size,
                                            const char         *what,
                                            guint               n_fields,
                                            guint               min_signatures,
                                            guint               max_signatures,
                                            GError            **error);

gboolean     kiln_market_read_uint         (const KilnRlpItem  *body,
                                            guint               index,
                                            const char         *what,
                                            const char         *field,
                                            guint64             min,
                                            guint64             max,
                                            guint64            *out,
                                            GError            **error);
/* An amount below 2^KILN_MARKET_AMOUNT_BITS. */
gboolean     kiln_market_read_amount       (const KilnRlpItem  *body,
                                            guint               index,
                                            const char         *what,
                                            const char         *field,
                                            KilnUint256        *out,
                                            GError            **error);
/* A byte string of exactly @len bytes. */
gboolean     kiln_market_read_fixed        (const KilnRlpItem  *item,
                                            const char         *what,
                                            const char         *field,
                                            guint8             *out,
                                            gsize               len,
                                            GError            **error);
gboolean     kiln_market_read_address      (const KilnRlpItem  *body,
                                            guint               index,
                                            const char         *what,
                                            const char         *field,
                                            KilnAddress        *out,
                                            GError            **error);

/* Whether @amount is below 2^KILN_MARKET_AMOUNT_BITS. */
gboolean     kiln_market_amount_in_range   (const KilnUint256  *amount);

/* Checks @created and @expires: created < expires, expires − created at most @max_lifetime,
 * both at most KILN_MARKET_MAX_TIME (MALFORMED otherwise). With @now ≥ 0 also: not expired
 * (expires > now, KILN_MARKET_ERROR_EXPIRED) and created at most KILN_MARKET_MAX_SKEW
 * seconds after @now (KILN_MARKET_ERROR_FUTURE). */
gboolean     kiln_market_check_times       (gint64              created,
                                            gint64              expires,
                                            gint64              max_lifetime,
                                            gint64              now,
                                            const char         *what,
                                            GError            **error);

/* Checks that @signature over @digest recovers @signer (KILN_MARKET_ERROR_BAD_SIGNATURE,
 * naming @who, otherwise). */
gboolean     kiln_market_check_signature   (const guint8        digest[KILN_MARKET_DIGEST_SIZE],
                                            const guint8        signature[KILN_SIGNATURE_SIZE],
                                            const KilnAddress  *signer,
                                            const char         *who,
                                            GError            **error);

/* RLP [@body, @signature_1, @signature_2…]; the signatures are KILN_SIGNATURE_SIZE bytes each,
 * @n_signatures of them one after the other in @signatures. */
GBytes      *kiln_market_seal              (GBytes             *body,
                                            const guint8       *signatures,
                                            guint               n_signatures);

G_END_DECLS
