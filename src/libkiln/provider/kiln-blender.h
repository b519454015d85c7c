/* kiln-blender.h: finding Blender, what it can render, how fast this computer runs it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KILN_BLENDER_ERROR (kiln_blender_error_quark ())

typedef enum
{
  KILN_BLENDER_ERROR_NOT_FOUND,      /* no Blender at the setting, in PATH or the usual places */
  KILN_BLENDER_ERROR_NOT_BLENDER,    /* the program did not answer the probe */
  KILN_BLENDER_ERROR_TOO_OLD,        /* older than KILN_BLENDER_MIN_MAJOR.MINOR */
  KILN_BLENDER_ERROR_NO_CYCLES,      /* this Blender cannot render with Cycles */
  KILN_BLENDER_ERROR_BENCHMARK,      /* the benchmark render failed */
} KilnBlenderError;

GQuark kiln_blender_error_quark (void);

/* The oldest Blender whose Cycles and command line Kiln relies on. */
#define KILN_BLENDER_MIN_MAJOR 3
#define KILN_BLENDER_MIN_MINOR 0

#define KILN_TYPE_BLENDER (kiln_blender_get_type ())

G_DECLARE_FINAL_TYPE (KilnBlender, kiln_blender, KILN, BLENDER, GObject)

/* Finds Blender: @configured_path when set (a setting; only it is tried), else
 * "blender" in PATH, else the usual install places (/usr/bin, /usr/local/bin,
 * /opt/blender*, ~/.local/bin, ~/Applications/blender*, /snap/bin, /app/bin,
 * /app/blender). Each candidate is probed once: `blender -b --factory-startup
 * -noaudio --python-expr …` prints its version, Cycles devices, whether
 * OpenImageDenoise is built in, and its image formats. Results are cached in
 * memory per executable (path, size and modification time). Blocking variant
 * for worker threads; the async one runs it in a thread.
 *
 * Inside Kiln's Flatpak with no Blender in /app, the computer's Blender is used:
 * once Kiln is known to be allowed to start programs there
 * (KILN_SANDBOX_ERROR_UNAVAILABLE says how to allow it), one `flatpak-spawn
 * --host` shell looks for bwrap and for Blender in the same places (but /snap,
 * whose launcher is no program bwrap can start), and the Blender found is probed
 * there; the result is kept for the rest of the process. Without Blender the
 * error is KILN_BLENDER_ERROR_NOT_FOUND, without bwrap alone
 * KILN_SANDBOX_ERROR_UNAVAILABLE; each says what to install. */
KilnBlender  *kiln_blender_discover               (const char           *configured_path,
                                                   GCancellable         *cancellable,
                                                   GError              **error);
void          kiln_blender_discover_async         (const char           *configured_path,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
KilnBlender  *kiln_blender_discover_finish        (GAsyncResult         *result,
                                                   GError              **error);

/* Probes one executable (cached like discovery). Blocking. */
KilnBlender  *kiln_blender_new_for_path           (const char           *path,
                                                   GCancellable         *cancellable,
                                                   GError              **error);

/* The program's path; for a Blender on the computer outside Kiln's Flatpak, the
 * path it has there. */
const char   *kiln_blender_get_path               (KilnBlender          *self);
/* Inside Kiln's Flatpak with no Blender bundled in /app: TRUE, this is the
 * computer's Blender, run with flatpak-spawn --host (and in the computer's bwrap
 * for anyone else's scene: KILN_SANDBOX_BACKEND_FLATPAK_HOST). */
gboolean      kiln_blender_is_on_host             (KilnBlender          *self);
/* "3.4.1" */
const char   *kiln_blender_get_version            (KilnBlender          *self);
void          kiln_blender_get_version_numbers    (KilnBlender          *self,
                                                   guint                *major,
                                                   guint                *minor,
                                                   guint                *patch);
gboolean      kiln_blender_has_cycles             (KilnBlender          *self);
/* Whether Cycles has OpenImageDenoise (Debian's Blender does not: jobs that ask
 * for denoising are rendered without it there). */
gboolean      kiln_blender_has_denoiser           (KilnBlender          *self);
/* Cycles device types available: "CPU", and "CUDA", "OPTIX", "HIP", … when usable. */
const char * const *kiln_blender_get_devices      (KilnBlender          *self);
/* Blender's image format identifiers ("PNG", "OPEN_EXR", …). */
const char * const *kiln_blender_get_image_formats (KilnBlender         *self);
gboolean      kiln_blender_supports_format        (KilnBlender          *self,
                                                   const char           *format);

/* This computer's CPU model ("AMD EPYC"), as used in the benchmark cache key. */
const char   *kiln_blender_get_cpu_model          (KilnBlender          *self);

/* The benchmark: a fixed small Cycles scene built by Blender itself (320×240,
 * 32 samples) rendered on the CPU with every allowed thread; the score is
 * millions of path samples per second of render time (loading and scene
 * building excluded). Cached in @cache_dir/blender-benchmarks.json keyed by
 * Blender version and CPU model (and thread count), so it runs once per Blender
 * upgrade; @force measures again. @cache_dir NULL means $XDG_CACHE_HOME/kiln. */
void          kiln_blender_benchmark_async        (KilnBlender          *self,
                                                   GFile                *cache_dir,
                                                   gboolean              force,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
double        kiln_blender_benchmark_finish       (KilnBlender          *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
/* The last score measured or read from the cache, 0 before any ("benchmark-score"
 * property, notified on change), and the number of threads it was measured with. */
double        kiln_blender_get_benchmark_score    (KilnBlender          *self);
guint         kiln_blender_get_benchmark_threads  (KilnBlender          *self);

G_END_DECLS
