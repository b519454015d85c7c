/* kiln-provider-agent.c: a lending node's side of the market: the object, its status for the
 * lending panel, starting and stopping
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>

#include <glib/gi18n-lib.h>

#include "kiln-provider-agent-private.h"

enum {
  PROP_0,
  PROP_ENGINE,
  PROP_PROVIDER,
  PROP_BLENDER,
  PROP_WORK_DIR,
  PROP_RUNNING,
  PROP_IDLE_PRIORITY,
  PROP_CURRENT_REQUESTOR,
  PROP_CURRENT_FRAMES,
  PROP_PROGRESS,
  PROP_N_RUNNING,
  PROP_N_DONE,
  N_PROPS
};

enum {
  SIGNAL_EARNED,
  SIGNAL_PAID,
  SIGNAL_FINISHED,
  SIGNAL_OFFERED,
  SIGNAL_ACCEPTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KilnProviderAgent, kiln_provider_agent, G_TYPE_OBJECT)

G_DEFINE_BOXED_TYPE (KilnEarning, kiln_earning, kiln_earning_copy, kiln_earning_free)

KilnEarning *
kiln_earning_copy (const KilnEarning *earning)
{
  g_return_val_if_fail (earning != NULL, NULL);

  return g_memdup2 (earning, sizeof *earning);
}

void
kiln_earning_free (KilnEarning *earning)
{
  g_free (earning);
}

gint64
kiln_provider_agent_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Sending ------------------------------------------------------------------------------- */

static void
on_sent (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autofree char *what = user_data;
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_send_message_finish (KILN_ENGINE (object), result, &error);
  if (message == NULL)
    g_debug ("Could not send %s: %s", what, error->message);
}

void
kiln_provider_agent_send (KilnProviderAgent *self,
                          const KilnAddress *to,
                          KilnMessageType    type,
                          GBytes            *body)
{
  g_autofree char *address = kiln_address_to_string (to);

  kiln_engine_send_message_async (self->engine, to, type, body, NULL, on_sent,
                                  g_strdup_printf ("%s to %s", kiln_message_type_to_string (type),
                                                   address));
}

void
kiln_provider_agent_send_reject (KilnProviderAgent *self,
                                 const KilnAddress *to,
                                 const guint8      *ref,
                                 const char        *reason,
                                 const char        *text)
{
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  g_autoptr(GString) clean = g_string_new (NULL);

  /* Texts come from errors that may quote what a scene printed: valid UTF-8, control
   * characters (a newline) as spaces, within the limit on a character boundary. */
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gsize before = clean->len;

      if (g_unichar_iscntrl (c))
        c = ' ';
      g_string_append_unichar (clean, c);
      if (clean->len > KILN_MARKET_TEXT_MAX)
        {
          g_string_truncate (clean, before);
          break;
        }
    }
  reject = kiln_reject_body_new (ref, reason, clean->str);
  body = kiln_reject_body_encode (reject, &error);
  if (body == NULL)
    {
      g_critical ("A REJECT body could not be made: %s", error->message);
      return;
    }
  kiln_provider_agent_send (self, to, KILN_MESSAGE_REJECT, body);
}

/* Status for the lending panel ------------------------------------------------------------ */

static char *
format_frames (const KilnSubtask *subtask)
{
  if (subtask->frame_start == subtask->frame_end)
    return g_strdup_printf ("%d", subtask->frame_start);
  /* Translators: a run of frames, "1–9" */
  return g_strdup_printf (_("%d–%d"), subtask->frame_start, subtask->frame_end);
}

static void
set_string (KilnProviderAgent *self,
            char             **field,
            const char        *value,
            guint              prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
kiln_provider_agent_update_status (KilnProviderAgent *self)
{
  KilnAssignment *current = NULL;
  GHashTableIter iter;
  gpointer value;
  double progress = 0;
  g_autofree char *frames = NULL;

  /* The render that started first, else any assignment in progress. */
  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      KilnAssignment *assignment = value;

      if (current == NULL ||
          (assignment->run != NULL &&
           (current->run == NULL || assignment->started < current->started)))
        current = assignment;
    }

  g_object_freeze_notify (G_OBJECT (self));
  self->current = current;
  if (current != NULL)
    {
      frames = format_frames (current->subtask);
      if (current->run != NULL)
        progress = current->stage == KILN_ASSIGNMENT_RENDERING
                   ? kiln_render_run_get_fraction (current->run) : 1.0;
    }
  set_string (self, &self->current_requestor,
              current != NULL ? current->requestor_string : NULL, PROP_CURRENT_REQUESTOR);
  set_string (self, &self->current_frames, frames, PROP_CURRENT_FRAMES);
  if (progress != self->progress)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
    }
  if (g_hash_table_size (self->assignments) != self->n_running)
    {
      self->n_running = g_hash_table_size (self->assignments);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_RUNNING]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

void
kiln_provider_agent_emit_finished (KilnProviderAgent *self,
                                   const char        *terms,
                                   const char        *reason)
{
  if (reason == NULL)
    {
      self->n_done++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_DONE]);
    }
  g_signal_emit (self, signals[SIGNAL_FINISHED], 0, terms, reason);
}

void
kiln_provider_agent_emit_accepted (KilnProviderAgent *self,
                                   KilnAssignment    *assignment)
{
  g_autofree char *frames = format_frames (assignment->subtask);

  g_signal_emit (self, signals[SIGNAL_ACCEPTED], 0, assignment->terms_hex,
                 assignment->requestor_string, frames);
}

void
kiln_provider_agent_emit_offered (KilnProviderAgent *self,
                                  const char        *task,
                                  const char        *requestor)
{
  g_signal_emit (self, signals[SIGNAL_OFFERED], 0, task, requestor);
}

void
kiln_provider_agent_emit_earned (KilnProviderAgent *self,
                                 const char        *terms,
                                 const char        *amount)
{
  g_signal_emit (self, signals[SIGNAL_EARNED], 0, terms, amount);
}

void
kiln_provider_agent_emit_paid (KilnProviderAgent *self,
                               const char        *terms,
                               const char        *tx_hash)
{
  g_signal_emit (self, signals[SIGNAL_PAID], 0, terms, tx_hash);
}

/* Running ------------------------------------------------------------------------------- */

static void
add_handler (KilnProviderAgent     *self,
             KilnMessageType        type,
             KilnEngineMessageFunc  func)
{
  guint id = kiln_engine_add_message_handler (self->engine, type, func, self, NULL);

  g_array_append_val (self->handler_ids, id);
}

gboolean
kiln_provider_agent_start (KilnProviderAgent  *self,
                           GError            **error)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->running)
    return TRUE;

  if (g_mkdir_with_parents (self->work_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make the folder for lent work “%s”: %s"), self->work_dir,
                   g_strerror (saved_errno));
      return FALSE;
    }
  kiln_provider_agent_clean_work_dir (self);

  self->running = TRUE;
  self->cancellable = g_cancellable_new ();
  add_handler (self, KILN_MESSAGE_TASK_ANNOUNCE, kiln_provider_agent_on_task_announce);
  add_handler (self, KILN_MESSAGE_ASSIGN, kiln_provider_agent_on_assign);
  add_handler (self, KILN_MESSAGE_CANCEL, kiln_provider_agent_on_cancel);
  add_handler (self, KILN_MESSAGE_APPROVE, kiln_provider_agent_on_approve);
  add_handler (self, KILN_MESSAGE_PAYMENT, kiln_provider_agent_on_payment);
  add_handler (self, KILN_MESSAGE_REJECT, kiln_provider_agent_on_reject);
  self->handed_back_id = g_signal_connect_object (self->provider, "handed-back",
                                                  G_CALLBACK (kiln_provider_agent_on_handed_back),
                                                  self, G_CONNECT_SWAPPED);
  kiln_provider_agent_start_offering (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
kiln_provider_agent_stop (KilnProviderAgent *self)
{
  g_autoptr(GPtrArray) ending = NULL;
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (KILN_IS_PROVIDER_AGENT (self));

  if (!self->running)
    return;

  for (guint i = 0; i < self->handler_ids->len; i++)
    kiln_engine_remove_message_handler (self->engine,
                                        g_array_index (self->handler_ids, guint, i));
  g_array_set_size (self->handler_ids, 0);
  g_clear_signal_handler (&self->handed_back_id, self->provider);
  self->running = FALSE;
  kiln_provider_agent_stop_offering (self);

  ending = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_assignment_unref);
  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (ending, kiln_assignment_ref (value));
  for (guint i = 0; i < ending->len; i++)
    kiln_assignment_end (g_ptr_array_index (ending, i), KILN_ASSIGNMENT_END_CANCEL,
                         KILN_MARKET_REASON_CANCELLED, _("The provider stopped lending."));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

/* Accessors ----------------------------------------------------------------------------- */

KilnEngine *
kiln_provider_agent_get_engine (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->engine;
}

KilnProvider *
kiln_provider_agent_get_provider (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->provider;
}

KilnBlender *
kiln_provider_agent_get_blender (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->blender;
}

const char *
kiln_provider_agent_get_work_dir (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->work_dir;
}

gboolean
kiln_provider_agent_get_idle_priority (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  return self->idle_priority;
}

void
kiln_provider_agent_set_idle_priority (KilnProviderAgent *self,
                                       gboolean           idle_priority)
{
  g_return_if_fail (KILN_IS_PROVIDER_AGENT (self));

  idle_priority = !!idle_priority;
  if (self->idle_priority == idle_priority)
    return;
  self->idle_priority = idle_priority;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_PRIORITY]);
}

gboolean
kiln_provider_agent_get_running (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  return self->running;
}

const char *
kiln_provider_agent_get_current_requestor (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->current_requestor;
}

const char *
kiln_provider_agent_get_current_frames (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  return self->current_frames;
}

gboolean
kiln_provider_agent_get_current_frame_range (KilnProviderAgent *self,
                                             int               *first,
                                             int               *last)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), FALSE);

  if (self->current == NULL)
    return FALSE;
  if (first != NULL)
    *first = self->current->subtask->frame_start;
  if (last != NULL)
    *last = self->current->subtask->frame_end;
  return TRUE;
}

double
kiln_provider_agent_get_progress (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return self->progress;
}

guint
kiln_provider_agent_get_n_running (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return g_hash_table_size (self->assignments);
}

guint
kiln_provider_agent_get_n_done (KilnProviderAgent *self)
{
  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), 0);

  return self->n_done;
}

KilnRenderRun *
kiln_provider_agent_lookup_run (KilnProviderAgent *self,
                                const char        *terms)
{
  KilnAssignment *assignment;

  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);
  g_return_val_if_fail (terms != NULL, NULL);

  assignment = g_hash_table_lookup (self->assignments, terms);
  return assignment != NULL ? assignment->run : NULL;
}

GPtrArray *
kiln_provider_agent_dup_earnings (KilnProviderAgent *self)
{
  GPtrArray *earnings;

  g_return_val_if_fail (KILN_IS_PROVIDER_AGENT (self), NULL);

  earnings = g_ptr_array_new_full (self->earnings->len, (GDestroyNotify) kiln_earning_free);
  for (guint i = 0; i < self->earnings->len; i++)
    g_ptr_array_add (earnings, kiln_earning_copy (g_ptr_array_index (self->earnings, i)));
  return earnings;
}

/* GObject ------------------------------------------------------------------------------- */

static void
kiln_provider_agent_dispose (GObject *object)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  if (self->engine != NULL)
    kiln_provider_agent_stop (self);

  G_OBJECT_CLASS (kiln_provider_agent_parent_class)->dispose (object);
}

static void
kiln_provider_agent_finalize (GObject *object)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  g_clear_object (&self->engine);
  g_clear_object (&self->provider);
  g_clear_object (&self->blender);
  g_free (self->work_dir);
  g_free (self->current_requestor);
  g_free (self->current_frames);
  g_array_unref (self->handler_ids);
  g_ptr_array_unref (self->pending);
  g_ptr_array_unref (self->waiting);
  g_hash_table_unref (self->offers);
  g_hash_table_unref (self->assignments);
  g_hash_table_unref (self->delivered);
  g_ptr_array_unref (self->earnings);

  G_OBJECT_CLASS (kiln_provider_agent_parent_class)->finalize (object);
}

static void
kiln_provider_agent_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      g_value_set_object (value, self->engine);
      break;
    case PROP_PROVIDER:
      g_value_set_object (value, self->provider);
      break;
    case PROP_BLENDER:
      g_value_set_object (value, self->blender);
      break;
    case PROP_WORK_DIR:
      g_value_set_string (value, self->work_dir);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_IDLE_PRIORITY:
      g_value_set_boolean (value, self->idle_priority);
      break;
    case PROP_CURRENT_REQUESTOR:
      g_value_set_string (value, kiln_provider_agent_get_current_requestor (self));
      break;
    case PROP_CURRENT_FRAMES:
      g_value_set_string (value, kiln_provider_agent_get_current_frames (self));
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, self->progress);
      break;
    case PROP_N_RUNNING:
      g_value_set_uint (value, kiln_provider_agent_get_n_running (self));
      break;
    case PROP_N_DONE:
      g_value_set_uint (value, self->n_done);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_agent_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KilnProviderAgent *self = KILN_PROVIDER_AGENT (object);

  switch (prop_id)
    {
    case PROP_ENGINE:
      self->engine = g_value_dup_object (value);
      break;
    case PROP_PROVIDER:
      self->provider = g_value_dup_object (value);
      break;
    case PROP_BLENDER:
      self->blender = g_value_dup_object (value);
      break;
    case PROP_WORK_DIR:
      self->work_dir = g_value_dup_string (value);
      break;
    case PROP_IDLE_PRIORITY:
      kiln_provider_agent_set_idle_priority (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_provider_agent_class_init (KilnProviderAgentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kiln_provider_agent_dispose;
  object_class->finalize = kiln_provider_agent_finalize;
  object_class->get_property = kiln_provider_agent_get_property;
  object_class->set_property = kiln_provider_agent_set_property;

  properties[PROP_ENGINE] =
    g_param_spec_object ("engine", NULL, NULL, KILN_TYPE_ENGINE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROVIDER] =
    g_param_spec_object ("provider", NULL, NULL, KILN_TYPE_PROVIDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BLENDER] =
    g_param_spec_object ("blender", NULL, NULL, KILN_TYPE_BLENDER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WORK_DIR] =
    g_param_spec_string ("work-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_IDLE_PRIORITY] =
    g_param_spec_boolean ("idle-priority", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT | G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_REQUESTOR] =
    g_param_spec_string ("current-requestor", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_FRAMES] =
    g_param_spec_string ("current-frames", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_RUNNING] =
    g_param_spec_uint ("n-running", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_DONE] =
    g_param_spec_uint ("n-done", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_EARNED] =
    g_signal_new ("earned", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_PAID] =
    g_signal_new ("paid", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_OFFERED] =
    g_signal_new ("offered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_ACCEPTED] =
    g_signal_new ("accepted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
kiln_provider_agent_init (KilnProviderAgent *self)
{
  self->idle_priority = TRUE;
  self->handler_ids = g_array_new (FALSE, FALSE, sizeof (guint));
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->offers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) kiln_agent_offer_free);
  self->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_agent_waiting_free);
  self->assignments = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify) kiln_assignment_unref);
  self->delivered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->earnings = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_earning_free);
}

KilnProviderAgent *
kiln_provider_agent_new (KilnEngine   *engine,
                         KilnProvider *provider,
                         KilnBlender  *blender,
                         const char   *work_dir)
{
  g_return_val_if_fail (KILN_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (KILN_IS_PROVIDER (provider), NULL);
  g_return_val_if_fail (KILN_IS_BLENDER (blender), NULL);
  g_return_val_if_fail (work_dir != NULL && g_path_is_absolute (work_dir), NULL);

  return g_object_new (KILN_TYPE_PROVIDER_AGENT,
                       "engine", engine,
                       "provider", provider,
                       "blender", blender,
                       "work-dir", work_dir,
                       NULL);
}
