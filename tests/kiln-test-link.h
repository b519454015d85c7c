/* kiln-test-link.h: listening nodes, links and raw protocol peers for the link tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Raw peers speak the wire protocol with blocking I/O from a thread, built only from the
 * public pieces (kiln-frame.h, kiln-net.h) the way another implementation would be, while
 * the main thread runs the real listener or link on the main loop.
 */
#pragma once

#include "libkiln.h"

G_BEGIN_DECLS

/* Waiting on the main loop: each wait fails the test after 30 s. */
void          kiln_test_wait_until            (gboolean      (*done) (gpointer data),
                                               gpointer        data);
/* For kiln_test_wait_until(): an int set from any thread. */
gboolean      kiln_test_flag_set              (gpointer        data);
void          kiln_test_run_for               (guint           ms);
void          kiln_test_iterate_pending       (void);

KilnLinkConfig *kiln_test_config_new          (KilnKey       **key_out);
/* Binds @listener to 127.0.0.1 on a free port and gives the port. */
guint16       kiln_test_listen_loopback       (GSocketListener *listener);

/* A listener on a loopback address, port chosen by the system, that keeps what it saw. */
typedef struct
{
  KilnKey          *key;
  KilnLinkConfig   *config;
  KilnLinkListener *listener;   /* NULL (and the test skipped) if @host cannot be bound */
  guint16           port;
  GPtrArray        *accepted;   /* KilnLink */
  GPtrArray        *refused;    /* GError */
} KilnTestNode;

KilnTestNode *kiln_test_node_new_on           (const char     *host);
KilnTestNode *kiln_test_node_new              (void);
/* Closes the listener and its links and checks that it is finalized. */
void          kiln_test_node_free             (KilnTestNode   *node);
gboolean      kiln_test_node_has_no_links     (gpointer        node);
gboolean      kiln_test_node_has_one_link     (gpointer        node);
void          kiln_test_wait_accepted         (KilnTestNode   *node,
                                               guint           n);
/* The @n-th refusal's error. */
const GError *kiln_test_wait_refused          (KilnTestNode   *node,
                                               guint           n);
/* The @index-th accepted link, once it is closed. */
KilnLink     *kiln_test_wait_link_closed      (KilnTestNode   *node,
                                               guint           index);
/* Connects a fresh client, exchanges a message both ways and closes again. */
void          kiln_test_assert_node_serves    (KilnTestNode   *node);

typedef struct
{
  gboolean  done;
  KilnLink *link;
  GError   *error;
} KilnTestConnect;

/* For kiln_link_connect_async(), with a KilnTestConnect. */
void          kiln_test_on_connected          (GObject        *object,
                                               GAsyncResult   *result,
                                               gpointer        user_data);
KilnLink     *kiln_test_connect               (KilnLinkConfig *config,
                                               const char     *host,
                                               guint16         port,
                                               const KilnAddress *expected,
                                               GError        **error);

/* What a link delivered, and how it closed. */
typedef struct
{
  GPtrArray *messages;     /* GBytes: the frame type, then the payload */
  gboolean   closed;
  GError    *close_error;
  gboolean   by_peer;
} KilnTestLog;

KilnTestLog  *kiln_test_log_new               (KilnLink       *link);
void          kiln_test_log_free              (KilnTestLog    *log);
gboolean      kiln_test_log_closed            (gpointer        log);
void          kiln_test_wait_messages         (KilnTestLog    *log,
                                               guint           n);
void          kiln_test_assert_message        (KilnTestLog    *log,
                                               guint           index,
                                               guint8          type,
                                               GBytes         *payload);
void          kiln_test_send                  (KilnLink       *link,
                                               guint8          type,
                                               GBytes         *payload);
void          kiln_test_assert_same_address   (const KilnAddress *a,
                                               const KilnAddress *b);

/* Raw peers (call from a script thread). */
typedef struct
{
  GIOStream         *stream;   /* TLS, or plain TCP */
  GSocketConnection *tcp;
  guint8             binding[KILN_NET_CHANNEL_BINDING_SIZE];
} KilnTestRawPeer;

typedef struct
{
  guint  reason;
  char  *text;
  guint  pings;
} KilnTestCloseSeen;

/* To 127.0.0.1:@port, with a TLS 1.3 client handshake if @tls. */
KilnTestRawPeer *kiln_test_raw_connect        (guint16          port,
                                               gboolean         tls);
/* Accepts one connection and runs the TLS server handshake. */
KilnTestRawPeer *kiln_test_raw_accept         (GSocketListener *listener);
void          kiln_test_raw_free              (KilnTestRawPeer *raw);
void          kiln_test_raw_write             (KilnTestRawPeer *raw,
                                               const guint8    *data,
                                               gsize            len);
void          kiln_test_raw_send              (KilnTestRawPeer *raw,
                                               guint8           type,
                                               GBytes          *payload);
/* The next frame's payload, or NULL at the end of the stream. */
GBytes       *kiln_test_raw_read              (KilnTestRawPeer *raw,
                                               guint8          *type);
/* An honest HELLO for this connection. */
GBytes       *kiln_test_raw_hello             (KilnKey         *key,
                                               KilnNetRole      role,
                                               KilnTestRawPeer *raw);
/* Reads the server's HELLO and checks its proof; gives its bytes. */
GBytes       *kiln_test_raw_expect_hello      (KilnTestRawPeer   *raw,
                                               const KilnAddress *server);
/* Reads (counting pings, answering none) up to a CLOSE, then to the end of the stream. */
void          kiln_test_raw_expect_close      (KilnTestRawPeer   *raw,
                                               KilnTestCloseSeen *seen);

/* A raw peer's script and what it found. */
typedef struct _KilnTestScript KilnTestScript;

struct _KilnTestScript
{
  void              (*func) (KilnTestScript *s);
  int                 done;
  guint16             port;
  KilnKey            *key;
  KilnKey            *other_key;
  const KilnAddress  *server;
  GSocketListener    *listener;
  KilnTestCloseSeen   seen;
  KilnTestCloseSeen   seen2;
  gint64              elapsed_us;
  gint64              elapsed2_us;
};

GThread      *kiln_test_script_start          (void          (*func) (KilnTestScript *s),
                                               KilnTestScript *s);
void          kiln_test_script_finish         (GThread        *thread,
                                               KilnTestScript *s);
/* Runs @func in a thread while the main loop serves the node under test. */
void          kiln_test_script_run            (void          (*func) (KilnTestScript *s),
                                               KilnTestScript *s);
void          kiln_test_script_clear          (KilnTestScript *s);

G_END_DECLS
