/* kiln-dht.c: discovery over OpenDHT: node records, topics, LAN peers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include "kiln-dht-private.h"

/* Threads
 *
 * OpenDHT runs its own threads and calls back on them. Each callback copies what it got and
 * queues it, as an idle source, on the main context captured by kiln_dht_start(); there the
 * operation's state decides whether it is still wanted. (g_main_context_invoke_full() is not
 * used: when the target is the global default context and nobody iterates it at that moment,
 * it would run the function on OpenDHT's thread.)
 *
 * An operation (Op) is reference counted. OpenDHT holds one reference from the moment it is
 * given the pointer until its last callback for it: the done callback of a get or put, or for
 * a listen the "shutdown" callback, which OpenDHT calls when it destroys the listen's function.
 * Those references are also recorded in Core.native, under a mutex, so that kiln_dht_stop(),
 * after dht_runner_delete() has joined OpenDHT's threads, can drop the ones OpenDHT never
 * released (operations still queued when it stopped). Everything else about an Op is touched
 * on the main context only, and a finished Op ignores whatever events are still queued. */

struct _KilnDhtCore
{
  gatomicrefcount  ref;
  GMainContext    *context;
  GMutex           mutex;
  GHashTable      *native;       /* Op → Op, each holding one reference */
};

typedef KilnDhtCore Core;

typedef enum { OP_PUT, OP_GET, OP_LISTEN } OpKind;
typedef enum { EVENT_VALUE, EVENT_DONE, EVENT_CANCELLED } EventKind;

typedef struct
{
  gatomicrefcount   ref;
  Core             *core;
  OpKind            kind;
  guint             id;
  dht_infohash      key;
  GCancellable     *cancellable;
  /* Main context only: */
  KilnDht          *dht;          /* valid until finished */
  gboolean          finished;
  gulong            cancelled_id;
  GTask            *task;
  GPtrArray        *values;
  dht_op_token     *token;
  KilnDhtValueFunc  func;
  gpointer          user_data;
  GDestroyNotify    destroy;
} Op;

typedef struct
{
  Op        *op;
  EventKind  kind;
  GBytes    *bytes;
  gboolean   flag;         /* expired for values, ok for done */
} Event;

G_DEFINE_FINAL_TYPE (KilnDht, kiln_dht, G_TYPE_OBJECT)

enum { PROP_0, PROP_NETWORK_ID, N_PROPS };
static GParamSpec *properties[N_PROPS];

enum { NODE_FOUND, N_SIGNALS };
static guint signals[N_SIGNALS];


/* Core and operations */

static Core *
core_new (void)
{
  Core *core = g_new0 (Core, 1);

  g_atomic_ref_count_init (&core->ref);
  core->context = g_main_context_ref_thread_default ();
  g_mutex_init (&core->mutex);
  core->native = g_hash_table_new (NULL, NULL);
  return core;
}

static void
core_unref (Core *core)
{
  if (!g_atomic_ref_count_dec (&core->ref))
    return;

  g_assert (g_hash_table_size (core->native) == 0);
  g_hash_table_unref (core->native);
  g_mutex_clear (&core->mutex);
  g_main_context_unref (core->context);
  g_free (core);
}

static Op *
op_ref (Op *op)
{
  g_atomic_ref_count_inc (&op->ref);
  return op;
}

static void
op_unref (gpointer data)
{
  Op *op = data;

  if (!g_atomic_ref_count_dec (&op->ref))
    return;

  g_assert (op->task == NULL);
  g_clear_pointer (&op->values, g_ptr_array_unref);
  g_clear_object (&op->cancellable);
  core_unref (op->core);
  g_free (op);
}

/* Gives OpenDHT its reference; any thread. */
static Op *
op_native_hold (Op *op)
{
  g_mutex_lock (&op->core->mutex);
  g_hash_table_add (op->core->native, op_ref (op));
  g_mutex_unlock (&op->core->mutex);
  return op;
}

/* OpenDHT's last callback for @op; any thread. */
static void
op_native_release (Op *op)
{
  gboolean held;

  g_mutex_lock (&op->core->mutex);
  held = g_hash_table_remove (op->core->native, op);
  g_mutex_unlock (&op->core->mutex);
  if (held)
    op_unref (op);
}

static void
event_free (gpointer data)
{
  Event *event = data;

  g_clear_pointer (&event->bytes, g_bytes_unref);
  op_unref (event->op);
  g_free (event);
}

static gboolean dispatch_event (gpointer data);

/* Any thread. */
static void
op_post (Op        *op,
         EventKind  kind,
         GBytes    *bytes,
         gboolean   flag)
{
  g_autoptr(GSource) source = g_idle_source_new ();
  Event *event = g_new0 (Event, 1);

  event->op = op_ref (op);
  event->kind = kind;
  event->bytes = bytes;
  event->flag = flag;
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[kiln] dht event");
  g_source_set_callback (source, dispatch_event, event, event_free);
  g_source_attach (source, op->core->context);
}

static GBytes *
value_bytes (const dht_value *value)
{
  dht_data_view view = dht_value_get_data (value);

  return g_bytes_new (view.data, view.size);
}

static bool
on_native_get_value (const dht_value *value,
                     void            *user_data)
{
  op_post (user_data, EVENT_VALUE, value_bytes (value), FALSE);
  return true;
}

static void
on_native_done (bool  ok,
                void *user_data)
{
  op_post (user_data, EVENT_DONE, NULL, ok);
  op_native_release (user_data);
}

static bool
on_native_listen_value (const dht_value *value,
                        bool             expired,
                        void            *user_data)
{
  op_post (user_data, EVENT_VALUE, value_bytes (value), expired);
  return true;
}

static void
on_native_listen_gone (void *user_data)
{
  op_native_release (user_data);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  op_post (user_data, EVENT_CANCELLED, NULL, FALSE);
}

static Op *
op_new (KilnDht      *self,
        OpKind        kind,
        const guint8  key[KILN_DHT_KEY_SIZE],
        GCancellable *cancellable)
{
  Op *op = g_new0 (Op, 1);

  g_atomic_ref_count_init (&op->ref);
  g_atomic_ref_count_inc (&self->core->ref);
  op->core = self->core;
  op->kind = kind;
  op->id = ++self->last_op_id;
  memcpy (op->key.d, key, KILN_DHT_KEY_SIZE);
  op->dht = self;
  g_hash_table_insert (self->ops, GUINT_TO_POINTER (op->id), op);
  if (cancellable != NULL)
    {
      op->cancellable = g_object_ref (cancellable);
      op->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                op_ref (op), op_unref);
    }
  return op;
}

/* Main context: no more callbacks for @op. May drop the last main-side reference. */
static void
op_finish (Op *op)
{
  KilnDht *self = op->dht;

  if (op->finished)
    return;
  op->finished = TRUE;

  if (op->token != NULL)
    {
      if (self->runner != NULL)
        dht_runner_cancel_listen (self->runner, &op->key, op->token);
      g_clear_pointer (&op->token, dht_op_token_delete);
    }
  if (op->cancelled_id != 0)
    g_cancellable_disconnect (op->cancellable, op->cancelled_id);
  op->cancelled_id = 0;
  if (op->destroy != NULL)
    op->destroy (op->user_data);
  op->destroy = NULL;
  op->func = NULL;
  op->dht = NULL;
  g_hash_table_remove (self->ops, GUINT_TO_POINTER (op->id));
}

/* Main context: ends a get or put, with its result or @error (taken). */
static void
op_complete (Op     *op,
             GError *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&op->task);
  g_autoptr(GPtrArray) values = g_steal_pointer (&op->values);

  op_finish (op);
  if (error != NULL)
    g_task_return_error (task, error);
  else if (values != NULL)
    g_task_return_pointer (task, g_steal_pointer (&values), (GDestroyNotify) g_ptr_array_unref);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
dispatch_event (gpointer data)
{
  Event *event = data;
  Op *op = event->op;

  if (op->finished)
    return G_SOURCE_REMOVE;

  if (event->kind == EVENT_CANCELLED)
    {
      if (op->task != NULL)
        op_complete (op, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                              _("The operation was cancelled")));
      else
        op_finish (op);
    }
  else if (op->kind == OP_LISTEN && event->kind == EVENT_VALUE)
    {
      op->func (op->dht, event->bytes, event->flag, op->user_data);
    }
  else if (op->kind == OP_GET && event->kind == EVENT_VALUE)
    {
      g_ptr_array_add (op->values, g_bytes_ref (event->bytes));
    }
  else if (event->kind == EVENT_DONE && op->kind == OP_PUT && !event->flag)
    {
      op_complete (op, g_error_new_literal (KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED,
                                            _("No node of the discovery network accepted "
                                              "the value; check the network connection")));
    }
  else if (event->kind == EVENT_DONE)
    {
      op_complete (op, NULL);
    }

  return G_SOURCE_REMOVE;
}

/* GObject */

static void
kiln_dht_dispose (GObject *object)
{
  KilnDht *self = KILN_DHT (object);

  kiln_dht_stop (self);
  g_clear_object (&self->announce_key);

  G_OBJECT_CLASS (kiln_dht_parent_class)->dispose (object);
}

static void
kiln_dht_finalize (GObject *object)
{
  KilnDht *self = KILN_DHT (object);

  g_clear_pointer (&self->announce_info, kiln_dht_node_info_free);
  g_clear_pointer (&self->ops, g_hash_table_unref);
  g_clear_pointer (&self->nodes, g_hash_table_unref);

  G_OBJECT_CLASS (kiln_dht_parent_class)->finalize (object);
}

static void
kiln_dht_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  KilnDht *self = KILN_DHT (object);

  switch (prop_id)
    {
    case PROP_NETWORK_ID:
      g_value_set_uint (value, self->network_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_dht_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  KilnDht *self = KILN_DHT (object);

  switch (prop_id)
    {
    case PROP_NETWORK_ID:
      self->network_id = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_dht_class_init (KilnDhtClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_dht_dispose;
  object_class->finalize = kiln_dht_finalize;
  object_class->get_property = kiln_dht_get_property;
  object_class->set_property = kiln_dht_set_property;

  properties[PROP_NETWORK_ID] =
    g_param_spec_uint ("network-id", NULL, NULL, 0, G_MAXUINT32, KILN_DHT_NETWORK_DEFAULT,
                       G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* A node record that verified: (KilnDhtRecord, KilnDhtNodeInfo). */
  signals[NODE_FOUND] =
    g_signal_new ("node-found", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2,
                  KILN_TYPE_DHT_RECORD | G_SIGNAL_TYPE_STATIC_SCOPE,
                  KILN_TYPE_DHT_NODE_INFO | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
kiln_dht_init (KilnDht *self)
{
  self->ops = g_hash_table_new_full (NULL, NULL, NULL, op_unref);
  self->nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       kiln_dht_node_entry_free);
}

KilnDht *
kiln_dht_new (guint32 network_id)
{
  return g_object_new (KILN_TYPE_DHT, "network-id", network_id, NULL);
}

guint32
kiln_dht_get_network_id (KilnDht *self)
{
  g_return_val_if_fail (KILN_IS_DHT (self), 0);

  return self->network_id;
}

/* Running */

gboolean
kiln_dht_start (KilnDht             *self,
                guint16              port,
                const char * const  *bootstrap,
                gboolean             lan,
                GError             **error)
{
  dht_runner_config config;
  int rc;

  g_return_val_if_fail (KILN_IS_DHT (self), FALSE);
  g_return_val_if_fail (self->runner == NULL, FALSE);

  dht_runner_config_default (&config);
  config.dht_config.node_config.network = self->network_id;
  config.threaded = true;
  config.peer_discovery = lan;
  config.peer_publish = lan;
  config.log = false;

  self->runner = dht_runner_new ();
  rc = dht_runner_run_config (self->runner, port, &config);
  if (rc != 0)
    {
      g_clear_pointer (&self->runner, dht_runner_delete);
      g_set_error (error, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED,
                   _("Could not start discovery on UDP port %u (error %d); is another "
                     "program using that port?"), port, rc);
      return FALSE;
    }

  self->core = core_new ();
  self->context = self->core->context;
  self->port = dht_runner_get_bound_port (self->runner, AF_INET);
  if (self->port == 0)
    self->port = dht_runner_get_bound_port (self->runner, AF_INET6);
  g_debug ("Discovery: DHT node on UDP port %u, network %08x%s", self->port,
           self->network_id, lan ? ", LAN discovery on" : "");

  for (guint i = 0; bootstrap != NULL && bootstrap[i] != NULL; i++)
    {
      if (!kiln_dht_bootstrap (self, bootstrap[i], error))
        {
          kiln_dht_stop (self);
          return FALSE;
        }
    }

  return TRUE;
}

gboolean
kiln_dht_is_running (KilnDht *self)
{
  g_return_val_if_fail (KILN_IS_DHT (self), FALSE);

  return self->runner != NULL;
}

guint16
kiln_dht_get_port (KilnDht *self)
{
  g_return_val_if_fail (KILN_IS_DHT (self), 0);

  return self->port;
}

static void
on_bootstrap_ping (bool  ok,
                   void *user_data)
{
  /* Nothing to do: a node that answers joins the routing table. */
}

static void
ping_address (KilnDht      *self,
              GInetAddress *inet,
              guint16       port)
{
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (inet, port);
  struct sockaddr_storage native;
  gssize len = g_socket_address_get_native_size (address);

  if (self->runner == NULL || len <= 0 || (gsize) len > sizeof native ||
      !g_socket_address_to_native (address, &native, sizeof native, NULL))
    return;
  dht_runner_ping (self->runner, (struct sockaddr *) &native, (socklen_t) len,
                   on_bootstrap_ping, NULL);
}

typedef struct
{
  KilnDht *self;
  guint16  port;
} BootstrapLookup;

static void
on_bootstrap_resolved (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  BootstrapLookup *lookup = user_data;
  g_autoptr(GError) error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);

  if (addresses == NULL)
    g_debug ("Discovery: a bootstrap node's name did not resolve: %s", error->message);
  for (GList *l = addresses; l != NULL; l = l->next)
    ping_address (lookup->self, l->data, lookup->port);
  g_resolver_free_addresses (addresses);
  g_object_unref (lookup->self);
  g_free (lookup);
}

gboolean
kiln_dht_bootstrap (KilnDht     *self,
                    const char  *host_and_port,
                    GError     **error)
{
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *service = NULL;
  GNetworkAddress *net_address;

  g_return_val_if_fail (KILN_IS_DHT (self), FALSE);
  g_return_val_if_fail (host_and_port != NULL, FALSE);
  g_return_val_if_fail (self->runner != NULL, FALSE);

  address = g_network_address_parse (host_and_port, 0, &local_error);
  net_address = G_IS_NETWORK_ADDRESS (address) ? G_NETWORK_ADDRESS (address) : NULL;
  if (net_address == NULL || g_network_address_get_port (net_address) == 0)
    return (g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         _("“%s” is not a bootstrap node address; write HOST:PORT"),
                         host_and_port), FALSE);

  service = g_strdup_printf ("%u", g_network_address_get_port (net_address));
  dht_runner_bootstrap (self->runner, g_network_address_get_hostname (net_address), service);

  /* OpenDHT's bootstrap list is tried from the first node and left once one answers, so
   * with two bootstrap nodes on two networks that do not know each other the second would
   * often never be reached: each one is also pinged, which puts it in the routing table. */
  {
    const char *host = g_network_address_get_hostname (net_address);
    guint16 port = g_network_address_get_port (net_address);
    g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (host);

    if (inet != NULL)
      ping_address (self, inet, port);
    else
      {
        g_autoptr(GResolver) resolver = g_resolver_get_default ();
        BootstrapLookup *lookup = g_new0 (BootstrapLookup, 1);

        lookup->self = g_object_ref (self);
        lookup->port = port;
        g_resolver_lookup_by_name_async (resolver, host, NULL, on_bootstrap_resolved, lookup);
      }
  }
  return TRUE;
}

void
kiln_dht_stop (KilnDht *self)
{
  g_autoptr(GList) ops = NULL;
  g_autoptr(GList) leftovers = NULL;

  g_return_if_fail (KILN_IS_DHT (self));

  if (self->runner == NULL)
    return;

  if (self->republish != NULL)
    g_source_destroy (self->republish);
  g_clear_pointer (&self->republish, g_source_unref);
  if (self->retry != NULL)
    g_source_destroy (self->retry);
  g_clear_pointer (&self->retry, g_source_unref);

  ops = g_hash_table_get_values (self->ops);
  g_list_foreach (ops, (GFunc) op_ref, NULL);
  for (GList *l = ops; l != NULL; l = l->next)
    {
      Op *op = l->data;

      if (op->task != NULL)
        op_complete (op, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                              _("Discovery was stopped")));
      else
        op_finish (op);
      op_unref (op);
    }

  /* Joins OpenDHT's threads: no callback runs after this. */
  g_clear_pointer (&self->runner, dht_runner_delete);

  g_mutex_lock (&self->core->mutex);
  leftovers = g_hash_table_get_keys (self->core->native);
  g_hash_table_steal_all (self->core->native);
  g_mutex_unlock (&self->core->mutex);
  g_list_foreach (leftovers, (GFunc) op_unref, NULL);

  g_clear_pointer (&self->core, core_unref);
  self->context = NULL;
  self->port = 0;
  self->watched_roles = 0;
}

/* Raw values */

static gboolean
check_running (KilnDht  *self,
               GTask    *task)
{
  if (self->runner != NULL)
    return TRUE;
  g_task_return_new_error (task, KILN_DHT_ERROR, KILN_DHT_ERROR_FAILED,
                           _("Discovery is not running"));
  return FALSE;
}

void
kiln_dht_put_async (KilnDht             *self,
                    const guint8         key[KILN_DHT_KEY_SIZE],
                    GBytes              *value,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  dht_value *native_value;
  gsize size;
  gconstpointer data;
  Op *op;

  g_return_if_fail (KILN_IS_DHT (self));
  g_return_if_fail (key != NULL && value != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_dht_put_async);
  if (!check_running (self, task))
    return;

  op = op_new (self, OP_PUT, key, cancellable);
  op->task = g_steal_pointer (&task);
  data = g_bytes_get_data (value, &size);
  native_value = dht_value_new (data, size);
  dht_runner_put (self->runner, &op->key, native_value, on_native_done, op_native_hold (op),
                  false);
  dht_value_unref (native_value);
}

gboolean
kiln_dht_put_finish (KilnDht       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
kiln_dht_get_async (KilnDht             *self,
                    const guint8         key[KILN_DHT_KEY_SIZE],
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Op *op;

  g_return_if_fail (KILN_IS_DHT (self));
  g_return_if_fail (key != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_dht_get_async);
  if (!check_running (self, task))
    return;

  op = op_new (self, OP_GET, key, cancellable);
  op->task = g_steal_pointer (&task);
  op->values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  dht_runner_get (self->runner, &op->key, on_native_get_value, on_native_done,
                  op_native_hold (op));
}

GPtrArray *
kiln_dht_get_finish (KilnDht       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

guint
kiln_dht_listen (KilnDht          *self,
                 const guint8      key[KILN_DHT_KEY_SIZE],
                 GCancellable     *cancellable,
                 KilnDhtValueFunc  func,
                 gpointer          user_data,
                 GDestroyNotify    destroy)
{
  Op *op;

  g_return_val_if_fail (KILN_IS_DHT (self), 0);
  g_return_val_if_fail (key != NULL && func != NULL, 0);

  if (self->runner == NULL)
    {
      if (destroy != NULL)
        destroy (user_data);
      return 0;
    }

  op = op_new (self, OP_LISTEN, key, cancellable);
  op->func = func;
  op->user_data = user_data;
  op->destroy = destroy;
  op->token = dht_runner_listen (self->runner, &op->key, on_native_listen_value,
                                 on_native_listen_gone, op_native_hold (op));
  return op->id;
}

void
kiln_dht_unlisten (KilnDht *self,
                   guint    listen_id)
{
  Op *op;

  g_return_if_fail (KILN_IS_DHT (self));

  op = g_hash_table_lookup (self->ops, GUINT_TO_POINTER (listen_id));
  if (op != NULL && op->kind == OP_LISTEN)
    op_finish (op);
}

void
kiln_dht_emit_node_found (KilnDht          *self,
                          KilnDhtNodeEntry *entry)
{
  g_signal_emit (self, signals[NODE_FOUND], 0, entry->record, entry->info);
}
