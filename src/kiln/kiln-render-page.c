/* kiln-render-page.c: rendering a scene: drop a .blend, check the job, submit, follow it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page is where a requestor starts. Empty, it asks for a .blend (dropped anywhere on it,
 * chosen with Open…, or the sample scene Blender makes on request). A scene is read by
 * Blender in the sandbox (kiln_scene_inspect_async()); what cannot be rendered at all (not a
 * Blender file, damaged, an engine providers lack, no camera, no Blender) is explained on a
 * page of its own, and anything else opens the job form prefilled from the scene. Submitted,
 * the job goes to the session and its page opens; the list of jobs stays beside the scene
 * (kiln-render-page-job.c).
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-file-chooser.h"
#include "kiln-render-page-private.h"
#include "kiln-window.h"

G_DEFINE_FINAL_TYPE (KilnRenderPage, kiln_render_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* What is being done with Blender once it is found. */
typedef enum
{
  READ_SCENE,
  MAKE_SAMPLE,
} ReadStep;

typedef struct
{
  KilnRenderPage *self;
  GCancellable   *cancellable;  /* the read this belongs to: a newer one makes it stale */
  ReadStep        step;
  GFile          *file;
  gboolean        sample;
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->cancellable);
  g_clear_object (&data->file);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReadData, read_data_free)

/* Whether @data's read was cancelled or replaced by a newer one. */
static gboolean
read_data_is_stale (ReadData *data)
{
  return g_cancellable_is_cancelled (data->cancellable) ||
         data->cancellable != data->self->read_cancellable;
}

static void kiln_render_page_next_step (ReadData *data);

void
kiln_render_page_show_message (KilnRenderPage *self,
                               const char     *message)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (KILN_IS_WINDOW (root))
    kiln_window_show_message (KILN_WINDOW (root), message);
}

static gboolean
kiln_render_page_is_reading (KilnRenderPage *self)
{
  return g_str_equal (gtk_stack_get_visible_child_name (self->stack), "busy");
}

static void
kiln_render_page_update_actions (KilnRenderPage *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean reading = kiln_render_page_is_reading (self);

  gtk_widget_action_set_enabled (widget, "render.cancel", reading);
  gtk_widget_action_set_enabled (widget, "render.reload", !reading && self->file != NULL);
}

void
kiln_render_page_show_view (KilnRenderPage *self,
                            const char     *name)
{
  g_assert (KILN_IS_RENDER_PAGE (self));

  gtk_stack_set_visible_child_name (self->stack, name);
  gtk_spinner_set_spinning (self->busy_spinner, g_str_equal (name, "busy"));
  kiln_render_page_update_actions (self);

  /* What happens to the scene is worth seeing, from wherever the page was. */
  kiln_render_page_show_jobs_panel (self, FALSE);
}

/* --- what cannot be rendered ----------------------------------------------------------------- */

static void
kiln_render_page_show_error (KilnRenderPage *self,
                             const GError   *error)
{
  g_autofree char *escaped = g_markup_escape_text (error->message, -1);
  const char *icon_name = "dialog-warning-symbolic";
  gboolean can_retry = self->file != NULL;
  const char *title;

  if (g_error_matches (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NOT_BLEND))
    {
      icon_name = "dialog-question-symbolic";
      title = _("Not a Blender File");
      can_retry = FALSE;
    }
  else if (g_error_matches (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNREADABLE))
    {
      title = _("Blender Can’t Read This File");
    }
  else if (g_error_matches (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_UNSUPPORTED_ENGINE))
    {
      icon_name = "kiln-render-symbolic";
      title = _("Providers Render with Cycles");
    }
  else if (g_error_matches (error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_NO_CAMERA))
    {
      icon_name = "camera-photo-symbolic";
      title = _("The Scene Has No Camera");
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      title = _("Reading the Scene Took Too Long");
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      title = _("File Not Found");
      can_retry = FALSE;
    }
  else if (g_error_matches (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND))
    {
      icon_name = "system-software-install-symbolic";
      title = _("Blender Is Not Installed");
    }
  else if (error->domain == KILN_BLENDER_ERROR)
    {
      title = _("This Blender Can’t Be Used");
    }
  else if (error->domain == KILN_SANDBOX_ERROR)
    {
      icon_name = "system-software-install-symbolic";
      title = _("Blender Can’t Run Safely");
    }
  else
    {
      title = _("Could Not Read the Scene");
    }

  adw_status_page_set_icon_name (self->error_page, icon_name);
  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, escaped);
  gtk_widget_set_visible (GTK_WIDGET (self->error_reload_button), can_retry);

  kiln_render_page_show_view (self, "error");
}

/* --- reading a scene ------------------------------------------------------------------------- */

static void
kiln_render_page_inspect_cb (GObject      *object,
                             GAsyncResult *result,
                             gpointer      user_data)
{
  g_autoptr(ReadData) data = user_data;
  KilnRenderPage *self = data->self;
  g_autoptr(KilnSceneInfo) scene = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) check_error = NULL;

  scene = kiln_scene_inspect_finish (result, &error);
  if (read_data_is_stale (data))
    return;

  if (scene == NULL)
    {
      g_debug ("Could not read the scene: %s", error->message);
      kiln_render_page_show_error (self, error);
      return;
    }

  /* Missing files are listed on the form, where the rest of the scene can be seen too; the
   * form keeps Submit disabled until they are back. */
  if (!kiln_scene_info_check (scene, &check_error) &&
      !g_error_matches (check_error, KILN_SCENE_ERROR, KILN_SCENE_ERROR_MISSING_FILES))
    {
      kiln_render_page_show_error (self, check_error);
      return;
    }

  g_set_object (&self->scene, scene);
  self->sample = data->sample;
  kiln_job_form_set_scene (self->job_form, scene, self->blender);
  if (data->sample)
    {
      g_autofree char *output = kiln_render_page_sample_output_dir ();

      kiln_job_form_set_output_dir (self->job_form, output);
    }

  kiln_render_page_show_view (self, "form");
  kiln_job_form_focus (self->job_form);
}

static void
kiln_render_page_inspect (ReadData *data)
{
  KilnRenderPage *self = data->self;
  g_autofree char *path = g_file_get_path (data->file);

  if (path == NULL)
    {
      g_autoptr(GError) error = NULL;

      g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("Kiln renders scenes stored on this computer. Save the scene in "
                             "a local folder and open it from there."));
      kiln_render_page_show_error (self, error);
      read_data_free (data);
      return;
    }

  kiln_scene_inspect_async (self->blender, self->sandbox, path, data->cancellable,
                            kiln_render_page_inspect_cb, data);
}

static void
kiln_render_page_sample_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(ReadData) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;

  path = kiln_sample_scene_make_finish (result, &error);
  if (read_data_is_stale (data))
    return;

  if (path == NULL)
    {
      g_debug ("Could not make the sample scene: %s", error->message);
      kiln_render_page_show_error (data->self, error);
      return;
    }

  file = g_file_new_for_path (path);
  kiln_render_page_read (data->self, file, TRUE);
}

static void
kiln_render_page_discover_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data)
{
  g_autoptr(ReadData) data = user_data;
  g_autoptr(KilnBlender) blender = NULL;
  g_autoptr(GError) error = NULL;

  blender = kiln_blender_discover_finish (result, &error);
  if (read_data_is_stale (data))
    return;

  if (blender == NULL)
    {
      g_debug ("Could not find Blender: %s", error->message);
      kiln_render_page_show_error (data->self, error);
      return;
    }

  g_set_object (&data->self->blender, blender);
  kiln_render_page_next_step (g_steal_pointer (&data));
}

/* Finds Blender first when it is not known yet (or was not there before). */
static void
kiln_render_page_next_step (ReadData *data)
{
  KilnRenderPage *self = data->self;

  if (self->blender == NULL)
    {
      kiln_blender_discover_async (NULL, data->cancellable, kiln_render_page_discover_cb, data);
      return;
    }

  switch (data->step)
    {
    case READ_SCENE:
      kiln_render_page_inspect (data);
      break;

    case MAKE_SAMPLE:
    default:
      kiln_sample_scene_make_async (self->blender, self->sandbox, data->cancellable,
                                    kiln_render_page_sample_cb, data);
      break;
    }
}

/* Drops any read under way and starts @step; the busy page says what is happening. */
static void
kiln_render_page_start (KilnRenderPage *self,
                        ReadStep        step,
                        GFile          *file,
                        gboolean        sample)
{
  ReadData *data;

  g_cancellable_cancel (self->read_cancellable);
  g_clear_object (&self->read_cancellable);
  self->read_cancellable = g_cancellable_new ();

  data = g_new0 (ReadData, 1);
  data->self = g_object_ref (self);
  data->cancellable = g_object_ref (self->read_cancellable);
  data->step = step;
  data->file = file != NULL ? g_object_ref (file) : NULL;
  data->sample = sample;

  if (step == READ_SCENE)
    {
      g_autofree char *base = g_file_get_basename (file);
      g_autofree char *name = g_filename_display_name (base != NULL ? base : "");
      g_autofree char *escaped = g_markup_escape_text (name, -1);
      g_autofree char *description = NULL;

      g_set_object (&self->file, file);
      self->sample = sample;

      /* TRANSLATORS: %s is the name of a .blend file */
      description = g_strdup_printf (_("Blender is reading “%s”, safely shut away from the "
                                       "rest of this computer."), escaped);
      adw_status_page_set_title (self->busy_page, _("Reading the Scene…"));
      adw_status_page_set_description (self->busy_page, description);
    }
  else
    {
      /* Nothing to read again until the sample is there. */
      g_clear_object (&self->file);
      adw_status_page_set_title (self->busy_page, _("Making the Sample Scene…"));
      adw_status_page_set_description (self->busy_page,
                                       _("Blender builds a small animated scene to try Kiln "
                                         "with."));
    }

  kiln_render_page_show_view (self, "busy");
  kiln_render_page_next_step (data);
}

void
kiln_render_page_read (KilnRenderPage *self,
                       GFile          *file,
                       gboolean        sample)
{
  g_assert (KILN_IS_RENDER_PAGE (self));
  g_assert (G_IS_FILE (file));

  kiln_render_page_start (self, READ_SCENE, file, sample);
}

char *
kiln_render_page_sample_output_dir (void)
{
  const char *pictures = g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);

  return g_build_filename (pictures != NULL ? pictures : g_get_home_dir (),
                           /* TRANSLATORS: the folder the sample scene's frames are saved in */
                           _("Kiln Sample"), NULL);
}

/* Whether another scene may be opened now; says why not when it may not. Renders under way
 * go on: only the one being submitted keeps the form. */
static gboolean
kiln_render_page_can_open (KilnRenderPage *self)
{
  if (!self->submitting)
    return TRUE;

  kiln_render_page_show_message (self, _("The render is being submitted: open the next scene "
                                         "once it is on its way"));
  return FALSE;
}

/* --- opening files ---------------------------------------------------------------------------- */

static void
kiln_render_page_choose_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(KilnRenderPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;

  file = kiln_file_chooser_run_finish (result, &error);
  if (file == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kiln_render_page_show_message (self, error->message);
      return;
    }

  kiln_render_page_open_file (self, file);
}

void
kiln_render_page_choose_file (KilnRenderPage *self)
{
  GtkRoot *root;
  g_autoptr(GFile) folder = NULL;

  g_return_if_fail (KILN_IS_RENDER_PAGE (self));

  if (!kiln_render_page_can_open (self))
    return;

  /* The chooser starts where the last scene was, except for the sample's cache folder. */
  if (self->file != NULL && !self->sample)
    folder = g_file_get_parent (self->file);

  root = gtk_widget_get_root (GTK_WIDGET (self));
  kiln_file_chooser_run_async (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                               KILN_FILE_CHOOSER_OPEN_BLEND,
                               _("Open a Blender Scene"),
                               _("_Open"),
                               NULL, folder, self->cancellable,
                               kiln_render_page_choose_cb, g_object_ref (self));
}

void
kiln_render_page_open_file (KilnRenderPage *self,
                            GFile          *file)
{
  g_return_if_fail (KILN_IS_RENDER_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  if (!kiln_render_page_can_open (self))
    return;

  kiln_render_page_read (self, file, FALSE);
}

/* --- dropping files --------------------------------------------------------------------------- */

/* While a file is over the page, the page says what dropping it does. */
static GdkDragAction
kiln_render_page_drop_enter_cb (KilnRenderPage *self)
{
  const char *shown = gtk_stack_get_visible_child_name (self->stack);

  if (!g_str_equal (shown, "drop"))
    {
      g_free (self->view_before_drop);
      self->view_before_drop = g_strdup (shown);
      kiln_render_page_show_view (self, "drop");
    }

  return GDK_ACTION_COPY;
}

/* Back to what was shown before the file came over, unless something else was shown since. */
static void
kiln_render_page_drop_leave_cb (KilnRenderPage *self)
{
  if (self->view_before_drop != NULL &&
      g_str_equal (gtk_stack_get_visible_child_name (self->stack), "drop"))
    kiln_render_page_show_view (self, self->view_before_drop);

  g_clear_pointer (&self->view_before_drop, g_free);
}

static gboolean
kiln_render_page_drop_cb (GtkDropTarget *target,
                          const GValue  *value,
                          double         x,
                          double         y,
                          gpointer       user_data)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (user_data);
  g_autoptr(GFile) file = NULL;
  guint n_files = 1;

  kiln_render_page_drop_leave_cb (self);

  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = gdk_file_list_get_files (g_value_get_boxed (value));

      n_files = g_slist_length (files);
      if (files != NULL)
        file = g_object_ref (files->data);
      g_slist_free (files);
    }
  else if (G_VALUE_HOLDS (value, G_TYPE_FILE))
    {
      file = g_value_dup_object (value);
    }

  if (file == NULL)
    return FALSE;

  if (n_files > 1)
    kiln_render_page_show_message (self, _("Kiln renders one scene at a time: it opened the "
                                           "first one"));

  kiln_render_page_open_file (self, file);
  return TRUE;
}

/* --- actions ---------------------------------------------------------------------------------- */

static void
kiln_render_page_open_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  kiln_render_page_choose_file (KILN_RENDER_PAGE (widget));
}

static void
kiln_render_page_sample_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (widget);

  if (kiln_render_page_can_open (self))
    kiln_render_page_start (self, MAKE_SAMPLE, NULL, TRUE);
}

static void
kiln_render_page_reload_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (widget);
  g_autoptr(GFile) file = NULL;

  if (self->file == NULL || !kiln_render_page_can_open (self))
    return;

  file = g_object_ref (self->file);
  kiln_render_page_read (self, file, self->sample);
}

/* Stops Blender and goes back to what was shown before. */
static void
kiln_render_page_cancel_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (widget);

  g_cancellable_cancel (self->read_cancellable);

  if (self->scene != NULL)
    {
      g_autoptr(GFile) shown = g_file_new_for_path (kiln_scene_info_get_path (self->scene));

      g_set_object (&self->file, shown);
      kiln_render_page_show_view (self, "form");
    }
  else
    {
      g_clear_object (&self->file);
      kiln_render_page_show_view (self, "empty");
    }
}

static void
kiln_render_page_show_jobs_action (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *param)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (widget);

  kiln_render_page_show_home (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->jobs_list));
}

static void
kiln_render_page_show_scene_action (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *param)
{
  kiln_render_page_show_jobs_panel (KILN_RENDER_PAGE (widget), FALSE);
}

static void
kiln_render_page_show_jobs_panel_action (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *param)
{
  kiln_render_page_show_jobs_panel (KILN_RENDER_PAGE (widget), TRUE);
}

static void
kiln_render_page_reload_jobs_action (GtkWidget  *widget,
                                     const char *action_name,
                                     GVariant   *param)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (widget);

  /* Only after a failure: loading again stops the jobs that run, to pick them up anew. */
  if (self->session != NULL && kiln_session_get_jobs_error (self->session) != NULL)
    kiln_session_reload_jobs (self->session);
}

/* --- GObject ---------------------------------------------------------------------------------- */

static void
kiln_render_page_dispose (GObject *object)
{
  KilnRenderPage *self = (KilnRenderPage *)object;

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->read_cancellable);
  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (kiln_session_get_jobs (self->session), self);
      g_signal_handlers_disconnect_by_data (self->session, self);
      kiln_render_page_bind_jobs (self, NULL);
    }
  g_clear_object (&self->session);
  g_clear_object (&self->scene);
  g_clear_object (&self->file);
  g_clear_object (&self->blender);
  g_clear_object (&self->sandbox);

  G_OBJECT_CLASS (kiln_render_page_parent_class)->dispose (object);
}

static void
kiln_render_page_finalize (GObject *object)
{
  KilnRenderPage *self = (KilnRenderPage *)object;

  g_clear_object (&self->cancellable);
  g_clear_object (&self->read_cancellable);
  g_free (self->view_before_drop);

  G_OBJECT_CLASS (kiln_render_page_parent_class)->finalize (object);
}

static void
kiln_render_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_page_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KilnRenderPage *self = KILN_RENDER_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      kiln_render_page_set_session (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_render_page_class_init (KilnRenderPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_render_page_dispose;
  object_class->finalize = kiln_render_page_finalize;
  object_class->get_property = kiln_render_page_get_property;
  object_class->set_property = kiln_render_page_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL,
                         KILN_TYPE_SESSION,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-render-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, home_leaflet);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, stack);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, open_button);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, busy_page);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, busy_spinner);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, error_page);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, error_reload_button);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, show_jobs_button);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, job_form);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_separator);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_panel);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_back_button);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_stack);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_list);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, jobs_error_page);
  gtk_widget_class_bind_template_child (widget_class, KilnRenderPage, job_page);
  gtk_widget_class_bind_template_callback (widget_class, kiln_render_page_submit);

  gtk_widget_class_install_action (widget_class, "render.open", NULL,
                                   kiln_render_page_open_action);
  gtk_widget_class_install_action (widget_class, "render.sample", NULL,
                                   kiln_render_page_sample_action);
  gtk_widget_class_install_action (widget_class, "render.reload", NULL,
                                   kiln_render_page_reload_action);
  gtk_widget_class_install_action (widget_class, "render.cancel", NULL,
                                   kiln_render_page_cancel_action);
  gtk_widget_class_install_action (widget_class, "render.show-jobs", NULL,
                                   kiln_render_page_show_jobs_action);
  gtk_widget_class_install_action (widget_class, "render.show-scene", NULL,
                                   kiln_render_page_show_scene_action);
  gtk_widget_class_install_action (widget_class, "render.show-jobs-panel", NULL,
                                   kiln_render_page_show_jobs_panel_action);
  gtk_widget_class_install_action (widget_class, "render.reload-jobs", NULL,
                                   kiln_render_page_reload_jobs_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "render.cancel", NULL);

  g_type_ensure (KILN_TYPE_JOB_FORM);
  g_type_ensure (KILN_TYPE_JOB_PAGE);
}

static void
kiln_render_page_init (KilnRenderPage *self)
{
  GtkDropTarget *target;
  GType types[] = { GDK_TYPE_FILE_LIST, G_TYPE_FILE };

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->read_cancellable = g_cancellable_new ();
  /* Someone waits for what Blender reads or makes here: it runs at normal priority. */
  self->sandbox = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (self->sandbox, FALSE);

  target = gtk_drop_target_new (G_TYPE_INVALID, GDK_ACTION_COPY);
  gtk_drop_target_set_gtypes (target, types, G_N_ELEMENTS (types));
  g_signal_connect_swapped (target, "enter", G_CALLBACK (kiln_render_page_drop_enter_cb), self);
  g_signal_connect_swapped (target, "leave", G_CALLBACK (kiln_render_page_drop_leave_cb), self);
  g_signal_connect (target, "drop", G_CALLBACK (kiln_render_page_drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));

  kiln_render_page_show_view (self, "empty");
  kiln_render_page_update_jobs (self);
}

KilnSession *
kiln_render_page_get_session (KilnRenderPage *self)
{
  g_return_val_if_fail (KILN_IS_RENDER_PAGE (self), NULL);

  return self->session;
}

void
kiln_render_page_set_session (KilnRenderPage *self,
                              KilnSession    *session)
{
  g_return_if_fail (KILN_IS_RENDER_PAGE (self));
  g_return_if_fail (!session || KILN_IS_SESSION (session));

  if (self->session == session)
    return;

  if (self->session != NULL)
    {
      g_signal_handlers_disconnect_by_data (kiln_session_get_jobs (self->session), self);
      g_signal_handlers_disconnect_by_data (self->session, self);
    }
  g_set_object (&self->session, session);

  kiln_job_form_set_session (self->job_form, session);
  kiln_render_page_bind_jobs (self, session);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}
