/* fuzz-market.c: market messages from a hostile peer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads the input as a task announcement, an offer and terms (src/libkiln/market/), with and
 * without a clock, and uses whatever is accepted the way the market does. Nothing may crash,
 * leak, warn or read out of bounds, whatever the input; refusals are KILN_MARKET_ERROR with a
 * message in UTF-8.
 */
#include <stdint.h>

#include "kiln-offer-book.h"
#include "kiln-terms.h"
#include "fuzz-target.h"

/* A time inside the corpus's messages' lifetimes. */
#define FUZZ_NOW ((gint64) 1700000100)

static void
check_refusal (gpointer  message,
               GError   *error)
{
  g_assert (message == NULL);
  g_assert (error != NULL && error->domain == KILN_MARKET_ERROR);
  g_assert (g_utf8_validate (error->message, -1, NULL));
}

static void
read_announcement (GBytes *bytes,
                   gint64  now)
{
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 cost;

  announcement = kiln_task_announcement_verify (bytes, now, &error);
  if (announcement == NULL)
    {
      check_refusal (announcement, error);
      return;
    }

  g_assert (g_bytes_equal (kiln_task_announcement_get_bytes (announcement), bytes));
  g_assert (kiln_task_announcement_get_n_resources (announcement) >= 1);
  g_assert (kiln_task_announcement_get_max_subtask_payment (announcement, &cost, NULL));
  g_assert (kiln_task_announcement_get_max_cost (announcement, &cost, NULL));
}

static void
read_offer (GBytes *bytes,
            gint64  now)
{
  g_autoptr(KilnOffer) offer = NULL;
  g_autoptr(GError) error = NULL;

  offer = kiln_offer_verify (bytes, now, &error);
  if (offer == NULL)
    {
      check_refusal (offer, error);
      return;
    }

  g_assert (g_bytes_equal (kiln_offer_get_bytes (offer), bytes));
  g_assert (kiln_offer_get_cores (offer) >= 1);
  g_assert (kiln_offer_compare_rank (offer, 0.5, offer, 0.5) == 0);
}

static void
read_terms (GBytes *bytes)
{
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 pay, max;
  const guint *subtasks;
  guint n_subtasks;

  terms = kiln_terms_decode (bytes, &error);
  if (terms == NULL)
    {
      check_refusal (terms, error);
      return;
    }

  g_assert (g_bytes_equal (kiln_terms_get_bytes (terms), bytes));
  subtasks = kiln_terms_get_subtasks (terms, &n_subtasks);
  g_assert (n_subtasks >= 1 && n_subtasks <= KILN_TERMS_MAX_SUBTASKS);
  for (guint i = 1; i < n_subtasks; i++)
    g_assert (subtasks[i - 1] < subtasks[i]);
  kiln_terms_get_max_payment (terms, &max);
  kiln_terms_get_max_total (terms, &pay);
  kiln_terms_compute_payment (terms, kiln_terms_get_timeout (terms) / 2, &pay);
  g_assert (kiln_uint256_compare (&pay, &max) <= 0);
  kiln_terms_compute_payment (terms, G_MAXUINT64, &pay);
  g_assert (kiln_uint256_equal (&pay, &max));
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  read_announcement (bytes, -1);
  read_announcement (bytes, FUZZ_NOW);
  read_offer (bytes, -1);
  read_offer (bytes, FUZZ_NOW);
  read_terms (bytes);
  return 0;
}
