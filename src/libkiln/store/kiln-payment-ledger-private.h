/* kiln-payment-ledger-private.h: the ledger's operations, run on the store's worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-payment-ledger.h"
#include "kiln-payment-private.h"

G_BEGIN_DECLS

/* One call's inputs and outputs. The KilnStoreFunc that runs it reads the inputs and sets the
 * outputs; the public API takes the outputs once the transaction has committed. */
typedef struct
{
  /* Inputs */
  KilnPayment        *draft;
  gint64              id;
  guint64             chain_id;
  gboolean            has_from;
  KilnAddress         from;
  guint64             chain_nonce;
  GBytes             *raw;
  gboolean            has_hash;
  guint8              tx_hash[32];
  guint64             block;
  guint64             gas_used;
  char               *reason;
  guint               offset;
  guint               limit;

  /* Outputs */
  KilnPayment        *payment;
  guint64             nonce;
  GPtrArray          *payments;
  KilnPaymentHistory *history;
} KilnLedgerOp;

KilnLedgerOp *kiln_ledger_op_new         (gint64              id);
KilnLedgerOp *kiln_ledger_op_new_hash    (gint64              id,
                                          const guint8       *tx_hash);
KilnLedgerOp *kiln_ledger_op_new_account (guint64             chain_id,
                                          const KilnAddress  *from);
void     kiln_ledger_op_free             (KilnLedgerOp       *op);

/* Running an op on the store's worker (kiln-payment-ledger.c). The async form takes @op and
 * keeps it with the task; kiln_ledger_run_finish() returns it, with its outputs, or NULL
 * with @error set. */
void          kiln_ledger_run_async      (KilnPaymentLedger   *self,
                                          KilnStoreFunc        func,
                                          KilnLedgerOp        *op,
                                          gpointer             source_tag,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
KilnLedgerOp *kiln_ledger_run_finish     (KilnPaymentLedger   *self,
                                          GAsyncResult        *result,
                                          gpointer             source_tag,
                                          GError             **error);
gboolean      kiln_ledger_run_sync       (KilnPaymentLedger   *self,
                                          KilnStoreFunc        func,
                                          KilnLedgerOp        *op,
                                          GCancellable        *cancellable,
                                          GError             **error);
/* The op's payment output: from an async result, or running @op (taken) synchronously. */
KilnPayment  *kiln_ledger_finish_payment (KilnPaymentLedger   *self,
                                          GAsyncResult        *result,
                                          gpointer             source_tag,
                                          GError             **error);
KilnPayment  *kiln_ledger_sync_payment   (KilnPaymentLedger   *self,
                                          KilnStoreFunc        func,
                                          KilnLedgerOp        *op,
                                          GCancellable        *cancellable,
                                          GError             **error);

/* Shared by the operations (kiln-payment-ledger-records.c). */
void     kiln_ledger_bind_address        (sqlite3_stmt       *stmt,
                                          int                 index,
                                          const KilnAddress  *address);
void     kiln_ledger_bind_uint256        (sqlite3_stmt       *stmt,
                                          int                 index,
                                          const KilnUint256  *value);
/* Payment @id with its recipients and attempts; KILN_STORE_ERROR_NOT_FOUND if there is
 * none. */
KilnPayment *kiln_ledger_load            (sqlite3            *db,
                                          gint64              id,
                                          GError            **error);
gboolean kiln_ledger_not_found           (GError            **error,
                                          gint64              id);
/* Reads a BLOB of exactly @len bytes; FALSE for anything else. */
gboolean kiln_ledger_column_blob         (sqlite3_stmt       *stmt,
                                          int                 column,
                                          guint8             *out,
                                          gsize               len);
gboolean kiln_ledger_column_uint256      (sqlite3_stmt       *stmt,
                                          int                 column,
                                          KilnUint256        *out);
/* Sets KILN_STORE_ERROR_INVALID; returns FALSE. */
gboolean kiln_ledger_invalid             (GError            **error,
                                          const char         *format,
                                          ...) G_GNUC_PRINTF (2, 3);
/* Runs an UPDATE with ?1 = @id (a payment), ?2 = the current time and, if @hash is not NULL,
 * ?3 = @hash (32 bytes). */
gboolean kiln_ledger_update              (sqlite3            *db,
                                          const char         *sql,
                                          gint64              id,
                                          const guint8       *hash,
                                          GError            **error);

/* The columns of a payment that decide what may happen to it. */
typedef struct
{
  guint64          chain_id;
  KilnAddress      from;
  KilnPaymentState state;
  gboolean         has_nonce;
  guint64          nonce;
} KilnLedgerHead;

gboolean kiln_ledger_load_head           (sqlite3            *db,
                                          gint64              id,
                                          KilnLedgerHead     *head,
                                          GError            **error);
/* Confirmed or failed. */
gboolean kiln_ledger_is_finished         (KilnPaymentState    state);
/* KILN_STORE_ERROR_INVALID saying that payment @id has ended in @state; returns FALSE. */
gboolean kiln_ledger_refuse_finished     (gint64              id,
                                          KilnPaymentState    state,
                                          GError            **error);
/* For a pending payment being failed (kiln-payment-ledger-nonces.c). */
gboolean kiln_ledger_give_back_nonce     (sqlite3            *db,
                                          KilnLedgerHead     *head,
                                          gint64              id,
                                          GError            **error);

/* A value the database cannot hold (INTEGER is signed 64-bit). */
gboolean kiln_ledger_check_int64         (guint64             value,
                                          const char         *what,
                                          GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnLedgerOp, kiln_ledger_op_free)

/* KilnStoreFunc implementations; @data is a KilnLedgerOp. */
gboolean kiln_ledger_do_create           (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_get              (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_reserve_nonce    (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_reset_nonce      (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_record_attempt   (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_mark_broadcast   (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_mark_replaced    (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_mark_confirmed   (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_mark_failed      (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_list_unfinished  (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_list_pending     (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);
gboolean kiln_ledger_do_list_history     (sqlite3       *db,
                                          gpointer       data,
                                          GError       **error);

G_END_DECLS
