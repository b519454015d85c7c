/* kiln-lending-page.c: lending this computer: the switch, why work runs or waits, limits,
 * schedule and earnings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every control edits a GSettings key; the application binds those keys to the engine's
 * lending policy, so the page, the tray and `gsettings` always agree. What the page shows
 * comes from the lender (kiln-lender.h): its state and the sentence saying what lending
 * does or why it waits, the progress of the subtask worked on, and the node's earnings
 * confirmed on the chain.
 */

#include "config.h"

#include <math.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "kiln-amount.h"
#include "kiln-application.h"
#include "kiln-lending-page-private.h"

#define MIB_PER_GIB 1024.0

G_DEFINE_FINAL_TYPE (KilnLendingPage, kiln_lending_page, ADW_TYPE_BIN)

/* --- state and progress -------------------------------------------------------------------- */

static void
kiln_lending_page_sync_state (KilnLendingPage *self)
{
  GtkWidget *image = GTK_WIDGET (self->state_image);
  const char *requestor = kiln_lender_get_requestor (self->lender);
  g_autofree char *tooltip = NULL;
  const char *icon_name;
  const char *style = NULL;

  gtk_label_set_label (self->status_label, kiln_lender_get_status (self->lender));
  /* The sentence shortens the requestor's address; the whole of it is a hover away. */
  if (requestor != NULL)
    /* Translators: the full address of the requestor whose subtask this computer works on */
    tooltip = g_strdup_printf (_("Requestor: %s"), requestor);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label), tooltip);

  switch (kiln_lender_get_state (self->lender))
    {
    case KILN_LENDER_STATE_RENDERING:
      icon_name = "kiln-render-symbolic";
      style = "success";
      break;

    case KILN_LENDER_STATE_READY:
      icon_name = "media-playback-start-symbolic";
      style = "success";
      break;

    case KILN_LENDER_STATE_PAUSED:
      icon_name = "media-playback-pause-symbolic";
      style = "warning";
      break;

    case KILN_LENDER_STATE_BLOCKED:
      icon_name = "dialog-warning-symbolic";
      style = "warning";
      break;

    case KILN_LENDER_STATE_WAITING:
    case KILN_LENDER_STATE_PREPARING:
      icon_name = "preferences-system-time-symbolic";
      style = "accent";
      break;

    case KILN_LENDER_STATE_OFF:
    default:
      icon_name = "media-playback-stop-symbolic";
      style = "dim-label";
      break;
    }

  gtk_image_set_from_icon_name (self->state_image, icon_name);
  gtk_widget_remove_css_class (image, "success");
  gtk_widget_remove_css_class (image, "warning");
  gtk_widget_remove_css_class (image, "accent");
  gtk_widget_remove_css_class (image, "dim-label");
  gtk_widget_add_css_class (image, style);
}

/* The progress of the render the provider watches, frame by frame. */
static char *
describe_run (KilnLendingPage *self,
              guint            percent)
{
  const KilnRenderSpec *spec = kiln_render_run_get_spec (self->run);
  int frame = kiln_render_run_get_frame (self->run);

  if (kiln_provider_is_run_paused (self->provider, self->run))
    /* Translators: a paused render, "Paused at frame 12 · 35 %" */
    return g_strdup_printf (_("Paused at frame %d · %u %%"), frame, percent);
  if (spec->frame_end > spec->frame_start)
    /* Translators: a render of several frames, "Frame 12 of 10–20 · 35 %" */
    return g_strdup_printf (_("Frame %d of %d–%d · %u %%"), frame, spec->frame_start,
                            spec->frame_end, percent);
  /* Translators: a render of one frame, "Frame 12 · 35 %" */
  return g_strdup_printf (_("Frame %d · %u %%"), frame, percent);
}

/* A subtask before or after its render: its scene still coming, or its images going back. */
static char *
describe_subtask (double fraction)
{
  if (fraction >= 1.0)
    return g_strdup (_("Sending the images to the requestor…"));
  return g_strdup (_("Getting the scene from the requestor…"));
}

static void
kiln_lending_page_sync_progress (KilnLendingPage *self)
{
  gboolean working = kiln_lender_get_requestor (self->lender) != NULL;
  g_autofree char *text = NULL;
  double fraction;
  guint percent;

  gtk_widget_set_visible (self->progress_box, working || self->run != NULL);
  if (!working && self->run == NULL)
    return;

  /* The agent's subtask, else a render the provider watches for someone else. */
  if (working)
    fraction = kiln_lender_get_progress (self->lender);
  else
    fraction = kiln_render_run_get_fraction (self->run);
  fraction = CLAMP (fraction, 0.0, 1.0);
  /* Never shows 100 % before the render is done. */
  percent = (guint) floor (fraction * 100.0);

  if (self->run != NULL)
    text = describe_run (self, percent);
  else
    text = describe_subtask (fraction);

  gtk_label_set_label (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, fraction);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, text,
                                  -1);
}

static void
kiln_lending_page_set_run (KilnLendingPage *self,
                           KilnRenderRun   *run)
{
  if (self->run == run)
    return;

  if (self->run != NULL)
    g_signal_handlers_disconnect_by_data (self->run, self);
  g_set_object (&self->run, run);

  if (run != NULL)
    {
      g_signal_connect_object (run, "notify::fraction",
                               G_CALLBACK (kiln_lending_page_sync_progress),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (run, "notify::frame",
                               G_CALLBACK (kiln_lending_page_sync_progress),
                               self, G_CONNECT_SWAPPED);
    }
}

/* Follows the oldest render the provider watches. */
static void
kiln_lending_page_sync_runs (KilnLendingPage *self)
{
  g_autoptr(GPtrArray) runs = kiln_provider_dup_runs (self->provider);

  kiln_lending_page_set_run (self, runs->len > 0 ? g_ptr_array_index (runs, 0) : NULL);
  kiln_lending_page_sync_progress (self);
}

/* --- limits -------------------------------------------------------------------------------- */

static gboolean
cores_get_mapping (GValue   *value,
                   GVariant *variant,
                   gpointer  user_data)
{
  guint n_processors = GPOINTER_TO_UINT (user_data);

  g_value_set_uint (value, MIN (g_variant_get_uint32 (variant), n_processors));
  return TRUE;
}

static GVariant *
cores_set_mapping (const GValue       *value,
                   const GVariantType *expected_type,
                   gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected == GTK_INVALID_LIST_POSITION)
    return NULL;
  return g_variant_new_uint32 (selected);
}

/* Item 0 is "automatic", item N lends N cores. */
static void
kiln_lending_page_setup_cores (KilnLendingPage *self)
{
  guint n_processors = MAX (g_get_num_processors (), 1);
  guint automatic = kiln_application_get_auto_cores ();
  g_autoptr(GtkStringList) model = gtk_string_list_new (NULL);
  g_autofree char *subtitle = NULL;
  g_autofree char *first = NULL;

  /* Translators: the number of cores lent when none is chosen */
  first = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Automatic (%u core)",
                                        "Automatic (%u cores)", automatic), automatic);
  gtk_string_list_append (model, first);
  for (guint i = 1; i <= n_processors; i++)
    {
      char number[16];

      g_snprintf (number, sizeof number, "%u", i);
      gtk_string_list_append (model, number);
    }
  adw_combo_row_set_model (self->cores_row, G_LIST_MODEL (model));

  subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "This computer has %u core",
                                           "This computer has %u cores", n_processors),
                              n_processors);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->cores_row), subtitle);

  g_settings_bind_with_mapping (self->settings, "lending-cores",
                                self->cores_row, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                cores_get_mapping, cores_set_mapping,
                                GUINT_TO_POINTER (n_processors), NULL);
}

static gboolean
mib_get_mapping (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_uint32 (variant) / MIB_PER_GIB);
  return TRUE;
}

static GVariant *
mib_set_mapping (const GValue       *value,
                 const GVariantType *expected_type,
                 gpointer            user_data)
{
  double mib = round (g_value_get_double (value) * MIB_PER_GIB);

  return g_variant_new_uint32 ((guint32) CLAMP (mib, 0, G_MAXUINT32));
}

static void
kiln_lending_page_setup_sizes (KilnLendingPage *self)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page_size = sysconf (_SC_PAGESIZE);

  /* No more memory than the computer has, in steps of half a GiB. */
  if (pages > 0 && page_size > 0)
    gtk_adjustment_set_upper (self->memory_adjustment,
                              ceil ((double) pages * page_size / (512.0 * 1024 * 1024)) / 2.0);

  g_settings_bind_with_mapping (self->settings, "lending-memory-mib",
                                self->memory_spin, "value",
                                G_SETTINGS_BIND_DEFAULT,
                                mib_get_mapping, mib_set_mapping, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "lending-disk-mib",
                                self->disk_spin, "value",
                                G_SETTINGS_BIND_DEFAULT,
                                mib_get_mapping, mib_set_mapping, NULL, NULL);
}

static void
kiln_lending_page_show_price_error (KilnLendingPage *self,
                                    const char      *message)
{
  GtkWidget *row = GTK_WIDGET (self->price_row);

  if (message != NULL)
    {
      gtk_label_set_label (self->price_error_label, message);
      gtk_widget_add_css_class (row, "error");
      gtk_accessible_update_state (GTK_ACCESSIBLE (row),
                                   GTK_ACCESSIBLE_STATE_INVALID, GTK_ACCESSIBLE_INVALID_TRUE,
                                   -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                      -1);
    }
  else
    {
      gtk_widget_remove_css_class (row, "error");
      gtk_accessible_reset_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
    }

  gtk_revealer_set_reveal_child (self->price_error_revealer, message != NULL);
}

/* A hidden error says nothing, to screen readers either. */
static void
kiln_lending_page_price_revealed_cb (KilnLendingPage *self)
{
  if (!gtk_revealer_get_reveal_child (self->price_error_revealer) &&
      !gtk_revealer_get_child_revealed (self->price_error_revealer))
    gtk_label_set_label (self->price_error_label, "");
}

/* Checked as it is typed. */
static void
kiln_lending_page_price_changed_cb (KilnLendingPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->price_row));
  g_autoptr(GError) error = NULL;
  KilnUint256 units;

  if (self->syncing_price)
    return;

  if (kiln_amount_parse (&units, text, KILN_LENDING_PRICE_DECIMALS, "GNT", &error))
    kiln_lending_page_show_price_error (self, NULL);
  else
    kiln_lending_page_show_price_error (self, error->message);
}

/* Saved with Enter or the apply button, in its exact decimal form, when it is valid. */
static void
kiln_lending_page_price_apply_cb (KilnLendingPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->price_row));
  g_autofree char *canonical = NULL;
  g_autofree char *saved = NULL;
  KilnUint256 units;

  if (self->settings == NULL ||
      !kiln_amount_parse (&units, text, KILN_LENDING_PRICE_DECIMALS, "GNT", NULL))
    return;

  canonical = kiln_uint256_format_units (&units, KILN_LENDING_PRICE_DECIMALS);
  saved = g_settings_get_string (self->settings, "lending-min-price");
  if (!g_str_equal (canonical, saved))
    g_settings_set_string (self->settings, "lending-min-price", canonical);
}

/* Shows the saved price unless the entry already says the same. */
static void
kiln_lending_page_sync_price (KilnLendingPage *self)
{
  g_autofree char *saved = g_settings_get_string (self->settings, "lending-min-price");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->price_row));
  KilnUint256 shown, wanted;

  if (kiln_amount_parse (&shown, text, KILN_LENDING_PRICE_DECIMALS, NULL, NULL) &&
      kiln_uint256_parse_units (&wanted, saved, KILN_LENDING_PRICE_DECIMALS, NULL, NULL) &&
      kiln_uint256_equal (&shown, &wanted))
    return;

  self->syncing_price = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->price_row), saved);
  self->syncing_price = FALSE;
  kiln_lending_page_show_price_error (self, NULL);
}

/* --- schedule ------------------------------------------------------------------------------ */

static const char *
weekday_name (guint day)
{
  switch (day)
    {
    case 0: return _("Monday");
    case 1: return _("Tuesday");
    case 2: return _("Wednesday");
    case 3: return _("Thursday");
    case 4: return _("Friday");
    case 5: return _("Saturday");
    case 6: return _("Sunday");
    default: g_assert_not_reached ();
    }
}

static const char *
weekday_abbreviation (guint day)
{
  switch (day)
    {
    case 0: return C_("weekday", "Mon");
    case 1: return C_("weekday", "Tue");
    case 2: return C_("weekday", "Wed");
    case 3: return C_("weekday", "Thu");
    case 4: return C_("weekday", "Fri");
    case 5: return C_("weekday", "Sat");
    case 6: return C_("weekday", "Sun");
    default: g_assert_not_reached ();
    }
}

static char *
format_time_of_day (guint minute)
{
  return g_strdup_printf ("%02u:%02u", minute / 60, minute % 60);
}

/* "Every day, all day", "Weekdays, 22:00–07:00", "Mon, Wed, 09:00–17:00". */
static char *
describe_schedule (guint days,
                   guint start,
                   guint end)
{
  g_autoptr(GString) which = g_string_new (NULL);
  g_autofree char *when = NULL;

  if (days == 0)
    return g_strdup (_("Never: no day is chosen"));

  if (days == KILN_WEEKDAY_ALL)
    g_string_append (which, _("Every day"));
  else if (days == (KILN_WEEKDAY_MONDAY | KILN_WEEKDAY_TUESDAY | KILN_WEEKDAY_WEDNESDAY |
                    KILN_WEEKDAY_THURSDAY | KILN_WEEKDAY_FRIDAY))
    g_string_append (which, _("Weekdays"));
  else if (days == (KILN_WEEKDAY_SATURDAY | KILN_WEEKDAY_SUNDAY))
    g_string_append (which, _("Weekends"));
  else
    for (guint i = 0; i < KILN_LENDING_PAGE_N_WEEKDAYS; i++)
      if (days & (1u << i))
        {
          if (which->len > 0)
            /* Translators: between days in a list, "Mon, Wed" */
            g_string_append (which, C_("weekday list", ", "));
          g_string_append (which, weekday_abbreviation (i));
        }

  if (start == end)
    {
      when = g_strdup (_("all day"));
    }
  else
    {
      g_autofree char *from = format_time_of_day (start);
      g_autofree char *until = format_time_of_day (end);

      /* Translators: a time range, "22:00–07:00" */
      when = g_strdup_printf (C_("time range", "%s–%s"), from, until);
    }

  /* Translators: days, then times, "Weekdays, 22:00–07:00" */
  return g_strdup_printf (C_("schedule", "%s, %s"), which->str, when);
}

static void
kiln_lending_page_sync_schedule (KilnLendingPage *self)
{
  g_autofree char *subtitle = NULL;
  guint days, start, end;

  g_settings_get (self->settings, "lending-schedule", "(uuu)", &days, &start, &end);

  self->syncing_schedule = TRUE;
  for (guint i = 0; i < KILN_LENDING_PAGE_N_WEEKDAYS; i++)
    gtk_toggle_button_set_active (self->day_buttons[i], (days & (1u << i)) != 0);
  gtk_spin_button_set_value (self->start_spin, MIN (start, KILN_MINUTES_PER_DAY - 1));
  gtk_spin_button_set_value (self->end_spin, MIN (end, KILN_MINUTES_PER_DAY));
  self->syncing_schedule = FALSE;

  subtitle = describe_schedule (days, start, end);
  adw_expander_row_set_subtitle (self->schedule_row, subtitle);
}

static void
kiln_lending_page_schedule_changed_cb (KilnLendingPage *self)
{
  guint days = 0;
  guint start, end;

  if (self->syncing_schedule || self->settings == NULL)
    return;

  for (guint i = 0; i < KILN_LENDING_PAGE_N_WEEKDAYS; i++)
    if (gtk_toggle_button_get_active (self->day_buttons[i]))
      days |= 1u << i;
  start = (guint) gtk_spin_button_get_value_as_int (self->start_spin);
  end = (guint) gtk_spin_button_get_value_as_int (self->end_spin);

  g_settings_set (self->settings, "lending-schedule", "(uuu)",
                  days, MIN (start, KILN_MINUTES_PER_DAY - 1), MIN (end, KILN_MINUTES_PER_DAY));
}

/* The From and Until spin buttons show and read "HH:MM". */
static gboolean
kiln_lending_page_time_output_cb (GtkSpinButton *spin,
                                  gpointer       user_data)
{
  int minute = gtk_spin_button_get_value_as_int (spin);
  g_autofree char *text = format_time_of_day ((guint) MAX (minute, 0));

  if (!g_str_equal (gtk_editable_get_text (GTK_EDITABLE (spin)), text))
    gtk_editable_set_text (GTK_EDITABLE (spin), text);
  return TRUE;
}

static int
kiln_lending_page_time_input_cb (GtkSpinButton *spin,
                                 double        *new_value,
                                 gpointer       user_data)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (spin))));
  guint minute;

  if (!kiln_lending_policy_parse_time_of_day (text, &minute))
    return GTK_INPUT_ERROR;

  *new_value = minute;
  return TRUE;
}

static void
kiln_lending_page_add_day_buttons (KilnLendingPage *self)
{
  for (guint i = 0; i < KILN_LENDING_PAGE_N_WEEKDAYS; i++)
    {
      GtkWidget *button = gtk_toggle_button_new_with_label (weekday_abbreviation (i));

      gtk_widget_set_tooltip_text (button, weekday_name (i));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, weekday_name (i),
                                      -1);
      gtk_widget_add_css_class (button, "circular");
      g_signal_connect_object (button, "toggled",
                               G_CALLBACK (kiln_lending_page_schedule_changed_cb),
                               self, G_CONNECT_SWAPPED);
      gtk_box_append (self->days_box, button);
      self->day_buttons[i] = GTK_TOGGLE_BUTTON (button);
    }
}

/* --- GObject ------------------------------------------------------------------------------- */

static void
kiln_lending_page_dispose (GObject *object)
{
  KilnLendingPage *self = (KilnLendingPage *)object;

  _kiln_lending_page_dispose_earnings (self);
  kiln_lending_page_set_run (self, NULL);
  if (self->lender != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->lender, self);
      if (kiln_lender_get_session (self->lender) != NULL)
        g_signal_handlers_disconnect_by_data (kiln_lender_get_session (self->lender), self);
    }
  if (self->provider != NULL)
    g_signal_handlers_disconnect_by_data (self->provider, self);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);

  g_clear_object (&self->lender);
  g_clear_object (&self->provider);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kiln_lending_page_parent_class)->dispose (object);
}

static void
kiln_lending_page_class_init (KilnLendingPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kiln_lending_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/kiln-lending-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, state_image);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, lend_switch);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, progress_box);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, progress_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, today_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, total_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, pending_row);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, pending_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, earnings_note);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, cores_row);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, memory_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, memory_adjustment);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, disk_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, price_row);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, price_error_revealer);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, price_error_label);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, idle_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, cpu_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, battery_switch);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, schedule_row);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, days_box);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, start_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, end_spin);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, background_switch);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, login_row);
  gtk_widget_class_bind_template_child (widget_class, KilnLendingPage, login_switch);
  gtk_widget_class_bind_template_callback (widget_class, kiln_lending_page_price_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_lending_page_price_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_lending_page_time_input_cb);
  gtk_widget_class_bind_template_callback (widget_class, kiln_lending_page_time_output_cb);
}

static void
kiln_lending_page_init (KilnLendingPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  kiln_lending_page_add_day_buttons (self);
  g_signal_connect_object (self->price_error_revealer, "notify::child-revealed",
                           G_CALLBACK (kiln_lending_page_price_revealed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->start_spin, "value-changed",
                           G_CALLBACK (kiln_lending_page_schedule_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->end_spin, "value-changed",
                           G_CALLBACK (kiln_lending_page_schedule_changed_cb),
                           self, G_CONNECT_SWAPPED);
}

/**
 * kiln_lending_page_setup:
 * @self: a #KilnLendingPage
 * @settings: the app's settings, with the lending-* keys
 * @lender: what the app lends with
 *
 * Binds the page's controls to @settings and starts following @lender.
 */
void
kiln_lending_page_setup (KilnLendingPage *self,
                         GSettings       *settings,
                         KilnLender      *lender)
{
  KilnProvider *provider;
  KilnSession *session;

  g_return_if_fail (KILN_IS_LENDING_PAGE (self));
  g_return_if_fail (G_IS_SETTINGS (settings));
  g_return_if_fail (KILN_IS_LENDER (lender));
  g_return_if_fail (self->settings == NULL);

  provider = kiln_lender_get_provider (lender);
  session = kiln_lender_get_session (lender);
  self->settings = g_object_ref (settings);
  self->lender = g_object_ref (lender);
  self->provider = g_object_ref (provider);

  g_settings_bind (settings, "lending-enabled", self->lend_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  kiln_lending_page_setup_cores (self);
  kiln_lending_page_setup_sizes (self);
  g_settings_bind (settings, "lending-idle-delay", self->idle_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "lending-cpu-threshold", self->cpu_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "lending-on-battery", self->battery_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "run-in-background", self->background_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "start-on-login", self->login_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  /* Starting without a window only makes sense when Kiln may stay without one. */
  g_settings_bind (settings, "run-in-background", self->login_row, "sensitive",
                   G_SETTINGS_BIND_GET);

  g_signal_connect_object (settings, "changed::lending-min-price",
                           G_CALLBACK (kiln_lending_page_sync_price),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (settings, "changed::lending-schedule",
                           G_CALLBACK (kiln_lending_page_sync_schedule),
                           self, G_CONNECT_SWAPPED);
  kiln_lending_page_sync_price (self);
  kiln_lending_page_sync_schedule (self);

  g_signal_connect_object (lender, "notify::state",
                           G_CALLBACK (kiln_lending_page_sync_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lender, "notify::status",
                           G_CALLBACK (kiln_lending_page_sync_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lender, "notify::requestor",
                           G_CALLBACK (kiln_lending_page_sync_state),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lender, "notify::requestor",
                           G_CALLBACK (kiln_lending_page_sync_progress),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lender, "notify::progress",
                           G_CALLBACK (kiln_lending_page_sync_progress),
                           self, G_CONNECT_SWAPPED);
  /* Pausing and resuming change how the progress reads. */
  g_signal_connect_object (provider, "notify::n-runs",
                           G_CALLBACK (kiln_lending_page_sync_runs),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (provider, "paused",
                           G_CALLBACK (kiln_lending_page_sync_progress),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (provider, "resumed",
                           G_CALLBACK (kiln_lending_page_sync_progress),
                           self, G_CONNECT_SWAPPED);
  kiln_lending_page_sync_state (self);
  kiln_lending_page_sync_runs (self);

  g_signal_connect_object (lender, "notify::earnings",
                           G_CALLBACK (_kiln_lending_page_sync_earnings),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lender, "notify::chain",
                           G_CALLBACK (_kiln_lending_page_show_earnings),
                           self, G_CONNECT_SWAPPED);
  if (session != NULL)
    {
      g_signal_connect_object (session, "notify::wallet",
                               G_CALLBACK (_kiln_lending_page_show_earnings),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::state",
                               G_CALLBACK (_kiln_lending_page_show_earnings),
                               self, G_CONNECT_SWAPPED);
      g_signal_connect_object (session, "notify::key",
                               G_CALLBACK (_kiln_lending_page_show_earnings),
                               self, G_CONNECT_SWAPPED);
    }
  _kiln_lending_page_sync_earnings (self);
}
