/* kiln-market-bodies-json.c: the JSON fields of the market's message bodies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "kiln-crypto.h"
#include "kiln-market-bodies-private.h"
#include "kiln-market-private.h"
#include "kiln-message.h"

G_STATIC_ASSERT (KILN_MARKET_ID_SIZE == KILN_MARKET_DIGEST_SIZE);
G_STATIC_ASSERT (KILN_MARKET_ID_SIZE == KILN_MARKET_HASH_SIZE);

gboolean
kiln_body_check_body_size (GBytes           *body,
                           KilnMessageType   type,
                           GError          **error)
{
  gsize max = kiln_message_type_get_body_max (type);
  gsize len = g_bytes_get_size (body);

  if (len > max)
    {
      g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_TOO_LARGE,
                   _("The %s message body has %lu bytes; at most %lu are allowed"),
                   kiln_message_type_to_string (type), (unsigned long) len, (unsigned long) max);
      return FALSE;
    }
  return TRUE;
}

/* Names, IDs, text */

gboolean
kiln_market_file_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > KILN_MARKET_NAME_MAX || name[0] == '.')
    return FALSE;
  if (!g_utf8_validate_len (name, len, NULL))
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '/' || c == '\\' || g_unichar_iscntrl (c))
        return FALSE;
    }
  return TRUE;
}

gboolean
kiln_body_text_is_valid (const char *text,
                         gsize       max)
{
  gsize len = strlen (text);

  if (len > max || !g_utf8_validate_len (text, len, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

gboolean
kiln_body_reason_is_valid (const char *reason)
{
  gsize len = strlen (reason);

  if (len == 0 || len > KILN_MARKET_REASON_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (reason[i]) && !g_ascii_isdigit (reason[i]) && reason[i] != '-')
      return FALSE;
  return TRUE;
}

char *
kiln_market_id_to_hex (const guint8 *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return kiln_hex_encode (id, KILN_MARKET_ID_SIZE);
}

gboolean
kiln_market_id_from_hex (const char  *hex,
                         guint8      *id,
                         GError     **error)
{
  g_return_val_if_fail (hex != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (strlen (hex) != KILN_BODY_HEX_ID_LEN)
    goto bad;
  for (guint i = 0; i < KILN_BODY_HEX_ID_LEN; i++)
    if (!g_ascii_isdigit (hex[i]) && !(hex[i] >= 'a' && hex[i] <= 'f'))
      goto bad;
  return kiln_hex_decode (hex, id, KILN_MARKET_ID_SIZE, error);

bad:
  g_set_error (error, KILN_MARKET_ERROR, KILN_MARKET_ERROR_MALFORMED,
               _("An ID must be %u lowercase hexadecimal digits"), KILN_BODY_HEX_ID_LEN);
  return FALSE;
}

/* Amounts: decimal digits, no sign, no leading zeros. */
static gboolean
amount_from_text (const char   *text,
                  KilnUint256  *out)
{
  gsize len = strlen (text);

  if (len == 0 || len >= KILN_UINT256_DECIMAL_SIZE || (text[0] == '0' && len > 1))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  return kiln_uint256_parse (out, text, NULL);
}

/* Files */

KilnMarketFile *
kiln_market_file_new (const char   *name,
                      const guint8 *sha256,
                      guint64       size)
{
  KilnMarketFile *file;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (sha256 != NULL, NULL);

  file = g_new0 (KilnMarketFile, 1);
  file->name = g_strdup (name);
  memcpy (file->sha256, sha256, KILN_MARKET_HASH_SIZE);
  file->size = size;
  return file;
}

KilnMarketFile *
kiln_market_file_copy (const KilnMarketFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);

  return kiln_market_file_new (file->name, file->sha256, file->size);
}

void
kiln_market_file_free (KilnMarketFile *file)
{
  if (file == NULL)
    return;
  g_free (file->name);
  g_free (file);
}

/* JSON reading */

/* Parses @body as one JSON object whose members are exactly @required plus any of
 * @optional (NULL-terminated lists). */
JsonNode *
kiln_body_parse_object (GBytes             *body,
                        KilnMessageType     type,
                        const char * const *required,
                        const char * const *optional,
                        GError            **error)
{
  const char *what = kiln_message_type_to_string (type);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GList) members = NULL;
  JsonNode *root;
  JsonObject *object;
  const char *data;
  gsize len;

  if (!kiln_body_check_body_size (body, type, error))
    return NULL;
  data = g_bytes_get_data (body, &len);
  if (len == 0 || !g_utf8_validate_len (data, len, NULL))
    {
      kiln_market_set_malformed (error, what, _("the body is not UTF-8 text"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local_error))
    {
      kiln_market_set_malformed (error, what, _("the body is not JSON (%s)"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      kiln_market_set_malformed (error, what, _("the body is not a JSON object"));
      return NULL;
    }
  object = json_node_get_object (root);

  for (guint i = 0; required[i] != NULL; i++)
    if (!json_object_has_member (object, required[i]))
      {
        kiln_market_set_malformed (error, what, _("“%s” is missing"), required[i]);
        return NULL;
      }
  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (required, l->data) &&
        (optional == NULL || !g_strv_contains (optional, l->data)))
      {
        kiln_market_set_malformed (error, what, _("“%s” is not a known member"),
                                   (const char *) l->data);
        return NULL;
      }

  return json_node_ref (root);
}

const char *
kiln_body_read_string (JsonObject  *object,
                       const char  *name,
                       const char  *what,
                       GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    {
      kiln_market_set_malformed (error, what, _("“%s” is not a string"), name);
      return NULL;
    }
  return json_node_get_string (node);
}

gboolean
kiln_body_read_int (JsonObject  *object,
                    const char  *name,
                    gint64       min,
                    gint64       max,
                    const char  *what,
                    gint64      *out,
                    GError     **error)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return kiln_market_set_malformed (error, what, _("“%s” is not a whole number"), name);
  *out = json_node_get_int (node);
  if (*out < min || *out > max)
    return kiln_market_set_malformed (error, what, _("“%s” is out of range"), name);
  return TRUE;
}

gboolean
kiln_body_read_id (JsonObject  *object,
                   const char  *name,
                   const char  *what,
                   guint8      *out,
                   GError     **error)
{
  const char *hex = kiln_body_read_string (object, name, what, error);

  if (hex == NULL)
    return FALSE;
  if (!kiln_market_id_from_hex (hex, out, NULL))
    return kiln_market_set_malformed (error, what, _("“%s” is not %u lowercase hexadecimal digits"),
                                      name, KILN_BODY_HEX_ID_LEN);
  return TRUE;
}

gboolean
kiln_body_read_amount (JsonObject   *object,
                       const char   *name,
                       const char   *what,
                       KilnUint256  *out,
                       GError      **error)
{
  const char *text = kiln_body_read_string (object, name, what, error);

  if (text == NULL)
    return FALSE;
  if (!amount_from_text (text, out))
    return kiln_market_set_malformed (error, what, _("“%s” is not a decimal amount of base units"),
                                      name);
  return TRUE;
}

char *
kiln_body_read_text (JsonObject  *object,
                     const char  *name,
                     const char  *what,
                     GError     **error)
{
  const char *text = kiln_body_read_string (object, name, what, error);

  if (text == NULL)
    return NULL;
  if (!kiln_body_text_is_valid (text, KILN_MARKET_TEXT_MAX))
    {
      kiln_market_set_malformed (error, what,
                                 _("“%s” is longer than %u bytes or has control characters"), name,
                                 KILN_MARKET_TEXT_MAX);
      return NULL;
    }
  return g_strdup (text);
}

static KilnMarketFile *
read_file (JsonNode    *node,
           const char  *what,
           const char  *list,
           GError     **error)
{
  static const char * const members[] = { "name", "sha256", "size", NULL };
  JsonObject *object;
  const char *name;
  guint8 sha256[KILN_MARKET_HASH_SIZE];
  gint64 size;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      kiln_market_set_malformed (error, what, _("an entry of “%s” is not an object"), list);
      return NULL;
    }
  object = json_node_get_object (node);
  if (json_object_get_size (object) != G_N_ELEMENTS (members) - 1)
    {
      kiln_market_set_malformed (error, what, _("an entry of “%s” must have exactly a name, "
                                                "a SHA-256 and a size"), list);
      return NULL;
    }
  for (guint i = 0; members[i] != NULL; i++)
    if (!json_object_has_member (object, members[i]))
      {
        kiln_market_set_malformed (error, what, _("an entry of “%s” has no “%s”"), list,
                                   members[i]);
        return NULL;
      }

  name = kiln_body_read_string (object, "name", what, error);
  if (name == NULL)
    return NULL;
  if (!kiln_market_file_name_is_valid (name))
    {
      kiln_market_set_malformed (error, what, _("“%s” is not a plain file name"), name);
      return NULL;
    }
  if (!kiln_body_read_id (object, "sha256", what, sha256, error) ||
      !kiln_body_read_int (object, "size", 0, G_MAXINT64, what, &size, error))
    return NULL;

  return kiln_market_file_new (name, sha256, (guint64) size);
}

GPtrArray *
kiln_body_read_files (JsonObject  *object,
                      const char  *list,
                      guint        max,
                      const char  *what,
                      GError     **error)
{
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  JsonNode *node = json_object_get_member (object, list);
  JsonArray *array;
  guint n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      kiln_market_set_malformed (error, what, _("“%s” is not a list"), list);
      return NULL;
    }
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n == 0 || n > max)
    {
      kiln_market_set_malformed (error, what, _("“%s” must list 1 to %u files"), list, max);
      return NULL;
    }
  files = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  for (guint i = 0; i < n; i++)
    {
      KilnMarketFile *file = read_file (json_array_get_element (array, i), what, list, error);

      if (file == NULL)
        return NULL;
      g_ptr_array_add (files, file);
      if (!g_hash_table_add (names, file->name))
        {
          kiln_market_set_malformed (error, what, _("“%s” names “%s” twice"), list, file->name);
          return NULL;
        }
    }
  return g_steal_pointer (&files);
}

/* JSON writing */

GBytes *
kiln_body_finish_object (JsonBuilder      *builder,
                         KilnMessageType   type,
                         GError          **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  gsize len;
  char *data;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, &len);
  body = g_bytes_new_take (data, len);
  if (!kiln_body_check_body_size (body, type, error))
    return NULL;
  return g_steal_pointer (&body);
}

void
kiln_body_add_id (JsonBuilder  *builder,
                  const char   *name,
                  const guint8 *id)
{
  g_autofree char *hex = kiln_market_id_to_hex (id);

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, hex);
}

void
kiln_body_add_amount (JsonBuilder       *builder,
                      const char        *name,
                      const KilnUint256 *amount)
{
  char text[KILN_UINT256_DECIMAL_SIZE];

  kiln_uint256_format_decimal (amount, text);
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, text);
}

gboolean
kiln_body_add_files (JsonBuilder  *builder,
                     const char   *list,
                     GPtrArray    *files,
                     guint         max,
                     const char   *what,
                     GError      **error)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  if (files == NULL || files->len == 0 || files->len > max)
    return kiln_market_set_malformed (error, what, _("“%s” must list 1 to %u files"), list, max);

  json_builder_set_member_name (builder, list);
  json_builder_begin_array (builder);
  for (guint i = 0; i < files->len; i++)
    {
      const KilnMarketFile *file = g_ptr_array_index (files, i);

      if (!kiln_market_file_name_is_valid (file->name))
        return kiln_market_set_malformed (error, what, _("“%s” is not a plain file name"),
                                          file->name);
      if (file->size > G_MAXINT64)
        return kiln_market_set_malformed (error, what, _("“%s” is too large"), file->name);
      if (!g_hash_table_add (names, file->name))
        return kiln_market_set_malformed (error, what, _("“%s” names “%s” twice"), list,
                                          file->name);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, file->name);
      kiln_body_add_id (builder, "sha256", file->sha256);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) file->size);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return TRUE;
}
