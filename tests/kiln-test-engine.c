/* kiln-test-engine.c: whole engines on loopback for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>

#include "kiln-test-link.h"
#include "kiln-test-engine.h"
#include "kiln-test-util.h"

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

KilnTestEngine *
kiln_test_engine_new_stopped (const char *name,
                              guint32     network)
{
  return kiln_test_engine_new_stopped_in (NULL, name, network);
}

KilnTestEngine *
kiln_test_engine_new_stopped_in (const char *parent,
                                 const char *name,
                                 guint32     network)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *template = g_strdup_printf ("kiln-%s-XXXXXX", name);
  g_autofree char *db = NULL;
  KilnTestEngine *node = g_new0 (KilnTestEngine, 1);

  node->key = kiln_key_generate (&error);
  g_assert_no_error (error);
  if (parent == NULL)
    {
      node->dir = g_dir_make_tmp (template, &error);
      g_assert_no_error (error);
    }
  else
    {
      char *made;

      node->dir = g_build_filename (parent, template, NULL);
      made = g_mkdtemp_full (node->dir, 0700);
      g_assert_nonnull (made);
    }
  db = g_build_filename (node->dir, KILN_STORE_FILE_NAME, NULL);
  node->store = kiln_store_new (db, NULL, &error);
  g_assert_no_error (error);
  node->received = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_message_unref);
  node->network = network;
  kiln_test_engine_reopen (node);
  return node;
}

KilnTestEngine *
kiln_test_engine_new (const char *name,
                      guint32     network)
{
  KilnTestEngine *node = kiln_test_engine_new_stopped (name, network);

  kiln_test_engine_start (node, NULL);
  return node;
}

void
kiln_test_engine_reopen (KilnTestEngine *node)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (node->engine);
  node->engine = kiln_engine_new (node->key, node->store, node->dir, &error);
  g_assert_no_error (error);
  kiln_engine_set_network_id (node->engine, node->network);
}

void
kiln_test_engine_start (KilnTestEngine *node,
                        const char     *bootstrap)
{
  const char *list[] = { bootstrap, NULL };
  g_autoptr(GError) error = NULL;

  kiln_engine_start (node->engine, "127.0.0.1", 0, bootstrap != NULL ? list : NULL, FALSE,
                     &error);
  g_assert_no_error (error);
}

static void
on_message (KilnEngine     *engine,
            KilnEnginePeer *peer,
            KilnMessage    *message,
            gpointer        user_data)
{
  KilnTestEngine *node = user_data;

  g_ptr_array_add (node->received, kiln_message_ref (message));
}

void
kiln_test_engine_record (KilnTestEngine        *node,
                         const KilnMessageType *types,
                         guint                  n_types)
{
  for (guint i = 0; i < n_types; i++)
    kiln_engine_add_message_handler (node->engine, types[i], on_message, node, NULL);
}

static void
on_stopped (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  kiln_engine_stop_finish (KILN_ENGINE (object), result, &error);
  g_assert_no_error (error);
  g_atomic_int_set ((int *) user_data, 1);
}

void
kiln_test_engine_stop (KilnTestEngine *node)
{
  int stopped = 0;

  kiln_engine_stop_async (node->engine, NULL, on_stopped, &stopped);
  kiln_test_wait_until (kiln_test_flag_set, &stopped);
  kiln_test_assert_finalize_soon (g_steal_pointer (&node->engine));
}

void
kiln_test_engine_free (KilnTestEngine *node)
{
  if (node->engine != NULL)
    kiln_test_engine_stop (node);
  kiln_test_assert_finalize_soon (g_steal_pointer (&node->store));
  g_clear_object (&node->key);
  remove_tree (node->dir);
  g_free (node->dir);
  g_ptr_array_unref (node->received);
  g_free (node);
}

const KilnAddress *
kiln_test_engine_address (KilnTestEngine *node)
{
  return kiln_key_get_address (node->key);
}

char *
kiln_test_engine_endpoint (KilnTestEngine *node)
{
  return g_strdup_printf ("127.0.0.1:%u", kiln_engine_get_listen_port (node->engine));
}

typedef struct
{
  int             done;
  KilnEnginePeer *peer;
  GError         *error;
} Dial;

static void
on_connected (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Dial *dial = user_data;

  dial->peer = kiln_engine_connect_finish (KILN_ENGINE (object), result, &dial->error);
  g_atomic_int_set (&dial->done, 1);
}

gboolean
kiln_test_engine_is_linked (KilnTestEngine *node,
                            KilnTestEngine *peer)
{
  KilnEnginePeer *found = kiln_engine_lookup_peer (node->engine, kiln_test_engine_address (peer));

  return found != NULL && kiln_engine_peer_get_connected (found);
}

typedef struct
{
  KilnTestEngine *node;
  KilnTestEngine *peer;
} PeerWait;

static gboolean
peer_linked (gpointer data)
{
  PeerWait *wait = data;

  return kiln_test_engine_is_linked (wait->node, wait->peer);
}

void
kiln_test_engine_link (KilnTestEngine *a,
                       KilnTestEngine *b)
{
  Dial dial = { 0 };
  PeerWait ab = { a, b }, ba = { b, a };

  kiln_engine_connect_async (a->engine, "127.0.0.1", kiln_engine_get_listen_port (b->engine),
                             NULL, on_connected, &dial);
  kiln_test_wait_until (kiln_test_flag_set, &dial.done);
  g_assert_no_error (dial.error);
  g_clear_object (&dial.peer);
  kiln_test_wait_until (peer_linked, &ab);
  kiln_test_wait_until (peer_linked, &ba);
}

KilnProviderAgent *
kiln_test_engine_start_agent (KilnTestEngine *node,
                              KilnProvider   *provider,
                              KilnBlender    *blender,
                              const char     *work_dir)
{
  g_autoptr(KilnProviderAgent) agent = NULL;
  g_autoptr(GError) error = NULL;

  agent = kiln_provider_agent_new (node->engine, provider, blender, work_dir);
  kiln_provider_agent_set_idle_priority (agent, FALSE);
  kiln_provider_agent_start (agent, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_provider_agent_get_running (agent));
  return g_steal_pointer (&agent);
}
