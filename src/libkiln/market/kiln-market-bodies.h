/* kiln-market-bodies.h: the bodies of the market's link messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What each KilnMessage of the market (net/kiln-message.h) carries. TASK_ANNOUNCE, OFFER and
 * ACCEPT carry the market layer's own signed bytes (an announcement, an offer, accepted
 * terms); the others are small JSON objects. Reading is strict: the body must be within its
 * message type's size limit, valid UTF-8 JSON of the exact shape documented in docs/market.md
 * ("Message bodies"), with no unknown or missing members, no mistyped values, no oversize
 * strings, file names without path separators and IDs of exactly 64 lowercase hex digits.
 * Anything else is KILN_MARKET_ERROR_MALFORMED (KILN_MARKET_ERROR_TOO_LARGE for a body over
 * its limit). Encoding checks the same rules, so what one node encodes another decodes.
 *
 * Pure encoding; no I/O.
 */
#pragma once

#include <glib.h>

#include "kiln-job-plan.h"
#include "kiln-market.h"
#include "kiln-offer.h"
#include "kiln-task-announcement.h"
#include "kiln-terms.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* The DHT topic (net/kiln-dht.h) task announcements may also be published under: the topic
 * record's payload is the signed announcement's bytes, and its author the requestor. */
#define KILN_MARKET_TASK_TOPIC        "market/tasks"

/* A file name: 1..KILN_MARKET_NAME_MAX bytes of UTF-8, no '/', '\\', control characters or
 * NUL, not starting with '.' (so neither "." nor ".."). */
#define KILN_MARKET_NAME_MAX          128
/* An ASSIGN names 1..KILN_TASK_MAX_RESOURCES resources, the .blend first. */
#define KILN_MARKET_RESULT_MAX_OUTPUTS 256
/* A reason code: 1..32 of a–z, 0–9 and '-'. */
#define KILN_MARKET_REASON_MAX        32
/* A sentence for people (REJECT "text", CANCEL "reason"): 0..512 bytes of UTF-8 without
 * control characters. */
#define KILN_MARKET_TEXT_MAX          512
/* A PAYMENT pays 1..KILN_MARKET_PAYMENT_MAX_TERMS terms. */
#define KILN_MARKET_PAYMENT_MAX_TERMS 48

/* Reason codes of REJECT. Readers accept any code of the right form (a newer peer may send
 * others) and show the "text". */
#define KILN_MARKET_REASON_BUSY            "busy"             /* no free slot, lending paused */
#define KILN_MARKET_REASON_LENDING_OFF     "lending-off"      /* the policy does not lend now */
#define KILN_MARKET_REASON_NO_OFFER        "no-offer"         /* terms on an offer never made */
#define KILN_MARKET_REASON_MISMATCH        "mismatch"         /* terms ≠ offer, task or subtask */
#define KILN_MARKET_REASON_PRICE           "price"            /* below the minimum price */
#define KILN_MARKET_REASON_CORES           "cores"            /* more cores than lent */
#define KILN_MARKET_REASON_MEMORY          "memory"           /* more memory than lent */
#define KILN_MARKET_REASON_TIMEOUT         "timeout"          /* longer than the policy allows */
#define KILN_MARKET_REASON_EXPIRED         "expired"          /* terms or task expired */
#define KILN_MARKET_REASON_MALFORMED       "malformed"        /* a body that does not decode */
#define KILN_MARKET_REASON_MISSING_FILE    "missing-file"     /* a resource could not be fetched */
#define KILN_MARKET_REASON_OUT_OF_MEMORY   "out-of-memory"    /* the render ran out of memory */
#define KILN_MARKET_REASON_RENDER_FAILED   "render-failed"    /* Blender failed */
#define KILN_MARKET_REASON_DEADLINE        "deadline"         /* could not finish in time */
#define KILN_MARKET_REASON_CANCELLED       "cancelled"        /* the node gave the work back */
#define KILN_MARKET_REASON_BAD_RESULT      "bad-result"       /* the result failed verification */
#define KILN_MARKET_REASON_DISK            "disk"             /* more disk space than lent */

/* A file by name, SHA-256 and size in bytes (ASSIGN resources, RESULT outputs). */
typedef struct
{
  char    *name;
  guint8   sha256[KILN_MARKET_HASH_SIZE];
  guint64  size;
} KilnMarketFile;

KilnMarketFile  *kiln_market_file_new          (const char            *name,
                                                const guint8          *sha256,
                                                guint64                size);
KilnMarketFile  *kiln_market_file_copy         (const KilnMarketFile  *file);
void             kiln_market_file_free         (KilnMarketFile        *file);
/* Whether @name is a valid file name (see KILN_MARKET_NAME_MAX). */
gboolean         kiln_market_file_name_is_valid (const char           *name);

/* IDs (task IDs, terms digests, message IDs, transaction hashes) travel as 64 lowercase hex
 * digits. */
char            *kiln_market_id_to_hex         (const guint8          *id);
gboolean         kiln_market_id_from_hex       (const char            *hex,
                                                guint8                *id,
                                                GError               **error);

/* TASK_ANNOUNCE: the signed announcement bytes (kiln_task_announcement_get_bytes()).
 * Decoding is kiln_task_announcement_verify() at @now after the size check. */
KilnTaskAnnouncement *kiln_market_announce_body_decode (GBytes                *body,
                                                        gint64                 now,
                                                        GError               **error);
/* OFFER: the signed offer bytes (kiln_offer_get_bytes()); kiln_offer_verify() at @now. */
KilnOffer       *kiln_market_offer_body_decode (GBytes                *body,
                                                gint64                 now,
                                                GError               **error);
/* ACCEPT: the accepted terms' bytes (kiln_terms_get_bytes() after kiln_terms_accept());
 * kiln_terms_decode(), and they must carry the provider's signature. */
KilnTerms       *kiln_market_accept_body_decode (GBytes               *body,
                                                 GError              **error);

/* ASSIGN: {"terms": base64 of the requestor-signed terms, "subtask": kiln_subtask_to_json(),
 * "resources": [{"name", "sha256", "size"}, …], "deadline": Unix seconds}. The terms must
 * decode (kiln_terms_decode(), so both signatures present are good) and name the subtask's
 * index; 1..KILN_TASK_MAX_RESOURCES resources with different names, the first one's name
 * ending in ".blend"; 0 < deadline ≤ KILN_MARKET_MAX_TIME. */
typedef struct
{
  KilnTerms   *terms;
  KilnSubtask *subtask;
  GPtrArray   *resources;       /* of KilnMarketFile, owned; the .blend first */
  gint64       deadline;        /* the subtask's result is due, Unix seconds */
} KilnAssignBody;

/* Takes references/copies of @terms and @subtask; no resources yet. */
KilnAssignBody  *kiln_assign_body_new          (KilnTerms             *terms,
                                                const KilnSubtask     *subtask,
                                                gint64                 deadline);
void             kiln_assign_body_add_resource (KilnAssignBody        *self,
                                                const char            *name,
                                                const guint8          *sha256,
                                                guint64                size);
void             kiln_assign_body_free         (KilnAssignBody        *self);
GBytes          *kiln_assign_body_encode       (const KilnAssignBody  *self,
                                                GError               **error);
KilnAssignBody  *kiln_assign_body_decode       (GBytes                *body,
                                                GError               **error);

/* RESULT: {"terms": hex terms digest (kiln_terms_get_digest()), "outputs": [{"name",
 * "sha256", "size"}, …], "cpu_ms": CPU time of the render in milliseconds, "wall_ms": its
 * wall-clock time in milliseconds}. 1..KILN_MARKET_RESULT_MAX_OUTPUTS outputs with different
 * names. The outputs are served by the provider's content store under their SHA-256. */
typedef struct
{
  guint8      terms[KILN_MARKET_DIGEST_SIZE];
  GPtrArray  *outputs;          /* of KilnMarketFile, owned */
  guint64     cpu_ms;
  guint64     wall_ms;
} KilnResultBody;

KilnResultBody  *kiln_result_body_new          (const guint8          *terms);
void             kiln_result_body_add_output   (KilnResultBody        *self,
                                                const char            *name,
                                                const guint8          *sha256,
                                                guint64                size);
void             kiln_result_body_free         (KilnResultBody        *self);
GBytes          *kiln_result_body_encode       (const KilnResultBody  *self,
                                                GError               **error);
KilnResultBody  *kiln_result_body_decode       (GBytes                *body,
                                                GError               **error);

/* APPROVE: {"terms": hex terms digest, "amount": decimal base units}: the result of those
 * terms is verified and @amount is owed. Amounts are decimal digits without sign or leading
 * zeros ("0" is zero), below 2^256. */
typedef struct
{
  guint8      terms[KILN_MARKET_DIGEST_SIZE];
  KilnUint256 amount;
} KilnApproveBody;

GBytes          *kiln_approve_body_encode      (const KilnApproveBody *self,
                                                GError               **error);
gboolean         kiln_approve_body_decode      (GBytes                *body,
                                                KilnApproveBody       *out,
                                                GError               **error);

/* REJECT: {"ref": hex ID of what is refused (a terms digest, or a message ID), "reason":
 * reason code, "text": a sentence for people}. */
typedef struct
{
  guint8  ref[KILN_MARKET_ID_SIZE];
  char   *reason;
  char   *text;
} KilnRejectBody;

KilnRejectBody  *kiln_reject_body_new          (const guint8          *ref,
                                                const char            *reason,
                                                const char            *text);
void             kiln_reject_body_free         (KilnRejectBody        *self);
GBytes          *kiln_reject_body_encode       (const KilnRejectBody  *self,
                                                GError               **error);
KilnRejectBody  *kiln_reject_body_decode       (GBytes                *body,
                                                GError               **error);

/* PAYMENT: {"terms": [hex terms digests], "tx_hash": hex transaction hash, "amount":
 * decimal base units}: the transaction @tx_hash pays @amount in all for those terms
 * (1..KILN_MARKET_PAYMENT_MAX_TERMS, all different). */
typedef struct
{
  guint8 bytes[KILN_MARKET_ID_SIZE];
} KilnMarketId;

typedef struct
{
  GArray      *terms;           /* of KilnMarketId */
  guint8       tx_hash[32];
  KilnUint256  amount;
} KilnPaymentBody;

KilnPaymentBody *kiln_payment_body_new         (const guint8          *tx_hash,
                                                const KilnUint256     *amount);
void             kiln_payment_body_add_terms   (KilnPaymentBody       *self,
                                                const guint8          *terms);
void             kiln_payment_body_free        (KilnPaymentBody       *self);
GBytes          *kiln_payment_body_encode      (const KilnPaymentBody *self,
                                                GError               **error);
KilnPaymentBody *kiln_payment_body_decode      (GBytes                *body,
                                                GError               **error);

/* CANCEL: {"task": hex task ID, "reason": text} withdraws a whole task (and every
 * assignment of it), {"terms": hex terms digest, "reason": text} one assignment. Exactly
 * one of "task" and "terms". */
typedef enum
{
  KILN_CANCEL_TASK,
  KILN_CANCEL_TERMS,
} KilnCancelScope;

typedef struct
{
  KilnCancelScope scope;
  guint8          id[KILN_MARKET_ID_SIZE];
  char           *reason;
} KilnCancelBody;

KilnCancelBody  *kiln_cancel_body_new          (KilnCancelScope        scope,
                                                const guint8          *id,
                                                const char            *reason);
void             kiln_cancel_body_free         (KilnCancelBody        *self);
GBytes          *kiln_cancel_body_encode       (const KilnCancelBody  *self,
                                                GError               **error);
KilnCancelBody  *kiln_cancel_body_decode       (GBytes                *body,
                                                GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnMarketFile, kiln_market_file_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnAssignBody, kiln_assign_body_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnResultBody, kiln_result_body_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnRejectBody, kiln_reject_body_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnPaymentBody, kiln_payment_body_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnCancelBody, kiln_cancel_body_free)

G_END_DECLS
