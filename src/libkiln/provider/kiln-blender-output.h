/* kiln-blender-output.h: what Blender prints while it renders, as events
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* One line of Blender's console output (stdout and stderr merged), classified.
 * Nothing here is trusted: a scene controls some of the text Blender prints
 * (object and file names), so these events drive progress and error messages,
 * never decisions about which files to accept. */
typedef enum
{
  KILN_BLENDER_EVENT_NONE,             /* anything else (traceback lines, blank lines) */
  KILN_BLENDER_EVENT_VERSION,          /* "Blender 3.4.1": message = "3.4.1" */
  KILN_BLENDER_EVENT_READ_BLEND,       /* "Read blend: PATH" */
  KILN_BLENDER_EVENT_STATUS,           /* a "Fra:" status line without sample counts */
  KILN_BLENDER_EVENT_PROGRESS,         /* a "Fra:" line with "Sample 3/16" (Cycles) or
                                        * "Rendering 3 / 16 samples" (EEVEE) */
  KILN_BLENDER_EVENT_FRAME_FINISHED,   /* Cycles' "| Finished" status for a frame */
  KILN_BLENDER_EVENT_SAVED,            /* "Saved: 'PATH'" */
  KILN_BLENDER_EVENT_FRAME_TIME,       /* " Time: 00:00.23 (Saving: 00:00.13)" */
  KILN_BLENDER_EVENT_SCRIPT_SKIPPED,   /* "scripts disabled for "PATH", skipping 'NAME'" */
  KILN_BLENDER_EVENT_MISSING_FILE,     /* "Warning: Path 'P' not found", "Warning: Unable to
                                        * open 'P': …", "Info: Cannot find lib 'P'" */
  KILN_BLENDER_EVENT_OUT_OF_MEMORY,    /* "Malloc returns null", "Error: Out of memory",
                                        * std::bad_alloc, a "| Out of memory" status */
  KILN_BLENDER_EVENT_UNREADABLE_FILE,  /* "Error: Cannot read file 'P': reason" */
  KILN_BLENDER_EVENT_PYTHON_ERROR,     /* "Error: Python: …", "Error: script failed, …" */
  KILN_BLENDER_EVENT_ERROR,            /* any other "Error: …" */
  KILN_BLENDER_EVENT_WARNING,          /* any other "Warning: …" */
  KILN_BLENDER_EVENT_NOTICE,           /* "Info: …", "Error: Not freed memory blocks…" */
  KILN_BLENDER_EVENT_CRASH,            /* "Writing: /tmp/NAME.crash.txt" */
  KILN_BLENDER_EVENT_QUIT,             /* "Blender quit" */
} KilnBlenderEventKind;

typedef struct
{
  KilnBlenderEventKind kind;
  int                  frame;         /* from "Fra:N", else G_MININT */
  guint                sample;        /* PROGRESS: samples done */
  guint                samples;       /* PROGRESS: samples in the frame */
  double               peak_mib;      /* "(Peak 10.83M)" on "Fra:" lines, else 0 */
  double               seconds;       /* FRAME_TIME: render time of the frame */
  char                *path;          /* READ_BLEND, SAVED, SCRIPT_SKIPPED (the .blend),
                                       * MISSING_FILE, UNREADABLE_FILE, CRASH */
  char                *message;       /* the rest: status text, error text, script name */
} KilnBlenderEvent;

#define KILN_TYPE_BLENDER_EVENT (kiln_blender_event_get_type ())

GType             kiln_blender_event_get_type  (void) G_GNUC_CONST;
KilnBlenderEvent *kiln_blender_event_copy      (const KilnBlenderEvent *event);
void              kiln_blender_event_free      (KilnBlenderEvent       *event);
/* Frees the strings of a stack-allocated event and resets it. */
void              kiln_blender_event_clear     (KilnBlenderEvent       *event);

/* Classifies one line (without its newline). Always fills @event (kind NONE for
 * lines it does not know); returns the kind. Call kiln_blender_event_clear() after. */
KilnBlenderEventKind kiln_blender_parse_line   (const char             *line,
                                                KilnBlenderEvent       *event);

/* What a whole run printed, summed up line by line. */
typedef struct _KilnBlenderOutput KilnBlenderOutput;

KilnBlenderOutput *kiln_blender_output_new                (void);
void               kiln_blender_output_free               (KilnBlenderOutput *self);

/* Parses @line and updates the summary. @event, when not NULL, receives the
 * parsed event (clear it after). Returns the event's kind. */
KilnBlenderEventKind kiln_blender_output_feed             (KilnBlenderOutput *self,
                                                           const char        *line,
                                                           KilnBlenderEvent  *event);

const char        *kiln_blender_output_get_version        (KilnBlenderOutput *self);
/* Frame of the last "Fra:" line, or G_MININT. */
int                kiln_blender_output_get_frame          (KilnBlenderOutput *self);
guint              kiln_blender_output_get_sample         (KilnBlenderOutput *self);
guint              kiln_blender_output_get_samples        (KilnBlenderOutput *self);
/* Highest "(Peak …M)" seen, in MiB. */
double             kiln_blender_output_get_peak_mib       (KilnBlenderOutput *self);
/* Paths from "Saved:" lines, in order. */
GPtrArray         *kiln_blender_output_get_saved          (KilnBlenderOutput *self);
/* Per-frame render times from " Time:" lines, in seconds (a GArray of double). */
GArray            *kiln_blender_output_get_frame_times    (KilnBlenderOutput *self);
/* Missing external files and libraries, each once, in order. */
GPtrArray         *kiln_blender_output_get_missing_files  (KilnBlenderOutput *self);
/* Names of the scene's scripts that Blender refused to run. */
GPtrArray         *kiln_blender_output_get_skipped_scripts (KilnBlenderOutput *self);
gboolean           kiln_blender_output_get_out_of_memory  (KilnBlenderOutput *self);
gboolean           kiln_blender_output_get_python_failed  (KilnBlenderOutput *self);
gboolean           kiln_blender_output_get_crashed        (KilnBlenderOutput *self);
gboolean           kiln_blender_output_get_quit           (KilnBlenderOutput *self);
/* The file named by "Error: Cannot read file", or NULL. */
const char        *kiln_blender_output_get_unreadable_file (KilnBlenderOutput *self);
/* The first "Error: …" text (Python, unreadable file and generic errors), or NULL. */
const char        *kiln_blender_output_get_first_error    (KilnBlenderOutput *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnBlenderEvent, kiln_blender_event_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnBlenderEvent, kiln_blender_event_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnBlenderOutput, kiln_blender_output_free)

G_END_DECLS
