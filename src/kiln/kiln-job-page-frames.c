/* kiln-job-page-frames.c: the grid of frame thumbnails, filled as frames come in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every frame of the job has a place in the grid from the start, an empty card until the
 * frame is complete in the output folder (::frame-ready). Its thumbnail is then read and
 * scaled on a worker thread, so that a job of many frames does not stall the window.
 * Activating a thumbnail opens the frame in the image viewer.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-page-private.h"

/* Thumbnails are this wide; their height follows the frame's shape. */
#define THUMBNAIL_WIDTH      176
#define THUMBNAIL_MAX_HEIGHT 240
#define THUMBNAIL_MIN_HEIGHT 48

static void
thumbnail_size (KilnJobPage *self,
                int         *width,
                int         *height)
{
  const KilnRenderJobSettings *settings = kiln_render_job_get_settings (self->job);
  double ratio = 0.75;

  if (settings != NULL && settings->width > 0 && settings->height > 0)
    ratio = (double) settings->height / settings->width;

  *width = THUMBNAIL_WIDTH;
  *height = CLAMP ((int) (THUMBNAIL_WIDTH * ratio + 0.5), THUMBNAIL_MIN_HEIGHT,
                   THUMBNAIL_MAX_HEIGHT);
}

/* --- reading thumbnails off the main thread -------------------------------------------------- */

typedef struct
{
  char *path;
  int   width;
  int   height;
  int   frame;
} ThumbnailData;

static void
thumbnail_data_free (ThumbnailData *data)
{
  g_free (data->path);
  g_free (data);
}

static void
load_thumbnail_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  ThumbnailData *data = task_data;
  GdkPixbuf *pixbuf;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  pixbuf = gdk_pixbuf_new_from_file_at_scale (data->path, data->width, data->height, TRUE,
                                              &error);
  if (pixbuf == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, pixbuf, g_object_unref);
}

static void
kiln_job_page_thumbnail_loaded_cb (GObject      *object,
                                   GAsyncResult *result,
                                   gpointer      user_data)
{
  KilnJobPage *self = KILN_JOB_PAGE (object);
  ThumbnailData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *label = NULL;
  GtkWidget *child;
  GtkStack *stack;
  GtkPicture *picture;

  pixbuf = g_task_propagate_pointer (G_TASK (result), &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  child = g_hash_table_lookup (self->frame_children, GINT_TO_POINTER (data->frame));
  if (child == NULL)
    return;
  stack = g_object_get_data (G_OBJECT (child), "stack");
  picture = g_object_get_data (G_OBJECT (child), "picture");

  if (pixbuf == NULL)
    {
      /* OpenEXR frames, for one, have no thumbnail here: the card says the frame is in. */
      g_debug ("No thumbnail of %s: %s", data->path, error->message);
      gtk_image_set_from_icon_name (g_object_get_data (G_OBJECT (child), "icon"),
                                    "image-x-generic-symbolic");
      /* TRANSLATORS: how a screen reader names a frame without a thumbnail */
      label = g_strdup_printf (_("Frame %d, rendered"), data->frame);
      gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                      -1);
      return;
    }

  texture = gdk_texture_new_for_pixbuf (pixbuf);
  gtk_picture_set_paintable (picture, GDK_PAINTABLE (texture));
  label = g_strdup_printf (_("Frame %d"), data->frame);
  gtk_accessible_update_property (GTK_ACCESSIBLE (picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  gtk_stack_set_visible_child_name (stack, "picture");
}

static void
kiln_job_page_load_thumbnail (KilnJobPage *self,
                              int          frame,
                              const char  *path)
{
  g_autoptr(GTask) task = NULL;
  ThumbnailData *data;

  data = g_new0 (ThumbnailData, 1);
  data->path = g_strdup (path);
  data->frame = frame;
  thumbnail_size (self, &data->width, &data->height);

  task = g_task_new (self, self->cancellable, kiln_job_page_thumbnail_loaded_cb, NULL);
  g_task_set_source_tag (task, kiln_job_page_load_thumbnail);
  g_task_set_task_data (task, data, (GDestroyNotify) thumbnail_data_free);
  g_task_run_in_thread (task, load_thumbnail_thread);
}

/* --- the grid --------------------------------------------------------------------------------- */

static GtkWidget *
kiln_job_page_new_frame_child (KilnJobPage *self,
                               int          frame)
{
  GtkWidget *child = gtk_flow_box_child_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *stack = gtk_stack_new ();
  GtkWidget *placeholder = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *icon = gtk_image_new_from_icon_name ("content-loading-symbolic");
  GtkWidget *picture = gtk_picture_new ();
  g_autofree char *text = g_strdup_printf (_("Frame %d"), frame);
  g_autofree char *waiting = NULL;
  GtkWidget *label = gtk_label_new (text);
  int width, height;

  thumbnail_size (self, &width, &height);

  /* An empty card the size of the thumbnail to come. */
  gtk_widget_set_size_request (placeholder, width, height);
  gtk_widget_add_css_class (placeholder, "card");
  gtk_widget_add_css_class (placeholder, "frame-placeholder");
  gtk_widget_set_valign (icon, GTK_ALIGN_CENTER);
  gtk_widget_set_vexpand (icon, TRUE);
  gtk_widget_add_css_class (icon, "dim-label");
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Not rendered yet"),
                                  -1);
  gtk_box_append (GTK_BOX (placeholder), icon);

  gtk_widget_set_size_request (picture, width, height);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_add_css_class (picture, "frame-thumbnail");

  gtk_stack_add_named (GTK_STACK (stack), placeholder, "placeholder");
  gtk_stack_add_named (GTK_STACK (stack), picture, "picture");
  gtk_stack_set_transition_type (GTK_STACK (stack), GTK_STACK_TRANSITION_TYPE_CROSSFADE);
  gtk_stack_set_visible_child_name (GTK_STACK (stack), "placeholder");

  gtk_widget_add_css_class (label, "caption");
  gtk_widget_add_css_class (label, "numeric");
  gtk_box_append (GTK_BOX (box), stack);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_halign (box, GTK_ALIGN_CENTER);
  gtk_flow_box_child_set_child (GTK_FLOW_BOX_CHILD (child), box);

  /* TRANSLATORS: how a screen reader names a frame that is not in yet */
  waiting = g_strdup_printf (_("Frame %d, not rendered yet"), frame);
  gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, waiting,
                                  -1);
  gtk_widget_set_tooltip_text (child, text);

  g_object_set_data (G_OBJECT (child), "frame", GINT_TO_POINTER (frame));
  g_object_set_data (G_OBJECT (child), "stack", stack);
  g_object_set_data (G_OBJECT (child), "picture", picture);
  g_object_set_data (G_OBJECT (child), "icon", icon);

  return child;
}

static void
kiln_job_page_frame_activated_cb (KilnJobPage     *self,
                                  GtkFlowBoxChild *child,
                                  GtkFlowBox      *box)
{
  int frame = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (child), "frame"));
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(GFile) file = NULL;

  if (self->job == NULL)
    return;

  path = kiln_render_job_dup_frame_path (self->job, frame);
  if (path == NULL)
    {
      kiln_job_page_show_message (self, _("This frame is not rendered yet"));
      return;
    }

  file = g_file_new_for_path (path);
  uri = g_file_get_uri (file);
#if GTK_CHECK_VERSION (4, 10, 0)
  {
    g_autoptr(GtkUriLauncher) launcher = gtk_uri_launcher_new (uri);

    gtk_uri_launcher_launch (launcher, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                             NULL, NULL, NULL);
  }
#else
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
#endif
}

void
kiln_job_page_frames_build (KilnJobPage *self)
{
  KilnJobPlan *plan = kiln_render_job_get_plan (self->job);
  const int *frames;
  guint n_frames = 0;

  if (plan == NULL)
    return;

  if (g_signal_handler_find (self->frames_box, G_SIGNAL_MATCH_DATA, 0, 0, NULL, NULL,
                             self) == 0)
    g_signal_connect_object (self->frames_box, "child-activated",
                             G_CALLBACK (kiln_job_page_frame_activated_cb), self,
                             G_CONNECT_SWAPPED);

  frames = kiln_frame_spec_get_frames (kiln_job_plan_get_frames (plan), &n_frames);
  for (guint i = 0; i < n_frames; i++)
    {
      GtkWidget *child = kiln_job_page_new_frame_child (self, frames[i]);
      g_autofree char *path = NULL;

      gtk_flow_box_append (self->frames_box, child);
      g_hash_table_insert (self->frame_children, GINT_TO_POINTER (frames[i]), child);

      path = kiln_render_job_dup_frame_path (self->job, frames[i]);
      if (path != NULL)
        kiln_job_page_load_thumbnail (self, frames[i], path);
    }
}

void
kiln_job_page_frames_clear (KilnJobPage *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->frame_children);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->frames_box))) != NULL)
    gtk_flow_box_remove (self->frames_box, child);
}

void
kiln_job_page_frame_ready (KilnJobPage *self,
                           int          frame,
                           const char  *path)
{
  if (g_hash_table_contains (self->frame_children, GINT_TO_POINTER (frame)))
    kiln_job_page_load_thumbnail (self, frame, path);
}
