/* kiln-types.h: forward declarations shared by the engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _KilnAddress     KilnAddress;
typedef struct _KilnKey         KilnKey;
typedef struct _KilnSecretStore KilnSecretStore;

typedef struct _KilnAbiEncoder  KilnAbiEncoder;
typedef struct _KilnChain       KilnChain;
typedef struct _KilnRlpEncoder  KilnRlpEncoder;
typedef struct _KilnRlpItem     KilnRlpItem;
typedef struct _KilnRpcClient   KilnRpcClient;
typedef struct _KilnRpcReceipt  KilnRpcReceipt;
typedef struct _KilnTransaction KilnTransaction;
typedef struct _KilnUint256     KilnUint256;
typedef struct _KilnWallet      KilnWallet;
typedef struct _KilnWalletEntry KilnWalletEntry;

typedef struct _KilnFrameWriter  KilnFrameWriter;
typedef struct _KilnLink         KilnLink;
typedef struct _KilnLinkConfig   KilnLinkConfig;
typedef struct _KilnLinkListener KilnLinkListener;

typedef struct _KilnPayment        KilnPayment;
typedef struct _KilnPaymentAttempt KilnPaymentAttempt;
typedef struct _KilnPaymentLedger  KilnPaymentLedger;
typedef struct _KilnStore          KilnStore;

G_END_DECLS
