/* kiln-lending-page-private.h: what the Lending page shares with its earnings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kiln-lending-page.h"

G_BEGIN_DECLS

#define KILN_LENDING_PAGE_N_WEEKDAYS 7

struct _KilnLendingPage
{
  AdwBin               parent_instance;

  GtkImage            *state_image;
  GtkLabel            *status_label;
  GtkSwitch           *lend_switch;
  GtkWidget           *progress_box;
  GtkLabel            *progress_label;
  GtkProgressBar      *progress_bar;
  GtkLabel            *today_label;
  GtkLabel            *total_label;
  AdwActionRow        *pending_row;
  GtkLabel            *pending_label;
  GtkLabel            *earnings_note;
  AdwComboRow         *cores_row;
  GtkSpinButton       *memory_spin;
  GtkAdjustment       *memory_adjustment;
  GtkSpinButton       *disk_spin;
  AdwEntryRow         *price_row;
  GtkRevealer         *price_error_revealer;
  GtkLabel            *price_error_label;
  GtkSpinButton       *idle_spin;
  GtkSpinButton       *cpu_spin;
  GtkSwitch           *battery_switch;
  AdwExpanderRow      *schedule_row;
  GtkBox              *days_box;
  GtkToggleButton     *day_buttons[KILN_LENDING_PAGE_N_WEEKDAYS];
  GtkSpinButton       *start_spin;
  GtkSpinButton       *end_spin;
  GtkSwitch           *background_switch;
  GtkWidget           *login_row;
  GtkSwitch           *login_switch;

  GSettings           *settings;
  KilnLender          *lender;
  KilnProvider        *provider;         /* the lender's */
  KilnRenderRun       *run;              /* the render whose progress is shown */
  KilnEarnings        *earnings;         /* the lender's, followed */
  guint                midnight_source;

  gboolean             syncing_schedule;
  gboolean             syncing_price;
};

/* kiln-lending-page-earnings.c */
/* Follows the lender's earnings (they change with the node). */
void _kiln_lending_page_sync_earnings    (KilnLendingPage *self);
void _kiln_lending_page_show_earnings    (KilnLendingPage *self);
/* Lets go of the earnings; for dispose. */
void _kiln_lending_page_dispose_earnings (KilnLendingPage *self);

G_END_DECLS
