/* kiln-link-config.h: what every link of a node shares: its key, certificate and timeouts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-key.h"
#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_TYPE_LINK_CONFIG (kiln_link_config_get_type ())

G_DECLARE_FINAL_TYPE (KilnLinkConfig, kiln_link_config, KILN, LINK_CONFIG, GObject)

/* Makes the node's throwaway TLS certificate (kiln_tls_certificate_new()). */
KilnLinkConfig  *kiln_link_config_new                    (KilnKey         *key,
                                                          GError         **error);

KilnKey         *kiln_link_config_get_key                (KilnLinkConfig  *self);
GTlsCertificate *kiln_link_config_get_certificate        (KilnLinkConfig  *self);

/* Milliseconds from the TCP connection to both identity proofs checked (default
 * KILN_NET_HANDSHAKE_TIMEOUT_MS); it also bounds a link's goodbye. */
guint            kiln_link_config_get_handshake_timeout  (KilnLinkConfig  *self);
void             kiln_link_config_set_handshake_timeout  (KilnLinkConfig  *self,
                                                          guint            timeout_ms);
/* A link pings a peer it has heard nothing from for this long (default
 * KILN_NET_KEEPALIVE_INTERVAL_MS)… */
guint            kiln_link_config_get_keepalive_interval (KilnLinkConfig  *self);
void             kiln_link_config_set_keepalive_interval (KilnLinkConfig  *self,
                                                          guint            interval_ms);
/* …and closes the link when it stays silent this long (default KILN_NET_KEEPALIVE_TIMEOUT_MS).
 * Changes reach existing links at their next timer. */
guint            kiln_link_config_get_keepalive_timeout  (KilnLinkConfig  *self);
void             kiln_link_config_set_keepalive_timeout  (KilnLinkConfig  *self,
                                                          guint            timeout_ms);

G_END_DECLS
