/* kiln-earnings-private.h: shared by the earnings' files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kiln-earnings.c: the object and the records in memory.
 * kiln-earnings-db.c: the records in the store, on its worker thread.
 * kiln-earnings-check.c: checking payments on the chain.
 */
#pragma once

#include "kiln-earnings.h"

G_BEGIN_DECLS

struct _KilnEarnings
{
  GObject            parent_instance;

  KilnStore         *store;
  KilnAddress        account;

  KilnRpcClient     *rpc;
  gboolean           has_token;
  KilnAddress        token;
  guint              generation;   /* bumped when the chain changes or the object goes */

  KilnProviderAgent *agent;
  gulong             earned_id;
  gulong             paid_id;

  gboolean           loaded;
  GHashTable        *records;      /* terms hex → KilnEarningRecord */
  GHashTable        *checks;       /* tx hex → KilnEarningsCheck, running or waiting */
};

typedef struct _KilnEarningsCheck KilnEarningsCheck;

/* kiln-earnings.c */

/* What a check of one transaction decided for one earning it pays: confirmed, or why not. */
typedef struct
{
  guint8    terms[KILN_MARKET_DIGEST_SIZE];
  gboolean  confirm;
  char     *reason;      /* when not confirmed */
} KilnEarningsVerdict;

/* What to write once transaction @tx_hash was checked: each verdict applies to its earning
 * if it is still "paid" by @tx_hash; a confirmed one is confirmed in @block. */
typedef struct
{
  guint8    tx_hash[32];
  guint64   block;
  GArray   *verdicts;    /* KilnEarningsVerdict */
} KilnEarningsOutcome;

KilnEarningsOutcome *kiln_earnings_outcome_new (const guint8 tx_hash[32]);
void     kiln_earnings_outcome_free   (KilnEarningsOutcome *outcome);

/* Writes @outcome (taken) and updates the records in memory once it is committed. */
void     kiln_earnings_write_outcome  (KilnEarnings         *self,
                                       KilnEarningsOutcome  *outcome,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
gboolean kiln_earnings_write_outcome_finish (KilnEarnings   *self,
                                             GAsyncResult   *result,
                                             GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnEarningsOutcome, kiln_earnings_outcome_free)

/* kiln-earnings-db.c */

typedef enum
{
  KILN_EARNINGS_OP_LOAD,
  KILN_EARNINGS_OP_ADD,
  KILN_EARNINGS_OP_PAID,
  KILN_EARNINGS_OP_OUTCOME,
} KilnEarningsOp;

/* One call's inputs and, once it ran, the rows it wrote or read. */
typedef struct
{
  KilnEarningsOp       op;
  KilnEarningRecord    input;      /* OP_ADD: the new record; OP_PAID: terms and tx_hash */
  gint64               now;
  KilnEarningsOutcome *outcome;    /* KILN_EARNINGS_OP_OUTCOME */
  GPtrArray           *records;    /* KilnEarningRecord, as stored afterwards */
  gboolean             changed;    /* whether anything was written */
} KilnEarningsRequest;

KilnEarningsRequest *kiln_earnings_request_new  (KilnEarningsOp       op);
void                 kiln_earnings_request_free (gpointer             data);
/* What runs @request on the store's worker thread. */
KilnStoreFunc        kiln_earnings_request_func (KilnEarningsRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnEarningsRequest, kiln_earnings_request_free)

/* kiln-earnings-check.c */

/* Checks @tx_hash on chain, now or as soon as the check under way ends; @task (may be NULL,
 * taken) returns TRUE once a check that saw every earning known now has been written. */
void     kiln_earnings_check_request  (KilnEarnings         *self,
                                       const guint8          tx_hash[32],
                                       GTask                *task);
/* Checks every transaction of an earning that is paid and not confirmed. */
void     kiln_earnings_check_all      (KilnEarnings         *self);
/* Forgets every check (the chain changed, or the object goes); waiting tasks fail with
 * G_IO_ERROR_CANCELLED. */
void     kiln_earnings_drop_checks    (KilnEarnings         *self);

G_END_DECLS
