/* kiln-chain.h: the chain Kiln pays on: presets and custom endpoints
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* Values match the GSettings enum io.github.kilnapp.Kiln.NetworkPreset. */
typedef enum
{
  KILN_CHAIN_PRESET_DEVNET,
  KILN_CHAIN_PRESET_SEPOLIA,
  KILN_CHAIN_PRESET_MAINNET,
  KILN_CHAIN_PRESET_POLYGON,
  KILN_CHAIN_PRESET_CUSTOM,
} KilnChainPreset;

#define KILN_DEVNET_CHAIN_ID 31337

#define KILN_TYPE_CHAIN (kiln_chain_get_type ())

G_DECLARE_FINAL_TYPE (KilnChain, kiln_chain, KILN, CHAIN, GObject)

/* Errors are G_IO_ERROR_INVALID_ARGUMENT for a URL, address or setting that cannot be used
 * (Sepolia without a token address: no GNT test token there is known), and
 * G_IO_ERROR_INVALID_DATA for a damaged devnet state file. */

/* A preset. The devnet preset reads the state file the devnet writes
 * (kiln_chain_get_devnet_state_path()) when it exists, so its RPC URL and contract
 * addresses follow the running devnet; otherwise it uses anvil's defaults
 * (http://127.0.0.1:8545 and the deterministic deployment addresses). */
KilnChain       *kiln_chain_new_preset            (KilnChainPreset     preset,
                                                   GError            **error);
/* A custom chain. @chain_id 0 means "ask the RPC endpoint". @batch_contract may be NULL. */
KilnChain       *kiln_chain_new_custom            (const char         *rpc_url,
                                                   guint64             chain_id,
                                                   const char         *token_address,
                                                   const char         *batch_contract,
                                                   GError            **error);
/* From the command line's --rpc/--token/--chain-id or the app's settings: a preset
 * overridden field by field. NULL/0 fields keep the preset's value. */
KilnChain       *kiln_chain_new_with_overrides    (KilnChainPreset     preset,
                                                   const char         *rpc_url,
                                                   guint64             chain_id,
                                                   const char         *token_address,
                                                   GError            **error);

KilnChainPreset  kiln_chain_get_preset            (KilnChain          *self);
/* Translated, e.g. "Local devnet", "Ethereum mainnet". */
const char      *kiln_chain_get_name              (KilnChain          *self);
const char      *kiln_chain_get_rpc_url           (KilnChain          *self);
/* 0 when not known yet; the wallet asks the endpoint and checks it against a preset's. */
guint64          kiln_chain_get_chain_id          (KilnChain          *self);
const KilnAddress *kiln_chain_get_token           (KilnChain          *self);
/* "GNT" or "GLM"; 18 decimals for every preset. */
const char      *kiln_chain_get_token_symbol      (KilnChain          *self);
guint            kiln_chain_get_token_decimals    (KilnChain          *self);
/* The chain's own currency, which pays the network fees: "ETH", or "POL" on Polygon. */
const char      *kiln_chain_get_native_symbol     (KilnChain          *self);
/* The KilnBatchPay contract, or NULL where none is deployed (batches become single
 * transfers then). */
const KilnAddress *kiln_chain_get_batch_contract  (KilnChain          *self);
/* A block explorer link for a transaction hash ("0x…"), or NULL (devnet, custom). */
char            *kiln_chain_dup_explorer_tx_url   (KilnChain          *self,
                                                   const char         *tx_hash);
gboolean         kiln_chain_is_devnet             (KilnChain          *self);

/* $XDG_RUNTIME_DIR/kiln/devnet.json (or the value of $KILN_DEVNET_STATE). */
char            *kiln_chain_get_devnet_state_path (void);

G_END_DECLS
