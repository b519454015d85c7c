/* kiln-job-form.c: the settings of a render job, prefilled from its scene, and what it may cost
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The form shows what kiln_render_job_settings_new_for_scene() proposes for a scene and lets
 * the person change it; every change is checked at once (kiln-job-form-check.c) and Submit
 * stays disabled, with the reason under it, until the job could start. kiln_render_job_new()
 * still has the last word when it is pressed. The form follows the session's wallet for the
 * balance and the token, and its engine for the node the job runs on.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-file-chooser.h"
#include "kiln-job-form-private.h"

/* What the price field says before the person types one: one token per CPU-hour. */
#define DEFAULT_MAX_PRICE "1"

G_DEFINE_FINAL_TYPE (KilnJobForm, kiln_job_form, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_SCENE,
  PROP_PROBLEM,
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SUBMIT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
kiln_job_form_notify_problem (KilnJobForm *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

/* --- the scene ----------------------------------------------------------------------------- */

static void
kiln_job_form_show_output_dir (KilnJobForm *self)
{
  g_autofree char *shown = NULL;

  if (self->output_dir != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (self->output_dir);

      shown = kiln_file_chooser_display_path (file);
    }

  adw_action_row_set_subtitle (self->output_row, shown != NULL ? shown : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->output_row), self->output_dir);
}

static char *
describe_engine (const char *engine)
{
  if (g_str_equal (engine, KILN_SCENE_ENGINE_CYCLES))
    return g_strdup ("Cycles");
  if (g_str_has_prefix (engine, "BLENDER_EEVEE"))
    return g_strdup ("EEVEE");
  if (g_str_equal (engine, "BLENDER_WORKBENCH"))
    return g_strdup ("Workbench");

  return g_strdup (engine);
}

void
kiln_job_form_set_scene (KilnJobForm   *self,
                         KilnSceneInfo *scene,
                         KilnBlender   *blender)
{
  g_autofree char *base = NULL;
  g_autofree char *file_name = NULL;
  g_autofree char *engine = NULL;
  g_autofree char *frames = NULL;
  g_autofree char *description = NULL;
  const char *price;

  g_return_if_fail (KILN_IS_JOB_FORM (self));
  g_return_if_fail (KILN_IS_SCENE_INFO (scene));
  g_return_if_fail (!blender || KILN_IS_BLENDER (blender));

  g_set_object (&self->blender, blender);
  if (!g_set_object (&self->scene, scene))
    return;

  g_clear_pointer (&self->proposed, kiln_render_job_settings_free);
  g_clear_pointer (&self->submit_error, g_free);
  self->proposed = kiln_render_job_settings_new_for_scene (scene);

  base = g_path_get_basename (kiln_scene_info_get_path (scene));
  file_name = g_filename_display_name (base);
  engine = describe_engine (kiln_scene_info_get_engine (scene));
  /* TRANSLATORS: the scene's name in the file, its render engine and the Blender that saved
   * it: "“Scene” · Cycles · Blender 3.4.1" */
  description = g_strdup_printf (_("“%s” · %s · Blender %s"),
                                 kiln_scene_info_get_scene_name (scene), engine,
                                 kiln_scene_info_get_file_version (scene));
  gtk_label_set_label (self->file_label, file_name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->file_label), kiln_scene_info_get_path (scene));
  gtk_label_set_label (self->scene_label, description);

  kiln_job_form_note_scene (self);

  /* Everything below follows the scene; the price the person chose stays. */
  self->syncing++;
  frames = kiln_frame_spec_to_string (self->proposed->frames);
  gtk_editable_set_text (GTK_EDITABLE (self->frames_row), frames);
  gtk_spin_button_set_value (self->width_spin, self->proposed->width);
  gtk_spin_button_set_value (self->height_spin, self->proposed->height);
  gtk_spin_button_set_value (self->samples_spin, self->proposed->samples);
  adw_combo_row_set_selected (self->format_row,
                              self->proposed->format == KILN_IMAGE_FORMAT_OPEN_EXR ? 1 : 0);
  self->subtasks_auto = TRUE;
  gtk_spin_button_set_value (self->timeout_spin,
                             MAX (self->proposed->subtask_timeout / 60, 1));
  gtk_spin_button_set_value (self->cores_spin, MAX (self->proposed->cores, 1));
  price = gtk_editable_get_text (GTK_EDITABLE (self->price_row));
  if (price[0] == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->price_row), DEFAULT_MAX_PRICE);
  self->syncing--;

  g_free (self->output_dir);
  self->output_dir = g_strdup (self->proposed->output_dir);
  kiln_job_form_show_output_dir (self);

  kiln_job_form_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCENE]);
}

KilnSceneInfo *
kiln_job_form_get_scene (KilnJobForm *self)
{
  g_return_val_if_fail (KILN_IS_JOB_FORM (self), NULL);

  return self->scene;
}

void
kiln_job_form_set_output_dir (KilnJobForm *self,
                              const char  *path)
{
  g_return_if_fail (KILN_IS_JOB_FORM (self));
  g_return_if_fail (path == NULL || g_path_is_absolute (path));

  g_free (self->output_dir);
  self->output_dir = g_strdup (path);
  kiln_job_form_show_output_dir (self);
  kiln_job_form_update (self);
}

const char *
kiln_job_form_get_problem (KilnJobForm *self)
{
  g_return_val_if_fail (KILN_IS_JOB_FORM (self), NULL);

  return self->problem;
}

KilnRenderJobSettings *
kiln_job_form_dup_settings (KilnJobForm *self)
{
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  g_autoptr(KilnFrameSpec) frames = NULL;
  g_autofree char *message = NULL;
  KilnUint256 price;

  g_return_val_if_fail (KILN_IS_JOB_FORM (self), NULL);

  if (self->proposed == NULL || self->output_dir == NULL)
    return NULL;

  frames = kiln_frame_spec_parse (gtk_editable_get_text (GTK_EDITABLE (self->frames_row)),
                                  NULL);
  if (frames == NULL || !kiln_job_form_read_price (self, &price, &message))
    return NULL;

  settings = kiln_render_job_settings_copy (self->proposed);
  g_clear_pointer (&settings->frames, kiln_frame_spec_unref);
  settings->frames = g_steal_pointer (&frames);
  settings->width = kiln_job_form_spin_value (self->width_spin);
  settings->height = kiln_job_form_spin_value (self->height_spin);
  settings->samples = kiln_job_form_spin_value (self->samples_spin);
  settings->format = kiln_job_form_get_format (self);
  settings->n_subtasks = self->subtasks_auto ? 0 : kiln_job_form_spin_value (self->subtasks_spin);
  settings->subtask_timeout = kiln_job_form_spin_value (self->timeout_spin) * 60;
  settings->cores = kiln_job_form_spin_value (self->cores_spin);
  settings->max_price = price;
  g_free (settings->output_dir);
  settings->output_dir = g_strdup (self->output_dir);

  return g_steal_pointer (&settings);
}

void
kiln_job_form_show_submit_error (KilnJobForm *self,
                                 const char  *message)
{
  g_autofree char *problem = NULL;

  g_return_if_fail (KILN_IS_JOB_FORM (self));

  g_free (self->submit_error);
  self->submit_error = g_strdup (message);
  problem = g_strdup (self->problem);
  kiln_job_form_set_problem (self, problem);
}

gboolean
kiln_job_form_get_busy (KilnJobForm *self)
{
  g_return_val_if_fail (KILN_IS_JOB_FORM (self), FALSE);

  return self->busy;
}

void
kiln_job_form_set_busy (KilnJobForm *self,
                        gboolean     busy)
{
  g_autofree char *problem = NULL;

  g_return_if_fail (KILN_IS_JOB_FORM (self));

  busy = !!busy;
  if (self->busy == busy)
    return;

  self->busy = busy;
  gtk_spinner_set_spinning (self->submit_spinner, busy);
  gtk_stack_set_visible_child_name (self->submit_stack, busy ? "spinner" : "label");
  /* An entry made insensitive with the keyboard in it never hears that it lost it: the
   * keyboard goes to Submit first. */
  if (busy)
    gtk_widget_grab_focus (GTK_WIDGET (self->submit_button));
  gtk_widget_set_sensitive (self->content_box, !busy);
  problem = g_strdup (self->problem);
  kiln_job_form_set_problem (self, problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

void
kiln_job_form_focus (KilnJobForm *self)
{
  g_return_if_fail (KILN_IS_JOB_FORM (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->frames_row));
}

/* --- the wallet and the session ------------------------------------------------------------ */

static void
kiln_job_form_sync_token (KilnJobForm *self)
{
  g_autofree char *title = NULL;

  /* TRANSLATORS: %s is the token, "GNT" */
  title = g_strdup_printf (_("Maximum _Price (%s per CPU-hour)"), kiln_job_form_get_symbol (self));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->price_row), title);
}

static void
kiln_job_form_sync_wallet (KilnJobForm *self)
{
  KilnWallet *wallet = self->session != NULL ? kiln_session_get_wallet (self->session) : NULL;

  if (self->wallet != wallet)
    {
      if (self->wallet != NULL)
        g_signal_handlers_disconnect_by_data (self->wallet, self);
      g_set_object (&self->wallet, wallet);
      if (wallet != NULL)
        g_signal_connect_object (wallet, "balances-changed",
                                 G_CALLBACK (kiln_job_form_update), self, G_CONNECT_SWAPPED);
      kiln_job_form_sync_token (self);
    }

  kiln_job_form_update (self);
}

KilnSession *
kiln_job_form_get_session (KilnJobForm *self)
{
  g_return_val_if_fail (KILN_IS_JOB_FORM (self), NULL);

  return self->session;
}

void
kiln_job_form_set_session (KilnJobForm *self,
                           KilnSession *session)
{
  g_return_if_fail (KILN_IS_JOB_FORM (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);

  g_set_object (&self->session, session);

  if (session != NULL)
    {
      static const char * const followed[] = {
        "notify::state", "notify::key", "notify::engine", "notify::engine-error",
      };

      g_signal_connect_object (session, "notify::wallet",
                               G_CALLBACK (kiln_job_form_sync_wallet), self, G_CONNECT_SWAPPED);
      for (guint i = 0; i < G_N_ELEMENTS (followed); i++)
        g_signal_connect_object (session, followed[i],
                                 G_CALLBACK (kiln_job_form_update), self, G_CONNECT_SWAPPED);
    }

  kiln_job_form_sync_wallet (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

/* --- actions ------------------------------------------------------------------------------- */

static void
kiln_job_form_choose_output_cb (GObject      *object,
                                GAsyncResult *result,
                                gpointer      user_data)
{
  g_autoptr(KilnJobForm) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) folder = NULL;
  g_autofree char *path = NULL;

  folder = kiln_file_chooser_run_finish (result, &error);
  if (folder == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Could not choose a folder: %s", error->message);
      return;
    }

  path = g_file_get_path (folder);
  if (path == NULL)
    {
      kiln_job_form_show_submit_error (self, _("Choose a folder on this computer for the "
                                               "frames."));
      return;
    }

  kiln_job_form_set_output_dir (self, path);
}

static void
kiln_job_form_choose_output_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  KilnJobForm *self = KILN_JOB_FORM (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GFile) initial = NULL;

  /* The chooser opens where the frames would go, or beside it when it is not made yet. */
  if (self->output_dir != NULL)
    {
      g_autoptr(GFile) output = g_file_new_for_path (self->output_dir);

      initial = g_file_query_exists (output, NULL) ? g_object_ref (output)
                                                   : g_file_get_parent (output);
    }

  kiln_file_chooser_run_async (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                               KILN_FILE_CHOOSER_SELECT_FOLDER,
                               _("Choose the Output Folder"),
                               _("_Select"),
                               NULL, initial, self->cancellable,
                               kiln_job_form_choose_output_cb, g_object_ref (self));
}

static void
kiln_job_form_submit_action (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  KilnJobForm *self = KILN_JOB_FORM (widget);
  GtkSpinButton *spins[] = {
    self->width_spin, self->height_spin, self->samples_spin,
    self->subtasks_spin, self->timeout_spin, self->cores_spin,
  };

  /* A number still being typed counts: a spin button takes it on Enter or when left. Any
   * change is checked again before going further. */
  for (guint i = 0; i < G_N_ELEMENTS (spins); i++)
    gtk_spin_button_update (spins[i]);

  if (self->problem != NULL || self->busy || self->scene == NULL)
    return;

  g_signal_emit (self, signals[SUBMIT], 0);
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_job_form_dispose (GObject *object)
{
  KilnJobForm *self = (KilnJobForm *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  if (self->wallet != NULL)
    g_signal_handlers_disconnect_by_data (self->wallet, self);
  g_clear_object (&self->wallet);
  g_clear_object (&self->session);
  g_clear_object (&self->scene);
  g_clear_object (&self->blender);

  G_OBJECT_CLASS (kiln_job_form_parent_class)->dispose (object);
}

static void
kiln_job_form_finalize (GObject *object)
{
  KilnJobForm *self = (KilnJobForm *)object;

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->proposed, kiln_render_job_settings_free);
  g_clear_pointer (&self->note_rows, g_ptr_array_unref);
  g_free (self->scene_problem);
  g_free (self->output_dir);
  g_free (self->problem);
  g_free (self->submit_error);

  G_OBJECT_CLASS (kiln_job_form_parent_class)->finalize (object);
}

static void
kiln_job_form_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KilnJobForm *self = KILN_JOB_FORM (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    case PROP_SCENE:
      g_value_set_object (value, self->scene);
      break;

    case PROP_PROBLEM:
      g_value_set_string (value, self->problem);
      break;

    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_job_form_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KilnJobForm *self = KILN_JOB_FORM (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      kiln_job_form_set_session (self, g_value_get_object (value));
      break;

    case PROP_BUSY:
      kiln_job_form_set_busy (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_job_form_class_init (KilnJobFormClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_job_form_dispose;
  object_class->finalize = kiln_job_form_finalize;
  object_class->get_property = kiln_job_form_get_property;
  object_class->set_property = kiln_job_form_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         KILN_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SCENE] =
    g_param_spec_object ("scene", NULL, NULL,
                         KILN_TYPE_SCENE_INFO,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KilnJobForm::submit:
   *
   * Submit was pressed while the job could start.
   */
  signals[SUBMIT] =
    g_signal_new ("submit",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-job-form.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, content_box);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, file_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, scene_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, notes_group);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, frames_row);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, frames_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, width_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, height_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, samples_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, format_row);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, subtasks_row);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, subtasks_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, cores_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, price_row);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, price_error_revealer);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, price_error_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, output_row);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, summary_label);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, submit_button);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, submit_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, submit_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnJobForm, reason_label);
  gtk_widget_class_bind_template_callback (widget_class, kiln_job_form_update);
  gtk_widget_class_bind_template_callback (widget_class, kiln_job_form_subtasks_changed_cb);

  gtk_widget_class_install_action (widget_class, "job-form.choose-output", NULL,
                                   kiln_job_form_choose_output_action);
  gtk_widget_class_install_action (widget_class, "job-form.submit", NULL,
                                   kiln_job_form_submit_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK,
                                       "job-form.submit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK,
                                       "job-form.submit", NULL);
}

static void
kiln_job_form_init (KilnJobForm *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->note_rows = g_ptr_array_new ();
  self->subtasks_auto = TRUE;

  g_signal_connect_object (self->price_error_revealer, "notify::child-revealed",
                           G_CALLBACK (kiln_job_form_price_revealed_cb),
                           self, G_CONNECT_SWAPPED);

  kiln_job_form_sync_token (self);
  kiln_job_form_set_problem (self, NULL);
}
