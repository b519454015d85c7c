/* kiln-eth.c: the Ethereum subsystem's error domain
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kiln-eth.h"

G_DEFINE_QUARK (kiln-eth-error-quark, kiln_eth_error)
