/* kiln-sandbox.c: running untrusted work confined and within the lending limits
 *
 * The command line is built here and nowhere else, so that tests can run any
 * command (a shell reading $HOME, a Python opening a socket) in exactly the
 * profile Blender gets. See kiln-sandbox.h for what is visible and why; what
 * only Flatpak needs is in kiln-sandbox-flatpak.c.
 *
 * Why the memory limit is RLIMIT_DATA: rendering a 160×120 Cycles frame, Blender
 * 3.4 peaks at about 930 MB of address space (VmPeak: malloc arenas and thread
 * pools reserve ranges they never touch) but only about 250 MB of data (VmData)
 * and resident memory (VmHWM), so RLIMIT_AS would refuse scenes that fit.
 * RLIMIT_DATA counts private writable mappings, close to what is really used,
 * and needs no privileges. A cgroup v2 memory.max (systemd-run --user --scope -p
 * MemoryMax=…) would bound resident memory exactly, but it needs a user systemd
 * instance with the memory controller delegated, which neither containers nor
 * Flatpak's portal offer. When an allocation fails Blender prints "Malloc returns
 * null" and either reports "Out of memory", aborts on std::bad_alloc or crashes:
 * KilnRenderRun reports all of these as running out of memory, within a second
 * of the allocation (tests/data/blender-output/out-of-memory-*.txt).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "kiln-sandbox.h"
#include "kiln-sandbox-private.h"

struct _KilnSandbox
{
  GObject             parent_instance;

  KilnSandboxBackend  backend;
  char               *launcher;       /* bwrap or flatpak-spawn, absolute */
  guint               cpu_limit;
  guint64             memory_limit;
  guint               time_limit;
  gboolean            idle_priority;
};

enum {
  PROP_0,
  PROP_BACKEND,
  PROP_CPU_LIMIT,
  PROP_MEMORY_LIMIT,
  PROP_TIME_LIMIT,
  PROP_IDLE_PRIORITY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_TYPE (KilnSandbox, kiln_sandbox, G_TYPE_OBJECT)

G_DEFINE_QUARK (kiln-sandbox-error-quark, kiln_sandbox_error)

G_DEFINE_ENUM_TYPE (KilnSandboxBackend, kiln_sandbox_backend,
  G_DEFINE_ENUM_VALUE (KILN_SANDBOX_BACKEND_NONE, "none"),
  G_DEFINE_ENUM_VALUE (KILN_SANDBOX_BACKEND_BUBBLEWRAP, "bubblewrap"),
  G_DEFINE_ENUM_VALUE (KILN_SANDBOX_BACKEND_FLATPAK, "flatpak"),
  G_DEFINE_ENUM_VALUE (KILN_SANDBOX_BACKEND_FLATPAK_HOST, "flatpak-host"))

/* System files a dynamically linked program (and Blender's Python) needs. */
static const char * const etc_files[] = {
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/alternatives",
  "/etc/fonts",
  "/etc/localtime",
  NULL
};

/* Top-level directories that merged-/usr systems make symlinks into /usr. */
static const char * const root_links[] = {
  "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", NULL
};

/* Read by threading libraries to size their pools; reveal only CPU topology. */
static const char * const sys_dirs[] = {
  "/sys/devices/system/cpu",
  "/sys/devices/system/node",
  NULL
};

/* The object ---------------------------------------------------------------------- */

static void
kiln_sandbox_finalize (GObject *object)
{
  KilnSandbox *self = KILN_SANDBOX (object);

  g_free (self->launcher);

  G_OBJECT_CLASS (kiln_sandbox_parent_class)->finalize (object);
}

static void
kiln_sandbox_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KilnSandbox *self = KILN_SANDBOX (object);

  switch (prop_id)
    {
    case PROP_BACKEND:
      g_value_set_enum (value, self->backend);
      break;
    case PROP_CPU_LIMIT:
      g_value_set_uint (value, self->cpu_limit);
      break;
    case PROP_MEMORY_LIMIT:
      g_value_set_uint64 (value, self->memory_limit);
      break;
    case PROP_TIME_LIMIT:
      g_value_set_uint (value, self->time_limit);
      break;
    case PROP_IDLE_PRIORITY:
      g_value_set_boolean (value, self->idle_priority);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_sandbox_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  KilnSandbox *self = KILN_SANDBOX (object);

  switch (prop_id)
    {
    case PROP_CPU_LIMIT:
      kiln_sandbox_set_cpu_limit (self, g_value_get_uint (value));
      break;
    case PROP_MEMORY_LIMIT:
      kiln_sandbox_set_memory_limit (self, g_value_get_uint64 (value));
      break;
    case PROP_TIME_LIMIT:
      kiln_sandbox_set_time_limit (self, g_value_get_uint (value));
      break;
    case PROP_IDLE_PRIORITY:
      kiln_sandbox_set_idle_priority (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_sandbox_class_init (KilnSandboxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kiln_sandbox_finalize;
  object_class->get_property = kiln_sandbox_get_property;
  object_class->set_property = kiln_sandbox_set_property;

  properties[PROP_BACKEND] =
    g_param_spec_enum ("backend", NULL, NULL, kiln_sandbox_backend_get_type (),
                       KILN_SANDBOX_BACKEND_NONE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CPU_LIMIT] =
    g_param_spec_uint ("cpu-limit", NULL, NULL, 0, CPU_SETSIZE, 0, rw);
  properties[PROP_MEMORY_LIMIT] =
    g_param_spec_uint64 ("memory-limit", NULL, NULL, 0, G_MAXUINT64, 0, rw);
  properties[PROP_TIME_LIMIT] =
    g_param_spec_uint ("time-limit", NULL, NULL, 0, G_MAXUINT, 0, rw);
  properties[PROP_IDLE_PRIORITY] =
    g_param_spec_boolean ("idle-priority", NULL, NULL, TRUE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_sandbox_init (KilnSandbox *self)
{
  self->idle_priority = TRUE;

  if (kiln_sandbox_in_flatpak ())
    {
      /* A Blender bundled in /app runs in a sandbox of the app itself; else the
       * computer's Blender runs in the computer's bwrap. */
      self->launcher = g_find_program_in_path ("flatpak-spawn");
      if (self->launcher != NULL)
        self->backend = kiln_sandbox_uses_host () ? KILN_SANDBOX_BACKEND_FLATPAK_HOST :
                                                    KILN_SANDBOX_BACKEND_FLATPAK;
    }
  else
    {
      self->launcher = g_find_program_in_path ("bwrap");
      if (self->launcher != NULL)
        self->backend = KILN_SANDBOX_BACKEND_BUBBLEWRAP;
    }
}

KilnSandbox *
kiln_sandbox_new (void)
{
  return g_object_new (KILN_TYPE_SANDBOX, NULL);
}

KilnSandboxBackend
kiln_sandbox_get_backend (KilnSandbox *self)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), KILN_SANDBOX_BACKEND_NONE);
  return self->backend;
}

guint
kiln_sandbox_get_cpu_limit (KilnSandbox *self)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), 0);
  return self->cpu_limit;
}

void
kiln_sandbox_set_cpu_limit (KilnSandbox *self,
                            guint        cpus)
{
  g_return_if_fail (KILN_IS_SANDBOX (self));

  if (self->cpu_limit == cpus)
    return;
  self->cpu_limit = cpus;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CPU_LIMIT]);
}

static gboolean
usable_cpus (cpu_set_t *set)
{
  CPU_ZERO (set);
  return sched_getaffinity (0, sizeof *set, set) == 0 && CPU_COUNT (set) > 0;
}

guint
kiln_sandbox_get_cpu_count (KilnSandbox *self)
{
  cpu_set_t set;
  guint usable;

  g_return_val_if_fail (KILN_IS_SANDBOX (self), 1);

  usable = usable_cpus (&set) ? (guint) CPU_COUNT (&set) : MAX (g_get_num_processors (), 1);
  if (self->cpu_limit == 0)
    return usable;
  return MIN (self->cpu_limit, usable);
}

guint64
kiln_sandbox_get_memory_limit (KilnSandbox *self)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), 0);
  return self->memory_limit;
}

void
kiln_sandbox_set_memory_limit (KilnSandbox *self,
                               guint64      bytes)
{
  g_return_if_fail (KILN_IS_SANDBOX (self));

  if (self->memory_limit == bytes)
    return;
  self->memory_limit = bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMORY_LIMIT]);
}

guint
kiln_sandbox_get_time_limit (KilnSandbox *self)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), 0);
  return self->time_limit;
}

void
kiln_sandbox_set_time_limit (KilnSandbox *self,
                             guint        seconds)
{
  g_return_if_fail (KILN_IS_SANDBOX (self));

  if (self->time_limit == seconds)
    return;
  self->time_limit = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIME_LIMIT]);
}

gboolean
kiln_sandbox_get_idle_priority (KilnSandbox *self)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), FALSE);
  return self->idle_priority;
}

void
kiln_sandbox_set_idle_priority (KilnSandbox *self,
                                gboolean     idle)
{
  g_return_if_fail (KILN_IS_SANDBOX (self));

  idle = !!idle;
  if (self->idle_priority == idle)
    return;
  self->idle_priority = idle;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_PRIORITY]);
}

/* Paths ------------------------------------------------------------------------------- */

void
kiln_mount_free (KilnMount *mount)
{
  g_free (mount->path);
  g_free (mount->source);
  g_free (mount);
}

static guint
path_depth (const char *path)
{
  guint depth = 0;

  for (const char *p = path; *p != '\0'; p++)
    if (*p == '/' && p[1] != '\0')
      depth++;
  return depth;
}

/* Parents before children, so a child mount lands on top of its parent's; at one
 * path a tmpfs comes before a bind. */
static int
compare_mounts (gconstpointer a,
                gconstpointer b)
{
  const KilnMount *ma = *(const KilnMount * const *) a;
  const KilnMount *mb = *(const KilnMount * const *) b;

  if (ma->depth != mb->depth)
    return ma->depth < mb->depth ? -1 : 1;
  return (int) ma->kind - (int) mb->kind;
}

static KilnMount *
mount_new (char          *path,
           char          *source,
           KilnMountKind  kind)
{
  KilnMount *mount = g_new0 (KilnMount, 1);

  mount->path = path;
  mount->source = source;
  mount->kind = kind;
  mount->depth = path_depth (path);
  return mount;
}

/* @host: the sandbox is set up by the computer outside Kiln's Flatpak, which may
 * know the path by another name. */
static gboolean
add_mount (GPtrArray      *mounts,
           const char     *path,
           KilnMountKind   kind,
           gboolean        host,
           GError        **error)
{
  g_autofree char *real = NULL;
  g_autofree char *source = NULL;

  if (!g_path_is_absolute (path))
    {
      g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID,
                   _("The sandbox needs absolute paths, not “%s”"), path);
      return FALSE;
    }

  if (kind == KILN_MOUNT_TMPFS)
    real = g_canonicalize_filename (path, NULL);
  else
    {
      real = realpath (path, NULL);
      if (real == NULL)
        {
          int saved_errno = errno;

          g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID,
                       _("Cannot make %s visible in the sandbox: %s"), path,
                       g_strerror (saved_errno));
          return FALSE;
        }
    }

  for (guint i = 0; i < mounts->len; i++)
    {
      KilnMount *other = g_ptr_array_index (mounts, i);

      if (g_str_equal (other->path, real) && other->kind != KILN_MOUNT_TMPFS &&
          kind != KILN_MOUNT_TMPFS && other->kind != kind)
        {
          g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID,
                       _("%s cannot be both writable and read-only in the sandbox"), real);
          return FALSE;
        }
    }

  if (host && kind != KILN_MOUNT_TMPFS)
    {
      source = kiln_sandbox_host_path (real, error);
      if (source == NULL)
        return FALSE;
    }
  else
    source = g_strdup (real);

  g_ptr_array_add (mounts, mount_new (g_steal_pointer (&real), g_steal_pointer (&source),
                                      kind));
  return TRUE;
}

/* The private home: $HOME itself (hidden under a tmpfs), unless $HOME is
 * somewhere that cannot be covered. Inside Flatpak $HOME is the computer's. */
static const char *
sandbox_home (void)
{
  const char *home = g_get_home_dir ();

  if (home == NULL || !g_path_is_absolute (home) || g_str_equal (home, "/") ||
      g_str_has_prefix (home, "/usr") || g_str_has_prefix (home, "/proc") ||
      g_str_has_prefix (home, "/dev") || g_str_has_prefix (home, "/sys") ||
      g_str_has_prefix (home, "/tmp"))
    return "/tmp/home";
  return home;
}

/* The folder of @program outside /usr that must be visible for it to run (an
 * unpacked Blender with its libraries and Python beside it), or NULL. With
 * @host, @program is a path on the computer outside the Flatpak (Blender's probe
 * resolved it there) and cannot be looked at from here. */
static char *
program_dir (const char *program,
             gboolean    host)
{
  g_autofree char *resolved = NULL;
  g_autofree char *real = NULL;

  if (host)
    {
      if (!g_path_is_absolute (program) || g_str_has_prefix (program, "/usr/"))
        return NULL;
      return g_path_get_dirname (program);
    }

  if (g_path_is_absolute (program))
    resolved = g_strdup (program);
  else
    resolved = g_find_program_in_path (program);
  if (resolved == NULL || (real = realpath (resolved, NULL)) == NULL)
    return NULL;
  /* /usr is always visible; /app is Kiln's own Flatpak, visible to its sandboxes. */
  if (g_str_has_prefix (real, "/usr/") || g_str_has_prefix (real, "/app/"))
    return NULL;
  return g_path_get_dirname (real);
}

/* The mounts, sorted; with @home, the tmpfs over $HOME among them (bubblewrap). */
static GPtrArray *
collect_mounts (const char          *writable_dir,
                const char * const  *readonly_paths,
                const char * const  *command,
                gboolean             host,
                gboolean             home,
                GError             **error)
{
  g_autoptr(GPtrArray) mounts = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_mount_free);
  g_autofree char *program = program_dir (command[0], host);

  if (!g_file_test (writable_dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_INVALID,
                   _("The sandbox's work folder %s does not exist"), writable_dir);
      return NULL;
    }
  if (!add_mount (mounts, writable_dir, KILN_MOUNT_WRITABLE, host, error))
    return NULL;
  for (guint i = 0; readonly_paths != NULL && readonly_paths[i] != NULL; i++)
    if (!add_mount (mounts, readonly_paths[i], KILN_MOUNT_READ_ONLY, host, error))
      return NULL;
  if (program != NULL)
    {
      if (host)
        g_ptr_array_add (mounts, mount_new (g_strdup (program), g_strdup (program),
                                            KILN_MOUNT_READ_ONLY));
      else if (!add_mount (mounts, program, KILN_MOUNT_READ_ONLY, FALSE, error))
        return NULL;
    }

  /* The home tmpfs goes into the sorted list: a read-only parent of $HOME must
   * not uncover it, and a work folder inside $HOME must land on top of it. */
  if (home)
    g_ptr_array_add (mounts, mount_new (g_strdup (sandbox_home ()), NULL, KILN_MOUNT_TMPFS));

  g_ptr_array_sort (mounts, compare_mounts);
  return g_steal_pointer (&mounts);
}

/* bubblewrap --------------------------------------------------------------------------- */

static void
add (GStrvBuilder *argv,
     const char   *first,
     ...) G_GNUC_NULL_TERMINATED;

static void
add (GStrvBuilder *argv,
     const char   *first,
     ...)
{
  va_list args;

  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_strv_builder_add (argv, arg);
  va_end (args);
}

/* Symlinks stay symlinks (merged /usr), real folders are bound read-only. The
 * computer-side wrapper of kiln-sandbox-flatpak.c does the same in shell. */
static void
add_root_links (GStrvBuilder *argv)
{
  for (guint i = 0; root_links[i] != NULL; i++)
    {
      g_autofree char *target = g_file_read_link (root_links[i], NULL);

      if (target != NULL)
        add (argv, "--symlink", target, root_links[i], NULL);
      else if (g_file_test (root_links[i], G_FILE_TEST_IS_DIR))
        add (argv, "--ro-bind", root_links[i], root_links[i], NULL);
    }
}

/* Everything after the launcher; the /lib*, /bin and /sbin links only with
 * @with_root_links (they are the ones of the computer that runs bwrap). */
static void
add_bwrap_args (GStrvBuilder        *argv,
                GPtrArray           *mounts,
                gboolean             with_root_links,
                const char * const  *command)
{
  const char *work = NULL;

  add (argv, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
       "--hostname", "kiln-sandbox", NULL);
  if (with_root_links)
    add_root_links (argv);
  add (argv, "--ro-bind", "/usr", "/usr", NULL);
  for (guint i = 0; etc_files[i] != NULL; i++)
    add (argv, "--ro-bind-try", etc_files[i], etc_files[i], NULL);
  add (argv, "--symlink", "../proc/self/mounts", "/etc/mtab", NULL);
  for (guint i = 0; sys_dirs[i] != NULL; i++)
    add (argv, "--ro-bind-try", sys_dirs[i], sys_dirs[i], NULL);
  add (argv, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", NULL);

  for (guint i = 0; i < mounts->len; i++)
    {
      KilnMount *mount = g_ptr_array_index (mounts, i);

      switch (mount->kind)
        {
        case KILN_MOUNT_TMPFS:
          add (argv, "--tmpfs", mount->path, NULL);
          break;
        case KILN_MOUNT_READ_ONLY:
          add (argv, "--ro-bind", mount->source, mount->path, NULL);
          break;
        case KILN_MOUNT_WRITABLE:
          add (argv, "--bind", mount->source, mount->path, NULL);
          work = mount->path;
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_assert (work != NULL);

  /* The skeleton bwrap built the tree on becomes read-only too. */
  add (argv, "--remount-ro", "/",
       "--chdir", work,
       "--clearenv",
       "--setenv", "PATH", "/usr/bin:/bin",
       "--setenv", "HOME", sandbox_home (),
       "--setenv", "TMPDIR", "/tmp",
       "--setenv", "LANG", "C.UTF-8",
       "--",
       NULL);
  g_strv_builder_addv (argv, (const char **) command);
}

static GStrv
build_bwrap (KilnSandbox         *self,
             const char          *writable_dir,
             const char * const  *readonly_paths,
             const char * const  *command,
             GError             **error)
{
  g_autoptr(GStrvBuilder) argv = g_strv_builder_new ();
  g_autoptr(GPtrArray) mounts = NULL;

  mounts = collect_mounts (writable_dir, readonly_paths, command, FALSE, TRUE, error);
  if (mounts == NULL)
    return NULL;

  g_strv_builder_add (argv, self->launcher);
  add_bwrap_args (argv, mounts, TRUE, command);
  return g_strv_builder_end (argv);
}

/* The same bubblewrap, on the computer outside Kiln's Flatpak. */
static GStrv
build_host (KilnSandbox         *self,
            const char          *writable_dir,
            const char * const  *readonly_paths,
            const char * const  *command,
            GError             **error)
{
  g_autoptr(GStrvBuilder) bwrap = g_strv_builder_new ();
  g_autoptr(GPtrArray) mounts = NULL;
  g_auto(GStrv) bwrap_args = NULL;
  const char *work = NULL;

  mounts = collect_mounts (writable_dir, readonly_paths, command, TRUE, TRUE, error);
  if (mounts == NULL)
    return NULL;
  for (guint i = 0; i < mounts->len; i++)
    {
      KilnMount *mount = g_ptr_array_index (mounts, i);

      if (mount->kind == KILN_MOUNT_WRITABLE)
        work = mount->source;
    }

  add_bwrap_args (bwrap, mounts, FALSE, command);
  bwrap_args = g_strv_builder_end (bwrap);
  return kiln_sandbox_build_host_argv (self->launcher, work, self->memory_limit,
                                       self->idle_priority, (const char * const *) bwrap_args);
}

/* flatpak-spawn --sandbox ----------------------------------------------------------------- */

static GStrv
build_flatpak (KilnSandbox         *self,
               const char          *writable_dir,
               const char * const  *readonly_paths,
               const char * const  *command,
               GError             **error)
{
  g_autoptr(GPtrArray) mounts = NULL;

  mounts = collect_mounts (writable_dir, readonly_paths, command, FALSE, FALSE, error);
  if (mounts == NULL)
    return NULL;
  return kiln_sandbox_build_flatpak_argv (self->launcher, mounts, self->memory_limit,
                                          self->idle_priority, command);
}

GStrv
kiln_sandbox_build_argv (KilnSandbox         *self,
                         const char          *writable_dir,
                         const char * const  *readonly_paths,
                         const char * const  *command,
                         GError             **error)
{
  g_return_val_if_fail (KILN_IS_SANDBOX (self), NULL);
  g_return_val_if_fail (writable_dir != NULL, NULL);
  g_return_val_if_fail (command != NULL && command[0] != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  switch (self->backend)
    {
    case KILN_SANDBOX_BACKEND_BUBBLEWRAP:
      return build_bwrap (self, writable_dir, readonly_paths, command, error);
    case KILN_SANDBOX_BACKEND_FLATPAK:
      return build_flatpak (self, writable_dir, readonly_paths, command, error);
    case KILN_SANDBOX_BACKEND_FLATPAK_HOST:
      return build_host (self, writable_dir, readonly_paths, command, error);
    case KILN_SANDBOX_BACKEND_NONE:
    default:
      g_set_error_literal (error, KILN_SANDBOX_ERROR, KILN_SANDBOX_ERROR_UNAVAILABLE,
                           _("Lending needs Bubblewrap to run other people’s scenes "
                             "safely. Install the “bubblewrap” package."));
      return NULL;
    }
}

/* Spawning ----------------------------------------------------------------------------- */

/* No CPU affinity. "cpu-limit" is the number of threads the work is given (Blender's
 * --threads and Cycles' thread count come from kiln_sandbox_get_cpu_count ()), and
 * the kernel places those threads on whichever CPUs are free at each moment. That
 * is the most throughput the limit allows. Pinning cannot do better and often does
 * worse: a sandbox cannot see which CPUs other sandboxes hold (two `kiln-node run
 * --lend --cores 1` on one computer are separate processes, and pinning each
 * render to the last CPU put both on one core while the other idled), and a
 * SCHED_IDLE render pinned to a CPU the desktop is busy on waits even while
 * another CPU is idle. The limit still holds: N threads use at most N CPUs. */
typedef struct
{
  gboolean  local;         /* the sandbox itself starts here (not flatpak-spawn) */
  guint64   memory_limit;
  gboolean  idle;
} ChildLimits;

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
apply_child_limits (gpointer data)
{
  const ChildLimits *limits = data;
  struct rlimit no_core = { 0, 0 };

  setsid ();
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  setrlimit (RLIMIT_CORE, &no_core);
  /* flatpak-spawn only asks for the sandbox: the limits would bind it alone. */
  if (!limits->local)
    return;
  if (limits->memory_limit > 0)
    {
      struct rlimit data_limit = { limits->memory_limit, limits->memory_limit };

      setrlimit (RLIMIT_DATA, &data_limit);
    }
  if (limits->idle)
    {
      struct sched_param param = { 0 };

      setpriority (PRIO_PROCESS, 0, 19);
      sched_setscheduler (0, SCHED_IDLE, &param);
    }
}

GSubprocess *
kiln_sandbox_spawn (KilnSandbox         *self,
                    const char          *writable_dir,
                    const char * const  *readonly_paths,
                    const char * const  *command,
                    GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_auto(GStrv) argv = NULL;
  ChildLimits *limits;

  g_return_val_if_fail (KILN_IS_SANDBOX (self), NULL);
  g_return_val_if_fail (writable_dir != NULL, NULL);
  g_return_val_if_fail (command != NULL && command[0] != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  argv = kiln_sandbox_build_argv (self, writable_dir, readonly_paths, command, error);
  if (argv == NULL)
    return NULL;

  limits = g_new0 (ChildLimits, 1);
  limits->local = self->backend == KILN_SANDBOX_BACKEND_BUBBLEWRAP;
  limits->memory_limit = self->memory_limit;
  limits->idle = self->idle_priority;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, apply_child_limits, limits, g_free);
  return g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, error);
}

/* With flatpak-spawn in between, the group killed here is flatpak-spawn alone. It
 * asked for --watch-bus: when its bus connection drops, the portal or session
 * helper interrupts the group of what it started. On the computer that is the
 * outer bwrap, which dies of SIGINT; the sandbox's init follows it
 * (--die-with-parent), and the kernel then kills everything in its PID namespace. */
void
kiln_sandbox_kill (GSubprocess *process)
{
  const char *identifier;
  pid_t pid;

  g_return_if_fail (G_IS_SUBPROCESS (process));

  identifier = g_subprocess_get_identifier (process);
  if (identifier == NULL)
    return;  /* already reaped */
  pid = (pid_t) atoi (identifier);
  /* The group exists once the child has called setsid(); until then, the child. */
  if (pid <= 0 || kill (-pid, SIGKILL) != 0)
    g_subprocess_force_exit (process);
}

char *
kiln_sandbox_make_work_dir (const char  *name_template,
                            GError     **error)
{
  g_autofree char *parent = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (name_template != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kiln_sandbox_in_flatpak ())
    return g_dir_make_tmp (name_template, error);

  parent = g_build_filename (g_get_user_cache_dir (), "kiln", "tmp", NULL);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make the folder %s: %s"), parent, g_strerror (saved_errno));
      return NULL;
    }
  path = g_build_filename (parent, name_template, NULL);
  if (g_mkdtemp (path) == NULL)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not make a folder in %s: %s"), parent, g_strerror (saved_errno));
      return NULL;
    }
  return g_steal_pointer (&path);
}
