/* kiln-tls-certificate.h: a node's throwaway TLS certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A fresh ECDSA P-256 key and a self-signed X.509 v3 certificate for it, made with GnuTLS.
 * Links never trust it: it only carries the TLS handshake, and a peer's identity comes from
 * the secp256k1 proof sent inside the channel. The private key lives only in memory. */
GTlsCertificate *kiln_tls_certificate_new      (GError **error);

/* The same as PEM text: the certificate, and the PKCS #8 private key. The caller must wipe
 * and free @key_pem (kiln_secure_wipe over strlen bytes, then g_free). */
gboolean         kiln_tls_certificate_new_pem  (char   **certificate_pem,
                                                char   **key_pem,
                                                GError **error);

G_END_DECLS
