/* kiln-store-private.h: schema migrations, shared by the store and its tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-store.h"

G_BEGIN_DECLS

/* One schema step. Step N (counting from 1) takes a database from user_version N - 1 to N. */
typedef struct
{
  const char *owner;        /* the subsystem that needs it, for error messages */
  const char *sql;
} KilnStoreMigration;

/* Kiln's ordered list of steps; see kiln-store-schema.c. */
const KilnStoreMigration *kiln_store_schema_get_migrations (guint *n_migrations);

/* Brings @db (opened at @path, named in errors) up to @n_migrations: reads PRAGMA
 * user_version, refuses a database newer than the list (KILN_STORE_ERROR_TOO_NEW), and applies
 * the missing steps in order inside one transaction that also sets user_version, so a failing
 * step leaves the database exactly as it was. */
gboolean kiln_store_migrate (sqlite3                  *db,
                             const char               *path,
                             const KilnStoreMigration *migrations,
                             guint                     n_migrations,
                             GError                  **error);

G_END_DECLS
