/* test-abi.c: contract call encoding and result decoding
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "libkiln.h"

#define WORD 32

static void
hex_decode (const char *hex,
            guint8     *out,
            gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_hex_decode (hex, out, len, &error));
  g_assert_no_error (error);
}

static GBytes *
bytes_from_hex (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *data;

  if (len == 0)
    return g_bytes_new (NULL, 0);

  data = g_malloc (len);
  hex_decode (hex, data, len);
  return g_bytes_new_take (data, len);
}

static KilnAddress
address (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnAddress out;

  g_assert_true (kiln_address_parse (&out, text, &error));
  g_assert_no_error (error);
  return out;
}

static void
assert_bytes_hex (GBytes     *bytes,
                  const char *expected_hex)
{
  g_autofree char *hex = NULL;

  g_assert_nonnull (bytes);
  hex = kiln_hex_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpstr (hex, ==, expected_hex);
}

/* Checks the 32-byte word at @index (after the selector) against @expected_hex. */
static void
assert_word (GBytes     *call,
             guint       index,
             const char *expected_hex)
{
  const guint8 *data = g_bytes_get_data (call, NULL);
  g_autofree char *hex = NULL;
  char padded[2 * WORD + 1];
  gsize len = strlen (expected_hex);

  g_assert_cmpuint (g_bytes_get_size (call), >=, KILN_ABI_SELECTOR_SIZE + (index + 1) * WORD);
  g_assert_cmpuint (len, <=, 2 * WORD);
  memset (padded, '0', 2 * WORD - len);
  memcpy (padded + 2 * WORD - len, expected_hex, len + 1);

  hex = kiln_hex_encode (data + KILN_ABI_SELECTOR_SIZE + index * WORD, WORD);
  g_assert_cmpstr (hex, ==, padded);
}

static void
test_selectors (void)
{
  static const struct { const char *signature; const char *selector; } known[] = {
    { "transfer(address,uint256)", "a9059cbb" },
    { "balanceOf(address)", "70a08231" },
    { "approve(address,uint256)", "095ea7b3" },
    { "allowance(address,address)", "dd62ed3e" },
    { "transferFrom(address,address,uint256)", "23b872dd" },
    { "Error(string)", "08c379a0" },
    { "Panic(uint256)", "4e487b71" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    {
      guint8 selector[KILN_ABI_SELECTOR_SIZE];
      g_autofree char *hex = NULL;

      kiln_abi_selector (known[i].signature, selector);
      hex = kiln_hex_encode (selector, sizeof selector);
      g_assert_cmpstr (hex, ==, known[i].selector);
    }
}

static void
test_erc20_calls (void)
{
  KilnAddress to = address ("0x574bbb36871ba6b78e27f4b4dcfb76ea0091880b");
  KilnAddress other = address ("0x3535353535353535353535353535353535353535");
  KilnUint256 amount = KILN_UINT256_INIT (200000000);
  KilnUint256 max;
  g_autoptr(GBytes) transfer = kiln_abi_encode_transfer (&to, &amount);
  g_autoptr(GBytes) balance = kiln_abi_encode_balance_of (&to);
  g_autoptr(GBytes) approve = NULL;
  g_autoptr(GBytes) allowance = kiln_abi_encode_allowance (&to, &other);
  g_autoptr(GBytes) transfer_from = kiln_abi_encode_transfer_from (&other, &to, &amount);

  /* A published ERC-20 transfer of 200 000 000 base units (0x0bebc200). */
  assert_bytes_hex (transfer,
                    "a9059cbb"
                    "000000000000000000000000574bbb36871ba6b78e27f4b4dcfb76ea0091880b"
                    "000000000000000000000000000000000000000000000000000000000bebc200");

  assert_bytes_hex (balance,
                    "70a08231"
                    "000000000000000000000000574bbb36871ba6b78e27f4b4dcfb76ea0091880b");

  kiln_uint256_set_max (&max);
  approve = kiln_abi_encode_approve (&other, &max);
  assert_bytes_hex (approve,
                    "095ea7b3"
                    "0000000000000000000000003535353535353535353535353535353535353535"
                    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");

  assert_bytes_hex (allowance,
                    "dd62ed3e"
                    "000000000000000000000000574bbb36871ba6b78e27f4b4dcfb76ea0091880b"
                    "0000000000000000000000003535353535353535353535353535353535353535");

  assert_bytes_hex (transfer_from,
                    "23b872dd"
                    "0000000000000000000000003535353535353535353535353535353535353535"
                    "000000000000000000000000574bbb36871ba6b78e27f4b4dcfb76ea0091880b"
                    "000000000000000000000000000000000000000000000000000000000bebc200");
}

static void
test_pay_batch (void)
{
  KilnAddress token = address ("0x1111111111111111111111111111111111111111");
  KilnAddress recipients[] = {
    address ("0x2222222222222222222222222222222222222222"),
    address ("0x3333333333333333333333333333333333333333"),
    address ("0x4444444444444444444444444444444444444444"),
  };
  KilnUint256 amounts[3];
  guint8 reference[WORD];
  guint8 selector[KILN_ABI_SELECTOR_SIZE];
  g_autoptr(GBytes) call = NULL;
  g_autoptr(GBytes) empty = NULL;

  kiln_uint256_from_uint64 (&amounts[0], 1);
  kiln_uint256_from_uint64 (&amounts[1], 1000000000000000000);
  kiln_uint256_set_max (&amounts[2]);
  memset (reference, 0xab, sizeof reference);

  call = kiln_abi_encode_pay_batch (&token, recipients, amounts, 3, reference);

  /* Four head words (token, offset, offset, reference), then each array as its length
   * followed by its elements: recipients at 0x80, amounts at 0x80 + 4 words = 0x100. */
  g_assert_cmpuint (g_bytes_get_size (call), ==, KILN_ABI_SELECTOR_SIZE + (4 + 4 + 4) * WORD);
  kiln_abi_selector ("payBatch(address,address[],uint256[],bytes32)", selector);
  g_assert_cmpmem (g_bytes_get_data (call, NULL), KILN_ABI_SELECTOR_SIZE,
                   selector, KILN_ABI_SELECTOR_SIZE);
  assert_word (call, 0, "1111111111111111111111111111111111111111");
  assert_word (call, 1, "80");
  assert_word (call, 2, "100");
  assert_word (call, 3, "abababababababababababababababababababababababababababababababab");
  assert_word (call, 4, "3");
  assert_word (call, 5, "2222222222222222222222222222222222222222");
  assert_word (call, 6, "3333333333333333333333333333333333333333");
  assert_word (call, 7, "4444444444444444444444444444444444444444");
  assert_word (call, 8, "3");
  assert_word (call, 9, "1");
  assert_word (call, 10, "de0b6b3a7640000");
  assert_word (call, 11, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");

  /* Empty arrays are a zero length each: offsets 0x80 and 0xa0. */
  empty = kiln_abi_encode_pay_batch (&token, NULL, NULL, 0, reference);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, KILN_ABI_SELECTOR_SIZE + 6 * WORD);
  assert_word (empty, 1, "80");
  assert_word (empty, 2, "a0");
  assert_word (empty, 4, "0");
  assert_word (empty, 5, "0");
}

static void
test_dynamic_bytes (void)
{
  g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("store(string,bytes,bool,uint256)");
  KilnUint256 seven = KILN_UINT256_INIT (7);
  guint8 blob[33];
  g_autoptr(GBytes) call = NULL;

  memset (blob, 0xcd, sizeof blob);
  kiln_abi_encoder_add_string (encoder, "hello");
  kiln_abi_encoder_add_bytes (encoder, blob, sizeof blob);
  kiln_abi_encoder_add_bool (encoder, TRUE);
  kiln_abi_encoder_add_uint256 (encoder, &seven);
  call = kiln_abi_encoder_finish (encoder);

  /* Heads: 4 words; "hello" at 0x80 (length + one padded word); the 33-byte blob at 0xc0
   * (length + two padded words). */
  g_assert_cmpuint (g_bytes_get_size (call), ==, KILN_ABI_SELECTOR_SIZE + 9 * WORD);
  assert_word (call, 0, "80");
  assert_word (call, 1, "c0");
  assert_word (call, 2, "1");
  assert_word (call, 3, "7");
  assert_word (call, 4, "5");
  assert_word (call, 5, "68656c6c6f000000000000000000000000000000000000000000000000000000");
  assert_word (call, 6, "21");
  assert_word (call, 7, "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
  assert_word (call, 8, "cd00000000000000000000000000000000000000000000000000000000000000");
}

static void
test_encoder_misuse (void)
{
  KilnUint256 one = KILN_UINT256_INIT (1);

  g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*Unsupported ABI signature*");
  g_assert_null (kiln_abi_encoder_new ("transfer(address,uint)"));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*Unsupported ABI signature*");
  g_assert_null (kiln_abi_encoder_new ("transfer(address, uint256)"));
  g_test_assert_expected_messages ();

  {
    g_autoptr(KilnAbiEncoder) encoder = kiln_abi_encoder_new ("balanceOf(address)");

    g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*Argument 1 of balanceOf(address)*");
    kiln_abi_encoder_add_uint256 (encoder, &one);
    g_test_assert_expected_messages ();

    g_test_expect_message ("Kiln", G_LOG_LEVEL_CRITICAL, "*takes 1 arguments but 0*");
    g_assert_null (kiln_abi_encoder_finish (encoder));
    g_test_assert_expected_messages ();
  }
}

static void
test_decode_values (void)
{
  g_autoptr(GError) error = NULL;
  guint8 word[WORD] = { 0 };
  KilnUint256 value;
  KilnAddress addr;
  gboolean flag = FALSE;
  g_autofree char *addr_text = NULL;
  g_autofree char *addr_lower = NULL;

  hex_decode ("00000000000000000000000000000000000000000000000029a2241af62c0000", word, WORD);
  g_assert_true (kiln_abi_decode_uint256 (word, WORD, &value, &error));
  g_assert_no_error (error);
  {
    g_autofree char *text = kiln_uint256_format_units (&value, 18);
    g_assert_cmpstr (text, ==, "3");
  }

  g_assert_false (kiln_abi_decode_uint256 (word, WORD - 1, &value, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
  g_clear_error (&error);
  g_assert_false (kiln_abi_decode_uint256 (NULL, 0, &value, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
  g_clear_error (&error);

  memset (word, 0, WORD);
  word[WORD - 1] = 1;
  g_assert_true (kiln_abi_decode_bool (word, WORD, &flag, &error));
  g_assert_true (flag);
  word[WORD - 1] = 0;
  g_assert_true (kiln_abi_decode_bool (word, WORD, &flag, &error));
  g_assert_false (flag);
  word[WORD - 1] = 2;
  g_assert_false (kiln_abi_decode_bool (word, WORD, &flag, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
  g_clear_error (&error);
  word[WORD - 1] = 1;
  word[0] = 1;
  g_assert_false (kiln_abi_decode_bool (word, WORD, &flag, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
  g_clear_error (&error);

  hex_decode ("000000000000000000000000574bbb36871ba6b78e27f4b4dcfb76ea0091880b", word, WORD);
  g_assert_true (kiln_abi_decode_address (word, WORD, &addr, &error));
  g_assert_no_error (error);
  addr_text = kiln_address_to_string (&addr);
  addr_lower = g_ascii_strdown (addr_text, -1);
  g_assert_cmpstr (addr_lower, ==, "0x574bbb36871ba6b78e27f4b4dcfb76ea0091880b");
  word[11] = 1;
  g_assert_false (kiln_abi_decode_address (word, WORD, &addr, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
}

static void
assert_revert_fails (const char *hex)
{
  g_autoptr(GBytes) data = bytes_from_hex (hex);
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;

  reason = kiln_abi_decode_revert_reason (g_bytes_get_data (data, NULL),
                                          g_bytes_get_size (data), &error);
  g_assert_null (reason);
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_ABI);
}

static void
test_decode_revert (void)
{
  /* The Solidity documentation's revert("Not enough Ether provided."). */
  g_autoptr(GBytes) data = bytes_from_hex (
    "08c379a0"
    "0000000000000000000000000000000000000000000000000000000000000020"
    "000000000000000000000000000000000000000000000000000000000000001a"
    "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000");
  g_autoptr(GBytes) panic = bytes_from_hex (
    "4e487b71"
    "0000000000000000000000000000000000000000000000000000000000000011");
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *panic_reason = NULL;

  reason = kiln_abi_decode_revert_reason (g_bytes_get_data (data, NULL),
                                          g_bytes_get_size (data), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reason, ==, "Not enough Ether provided.");

  panic_reason = kiln_abi_decode_revert_reason (g_bytes_get_data (panic, NULL),
                                                g_bytes_get_size (panic), &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (panic_reason, "overflow"));
  g_assert_nonnull (strstr (panic_reason, "0x11"));

  assert_revert_fails ("");
  assert_revert_fails ("08c379");
  assert_revert_fails ("deadbeef");
  /* Offset beyond the data. */
  assert_revert_fails ("08c379a0"
                       "0000000000000000000000000000000000000000000000000000000000000040"
                       "0000000000000000000000000000000000000000000000000000000000000001");
  /* Length beyond the data. */
  assert_revert_fails ("08c379a0"
                       "0000000000000000000000000000000000000000000000000000000000000020"
                       "0000000000000000000000000000000000000000000000000000000000000021"
                       "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000");
  /* A huge offset must not wrap around. */
  assert_revert_fails ("08c379a0"
                       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0"
                       "0000000000000000000000000000000000000000000000000000000000000001");
  /* A panic without its code. */
  assert_revert_fails ("4e487b71");
}

static void
test_decode_revert_invalid_utf8 (void)
{
  g_autoptr(GBytes) data = bytes_from_hex (
    "08c379a0"
    "0000000000000000000000000000000000000000000000000000000000000020"
    "0000000000000000000000000000000000000000000000000000000000000004"
    "41ff0042" "00000000000000000000000000000000000000000000000000000000");
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;

  reason = kiln_abi_decode_revert_reason (g_bytes_get_data (data, NULL),
                                          g_bytes_get_size (data), &error);
  g_assert_no_error (error);
  g_assert_true (g_utf8_validate (reason, -1, NULL));
  g_assert_true (g_str_has_prefix (reason, "A"));
  g_assert_true (g_str_has_suffix (reason, "B"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/abi/selectors", test_selectors);
  g_test_add_func ("/kiln/abi/encode/erc20", test_erc20_calls);
  g_test_add_func ("/kiln/abi/encode/pay-batch", test_pay_batch);
  g_test_add_func ("/kiln/abi/encode/dynamic-bytes", test_dynamic_bytes);
  g_test_add_func ("/kiln/abi/encode/misuse", test_encoder_misuse);
  g_test_add_func ("/kiln/abi/decode/values", test_decode_values);
  g_test_add_func ("/kiln/abi/decode/revert", test_decode_revert);
  g_test_add_func ("/kiln/abi/decode/revert-invalid-utf8", test_decode_revert_invalid_utf8);

  return g_test_run ();
}
