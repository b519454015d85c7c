/* kiln-task-announcement.h: a requestor's signed call for offers on a render task
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure encoding, signing and checking; no I/O. docs/market.md ("Task announcement") describes
 * every byte.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-market.h"
#include "kiln-types.h"
#include "kiln-uint256.h"

G_BEGIN_DECLS

/* The whole encoded announcement, signature included: it fits in a discovery topic record. */
#define KILN_TASK_MAX_SIZE          3072
#define KILN_TASK_MAX_RESOURCES     64
/* Offers are taken for at most a week after the announcement is made, and all work is due
 * within 30 days of it. */
#define KILN_TASK_MAX_LIFETIME      (7 * 24 * 60 * 60)
#define KILN_TASK_MAX_DEADLINE      (30 * 24 * 60 * 60)

#define KILN_TYPE_TASK_ANNOUNCEMENT (kiln_task_announcement_get_type ())

G_DECLARE_FINAL_TYPE (KilnTaskAnnouncement, kiln_task_announcement, KILN, TASK_ANNOUNCEMENT,
                      GObject)

/* A new unsigned announcement: no task id yet (signing makes a random one unless one was
 * set), one subtask, one core, no resources, zero prices and times. Every setter drops the
 * signature; sign again afterwards. */
KilnTaskAnnouncement *kiln_task_announcement_new                (void);

const guint8         *kiln_task_announcement_get_task_id        (KilnTaskAnnouncement *self);
/* @id: KILN_MARKET_ID_SIZE bytes. */
void                  kiln_task_announcement_set_task_id        (KilnTaskAnnouncement *self,
                                                                 const guint8         *id);
/* The requestor's address; the zero address until signed. */
const KilnAddress    *kiln_task_announcement_get_requestor      (KilnTaskAnnouncement *self);

/* Where the work is paid: the chain and the ERC-20 token contract. */
guint64               kiln_task_announcement_get_chain_id       (KilnTaskAnnouncement *self);
const KilnAddress    *kiln_task_announcement_get_token          (KilnTaskAnnouncement *self);
void                  kiln_task_announcement_set_payment        (KilnTaskAnnouncement *self,
                                                                 guint64               chain_id,
                                                                 const KilnAddress    *token);

/* Unix seconds: when it was made, until when offers are taken, when all work is due
 * (created < expires ≤ deadline). */
gint64                kiln_task_announcement_get_created        (KilnTaskAnnouncement *self);
gint64                kiln_task_announcement_get_expires        (KilnTaskAnnouncement *self);
gint64                kiln_task_announcement_get_deadline       (KilnTaskAnnouncement *self);
void                  kiln_task_announcement_set_times          (KilnTaskAnnouncement *self,
                                                                 gint64                created,
                                                                 gint64                expires,
                                                                 gint64                deadline);

/* Requirements: the Blender release (major.minor, which providers must run: results are
 * verified against the requestor's own render), the render engine ("CYCLES",
 * "BLENDER_EEVEE", …: 1 to 32 of A–Z, 0–9 and _), the CPU cores each subtask runs on (and is
 * paid for), the memory it needs and the disk space its resources and output take, in MiB. */
void                  kiln_task_announcement_get_blender_version (KilnTaskAnnouncement *self,
                                                                  guint                *major,
                                                                  guint                *minor);
void                  kiln_task_announcement_set_blender_version (KilnTaskAnnouncement *self,
                                                                  guint                 major,
                                                                  guint                 minor);
const char           *kiln_task_announcement_get_engine         (KilnTaskAnnouncement *self);
void                  kiln_task_announcement_set_engine         (KilnTaskAnnouncement *self,
                                                                 const char           *engine);
guint                 kiln_task_announcement_get_min_cores      (KilnTaskAnnouncement *self);
guint                 kiln_task_announcement_get_memory_mib     (KilnTaskAnnouncement *self);
guint                 kiln_task_announcement_get_disk_mib       (KilnTaskAnnouncement *self);
void                  kiln_task_announcement_set_hardware       (KilnTaskAnnouncement *self,
                                                                 guint                 min_cores,
                                                                 guint                 memory_mib,
                                                                 guint                 disk_mib);

/* How many subtasks there are and how long each may take, in seconds. */
guint                 kiln_task_announcement_get_n_subtasks     (KilnTaskAnnouncement *self);
guint                 kiln_task_announcement_get_subtask_timeout (KilnTaskAnnouncement *self);
void                  kiln_task_announcement_set_subtasks       (KilnTaskAnnouncement *self,
                                                                 guint                 n_subtasks,
                                                                 guint                 timeout);

/* The highest price the requestor pays, in GNT base units per CPU-hour, and the most it pays
 * for the whole task, in base units; both below 2^128. */
void                  kiln_task_announcement_get_max_price      (KilnTaskAnnouncement *self,
                                                                 KilnUint256          *out);
void                  kiln_task_announcement_set_max_price      (KilnTaskAnnouncement *self,
                                                                 const KilnUint256    *price);
void                  kiln_task_announcement_get_max_total      (KilnTaskAnnouncement *self,
                                                                 KilnUint256          *out);
void                  kiln_task_announcement_set_max_total      (KilnTaskAnnouncement *self,
                                                                 const KilnUint256    *total);

/* SHA-256 hashes (KILN_MARKET_HASH_SIZE bytes) of the files a provider fetches: the .blend
 * first, then the other files. */
guint                 kiln_task_announcement_get_n_resources    (KilnTaskAnnouncement *self);
const guint8         *kiln_task_announcement_get_resource       (KilnTaskAnnouncement *self,
                                                                 guint                 index);
void                  kiln_task_announcement_add_resource       (KilnTaskAnnouncement *self,
                                                                 const guint8         *sha256);

/* The most one subtask can be paid at the maximum price (kiln_market_compute_payment() of the
 * maximum price, the cores and the timeout), and the most the task can cost: the smaller of
 * the maximum total and that times the number of subtasks. */
gboolean              kiln_task_announcement_get_max_subtask_payment (KilnTaskAnnouncement *self,
                                                                      KilnUint256          *out,
                                                                      GError              **error);
gboolean              kiln_task_announcement_get_max_cost       (KilnTaskAnnouncement *self,
                                                                 KilnUint256          *out,
                                                                 GError              **error);

/* Checks every field against the limits, gives the announcement a random task id if it has
 * none, and signs it as @key's address. */
gboolean              kiln_task_announcement_sign               (KilnTaskAnnouncement *self,
                                                                 KilnKey              *key,
                                                                 GError              **error);
gboolean              kiln_task_announcement_is_signed          (KilnTaskAnnouncement *self);
/* Signed announcements only: the bytes as they travel, and the digest that was signed (which
 * offers and terms name the announcement by). */
GBytes               *kiln_task_announcement_get_bytes          (KilnTaskAnnouncement *self);
const guint8         *kiln_task_announcement_get_digest         (KilnTaskAnnouncement *self);

/* Reads @bytes and checks everything that needs no context: size, version, every field's
 * range, the signature (it must recover the requestor named inside) and, with @now ≥ 0 (Unix
 * seconds), that it has not expired and is not dated more than KILN_MARKET_MAX_SKEW seconds
 * in the future. @now < 0 skips the times, for looking at old announcements. Returns NULL with
 * a KILN_MARKET_ERROR on any failure, and never reads outside @bytes. */
KilnTaskAnnouncement *kiln_task_announcement_verify             (GBytes               *bytes,
                                                                 gint64                now,
                                                                 GError              **error);

G_END_DECLS
