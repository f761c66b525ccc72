// ClusterMaps: the monitor's in-memory cluster state, a pure function of the
// committed Paxos values.
//
// Every monitor applies the same committed MonUpdates in the same order, so
// every monitor holds the same maps at the same Paxos version. Apply() never
// does I/O and never fails on a value the leader validated; a value that does
// not apply is a bug and is reported, not half-applied.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "mon.pb.h"

namespace nacre::mon {

// Recent OSDMap incrementals kept for subscribers a little behind; older
// subscribers get the full map.
inline constexpr int kOsdMapHistory = 500;

class ClusterMaps {
 public:
  ClusterMaps() = default;
  explicit ClusterMaps(proto::ClusterMapsProto p) : p_(std::move(p)) {}

  // Applies one committed update. Validates everything first, then mutates,
  // so a bad value leaves the maps unchanged.
  Status Apply(const proto::MonUpdate& u);

  const proto::ClusterMapsProto& proto() const { return p_; }
  const proto::MonMapProto& monmap() const { return p_.monmap(); }
  const proto::OSDMapProto& osdmap() const { return p_.osdmap(); }
  const proto::AuthMapProto& auth() const { return p_.auth(); }
  const proto::ConfigMapProto& config() const { return p_.config(); }
  const proto::FSMapProto& fsmap() const { return p_.fsmap(); }

  // Lookups used by command handlers.
  const proto::PoolInfo* PoolByName(const std::string& name) const;
  const proto::OsdInfo* Osd(int32_t id) const;

  // Mutable access, for mkfs.
  proto::ClusterMapsProto* mutable_proto() { return &p_; }

 private:
  proto::ClusterMapsProto p_;
};

}  // namespace nacre::mon
