/* kiln-job-store-private.h: the job store's SQL, run on the store's worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-job-store.h"

G_BEGIN_DECLS

/* What a call asks of the worker, and what the worker hands back (the outputs). */
typedef struct
{
  char                    *id;
  KilnJobRecord           *job;
  GArray                  *subtasks;      /* KilnJobSubtaskRecord */
  KilnJobAssignmentRecord *assignment;
  gboolean                 has_subtask;
  KilnJobSubtaskRecord     subtask;
  /* Outputs. */
  KilnJobSnapshot         *snapshot;
  GPtrArray               *jobs;
} Request;

void     kiln_job_request_free        (gpointer    data);

/* KilnStoreFunc implementations, one per call of the job store; @data is a Request. */
gboolean kiln_job_store_save_in_db    (sqlite3    *db,
                                       gpointer    data,
                                       GError    **error);
gboolean kiln_job_store_update_in_db  (sqlite3    *db,
                                       gpointer    data,
                                       GError    **error);
gboolean kiln_job_store_load_in_db    (sqlite3    *db,
                                       gpointer    data,
                                       GError    **error);
gboolean kiln_job_store_list_in_db    (sqlite3    *db,
                                       gpointer    data,
                                       GError    **error);
gboolean kiln_job_store_delete_in_db  (sqlite3    *db,
                                       gpointer    data,
                                       GError    **error);

G_END_DECLS
