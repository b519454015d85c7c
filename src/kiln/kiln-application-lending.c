/* kiln-application-lending.c: the engine's provider, its settings, the market and the tray
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The application owns the lending policy, the idle monitor, the provider and the lender
 * (the provider agent over the session's node, kiln-lender.c) for as long as it runs, with
 * or without a window. The lending-* settings drive the policy; the policy's "enabled" also
 * flows back, so that the tray's Pause and Resume show up in the settings and on the page.
 * While Kiln may run in the background and lends, or shows its tray item, it holds itself,
 * so that closing the window leaves it running.
 */

#include "config.h"

#include "kiln-application-private.h"

/* A --background start waits this long for the tray item to be taken before giving up on
 * having anything to show. */
#define START_HIDDEN_WAIT_SECONDS 15

guint
kiln_application_get_auto_cores (void)
{
  return MAX (g_get_num_processors () / 2, 1);
}

/* --- settings to policy ---------------------------------------------------------------------- */

static gboolean
cores_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  guint cores = g_variant_get_uint32 (variant);

  /* The policy's own 0 means every core: the setting's 0 means half of them. */
  if (cores == 0)
    cores = kiln_application_get_auto_cores ();

  g_value_set_uint (value, MIN (cores, MAX (g_get_num_processors (), 1)));
  return TRUE;
}

static void
kiln_application_sync_min_price (KilnApplication *self)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  if (self->policy == NULL)
    return;

  text = g_settings_get_string (self->settings, "lending-min-price");
  if (!kiln_lending_policy_set_min_price (self->policy, text, &error))
    g_warning ("Keeping the minimum price at %s GNT: the lending-min-price setting “%s” is "
               "not one: %s", kiln_lending_policy_get_min_price (self->policy), text,
               error->message);
}

static void
kiln_application_sync_schedule (KilnApplication *self)
{
  guint days, start, end;

  if (self->policy == NULL)
    return;

  g_settings_get (self->settings, "lending-schedule", "(uuu)", &days, &start, &end);
  if (days > KILN_WEEKDAY_ALL || start >= KILN_MINUTES_PER_DAY || end > KILN_MINUTES_PER_DAY)
    {
      g_warning ("Ignoring the lending-schedule setting (%u, %u, %u): days are a mask up to "
                 "%u and times minutes of the day", days, start, end, KILN_WEEKDAY_ALL);
      return;
    }

  kiln_lending_policy_set_schedule (self->policy, days, start, end);
}

static void
kiln_application_bind_policy (KilnApplication *self)
{
  static const struct {
    const char *key;
    const char *property;
  } plain[] = {
    { "lending-memory-mib", "memory-mb" },
    { "lending-disk-mib", "disk-mb" },
    { "lending-idle-delay", "idle-delay-minutes" },
    { "lending-cpu-threshold", "cpu-threshold-percent" },
    { "lending-on-battery", "lend-on-battery" },
  };

  /* Both ways: the tray switches lending on and off through the policy. */
  g_settings_bind (self->settings, "lending-enabled", self->policy, "enabled",
                   G_SETTINGS_BIND_DEFAULT);

  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    g_settings_bind (self->settings, plain[i].key, self->policy, plain[i].property,
                     G_SETTINGS_BIND_GET);

  g_settings_bind_with_mapping (self->settings, "lending-cores", self->policy, "cores",
                                G_SETTINGS_BIND_GET, cores_get_mapping, NULL, NULL, NULL);

  /* Validated: a price or a schedule the engine cannot use leaves the last good one. */
  g_signal_connect_object (self->settings, "changed::lending-min-price",
                           G_CALLBACK (kiln_application_sync_min_price), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::lending-schedule",
                           G_CALLBACK (kiln_application_sync_schedule), self,
                           G_CONNECT_SWAPPED);
  kiln_application_sync_min_price (self);
  kiln_application_sync_schedule (self);
}

/* --- staying alive without a window ---------------------------------------------------------- */

static void
kiln_application_end_start_hidden (KilnApplication *self)
{
  if (self->start_hidden_id == 0)
    return;

  g_clear_handle_id (&self->start_hidden_id, g_source_remove);
  g_application_release (G_APPLICATION (self));
}

/* Holds the app while it has something to do or show without a window. */
static void
kiln_application_update_hold (KilnApplication *self)
{
  gboolean registered = self->tray != NULL && kiln_tray_get_registered (self->tray);
  gboolean hold;

  if (self->policy == NULL)
    return;

  hold = g_settings_get_boolean (self->settings, "run-in-background") &&
         (kiln_lending_policy_get_enabled (self->policy) || registered);

  if (hold != self->background_held)
    {
      self->background_held = hold;
      g_debug ("%s in the background", hold ? "Staying" : "Not staying");
      if (hold)
        g_application_hold (G_APPLICATION (self));
      else
        g_application_release (G_APPLICATION (self));
    }

  /* A hidden start has waited long enough once the item is on the panel. */
  if (registered)
    kiln_application_end_start_hidden (self);
}

static gboolean
kiln_application_start_hidden_timeout_cb (gpointer user_data)
{
  KilnApplication *self = user_data;

  g_debug ("No tray item after %d s", START_HIDDEN_WAIT_SECONDS);
  self->start_hidden_id = 0;
  g_application_release (G_APPLICATION (self));

  return G_SOURCE_REMOVE;
}

void
_kiln_application_start_hidden (KilnApplication *self)
{
  g_assert (KILN_IS_APPLICATION (self));

  self->start_hidden = TRUE;

  /* Nothing holds the app before the tray item is registered: wait for it a while. */
  if (self->start_hidden_id == 0)
    {
      g_application_hold (G_APPLICATION (self));
      self->start_hidden_id = g_timeout_add_seconds (START_HIDDEN_WAIT_SECONDS,
                                                     kiln_application_start_hidden_timeout_cb,
                                                     self);
    }
  kiln_application_update_hold (self);
}

/* --- the tray ------------------------------------------------------------------------------ */

static void
kiln_application_tray_activate_cb (KilnApplication *self)
{
  g_application_activate (G_APPLICATION (self));
}

static void
kiln_application_tray_quit_cb (KilnApplication *self)
{
  g_application_quit (G_APPLICATION (self));
}

/* --- startup and shutdown ---------------------------------------------------------------- */

void
_kiln_application_lending_startup (KilnApplication *self)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));

  g_assert (KILN_IS_APPLICATION (self));
  g_assert (self->settings != NULL);

  self->policy = kiln_lending_policy_new ();
  kiln_application_bind_policy (self);

  /* The app's own connection to the session bus, where Mutter tells idle times. */
  self->idle_monitor = g_object_new (KILN_TYPE_IDLE_MONITOR,
                                     "policy", self->policy,
                                     "session-bus", bus,
                                     NULL);
  self->provider = kiln_provider_new (self->policy, self->idle_monitor);
  /* Work from the market, while lending is on and the session's node runs. */
  self->lender = kiln_lender_new (self->provider, self->session);

  if (bus != NULL)
    {
      self->tray = kiln_tray_new (bus, self->lender, APP_ID);
      g_signal_connect_object (self->tray, "activate",
                               G_CALLBACK (kiln_application_tray_activate_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->tray, "quit",
                               G_CALLBACK (kiln_application_tray_quit_cb), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (self->tray, "notify::registered",
                               G_CALLBACK (kiln_application_update_hold), self,
                               G_CONNECT_SWAPPED);
    }

  g_signal_connect_object (self->policy, "notify::enabled",
                           G_CALLBACK (kiln_application_update_hold), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->settings, "changed::run-in-background",
                           G_CALLBACK (kiln_application_update_hold), self,
                           G_CONNECT_SWAPPED);
  kiln_application_update_hold (self);
}

void
_kiln_application_lending_shutdown (KilnApplication *self)
{
  g_assert (KILN_IS_APPLICATION (self));

  g_clear_handle_id (&self->start_hidden_id, g_source_remove);
  self->background_held = FALSE;

  /* Disposing the tray takes the item off the panel. */
  if (self->policy != NULL)
    g_signal_handlers_disconnect_by_data (self->policy, self);
  g_clear_object (&self->tray);
  /* Work still running goes back to its requestors while the node is still up. */
  g_clear_object (&self->lender);
  g_clear_object (&self->provider);
  g_clear_object (&self->idle_monitor);
  g_clear_object (&self->policy);
}

KilnProvider *
kiln_application_get_provider (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->provider;
}

KilnLender *
kiln_application_get_lender (KilnApplication *self)
{
  g_return_val_if_fail (KILN_IS_APPLICATION (self), NULL);

  return self->lender;
}
