/* kiln-market-bodies.c: the bodies of the market's link messages
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

/* TASK_ANNOUNCE, OFFER, ACCEPT */

KilnTaskAnnouncement *
kiln_market_announce_body_decode (GBytes  *body,
                                  gint64   now,
                                  GError **error)
{
  g_return_val_if_fail (body != NULL, NULL);

  if (!kiln_body_check_body_size (body, KILN_MESSAGE_TASK_ANNOUNCE, error))
    return NULL;
  return kiln_task_announcement_verify (body, now, error);
}

KilnOffer *
kiln_market_offer_body_decode (GBytes  *body,
                               gint64   now,
                               GError **error)
{
  g_return_val_if_fail (body != NULL, NULL);

  if (!kiln_body_check_body_size (body, KILN_MESSAGE_OFFER, error))
    return NULL;
  return kiln_offer_verify (body, now, error);
}

KilnTerms *
kiln_market_accept_body_decode (GBytes  *body,
                                GError **error)
{
  g_autoptr(KilnTerms) terms = NULL;

  g_return_val_if_fail (body != NULL, NULL);

  if (!kiln_body_check_body_size (body, KILN_MESSAGE_ACCEPT, error))
    return NULL;
  terms = kiln_terms_decode (body, error);
  if (terms == NULL)
    return NULL;
  if (!kiln_terms_is_accepted (terms))
    {
      kiln_market_set_malformed (error, "ACCEPT",
                                 _("the terms do not carry the provider’s signature"));
      return NULL;
    }
  return g_steal_pointer (&terms);
}

/* ASSIGN */

KilnAssignBody *
kiln_assign_body_new (KilnTerms         *terms,
                      const KilnSubtask *subtask,
                      gint64             deadline)
{
  KilnAssignBody *self;

  g_return_val_if_fail (KILN_IS_TERMS (terms), NULL);
  g_return_val_if_fail (subtask != NULL, NULL);

  self = g_new0 (KilnAssignBody, 1);
  self->terms = g_object_ref (terms);
  self->subtask = kiln_subtask_copy (subtask);
  self->resources = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  self->deadline = deadline;
  return self;
}

void
kiln_assign_body_add_resource (KilnAssignBody *self,
                               const char     *name,
                               const guint8   *sha256,
                               guint64         size)
{
  g_return_if_fail (self != NULL);

  g_ptr_array_add (self->resources, kiln_market_file_new (name, sha256, size));
}

void
kiln_assign_body_free (KilnAssignBody *self)
{
  if (self == NULL)
    return;
  g_clear_object (&self->terms);
  g_clear_pointer (&self->subtask, kiln_subtask_free);
  g_clear_pointer (&self->resources, g_ptr_array_unref);
  g_free (self);
}

/* The rules both sides of ASSIGN check beyond the JSON shape. */
static gboolean
check_assign (KilnTerms          *terms,
              const KilnSubtask  *subtask,
              GPtrArray          *resources,
              gint64              deadline,
              GError            **error)
{
  const KilnMarketFile *blend;
  const guint *indices;
  guint n_indices;
  gboolean named = FALSE;

  if (kiln_terms_is_accepted (terms))
    return kiln_market_set_malformed (error, "ASSIGN", _("the terms are already accepted"));
  indices = kiln_terms_get_subtasks (terms, &n_indices);
  for (guint i = 0; i < n_indices; i++)
    named |= indices[i] == subtask->index;
  if (!named)
    return kiln_market_set_malformed (error, "ASSIGN", _("the terms do not name subtask %u"),
                                      subtask->index);
  if (deadline <= 0 || deadline > KILN_MARKET_MAX_TIME)
    return kiln_market_set_malformed (error, "ASSIGN", _("the deadline is out of range"));
  if (resources->len == 0)
    return kiln_market_set_malformed (error, "ASSIGN", _("there is no scene file"));
  blend = g_ptr_array_index (resources, 0);
  if (blend->name == NULL || !g_str_has_suffix (blend->name, ".blend"))
    return kiln_market_set_malformed (error, "ASSIGN",
                                      _("the first resource is not a .blend file"));
  return TRUE;
}

GBytes *
kiln_assign_body_encode (const KilnAssignBody  *self,
                         GError               **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *terms = NULL;
  GBytes *terms_bytes;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (KILN_IS_TERMS (self->terms), NULL);
  g_return_val_if_fail (self->subtask != NULL, NULL);

  if (!check_assign (self->terms, self->subtask, self->resources, self->deadline, error))
    return NULL;

  terms_bytes = kiln_terms_get_bytes (self->terms);
  terms = g_base64_encode (g_bytes_get_data (terms_bytes, NULL), g_bytes_get_size (terms_bytes));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "terms");
  json_builder_add_string_value (builder, terms);
  json_builder_set_member_name (builder, "subtask");
  json_builder_add_value (builder, kiln_subtask_to_json (self->subtask));
  if (!kiln_body_add_files (builder, "resources", self->resources, KILN_TASK_MAX_RESOURCES,
                            "ASSIGN", error))
    return NULL;
  json_builder_set_member_name (builder, "deadline");
  json_builder_add_int_value (builder, self->deadline);
  return kiln_body_finish_object (builder, KILN_MESSAGE_ASSIGN, error);
}

/* Strict standard base64 (with padding) of at most @max decoded bytes. */
static GBytes *
decode_base64 (const char *text,
               gsize       max)
{
  gsize len = strlen (text);
  gsize decoded_len;
  guchar *decoded;

  if (len == 0 || len % 4 != 0 || len / 4 * 3 > max + 2)
    return NULL;
  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '=')
        {
          /* Padding only at the end, at most two. */
          if (i < len - 2 || (i == len - 2 && text[len - 1] != '='))
            return NULL;
        }
      else if (!g_ascii_isalnum (c) && c != '+' && c != '/')
        return NULL;
    }
  decoded = g_base64_decode (text, &decoded_len);
  return g_bytes_new_take (decoded, decoded_len);
}

/* Whether @node (an object) has only members named in @names. */
static gboolean
only_members (JsonNode           *node,
              const char * const *names)
{
  g_autoptr(GList) members = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return TRUE;   /* the subtask reader says what is wrong */
  members = json_object_get_members (json_node_get_object (node));
  for (GList *l = members; l != NULL; l = l->next)
    if (!g_strv_contains (names, l->data))
      return FALSE;
  return TRUE;
}

/* kiln_subtask_new_from_json() checks what it reads; unknown members are refused here. */
static gboolean
check_subtask_members (JsonNode  *node,
                       GError   **error)
{
  static const char * const subtask[] = {
    "index", "frames", "width", "height", "samples", "format", "border", NULL
  };
  static const char * const frames[] = { "start", "end", "step", NULL };
  static const char * const border[] = { "x", "y", "width", "height", NULL };

  if (!only_members (node, subtask) ||
      (JSON_NODE_HOLDS_OBJECT (node) &&
       (!only_members (json_object_get_member (json_node_get_object (node), "frames"), frames) ||
        !only_members (json_object_get_member (json_node_get_object (node), "border"), border))))
    return kiln_market_set_malformed (error, "ASSIGN", _("the subtask has unknown members"));
  return TRUE;
}

KilnAssignBody *
kiln_assign_body_decode (GBytes  *body,
                         GError **error)
{
  static const char * const members[] = { "terms", "subtask", "resources", "deadline", NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) terms_bytes = NULL;
  g_autoptr(KilnTerms) terms = NULL;
  g_autoptr(KilnSubtask) subtask = NULL;
  g_autoptr(GPtrArray) resources = NULL;
  g_autoptr(GError) local_error = NULL;
  KilnAssignBody *self;
  JsonObject *object;
  const char *text;
  gint64 deadline;

  g_return_val_if_fail (body != NULL, NULL);

  root = kiln_body_parse_object (body, KILN_MESSAGE_ASSIGN, members, NULL, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  text = kiln_body_read_string (object, "terms", "ASSIGN", error);
  if (text == NULL)
    return NULL;
  terms_bytes = decode_base64 (text, KILN_TERMS_MAX_SIZE);
  if (terms_bytes == NULL)
    {
      kiln_market_set_malformed (error, "ASSIGN", _("“terms” is not base64"));
      return NULL;
    }
  terms = kiln_terms_decode (terms_bytes, error);
  if (terms == NULL)
    return NULL;

  if (!check_subtask_members (json_object_get_member (object, "subtask"), error))
    return NULL;
  subtask = kiln_subtask_new_from_json (json_object_get_member (object, "subtask"),
                                        &local_error);
  if (subtask == NULL)
    {
      kiln_market_set_malformed (error, "ASSIGN", "%s", local_error->message);
      return NULL;
    }

  resources = kiln_body_read_files (object, "resources", KILN_TASK_MAX_RESOURCES, "ASSIGN", error);
  if (resources == NULL ||
      !kiln_body_read_int (object, "deadline", 1, KILN_MARKET_MAX_TIME, "ASSIGN", &deadline,
                           error) ||
      !check_assign (terms, subtask, resources, deadline, error))
    return NULL;

  self = g_new0 (KilnAssignBody, 1);
  self->terms = g_steal_pointer (&terms);
  self->subtask = g_steal_pointer (&subtask);
  self->resources = g_steal_pointer (&resources);
  self->deadline = deadline;
  return self;
}

/* RESULT */

KilnResultBody *
kiln_result_body_new (const guint8 *terms)
{
  KilnResultBody *self;

  g_return_val_if_fail (terms != NULL, NULL);

  self = g_new0 (KilnResultBody, 1);
  memcpy (self->terms, terms, KILN_MARKET_DIGEST_SIZE);
  self->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify) kiln_market_file_free);
  return self;
}

void
kiln_result_body_add_output (KilnResultBody *self,
                             const char     *name,
                             const guint8   *sha256,
                             guint64         size)
{
  g_return_if_fail (self != NULL);

  g_ptr_array_add (self->outputs, kiln_market_file_new (name, sha256, size));
}

void
kiln_result_body_free (KilnResultBody *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->outputs, g_ptr_array_unref);
  g_free (self);
}

GBytes *
kiln_result_body_encode (const KilnResultBody  *self,
                         GError               **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (self->cpu_ms > G_MAXINT64 || self->wall_ms > G_MAXINT64)
    {
      kiln_market_set_malformed (error, "RESULT", _("the times are out of range"));
      return NULL;
    }

  json_builder_begin_object (builder);
  kiln_body_add_id (builder, "terms", self->terms);
  if (!kiln_body_add_files (builder, "outputs", self->outputs, KILN_MARKET_RESULT_MAX_OUTPUTS,
                            "RESULT", error))
    return NULL;
  json_builder_set_member_name (builder, "cpu_ms");
  json_builder_add_int_value (builder, (gint64) self->cpu_ms);
  json_builder_set_member_name (builder, "wall_ms");
  json_builder_add_int_value (builder, (gint64) self->wall_ms);
  return kiln_body_finish_object (builder, KILN_MESSAGE_RESULT, error);
}

KilnResultBody *
kiln_result_body_decode (GBytes  *body,
                         GError **error)
{
  static const char * const members[] = { "terms", "outputs", "cpu_ms", "wall_ms", NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KilnResultBody) self = NULL;
  JsonObject *object;
  gint64 cpu_ms, wall_ms;

  g_return_val_if_fail (body != NULL, NULL);

  root = kiln_body_parse_object (body, KILN_MESSAGE_RESULT, members, NULL, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  self = g_new0 (KilnResultBody, 1);
  if (!kiln_body_read_id (object, "terms", "RESULT", self->terms, error))
    return NULL;
  self->outputs = kiln_body_read_files (object, "outputs", KILN_MARKET_RESULT_MAX_OUTPUTS, "RESULT",
                                        error);
  if (self->outputs == NULL ||
      !kiln_body_read_int (object, "cpu_ms", 0, G_MAXINT64, "RESULT", &cpu_ms, error) ||
      !kiln_body_read_int (object, "wall_ms", 0, G_MAXINT64, "RESULT", &wall_ms, error))
    return NULL;
  self->cpu_ms = (guint64) cpu_ms;
  self->wall_ms = (guint64) wall_ms;
  return g_steal_pointer (&self);
}

/* APPROVE */

GBytes *
kiln_approve_body_encode (const KilnApproveBody  *self,
                          GError                **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (builder);
  kiln_body_add_id (builder, "terms", self->terms);
  kiln_body_add_amount (builder, "amount", &self->amount);
  return kiln_body_finish_object (builder, KILN_MESSAGE_APPROVE, error);
}

gboolean
kiln_approve_body_decode (GBytes           *body,
                          KilnApproveBody  *out,
                          GError          **error)
{
  static const char * const members[] = { "terms", "amount", NULL };
  g_autoptr(JsonNode) root = NULL;
  KilnApproveBody approve;
  JsonObject *object;

  g_return_val_if_fail (body != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  root = kiln_body_parse_object (body, KILN_MESSAGE_APPROVE, members, NULL, error);
  if (root == NULL)
    return FALSE;
  object = json_node_get_object (root);
  if (!kiln_body_read_id (object, "terms", "APPROVE", approve.terms, error) ||
      !kiln_body_read_amount (object, "amount", "APPROVE", &approve.amount, error))
    return FALSE;
  *out = approve;
  return TRUE;
}

/* REJECT */

KilnRejectBody *
kiln_reject_body_new (const guint8 *ref,
                      const char   *reason,
                      const char   *text)
{
  KilnRejectBody *self;

  g_return_val_if_fail (ref != NULL, NULL);
  g_return_val_if_fail (reason != NULL, NULL);

  self = g_new0 (KilnRejectBody, 1);
  memcpy (self->ref, ref, KILN_MARKET_ID_SIZE);
  self->reason = g_strdup (reason);
  self->text = g_strdup (text != NULL ? text : "");
  return self;
}

void
kiln_reject_body_free (KilnRejectBody *self)
{
  if (self == NULL)
    return;
  g_free (self->reason);
  g_free (self->text);
  g_free (self);
}

GBytes *
kiln_reject_body_encode (const KilnRejectBody  *self,
                         GError               **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (self->reason == NULL || !kiln_body_reason_is_valid (self->reason))
    {
      kiln_market_set_malformed (error, "REJECT",
                                 _("the reason code must be 1 to %u of a–z, 0–9 and “-”"),
                                 KILN_MARKET_REASON_MAX);
      return NULL;
    }
  if (self->text == NULL || !kiln_body_text_is_valid (self->text, KILN_MARKET_TEXT_MAX))
    {
      kiln_market_set_malformed (error, "REJECT",
                                 _("the text is longer than %u bytes or has control characters"),
                                 KILN_MARKET_TEXT_MAX);
      return NULL;
    }

  json_builder_begin_object (builder);
  kiln_body_add_id (builder, "ref", self->ref);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, self->reason);
  json_builder_set_member_name (builder, "text");
  json_builder_add_string_value (builder, self->text);
  return kiln_body_finish_object (builder, KILN_MESSAGE_REJECT, error);
}

KilnRejectBody *
kiln_reject_body_decode (GBytes  *body,
                         GError **error)
{
  static const char * const members[] = { "ref", "reason", "text", NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KilnRejectBody) self = NULL;
  JsonObject *object;
  const char *reason;

  g_return_val_if_fail (body != NULL, NULL);

  root = kiln_body_parse_object (body, KILN_MESSAGE_REJECT, members, NULL, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  self = g_new0 (KilnRejectBody, 1);
  if (!kiln_body_read_id (object, "ref", "REJECT", self->ref, error))
    return NULL;
  reason = kiln_body_read_string (object, "reason", "REJECT", error);
  if (reason == NULL)
    return NULL;
  if (!kiln_body_reason_is_valid (reason))
    {
      kiln_market_set_malformed (error, "REJECT",
                                 _("the reason code must be 1 to %u of a–z, 0–9 and “-”"),
                                 KILN_MARKET_REASON_MAX);
      return NULL;
    }
  self->reason = g_strdup (reason);
  self->text = kiln_body_read_text (object, "text", "REJECT", error);
  if (self->text == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

/* PAYMENT */

KilnPaymentBody *
kiln_payment_body_new (const guint8      *tx_hash,
                       const KilnUint256 *amount)
{
  KilnPaymentBody *self;

  g_return_val_if_fail (tx_hash != NULL, NULL);
  g_return_val_if_fail (amount != NULL, NULL);

  self = g_new0 (KilnPaymentBody, 1);
  self->terms = g_array_new (FALSE, FALSE, sizeof (KilnMarketId));
  memcpy (self->tx_hash, tx_hash, sizeof self->tx_hash);
  self->amount = *amount;
  return self;
}

void
kiln_payment_body_add_terms (KilnPaymentBody *self,
                             const guint8    *terms)
{
  KilnMarketId id;

  g_return_if_fail (self != NULL);
  g_return_if_fail (terms != NULL);

  memcpy (id.bytes, terms, KILN_MARKET_ID_SIZE);
  g_array_append_val (self->terms, id);
}

void
kiln_payment_body_free (KilnPaymentBody *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->terms, g_array_unref);
  g_free (self);
}

static gboolean
check_payment_terms (GArray  *terms,
                     GError **error)
{
  if (terms == NULL || terms->len == 0 || terms->len > KILN_MARKET_PAYMENT_MAX_TERMS)
    return kiln_market_set_malformed (error, "PAYMENT", _("it must name 1 to %u terms"),
                                      KILN_MARKET_PAYMENT_MAX_TERMS);
  for (guint i = 0; i < terms->len; i++)
    for (guint j = 0; j < i; j++)
      if (memcmp (&g_array_index (terms, KilnMarketId, i),
                  &g_array_index (terms, KilnMarketId, j), sizeof (KilnMarketId)) == 0)
        return kiln_market_set_malformed (error, "PAYMENT", _("it names the same terms twice"));
  return TRUE;
}

GBytes *
kiln_payment_body_encode (const KilnPaymentBody  *self,
                          GError                **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (!check_payment_terms (self->terms, error))
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "terms");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->terms->len; i++)
    {
      g_autofree char *hex = kiln_market_id_to_hex (g_array_index (self->terms, KilnMarketId,
                                                                   i).bytes);

      json_builder_add_string_value (builder, hex);
    }
  json_builder_end_array (builder);
  kiln_body_add_id (builder, "tx_hash", self->tx_hash);
  kiln_body_add_amount (builder, "amount", &self->amount);
  return kiln_body_finish_object (builder, KILN_MESSAGE_PAYMENT, error);
}

KilnPaymentBody *
kiln_payment_body_decode (GBytes  *body,
                          GError **error)
{
  static const char * const members[] = { "terms", "tx_hash", "amount", NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KilnPaymentBody) self = NULL;
  KilnUint256 zero = KILN_UINT256_INIT (0);
  guint8 tx_hash[32];
  JsonObject *object;
  JsonNode *list;
  JsonArray *array;

  g_return_val_if_fail (body != NULL, NULL);

  root = kiln_body_parse_object (body, KILN_MESSAGE_PAYMENT, members, NULL, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  if (!kiln_body_read_id (object, "tx_hash", "PAYMENT", tx_hash, error))
    return NULL;
  self = kiln_payment_body_new (tx_hash, &zero);
  if (!kiln_body_read_amount (object, "amount", "PAYMENT", &self->amount, error))
    return NULL;

  list = json_object_get_member (object, "terms");
  if (!JSON_NODE_HOLDS_ARRAY (list))
    {
      kiln_market_set_malformed (error, "PAYMENT", _("“terms” is not a list"));
      return NULL;
    }
  array = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      KilnMarketId id;

      if (!JSON_NODE_HOLDS_VALUE (element) ||
          json_node_get_value_type (element) != G_TYPE_STRING ||
          !kiln_market_id_from_hex (json_node_get_string (element), id.bytes, NULL))
        {
          kiln_market_set_malformed (error, "PAYMENT",
                                     _("an entry of “terms” is not %u lowercase hex digits"),
                                     KILN_BODY_HEX_ID_LEN);
          return NULL;
        }
      g_array_append_val (self->terms, id);
    }
  if (!check_payment_terms (self->terms, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* CANCEL */

KilnCancelBody *
kiln_cancel_body_new (KilnCancelScope  scope,
                      const guint8    *id,
                      const char      *reason)
{
  KilnCancelBody *self;

  g_return_val_if_fail (scope == KILN_CANCEL_TASK || scope == KILN_CANCEL_TERMS, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  self = g_new0 (KilnCancelBody, 1);
  self->scope = scope;
  memcpy (self->id, id, KILN_MARKET_ID_SIZE);
  self->reason = g_strdup (reason != NULL ? reason : "");
  return self;
}

void
kiln_cancel_body_free (KilnCancelBody *self)
{
  if (self == NULL)
    return;
  g_free (self->reason);
  g_free (self);
}

GBytes *
kiln_cancel_body_encode (const KilnCancelBody  *self,
                         GError               **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  if (self->reason == NULL || !kiln_body_text_is_valid (self->reason, KILN_MARKET_TEXT_MAX))
    {
      kiln_market_set_malformed (error, "CANCEL",
                                 _("the reason is longer than %u bytes or has control characters"),
                                 KILN_MARKET_TEXT_MAX);
      return NULL;
    }

  json_builder_begin_object (builder);
  kiln_body_add_id (builder, self->scope == KILN_CANCEL_TASK ? "task" : "terms", self->id);
  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, self->reason);
  return kiln_body_finish_object (builder, KILN_MESSAGE_CANCEL, error);
}

KilnCancelBody *
kiln_cancel_body_decode (GBytes  *body,
                         GError **error)
{
  static const char * const required[] = { "reason", NULL };
  static const char * const optional[] = { "task", "terms", NULL };
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KilnCancelBody) self = NULL;
  JsonObject *object;
  gboolean has_task, has_terms;

  g_return_val_if_fail (body != NULL, NULL);

  root = kiln_body_parse_object (body, KILN_MESSAGE_CANCEL, required, optional, error);
  if (root == NULL)
    return NULL;
  object = json_node_get_object (root);

  has_task = json_object_has_member (object, "task");
  has_terms = json_object_has_member (object, "terms");
  if (has_task == has_terms)
    {
      kiln_market_set_malformed (error, "CANCEL", _("it must name either a task or terms"));
      return NULL;
    }

  self = g_new0 (KilnCancelBody, 1);
  self->scope = has_task ? KILN_CANCEL_TASK : KILN_CANCEL_TERMS;
  if (!kiln_body_read_id (object, has_task ? "task" : "terms", "CANCEL", self->id, error))
    return NULL;
  self->reason = kiln_body_read_text (object, "reason", "CANCEL", error);
  if (self->reason == NULL)
    return NULL;
  return g_steal_pointer (&self);
}
