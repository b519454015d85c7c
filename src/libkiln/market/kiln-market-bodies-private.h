/* kiln-market-bodies-private.h: the JSON fields shared by the market's message bodies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Readers name the message (@what) and the field in their errors, all
 * KILN_MARKET_ERROR_MALFORMED unless said otherwise; writers add members to a JsonBuilder
 * inside an object.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "kiln-market-bodies.h"
#include "kiln-message.h"

G_BEGIN_DECLS

#define KILN_BODY_HEX_ID_LEN (2 * KILN_MARKET_ID_SIZE)

/* KILN_MARKET_ERROR_TOO_LARGE when @body is longer than a @type body may be. */
gboolean    kiln_body_check_body_size (GBytes              *body,
                                       KilnMessageType      type,
                                       GError             **error);
/* Whether @text is UTF-8 of at most @max bytes without control characters. */
gboolean    kiln_body_text_is_valid   (const char          *text,
                                       gsize                max);
/* Whether @reason is a reason code: lowercase letters, digits and '-', at most
 * KILN_MARKET_REASON_MAX bytes. */
gboolean    kiln_body_reason_is_valid (const char          *reason);

/* Reading */

/* Parses @body as one JSON object whose members are exactly @required plus any of
 * @optional (NULL-terminated lists). */
JsonNode   *kiln_body_parse_object    (GBytes              *body,
                                       KilnMessageType      type,
                                       const char * const  *required,
                                       const char * const  *optional,
                                       GError             **error);
const char *kiln_body_read_string     (JsonObject          *object,
                                       const char          *name,
                                       const char          *what,
                                       GError             **error);
gboolean    kiln_body_read_int        (JsonObject          *object,
                                       const char          *name,
                                       gint64               min,
                                       gint64               max,
                                       const char          *what,
                                       gint64              *out,
                                       GError             **error);
/* A hex ID of KILN_MARKET_ID_SIZE bytes. */
gboolean    kiln_body_read_id         (JsonObject          *object,
                                       const char          *name,
                                       const char          *what,
                                       guint8              *out,
                                       GError             **error);
/* A decimal amount of base units. */
gboolean    kiln_body_read_amount     (JsonObject          *object,
                                       const char          *name,
                                       const char          *what,
                                       KilnUint256         *out,
                                       GError             **error);
char       *kiln_body_read_text       (JsonObject          *object,
                                       const char          *name,
                                       const char          *what,
                                       GError             **error);
/* The KilnMarketFile list @list, of at most @max files. */
GPtrArray  *kiln_body_read_files      (JsonObject          *object,
                                       const char          *list,
                                       guint                max,
                                       const char          *what,
                                       GError             **error);

/* Writing */

/* Ends the object begun on @builder and returns it as a @type body, refused when too long. */
GBytes     *kiln_body_finish_object   (JsonBuilder         *builder,
                                       KilnMessageType      type,
                                       GError             **error);
void        kiln_body_add_id          (JsonBuilder         *builder,
                                       const char          *name,
                                       const guint8        *id);
void        kiln_body_add_amount      (JsonBuilder         *builder,
                                       const char          *name,
                                       const KilnUint256   *amount);
gboolean    kiln_body_add_files       (JsonBuilder         *builder,
                                       const char          *list,
                                       GPtrArray           *files,
                                       guint                max,
                                       const char          *what,
                                       GError             **error);

G_END_DECLS
