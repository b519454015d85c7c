/* kiln-message-guard-private.h: what the files of KilnMessageGuard share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-message-guard.h"

G_BEGIN_DECLS

/* Points a link closed for its peer's fault adds (a frame over the link's limit, junk). */
#define KILN_MESSAGE_GUARD_POINTS_LINK_ABUSE 50

/* An attached link. */
typedef struct
{
  KilnMessageGuard *guard;        /* not a reference: the guard outlives its watches */
  KilnLink         *link;
  KilnAddress       peer;
  gulong            message_id;
  gulong            closed_id;
  gboolean          closing;      /* the guard is closing it */
} KilnMessageGuardWatch;

struct _KilnMessageGuard
{
  GObject           parent_instance;

  KilnAddress       local;
  double            message_rate;
  guint             message_burst;
  double            byte_rate;
  gsize             byte_burst;
  gint64            skew_us;
  guint             ban_threshold;
  guint             ban_seconds;
  KilnMessageClock  clock;
  gpointer          clock_data;

  guint64           seed;
  gint64            last_now;
  gint64            next_sweep;
  GHashTable       *peers;        /* KilnAddress (in the peer's state) → its state */
  GHashTable       *bans;         /* KilnAddress (in the ban) → KilnMessageBan */
  guint             n_nonces;
  GHashTable       *watches;      /* KilnLink → KilnMessageGuardWatch */
};

/* kiln-message-guard.c */
/* The guard's clock in µs, never going back. */
gint64  kiln_message_guard_now              (KilnMessageGuard     *self);
/* The ban in force on @address at @now, or NULL (an expired one is dropped). */
const KilnMessageBan *
        kiln_message_guard_lookup_ban       (KilnMessageGuard     *self,
                                             const KilnAddress    *address,
                                             gint64                now);
char   *kiln_message_guard_format_until     (gint64                until);
/* Adds @points to @address's score; bans it at the threshold. */
void    kiln_message_guard_add_points       (KilnMessageGuard     *self,
                                             const KilnAddress    *address,
                                             guint                 points,
                                             const char           *reason,
                                             gint64                now);
void    kiln_message_guard_emit_accepted    (KilnMessageGuard     *self,
                                             KilnLink             *link,
                                             KilnMessage          *message);
void    kiln_message_guard_emit_refused     (KilnMessageGuard     *self,
                                             KilnLink             *link,
                                             const GError         *error);

/* kiln-message-guard-links.c */
void    kiln_message_guard_watch_free       (gpointer              watch);
/* Closes every attached link of @address, telling the peer @text. */
void    kiln_message_guard_close_peer_links (KilnMessageGuard     *self,
                                             const KilnAddress    *address,
                                             const char           *text);

G_END_DECLS
