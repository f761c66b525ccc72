// MonClient: sends admin commands to the monitors over gRPC.
//
// Tries the monitors of `mon_host` in turn until one in quorum answers or
// the timeout passes, so a dead monitor costs one short attempt and a
// cluster without quorum gives a clear error instead of a hang. Each request
// is signed with the entity's key (daemons/mon/admin_auth.h).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "admin.pb.h"
#include "common/msg/message.h"
#include "common/status.h"

namespace nacre::monc {

// A monitor at host:P serves the cluster messenger on P and the admin API on
// P+1; mon_host names the messenger addresses, as in Ceph.
msg::EntityAddr AdminAddrOf(const msg::EntityAddr& mon_addr);
Result<std::vector<msg::EntityAddr>> ParseMonHost(const std::string& mon_host);

class MonClient {
 public:
  MonClient(std::vector<msg::EntityAddr> mons, std::string entity, std::string secret);

  // The reply of the first monitor in quorum. Errors: the command's own
  // status, or ETIMEDOUT when no monitor in quorum answered in time.
  Result<proto::CommandReply> Command(proto::CommandRequest req, double timeout_secs);

 private:
  std::vector<msg::EntityAddr> mons_;
  std::string entity_;
  std::string secret_;
};

}  // namespace nacre::monc
