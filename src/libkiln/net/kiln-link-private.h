/* kiln-link-private.h: what the files of KilnLink and the listener share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-frame.h"
#include "kiln-link.h"

G_BEGIN_DECLS

struct _KilnLink
{
  GObject            parent_instance;

  KilnLinkConfig    *config;
  KilnNetRole        role;
  KilnLinkState      state;
  KilnAddress        peer_address;      /* valid once has_peer_address */
  gboolean           has_peer_address;
  KilnAddress        expected_peer;
  gboolean           has_expected_peer;

  char              *host;             /* client: what was asked for, for messages */
  guint16            port;
  GSocketAddress    *remote_address;
  GIOStream         *base;             /* the TCP connection */
  GTlsConnection    *tls;
  KilnFrameWriter   *writer;           /* from the end of the TLS handshake */
  GMainContext      *context;          /* where the link's callbacks and timers run */
  GCancellable      *cancellable;      /* all of the link's own I/O */
  guint8             binding[KILN_NET_CHANNEL_BINDING_SIZE];

  /* Handshake: the task reporting its end, the deadline, the user's cancellable. */
  GTask             *handshake_task;
  GSource           *handshake_timer;
  GCancellable      *user_cancellable;
  gulong             user_cancelled_id;

  /* Operations in flight that closing waits for. */
  gboolean           connecting;
  gboolean           tls_handshaking;
  gboolean           reading;

  /* Keep-alive. */
  GSource           *keepalive_timer;
  gint64             last_received;
  gboolean           ping_outstanding;
  guint64            pings_sent;
  gint64             ping_sent_at;      /* monotonic time of the last PING, 0 once answered */
  gint64             latency;           /* microseconds, -1 until a PONG came back */

  /* Closing. */
  GError            *close_error;
  gboolean           closed_by_peer;
  gboolean           read_ended;
  gboolean           writer_closed;
  gboolean           stream_closing;
  GSource           *linger_timer;
  GPtrArray         *close_tasks;
};

/* kiln-link.c */
KilnLink *kiln_link_new                  (KilnLinkConfig  *config,
                                          KilnNetRole      role);
void      kiln_link_set_state            (KilnLink        *self,
                                          KilnLinkState    state);
void      kiln_link_emit_closed          (KilnLink        *self);
/* A timer on the link's main context; its callback gets @self without a reference. */
GSource  *kiln_link_add_timeout          (KilnLink        *self,
                                          guint            interval_ms,
                                          GSourceFunc      callback);
void      kiln_link_clear_source         (GSource        **source);
/* Starts reading frames; the first goes to kiln_link_handshake_frame(). */
void      kiln_link_read_next            (KilnLink        *self);
/* HANDSHAKING → OPEN: completes the handshake task and starts the keep-alive. */
void      kiln_link_set_open             (KilnLink        *self);

/* kiln-link-close.c */
/* Starts closing because of @error (taken). With @reason >= 0 and TLS up, a CLOSE frame with
 * @reason and @wire_text goes first. Fails the handshake task if there is one. */
void      kiln_link_fail                 (KilnLink        *self,
                                          GError          *error,
                                          gboolean         by_peer,
                                          int              reason,
                                          const char      *wire_text);
/* Closes the TCP connection once nothing is in flight any more. */
void      kiln_link_maybe_finish_close   (KilnLink        *self);
/* The error a CLOSE frame stands for. */
GError   *kiln_link_error_from_close     (GBytes          *payload,
                                          gboolean         during_handshake);
void      kiln_link_disconnect_user_cancellable (KilnLink *self);

/* kiln-link-handshake.c */
/* Accepting side: TLS server handshake and proofs on @connection; completes when open. */
void      kiln_link_accept_async         (KilnLink            *self,
                                          GSocketConnection   *connection,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean  kiln_link_accept_finish        (KilnLink            *self,
                                          GAsyncResult        *result,
                                          GError             **error);
void      kiln_link_handshake_frame      (KilnLink            *self,
                                          guint8               type,
                                          GBytes              *payload);

G_END_DECLS
