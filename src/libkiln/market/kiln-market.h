/* kiln-market.h: the market subsystem's error domain, limits, digests and amounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The market's messages (task announcements, offers, terms) are signed RLP bodies; docs/market.md
 * describes every field, limit and digest defined here and in the message headers.
 */
#pragma once

#include <glib.h>

#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

#define KILN_MARKET_ERROR (kiln_market_error_quark ())

typedef enum
{
  KILN_MARKET_ERROR_MALFORMED,       /* not a message of this kind, or a field out of range */
  KILN_MARKET_ERROR_VERSION,         /* a message version this build does not know */
  KILN_MARKET_ERROR_TOO_LARGE,       /* over the message's size limit */
  KILN_MARKET_ERROR_BAD_SIGNATURE,   /* a signature that does not recover the signer named */
  KILN_MARKET_ERROR_EXPIRED,         /* past its expiry time */
  KILN_MARKET_ERROR_FUTURE,          /* created too far in the future */
  KILN_MARKET_ERROR_WRONG_TASK,      /* for another task or another announcement of it */
  KILN_MARKET_ERROR_PRICE_TOO_HIGH,  /* above the task's maximum price or budget */
  KILN_MARKET_ERROR_UNSUITABLE,      /* the provider does not meet the task's requirements */
  KILN_MARKET_ERROR_MISMATCH,        /* terms that do not match their task, offer or signer */
  KILN_MARKET_ERROR_STALE,           /* the same or a newer offer of this provider is known */
  KILN_MARKET_ERROR_OVERFLOW,        /* an amount that does not fit in 256 bits */
} KilnMarketError;

GQuark kiln_market_error_quark (void);

/* Every message body starts with this version. */
#define KILN_MARKET_VERSION             1

/* Domain separation: each signature covers keccak256(0x19 || context || bytes), the contexts
 * being ASCII without a terminator. */
#define KILN_MARKET_TASK_CONTEXT        "kiln/market/task/v1"
#define KILN_MARKET_OFFER_CONTEXT       "kiln/market/offer/v1"
#define KILN_MARKET_TERMS_CONTEXT       "kiln/market/terms/v1"
#define KILN_MARKET_ACCEPT_CONTEXT      "kiln/market/accept/v1"

#define KILN_MARKET_ID_SIZE             32
#define KILN_MARKET_DIGEST_SIZE         32
#define KILN_MARKET_HASH_SIZE           32   /* SHA-256 of a resource */

/* Limits, checked when signing and when reading. */
#define KILN_MARKET_MAX_SKEW            300                 /* seconds a message may be early */
#define KILN_MARKET_MAX_TIME            G_GINT64_CONSTANT (1099511627776)  /* 2^40 seconds */
/* Prices and totals are below 2^128 base units (about 3.4 × 10^20 GNT), so that ranking can
 * compare them exactly in 256 bits. */
#define KILN_MARKET_AMOUNT_BITS         128
#define KILN_MARKET_MAX_CORES           1024
#define KILN_MARKET_MAX_SUBTASKS        10000
#define KILN_MARKET_MAX_TIMEOUT         (24 * 60 * 60)      /* per subtask, seconds */
#define KILN_MARKET_MAX_MIB             (1u << 24)          /* 16 TiB */
#define KILN_MARKET_ENGINE_MAX          32

/* GNT's decimals: amounts are in base units of 10^-18 GNT. */
#define KILN_MARKET_TOKEN_DECIMALS      18

/* Seconds in the unit of price: prices are GNT base units (10^-18 GNT) per CPU-hour. */
#define KILN_MARKET_SECONDS_PER_HOUR    3600

/* keccak256(0x19 || @context || @data): what the market's signatures sign. */
void     kiln_market_digest               (const char        *context,
                                           const guint8      *data,
                                           gsize              len,
                                           guint8             digest[KILN_MARKET_DIGEST_SIZE]);

/* The cost of @cores CPU cores for @seconds at @price base units per CPU-hour:
 * ceil (@price × @cores × @seconds / 3600), exact, rounded up to the base unit. A product
 * that does not fit in 256 bits is KILN_MARKET_ERROR_OVERFLOW. With a subtask's timeout as
 * @seconds this is the most one subtask can be paid (see kiln-terms.h). */
gboolean kiln_market_compute_payment      (const KilnUint256 *price,
                                           guint              cores,
                                           guint64            seconds,
                                           KilnUint256       *out,
                                           GError           **error);

/* The most a render job can cost, to show before it is submitted: @frames frames split into
 * @subtasks subtasks (0: one per frame), each allowed @timeout_seconds on @cores cores at
 * @max_price base units per CPU-hour. Every subtask is paid at most
 * kiln_market_compute_payment (@max_price, @cores, @timeout_seconds), and only once (rejected,
 * failed and timed-out attempts are not paid), so the job costs at most that times the number
 * of subtasks. Errors: KILN_MARKET_ERROR_MALFORMED for zero frames, cores or timeout,
 * KILN_MARKET_ERROR_OVERFLOW when the total does not fit in 256 bits. */
gboolean kiln_market_estimate_max_cost    (guint              frames,
                                           guint              subtasks,
                                           guint              timeout_seconds,
                                           const KilnUint256 *max_price,
                                           guint              cores,
                                           KilnUint256       *out,
                                           GError           **error);

G_END_DECLS
