/* kiln-provider-agent-work.c: one assignment, from ASSIGN to RESULT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ASSIGN → checks → ACCEPT → fetch each resource by hash from the requestor into the content
 * store → the subtask's folder (input/ with the files under their names, output/) → the render
 * in the sandbox, watched by the KilnProvider → the images into the content store → RESULT.
 * Any failure ends the assignment with a REJECT saying why; a render given back (paused at
 * its deadline, lending switched off, the agent stopped) ends it with a CANCEL.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kiln-provider-agent-private.h"
#include "kiln-provider-private.h"
#include "kiln-render-private.h"

/* How often the render's CPU time is sampled. */
#define CPU_SAMPLE_MS 500

static void fetch_next    (KilnAssignment *assignment);
static void publish_next  (KilnAssignment *assignment);

/* Assignments ----------------------------------------------------------------------------- */

KilnAssignment *
kiln_assignment_ref (KilnAssignment *assignment)
{
  g_ref_count_inc (&assignment->ref);
  return assignment;
}

void
kiln_assignment_unref (KilnAssignment *assignment)
{
  if (!g_ref_count_dec (&assignment->ref))
    return;

  g_assert (assignment->cpu_id == 0);
  g_clear_object (&assignment->terms);
  g_free (assignment->requestor_string);
  g_free (assignment->terms_hex);
  g_free (assignment->task_hex);
  g_clear_pointer (&assignment->subtask, kiln_subtask_free);
  g_clear_pointer (&assignment->resources, g_ptr_array_unref);
  g_clear_pointer (&assignment->paths, g_ptr_array_unref);
  g_clear_object (&assignment->cancellable);
  g_free (assignment->dir);
  g_free (assignment->output_dir);
  g_free (assignment->blend_file);
  if (assignment->run != NULL)
    g_signal_handlers_disconnect_by_data (assignment->run, assignment);
  g_clear_object (&assignment->run);
  g_clear_pointer (&assignment->images, g_strfreev);
  g_clear_pointer (&assignment->result, kiln_result_body_free);
  g_free (assignment);
}

/* Whether the work of @assignment should go on (each callback checks first). */
static gboolean
is_ended (KilnAssignment *assignment)
{
  return assignment->stage == KILN_ASSIGNMENT_ENDED;
}

KilnAssignment *
kiln_provider_agent_find_run (KilnProviderAgent *self,
                              KilnRenderRun     *run)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->assignments);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((KilnAssignment *) value)->run == run)
      return value;
  return NULL;
}

static void
remove_tree_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  kiln_render_remove_tree (task_data);
  g_task_return_boolean (task, TRUE);
}

static void
remove_tree_async (const char *path)
{
  g_autoptr(GTask) task = g_task_new (NULL, NULL, NULL, NULL);

  g_task_set_source_tag (task, remove_tree_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, remove_tree_thread);
}

static void
stop_cpu_sampling (KilnAssignment *assignment)
{
  g_clear_handle_id (&assignment->cpu_id, g_source_remove);
}

void
kiln_assignment_end (KilnAssignment    *assignment,
                     KilnAssignmentEnd  how,
                     const char        *reason,
                     const char        *text)
{
  KilnProviderAgent *self = assignment->agent;
  KilnAgentOffer *offered;

  if (is_ended (assignment))
    return;
  assignment->stage = KILN_ASSIGNMENT_ENDED;
  g_cancellable_cancel (assignment->cancellable);
  stop_cpu_sampling (assignment);
  if (assignment->run != NULL)
    {
      kiln_provider_remove_run (self->provider, assignment->run);
      kiln_render_run_cancel (assignment->run);
    }

  switch (how)
    {
    case KILN_ASSIGNMENT_END_REJECT:
      g_info ("Giving up the assignment %s: %s", assignment->terms_hex, text);
      kiln_provider_agent_send_reject (self, &assignment->requestor,
                                       kiln_terms_get_digest (assignment->terms), reason, text);
      break;
    case KILN_ASSIGNMENT_END_CANCEL:
      {
        g_autoptr(KilnCancelBody) cancel = NULL;
        g_autoptr(GBytes) body = NULL;

        /* The reason code, not the sentence: the requestor puts it in its own words. */
        g_info ("Handing back the assignment %s: %s", assignment->terms_hex, text);
        cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, kiln_terms_get_digest (assignment->terms),
                                       reason);
        body = kiln_cancel_body_encode (cancel, NULL);
        g_assert (body != NULL);
        kiln_provider_agent_send (self, &assignment->requestor, KILN_MESSAGE_CANCEL, body);
      }
      break;
    case KILN_ASSIGNMENT_END_RESULT:
      g_hash_table_replace (self->delivered, g_strdup (assignment->terms_hex),
                            g_object_ref (assignment->terms));
      break;
    case KILN_ASSIGNMENT_END_SILENT:
    default:
      break;
    }

  /* A requestor told of failed or given-back work drops the offer it was made on. */
  if (how == KILN_ASSIGNMENT_END_REJECT || how == KILN_ASSIGNMENT_END_CANCEL)
    kiln_provider_agent_drop_offer (self, assignment->task_hex, FALSE);
  offered = g_hash_table_lookup (self->offers, assignment->task_hex);
  if (offered != NULL && offered->running > 0)
    offered->running--;
  if (assignment->dir != NULL)
    remove_tree_async (assignment->dir);

  /* The table holds a reference; the caller holds another. */
  g_hash_table_remove (self->assignments, assignment->terms_hex);
  kiln_provider_agent_update_status (self);
  kiln_provider_agent_emit_finished (self, assignment->terms_hex,
                                     how == KILN_ASSIGNMENT_END_RESULT ? NULL : reason);
  assignment->agent = NULL;
  /* Its cores are free: tasks that waited for them get their offers. */
  kiln_provider_agent_room_freed (self);
}

/* Ends @assignment with a REJECT whose text is @error's message. */
static void
fail (KilnAssignment *assignment,
      const char     *reason,
      const GError   *error)
{
  kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_REJECT, reason, error->message);
}

/* Checking an assignment ------------------------------------------------------------------ */

static const char *
reason_for_policy_error (const GError *error)
{
  if (error->domain == KILN_LENDING_POLICY_ERROR)
    switch ((KilnLendingPolicyError) error->code)
      {
      case KILN_LENDING_POLICY_ERROR_DISABLED:
        return KILN_MARKET_REASON_LENDING_OFF;
      case KILN_LENDING_POLICY_ERROR_PRICE_TOO_LOW:
        return KILN_MARKET_REASON_PRICE;
      case KILN_LENDING_POLICY_ERROR_TOO_MANY_CORES:
        return KILN_MARKET_REASON_CORES;
      case KILN_LENDING_POLICY_ERROR_TOO_MUCH_MEMORY:
        return KILN_MARKET_REASON_MEMORY;
      case KILN_LENDING_POLICY_ERROR_INVALID:
      default:
        return KILN_MARKET_REASON_MISMATCH;
      }
  if (g_error_matches (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED))
    return KILN_MARKET_REASON_EXPIRED;
  if (g_error_matches (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_PRICE_TOO_HIGH))
    return KILN_MARKET_REASON_PRICE;
  return KILN_MARKET_REASON_MISMATCH;
}

static gboolean
refuse (GError     **error,
        const char **reason,
        const char  *code,
        const char  *format,
        ...) G_GNUC_PRINTF (4, 5);

static gboolean
refuse (GError     **error,
        const char **reason,
        const char  *code,
        const char  *format,
        ...)
{
  va_list args;

  *reason = code;
  va_start (args, format);
  *error = g_error_new_valist (KILN_MARKET_ERROR, KILN_MARKET_ERROR_MISMATCH, format, args);
  va_end (args);
  return FALSE;
}

/* Whether every resource is one of the announcement's files, the .blend its first. */
static gboolean
resources_announced (KilnTaskAnnouncement *announcement,
                     GPtrArray            *resources)
{
  for (guint i = 0; i < resources->len; i++)
    {
      const KilnMarketFile *file = g_ptr_array_index (resources, i);
      gboolean found = FALSE;

      if (i == 0)
        {
          if (memcmp (file->sha256, kiln_task_announcement_get_resource (announcement, 0),
                      KILN_MARKET_HASH_SIZE) != 0)
            return FALSE;
          continue;
        }
      for (guint j = 0; j < kiln_task_announcement_get_n_resources (announcement) && !found; j++)
        found = memcmp (file->sha256, kiln_task_announcement_get_resource (announcement, j),
                        KILN_MARKET_HASH_SIZE) == 0;
      if (!found)
        return FALSE;
    }
  return TRUE;
}

/* Everything that decides whether @assign from @author is taken, in order; on refusal sets
 * @error (for people) and @reason (a reason code). */
static gboolean
check_assignment (KilnProviderAgent  *self,
                  const KilnAddress  *author,
                  KilnAssignBody     *assign,
                  KilnAgentOffer    **offered_out,
                  const char        **reason,
                  GError            **error)
{
  KilnLendingPolicy *policy = kiln_provider_get_policy (self->provider);
  KilnTerms *terms = assign->terms;
  KilnAgentOffer *offered;
  KilnUint256 price;
  g_autoptr(GError) local_error = NULL;
  guint64 disk_bytes = 0;
  const char *format;

  if (!kiln_address_equal (kiln_terms_get_requestor (terms), author))
    return refuse (error, reason, KILN_MARKET_REASON_MISMATCH,
                   _("The terms were signed by another node than the one that sent them."));
  if (!kiln_address_equal (kiln_terms_get_provider (terms),
                           kiln_engine_get_address (self->engine)))
    return refuse (error, reason, KILN_MARKET_REASON_MISMATCH,
                   _("The terms are made out to another provider."));

  offered = kiln_provider_agent_lookup_offer (self, kiln_terms_get_task_id (terms));
  if (offered == NULL)
    return refuse (error, reason, KILN_MARKET_REASON_NO_OFFER,
                   _("This provider made no offer for that task."));
  if (!kiln_terms_check (terms, offered->announcement, offered->offer, &local_error))
    {
      *reason = reason_for_policy_error (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* The policy may have changed since the offer. */
  kiln_terms_get_price (terms, &price);
  if (!kiln_lending_policy_accepts (policy, &price, kiln_terms_get_cores (terms),
                                    kiln_task_announcement_get_memory_mib (offered->announcement),
                                    &local_error))
    {
      *reason = reason_for_policy_error (local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (!resources_announced (offered->announcement, assign->resources))
    return refuse (error, reason, KILN_MARKET_REASON_MISMATCH,
                   _("The assignment names files the task did not announce."));
  for (guint i = 0; i < assign->resources->len; i++)
    disk_bytes += ((KilnMarketFile *) g_ptr_array_index (assign->resources, i))->size;
  if (kiln_lending_policy_get_disk_mb (policy) > 0 &&
      disk_bytes > (guint64) kiln_lending_policy_get_disk_mb (policy) * 1024 * 1024)
    return refuse (error, reason, KILN_MARKET_REASON_DISK,
                   _("The scene’s files take more disk space than this computer lends."));

  if (!kiln_subtask_validate (assign->subtask, &local_error))
    return refuse (error, reason, KILN_MARKET_REASON_MALFORMED, "%s", local_error->message);
  format = kiln_image_format_get_blender_name (assign->subtask->format);
  if (!kiln_blender_supports_format (self->blender, format))
    return refuse (error, reason, KILN_MARKET_REASON_MISMATCH,
                   _("This computer’s Blender cannot write %s images."), format);

  if (assign->deadline <= kiln_provider_agent_now ())
    return refuse (error, reason, KILN_MARKET_REASON_EXPIRED,
                   _("The subtask’s deadline has passed."));

  if (!kiln_provider_can_start_work (self->provider))
    return refuse (error, reason, KILN_MARKET_REASON_BUSY,
                   _("This computer cannot take work now: %s."),
                   kiln_provider_get_status (self->provider));
  if (offered->running >= kiln_offer_get_max_concurrent (offered->offer))
    return refuse (error, reason, KILN_MARKET_REASON_BUSY,
                   _("This provider already runs as many of the task’s subtasks as it offered."));
  if (kiln_provider_agent_get_free_cores (self) < kiln_terms_get_cores (terms))
    return refuse (error, reason, KILN_MARKET_REASON_BUSY,
                   _("The cores this computer lends are all taken by other work now."));

  *offered_out = offered;
  return TRUE;
}

/* Messages about the assignment ----------------------------------------------------------- */

typedef void (*AssignmentStep) (KilnAssignment *assignment);

typedef struct
{
  KilnAssignment *assignment;
  AssignmentStep  next;
} Sending;

static void
on_assignment_sent (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autofree Sending *sending = user_data;
  g_autoptr(KilnAssignment) assignment = sending->assignment;
  g_autoptr(KilnMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  message = kiln_engine_send_message_finish (KILN_ENGINE (object), result, &error);
  if (is_ended (assignment))
    return;
  if (message == NULL)
    {
      /* Nobody to tell. */
      g_info ("Lost the requestor of the assignment %s: %s", assignment->terms_hex,
              error->message);
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_SILENT, KILN_MARKET_REASON_CANCELLED,
                           error->message);
      return;
    }
  if (sending->next != NULL)
    sending->next (assignment);
}

/* Sends @body to the requestor, then goes on with @next (if any) once it is written; if it
 * cannot be, the assignment ends. */
static void
send_then (KilnAssignment  *assignment,
           KilnMessageType  type,
           GBytes          *body,
           AssignmentStep   next)
{
  Sending *sending = g_new0 (Sending, 1);

  sending->assignment = kiln_assignment_ref (assignment);
  sending->next = next;
  kiln_engine_send_message_async (assignment->agent->engine, &assignment->requestor, type, body,
                                  assignment->cancellable, on_assignment_sent, sending);
}

static void
start_fetching (KilnAssignment *assignment)
{
  assignment->stage = KILN_ASSIGNMENT_FETCHING;
  fetch_next (assignment);
}

static void
delivered (KilnAssignment *assignment)
{
  g_info ("Sent the result of %s", assignment->terms_hex);
  kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_RESULT, NULL, NULL);
}

void
kiln_provider_agent_on_assign (KilnEngine     *engine,
                               KilnEnginePeer *peer,
                               KilnMessage    *message,
                               gpointer        user_data)
{
  KilnProviderAgent *self = user_data;
  const KilnAddress *author = kiln_message_get_author (message);
  g_autoptr(KilnAssignBody) assign = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *terms_hex = NULL;
  KilnAgentOffer *offered = NULL;
  KilnAssignment *assignment;
  const char *reason = NULL;

  assign = kiln_assign_body_decode (kiln_message_get_body (message), &error);
  if (assign == NULL)
    {
      g_debug ("Refusing an ASSIGN from %s: %s", kiln_engine_peer_get_address_string (peer),
               error->message);
      kiln_provider_agent_send_reject (self, author, kiln_message_get_id (message),
                                       KILN_MARKET_REASON_MALFORMED, error->message);
      return;
    }

  terms_hex = kiln_market_id_to_hex (kiln_terms_get_digest (assign->terms));
  if (g_hash_table_contains (self->assignments, terms_hex) ||
      g_hash_table_contains (self->delivered, terms_hex))
    {
      g_debug ("Ignoring a repeated ASSIGN of terms %s", terms_hex);
      return;
    }

  if (!check_assignment (self, author, assign, &offered, &reason, &error) ||
      !kiln_terms_accept (assign->terms, kiln_engine_get_key (self->engine),
                          kiln_provider_agent_now (), &error))
    {
      if (reason == NULL)
        reason = reason_for_policy_error (error);
      g_info ("Refusing the assignment %s (%s): %s", terms_hex, reason, error->message);
      kiln_provider_agent_send_reject (self, author, kiln_terms_get_digest (assign->terms),
                                       reason, error->message);
      /* The requestor drops the offer the terms were made on; when only the cores were
       * missing, a new one follows as soon as they are free. */
      if (kiln_address_equal (kiln_terms_get_requestor (assign->terms), author))
        {
          g_autofree char *task_hex = NULL;

          task_hex = kiln_market_id_to_hex (kiln_terms_get_task_id (assign->terms));
          kiln_provider_agent_drop_offer (self, task_hex,
                                          g_strcmp0 (reason, KILN_MARKET_REASON_BUSY) == 0 &&
                                          kiln_provider_can_start_work (self->provider));
        }
      return;
    }

  assignment = g_new0 (KilnAssignment, 1);
  g_ref_count_init (&assignment->ref);
  assignment->agent = self;
  assignment->stage = KILN_ASSIGNMENT_ACCEPTING;
  assignment->requestor = *author;
  assignment->requestor_string = kiln_address_to_string (author);
  assignment->terms = g_steal_pointer (&assign->terms);
  assignment->terms_hex = g_steal_pointer (&terms_hex);
  assignment->task_hex = kiln_market_id_to_hex (kiln_terms_get_task_id (assignment->terms));
  assignment->subtask = g_steal_pointer (&assign->subtask);
  assignment->resources = g_steal_pointer (&assign->resources);
  assignment->paths = g_ptr_array_new_with_free_func (g_free);
  assignment->deadline = assign->deadline;
  assignment->cancellable = g_cancellable_new ();
  g_hash_table_insert (self->assignments, assignment->terms_hex, assignment);
  offered->running++;
  kiln_provider_agent_update_status (self);

  g_info ("Accepted the assignment %s from %s", assignment->terms_hex,
          assignment->requestor_string);
  kiln_provider_agent_emit_accepted (self, assignment);
  /* The scene is fetched while the acceptance is on its way: the requestor serves its files
   * to any linked peer, and a link that fails ends both. */
  send_then (assignment, KILN_MESSAGE_ACCEPT, kiln_terms_get_bytes (assignment->terms), NULL);
  start_fetching (assignment);
}

/* Fetching the resources ------------------------------------------------------------------ */

static void prepare (KilnAssignment *assignment);

static void
on_fetched (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KilnAssignment) assignment = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = kiln_transfer_fetch_finish (KILN_TRANSFER (object), result, &error);
  if (is_ended (assignment))
    return;
  if (path == NULL)
    {
      const KilnMarketFile *file = g_ptr_array_index (assignment->resources, assignment->next);
      g_autofree char *text = g_strdup_printf (_("Could not fetch “%s” from the requestor: %s"),
                                               file->name, error->message);

      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_REJECT,
                           KILN_MARKET_REASON_MISSING_FILE, text);
      return;
    }
  g_ptr_array_add (assignment->paths, g_steal_pointer (&path));
  assignment->next++;
  fetch_next (assignment);
}

static void
fetch_next (KilnAssignment *assignment)
{
  KilnProviderAgent *self = assignment->agent;
  const KilnMarketFile *file;
  KilnEnginePeer *peer;
  KilnLink *link;
  g_autofree char *hash = NULL;

  if (assignment->next == assignment->resources->len)
    {
      assignment->next = 0;
      prepare (assignment);
      return;
    }

  file = g_ptr_array_index (assignment->resources, assignment->next);
  peer = kiln_engine_lookup_peer (self->engine, &assignment->requestor);
  link = peer != NULL ? kiln_engine_peer_get_link (peer) : NULL;
  if (link == NULL)
    {
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_SILENT,
                           KILN_MARKET_REASON_MISSING_FILE,
                           _("The requestor is not connected any more."));
      return;
    }
  hash = kiln_content_hash_to_hex (file->sha256);
  kiln_transfer_fetch_async (kiln_engine_get_transfer (self->engine), link, hash, file->size,
                             NULL, NULL, NULL, assignment->cancellable, on_fetched,
                             kiln_assignment_ref (assignment));
}

/* The subtask's folder -------------------------------------------------------------------- */

typedef struct
{
  char      *dir;
  GPtrArray *names;   /* char * */
  GPtrArray *paths;   /* char *: where each file is in the content store */
} Prepare;

static void
prepare_free (Prepare *data)
{
  g_free (data->dir);
  g_ptr_array_unref (data->names);
  g_ptr_array_unref (data->paths);
  g_free (data);
}

/* DIR/input/NAME for each resource (a hard link to the content store's file, or a copy
 * where a link cannot be made), and an empty DIR/output. */
static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Prepare *data = task_data;
  g_autofree char *input = g_build_filename (data->dir, "input", NULL);
  g_autofree char *output = g_build_filename (data->dir, "output", NULL);

  kiln_render_remove_tree (data->dir);
  if (g_mkdir_with_parents (input, 0700) != 0 || g_mkdir (output, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                               _("Could not make the subtask’s folder: %s"),
                               g_strerror (saved_errno));
      return;
    }

  for (guint i = 0; i < data->names->len; i++)
    {
      const char *source = g_ptr_array_index (data->paths, i);
      g_autofree char *target = g_build_filename (input, g_ptr_array_index (data->names, i),
                                                  NULL);
      g_autoptr(GFile) source_file = NULL;
      g_autoptr(GFile) target_file = NULL;
      g_autoptr(GError) error = NULL;

      if (link (source, target) == 0)
        continue;
      source_file = g_file_new_for_path (source);
      target_file = g_file_new_for_path (target);
      if (!g_file_copy (source_file, target_file, G_FILE_COPY_NONE, cancellable, NULL, NULL,
                        &error))
        {
          g_task_return_new_error (task, error->domain, error->code,
                                   _("Could not put “%s” in the subtask’s folder: %s"),
                                   (const char *) g_ptr_array_index (data->names, i),
                                   error->message);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void start_render (KilnAssignment *assignment);

static void
on_prepared (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KilnAssignment) assignment = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!is_ended (assignment))
        fail (assignment, KILN_MARKET_REASON_MISSING_FILE, error);
      return;
    }
  if (is_ended (assignment))
    return;
  start_render (assignment);
}

static void
prepare (KilnAssignment *assignment)
{
  KilnProviderAgent *self = assignment->agent;
  g_autoptr(GTask) task = NULL;
  Prepare *data = g_new0 (Prepare, 1);
  const KilnMarketFile *blend = g_ptr_array_index (assignment->resources, 0);

  assignment->stage = KILN_ASSIGNMENT_PREPARING;
  assignment->dir = g_build_filename (self->work_dir, assignment->terms_hex, NULL);
  assignment->output_dir = g_build_filename (assignment->dir, "output", NULL);
  assignment->blend_file = g_build_filename (assignment->dir, "input", blend->name, NULL);

  data->dir = g_strdup (assignment->dir);
  data->names = g_ptr_array_new_with_free_func (g_free);
  data->paths = g_ptr_array_ref (assignment->paths);
  for (guint i = 0; i < assignment->resources->len; i++)
    g_ptr_array_add (data->names,
                     g_strdup (((KilnMarketFile *) g_ptr_array_index (assignment->resources,
                                                                      i))->name));

  task = g_task_new (NULL, assignment->cancellable, on_prepared,
                     kiln_assignment_ref (assignment));
  g_task_set_source_tag (task, prepare);
  g_task_set_task_data (task, data, (GDestroyNotify) prepare_free);
  g_task_run_in_thread (task, prepare_thread);
}

/* The render ------------------------------------------------------------------------------ */

static gboolean
sample_cpu (gpointer user_data)
{
  KilnAssignment *assignment = user_data;

  if (assignment->pid > 0)
    assignment->cpu_ticks = MAX (assignment->cpu_ticks,
                                 kiln_process_tree_cpu_ticks (assignment->pid));
  return G_SOURCE_CONTINUE;
}

static void
on_fraction (KilnRenderRun  *run,
             GParamSpec     *pspec,
             KilnAssignment *assignment)
{
  if (is_ended (assignment))
    return;
  sample_cpu (assignment);
  if (assignment->agent->current == assignment)
    kiln_provider_agent_update_status (assignment->agent);
}

static const char *
reason_for_render_error (const GError *error)
{
  if (error->domain != KILN_RENDER_ERROR)
    return KILN_MARKET_REASON_RENDER_FAILED;
  switch ((KilnRenderError) error->code)
    {
    case KILN_RENDER_ERROR_OUT_OF_MEMORY:
      return KILN_MARKET_REASON_OUT_OF_MEMORY;
    case KILN_RENDER_ERROR_MISSING_FILES:
    case KILN_RENDER_ERROR_UNREADABLE:
      return KILN_MARKET_REASON_MISSING_FILE;
    case KILN_RENDER_ERROR_TIMED_OUT:
      return KILN_MARKET_REASON_TIMEOUT;
    case KILN_RENDER_ERROR_INVALID:
    case KILN_RENDER_ERROR_SANDBOX:
    case KILN_RENDER_ERROR_SETUP_FAILED:
    case KILN_RENDER_ERROR_CRASHED:
    case KILN_RENDER_ERROR_FAILED:
    case KILN_RENDER_ERROR_BAD_OUTPUT:
    default:
      return KILN_MARKET_REASON_RENDER_FAILED;
    }
}

static void
on_rendered (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KilnAssignment) assignment = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) images = NULL;
  gboolean paused;

  images = kiln_render_run_execute_finish (KILN_RENDER_RUN (object), result, &error);
  if (is_ended (assignment))
    return;

  stop_cpu_sampling (assignment);
  assignment->wall_ms = (g_get_monotonic_time () - assignment->started) / 1000;
  paused = kiln_provider_is_run_paused (assignment->agent->provider, assignment->run);
  kiln_provider_remove_run (assignment->agent->provider, assignment->run);
  if (images == NULL && paused &&
      g_error_matches (error, KILN_RENDER_ERROR, KILN_RENDER_ERROR_TIMED_OUT))
    {
      /* Its time ran out while the computer was in use: given back, as the provider does at
       * the deadline. */
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_CANCEL, KILN_MARKET_REASON_DEADLINE,
                           _("The subtask could not be finished in time: the computer is in "
                             "use."));
      return;
    }
  if (images == NULL)
    {
      fail (assignment, reason_for_render_error (error), error);
      return;
    }

  assignment->images = g_steal_pointer (&images);
  assignment->result = kiln_result_body_new (kiln_terms_get_digest (assignment->terms));
  assignment->stage = KILN_ASSIGNMENT_PUBLISHING;
  assignment->next = 0;
  kiln_provider_agent_update_status (assignment->agent);
  publish_next (assignment);
}

static void
start_render (KilnAssignment *assignment)
{
  KilnProviderAgent *self = assignment->agent;
  KilnLendingPolicy *policy = kiln_provider_get_policy (self->provider);
  g_autoptr(KilnSandbox) sandbox = kiln_sandbox_new ();
  g_autoptr(KilnRenderSpec) spec = NULL;
  g_autoptr(GDateTime) deadline = NULL;
  g_autoptr(GError) error = NULL;
  gint64 left = assignment->deadline - kiln_provider_agent_now ();
  guint time_limit;

  if (left <= 0)
    {
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_REJECT, KILN_MARKET_REASON_DEADLINE,
                           _("The scene arrived too late to render it before the deadline."));
      return;
    }

  /* The cores the terms pay for, the memory the policy lends, the time the terms allow (or
   * what is left before the deadline). */
  time_limit = (guint) MIN ((gint64) kiln_terms_get_timeout (assignment->terms), left);
  kiln_sandbox_set_cpu_limit (sandbox, kiln_terms_get_cores (assignment->terms));
  kiln_sandbox_set_memory_limit (sandbox,
                                 (guint64) kiln_lending_policy_get_memory_mb (policy) << 20);
  kiln_sandbox_set_time_limit (sandbox, time_limit);
  kiln_sandbox_set_idle_priority (sandbox, self->idle_priority);

  spec = kiln_subtask_to_render_spec (assignment->subtask, assignment->blend_file,
                                      assignment->output_dir);
  if (!kiln_render_spec_validate (spec, &error))
    {
      fail (assignment, KILN_MARKET_REASON_MALFORMED, error);
      return;
    }

  assignment->stage = KILN_ASSIGNMENT_RENDERING;
  assignment->run = kiln_render_run_new (sandbox, self->blender, spec);
  g_signal_connect (assignment->run, "notify::fraction", G_CALLBACK (on_fraction), assignment);
  assignment->started = g_get_monotonic_time ();
  kiln_render_run_execute_async (assignment->run, assignment->cancellable, on_rendered,
                                 kiln_assignment_ref (assignment));
  if (is_ended (assignment))
    return;
  assignment->pid = kiln_render_run_get_pid (assignment->run);
  assignment->cpu_id = g_timeout_add (CPU_SAMPLE_MS, sample_cpu, assignment);

  deadline = g_date_time_new_from_unix_utc (assignment->deadline);
  kiln_provider_add_run (self->provider, assignment->run, deadline);
  kiln_provider_agent_update_status (self);
}

/* RESULT --------------------------------------------------------------------------------- */

static void
send_result (KilnAssignment *assignment)
{
  long ticks_per_second = sysconf (_SC_CLK_TCK);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  if (ticks_per_second > 0)
    assignment->result->cpu_ms = assignment->cpu_ticks * 1000 / (guint64) ticks_per_second;
  assignment->result->wall_ms = (guint64) MAX (assignment->wall_ms, 0);
  body = kiln_result_body_encode (assignment->result, &error);
  if (body == NULL)
    {
      fail (assignment, KILN_MARKET_REASON_RENDER_FAILED, error);
      return;
    }
  send_then (assignment, KILN_MESSAGE_RESULT, body, delivered);
}

static void
on_published (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KilnAssignment) assignment = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *name = NULL;
  guint8 digest[KILN_CONTENT_HASH_SIZE];
  GStatBuf buf;
  const char *image;

  hash = kiln_content_store_add_file_finish (KILN_CONTENT_STORE (object), result, &error);
  if (is_ended (assignment))
    return;
  image = assignment->images[assignment->next];
  if (hash == NULL || g_stat (image, &buf) != 0)
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("Could not keep the rendered image for the requestor: %s"),
                              error != NULL ? error->message : g_strerror (errno));
      kiln_assignment_end (assignment, KILN_ASSIGNMENT_END_REJECT,
                           KILN_MARKET_REASON_RENDER_FAILED, text);
      return;
    }

  name = g_path_get_basename (image);
  kiln_content_hash_from_hex (hash, digest);
  kiln_result_body_add_output (assignment->result, name, digest, (guint64) buf.st_size);
  assignment->next++;
  publish_next (assignment);
}

static void
publish_next (KilnAssignment *assignment)
{
  KilnProviderAgent *self = assignment->agent;
  g_autoptr(GFile) file = NULL;

  if (assignment->images[assignment->next] == NULL)
    {
      send_result (assignment);
      return;
    }
  file = g_file_new_for_path (assignment->images[assignment->next]);
  kiln_content_store_add_file_async (kiln_engine_get_content_store (self->engine), file,
                                     assignment->cancellable, on_published,
                                     kiln_assignment_ref (assignment));
}

/* The work folder ------------------------------------------------------------------------- */

void
kiln_provider_agent_clean_work_dir (KilnProviderAgent *self)
{
  g_autoptr(GDir) dir = g_dir_open (self->work_dir, 0, NULL);
  const char *name;

  /* Only folders named like an assignment's (a terms digest). */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (kiln_content_hash_is_valid (name))
      {
        g_autofree char *path = g_build_filename (self->work_dir, name, NULL);

        kiln_render_remove_tree (path);
      }
}
