/* kiln-node-lend.h: kiln-node run --lend, a headless provider
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-engine.h"
#include "kiln-store.h"

#include "kiln-node-cli.h"

G_BEGIN_DECLS

/* The options of `run` that shape lending, as GOption fills them. */
typedef struct
{
  gboolean  lend;             /* --lend */
  int       cores;            /* --cores, -1 when not given */
  int       memory_mib;       /* --memory, -1 when not given */
  char     *min_price;        /* --min-price, GNT per CPU-hour */
  char     *work_dir;         /* --work-dir */
  char     *blender;          /* --blender */
  gboolean  idle_only;        /* --idle-only */
  int       cpu_threshold;    /* --cpu-threshold, -1 when not given */
  gboolean  normal_priority;  /* --normal-priority */
} KilnNodeLendOptions;

#define KILN_NODE_LEND_OPTIONS_INIT { FALSE, -1, -1, NULL, NULL, NULL, FALSE, -1, FALSE }

void     kiln_node_lend_options_clear  (KilnNodeLendOptions *options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KilnNodeLendOptions, kiln_node_lend_options_clear)

/* The entries for `run` (their arg_data point into @options), G_OPTION_ENTRY_NULL-terminated,
 * appended to @entries. */
void     kiln_node_lend_add_entries    (GArray              *entries,
                                        KilnNodeLendOptions *options);

/* Usage errors in @options (KILN_NODE_CLI_ERROR_USAGE): lending options without --lend, a
 * number out of range, a minimum price that is not an amount of GNT. */
gboolean kiln_node_lend_check_options  (const KilnNodeLendOptions *options,
                                        GError                   **error);

typedef struct _KilnNodeLend KilnNodeLend;

/* Everything lending needs before the node starts: the chain payments are checked on, the
 * lending policy, Blender (found, or the one of --blender) and its benchmark score (measured
 * once per Blender and CPU, then read from $XDG_CACHE_HOME/kiln). Blocking; SIGINT and
 * SIGTERM stop the benchmark (G_IO_ERROR_CANCELLED). */
KilnNodeLend *kiln_node_lend_new       (KilnNodeContext            *ctx,
                                        const KilnNodeLendOptions  *options,
                                        GError                    **error);
void          kiln_node_lend_free      (KilnNodeLend               *self);

/* Starts the provider agent over @engine and the earnings kept in @store, and prints the
 * "lending" line. From then on, one line per event on standard output (a JSON object with
 * --json): offers, assignments, renders, results, earnings, payments and their checks on
 * chain. @data_dir holds the default work folder. */
gboolean      kiln_node_lend_start     (KilnNodeLend               *self,
                                        KilnEngine                 *engine,
                                        KilnStore                  *store,
                                        const char                 *data_dir,
                                        GError                    **error);
/* Stops lending: every running assignment is stopped and handed back to its requestor. */
void          kiln_node_lend_stop      (KilnNodeLend               *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnNodeLend, kiln_node_lend_free)

G_END_DECLS
