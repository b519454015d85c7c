/* kiln-reputation.h: how well each provider has done for this node, kept in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-types.h"

G_BEGIN_DECLS

/* What became of a subtask assigned to a provider. */
typedef enum
{
  KILN_REPUTATION_ACCEPTED,   /* its result passed verification */
  KILN_REPUTATION_REJECTED,   /* its result failed verification */
  KILN_REPUTATION_TIMED_OUT,  /* no result came within the subtask's timeout */
  KILN_REPUTATION_CANCELLED,  /* the provider gave the subtask back unfinished */
} KilnReputationEvent;

/* The score (docs/market.md, "Reputation"): every event adds a weight to the provider's good
 * or bad evidence (an accepted result 1 to the good; a rejected result 3, a timeout 2 and a
 * cancellation 0.5 to the bad), all evidence halves every KILN_REPUTATION_HALF_LIFE, and the
 * score is the mean of a Beta (2, 2) prior updated with it:
 *
 *   score = (2 + good) / (4 + good + bad)
 *
 * in [0, 1]: 0.5 for a provider never seen, towards 1 with a record of accepted results,
 * towards 0 with failures, and back towards 0.5 as its record ages. Recent events therefore
 * count more than old ones, and failures more than successes. */
#define KILN_REPUTATION_PRIOR_GOOD        2.0
#define KILN_REPUTATION_PRIOR_BAD         2.0
#define KILN_REPUTATION_WEIGHT_ACCEPTED   1.0
#define KILN_REPUTATION_WEIGHT_REJECTED   3.0
#define KILN_REPUTATION_WEIGHT_TIMED_OUT  2.0
#define KILN_REPUTATION_WEIGHT_CANCELLED  0.5
/* Fourteen days, in microseconds. */
#define KILN_REPUTATION_HALF_LIFE         (G_GINT64_CONSTANT (14) * 24 * 60 * 60 * G_USEC_PER_SEC)
/* The score of a provider without any record. */
#define KILN_REPUTATION_PRIOR_SCORE       0.5

typedef struct _KilnReputationEntry KilnReputationEntry;

/* One provider's record. */
struct _KilnReputationEntry
{
  KilnAddress provider;
  guint64     accepted;     /* how many events of each kind, ever */
  guint64     rejected;
  guint64     timed_out;
  guint64     cancelled;
  double      good;         /* the decayed evidence as of updated_at */
  double      bad;
  gint64      updated_at;   /* µs since the Unix epoch; 0 for a provider without a record */
};

#define KILN_TYPE_REPUTATION_ENTRY (kiln_reputation_entry_get_type ())

GType                kiln_reputation_entry_get_type  (void) G_GNUC_CONST;
KilnReputationEntry *kiln_reputation_entry_copy      (const KilnReputationEntry *self);
void                 kiln_reputation_entry_free      (KilnReputationEntry       *self);
/* The score at @now (µs since the Unix epoch), as above. */
double               kiln_reputation_entry_get_score (const KilnReputationEntry *self,
                                                      gint64                     now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnReputationEntry, kiln_reputation_entry_free)

#define KILN_TYPE_REPUTATION (kiln_reputation_get_type ())

G_DECLARE_FINAL_TYPE (KilnReputation, kiln_reputation, KILN, REPUTATION, GObject)

/* Records live in @store's "market_reputation" table. Every call runs as one transaction on
 * the store's worker thread; the async calls report once it is committed, the blocking ones
 * (for the command line and tests, never the main loop) return then. */
KilnReputation      *kiln_reputation_new             (KilnStore            *store);
KilnStore           *kiln_reputation_get_store       (KilnReputation       *self);

/* Adds @event, which happened at @when (µs since the Unix epoch), to @provider's record and
 * returns the record as it now is. Events may arrive out of order: an event older than the
 * record is weighed as old as it is. */
void                 kiln_reputation_record_async    (KilnReputation       *self,
                                                      const KilnAddress    *provider,
                                                      KilnReputationEvent   event,
                                                      gint64                when,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
KilnReputationEntry *kiln_reputation_record_finish   (KilnReputation       *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
KilnReputationEntry *kiln_reputation_record          (KilnReputation       *self,
                                                      const KilnAddress    *provider,
                                                      KilnReputationEvent   event,
                                                      gint64                when,
                                                      GCancellable         *cancellable,
                                                      GError              **error);

/* @provider's record; an empty one (updated_at 0, score KILN_REPUTATION_PRIOR_SCORE) when
 * there is none. */
void                 kiln_reputation_lookup_async    (KilnReputation       *self,
                                                      const KilnAddress    *provider,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
KilnReputationEntry *kiln_reputation_lookup_finish   (KilnReputation       *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
KilnReputationEntry *kiln_reputation_lookup          (KilnReputation       *self,
                                                      const KilnAddress    *provider,
                                                      GCancellable         *cancellable,
                                                      GError              **error);

G_END_DECLS
