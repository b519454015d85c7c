/* kiln-control.h: a running node's local control socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A Unix socket in the node's data folder, private to its user (mode 0600), through which
 * local commands (kiln-node peers) ask the running node questions. One request per
 * connection: the client sends one line of JSON, the node answers with one line of JSON
 * and closes. docs/protocol.md ("Local control socket") describes the lines. It never
 * leaves the machine.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kiln-types.h"

G_BEGIN_DECLS

/* The socket's name inside the data folder. */
#define KILN_CONTROL_SOCKET_NAME     "control.sock"
#define KILN_CONTROL_VERSION         1
/* A request line may be this long, a reply line this long (newline included). */
#define KILN_CONTROL_REQUEST_MAX     (64 * 1024)
#define KILN_CONTROL_REPLY_MAX       (16 * 1024 * 1024)
/* A client has this long to send its request, and waits this long for the answer. */
#define KILN_CONTROL_TIMEOUT_MS      10000

#define KILN_CONTROL_ERROR (kiln_control_error_quark ())

typedef enum
{
  KILN_CONTROL_ERROR_NOT_RUNNING,    /* no node listens on the socket */
  KILN_CONTROL_ERROR_RUNNING,        /* another node already listens on it */
  KILN_CONTROL_ERROR_PROTOCOL,       /* a malformed request or reply */
  KILN_CONTROL_ERROR_UNKNOWN_METHOD, /* the node does not know the method */
  KILN_CONTROL_ERROR_FAILED,         /* the node answered with an error */
} KilnControlError;

GQuark kiln_control_error_quark (void);

#define KILN_TYPE_CONTROL (kiln_control_get_type ())

G_DECLARE_FINAL_TYPE (KilnControl, kiln_control, KILN, CONTROL, GObject)

/* Answers a request: the "result" member of the reply, or NULL with @error (sent as the
 * reply's "error"; KILN_CONTROL_ERROR_UNKNOWN_METHOD for a method it does not know).
 * @params is the request's "params" object, or NULL. */
typedef JsonNode *(*KilnControlFunc) (KilnControl  *control,
                                      const char   *method,
                                      JsonObject   *params,
                                      gpointer      user_data,
                                      GError      **error);

KilnControl *kiln_control_new          (const char      *path,
                                        KilnControlFunc  func,
                                        gpointer         user_data,
                                        GDestroyNotify   destroy);
const char  *kiln_control_get_path     (KilnControl     *self);

/* Creates the socket and answers requests on the thread-default main context. A socket
 * left by a node that died is replaced; one that a live node answers on gives
 * KILN_CONTROL_ERROR_RUNNING, and anything else at @path G_IO_ERROR_EXISTS. */
gboolean     kiln_control_start        (KilnControl     *self,
                                        GError         **error);
/* Stops answering and removes the socket. Also done by dispose. */
void         kiln_control_stop         (KilnControl     *self);

/* The client side: sends {"version": 1, "method": @method, "params": @params} to the node
 * listening at @path and gives the reply's "result". Fails with
 * KILN_CONTROL_ERROR_NOT_RUNNING when nobody listens there, KILN_CONTROL_ERROR_FAILED (or
 * UNKNOWN_METHOD) with the node's message when it answers with an error, and
 * G_IO_ERROR_TIMED_OUT after KILN_CONTROL_TIMEOUT_MS. */
void         kiln_control_call_async   (const char          *path,
                                        const char          *method,
                                        JsonObject          *params,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
JsonNode    *kiln_control_call_finish  (GAsyncResult        *result,
                                        GError             **error);

G_END_DECLS
