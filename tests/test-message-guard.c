/* test-message-guard.c: replays, clock skew, rate limits and bans, alone and over real links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kiln-test-link.h"
#include "kiln-test-util.h"

/* What the guard logged (domain "Kiln", info and message levels). */
typedef struct
{
  GPtrArray *lines;
  guint      handler;
} LogCapture;

static void
on_log (const char     *domain,
        GLogLevelFlags  level,
        const char     *message,
        gpointer        user_data)
{
  LogCapture *capture = user_data;

  g_ptr_array_add (capture->lines, g_strdup (message));
}

static void
log_capture_start (LogCapture *capture)
{
  capture->lines = g_ptr_array_new_with_free_func (g_free);
  capture->handler = g_log_set_handler ("Kiln", G_LOG_LEVEL_INFO | G_LOG_LEVEL_MESSAGE,
                                        on_log, capture);
}

static void
log_capture_stop (LogCapture *capture)
{
  g_log_remove_handler ("Kiln", capture->handler);
  g_ptr_array_unref (capture->lines);
}

static gboolean
log_has (LogCapture *capture,
         const char *pattern)
{
  for (guint i = 0; i < capture->lines->len; i++)
    if (g_pattern_match_simple (pattern, g_ptr_array_index (capture->lines, i)))
      return TRUE;

  return FALSE;
}

static void
assert_logged (LogCapture *capture,
               const char *pattern)
{
  if (log_has (capture, pattern))
    return;

  for (guint i = 0; i < capture->lines->len; i++)
    g_printerr ("logged: %s\n", (const char *) g_ptr_array_index (capture->lines, i));
  g_error ("Nothing logged matches “%s”", pattern);
}

/* One node's guard and one peer, on a clock the test moves. */
typedef struct
{
  KilnKey          *local_key;
  KilnKey          *peer_key;
  KilnKey          *third_key;
  KilnMessageGuard *guard;
  gint64            now;          /* µs since the Unix epoch */
  guint64           next_nonce;
  GPtrArray        *banned;       /* KilnMessageBan, from ::peer-banned */
  LogCapture        log;
} Fixture;

static gint64
fixture_clock (gpointer user_data)
{
  return ((Fixture *) user_data)->now;
}

static void
on_peer_banned (KilnMessageGuard  *guard,
                const KilnAddress *address,
                gint64             until,
                const char        *reason,
                Fixture           *f)
{
  KilnMessageBan ban = { *address, until, (char *) reason };

  g_ptr_array_add (f->banned, kiln_message_ban_copy (&ban));
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->local_key = kiln_key_generate (NULL);
  f->peer_key = kiln_key_generate (NULL);
  f->third_key = kiln_key_generate (NULL);
  /* A round number of seconds, near today, so that messages signed now would also pass. */
  f->now = (g_get_real_time () / G_USEC_PER_SEC) * G_USEC_PER_SEC;
  f->next_nonce = g_random_int ();
  f->banned = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_ban_free);
  f->guard = kiln_message_guard_new (kiln_key_get_address (f->local_key));
  kiln_message_guard_set_clock (f->guard, fixture_clock, f);
  g_signal_connect (f->guard, "peer-banned", G_CALLBACK (on_peer_banned), f);
  log_capture_start (&f->log);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_signal_handlers_disconnect_by_data (f->guard, f);
  g_assert_finalize_object (f->guard);
  g_ptr_array_unref (f->banned);
  g_object_unref (f->local_key);
  g_object_unref (f->peer_key);
  g_object_unref (f->third_key);
  log_capture_stop (&f->log);
}

static GBytes *
make_message (Fixture           *f,
              KilnKey           *author,
              KilnMessageType    type,
              const KilnAddress *recipient,
              gsize              body_len,
              gint64             timestamp_us)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = g_malloc0 (body_len + 1);
  g_autoptr(GBytes) body = g_bytes_new (data, body_len);
  g_autoptr(KilnMessage) message = kiln_message_new (type, recipient, body);

  g_assert_true (kiln_message_sign_full (message, author, f->next_nonce++,
                                         timestamp_us / 1000, &error));
  g_assert_no_error (error);
  return kiln_message_encode (message);
}

/* An OFFER from the peer to this node, dated now. */
static GBytes *
offer (Fixture *f)
{
  return make_message (f, f->peer_key, KILN_MESSAGE_OFFER, kiln_key_get_address (f->local_key),
                       32, f->now);
}

static KilnMessage *
assert_accepted (Fixture *f,
                 GBytes  *payload)
{
  g_autoptr(GError) error = NULL;
  KilnMessage *message;

  message = kiln_message_guard_check (f->guard, kiln_key_get_address (f->peer_key), payload,
                                      &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_true (kiln_message_is_verified (message));

  return message;
}

static void
assert_refused (Fixture    *f,
                GBytes     *payload,
                int         code,
                const char *pattern)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnMessage) message = NULL;

  message = kiln_message_guard_check (f->guard, kiln_key_get_address (f->peer_key), payload,
                                      &error);
  g_assert_null (message);
  g_assert_error (error, KILN_MESSAGE_ERROR, code);
  if (pattern != NULL && !g_pattern_match_simple (pattern, error->message))
    g_error ("“%s” does not match “%s”", error->message, pattern);
}

static guint
peer_score (Fixture *f)
{
  return kiln_message_guard_get_score (f->guard, kiln_key_get_address (f->peer_key));
}

static gboolean
peer_banned (Fixture *f)
{
  return kiln_message_guard_is_banned (f->guard, kiln_key_get_address (f->peer_key), NULL);
}

/* Unit tests on a moved clock */

static void
test_guard_accepts (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GBytes) payload = offer (f);
  g_autoptr(KilnMessage) message = assert_accepted (f, payload);
  g_autoptr(GBytes) broadcast = make_message (f, f->peer_key, KILN_MESSAGE_TASK_ANNOUNCE, NULL,
                                              100, f->now);
  g_autoptr(KilnMessage) announce = assert_accepted (f, broadcast);

  g_assert_cmpuint (kiln_message_get_message_type (message), ==, KILN_MESSAGE_OFFER);
  g_assert_true (kiln_address_equal (kiln_message_get_author (message),
                                     kiln_key_get_address (f->peer_key)));
  g_assert_null (kiln_message_get_recipient (announce));
  g_assert_cmpuint (peer_score (f), ==, 0);
}

static void
test_guard_replay (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GBytes) payload = offer (f);
  g_autoptr(KilnMessage) first = assert_accepted (f, payload);

  assert_refused (f, payload, KILN_MESSAGE_ERROR_REPLAYED,
                  "The OFFER message with nonce * was received before: a replay");
  g_assert_cmpuint (peer_score (f), ==, 20);

  /* Later on, the same nonce from another link of the same peer is still a replay. */
  f->now += 200 * G_USEC_PER_SEC;
  assert_refused (f, payload, KILN_MESSAGE_ERROR_REPLAYED, NULL);

  /* Once out of the window it stays refused, now for its age: it can never come back. */
  f->now += 101 * G_USEC_PER_SEC;
  assert_refused (f, payload, KILN_MESSAGE_ERROR_CLOCK_SKEW, "*signed 301 seconds ago*");
  f->now += (gint64) 3600 * G_USEC_PER_SEC;
  assert_refused (f, payload, KILN_MESSAGE_ERROR_CLOCK_SKEW, NULL);
}

static void
test_guard_clock_skew (Fixture       *f,
                       gconstpointer  data)
{
  const KilnAddress *local = kiln_key_get_address (f->local_key);
  gint64 s = G_USEC_PER_SEC;
  g_autoptr(GBytes) old = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8,
                                        f->now - 301 * s);
  g_autoptr(GBytes) future = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8,
                                           f->now + 301 * s);
  g_autoptr(GBytes) oldest = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8,
                                           f->now - 300 * s);
  g_autoptr(GBytes) latest = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8,
                                           f->now + 300 * s);
  g_autoptr(GBytes) epoch = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8, 0);
  g_autoptr(KilnMessage) a = NULL;
  g_autoptr(KilnMessage) b = NULL;

  assert_refused (f, old, KILN_MESSAGE_ERROR_CLOCK_SKEW,
                  "The message was signed 301 seconds ago, more than the 300 seconds allowed*");
  assert_refused (f, future, KILN_MESSAGE_ERROR_CLOCK_SKEW,
                  "The message is dated 301 seconds in the future*");
  assert_refused (f, epoch, KILN_MESSAGE_ERROR_CLOCK_SKEW, NULL);
  a = assert_accepted (f, oldest);
  b = assert_accepted (f, latest);
  /* A wrong clock is not misbehaviour. */
  g_assert_cmpuint (peer_score (f), ==, 0);

  {
    g_autoptr(GBytes) eleven = make_message (f, f->peer_key, KILN_MESSAGE_OFFER, local, 8,
                                             f->now - 11 * s);

    kiln_message_guard_set_clock_skew (f->guard, 10);
    assert_refused (f, eleven, KILN_MESSAGE_ERROR_CLOCK_SKEW, "*11 seconds ago*10 seconds*");
  }
}

static void
test_guard_wrong_author (Fixture       *f,
                         gconstpointer  data)
{
  /* The third node's own message, passed on by the peer. */
  g_autoptr(GBytes) relayed = make_message (f, f->third_key, KILN_MESSAGE_ACCEPT,
                                            kiln_key_get_address (f->local_key), 8, f->now);

  assert_refused (f, relayed, KILN_MESSAGE_ERROR_WRONG_AUTHOR,
                  "The peer passed on a ACCEPT message by 0x*; peers may only send their own*");
  g_assert_cmpuint (peer_score (f), ==, 50);
}

static void
test_guard_wrong_recipient (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GBytes) elsewhere = make_message (f, f->peer_key, KILN_MESSAGE_ASSIGN,
                                              kiln_key_get_address (f->third_key), 8, f->now);
  g_autoptr(GBytes) cancel = make_message (f, f->peer_key, KILN_MESSAGE_CANCEL, NULL, 8, f->now);
  g_autoptr(KilnMessage) accepted = NULL;

  assert_refused (f, elsewhere, KILN_MESSAGE_ERROR_WRONG_RECIPIENT,
                  "The ASSIGN message is addressed to 0x*, not to this node");
  g_assert_cmpuint (peer_score (f), ==, 10);
  accepted = assert_accepted (f, cancel);
}

static void
test_guard_newer_peer (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GBytes) random = g_bytes_new_static ("\x00\x02\x00\x00 whatever comes next", 24);

  /* Another major version and an unknown type are refused, without points: a newer peer. */
  assert_refused (f, random, KILN_MESSAGE_ERROR_VERSION, "*protocol 2.0*");
  {
    g_autoptr(KilnMessage) unknown = kiln_message_new (KILN_MESSAGE_PEER_INFO, NULL, NULL);
    g_autoptr(GBytes) encoded = NULL;
    g_autoptr(GByteArray) bytes = g_byte_array_new ();
    g_autoptr(GBytes) altered = NULL;

    /* Signed as type 0x0777: re-sign the altered header with the peer's key. */
    g_assert_true (kiln_message_sign_full (unknown, f->peer_key, f->next_nonce++,
                                           f->now / 1000, NULL));
    encoded = kiln_message_encode (unknown);
    g_byte_array_append (bytes, g_bytes_get_data (encoded, NULL),
                         g_bytes_get_size (encoded) - KILN_SIGNATURE_SIZE);
    bytes->data[4] = 0x07;
    bytes->data[5] = 0x77;
    {
      guint8 prefix_digest[32];
      guint8 signature[KILN_SIGNATURE_SIZE];
      g_autoptr(GByteArray) m = g_byte_array_new ();

      g_byte_array_append (m, (const guint8 *) "\x19" "kiln/message/v1", 16);
      g_byte_array_append (m, bytes->data, bytes->len);
      kiln_keccak256 (m->data, m->len, prefix_digest);
      g_assert_true (kiln_key_sign_digest (f->peer_key, prefix_digest, signature, NULL));
      g_byte_array_append (bytes, signature, sizeof signature);
    }
    altered = g_bytes_new (bytes->data, bytes->len);
    assert_refused (f, altered, KILN_MESSAGE_ERROR_UNKNOWN_TYPE,
                    "Message type 0x0777 (protocol 1.0) is unknown to this version*");
  }
  g_assert_cmpuint (peer_score (f), ==, 0);
}

static void
test_guard_rate_limit (Fixture       *f,
                       gconstpointer  data)
{
  const KilnAddress *local = kiln_key_get_address (f->local_key);

  /* Messages: 10 a second, bursts of 5. */
  kiln_message_guard_set_rate_limit (f->guard, 10, 5, 1024 * 1024, 1024 * 1024);
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GBytes) payload = offer (f);
      g_autoptr(KilnMessage) message = assert_accepted (f, payload);
    }
  {
    g_autoptr(GBytes) payload = offer (f);

    assert_refused (f, payload, KILN_MESSAGE_ERROR_RATE_LIMITED,
                    "The peer sends faster than 10 messages or 1048576 bytes per second allow");
    g_assert_cmpuint (peer_score (f), ==, 1);
  }

  /* A tenth of a second gives one more. */
  f->now += G_USEC_PER_SEC / 10;
  {
    g_autoptr(GBytes) one = offer (f);
    g_autoptr(GBytes) two = offer (f);
    g_autoptr(KilnMessage) message = assert_accepted (f, one);

    assert_refused (f, two, KILN_MESSAGE_ERROR_RATE_LIMITED, NULL);
  }

  /* A long pause refills the bucket to its burst, no further. */
  f->now += 10 * G_USEC_PER_SEC;
  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GBytes) payload = offer (f);
      g_autoptr(KilnMessage) message = assert_accepted (f, payload);
    }
  {
    g_autoptr(GBytes) payload = offer (f);

    assert_refused (f, payload, KILN_MESSAGE_ERROR_RATE_LIMITED, NULL);
  }

  /* Bytes: 256 KiB a second and as burst; a 64 KiB announcement is 65669 bytes. */
  f->now += 10 * G_USEC_PER_SEC;
  kiln_message_guard_set_rate_limit (f->guard, 1000, 1000, 256 * 1024, 256 * 1024);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) payload = make_message (f, f->peer_key, KILN_MESSAGE_TASK_ANNOUNCE,
                                                local, 64 * 1024, f->now);
      g_autoptr(KilnMessage) message = assert_accepted (f, payload);
    }
  {
    g_autoptr(GBytes) payload = make_message (f, f->peer_key, KILN_MESSAGE_TASK_ANNOUNCE,
                                              local, 64 * 1024, f->now);
    g_autoptr(KilnMessage) message = NULL;

    assert_refused (f, payload, KILN_MESSAGE_ERROR_RATE_LIMITED, NULL);
    f->now += G_USEC_PER_SEC / 4;
    message = assert_accepted (f, payload);
  }
}

static void
test_guard_ban (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GBytes) garbage = g_bytes_new_static ("\x00\x01 not a message at all", 23);
  g_autoptr(GPtrArray) bans = NULL;
  KilnMessageBan *ban;
  gint64 until = 0;

  kiln_message_guard_set_ban_policy (f->guard, 100, 60);

  for (guint i = 0; i < 3; i++)
    assert_refused (f, garbage, KILN_MESSAGE_ERROR_MALFORMED, "Not a valid Kiln message: *");
  g_assert_cmpuint (peer_score (f), ==, 75);
  g_assert_false (peer_banned (f));
  g_assert_cmpuint (f->banned->len, ==, 0);

  assert_refused (f, garbage, KILN_MESSAGE_ERROR_MALFORMED, NULL);
  g_assert_true (peer_banned (f));
  g_assert_true (kiln_message_guard_is_banned (f->guard, kiln_key_get_address (f->peer_key),
                                               &until));
  g_assert_cmpint (until, ==, f->now / G_USEC_PER_SEC + 60);
  g_assert_cmpuint (f->banned->len, ==, 1);
  ban = g_ptr_array_index (f->banned, 0);
  g_assert_true (kiln_address_equal (&ban->address, kiln_key_get_address (f->peer_key)));
  g_assert_cmpint (ban->until, ==, until);
  g_assert_true (g_pattern_match_simple ("misbehaviour score reached 100, last: Not a valid*",
                                         ban->reason));
  assert_logged (&f->log, "Banned peer 0x* until *: misbehaviour score reached 100*");
  g_assert_cmpuint (peer_score (f), ==, 0);

  /* Banned: even a perfect message is refused unread, with no further points. */
  {
    g_autoptr(GBytes) payload = offer (f);

    assert_refused (f, payload, KILN_MESSAGE_ERROR_BANNED,
                    "The peer is banned until * UTC: misbehaviour score reached 100*");
  }
  bans = kiln_message_guard_list_bans (f->guard);
  g_assert_cmpuint (bans->len, ==, 1);
  g_clear_pointer (&bans, g_ptr_array_unref);
  /* Other peers are not affected. */
  g_assert_false (kiln_message_guard_is_banned (f->guard, kiln_key_get_address (f->third_key),
                                                NULL));

  /* The ban ends. */
  f->now += 59 * G_USEC_PER_SEC;
  g_assert_true (peer_banned (f));
  f->now += 1 * G_USEC_PER_SEC;
  g_assert_false (peer_banned (f));
  bans = kiln_message_guard_list_bans (f->guard);
  g_assert_cmpuint (bans->len, ==, 0);
  {
    g_autoptr(GBytes) payload = offer (f);
    g_autoptr(KilnMessage) message = assert_accepted (f, payload);
  }
  g_assert_cmpuint (f->banned->len, ==, 1);
}

static void
test_guard_score_decay (Fixture       *f,
                        gconstpointer  data)
{
  const KilnAddress *peer = kiln_key_get_address (f->peer_key);

  kiln_message_guard_penalize (f->guard, peer, 60, "broke a promise");
  g_assert_cmpuint (peer_score (f), ==, 60);

  /* 100 points an hour: half an hour forgives 50. */
  f->now += 1800 * G_USEC_PER_SEC;
  g_assert_cmpuint (peer_score (f), ==, 10);
  kiln_message_guard_penalize (f->guard, peer, 80, "broke another promise");
  g_assert_cmpuint (peer_score (f), ==, 90);
  g_assert_false (peer_banned (f));
  f->now += (gint64) 3600 * G_USEC_PER_SEC;
  g_assert_cmpuint (peer_score (f), ==, 0);

  /* A fault found above this layer can be enough on its own. */
  kiln_message_guard_penalize (f->guard, peer, 100, "sent a result it did not render");
  g_assert_true (peer_banned (f));
  g_assert_cmpuint (f->banned->len, ==, 1);
  g_assert_true (g_pattern_match_simple ("*last: sent a result it did not render",
                                         ((KilnMessageBan *) f->banned->pdata[0])->reason));
}

static void
test_guard_ban_persist (Fixture       *f,
                        gconstpointer  data)
{
  const KilnAddress *peer = kiln_key_get_address (f->peer_key);
  g_autoptr(KilnMessageGuard) restarted = NULL;
  g_autoptr(GPtrArray) saved = NULL;
  g_autoptr(GPtrArray) restored = NULL;

  kiln_message_guard_penalize (f->guard, peer, 100, "flooded with garbage");
  saved = kiln_message_guard_list_bans (f->guard);
  g_assert_cmpuint (saved->len, ==, 1);

  /* As a node would after a restart: the saved bans go into a fresh guard. */
  restarted = kiln_message_guard_new (kiln_key_get_address (f->local_key));
  kiln_message_guard_set_clock (restarted, fixture_clock, f);
  for (guint i = 0; i < saved->len; i++)
    {
      KilnMessageBan *ban = g_ptr_array_index (saved, i);

      kiln_message_guard_ban (restarted, &ban->address, ban->until, ban->reason);
    }
  /* One that has ended already is not taken back. */
  kiln_message_guard_ban (restarted, kiln_key_get_address (f->third_key),
                          f->now / G_USEC_PER_SEC, "old news");

  restored = kiln_message_guard_list_bans (restarted);
  g_assert_cmpuint (restored->len, ==, 1);
  g_assert_true (kiln_address_equal (&((KilnMessageBan *) restored->pdata[0])->address, peer));
  g_assert_cmpint (((KilnMessageBan *) restored->pdata[0])->until, ==,
                   ((KilnMessageBan *) saved->pdata[0])->until);
  g_assert_cmpstr (((KilnMessageBan *) restored->pdata[0])->reason, ==,
                   ((KilnMessageBan *) saved->pdata[0])->reason);

  {
    g_autoptr(GBytes) payload = offer (f);
    g_autoptr(GError) error = NULL;
    g_autoptr(KilnMessage) message = NULL;

    message = kiln_message_guard_check (restarted, peer, payload, &error);
    g_assert_error (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_BANNED);
    g_assert_null (message);
    g_clear_error (&error);

    kiln_message_guard_unban (restarted, peer);
    message = kiln_message_guard_check (restarted, peer, payload, &error);
    g_assert_no_error (error);
    g_assert_nonnull (message);
  }
}

static void
test_guard_bounded_nonces (Fixture       *f,
                           gconstpointer  data)
{
  const KilnAddress *local = kiln_key_get_address (f->local_key);
  g_autoptr(GBytes) one_more = NULL;

  kiln_message_guard_set_rate_limit (f->guard, 1e9, G_MAXUINT, 1e12, G_MAXSIZE);

  /* The peer may have this many messages in the window, no more. */
  for (guint i = 0; i < KILN_MESSAGE_GUARD_MAX_NONCES_PER_PEER; i++)
    {
      g_autoptr(GBytes) payload = make_message (f, f->peer_key, KILN_MESSAGE_ACCEPT, local, 0,
                                                f->now);
      g_autoptr(KilnMessage) message = assert_accepted (f, payload);

      if (i % 1024 == 0)
        f->now += 15 * G_USEC_PER_SEC;
    }
  one_more = make_message (f, f->peer_key, KILN_MESSAGE_ACCEPT, local, 0, f->now);
  assert_refused (f, one_more, KILN_MESSAGE_ERROR_RATE_LIMITED,
                  "Too many recent messages to remember*");
  g_assert_cmpuint (peer_score (f), ==, 0);

  /* Nonces leave the memory with the window; then there is room again. */
  f->now += 301 * G_USEC_PER_SEC;
  {
    g_autoptr(GBytes) later = make_message (f, f->peer_key, KILN_MESSAGE_ACCEPT, local, 0,
                                            f->now);
    g_autoptr(KilnMessage) message = assert_accepted (f, later);
  }
}

static void
test_guard_bounded_peers (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GBytes) payload = offer (f);
  g_autoptr(GBytes) again = NULL;
  g_autoptr(KilnMessage) message = NULL;

  /* Fill the peer table with scores of other addresses. */
  for (guint i = 0; i < KILN_MESSAGE_GUARD_MAX_PEERS; i++)
    {
      KilnAddress address = { { 0 } };

      address.bytes[0] = 0xaa;
      memcpy (address.bytes + 1, &i, sizeof i);
      kiln_message_guard_penalize (f->guard, &address, 1, "test");
    }

  assert_refused (f, payload, KILN_MESSAGE_ERROR_RATE_LIMITED,
                  "This node is keeping state for 4096 peers already*");

  /* Once their scores are forgiven, they are forgotten and the peer gets in. */
  f->now += (gint64) 3600 * G_USEC_PER_SEC;
  again = offer (f);
  message = assert_accepted (f, again);
}

/* Over real links: a hostile peer and an honest one */

typedef struct
{
  KilnTestNode     *node;
  KilnMessageGuard *guard;
  GPtrArray        *accepted;   /* KilnMessage */
  GPtrArray        *refused;    /* GError */
  GPtrArray        *banned;     /* KilnMessageBan */
} Node;

static void
on_node_link (KilnLinkListener *listener,
              KilnLink         *link,
              Node             *n)
{
  kiln_message_guard_attach (n->guard, link);
}

static void
on_node_accepted (KilnMessageGuard *guard,
                  KilnLink         *link,
                  KilnMessage      *message,
                  Node             *n)
{
  g_ptr_array_add (n->accepted, kiln_message_ref (message));
}

static void
on_node_refused (KilnMessageGuard *guard,
                 KilnLink         *link,
                 const GError     *error,
                 Node             *n)
{
  g_ptr_array_add (n->refused, g_error_copy (error));
}

static void
on_node_banned (KilnMessageGuard  *guard,
                const KilnAddress *address,
                gint64             until,
                const char        *reason,
                Node              *n)
{
  KilnMessageBan ban = { *address, until, (char *) reason };

  g_ptr_array_add (n->banned, kiln_message_ban_copy (&ban));
}

typedef struct
{
  GPtrArray *array;
  guint      n;
} Count;

static gboolean
count_reached (gpointer data)
{
  Count *c = data;

  return c->array->len >= c->n;
}

static void
wait_count (GPtrArray *array,
            guint      n)
{
  Count c = { array, n };

  kiln_test_wait_until (count_reached, &c);
}

static void
send_message (KilnLink    *link,
              KilnMessage *message)
{
  g_autoptr(GBytes) encoded = kiln_message_encode (message);

  kiln_test_send (link, KILN_FRAME_MESSAGE, encoded);
}

static KilnMessage *
sign (KilnKey           *key,
      KilnMessageType    type,
      const KilnAddress *to,
      const char        *text)
{
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr(GError) error = NULL;
  KilnMessage *message = kiln_message_new (type, to, body);

  g_assert_true (kiln_message_sign (message, key, &error));
  g_assert_no_error (error);
  return message;
}

/* The honest peer sends a message and it arrives, verified. */
static void
assert_honest_served (Node       *n,
                      KilnLink   *honest,
                      KilnKey    *key,
                      const char *text)
{
  g_autoptr(KilnMessage) message = sign (key, KILN_MESSAGE_RESULT,
                                         kiln_key_get_address (n->node->key), text);
  guint before = n->accepted->len;
  KilnMessage *got;

  g_assert_cmpint (kiln_link_get_state (honest), ==, KILN_LINK_STATE_OPEN);
  send_message (honest, message);
  wait_count (n->accepted, before + 1);
  got = g_ptr_array_index (n->accepted, before);
  g_assert_cmpmem (kiln_message_get_id (got), KILN_MESSAGE_ID_SIZE,
                   kiln_message_get_id (message), KILN_MESSAGE_ID_SIZE);
  g_assert_true (kiln_address_equal (kiln_message_get_author (got), kiln_key_get_address (key)));
}

static KilnLink *
connect_to (Node           *n,
            KilnLinkConfig *config)
{
  g_autoptr(GError) error = NULL;
  guint before = n->node->accepted->len;
  KilnLink *link;

  link = kiln_test_connect (config, "127.0.0.1", n->node->port,
                            kiln_key_get_address (n->node->key), &error);
  g_assert_no_error (error);
  kiln_test_wait_accepted (n->node, before + 1);

  return link;
}

static gboolean
link_is_closed (gpointer data)
{
  return kiln_link_get_state (data) == KILN_LINK_STATE_CLOSED;
}

/* The hostile side's closed link: closed by the node, saying @pattern. */
static void
assert_kicked_out (KilnLink   *link,
                   const char *pattern)
{
  const GError *error;

  kiln_test_wait_until (link_is_closed, link);
  error = kiln_link_get_close_error (link);
  g_assert_true (kiln_link_get_closed_by_peer (link));
  g_assert_error (error, KILN_NET_ERROR, KILN_NET_ERROR_PROTOCOL);
  if (!g_pattern_match_simple (pattern, error->message))
    g_error ("“%s” does not match “%s”", error->message, pattern);
}

static void
oversized_frame_script (KilnTestScript *s)
{
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GBytes) server_hello = NULL;
  KilnTestRawPeer *raw = kiln_test_raw_connect (s->port, TRUE);
  guint8 header[KILN_FRAME_HEADER_SIZE];

  hello = kiln_test_raw_hello (s->key, KILN_NET_ROLE_CLIENT, raw);
  kiln_test_raw_send (raw, KILN_FRAME_HELLO, hello);
  server_hello = kiln_test_raw_expect_hello (raw, s->server);

  /* A message frame over the link's own limit: the link layer ends it. */
  kiln_frame_header_write (header, KILN_FRAME_MESSAGE, KILN_FRAME_MAX_PAYLOAD + 1);
  kiln_test_raw_write (raw, header, sizeof header);
  kiln_test_raw_expect_close (raw, &s->seen);
  kiln_test_raw_free (raw);
}

static void
test_guard_link_hostile_peer (void)
{
  Node n = { 0 };
  LogCapture log;
  g_autoptr(KilnKey) honest_key = NULL;
  g_autoptr(KilnKey) hostile_key = NULL;
  g_autoptr(KilnLinkConfig) honest_config = kiln_test_config_new (&honest_key);
  g_autoptr(KilnLinkConfig) hostile_config = kiln_test_config_new (&hostile_key);
  g_autoptr(KilnLink) honest = NULL;
  g_autoptr(KilnLink) hostile = NULL;
  g_autoptr(KilnLink) hostile2 = NULL;
  g_autoptr(KilnLink) hostile3 = NULL;
  g_autoptr(KilnMessage) valid = NULL;
  g_autoptr(KilnMessage) valid2 = NULL;
  const KilnAddress *node_address;
  const KilnAddress *hostile_address = NULL;
  KilnTestScript s = { 0 };
  g_autofree char *hostile_shown = NULL;
  g_autofree char *pattern = NULL;
  const GError *error;

  log_capture_start (&log);
  n.node = kiln_test_node_new ();
  node_address = kiln_key_get_address (n.node->key);
  n.guard = kiln_message_guard_new (node_address);
  n.accepted = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_unref);
  n.refused = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  n.banned = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_ban_free);
  g_signal_connect (n.node->listener, "link-accepted", G_CALLBACK (on_node_link), &n);
  g_signal_connect (n.guard, "message-accepted", G_CALLBACK (on_node_accepted), &n);
  g_signal_connect (n.guard, "message-refused", G_CALLBACK (on_node_refused), &n);
  g_signal_connect (n.guard, "peer-banned", G_CALLBACK (on_node_banned), &n);

  hostile_address = kiln_key_get_address (hostile_key);
  hostile_shown = kiln_address_to_string (hostile_address);

  honest = connect_to (&n, honest_config);
  assert_honest_served (&n, honest, honest_key, "frame 1");

  /* 1. A valid message, then the same bytes again: the replay is refused, logged, dropped;
   * the link stays. */
  hostile = connect_to (&n, hostile_config);
  valid = sign (hostile_key, KILN_MESSAGE_OFFER, node_address, "offer");
  send_message (hostile, valid);
  send_message (hostile, valid);
  wait_count (n.refused, 1);
  g_assert_error ((GError *) g_ptr_array_index (n.refused, 0), KILN_MESSAGE_ERROR,
                  KILN_MESSAGE_ERROR_REPLAYED);
  pattern = g_strdup_printf ("Refused a message from %s: The OFFER message with nonce * was "
                             "received before: a replay", hostile_shown);
  assert_logged (&log, pattern);
  g_clear_pointer (&pattern, g_free);
  valid2 = sign (hostile_key, KILN_MESSAGE_OFFER, node_address, "offer, honestly");
  send_message (hostile, valid2);
  wait_count (n.accepted, 3);
  g_assert_cmpmem (kiln_message_get_id (g_ptr_array_index (n.accepted, 2)), 32,
                   kiln_message_get_id (valid2), 32);
  g_assert_cmpuint (kiln_message_guard_get_score (n.guard, hostile_address), ==, 20);
  assert_honest_served (&n, honest, honest_key, "frame 2");

  /* 2. A message frame over the message limit (but under the link's): refused, and the node
   * ends the link, saying why. */
  {
    g_autoptr(GBytes) big = g_bytes_new_take (g_malloc0 (300 * 1024), 300 * 1024);

    kiln_test_send (hostile, KILN_FRAME_MESSAGE, big);
    wait_count (n.refused, 2);
    g_assert_error ((GError *) g_ptr_array_index (n.refused, 1), KILN_MESSAGE_ERROR,
                    KILN_MESSAGE_ERROR_TOO_LARGE);
    assert_kicked_out (hostile, "*A message of 307200 bytes is over the limit of 262144 bytes");
    pattern = g_strdup_printf ("Refused a message from %s: A message of 307200 bytes*",
                               hostile_shown);
    assert_logged (&log, pattern);
    g_clear_pointer (&pattern, g_free);
  }
  g_assert_cmpuint (kiln_message_guard_get_score (n.guard, hostile_address), ==, 45);
  assert_honest_served (&n, honest, honest_key, "frame 3");

  /* 3. Random bytes in a MESSAGE frame, on a new link. */
  hostile2 = connect_to (&n, hostile_config);
  {
    guint8 noise[1000];
    g_autoptr(GBytes) payload = NULL;

    for (guint i = 0; i < sizeof noise; i++)
      noise[i] = g_random_int_range (0, 256);
    noise[0] = 0x00;   /* major 1, so that it is garbage rather than another version */
    noise[1] = 0x01;
    payload = g_bytes_new (noise, sizeof noise);
    kiln_test_send (hostile2, KILN_FRAME_MESSAGE, payload);
  }
  wait_count (n.refused, 3);
  error = g_ptr_array_index (n.refused, 2);
  g_assert_true (g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_MALFORMED) ||
                 g_error_matches (error, KILN_MESSAGE_ERROR, KILN_MESSAGE_ERROR_TOO_LARGE));
  assert_kicked_out (hostile2, "*");
  g_assert_cmpuint (kiln_message_guard_get_score (n.guard, hostile_address), ==, 70);
  g_assert_false (kiln_message_guard_is_banned (n.guard, hostile_address, NULL));
  assert_honest_served (&n, honest, honest_key, "frame 4");

  /* 4. A frame over the link's own limit: the link layer ends the link, the guard counts it,
   * and that is enough for a ban. */
  s.port = n.node->port;
  s.key = hostile_key;
  s.server = node_address;
  kiln_test_script_run (oversized_frame_script, &s);
  g_assert_cmpuint (s.seen.reason, ==, KILN_NET_CLOSE_FRAME_TOO_LARGE);
  wait_count (n.banned, 1);
  g_assert_true (kiln_address_equal (&((KilnMessageBan *) n.banned->pdata[0])->address,
                                     hostile_address));
  g_assert_true (kiln_message_guard_is_banned (n.guard, hostile_address, NULL));
  pattern = g_strdup_printf ("Banned peer %s until * UTC: misbehaviour score reached 100*",
                             hostile_shown);
  assert_logged (&log, pattern);
  g_clear_pointer (&pattern, g_free);
  assert_honest_served (&n, honest, honest_key, "frame 5");

  /* 5. Banned: a new link is closed as soon as it opens. */
  hostile3 = connect_to (&n, hostile_config);
  assert_kicked_out (hostile3, "*This node has banned yours until *");

  /* Through all of it the honest peer kept its link. */
  assert_honest_served (&n, honest, honest_key, "frame 6");
  g_assert_cmpuint (kiln_message_guard_get_score (n.guard, kiln_key_get_address (honest_key)),
                    ==, 0);

  kiln_link_close (honest, KILN_NET_CLOSE_NORMAL, NULL);
  kiln_test_wait_until (link_is_closed, honest);
  kiln_test_script_clear (&s);
  g_signal_handlers_disconnect_by_data (n.node->listener, &n);
  kiln_test_node_free (n.node);
  g_signal_handlers_disconnect_by_data (n.guard, &n);
  kiln_test_assert_finalize_soon (n.guard);
  g_ptr_array_unref (n.accepted);
  g_ptr_array_unref (n.refused);
  g_ptr_array_unref (n.banned);
  log_capture_stop (&log);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kiln/message-guard/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("accepts", test_guard_accepts);
  ADD ("replay", test_guard_replay);
  ADD ("clock-skew", test_guard_clock_skew);
  ADD ("wrong-author", test_guard_wrong_author);
  ADD ("wrong-recipient", test_guard_wrong_recipient);
  ADD ("newer-peer", test_guard_newer_peer);
  ADD ("rate-limit", test_guard_rate_limit);
  ADD ("ban", test_guard_ban);
  ADD ("score-decay", test_guard_score_decay);
  ADD ("ban-persist", test_guard_ban_persist);
  ADD ("bounded-nonces", test_guard_bounded_nonces);
  ADD ("bounded-peers", test_guard_bounded_peers);
#undef ADD

  g_test_add_func ("/kiln/message-guard/link/hostile-peer", test_guard_link_hostile_peer);

  return g_test_run ();
}
