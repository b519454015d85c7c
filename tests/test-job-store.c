/* test-job-store.c: render jobs, subtasks, assignments, results and payments in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "kiln-job-store.h"
#include "kiln-test-render.h"
#include "kiln-test-util.h"
#include "libkiln.h"

typedef struct
{
  char         *dir;
  char         *path;
  KilnStore    *store;
  KilnJobStore *jobs;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("kiln-job-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->path = g_build_filename (fixture->dir, KILN_STORE_FILE_NAME, NULL);
  fixture->store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_no_error (error);
  fixture->jobs = kiln_job_store_new (fixture->store);
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->jobs));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->store));
  remove_dir (fixture->dir);
  g_free (fixture->path);
  g_free (fixture->dir);
}

/* Waiting */

static void
save_job (Fixture             *fixture,
          const KilnJobRecord *job,
          GArray              *subtasks)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kiln_job_store_save_job_async (fixture->jobs, job, subtasks, NULL, kiln_test_store_result,
                                 &result);
  kiln_test_wait_result (&result);
  g_assert_true (kiln_job_store_save_job_finish (fixture->jobs, result, &error));
  g_assert_no_error (error);
}

static gboolean
update (Fixture                       *fixture,
        const KilnJobRecord           *job,
        const KilnJobSubtaskRecord    *subtask,
        const KilnJobAssignmentRecord *assignment,
        GError                       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_job_store_update_async (fixture->jobs, job, subtask, assignment, NULL,
                               kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  return kiln_job_store_update_finish (fixture->jobs, result, error);
}

static KilnJobSnapshot *
load (Fixture     *fixture,
      const char  *id,
      GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  kiln_job_store_load_async (fixture->jobs, id, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  return kiln_job_store_load_finish (fixture->jobs, result, error);
}

static GPtrArray *
list (Fixture *fixture)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *jobs;

  kiln_job_store_list_async (fixture->jobs, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  jobs = kiln_job_store_list_finish (fixture->jobs, result, &error);
  g_assert_no_error (error);
  return jobs;
}

static void
delete (Fixture    *fixture,
        const char *id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kiln_job_store_delete_async (fixture->jobs, id, NULL, kiln_test_store_result, &result);
  kiln_test_wait_result (&result);
  g_assert_true (kiln_job_store_delete_finish (fixture->jobs, result, &error));
  g_assert_no_error (error);
}

/* Records */

static KilnJobRecord *
make_job (const char *id,
          gint64      created_at)
{
  KilnJobRecord *job = kiln_job_record_new ();
  guint8 hash[32];

  job->id = g_strdup (id);
  job->name = g_strdup ("Turning cube");
  job->blend_file = g_strdup ("/home/someone/scenes/anim.blend");
  job->output_dir = g_strdup ("/home/someone/scenes/anim-render");
  job->work_dir = g_strdup ("/home/someone/.local/share/kiln/render-jobs/x");
  job->state = KILN_RENDER_JOB_STATE_PREPARING;
  job->settings = g_strdup ("{\"frames\":\"1-4\"}");
  job->plan = g_strdup ("{\"subtasks\":[]}");
  kiln_uint256_parse (&job->max_cost, "1234567890123456789012345", NULL);
  job->next_attempt = 1;
  job->created_at = created_at;
  job->updated_at = created_at;

  memset (hash, 0xb1, sizeof hash);
  g_ptr_array_add (job->resources, kiln_job_resource_new ("anim.blend", job->blend_file, hash,
                                                          812345));
  memset (hash, 0x7e, sizeof hash);
  g_ptr_array_add (job->resources, kiln_job_resource_new ("wood.png",
                                                          "/home/someone/scenes/wood.png", hash,
                                                          4096));
  return job;
}

static GArray *
make_subtasks (guint n)
{
  GArray *subtasks = g_array_new (FALSE, TRUE, sizeof (KilnJobSubtaskRecord));

  for (guint i = 0; i < n; i++)
    {
      KilnJobSubtaskRecord subtask = { .index = i, .state = KILN_SUBTASK_STATE_PENDING };

      g_array_append_val (subtasks, subtask);
    }
  return subtasks;
}

static KilnJobAssignmentRecord *
make_assignment (guint attempt,
                 guint subtask)
{
  KilnJobAssignmentRecord *assignment = kiln_job_assignment_record_new ();
  static const guint8 terms[] = { 0xf9, 0x01, 0x41, 0x00, 0x01, 0x02 };

  assignment->attempt = attempt;
  assignment->subtask = subtask;
  memset (assignment->provider.bytes, 0x1a + attempt, KILN_ADDRESS_SIZE);
  assignment->state = KILN_ASSIGNMENT_PROPOSED;
  assignment->terms = g_bytes_new (terms, sizeof terms);
  memset (assignment->terms_digest, 0x40 + attempt, sizeof assignment->terms_digest);
  assignment->proposed_at = 1700000000000000 + attempt;
  return assignment;
}

static void
assert_same_job (const KilnJobRecord *a,
                 const KilnJobRecord *b)
{
  g_assert_cmpstr (a->id, ==, b->id);
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpstr (a->blend_file, ==, b->blend_file);
  g_assert_cmpstr (a->output_dir, ==, b->output_dir);
  g_assert_cmpstr (a->work_dir, ==, b->work_dir);
  g_assert_cmpint (a->state, ==, b->state);
  g_assert_cmpstr (a->error, ==, b->error);
  g_assert_cmpstr (a->settings, ==, b->settings);
  g_assert_cmpstr (a->plan, ==, b->plan);
  g_assert_true (kiln_uint256_equal (&a->max_cost, &b->max_cost));
  g_assert_true ((a->announcement == NULL) == (b->announcement == NULL));
  if (a->announcement != NULL)
    g_assert_true (g_bytes_equal (a->announcement, b->announcement));
  g_assert_cmpuint (a->next_attempt, ==, b->next_attempt);
  g_assert_cmpint (a->created_at, ==, b->created_at);
  g_assert_cmpint (a->updated_at, ==, b->updated_at);
  g_assert_cmpuint (a->resources->len, ==, b->resources->len);
  for (guint i = 0; i < a->resources->len; i++)
    {
      const KilnJobResource *x = g_ptr_array_index (a->resources, i);
      const KilnJobResource *y = g_ptr_array_index (b->resources, i);

      g_assert_cmpstr (x->name, ==, y->name);
      g_assert_cmpstr (x->path, ==, y->path);
      g_assert_cmpmem (x->sha256, 32, y->sha256, 32);
      g_assert_cmpuint (x->size, ==, y->size);
    }
}

static void
assert_same_assignment (const KilnJobAssignmentRecord *a,
                        const KilnJobAssignmentRecord *b)
{
  g_assert_cmpuint (a->attempt, ==, b->attempt);
  g_assert_cmpuint (a->subtask, ==, b->subtask);
  g_assert_true (kiln_address_equal (&a->provider, &b->provider));
  g_assert_cmpint (a->state, ==, b->state);
  g_assert_true (g_bytes_equal (a->terms, b->terms));
  g_assert_cmpmem (a->terms_digest, 32, b->terms_digest, 32);
  g_assert_cmpstr (a->reason, ==, b->reason);
  g_assert_cmpint (a->proposed_at, ==, b->proposed_at);
  g_assert_cmpint (a->accepted_at, ==, b->accepted_at);
  g_assert_cmpint (a->finished_at, ==, b->finished_at);
  g_assert_true ((a->outputs == NULL) == (b->outputs == NULL));
  if (a->outputs != NULL)
    {
      g_assert_cmpint (a->result_at, ==, b->result_at);
      g_assert_cmpuint (a->cpu_ms, ==, b->cpu_ms);
      g_assert_cmpuint (a->outputs->len, ==, b->outputs->len);
      for (guint i = 0; i < a->outputs->len; i++)
        {
          const KilnMarketFile *x = g_ptr_array_index (a->outputs, i);
          const KilnMarketFile *y = g_ptr_array_index (b->outputs, i);

          g_assert_cmpstr (x->name, ==, y->name);
          g_assert_cmpmem (x->sha256, 32, y->sha256, 32);
          g_assert_cmpuint (x->size, ==, y->size);
        }
    }
  g_assert_true (kiln_uint256_equal (&a->owed, &b->owed));
  g_assert_cmpstr (a->payment_key, ==, b->payment_key);
  g_assert_cmpint (a->payment_id, ==, b->payment_id);
  g_assert_cmpint (a->has_tx_hash, ==, b->has_tx_hash);
  if (a->has_tx_hash)
    g_assert_cmpmem (a->tx_hash, 32, b->tx_hash, 32);
  g_assert_cmpint (a->notified, ==, b->notified);
}

/* Tests */

/* A job goes through its whole life, and every step reads back exactly. */
static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autoptr(KilnJobRecord) job = make_job ("0123456789abcdef0123456789abcdef", 1700000000000000);
  g_autoptr(GArray) subtasks = make_subtasks (3);
  g_autoptr(KilnJobAssignmentRecord) first = make_assignment (1, 0);
  g_autoptr(KilnJobAssignmentRecord) second = make_assignment (2, 1);
  g_autoptr(KilnJobSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  static const guint8 announcement[] = { 0xf9, 0x01, 0x0e, 0xaa };
  KilnJobSubtaskRecord done = { .index = 0, .state = KILN_SUBTASK_STATE_DONE, .attempt = 1,
                                .done_at = 1700000100000000 };
  guint8 sha[32];

  save_job (fixture, job, subtasks);
  snapshot = load (fixture, job->id, &error);
  g_assert_no_error (error);
  assert_same_job (snapshot->job, job);
  g_assert_cmpuint (snapshot->subtasks->len, ==, 3);
  g_assert_cmpuint (snapshot->assignments->len, ==, 0);
  g_clear_pointer (&snapshot, kiln_job_snapshot_free);

  /* Announced; two assignments proposed, one accepted, delivered and approved. */
  job->state = KILN_RENDER_JOB_STATE_RUNNING;
  job->announcement = g_bytes_new_static (announcement, sizeof announcement);
  job->next_attempt = 3;
  job->updated_at += 10;
  g_assert_true (update (fixture, job, NULL, first, &error));
  g_assert_no_error (error);
  g_assert_true (update (fixture, job, NULL, second, &error));
  g_assert_no_error (error);

  first->state = KILN_ASSIGNMENT_DELIVERED;
  first->accepted_at = first->proposed_at + 1000;
  first->result_at = first->accepted_at + 5000000;
  first->cpu_ms = 4321;
  first->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  memset (sha, 0xc3, sizeof sha);
  g_ptr_array_add (first->outputs, kiln_market_file_new ("frame_0001.png", sha, 54321));
  g_assert_true (update (fixture, job, NULL, first, &error));
  g_assert_no_error (error);

  first->state = KILN_ASSIGNMENT_APPROVED;
  first->finished_at = first->result_at + 3;
  kiln_uint256_parse (&first->owed, "1388888888888889", NULL);
  first->payment_key = g_strdup ("kiln-render:0123:abcd");
  g_assert_true (update (fixture, job, &done, first, &error));
  g_assert_no_error (error);

  second->state = KILN_ASSIGNMENT_REJECTED;
  second->reason = g_strdup ("a crop differs from the local render");
  second->finished_at = second->proposed_at + 9;
  g_assert_true (update (fixture, job, NULL, second, &error));
  g_assert_no_error (error);

  snapshot = load (fixture, job->id, &error);
  g_assert_no_error (error);
  assert_same_job (snapshot->job, job);
  g_assert_cmpuint (snapshot->assignments->len, ==, 2);
  assert_same_assignment (g_ptr_array_index (snapshot->assignments, 0), first);
  assert_same_assignment (g_ptr_array_index (snapshot->assignments, 1), second);
  g_assert_cmpuint (g_array_index (snapshot->subtasks, KilnJobSubtaskRecord, 0).state, ==,
                    KILN_SUBTASK_STATE_DONE);
  g_assert_cmpuint (g_array_index (snapshot->subtasks, KilnJobSubtaskRecord, 0).attempt, ==, 1);
  g_assert_cmpint (g_array_index (snapshot->subtasks, KilnJobSubtaskRecord, 0).done_at, ==,
                   done.done_at);
  g_assert_cmpuint (g_array_index (snapshot->subtasks, KilnJobSubtaskRecord, 1).state, ==,
                    KILN_SUBTASK_STATE_PENDING);
  g_clear_pointer (&snapshot, kiln_job_snapshot_free);

  /* Paid and the provider told. */
  first->payment_id = 7;
  first->has_tx_hash = TRUE;
  memset (first->tx_hash, 0xee, sizeof first->tx_hash);
  first->notified = TRUE;
  job->state = KILN_RENDER_JOB_STATE_DONE;
  g_assert_true (update (fixture, job, NULL, first, &error));
  g_assert_no_error (error);

  snapshot = load (fixture, job->id, &error);
  g_assert_no_error (error);
  assert_same_job (snapshot->job, job);
  assert_same_assignment (g_ptr_array_index (snapshot->assignments, 0), first);
}

/* What is written survives closing the database. */
static void
test_reopen (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(KilnJobRecord) job = make_job ("fedcba9876543210fedcba9876543210", 1700000000000000);
  g_autoptr(GArray) subtasks = make_subtasks (2);
  g_autoptr(KilnJobAssignmentRecord) assignment = make_assignment (1, 1);
  g_autoptr(KilnJobSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  save_job (fixture, job, subtasks);
  job->state = KILN_RENDER_JOB_STATE_ANNOUNCING;
  job->error = g_strdup ("nothing wrong yet");
  g_assert_true (update (fixture, job, NULL, assignment, &error));
  g_assert_no_error (error);

  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->jobs));
  kiln_test_assert_finalize_soon (g_steal_pointer (&fixture->store));
  fixture->store = kiln_store_new (fixture->path, NULL, &error);
  g_assert_no_error (error);
  fixture->jobs = kiln_job_store_new (fixture->store);

  snapshot = load (fixture, job->id, &error);
  g_assert_no_error (error);
  assert_same_job (snapshot->job, job);
  g_assert_cmpuint (snapshot->subtasks->len, ==, 2);
  g_assert_cmpuint (snapshot->assignments->len, ==, 1);
  assert_same_assignment (g_ptr_array_index (snapshot->assignments, 0), assignment);
}

/* Listing gives the newest job first; deleting a job deletes all of it. */
static void
test_list_delete (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(KilnJobRecord) old = make_job ("11111111111111111111111111111111", 1000);
  g_autoptr(KilnJobRecord) new = make_job ("22222222222222222222222222222222", 2000);
  g_autoptr(KilnJobAssignmentRecord) assignment = make_assignment (1, 0);
  g_autoptr(GArray) subtasks = make_subtasks (1);
  g_autoptr(GPtrArray) jobs = NULL;
  g_autoptr(KilnJobSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  jobs = list (fixture);
  g_assert_cmpuint (jobs->len, ==, 0);
  g_clear_pointer (&jobs, g_ptr_array_unref);

  save_job (fixture, old, subtasks);
  save_job (fixture, new, subtasks);
  assignment->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  assignment->payment_key = g_strdup ("key");
  g_assert_true (update (fixture, old, NULL, assignment, &error));
  g_assert_no_error (error);

  jobs = list (fixture);
  g_assert_cmpuint (jobs->len, ==, 2);
  assert_same_job (g_ptr_array_index (jobs, 0), new);
  assert_same_job (g_ptr_array_index (jobs, 1), old);
  g_clear_pointer (&jobs, g_ptr_array_unref);

  delete (fixture, old->id);
  delete (fixture, old->id);
  jobs = list (fixture);
  g_assert_cmpuint (jobs->len, ==, 1);
  assert_same_job (g_ptr_array_index (jobs, 0), new);

  snapshot = load (fixture, old->id, &error);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND);
  g_assert_null (snapshot);
}

/* Unknown jobs are errors, never empty records. */
static void
test_not_found (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(KilnJobRecord) job = make_job ("33333333333333333333333333333333", 1);
  g_autoptr(KilnJobAssignmentRecord) assignment = make_assignment (1, 0);
  g_autoptr(KilnJobSnapshot) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  snapshot = load (fixture, job->id, &error);
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND);
  g_assert_null (snapshot);
  g_clear_error (&error);

  g_assert_false (update (fixture, job, NULL, assignment, &error));
  g_assert_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_NOT_FOUND);
}

/* States have stable names, as stored. */
static void
test_states (void)
{
  g_assert_cmpstr (kiln_render_job_state_to_string (KILN_RENDER_JOB_STATE_PAYING), ==, "paying");
  g_assert_cmpstr (kiln_subtask_state_to_string (KILN_SUBTASK_STATE_VERIFYING), ==, "verifying");
  g_assert_cmpstr (kiln_assignment_state_to_string (KILN_ASSIGNMENT_TIMED_OUT), ==, "timed-out");
  g_assert_true (kiln_render_job_state_is_final (KILN_RENDER_JOB_STATE_CANCELLED));
  g_assert_false (kiln_render_job_state_is_final (KILN_RENDER_JOB_STATE_PAYING));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/job-store/states", test_states);
  g_test_add ("/kiln/job-store/round-trip", Fixture, NULL, fixture_set_up, test_round_trip,
              fixture_tear_down);
  g_test_add ("/kiln/job-store/reopen", Fixture, NULL, fixture_set_up, test_reopen,
              fixture_tear_down);
  g_test_add ("/kiln/job-store/list-delete", Fixture, NULL, fixture_set_up, test_list_delete,
              fixture_tear_down);
  g_test_add ("/kiln/job-store/not-found", Fixture, NULL, fixture_set_up, test_not_found,
              fixture_tear_down);

  return g_test_run ();
}
