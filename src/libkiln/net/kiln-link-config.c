/* kiln-link-config.c: what every link of a node shares: its key, certificate and timeouts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "kiln-link-config.h"
#include "kiln-net.h"
#include "kiln-tls-certificate.h"

struct _KilnLinkConfig
{
  GObject          parent_instance;

  KilnKey         *key;
  GTlsCertificate *certificate;
  guint            handshake_timeout;
  guint            keepalive_interval;
  guint            keepalive_timeout;
};

enum {
  PROP_0,
  PROP_KEY,
  PROP_CERTIFICATE,
  PROP_HANDSHAKE_TIMEOUT,
  PROP_KEEPALIVE_INTERVAL,
  PROP_KEEPALIVE_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KilnLinkConfig, kiln_link_config, G_TYPE_OBJECT)

static void
kiln_link_config_finalize (GObject *object)
{
  KilnLinkConfig *self = KILN_LINK_CONFIG (object);

  g_clear_object (&self->key);
  g_clear_object (&self->certificate);

  G_OBJECT_CLASS (kiln_link_config_parent_class)->finalize (object);
}

static void
kiln_link_config_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KilnLinkConfig *self = KILN_LINK_CONFIG (object);

  switch (prop_id)
    {
    case PROP_KEY:
      g_value_set_object (value, self->key);
      break;
    case PROP_CERTIFICATE:
      g_value_set_object (value, self->certificate);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      g_value_set_uint (value, self->handshake_timeout);
      break;
    case PROP_KEEPALIVE_INTERVAL:
      g_value_set_uint (value, self->keepalive_interval);
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      g_value_set_uint (value, self->keepalive_timeout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_link_config_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KilnLinkConfig *self = KILN_LINK_CONFIG (object);

  switch (prop_id)
    {
    case PROP_KEY:
      self->key = g_value_dup_object (value);
      break;
    case PROP_CERTIFICATE:
      self->certificate = g_value_dup_object (value);
      break;
    case PROP_HANDSHAKE_TIMEOUT:
      kiln_link_config_set_handshake_timeout (self, g_value_get_uint (value));
      break;
    case PROP_KEEPALIVE_INTERVAL:
      kiln_link_config_set_keepalive_interval (self, g_value_get_uint (value));
      break;
    case PROP_KEEPALIVE_TIMEOUT:
      kiln_link_config_set_keepalive_timeout (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kiln_link_config_class_init (KilnLinkConfigClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kiln_link_config_finalize;
  object_class->get_property = kiln_link_config_get_property;
  object_class->set_property = kiln_link_config_set_property;

  properties[PROP_KEY] =
    g_param_spec_object ("key", NULL, NULL,
                         KILN_TYPE_KEY,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL,
                         G_TYPE_TLS_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HANDSHAKE_TIMEOUT] =
    g_param_spec_uint ("handshake-timeout", NULL, NULL,
                       1, G_MAXINT, KILN_NET_HANDSHAKE_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEEPALIVE_INTERVAL] =
    g_param_spec_uint ("keepalive-interval", NULL, NULL,
                       1, G_MAXINT, KILN_NET_KEEPALIVE_INTERVAL_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_KEEPALIVE_TIMEOUT] =
    g_param_spec_uint ("keepalive-timeout", NULL, NULL,
                       1, G_MAXINT, KILN_NET_KEEPALIVE_TIMEOUT_MS,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kiln_link_config_init (KilnLinkConfig *self)
{
  self->handshake_timeout = KILN_NET_HANDSHAKE_TIMEOUT_MS;
  self->keepalive_interval = KILN_NET_KEEPALIVE_INTERVAL_MS;
  self->keepalive_timeout = KILN_NET_KEEPALIVE_TIMEOUT_MS;
}

KilnLinkConfig *
kiln_link_config_new (KilnKey  *key,
                      GError  **error)
{
  g_autoptr(GTlsCertificate) certificate = NULL;

  g_return_val_if_fail (KILN_IS_KEY (key), NULL);

  certificate = kiln_tls_certificate_new (error);
  if (certificate == NULL)
    return NULL;

  return g_object_new (KILN_TYPE_LINK_CONFIG,
                       "key", key,
                       "certificate", certificate,
                       NULL);
}

KilnKey *
kiln_link_config_get_key (KilnLinkConfig *self)
{
  g_return_val_if_fail (KILN_IS_LINK_CONFIG (self), NULL);

  return self->key;
}

GTlsCertificate *
kiln_link_config_get_certificate (KilnLinkConfig *self)
{
  g_return_val_if_fail (KILN_IS_LINK_CONFIG (self), NULL);

  return self->certificate;
}

guint
kiln_link_config_get_handshake_timeout (KilnLinkConfig *self)
{
  g_return_val_if_fail (KILN_IS_LINK_CONFIG (self), 0);

  return self->handshake_timeout;
}

void
kiln_link_config_set_handshake_timeout (KilnLinkConfig *self,
                                        guint           timeout_ms)
{
  g_return_if_fail (KILN_IS_LINK_CONFIG (self));
  g_return_if_fail (timeout_ms > 0 && timeout_ms <= G_MAXINT);

  if (self->handshake_timeout == timeout_ms)
    return;

  self->handshake_timeout = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HANDSHAKE_TIMEOUT]);
}

guint
kiln_link_config_get_keepalive_interval (KilnLinkConfig *self)
{
  g_return_val_if_fail (KILN_IS_LINK_CONFIG (self), 0);

  return self->keepalive_interval;
}

void
kiln_link_config_set_keepalive_interval (KilnLinkConfig *self,
                                         guint           interval_ms)
{
  g_return_if_fail (KILN_IS_LINK_CONFIG (self));
  g_return_if_fail (interval_ms > 0 && interval_ms <= G_MAXINT);

  if (self->keepalive_interval == interval_ms)
    return;

  self->keepalive_interval = interval_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEPALIVE_INTERVAL]);
}

guint
kiln_link_config_get_keepalive_timeout (KilnLinkConfig *self)
{
  g_return_val_if_fail (KILN_IS_LINK_CONFIG (self), 0);

  return self->keepalive_timeout;
}

void
kiln_link_config_set_keepalive_timeout (KilnLinkConfig *self,
                                        guint           timeout_ms)
{
  g_return_if_fail (KILN_IS_LINK_CONFIG (self));
  g_return_if_fail (timeout_ms > 0 && timeout_ms <= G_MAXINT);

  if (self->keepalive_timeout == timeout_ms)
    return;

  self->keepalive_timeout = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEEPALIVE_TIMEOUT]);
}
