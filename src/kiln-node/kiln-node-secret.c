/* kiln-node-secret.c: passwords and keys read from files, standard input or the terminal
 *
 * Secrets are read with read(2) straight into one buffer of fixed size, never through stdio
 * or a growing buffer, so that no copy is left behind; the buffer is wiped when freed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>

#include "kiln-crypto.h"

#include "kiln-node-cli.h"
#include "kiln-node-secret.h"

#define SECRET_CAPACITY (KILN_NODE_SECRET_MAX + 1)

static KilnNodeSecret *
secret_new (void)
{
  return g_malloc0 (SECRET_CAPACITY);
}

void
kiln_node_secret_free (KilnNodeSecret *secret)
{
  if (secret == NULL)
    return;

  kiln_secure_wipe (secret, SECRET_CAPACITY);
  g_free (secret);
}

static void
set_errno_error (GError     **error,
                 int          saved_errno,
                 const char  *what,
                 const char  *path)
{
  if (path != NULL)
    {
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot read %s “%s”: %s"), what, display, g_strerror (saved_errno));
    }
  else
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot read %s: %s"), what, g_strerror (saved_errno));
    }
}

static KilnNodeSecret *
read_all (int          fd,
          const char  *what,
          const char  *path,
          GError     **error)
{
  g_autoptr(KilnNodeSecret) secret = secret_new ();
  gsize length = 0;

  for (;;)
    {
      ssize_t n;

      if (length == KILN_NODE_SECRET_MAX)
        {
          char extra = 0;

          do
            n = read (fd, &extra, 1);
          while (n < 0 && errno == EINTR);
          kiln_secure_wipe (&extra, sizeof extra);

          if (n > 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("%s is too long (more than %d bytes)"),
                           what, KILN_NODE_SECRET_MAX);
              return NULL;
            }
        }
      else
        {
          n = read (fd, secret + length, KILN_NODE_SECRET_MAX - length);
        }

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;

          set_errno_error (error, saved_errno, what, path);
          return NULL;
        }

      if (n == 0)
        break;

      length += n;
    }

  if (memchr (secret, '\0', length) != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("%s contains a NUL byte"), what);
      return NULL;
    }

  return g_steal_pointer (&secret);
}

KilnNodeSecret *
kiln_node_secret_read_file (const char  *path,
                            const char  *what,
                            GError     **error)
{
  KilnNodeSecret *secret;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  do
    fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);

  if (fd < 0)
    {
      set_errno_error (error, errno, what, path);
      return NULL;
    }

  secret = read_all (fd, what, path, error);
  close (fd);

  return secret;
}

KilnNodeSecret *
kiln_node_secret_read_fd (int          fd,
                          const char  *what,
                          GError     **error)
{
  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (what != NULL, NULL);

  return read_all (fd, what, NULL, error);
}

void
kiln_node_secret_strip_newline (KilnNodeSecret *secret)
{
  gsize length;

  g_return_if_fail (secret != NULL);

  length = strlen (secret);
  if (length >= 2 && secret[length - 2] == '\r' && secret[length - 1] == '\n')
    secret[length - 2] = '\0';
  else if (length >= 1 && secret[length - 1] == '\n')
    secret[length - 1] = '\0';
}

gboolean
kiln_node_stdin_is_terminal (void)
{
  return isatty (STDIN_FILENO) == 1;
}

/* The terminal's settings while echo is off, for the signal handlers to put back. */
static struct termios saved_termios;

static const int restore_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

static void
restore_terminal_and_raise (int signum)
{
  /* Async-signal-safe: tcsetattr() and raise(). SA_RESETHAND restored the default action,
   * which runs once this handler returns. */
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  raise (signum);
}

KilnNodeSecret *
kiln_node_secret_prompt (const char  *prompt,
                         GError     **error)
{
  g_autoptr(KilnNodeSecret) secret = NULL;
  struct sigaction old_actions[G_N_ELEMENTS (restore_signals)];
  struct sigaction action = { 0 };
  struct termios quiet;
  gsize length = 0;
  gboolean too_long = FALSE;
  gboolean at_eof = FALSE;
  int read_errno = 0;
  char c = 0;

  g_return_val_if_fail (prompt != NULL, NULL);

  if (tcgetattr (STDIN_FILENO, &saved_termios) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("cannot read from the terminal: %s"), g_strerror (saved_errno));
      return NULL;
    }

  action.sa_handler = restore_terminal_and_raise;
  action.sa_flags = SA_RESETHAND;
  sigemptyset (&action.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS (restore_signals); i++)
    sigaction (restore_signals[i], &action, &old_actions[i]);

  quiet = saved_termios;
  quiet.c_lflag &= ~ECHO;
  quiet.c_lflag |= ECHONL;
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);

  fputs (prompt, stderr);
  fflush (stderr);

  secret = secret_new ();
  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          read_errno = errno;
          break;
        }
      if (n == 0)
        {
          at_eof = TRUE;
          break;
        }
      if (c == '\n')
        break;

      if (length < KILN_NODE_SECRET_MAX)
        secret[length++] = c;
      else
        too_long = TRUE;
    }
  kiln_secure_wipe (&c, sizeof c);

  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_termios);
  for (guint i = 0; i < G_N_ELEMENTS (restore_signals); i++)
    sigaction (restore_signals[i], &old_actions[i], NULL);

  if (at_eof)
    fputc ('\n', stderr);

  if (read_errno != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (read_errno),
                   _("cannot read from the terminal: %s"), g_strerror (read_errno));
      return NULL;
    }

  if (at_eof && length == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("nothing was typed"));
      return NULL;
    }

  if (too_long)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("what was typed is too long (more than %d bytes)"), KILN_NODE_SECRET_MAX);
      return NULL;
    }

  return g_steal_pointer (&secret);
}

static KilnNodeSecret *
prompt_new_password (GError **error)
{
  g_autoptr(KilnNodeSecret) password = NULL;
  g_autoptr(KilnNodeSecret) again = NULL;

  password = kiln_node_secret_prompt (_("New password: "), error);
  if (password == NULL)
    return NULL;

  if (password[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("the password is empty; Kiln does not encrypt keys with an empty "
                             "password"));
      return NULL;
    }

  again = kiln_node_secret_prompt (_("Repeat the password: "), error);
  if (again == NULL)
    return NULL;

  if (!g_str_equal (password, again))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("the two passwords differ; nothing was changed"));
      return NULL;
    }

  return g_steal_pointer (&password);
}

KilnNodeSecret *
kiln_node_password_get (const char            *path,
                        const char            *option,
                        KilnNodePasswordKind   kind,
                        GError               **error)
{
  g_autoptr(KilnNodeSecret) password = NULL;

  g_return_val_if_fail (option != NULL, NULL);

  if (path != NULL)
    {
      g_autofree char *display = g_filename_display_name (path);

      password = kiln_node_secret_read_file (path, _("the password file"), error);
      if (password == NULL)
        return NULL;

      kiln_node_secret_strip_newline (password);

      if (kind == KILN_NODE_PASSWORD_NEW && password[0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("the password file “%s” is empty; Kiln does not encrypt keys with an "
                         "empty password"), display);
          return NULL;
        }

      return g_steal_pointer (&password);
    }

  if (!kiln_node_stdin_is_terminal ())
    {
      g_set_error (error, KILN_NODE_CLI_ERROR, KILN_NODE_CLI_ERROR_USAGE,
                   _("a password is needed: pass %s FILE"), option);
      return NULL;
    }

  if (kind == KILN_NODE_PASSWORD_NEW)
    return prompt_new_password (error);

  return kiln_node_secret_prompt (_("Password: "), error);
}
