/* kiln-provider.c: lending the computer's idle time to running renders
 *
 * Pausing must reach Blender itself: bubblewrap's --new-session puts everything
 * inside the sandbox into a session (and process group) of its own, so signalling
 * the sandbox's process group alone would stop only bubblewrap. Every process
 * descending from the sandbox's first process is signalled instead, found in /proc.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <glib/gi18n-lib.h>

#include "kiln-provider.h"
#include "kiln-provider-private.h"

/* Process trees --------------------------------------------------------------------------- */

/* The fields after the command name in /proc/PID/stat ("state ppid …"). */
static char *
read_stat_fields (GPid pid)
{
  char path[64];
  g_autofree char *contents = NULL;
  const char *end;

  g_snprintf (path, sizeof path, "/proc/%d/stat", (int) pid);
  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return NULL;
  end = strrchr (contents, ')');
  return end != NULL && end[1] == ' ' ? g_strdup (end + 2) : NULL;
}

GArray *
kiln_process_tree_list (GPid leader)
{
  g_autoptr(GHashTable) children = g_hash_table_new_full (NULL, NULL, NULL,
                                                          (GDestroyNotify) g_array_unref);
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  GArray *tree = g_array_new (FALSE, FALSE, sizeof (GPid));
  const char *name;

  if (leader <= 0 || kill (leader, 0) != 0 || proc == NULL)
    return tree;

  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *fields = NULL;
      GPid pid, ppid;
      GArray *list;

      if (!g_ascii_isdigit (name[0]))
        continue;
      pid = (GPid) atoi (name);
      fields = read_stat_fields (pid);
      if (fields == NULL || fields[0] == '\0' || fields[1] != ' ')
        continue;
      ppid = (GPid) atoi (fields + 2);
      list = g_hash_table_lookup (children, GINT_TO_POINTER (ppid));
      if (list == NULL)
        {
          list = g_array_new (FALSE, FALSE, sizeof (GPid));
          g_hash_table_insert (children, GINT_TO_POINTER (ppid), list);
        }
      g_array_append_val (list, pid);
    }

  g_array_append_val (tree, leader);
  for (guint i = 0; i < tree->len; i++)
    {
      GArray *list = g_hash_table_lookup (children,
                                          GINT_TO_POINTER (g_array_index (tree, GPid, i)));

      if (list != NULL)
        g_array_append_vals (tree, list->data, list->len);
    }
  return tree;
}

guint64
kiln_process_tree_cpu_ticks (GPid leader)
{
  g_autoptr(GArray) tree = kiln_process_tree_list (leader);
  guint64 total = 0;

  for (guint i = 0; i < tree->len; i++)
    {
      g_autofree char *fields = read_stat_fields (g_array_index (tree, GPid, i));
      g_auto(GStrv) parts = NULL;

      if (fields == NULL)
        continue;
      /* state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
       * utime stime cutime cstime: utime is the twelfth after the name. */
      parts = g_strsplit (fields, " ", 16);
      if (g_strv_length (parts) < 16)
        continue;
      for (guint f = 11; f <= 14; f++)
        total += g_ascii_strtoull (parts[f], NULL, 10);
    }
  return total;
}

void
kiln_process_tree_signal (GPid leader,
                          int  signum)
{
  g_autoptr(GHashTable) signalled = g_hash_table_new (NULL, NULL);

  if (leader <= 0)
    return;
  kill (-leader, signum);
  for (guint round = 0; round < 8; round++)
    {
      g_autoptr(GArray) tree = kiln_process_tree_list (leader);
      gboolean new_found = FALSE;

      for (guint i = 0; i < tree->len; i++)
        {
          GPid pid = g_array_index (tree, GPid, i);

          if (g_hash_table_add (signalled, GINT_TO_POINTER (pid)))
            {
              kill (pid, signum);
              new_found = TRUE;
            }
        }
      if (!new_found)
        break;
    }
}

/* Lending ------------------------------------------------------------------------------- */

typedef struct
{
  KilnRenderRun *run;
  GPid           pid;
  GDateTime     *deadline;
  guint          deadline_id;
  gboolean       paused;
} Lent;

struct _KilnProvider
{
  GObject             parent_instance;

  KilnLendingPolicy  *policy;
  KilnIdleMonitor    *monitor;
  GPtrArray          *lent;      /* Lent */
  KilnProviderState   state;
  char               *status;
};

enum {
  PROP_0,
  PROP_POLICY,
  PROP_MONITOR,
  PROP_STATE,
  PROP_STATUS,
  PROP_N_RUNS,
  N_PROPS
};

enum {
  SIGNAL_PAUSED,
  SIGNAL_RESUMED,
  SIGNAL_HANDED_BACK,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_ENUM_TYPE (KilnProviderState, kiln_provider_state,
  G_DEFINE_ENUM_VALUE (KILN_PROVIDER_STATE_OFF, "off"),
  G_DEFINE_ENUM_VALUE (KILN_PROVIDER_STATE_WAITING, "waiting"),
  G_DEFINE_ENUM_VALUE (KILN_PROVIDER_STATE_LENDING, "lending"),
  G_DEFINE_ENUM_VALUE (KILN_PROVIDER_STATE_PAUSED, "paused"))

G_DEFINE_FINAL_TYPE (KilnProvider, kiln_provider, G_TYPE_OBJECT)

static void sync_runs (KilnProvider *self);

static void
lent_free (Lent *lent)
{
  g_clear_handle_id (&lent->deadline_id, g_source_remove);
  g_clear_object (&lent->run);
  g_clear_pointer (&lent->deadline, g_date_time_unref);
  g_free (lent);
}

static Lent *
find_lent (KilnProvider  *self,
           KilnRenderRun *run,
           guint         *index)
{
  for (guint i = 0; i < self->lent->len; i++)
    {
      Lent *lent = g_ptr_array_index (self->lent, i);

      if (lent->run == run)
        {
          if (index != NULL)
            *index = i;
          return lent;
        }
    }
  return NULL;
}

static void
update_state (KilnProvider *self)
{
  g_autofree char *status = NULL;
  KilnProviderState state;
  gboolean any_paused = FALSE;
  guint n_runs = self->lent->len;

  for (guint i = 0; i < n_runs; i++)
    any_paused |= ((Lent *) g_ptr_array_index (self->lent, i))->paused;

  if (!kiln_lending_policy_get_enabled (self->policy))
    state = KILN_PROVIDER_STATE_OFF;
  else if (kiln_idle_monitor_get_idle (self->monitor))
    state = KILN_PROVIDER_STATE_LENDING;
  else if (any_paused)
    state = KILN_PROVIDER_STATE_PAUSED;
  else
    state = KILN_PROVIDER_STATE_WAITING;

  switch (state)
    {
    case KILN_PROVIDER_STATE_OFF:
      status = g_strdup (_("Lending is off"));
      break;
    case KILN_PROVIDER_STATE_LENDING:
      if (n_runs == 0)
        status = g_strdup (_("Ready to lend"));
      else
        status = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Rendering %u subtask",
                                               "Rendering %u subtasks", n_runs), n_runs);
      break;
    case KILN_PROVIDER_STATE_PAUSED:
      /* Translators: %s says why, for instance “You are using the computer” */
      status = g_strdup_printf (_("Paused: %s"), kiln_idle_monitor_get_status (self->monitor));
      break;
    case KILN_PROVIDER_STATE_WAITING:
    default:
      /* Translators: %s says why, for instance “On battery” */
      status = g_strdup_printf (_("Waiting: %s"), kiln_idle_monitor_get_status (self->monitor));
      break;
    }

  g_object_freeze_notify (G_OBJECT (self));
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (g_strcmp0 (status, self->status) != 0)
    {
      g_free (self->status);
      self->status = g_steal_pointer (&status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* Cancels @run's render and forgets it. */
static void
hand_back (KilnProvider  *self,
           KilnRenderRun *run)
{
  g_autoptr(KilnRenderRun) held = g_object_ref (run);
  guint index;
  Lent *lent = find_lent (self, run, &index);

  if (lent == NULL)
    return;
  if (lent->pid > 0)
    kiln_idle_monitor_remove_own_process (self->monitor, lent->pid);
  /* SIGKILL ends stopped processes too: the sandbox goes without waking up. */
  kiln_render_run_cancel (run);
  g_ptr_array_remove_index (self->lent, index);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNS]);
  g_signal_emit (self, signals[SIGNAL_HANDED_BACK], 0, held);
  update_state (self);
}

static gboolean
on_deadline (gpointer user_data)
{
  Lent *lent = user_data;
  KilnProvider *self = g_object_get_data (G_OBJECT (lent->run), "kiln-provider");

  lent->deadline_id = 0;
  hand_back (self, lent->run);
  return G_SOURCE_REMOVE;
}

/* Milliseconds until @lent's deadline, 0 when it has passed. */
static guint
deadline_in_ms (Lent *lent)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GTimeSpan left = g_date_time_difference (lent->deadline, now);

  if (left <= 0)
    return 0;
  return (guint) MIN (left / 1000 + 1, (GTimeSpan) G_MAXUINT);
}

static void
pause_lent (KilnProvider *self,
            Lent         *lent)
{
  if (lent->pid > 0)
    kiln_process_tree_signal (lent->pid, SIGSTOP);
  lent->paused = TRUE;
  if (lent->deadline != NULL && lent->deadline_id == 0)
    lent->deadline_id = g_timeout_add (deadline_in_ms (lent), on_deadline, lent);
  g_signal_emit (self, signals[SIGNAL_PAUSED], 0, lent->run);
}

static void
resume_lent (KilnProvider *self,
             Lent         *lent)
{
  g_clear_handle_id (&lent->deadline_id, g_source_remove);
  if (lent->pid > 0)
    kiln_process_tree_signal (lent->pid, SIGCONT);
  lent->paused = FALSE;
  g_signal_emit (self, signals[SIGNAL_RESUMED], 0, lent->run);
}

/* Brings every run in line with the policy and the monitor. Handlers of the
 * signals emitted here may add or remove runs: work on a snapshot. */
static void
sync_runs (KilnProvider *self)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean enabled = kiln_lending_policy_get_enabled (self->policy);
  gboolean idle = kiln_idle_monitor_get_idle (self->monitor);

  for (guint i = 0; i < self->lent->len; i++)
    g_ptr_array_add (runs, g_object_ref (((Lent *) g_ptr_array_index (self->lent, i))->run));

  for (guint i = 0; i < runs->len; i++)
    {
      KilnRenderRun *run = g_ptr_array_index (runs, i);
      Lent *lent = find_lent (self, run, NULL);

      if (lent == NULL)
        continue;
      if (!enabled)
        hand_back (self, run);
      else if (idle && lent->paused)
        resume_lent (self, lent);
      else if (!idle && !lent->paused)
        pause_lent (self, lent);
    }
  update_state (self);
}

/* The public side --------------------------------------------------------------------- */

void
kiln_provider_add_run (KilnProvider  *self,
                       KilnRenderRun *run,
                       GDateTime     *deadline)
{
  Lent *lent;

  g_return_if_fail (KILN_IS_PROVIDER (self));
  g_return_if_fail (KILN_IS_RENDER_RUN (run));

  if (find_lent (self, run, NULL) != NULL)
    return;

  lent = g_new0 (Lent, 1);
  lent->run = g_object_ref (run);
  lent->pid = kiln_render_run_get_pid (run);
  lent->deadline = deadline != NULL ? g_date_time_ref (deadline) : NULL;
  g_object_set_data (G_OBJECT (run), "kiln-provider", self);
  g_ptr_array_add (self->lent, lent);
  if (lent->pid > 0)
    kiln_idle_monitor_add_own_process (self->monitor, lent->pid);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNS]);
  sync_runs (self);
}

void
kiln_provider_remove_run (KilnProvider  *self,
                          KilnRenderRun *run)
{
  guint index;
  Lent *lent;

  g_return_if_fail (KILN_IS_PROVIDER (self));
  g_return_if_fail (KILN_IS_RENDER_RUN (run));

  lent = find_lent (self, run, &index);
  if (lent == NULL)
    return;
  if (lent->paused && lent->pid > 0)
    kiln_process_tree_signal (lent->pid, SIGCONT);
  if (lent->pid > 0)
    kiln_idle_monitor_remove_own_process (self->monitor, lent->pid);
  g_object_set_data (G_OBJECT (run), "kiln-provider", NULL);
  g_ptr_array_remove_index (self->lent, index);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNS]);
  update_state (self);
}

gboolean
kiln_provider_is_run_paused (KilnProvider  *self,
                             KilnRenderRun *run)
{
  Lent *lent;

  g_return_val_if_fail (KILN_IS_PROVIDER (self), FALSE);

  lent = find_lent (self, run, NULL);
  return lent != NULL && lent->paused;
}

GPtrArray *
kiln_provider_dup_runs (KilnProvider *self)
{
  GPtrArray *runs;

  g_return_val_if_fail (KILN_IS_PROVIDER (self), NULL);

  runs = g_ptr_array_new_full (self->lent->len, g_object_unref);
  for (guint i = 0; i < self->lent->len; i++)
    g_ptr_array_add (runs, g_object_ref (((Lent *) g_ptr_array_index (self->lent, i))->run));
  return runs;
}

KilnLendingPolicy *
kiln_provider_get_policy (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), NULL);
  return self->policy;
}

KilnIdleMonitor *
kiln_provider_get_monitor (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), NULL);
  return self->monitor;
}

KilnProviderState
kiln_provider_get_state (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), KILN_PROVIDER_STATE_OFF);
  return self->state;
}

const char *
kiln_provider_get_status (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), NULL);
  return self->status;
}

guint
kiln_provider_get_n_runs (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), 0);
  return self->lent->len;
}

gboolean
kiln_provider_can_start_work (KilnProvider *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER (self), FALSE);
  return self->state == KILN_PROVIDER_STATE_LENDING;
}

/* GObject ------------------------------------------------------------------------------- */

static void
kiln_provider_constructed (GObject *object)
{
  KilnProvider *self = KILN_PROVIDER (object);

  G_OBJECT_CLASS (kiln_provider_parent_class)->constructed (object);

  g_assert (self->policy != NULL && self->monitor != NULL);
  g_signal_connect_object (self->policy, "notify::enabled", G_CALLBACK (sync_runs), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->monitor, "notify::idle", G_CALLBACK (sync_runs), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->monitor, "notify::status", G_CALLBACK (update_state), self,
                           G_CONNECT_SWAPPED);
  update_state (self);
}

static void
kiln_provider_dispose (GObject *object)
{
  KilnProvider *self = KILN_PROVIDER (object);

  /* Nothing is left stopped behind us. */
  while (self->lent != NULL && self->lent->len > 0)
    kiln_provider_remove_run (self, ((Lent *) g_ptr_array_index (self->lent, 0))->run);
  g_clear_object (&self->monitor);
  g_clear_object (&self->policy);

  G_OBJECT_CLASS (kiln_provider_parent_class)->dispose (object);
}

static void
kiln_provider_finalize (GObject *object)
{
  KilnProvider *self = KILN_PROVIDER (object);

  g_clear_pointer (&self->lent, g_ptr_array_unref);
  g_free (self->status);

  G_OBJECT_CLASS (kiln_provider_parent_class)->finalize (object);
}

static void
kiln_provider_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KilnProvider *self = KILN_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      g_value_set_object (value, self->policy);
      break;
    case PROP_MONITOR:
      g_value_set_object (value, self->monitor);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_N_RUNS:
      g_value_set_uint (value, self->lent->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KilnProvider *self = KILN_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_POLICY:
      self->policy = g_value_dup_object (value);
      break;
    case PROP_MONITOR:
      self->monitor = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_class_init (KilnProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                                G_PARAM_STATIC_STRINGS;
  const GParamFlags readable = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS;

  object_class->constructed = kiln_provider_constructed;
  object_class->dispose = kiln_provider_dispose;
  object_class->finalize = kiln_provider_finalize;
  object_class->get_property = kiln_provider_get_property;
  object_class->set_property = kiln_provider_set_property;

  properties[PROP_POLICY] =
    g_param_spec_object ("policy", NULL, NULL, KILN_TYPE_LENDING_POLICY, construct);
  properties[PROP_MONITOR] =
    g_param_spec_object ("monitor", NULL, NULL, KILN_TYPE_IDLE_MONITOR, construct);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KILN_TYPE_PROVIDER_STATE,
                       KILN_PROVIDER_STATE_OFF, readable);
  properties[PROP_STATUS] = g_param_spec_string ("status", NULL, NULL, NULL, readable);
  properties[PROP_N_RUNS] = g_param_spec_uint ("n-runs", NULL, NULL, 0, G_MAXUINT, 0, readable);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_PAUSED] =
    g_signal_new ("paused", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, KILN_TYPE_RENDER_RUN);
  signals[SIGNAL_RESUMED] =
    g_signal_new ("resumed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, KILN_TYPE_RENDER_RUN);
  signals[SIGNAL_HANDED_BACK] =
    g_signal_new ("handed-back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, KILN_TYPE_RENDER_RUN);
}

static void
kiln_provider_init (KilnProvider *self)
{
  self->lent = g_ptr_array_new_with_free_func ((GDestroyNotify) lent_free);
  self->state = KILN_PROVIDER_STATE_OFF;
}

KilnProvider *
kiln_provider_new (KilnLendingPolicy *policy,
                   KilnIdleMonitor   *monitor)
{
  g_return_val_if_fail (KILN_IS_LENDING_POLICY (policy), NULL);
  g_return_val_if_fail (KILN_IS_IDLE_MONITOR (monitor), NULL);

  return g_object_new (KILN_TYPE_PROVIDER, "policy", policy, "monitor", monitor, NULL);
}
