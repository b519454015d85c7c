/* kiln-test-devnet.h: the local devnet (anvil, GNT test token, KilnBatchPay) for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "libkiln.h"

G_BEGIN_DECLS

#define KILN_TEST_DEVNET_CHAIN_ID    31337
/* anvil's dev accounts, from its default mnemonic; each starts with 10000 ETH. */
#define KILN_TEST_DEVNET_N_DEV_KEYS  10

typedef struct _KilnTestDevnet KilnTestDevnet;

/* Runs `node $KILN_SOURCE_ROOT/data/devnet/devnet.mjs --json --fund SPEC…` and waits for its
 * endpoints. Each of @fund (NULL-terminated, may be NULL) is "ADDR[:ETH[:GNT]]" (defaults
 * 100 ETH, 1000 GNT). The devnet's standard input stays a pipe from this process, so it stops
 * when the test process ends in any way. */
KilnTestDevnet    *kiln_test_devnet_start             (const char *const *fund,
                                                       GError           **error);
/* SIGTERM, then waits for a clean exit (status 0). */
gboolean           kiln_test_devnet_stop              (KilnTestDevnet    *self,
                                                       GError           **error);
/* Stops the devnet if it still runs. */
void               kiln_test_devnet_free              (KilnTestDevnet    *self);

const char        *kiln_test_devnet_get_rpc_url       (KilnTestDevnet    *self);
guint64            kiln_test_devnet_get_chain_id      (KilnTestDevnet    *self);
/* The GNT test token (18 decimals), the batch payment contract and the deployer (dev
 * account 0, the token's owner). */
const KilnAddress *kiln_test_devnet_get_token         (KilnTestDevnet    *self);
const KilnAddress *kiln_test_devnet_get_batch_pay     (KilnTestDevnet    *self);
const KilnAddress *kiln_test_devnet_get_deployer      (KilnTestDevnet    *self);
/* The block number once the contracts were deployed and the accounts funded. */
guint64            kiln_test_devnet_get_block_number  (KilnTestDevnet    *self);

/* anvil's well-known dev account @index (below KILN_TEST_DEVNET_N_DEV_KEYS). These keys are
 * public knowledge: use them on a devnet only. */
KilnKey           *kiln_test_devnet_dev_key           (guint              index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnTestDevnet, kiln_test_devnet_free)

G_END_DECLS
