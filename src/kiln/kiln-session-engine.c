/* kiln-session-engine.c: the node on the Kiln network, for the account in use
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The node (KilnEngine) needs the account and the database: it is made once both are there,
 * made again when either changes, and started again when the network settings change. The
 * command line may take the place of the bootstrap and listen-port settings for a run.
 */

#include "config.h"

#include "kiln-session-private.h"

static void
kiln_session_set_engine_error (KilnSession  *self,
                               const GError *error)
{
  if (self->engine_error == NULL && error == NULL)
    return;

  g_clear_error (&self->engine_error);
  if (error != NULL)
    self->engine_error = g_error_copy (error);
  _kiln_session_notify (self, PROP_ENGINE_ERROR);
}

/* Reads the bootstrap nodes from the settings, or takes the command line's. */
void
_kiln_session_update_bootstrap (KilnSession *self)
{
  g_clear_pointer (&self->bootstrap, g_strfreev);

  if (self->bootstrap_override != NULL)
    self->bootstrap = g_strdupv (self->bootstrap_override);
  else
    self->bootstrap = g_settings_get_strv (self->settings, "network-bootstrap");
}

/* Starts the node with the network settings, stopping it first if it runs. */
void
_kiln_session_start_engine (KilnSession *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *listen_address = NULL;
  gboolean lan;

  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  if (self->engine == NULL)
    return;

  /* Peers are told goodbye; the ports are free again once this returns. */
  kiln_engine_stop (self->engine);

  _kiln_session_update_bootstrap (self);
  lan = g_settings_get_boolean (self->settings, "network-lan");

  /* An empty address: every interface, both families. */
  listen_address = g_settings_get_string (self->settings, "network-listen-address");
  if (!kiln_engine_start (self->engine, *listen_address != '\0' ? listen_address : NULL,
                          kiln_session_get_listen_port (self),
                          (const char * const *) self->bootstrap, lan, &error))
    {
      g_debug ("Could not start the node: %s", error->message);
      kiln_session_set_engine_error (self, error);
      return;
    }

  kiln_session_set_engine_error (self, NULL);
}

static gboolean
kiln_session_engine_timeout_cb (gpointer user_data)
{
  KilnSession *self = user_data;

  self->engine_source = 0;
  _kiln_session_start_engine (self);

  return G_SOURCE_REMOVE;
}

void
_kiln_session_network_setting_changed_cb (KilnSession *self,
                                          const char  *key,
                                          GSettings   *settings)
{
  /* What the person chooses now wins over the command line. */
  if (g_str_equal (key, "network-bootstrap"))
    {
      g_clear_pointer (&self->bootstrap_override, g_strfreev);
      _kiln_session_update_bootstrap (self);
    }
  else if (g_str_equal (key, "network-listen-port"))
    self->listen_port_override = -1;

  if (self->engine == NULL)
    return;

  g_clear_handle_id (&self->engine_source, g_source_remove);
  self->engine_source = g_timeout_add (KILN_SESSION_REBUILD_DELAY_MS,
                                       kiln_session_engine_timeout_cb, self);
}

void
_kiln_session_drop_engine (KilnSession *self)
{
  g_assert (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  if (self->engine == NULL)
    return;

  /* The jobs stop first: peers saying goodbye are not providers failing their work. */
  _kiln_session_drop_jobs (self);
  kiln_engine_stop (self->engine);
  g_clear_object (&self->engine);
  _kiln_session_notify (self, PROP_ENGINE);
}

/* Makes the node again for the account and the database there are now, and starts it. */
void
_kiln_session_build_engine (KilnSession *self)
{
  g_autoptr(KilnEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir = NULL;

  g_assert (KILN_IS_SESSION (self));

  _kiln_session_drop_engine (self);

  if (self->key == NULL || self->store == NULL)
    {
      /* A database that cannot be opened is why there is no node. */
      kiln_session_set_engine_error (self, self->key != NULL ? self->store_error : NULL);
      return;
    }

  data_dir = _kiln_session_dup_data_dir (self);
  engine = kiln_engine_new (self->key, self->store, data_dir, &error);
  if (engine == NULL)
    {
      g_debug ("Could not prepare the node: %s", error->message);
      kiln_session_set_engine_error (self, error);
      return;
    }

  kiln_engine_set_roles (engine, KILN_DHT_ROLE_REQUESTOR);
  self->engine = g_steal_pointer (&engine);
  _kiln_session_notify (self, PROP_ENGINE);

  _kiln_session_start_engine (self);
  _kiln_session_reload_jobs (self);
}

typedef struct
{
  gboolean done;
} StopWait;

static void
kiln_session_engine_stopped_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  StopWait *wait = user_data;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, NULL);
  wait->done = TRUE;
  g_rc_box_release (wait);
}

static gboolean
kiln_session_stop_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;

  return G_SOURCE_REMOVE;
}

/**
 * kiln_session_shutdown:
 * @self: a #KilnSession
 *
 * Stops the node and waits for its links to close cleanly, running the thread-default main
 * context meanwhile, for at most the links' handshake timeout (and a second more). The app
 * calls this on shutdown, after its main loop has returned.
 */
void
kiln_session_shutdown (KilnSession *self)
{
  g_autoptr(KilnEngine) engine = NULL;
  GMainContext *context = g_main_context_get_thread_default ();
  StopWait *wait;
  gboolean timed_out = FALSE;
  guint timeout_ms;
  guint timeout_id;

  g_return_if_fail (KILN_IS_SESSION (self));

  g_clear_handle_id (&self->engine_source, g_source_remove);

  /* Jobs still under way go on where they stopped when the app starts again. */
  _kiln_session_drop_jobs (self);

  if (self->engine == NULL || kiln_engine_get_state (self->engine) == KILN_ENGINE_STATE_STOPPED)
    return;

  engine = g_object_ref (self->engine);
  timeout_ms = kiln_link_config_get_handshake_timeout (kiln_engine_get_link_config (engine)) +
               1000;

  wait = g_rc_box_new0 (StopWait);
  kiln_engine_stop_async (engine, NULL, kiln_session_engine_stopped_cb, g_rc_box_acquire (wait));
  timeout_id = g_timeout_add (timeout_ms, kiln_session_stop_timeout_cb, &timed_out);

  while (!wait->done && !timed_out)
    g_main_context_iteration (context, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);
  else
    g_debug ("The node's peers did not answer its goodbye in time");

  /* Closes what is left at once, and lets the last writes go out. */
  kiln_engine_stop (engine);
  while (g_main_context_iteration (context, FALSE))
    ;

  g_rc_box_release (wait);
}

KilnEngine *
kiln_session_get_engine (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->engine;
}

const GError *
kiln_session_get_engine_error (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  return self->engine_error;
}

guint16
kiln_session_get_listen_port (KilnSession *self)
{
  guint16 port;

  g_return_val_if_fail (KILN_IS_SESSION (self), 0);

  if (self->listen_port_override >= 0)
    return self->listen_port_override;

  g_settings_get (self->settings, "network-listen-port", "q", &port);

  return port;
}

const char * const *
kiln_session_get_bootstrap (KilnSession *self)
{
  g_return_val_if_fail (KILN_IS_SESSION (self), NULL);

  if (self->bootstrap == NULL)
    _kiln_session_update_bootstrap (self);

  return (const char * const *) self->bootstrap;
}

void
kiln_session_override_network (KilnSession        *self,
                               const char * const *bootstrap,
                               int                 listen_port)
{
  g_return_if_fail (KILN_IS_SESSION (self));
  g_return_if_fail (listen_port <= G_MAXUINT16);

  if (bootstrap != NULL)
    {
      g_strfreev (self->bootstrap_override);
      self->bootstrap_override = g_strdupv ((char **) bootstrap);
    }
  if (listen_port >= 0)
    self->listen_port_override = listen_port;

  _kiln_session_update_bootstrap (self);
  if (self->engine != NULL)
    _kiln_session_start_engine (self);
}

/**
 * kiln_session_restart_engine:
 * @self: a #KilnSession
 *
 * Starts the node again; when the database is why there is none, opens it again first.
 */
void
kiln_session_restart_engine (KilnSession *self)
{
  g_return_if_fail (KILN_IS_SESSION (self));

  if (self->store_error != NULL)
    {
      _kiln_session_open_store (self);
      return;
    }

  if (self->engine == NULL)
    _kiln_session_build_engine (self);
  else
    _kiln_session_start_engine (self);
}
