#include "cluster/placement.h"

#include <charconv>
#include <cstdio>

#include "crush/hash.h"
#include "crush/limits.h"

namespace nacre::placement {

std::string PgId::ToString() const {
  char buf[48];
  snprintf(buf, sizeof buf, "%lld.%x", static_cast<long long>(pool), seed);
  return buf;
}

Result<PgId> PgId::Parse(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == text.size())
    return Invalid("a PG id is POOL.SEED, got '" + std::string(text) + "'");
  PgId pg;
  auto a = std::from_chars(text.data(), text.data() + dot, pg.pool);
  auto b = std::from_chars(text.data() + dot + 1, text.data() + text.size(), pg.seed, 16);
  if (a.ec != std::errc() || a.ptr != text.data() + dot || b.ec != std::errc() || b.ptr != text.data() + text.size() ||
      pg.pool < 0)
    return Invalid("a PG id is POOL.SEED (decimal.hex), got '" + std::string(text) + "'");
  return pg;
}

uint32_t ObjectNameHash(std::string_view name) {
  using namespace crush::hash_detail;
  // MurmurHash3_x86_32: whole little-endian words, then the tail, then the
  // length, then the finalizer.
  uint32_t h = kSeed;
  size_t words = name.size() / 4;
  for (size_t i = 0; i < words; ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(name.data() + 4 * i);
    uint32_t k = uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
    h = Absorb(h, k);
  }
  const auto* tail = reinterpret_cast<const unsigned char*>(name.data() + 4 * words);
  uint32_t k = 0;
  switch (name.size() & 3) {
    case 3: k ^= uint32_t{tail[2]} << 16; [[fallthrough]];
    case 2: k ^= uint32_t{tail[1]} << 8; [[fallthrough]];
    case 1:
      k ^= tail[0];
      k *= 0xcc9e2d51u;
      k = Rotl(k, 15);
      k *= 0x1b873593u;
      h ^= k;
  }
  return Avalanche(h ^ static_cast<uint32_t>(name.size()));
}

uint32_t StableMod(uint32_t x, uint32_t b) {
  if (b <= 1) return 0;
  uint32_t bmask = 1;
  while (bmask < b) bmask <<= 1;
  bmask -= 1;
  return (x & bmask) < b ? (x & bmask) : (x & (bmask >> 1));
}

PgId ObjectToPg(const proto::PoolInfo& pool, std::string_view object_name) {
  return PgId{pool.id(), StableMod(ObjectNameHash(object_name), pool.pg_num())};
}

uint32_t PgCrushInput(const PgId& pg) { return crush::Hash2(pg.seed, static_cast<uint32_t>(pg.pool)); }

Result<PgMapping> MapPg(const proto::OSDMapProto& osdmap, const crush::CrushMap& crush, const PgId& pg) {
  auto pit = osdmap.pools().find(pg.pool);
  if (pit == osdmap.pools().end()) return NotFound("pool " + std::to_string(pg.pool) + " does not exist");
  const proto::PoolInfo& pool = pit->second;
  if (pg.seed >= pool.pg_num()) return Invalid("PG " + pg.ToString() + " is past the pool's pg_num");
  // In/out weights: an OSD that is out (or unknown to the OSDMap) gets 0.
  std::vector<uint32_t> reweight(static_cast<size_t>(crush.max_devices()), 0);
  for (const auto& [id, o] : osdmap.osds())
    if (id >= 0 && id < crush.max_devices() && o.exists() && o.in()) reweight[static_cast<size_t>(id)] = o.weight();
  PgMapping m;
  std::vector<int> raw;
  NACRE_RETURN_IF_ERROR(crush.DoRule(pool.crush_rule(), PgCrushInput(pg), static_cast<int>(pool.size()), reweight, &raw));
  const bool erasure = pool.type() == proto::POOL_TYPE_ERASURE;
  for (int osd : raw) {
    auto it = osdmap.osds().find(osd);
    bool up = osd != crush::kItemNone && it != osdmap.osds().end() && it->second.up();
    if (up) m.up.push_back(osd);
    else if (erasure) m.up.push_back(crush::kItemNone);  // the shard keeps its position
  }
  for (int osd : m.up)
    if (osd != crush::kItemNone) {
      m.primary = osd;
      break;
    }
  return m;
}

}  // namespace nacre::placement
