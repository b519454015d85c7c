/* kiln-blender.c: finding Blender and what it can render
 *
 * Blender itself answers: a short Python expression run with --factory-startup
 * prints one JSON line (version, Cycles, OpenImageDenoise, devices, formats). It
 * loads no scene from anyone else, so it runs outside the sandbox. The benchmark
 * is in kiln-blender-benchmark.c. Inside Kiln's Flatpak without a bundled Blender
 * the computer's is found and probed through flatpak-spawn --host (see
 * kiln-sandbox-flatpak.c for how it is then confined).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kiln-blender.h"
#include "kiln-blender-private.h"
#include "kiln-sandbox-private.h"

#define PROBE_TIMEOUT_SECONDS      60

struct _KilnBlender
{
  GObject   parent_instance;

  char     *path;
  gboolean  on_host;
  char     *version;
  guint     version_numbers[3];
  gboolean  has_cycles;
  gboolean  has_denoiser;
  GStrv     devices;
  GStrv     formats;
  char     *cpu_model;

  double    benchmark_score;
  guint     benchmark_threads;
};

enum {
  PROP_0,
  PROP_PATH,
  PROP_VERSION,
  PROP_BENCHMARK_SCORE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (KilnBlender, kiln_blender, G_TYPE_OBJECT)

G_DEFINE_QUARK (kiln-blender-error-quark, kiln_blender_error)

/* Probed executables, by path + size + mtime. */
G_LOCK_DEFINE_STATIC (probe_cache);
static GHashTable *probe_cache;

/* The computer's Blender, found from inside Kiln's Flatpak: by configured path
 * ("" for the usual places). Held while looking, so that it is done once. */
G_LOCK_DEFINE_STATIC (host_blenders);
static GHashTable *host_blenders;

/* Run on the computer by /bin/sh: $1 is the configured Blender (a program or a
 * folder holding one) or empty. Prints whether bwrap is there and the real path
 * of the first Blender in the usual places (as usual_candidates () lists them; the
 * newest-looking of unpacked ones), "KILN-BLENDER " alone when there is none.
 * Not /snap/bin/blender: it is snap's launcher, which does not run in bwrap. */
static const char host_locate_script[] =
  "if command -v bwrap >/dev/null 2>&1; then echo 'KILN-BWRAP yes'; else echo 'KILN-BWRAP no'; fi\n"
  "found=\n"
  "try () {\n"
  "  case \"$1\" in /snap/*) return ;; esac\n"
  "  if [ -z \"$found\" ] && [ -n \"$1\" ] && [ -x \"$1\" ] && [ ! -d \"$1\" ]; then\n"
  "    found=$(readlink -f \"$1\")\n"
  "  fi\n"
  "}\n"
  "newest () {\n"
  "  last=\n"
  "  for d in \"$@\"; do\n"
  "    if [ -x \"$d/blender\" ] && [ ! -d \"$d/blender\" ]; then last=$d/blender; fi\n"
  "  done\n"
  "  try \"$last\"\n"
  "}\n"
  "if [ -n \"$1\" ]; then\n"
  "  if [ -d \"$1\" ]; then try \"$1/blender\"; else try \"$1\"; fi\n"
  "else\n"
  "  try \"$(command -v blender 2>/dev/null)\"\n"
  "  try /usr/bin/blender\n"
  "  try /usr/local/bin/blender\n"
  "  newest /opt/blender*\n"
  "  try \"$HOME/.local/bin/blender\"\n"
  "  newest \"$HOME\"/Applications/blender*\n"
  "  newest \"$HOME\"/blender-*\n"
  "fi\n"
  "echo \"KILN-BLENDER $found\"\n";

static const char probe_script[] =
  "import bpy, json\n"
  "info = {'version': list(bpy.app.version), 'version_string': bpy.app.version_string,\n"
  "        'cycles': False, 'oidn': False, 'devices': [], 'formats': []}\n"
  "try:\n"
  "    import _cycles\n"
  "    info['cycles'] = 'CYCLES' in {e.bl_idname for e in\n"
  "                                  bpy.types.RenderEngine.__subclasses__()}\n"
  "    info['oidn'] = bool(getattr(_cycles, 'with_openimagedenoise', False))\n"
  "    devices = set()\n"
  "    for kind in ('CPU', 'CUDA', 'OPTIX', 'HIP', 'ONEAPI', 'METAL'):\n"
  "        try:\n"
  "            devices.update(d[1] for d in _cycles.available_devices(kind))\n"
  "        except Exception:\n"
  "            pass\n"
  "    info['devices'] = sorted(devices)\n"
  "except ImportError:\n"
  "    pass\n"
  "prop = bpy.types.ImageFormatSettings.bl_rna.properties['file_format']\n"
  "info['formats'] = [i.identifier for i in prop.enum_items]\n"
  "print('KILN-PROBE ' + json.dumps(info), flush=True)\n";

/* Running a trusted Blender and reading its output ----------------------------------- */

typedef struct
{
  gboolean  done;
  gboolean  timed_out;
  char     *output;
  GError   *error;
} RunState;

static void
communicate_done (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  RunState *state = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (object), result,
                                        &state->output, NULL, &state->error);
  state->done = TRUE;
}

static gboolean
run_timed_out (gpointer user_data)
{
  GSubprocess *process = user_data;

  g_object_set_data (G_OBJECT (process), "kiln-timed-out", GINT_TO_POINTER (TRUE));
  g_subprocess_force_exit (process);
  return G_SOURCE_REMOVE;
}

/* Runs @argv in this thread (it iterates a private main context) and returns its
 * merged output. Fails when it cannot start, runs past @timeout_seconds (then it
 * is killed), is cancelled (killed too) or exits with a failure. */
char *
kiln_blender_run_captured (const char * const  *argv,
                           gboolean             on_host,
                           guint                timeout_seconds,
                           GCancellable        *cancellable,
                           GError             **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GSource) timeout = NULL;
  g_autofree char *name = g_path_get_basename (argv[0]);
  g_auto(GStrv) host_argv = NULL;
  RunState state = { 0 };

  /* Killing flatpak-spawn ends the program on the computer too (--watch-bus). */
  if (on_host)
    {
      host_argv = kiln_sandbox_host_argv (argv, error);
      if (host_argv == NULL)
        return NULL;
      argv = (const char * const *) host_argv;
    }

  g_main_context_push_thread_default (context);

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                     G_SUBPROCESS_FLAGS_STDERR_MERGE, error);
  if (process == NULL)
    {
      g_main_context_pop_thread_default (context);
      return NULL;
    }

  timeout = g_timeout_source_new_seconds (timeout_seconds);
  g_source_set_callback (timeout, run_timed_out, process, NULL);
  g_source_attach (timeout, context);

  g_subprocess_communicate_utf8_async (process, NULL, cancellable, communicate_done, &state);
  while (!state.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);

  if (state.error != NULL)
    {
      /* Cancelled: communicate stops reading but the program goes on. */
      g_subprocess_force_exit (process);
      g_subprocess_wait (process, NULL, NULL);
    }
  g_main_context_pop_thread_default (context);

  if (state.error != NULL)
    {
      g_propagate_error (error, state.error);
      g_free (state.output);
      return NULL;
    }
  if (g_object_get_data (G_OBJECT (process), "kiln-timed-out"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   _("%s did not finish within %u seconds"), name, timeout_seconds);
      g_free (state.output);
      return NULL;
    }
  if (!g_subprocess_get_successful (process))
    {
      g_auto(GStrv) lines = g_strsplit (state.output != NULL ? state.output : "", "\n", -1);
      guint n = g_strv_length (lines);
      const char *last = "";

      /* The last non-empty line usually says why. */
      for (guint i = n; i > 0; i--)
        if (*g_strstrip (lines[i - 1]) != '\0' && !g_str_equal (lines[i - 1], "Blender quit"))
          {
            last = lines[i - 1];
            break;
          }
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("%s failed: %s"), name, *last ? last : _("no output"));
      g_free (state.output);
      return NULL;
    }
  return state.output;
}

/* The JSON object printed after @marker on a line of its own. */
JsonObject *
kiln_blender_find_marked_json (const char  *output,
                  const char  *marker,
                  GError     **error)
{
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = NULL;
      JsonNode *root;

      if (!g_str_has_prefix (lines[i], marker))
        continue;
      parser = json_parser_new ();
      if (!json_parser_load_from_data (parser, lines[i] + strlen (marker), -1, error))
        return NULL;
      root = json_parser_get_root (parser);
      if (!JSON_NODE_HOLDS_OBJECT (root))
        break;
      return json_object_ref (json_node_get_object (root));
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("no answer in the output"));
  return NULL;
}

/* json-glib complains about absent members: these return NULL instead. */
JsonObject *
kiln_blender_json_object_member (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
array_member (JsonObject *object,
              const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static GStrv
string_array_member (JsonObject *object,
                     const char *name)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array = array_member (object, name);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (node));
    }
  return g_strv_builder_end (builder);
}

/* CPU --------------------------------------------------------------------------------- */

static char *
read_cpu_model (void)
{
  static const char * const keys[] = { "model name", "Hardware", "cpu model", "cpu", NULL };
  g_autofree char *cpuinfo = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return g_strdup ("unknown");

  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint k = 0; keys[k] != NULL; k++)
    for (guint i = 0; lines[i] != NULL; i++)
      {
        const char *colon = strchr (lines[i], ':');
        g_autofree char *key = NULL;

        if (colon == NULL)
          continue;
        key = g_strstrip (g_strndup (lines[i], colon - lines[i]));
        if (g_str_equal (key, keys[k]))
          {
            g_autofree char *value = g_strstrip (g_strdup (colon + 1));

            if (*value != '\0')
              return g_steal_pointer (&value);
          }
      }
  return g_strdup ("unknown");
}

/* The object ------------------------------------------------------------------------------ */

static void
kiln_blender_finalize (GObject *object)
{
  KilnBlender *self = KILN_BLENDER (object);

  g_free (self->path);
  g_free (self->version);
  g_strfreev (self->devices);
  g_strfreev (self->formats);
  g_free (self->cpu_model);

  G_OBJECT_CLASS (kiln_blender_parent_class)->finalize (object);
}

static void
kiln_blender_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KilnBlender *self = KILN_BLENDER (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_VERSION:
      g_value_set_string (value, self->version);
      break;
    case PROP_BENCHMARK_SCORE:
      g_value_set_double (value, self->benchmark_score);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_blender_class_init (KilnBlenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_blender_finalize;
  object_class->get_property = kiln_blender_get_property;

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_VERSION] =
    g_param_spec_string ("version", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BENCHMARK_SCORE] =
    g_param_spec_double ("benchmark-score", NULL, NULL, 0, G_MAXDOUBLE, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_blender_init (KilnBlender *self)
{
}

/* Probing -------------------------------------------------------------------------------- */

static char *
cache_key (const char *path)
{
  struct stat st;

  if (g_stat (path, &st) != 0)
    return NULL;
  return g_strdup_printf ("%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT,
                          path, (gint64) st.st_size, (gint64) st.st_mtime);
}

static KilnBlender *
probe (const char    *path,
       gboolean       on_host,
       GCancellable  *cancellable,
       GError       **error)
{
  const char * const argv[] = {
    path, "-b", "--factory-startup", "-noaudio", "--python-expr", probe_script, NULL
  };
  g_autoptr(KilnBlender) self = NULL;
  g_autoptr(JsonObject) info = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *output = NULL;
  JsonArray *numbers;

  output = kiln_blender_run_captured (argv, on_host, PROBE_TIMEOUT_SECONDS, cancellable,
                                      &local_error);
  if (output == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_BLENDER,
                   _("%s could not be used as Blender: %s"), path, local_error->message);
      return NULL;
    }

  info = kiln_blender_find_marked_json (output, "KILN-PROBE ", &local_error);
  numbers = info != NULL ? array_member (info, "version") : NULL;
  if (numbers == NULL || json_array_get_length (numbers) < 3 ||
      !json_object_has_member (info, "version_string"))
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_BLENDER,
                   _("%s did not answer like Blender does (%s)"), path,
                   local_error != NULL ? local_error->message : _("no version"));
      return NULL;
    }

  self = g_object_new (KILN_TYPE_BLENDER, NULL);
  self->path = g_strdup (path);
  self->on_host = on_host;
  self->version = g_strdup (json_object_get_string_member (info, "version_string"));
  for (guint i = 0; i < 3; i++)
    self->version_numbers[i] = (guint) CLAMP (json_array_get_int_element (numbers, i),
                                              0, G_MAXUINT16);
  self->has_cycles = json_object_get_boolean_member_with_default (info, "cycles", FALSE);
  self->has_denoiser = json_object_get_boolean_member_with_default (info, "oidn", FALSE);
  self->devices = string_array_member (info, "devices");
  self->formats = string_array_member (info, "formats");
  self->cpu_model = read_cpu_model ();

  if (self->version_numbers[0] * 1000 + self->version_numbers[1] <
      KILN_BLENDER_MIN_MAJOR * 1000 + KILN_BLENDER_MIN_MINOR)
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_TOO_OLD,
                   _("Blender %s at %s is too old: Kiln needs Blender %d.%d or newer"),
                   self->version, path, KILN_BLENDER_MIN_MAJOR, KILN_BLENDER_MIN_MINOR);
      return NULL;
    }
  if (!self->has_cycles)
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NO_CYCLES,
                   _("Blender %s at %s cannot render with Cycles"), self->version, path);
      return NULL;
    }

  return g_steal_pointer (&self);
}

/* The computer's Blender, from inside Kiln's Flatpak --------------------------------------- */

static gboolean
read_located (const char  *output,
              gboolean    *has_bwrap,
              char       **blender)
{
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);
  gboolean answered = FALSE;

  *has_bwrap = FALSE;
  *blender = NULL;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_equal (lines[i], "KILN-BWRAP yes"))
        *has_bwrap = TRUE;
      else if (g_str_has_prefix (lines[i], "KILN-BLENDER "))
        {
          const char *path = lines[i] + strlen ("KILN-BLENDER ");

          answered = TRUE;
          if (g_path_is_absolute (path))
            *blender = g_strdup (path);
        }
    }
  return answered;
}

static KilnBlender *
locate_on_host (const char    *configured_path,
                GCancellable  *cancellable,
                GError       **error)
{
  const char * const argv[] = {
    "/bin/sh", "-c", host_locate_script, "kiln-locate",
    configured_path != NULL ? configured_path : "", NULL
  };
  g_autoptr(GError) local_error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *blender = NULL;
  gboolean has_bwrap;

  if (!kiln_sandbox_check_host_permission (cancellable, error))
    return NULL;

  output = kiln_blender_run_captured (argv, TRUE, PROBE_TIMEOUT_SECONDS, cancellable,
                                      &local_error);
  if (output == NULL || !read_located (output, &has_bwrap, &blender))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                   _("Kiln could not look for Blender on this computer: %s"),
                   local_error != NULL ? local_error->message : _("no answer"));
      return NULL;
    }

  if (blender == NULL && configured_path != NULL && *configured_path != '\0')
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                   _("There is no Blender program at %s on this computer"), configured_path);
      return NULL;
    }
  if (blender == NULL && !has_bwrap)
    {
      g_set_error_literal (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                           _("Kiln’s Flatpak renders with the Blender installed on this "
                             "computer, in Bubblewrap, and neither is installed. Install "
                             "Blender 3.0 or newer and Bubblewrap (for example the “blender” "
                             "and “bubblewrap” packages), then try again."));
      return NULL;
    }
  if (blender == NULL)
    {
      g_set_error_literal (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                           _("Kiln’s Flatpak renders with the Blender installed on this "
                             "computer, and none was found. Install Blender 3.0 or newer (for "
                             "example the “blender” package), then try again."));
      return NULL;
    }
  if (!has_bwrap)
    {
      g_set_error_literal (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_UNAVAILABLE,
                           _("Kiln’s Flatpak runs Blender on this computer inside Bubblewrap, "
                             "which is not installed. Install the “bubblewrap” package, then "
                             "try again."));
      return NULL;
    }

  return probe (blender, TRUE, cancellable, error);
}

static KilnBlender *
discover_on_host (const char    *configured_path,
                  GCancellable  *cancellable,
                  GError       **error)
{
  const char *key = configured_path != NULL ? configured_path : "";
  KilnBlender *blender = NULL;

  G_LOCK (host_blenders);
  if (host_blenders != NULL)
    blender = g_hash_table_lookup (host_blenders, key);
  if (blender != NULL)
    g_object_ref (blender);
  else
    {
      /* Failures are not kept: once Blender is installed, the next try finds it. */
      blender = locate_on_host (configured_path, cancellable, error);
      if (blender != NULL)
        {
          if (host_blenders == NULL)
            host_blenders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                   g_object_unref);
          g_hash_table_replace (host_blenders, g_strdup (key), g_object_ref (blender));
        }
    }
  G_UNLOCK (host_blenders);
  return blender;
}

KilnBlender *
kiln_blender_new_for_path (const char    *path,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autofree char *key = NULL;
  KilnBlender *self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kiln_sandbox_uses_host ())
    return discover_on_host (path, cancellable, error);

  key = cache_key (path);
  if (key == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) ||
      g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                   _("There is no Blender program at %s"), path);
      return NULL;
    }

  G_LOCK (probe_cache);
  if (probe_cache != NULL && (self = g_hash_table_lookup (probe_cache, key)) != NULL)
    g_object_ref (self);
  G_UNLOCK (probe_cache);
  if (self != NULL)
    return self;

  self = probe (path, FALSE, cancellable, error);
  if (self == NULL)
    return NULL;

  G_LOCK (probe_cache);
  if (probe_cache == NULL)
    probe_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_hash_table_replace (probe_cache, g_steal_pointer (&key), g_object_ref (self));
  G_UNLOCK (probe_cache);

  return self;
}

/* Discovery ------------------------------------------------------------------------------- */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

/* Directories matching @prefix* in @dir that hold an executable "blender",
 * newest-looking (reverse name order) first. */
static void
add_unpacked (GPtrArray  *candidates,
              const char *dir,
              const char *prefix)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, prefix))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = names->len; i > 0; i--)
    g_ptr_array_add (candidates, g_build_filename (dir, g_ptr_array_index (names, i - 1),
                                                   "blender", NULL));
}

static GPtrArray *
usual_candidates (void)
{
  GPtrArray *candidates = g_ptr_array_new_with_free_func (g_free);
  const char *home = g_get_home_dir ();
  char *in_path = g_find_program_in_path ("blender");

  if (in_path != NULL)
    g_ptr_array_add (candidates, in_path);
  g_ptr_array_add (candidates, g_strdup ("/usr/bin/blender"));
  g_ptr_array_add (candidates, g_strdup ("/usr/local/bin/blender"));
  add_unpacked (candidates, "/opt", "blender");
  g_ptr_array_add (candidates, g_build_filename (home, ".local", "bin", "blender", NULL));
  {
    g_autofree char *apps = g_build_filename (home, "Applications", NULL);

    add_unpacked (candidates, apps, "blender");
  }
  add_unpacked (candidates, home, "blender-");
  g_ptr_array_add (candidates, g_strdup ("/snap/bin/blender"));
  /* Inside Kiln's own Flatpak: an extension or a bundled build. */
  g_ptr_array_add (candidates, g_strdup ("/app/bin/blender"));
  g_ptr_array_add (candidates, g_strdup ("/app/blender/blender"));
  return candidates;
}

KilnBlender *
kiln_blender_discover (const char    *configured_path,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GHashTable) tried = NULL;
  g_autoptr(GError) first_error = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kiln_sandbox_uses_host ())
    return discover_on_host (configured_path, cancellable, error);

  if (configured_path != NULL && *configured_path != '\0')
    {
      g_autofree char *inside = g_build_filename (configured_path, "blender", NULL);

      if (g_file_test (configured_path, G_FILE_TEST_IS_DIR))
        return kiln_blender_new_for_path (inside, cancellable, error);
      return kiln_blender_new_for_path (configured_path, cancellable, error);
    }

  candidates = usual_candidates ();
  tried = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *candidate = g_ptr_array_index (candidates, i);
      g_autofree char *real = NULL;
      g_autoptr(GError) local_error = NULL;
      KilnBlender *blender;

      if (!g_file_test (candidate, G_FILE_TEST_IS_EXECUTABLE) ||
          g_file_test (candidate, G_FILE_TEST_IS_DIR))
        continue;
      real = g_canonicalize_filename (candidate, NULL);
      {
        g_autofree char *resolved = g_file_read_link (real, NULL);

        /* /usr/bin/blender and PATH's blender are often the same file. */
        if (resolved != NULL && g_path_is_absolute (resolved))
          {
            g_free (real);
            real = g_steal_pointer (&resolved);
          }
      }
      if (!g_hash_table_add (tried, g_steal_pointer (&real)))
        continue;

      blender = kiln_blender_new_for_path (candidate, cancellable, &local_error);
      if (blender != NULL)
        return blender;
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      g_debug ("Blender candidate %s: %s", candidate, local_error->message);
      if (first_error == NULL)
        first_error = g_steal_pointer (&local_error);
    }

  if (first_error != NULL)
    g_propagate_error (error, g_steal_pointer (&first_error));
  else
    g_set_error_literal (error, KILN_BLENDER_ERROR, KILN_BLENDER_ERROR_NOT_FOUND,
                         _("Blender was not found. Install Blender 3.0 or newer (for "
                           "example the “blender” package), or choose where it is in "
                           "Preferences."));
  return NULL;
}

static void
discover_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  KilnBlender *blender = kiln_blender_discover (task_data, cancellable, &error);

  if (blender == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, blender, g_object_unref);
}

void
kiln_blender_discover_async (const char          *configured_path,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, kiln_blender_discover_async);
  g_task_set_task_data (task, g_strdup (configured_path), g_free);
  g_task_run_in_thread (task, discover_thread);
}

KilnBlender *
kiln_blender_discover_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kiln_blender_discover_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Accessors ----------------------------------------------------------------------------- */

const char *
kiln_blender_get_path (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), NULL);
  return self->path;
}

gboolean
kiln_blender_is_on_host (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), FALSE);
  return self->on_host;
}

const char *
kiln_blender_get_version (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), NULL);
  return self->version;
}

void
kiln_blender_get_version_numbers (KilnBlender *self,
                                  guint       *major,
                                  guint       *minor,
                                  guint       *patch)
{
  g_return_if_fail (KILN_IS_BLENDER (self));

  if (major != NULL)
    *major = self->version_numbers[0];
  if (minor != NULL)
    *minor = self->version_numbers[1];
  if (patch != NULL)
    *patch = self->version_numbers[2];
}

gboolean
kiln_blender_has_cycles (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), FALSE);
  return self->has_cycles;
}

gboolean
kiln_blender_has_denoiser (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), FALSE);
  return self->has_denoiser;
}

const char * const *
kiln_blender_get_devices (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), NULL);
  return (const char * const *) self->devices;
}

const char * const *
kiln_blender_get_image_formats (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), NULL);
  return (const char * const *) self->formats;
}

gboolean
kiln_blender_supports_format (KilnBlender *self,
                              const char  *format)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), FALSE);
  g_return_val_if_fail (format != NULL, FALSE);
  return g_strv_contains ((const char * const *) self->formats, format);
}

const char *
kiln_blender_get_cpu_model (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), NULL);
  return self->cpu_model;
}

void
kiln_blender_set_benchmark (KilnBlender *self,
                            double       score,
                            guint        threads)
{
  g_return_if_fail (KILN_IS_BLENDER (self));

  self->benchmark_threads = threads;
  if (self->benchmark_score == score)
    return;
  self->benchmark_score = score;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BENCHMARK_SCORE]);
}

double
kiln_blender_get_benchmark_score (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), 0);
  return self->benchmark_score;
}

guint
kiln_blender_get_benchmark_threads (KilnBlender *self)
{
  g_return_val_if_fail (KILN_IS_BLENDER (self), 0);
  return self->benchmark_threads;
}
