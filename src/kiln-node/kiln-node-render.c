/* kiln-node-render.c: kiln-node render, the requestor on the command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * `render` first checks that FILE starts like a .blend (a wrong file fails at once), then
 * reads the scene with Blender in the sandbox while it opens the account and its wallet on
 * the chain, starts a node (listening on --listen, joining through --bootstrap and the peers
 * it remembers), makes a KilnRenderJob of the scene's own settings and the options (refused,
 * before anything is announced, when the balance cannot cover the most the job can cost),
 * announces it, and follows it (kiln-node-render-follow.c) until every frame is in the
 * output folder and every provider is paid.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib-unix.h>

#include "kiln-market.h"

#include "kiln-node-account.h"
#include "kiln-node-render-private.h"
#include "kiln-node-wallet-private.h"

/* What --max-price is unless given: one token per CPU-hour, as the app proposes. */
#define DEFAULT_MAX_PRICE       "1"
/* How long the job waits for a provider to take its work, unless --wait-providers. */
#define DEFAULT_WAIT_PROVIDERS  120
/* Blender's limits on the image size and the resolution scale. */
#define MAX_RESOLUTION          65536
#define MAX_PERCENTAGE          32767
#define MAX_SAMPLES             (1 << 24)

/* The command line, checked */
typedef struct
{
  char             *blend_file;      /* absolute */
  KilnFrameSpec    *frames;          /* NULL: the scene's */
  guint             n_subtasks;      /* 0: one per frame */
  const char       *max_price;       /* as written; read once the chain is known */
  char             *output_dir;      /* absolute; NULL: beside the scene */
  guint             samples;         /* 0: the scene's */
  guint             resolution_x;    /* 0: the scene's */
  guint             resolution_y;
  guint             percentage;      /* 0: the scene's */
  gboolean          has_format;
  KilnImageFormat   format;
  guint             timeout;         /* 0: the default */
  guint             cores;           /* 0: the default */
  char             *listen_host;     /* NULL: every interface */
  guint16           listen_port;
  char            **bootstrap;
  gboolean          lan;
} Request;

static void
request_clear (Request *request)
{
  g_clear_pointer (&request->blend_file, g_free);
  g_clear_pointer (&request->frames, kiln_frame_spec_unref);
  g_clear_pointer (&request->output_dir, g_free);
  g_clear_pointer (&request->listen_host, g_free);
  g_clear_pointer (&request->bootstrap, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Request, request_clear)

/* An option given as a whole number within @min … @max; -1 means not given. */
static gboolean
check_number (int          value,
              const char  *option,
              int          min,
              int          max,
              guint       *out,
              GError     **error)
{
  if (value == -1)
    return TRUE;
  if (value < min || value > max)
    return kiln_node_usage_error (error, _("%s needs a whole number from %d to %d, not %d"),
                                  option, min, max, value);
  *out = value;
  return TRUE;
}

/* "HOST:PORT" (an IP address), "[IPV6]:PORT", "*:PORT" or ":PORT" (every interface). */
static gboolean
parse_listen (const char  *text,
              Request     *request,
              GError     **error)
{
  g_autoptr(GSocketConnectable) address = NULL;
  const char *colon = strrchr (text, ':');
  const char *hostname;
  guint64 port;

  if (colon == NULL ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT16, &port, NULL))
    goto bad;

  if (colon == text || (colon == text + 1 && text[0] == '*'))
    {
      request->listen_port = port;
      return TRUE;
    }

  /* An IPv6 address needs its brackets, or its last group would read as the port. */
  if (text[0] != '[' && strchr (text, ':') != colon)
    goto bad;
  address = g_network_address_parse (text, 0, NULL);
  if (address == NULL)
    goto bad;
  hostname = g_network_address_get_hostname (G_NETWORK_ADDRESS (address));
  if (!g_hostname_is_ip_address (hostname))
    return kiln_node_usage_error (error,
                                  _("--listen needs an IP address to listen on, not “%s”"),
                                  hostname);

  request->listen_host = g_strdup (hostname);
  request->listen_port = port;
  return TRUE;

bad:
  return kiln_node_usage_error (error,
                                _("--listen needs [HOST]:PORT (IPv6 as [ADDR]:PORT), not “%s”"),
                                text);
}

static gboolean
check_bootstrap (const char  *text,
                 GError     **error)
{
  g_autoptr(GSocketConnectable) address = NULL;
  const char *colon = strrchr (text, ':');

  if (colon != NULL && (text[0] == '[' || strchr (text, ':') == colon))
    address = g_network_address_parse (text, 0, NULL);

  if (address == NULL || g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0 ||
      g_network_address_get_hostname (G_NETWORK_ADDRESS (address))[0] == '\0')
    return kiln_node_usage_error (error,
                                  _("--bootstrap needs HOST:PORT (IPv6 as [ADDR]:PORT), not "
                                    "“%s”"), text);

  return TRUE;
}

/* "1920x1080" */
static gboolean
parse_resolution (const char  *text,
                  Request     *request,
                  GError     **error)
{
  g_auto(GStrv) parts = g_strsplit_set (text, "xX", -1);
  guint64 width, height;

  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, MAX_RESOLUTION, &width, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, MAX_RESOLUTION, &height, NULL))
    return kiln_node_usage_error (error,
                                  _("--resolution needs WIDTHxHEIGHT in pixels, each from 1 "
                                    "to %d, such as 1920x1080, not “%s”"),
                                  MAX_RESOLUTION, text);

  request->resolution_x = width;
  request->resolution_y = height;
  return TRUE;
}

static gboolean
parse_format (const char  *text,
              Request     *request,
              GError     **error)
{
  if (g_ascii_strcasecmp (text, "png") == 0)
    request->format = KILN_IMAGE_FORMAT_PNG;
  else if (g_ascii_strcasecmp (text, "exr") == 0 || g_ascii_strcasecmp (text, "openexr") == 0 ||
           g_ascii_strcasecmp (text, "open_exr") == 0)
    request->format = KILN_IMAGE_FORMAT_OPEN_EXR;
  else if (g_ascii_strcasecmp (text, "jpeg") == 0 || g_ascii_strcasecmp (text, "jpg") == 0)
    return kiln_node_usage_error (error,
                                  _("--format jpeg is not offered: every result is checked "
                                    "pixel by pixel, which needs a lossless format; choose png "
                                    "(and convert the frames afterwards) or exr"));
  else
    return kiln_node_usage_error (error, _("--format takes png or exr, not “%s”"), text);

  request->has_format = TRUE;
  return TRUE;
}

static gboolean
parse_request (int         argc,
               char      **argv,
               const char *frames,
               int         subtasks,
               const char *out,
               int         samples,
               const char *resolution,
               int         percentage,
               const char *format,
               int         timeout,
               int         cores,
               const char *listen,
               char      **bootstrap,
               Request    *request,
               GError    **error)
{
  g_autoptr(GError) local_error = NULL;

  if (argc < 2)
    return kiln_node_usage_error (error, _("render needs the .blend file to render"));
  if (argc > 2)
    return kiln_node_usage_error (error,
                                  _("render takes one .blend file; unexpected argument “%s”"),
                                  argv[2]);
  if (argv[1][0] == '\0')
    return kiln_node_usage_error (error, _("the .blend file’s name is empty"));
  request->blend_file = g_canonicalize_filename (argv[1], NULL);

  if (frames != NULL)
    {
      request->frames = kiln_frame_spec_parse (frames, &local_error);
      if (request->frames == NULL)
        return kiln_node_usage_error (error, _("--frames “%s”: %s"), frames,
                                      local_error->message);
    }

  if (!check_number (subtasks, "--subtasks", 1, KILN_MARKET_MAX_SUBTASKS,
                     &request->n_subtasks, error) ||
      !check_number (samples, "--samples", 1, MAX_SAMPLES, &request->samples, error) ||
      !check_number (percentage, "--percentage", 1, MAX_PERCENTAGE, &request->percentage,
                     error) ||
      !check_number (timeout, "--timeout", 1, KILN_MARKET_MAX_TIMEOUT, &request->timeout,
                     error) ||
      !check_number (cores, "--cores", 1, KILN_MARKET_MAX_CORES, &request->cores, error))
    return FALSE;

  if (resolution != NULL && !parse_resolution (resolution, request, error))
    return FALSE;
  if (format != NULL && !parse_format (format, request, error))
    return FALSE;

  if (out != NULL)
    {
      if (out[0] == '\0')
        return kiln_node_usage_error (error, _("--out needs a folder, not an empty string"));
      request->output_dir = g_canonicalize_filename (out, NULL);
    }

  if (listen != NULL && !parse_listen (listen, request, error))
    return FALSE;
  for (guint i = 0; bootstrap != NULL && bootstrap[i] != NULL; i++)
    if (!check_bootstrap (bootstrap[i], error))
      return FALSE;
  request->bootstrap = g_strdupv (bootstrap);

  return TRUE;
}

/* Reading the scene: Blender found, then the scene read in the sandbox */

typedef struct
{
  KilnNodeRender *render;
  const char     *blend_file;
  gboolean        started;
  gboolean        done;
  GError         *error;
} Reading;

static void
on_inspected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Reading *reading = user_data;

  reading->render->scene = kiln_scene_inspect_finish (result, &reading->error);
  reading->done = TRUE;
}

static void
on_blender_found (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Reading *reading = user_data;
  KilnNodeRender *render = reading->render;
  g_autoptr(GError) error = NULL;

  render->blender = kiln_blender_discover_finish (result, &error);
  if (render->blender == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        reading->error = g_steal_pointer (&error);
      else
        reading->error = g_error_new (error->domain, error->code,
                                      _("reading the scene and checking the results need "
                                        "Blender on this computer: %s"), error->message);
      reading->done = TRUE;
      return;
    }

  kiln_scene_inspect_async (render->blender, render->sandbox, reading->blend_file,
                            render->cancellable, on_inspected, reading);
}

static void
reading_start (Reading *reading)
{
  reading->started = TRUE;
  kiln_blender_discover_async (NULL, reading->render->cancellable, on_blender_found, reading);
}

/* Waits for the reading to end (at once when @cancel); what it left in reading->error. */
static void
reading_finish (Reading  *reading,
                gboolean  cancel)
{
  if (!reading->started)
    return;
  if (cancel)
    g_cancellable_cancel (reading->render->cancellable);
  while (!reading->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
reading_clear (Reading *reading)
{
  reading_finish (reading, TRUE);
  g_clear_error (&reading->error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reading, reading_clear)

/* The state of the command */

static void
kiln_node_render_clear (KilnNodeRender *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->signal_ids); i++)
    g_clear_handle_id (&self->signal_ids[i], g_source_remove);
  g_clear_handle_id (&self->no_provider_id, g_source_remove);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->job);
  g_clear_object (&self->engine);
  g_clear_object (&self->control);
  g_clear_object (&self->scene);
  g_clear_object (&self->blender);
  g_clear_object (&self->sandbox);
  g_clear_pointer (&self->node, kiln_node_wallet_free);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->subtask_states, g_array_unref);
  g_clear_pointer (&self->last_progress, g_free);
  g_clear_pointer (&self->status_line, g_free);
  g_clear_error (&self->cancel_error);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnNodeRender, kiln_node_render_clear)

static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP };

G_STATIC_ASSERT (G_N_ELEMENTS (handled_signals) ==
                 G_SIZEOF_MEMBER (KilnNodeRender, signal_ids) / sizeof (guint));

static gboolean
on_signal (gpointer user_data)
{
  kiln_node_render_interrupt (user_data);
  return G_SOURCE_CONTINUE;
}

/* From now on signals stop the job, not the wallet's calls. */
static void
catch_signals (KilnNodeRender *self)
{
  kiln_node_wallet_catch_signals (self->node, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (handled_signals); i++)
    self->signal_ids[i] = g_unix_signal_add (handled_signals[i], on_signal, self);
}

/* The control socket: "status" tells how the node and its job are doing. */

static JsonNode *
answer_request (KilnControl  *control,
                const char   *method,
                JsonObject   *params,
                gpointer      user_data,
                GError      **error)
{
  KilnNodeRender *self = user_data;
  g_autoptr(JsonBuilder) builder = NULL;
  GEnumClass *states;

  if (!g_str_equal (method, "status"))
    {
      g_set_error (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_UNKNOWN_METHOD,
                   _("Unknown method “%s”: this node renders a job (kiln-node render) and "
                     "knows only “status”"), method);
      return NULL;
    }
  if (self->engine == NULL)
    {
      g_set_error_literal (error, KILN_CONTROL_ERROR, KILN_CONTROL_ERROR_FAILED,
                           _("The node is still starting; ask again in a moment"));
      return NULL;
    }

  states = g_type_class_ref (KILN_TYPE_ENGINE_STATE);
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "node");
  json_builder_begin_object (builder);
  kiln_node_json_add_string (builder, "address", kiln_engine_get_address_string (self->engine));
  kiln_node_json_add_string (builder, "state",
                             g_enum_get_value (states,
                                               kiln_engine_get_state (self->engine))->value_nick);
  kiln_node_json_add_int (builder, "listen-port", kiln_engine_get_listen_port (self->engine));
  kiln_node_json_add_int (builder, "connected", kiln_engine_get_n_connected (self->engine));
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "job");
  if (self->job != NULL)
    {
      json_builder_begin_object (builder);
      kiln_node_json_add_string (builder, "id", kiln_render_job_get_id (self->job));
      kiln_node_render_json_add_progress (self, builder);
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  g_type_class_unref (states);

  return json_builder_get_root (builder);
}

/* The node */

static gboolean
start_node (KilnNodeRender  *self,
            const Request   *request,
            GError         **error)
{
  g_autoptr(KilnKey) key = NULL;
  g_autofree char *data_dir = kiln_node_context_get_data_dir (self->ctx);
  g_autofree char *socket_path = NULL;

  /* The socket first: it tells whether another node already runs in this folder. */
  socket_path = g_build_filename (data_dir, KILN_CONTROL_SOCKET_NAME, NULL);
  self->control = kiln_control_new (socket_path, answer_request, self, NULL);
  if (!kiln_control_start (self->control, error))
    return FALSE;

  /* The wallet's key is the node's identity. */
  g_object_get (self->node->wallet, "key", &key, NULL);
  self->engine = kiln_engine_new (key, self->node->store, data_dir, error);
  if (self->engine == NULL)
    return FALSE;
  kiln_engine_set_roles (self->engine, KILN_DHT_ROLE_REQUESTOR);

  return kiln_engine_start (self->engine, request->listen_host, request->listen_port,
                            (const char * const *) request->bootstrap, request->lan, error);
}

static gboolean
flush_nothing (sqlite3   *db,
               gpointer   data,
               GError   **error)
{
  return TRUE;
}

/* Says goodbye to the peers (at once after a second signal) and waits until what the job
 * wrote to the database is on disk. */
static void
stop_node (KilnNodeRender *self)
{
  if (self->engine != NULL && kiln_engine_get_state (self->engine) != KILN_ENGINE_STATE_STOPPED)
    {
      self->stopping = TRUE;
      if (self->n_signals > 1)
        kiln_engine_stop (self->engine);
      else
        {
          g_auto(KilnNodeAsync) call = { 0 };

          kiln_engine_stop_async (self->engine, NULL, kiln_node_async_done, &call);
          kiln_engine_stop_finish (self->engine, kiln_node_async_wait (&call), NULL);
        }
    }
  if (self->node != NULL)
    kiln_store_run_sync (self->node->store, flush_nothing, NULL, NULL, NULL);
  if (self->control != NULL)
    kiln_control_stop (self->control);
}

/* The job's settings: the scene's, changed by the options */

static KilnRenderJobSettings *
make_settings (KilnNodeRender     *self,
               const Request      *request,
               const KilnUint256  *max_price,
               GError            **error)
{
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  KilnSceneInfo *scene = self->scene;

  settings = kiln_render_job_settings_new_for_scene (scene);

  if (request->frames != NULL)
    {
      g_clear_pointer (&settings->frames, kiln_frame_spec_unref);
      settings->frames = kiln_frame_spec_ref (request->frames);
    }

  /* The image is the resolution at its scale, truncated as Blender does. */
  if (request->resolution_x != 0 || request->percentage != 0)
    {
      guint64 x = request->resolution_x != 0 ? request->resolution_x
                                             : kiln_scene_info_get_resolution_x (scene);
      guint64 y = request->resolution_y != 0 ? request->resolution_y
                                             : kiln_scene_info_get_resolution_y (scene);
      guint64 percentage = request->percentage != 0
                             ? request->percentage
                             : kiln_scene_info_get_resolution_percentage (scene);

      settings->width = MAX (x * percentage / 100, 1);
      settings->height = MAX (y * percentage / 100, 1);
    }
  if (settings->width > MAX_RESOLUTION || settings->height > MAX_RESOLUTION)
    {
      g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_INVALID,
                   _("the image would be %u×%u pixels, more than Blender renders (at most %d "
                     "each way); lower --percentage or --resolution"),
                   settings->width, settings->height, MAX_RESOLUTION);
      return NULL;
    }

  if (request->samples != 0)
    settings->samples = request->samples;
  if (request->has_format)
    {
      const char *name = kiln_image_format_get_blender_name (request->format);

      if (!kiln_blender_supports_format (self->blender, name))
        {
          g_set_error (error, KILN_RENDER_JOB_ERROR, KILN_RENDER_JOB_ERROR_VERIFICATION,
                       _("this computer’s Blender cannot write %s, so the results could not "
                         "be checked here; choose --format png"), name);
          return NULL;
        }
      settings->format = request->format;
    }
  if (request->n_subtasks != 0)
    settings->n_subtasks = request->n_subtasks;
  if (request->timeout != 0)
    settings->subtask_timeout = request->timeout;
  if (request->cores != 0)
    settings->cores = request->cores;
  settings->max_price = *max_price;
  if (request->output_dir != NULL)
    {
      g_free (settings->output_dir);
      settings->output_dir = g_strdup (request->output_dir);
    }

  return g_steal_pointer (&settings);
}

/* What people should know about how the scene is rendered. */
static GPtrArray *
describe_notes (KilnNodeRender *self,
                const Request  *request)
{
  GPtrArray *notes = g_ptr_array_new_with_free_func (g_free);
  KilnImageFormat format;

  if (kiln_scene_info_get_uses_denoising (self->scene))
    g_ptr_array_add (notes,
                     g_strdup (_("The scene asks for denoising, but Kiln renders without it: "
                                 "many providers’ Blender, like Debian’s, has no "
                                 "OpenImageDenoise, and denoised frames could not be checked "
                                 "piece by piece. Frames will be noisier than in Blender; more "
                                 "samples (--samples) make up for it.")));

  if (!request->has_format && !kiln_scene_info_get_image_format (self->scene, &format))
    g_ptr_array_add (notes,
                     g_strdup_printf (_("The scene saves its frames as %s, which providers do "
                                        "not deliver: the frames come as PNG images (or "
                                        "OpenEXR with --format exr)."),
                                      kiln_scene_info_get_file_format (self->scene)));

  if (kiln_scene_info_get_uses_compositing (self->scene))
    g_ptr_array_add (notes,
                     g_strdup (_("The scene’s compositor changes the rendered image, so frames "
                                 "are not cut into strips: each subtask renders whole "
                                 "frames.")));

  return notes;
}

static void
print_scene (KilnNodeRender              *self,
             const Request               *request,
             const KilnRenderJobSettings *settings)
{
  g_autoptr(GPtrArray) notes = describe_notes (self, request);
  g_autofree char *frames = kiln_frame_spec_to_string (settings->frames);
  g_autofree char *base = g_path_get_basename (kiln_scene_info_get_path (self->scene));
  g_autofree char *file = g_filename_display_name (base);
  const char *format = kiln_image_format_get_blender_name (settings->format);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *path = kiln_node_display_path (kiln_scene_info_get_path (self->scene));

      json_builder_begin_object (builder);
      kiln_node_json_add_string (builder, "event", "scene");
      kiln_node_json_add_string (builder, "file", path);
      kiln_node_json_add_string (builder, "scene", kiln_scene_info_get_scene_name (self->scene));
      kiln_node_json_add_string (builder, "engine", kiln_scene_info_get_engine (self->scene));
      kiln_node_json_add_string (builder, "blender_version",
                                 kiln_scene_info_get_file_version (self->scene));
      kiln_node_json_add_string (builder, "frames", frames);
      kiln_node_json_add_int (builder, "width", settings->width);
      kiln_node_json_add_int (builder, "height", settings->height);
      kiln_node_json_add_int (builder, "samples", settings->samples);
      kiln_node_json_add_string (builder, "format", format);
      json_builder_set_member_name (builder, "notes");
      json_builder_begin_array (builder);
      for (guint i = 0; i < notes->len; i++)
        json_builder_add_string_value (builder, g_ptr_array_index (notes, i));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
    }
  else
    {
      /* TRANSLATORS: the .blend, the scene's name in it, the Blender that saved it */
      g_print (_("Scene “%s” of %s, saved by Blender %s\n"),
               kiln_scene_info_get_scene_name (self->scene), file,
               kiln_scene_info_get_file_version (self->scene));
      /* TRANSLATORS: "Frames 1-250 · 1920×1080 pixels · 128 samples · PNG" */
      g_print (g_dngettext (GETTEXT_PACKAGE, "Frames %s · %u×%u pixels · %u sample · %s\n",
                            "Frames %s · %u×%u pixels · %u samples · %s\n", settings->samples),
               frames, settings->width, settings->height, settings->samples, format);
      for (guint i = 0; i < notes->len; i++)
        g_print (_("Note: %s\n"), (const char *) g_ptr_array_index (notes, i));
    }
  fflush (stdout);
}

static void
print_job (KilnNodeRender *self)
{
  const KilnRenderJobSettings *settings = kiln_render_job_get_settings (self->job);
  KilnJobPlan *plan = kiln_render_job_get_plan (self->job);
  KilnChain *chain = kiln_wallet_get_chain (self->node->wallet);
  const char *symbol = kiln_chain_get_token_symbol (chain);
  guint decimals = kiln_chain_get_token_decimals (chain);
  g_autofree char *frames = kiln_frame_spec_to_string (settings->frames);
  g_autofree char *output = kiln_node_display_path (kiln_render_job_get_output_dir (self->job));
  KilnUint256 max_cost, balance;

  kiln_render_job_get_max_cost (self->job, &max_cost);
  kiln_wallet_get_token_balance (self->node->wallet, &balance);

  if (self->ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      json_builder_begin_object (builder);
      kiln_node_json_add_string (builder, "event", "job");
      kiln_node_json_add_string (builder, "id", kiln_render_job_get_id (self->job));
      kiln_node_json_add_string (builder, "name", kiln_render_job_get_name (self->job));
      kiln_node_json_add_string (builder, "address",
                                 kiln_engine_get_address_string (self->engine));
      kiln_node_json_add_int (builder, "listen_port",
                              kiln_engine_get_listen_port (self->engine));
      kiln_node_json_add_int (builder, "chain_id", (gint64) kiln_chain_get_chain_id (chain));
      kiln_node_json_add_address (builder, "token", &settings->token);
      kiln_node_json_add_string (builder, "frames", frames);
      kiln_node_json_add_int (builder, "frames_total",
                              kiln_render_job_get_frames_total (self->job));
      kiln_node_json_add_int (builder, "subtasks", kiln_render_job_get_n_subtasks (self->job));
      kiln_node_json_add_int (builder, "strips", kiln_job_plan_get_n_strips (plan));
      kiln_node_json_add_int (builder, "timeout", settings->subtask_timeout);
      kiln_node_json_add_int (builder, "cores", settings->cores);
      kiln_node_json_add_amount (builder, "max_price", &settings->max_price, decimals, symbol);
      kiln_node_json_add_amount (builder, "max_cost", &max_cost, decimals, symbol);
      kiln_node_json_add_amount (builder, "balance", &balance, decimals, symbol);
      kiln_node_json_add_string (builder, "output_dir", output);
      json_builder_end_object (builder);
      kiln_node_print_json_builder (builder);
    }
  else
    {
      g_autofree char *price = kiln_node_format_amount (&settings->max_price, decimals, symbol);
      g_autofree char *most = kiln_node_format_amount (&max_cost, decimals, symbol);
      g_autofree char *held = kiln_node_format_amount (&balance, decimals, symbol);
      guint n_frames = kiln_render_job_get_frames_total (self->job);
      guint n_strips = kiln_job_plan_get_n_strips (plan);
      guint n_subtasks = kiln_render_job_get_n_subtasks (self->job);

      /* TRANSLATORS: the job's ID, then how many frames it renders */
      g_print (g_dngettext (GETTEXT_PACKAGE, "Job %s renders %u frame\n",
                            "Job %s renders %u frames\n", n_frames),
               kiln_render_job_get_id (self->job), n_frames);
      if (n_strips > 1)
        g_print (g_dngettext (GETTEXT_PACKAGE, "Each frame is cut into %u strip\n",
                              "Each frame is cut into %u strips\n", n_strips),
                 n_strips);
      /* TRANSLATORS: how many subtasks, then the most seconds each may take */
      g_print (g_dngettext (GETTEXT_PACKAGE, "The job is split into %u subtask of at most %u s\n",
                            "The job is split into %u subtasks of at most %u s each\n",
                            n_subtasks),
               n_subtasks, settings->subtask_timeout);
      /* TRANSLATORS: CPU cores, then the most paid per CPU-hour, such as "1.5 GNT" */
      g_print (g_dngettext (GETTEXT_PACKAGE, "Each subtask runs on %u core, paid at most %s per "
                            "CPU-hour\n",
                            "Each subtask runs on %u cores, paid at most %s per CPU-hour\n",
                            settings->cores),
               settings->cores, price);
      /* TRANSLATORS: the most the job can cost, then the account's balance */
      g_print (_("It costs at most %s; the account holds %s\n"), most, held);
      g_print (_("Frames go to %s\n"), output);
      g_print (_("Node %s on port %u, looking for providers\n"),
               kiln_engine_get_address_string (self->engine),
               kiln_engine_get_listen_port (self->engine));
    }
  fflush (stdout);
}

/* Payments need the chain's own currency for their fee: without any, the job could render
 * every frame and then fail to pay for them. */
static gboolean
check_fee_money (KilnNodeRender  *self,
                 GError         **error)
{
  KilnChain *chain = kiln_wallet_get_chain (self->node->wallet);
  KilnUint256 eth;

  kiln_wallet_get_eth_balance (self->node->wallet, &eth);
  if (!kiln_uint256_is_zero (&eth))
    return TRUE;

  g_set_error (error, KILN_WALLET_ERROR, KILN_WALLET_ERROR_INSUFFICIENT_ETH,
               _("the account holds no %s for the network fee of the payment to the "
                 "providers; add some, then render again"),
               kiln_chain_get_native_symbol (chain));
  return FALSE;
}

/* kiln-node render */

static gboolean
render_scene (KilnNodeRender  *self,
              Request         *request,
              GError         **error)
{
  g_autoptr(KilnRenderJobSettings) settings = NULL;
  g_auto(Reading) reading = { self, request->blend_file, FALSE, FALSE, NULL };
  g_auto(KilnNodeAsync) call = { 0 };
  g_autoptr(GError) wallet_error = NULL;
  g_autoptr(KilnChain) chain = NULL;
  KilnNodeAsset asset;
  KilnUint256 max_price;

  /* A file that is not a scene fails here, before Blender, the account or the network. */
  if (!g_file_test (request->blend_file, G_FILE_TEST_EXISTS))
    {
      g_autofree char *display = kiln_node_display_path (request->blend_file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("there is no file “%s”"),
                   display);
      return FALSE;
    }
  if (!kiln_scene_check_blend_header (request->blend_file, error))
    return FALSE;

  chain = kiln_node_chain_new (self->ctx, error);
  if (chain == NULL)
    return FALSE;
  kiln_node_asset_init_token (&asset, chain);
  if (!kiln_node_parse_amount (request->max_price, &asset, &max_price, &wallet_error))
    return kiln_node_usage_error (error, _("--max-price: %s"), wallet_error->message);

  /* Blender reads the scene while the account and the wallet open. */
  reading_start (&reading);
  self->node = kiln_node_wallet_open (self->ctx, g_steal_pointer (&chain), &wallet_error);
  if (self->node == NULL)
    {
      gboolean cancelled = g_error_matches (wallet_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

      /* What is wrong with the scene is said first: it needs fixing whatever else. */
      reading_finish (&reading, cancelled);
      if (!cancelled && reading.error != NULL &&
          !g_error_matches (reading.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&reading.error));
      else
        g_propagate_error (error, g_steal_pointer (&wallet_error));
      return FALSE;
    }

  catch_signals (self);

  /* The node links up with its peers while Blender reads. */
  if (!start_node (self, request, error))
    return FALSE;

  reading_finish (&reading, FALSE);
  if (self->interrupted)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("interrupted before the job was announced"));
      return FALSE;
    }
  if (reading.error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&reading.error));
      return FALSE;
    }
  if (!kiln_scene_info_check (self->scene, error))
    return FALSE;

  settings = make_settings (self, request, &max_price, error);
  if (settings == NULL)
    return FALSE;
  print_scene (self, request, settings);

  if (!check_fee_money (self, error))
    return FALSE;
  self->job = kiln_render_job_new (self->engine, self->blender, self->sandbox, self->scene,
                                   settings, self->node->wallet, NULL, error);
  if (self->job == NULL)
    return FALSE;
  print_job (self);

  kiln_render_job_start_async (self->job, NULL, kiln_node_async_done, &call);
  if (!kiln_render_job_start_finish (self->job, kiln_node_async_wait (&call), error))
    return FALSE;
  self->started = TRUE;

  return kiln_node_render_follow (self, error);
}

static gboolean
node_render (KilnNodeContext  *ctx,
             int               argc,
             char            **argv,
             GError          **error)
{
  g_autofree char *frames = NULL;
  g_autofree char *max_price = NULL;
  g_autofree char *out = NULL;
  g_autofree char *resolution = NULL;
  g_autofree char *format = NULL;
  g_autofree char *listen = NULL;
  g_auto(GStrv) bootstrap = NULL;
  int subtasks = -1;
  int samples = -1;
  int percentage = -1;
  int timeout = -1;
  int cores = -1;
  int wait_providers = DEFAULT_WAIT_PROVIDERS;
  gboolean lan = FALSE;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "frames", 0, 0, G_OPTION_ARG_STRING, &frames,
      N_("Render these frames, such as 1-250 or 1,5,10-20x2 (default: the scene’s)"),
      N_("SPEC") },
    { "subtasks", 0, 0, G_OPTION_ARG_INT, &subtasks,
      N_("Split the job into N subtasks; more than frames cuts frames into strips (default: "
         "one per frame)"), N_("N") },
    { "max-price", 0, 0, G_OPTION_ARG_STRING, &max_price,
      N_("Pay at most AMOUNT of the token per CPU-hour (default: 1)"), N_("AMOUNT") },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out,
      N_("Put the frames in DIR (default: NAME-render beside the .blend)"), N_("DIR") },
    { "samples", 0, 0, G_OPTION_ARG_INT, &samples,
      N_("Render N samples per pixel (default: the scene’s)"), N_("N") },
    { "resolution", 0, 0, G_OPTION_ARG_STRING, &resolution,
      N_("Render at WIDTHxHEIGHT pixels, before --percentage (default: the scene’s)"),
      N_("WxH") },
    { "percentage", 0, 0, G_OPTION_ARG_INT, &percentage,
      N_("Scale the resolution to P percent (default: the scene’s)"), N_("P") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      N_("Write the frames as png or exr (default: the scene’s, else png)"), N_("FORMAT") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout,
      N_("Give each subtask at most SECONDS (default: 600); the most the job can cost "
         "follows from it"), N_("SECONDS") },
    { "cores", 0, 0, G_OPTION_ARG_INT, &cores,
      N_("Render each subtask on N cores (default: 1)"), N_("N") },
    { "wait-providers", 0, 0, G_OPTION_ARG_INT, &wait_providers,
      N_("Give up when no provider works on the job for SECONDS (default: 120; 0: wait for "
         "ever)"), N_("SECONDS") },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      N_("Listen for links on HOST:PORT, and for discovery on the same UDP port (default: "
         "*:0, every interface, a free port)"), N_("HOST:PORT") },
    { "bootstrap", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bootstrap,
      N_("Join the network through the node at HOST:PORT (repeatable)"), N_("HOST:PORT") },
    { "lan", 0, 0, G_OPTION_ARG_NONE, &lan,
      N_("Find nodes on the local network by multicast"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log what the node does on standard error"), NULL },
    G_OPTION_ENTRY_NULL
  };
  g_auto(Request) request = { 0 };
  g_auto(KilnNodeRender) render = { 0 };
  gboolean ok;

  if (!kiln_node_context_parse_options (ctx, entries, _("FILE.blend"), &argc, &argv, error))
    return FALSE;
  if (!parse_request (argc, argv, frames, subtasks, out, samples, resolution, percentage,
                      format, timeout, cores, listen, bootstrap, &request, error))
    return FALSE;
  if (wait_providers < 0)
    return kiln_node_usage_error (error,
                                  _("--wait-providers needs a number of seconds, not %d"),
                                  wait_providers);
  request.max_price = max_price != NULL ? max_price : DEFAULT_MAX_PRICE;
  request.lan = lan;
  /* Standard output is for the job's lines (JSON with --json); the log goes to standard
   * error. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (verbose)
    g_setenv ("G_MESSAGES_DEBUG", "Kiln KilnNode", TRUE);

  render.ctx = ctx;
  render.wait_providers = wait_providers;
  render.terminal = !ctx->json && isatty (STDOUT_FILENO) &&
                    g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  render.cancellable = g_cancellable_new ();
  /* Someone waits for what Blender reads and checks here: normal priority. */
  render.sandbox = kiln_sandbox_new ();
  kiln_sandbox_set_idle_priority (render.sandbox, FALSE);

  ok = render_scene (&render, &request, error);
  stop_node (&render);

  return ok;
}

const KilnNodeCommand kiln_node_render_command = {
  "render",
  N_("Render a .blend across providers and pay them for verified frames"),
  N_("Reads the scene with Blender in the sandbox, opens the account and its wallet,\n"
     "joins the network (--bootstrap, the peers remembered, --lan), announces the job\n"
     "and follows it: verified frames are written to --out as they come, strips are\n"
     "joined, and providers are paid for verified work only, in one batch. Before\n"
     "anything is announced the job is refused when the balance cannot cover the\n"
     "most it can cost. SIGINT or SIGTERM cancels the job (unfinished work is not\n"
     "paid); a second one stops at once. On a terminal one line shows the progress;\n"
     "otherwise each step is a line, and with --json a JSON object. Exits 0 only when\n"
     "every frame is in and every provider is paid."),
  node_render,
  NULL,
};
