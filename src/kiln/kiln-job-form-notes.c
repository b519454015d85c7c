/* kiln-job-form-notes.c: what to know about a scene before rendering it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Blender's reading of the scene says more than its settings: denoising that Kiln renders
 * without, an output format providers do not deliver, compositing that keeps frames whole,
 * and the files it uses. Each becomes a row above the form; missing files, and files not
 * beside the .blend (providers are sent only those), stop the job until they are dealt with.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-file-chooser.h"
#include "kiln-job-form-private.h"

static void
kiln_job_form_clear_notes (KilnJobForm *self)
{
  for (guint i = 0; i < self->note_rows->len; i++)
    adw_preferences_group_remove (self->notes_group, g_ptr_array_index (self->note_rows, i));
  g_ptr_array_set_size (self->note_rows, 0);
  gtk_widget_set_visible (GTK_WIDGET (self->notes_group), FALSE);
}

static void
kiln_job_form_add_note (KilnJobForm *self,
                        const char  *icon_name,
                        const char  *title,
                        const char  *text)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (icon_name);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  g_str_equal (icon_name, "dialog-warning-symbolic")
                                    ? _("Warning") : _("Note"),
                                  -1);
  if (g_str_equal (icon_name, "dialog-warning-symbolic"))
    gtk_widget_add_css_class (icon, "warning");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  adw_preferences_group_add (self->notes_group, row);
  g_ptr_array_add (self->note_rows, row);
  gtk_widget_set_visible (GTK_WIDGET (self->notes_group), TRUE);
}

static const char *
file_kind_name (KilnSceneFileKind kind)
{
  switch (kind)
    {
    case KILN_SCENE_FILE_IMAGE:
      return _("Image");
    case KILN_SCENE_FILE_MOVIE:
      return _("Movie clip");
    case KILN_SCENE_FILE_LIBRARY:
      return _("Linked .blend library");
    case KILN_SCENE_FILE_CACHE:
      return _("Simulation cache");
    case KILN_SCENE_FILE_VOLUME:
      return _("OpenVDB volume");
    case KILN_SCENE_FILE_FONT:
    default:
      return _("Font");
    }
}

/* The files the scene uses: missing ones, and ones providers would not be sent (KilnRenderJob
 * sends only the files beside the .blend, as providers lay them out). Either stops the job:
 * without them providers would render pink textures and missing objects, and the results
 * would still pass verification, which renders with the same files. */
static void
kiln_job_form_note_files (KilnJobForm *self)
{
  g_autofree char *scene_dir = g_path_get_dirname (kiln_scene_info_get_path (self->scene));
  GPtrArray *files = kiln_scene_info_get_files (self->scene);
  guint n_missing = 0;
  guint n_outside = 0;

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      const KilnSceneFile *file = g_ptr_array_index (files, i);
      g_autofree char *base = g_path_get_basename (file->path);
      g_autofree char *name = g_filename_display_name (base);
      g_autoptr(GFile) gfile = g_file_new_for_path (file->path);
      g_autoptr(GFile) parent = g_file_get_parent (gfile);
      g_autofree char *where = parent != NULL ? kiln_file_chooser_display_path (parent)
                                              : g_strdup ("/");
      g_autofree char *parent_path = g_path_get_dirname (file->path);
      g_autofree char *text = NULL;

      if (file->missing)
        {
          /* TRANSLATORS: "Image, not found in ~/scenes/textures" */
          text = g_strdup_printf (_("%s, not found in %s"), file_kind_name (file->kind), where);
          n_missing++;
        }
      else if (file->directory || g_strcmp0 (parent_path, scene_dir) != 0)
        {
          /* TRANSLATORS: "Image in ~/scenes/textures, not beside the scene" */
          text = g_strdup_printf (_("%s in %s, not beside the scene"),
                                  file_kind_name (file->kind), where);
          n_outside++;
        }
      else
        {
          continue;
        }

      kiln_job_form_add_note (self, "dialog-warning-symbolic", name, text);
    }

  if (n_missing > 0)
    self->scene_problem =
      g_strdup (g_dngettext (GETTEXT_PACKAGE,
                             "The scene uses a file that is missing. Put it back, or pack it "
                             "into the .blend (File › External Data › Pack Resources), then "
                             "read the scene again.",
                             "The scene uses files that are missing. Put them back, or pack "
                             "them into the .blend (File › External Data › Pack Resources), "
                             "then read the scene again.",
                             n_missing));
  else if (n_outside > 0)
    self->scene_problem =
      g_strdup (g_dngettext (GETTEXT_PACKAGE,
                             "Providers are sent only the files beside the .blend. Move the "
                             "file above beside it, or pack it into the .blend (File › "
                             "External Data › Pack Resources), then read the scene again.",
                             "Providers are sent only the files beside the .blend. Move the "
                             "files above beside it, or pack them into the .blend (File › "
                             "External Data › Pack Resources), then read the scene again.",
                             n_outside));
}

void
kiln_job_form_note_scene (KilnJobForm *self)
{
  KilnImageFormat format;

  kiln_job_form_clear_notes (self);
  g_clear_pointer (&self->scene_problem, g_free);

  if (kiln_scene_info_get_uses_denoising (self->scene))
    {
      const char *why;

      if (self->blender != NULL && !kiln_blender_has_denoiser (self->blender))
        why = _("The scene asks for denoising, but Kiln renders without it: this Blender, "
                "like Debian’s and many providers’, has no OpenImageDenoise, and denoised "
                "frames could not be checked piece by piece. Frames will be noisier than in "
                "Blender; more samples make up for it.");
      else
        why = _("The scene asks for denoising, but Kiln renders without it: many providers’ "
                "Blender, like Debian’s, has no OpenImageDenoise, and denoised frames could "
                "not be checked piece by piece. Frames will be noisier than in Blender; more "
                "samples make up for it.");
      kiln_job_form_add_note (self, "dialog-information-symbolic", _("Denoising Is Off"), why);
    }

  if (!kiln_scene_info_get_image_format (self->scene, &format))
    {
      g_autofree char *text = NULL;

      text = g_strdup_printf (_("The scene saves its frames as %s, which providers do not "
                                "deliver: they send PNG or OpenEXR images, which can be "
                                "checked exactly."),
                              kiln_scene_info_get_file_format (self->scene));
      kiln_job_form_add_note (self, "dialog-information-symbolic", _("Frames Come as Images"),
                              text);
    }

  if (kiln_scene_info_get_uses_compositing (self->scene))
    kiln_job_form_add_note (self, "dialog-information-symbolic",
                            _("Frames Stay Whole"),
                            _("The scene’s compositor changes the rendered image, so frames "
                              "are not cut into strips: each subtask renders whole frames."));

  kiln_job_form_note_files (self);
}
