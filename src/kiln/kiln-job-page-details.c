/* kiln-job-page-details.c: a job's subtasks, payments and log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A row per subtask says what it renders, where it stands and with which provider; one that
 * failed says why and can be tried again. A row per result that was accepted says who is
 * owed what, and once paid, the transaction that paid it, which can be copied. The log is the
 * job's own (KilnRenderJobEvent), oldest first.
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kiln-job-page-private.h"
#include "kiln-job-text.h"

/* --- subtasks --------------------------------------------------------------------------------- */

/* Where a subtask stands, with @who, its provider. */
static char *
describe_subtask_state (KilnSubtaskState  state,
                        const char       *who)
{
  switch (state)
    {
    case KILN_SUBTASK_STATE_PENDING:
      return g_strdup (_("Waiting for a provider"));
    case KILN_SUBTASK_STATE_ASSIGNED:
      /* TRANSLATORS: %s is a provider's address */
      return g_strdup_printf (_("Offered to %s"), who);
    case KILN_SUBTASK_STATE_RENDERING:
      /* TRANSLATORS: %s is a provider's address */
      return g_strdup_printf (_("Rendering on %s"), who);
    case KILN_SUBTASK_STATE_VERIFYING:
      /* TRANSLATORS: %s is a provider's address */
      return g_strdup_printf (_("Checking the result of %s"), who);
    case KILN_SUBTASK_STATE_DONE:
    default:
      /* TRANSLATORS: %s is a provider's address */
      return g_strdup_printf (_("Rendered by %s"), who);
    }
}

static void
list_box_clear (GtkListBox *list)
{
  GtkListBoxRow *row;

  /* Rows only: the placeholder stays. */
  while ((row = gtk_list_box_get_row_at_index (list, 0)) != NULL)
    gtk_list_box_remove (list, GTK_WIDGET (row));
}

static const char *
subtask_icon (KilnSubtaskState state,
              gboolean         failed)
{
  if (failed)
    return "dialog-warning-symbolic";

  switch (state)
    {
    case KILN_SUBTASK_STATE_DONE:
      return "object-select-symbolic";
    case KILN_SUBTASK_STATE_RENDERING:
    case KILN_SUBTASK_STATE_VERIFYING:
      return "media-playback-start-symbolic";
    case KILN_SUBTASK_STATE_ASSIGNED:
    case KILN_SUBTASK_STATE_PENDING:
    default:
      return "content-loading-symbolic";
    }
}

guint
kiln_job_page_count_failed (KilnJobPage *self)
{
  guint n = kiln_render_job_get_n_subtasks (self->job);
  guint failed = 0;

  for (guint i = 0; i < n; i++)
    failed += kiln_render_job_get_subtask_failed (self->job, i, NULL);

  return failed;
}

void
kiln_job_page_subtask_changed (KilnJobPage *self,
                               guint        index)
{
  AdwActionRow *row;
  GtkImage *icon;
  GtkWidget *retry;
  KilnSubtaskState state;
  KilnAddress provider;
  const char *reason = NULL;
  gboolean failed;
  gboolean ended;
  g_autofree char *who = NULL;
  g_autofree char *full = NULL;
  g_autofree char *subtitle = NULL;

  if (self->job == NULL || index >= self->subtask_rows->len)
    return;

  row = g_ptr_array_index (self->subtask_rows, index);
  icon = g_object_get_data (G_OBJECT (row), "icon");
  retry = g_object_get_data (G_OBJECT (row), "retry");
  state = kiln_render_job_get_subtask_state (self->job, index);
  failed = kiln_render_job_get_subtask_failed (self->job, index, &reason);
  ended = kiln_render_job_state_is_final (kiln_render_job_get_state (self->job));

  if (failed)
    /* TRANSLATORS: a subtask that failed, and why */
    subtitle = g_strdup_printf (_("Failed: %s"), reason != NULL ? reason : _("no reason given"));
  else if (state == KILN_SUBTASK_STATE_PENDING)
    subtitle = ended ? g_strdup (_("Not rendered")) : describe_subtask_state (state, NULL);
  else if (kiln_render_job_get_subtask_provider (self->job, index, &provider))
    {
      who = kiln_job_text_address (&provider, &full);
      subtitle = describe_subtask_state (state, who);
    }
  else
    subtitle = g_strdup (_("Rendered"));

  adw_action_row_set_subtitle (row, subtitle);
  gtk_widget_set_tooltip_text (GTK_WIDGET (row), full);
  gtk_image_set_from_icon_name (icon, subtask_icon (state, failed));
  if (failed)
    gtk_widget_add_css_class (GTK_WIDGET (icon), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (icon), "warning");
  gtk_widget_set_visible (retry, failed && !ended);
}

static GtkWidget *
kiln_job_page_new_subtask_row (KilnJobPage *self,
                               guint        index)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *retry = gtk_button_new_with_label (_("Try Again"));
  g_autofree char *title = NULL;
  g_autofree char *retry_label = NULL;
  g_autofree char *frames = kiln_job_text_subtask (kiln_render_job_get_plan (self->job), index);

  /* TRANSLATORS: a subtask's number, then what it renders ("Frame 3") */
  title = g_strdup_printf (_("Subtask %u · %s"), index + 1, frames);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);

  gtk_widget_set_valign (icon, GTK_ALIGN_CENTER);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  gtk_widget_set_valign (retry, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (retry, FALSE);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (retry), "job.retry-subtask");
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (retry), g_variant_new_uint32 (index));
  gtk_widget_set_tooltip_text (retry, _("Give the providers that failed it another chance"));
  /* TRANSLATORS: how a screen reader names the Try Again button of one subtask */
  retry_label = g_strdup_printf (_("Try Subtask %u Again"), index + 1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (retry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, retry_label,
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), retry);

  g_object_set_data (G_OBJECT (row), "icon", icon);
  g_object_set_data (G_OBJECT (row), "retry", retry);

  return row;
}

/* --- payments --------------------------------------------------------------------------------- */

static char *
hex_hash (const guint8 *hash)
{
  GString *text = g_string_sized_new (66);

  g_string_append (text, "0x");
  for (guint i = 0; i < 32; i++)
    g_string_append_printf (text, "%02x", hash[i]);

  return g_string_free (text, FALSE);
}

static GtkWidget *
kiln_job_page_new_payment_row (KilnJobPage                   *self,
                               const KilnJobAssignmentRecord *record)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *full = NULL;
  g_autofree char *who = kiln_job_text_address (&record->provider, &full);
  g_autofree char *exact = NULL;
  g_autofree char *amount = kiln_job_text_amount (&record->owed, kiln_job_page_get_chain (self),
                                                  &exact);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *tooltip = NULL;

  /* TRANSLATORS: an amount, then to whom ("0.0124 GNT to 0x2c75…5c23") */
  title = g_strdup_printf (_("%s to %s"), amount, who);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  tooltip = g_strdup_printf ("%s\n%s", exact, full);
  gtk_widget_set_tooltip_text (row, tooltip);

  if (record->has_tx_hash)
    {
      g_autofree char *hash = hex_hash (record->tx_hash);
      GtkWidget *copy = gtk_button_new_from_icon_name ("edit-copy-symbolic");

      /* TRANSLATORS: the subtask paid for, then the transaction that paid it */
      subtitle = g_strdup_printf (_("Subtask %u · paid in %s"), record->subtask + 1, hash);
      gtk_widget_set_valign (copy, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (copy, "flat");
      gtk_widget_set_tooltip_text (copy, _("Copy the Transaction Hash"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (copy),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Copy the Transaction Hash"),
                                      -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (copy), "job.copy");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (copy),
                                              g_variant_new_string (hash));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), copy);
    }
  else if (kiln_uint256_is_zero (&record->owed))
    /* TRANSLATORS: the subtask; its provider asked nothing for it, so no payment is sent */
    subtitle = g_strdup_printf (_("Subtask %u · free, nothing to pay"), record->subtask + 1);
  else if (record->payment_id > 0 || record->payment_key != NULL)
    /* TRANSLATORS: the subtask paid for; the payment is sent but not yet mined */
    subtitle = g_strdup_printf (_("Subtask %u · being paid"), record->subtask + 1);
  else
    /* TRANSLATORS: the subtask paid for; nothing was sent yet */
    subtitle = g_strdup_printf (_("Subtask %u · owed, not paid yet"), record->subtask + 1);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  return row;
}

void
kiln_job_page_update_payments (KilnJobPage *self)
{
  g_autoptr(GPtrArray) assignments = NULL;

  list_box_clear (self->payments_list);

  if (self->job == NULL)
    return;

  assignments = kiln_render_job_get_assignments (self->job);
  for (guint i = 0; i < assignments->len; i++)
    {
      const KilnJobAssignmentRecord *record = g_ptr_array_index (assignments, i);

      if (record->state == KILN_ASSIGNMENT_APPROVED)
        gtk_list_box_append (self->payments_list, kiln_job_page_new_payment_row (self, record));
    }
}

/* --- the log ---------------------------------------------------------------------------------- */

static GtkWidget *
kiln_job_page_new_log_row (gpointer item,
                           gpointer user_data)
{
  KilnRenderJobEvent *event = item;
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *when = NULL;
  g_autofree char *what = NULL;
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *time_label;
  GtkWidget *text_label;
  int subtask = kiln_render_job_event_get_subtask (event);

  time = g_date_time_new_from_unix_local (kiln_render_job_event_get_time (event) /
                                          G_USEC_PER_SEC);
  when = time != NULL ? g_date_time_format (time, "%X") : g_strdup ("");
  if (subtask >= 0)
    /* TRANSLATORS: a line of a render job's log about one subtask */
    what = g_strdup_printf (_("Subtask %d: %s"), subtask + 1,
                            kiln_render_job_event_get_text (event));
  else
    what = g_strdup (kiln_render_job_event_get_text (event));

  time_label = gtk_label_new (when);
  gtk_widget_add_css_class (time_label, "dim-label");
  gtk_widget_add_css_class (time_label, "numeric");
  gtk_widget_add_css_class (time_label, "caption");
  gtk_label_set_yalign (GTK_LABEL (time_label), 0);
  gtk_widget_set_valign (time_label, GTK_ALIGN_START);

  text_label = gtk_label_new (what);
  gtk_label_set_xalign (GTK_LABEL (text_label), 0);
  gtk_label_set_wrap (GTK_LABEL (text_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text_label), PANGO_WRAP_WORD_CHAR);
  gtk_widget_set_hexpand (text_label, TRUE);
  gtk_widget_add_css_class (text_label, "caption");

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), time_label);
  gtk_box_append (GTK_BOX (box), text_label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);

  return row;
}

/* --- building and clearing -------------------------------------------------------------------- */

void
kiln_job_page_details_build (KilnJobPage *self)
{
  guint n = kiln_render_job_get_n_subtasks (self->job);

  for (guint i = 0; i < n; i++)
    {
      GtkWidget *row = kiln_job_page_new_subtask_row (self, i);

      gtk_list_box_append (self->subtasks_list, row);
      g_ptr_array_add (self->subtask_rows, row);
      kiln_job_page_subtask_changed (self, i);
    }

  kiln_job_page_update_payments (self);
  gtk_list_box_bind_model (self->log_list, kiln_render_job_get_events (self->job),
                           kiln_job_page_new_log_row, NULL, NULL);
}

void
kiln_job_page_details_clear (KilnJobPage *self)
{
  gtk_list_box_bind_model (self->log_list, NULL, NULL, NULL, NULL);
  g_ptr_array_set_size (self->subtask_rows, 0);
  list_box_clear (self->subtasks_list);
  list_box_clear (self->payments_list);
}
