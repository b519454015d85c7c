/* test-market-bodies.c: the JSON and signed bodies of the market's link messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "libkiln.h"
#include "kiln-market-bodies.h"
#include "kiln-test-market.h"

#define NOW KILN_TEST_MARKET_NOW
#define GNT KILN_TEST_GNT

static const char *id_a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char *id_b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* @template with "@A" and "@B" replaced by id_a and id_b. */
static char *
fill_ids (const char *template)
{
  GString *text = g_string_new (template);

  g_string_replace (text, "@A", id_a, 0);
  g_string_replace (text, "@B", id_b, 0);
  return g_string_free (text, FALSE);
}

static void
fill_id (guint8 *id,
         guint8  value)
{
  memset (id, value, KILN_MARKET_ID_SIZE);
}

/* An announcement, an offer and terms for subtask 3 of it. */
typedef struct
{
  KilnKey              *requestor;
  KilnKey              *provider;
  KilnTaskAnnouncement *announcement;
  KilnOffer            *offer;
  KilnTerms            *terms;
  KilnSubtask          *subtask;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  KilnUint256 price = kiln_test_u256 (GNT);
  g_autoptr(GError) error = NULL;
  const guint indices[] = { 3 };

  fixture->requestor = kiln_test_market_key ();
  fixture->provider = kiln_test_market_key ();
  fixture->announcement = kiln_test_market_announcement (fixture->requestor);
  fixture->offer = kiln_test_market_offer (fixture->announcement, fixture->provider, &price, 4,
                                           5000, 1);
  fixture->terms = kiln_terms_propose (fixture->announcement, fixture->offer, indices, 1, NULL,
                                       fixture->requestor, NOW + 10, 300, &error);
  g_assert_no_error (error);

  fixture->subtask = kiln_subtask_new ();
  fixture->subtask->index = 3;
  fixture->subtask->frame_start = 4;
  fixture->subtask->frame_end = 4;
  fixture->subtask->frame_step = 1;
  fixture->subtask->width = 160;
  fixture->subtask->height = 120;
  fixture->subtask->samples = 4;
  fixture->subtask->format = KILN_IMAGE_FORMAT_PNG;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_pointer (&fixture->subtask, kiln_subtask_free);
  g_clear_object (&fixture->terms);
  g_clear_object (&fixture->offer);
  g_clear_object (&fixture->announcement);
  g_clear_object (&fixture->provider);
  g_clear_object (&fixture->requestor);
}

static KilnAssignBody *
make_assign (Fixture *fixture)
{
  KilnAssignBody *assign = kiln_assign_body_new (fixture->terms, fixture->subtask, NOW + 900);
  guint8 hash[KILN_MARKET_HASH_SIZE];

  fill_id (hash, 0xb1);
  kiln_assign_body_add_resource (assign, "scene.blend", hash, 812345);
  fill_id (hash, 0x7e);
  kiln_assign_body_add_resource (assign, "wood texture.png", hash, 0);
  return assign;
}

/* The ASSIGN body of @fixture as a JSON object, to alter. */
static JsonObject *
assign_object (Fixture *fixture)
{
  g_autoptr(KilnAssignBody) assign = make_assign (fixture);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  bytes = kiln_assign_body_encode (assign, &error);
  g_assert_no_error (error);
  json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL),
                              (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static GBytes *
object_bytes (JsonObject *object)
{
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  char *data;
  gsize len;

  json_node_set_object (root, object);
  data = json_to_string (root, FALSE);
  len = strlen (data);
  return g_bytes_new_take (data, len);
}

static void
assert_assign_refused (JsonObject *object)
{
  g_autoptr(GBytes) bytes = object_bytes (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnAssignBody) assign = kiln_assign_body_decode (bytes, &error);

  g_assert_null (assign);
  g_assert_nonnull (error);
  g_assert_true (error->domain == KILN_MARKET_ERROR);
  g_test_message ("refused: %s", error->message);
}

static void
test_assign_round_trip (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(KilnAssignBody) assign = make_assign (fixture);
  g_autoptr(KilnAssignBody) decoded = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  const KilnMarketFile *file;

  bytes = kiln_assign_body_encode (assign, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), <=,
                    kiln_message_type_get_body_max (KILN_MESSAGE_ASSIGN));

  decoded = kiln_assign_body_decode (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (kiln_terms_get_digest (decoded->terms), KILN_MARKET_DIGEST_SIZE,
                   kiln_terms_get_digest (fixture->terms), KILN_MARKET_DIGEST_SIZE);
  g_assert_false (kiln_terms_is_accepted (decoded->terms));
  g_assert_cmpuint (decoded->subtask->index, ==, 3);
  g_assert_cmpint (decoded->subtask->frame_start, ==, 4);
  g_assert_cmpuint (decoded->subtask->width, ==, 160);
  g_assert_cmpint (decoded->deadline, ==, NOW + 900);
  g_assert_cmpuint (decoded->resources->len, ==, 2);
  file = g_ptr_array_index (decoded->resources, 0);
  g_assert_cmpstr (file->name, ==, "scene.blend");
  g_assert_cmpuint (file->size, ==, 812345);
  g_assert_cmpuint (file->sha256[0], ==, 0xb1);
  file = g_ptr_array_index (decoded->resources, 1);
  g_assert_cmpstr (file->name, ==, "wood texture.png");
  g_assert_cmpuint (file->size, ==, 0);
}

static void
test_assign_refused (Fixture       *fixture,
                     gconstpointer  user_data)
{
  static const char * const bad_names[] = {
    "../scene.blend", "textures/wood.png", "a\\b.png", ".hidden", "..", "", "tab\there",
  };
  static const char * const bad_hashes[] = {
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaa", "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg",
  };
  g_autoptr(GError) error = NULL;

  /* Unknown and missing members, wrong types. */
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_int_member (object, "priority", 1);
    assert_assign_refused (object);
  }
  for (guint i = 0; i < 4; i++)
    {
      static const char * const members[] = { "terms", "subtask", "resources", "deadline" };
      g_autoptr(JsonObject) object = assign_object (fixture);

      json_object_remove_member (object, members[i]);
      assert_assign_refused (object);
    }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_string_member (object, "deadline", "1700000900");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_double_member (object, "deadline", 1700000900.5);
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_int_member (object, "deadline", 0);
    assert_assign_refused (object);
  }
  /* Terms that are not base64, or not terms. */
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_string_member (object, "terms", "not base64!");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_string_member (object, "terms", "AAECAw==");
    assert_assign_refused (object);
  }
  /* A subtask the terms do not name. */
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonObject *subtask = json_object_get_object_member (object, "subtask");

    json_object_set_int_member (subtask, "index", 4);
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonObject *subtask = json_object_get_object_member (object, "subtask");

    json_object_set_string_member (subtask, "script", "import os");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonObject *subtask = json_object_get_object_member (object, "subtask");

    json_object_set_int_member (json_object_get_object_member (subtask, "frames"), "every", 2);
    assert_assign_refused (object);
  }
  /* File names with paths, bad hashes, negative sizes, extra members, duplicates. */
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr(JsonObject) object = assign_object (fixture);
      JsonArray *resources = json_object_get_array_member (object, "resources");

      json_object_set_string_member (json_array_get_object_element (resources, 1), "name",
                                     bad_names[i]);
      assert_assign_refused (object);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_hashes); i++)
    {
      g_autoptr(JsonObject) object = assign_object (fixture);
      JsonArray *resources = json_object_get_array_member (object, "resources");

      json_object_set_string_member (json_array_get_object_element (resources, 1), "sha256",
                                     bad_hashes[i]);
      assert_assign_refused (object);
    }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonArray *resources = json_object_get_array_member (object, "resources");

    json_object_set_int_member (json_array_get_object_element (resources, 1), "size", -1);
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonArray *resources = json_object_get_array_member (object, "resources");

    json_object_set_string_member (json_array_get_object_element (resources, 1), "path",
                                   "/etc/passwd");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonArray *resources = json_object_get_array_member (object, "resources");

    json_object_set_string_member (json_array_get_object_element (resources, 1), "name",
                                   "scene.blend");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);
    JsonArray *resources = json_object_get_array_member (object, "resources");

    /* The .blend must come first. */
    json_object_set_string_member (json_array_get_object_element (resources, 0), "name",
                                   "scene.png");
    assert_assign_refused (object);
  }
  {
    g_autoptr(JsonObject) object = assign_object (fixture);

    json_object_set_array_member (object, "resources", json_array_new ());
    assert_assign_refused (object);
  }

  /* Not JSON, not an object, not UTF-8, too large. */
  {
    static const char * const texts[] = { "", "{", "[]", "\"terms\"", "{\"terms\": 1} x" };

    for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
      {
        g_autoptr(GBytes) bytes = text_bytes (texts[i]);
        g_autoptr(KilnAssignBody) assign = kiln_assign_body_decode (bytes, &error);

        g_assert_null (assign);
        g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
        g_clear_error (&error);
      }
  }
  {
    static const guint8 latin1[] = "{\"terms\": \"\xe9\"}";
    g_autoptr(GBytes) bytes = g_bytes_new (latin1, sizeof latin1 - 1);
    g_autoptr(KilnAssignBody) assign = kiln_assign_body_decode (bytes, &error);

    g_assert_null (assign);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }
  {
    gsize len = kiln_message_type_get_body_max (KILN_MESSAGE_ASSIGN) + 1;
    g_autofree char *big = g_malloc (len);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(KilnAssignBody) assign = NULL;

    memset (big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    bytes = g_bytes_new (big, len);
    assign = kiln_assign_body_decode (bytes, &error);
    g_assert_null (assign);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_TOO_LARGE);
    g_clear_error (&error);
  }

  /* Encoding checks the same rules. */
  {
    g_autoptr(KilnAssignBody) assign = make_assign (fixture);
    g_autoptr(GBytes) bytes = NULL;
    KilnMarketFile *file = g_ptr_array_index (assign->resources, 1);

    g_free (file->name);
    file->name = g_strdup ("../../.bashrc");
    bytes = kiln_assign_body_encode (assign, &error);
    g_assert_null (bytes);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }
  {
    g_autoptr(KilnAssignBody) assign = kiln_assign_body_new (fixture->terms, fixture->subtask,
                                                             NOW + 900);
    g_autoptr(GBytes) bytes = kiln_assign_body_encode (assign, &error);

    g_assert_null (bytes);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }
}

static void
test_accept (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnTerms) proposed = NULL;
  g_autoptr(KilnTerms) accepted = NULL;
  g_autoptr(KilnTerms) decoded = NULL;

  /* Proposed terms are no acceptance. */
  proposed = kiln_market_accept_body_decode (kiln_terms_get_bytes (fixture->terms), &error);
  g_assert_null (proposed);
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);

  accepted = kiln_terms_decode (kiln_terms_get_bytes (fixture->terms), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_accept (accepted, fixture->provider, NOW + 20, &error));
  g_assert_no_error (error);
  decoded = kiln_market_accept_body_decode (kiln_terms_get_bytes (accepted), &error);
  g_assert_no_error (error);
  g_assert_true (kiln_terms_is_accepted (decoded));

  /* Accepted terms are no assignment. */
  {
    g_autoptr(KilnAssignBody) assign = kiln_assign_body_new (accepted, fixture->subtask,
                                                             NOW + 900);
    guint8 hash[KILN_MARKET_HASH_SIZE] = { 0 };
    g_autoptr(GBytes) bytes = NULL;

    kiln_assign_body_add_resource (assign, "scene.blend", hash, 1);
    bytes = kiln_assign_body_encode (assign, &error);
    g_assert_null (bytes);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }
}

static void
test_announce_offer (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KilnTaskAnnouncement) announcement = NULL;
  g_autoptr(KilnOffer) offer = NULL;

  announcement = kiln_market_announce_body_decode (
      kiln_task_announcement_get_bytes (fixture->announcement), NOW + 1, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (kiln_task_announcement_get_digest (announcement), KILN_MARKET_DIGEST_SIZE,
                   kiln_task_announcement_get_digest (fixture->announcement),
                   KILN_MARKET_DIGEST_SIZE);
  g_clear_object (&announcement);

  /* Expired. */
  announcement = kiln_market_announce_body_decode (
      kiln_task_announcement_get_bytes (fixture->announcement), NOW + 7200, &error);
  g_assert_null (announcement);
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_EXPIRED);
  g_clear_error (&error);

  offer = kiln_market_offer_body_decode (kiln_offer_get_bytes (fixture->offer), NOW + 1, &error);
  g_assert_no_error (error);
  g_clear_object (&offer);
  /* An announcement is not an offer. */
  offer = kiln_market_offer_body_decode (kiln_task_announcement_get_bytes (fixture->announcement),
                                         NOW + 1, &error);
  g_assert_null (offer);
  g_assert_nonnull (error);
}

static void
test_result (void)
{
  g_autoptr(KilnResultBody) result = NULL;
  g_autoptr(KilnResultBody) decoded = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint8 terms[KILN_MARKET_DIGEST_SIZE], hash[KILN_MARKET_HASH_SIZE];
  const KilnMarketFile *file;

  fill_id (terms, 0x46);
  fill_id (hash, 0x99);
  result = kiln_result_body_new (terms);
  kiln_result_body_add_output (result, "frame_0004.png", hash, 2048);
  result->cpu_ms = 5230;
  result->wall_ms = 3010;
  bytes = kiln_result_body_encode (result, &error);
  g_assert_no_error (error);
  decoded = kiln_result_body_decode (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (decoded->terms, sizeof decoded->terms, terms, sizeof terms);
  g_assert_cmpuint (decoded->outputs->len, ==, 1);
  file = g_ptr_array_index (decoded->outputs, 0);
  g_assert_cmpstr (file->name, ==, "frame_0004.png");
  g_assert_cmpmem (file->sha256, sizeof file->sha256, hash, sizeof hash);
  g_assert_cmpuint (file->size, ==, 2048);
  g_assert_cmpuint (decoded->cpu_ms, ==, 5230);
  g_assert_cmpuint (decoded->wall_ms, ==, 3010);

  {
    static const char * const bad[] = {
      "{\"terms\": \"@A\", \"outputs\": [], \"cpu_ms\": 1, \"wall_ms\": 1}",
      "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"a.png\", \"sha256\": \"@B\", "
      "\"size\": 1}], \"cpu_ms\": 1.5, \"wall_ms\": 1}",
      "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"/a.png\", \"sha256\": \"@B\", "
      "\"size\": 1}], \"cpu_ms\": 1, \"wall_ms\": 1}",
      "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"a.png\", \"sha256\": \"@B\", "
      "\"size\": 1}], \"wall_ms\": 1}",
      "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"a.png\", \"sha256\": \"@B\", "
      "\"size\": 1}], \"cpu_ms\": 1, \"wall_ms\": -1}",
      "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"a.png\", \"sha256\": \"@B\", "
      "\"size\": 1}], \"cpu_ms\": 1, \"wall_ms\": 1, \"cpu_seconds\": 1}",
    };
    const char *good = "{\"terms\": \"@A\", \"outputs\": [{\"name\": \"a.png\", "
                       "\"sha256\": \"@A\", \"size\": 1}], \"cpu_ms\": 1, \"wall_ms\": 1}";
    g_autofree char *text = fill_ids (good);
    g_autoptr(GBytes) good_bytes = text_bytes (text);
    g_autoptr(KilnResultBody) ok = kiln_result_body_decode (good_bytes, &error);

    g_assert_no_error (error);
    g_assert_nonnull (ok);
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *bad_text = fill_ids (bad[i]);
        g_autoptr(GBytes) bad_bytes = text_bytes (bad_text);
        g_autoptr(KilnResultBody) refused = kiln_result_body_decode (bad_bytes, &error);

        g_assert_null (refused);
        g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
        g_clear_error (&error);
      }
  }
}

static void
test_approve_payment (void)
{
  KilnApproveBody approve = { 0 };
  KilnApproveBody decoded;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  char amount[KILN_UINT256_DECIMAL_SIZE];

  fill_id (approve.terms, 0x12);
  g_assert_true (kiln_uint256_parse (&approve.amount, "1388888888888889", NULL));
  bytes = kiln_approve_body_encode (&approve, &error);
  g_assert_no_error (error);
  g_assert_true (kiln_approve_body_decode (bytes, &decoded, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (decoded.terms, sizeof decoded.terms, approve.terms, sizeof approve.terms);
  kiln_uint256_format_decimal (&decoded.amount, amount);
  g_assert_cmpstr (amount, ==, "1388888888888889");

  {
    /* The last one is 2^256. */
    static const char * const amounts[] = {
      "\"01\"", "\"-1\"", "\"1.5\"", "\"0x10\"", "\"\"", "10", "\" 1\"",
      "\"11579208923731619542357098500868790785326998466564056403945758400791312963"
      "9936\"",
    };

    for (guint i = 0; i < G_N_ELEMENTS (amounts); i++)
      {
        g_autofree char *text = g_strdup_printf ("{\"terms\": \"%s\", \"amount\": %s}", id_a,
                                                 amounts[i]);
        g_autoptr(GBytes) bad = text_bytes (text);

        g_assert_false (kiln_approve_body_decode (bad, &decoded, &error));
        g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
        g_clear_error (&error);
      }
  }

  /* PAYMENT */
  {
    g_autoptr(KilnPaymentBody) payment = NULL;
    g_autoptr(KilnPaymentBody) paid = NULL;
    g_autoptr(GBytes) payment_bytes = NULL;
    KilnUint256 total = kiln_test_u256 (2777777777777778);
    guint8 tx[32], terms[KILN_MARKET_ID_SIZE];

    fill_id (tx, 0xee);
    payment = kiln_payment_body_new (tx, &total);
    /* No terms. */
    payment_bytes = kiln_payment_body_encode (payment, &error);
    g_assert_null (payment_bytes);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);

    fill_id (terms, 1);
    kiln_payment_body_add_terms (payment, terms);
    fill_id (terms, 2);
    kiln_payment_body_add_terms (payment, terms);
    payment_bytes = kiln_payment_body_encode (payment, &error);
    g_assert_no_error (error);
    paid = kiln_payment_body_decode (payment_bytes, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (paid->terms->len, ==, 2);
    g_assert_cmpuint (g_array_index (paid->terms, KilnMarketId, 1).bytes[0], ==, 2);
    g_assert_cmpmem (paid->tx_hash, 32, tx, 32);
    g_assert_cmpint (kiln_uint256_compare (&paid->amount, &total), ==, 0);
    g_clear_pointer (&paid, kiln_payment_body_free);

    /* The same terms twice. */
    kiln_payment_body_add_terms (payment, terms);
    g_clear_pointer (&payment_bytes, g_bytes_unref);
    payment_bytes = kiln_payment_body_encode (payment, &error);
    g_assert_null (payment_bytes);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }
  {
    g_autofree char *text = g_strdup_printf ("{\"terms\": \"%s\", \"tx_hash\": \"%s\", "
                                             "\"amount\": \"1\"}", id_a, id_b);
    g_autoptr(GBytes) bad = text_bytes (text);
    g_autoptr(KilnPaymentBody) paid = kiln_payment_body_decode (bad, &error);

    g_assert_null (paid);
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  }
}

static void
test_reject_cancel (void)
{
  g_autoptr(KilnRejectBody) reject = NULL;
  g_autoptr(KilnRejectBody) rejected = NULL;
  g_autoptr(KilnCancelBody) cancel = NULL;
  g_autoptr(KilnCancelBody) cancelled = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  guint8 ref[KILN_MARKET_ID_SIZE];

  fill_id (ref, 0x5a);
  reject = kiln_reject_body_new (ref, KILN_MARKET_REASON_OUT_OF_MEMORY,
                                 "The render ran out of memory.");
  bytes = kiln_reject_body_encode (reject, &error);
  g_assert_no_error (error);
  rejected = kiln_reject_body_decode (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (rejected->ref, sizeof rejected->ref, ref, sizeof ref);
  g_assert_cmpstr (rejected->reason, ==, "out-of-memory");
  g_assert_cmpstr (rejected->text, ==, "The render ran out of memory.");
  g_clear_pointer (&bytes, g_bytes_unref);

  /* Reason codes are short and plain; text has no control characters. */
  g_free (reject->reason);
  reject->reason = g_strdup ("Out Of Memory");
  g_assert_null (kiln_reject_body_encode (reject, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
  g_clear_error (&error);
  {
    static const char * const bad[] = {
      "{\"ref\": \"@A\", \"reason\": \"a-reason-code-that-is-far-too-long\", \"text\": \"\"}",
      "{\"ref\": \"@A\", \"reason\": \"busy\", \"text\": \"line\\nbreak\"}",
      "{\"ref\": \"@A\", \"reason\": \"busy\"}",
      "{\"ref\": \"@A\", \"reason\": \"\", \"text\": \"\"}",
      "{\"ref\": \"@A\", \"reason\": [\"busy\"], \"text\": \"\"}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *text = fill_ids (bad[i]);
        g_autoptr(GBytes) bad_bytes = text_bytes (text);
        g_autoptr(KilnRejectBody) refused = kiln_reject_body_decode (bad_bytes, &error);

        g_assert_null (refused);
        g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
        g_clear_error (&error);
      }
  }
  {
    /* An unknown but well-formed reason code is read. */
    g_autofree char *text = g_strdup_printf ("{\"ref\": \"%s\", \"reason\": \"gpu-lost-2\", "
                                             "\"text\": \"\"}", id_b);
    g_autoptr(GBytes) other = text_bytes (text);
    g_autoptr(KilnRejectBody) read = kiln_reject_body_decode (other, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (read->reason, ==, "gpu-lost-2");
  }
  {
    g_autofree char *long_text = g_strnfill (KILN_MARKET_TEXT_MAX + 1, 'x');
    g_autoptr(KilnRejectBody) wordy = kiln_reject_body_new (ref, "busy", long_text);

    g_assert_null (kiln_reject_body_encode (wordy, &error));
    g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
    g_clear_error (&error);
  }

  cancel = kiln_cancel_body_new (KILN_CANCEL_TERMS, ref, "The requestor stopped the job.");
  bytes = kiln_cancel_body_encode (cancel, &error);
  g_assert_no_error (error);
  cancelled = kiln_cancel_body_decode (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cancelled->scope, ==, KILN_CANCEL_TERMS);
  g_assert_cmpmem (cancelled->id, sizeof cancelled->id, ref, sizeof ref);
  g_assert_cmpstr (cancelled->reason, ==, "The requestor stopped the job.");
  {
    static const char * const bad[] = {
      "{\"task\": \"@A\", \"terms\": \"@B\", \"reason\": \"\"}",
      "{\"reason\": \"\"}",
      "{\"task\": \"@A\"}",
      "{\"job\": \"@A\", \"reason\": \"\"}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *text = fill_ids (bad[i]);
        g_autoptr(GBytes) bad_bytes = text_bytes (text);
        g_autoptr(KilnCancelBody) refused = kiln_cancel_body_decode (bad_bytes, &error);

        g_assert_null (refused);
        g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
        g_clear_error (&error);
      }
  }
  {
    g_autofree char *text = g_strdup_printf ("{\"task\": \"%s\", \"reason\": \"gone\"}", id_b);
    g_autoptr(GBytes) task_bytes = text_bytes (text);
    g_autoptr(KilnCancelBody) task = kiln_cancel_body_decode (task_bytes, &error);

    g_assert_no_error (error);
    g_assert_cmpint (task->scope, ==, KILN_CANCEL_TASK);
    g_assert_cmpuint (task->id[0], ==, 0x01);
  }
}

static void
test_names_ids (void)
{
  guint8 id[KILN_MARKET_ID_SIZE];
  g_autofree char *hex = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (kiln_market_file_name_is_valid ("scene.blend"));
  g_assert_true (kiln_market_file_name_is_valid ("textures – bois.png"));
  g_assert_false (kiln_market_file_name_is_valid ("a/b"));
  g_assert_false (kiln_market_file_name_is_valid ("a\\b"));
  g_assert_false (kiln_market_file_name_is_valid (".."));
  g_assert_false (kiln_market_file_name_is_valid (""));
  g_assert_false (kiln_market_file_name_is_valid ("\xff.png"));
  {
    g_autofree char *longest = g_strnfill (KILN_MARKET_NAME_MAX, 'n');
    g_autofree char *too_long = g_strnfill (KILN_MARKET_NAME_MAX + 1, 'n');

    g_assert_true (kiln_market_file_name_is_valid (longest));
    g_assert_false (kiln_market_file_name_is_valid (too_long));
  }

  g_assert_true (kiln_market_id_from_hex (id_b, id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (id[0], ==, 0x01);
  g_assert_cmpuint (id[31], ==, 0xef);
  hex = kiln_market_id_to_hex (id);
  g_assert_cmpstr (hex, ==, id_b);
  g_assert_false (kiln_market_id_from_hex ("0x0123", id, &error));
  g_assert_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kiln/market-bodies/assign/round-trip", Fixture, NULL, fixture_set_up,
              test_assign_round_trip, fixture_tear_down);
  g_test_add ("/kiln/market-bodies/assign/refused", Fixture, NULL, fixture_set_up,
              test_assign_refused, fixture_tear_down);
  g_test_add ("/kiln/market-bodies/accept", Fixture, NULL, fixture_set_up, test_accept,
              fixture_tear_down);
  g_test_add ("/kiln/market-bodies/announce-offer", Fixture, NULL, fixture_set_up,
              test_announce_offer, fixture_tear_down);
  g_test_add_func ("/kiln/market-bodies/result", test_result);
  g_test_add_func ("/kiln/market-bodies/approve-payment", test_approve_payment);
  g_test_add_func ("/kiln/market-bodies/reject-cancel", test_reject_cancel);
  g_test_add_func ("/kiln/market-bodies/names-ids", test_names_ids);

  return g_test_run ();
}
