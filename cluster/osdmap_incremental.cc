#include "cluster/osdmap_incremental.h"

namespace nacre::monc {

Status ApplyOsdMapIncremental(const proto::OSDMapIncremental& inc, proto::OSDMapProto* m,
                              bool check_epoch) {
  if (check_epoch && inc.epoch() != m->epoch() + 1)
    return Invalid("osdmap incremental " + std::to_string(inc.epoch()) + " does not follow epoch " +
                   std::to_string(m->epoch()));
  proto::OSDMapProto next = *m;
  next.set_epoch(m->epoch() + 1);
  for (const auto& op : inc.ops()) {
    switch (op.op_case()) {
      case proto::OsdMapOp::kPoolUpsert: {
        const auto& p = op.pool_upsert();
        if (p.id() <= 0) return Invalid("pool id must be positive");
        // A stale value (see check_epoch) must not create a second pool of
        // one name: every monitor skips it alike.
        bool clash = false;
        for (const auto& [id, other] : next.pools()) clash |= id != p.id() && other.name() == p.name();
        if (clash) break;
        (*next.mutable_pools())[p.id()] = p;
        if (p.id() > next.pool_max()) next.set_pool_max(p.id());
        break;
      }
      case proto::OsdMapOp::kPoolRemove:
        next.mutable_pools()->erase(op.pool_remove());  // already gone: nothing to do
        break;
      case proto::OsdMapOp::kOsdUpsert: {
        const auto& o = op.osd_upsert();
        if (o.id() < 0) return Invalid("osd id must not be negative");
        (*next.mutable_osds())[o.id()] = o;
        if (o.id() + 1 > next.max_osd()) next.set_max_osd(o.id() + 1);
        break;
      }
      case proto::OsdMapOp::kOsdRemove:
        next.mutable_osds()->erase(op.osd_remove());
        break;
      case proto::OsdMapOp::kCrushSet:
        next.set_crush(op.crush_set());
        break;
      case proto::OsdMapOp::kEcProfileSet:
        (*next.mutable_ec_profiles())[op.ec_profile_set().name()] = op.ec_profile_set();
        break;
      case proto::OsdMapOp::kEcProfileRemove:
        next.mutable_ec_profiles()->erase(op.ec_profile_remove());
        break;
      case proto::OsdMapOp::OP_NOT_SET:
        return Invalid("empty osdmap op");
    }
  }
  *m = std::move(next);
  return Status::OK();
}

}  // namespace nacre::monc
