/* kiln-link-listener.h: the accepting side of links
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "kiln-link-config.h"
#include "kiln-link.h"
#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_TYPE_LINK_LISTENER (kiln_link_listener_get_type ())

G_DECLARE_FINAL_TYPE (KilnLinkListener, kiln_link_listener, KILN, LINK_LISTENER, GObject)

/* Accepts TCP connections, runs the handshake on each (within the config's handshake
 * timeout) and emits ::link-accepted with every link that opens, or ::link-refused with
 * the reason. Connections beyond the "max-links" cap (handshaking and open links count)
 * are closed at once, before any TLS work. */
KilnLinkListener *kiln_link_listener_new            (KilnLinkConfig   *config);

/* Listens on @host, an IPv4 or IPv6 literal, or on every interface (both families) when
 * @host is NULL. Port 0 picks a free port, given in @bound_port. Can be called more than
 * once, for several addresses. */
gboolean          kiln_link_listener_listen         (KilnLinkListener *self,
                                                     const char       *host,
                                                     guint16           port,
                                                     guint16          *bound_port,
                                                     GError          **error);

guint             kiln_link_listener_get_max_links  (KilnLinkListener *self);
void              kiln_link_listener_set_max_links  (KilnLinkListener *self,
                                                     guint             max_links);
/* Links handshaking or open, accepted by this listener. */
guint             kiln_link_listener_get_n_links    (KilnLinkListener *self);

/* Stops listening and closes every link it accepted, telling their peers @text. */
void              kiln_link_listener_close          (KilnLinkListener *self,
                                                     const char       *text);

G_END_DECLS
