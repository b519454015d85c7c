/* kiln-amount.h: token and ETH amounts as people read and type them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "libkiln.h"

G_BEGIN_DECLS

typedef enum
{
  KILN_AMOUNT_ROUND_DOWN,  /* what one has: never show more than there is */
  KILN_AMOUNT_ROUND_UP,    /* what something may cost: never show less */
} KilnAmountRounding;

/* Significant fractional digits kept on screen; the exact value goes in a tooltip. */
#define KILN_AMOUNT_DISPLAY_DIGITS 4

/* @value base units with @decimals decimals, shortened for display: the whole part grouped
 * by thousands ("1,000"), at most KILN_AMOUNT_DISPLAY_DIGITS decimal places (or as many
 * significant ones below 1: "0.00004316"), rounded as @rounding says. Values too small to
 * show become "< 0.000001" (down) or "0.000001" (up). Separators follow the locale, with
 * "," and "." where it has none. *@exact (nullable) tells whether nothing was dropped. */
char     *kiln_amount_format_display  (const KilnUint256   *value,
                                       guint                decimals,
                                       KilnAmountRounding   rounding,
                                       gboolean            *exact);

/* The same, followed by a space and @symbol: "1,000 GNT". */
char     *kiln_amount_format_with_symbol (const KilnUint256   *value,
                                          guint                decimals,
                                          const char          *symbol,
                                          KilnAmountRounding   rounding,
                                          gboolean            *exact);

/* The exact amount with @symbol: "1000.000000000000000001 GNT"; what the tooltip says. */
char     *kiln_amount_format_exact    (const KilnUint256   *value,
                                       guint                decimals,
                                       const char          *symbol);

/* Reads an amount typed by a person: surrounding spaces are ignored and, in a locale whose
 * decimal separator is a comma, "1,5" is read as "1.5". Otherwise as
 * kiln_uint256_parse_units(). */
gboolean  kiln_amount_parse           (KilnUint256         *value,
                                       const char          *text,
                                       guint                decimals,
                                       const char          *symbol,
                                       GError             **error);

G_END_DECLS
