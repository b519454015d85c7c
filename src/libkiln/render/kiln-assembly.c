/* kiln-assembly.c: joining the strips of one frame into the whole image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-assembly.h"
#include "kiln-image.h"

typedef struct
{
  const KilnSubtask *subtask;
  const char        *path;
} Strip;

static int
compare_strips (gconstpointer a,
                gconstpointer b)
{
  const Strip *sa = a;
  const Strip *sb = b;

  if (sa->subtask->border_y != sb->subtask->border_y)
    return sa->subtask->border_y < sb->subtask->border_y ? -1 : 1;
  return 0;
}

static gboolean
invalid (GError     **error,
         const char  *format,
         ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError     **error,
         const char  *format,
         ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("The strips cannot be joined: %s"), message);
  return FALSE;
}

/* The strips sorted from the top, checked to tile one frame. */
static GArray *
sort_strips (GPtrArray           *strips,
             const char * const  *paths,
             GError             **error)
{
  g_autoptr(GArray) sorted = g_array_new (FALSE, FALSE, sizeof (Strip));
  const KilnSubtask *first;
  guint next_row = 0;

  if (strips->len == 0)
    {
      invalid (error, _("there are none"));
      return NULL;
    }
  for (guint i = 0; i < strips->len; i++)
    {
      Strip strip = { g_ptr_array_index (strips, i), paths[i] };

      if (strip.path == NULL)
        {
          invalid (error, _("there are fewer images than strips"));
          return NULL;
        }
      g_array_append_val (sorted, strip);
    }
  if (paths[strips->len] != NULL)
    {
      invalid (error, _("there are more images than strips"));
      return NULL;
    }
  g_array_sort (sorted, compare_strips);

  first = g_array_index (sorted, Strip, 0).subtask;
  for (guint i = 0; i < sorted->len; i++)
    {
      const KilnSubtask *subtask = g_array_index (sorted, Strip, i).subtask;

      if (!kiln_subtask_validate (subtask, error))
        return NULL;
      if (subtask->format != KILN_IMAGE_FORMAT_PNG)
        {
          invalid (error, _("only PNG strips can be joined"));
          return NULL;
        }
      if (subtask->frame_start != first->frame_start || subtask->frame_end != first->frame_start ||
          subtask->width != first->width || subtask->height != first->height)
        {
          invalid (error, _("they do not all belong to frame %d of a %u×%u image"),
                   first->frame_start, first->width, first->height);
          return NULL;
        }
      if (!subtask->use_border || subtask->border_x != 0 ||
          subtask->border_width != subtask->width)
        {
          invalid (error, _("strip %u does not span the frame’s width"), i + 1);
          return NULL;
        }
      if (subtask->border_y != next_row)
        {
          invalid (error, subtask->border_y > next_row ? _("rows %u to %u are missing")
                                                       : _("rows %u to %u overlap"),
                   MIN (next_row, subtask->border_y), MAX (next_row, subtask->border_y) - 1);
          return NULL;
        }
      next_row = subtask->border_y + subtask->border_height;
    }
  if (next_row != first->height)
    {
      invalid (error, _("rows %u to %u are missing"), next_row, first->height - 1);
      return NULL;
    }
  return g_steal_pointer (&sorted);
}

gboolean
kiln_assemble_strips (GPtrArray           *strips,
                      const char * const  *paths,
                      const char          *output,
                      GError             **error)
{
  g_autoptr(GArray) sorted = NULL;
  g_autoptr(KilnImage) frame = NULL;

  g_return_val_if_fail (strips != NULL && paths != NULL && output != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  sorted = sort_strips (strips, paths, error);
  if (sorted == NULL)
    return FALSE;

  for (guint i = 0; i < sorted->len; i++)
    {
      const Strip *strip = &g_array_index (sorted, Strip, i);
      g_autoptr(KilnImage) image = kiln_image_load_png (strip->path, error);
      g_autofree char *base = NULL;

      if (image == NULL)
        return FALSE;
      base = g_filename_display_basename (strip->path);
      if (kiln_image_get_width (image) != strip->subtask->border_width ||
          kiln_image_get_height (image) != strip->subtask->border_height)
        return invalid (error, _("%s is %u×%u pixels instead of %u×%u"), base,
                        kiln_image_get_width (image), kiln_image_get_height (image),
                        strip->subtask->border_width, strip->subtask->border_height);
      if (frame == NULL)
        frame = kiln_image_new (strip->subtask->width, strip->subtask->height,
                                kiln_image_get_channels (image), kiln_image_get_depth (image));
      else if (kiln_image_get_channels (image) != kiln_image_get_channels (frame) ||
               kiln_image_get_depth (image) != kiln_image_get_depth (frame))
        return invalid (error, _("%s has %u channels of %u bits, the strip above %u of %u"),
                        base, kiln_image_get_channels (image), kiln_image_get_depth (image),
                        kiln_image_get_channels (frame), kiln_image_get_depth (frame));
      kiln_image_paste (frame, image, 0, strip->subtask->border_y);
    }

  return kiln_image_save_png (frame, output, error);
}

typedef struct
{
  GPtrArray *strips;
  GStrv      paths;
  char      *output;
} AssembleData;

static void
assemble_data_free (AssembleData *data)
{
  g_ptr_array_unref (data->strips);
  g_strfreev (data->paths);
  g_free (data->output);
  g_free (data);
}

static void
assemble_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  AssembleData *data = task_data;
  GError *error = NULL;

  if (kiln_assemble_strips (data->strips, (const char * const *) data->paths, data->output,
                            &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
kiln_assemble_strips_async (GPtrArray            *strips,
                            const char * const   *paths,
                            const char           *output,
                            GCancellable         *cancellable,
                            GAsyncReadyCallback   callback,
                            gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  AssembleData *data;

  g_return_if_fail (strips != NULL && paths != NULL && output != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kiln_assemble_strips_async);
  data = g_new0 (AssembleData, 1);
  data->strips = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_subtask_free);
  for (guint i = 0; i < strips->len; i++)
    g_ptr_array_add (data->strips, kiln_subtask_copy (g_ptr_array_index (strips, i)));
  data->paths = g_strdupv ((char **) paths);
  data->output = g_strdup (output);
  g_task_set_task_data (task, data, (GDestroyNotify) assemble_data_free);
  g_task_run_in_thread (task, assemble_thread);
}

gboolean
kiln_assemble_strips_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_assemble_strips_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
