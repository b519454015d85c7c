/* kiln-blender-output.c: what Blender prints while it renders, as events
 *
 * The formats below are those of Blender 3.4 in background mode (tests/data/
 * blender-output/ holds real captures); Cycles' "Sample N/M" and EEVEE's
 * "Rendering N / M samples" reduce to the same progress event.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kiln-blender-output.h"

struct _KilnBlenderOutput
{
  char      *version;
  int        frame;
  guint      sample;
  guint      samples;
  double     peak_mib;
  GPtrArray *saved;
  GArray    *frame_times;
  GPtrArray *missing_files;
  GPtrArray *skipped_scripts;
  char      *unreadable_file;
  char      *first_error;
  guint      out_of_memory : 1;
  guint      python_failed : 1;
  guint      crashed : 1;
  guint      quit : 1;
};

/* Events ----------------------------------------------------------------------- */

G_DEFINE_BOXED_TYPE (KilnBlenderEvent, kiln_blender_event,
                     kiln_blender_event_copy, kiln_blender_event_free)

KilnBlenderEvent *
kiln_blender_event_copy (const KilnBlenderEvent *event)
{
  KilnBlenderEvent *copy;

  g_return_val_if_fail (event != NULL, NULL);

  copy = g_new (KilnBlenderEvent, 1);
  *copy = *event;
  copy->path = g_strdup (event->path);
  copy->message = g_strdup (event->message);
  return copy;
}

void
kiln_blender_event_clear (KilnBlenderEvent *event)
{
  g_return_if_fail (event != NULL);

  g_free (event->path);
  g_free (event->message);
  memset (event, 0, sizeof *event);
  event->frame = G_MININT;
}

void
kiln_blender_event_free (KilnBlenderEvent *event)
{
  if (event == NULL)
    return;
  kiln_blender_event_clear (event);
  g_free (event);
}

/* Line parsing ----------------------------------------------------------------- */

/* Text between the first @open after @start and the last @close_suffix. */
static char *
extract_between (const char *start,
                 char        open,
                 const char *close_suffix)
{
  const char *begin = strchr (start, open);
  const char *end;

  if (begin == NULL)
    return NULL;
  begin++;
  end = g_strrstr (begin, close_suffix);
  if (end == NULL || end < begin)
    return NULL;
  return g_strndup (begin, end - begin);
}

static gboolean
parse_uint (const char  *text,
            const char **end,
            guint       *value)
{
  guint64 v;
  char *e;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  v = g_ascii_strtoull (text, &e, 10);
  if (v > G_MAXUINT)
    return FALSE;
  *value = (guint) v;
  *end = e;
  return TRUE;
}

/* "Sample 12/16" anywhere in @field (Cycles). */
static gboolean
parse_cycles_samples (const char *field,
                      guint      *sample,
                      guint      *samples)
{
  const char *p = field;

  while ((p = strstr (p, "Sample ")) != NULL)
    {
      const char *q = p + strlen ("Sample ");

      if (parse_uint (q, &q, sample) && *q == '/' && parse_uint (q + 1, &q, samples))
        return TRUE;
      p++;
    }
  return FALSE;
}

/* "Rendering 3 / 64 samples" (EEVEE). */
static gboolean
parse_eevee_samples (const char *field,
                     guint      *sample,
                     guint      *samples)
{
  const char *q;

  if (!g_str_has_prefix (field, "Rendering "))
    return FALSE;
  q = field + strlen ("Rendering ");
  if (!parse_uint (q, &q, sample) || !g_str_has_prefix (q, " / "))
    return FALSE;
  if (!parse_uint (q + 3, &q, samples))
    return FALSE;
  return strcmp (q, " samples") == 0;
}

static KilnBlenderEventKind
parse_frame_line (const char       *line,
                  KilnBlenderEvent *event)
{
  g_auto(GStrv) fields = g_strsplit (line, " | ", -1);
  g_autoptr(GString) message = g_string_new (NULL);
  const char *peak;
  char *end;
  gint64 frame;

  frame = g_ascii_strtoll (line + strlen ("Fra:"), &end, 10);
  if (end == line + strlen ("Fra:") || frame < G_MININT + 1 || frame > G_MAXINT)
    return KILN_BLENDER_EVENT_NONE;
  event->frame = (int) frame;

  peak = strstr (fields[0], "(Peak ");
  if (peak != NULL)
    event->peak_mib = g_ascii_strtod (peak + strlen ("(Peak "), NULL);

  event->kind = KILN_BLENDER_EVENT_STATUS;
  for (guint i = 1; fields[i] != NULL; i++)
    {
      const char *field = fields[i];

      if (g_str_has_prefix (field, "Time:") || g_str_has_prefix (field, "Remaining:") ||
          g_str_has_prefix (field, "Mem:"))
        continue;

      if (message->len > 0)
        g_string_append (message, " | ");
      g_string_append (message, field);

      if (event->kind != KILN_BLENDER_EVENT_STATUS)
        continue;
      if (parse_cycles_samples (field, &event->sample, &event->samples) ||
          parse_eevee_samples (field, &event->sample, &event->samples))
        event->kind = KILN_BLENDER_EVENT_PROGRESS;
      else if (strcmp (field, "Finished") == 0)
        event->kind = KILN_BLENDER_EVENT_FRAME_FINISHED;
      else if (g_str_has_prefix (field, "Out of memory"))
        event->kind = KILN_BLENDER_EVENT_OUT_OF_MEMORY;
    }

  event->message = g_string_free (g_steal_pointer (&message), FALSE);
  return event->kind;
}

/* " Time: 00:00.23 (Saving: 00:00.13)" or " Time: 01:02:03.45 (…)". */
static gboolean
parse_frame_time (const char *text,
                  double     *seconds)
{
  double total = 0;
  const char *p = text;

  for (guint parts = 0; parts < 3; parts++)
    {
      char *end;
      double v = g_ascii_strtod (p, &end);

      if (end == p)
        return FALSE;
      total = total * 60 + v;
      if (*end != ':')
        {
          *seconds = total;
          return parts > 0;
        }
      p = end + 1;
    }
  return FALSE;
}

/* "Malloc returns null: len=…", "Calloc returns null: …", "MallocN_aligned returns null". */
static gboolean
is_allocation_failure (const char *line)
{
  const char *p = line;

  while (g_ascii_isalnum (*p) || *p == '_')
    p++;
  return p != line && g_str_has_prefix (p, " returns null");
}

static gboolean
is_out_of_memory (const char *line)
{
  return is_allocation_failure (line) ||
         g_str_has_prefix (line, "Error: Out of memory") ||
         g_str_has_prefix (line, "Error: run out of memory") ||
         strcmp (line, "terminate called after throwing an instance of 'std::bad_alloc'") == 0 ||
         strcmp (line, "  what():  std::bad_alloc") == 0;
}

static KilnBlenderEventKind
parse_error_line (const char       *text,
                  KilnBlenderEvent *event)
{
  event->message = g_strdup (text);

  if (g_str_has_prefix (text, "Not freed memory blocks"))
    return KILN_BLENDER_EVENT_NOTICE;
  if (g_str_has_prefix (text, "Python:") || g_str_has_prefix (text, "script failed,"))
    return KILN_BLENDER_EVENT_PYTHON_ERROR;
  if (g_str_has_prefix (text, "Cannot read file "))
    {
      event->path = extract_between (text, '\'', "': ");
      return KILN_BLENDER_EVENT_UNREADABLE_FILE;
    }
  return KILN_BLENDER_EVENT_ERROR;
}

static KilnBlenderEventKind
parse_warning_line (const char       *text,
                    KilnBlenderEvent *event)
{
  event->message = g_strdup (text);

  if (g_str_has_prefix (text, "Path '") && g_str_has_suffix (text, "' not found"))
    {
      event->path = extract_between (text, '\'', "' not found");
      return KILN_BLENDER_EVENT_MISSING_FILE;
    }
  if (g_str_has_prefix (text, "Unable to open '"))
    {
      event->path = extract_between (text, '\'', "':");
      if (event->path != NULL)
        return KILN_BLENDER_EVENT_MISSING_FILE;
    }
  return KILN_BLENDER_EVENT_WARNING;
}

static KilnBlenderEventKind
parse_info_line (const char       *text,
                 KilnBlenderEvent *event)
{
  event->message = g_strdup (text);

  if (g_str_has_prefix (text, "Cannot find lib '"))
    {
      event->path = extract_between (text, '\'', "'");
      if (event->path != NULL)
        return KILN_BLENDER_EVENT_MISSING_FILE;
    }
  return KILN_BLENDER_EVENT_NOTICE;
}

static char *
unquote (const char *text)
{
  gsize len = strlen (text);

  if (len >= 2 && (text[0] == '"' || text[0] == '\'') && text[len - 1] == text[0])
    return g_strndup (text + 1, len - 2);
  return g_strdup (text);
}

static KilnBlenderEventKind
classify (const char       *line,
          KilnBlenderEvent *event)
{
  if (g_str_has_prefix (line, "Fra:"))
    return parse_frame_line (line, event);

  if (is_out_of_memory (line))
    {
      event->message = g_strdup (line);
      return KILN_BLENDER_EVENT_OUT_OF_MEMORY;
    }

  if (g_str_has_prefix (line, "Error: "))
    return parse_error_line (line + strlen ("Error: "), event);
  if (g_str_has_prefix (line, "Warning: "))
    return parse_warning_line (line + strlen ("Warning: "), event);
  if (g_str_has_prefix (line, "Info: "))
    return parse_info_line (line + strlen ("Info: "), event);

  if (g_str_has_prefix (line, "Saved: "))
    {
      event->path = unquote (line + strlen ("Saved: "));
      return KILN_BLENDER_EVENT_SAVED;
    }
  if (g_str_has_prefix (line, " Time: ") &&
      parse_frame_time (line + strlen (" Time: "), &event->seconds))
    return KILN_BLENDER_EVENT_FRAME_TIME;
  if (g_str_has_prefix (line, "Read blend: "))
    {
      event->path = unquote (line + strlen ("Read blend: "));
      return KILN_BLENDER_EVENT_READ_BLEND;
    }
  if (g_str_has_prefix (line, "scripts disabled for \""))
    {
      const char *skipping = g_strrstr (line, "\", skipping '");

      if (skipping != NULL && g_str_has_suffix (line, "'"))
        {
          const char *path = line + strlen ("scripts disabled for \"");
          const char *name = skipping + strlen ("\", skipping '");

          event->path = g_strndup (path, skipping - path);
          event->message = g_strndup (name, strlen (name) - 1);
          return KILN_BLENDER_EVENT_SCRIPT_SKIPPED;
        }
    }
  if (g_str_has_prefix (line, "Writing: ") && g_str_has_suffix (line, ".crash.txt"))
    {
      event->path = g_strdup (line + strlen ("Writing: "));
      return KILN_BLENDER_EVENT_CRASH;
    }
  if (strcmp (line, "Blender quit") == 0)
    return KILN_BLENDER_EVENT_QUIT;
  if (g_str_has_prefix (line, "Blender ") && g_ascii_isdigit (line[strlen ("Blender ")]))
    {
      const char *v = line + strlen ("Blender ");

      event->message = g_strndup (v, strcspn (v, " "));
      return KILN_BLENDER_EVENT_VERSION;
    }

  return KILN_BLENDER_EVENT_NONE;
}

KilnBlenderEventKind
kiln_blender_parse_line (const char       *line,
                         KilnBlenderEvent *event)
{
  g_return_val_if_fail (line != NULL, KILN_BLENDER_EVENT_NONE);
  g_return_val_if_fail (event != NULL, KILN_BLENDER_EVENT_NONE);

  memset (event, 0, sizeof *event);
  event->frame = G_MININT;
  event->kind = classify (line, event);
  return event->kind;
}

/* The summary ------------------------------------------------------------------ */

KilnBlenderOutput *
kiln_blender_output_new (void)
{
  KilnBlenderOutput *self = g_new0 (KilnBlenderOutput, 1);

  self->frame = G_MININT;
  self->saved = g_ptr_array_new_with_free_func (g_free);
  self->frame_times = g_array_new (FALSE, FALSE, sizeof (double));
  self->missing_files = g_ptr_array_new_with_free_func (g_free);
  self->skipped_scripts = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
kiln_blender_output_free (KilnBlenderOutput *self)
{
  if (self == NULL)
    return;

  g_free (self->version);
  g_ptr_array_unref (self->saved);
  g_array_unref (self->frame_times);
  g_ptr_array_unref (self->missing_files);
  g_ptr_array_unref (self->skipped_scripts);
  g_free (self->unreadable_file);
  g_free (self->first_error);
  g_free (self);
}

static void
remember_error (KilnBlenderOutput *self,
                const char        *message)
{
  if (self->first_error == NULL && message != NULL)
    self->first_error = g_strdup (message);
}

static void
update (KilnBlenderOutput      *self,
        const KilnBlenderEvent *event)
{
  if (event->frame != G_MININT)
    {
      if (event->frame != self->frame)
        self->sample = self->samples = 0;
      self->frame = event->frame;
    }
  if (event->peak_mib > self->peak_mib)
    self->peak_mib = event->peak_mib;

  switch (event->kind)
    {
    case KILN_BLENDER_EVENT_VERSION:
      g_free (self->version);
      self->version = g_strdup (event->message);
      break;

    case KILN_BLENDER_EVENT_PROGRESS:
      self->sample = event->sample;
      self->samples = event->samples;
      break;

    case KILN_BLENDER_EVENT_FRAME_FINISHED:
      self->sample = self->samples;
      break;

    case KILN_BLENDER_EVENT_SAVED:
      g_ptr_array_add (self->saved, g_strdup (event->path));
      break;

    case KILN_BLENDER_EVENT_FRAME_TIME:
      g_array_append_val (self->frame_times, event->seconds);
      break;

    case KILN_BLENDER_EVENT_SCRIPT_SKIPPED:
      g_ptr_array_add (self->skipped_scripts, g_strdup (event->message));
      break;

    case KILN_BLENDER_EVENT_MISSING_FILE:
      if (event->path != NULL &&
          !g_ptr_array_find_with_equal_func (self->missing_files, event->path, g_str_equal, NULL))
        g_ptr_array_add (self->missing_files, g_strdup (event->path));
      break;

    case KILN_BLENDER_EVENT_OUT_OF_MEMORY:
      self->out_of_memory = TRUE;
      break;

    case KILN_BLENDER_EVENT_UNREADABLE_FILE:
      if (self->unreadable_file == NULL)
        self->unreadable_file = g_strdup (event->path);
      remember_error (self, event->message);
      break;

    case KILN_BLENDER_EVENT_PYTHON_ERROR:
      self->python_failed = TRUE;
      remember_error (self, event->message);
      break;

    case KILN_BLENDER_EVENT_ERROR:
      remember_error (self, event->message);
      break;

    case KILN_BLENDER_EVENT_CRASH:
      self->crashed = TRUE;
      break;

    case KILN_BLENDER_EVENT_QUIT:
      self->quit = TRUE;
      break;

    case KILN_BLENDER_EVENT_NONE:
    case KILN_BLENDER_EVENT_READ_BLEND:
    case KILN_BLENDER_EVENT_STATUS:
    case KILN_BLENDER_EVENT_WARNING:
    case KILN_BLENDER_EVENT_NOTICE:
    default:
      break;
    }
}

KilnBlenderEventKind
kiln_blender_output_feed (KilnBlenderOutput *self,
                          const char        *line,
                          KilnBlenderEvent  *event)
{
  KilnBlenderEvent local;
  KilnBlenderEventKind kind;

  g_return_val_if_fail (self != NULL, KILN_BLENDER_EVENT_NONE);
  g_return_val_if_fail (line != NULL, KILN_BLENDER_EVENT_NONE);

  kind = kiln_blender_parse_line (line, event != NULL ? event : &local);
  update (self, event != NULL ? event : &local);
  if (event == NULL)
    kiln_blender_event_clear (&local);
  return kind;
}

const char *
kiln_blender_output_get_version (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->version;
}

int
kiln_blender_output_get_frame (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, G_MININT);
  return self->frame;
}

guint
kiln_blender_output_get_sample (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->sample;
}

guint
kiln_blender_output_get_samples (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->samples;
}

double
kiln_blender_output_get_peak_mib (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->peak_mib;
}

GPtrArray *
kiln_blender_output_get_saved (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->saved;
}

GArray *
kiln_blender_output_get_frame_times (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->frame_times;
}

GPtrArray *
kiln_blender_output_get_missing_files (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->missing_files;
}

GPtrArray *
kiln_blender_output_get_skipped_scripts (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->skipped_scripts;
}

gboolean
kiln_blender_output_get_out_of_memory (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->out_of_memory;
}

gboolean
kiln_blender_output_get_python_failed (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->python_failed;
}

gboolean
kiln_blender_output_get_crashed (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->crashed;
}

gboolean
kiln_blender_output_get_quit (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->quit;
}

const char *
kiln_blender_output_get_unreadable_file (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->unreadable_file;
}

const char *
kiln_blender_output_get_first_error (KilnBlenderOutput *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->first_error;
}
