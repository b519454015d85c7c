/* test-reputation.c: providers' reputations: the formula, recording, decay, reopening
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "libkiln.h"
#include "kiln-test-util.h"

#define T0        (G_GINT64_CONSTANT (1700000000) * G_USEC_PER_SEC)
#define HALF_LIFE KILN_REPUTATION_HALF_LIFE
#define DAY       (G_GINT64_CONSTANT (24) * 60 * 60 * G_USEC_PER_SEC)
#define EPSILON   1e-9

typedef struct
{
  char           *dir;
  char           *path;
  KilnStore      *store;
  KilnReputation *reputation;
} Fixture;

static KilnAddress
address_n (guint8 n)
{
  KilnAddress address;

  memset (address.bytes, 0x5a, sizeof address.bytes);
  address.bytes[KILN_ADDRESS_SIZE - 1] = n;
  return address;
}

static void
open_reputation (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_no_error (error);
  fixture->reputation = kiln_reputation_new (fixture->store);
  g_assert_true (kiln_reputation_get_store (fixture->reputation) == fixture->store);
}

static void
close_reputation (Fixture *fixture)
{
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->reputation));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->store));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-reputation-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, KILN_STORE_FILE_NAME, NULL);
  open_reputation (fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  static const char * const names[] = { "kiln.db", "kiln.db-wal", "kiln.db-shm" };

  if (fixture->reputation != NULL)
    close_reputation (fixture);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (fixture->dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
}

static KilnReputationEntry *
record (Fixture             *fixture,
        const KilnAddress   *provider,
        KilnReputationEvent  event,
        gint64               when)
{
  g_autoptr(GError) error = NULL;
  KilnReputationEntry *entry;

  entry = kiln_reputation_record (fixture->reputation, provider, event, when, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  g_assert_true (kiln_address_equal (&entry->provider, provider));
  return entry;
}

static KilnReputationEntry *
lookup (Fixture           *fixture,
        const KilnAddress *provider)
{
  g_autoptr(GError) error = NULL;
  KilnReputationEntry *entry;

  entry = kiln_reputation_lookup (fixture->reputation, provider, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  return entry;
}

/* Tests */

static void
test_formula (void)
{
  KilnReputationEntry entry = { .updated_at = T0 };

  /* Nobody known: the prior's mean. */
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0), 0.5, EPSILON);
  g_assert_cmpfloat (KILN_REPUTATION_PRIOR_SCORE, ==, 0.5);

  /* (2 + good) / (4 + good + bad) */
  entry.good = 1;
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0), 3.0 / 5,
                                  EPSILON);
  entry.good = 0;
  entry.bad = 3;
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0), 2.0 / 7,
                                  EPSILON);
  entry.good = 100;
  entry.bad = 0;
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0), 102.0 / 104,
                                  EPSILON);

  /* Evidence halves every half-life: 4 bad becomes 2, then 1; a long-idle record goes back
   * to the prior. */
  entry.good = 0;
  entry.bad = 4;
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0), 2.0 / 8,
                                  EPSILON);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0 + HALF_LIFE),
                                  2.0 / 6, EPSILON);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0 + 2 * HALF_LIFE),
                                  2.0 / 5, EPSILON);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry,
                                                                   T0 + 40 * HALF_LIFE),
                                  0.5, 1e-6);
  /* A clock before the record's time does not inflate it. */
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (&entry, T0 - HALF_LIFE),
                                  2.0 / 8, EPSILON);

  /* Always within [0, 1]. */
  entry.good = 0;
  entry.bad = 1e300;
  g_assert_cmpfloat (kiln_reputation_entry_get_score (&entry, T0), >=, 0);
  entry.good = 1e300;
  entry.bad = 0;
  g_assert_cmpfloat (kiln_reputation_entry_get_score (&entry, T0), <=, 1);
}

static void
test_record (Fixture       *fixture,
             gconstpointer  user_data)
{
  KilnAddress provider = address_n (1);
  KilnAddress stranger = address_n (2);
  g_autoptr(KilnReputationEntry) entry = NULL;

  entry = lookup (fixture, &stranger);
  g_assert_true (kiln_address_equal (&entry->provider, &stranger));
  g_assert_cmpuint (entry->accepted + entry->rejected + entry->timed_out + entry->cancelled,
                    ==, 0);
  g_assert_cmpint (entry->updated_at, ==, 0);
  g_assert_cmpfloat (kiln_reputation_entry_get_score (entry, T0), ==,
                     KILN_REPUTATION_PRIOR_SCORE);
  g_clear_pointer (&entry, kiln_reputation_entry_free);

  /* One of each, at the same moment: 1 good; 3 + 2 + 0.5 bad. */
  g_clear_pointer (&entry, kiln_reputation_entry_free);
  entry = record (fixture, &provider, KILN_REPUTATION_ACCEPTED, T0);
  g_assert_cmpuint (entry->accepted, ==, 1);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (entry, T0), 3.0 / 5,
                                  EPSILON);
  g_clear_pointer (&entry, kiln_reputation_entry_free);
  entry = record (fixture, &provider, KILN_REPUTATION_REJECTED, T0);
  g_clear_pointer (&entry, kiln_reputation_entry_free);
  entry = record (fixture, &provider, KILN_REPUTATION_TIMED_OUT, T0);
  g_clear_pointer (&entry, kiln_reputation_entry_free);
  entry = record (fixture, &provider, KILN_REPUTATION_CANCELLED, T0);

  g_assert_cmpuint (entry->accepted, ==, 1);
  g_assert_cmpuint (entry->rejected, ==, 1);
  g_assert_cmpuint (entry->timed_out, ==, 1);
  g_assert_cmpuint (entry->cancelled, ==, 1);
  g_assert_cmpfloat_with_epsilon (entry->good, 1, EPSILON);
  g_assert_cmpfloat_with_epsilon (entry->bad, 5.5, EPSILON);
  g_assert_cmpint (entry->updated_at, ==, T0);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (entry, T0), 3.0 / 10.5,
                                  EPSILON);
  g_clear_pointer (&entry, kiln_reputation_entry_free);

  /* What was stored is what is read; the other provider is untouched. */
  entry = lookup (fixture, &provider);
  g_assert_cmpuint (entry->rejected, ==, 1);
  g_assert_cmpfloat_with_epsilon (entry->bad, 5.5, EPSILON);
  g_clear_pointer (&entry, kiln_reputation_entry_free);
  entry = lookup (fixture, &stranger);
  g_assert_cmpint (entry->updated_at, ==, 0);
}

static void
test_recent_weighs_more (Fixture       *fixture,
                         gconstpointer  user_data)
{
  KilnAddress recovered = address_n (1);
  KilnAddress declining = address_n (2);
  KilnAddress shuffled = address_n (3);
  g_autoptr(KilnReputationEntry) a = NULL;
  g_autoptr(KilnReputationEntry) b = NULL;
  g_autoptr(KilnReputationEntry) c = NULL;
  gint64 later = T0 + 30 * DAY;

  /* Same events, opposite order: a failure a month ago then a success, against a success a
   * month ago then a failure. */
  g_clear_pointer (&a, kiln_reputation_entry_free);
  a = record (fixture, &recovered, KILN_REPUTATION_REJECTED, T0);
  g_clear_pointer (&a, kiln_reputation_entry_free);
  a = record (fixture, &recovered, KILN_REPUTATION_ACCEPTED, later);
  b = record (fixture, &declining, KILN_REPUTATION_ACCEPTED, T0);
  g_clear_pointer (&b, kiln_reputation_entry_free);
  b = record (fixture, &declining, KILN_REPUTATION_REJECTED, later);

  g_assert_cmpuint (a->accepted, ==, b->accepted);
  g_assert_cmpuint (a->rejected, ==, b->rejected);
  g_assert_cmpfloat (kiln_reputation_entry_get_score (a, later), >,
                     kiln_reputation_entry_get_score (b, later));
  g_test_message ("recovered %.3f, declining %.3f",
                  kiln_reputation_entry_get_score (a, later),
                  kiln_reputation_entry_get_score (b, later));

  /* A month is 30/14 half-lives: the old evidence counts 2^(-30/14). */
  g_assert_cmpfloat_with_epsilon (b->good, exp2 (-30.0 / 14), EPSILON);
  g_assert_cmpfloat_with_epsilon (b->bad, 3, EPSILON);

  /* Events recorded out of order weigh as if they had come in order. */
  c = record (fixture, &shuffled, KILN_REPUTATION_REJECTED, later);
  g_clear_pointer (&c, kiln_reputation_entry_free);
  c = record (fixture, &shuffled, KILN_REPUTATION_ACCEPTED, T0);
  g_assert_cmpint (c->updated_at, ==, later);
  g_assert_cmpfloat_with_epsilon (c->good, b->good, EPSILON);
  g_assert_cmpfloat_with_epsilon (c->bad, b->bad, EPSILON);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (c, later + DAY),
                                  kiln_reputation_entry_get_score (b, later + DAY), EPSILON);
}

static void
test_reopen (Fixture       *fixture,
             gconstpointer  user_data)
{
  KilnAddress provider = address_n (7);
  g_autoptr(KilnReputationEntry) before = NULL;
  g_autoptr(KilnReputationEntry) after = NULL;

  for (guint i = 0; i < 5; i++)
    {
      g_clear_pointer (&before, kiln_reputation_entry_free);
      before = record (fixture, &provider, KILN_REPUTATION_ACCEPTED, T0 + i * DAY);
    }
  g_clear_pointer (&before, kiln_reputation_entry_free);
  before = record (fixture, &provider, KILN_REPUTATION_TIMED_OUT, T0 + 5 * DAY);

  /* Closed and opened again, as after a restart. */
  close_reputation (fixture);
  open_reputation (fixture);

  after = lookup (fixture, &provider);
  g_assert_cmpuint (after->accepted, ==, 5);
  g_assert_cmpuint (after->timed_out, ==, 1);
  g_assert_cmpuint (after->rejected, ==, 0);
  g_assert_cmpint (after->updated_at, ==, T0 + 5 * DAY);
  g_assert_cmpfloat (after->good, ==, before->good);
  g_assert_cmpfloat (after->bad, ==, before->bad);
  g_assert_cmpfloat (kiln_reputation_entry_get_score (after, T0 + 6 * DAY), ==,
                     kiln_reputation_entry_get_score (before, T0 + 6 * DAY));

  /* And it goes on from there. */
  g_clear_pointer (&after, kiln_reputation_entry_free);
  after = record (fixture, &provider, KILN_REPUTATION_ACCEPTED, T0 + 6 * DAY);
  g_assert_cmpuint (after->accepted, ==, 6);
}

typedef struct
{
  guint                pending;
  KilnReputationEntry *last;
} AsyncState;

static void
on_recorded (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncState *state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnReputationEntry) entry = NULL;

  entry = kiln_reputation_record_finish (KILN_REPUTATION (source), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (entry);
  state->pending--;
}

static void
on_looked_up (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncState *state = user_data;
  g_autoptr(GError) error = NULL;

  state->last = kiln_reputation_lookup_finish (KILN_REPUTATION (source), result, &error);
  g_assert_no_error (error);
  state->pending--;
}

static void
wait_for (AsyncState *state)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (state->pending > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
test_async (Fixture       *fixture,
            gconstpointer  user_data)
{
  KilnAddress provider = address_n (9);
  AsyncState state = { 0 };
  g_autoptr(KilnReputationEntry) entry = NULL;

  /* Queued all at once; the worker runs them one after the other, in order. */
  for (guint i = 0; i < 20; i++)
    {
      state.pending++;
      kiln_reputation_record_async (fixture->reputation, &provider,
                                    i % 4 == 3 ? KILN_REPUTATION_REJECTED
                                               : KILN_REPUTATION_ACCEPTED,
                                    T0, NULL, on_recorded, &state);
    }
  state.pending++;
  kiln_reputation_lookup_async (fixture->reputation, &provider, NULL, on_looked_up, &state);
  wait_for (&state);

  entry = g_steal_pointer (&state.last);
  g_assert_cmpuint (entry->accepted, ==, 15);
  g_assert_cmpuint (entry->rejected, ==, 5);
  g_assert_cmpfloat_with_epsilon (kiln_reputation_entry_get_score (entry, T0),
                                  (2.0 + 15) / (4 + 15 + 15), EPSILON);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/market/reputation/formula", test_formula);
#define ADD(path, func) \
  g_test_add ("/kiln/market/reputation/" path, Fixture, NULL, fixture_set_up, func, \
              fixture_tear_down)
  ADD ("record", test_record);
  ADD ("recent-weighs-more", test_recent_weighs_more);
  ADD ("reopen", test_reopen);
  ADD ("async", test_async);
#undef ADD

  return g_test_run ();
}
