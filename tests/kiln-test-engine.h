/* kiln-test-engine.h: whole engines on loopback for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KilnTestEngine is a fresh key, a data folder of its own (under /tmp unless given another
 * place) with its own store, and a KilnEngine over them on Kiln network @network. Tests and
 * their helper programs that need nodes talking (the market, render jobs, the engine's
 * messages) start them on 127.0.0.1 and link them directly or through a bootstrap node.
 */
#pragma once

#include "libkiln.h"

G_BEGIN_DECLS

typedef struct
{
  KilnKey    *key;
  char       *dir;        /* the data folder, removed by kiln_test_engine_free() */
  KilnStore  *store;
  KilnEngine *engine;     /* NULL after kiln_test_engine_stop() */
  guint32     network;
  GPtrArray  *received;   /* KilnMessage: what kiln_test_engine_record() asked to keep */
} KilnTestEngine;

/* A node whose engine is made but not started; @name goes into the folder's name. */
KilnTestEngine    *kiln_test_engine_new_stopped  (const char            *name,
                                                  guint32                network);
/* The same, started on 127.0.0.1 (any free port) without bootstrap peers. */
KilnTestEngine    *kiln_test_engine_new          (const char            *name,
                                                  guint32                network);
/* kiln_test_engine_new_stopped() with the folder made in @parent (in /tmp when NULL). */
KilnTestEngine    *kiln_test_engine_new_stopped_in (const char          *parent,
                                                    const char          *name,
                                                    guint32              network);
/* Starts the engine on 127.0.0.1 (any free port), bootstrapping from @bootstrap (or none). */
void               kiln_test_engine_start        (KilnTestEngine        *node,
                                                  const char            *bootstrap);
/* Keeps every message of the @n_types @types that the engine hands over in node->received. */
void               kiln_test_engine_record       (KilnTestEngine        *node,
                                                  const KilnMessageType *types,
                                                  guint                  n_types);
/* Stops the engine and requires that it goes away. */
void               kiln_test_engine_stop         (KilnTestEngine        *node);
/* Makes a new engine over the node's key, store and folder, after kiln_test_engine_stop(). */
void               kiln_test_engine_reopen       (KilnTestEngine        *node);
/* Stops the engine, requires that it and the store go away, and removes the folder. */
void               kiln_test_engine_free         (KilnTestEngine        *node);

const KilnAddress *kiln_test_engine_address      (KilnTestEngine        *node);
/* "127.0.0.1:PORT" of the running engine. */
char              *kiln_test_engine_endpoint     (KilnTestEngine        *node);
/* Connects @a to @b and waits until each has the other as a connected peer. */
void               kiln_test_engine_link         (KilnTestEngine        *a,
                                                  KilnTestEngine        *b);
/* Whether @node has @peer as a connected peer now. */
gboolean           kiln_test_engine_is_linked    (KilnTestEngine        *node,
                                                  KilnTestEngine        *peer);

/* A started provider agent on the node's engine: it lends @provider's cores, rendering with
 * @blender in @work_dir at normal priority (the machine running the tests is busy with
 * other work). */
KilnProviderAgent *kiln_test_engine_start_agent  (KilnTestEngine        *node,
                                                  KilnProvider          *provider,
                                                  KilnBlender           *blender,
                                                  const char            *work_dir);

G_END_DECLS
