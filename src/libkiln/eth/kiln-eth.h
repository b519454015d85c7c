/* kiln-eth.h: the Ethereum subsystem's error domain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KILN_ETH_ERROR (kiln_eth_error_quark ())

typedef enum
{
  KILN_ETH_ERROR_OVERFLOW,             /* a number too large for 256 bits or its field */
  KILN_ETH_ERROR_INVALID_NUMBER,       /* not a decimal or 0x-hex unsigned integer */
  KILN_ETH_ERROR_INVALID_AMOUNT,       /* not a token amount such as "1.5" */
  KILN_ETH_ERROR_INVALID_RLP,          /* malformed or non-canonical RLP */
  KILN_ETH_ERROR_INVALID_ABI,          /* malformed ABI-encoded data */
  KILN_ETH_ERROR_INVALID_TRANSACTION,  /* malformed, unsigned or wrongly signed transaction */
  KILN_ETH_ERROR_UNSUPPORTED,          /* a well-formed input Kiln does not handle */
} KilnEthError;

GQuark kiln_eth_error_quark (void);

G_END_DECLS
