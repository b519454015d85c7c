/* kiln-frame-spec.c: which frames to render, as people write them
 *
 * Parsing marks frames in a bitmap of Blender's whole frame range (128 KiB), so
 * overlapping items cost nothing extra; each item is checked against the frame
 * limit before it is expanded, and the text's length is bounded, so no input
 * makes the parser allocate or loop much.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>

#include "kiln-frame-spec.h"

struct _KilnFrameSpec
{
  gatomicrefcount  ref_count;
  guint            n_frames;
  int             *frames;
};

G_DEFINE_BOXED_TYPE (KilnFrameSpec, kiln_frame_spec, kiln_frame_spec_ref, kiln_frame_spec_unref)

KilnFrameSpec *
kiln_frame_spec_ref (KilnFrameSpec *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
kiln_frame_spec_unref (KilnFrameSpec *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->frames);
      g_free (self);
    }
}

/* The bitmap ------------------------------------------------------------------------ */

typedef struct
{
  guint8  *bits;
  guint    count;
  guint64  listed;   /* frames named by the items so far, repeats included */
} FrameBits;

static void
frame_bits_init (FrameBits *bits)
{
  bits->bits = g_malloc0 (KILN_FRAME_MAX / 8 + 1);
  bits->count = 0;
  bits->listed = 0;
}

static void
frame_bits_set (FrameBits *bits,
                int        frame)
{
  guint8 mask = (guint8) (1u << (frame & 7));

  if (!(bits->bits[frame >> 3] & mask))
    {
      bits->bits[frame >> 3] |= mask;
      bits->count++;
    }
}

static KilnFrameSpec *
frame_bits_to_spec (FrameBits *bits)
{
  KilnFrameSpec *self = g_new0 (KilnFrameSpec, 1);
  guint n = 0;

  g_atomic_ref_count_init (&self->ref_count);
  self->n_frames = bits->count;
  self->frames = g_new (int, MAX (bits->count, 1));
  for (int byte = 0; byte <= KILN_FRAME_MAX / 8 && n < bits->count; byte++)
    if (bits->bits[byte] != 0)
      for (int bit = 0; bit < 8; bit++)
        if (bits->bits[byte] & (1u << bit))
          self->frames[n++] = byte * 8 + bit;
  g_clear_pointer (&bits->bits, g_free);
  return self;
}

static void
frame_bits_clear (FrameBits *bits)
{
  g_clear_pointer (&bits->bits, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FrameBits, frame_bits_clear)

static guint64
run_count (gint64 start,
           gint64 end,
           gint64 step)
{
  return (guint64) ((end - start) / step + 1);
}

static gboolean
too_many (GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("That is more than %u frames, the most one job may render"),
               KILN_FRAME_SPEC_MAX_FRAMES);
  return FALSE;
}

/* Parsing ---------------------------------------------------------------------------- */

typedef struct
{
  const char *text;
  const char *p;
} Parser;

static gboolean fail (Parser      *parser,
                      const char  *at,
                      GError     **error,
                      const char  *format,
                      ...) G_GNUC_PRINTF (4, 5);

/* "At character N of the frame list: MESSAGE" (N counts characters from 1). */
static gboolean
fail (Parser      *parser,
      const char  *at,
      GError     **error,
      const char  *format,
      ...)
{
  g_autofree char *message = NULL;
  glong position = g_utf8_pointer_to_offset (parser->text, at) + 1;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("Frame list, character %ld: %s"), position, message);
  return FALSE;
}

static void
skip_spaces (Parser *parser)
{
  while (*parser->p == ' ' || *parser->p == '\t')
    parser->p++;
}

/* What stands at the parser's position, for messages: “x”, or “the end”. */
static char *
describe_here (Parser *parser)
{
  if (*parser->p == '\0')
    return g_strdup (_("the end of the list"));
  return g_strdup_printf ("“%.*s”",
                          (int) (g_utf8_next_char (parser->p) - parser->p), parser->p);
}

static gboolean
parse_number (Parser      *parser,
              const char  *what,
              int         *value,
              GError     **error)
{
  const char *start;
  gint64 number = 0;

  skip_spaces (parser);
  start = parser->p;
  if (*parser->p == '-' && g_ascii_isdigit (parser->p[1]))
    return fail (parser, start, error, _("frame numbers cannot be negative"));
  if (!g_ascii_isdigit (*parser->p))
    {
      g_autofree char *here = describe_here (parser);

      return fail (parser, start, error, _("expected %s, found %s"), what, here);
    }
  while (g_ascii_isdigit (*parser->p))
    {
      number = number * 10 + (*parser->p - '0');
      if (number > KILN_FRAME_MAX)
        return fail (parser, start, error,
                     _("frames go up to %d in Blender"), KILN_FRAME_MAX);
      parser->p++;
    }
  *value = (int) number;
  return TRUE;
}

static gboolean
parse_item (Parser     *parser,
            FrameBits  *bits,
            GError    **error)
{
  const char *item_start;
  int start, end, step = 1;

  skip_spaces (parser);
  item_start = parser->p;
  if (!parse_number (parser, _("a frame number"), &start, error))
    return FALSE;
  end = start;

  skip_spaces (parser);
  if (*parser->p == '-')
    {
      parser->p++;
      if (!parse_number (parser, _("the last frame of the range"), &end, error))
        return FALSE;
      if (end < start)
        return fail (parser, item_start, error,
                     _("the range %d-%d runs backwards; write %d-%d"), start, end, end, start);
      skip_spaces (parser);
      if (*parser->p == 'x' || *parser->p == 'X')
        {
          const char *step_start;

          parser->p++;
          skip_spaces (parser);
          step_start = parser->p;
          if (!parse_number (parser, _("a step"), &step, error))
            return FALSE;
          if (step == 0)
            return fail (parser, step_start, error, _("the step must be at least 1"));
        }
    }

  if (run_count (start, end, step) > KILN_FRAME_SPEC_MAX_FRAMES)
    return fail (parser, item_start, error,
                 _("this range has more than %u frames, the most one job may render"),
                 KILN_FRAME_SPEC_MAX_FRAMES);
  bits->listed += run_count (start, end, step);
  if (bits->listed > KILN_FRAME_SPEC_MAX_LISTED)
    return fail (parser, item_start, error,
                 _("the items so far name more than %u frames, repeats included"),
                 KILN_FRAME_SPEC_MAX_LISTED);
  for (gint64 frame = start; frame <= end; frame += step)
    frame_bits_set (bits, (int) frame);
  if (bits->count > KILN_FRAME_SPEC_MAX_FRAMES)
    return fail (parser, item_start, error,
                 _("the list now has more than %u frames, the most one job may render"),
                 KILN_FRAME_SPEC_MAX_FRAMES);
  return TRUE;
}

KilnFrameSpec *
kiln_frame_spec_parse (const char  *text,
                       GError     **error)
{
  g_auto(FrameBits) bits = { NULL, 0, 0 };
  Parser parser;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The frame list is not valid text"));
      return NULL;
    }
  if (strlen (text) > KILN_FRAME_SPEC_MAX_LENGTH)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The frame list is longer than %d bytes"),
                   KILN_FRAME_SPEC_MAX_LENGTH);
      return NULL;
    }

  parser.text = text;
  parser.p = text;
  skip_spaces (&parser);
  if (*parser.p == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The frame list is empty: write frames like 1-250 or 1,5,9-12"));
      return NULL;
    }

  frame_bits_init (&bits);
  for (;;)
    {
      if (!parse_item (&parser, &bits, error))
        return NULL;
      skip_spaces (&parser);
      if (*parser.p == '\0')
        break;
      if (*parser.p != ',')
        {
          g_autofree char *here = describe_here (&parser);

          fail (&parser, parser.p, error, _("expected a comma or the end, found %s"), here);
          return NULL;
        }
      parser.p++;
    }
  return frame_bits_to_spec (&bits);
}

KilnFrameSpec *
kiln_frame_spec_new_range (int      start,
                           int      end,
                           int      step,
                           GError **error)
{
  g_auto(FrameBits) bits = { NULL, 0, 0 };

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (start < 0 || end < 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Frame numbers cannot be negative"));
      return NULL;
    }
  if (start > KILN_FRAME_MAX || end > KILN_FRAME_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Frames go up to %d in Blender"), KILN_FRAME_MAX);
      return NULL;
    }
  if (end < start)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The range %d-%d runs backwards"), start, end);
      return NULL;
    }
  if (step < 1)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The frame step must be at least 1"));
      return NULL;
    }
  if (run_count (start, end, step) > KILN_FRAME_SPEC_MAX_FRAMES)
    {
      too_many (error);
      return NULL;
    }

  frame_bits_init (&bits);
  for (gint64 frame = start; frame <= end; frame += step)
    frame_bits_set (&bits, (int) frame);
  return frame_bits_to_spec (&bits);
}

KilnFrameSpec *
kiln_frame_spec_new_from_frames (const int  *frames,
                                 guint       n_frames,
                                 GError    **error)
{
  g_auto(FrameBits) bits = { NULL, 0, 0 };

  g_return_val_if_fail (frames != NULL || n_frames == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (n_frames == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("There are no frames to render"));
      return NULL;
    }

  frame_bits_init (&bits);
  for (guint i = 0; i < n_frames; i++)
    {
      if (frames[i] < 0 || frames[i] > KILN_FRAME_MAX)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("Frame %d is outside Blender’s frames 0 to %d"), frames[i],
                       KILN_FRAME_MAX);
          return NULL;
        }
      frame_bits_set (&bits, frames[i]);
      if (bits.count > KILN_FRAME_SPEC_MAX_FRAMES)
        {
          too_many (error);
          return NULL;
        }
    }
  return frame_bits_to_spec (&bits);
}

/* Reading ----------------------------------------------------------------------------- */

guint
kiln_frame_spec_get_n_frames (const KilnFrameSpec *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_frames;
}

int
kiln_frame_spec_get_frame (const KilnFrameSpec *self,
                           guint                index)
{
  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (index < self->n_frames, -1);
  return self->frames[index];
}

const int *
kiln_frame_spec_get_frames (const KilnFrameSpec *self,
                            guint               *n_frames)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (n_frames != NULL)
    *n_frames = self->n_frames;
  return self->frames;
}

gboolean
kiln_frame_spec_contains (const KilnFrameSpec *self,
                          int                  frame)
{
  guint lo = 0, hi;

  g_return_val_if_fail (self != NULL, FALSE);

  hi = self->n_frames;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (self->frames[mid] == frame)
        return TRUE;
      if (self->frames[mid] < frame)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

gboolean
kiln_frame_spec_equal (const KilnFrameSpec *a,
                       const KilnFrameSpec *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->n_frames == b->n_frames &&
         memcmp (a->frames, b->frames, a->n_frames * sizeof (int)) == 0;
}

/* The end (exclusive) of the evenly spaced run starting at @i. */
static guint
run_end (const KilnFrameSpec *self,
         guint                i)
{
  guint j = i + 1;
  int step;

  if (j >= self->n_frames)
    return j;
  step = self->frames[j] - self->frames[i];
  while (j < self->n_frames && self->frames[j] - self->frames[j - 1] == step)
    j++;
  return j;
}

GArray *
kiln_frame_spec_get_runs (const KilnFrameSpec *self)
{
  GArray *runs;
  guint i = 0;

  g_return_val_if_fail (self != NULL, NULL);

  runs = g_array_new (FALSE, FALSE, sizeof (KilnFrameRun));
  while (i < self->n_frames)
    {
      KilnFrameRun run = { self->frames[i], self->frames[i], 1 };
      guint j = run_end (self, i);

      /* A pair whose second frame starts a longer run: keep the frame alone. */
      if (j - i == 2 && run_end (self, i + 1) - (i + 1) > 2)
        j = i + 1;
      if (j - i > 1)
        {
          run.step = self->frames[i + 1] - self->frames[i];
          run.last = self->frames[j - 1];
        }
      g_array_append_val (runs, run);
      i = j;
    }
  return runs;
}

char *
kiln_frame_spec_to_string (const KilnFrameSpec *self)
{
  g_autoptr(GArray) runs = NULL;
  GString *text;

  g_return_val_if_fail (self != NULL, NULL);

  runs = kiln_frame_spec_get_runs (self);
  text = g_string_new (NULL);
  for (guint i = 0; i < runs->len; i++)
    {
      const KilnFrameRun *run = &g_array_index (runs, KilnFrameRun, i);
      guint64 count = run_count (run->first, run->last, run->step);

      if (i > 0)
        g_string_append_c (text, ',');
      if (count == 1)
        g_string_append_printf (text, "%d", run->first);
      else if (count == 2)
        g_string_append_printf (text, "%d,%d", run->first, run->last);
      else if (run->step == 1)
        g_string_append_printf (text, "%d-%d", run->first, run->last);
      else
        g_string_append_printf (text, "%d-%dx%d", run->first, run->last, run->step);
    }
  return g_string_free (text, FALSE);
}
