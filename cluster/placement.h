// Where an object lives: object name -> placement group -> OSDs. A pure
// function of the OSDMap, computed alike by every client and every OSD, so
// nobody asks anybody where data is.
//
// - The object name hashes (ObjectNameHash, MurmurHash3_x86_32 of the bytes,
//   the same family as CRUSH's hash) to a 32-bit value; stable_mod folds it
//   onto the pool's pg_num so that raising pg_num only splits PGs: an object
//   either stays in its PG or moves to the PG's new child, never elsewhere.
// - The PG's CRUSH input mixes the pool id in, so PG n of two pools lands on
//   different OSDs.
// - CRUSH maps the input through the pool's rule with every OSD's in/out
//   weight; OSDs that are down are then dropped (replicated pools) or left
//   as kItemNone holes (erasure-coded pools keep shard positions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crush/crush_map.h"
#include "mon.pb.h"

namespace nacre::placement {

struct PgId {
  int64_t pool = 0;
  uint32_t seed = 0;  // 0 .. pg_num-1
  bool operator==(const PgId&) const = default;
  bool operator<(const PgId& o) const { return pool != o.pool ? pool < o.pool : seed < o.seed; }
  // Ceph's spelling: pool id, dot, seed in hex ("1.a3").
  std::string ToString() const;
  static Result<PgId> Parse(std::string_view text);
};

uint32_t ObjectNameHash(std::string_view name);
// x folded onto [0, b): x & bmask when that is below b, else x & (bmask >> 1),
// where bmask is the next power of two at or above b, minus one.
uint32_t StableMod(uint32_t x, uint32_t b);
PgId ObjectToPg(const proto::PoolInfo& pool, std::string_view object_name);
uint32_t PgCrushInput(const PgId& pg);

struct PgMapping {
  std::vector<int> up;  // in order; erasure pools keep crush::kItemNone holes
  int primary = -1;     // first OSD of `up` that is not a hole; -1 if none
};

// The up set of `pg` under `osdmap` (whose CRUSH map is `crush`, decoded
// once by the caller). NotFound for an unknown pool.
Result<PgMapping> MapPg(const proto::OSDMapProto& osdmap, const crush::CrushMap& crush, const PgId& pg);

}  // namespace nacre::placement
