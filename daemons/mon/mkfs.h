// The cluster maps a new monitor starts from (`nacre-mon --mkfs`).
//
// Every initial monitor runs mkfs with the same inputs (fsid, the initial
// members and their addresses, the same keyring file) and so starts from the
// same state at Paxos version 0: no monitor needs to hear from another
// before the first election.
#pragma once

#include <string>
#include <vector>

#include "common/keyring.h"
#include "common/msg/message.h"
#include "common/status.h"
#include "mon.pb.h"

namespace nacre::mon {

struct MkfsInput {
  std::string fsid;
  std::vector<std::string> names;          // by rank
  std::vector<msg::EntityAddr> addrs;      // messenger addresses, by rank
  Keyring keyring;                         // every entity in it enters the Auth map
};

// Parses mon_initial_members ("a,b,c") and mon_host ("h:p,h:p,h:p").
Result<MkfsInput> MkfsInputFromConfig(const std::string& fsid, const std::string& members,
                                      const std::string& mon_host, Keyring keyring);

Result<proto::ClusterMapsProto> InitialMaps(const MkfsInput& in);

// The CRUSH map of a new cluster: types osd/host/rack/root, an empty root
// "default" and rule 0 "replicated_rule" (one copy per host).
std::string InitialCrushMap();

}  // namespace nacre::mon
