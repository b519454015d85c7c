/* kiln-dht-record.h: signed records that nodes store in the discovery DHT
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure encoding, signing and checking; no I/O. docs/protocol.md ("Discovery") describes every
 * byte defined here.
 */
#pragma once

#include <glib-object.h>

#include "kiln-address.h"
#include "kiln-key.h"
#include "kiln-types.h"

G_BEGIN_DECLS

#define KILN_DHT_RECORD_VERSION        1
/* The signature covers keccak256(0x19 || context || record bytes before the signature). */
#define KILN_DHT_RECORD_CONTEXT        "kiln/dht-record/v1"
/* Whole encoded record, signature included. OpenDHT itself refuses values above 64 KiB. */
#define KILN_DHT_RECORD_MAX_SIZE       4096
#define KILN_DHT_RECORD_HEADER_SIZE    43
#define KILN_DHT_TOPIC_MAX             64
/* A record may live at most this long, and may be dated this far in the future (clock skew). */
#define KILN_DHT_RECORD_MAX_LIFETIME   (24 * 60 * 60)
#define KILN_DHT_RECORD_MAX_SKEW       300

/* Node records: payload limits and the default lifetime. */
#define KILN_DHT_NODE_MAX_ENDPOINTS    8
#define KILN_DHT_NODE_HOST_MAX         253
#define KILN_DHT_NODE_RECORD_LIFETIME  (15 * 60)
/* Node records are sharded over this many buckets per role: the top bits of the address. */
#define KILN_DHT_NODE_BUCKETS          16

/* Kiln's default network ID, OpenDHT's "network" field: "Kln" and the network number 1. */
#define KILN_DHT_NETWORK_DEFAULT       0x4b6c6e01u

typedef enum
{
  KILN_DHT_RECORD_NODE  = 1,
  KILN_DHT_RECORD_TOPIC = 2,
} KilnDhtRecordKind;

/* What a node offers; a node record lists all of its roles. */
typedef enum
{
  KILN_DHT_ROLE_PROVIDER  = 1 << 0,
  KILN_DHT_ROLE_REQUESTOR = 1 << 1,
  KILN_DHT_ROLE_BOOTSTRAP = 1 << 2,
} KilnDhtRole;

#define KILN_DHT_ROLE_ALL (KILN_DHT_ROLE_PROVIDER | KILN_DHT_ROLE_REQUESTOR | \
                           KILN_DHT_ROLE_BOOTSTRAP)

#define KILN_DHT_ERROR (kiln_dht_error_quark ())

typedef enum
{
  KILN_DHT_ERROR_MALFORMED,      /* not a record of this format, or fields out of range */
  KILN_DHT_ERROR_VERSION,        /* a record version this build does not know */
  KILN_DHT_ERROR_TOO_LARGE,      /* over KILN_DHT_RECORD_MAX_SIZE or another size limit */
  KILN_DHT_ERROR_BAD_SIGNATURE,  /* the signature does not recover the author's address */
  KILN_DHT_ERROR_EXPIRED,        /* past its expiry time */
  KILN_DHT_ERROR_FUTURE,         /* created too far in the future */
  KILN_DHT_ERROR_WRONG_PLACE,    /* another network, kind, topic or shard than where it was */
  KILN_DHT_ERROR_FAILED,         /* the DHT node could not start or do what was asked */
} KilnDhtError;

GQuark kiln_dht_error_quark (void);

typedef struct _KilnDhtRecord KilnDhtRecord;

struct _KilnDhtRecord
{
  KilnDhtRecordKind kind;
  guint32           network;
  KilnAddress       author;
  gint64            created;    /* Unix seconds */
  gint64            expires;    /* Unix seconds */
  char             *topic;      /* "" for node records */
  GBytes           *payload;
  GBytes           *encoded;    /* the signed bytes as they travel */
};

#define KILN_TYPE_DHT_RECORD (kiln_dht_record_get_type ())

GType          kiln_dht_record_get_type (void) G_GNUC_CONST;
KilnDhtRecord *kiln_dht_record_copy     (const KilnDhtRecord *self);
void           kiln_dht_record_free     (KilnDhtRecord       *self);

/* Encodes and signs a record by @key, valid from @created for @lifetime seconds. @topic must be
 * NULL or "" for node records and 1..KILN_DHT_TOPIC_MAX bytes of UTF-8 for topic records. */
GBytes        *kiln_dht_record_sign     (KilnKey             *key,
                                         KilnDhtRecordKind    kind,
                                         guint32              network,
                                         const char          *topic,
                                         GBytes              *payload,
                                         gint64               created,
                                         guint                lifetime,
                                         GError             **error);

/* Decodes @bytes and checks everything that needs no context: size limits, version, field
 * ranges, signature, and the times against @now (Unix seconds). Returns NULL with a
 * KILN_DHT_ERROR on any failure. Never reads outside @bytes, whatever they hold. */
KilnDhtRecord *kiln_dht_record_verify   (GBytes              *bytes,
                                         gint64               now,
                                         GError             **error);

/* The digest that the record's signature signs. */
void           kiln_dht_record_digest   (const guint8        *signed_part,
                                         gsize                len,
                                         guint8               digest[32]);

/* A node record's payload. */
typedef struct
{
  char    *host;
  guint16  port;
} KilnDhtEndpoint;

typedef struct _KilnDhtNodeInfo KilnDhtNodeInfo;

struct _KilnDhtNodeInfo
{
  guint16  protocol_major;
  guint16  protocol_minor;
  guint32  roles;              /* KilnDhtRole flags */
  GArray  *endpoints;          /* of KilnDhtEndpoint, at most KILN_DHT_NODE_MAX_ENDPOINTS */
};

#define KILN_TYPE_DHT_NODE_INFO (kiln_dht_node_info_get_type ())

GType            kiln_dht_node_info_get_type     (void) G_GNUC_CONST;
/* With the protocol version of this build, no roles and no endpoints. */
KilnDhtNodeInfo *kiln_dht_node_info_new          (void);
KilnDhtNodeInfo *kiln_dht_node_info_copy         (const KilnDhtNodeInfo *self);
void             kiln_dht_node_info_free         (KilnDhtNodeInfo       *self);
void             kiln_dht_node_info_add_endpoint (KilnDhtNodeInfo       *self,
                                                  const char            *host,
                                                  guint16                port);
GBytes          *kiln_dht_node_info_encode       (const KilnDhtNodeInfo *self,
                                                  GError               **error);
KilnDhtNodeInfo *kiln_dht_node_info_decode       (GBytes                *payload,
                                                  GError               **error);

/* DHT keys (20-byte OpenDHT InfoHashes). */
#define KILN_DHT_KEY_SIZE 20

/* Which of the KILN_DHT_NODE_BUCKETS buckets a node's records go to. */
guint    kiln_dht_address_bucket (const KilnAddress *address);
/* The key of node records of one @role (a single KilnDhtRole) in one @bucket. */
void     kiln_dht_node_key       (guint32            network,
                                  KilnDhtRole        role,
                                  guint              bucket,
                                  guint8             key[KILN_DHT_KEY_SIZE]);
/* The key of a topic; @topic as in kiln_dht_record_sign(). */
void     kiln_dht_topic_key      (guint32            network,
                                  const char        *topic,
                                  guint8             key[KILN_DHT_KEY_SIZE]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnDhtRecord, kiln_dht_record_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KilnDhtNodeInfo, kiln_dht_node_info_free)

G_END_DECLS
