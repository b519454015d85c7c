/* kiln-tls-certificate.c: a node's throwaway TLS certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include <glib/gi18n-lib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "kiln-crypto.h"
#include "kiln-net.h"
#include "kiln-random.h"
#include "kiln-tls-certificate.h"

/* Valid from an hour ago (clocks disagree) for a year: longer than any process lives. */
#define NOT_BEFORE_SECONDS (60 * 60)
#define LIFETIME_SECONDS   (365 * 24 * 60 * 60)

#define COMMON_NAME "Kiln node"

static gboolean
check (int          ret,
       const char  *what,
       GError     **error)
{
  if (ret >= 0)
    return TRUE;

  g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_CERTIFICATE,
               _("Could not make the TLS certificate (%s): %s"), what, gnutls_strerror (ret));
  return FALSE;
}

static gboolean
fill_certificate (gnutls_x509_crt_t      crt,
                  gnutls_x509_privkey_t  key,
                  GError               **error)
{
  guint8 serial[16];
  time_t now = time (NULL);

  /* A positive 127-bit serial: RFC 5280 wants it unique per issuer, and each node is its
   * own issuer for a single certificate. */
  if (!kiln_random_bytes (serial, sizeof serial, error))
    return FALSE;
  serial[0] &= 0x7f;
  serial[0] |= 0x01;

  return check (gnutls_x509_crt_set_version (crt, 3), "version", error) &&
         check (gnutls_x509_crt_set_serial (crt, serial, sizeof serial), "serial", error) &&
         check (gnutls_x509_crt_set_activation_time (crt, now - NOT_BEFORE_SECONDS),
                "validity", error) &&
         check (gnutls_x509_crt_set_expiration_time (crt, now + LIFETIME_SECONDS),
                "validity", error) &&
         check (gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0,
                                               COMMON_NAME, strlen (COMMON_NAME)),
                "subject", error) &&
         check (gnutls_x509_crt_set_key (crt, key), "public key", error) &&
         check (gnutls_x509_crt_set_basic_constraints (crt, 0, -1), "constraints", error) &&
         check (gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE),
                "key usage", error) &&
         check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
                "key purpose", error) &&
         check (gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_CLIENT, 0),
                "key purpose", error) &&
         check (gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0), "signature", error);
}

gboolean
kiln_tls_certificate_new_pem (char   **certificate_pem,
                              char   **key_pem,
                              GError **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t crt_datum = { NULL, 0 };
  gnutls_datum_t key_datum = { NULL, 0 };
  gboolean ok;

  g_return_val_if_fail (certificate_pem != NULL, FALSE);
  g_return_val_if_fail (key_pem != NULL, FALSE);

  ok = check (gnutls_x509_privkey_init (&key), "key", error) &&
       check (gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0),
              "key", error) &&
       check (gnutls_x509_crt_init (&crt), "certificate", error) &&
       fill_certificate (crt, key, error) &&
       check (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &crt_datum), "export", error) &&
       check (gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                 GNUTLS_PKCS_PLAIN, &key_datum),
              "export", error);

  if (ok)
    {
      *certificate_pem = g_strndup ((const char *) crt_datum.data, crt_datum.size);
      *key_pem = g_strndup ((const char *) key_datum.data, key_datum.size);
    }

  if (key_datum.data != NULL)
    {
      kiln_secure_wipe (key_datum.data, key_datum.size);
      gnutls_free (key_datum.data);
    }
  gnutls_free (crt_datum.data);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);

  return ok;
}

GTlsCertificate *
kiln_tls_certificate_new (GError **error)
{
  g_autofree char *certificate_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *both = NULL;
  g_autoptr(GError) local_error = NULL;
  GTlsCertificate *certificate;

  if (!kiln_tls_certificate_new_pem (&certificate_pem, &key_pem, error))
    return NULL;

  both = g_strconcat (certificate_pem, key_pem, NULL);
  certificate = g_tls_certificate_new_from_pem (both, -1, &local_error);

  kiln_secure_wipe (key_pem, strlen (key_pem));
  kiln_secure_wipe (both, strlen (both));

  if (certificate == NULL)
    g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_CERTIFICATE,
                 _("The TLS library refused the node’s certificate: %s"), local_error->message);

  return certificate;
}
