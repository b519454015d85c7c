/* kiln-uint256.h: 256-bit unsigned integers for amounts, gas and chain values
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "kiln-types.h"

G_BEGIN_DECLS

/* A value type: declare it on the stack and pass pointers. Limbs are little-endian
 * (limbs[0] holds the lowest 64 bits). All functions accept aliasing between outputs and
 * inputs. Nothing here uses floating point. */
struct _KilnUint256
{
  guint64 limbs[4];
};

#define KILN_UINT256_SIZE         32
/* The longest decimal form (2^256 - 1 has 78 digits) plus NUL. */
#define KILN_UINT256_DECIMAL_SIZE 79
/* "0x" + 64 hex digits + NUL. */
#define KILN_UINT256_HEX_SIZE     67
/* 10^77 is the largest power of ten below 2^256. */
#define KILN_UINT256_MAX_DECIMALS 77

#define KILN_UINT256_INIT(value) { { (guint64) (value), 0, 0, 0 } }

void      kiln_uint256_from_uint64     (KilnUint256       *self,
                                        guint64            value);
/* FALSE when @self does not fit in 64 bits. */
gboolean  kiln_uint256_to_uint64       (const KilnUint256 *self,
                                        guint64           *out);
void      kiln_uint256_set_max         (KilnUint256       *self);

void      kiln_uint256_from_be_bytes   (KilnUint256       *self,
                                        const guint8       bytes[KILN_UINT256_SIZE]);
void      kiln_uint256_to_be_bytes     (const KilnUint256 *self,
                                        guint8             bytes[KILN_UINT256_SIZE]);
/* Reads up to 32 big-endian bytes (leading zeros allowed); longer input is an overflow
 * unless its extra leading bytes are zero. */
gboolean  kiln_uint256_from_be_slice   (KilnUint256       *self,
                                        const guint8      *data,
                                        gsize              len,
                                        GError           **error);
/* The number of bytes of the minimal big-endian form: 0 for zero, 1..32 otherwise. */
guint     kiln_uint256_byte_length     (const KilnUint256 *self);
/* The number of significant bits: 0 for zero, 1..256 otherwise. */
guint     kiln_uint256_bit_length      (const KilnUint256 *self);

/* Parses an unsigned integer: decimal digits, or "0x"/"0X" followed by hex digits. Leading
 * zeros are accepted. Signs, spaces (anywhere), empty input and values above 2^256 - 1 are
 * rejected with KILN_ETH_ERROR_INVALID_NUMBER or KILN_ETH_ERROR_OVERFLOW. */
gboolean  kiln_uint256_parse           (KilnUint256       *self,
                                        const char        *text,
                                        GError           **error);
void      kiln_uint256_format_decimal  (const KilnUint256 *self,
                                        char               out[KILN_UINT256_DECIMAL_SIZE]);
/* The minimal JSON-RPC quantity form: "0x0", "0x1", "0x1a", never leading zeros. */
void      kiln_uint256_format_hex      (const KilnUint256 *self,
                                        char               out[KILN_UINT256_HEX_SIZE]);
char     *kiln_uint256_to_string       (const KilnUint256 *self);
char     *kiln_uint256_to_hex          (const KilnUint256 *self);

gboolean  kiln_uint256_is_zero         (const KilnUint256 *self);
gboolean  kiln_uint256_equal           (const KilnUint256 *a,
                                        const KilnUint256 *b);
/* -1, 0 or 1 as @a is below, equal to or above @b. */
int       kiln_uint256_compare         (const KilnUint256 *a,
                                        const KilnUint256 *b);

/* Checked arithmetic: FALSE on overflow (or underflow for sub), and @out is then left
 * unchanged. */
gboolean  kiln_uint256_add             (KilnUint256       *out,
                                        const KilnUint256 *a,
                                        const KilnUint256 *b) G_GNUC_WARN_UNUSED_RESULT;
gboolean  kiln_uint256_sub             (KilnUint256       *out,
                                        const KilnUint256 *a,
                                        const KilnUint256 *b) G_GNUC_WARN_UNUSED_RESULT;
gboolean  kiln_uint256_mul             (KilnUint256       *out,
                                        const KilnUint256 *a,
                                        const KilnUint256 *b) G_GNUC_WARN_UNUSED_RESULT;
gboolean  kiln_uint256_add_uint64      (KilnUint256       *out,
                                        const KilnUint256 *a,
                                        guint64            b) G_GNUC_WARN_UNUSED_RESULT;
gboolean  kiln_uint256_mul_uint64      (KilnUint256       *out,
                                        const KilnUint256 *a,
                                        guint64            b) G_GNUC_WARN_UNUSED_RESULT;

/* @quotient = @a / @divisor; returns @a % @divisor. @divisor must not be zero. */
guint32   kiln_uint256_div_small       (KilnUint256       *quotient,
                                        const KilnUint256 *a,
                                        guint32            divisor);
/* Long division. Either output may be NULL. FALSE (outputs untouched) if @b is zero. */
gboolean  kiln_uint256_divmod          (KilnUint256       *quotient,
                                        KilnUint256       *remainder,
                                        const KilnUint256 *a,
                                        const KilnUint256 *b);
/* 10^@exponent; FALSE above KILN_UINT256_MAX_DECIMALS. */
gboolean  kiln_uint256_pow10           (KilnUint256       *out,
                                        guint              exponent);

/* Token amounts. Parses a decimal amount such as "12", "1.5" or "0.000001" into base units
 * with @decimals decimals, exactly. The form is strict: digits, optionally one '.' followed by
 * at least one digit, with at least one digit before the '.' (so "1." and ".5" are refused:
 * write "1" and "0.5"). No sign, spaces, exponents or thousands separators. More fractional
 * digits than @decimals is an error even when they are zeros. @symbol (for example "GNT") names
 * the token in error messages and may be NULL. */
gboolean  kiln_uint256_parse_units     (KilnUint256       *self,
                                        const char        *text,
                                        guint              decimals,
                                        const char        *symbol,
                                        GError           **error);
/* The exact decimal form of @self base units: "1.5", "0.000000000000000001", "0", "12";
 * trailing fractional zeros are trimmed. kiln_uint256_parse_units() reads it back. */
char     *kiln_uint256_format_units    (const KilnUint256 *self,
                                        guint              decimals);

G_END_DECLS
