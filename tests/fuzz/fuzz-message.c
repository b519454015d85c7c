/* fuzz-message.c: message frames from a hostile peer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Decodes the input as a KILN_FRAME_MESSAGE payload, checks its signature, reads every field
 * and re-encodes it, then gives it twice to a fresh KilnMessageGuard whose clock and address
 * fit the message, so that inputs reach the replay and signature checks. Nothing may crash,
 * leak, warn or read out of bounds, whatever the input; a decoded message re-encodes to the
 * same bytes, and the guard never accepts the same message twice.
 */
#include <string.h>

#include "kiln-message-guard.h"
#include "fuzz-target.h"

static gint64
fixed_clock (gpointer user_data)
{
  return *(gint64 *) user_data;
}

static void
read_fields (KilnMessage *message,
             GBytes      *input)
{
  g_autoptr(GBytes) encoded = kiln_message_encode (message);
  g_autofree char *id = kiln_message_dup_id_string (message);
  guint type = kiln_message_get_message_type (message);
  GBytes *body = kiln_message_get_body (message);

  g_assert (g_bytes_equal (encoded, input));
  g_assert (strlen (id) == 2 * KILN_MESSAGE_ID_SIZE);
  g_assert (kiln_message_get_author (message) != NULL);
  g_assert (kiln_message_get_timestamp (message) >= 0);
  g_assert (g_bytes_get_size (body) <= kiln_message_type_get_body_max (type));
  g_assert (g_bytes_get_size (body) + KILN_MESSAGE_MIN_SIZE <= g_bytes_get_size (input));
  if (kiln_message_get_recipient (message) == NULL && kiln_message_type_is_known (type))
    g_assert (kiln_message_type_allows_broadcast (type));
  kiln_message_get_nonce (message);
  kiln_message_get_protocol_minor (message);
}

static void
guard_twice (KilnMessage *message,
             GBytes      *input)
{
  static const KilnAddress someone = { { 0x42 } };
  const KilnAddress *local = &someone;
  const KilnAddress *peer = &someone;
  g_autoptr(KilnMessageGuard) guard = NULL;
  g_autoptr(KilnMessage) first = NULL;
  g_autoptr(KilnMessage) second = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = 0;

  /* Make the cheap checks pass when the message allows it, to reach the deeper ones. */
  if (message != NULL)
    {
      peer = kiln_message_get_author (message);
      if (kiln_message_get_recipient (message) != NULL)
        local = kiln_message_get_recipient (message);
      if (kiln_message_get_timestamp (message) < G_MAXINT64 / 1000 - G_USEC_PER_SEC)
        now = kiln_message_get_timestamp (message) * 1000;
    }

  guard = kiln_message_guard_new (local);
  kiln_message_guard_set_clock (guard, fixed_clock, &now);

  first = kiln_message_guard_check (guard, peer, input, &error);
  g_assert ((first == NULL) != (error == NULL));
  if (first == NULL)
    {
      g_assert (error->domain == KILN_MESSAGE_ERROR);
      g_assert (g_utf8_validate (error->message, -1, NULL));
      g_clear_error (&error);
    }
  else
    g_assert (kiln_message_is_verified (first));

  second = kiln_message_guard_check (guard, peer, input, &error);
  g_assert (second == NULL);
  g_assert (error != NULL && error->domain == KILN_MESSAGE_ERROR);
  if (first != NULL)
    g_assert (error->code == KILN_MESSAGE_ERROR_REPLAYED);
}

static void
drop_log (const char     *domain,
          GLogLevelFlags  level,
          const char     *message,
          gpointer        user_data)
{
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  /* Refusals and bans are logged for operators; here they would only slow fuzzing down. */
  g_log_set_handler ("Kiln", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
                     drop_log, NULL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) input = g_bytes_new (data, size);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_message_decode (input, &error);
  g_assert ((message == NULL) != (error == NULL));
  if (message == NULL)
    {
      g_assert (error->domain == KILN_MESSAGE_ERROR);
      g_assert (g_utf8_validate (error->message, -1, NULL));
    }
  else
    {
      read_fields (message, input);
      if (kiln_message_verify (message, &error))
        g_assert (kiln_message_is_verified (message));
      else
        g_assert (error->domain == KILN_MESSAGE_ERROR &&
                  error->code == KILN_MESSAGE_ERROR_BAD_SIGNATURE);
    }

  guard_twice (message, input);
  return 0;
}
