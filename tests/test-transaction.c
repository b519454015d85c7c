/* test-transaction.c: legacy EIP-155 and EIP-1559 transactions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "libkiln.h"

/* The example of EIP-155 itself. */
#define EIP155_KEY          "4646464646464646464646464646464646464646464646464646464646464646"
#define EIP155_SENDER       "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"
#define EIP155_SIGNING_DATA "ec098504a817c800825208943535353535353535353535353535353535353535" \
                            "880de0b6b3a764000080018080"
#define EIP155_SIGNING_HASH "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
#define EIP155_SIGNED       "f86c098504a817c800825208943535353535353535353535353535353535353535" \
                            "880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c" \
                            "71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc" \
                            "64214b297fb1966a3b6d83"
#define EIP155_HASH         "33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788"

/* A type 2 ERC-20 transfer signed with the same key by ethers 6.17.0
 * (Wallet.signTransaction: chain 1337, nonce 7, tip 1.5 gwei, max fee 30 gwei, gas 60000). */
#define TYPE2_SIGNED "02f8b2820539078459682f008506fc23ac0082ea609435353535353535353535353535" \
                     "3535353535353580b844a9059cbb000000000000000000000000574bbb36871ba6b78e" \
                     "27f4b4dcfb76ea0091880b000000000000000000000000000000000000000000000000" \
                     "000000000bebc200c080a004f26130db7c1301d6b1cbbe4fa805f9ef76aba41eb9017c" \
                     "c0f707e5e1d0b3c4a03a1f22548a818766a2988e8be0dd7106512bd5af4fa4b1e66ee1" \
                     "97a3a6978912"
#define TYPE2_HASH   "43d58b6526a94ff8fcd93bf25fdcd677bcae8e0ecccf55e67bfc8b44c0113ac1"

/* The order of secp256k1's group. */
#define SECP256K1_N "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

static GBytes *
bytes_from_hex (const char *hex)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  guint8 *data;

  if (g_str_has_prefix (hex, "0x"))
    hex += 2;
  len = strlen (hex) / 2;
  if (len == 0)
    return g_bytes_new (NULL, 0);

  data = g_malloc (len);
  g_assert_true (kiln_hex_decode (hex, data, len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
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

static void
assert_digest_hex (const guint8  digest[32],
                   const char   *expected_hex)
{
  g_autofree char *hex = kiln_hex_encode (digest, 32);

  g_assert_cmpstr (hex, ==, expected_hex);
}

static KilnKey *
key_from_hex (const char *hex)
{
  g_autoptr(GError) error = NULL;
  KilnKey *key = kiln_key_new_from_hex (hex, &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
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

static KilnUint256
uint256 (const char *text)
{
  g_autoptr(GError) error = NULL;
  KilnUint256 out;

  g_assert_true (kiln_uint256_parse (&out, text, &error));
  g_assert_no_error (error);
  return out;
}

static void
assert_uint256 (const KilnUint256 *value,
                const char        *expected_decimal)
{
  g_autofree char *text = kiln_uint256_to_string (value);

  g_assert_cmpstr (text, ==, expected_decimal);
}

static void
assert_sender (KilnTransaction *tx,
               const char      *expected)
{
  g_autofree char *text = kiln_address_to_string (kiln_transaction_get_sender (tx));

  g_assert_cmpstr (text, ==, expected);
}

static KilnTransaction *
decode_hex (const char  *hex,
            GError     **error)
{
  g_autoptr(GBytes) raw = bytes_from_hex (hex);

  return kiln_transaction_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), error);
}

static KilnTransaction *
eip155_example (void)
{
  KilnTransaction *tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_LEGACY, 1);
  KilnAddress to = address ("0x3535353535353535353535353535353535353535");
  KilnUint256 gas_price = uint256 ("20000000000");
  KilnUint256 value = uint256 ("1000000000000000000");

  kiln_transaction_set_nonce (tx, 9);
  kiln_transaction_set_gas_price (tx, &gas_price);
  kiln_transaction_set_gas_limit (tx, 21000);
  kiln_transaction_set_to (tx, &to);
  kiln_transaction_set_value (tx, &value);

  return tx;
}

static void
test_eip155_example (void)
{
  g_autoptr(KilnTransaction) tx = eip155_example ();
  g_autoptr(KilnKey) key = key_from_hex (EIP155_KEY);
  g_autoptr(GBytes) signing_data = kiln_transaction_encode_for_signing (tx);
  g_autoptr(GBytes) signed_raw = NULL;
  g_autoptr(GError) error = NULL;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  assert_bytes_hex (signing_data, EIP155_SIGNING_DATA);
  kiln_transaction_get_signing_hash (tx, digest);
  assert_digest_hex (digest, EIP155_SIGNING_HASH);

  g_assert_false (kiln_transaction_is_signed (tx));
  g_assert_true (kiln_transaction_sign (tx, key, &error));
  g_assert_no_error (error);
  g_assert_true (kiln_transaction_is_signed (tx));

  signed_raw = kiln_transaction_encode_signed (tx);
  assert_bytes_hex (signed_raw, EIP155_SIGNED);
  kiln_transaction_get_hash (tx, digest);
  assert_digest_hex (digest, EIP155_HASH);
  assert_sender (tx, EIP155_SENDER);

  /* v = 37: recovery id 0 + 1 * 2 + 35. */
  kiln_transaction_get_signature (tx, signature);
  g_assert_cmpuint (signature[64], ==, 0);

  /* Changing a field drops the signature. */
  kiln_transaction_set_nonce (tx, 10);
  g_assert_false (kiln_transaction_is_signed (tx));
}

static void
test_decode_legacy (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnTransaction) tx = decode_hex (EIP155_SIGNED, &error);
  g_autoptr(GBytes) again = NULL;
  g_autofree char *to = NULL;
  KilnUint256 value;
  guint8 digest[32];

  g_assert_no_error (error);
  g_assert_nonnull (tx);
  g_assert_cmpint (kiln_transaction_get_tx_type (tx), ==, KILN_TRANSACTION_TYPE_LEGACY);
  g_assert_cmpuint (kiln_transaction_get_chain_id (tx), ==, 1);
  g_assert_cmpuint (kiln_transaction_get_nonce (tx), ==, 9);
  g_assert_cmpuint (kiln_transaction_get_gas_limit (tx), ==, 21000);
  kiln_transaction_get_gas_price (tx, &value);
  assert_uint256 (&value, "20000000000");
  kiln_transaction_get_value (tx, &value);
  assert_uint256 (&value, "1000000000000000000");
  to = kiln_address_to_string (kiln_transaction_get_to (tx));
  g_assert_cmpstr (to, ==, "0x3535353535353535353535353535353535353535");
  g_assert_cmpuint (g_bytes_get_size (kiln_transaction_get_data (tx)), ==, 0);
  assert_sender (tx, EIP155_SENDER);

  kiln_transaction_get_signing_hash (tx, digest);
  assert_digest_hex (digest, EIP155_SIGNING_HASH);
  kiln_transaction_get_hash (tx, digest);
  assert_digest_hex (digest, EIP155_HASH);
  again = kiln_transaction_encode_signed (tx);
  assert_bytes_hex (again, EIP155_SIGNED);
}

static GBytes *
transfer_data (void)
{
  KilnAddress to = address ("0x574bbb36871ba6b78e27f4b4dcfb76ea0091880b");
  KilnUint256 amount = KILN_UINT256_INIT (200000000);

  return kiln_abi_encode_transfer (&to, &amount);
}

static KilnTransaction *
type2_transfer (void)
{
  KilnTransaction *tx = kiln_transaction_new (KILN_TRANSACTION_TYPE_EIP1559, 1337);
  KilnAddress token = address ("0x3535353535353535353535353535353535353535");
  KilnUint256 tip = uint256 ("1500000000");
  KilnUint256 max_fee = uint256 ("30000000000");
  g_autoptr(GBytes) data = transfer_data ();

  kiln_transaction_set_nonce (tx, 7);
  kiln_transaction_set_max_priority_fee_per_gas (tx, &tip);
  kiln_transaction_set_max_fee_per_gas (tx, &max_fee);
  kiln_transaction_set_gas_limit (tx, 60000);
  kiln_transaction_set_to (tx, &token);
  kiln_transaction_set_data (tx, data);

  return tx;
}

static void
test_type2_sign_and_decode (void)
{
  g_autoptr(KilnTransaction) tx = type2_transfer ();
  g_autoptr(KilnTransaction) decoded = NULL;
  g_autoptr(KilnKey) key = key_from_hex (EIP155_KEY);
  g_autoptr(GBytes) signing = kiln_transaction_encode_for_signing (tx);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) data = transfer_data ();
  g_autoptr(GError) error = NULL;
  KilnUint256 value;
  guint8 hash[32], decoded_hash[32];

  /* 0x02 || rlp([chainId, nonce, tip, maxFee, gas, to, value, data, accessList]) */
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (signing, NULL))[0], ==, 0x02);

  g_assert_true (kiln_transaction_sign (tx, key, &error));
  g_assert_no_error (error);
  raw = kiln_transaction_encode_signed (tx);
  assert_bytes_hex (raw, TYPE2_SIGNED);
  kiln_transaction_get_hash (tx, hash);
  assert_digest_hex (hash, TYPE2_HASH);

  decoded = kiln_transaction_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
                                     &error);
  g_assert_no_error (error);
  g_assert_nonnull (decoded);
  g_assert_cmpint (kiln_transaction_get_tx_type (decoded), ==, KILN_TRANSACTION_TYPE_EIP1559);
  g_assert_cmpuint (kiln_transaction_get_chain_id (decoded), ==, 1337);
  g_assert_cmpuint (kiln_transaction_get_nonce (decoded), ==, 7);
  g_assert_cmpuint (kiln_transaction_get_gas_limit (decoded), ==, 60000);
  kiln_transaction_get_max_priority_fee_per_gas (decoded, &value);
  assert_uint256 (&value, "1500000000");
  kiln_transaction_get_max_fee_per_gas (decoded, &value);
  assert_uint256 (&value, "30000000000");
  kiln_transaction_get_value (decoded, &value);
  g_assert_true (kiln_uint256_is_zero (&value));
  g_assert_true (g_bytes_equal (kiln_transaction_get_data (decoded), data));
  assert_bytes_hex (kiln_transaction_get_access_list (decoded), "c0");
  g_assert_true (kiln_address_equal (kiln_transaction_get_sender (decoded),
                                     kiln_key_get_address (key)));
  kiln_transaction_get_hash (decoded, decoded_hash);
  g_assert_cmpmem (decoded_hash, 32, hash, 32);
}

static void
test_fresh_key_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnKey) key = kiln_key_generate (&error);

  g_assert_no_error (error);

  for (guint type = 0; type < 2; type++)
    {
      g_autoptr(KilnTransaction) tx =
        type == 0 ? eip155_example () : type2_transfer ();
      g_autoptr(KilnTransaction) decoded = NULL;
      g_autoptr(GBytes) raw = NULL;
      g_autoptr(GBytes) again = NULL;

      /* Contract creation: no recipient. */
      kiln_transaction_set_to (tx, NULL);
      kiln_transaction_set_chain_id (tx, 11155111);
      g_assert_true (kiln_transaction_sign (tx, key, &error));
      g_assert_no_error (error);
      raw = kiln_transaction_encode_signed (tx);

      decoded = kiln_transaction_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
                                         &error);
      g_assert_no_error (error);
      g_assert_null (kiln_transaction_get_to (decoded));
      g_assert_cmpuint (kiln_transaction_get_chain_id (decoded), ==, 11155111);
      g_assert_true (kiln_address_equal (kiln_transaction_get_sender (decoded),
                                         kiln_key_get_address (key)));
      again = kiln_transaction_encode_signed (decoded);
      g_assert_true (g_bytes_equal (again, raw));
      g_assert_finalize_object (g_steal_pointer (&decoded));
      g_assert_finalize_object (g_steal_pointer (&tx));
    }
}

/* Before EIP-155, legacy transactions signed six fields and carried v = 27 or 28. Kiln never
 * makes them but reads them. */
static void
test_decode_pre_eip155 (void)
{
  g_autoptr(KilnTransaction) tx = eip155_example ();
  g_autoptr(KilnTransaction) decoded = NULL;
  g_autoptr(KilnKey) key = key_from_hex (EIP155_KEY);
  g_autoptr(GBytes) signing = NULL;
  g_autoptr(GByteArray) fields = g_byte_array_new ();
  g_autoptr(GByteArray) raw = g_byte_array_new ();
  g_autoptr(KilnRlpItem) unsigned_list = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GError) error = NULL;
  KilnUint256 r, s;
  guint8 digest[32];
  guint8 signature[KILN_SIGNATURE_SIZE];

  kiln_transaction_set_chain_id (tx, 0);
  signing = kiln_transaction_encode_for_signing (tx);
  unsigned_list = kiln_rlp_decode (g_bytes_get_data (signing, NULL), g_bytes_get_size (signing),
                                   &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_rlp_item_get_n_children (unsigned_list), ==, 6);

  kiln_transaction_get_signing_hash (tx, digest);
  g_assert_true (kiln_key_sign_digest (key, digest, signature, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (signature[64], <=, 1);

  kiln_uint256_from_be_bytes (&r, signature);
  kiln_uint256_from_be_bytes (&s, signature + 32);
  g_byte_array_append (fields, unsigned_list->data, (guint) unsigned_list->len);
  kiln_rlp_append_uint64 (fields, 27 + signature[64]);
  kiln_rlp_append_uint256 (fields, &r);
  kiln_rlp_append_uint256 (fields, &s);
  kiln_rlp_append_list (raw, fields->data, fields->len);

  decoded = kiln_transaction_decode (raw->data, raw->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kiln_transaction_get_chain_id (decoded), ==, 0);
  g_assert_cmpuint (kiln_transaction_get_nonce (decoded), ==, 9);
  assert_sender (decoded, EIP155_SENDER);
  again = kiln_transaction_encode_signed (decoded);
  g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again), raw->data, raw->len);
  g_assert_finalize_object (g_steal_pointer (&decoded));
}

static void
test_sign_refusals (void)
{
  g_autoptr(KilnTransaction) tx = eip155_example ();
  g_autoptr(KilnKey) key = key_from_hex (EIP155_KEY);
  g_autoptr(GError) error = NULL;

  kiln_transaction_set_chain_id (tx, 0);
  g_assert_false (kiln_transaction_sign (tx, key, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_INVALID_TRANSACTION);
  g_assert_false (kiln_transaction_is_signed (tx));
  g_clear_error (&error);

  kiln_transaction_set_chain_id (tx, G_MAXUINT64);
  g_assert_false (kiln_transaction_sign (tx, key, &error));
  g_assert_error (error, KILN_ETH_ERROR, KILN_ETH_ERROR_UNSUPPORTED);
}

/* Rebuilds the legacy EIP-155 example with field @index replaced by @encoded_hex. */
static char *
replace_legacy_field (guint       index,
                      const char *encoded_hex)
{
  g_autoptr(GBytes) raw = bytes_from_hex (EIP155_SIGNED);
  g_autoptr(GBytes) replacement = bytes_from_hex (encoded_hex);
  g_autoptr(KilnRlpItem) list = NULL;
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  list = kiln_rlp_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), &error);
  g_assert_no_error (error);

  for (guint i = 0; i < kiln_rlp_item_get_n_children (list); i++)
    {
      const KilnRlpItem *child = kiln_rlp_item_get_child (list, i);

      if (i == index)
        g_byte_array_append (payload, g_bytes_get_data (replacement, NULL),
                             (guint) g_bytes_get_size (replacement));
      else
        g_byte_array_append (payload, child->encoded, (guint) child->encoded_len);
    }

  kiln_rlp_append_list (out, payload->data, payload->len);
  return kiln_hex_encode (out->data, out->len);
}

static void
assert_rejected (const char *hex,
                 gint        code,
                 const char *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnTransaction) tx = decode_hex (hex, &error);

  g_assert_null (tx);
  g_assert_error (error, KILN_ETH_ERROR, code);
  g_test_message ("%.40s…: %s", hex, error->message);
  if (message_part != NULL && strstr (error->message, message_part) == NULL)
    g_error ("“%s” lacks “%s”", error->message, message_part);
}

static void
test_decode_malformed (void)
{
  const gint invalid = KILN_ETH_ERROR_INVALID_TRANSACTION;
  g_autofree char *truncated = g_strndup (EIP155_SIGNED, strlen (EIP155_SIGNED) - 2);
  g_autofree char *trailing = g_strconcat (EIP155_SIGNED, "00", NULL);
  g_autofree char *type2_trailing = g_strconcat (TYPE2_SIGNED, "00", NULL);
  g_autofree char *nonce_zero_padded = replace_legacy_field (0, "820009");
  g_autofree char *nonce_as_list = replace_legacy_field (0, "c109");
  g_autofree char *short_to = replace_legacy_field (3, "9335353535353535353535353535353535353535");
  g_autofree char *bad_v = replace_legacy_field (6, "1d");
  g_autofree char *zero_r = replace_legacy_field (7, "80");
  g_autofree char *huge_nonce = replace_legacy_field (0, "89010000000000000000");
  g_autofree char *high_s = NULL;
  g_autofree char *tampered = NULL;
  g_autofree char *typed_1 = g_strconcat ("01", EIP155_SIGNED, NULL);
  g_autofree char *oversized = NULL;

  assert_rejected ("", invalid, "empty");
  assert_rejected (truncated, invalid, "Malformed RLP");
  assert_rejected (trailing, invalid, "unexpected bytes");
  assert_rejected (type2_trailing, invalid, "unexpected bytes");
  assert_rejected ("8180", invalid, "byte string");
  assert_rejected ("c3010203", invalid, "3 fields instead of 9");
  assert_rejected (typed_1, KILN_ETH_ERROR_UNSUPPORTED, "type 1");
  assert_rejected ("03c0", KILN_ETH_ERROR_UNSUPPORTED, "type 3");
  assert_rejected ("02c0", invalid, "0 fields instead of 12");
  assert_rejected ("0280", invalid, "byte string");
  assert_rejected ("02", invalid, "empty");
  assert_rejected (nonce_zero_padded, invalid, "leading zero");
  assert_rejected (nonce_as_list, invalid, "nonce");
  assert_rejected (huge_nonce, invalid, "nonce");
  assert_rejected (short_to, invalid, "19 bytes long");
  assert_rejected (bad_v, invalid, "v value 29");
  assert_rejected (zero_r, invalid, "signature is not valid");

  /* s' = n - s with the other parity is the same signature's high-S twin (EIP-2). */
  {
    KilnUint256 n = uint256 (SECP256K1_N);
    KilnUint256 s = uint256 ("0x67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
    KilnUint256 high;
    guint8 bytes[32];
    g_autofree char *s_hex = NULL;
    g_autofree char *field = NULL;
    g_autofree char *with_high_s = NULL;
    g_autofree char *parity_flipped = NULL;

    g_assert_true (kiln_uint256_sub (&high, &n, &s));
    kiln_uint256_to_be_bytes (&high, bytes);
    s_hex = kiln_hex_encode (bytes, 32);
    field = g_strconcat ("a0", s_hex, NULL);
    with_high_s = replace_legacy_field (8, field);
    parity_flipped = g_strdup (with_high_s);
    {
      /* v is at a fixed position in this encoding: 0x25 (37) becomes 0x26 (38). */
      char *v = strstr (parity_flipped, "8025a0");
      g_assert_nonnull (v);
      v[3] = '6';
    }
    high_s = g_steal_pointer (&parity_flipped);
    assert_rejected (high_s, invalid, "upper half");
  }

  /* A changed field still decodes, but to another sender. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(KilnTransaction) tx = NULL;
    g_autofree char *sender = NULL;

    tampered = replace_legacy_field (4, "880de0b6b3a7640001");
    tx = decode_hex (tampered, &error);
    g_assert_no_error (error);
    sender = kiln_address_to_string (kiln_transaction_get_sender (tx));
    g_assert_cmpstr (sender, !=, EIP155_SENDER);
  }

  {
    g_autoptr(GBytes) big = NULL;
    guint8 *data = g_malloc0 (KILN_TRANSACTION_MAX_SIZE + 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(KilnTransaction) tx = NULL;

    data[0] = 0xc0;
    big = g_bytes_new_take (data, KILN_TRANSACTION_MAX_SIZE + 1);
    tx = kiln_transaction_decode (g_bytes_get_data (big, NULL), g_bytes_get_size (big), &error);
    g_assert_null (tx);
    g_assert_error (error, KILN_ETH_ERROR, invalid);
    oversized = g_strdup (error->message);
    g_assert_nonnull (strstr (oversized, "bytes long"));
  }
}

/* Writes a few signed transactions and has ethers parse them independently. */
static void
test_ethers_cross_check (void)
{
  g_autofree char *root = g_test_build_filename (G_TEST_DIST, "..", NULL);
  g_autofree char *ethers = g_build_filename (root, "node_modules", "ethers", "package.json",
                                              NULL);
  g_autofree char *node = g_find_program_in_path ("node");
  g_autoptr(KilnKey) key = NULL;
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *output = NULL;
  g_autofree char *errors = NULL;
  int fd, status = 0;
  const char *script =
    "const { Transaction } = require ('ethers');\n"
    "const fs = require ('fs');\n"
    "for (const raw of fs.readFileSync (process.argv[1], 'utf8').trim ().split ('\\n')) {\n"
    "  const tx = Transaction.from (raw);\n"
    "  console.log ([tx.type, tx.from, tx.chainId, tx.nonce, tx.gasLimit, tx.gasPrice ?? '-',\n"
    "                tx.maxPriorityFeePerGas ?? '-', tx.maxFeePerGas ?? '-', tx.to ?? '-',\n"
    "                tx.value, tx.data, tx.hash].join (' '));\n"
    "}\n";

  if (!g_file_test (ethers, G_FILE_TEST_EXISTS) || node == NULL)
    {
      g_test_skip ("ethers is not installed in node_modules (npm ci at the top of the tree)");
      return;
    }

  key = kiln_key_generate (&error);
  g_assert_no_error (error);

  for (guint i = 0; i < 4; i++)
    {
      g_autoptr(KilnTransaction) tx = i % 2 == 0 ? eip155_example () : type2_transfer ();
      g_autoptr(GBytes) raw = NULL;
      g_autoptr(GBytes) data = NULL;
      g_autofree char *raw_hex = NULL;
      g_autofree char *data_hex = NULL;
      g_autofree char *hash_hex = NULL;
      g_autofree char *to = NULL;
      g_autofree char *value_text = NULL;
      g_autofree char *price = NULL;
      g_autofree char *tip = NULL;
      g_autofree char *max_fee = NULL;
      KilnUint256 value, fee;
      guint8 hash[32];
      guint8 payload[100];

      /* Vary the fields: data on every transaction, a big value, a creation. */
      for (guint b = 0; b < sizeof payload; b++)
        payload[b] = (guint8) (b * 7 + i);
      data = g_bytes_new (payload, sizeof payload - i * 10);
      kiln_transaction_set_data (tx, data);
      kiln_transaction_set_nonce (tx, 1000 + i * G_GUINT64_CONSTANT (1000000007));
      kiln_transaction_set_chain_id (tx, i < 2 ? 1 : 31337);
      value = uint256 (i == 2 ? "0xffffffffffffffffffffffffffffffff" : "123456789");
      kiln_transaction_set_value (tx, &value);
      if (i == 3)
        kiln_transaction_set_to (tx, NULL);

      g_assert_true (kiln_transaction_sign (tx, key, &error));
      g_assert_no_error (error);
      raw = kiln_transaction_encode_signed (tx);
      raw_hex = kiln_hex_encode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
      g_string_append_printf (input, "0x%s\n", raw_hex);

      kiln_transaction_get_hash (tx, hash);
      hash_hex = kiln_hex_encode (hash, 32);
      data_hex = kiln_hex_encode (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
      to = kiln_transaction_get_to (tx) != NULL
             ? kiln_address_to_string (kiln_transaction_get_to (tx)) : g_strdup ("-");
      value_text = kiln_uint256_to_string (&value);
      if (kiln_transaction_get_tx_type (tx) == KILN_TRANSACTION_TYPE_LEGACY)
        {
          kiln_transaction_get_gas_price (tx, &fee);
          price = kiln_uint256_to_string (&fee);
          tip = g_strdup ("-");
          max_fee = g_strdup ("-");
        }
      else
        {
          price = g_strdup ("-");
          kiln_transaction_get_max_priority_fee_per_gas (tx, &fee);
          tip = kiln_uint256_to_string (&fee);
          kiln_transaction_get_max_fee_per_gas (tx, &fee);
          max_fee = kiln_uint256_to_string (&fee);
        }

      g_string_append_printf (expected,
                              "%d %s %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                              " %" G_GUINT64_FORMAT " %s %s %s %s %s 0x%s 0x%s\n",
                              kiln_transaction_get_tx_type (tx),
                              kiln_key_get_address_string (key),
                              kiln_transaction_get_chain_id (tx),
                              kiln_transaction_get_nonce (tx),
                              kiln_transaction_get_gas_limit (tx),
                              price, tip, max_fee, to, value_text, data_hex, hash_hex);
    }

  fd = g_file_open_tmp ("kiln-transactions-XXXXXX.txt", &path, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, input->str, -1, &error));
  g_assert_no_error (error);

  {
    const char *argv[] = { node, "-e", script, path, NULL };

    g_assert_true (g_spawn_sync (root, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                 &output, &errors, &status, &error));
  }
  g_assert_no_error (error);
  g_unlink (path);

  if (!g_spawn_check_wait_status (status, &error))
    g_error ("node failed: %s\n%s", error->message, errors);
  g_test_message ("ethers read:\n%s", output);
  g_assert_cmpstr (output, ==, expected->str);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kiln/transaction/eip155-example", test_eip155_example);
  g_test_add_func ("/kiln/transaction/decode/legacy", test_decode_legacy);
  g_test_add_func ("/kiln/transaction/decode/pre-eip155", test_decode_pre_eip155);
  g_test_add_func ("/kiln/transaction/type2", test_type2_sign_and_decode);
  g_test_add_func ("/kiln/transaction/fresh-key-round-trip", test_fresh_key_round_trip);
  g_test_add_func ("/kiln/transaction/sign-refusals", test_sign_refusals);
  g_test_add_func ("/kiln/transaction/decode/malformed", test_decode_malformed);
  g_test_add_func ("/kiln/transaction/ethers", test_ethers_cross_check);

  return g_test_run ();
}
