/* kiln-net.c: the link protocol's error domain and wire messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-keccak.h"
#include "kiln-net.h"

G_DEFINE_QUARK (kiln-net-error-quark, kiln_net_error)

/* EIP-191's leading byte: the signed bytes can never be an RLP list or a typed Ethereum
 * transaction, so a proof cannot be replayed as anything a wallet would accept. */
#define PROOF_PREFIX 0x19

KilnNetError
kiln_net_error_from_close_reason (guint reason)
{
  switch (reason)
    {
    case KILN_NET_CLOSE_PROTOCOL:
      return KILN_NET_ERROR_PROTOCOL;
    case KILN_NET_CLOSE_FRAME_TOO_LARGE:
      return KILN_NET_ERROR_FRAME_TOO_LARGE;
    case KILN_NET_CLOSE_VERSION:
      return KILN_NET_ERROR_VERSION;
    case KILN_NET_CLOSE_BAD_PROOF:
      return KILN_NET_ERROR_BAD_PROOF;
    case KILN_NET_CLOSE_TIMED_OUT:
      return KILN_NET_ERROR_TIMED_OUT;
    case KILN_NET_CLOSE_TLS_VERSION:
      return KILN_NET_ERROR_TLS_VERSION;
    case KILN_NET_CLOSE_UNEXPECTED_PEER:
      return KILN_NET_ERROR_UNEXPECTED_PEER;
    case KILN_NET_CLOSE_SELF:
      return KILN_NET_ERROR_SELF;
    case KILN_NET_CLOSE_NORMAL:
    default:
      return KILN_NET_ERROR_CLOSED;
    }
}

void
kiln_net_proof_digest (KilnNetRole  role,
                       const guint8 binding[KILN_NET_CHANNEL_BINDING_SIZE],
                       guint8       digest[32])
{
  KilnKeccak256 ctx;
  const guint8 prefix = PROOF_PREFIX;
  const guint8 role_byte = role;

  g_return_if_fail (role == KILN_NET_ROLE_CLIENT || role == KILN_NET_ROLE_SERVER);
  g_return_if_fail (binding != NULL);

  kiln_keccak256_init (&ctx);
  kiln_keccak256_update (&ctx, &prefix, 1);
  kiln_keccak256_update (&ctx, (const guint8 *) KILN_NET_PROOF_CONTEXT,
                         strlen (KILN_NET_PROOF_CONTEXT));
  kiln_keccak256_update (&ctx, &role_byte, 1);
  kiln_keccak256_update (&ctx, binding, KILN_NET_CHANNEL_BINDING_SIZE);
  kiln_keccak256_digest (&ctx, digest);
}

gboolean
kiln_net_hello_sign (KilnNetHello *hello,
                     KilnKey      *key,
                     KilnNetRole   role,
                     const guint8  binding[KILN_NET_CHANNEL_BINDING_SIZE],
                     GError      **error)
{
  guint8 digest[32];

  g_return_val_if_fail (hello != NULL, FALSE);
  g_return_val_if_fail (KILN_IS_KEY (key), FALSE);
  g_return_val_if_fail (binding != NULL, FALSE);

  hello->major = KILN_NET_PROTOCOL_MAJOR;
  hello->minor = KILN_NET_PROTOCOL_MINOR;
  hello->address = *kiln_key_get_address (key);
  kiln_net_proof_digest (role, binding, digest);

  return kiln_key_sign_digest (key, digest, hello->signature, error);
}

gboolean
kiln_net_hello_verify (const KilnNetHello *hello,
                       KilnNetRole         role,
                       const guint8        binding[KILN_NET_CHANNEL_BINDING_SIZE],
                       GError            **error)
{
  guint8 digest[32];
  KilnAddress recovered;

  g_return_val_if_fail (hello != NULL, FALSE);
  g_return_val_if_fail (binding != NULL, FALSE);

  if (hello->major != KILN_NET_PROTOCOL_MAJOR)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_VERSION,
                   _("The peer speaks link protocol %u.%u but this node speaks %u.%u; "
                     "the older side needs a Kiln update"),
                   hello->major, hello->minor,
                   KILN_NET_PROTOCOL_MAJOR, KILN_NET_PROTOCOL_MINOR);
      return FALSE;
    }

  kiln_net_proof_digest (role, binding, digest);
  if (!kiln_recover_address (digest, hello->signature, &recovered, NULL) ||
      !kiln_address_equal (&recovered, &hello->address))
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_BAD_PROOF,
                   _("The peer’s identity proof does not match the address it claims"));
      return FALSE;
    }

  return TRUE;
}

GBytes *
kiln_net_hello_encode (const KilnNetHello *hello)
{
  guint8 *out;

  g_return_val_if_fail (hello != NULL, NULL);

  out = g_malloc (KILN_NET_HELLO_SIZE);
  out[0] = hello->major >> 8;
  out[1] = hello->major & 0xff;
  out[2] = hello->minor >> 8;
  out[3] = hello->minor & 0xff;
  memcpy (out + 4, hello->address.bytes, KILN_ADDRESS_SIZE);
  memcpy (out + 4 + KILN_ADDRESS_SIZE, hello->signature, KILN_SIGNATURE_SIZE);

  return g_bytes_new_take (out, KILN_NET_HELLO_SIZE);
}

gboolean
kiln_net_hello_decode (GBytes        *payload,
                       KilnNetHello  *hello,
                       GError       **error)
{
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (hello != NULL, FALSE);

  data = g_bytes_get_data (payload, &len);
  if (len < 4)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                   _("The peer sent a HELLO of %zu bytes, too short for a version"), len);
      return FALSE;
    }

  hello->major = (data[0] << 8) | data[1];
  hello->minor = (data[2] << 8) | data[3];

  /* An incompatible major version may lay out the rest differently: report the version
   * rather than a malformed message. */
  if (hello->major != KILN_NET_PROTOCOL_MAJOR)
    {
      memset (&hello->address, 0, sizeof hello->address);
      memset (hello->signature, 0, sizeof hello->signature);
      return TRUE;
    }

  if (len < KILN_NET_HELLO_SIZE || len > KILN_NET_HELLO_MAX_SIZE)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                   _("The peer sent a HELLO of %zu bytes; version %u expects %u to %u"),
                   len, KILN_NET_PROTOCOL_MAJOR,
                   KILN_NET_HELLO_SIZE, KILN_NET_HELLO_MAX_SIZE);
      return FALSE;
    }

  memcpy (hello->address.bytes, data + 4, KILN_ADDRESS_SIZE);
  memcpy (hello->signature, data + 4 + KILN_ADDRESS_SIZE, KILN_SIGNATURE_SIZE);

  return TRUE;
}

GBytes *
kiln_net_close_encode (KilnNetCloseReason  reason,
                       const char         *text)
{
  gsize len = text != NULL ? strlen (text) : 0;
  guint8 *out;

  g_return_val_if_fail (text == NULL || g_utf8_validate (text, -1, NULL), NULL);

  /* Cut on a character boundary: never leave half of a UTF-8 sequence. */
  if (len > KILN_NET_CLOSE_TEXT_MAX)
    {
      len = KILN_NET_CLOSE_TEXT_MAX;
      while (len > 0 && (((guint8) text[len]) & 0xc0) == 0x80)
        len--;
    }

  out = g_malloc (2 + len);
  out[0] = (reason >> 8) & 0xff;
  out[1] = reason & 0xff;
  if (len > 0)
    memcpy (out + 2, text, len);

  return g_bytes_new_take (out, 2 + len);
}

gboolean
kiln_net_close_decode (GBytes  *payload,
                       guint   *reason,
                       char   **text,
                       GError **error)
{
  const guint8 *data;
  gsize len;
  char *valid;

  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  data = g_bytes_get_data (payload, &len);
  if (len < 2 || len > 2 + KILN_NET_CLOSE_TEXT_MAX)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                   _("The peer sent a CLOSE of %zu bytes; it must be 2 to %u"),
                   len, 2 + KILN_NET_CLOSE_TEXT_MAX);
      return FALSE;
    }

  *reason = (data[0] << 8) | data[1];

  /* The text ends up in messages and logs: valid UTF-8 without control characters. */
  valid = g_utf8_make_valid ((const char *) data + 2, len - 2);
  for (char *p = valid; *p != '\0'; p++)
    {
      if ((guint8) *p < 0x20 || *p == 0x7f)
        *p = ' ';
    }
  *text = valid;

  return TRUE;
}

gboolean
kiln_net_channel_binding (GTlsConnection *tls,
                          guint8          binding[KILN_NET_CHANNEL_BINDING_SIZE],
                          GError        **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (G_IS_TLS_CONNECTION (tls), FALSE);
  g_return_val_if_fail (binding != NULL, FALSE);

  if (!g_tls_connection_get_channel_binding_data (tls, G_TLS_CHANNEL_BINDING_TLS_EXPORTER,
                                                  data, &local_error))
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                   _("The TLS library cannot give the connection’s tls-exporter channel "
                     "binding: %s"), local_error->message);
      return FALSE;
    }

  if (data->len != KILN_NET_CHANNEL_BINDING_SIZE)
    {
      g_set_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL,
                   _("The TLS library gave a tls-exporter channel binding of %u bytes "
                     "instead of %u"), data->len, KILN_NET_CHANNEL_BINDING_SIZE);
      return FALSE;
    }

  memcpy (binding, data->data, KILN_NET_CHANNEL_BINDING_SIZE);

  return TRUE;
}

void
kiln_backoff_init (KilnBackoff *backoff,
                   guint        initial_ms,
                   guint        max_ms)
{
  g_return_if_fail (backoff != NULL);
  g_return_if_fail (initial_ms > 0);
  g_return_if_fail (max_ms >= initial_ms && max_ms <= G_MAXINT / 2);

  backoff->initial_ms = initial_ms;
  backoff->max_ms = max_ms;
  backoff->current_ms = initial_ms;
}

guint
kiln_backoff_next (KilnBackoff *backoff)
{
  guint ceiling;

  g_return_val_if_fail (backoff != NULL, 0);
  g_return_val_if_fail (backoff->current_ms > 0, 0);

  ceiling = backoff->current_ms;
  backoff->current_ms = MIN ((guint64) ceiling * 2, backoff->max_ms);

  /* Jitter (not key material) spreads out peers that failed together. */
  return g_random_int_range (ceiling / 2, ceiling + 1);
}

void
kiln_backoff_reset (KilnBackoff *backoff)
{
  g_return_if_fail (backoff != NULL);

  backoff->current_ms = backoff->initial_ms;
}
