/* vv.h - public C API of vv: versioned key-value data with dotted version
 * vectors, sibling sets, keyspaces and pluggable conflict resolvers.
 *
 * Conventions
 *  - Every call that can fail returns an int: VV_OK (0) on success, a
 *    negative VV_E* code for a vv error, or a positive errno value for a
 *    system error.  vv_strerror() names any of them.
 *  - Results come back through out-parameters.  Nothing here aborts on bad
 *    input; bad input is VV_EINVAL (or VV_ECORRUPT for bytes).
 *  - A store handle keeps the message of its last failure: vv_errmsg().
 *  - There is no global state; handles are not thread-safe, use one per
 *    thread or lock around them.
 *  - Memory returned as `void **out` / `char **out` is released with vv_free.
 */
#ifndef VV_H
#define VV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VV_VERSION       "0.1.0"
#define VV_VERSION_NUM   100

/** @defgroup errors Return codes
 *  vv's own codes sit in a reserved negative range; positive codes are
 *  errno values passed through from the system.
 *
 *  Each call below lists the codes it returns.  "A storage error" there
 *  stands for what a store's storage can fail with on any read or write:
 *  VV_ESTORAGE (the engine failed), VV_EMAPFULL (a write past
 *  vv_options.map_max), VV_EREADONLY (the directory cannot be written),
 *  VV_ECORRUPT (stored bytes fail a check), VV_ENOMEM, or an errno value
 *  passed through (EIO, ENOSPC).  vv_errmsg() says which and why.
 *  @{ */
#define VV_OK            0
#define VV_EINVAL        (-30900) /**< bad argument or malformed text */
#define VV_ENOTFOUND     (-30901) /**< no such key (or it is deleted) */
#define VV_ECORRUPT      (-30902) /**< bytes failed a format or checksum check */
#define VV_EVERSION      (-30903) /**< a format version this build cannot read */
#define VV_EOVERFLOW     (-30904) /**< a counter or size would overflow */
#define VV_ENOMEM        (-30905) /**< out of memory */
#define VV_ERESOLVER     (-30906) /**< the keyspace's resolver failed */
#define VV_ELIMIT        (-30907) /**< a configured limit (siblings, size) was hit */
#define VV_ESTORAGE      (-30908) /**< the storage engine failed (see vv_errmsg) */
#define VV_EMAPFULL      (-30909) /**< the storage map is full */
#define VV_EREADONLY     (-30910) /**< the store or directory is read-only */
#define VV_EBUSY         (-30911) /**< a transaction is already open, or none is */
#define VV_EFOREIGN      (-30912) /**< a state or message for another key/keyspace */
/** @} */

/** @brief Name a return code (vv's own or an errno). Never NULL. */
const char *vv_strerror(int rc);

/** @brief Release memory that vv returned through an out-parameter. */
void vv_free(void *p);

/* ------------------------------------------------------------------ */
/** @defgroup clock Vector clocks
 *  A clock maps node names (1..255 bytes) to unsigned 64-bit counters.
 *  An absent node reads 0; a node set to 0 is absent.
 *  @{ */
typedef struct vv_clock vv_clock;

/** Results of vv_clock_compare. */
#define VV_EQUAL       0
#define VV_BEFORE      1   /**< a happened strictly before b */
#define VV_AFTER       2   /**< a happened strictly after b */
#define VV_CONCURRENT  3   /**< neither saw the other */

#define VV_NODE_MAX    255 /**< longest node name, in bytes */
#define VV_KEY_MAX     400 /**< longest key, in bytes */

/** @brief Make an empty clock.
 *  @param[out] out  the clock (vv_clock_free); NULL on failure
 *  @return VV_OK or VV_ENOMEM. */
int vv_clock_new(vv_clock **out);
/** @brief Free a clock; NULL is a no-op. */
void vv_clock_free(vv_clock *c);
/** @brief Copy a clock into a new, independent one.
 *  @param[out] out  the copy (vv_clock_free); NULL on failure
 *  @return VV_OK, VV_EINVAL (c NULL), VV_ENOMEM. */
int vv_clock_copy(const vv_clock *c, vv_clock **out);
/** @brief Counter of node (0 when absent). */
uint64_t vv_clock_get(const vv_clock *c, const char *node, size_t len);
/** @brief Set node's counter (0 removes it).
 *  @return VV_OK, VV_EINVAL (c NULL, an empty or too long name),
 *  VV_ENOMEM (c is unchanged). */
int vv_clock_set(vv_clock *c, const char *node, size_t len, uint64_t n);
/** @brief Increment node's counter.
 *  @return VV_OK, VV_EINVAL (as vv_clock_set), VV_EOVERFLOW (the counter
 *  is 2^64-1; unchanged), VV_ENOMEM. */
int vv_clock_tick(vv_clock *c, const char *node, size_t len);
/** @brief c := pointwise max(c, other).
 *  @return VV_OK, VV_EINVAL (either NULL), VV_ENOMEM (c is unchanged). */
int vv_clock_merge(vv_clock *c, const vv_clock *other);
/** @brief Causal order of a and b (neither may be NULL).
 *  @return VV_EQUAL, VV_BEFORE, VV_AFTER or VV_CONCURRENT. */
int vv_clock_compare(const vv_clock *a, const vv_clock *b);
/** @brief Number of nodes with a non-zero counter. */
size_t vv_clock_size(const vv_clock *c);
/** @brief The i-th entry in bytewise node order.  *node is borrowed:
 *  valid until the clock is changed or freed.  Outputs may be NULL.
 *  @return VV_OK or VV_EINVAL (c NULL, i >= vv_clock_size). */
int vv_clock_entry(const vv_clock *c, size_t i, const char **node,
                   size_t *len, uint64_t *n);

/** @brief Compact binary form: a format byte, then varints.
 *  @param[out] out, len  the bytes (vv_free); NULL and 0 on failure
 *  @return VV_OK, VV_EINVAL (c NULL), VV_ENOMEM. */
int vv_clock_encode(const vv_clock *c, void **out, size_t *len);
/** @brief Decode exactly len bytes made by vv_clock_encode.
 *  @param[out] out  the clock (vv_clock_free); NULL on failure
 *  @return VV_OK, VV_EINVAL (buf NULL with len > 0), VV_ECORRUPT (empty,
 *  truncated, trailing bytes, unsorted or duplicate nodes, zero
 *  counter), VV_EVERSION (another format byte), VV_ENOMEM. */
int vv_clock_decode(const void *buf, size_t len, vv_clock **out);
/** @brief Text form "{s0:1, s1:2}" (bytewise node order, "{}" when empty).
 *  Names outside [A-Za-z0-9_.@#/+-] are written quoted with \xNN escapes.
 *  @param[out] out  NUL-terminated text (vv_free); NULL on failure
 *  @param[out] len  its length without the NUL (may be NULL)
 *  @return VV_OK, VV_EINVAL (c NULL), VV_ENOMEM. */
int vv_clock_format(const vv_clock *c, char **out, size_t *len);
/** @brief Strict parser of the text form.
 *  @param[out] out  the clock (vv_clock_free); NULL on failure
 *  @return VV_OK, VV_EINVAL (text NULL, malformed, a duplicate node, a
 *  negative counter), VV_EOVERFLOW (counter > 2^64-1), VV_ENOMEM. */
int vv_clock_parse(const char *text, size_t len, vv_clock **out);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup store Stores, keyspaces, reads and writes
 *  @{ */
typedef struct vv_db vv_db;
typedef struct vv_read vv_read;

/** @brief Wall-clock source, milliseconds since the epoch (tests inject one). */
typedef uint64_t (*vv_now_fn)(void *ud);

struct vv_ks_config;
/** @brief A script host: attaches the resolver script at path to keyspace
 *  ks of db, as vv_keyspace_script (vvlua.h) does.  The core runs no Lua
 *  itself; a store calls its host for the scripts that keyspace configs
 *  record: on open, and when another process changed a config.  cfg holds
 *  the recorded config (budgets, codec). */
typedef int (*vv_script_fn)(vv_db *db, const char *ks, const char *path,
                            const struct vv_ks_config *cfg);

/** Options of vv_db_open.  Zero-initialise, then fill in. */
typedef struct vv_options {
    const char *node;        /**< this replica's name, 1..240 bytes; required,
                                  but for a durable store that exists
                                  (NULL: the node its directory records) */
    const char *path;        /**< NULL: in memory; else an LMDB directory */
    vv_now_fn now;           /**< NULL: the system clock */
    void *now_ud;
    size_t map_size;         /**< LMDB initial map size (0: default, grows) */
    int read_only;           /**< open a durable store read-only */
    int no_sync;             /**< LMDB: do not fsync each commit (tests, bulk) */
    size_t map_max;          /**< LMDB: bound for automatic map growth; a
                                  write past it fails with VV_EMAPFULL
                                  (0: no bound) */
    vv_script_fn scripts;    /**< attaches recorded resolver scripts:
                                  vv_keyspace_script from vvlua.h (NULL:
                                  reads of such keyspaces report that no
                                  script host is set) */
} vv_options;

/** @brief Open a store.  Each open is a new incarnation of the node: the
 *  handle's actor name is "<node>.<8 random base32 chars>" (one the store
 *  has not seen), and its dot counter starts at 0, so no handle reuses a
 *  dot another gave out: not after a restart, nor in a durable store's
 *  directory restored from a backup or copied, nor in two processes on one
 *  directory.  A durable store records the actor with the handle's first
 *  write; a handle that only reads adds nothing to the store.
 *  @return VV_OK; VV_EINVAL (opts or out NULL, no node or one of the
 *  wrong length, an empty path, a directory that belongs to another
 *  node); VV_EREADONLY (a directory that cannot be written: open it
 *  read_only; a read_only open that cannot write lock.mdb); VV_EBUSY
 *  (the directory is already open in this process); VV_ECORRUPT (not a
 *  vv store, or its records are damaged); VV_EVERSION (written by a
 *  newer vv or another LMDB version); VV_ENOMEM; VV_ESTORAGE; errno
 *  values: ENOENT (read_only and no store there), ENOTDIR, EMFILE (256
 *  durable stores open in this process), and what mkdir or stat give.
 *  On failure *out is NULL; a message is in *errmsg when errmsg != NULL
 *  (release with vv_free). */
int vv_db_open(const vv_options *opts, vv_db **out, char **errmsg);
/** @brief Close a store (aborting an open batch); NULL is a no-op. */
void vv_db_close(vv_db *db);
/** @brief Message of the last failed call on db ("" if none).
 *  Valid until the next call on db. */
const char *vv_errmsg(const vv_db *db);
/** @brief This store's node name as given to vv_db_open. Borrowed. */
const char *vv_db_node(const vv_db *db);
/** @brief The actor this handle's next write uses: node plus incarnation
 *  (the same for the handle's life but in the rare case that another
 *  handle took the name before this one first wrote).  Borrowed: valid
 *  until vv_db_close. */
const char *vv_db_actor(const vv_db *db);

/** A dot: the identity of one version (actor and counter).  Its pointers
 *  are borrowed from what gives it (a history entry, an inspected
 *  state). */
typedef struct vv_dot {
    const char *actor;       /**< "<node>.<incarnation>" (NULL: none) */
    size_t actor_len;
    size_t node_len;         /**< length of the node part of actor */
    uint64_t counter;        /**< 0 only with actor NULL */
} vv_dot;

/** One version of a key as a read shows it.  All pointers are borrowed
 *  from the vv_read that holds it. */
typedef struct vv_sibling {
    const void *value;       /**< value bytes */
    size_t len;
    const char *actor;       /**< actor that wrote it: "<node>.<incarnation>" */
    size_t actor_len;
    size_t node_len;         /**< length of the node part of actor */
    uint64_t counter;        /**< the dot's counter */
    uint64_t timestamp;      /**< wall-clock ms (never backwards on a node) */
} vv_sibling;

/** A conflict resolver: turns n >= 2 siblings into one value.
 *  On success it sets *out and *out_len to memory from malloc (vv frees it)
 *  and returns VV_OK; on failure it returns VV_ERESOLVER and puts a
 *  malloc'd message in *err.  It must not call back into the store. */
typedef int (*vv_resolve_fn)(void *ud, const char *ks, const void *key,
                             size_t klen, const vv_sibling *sibs, size_t n,
                             void **out, size_t *out_len, char **err);

/** Built-in resolver kinds. */
#define VV_RESOLVE_SIBLINGS 0   /**< none: several siblings give no value */
#define VV_RESOLVE_LWW      1   /**< greatest timestamp, then actor, then counter */
#define VV_RESOLVE_CUSTOM   2   /**< the function in vv_ks_config.resolve */

/** Keyspace configuration.  Zero-initialised means: siblings resolver,
 *  msgpack codec, default limits. */
typedef struct vv_ks_config {
    int resolver;            /**< VV_RESOLVE_* */
    const char *resolver_name; /**< what to record and show: "siblings",
                                    "lww", a script path, "function" */
    vv_resolve_fn resolve;   /**< with VV_RESOLVE_CUSTOM */
    void *resolve_ud;
    void (*resolve_free)(void *ud); /**< called when replaced or closed */
    const char *codec;       /**< "msgpack" (default) or "raw": recorded,
                                  interpreted by the layers above */
    uint32_t warn_siblings;  /**< log and count above this (0: 25) */
    uint32_t max_siblings;   /**< refuse writes above this (0: 100) */
    int writeback;           /**< store a successful resolution */
    const char *script;      /**< resolver script path, recorded so a
                                  durable store re-attaches it on reopen
                                  (and in other processes that have it
                                  open) */
    uint64_t budget_instructions; /**< script budget per call (0: default) */
    uint64_t budget_memory;       /**< script memory budget, bytes (0: default) */
    uint32_t history;        /**< causal history entries kept per key (0:
                                  none, the default; at most
                                  VV_HISTORY_MAX); see vv_history */
} vv_ks_config;

/** @brief Create or reconfigure keyspace name (1..255 bytes).  Keyspaces
 *  are also created on first use with a zero config.  The resolver is
 *  replaced atomically; the old one's resolve_free is called.  Other
 *  handles of a durable store take the change in at their next
 *  transaction; one whose resolver is a function of its own
 *  (VV_RESOLVE_CUSTOM without a script) keeps it while the recorded
 *  resolver_name stays the same.  A read-only store keeps the config in
 *  this handle's memory.
 *  @param[in] cfg  the config (NULL: the zero config); its strings are
 *  copied
 *  @return VV_OK; VV_EINVAL (db NULL, a name of 0 or more than 255
 *  bytes, an unknown resolver kind, VV_RESOLVE_CUSTOM without resolve,
 *  history over VV_HISTORY_MAX); VV_EOVERFLOW (too many keyspaces);
 *  VV_ENOMEM; a storage error.  On failure the old config stays. */
int vv_keyspace(vv_db *db, const char *name, const vv_ks_config *cfg);
/** @brief The recorded config of a keyspace (resolver_name, codec) for
 *  showing, with other processes' changes (a durable store reads them in
 *  a read transaction); *cfg's strings are borrowed from db until its
 *  next call.
 *  @return VV_OK; VV_EINVAL (an argument NULL, a name of 0 or more than
 *  255 bytes); VV_ENOTFOUND (no such keyspace); a storage error. */
int vv_keyspace_config(vv_db *db, const char *name, vv_ks_config *cfg);
/** @brief Call fn for each keyspace this handle knows, in the order it
 *  learned of them (a durable store's list as of the handle's last
 *  transaction).
 *  @return VV_OK; VV_EINVAL (db or fn NULL); or fn's non-zero return,
 *  which stops the walk. */
int vv_keyspaces(vv_db *db, int (*fn)(void *ud, const char *name), void *ud);

/** @brief Write value under key.  With ctx (from a read), the write
 *  replaces exactly the versions ctx had seen; without (NULL) it adds a
 *  sibling.  The keyspace is created on first use.
 *  @param[in]  value, vlen  the bytes (value may be NULL when vlen is 0)
 *  @param[out] newctx  (optional) the key's context afterwards
 *  (vv_clock_free); NULL on failure
 *  @return VV_OK; VV_EINVAL (db NULL, a bad keyspace name, a key NULL or
 *  over VV_KEY_MAX, value NULL with vlen > 0, a ctx claiming dots of
 *  this handle's actor that it never gave out); VV_EREADONLY (a
 *  read-only store); VV_ELIMIT (the key would have more than
 *  max_siblings siblings); VV_EOVERFLOW (a dot or change counter is
 *  used up, too many keyspaces); VV_ENOMEM; a storage error.  On
 *  failure nothing is written; inside a batch (vv_begin) a failure past
 *  the checks of db, names, key and value abandons the batch. */
int vv_put(vv_db *db, const char *ks, const void *key, size_t klen,
           const void *value, size_t vlen, const vv_clock *ctx,
           vv_clock **newctx);
/** @brief Delete what ctx saw (a tombstone; NULL ctx deletes nothing
 *  that is stored but still records the delete).
 *  @return as vv_put. */
int vv_delete(vv_db *db, const char *ks, const void *key, size_t klen,
              const vv_clock *ctx, vv_clock **newctx);
/** @brief Read a key.
 *  @param[out] out  the read (vv_read_free); NULL on failure
 *  @return VV_OK; VV_ENOTFOUND (absent, only tombstones, or an unknown
 *  keyspace); VV_EINVAL (db or out NULL, a bad keyspace name or key);
 *  VV_ENOMEM; a storage error.  A resolver's failure is not one:
 *  vv_read_value reports it. */
int vv_get(vv_db *db, const char *ks, const void *key, size_t klen,
           vv_read **out);

/** @brief vv_get into a read made earlier, for loops that read many keys:
 *  *out is NULL (a new read is made, as vv_get does) or a read from an
 *  earlier vv_get or vv_get_reuse, whose memory is used again (no
 *  allocation once it is large enough).  What the read held before is
 *  gone.  On VV_ENOTFOUND or an error a reused read stays valid and
 *  empty (vv_read_count 0); free it with vv_read_free when done.
 *  @return as vv_get. */
int vv_get_reuse(vv_db *db, const char *ks, const void *key, size_t klen,
                 vv_read **out);

/** @brief Number of (live) siblings in a read. */
size_t vv_read_count(const vv_read *r);
/** @brief The i-th sibling in deterministic (actor, counter) order. */
const vv_sibling *vv_read_sibling(const vv_read *r, size_t i);
/** @brief The read's context: pass it to put/delete.  Borrowed: valid
 *  until vv_read_free.  Built on first use; NULL only when out of memory. */
const vv_clock *vv_read_context(const vv_read *r);
/** @brief Take the read's context: the caller owns it (vv_clock_free).
 *  A later vv_read_context builds a new one.  NULL when out of memory. */
vv_clock *vv_read_take_context(vv_read *r);
/** @brief The one value: the only sibling's, or the resolver's result.
 *  @param[out] value, len  the value, borrowed from r (either may be
 *  NULL)
 *  @return VV_OK; VV_EINVAL (r NULL); VV_ENOTFOUND (several siblings and
 *  the keyspace resolves none: "siblings"); VV_ERESOLVER (the resolver
 *  failed, or its script did not load; message: vv_read_error). */
int vv_read_value(const vv_read *r, const void **value, size_t *len);
/** @brief The resolver's error message, or NULL. */
const char *vv_read_error(const vv_read *r);
/** @brief Free a read; NULL is a no-op. */
void vv_read_free(vv_read *r);

/** @brief Export the key's whole state (siblings, tombstones, context)
 *  as self-checking bytes: magic, format version, key, xxh64 checksum.
 *  @param[out] out, len  the state (vv_free); NULL and 0 on failure
 *  @return VV_OK; VV_ENOTFOUND (the key was never written, or an unknown
 *  keyspace); VV_EINVAL (an argument NULL, a bad keyspace name or key);
 *  VV_ENOMEM; a storage error. */
int vv_export(vv_db *db, const char *ks, const void *key, size_t klen,
              void **out, size_t *len);
/** @brief Merge a state exported by any replica into key.  Commutative,
 *  associative, idempotent.  The keyspace is created on first use;
 *  sibling limits count warnings but refuse nothing.
 *  @return VV_OK; VV_EINVAL (db NULL, a bad keyspace name or key);
 *  VV_ECORRUPT (the state fails a check, or claims dots of this handle's
 *  actor that it never gave out); VV_EVERSION (a format this build
 *  cannot read); VV_EFOREIGN (a state of another key); VV_EREADONLY (a
 *  read-only store); VV_EOVERFLOW (the change counter is used up, too
 *  many keyspaces); VV_ENOMEM; a storage error.  On failure the stored
 *  state is unchanged. */
int vv_merge(vv_db *db, const char *ks, const void *key, size_t klen,
             const void *state, size_t len);

/** @brief Call fn for each key of a keyspace (tombstoned ones too), in
 *  bytewise key order, inside one read transaction (fn must not use
 *  db).
 *  @return VV_OK (also for an unknown keyspace: no call); VV_EINVAL (db
 *  or fn NULL, a bad keyspace name); a storage error; or fn's non-zero
 *  return, which stops the walk. */
int vv_keys(vv_db *db, const char *ks,
            int (*fn)(void *ud, const void *key, size_t klen), void *ud);

/** @brief Begin a batch: writes until vv_commit share one write
 *  transaction (a durable store's other writers wait until it ends).  A
 *  write that fails inside it abandons the whole batch.
 *  @return VV_OK; VV_EINVAL (db NULL); VV_EBUSY (a batch is open);
 *  VV_EREADONLY (a read-only store); a storage error. */
int vv_begin(vv_db *db);
/** @brief Commit the batch.
 *  @return VV_OK; VV_EINVAL (db NULL); VV_EBUSY (no batch is open, also
 *  after a failed write abandoned it); a storage error (then none of the
 *  batch's writes stay). */
int vv_commit(vv_db *db);
/** @brief Abandon the batch: none of its writes stay.
 *  @return VV_OK; VV_EINVAL (db NULL); VV_EBUSY (no batch is open). */
int vv_abort(vv_db *db);

/** Counters of a keyspace (vv_stats). */
typedef struct vv_stats {
    uint64_t keys;           /**< keys with at least one live sibling */
    uint64_t tombstones;     /**< keys with only tombstones */
    uint64_t siblings[8];    /**< histogram: keys with 1,2,3,4,5-8,9-16,17-64,>64 */
    uint64_t max_siblings;
    uint64_t warnings;       /**< writes and merges that left a key over
                                  warn_siblings (counted by this handle) */
    uint64_t bytes;          /**< state bytes stored (on disk: file size) */
    uint64_t warned_keys;    /**< of those, the ones that took a key over
                                  (from warn_siblings or fewer live
                                  siblings): each logs one line on stderr */
} vv_stats;

/** @brief Counters of one keyspace (ks != NULL) or of all (NULL); an
 *  unknown keyspace gives zeros but for bytes.  Reads every key.
 *  @return VV_OK; VV_EINVAL (db or out NULL, a bad keyspace name);
 *  VV_ECORRUPT (a stored state is unreadable); a storage error. */
int vv_stats_get(vv_db *db, const char *ks, vv_stats *out);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup state Detached states
 *  A key's state as vv_export makes it (self-checking bytes) can live
 *  outside any store: in another database's rows, a message, a file.
 *  These calls work on such states directly, without storing them:
 *
 *      vv_state_merge  two states of a key -> their merge (no store)
 *      vv_state_put    a write onto a state, with a store's identity
 *      vv_state_get    a read of a state, through a keyspace's resolver
 *      vv_state_inspect  its dots and versions, for tools that show them
 *
 *  They give exactly what the store calls give for a key holding that
 *  state: vv_state_merge(a, b) is the export of a store that merged a and
 *  b; vv_state_put is vv_put/vv_delete on a key whose stored state is the
 *  one given (dots from the store's actor and counter, timestamps never
 *  backwards, sibling limits, context checks); vv_state_get is vv_get of
 *  it.  Every state given is checked completely first; a refused one
 *  changes nothing.  Outputs are canonical: equal states give equal
 *  bytes, so replicas that merged the same writes hold the same bytes.
 *  @{ */

/** @brief Merge two exported states of the same key, without a store.
 *  Commutative, associative and idempotent, byte for byte: merging in
 *  any order and grouping gives the same bytes, and what a store gives
 *  (vv_merge both into it, then vv_export).
 *  @param[in]  a, alen   one state (from vv_export or a vv_state_* call)
 *  @param[in]  b, blen   the other
 *  @param[out] out, outlen  the merged state; release with vv_free
 *  @return VV_OK; VV_ECORRUPT (either fails a check: truncated, bad
 *  checksum, malformed), VV_EVERSION (a format this build cannot read),
 *  VV_EFOREIGN (states of two different keys), VV_EINVAL (no out),
 *  VV_ENOMEM.  On failure *out is NULL. */
int vv_state_merge(const void *a, size_t alen, const void *b, size_t blen,
                   void **out, size_t *outlen);

/** @brief Check an exported state completely and find its key.
 *  @param[out] key, klen  the key it names (borrowed from state; either
 *  may be NULL)
 *  @return VV_OK, VV_ECORRUPT, VV_EVERSION, VV_ENOMEM. */
int vv_state_check(const void *state, size_t len, const void **key,
                   size_t *klen);

/** @brief Write onto a detached state as db would write onto a stored
 *  key holding it: vv_put (tomb 0) or vv_delete (tomb 1), the result
 *  exported instead of stored.  The new version takes db's next dot (db
 *  counts it, as for a stored write, so no dot is ever given twice) and a
 *  timestamp at or after both db's last one and the state's newest one
 *  (unless that is more than 5 minutes ahead of the wall clock, as for
 *  vv_merge); with ctx it replaces exactly the versions ctx had seen;
 *  the keyspace's max_siblings applies (VV_ELIMIT).  Nothing is stored
 *  under key (the keyspace is created on first use, as by vv_put).
 *  @param[in] ks, key, klen  the keyspace (for its limits) and the key
 *  @param[in] state, slen    the key's current state (NULL: never
 *                            written); it must be a state of key
 *  @param[in] value, vlen    the value (ignored for a delete)
 *  @param[in] tomb           1 for a delete
 *  @param[in] ctx            a read's context, or NULL (adds a sibling)
 *  @param[out] out, outlen   the state after the write; vv_free
 *  @param[out] newctx        (optional) its context; vv_clock_free
 *  @return VV_OK; VV_EINVAL (bad argument, or a ctx claiming dots of db
 *  that it never gave out), VV_ECORRUPT / VV_EVERSION / VV_EFOREIGN (the
 *  state, also when it claims dots of db's actor that db never gave
 *  out), VV_ELIMIT, VV_EOVERFLOW, VV_ENOMEM, a storage error (durable
 *  stores record their counter).  vv_errmsg(db) says why. */
int vv_state_put(vv_db *db, const char *ks, const void *key, size_t klen,
                 const void *state, size_t slen, const void *value,
                 size_t vlen, int tomb, const vv_clock *ctx, void **out,
                 size_t *outlen, vv_clock **newctx);

/** @brief Read a detached state as vv_get reads a stored key holding it:
 *  the live siblings in the same order, the context, and the value as
 *  keyspace ks resolves it (built-in or custom resolver; an unknown
 *  keyspace reads with the default "siblings").  A keyspace's writeback
 *  does not apply (nothing is stored).  The key is the one the state
 *  names.  Nothing in db changes.
 *  @param[out] out  a new read (vv_read_free), or with *out non-NULL a
 *  read to reuse, as vv_get_reuse
 *  @return VV_OK; VV_ENOTFOUND (only tombstones); VV_ECORRUPT /
 *  VV_EVERSION (the state); VV_EINVAL (db or out NULL, a bad keyspace
 *  name); VV_ENOMEM; a storage error (reading the keyspace's config). */
int vv_state_get(vv_db *db, const char *ks, const void *state, size_t slen,
                 vv_read **out);

/** One version of a state, as vv_state_inspect shows it: a sibling or a
 *  tombstone.  Pointers borrow from the state's bytes. */
typedef struct vv_version {
    vv_dot dot;              /**< the version's actor and counter */
    uint64_t timestamp;      /**< wall-clock ms */
    int tombstone;           /**< a delete (no value) */
    const void *value;       /**< the value bytes, as written (encoded) */
    size_t len;
} vv_version;

/** @brief Show what an exported state holds, for tools that draw it:
 *  the state is checked completely first (as vv_state_check), then
 *  dot_fn is called for each entry of its context (actor-name order),
 *  then ver_fn for each version, live or tombstone (actor-name, then
 *  counter order).  Either function may be NULL.  vv holds no memory
 *  while they run, so they may leave by longjmp (a Lua error).
 *  @param[in] state, len  an exported state (vv_export, vv_state_*)
 *  @param[in] dot_fn, ver_fn  called with ud; a non-zero return stops
 *  the walk and is returned.  Pointers are valid during the call only
 *  (they point into state).
 *  @return VV_OK; VV_ECORRUPT (truncated, bad checksum, malformed: no
 *  call made), VV_EVERSION, VV_ENOMEM; or what a function returned. */
int vv_state_inspect(const void *state, size_t len,
                     int (*dot_fn)(void *ud, const vv_dot *d),
                     int (*ver_fn)(void *ud, const vv_version *v), void *ud);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup history Causal history (opt-in per keyspace)
 *  With vv_ks_config.history = N > 0, each write and each merge that
 *  brings a key new versions adds an entry to a list kept for that key
 *  (in the same transaction), and only the newest N entries stay.  The
 *  list is local to the store: exports and sync do not carry it.  An
 *  entry costs about 14 bytes plus the preview (up to VV_HISTORY_PREVIEW)
 *  plus 2 to 12 bytes per replaced dot, and each write rewrites the key's
 *  list (docs/tools.md).
 *  @{ */
#define VV_HISTORY_MAX      1000  /**< largest history setting */
#define VV_HISTORY_PREVIEW  32    /**< value bytes an entry keeps */
#define VV_HISTORY_REPLACED 64    /**< replaced dots an entry keeps */

#define VV_HIST_WRITE 0           /**< written on this store (put/delete) */
#define VV_HIST_MERGE 1           /**< arrived by vv_merge or a sync delta */

/** One history entry: a version as it reached this store.  All pointers
 *  are valid during the callback only. */
typedef struct vv_hist {
    vv_dot dot;              /**< the version (actor NULL for a merge that
                                  only removed versions) */
    uint64_t timestamp;      /**< the version's wall-clock ms */
    int tombstone;           /**< a delete */
    int how;                 /**< VV_HIST_WRITE or VV_HIST_MERGE */
    const void *preview;     /**< the value's first bytes (encoded) */
    size_t preview_len;      /**< <= VV_HISTORY_PREVIEW */
    size_t value_len;        /**< the whole value's length */
    const vv_dot *replaced;  /**< versions it replaced here: for a write,
                                  those its context covered; for a merge,
                                  the local ones the incoming context
                                  covered (at most VV_HISTORY_REPLACED) */
    size_t nreplaced;
} vv_hist;

/** @brief Call fn for each history entry kept for key, oldest first (no
 *  call when the keyspace keeps none or the key has none).  fn runs after
 *  the read transaction ended, so it may use the store; a non-zero return
 *  stops and is returned.
 *  @return VV_OK, VV_EINVAL, VV_ECORRUPT, VV_ENOMEM, a storage error. */
int vv_history(vv_db *db, const char *ks, const void *key, size_t klen,
               int (*fn)(void *ud, const vv_hist *e), void *ud);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup sync Keyspace sync (anti-entropy)
 *  Bring one replica's keyspace up to date with another's, over any
 *  transport, at a cost that follows the difference rather than the
 *  number of keys:
 *
 *      b: vv_digest  -> d      what b has (a few bytes per replica)
 *      a: vv_delta(d) -> x     the keys a changed since b last synced
 *      b: vv_apply(x)          merged as vv_merge does
 *
 *  Each store numbers the changes of a keyspace (a per-keyspace sequence)
 *  and keeps, per source replica, the sequence up to which it has merged
 *  everything from that source (its watermark).  Both messages are
 *  self-checking bytes (magic, format, keyspace name, xxh64); a corrupt,
 *  truncated or foreign one is refused and nothing changes.  Messages may
 *  be lost, duplicated or reordered: a lost one is sent again by the next
 *  round, a duplicate changes nothing.  docs/sync.md has the details.
 *  @{ */

/** @brief What this store has of keyspace ks: its watermarks and last
 *  change number.  Its size depends on the number of replicas, not keys.
 *  An unknown keyspace gives an empty digest.
 *  @param[out] out, len  the digest (vv_free); NULL and 0 on failure
 *  @return VV_OK; VV_EINVAL (an argument NULL, a keyspace name of 0 or
 *  more than 255 bytes); VV_ECORRUPT (the keyspace's sync records are
 *  unreadable); VV_ENOMEM; a storage error. */
int vv_digest(vv_db *db, const char *ks, void **out, size_t *len);
/** @brief The states of the keys of ks this store changed since the
 *  replica that made digest last merged from it (all keys the first time).
 *  @param[out] out, len  the delta (vv_free); NULL and 0 on failure
 *  @return VV_OK; VV_EINVAL (as vv_digest); VV_ECORRUPT (a digest that
 *  fails a check, or says it has seen more of this store's changes than
 *  it made); VV_EVERSION (a digest format this build cannot read);
 *  VV_EFOREIGN (a digest of another keyspace); VV_ENOMEM; a storage
 *  error. */
int vv_delta(vv_db *db, const char *ks, const void *digest, size_t dlen,
             void **out, size_t *len);
/** @brief Merge a delta made for (any) replica into keyspace ks, in one
 *  transaction: commutative, idempotent, no write lost, no delete
 *  resurrected.  The whole message is checked first: VV_ECORRUPT,
 *  VV_EVERSION, VV_EFOREIGN (another keyspace) change nothing.  A delta
 *  this store made itself changes nothing either.
 *  @param[out] changed  keys whose stored state changed (may be NULL).
 *  @return VV_OK; VV_EINVAL (db NULL, a bad keyspace name, a state naming
 *  a key over VV_KEY_MAX); VV_ECORRUPT (the delta or a state in it fails
 *  a check, or claims dots of this handle's actor that it never gave
 *  out); VV_EVERSION; VV_EFOREIGN; VV_EREADONLY (a read-only store);
 *  VV_EOVERFLOW (the change counter is used up, too many keyspaces);
 *  VV_ENOMEM; a storage error.  On failure nothing changes. */
int vv_apply(vv_db *db, const char *ks, const void *delta, size_t len,
             size_t *changed);
/** @brief Drop the keys of ks that hold only tombstones which every
 *  replica named by a digest has merged, and which no older state from
 *  those replicas can bring back.  Name every replica of the keyspace: a
 *  replica left out may still hold a value the tombstone deleted, and its
 *  next delta would bring that value back.  Take the digests, then apply
 *  a delta from each of those replicas to this store, then reap.
 *  @param digests,lens  n digests of the other replicas (this store's own
 *  is allowed and ignored).
 *  @param[out] reaped   keys dropped (may be NULL).
 *  @return VV_OK (maybe nothing reaped; also for an unknown keyspace);
 *  VV_EINVAL (db NULL, digests or lens NULL with n > 0, a bad keyspace
 *  name); VV_ECORRUPT, VV_EVERSION, VV_EFOREIGN (a bad digest, as for
 *  vv_delta; nothing is dropped); VV_EREADONLY (a read-only store);
 *  VV_ENOMEM; a storage error. */
int vv_reap(vv_db *db, const char *ks, const void *const *digests,
            const size_t *lens, size_t n, size_t *reaped);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* VV_H */
