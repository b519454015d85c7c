/* node-process.h: kiln-node processes for the network tests: accounts, run, peers, stop
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Every wait fails the test after this long. */
#define NODE_DEADLINE_S 60

typedef struct
{
  char        *dir;       /* its data folder */
  char        *address;   /* EIP-55 */
  char        *log;       /* standard error of `run` */
  GSubprocess *process;   /* `kiln-node run`, NULL when not running */
  guint16      port;      /* once known */
} NodeProcess;

/* A fresh temporary folder and a password file in it. */
char        *node_make_tmp_dir      (void);
void         node_remove_tree       (const char   *path);

/* Makes an account (light scrypt) in @root/@name. */
NodeProcess *node_process_new       (const char   *root,
                                     const char   *name,
                                     const char   *password_file);
void         node_process_free      (NodeProcess  *node);

/* Runs kiln-node with @argv (NULL-terminated, without the program) to its end; gives the
 * exit status and, if asked, its standard output and error. @wrapper, when not NULL, comes
 * before the program (e.g. "ip netns exec NAME"). */
int          node_run_command       (const char * const *wrapper,
                                     const char * const *argv,
                                     char              **out,
                                     char              **err);

/* Starts `kiln-node run` with @extra options after the data folder and password. */
void         node_process_start     (NodeProcess        *node,
                                     const char * const *wrapper,
                                     const char         *password_file,
                                     const char * const *extra);
/* `kiln-node peers --json`: the reply, or NULL while no node answers. */
JsonObject  *node_process_peers     (NodeProcess        *node);
/* Waits until the node answers and gives its listening port. */
guint16      node_process_wait_port (NodeProcess        *node);
/* The number of peers in @reply that are connected and among @addresses. */
guint        node_count_connected   (JsonObject         *reply,
                                     GPtrArray          *addresses);
/* SIGTERM; requires exit status 0 and the control socket gone. */
void         node_process_stop      (NodeProcess        *node);

/* Lets the main loop run for @ms between two polls. */
void         node_poll_pause        (guint               ms);

G_END_DECLS
