/* kiln-file-chooser.c: one call for the file chooser of every GTK version
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GTK 4.10 replaced GtkFileChooserNative with GtkFileDialog. Both go through the desktop
 * portal when there is one, so sandboxed builds can reach the person's files either way.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-file-chooser.h"

static GListModel *
blend_filters (void)
{
  GListStore *filters = g_list_store_new (GTK_TYPE_FILE_FILTER);
  g_autoptr(GtkFileFilter) scenes = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (scenes, _("Blender Scenes"));
  gtk_file_filter_add_mime_type (scenes, "application/x-blender");
  gtk_file_filter_add_suffix (scenes, "blend");

  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");

  g_list_store_append (filters, scenes);
  g_list_store_append (filters, all);

  return G_LIST_MODEL (filters);
}

static GListModel *
keystore_filters (void)
{
  GListStore *filters = g_list_store_new (GTK_TYPE_FILE_FILTER);
  g_autoptr(GtkFileFilter) keystores = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  gtk_file_filter_set_name (keystores, _("Keystore Files"));
  gtk_file_filter_add_mime_type (keystores, "application/json");
  gtk_file_filter_add_suffix (keystores, "json");
  /* Geth and Clef name their keystore files "UTC--<time>--<address>", without a suffix. */
  gtk_file_filter_add_pattern (keystores, "UTC--*");

  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");

  g_list_store_append (filters, keystores);
  g_list_store_append (filters, all);

  return G_LIST_MODEL (filters);
}

#if GTK_CHECK_VERSION (4, 10, 0)

static void
kiln_file_chooser_done_cb (GObject      *object,
                           GAsyncResult *result,
                           gpointer      user_data)
{
  GtkFileDialog *dialog = GTK_FILE_DIALOG (object);
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;

  switch ((KilnFileChooserMode) GPOINTER_TO_INT (g_task_get_task_data (task)))
    {
    case KILN_FILE_CHOOSER_OPEN_KEYSTORE:
    case KILN_FILE_CHOOSER_OPEN_BLEND:
      file = gtk_file_dialog_open_finish (dialog, result, &error);
      break;

    case KILN_FILE_CHOOSER_SAVE_KEYSTORE:
      file = gtk_file_dialog_save_finish (dialog, result, &error);
      break;

    case KILN_FILE_CHOOSER_SELECT_FOLDER:
    default:
      file = gtk_file_dialog_select_folder_finish (dialog, result, &error);
      break;
    }

  if (file != NULL)
    g_task_return_pointer (task, g_steal_pointer (&file), g_object_unref);
  else if (g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_DISMISSED) ||
           g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_CANCELLED))
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", error->message);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

void
kiln_file_chooser_run_async (GtkWindow           *parent,
                             KilnFileChooserMode  mode,
                             const char          *title,
                             const char          *accept_label,
                             const char          *initial_name,
                             GFile               *initial_folder,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GtkFileDialog) dialog = NULL;
  GTask *task;

  g_return_if_fail (!parent || GTK_IS_WINDOW (parent));
  g_return_if_fail (title != NULL);
  g_return_if_fail (!initial_folder || G_IS_FILE (initial_folder));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_file_chooser_run_async);
  g_task_set_task_data (task, GINT_TO_POINTER (mode), NULL);

  dialog = gtk_file_dialog_new ();
  gtk_file_dialog_set_title (dialog, title);
  gtk_file_dialog_set_modal (dialog, TRUE);
  gtk_file_dialog_set_accept_label (dialog, accept_label);
  gtk_file_dialog_set_initial_folder (dialog, initial_folder);

  switch (mode)
    {
    case KILN_FILE_CHOOSER_OPEN_KEYSTORE:
      {
        g_autoptr(GListModel) filters = keystore_filters ();

        gtk_file_dialog_set_filters (dialog, filters);
        gtk_file_dialog_open (dialog, parent, cancellable, kiln_file_chooser_done_cb, task);
      }
      break;

    case KILN_FILE_CHOOSER_OPEN_BLEND:
      {
        g_autoptr(GListModel) filters = blend_filters ();

        gtk_file_dialog_set_filters (dialog, filters);
        gtk_file_dialog_open (dialog, parent, cancellable, kiln_file_chooser_done_cb, task);
      }
      break;

    case KILN_FILE_CHOOSER_SAVE_KEYSTORE:
      gtk_file_dialog_set_initial_name (dialog, initial_name);
      gtk_file_dialog_save (dialog, parent, cancellable, kiln_file_chooser_done_cb, task);
      break;

    case KILN_FILE_CHOOSER_SELECT_FOLDER:
    default:
      gtk_file_dialog_select_folder (dialog, parent, cancellable, kiln_file_chooser_done_cb, task);
      break;
    }
}

#else /* GTK < 4.10 */

static void
kiln_file_chooser_response_cb (GtkNativeDialog *native,
                               int              response,
                               gpointer         user_data)
{
  g_autoptr(GTask) task = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      GFile *file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

      if (file != NULL)
        g_task_return_pointer (task, file, g_object_unref);
      else
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                 _("The chosen file is not on this computer"));
    }
  else
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "The file chooser was dismissed");
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
kiln_file_chooser_run_async (GtkWindow           *parent,
                             KilnFileChooserMode  mode,
                             const char          *title,
                             const char          *accept_label,
                             const char          *initial_name,
                             GFile               *initial_folder,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GtkFileChooserAction action;
  GtkFileChooserNative *native;
  GTask *task;

  g_return_if_fail (!parent || GTK_IS_WINDOW (parent));
  g_return_if_fail (title != NULL);
  g_return_if_fail (!initial_folder || G_IS_FILE (initial_folder));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_file_chooser_run_async);

  switch (mode)
    {
    case KILN_FILE_CHOOSER_OPEN_KEYSTORE:
    case KILN_FILE_CHOOSER_OPEN_BLEND:
      action = GTK_FILE_CHOOSER_ACTION_OPEN;
      break;

    case KILN_FILE_CHOOSER_SAVE_KEYSTORE:
      action = GTK_FILE_CHOOSER_ACTION_SAVE;
      break;

    case KILN_FILE_CHOOSER_SELECT_FOLDER:
    default:
      action = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;
      break;
    }

  /* Released in the response handler. */
  native = gtk_file_chooser_native_new (title, parent, action, accept_label, NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);

  if (initial_folder != NULL)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), initial_folder, NULL);

  if (mode == KILN_FILE_CHOOSER_OPEN_KEYSTORE || mode == KILN_FILE_CHOOSER_OPEN_BLEND)
    {
      g_autoptr(GListModel) filters = mode == KILN_FILE_CHOOSER_OPEN_BLEND ? blend_filters ()
                                                                          : keystore_filters ();

      for (guint i = 0; i < g_list_model_get_n_items (filters); i++)
        {
          g_autoptr(GtkFileFilter) filter = g_list_model_get_item (filters, i);

          gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
        }
    }
  else if (mode == KILN_FILE_CHOOSER_SAVE_KEYSTORE && initial_name != NULL)
    {
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), initial_name);
    }

  g_signal_connect (native, "response", G_CALLBACK (kiln_file_chooser_response_cb), task);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

#endif /* GTK < 4.10 */

GFile *
kiln_file_chooser_run_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_file_chooser_run_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
kiln_file_chooser_display_path (GFile *file)
{
  g_autoptr(GFile) home = NULL;
  g_autofree char *relative = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  home = g_file_new_for_path (g_get_home_dir ());
  if (g_file_equal (file, home))
    return g_strdup ("~");

  relative = g_file_get_relative_path (home, file);
  if (relative != NULL)
    {
      g_autofree char *display = g_filename_display_name (relative);

      return g_build_filename ("~", display, NULL);
    }

  path = g_file_get_path (file);
  if (path != NULL)
    return g_filename_display_name (path);

  return g_file_get_parse_name (file);
}
