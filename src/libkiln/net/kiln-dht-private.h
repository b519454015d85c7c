/* kiln-dht-private.h: what kiln-dht.c shares with kiln-dht-nodes.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <opendht/opendht_c.h>

#include "kiln-dht.h"

G_BEGIN_DECLS

typedef struct _KilnDhtCore KilnDhtCore;

typedef struct
{
  KilnDhtRecord   *record;
  KilnDhtNodeInfo *info;
} KilnDhtNodeEntry;

struct _KilnDht
{
  GObject          parent_instance;

  guint32          network_id;
  dht_runner      *runner;
  KilnDhtCore     *core;
  GMainContext    *context;      /* the core's, while running */
  guint16          port;
  GHashTable      *ops;          /* id → Op, one reference each */
  guint            last_op_id;

  KilnKey         *announce_key;
  KilnDhtNodeInfo *announce_info;
  GSource         *republish;
  GSource         *retry;        /* a sooner republish: joining, or after a put failed */
  guint            join_step;
  guint            watched_roles;
  GHashTable      *nodes;        /* address string → KilnDhtNodeEntry */
  guint            rejected;
};

void kiln_dht_node_entry_free (gpointer      data);
void kiln_dht_emit_node_found (KilnDht      *self,
                               KilnDhtNodeEntry *entry);

G_END_DECLS
