/* kiln-test-wallet.h: wallets on the devnet for the wallet tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One devnet serves every test of a program; each test pays from its own account (a fresh
 * key, or one of anvil's dev accounts when a child process must use it too), so their nonces
 * never meet. Balances are read back independently, through a separate RPC client (and
 * ethers). Everything waits on the main loop, never sleeps; a wait longer than 90 s fails.
 */
#pragma once

#include "kiln-test-devnet.h"
#include "kiln-wallet-private.h"
#include "libkiln.h"

G_BEGIN_DECLS

/* Waiting on the main loop */

void            on_result            (GObject            *object,
                                      GAsyncResult       *result,
                                      gpointer            user_data);
/* Iterates the main context until *@done. */
void            iterate_until        (const gboolean     *done);
/* Iterates the main context until *@slot is set by on_result(); returns it. */
GAsyncResult   *await_result         (GAsyncResult      **slot);

/* AWAIT (start (…, on_result, &_result), finish (…, result, …)): runs an asynchronous call
 * to the end and gives the value of its finish expression. */
#define AWAIT(call, finish_expr)                       \
  ({                                                   \
    g_autoptr(GAsyncResult) _result = NULL;            \
    GAsyncResult *result;                              \
    call;                                              \
    result = await_result (&_result);                  \
    finish_expr;                                       \
  })

/* Amounts and addresses */

KilnUint256     units                (const char         *text);
KilnUint256     u256                 (guint64             value);
KilnUint256     sub                  (const KilnUint256  *a,
                                      const KilnUint256  *b);
void            assert_u256          (const KilnUint256  *value,
                                      const KilnUint256  *expected);
void            assert_units         (const KilnUint256  *value,
                                      const char         *expected);
KilnAddress     fresh_address        (void);
KilnKey        *fresh_key            (void);
guint16         free_port            (void);

/* The devnet (started on first use) and independent reads from it */

KilnTestDevnet *get_devnet           (void);
void            wallet_test_cleanup  (void);
KilnRpcClient  *client_new           (const char         *url);
JsonNode       *raw_call             (KilnRpcClient      *client,
                                      const char         *method,
                                      const char         *params_json);
void            devnet_call          (const char         *method,
                                      const char         *params_json);
KilnUint256     token_balance_of     (const KilnAddress  *owner);
KilnUint256     eth_balance_on       (const char         *url,
                                      const KilnAddress  *owner);
KilnUint256     eth_balance_of       (const KilnAddress  *owner);
guint64         nonce_of             (const KilnAddress  *owner,
                                      const char         *block);
KilnRpcReceipt *receipt_of           (const guint8        hash[32]);
void            send_raw             (const char         *url,
                                      GBytes             *raw);
/* The token balance as ethers reads it, in base units. */
char           *ethers_token_balance (const KilnAddress  *owner);
/* The fee a receipt paid, in wei. */
KilnUint256     receipt_fee          (const guint8        hash[32]);
/* A transfer of @wei signed with @key at @nonce, recorded nowhere: another program using
 * the same account. */
GBytes         *external_transfer    (KilnKey            *key,
                                      guint64             chain_id,
                                      guint64             nonce,
                                      guint64             wei);

/* Wallets: each test has its own database folder and ledger */

typedef struct
{
  char              *dir;
  char              *db_path;
  KilnStore         *store;
  KilnPaymentLedger *ledger;
  KilnChain         *chain;      /* the devnet, with its batch contract */
} Fixture;

void            fixture_setup        (Fixture            *f,
                                      gconstpointer       data);
void            fixture_teardown     (Fixture            *f,
                                      gconstpointer       data);
/* A wallet on @chain (NULL: the devnet) polling every 50 ms. */
KilnWallet     *wallet_new           (Fixture            *f,
                                      KilnChain          *chain,
                                      KilnKey            *key);
/* Drops @wallet and checks that it is finalized once its last operations have ended. */
void            wallet_free          (KilnWallet         *wallet);
gboolean        start_sync           (KilnWallet         *wallet,
                                      GError            **error);
void            start_ok             (KilnWallet         *wallet);
void            fund_sync            (KilnWallet         *wallet,
                                      const char         *eth,
                                      const char         *gnt);
/* A started wallet for @key, funded with @eth and @gnt (either may be "0"). */
KilnWallet     *funded_wallet        (Fixture            *f,
                                      KilnKey            *key,
                                      const char         *eth,
                                      const char         *gnt);
KilnPayment    *send_sync            (KilnWallet         *wallet,
                                      KilnWalletAsset     asset,
                                      const KilnAddress  *to,
                                      const KilnUint256  *amount,
                                      const char         *reference,
                                      const char         *key,
                                      GError            **error);
/* Waits until @payment (or the payment that resent it) is confirmed. */
KilnPayment    *wait_sync            (KilnWallet         *wallet,
                                      KilnPayment        *payment);
const KilnPaymentAttempt *
                confirmed_attempt    (KilnPayment        *payment);
/* Every payment of the fixture's ledger, newest first. */
GPtrArray      *ledger_payments      (Fixture            *f);

G_END_DECLS
