/* bench-messages.c: signed messages between two nodes against plain frames of the same size
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One node signs messages and sends them over a loopback link; the other decodes, verifies and
 * guards each one (KilnMessageGuard: rate limits, replay memory, signature). The baseline is the
 * same number of unsigned frames of the same size over a link between the same kind of nodes,
 * counted as they arrive. Both nodes run in this process, on one thread, so a figure is the
 * whole cost of a message: signing, framing, TLS both ways, checking. Each figure is the median
 * of several runs, interleaved with its baseline.
 */
#include <string.h>

#include "kiln-bench-util.h"
#include "libkiln.h"

#define N_RUNS       5
#define N_MESSAGES   2000
#define IN_FLIGHT    64
/* A frame type no layer uses, for the baseline. */
#define PLAIN_FRAME  0x3f

static void
check (GError *error)
{
  if (error != NULL)
    g_error ("%s", error->message);
}

static void
on_result (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);

  return *slot;
}

/* The receiving node: a listener whose links are guarded. */
typedef struct
{
  KilnKey          *key;
  KilnLinkConfig   *config;
  KilnLinkListener *listener;
  KilnMessageGuard *guard;
  guint16           port;
  guint             received;   /* messages accepted and plain frames counted */
  guint             refused;
} Receiver;

static void
on_plain_frame (KilnLink *link,
                guint     type,
                GBytes   *payload,
                Receiver *r)
{
  if (type == PLAIN_FRAME)
    r->received++;
}

static void
on_link_accepted (KilnLinkListener *listener,
                  KilnLink         *link,
                  Receiver         *r)
{
  kiln_message_guard_attach (r->guard, link);
  g_signal_connect (link, "message-received", G_CALLBACK (on_plain_frame), r);
}

static void
on_message_accepted (KilnMessageGuard *guard,
                     KilnLink         *link,
                     KilnMessage      *message,
                     Receiver         *r)
{
  r->received++;
}

static void
on_message_refused (KilnMessageGuard *guard,
                    KilnLink         *link,
                    const GError     *error,
                    Receiver         *r)
{
  g_printerr ("refused: %s\n", error->message);
  r->refused++;
}

static void
receiver_init (Receiver *r)
{
  GError *error = NULL;

  r->key = kiln_key_generate (&error);
  check (error);
  r->config = kiln_link_config_new (r->key, &error);
  check (error);
  r->guard = kiln_message_guard_new (kiln_key_get_address (r->key));
  /* Measure the checks, not the limits. */
  kiln_message_guard_set_rate_limit (r->guard, 1e9, G_MAXUINT, 1e12, G_MAXSIZE);
  g_signal_connect (r->guard, "message-accepted", G_CALLBACK (on_message_accepted), r);
  g_signal_connect (r->guard, "message-refused", G_CALLBACK (on_message_refused), r);
  r->listener = kiln_link_listener_new (r->config);
  g_signal_connect (r->listener, "link-accepted", G_CALLBACK (on_link_accepted), r);
  kiln_link_listener_listen (r->listener, "127.0.0.1", 0, &r->port, &error);
  check (error);
}

static void
receiver_clear (Receiver *r)
{
  kiln_link_listener_close (r->listener, "Done");
  while (kiln_link_listener_get_n_links (r->listener) > 0)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_data (r->listener, r);
  g_signal_handlers_disconnect_by_data (r->guard, r);
  g_clear_object (&r->listener);
  g_clear_object (&r->guard);
  g_clear_object (&r->config);
  g_clear_object (&r->key);
}

/* The sending node, with a fresh key and link for every run. */
typedef struct
{
  Receiver  *receiver;
  KilnKey   *key;
  KilnLink  *link;
  gsize      body_size;
  GBytes    *body;
  GBytes    *plain;       /* baseline frames' payload */
  gboolean   sign;
  guint      sent;
  guint      in_flight;
} Sender;

static void send_more (Sender *s);

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sender *s = user_data;
  GError *error = NULL;

  kiln_link_send_finish (KILN_LINK (object), result, &error);
  check (error);
  s->in_flight--;
  send_more (s);
}

static void
send_more (Sender *s)
{
  while (s->in_flight < IN_FLIGHT && s->sent < N_MESSAGES)
    {
      g_autoptr(GBytes) payload = NULL;

      if (s->sign)
        {
          g_autoptr(KilnMessage) message = NULL;
          GError *error = NULL;

          message = kiln_message_new (KILN_MESSAGE_OFFER, kiln_key_get_address (s->receiver->key),
                                      s->body);
          kiln_message_sign (message, s->key, &error);
          check (error);
          payload = kiln_message_encode (message);
        }
      else
        payload = g_bytes_ref (s->plain);

      s->sent++;
      s->in_flight++;
      kiln_link_send_async (s->link, s->sign ? KILN_FRAME_MESSAGE : PLAIN_FRAME, payload, NULL,
                            on_sent, s);
    }
}

static void
sender_connect (Sender *s)
{
  g_autoptr(KilnLinkConfig) config = NULL;
  g_autoptr(GAsyncResult) connected = NULL;
  GError *error = NULL;
  guint before = kiln_link_listener_get_n_links (s->receiver->listener);

  g_clear_object (&s->key);
  s->key = kiln_key_generate (&error);
  check (error);
  config = kiln_link_config_new (s->key, &error);
  check (error);
  kiln_link_connect_async (config, "127.0.0.1", s->receiver->port, NULL, NULL, on_result,
                           &connected);
  s->link = kiln_link_connect_finish (wait_result (&connected), &error);
  check (error);
  while (kiln_link_listener_get_n_links (s->receiver->listener) <= before)
    g_main_context_iteration (NULL, TRUE);
}

static void
sender_disconnect (Sender *s)
{
  kiln_link_close (s->link, KILN_NET_CLOSE_NORMAL, NULL);
  while (kiln_link_get_state (s->link) != KILN_LINK_STATE_CLOSED)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&s->link);
  while (kiln_link_listener_get_n_links (s->receiver->listener) > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* Messages (or frames) per second, from the first send to the last arrival. */
static double
run (Sender   *s,
     gboolean  sign)
{
  Receiver *r = s->receiver;
  gint64 start, elapsed;

  sender_connect (s);
  s->sign = sign;
  s->sent = 0;
  s->in_flight = 0;
  r->received = 0;

  start = g_get_monotonic_time ();
  send_more (s);
  while (r->received < N_MESSAGES)
    {
      if (r->refused > 0)
        g_error ("The receiver refused messages");
      g_main_context_iteration (NULL, TRUE);
    }
  elapsed = g_get_monotonic_time () - start;
  while (s->in_flight > 0)
    g_main_context_iteration (NULL, TRUE);

  sender_disconnect (s);

  return N_MESSAGES / (elapsed / (double) G_USEC_PER_SEC);
}

static void
compare (Receiver *r,
         gsize     body_size)
{
  Sender s = { .receiver = r, .body_size = body_size };
  g_autoptr(KilnMessage) sample = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autofree guint8 *filler = g_malloc (body_size + KILN_MESSAGE_MIN_SIZE);
  double signed_rates[N_RUNS];
  double plain_rates[N_RUNS];
  double m, b;
  gsize frame_size;
  GError *error = NULL;

  for (gsize i = 0; i < body_size + KILN_MESSAGE_MIN_SIZE; i++)
    filler[i] = (guint8) (i * 31);
  s.body = g_bytes_new (filler, body_size);

  /* The baseline frames are exactly as long as the signed messages. */
  s.key = kiln_key_generate (&error);
  check (error);
  sample = kiln_message_new (KILN_MESSAGE_OFFER, kiln_key_get_address (r->key), s.body);
  kiln_message_sign (sample, s.key, &error);
  check (error);
  encoded = kiln_message_encode (sample);
  frame_size = g_bytes_get_size (encoded);
  s.plain = g_bytes_new (filler, frame_size);

  /* One untimed round each: TLS sessions, allocations, caches. */
  run (&s, TRUE);
  run (&s, FALSE);

  for (guint i = 0; i < N_RUNS; i++)
    {
      signed_rates[i] = run (&s, TRUE);
      plain_rates[i] = run (&s, FALSE);
    }

  m = kiln_bench_median (signed_rates, N_RUNS);
  b = kiln_bench_median (plain_rates, N_RUNS);
  g_print ("signed messages, %" G_GSIZE_FORMAT "-byte body: %.0f messages/s "
           "(unsigned frames of %" G_GSIZE_FORMAT " bytes: %.0f frames/s, ratio %.2f)\n",
           body_size, m, frame_size, b, m / b);

  g_clear_object (&s.key);
  g_bytes_unref (s.body);
  g_bytes_unref (s.plain);
}

int
main (int   argc,
      char *argv[])
{
  Receiver r = { 0 };

  receiver_init (&r);

  /* A typical offer, and the largest one. */
  compare (&r, 256);
  compare (&r, 16 * 1024);

  receiver_clear (&r);

  return 0;
}
