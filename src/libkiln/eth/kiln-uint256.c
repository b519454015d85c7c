/* kiln-uint256.c: 256-bit unsigned integers for amounts, gas and chain values
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "kiln-eth.h"
#include "kiln-uint256.h"

static inline void
mul_64x64 (guint64  a,
           guint64  b,
           guint64 *hi,
           guint64 *lo)
{
  guint64 a_lo = a & 0xffffffffu;
  guint64 a_hi = a >> 32;
  guint64 b_lo = b & 0xffffffffu;
  guint64 b_hi = b >> 32;
  guint64 p0 = a_lo * b_lo;
  guint64 p1 = a_lo * b_hi;
  guint64 p2 = a_hi * b_lo;
  guint64 p3 = a_hi * b_hi;
  guint64 mid = (p0 >> 32) + (p1 & 0xffffffffu) + (p2 & 0xffffffffu);

  *lo = (mid << 32) | (p0 & 0xffffffffu);
  *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

static inline guint
bit_length_64 (guint64 value)
{
  return value == 0 ? 0 : 64 - (guint) __builtin_clzll (value);
}

void
kiln_uint256_from_uint64 (KilnUint256 *self,
                          guint64      value)
{
  g_return_if_fail (self != NULL);

  self->limbs[0] = value;
  self->limbs[1] = 0;
  self->limbs[2] = 0;
  self->limbs[3] = 0;
}

gboolean
kiln_uint256_to_uint64 (const KilnUint256 *self,
                        guint64           *out)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if ((self->limbs[1] | self->limbs[2] | self->limbs[3]) != 0)
    return FALSE;

  if (out != NULL)
    *out = self->limbs[0];

  return TRUE;
}

void
kiln_uint256_set_max (KilnUint256 *self)
{
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < 4; i++)
    self->limbs[i] = G_MAXUINT64;
}

void
kiln_uint256_from_be_bytes (KilnUint256  *self,
                            const guint8  bytes[KILN_UINT256_SIZE])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (bytes != NULL);

  for (guint i = 0; i < 4; i++)
    {
      guint64 limb = 0;

      for (guint j = 0; j < 8; j++)
        limb = (limb << 8) | bytes[(3 - i) * 8 + j];

      self->limbs[i] = limb;
    }
}

void
kiln_uint256_to_be_bytes (const KilnUint256 *self,
                          guint8             bytes[KILN_UINT256_SIZE])
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (bytes != NULL);

  for (guint i = 0; i < 4; i++)
    {
      guint64 limb = self->limbs[i];

      for (guint j = 0; j < 8; j++)
        bytes[(3 - i) * 8 + (7 - j)] = (guint8) (limb >> (8 * j));
    }
}

gboolean
kiln_uint256_from_be_slice (KilnUint256   *self,
                            const guint8  *data,
                            gsize          len,
                            GError       **error)
{
  guint8 padded[KILN_UINT256_SIZE] = { 0 };

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  while (len > KILN_UINT256_SIZE)
    {
      if (data[0] != 0)
        {
          g_set_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_OVERFLOW,
                       _("A %zu-byte number does not fit in 256 bits"), len);
          return FALSE;
        }
      data++;
      len--;
    }

  if (len > 0)
    memcpy (padded + KILN_UINT256_SIZE - len, data, len);
  kiln_uint256_from_be_bytes (self, padded);

  return TRUE;
}

guint
kiln_uint256_bit_length (const KilnUint256 *self)
{
  g_return_val_if_fail (self != NULL, 0);

  for (int i = 3; i >= 0; i--)
    {
      if (self->limbs[i] != 0)
        return (guint) i * 64 + bit_length_64 (self->limbs[i]);
    }

  return 0;
}

guint
kiln_uint256_byte_length (const KilnUint256 *self)
{
  return (kiln_uint256_bit_length (self) + 7) / 8;
}

gboolean
kiln_uint256_is_zero (const KilnUint256 *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return (self->limbs[0] | self->limbs[1] | self->limbs[2] | self->limbs[3]) == 0;
}

int
kiln_uint256_compare (const KilnUint256 *a,
                      const KilnUint256 *b)
{
  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  for (int i = 3; i >= 0; i--)
    {
      if (a->limbs[i] != b->limbs[i])
        return a->limbs[i] < b->limbs[i] ? -1 : 1;
    }

  return 0;
}

gboolean
kiln_uint256_equal (const KilnUint256 *a,
                    const KilnUint256 *b)
{
  return kiln_uint256_compare (a, b) == 0;
}

gboolean
kiln_uint256_add (KilnUint256       *out,
                  const KilnUint256 *a,
                  const KilnUint256 *b)
{
  KilnUint256 sum;
  guint64 carry = 0;

  g_return_val_if_fail (out != NULL && a != NULL && b != NULL, FALSE);

  for (guint i = 0; i < 4; i++)
    {
      guint64 s = a->limbs[i] + carry;
      guint64 c1 = s < carry;

      sum.limbs[i] = s + b->limbs[i];
      carry = c1 | (sum.limbs[i] < s);
    }

  if (carry != 0)
    return FALSE;

  *out = sum;
  return TRUE;
}

/* Wrapping subtraction; returns the final borrow. */
static guint64
sub_borrow (KilnUint256       *out,
            const KilnUint256 *a,
            const KilnUint256 *b)
{
  guint64 borrow = 0;

  for (guint i = 0; i < 4; i++)
    {
      guint64 ai = a->limbs[i];
      guint64 d = ai - b->limbs[i];
      guint64 b1 = ai < b->limbs[i];
      guint64 b2 = d < borrow;

      out->limbs[i] = d - borrow;
      borrow = b1 | b2;
    }

  return borrow;
}

gboolean
kiln_uint256_sub (KilnUint256       *out,
                  const KilnUint256 *a,
                  const KilnUint256 *b)
{
  KilnUint256 diff;

  g_return_val_if_fail (out != NULL && a != NULL && b != NULL, FALSE);

  if (sub_borrow (&diff, a, b) != 0)
    return FALSE;

  *out = diff;
  return TRUE;
}

gboolean
kiln_uint256_mul (KilnUint256       *out,
                  const KilnUint256 *a,
                  const KilnUint256 *b)
{
  guint64 r[8] = { 0 };

  g_return_val_if_fail (out != NULL && a != NULL && b != NULL, FALSE);

  /* Schoolbook product into eight limbs; the value fits if the top four are zero. Each step
   * adds at most (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1, so hi never overflows. */
  for (guint i = 0; i < 4; i++)
    {
      guint64 carry = 0;

      for (guint j = 0; j < 4; j++)
        {
          guint64 hi, lo;

          mul_64x64 (a->limbs[i], b->limbs[j], &hi, &lo);
          lo += carry;
          hi += lo < carry;
          r[i + j] += lo;
          hi += r[i + j] < lo;
          carry = hi;
        }
      r[i + 4] = carry;
    }

  if ((r[4] | r[5] | r[6] | r[7]) != 0)
    return FALSE;

  memcpy (out->limbs, r, sizeof out->limbs);
  return TRUE;
}

gboolean
kiln_uint256_add_uint64 (KilnUint256       *out,
                         const KilnUint256 *a,
                         guint64            b)
{
  KilnUint256 wide = KILN_UINT256_INIT (b);

  return kiln_uint256_add (out, a, &wide);
}

gboolean
kiln_uint256_mul_uint64 (KilnUint256       *out,
                         const KilnUint256 *a,
                         guint64            b)
{
  KilnUint256 wide = KILN_UINT256_INIT (b);

  return kiln_uint256_mul (out, a, &wide);
}

guint32
kiln_uint256_div_small (KilnUint256       *quotient,
                        const KilnUint256 *a,
                        guint32            divisor)
{
  KilnUint256 q;
  guint64 rem = 0;

  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (divisor != 0, 0);

  /* Schoolbook division in 32-bit digits: rem < divisor keeps each step inside 64 bits. */
  for (int i = 3; i >= 0; i--)
    {
      guint64 limb = a->limbs[i];
      guint64 hi_part = (rem << 32) | (limb >> 32);
      guint64 q_hi = hi_part / divisor;
      guint64 lo_part;
      guint64 q_lo;

      rem = hi_part % divisor;
      lo_part = (rem << 32) | (limb & 0xffffffffu);
      q_lo = lo_part / divisor;
      rem = lo_part % divisor;
      q.limbs[i] = (q_hi << 32) | q_lo;
    }

  if (quotient != NULL)
    *quotient = q;

  return (guint32) rem;
}

static inline gboolean
get_bit (const KilnUint256 *self,
         guint              bit)
{
  return (self->limbs[bit / 64] >> (bit % 64)) & 1;
}

gboolean
kiln_uint256_divmod (KilnUint256       *quotient,
                     KilnUint256       *remainder,
                     const KilnUint256 *a,
                     const KilnUint256 *b)
{
  KilnUint256 q = KILN_UINT256_INIT (0);
  KilnUint256 r = KILN_UINT256_INIT (0);
  guint n_bits;

  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  if (kiln_uint256_is_zero (b))
    return FALSE;

  if (kiln_uint256_bit_length (b) <= 32)
    {
      guint32 rem = kiln_uint256_div_small (&q, a, (guint32) b->limbs[0]);

      kiln_uint256_from_uint64 (&r, rem);
    }
  else
    {
      /* Binary long division. r < b before each shift, so r fits in 257 bits after it;
       * the bit shifted out of the top is kept in carry and the wrapping subtraction is then
       * exact. */
      n_bits = kiln_uint256_bit_length (a);
      for (guint i = n_bits; i-- > 0;)
        {
          guint64 carry = r.limbs[3] >> 63;

          r.limbs[3] = (r.limbs[3] << 1) | (r.limbs[2] >> 63);
          r.limbs[2] = (r.limbs[2] << 1) | (r.limbs[1] >> 63);
          r.limbs[1] = (r.limbs[1] << 1) | (r.limbs[0] >> 63);
          r.limbs[0] = (r.limbs[0] << 1) | (get_bit (a, i) ? 1 : 0);

          if (carry != 0 || kiln_uint256_compare (&r, b) >= 0)
            {
              sub_borrow (&r, &r, b);
              q.limbs[i / 64] |= G_GUINT64_CONSTANT (1) << (i % 64);
            }
        }
    }

  if (quotient != NULL)
    *quotient = q;
  if (remainder != NULL)
    *remainder = r;

  return TRUE;
}

gboolean
kiln_uint256_pow10 (KilnUint256 *out,
                    guint        exponent)
{
  KilnUint256 value = KILN_UINT256_INIT (1);

  g_return_val_if_fail (out != NULL, FALSE);

  if (exponent > KILN_UINT256_MAX_DECIMALS)
    return FALSE;

  for (guint i = 0; i < exponent; i++)
    {
      if (!kiln_uint256_mul_uint64 (&value, &value, 10))
        g_assert_not_reached ();
    }

  *out = value;
  return TRUE;
}
