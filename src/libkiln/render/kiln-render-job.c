/* kiln-render-job.c: a requestor's render job: the object, its properties and signals, making
 * a job, its wallet, and its state as it moves on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-market.h"
#include "kiln-random.h"
#include "kiln-render-job-private.h"
#include "kiln-render-private.h"

G_DEFINE_QUARK (kiln-render-job-error-quark, kiln_render_job_error)

/* The job ----------------------------------------------------------------------------------- */

G_DEFINE_FINAL_TYPE (KilnRenderJob, kiln_render_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_NAME,
  PROP_STATE,
  PROP_ERROR,
  PROP_FRAMES_DONE,
  PROP_FRAMES_TOTAL,
  PROP_N_SUBTASKS,
  PROP_SUBTASKS_DONE,
  PROP_COST,
  PROP_MAX_COST,
  PROP_OWED,
  PROP_OUTPUT_DIR,
  PROP_BLEND_FILE,
  PROP_HAS_WALLET,
  PROP_ANNOUNCE_INTERVAL,
  PROP_ANNOUNCE_MAX_INTERVAL,
  N_PROPS
};

enum {
  SUBTASK_CHANGED,
  FRAME_READY,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
assignment_free (gpointer data)
{
  Assignment *assignment = data;

  kiln_render_job_clear_timeout (assignment);
  if (assignment->cancellable != NULL)
    g_cancellable_cancel (assignment->cancellable);
  g_clear_object (&assignment->cancellable);
  g_clear_object (&assignment->terms);
  g_clear_pointer (&assignment->record, kiln_job_assignment_record_free);
  g_clear_pointer (&assignment->paths, g_ptr_array_unref);
  g_free (assignment->result_dir);
  g_free (assignment);
}

static guint
digest_hash (gconstpointer key)
{
  guint hash;

  memcpy (&hash, key, sizeof hash);
  return hash;
}

static gboolean
digest_equal (gconstpointer a,
              gconstpointer b)
{
  return memcmp (a, b, KILN_MARKET_DIGEST_SIZE) == 0;
}

static guint
address_hash (gconstpointer key)
{
  const KilnAddress *address = key;
  guint hash;

  memcpy (&hash, address->bytes, sizeof hash);
  return hash;
}

static gboolean
address_equal (gconstpointer a,
               gconstpointer b)
{
  return kiln_address_equal (a, b);
}

static void
kiln_render_job_dispose (GObject *object)
{
  KilnRenderJob *self = KILN_RENDER_JOB (object);

  g_cancellable_cancel (self->cancellable);
  kiln_render_job_deactivate (self);
  g_clear_handle_id (&self->dispatch_id, g_source_remove);
  g_queue_clear (&self->verify_queue);
  self->verifying = NULL;
  if (self->cancel_task != NULL)
    {
      g_task_return_new_error (self->cancel_task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The render job was closed"));
      g_clear_object (&self->cancel_task);
    }
  g_clear_pointer (&self->untold, g_ptr_array_unref);
  g_clear_pointer (&self->by_terms, g_hash_table_unref);
  g_clear_pointer (&self->assignments, g_ptr_array_unref);
  g_clear_object (&self->book);
  g_clear_object (&self->announcement);
  g_clear_object (&self->verifier);
  g_clear_object (&self->wallet);
  g_clear_object (&self->reputation);
  g_clear_object (&self->store);
  g_clear_object (&self->sandbox);
  g_clear_object (&self->blender);
  g_clear_object (&self->engine);

  G_OBJECT_CLASS (kiln_render_job_parent_class)->dispose (object);
}

static void
kiln_render_job_finalize (GObject *object)
{
  KilnRenderJob *self = KILN_RENDER_JOB (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->settings, kiln_render_job_settings_free);
  g_clear_object (&self->plan);
  g_clear_pointer (&self->record, kiln_job_record_free);
  g_clear_pointer (&self->subtasks, g_array_unref);
  g_clear_pointer (&self->excluded, g_hash_table_unref);
  g_clear_pointer (&self->away, g_hash_table_unref);
  g_clear_pointer (&self->assigned_offers, g_hash_table_unref);
  g_clear_pointer (&self->ignored, g_hash_table_unref);
  g_clear_pointer (&self->ready_frames, g_hash_table_unref);
  g_clear_pointer (&self->assembling, g_hash_table_unref);
  g_clear_object (&self->events);

  G_OBJECT_CLASS (kiln_render_job_parent_class)->finalize (object);
}

static char *
amount_string (const KilnUint256 *amount)
{
  return kiln_uint256_to_string (amount);
}

static void
kiln_render_job_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KilnRenderJob *self = KILN_RENDER_JOB (object);
  KilnUint256 amount;

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, kiln_render_job_get_id (self));
      break;

    case PROP_NAME:
      g_value_set_string (value, kiln_render_job_get_name (self));
      break;

    case PROP_STATE:
      g_value_set_enum (value, kiln_render_job_get_state (self));
      break;

    case PROP_ERROR:
      g_value_set_string (value, kiln_render_job_get_error (self));
      break;

    case PROP_FRAMES_DONE:
      g_value_set_uint (value, kiln_render_job_get_frames_done (self));
      break;

    case PROP_FRAMES_TOTAL:
      g_value_set_uint (value, kiln_render_job_get_frames_total (self));
      break;

    case PROP_N_SUBTASKS:
      g_value_set_uint (value, kiln_render_job_get_n_subtasks (self));
      break;

    case PROP_SUBTASKS_DONE:
      g_value_set_uint (value, kiln_render_job_get_subtasks_done (self));
      break;

    case PROP_COST:
      kiln_render_job_get_cost (self, &amount);
      g_value_take_string (value, amount_string (&amount));
      break;

    case PROP_MAX_COST:
      kiln_render_job_get_max_cost (self, &amount);
      g_value_take_string (value, amount_string (&amount));
      break;

    case PROP_OWED:
      kiln_render_job_get_owed (self, &amount);
      g_value_take_string (value, amount_string (&amount));
      break;

    case PROP_OUTPUT_DIR:
      g_value_set_string (value, kiln_render_job_get_output_dir (self));
      break;

    case PROP_BLEND_FILE:
      g_value_set_string (value, kiln_render_job_get_blend_file (self));
      break;

    case PROP_HAS_WALLET:
      g_value_set_boolean (value, self->wallet != NULL);
      break;

    case PROP_ANNOUNCE_INTERVAL:
      g_value_set_uint (value, self->announce_interval);
      break;

    case PROP_ANNOUNCE_MAX_INTERVAL:
      g_value_set_uint (value, self->announce_max_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_job_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KilnRenderJob *self = KILN_RENDER_JOB (object);

  switch (prop_id)
    {
    case PROP_ANNOUNCE_INTERVAL:
      kiln_render_job_set_announce_intervals (self, g_value_get_uint (value),
                                              self->announce_max_interval);
      break;

    case PROP_ANNOUNCE_MAX_INTERVAL:
      kiln_render_job_set_announce_intervals (self, self->announce_interval,
                                              g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_job_class_init (KilnRenderJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kiln_render_job_dispose;
  object_class->finalize = kiln_render_job_finalize;
  object_class->get_property = kiln_render_job_get_property;
  object_class->set_property = kiln_render_job_set_property;

  properties[PROP_ID] = g_param_spec_string ("id", NULL, NULL, NULL, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KILN_TYPE_RENDER_JOB_STATE,
                       KILN_RENDER_JOB_STATE_PREPARING, flags);
  properties[PROP_ERROR] = g_param_spec_string ("error", NULL, NULL, NULL, flags);
  properties[PROP_FRAMES_DONE] =
    g_param_spec_uint ("frames-done", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_FRAMES_TOTAL] =
    g_param_spec_uint ("frames-total", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_N_SUBTASKS] =
    g_param_spec_uint ("n-subtasks", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_SUBTASKS_DONE] =
    g_param_spec_uint ("subtasks-done", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_COST] = g_param_spec_string ("cost", NULL, NULL, "0", flags);
  properties[PROP_MAX_COST] = g_param_spec_string ("max-cost", NULL, NULL, "0", flags);
  properties[PROP_OWED] = g_param_spec_string ("owed", NULL, NULL, "0", flags);
  properties[PROP_OUTPUT_DIR] = g_param_spec_string ("output-dir", NULL, NULL, NULL, flags);
  properties[PROP_BLEND_FILE] = g_param_spec_string ("blend-file", NULL, NULL, NULL, flags);
  properties[PROP_HAS_WALLET] =
    g_param_spec_boolean ("has-wallet", NULL, NULL, FALSE, flags);
  properties[PROP_ANNOUNCE_INTERVAL] =
    g_param_spec_uint ("announce-interval", NULL, NULL, 1, G_MAXUINT,
                       KILN_RENDER_JOB_ANNOUNCE_INTERVAL_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ANNOUNCE_MAX_INTERVAL] =
    g_param_spec_uint ("announce-max-interval", NULL, NULL, 1, G_MAXUINT,
                       KILN_RENDER_JOB_ANNOUNCE_MAX_INTERVAL_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SUBTASK_CHANGED] =
    g_signal_new ("subtask-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, KILN_TYPE_SUBTASK_STATE);
  signals[FRAME_READY] =
    g_signal_new ("frame-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
}

static void
kiln_render_job_init (KilnRenderJob *self)
{
  self->cancellable = g_cancellable_new ();
  self->record = kiln_job_record_new ();
  self->subtasks = g_array_new (FALSE, TRUE, sizeof (Subtask));
  self->assignments = g_ptr_array_new_with_free_func (assignment_free);
  self->by_terms = g_hash_table_new (digest_hash, digest_equal);
  self->excluded = g_hash_table_new_full (address_hash, address_equal,
                                          (GDestroyNotify) kiln_address_free, NULL);
  self->away = g_hash_table_new_full (address_hash, address_equal,
                                      (GDestroyNotify) kiln_address_free, g_object_unref);
  self->assigned_offers = g_hash_table_new_full (address_hash, address_equal,
                                                 (GDestroyNotify) kiln_address_free,
                                                 g_object_unref);
  self->ready_frames = g_hash_table_new (NULL, NULL);
  self->assembling = g_hash_table_new (NULL, NULL);
  self->events = g_list_store_new (KILN_TYPE_RENDER_JOB_EVENT);
  self->untold = g_ptr_array_new ();
  self->ignored = g_hash_table_new_full (address_hash, address_equal,
                                         (GDestroyNotify) kiln_address_free, NULL);
  self->announce_interval = KILN_RENDER_JOB_ANNOUNCE_INTERVAL_MS;
  self->announce_max_interval = KILN_RENDER_JOB_ANNOUNCE_MAX_INTERVAL_MS;
  self->announce_backoff = self->announce_interval;
  g_queue_init (&self->verify_queue);
}

KilnRenderJob *
kiln_render_job_new_empty (KilnEngine  *engine,
                           KilnBlender *blender,
                           KilnSandbox *sandbox,
                           KilnWallet  *wallet)
{
  KilnRenderJob *self = g_object_new (KILN_TYPE_RENDER_JOB, NULL);
  KilnStore *store = kiln_engine_get_store (engine);

  self->engine = g_object_ref (engine);
  self->blender = g_object_ref (blender);
  self->sandbox = sandbox != NULL ? g_object_ref (sandbox) : kiln_sandbox_new ();
  self->verifier = kiln_verifier_new (self->blender, self->sandbox);
  self->wallet = wallet != NULL ? g_object_ref (wallet) : NULL;
  self->store = kiln_job_store_new (store);
  self->reputation = kiln_reputation_new (store);
  return self;
}

/* Making a job ------------------------------------------------------------------------------ */

/* The files providers are sent, hashed when the job starts: the .blend, then the files it
 * uses, each under its own name. */
static void
add_resources (KilnRenderJob *self,
               KilnSceneInfo *scene)
{
  static const guint8 unknown[KILN_MARKET_HASH_SIZE] = { 0 };
  GPtrArray *files = kiln_scene_info_get_files (scene);
  g_autofree char *name = g_path_get_basename (self->record->blend_file);

  g_ptr_array_add (self->record->resources,
                   kiln_job_resource_new (name, self->record->blend_file, unknown, 0));
  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      const KilnSceneFile *file = g_ptr_array_index (files, i);
      g_autofree char *base = g_path_get_basename (file->path);

      g_ptr_array_add (self->record->resources,
                       kiln_job_resource_new (base, file->path, unknown, 0));
    }
}

static char *
new_job_id (void)
{
  guint8 bytes[16];
  GString *id = g_string_sized_new (32);

  if (!kiln_random_bytes (bytes, sizeof bytes, NULL))
    g_error ("The system’s random number generator failed");
  for (guint i = 0; i < sizeof bytes; i++)
    g_string_append_printf (id, "%02x", bytes[i]);
  return g_string_free (id, FALSE);
}

KilnRenderJob *
kiln_render_job_new (KilnEngine                  *engine,
                     KilnBlender                 *blender,
                     KilnSandbox                 *sandbox,
                     KilnSceneInfo               *scene,
                     const KilnRenderJobSettings *settings,
                     KilnWallet                  *wallet,
                     const KilnUint256           *balance,
                     GError                     **error)
{
  g_autoptr(KilnRenderJob) self = NULL;
  g_autoptr(KilnJobPlan) plan = NULL;
  g_autoptr(JsonNode) settings_json = NULL;
  g_autoptr(JsonNode) plan_json = NULL;
  g_autofree char *data_dir = NULL;
  KilnJobPlanFlags flags = KILN_JOB_PLAN_FLAGS_NONE;
  KilnUint256 max_cost;
  KilnUint256 available;
  guint n_frames;
  guint max_subtasks;

  g_return_val_if_fail (KILN_IS_ENGINE (engine), NULL);
  g_return_val_if_fail (KILN_IS_BLENDER (blender), NULL);
  g_return_val_if_fail (sandbox == NULL || KILN_IS_SANDBOX (sandbox), NULL);
  g_return_val_if_fail (KILN_IS_SCENE_INFO (scene), NULL);
  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (wallet == NULL || KILN_IS_WALLET (wallet), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kiln_scene_info_check (scene, error) ||
      !kiln_render_job_check_settings (settings, error) ||
      !kiln_render_job_check_files (scene, error))
    return NULL;

  self = kiln_render_job_new_empty (engine, blender, sandbox, wallet);
  self->settings = kiln_render_job_settings_copy (settings);
  if (wallet != NULL)
    {
      KilnChain *chain = kiln_wallet_get_chain (wallet);
      const KilnAddress *token = kiln_chain_get_token (chain);

      self->settings->chain_id = kiln_chain_get_chain_id (chain);
      if (token != NULL)
        self->settings->token = *token;
      else
        self->settings->chain_id = 0;
    }
  if (self->settings->chain_id == 0)
    {
      g_set_error_literal (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID,
                           _("Choose the chain and token the work is paid with."));
      return NULL;
    }

  /* One subtask per frame unless asked otherwise, within what an announcement can name. */
  n_frames = kiln_frame_spec_get_n_frames (settings->frames);
  max_subtasks = settings->n_subtasks > 0 ? settings->n_subtasks : n_frames;
  max_subtasks = MIN (max_subtasks, KILN_MARKET_MAX_SUBTASKS);
  if (kiln_scene_info_get_uses_compositing (scene))
    flags |= KILN_JOB_PLAN_FLAGS_NO_STRIPS;
  plan = kiln_job_plan_new (settings->frames, settings->width, settings->height,
                            settings->samples, settings->format, max_subtasks, flags, error);
  if (plan == NULL)
    return NULL;

  if (!kiln_market_estimate_max_cost (n_frames, kiln_job_plan_get_n_subtasks (plan),
                                      settings->subtask_timeout, &settings->max_price,
                                      settings->cores, &max_cost, error))
    return NULL;
  if (kiln_uint256_bit_length (&max_cost) > KILN_MARKET_AMOUNT_BITS)
    {
      g_set_error_literal (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID,
                           _("The job could cost more than Kiln can announce; lower the price "
                             "or the timeout."));
      return NULL;
    }

  if (balance != NULL)
    available = *balance;
  else if (wallet != NULL && kiln_wallet_get_has_balances (wallet))
    kiln_wallet_get_token_balance (wallet, &available);
  else
    {
      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_NOT_READY,
                   _("The wallet’s balance is not known yet; try again once it is shown."));
      return NULL;
    }
  if (kiln_uint256_compare (&max_cost, &available) > 0)
    {
      g_autofree char *need = kiln_render_job_format_amount (&max_cost);
      g_autofree char *have = kiln_render_job_format_amount (&available);

      g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INSUFFICIENT_FUNDS,
                   _("This job can cost up to %s, but the wallet holds %s. Add funds, or lower "
                     "the price, the timeout or the number of subtasks."), need, have);
      return NULL;
    }

  self->plan = g_steal_pointer (&plan);
  settings_json = kiln_render_job_settings_to_json (self->settings);
  plan_json = kiln_job_plan_to_json (self->plan);

  self->record->id = new_job_id ();
  self->record->name = g_strdup (settings->name != NULL && *settings->name != '\0'
                                 ? settings->name : kiln_scene_info_get_scene_name (scene));
  self->record->blend_file = g_strdup (kiln_scene_info_get_path (scene));
  self->record->output_dir = g_strdup (settings->output_dir);
  data_dir = g_build_filename (kiln_engine_get_data_dir (engine), "render-jobs", NULL);
  self->record->work_dir = g_build_filename (data_dir, self->record->id, NULL);
  self->record->state = KILN_RENDER_JOB_STATE_PREPARING;
  self->record->settings = json_to_string (settings_json, FALSE);
  self->record->plan = json_to_string (plan_json, FALSE);
  self->record->max_cost = max_cost;
  self->record->created_at = kiln_render_job_now_us ();
  self->record->updated_at = self->record->created_at;

  g_array_set_size (self->subtasks, kiln_job_plan_get_n_subtasks (self->plan));
  add_resources (self, scene);

  return g_steal_pointer (&self);
}

/* Wallet and announcing --------------------------------------------------------------------- */

gboolean
kiln_render_job_set_wallet (KilnRenderJob  *self,
                            KilnWallet     *wallet,
                            GError        **error)
{
  KilnChain *chain;

  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), FALSE);
  g_return_val_if_fail (KILN_IS_WALLET (wallet), FALSE);

  chain = kiln_wallet_get_chain (wallet);
  if (kiln_chain_get_chain_id (chain) != self->settings->chain_id ||
      kiln_chain_get_token (chain) == NULL ||
      !kiln_address_equal (kiln_chain_get_token (chain), &self->settings->token))
    {
      g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_WRONG_CHAIN,
                   _("This job is paid on another chain or in another token than this "
                     "wallet’s."));
      return FALSE;
    }

  if (self->wallet == wallet)
    return TRUE;

  g_set_object (&self->wallet, wallet);
  self->told_no_wallet = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_WALLET]);
  kiln_render_job_pay_owed (self);
  return TRUE;
}

void
kiln_render_job_set_announce_intervals (KilnRenderJob *self,
                                        guint          first,
                                        guint          most)
{
  g_return_if_fail (KILN_IS_RENDER_JOB (self));
  g_return_if_fail (first > 0);

  most = MAX (most, first);
  g_object_freeze_notify (G_OBJECT (self));
  if (self->announce_interval != first)
    {
      self->announce_interval = first;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANNOUNCE_INTERVAL]);
    }
  if (self->announce_max_interval != most)
    {
      self->announce_max_interval = most;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANNOUNCE_MAX_INTERVAL]);
    }
  g_object_thaw_notify (G_OBJECT (self));

  /* The next announcement keeps to the new waits. */
  self->announce_backoff = first;
  if (self->reannounce_id != 0)
    {
      g_clear_handle_id (&self->reannounce_id, g_source_remove);
      kiln_render_job_keep_announcing (self, TRUE);
    }
}

guint
kiln_render_job_get_announce_interval (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  return self->announce_interval;
}

guint
kiln_render_job_get_announce_max_interval (KilnRenderJob *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_JOB (self), 0);

  return self->announce_max_interval;
}

/* State ------------------------------------------------------------------------------------- */

static const char *
describe_state (KilnRenderJobState state)
{
  switch (state)
    {
    case KILN_RENDER_JOB_STATE_PREPARING:
      return _("Preparing the job");
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
      return _("Looking for providers");
    case KILN_RENDER_JOB_STATE_RUNNING:
      return _("Providers are rendering");
    case KILN_RENDER_JOB_STATE_VERIFYING:
      return _("Verifying results");
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
      return _("Joining strips");
    case KILN_RENDER_JOB_STATE_PAYING:
      return _("Paying the providers");
    case KILN_RENDER_JOB_STATE_DONE:
      return _("The job is done");
    case KILN_RENDER_JOB_STATE_FAILED:
      return _("The job failed");
    case KILN_RENDER_JOB_STATE_CANCELLED:
      return _("The job was cancelled");
    default:
      g_assert_not_reached ();
    }
}

void
kiln_render_job_set_state (KilnRenderJob      *self,
                           KilnRenderJobState  state)
{
  if (self->record->state == state)
    return;

  self->record->state = state;
  kiln_render_job_log (self, -1, "%s", describe_state (state));
  kiln_render_job_save (self, -1, NULL, NULL, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);

  if (kiln_render_job_state_is_final (state))
    {
      kiln_render_job_deactivate (self);
      /* Results and strips are gone by now; a failed job keeps its folder to look at. */
      if (state != KILN_RENDER_JOB_STATE_FAILED && self->record->work_dir != NULL)
        kiln_render_remove_tree (self->record->work_dir);
      kiln_render_job_check_cancelled (self);
    }
}

void
kiln_render_job_fail (KilnRenderJob *self,
                      const GError  *error)
{
  if (kiln_render_job_state_is_final (self->record->state))
    return;

  g_free (self->record->error);
  self->record->error = g_strdup (error->message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  kiln_render_job_log (self, -1, _("The job failed: %s"), error->message);
  kiln_render_job_withdraw_all (self, error->message);
  kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_FAILED);
}

/* The state follows the subtasks while the job runs; the later states are set by the
 * steps that reach them. */
void
kiln_render_job_refresh_state (KilnRenderJob *self)
{
  gboolean out = FALSE;
  gboolean verifying = FALSE;
  guint done = 0;

  switch (self->record->state)
    {
    case KILN_RENDER_JOB_STATE_ANNOUNCING:
    case KILN_RENDER_JOB_STATE_RUNNING:
    case KILN_RENDER_JOB_STATE_VERIFYING:
      break;

    case KILN_RENDER_JOB_STATE_PREPARING:
    case KILN_RENDER_JOB_STATE_ASSEMBLING:
    case KILN_RENDER_JOB_STATE_PAYING:
    case KILN_RENDER_JOB_STATE_DONE:
    case KILN_RENDER_JOB_STATE_FAILED:
    case KILN_RENDER_JOB_STATE_CANCELLED:
    default:
      return;
    }

  if (self->cancelling)
    return;

  for (guint i = 0; i < self->subtasks->len; i++)
    {
      const Subtask *subtask = &g_array_index (self->subtasks, Subtask, i);

      out |= subtask->state == KILN_SUBTASK_STATE_ASSIGNED ||
             subtask->state == KILN_SUBTASK_STATE_RENDERING;
      verifying |= subtask->state == KILN_SUBTASK_STATE_VERIFYING;
      done += subtask->state == KILN_SUBTASK_STATE_DONE;
    }

  if (done == self->subtasks->len)
    kiln_render_job_check_complete (self);
  else if (out || (done > 0 && !verifying))
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_RUNNING);
  else if (verifying)
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_VERIFYING);
  else
    kiln_render_job_set_state (self, KILN_RENDER_JOB_STATE_ANNOUNCING);
}

void
kiln_render_job_subtask_changed (KilnRenderJob *self,
                                 guint          index)
{
  const Subtask *subtask = &g_array_index (self->subtasks, Subtask, index);

  g_signal_emit (self, signals[SUBTASK_CHANGED], 0, index, subtask->state);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBTASKS_DONE]);
  kiln_render_job_refresh_state (self);
}

/* Keeps the offer @assignment was made on, so that a retry can take its provider back after
 * the offer left the book. */
static void
remember_offer (KilnRenderJob *self,
                Assignment    *assignment)
{
  g_autoptr(GPtrArray) offers = NULL;

  if (self->book == NULL)
    return;

  offers = kiln_offer_book_list (self->book, kiln_render_job_now_s ());
  for (guint i = 0; i < offers->len; i++)
    {
      KilnOffer *offer = g_ptr_array_index (offers, i);

      if (kiln_address_equal (kiln_offer_get_provider (offer), &assignment->record->provider))
        {
          g_hash_table_replace (self->assigned_offers,
                                kiln_address_copy (&assignment->record->provider),
                                g_object_ref (offer));
          return;
        }
    }
}

void
kiln_render_job_set_subtask_state (KilnRenderJob    *self,
                                   guint             index,
                                   KilnSubtaskState  state)
{
  Subtask *subtask = &g_array_index (self->subtasks, Subtask, index);

  if (subtask->state == state)
    return;

  subtask->state = state;
  if (state == KILN_SUBTASK_STATE_ASSIGNED && subtask->current != NULL)
    remember_offer (self, subtask->current);
  kiln_render_job_subtask_changed (self, index);
}

void
kiln_render_job_mark_frame_ready (KilnRenderJob *self,
                                  int            frame,
                                  const char    *path)
{
  if (!g_hash_table_add (self->ready_frames, GINT_TO_POINTER (frame)))
    return;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAMES_DONE]);
  g_signal_emit (self, signals[FRAME_READY], 0, frame, path);
}

void
kiln_render_job_notify_money (KilnRenderJob *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COST]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OWED]);
}
