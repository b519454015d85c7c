/* kiln-rpc-client-private.h: what the RPC client's transport and eth_* methods share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>

#include "kiln-rpc-client.h"

G_BEGIN_DECLS

struct _KilnRpcClient
{
  GObject      parent_instance;

  char        *url;
  GUri        *uri;
  char        *display_name;
  SoupSession *session;
  guint        timeout;
  guint        max_attempts;
  gint64       next_id;
};

G_END_DECLS
