/* kiln-node-wallet-private.h: what the wallet commands share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-node-chain.h"
#include "kiln-node-cli.h"

G_BEGIN_DECLS

/* Options of the commands that pay. */
#define KILN_NODE_YES_OPTION(flag)                                                        \
  { "yes", 'y', 0, G_OPTION_ARG_NONE, (flag),                                             \
    N_("Send without asking (required when standard input is not a terminal)"), NULL }

#define KILN_NODE_NO_WAIT_OPTION(flag)                                                    \
  { "no-wait", 0, 0, G_OPTION_ARG_NONE, (flag),                                           \
    N_("Return once the transaction is broadcast, without waiting for confirmation"), NULL }

#define KILN_NODE_REFERENCE_OPTION(text)                                                  \
  { "reference", 0, 0, G_OPTION_ARG_STRING, (text),                                       \
    N_("What the payment is for: the same TEXT again gives back the first payment "        \
       "instead of paying twice"), N_("TEXT") }

/* What a command pays in. */
typedef struct
{
  KilnWalletAsset  asset;
  const char      *symbol;
  guint            decimals;
} KilnNodeAsset;

void         kiln_node_asset_init_token   (KilnNodeAsset             *asset,
                                           KilnChain                 *chain);
void         kiln_node_asset_init_native  (KilnNodeAsset             *asset,
                                           KilnChain                 *chain);

/* "1.5 GNT": exact, without rounding. */
char        *kiln_node_format_amount      (const KilnUint256         *value,
                                           guint                      decimals,
                                           const char                *symbol);
/* "NAME (chain id N)" */
void         kiln_node_describe_chain     (KilnChain                 *chain,
                                           GString                   *out);

/* JSON members. An amount is {"base_units": "1500000000000000000", "formatted": "1.5",
 * "symbol": "GNT", "decimals": 18}. */
void         kiln_node_json_add_amount    (JsonBuilder               *builder,
                                           const char                *name,
                                           const KilnUint256         *value,
                                           guint                      decimals,
                                           const char                *symbol);
/* NULL gives a JSON null. */
void         kiln_node_json_add_string    (JsonBuilder               *builder,
                                           const char                *name,
                                           const char                *value);
void         kiln_node_json_add_int       (JsonBuilder               *builder,
                                           const char                *name,
                                           gint64                     value);
void         kiln_node_json_add_address   (JsonBuilder               *builder,
                                           const char                *name,
                                           const KilnAddress         *address);
/* The payment's ID, transaction hash, state, block and gas, error and explorer link. */
void         kiln_node_json_add_payment   (JsonBuilder               *builder,
                                           KilnChain                 *chain,
                                           KilnPayment               *payment);
/* Prints the builder's object as one line of JSON. */
void         kiln_node_print_json_builder (JsonBuilder               *builder);
/* "Transaction  0x…" and "State  …" lines, and the explorer link where there is one. */
void         kiln_node_print_payment      (KilnChain                 *chain,
                                           KilnPayment               *payment);

/* A recipient: EIP-55 checked when written in mixed case, never the zero address. The
 * message says what is wrong without saying where; callers add that. */
gboolean     kiln_node_parse_recipient    (const char                *text,
                                           KilnAddress               *out,
                                           GError                   **error);
/* A positive amount of @asset, exactly, as in "1.5". */
gboolean     kiln_node_parse_amount       (const char                *text,
                                           const KilnNodeAsset       *asset,
                                           KilnUint256               *out,
                                           GError                   **error);

/* Without --yes, a payment needs someone at a terminal to confirm it: a usage error
 * otherwise, given before anything is opened. */
gboolean     kiln_node_check_can_confirm  (KilnNodeContext           *ctx,
                                           gboolean                   yes,
                                           GError                   **error);
/* Asks on the terminal; FALSE with G_IO_ERROR_CANCELLED unless the answer is yes. Signals
 * end the program while it waits for the answer. */
gboolean     kiln_node_ask_confirmation   (KilnNodeWallet            *node,
                                           const char                *question,
                                           GError                   **error);

/* Refuses @amount of @asset above the balance. */
gboolean     kiln_node_check_balance      (KilnNodeWallet            *node,
                                           const KilnNodeAsset       *asset,
                                           const KilnUint256         *amount,
                                           GError                   **error);

/* Takes what a send call gave: @payment, or NULL and @send_error (taken), which it reports
 * for people. Reports on stderr that @payment was sent, then, unless @no_wait, waits until it
 * is confirmed (progress on stderr without --json). Returns the payment's latest record. */
KilnPayment *kiln_node_follow_payment     (KilnNodeContext           *ctx,
                                           KilnNodeWallet            *node,
                                           KilnPayment               *payment,
                                           GError                    *send_error,
                                           gboolean                   no_wait,
                                           GError                   **error);

extern const KilnNodeCommand kiln_node_wallet_pay_batch_command;

G_END_DECLS
