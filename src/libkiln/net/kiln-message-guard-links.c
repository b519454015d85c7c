/* kiln-message-guard-links.c: a guard watching the message frames of links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-message-guard-private.h"

void
kiln_message_guard_watch_free (gpointer data)
{
  KilnMessageGuardWatch *watch = data;

  g_clear_signal_handler (&watch->message_id, watch->link);
  g_clear_signal_handler (&watch->closed_id, watch->link);
  g_object_unref (watch->link);
  g_free (watch);
}

static void
close_watched (KilnMessageGuardWatch *watch,
               const char            *text)
{
  g_autoptr(KilnLink) link = g_object_ref (watch->link);

  watch->closing = TRUE;
  kiln_link_close (link, KILN_NET_CLOSE_PROTOCOL, text);
}

void
kiln_message_guard_close_peer_links (KilnMessageGuard  *self,
                                     const KilnAddress *address,
                                     const char        *text)
{
  g_autoptr(GPtrArray) matching = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  /* Closing could end a link (and its watch) at once: collect first. */
  g_hash_table_iter_init (&iter, self->watches);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnMessageGuardWatch *watch = value;

      if (kiln_address_equal (&watch->peer, address) && !watch->closing)
        g_ptr_array_add (matching, g_object_ref (watch->link));
    }

  for (guint i = 0; i < matching->len; i++)
    {
      g_autoptr(KilnLink) link = g_ptr_array_index (matching, i);
      KilnMessageGuardWatch *watch = g_hash_table_lookup (self->watches, link);

      if (watch != NULL && !watch->closing)
        close_watched (watch, text);
    }
}

/* Refusals that end the link: the peer's software is broken or hostile. */
static gboolean
refusal_closes_link (const GError *error)
{
  return g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_MALFORMED) ||
         g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE) ||
         g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BAD_SIGNATURE) ||
         g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_WRONG_AUTHOR);
}

static void
on_link_message (KilnLink              *link,
                 guint                  type,
                 GBytes                *payload,
                 KilnMessageGuardWatch *watch)
{
  g_autoptr(KilnMessageGuard) self = g_object_ref (watch->guard);
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  char shown[KILN_ADDRESS_STRING_SIZE];

  if (type != KILN_FRAME_MESSAGE || watch->closing)
    return;

  message = kiln_message_guard_check (self, &watch->peer, payload, &error);
  if (message != NULL)
    {
      kiln_message_guard_emit_accepted (self, link, message);
      return;
    }

  kiln_address_format (&watch->peer, shown);
  g_info ("Refused a message from %s: %s", shown, error->message);

  /* A ban during the check has closed the link already. */
  watch = g_hash_table_lookup (self->watches, link);
  if (watch != NULL && !watch->closing && refusal_closes_link (error))
    close_watched (watch, error->message);

  kiln_message_guard_emit_refused (self, link, error);
}

static void
on_link_closed (KilnLink              *link,
                const GError          *error,
                gboolean               by_peer,
                KilnMessageGuardWatch *watch)
{
  g_autoptr(KilnMessageGuard) self = g_object_ref (watch->guard);
  KilnAddress peer = watch->peer;
  gboolean abuse;

  /* A frame over the link's limit or a link protocol violation is the peer's doing unless
   * this guard closed the link itself. */
  abuse = !by_peer && !watch->closing && error != NULL &&
          (g_error_matches (error, KILN_NET_ERROR, KILN_NET_ERROR_FRAME_TOO_LARGE) ||
           g_error_matches (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL));

  g_hash_table_remove (self->watches, link);

  if (abuse)
    {
      char shown[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&peer, shown);
      g_info ("Link to %s closed for the peer’s fault: %s", shown, error->message);
      kiln_message_guard_add_points (self, &peer, KILN_MESSAGE_GUARD_POINTS_LINK_ABUSE,
                                     error->message, kiln_message_guard_now (self));
    }
}

void
kiln_message_guard_attach (KilnMessageGuard *self,
                           KilnLink         *link)
{
  const KilnMessageBan *ban;
  KilnMessageGuardWatch *watch;

  g_return_if_fail (KILN_IS_MESSAGE_GUARD (self));
  g_return_if_fail (KILN_IS_LINK (link));
  g_return_if_fail (kiln_link_get_peer_address (link) != NULL);

  if (kiln_link_get_state (link) != KILN_LINK_STATE_OPEN ||
      g_hash_table_contains (self->watches, link))
    return;

  watch = g_new0 (KilnMessageGuardWatch, 1);
  watch->guard = self;
  watch->link = g_object_ref (link);
  watch->peer = *kiln_link_get_peer_address (link);
  watch->message_id = g_signal_connect (link, "message-received",
                                        G_CALLBACK (on_link_message), watch);
  watch->closed_id = g_signal_connect (link, "closed", G_CALLBACK (on_link_closed), watch);
  g_hash_table_insert (self->watches, link, watch);

  ban = kiln_message_guard_lookup_ban (self, &watch->peer, kiln_message_guard_now (self));
  if (ban != NULL)
    {
      g_autofree char *when = kiln_message_guard_format_until (ban->until);
      g_autofree char *text = g_strdup_printf (_("This node has banned yours until %s: %s"),
                                               when, ban->reason);
      char shown[KILN_ADDRESS_STRING_SIZE];

      kiln_address_format (&watch->peer, shown);
      g_info ("Closing the link of banned peer %s", shown);
      close_watched (watch, text);
    }
}
