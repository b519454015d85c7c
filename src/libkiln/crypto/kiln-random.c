/* kiln-random.c: bytes from the operating system's CSPRNG (getrandom)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <sys/random.h>

#include <glib/gi18n-lib.h>

#include "kiln-crypto.h"
#include "kiln-random.h"

gboolean
kiln_random_bytes (guint8  *buffer,
                   gsize    len,
                   GError **error)
{
  gsize done = 0;

  g_return_val_if_fail (buffer != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (done < len)
    {
      ssize_t n = getrandom (buffer + done, len - done, 0);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;

          kiln_secure_wipe (buffer, len);
          g_set_error (error, KILN_CRYPTO_ERROR, KILN_CRYPTO_ERROR_RANDOM,
                       _("Could not read random bytes from the operating system: %s"),
                       g_strerror (saved_errno));
          return FALSE;
        }

      done += (gsize) n;
    }

  return TRUE;
}
