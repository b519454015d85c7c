/* kiln-node-secret.h: passwords and keys read from files, standard input or the terminal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest secret text accepted, in bytes. */
#define KILN_NODE_SECRET_MAX 4096

/* NUL-terminated text in a buffer of KILN_NODE_SECRET_MAX + 1 bytes that is wiped when freed. */
typedef char KilnNodeSecret;

typedef enum
{
  KILN_NODE_PASSWORD_UNLOCK,  /* a password that opens an existing keystore */
  KILN_NODE_PASSWORD_NEW,     /* a password for a new keystore: not empty, typed twice */
} KilnNodePasswordKind;

void             kiln_node_secret_free       (KilnNodeSecret        *secret);

/* The whole file; @what names it in errors, e.g. "the password file". */
KilnNodeSecret  *kiln_node_secret_read_file  (const char            *path,
                                              const char            *what,
                                              GError               **error);
/* Everything up to end of file. */
KilnNodeSecret  *kiln_node_secret_read_fd    (int                    fd,
                                              const char            *what,
                                              GError               **error);
/* One line typed on the terminal on standard input, without echo. @prompt goes to stderr. */
KilnNodeSecret  *kiln_node_secret_prompt     (const char            *prompt,
                                              GError               **error);
/* Removes one final "\n" or "\r\n". */
void             kiln_node_secret_strip_newline (KilnNodeSecret     *secret);

gboolean         kiln_node_stdin_is_terminal (void);

/* A password from @path (one final newline stripped) given with @option, else typed on the
 * terminal when standard input is one, else a usage error naming @option. */
KilnNodeSecret  *kiln_node_password_get      (const char            *path,
                                              const char            *option,
                                              KilnNodePasswordKind   kind,
                                              GError               **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnNodeSecret, kiln_node_secret_free)

G_END_DECLS
