/* kiln-job-store.h: a requestor's render jobs, their subtasks, assignments and payments in SQLite
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What KilnRenderJob needs to pick a job up again after a restart: the job and its plan, the
 * files it offers, each subtask's progress, every assignment made (the terms both sides
 * signed, the result's outputs, what is owed) and which ledger payment paid it. Records are
 * plain structures, written whole (insert or replace) and read back whole; every call is one
 * transaction on the store's worker thread, and calls run in the order they were made.
 */
#pragma once

#include <gio/gio.h>

#include "kiln-address.h"
#include "kiln-market-bodies.h"
#include "kiln-store.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* A render job as a whole. */
typedef enum
{
  KILN_RENDER_JOB_STATE_PREPARING,   /* made, its files not yet offered */
  KILN_RENDER_JOB_STATE_ANNOUNCING,  /* announced, waiting for providers */
  KILN_RENDER_JOB_STATE_RUNNING,     /* subtasks are out with providers */
  KILN_RENDER_JOB_STATE_VERIFYING,   /* nothing out; results are being checked */
  KILN_RENDER_JOB_STATE_ASSEMBLING,  /* every subtask done; strips are being joined */
  KILN_RENDER_JOB_STATE_PAYING,      /* every frame done; providers are being paid */
  KILN_RENDER_JOB_STATE_DONE,        /* every frame in the output folder, every provider paid */
  KILN_RENDER_JOB_STATE_FAILED,      /* stopped by an error (see the job's error) */
  KILN_RENDER_JOB_STATE_CANCELLED,   /* stopped by the person; verified work is still paid */
} KilnRenderJobState;

#define KILN_TYPE_RENDER_JOB_STATE (kiln_render_job_state_get_type ())
GType       kiln_render_job_state_get_type  (void) G_GNUC_CONST;
/* "preparing", "announcing", …, as stored. */
const char *kiln_render_job_state_to_string (KilnRenderJobState state);
/* TRUE for done, failed and cancelled. */
gboolean    kiln_render_job_state_is_final  (KilnRenderJobState state);

/* One subtask of a job. */
typedef enum
{
  KILN_SUBTASK_STATE_PENDING,    /* waiting for a provider */
  KILN_SUBTASK_STATE_ASSIGNED,   /* terms sent, not yet accepted */
  KILN_SUBTASK_STATE_RENDERING,  /* accepted: a provider is rendering it */
  KILN_SUBTASK_STATE_VERIFYING,  /* its result is being fetched and checked */
  KILN_SUBTASK_STATE_DONE,       /* verified; its images are kept */
} KilnSubtaskState;

#define KILN_TYPE_SUBTASK_STATE (kiln_subtask_state_get_type ())
GType       kiln_subtask_state_get_type     (void) G_GNUC_CONST;
const char *kiln_subtask_state_to_string    (KilnSubtaskState state);

/* One attempt at a subtask: terms offered to one provider, and what became of them. */
typedef enum
{
  KILN_ASSIGNMENT_PROPOSED,   /* terms sent, not yet accepted */
  KILN_ASSIGNMENT_ACCEPTED,   /* both sides signed; the result is awaited */
  KILN_ASSIGNMENT_DELIVERED,  /* the result arrived and is being fetched and verified */
  KILN_ASSIGNMENT_APPROVED,   /* the result passed verification: its amount is owed */
  KILN_ASSIGNMENT_REJECTED,   /* the result failed verification: not paid */
  KILN_ASSIGNMENT_REFUSED,    /* the provider refused the terms or let them expire */
  KILN_ASSIGNMENT_FAILED,     /* the provider gave the work back, failed it or went away */
  KILN_ASSIGNMENT_TIMED_OUT,  /* no result within the timeout: not paid */
  KILN_ASSIGNMENT_CANCELLED,  /* withdrawn by the requestor: not paid */
} KilnAssignmentState;

#define KILN_TYPE_ASSIGNMENT_STATE (kiln_assignment_state_get_type ())
GType       kiln_assignment_state_get_type  (void) G_GNUC_CONST;
const char *kiln_assignment_state_to_string (KilnAssignmentState state);

/* A file the job offers to providers: the .blend first, then the files it uses. */
typedef struct
{
  char    *name;          /* as providers see it */
  char    *path;          /* on this computer */
  guint8   sha256[32];
  guint64  size;
} KilnJobResource;

KilnJobResource *kiln_job_resource_new  (const char            *name,
                                         const char            *path,
                                         const guint8          *sha256,
                                         guint64                size);
KilnJobResource *kiln_job_resource_copy (const KilnJobResource *self);
void             kiln_job_resource_free (KilnJobResource       *self);

/* A job. Times are µs since the Unix epoch. */
typedef struct
{
  char               *id;            /* 32 lowercase hex digits */
  char               *name;
  char               *blend_file;
  char               *output_dir;
  char               *work_dir;      /* the job's own folder: results, strips */
  KilnRenderJobState  state;
  char               *error;         /* why it failed, or NULL */
  char               *settings;      /* JSON text (KilnRenderJob's settings) */
  char               *plan;          /* JSON text (kiln_job_plan_to_json()) */
  KilnUint256         max_cost;      /* base units */
  GBytes             *announcement;  /* the signed announcement, NULL until announced */
  guint               next_attempt;  /* the number the next assignment gets (from 1) */
  gint64              created_at;
  gint64              updated_at;
  GPtrArray          *resources;     /* KilnJobResource, never NULL */
} KilnJobRecord;

#define KILN_TYPE_JOB_RECORD (kiln_job_record_get_type ())

GType          kiln_job_record_get_type (void) G_GNUC_CONST;
KilnJobRecord *kiln_job_record_new      (void);
KilnJobRecord *kiln_job_record_copy     (const KilnJobRecord *self);
void           kiln_job_record_free     (KilnJobRecord       *self);

typedef struct
{
  guint             index;
  KilnSubtaskState  state;
  guint             attempt;     /* the assignment that completed it; 0 while not done */
  gint64            done_at;     /* 0 while not done */
} KilnJobSubtaskRecord;

/* An assignment with its result and payment. */
typedef struct
{
  guint               attempt;        /* 1, 2, … within its job */
  guint               subtask;
  KilnAddress         provider;
  KilnAssignmentState state;
  GBytes             *terms;          /* as proposed, then as accepted (both signatures) */
  guint8              terms_digest[32];
  char               *reason;         /* why it ended, for people; NULL while it runs */
  gint64              proposed_at;
  gint64              accepted_at;    /* 0 until accepted */
  gint64              result_at;      /* 0 until a result arrived */
  gint64              finished_at;    /* 0 while it runs */
  /* The result, once it arrived. */
  GPtrArray          *outputs;        /* KilnMarketFile, NULL without a result */
  guint64             cpu_ms;
  KilnUint256         owed;           /* approved: the amount owed, in base units */
  /* Its payment. */
  char               *payment_key;    /* idempotency key of the payment meant to pay it */
  gint64              payment_id;     /* the payment ledger's, 0 until paid */
  gboolean            has_tx_hash;
  guint8              tx_hash[32];
  gboolean            notified;       /* the PAYMENT message was sent */
} KilnJobAssignmentRecord;

#define KILN_TYPE_JOB_ASSIGNMENT_RECORD (kiln_job_assignment_record_get_type ())

GType                    kiln_job_assignment_record_get_type (void) G_GNUC_CONST;
KilnJobAssignmentRecord *kiln_job_assignment_record_new  (void);
KilnJobAssignmentRecord *kiln_job_assignment_record_copy (const KilnJobAssignmentRecord *self);
void                     kiln_job_assignment_record_free (KilnJobAssignmentRecord       *self);

/* Everything stored about one job. */
typedef struct
{
  KilnJobRecord *job;
  GArray        *subtasks;      /* KilnJobSubtaskRecord, by index */
  GPtrArray     *assignments;   /* KilnJobAssignmentRecord, by attempt */
} KilnJobSnapshot;

void kiln_job_snapshot_free (KilnJobSnapshot *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnJobResource, kiln_job_resource_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnJobRecord, kiln_job_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnJobAssignmentRecord, kiln_job_assignment_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnJobSnapshot, kiln_job_snapshot_free)

#define KILN_TYPE_JOB_STORE (kiln_job_store_get_type ())

G_DECLARE_FINAL_TYPE (KilnJobStore, kiln_job_store, KILN, JOB_STORE, GObject)

/* Jobs live in @store's render_* tables. */
KilnJobStore    *kiln_job_store_new                 (KilnStore            *store);
KilnStore       *kiln_job_store_get_store           (KilnJobStore         *self);

/* Writes @job (inserting or replacing it, its resources replaced too) and, when @subtasks
 * is not NULL, those subtask records (KilnJobSubtaskRecord). The records are copied. */
void             kiln_job_store_save_job_async      (KilnJobStore         *self,
                                                     const KilnJobRecord  *job,
                                                     GArray               *subtasks,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         kiln_job_store_save_job_finish     (KilnJobStore         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Writes the job's state, error, announcement and next attempt number (@job must be
 * stored; KILN_STORE_ERROR_NOT_FOUND otherwise) and, when given, @assignment (inserted or
 * replaced with its result and payment) and @subtask, all in one transaction. */
void             kiln_job_store_update_async        (KilnJobStore                  *self,
                                                     const KilnJobRecord           *job,
                                                     const KilnJobSubtaskRecord    *subtask,
                                                     const KilnJobAssignmentRecord *assignment,
                                                     GCancellable                  *cancellable,
                                                     GAsyncReadyCallback            callback,
                                                     gpointer                       user_data);
gboolean         kiln_job_store_update_finish       (KilnJobStore         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Everything about job @id; KILN_STORE_ERROR_NOT_FOUND when there is no such job. */
void             kiln_job_store_load_async          (KilnJobStore         *self,
                                                     const char           *id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
KilnJobSnapshot *kiln_job_store_load_finish         (KilnJobStore         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Every job, newest first (KilnJobRecord). */
void             kiln_job_store_list_async          (KilnJobStore         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
GPtrArray       *kiln_job_store_list_finish         (KilnJobStore         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Forgets job @id and everything about it (the ledger keeps its payments). Deleting a job
 * that is not there is not an error. */
void             kiln_job_store_delete_async        (KilnJobStore         *self,
                                                     const char           *id,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean         kiln_job_store_delete_finish       (KilnJobStore         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

G_END_DECLS
