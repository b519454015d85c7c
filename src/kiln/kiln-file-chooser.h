/* kiln-file-chooser.h: one call for the file chooser of every GTK version
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  KILN_FILE_CHOOSER_OPEN_KEYSTORE,  /* one existing keystore file */
  KILN_FILE_CHOOSER_SAVE_KEYSTORE,  /* a new keystore file */
  KILN_FILE_CHOOSER_SELECT_FOLDER,  /* one folder */
  KILN_FILE_CHOOSER_OPEN_BLEND,     /* one existing Blender scene */
} KilnFileChooserMode;

/* Shows a modal file chooser over @parent. @initial_name is the proposed name when saving;
 * @initial_folder, when given, is where the chooser starts. */
void   kiln_file_chooser_run_async  (GtkWindow           *parent,
                                     KilnFileChooserMode  mode,
                                     const char          *title,
                                     const char          *accept_label,
                                     const char          *initial_name,
                                     GFile               *initial_folder,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);
/* The chosen file, or NULL with G_IO_ERROR_CANCELLED when the chooser was dismissed. */
GFile *kiln_file_chooser_run_finish (GAsyncResult        *result,
                                     GError             **error);

/* @file's path for people: UTF-8, with the home folder shortened to "~". */
char  *kiln_file_chooser_display_path (GFile             *file);

G_END_DECLS
