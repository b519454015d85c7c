/* kiln-qr-code.c: a QR code of a short text, such as an address
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libqrencode makes the matrix; the widget draws it as rectangles, dark on white whatever
 * the style (scanners expect that), with the quiet zone around it, and with whole device
 * pixels per module so that it stays sharp at every size and scale.
 */

#include "config.h"

#include <errno.h>
#include <math.h>

#include <qrencode.h>

#include "kiln-qr-code.h"

/* Pixels per module at the natural size. */
#define NATURAL_MODULE_SIZE 6

struct _KilnQrCode
{
  GtkWidget  parent_instance;

  char      *text;
  guint      size;
  guint8    *modules;   /* size × size, row-major, 1 for dark */
};

G_DEFINE_FINAL_TYPE (KilnQrCode, kiln_qr_code, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/**
 * kiln_qr_code_encode:
 * @text: what the code holds
 * @size: (out): the number of modules on a side
 *
 * Returns: (transfer full) (nullable): @size × @size bytes, row-major, 1 for a dark module,
 *   or %NULL (with @size 0) when @text is empty or too long for a QR code
 */
guint8 *
kiln_qr_code_encode (const char *text,
                     guint      *size)
{
  QRcode *code;
  guint8 *modules;
  guint width;

  g_return_val_if_fail (size != NULL, NULL);

  *size = 0;
  if (text == NULL || text[0] == '\0')
    return NULL;

  code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, TRUE);
  if (code == NULL)
    {
      g_debug ("Could not make a QR code of %zu bytes: %s", strlen (text), g_strerror (errno));
      return NULL;
    }

  width = (guint) code->width;
  modules = g_new (guint8, width * width);
  for (guint i = 0; i < width * width; i++)
    modules[i] = code->data[i] & 1;
  QRcode_free (code);

  *size = width;
  return modules;
}

static void
kiln_qr_code_measure (GtkWidget      *widget,
                      GtkOrientation  orientation,
                      int             for_size,
                      int            *minimum,
                      int            *natural,
                      int            *minimum_baseline,
                      int            *natural_baseline)
{
  KilnQrCode *self = KILN_QR_CODE (widget);
  int modules = self->size > 0 ? (int) self->size + 2 * KILN_QR_CODE_QUIET_ZONE : 0;

  /* Two pixels per module is the least a phone camera reads reliably. */
  *minimum = modules * 2;
  *natural = modules * NATURAL_MODULE_SIZE;
}

static GtkSizeRequestMode
kiln_qr_code_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
kiln_qr_code_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  static const GdkRGBA light = { 1.0f, 1.0f, 1.0f, 1.0f };
  static const GdkRGBA dark = { 0.0f, 0.0f, 0.0f, 1.0f };
  KilnQrCode *self = KILN_QR_CODE (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int scale = gtk_widget_get_scale_factor (widget);
  int modules, side;
  float module, origin_x, origin_y;

  if (self->size == 0)
    return;

  /* Whole device pixels per module, centered. */
  modules = (int) self->size + 2 * KILN_QR_CODE_QUIET_ZONE;
  side = MIN (width, height) * scale / modules;
  if (side < 1)
    return;
  module = (float) side / (float) scale;
  origin_x = floorf (((float) width - module * (float) modules) / 2.0f * (float) scale) /
             (float) scale;
  origin_y = floorf (((float) height - module * (float) modules) / 2.0f * (float) scale) /
             (float) scale;

  gtk_snapshot_append_color (snapshot, &light,
                             &GRAPHENE_RECT_INIT (origin_x, origin_y,
                                                  module * (float) modules,
                                                  module * (float) modules));

  /* One rectangle per run of dark modules in a row. */
  for (guint y = 0; y < self->size; y++)
    {
      float top = origin_y + module * (float) (y + KILN_QR_CODE_QUIET_ZONE);
      guint x = 0;

      while (x < self->size)
        {
          float left;
          guint start;

          if (!self->modules[y * self->size + x])
            {
              x++;
              continue;
            }

          start = x;
          while (x < self->size && self->modules[y * self->size + x])
            x++;

          left = origin_x + module * (float) (start + KILN_QR_CODE_QUIET_ZONE);
          gtk_snapshot_append_color (snapshot, &dark,
                                     &GRAPHENE_RECT_INIT (left, top,
                                                          module * (float) (x - start),
                                                          module));
        }
    }
}

static void
kiln_qr_code_finalize (GObject *object)
{
  KilnQrCode *self = (KilnQrCode *)object;

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->modules, g_free);

  G_OBJECT_CLASS (kiln_qr_code_parent_class)->finalize (object);
}

static void
kiln_qr_code_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KilnQrCode *self = KILN_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_qr_code_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  KilnQrCode *self = KILN_QR_CODE (object);

  switch (prop_id)
    {
    case PROP_TEXT:
      kiln_qr_code_set_text (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_qr_code_class_init (KilnQrCodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = kiln_qr_code_finalize;
  object_class->get_property = kiln_qr_code_get_property;
  object_class->set_property = kiln_qr_code_set_property;

  widget_class->measure = kiln_qr_code_measure;
  widget_class->get_request_mode = kiln_qr_code_get_request_mode;
  widget_class->snapshot = kiln_qr_code_snapshot;

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "qrcode");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kiln_qr_code_init (KilnQrCode *self)
{
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
}

GtkWidget *
kiln_qr_code_new (void)
{
  return g_object_new (KILN_TYPE_QR_CODE, NULL);
}

const char *
kiln_qr_code_get_text (KilnQrCode *self)
{
  g_return_val_if_fail (KILN_IS_QR_CODE (self), NULL);

  return self->text;
}

void
kiln_qr_code_set_text (KilnQrCode *self,
                       const char *text)
{
  g_return_if_fail (KILN_IS_QR_CODE (self));

  if (g_strcmp0 (self->text, text) == 0)
    return;

  g_free (self->text);
  self->text = g_strdup (text);

  g_free (self->modules);
  self->modules = kiln_qr_code_encode (text, &self->size);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}
