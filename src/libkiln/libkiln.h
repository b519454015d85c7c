/* libkiln.h: the engine's public headers in one include
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-types.h"
#include "kiln-engine.h"

#include "crypto/kiln-address.h"
#include "crypto/kiln-crypto.h"
#include "crypto/kiln-keccak.h"
#include "crypto/kiln-key.h"
#include "crypto/kiln-keystore.h"
#include "crypto/kiln-random.h"
#include "crypto/kiln-secret-store.h"

#include "eth/kiln-abi.h"
#include "eth/kiln-chain.h"
#include "eth/kiln-eth.h"
#include "eth/kiln-rlp.h"
#include "eth/kiln-rpc-client.h"
#include "eth/kiln-transaction.h"
#include "eth/kiln-uint256.h"
#include "eth/kiln-wallet.h"

#include "market/kiln-earnings.h"
#include "market/kiln-market.h"
#include "market/kiln-market-bodies.h"
#include "market/kiln-offer.h"
#include "market/kiln-offer-book.h"
#include "market/kiln-provider-agent.h"
#include "market/kiln-reputation.h"
#include "market/kiln-task-announcement.h"
#include "market/kiln-terms.h"

#include "net/kiln-control.h"
#include "net/kiln-frame.h"
#include "net/kiln-link.h"
#include "net/kiln-link-config.h"
#include "net/kiln-link-listener.h"
#include "net/kiln-message.h"
#include "net/kiln-message-guard.h"
#include "net/kiln-net.h"
#include "net/kiln-tls-certificate.h"

#include "provider/kiln-idle-monitor.h"
#include "provider/kiln-lending-policy.h"
#include "provider/kiln-provider.h"

#include "render/kiln-assembly.h"
#include "render/kiln-frame-spec.h"
#include "render/kiln-image.h"
#include "render/kiln-job-plan.h"
#include "render/kiln-job-store.h"
#include "render/kiln-render-job.h"
#include "render/kiln-scene-info.h"
#include "render/kiln-verifier.h"

#include "store/kiln-payment.h"
#include "store/kiln-payment-ledger.h"
#include "store/kiln-store.h"
