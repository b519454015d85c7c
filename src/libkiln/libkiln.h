/* libkiln.h: the engine's public headers in one include
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-types.h"

#include "crypto/kiln-address.h"
#include "crypto/kiln-crypto.h"
#include "crypto/kiln-keccak.h"
#include "crypto/kiln-key.h"
#include "crypto/kiln-keystore.h"
#include "crypto/kiln-random.h"
#include "crypto/kiln-secret-store.h"

#include "eth/kiln-abi.h"
#include "eth/kiln-eth.h"
#include "eth/kiln-rlp.h"
#include "eth/kiln-transaction.h"
#include "eth/kiln-uint256.h"
