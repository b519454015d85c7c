/* kiln-store-sql.c: helpers for the functions that run on the store's worker thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-store.h"

gboolean
kiln_store_set_error (GError     **error,
                      sqlite3     *db,
                      int          code,
                      const char  *what)
{
  const char *detail;

  if (code == SQLITE_OK && db != NULL)
    code = sqlite3_extended_errcode (db);

  if (db != NULL && sqlite3_extended_errcode (db) == code)
    detail = sqlite3_errmsg (db);
  else
    detail = sqlite3_errstr (code);

  switch (code & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_BUSY,
                   _("%s: the database is in use by another Kiln process. Close it and try "
                     "again."), what);
      break;

    case SQLITE_FULL:
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_FULL,
                   _("%s: the disk is full. Free some space and try again."), what);
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_CORRUPT,
                   _("%s: the database is damaged (%s)."), what, detail);
      break;

    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_OPEN,
                   _("%s: the database file cannot be read or written (%s)."), what, detail);
      break;

    default:
      g_set_error (error, KILN_STORE_ERROR, KILN_STORE_ERROR_FAILED, "%s: %s", what, detail);
      break;
    }

  return FALSE;
}

sqlite3_stmt *
kiln_store_prepare (sqlite3     *db,
                    const char  *sql,
                    GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  g_return_val_if_fail (db != NULL, NULL);
  g_return_val_if_fail (sql != NULL, NULL);

  rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      g_debug ("Store: cannot prepare “%s”", sql);
      kiln_store_set_error (error, db, rc, _("Could not read the database"));
      sqlite3_finalize (stmt);
      return NULL;
    }

  return stmt;
}

gboolean
kiln_store_exec (sqlite3     *db,
                 const char  *sql,
                 GError     **error)
{
  int rc;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  rc = sqlite3_exec (db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return kiln_store_set_error (error, db, rc, _("Could not update the database"));

  return TRUE;
}

gboolean
kiln_store_step_done (sqlite3_stmt  *stmt,
                      GError       **error)
{
  int rc;

  g_return_val_if_fail (stmt != NULL, FALSE);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return kiln_store_set_error (error, sqlite3_db_handle (stmt), rc,
                                 _("Could not update the database"));

  return TRUE;
}
